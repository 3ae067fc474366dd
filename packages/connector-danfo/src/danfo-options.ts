/**
 * Option and structural types of the Danfo connector. The connector never imports Danfo's own types:
 * it works with any module shaped like `danfojs` / `danfojs-node` (see {@link DanfoModule}), so that
 * neither package is needed to compile against it.
 */
import type { Schema } from 'apache-arrow';
import type { ReadOptions, ScanOptions, ScanPlan, WriteInput, WriteOptions, WriteResult } from '@lakesoul-ts/io';

/** The dtypes Danfo.js 1.2 knows; the connector always passes them explicitly (no inference). */
export type DanfoDtype = 'float32' | 'int32' | 'string' | 'boolean' | 'datetime';

/** The part of a Danfo DataFrame the connector reads: column names and row-major cell values. */
export interface DanfoDataFrameLike {
  readonly columns: string[];
  /** Row-major cells (`df.values`). */
  readonly values: unknown;
}

/**
 * A Danfo module: `danfojs`, `danfojs-node`, or anything exposing a compatible `DataFrame`
 * constructor. Passing the imported module as `dfd` types the returned frames as that module's
 * `DataFrame` and skips the connector's own dynamic import.
 */
export interface DanfoModule {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  DataFrame: new (data: any, options?: any) => DanfoDataFrameLike;
}

/** The DataFrame type a module builds. */
export type FrameOf<M extends DanfoModule> = InstanceType<M['DataFrame']>;

/**
 * How an int64/uint64 value maps to JavaScript:
 * - `'error'` (default): numbers when within +-2^53, a `LakeSoulError` naming the column and row otherwise;
 * - `'string'`: every value of the column becomes its exact decimal string (Danfo dtype `string`);
 * - `'number-unsafe'`: `Number(value)`, rounded to the nearest double beyond 2^53 (explicit opt-in).
 */
export type Int64Mode = 'error' | 'string' | 'number-unsafe';

/** Options converting Arrow data to DataFrame cells. See docs/dataframes.md for the full mapping. */
export interface DanfoConvertOptions {
  /**
   * One mode for all int64/uint64 columns, or per column name (unlisted columns: `'error'`). A name
   * that is no column of the table, or a column without int64/uint64 values, is refused
   * (`INVALID_OPTION_VALUE`).
   */
  int64?: Int64Mode | Record<string, Int64Mode>;
  /**
   * Timestamps: `'string'` (default) ISO 8601 with the unit's full precision and the column's offset
   * (`Z`, `+08:00`; none for zone-less columns), exact both ways; `'date'` JS `Date` (millisecond
   * precision, the zone then lives only in the table schema).
   */
  timestamps?: 'string' | 'date';
  /** Dates: `'string'` (default) `YYYY-MM-DD`; `'date'` a `Date` at UTC midnight. */
  dates?: 'string' | 'date';
  /** Decimals: `'string'` (default, exact) or `'number'` (nearest double). */
  decimals?: 'string' | 'number';
  /**
   * Nulls of numeric (int32/float32-dtype) columns: `null` (default) or `NaN`, pandas-style. Danfo 1.2
   * skips nulls in sums/means but its `describe()` throws on them; NaN propagates instead. A NaN
   * written back to an integer column is a null; to a float column pass `{ nan: 'null' }`.
   */
  numericNulls?: 'null' | 'nan';
  /** Binary columns: `'drop'` (default, with a warning) or `'base64'` strings. */
  binary?: 'drop' | 'base64';
  /** List/struct columns: `'array'` (default) JS arrays/objects in the cells, or `'json'` strings. */
  nested?: 'array' | 'json';
  /** Receives warnings (dropped binary columns). Default: `process.emitWarning`, else `console.warn`. */
  onWarning?: (message: string) => void;
}

/** Options of {@link readDataFrame} / {@link streamDataFrames} besides the scan options. */
export interface DanfoReadOptions extends DanfoConvertOptions {
  /** The Danfo module to build frames with; default: dynamic import of `danfojs-node`, then `danfojs`. */
  dfd?: DanfoModule;
}

/** Options of {@link readDataFrame} / {@link streamDataFrames} for incremental reads (`incremental`). */
export interface DanfoIncrementalOptions {
  /**
   * Incremental reads only: receives, once and before any row (awaited when it returns a promise),
   * the partitions rewritten (update, delete, overwrite) or dropped within the range, as partition
   * descriptions (`['date=2024-01-02']`, `[]` when none; the plan's `resetPartitions`). Their rows
   * in the frames are each partition's whole state at the range's end (none when dropped): replace
   * what you hold of them, and apply the other rows as changes. Without this option an incremental
   * read that rewrote or dropped partitions is refused (`RESET_PARTITIONS_NOT_ACKNOWLEDGED`, naming
   * them), since applying those rows as upserts keeps the rows the partitions lost forever.
   */
  onResetPartitions?: (partitions: string[]) => void | Promise<void>;
}

/** Options converting DataFrame cells back to Arrow under a target schema. */
export interface DanfoEncodeOptions {
  /**
   * Table columns absent from the frame: `'error'` (default); `'null'` writes nulls (nullable columns
   * only); `'partial'` converts only the present columns (a partial upsert: primary-key and range
   * columns must be present, the other columns keep their stored values).
   */
  missingColumns?: 'error' | 'null' | 'partial';
  /** Frame columns absent from the schema: `'error'` (default) or ignored. */
  extraColumns?: 'error' | 'ignore';
  /**
   * NaN in a float column: kept as NaN (default `'value'`) or written as null. NaN elsewhere is null.
   * A frame read with `numericNulls: 'nan'` needs `'null'` to get its float nulls back as nulls.
   */
  nan?: 'value' | 'null';
  /** Names the table in error messages. */
  table?: string;
  namespace?: string;
}

/** Options of {@link writeDataFrame}. */
export interface WriteDataFrameOptions extends Omit<DanfoEncodeOptions, 'table' | 'namespace'>, WriteOptions {
  /**
   * Receives warnings: writing, without `nan`, a frame that `readDataFrame` / `streamDataFrames` /
   * `toDataFrame` built with `numericNulls: 'nan'` to a table with nullable float columns (their nulls
   * would be written as NaN). Default: `process.emitWarning` (code `LAKESOUL_DANFO_NAN_NULLS`).
   */
  onWarning?: (message: string) => void;
}

/**
 * What the connector needs from a table: its schema and name, a scan and a write. `LakeSoulTable`
 * of `@lakesoul-ts/io` satisfies it.
 */
export interface DanfoTable {
  /** `primaryKeys`: a partial write (`missingColumns: 'partial'`) is an upsert, which needs them. */
  readonly info: { readonly name: string; readonly namespace: string; readonly schema: Schema; readonly primaryKeys?: readonly string[] };
  /** Plans a scan of the table (read by `readDataFrame`). */
  scan(options?: ScanOptions): ScanPlan | Promise<ScanPlan>;
  /** Writes Arrow data into the table (used by `writeDataFrame`). */
  write(input: WriteInput, options?: WriteOptions): Promise<WriteResult>;
}

/** Scan options plus conversion options, as taken by {@link readDataFrame}. */
export type ReadDataFrameOptions = ScanOptions & DanfoReadOptions & DanfoIncrementalOptions & Pick<ReadOptions, 'batchSize'>;
