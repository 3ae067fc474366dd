/**
 * How much memory a Parquet file's row groups take once decoded to Arrow, estimated from the footer
 * alone (no data read): what a reader that holds decoded row groups, such as a Flight server's DoGet,
 * reserves before it reads.
 *
 * Compressed or encoded sizes say little about it: a column of 75-character strings with 97 distinct
 * values is a few hundred KB of dictionary-encoded pages and 20 MB of Arrow data per 262,144 rows.
 * The estimate therefore counts each column chunk's values at their Arrow width: fixed-width types by
 * their number of values, byte arrays (strings, binaries) by the footer's SizeStatistics
 * (`unencoded_byte_array_data_bytes`, the bytes of the values themselves, which parquet-rs, and so
 * the files lakesoul-ts writes, and Parquet C++ since 2024 record) plus 4 bytes of offset per value,
 * and every column a validity bitmap. A byte-array chunk without SizeStatistics (older writers) is
 * counted as the larger of its uncompressed size and its values times the mean length of its min and
 * max statistics: an estimate, not a bound (a dictionary of short strings beside long ones fools it).
 */
import type { ObjectStore } from '../types.js';
import type { StoreRegistry } from '../store/store-registry.js';
import { locateDataFile } from '../table/data-file-paths.js';
import { readParquetFooter, type ParquetFooter } from './parquet-footer.js';
import { fileMetaKey, sharedParquetMetaCache } from './meta-cache.js';
import { readThriftStruct, ThriftDecodeError, type ThriftStruct, type ThriftValue } from './thrift-compact.js';
import { utf8Text } from '../arrow/data-access.js';
import { LakeSoulError } from '@lakesoul-ts/meta';

/** One row group of a file as {@link decodedRowGroupSizes} estimates it. */
export interface DecodedRowGroupSize {
  /** Rows of the row group. */
  rows: number;
  /** Estimated bytes of the row group's columns (those asked for) decoded to Arrow. */
  decodedBytes: number;
  /** Bytes of those columns' chunks in the file (compressed, as fetched). */
  compressedBytes: number;
}

/** A schema leaf: what its Arrow width depends on. */
interface LeafInfo {
  physical: number;
  typeLength: number;
  decimal: boolean;
  /** Repeated fields on its path (lists): each adds an offsets buffer. */
  repeated: number;
}

/**
 * The footer's leaves by path (`a`, `s\0x`, `l\0list\0element`: the names joined with NUL, which no
 * name holds, so that a name with a '.' in it is one step), as the column chunks name them.
 */
function leavesByPath(schema: ThriftStruct[]): Map<string, LeafInfo> {
  const out = new Map<string, LeafInfo>();
  let i = 1; // element 0 is the root
  const walk = (prefix: string, repeated: number): void => {
    const el = schema[i++];
    if (el === undefined) return;
    const name = text(el.get(4));
    const path = prefix === '' ? name : `${prefix}\0${name}`;
    const reps = repeated + (num(el.get(3)) === 2 ? 1 : 0);
    if (el.has(5) && !el.has(1)) {
      const children = num(el.get(5));
      for (let c = 0; c < children && i < schema.length; c++) walk(path, reps);
      return;
    }
    const logical = el.get(10) as ThriftStruct | undefined;
    out.set(path, { physical: num(el.get(1)), typeLength: num(el.get(2)), decimal: logical?.has(5) === true || num(el.get(6)) === 5, repeated: reps });
  };
  const rootChildren = num(schema[0]?.get(5));
  for (let c = 0; c < rootChildren && i < schema.length; c++) walk('', 0);
  return out;
}

/** Arrow bytes of one column chunk's values (see the module comment). */
function chunkDecodedBytes(leaf: LeafInfo | undefined, md: ThriftStruct): number {
  const n = num(md.get(5));
  const uncompressed = num(md.get(6));
  const physical = leaf?.physical ?? num(md.get(1));
  const bitmap = Math.ceil(n / 8);
  const offsets = 4 * n * (leaf?.repeated ?? 0);
  let values: number;
  switch (physical) {
    case 0: values = bitmap; break; // BOOLEAN
    case 1: case 4: values = (leaf?.decimal ? 16 : 4) * n; break; // INT32, FLOAT
    case 2: case 3: case 5: values = (leaf?.decimal ? 16 : 8) * n; break; // INT64, INT96 (a timestamp), DOUBLE
    case 7: values = Math.max(uncompressed, (leaf?.decimal ? 16 : Math.max(1, leaf?.typeLength ?? 0)) * n); break; // FIXED_LEN_BYTE_ARRAY
    case 6: { // BYTE_ARRAY
      const sizes = md.get(16) as ThriftStruct | undefined;
      const unencoded = sizes?.get(1);
      if (unencoded !== undefined) {
        values = 4 * (n + 1) + num(unencoded);
        break;
      }
      const st = md.get(12) as ThriftStruct | undefined;
      const min = (st?.get(6) ?? st?.get(2)) as Uint8Array | undefined;
      const max = (st?.get(5) ?? st?.get(1)) as Uint8Array | undefined;
      const mean = min instanceof Uint8Array && max instanceof Uint8Array ? (min.length + max.length) / 2 : 0;
      values = Math.max(uncompressed, n * (4 + mean));
      break;
    }
    default: values = Math.max(uncompressed, 8 * n);
  }
  return values + bitmap + offsets;
}

/** Footers already looked at: their estimates per column set. */
const estimates = new WeakMap<ParquetFooter, Map<string, DecodedRowGroupSize[]>>();

/**
 * The estimated decoded (Arrow) size of each row group of the file `footer` describes, counting the
 * top-level `columns` only (default: all), in row-group order. See the module comment for how.
 * @throws LakeSoulError (`Io`, `CORRUPT_FILE`) when the footer's metadata cannot be parsed.
 */
export function decodedRowGroupSizes(footer: ParquetFooter, columns?: readonly string[]): DecodedRowGroupSize[] {
  const key = columns === undefined ? '*' : JSON.stringify([...columns].sort());
  let byColumns = estimates.get(footer);
  const known = byColumns?.get(key);
  if (known) return known;
  let fm: ThriftStruct;
  try {
    fm = readThriftStruct(footer.metadata);
  } catch (e) {
    if (!(e instanceof ThriftDecodeError || e instanceof RangeError)) throw e;
    throw new LakeSoulError('Io', `corrupt Parquet footer: ${e.message}`, { code: 'CORRUPT_FILE', cause: e });
  }
  const leaves = leavesByPath((fm.get(2) as ThriftStruct[] | undefined) ?? []);
  const wanted = columns === undefined ? null : new Set(columns);
  const out = ((fm.get(4) as ThriftStruct[] | undefined) ?? []).map((rg) => {
    let decodedBytes = 0;
    let compressedBytes = 0;
    for (const cc of (rg.get(1) as ThriftStruct[] | undefined) ?? []) {
      const md = cc.get(3) as ThriftStruct | undefined;
      if (md === undefined) continue;
      const path = ((md.get(3) as Uint8Array[] | undefined) ?? []).map(text);
      if (wanted !== null && !wanted.has(path[0] ?? '')) continue;
      decodedBytes += chunkDecodedBytes(leaves.get(path.join('\0')), md);
      compressedBytes += num(md.get(7));
    }
    return { rows: num(rg.get(3)), decodedBytes, compressedBytes };
  });
  if (!byColumns) estimates.set(footer, (byColumns = new Map()));
  byColumns.set(key, out);
  return out;
}

/** Options of {@link readDecodedRowGroupSizes}. */
export interface DecodedSizeOptions {
  /** Top-level columns the read decodes (default: all). */
  columns?: readonly string[];
  signal?: AbortSignal;
}

/**
 * {@link decodedRowGroupSizes} of a data file (a path as a split lists it, and its size), reading
 * its footer (one read of its last 64 KiB) unless the process's metadata cache holds it; the footer of
 * a file over 64 KiB is kept there for the read of the file that follows (the entry a scan's read
 * uses).
 * @throws LakeSoulError as a read of the file's footer does (not found, not Parquet, corrupt).
 */
export async function readDecodedRowGroupSizes(stores: StoreRegistry, file: { path: string; size: string | number | bigint }, options: DecodedSizeOptions = {}): Promise<DecodedRowGroupSize[]> {
  const { signal } = options;
  const size = Number(file.size);
  const { store, key } = await locateDataFile(stores, file.path, signal);
  return decodedRowGroupSizes(await cachedFooter(store, key, size, file.path, signal), options.columns);
}

/** Files up to this size are read whole by a scan's first read, which keeps no footer of them (as a scan). */
const TAIL_READ = 64 * 1024;

/**
 * The footer of a file, from the process's metadata cache or read, and then kept there under the
 * entry and with the weight a scan's read of the file uses (table/scan-plan.ts, `openFileEnd`), so the
 * read that follows takes it from there and the cache holds what it would have held anyway.
 */
async function cachedFooter(store: ObjectStore, key: string, size: number, path: string, signal: AbortSignal | undefined): Promise<ParquetFooter> {
  const cache = sharedParquetMetaCache();
  const cacheKey = `footer:${fileMetaKey(`${store.description}${key}`, size)}`;
  const cached = size > TAIL_READ ? cache.get<ParquetFooter>(cacheKey) : undefined;
  if (cached) return cached;
  const footer = await readParquetFooter((range) => store.get(key, { range, signal }), size, { file: path, signal });
  // parsed, a footer takes a few times its encoded length
  if (size > TAIL_READ) cache.set(cacheKey, footer, 1024 + 6 * footer.footerLength);
  return footer;
}

function num(v: ThriftValue | undefined): number {
  return typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : 0;
}

function text(v: ThriftValue | undefined): string {
  return v instanceof Uint8Array ? utf8Text(v) : '';
}
