/**
 * Row counts of data files, from their Parquet footers (LakeSoul's catalog records sizes, not rows).
 * Used by `ScanPlan.withRowCounts` and, through the `@lakesoul-ts/io/footers` entry point, by callers
 * that need counts without loading the reading machinery (the CLI's `history`).
 */
import { LakeSoulError } from '@lakesoul-ts/meta';
import { readParquetFooter } from '../parquet/parquet-footer.js';
import type { StoreRegistry } from '../store/store-registry.js';
import { locateDataFile } from './data-file-paths.js';

/** A data file as a snapshot or a split lists it. */
export interface CountedFile {
  path: string;
  size: bigint | number | string;
}

/** Adds the file's path to an error's context (or wraps a foreign error as `Io`, naming the file). */
export function withFile(e: unknown, path: string): unknown {
  if (LakeSoulError.is(e)) {
    e.context.file ??= path;
    return e;
  }
  return new LakeSoulError('Io', `reading ${path} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e, context: { file: path } });
}

/** Rows in one data file, from its footer. @throws LakeSoulError naming the file. */
export async function fileRowCount(stores: StoreRegistry, f: CountedFile, signal?: AbortSignal): Promise<number> {
  try {
    const { store, key } = await locateDataFile(stores, f.path, signal);
    const footer = await readParquetFooter((range) => store.get(key, { range, signal }), Number(f.size), { file: f.path, signal });
    return Number(footer.numRows);
  } catch (e) {
    throw withFile(e, f.path);
  }
}

/**
 * Total rows of `files`. `known` (path → rows) is consulted first and filled in, so callers that count
 * overlapping file sets (consecutive versions share most files) read each footer once.
 */
export async function countFileRows(stores: StoreRegistry, files: readonly CountedFile[], known: Map<string, number> = new Map(), signal?: AbortSignal): Promise<number> {
  let rows = 0;
  for (const f of files) {
    let n = known.get(f.path);
    if (n === undefined) known.set(f.path, (n = await fileRowCount(stores, f, signal)));
    rows += n;
  }
  return rows;
}
