/**
 * The filter functions the table area uses, looked up on the filter area's barrel. Internal.
 */
import type { RecordBatch, Schema } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import * as filterArea from '../filter/index.js';
import type { Filter, FilterExpr } from '../types.js';
import type { ParquetRowGroupInfo } from '../parquet/index.js';

interface FilterApi {
  parseFilter(f: Filter): FilterExpr;
  normalizeFilter(f: FilterExpr, schema: Schema): FilterExpr;
  filterBatch(b: RecordBatch, f: FilterExpr): RecordBatch;
  filterColumns(f: FilterExpr): string[];
  rowGroupMayMatch(f: FilterExpr, rg: ParquetRowGroupInfo): boolean;
  isPkOnly(f: FilterExpr, primaryKeys: string[]): boolean;
}

function api(): FilterApi {
  const a = filterArea as unknown as Partial<FilterApi>;
  if (typeof a.parseFilter !== 'function' || typeof a.filterBatch !== 'function') {
    throw new LakeSoulError('Unsupported', 'row filters are not available in this build', { code: 'FILTER_UNAVAILABLE' });
  }
  return a as FilterApi;
}

export const parseFilter = (f: Filter): FilterExpr => api().parseFilter(f);
export const normalizeFilter = (f: FilterExpr, schema: Schema): FilterExpr => api().normalizeFilter(f, schema);
export const filterBatch = (b: RecordBatch, f: FilterExpr): RecordBatch => api().filterBatch(b, f);
export const filterColumns = (f: FilterExpr): string[] => api().filterColumns(f);
export const rowGroupMayMatch = (f: FilterExpr, rg: ParquetRowGroupInfo): boolean => api().rowGroupMayMatch(f, rg);
export const isPkOnly = (f: FilterExpr, pks: string[]): boolean => api().isPkOnly(f, pks);
