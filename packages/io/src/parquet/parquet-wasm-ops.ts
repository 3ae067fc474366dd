/**
 * The raw parquet-wasm calls, bytes in and bytes out (Arrow IPC streams on the Arrow side), shared by
 * the main thread and the Parquet worker threads (`workers/parquet-worker.ts`). This module imports
 * nothing but parquet-wasm (loaded on first use), so a worker starts light. Validation and error
 * messages naming the file live in `parquet-codec.ts`.
 */
import { createRequire } from 'node:module';
import type * as ParquetWasm from 'parquet-wasm';

type PW = typeof ParquetWasm;
let wasm: PW | undefined;

/** The parquet-wasm module (node build), loaded on first call. */
export function parquetWasm(): PW {
  if (wasm === undefined) {
    const require = createRequire(import.meta.url);
    wasm = require('parquet-wasm') as PW;
  }
  return wasm;
}

/**
 * A Parquet file of which only some byte ranges are known (a row group's column chunks, the page
 * index and the footer): the decoder reads nothing else. The decoder is served the ranges it asks for
 * from the pieces (zeros elsewhere), so no buffer of the file's size is made.
 */
export interface SparseParquetFile {
  size: number;
  pieces: { offset: number; bytes: Uint8Array }[];
}

/** The Parquet magic. */
const PAR1 = [0x50, 0x41, 0x52, 0x31];

/** The bytes of a sparse file at their offsets, with the leading magic the decoder checks. */
export function assembleSparse(f: SparseParquetFile): Uint8Array {
  const out = new Uint8Array(f.size);
  for (const p of f.pieces) out.set(p.bytes, p.offset);
  out.set(PAR1, 0);
  return out;
}

/** What parquet-wasm's `ParquetFile.fromFile` uses of a `Blob`: its size and ranges' bytes. */
interface RangeReader {
  size: number;
  slice(start?: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

/**
 * A stand-in for the `Blob` that `ParquetFile.fromFile` reads ranges from: each range the decoder asks
 * for is copied out of `src` (a sparse file's pieces, zeros elsewhere and the leading magic, as
 * {@link assembleSparse} would hold) when asked. A real Blob copies the whole file up front, and on
 * a worker thread those copies do not count towards V8's heap, so garbage collection lagged far
 * behind them (1.3 GB of RSS after 200 row-group decodes of a 6 MiB file on one worker); the
 * ArrayBuffers this returns do count.
 */
function rangeReader(src: Uint8Array | SparseParquetFile): RangeReader {
  const size = src instanceof Uint8Array ? src.length : src.size;
  const read = (start: number, end: number): ArrayBuffer => {
    // a copy of just the range: a Node Buffer's slice() (an S3 response's bytes) is a view, whose
    // buffer is the whole memory it lives in (parquet-wasm then decoded other bytes and trapped)
    if (src instanceof Uint8Array) return new Uint8Array(src.subarray(start, end)).buffer;
    const out = new Uint8Array(end - start);
    for (const p of src.pieces) {
      const a = Math.max(start, p.offset);
      const b = Math.min(end, p.offset + p.bytes.length);
      if (a < b) out.set(p.bytes.subarray(a - p.offset, b - p.offset), a - start);
    }
    for (let k = start; k < Math.min(end, 4); k++) out[k - start] = PAR1[k];
    return out.buffer;
  };
  const clamp = (x: number) => Math.min(size, Math.max(0, x < 0 ? size + x : x));
  return {
    size,
    slice(start = 0, end = size) {
      const a = clamp(start);
      const b = Math.max(a, clamp(end));
      return { arrayBuffer: async () => read(a, b) };
    },
  };
}

/** A decode of Parquet bytes to an Arrow IPC stream (already validated by the caller). */
export interface RawDecodeRequest {
  bytes: Uint8Array | SparseParquetFile;
  /** Top-level columns to read; undefined reads all. */
  columns?: string[];
  /** Row groups to read; undefined reads all. */
  rowGroups?: number[];
  batchSize: number;
}

/** Decodes Parquet bytes to an Arrow IPC stream (columns in the file's order). */
export async function decodeToIPC(req: RawDecodeRequest): Promise<Uint8Array> {
  const pw = parquetWasm();
  if (req.columns === undefined && req.rowGroups === undefined) {
    // the synchronous reader is faster when nothing is pruned (it ignores projection, hence only here)
    const bytes = req.bytes instanceof Uint8Array ? req.bytes : assembleSparse(req.bytes);
    return pw.readParquet(bytes, { batchSize: req.batchSize }).intoIPCStream();
  }
  const pf = await pw.ParquetFile.fromFile(rangeReader(req.bytes) as unknown as Blob);
  try {
    const t = await pf.read({ columns: req.columns, rowGroups: req.rowGroups, batchSize: req.batchSize });
    return t.intoIPCStream();
  } finally {
    pf.free();
  }
}

declare const preparedBrand: unique symbol;
/**
 * A row source the native codec decoded and checked once (`NativeParquet.prepareSource`), for every
 * encode that takes rows of it: an opaque handle, freed when collected.
 */
export type PreparedRowSource = { readonly [preparedBrand]: true };

/** An encode of an Arrow IPC stream to Parquet bytes. */
export interface RawEncodeRequest {
  /** The rows to encode, as an Arrow IPC stream (unused with `take`). */
  ipc: Uint8Array;
  /**
   * The native codec only: encode rows taken from sources instead, output row `i` being row
   * `rows[i]` of `prepared[src ? src[i] : 0]` (each source an Arrow IPC stream of the same schema,
   * decoded by `NativeParquet.prepareSource`).
   */
  take?: { prepared: PreparedRowSource[]; src: Uint32Array | null; rows: Int32Array; sortKeys?: number[] };
  compression: 'zstd' | 'snappy' | 'none';
  rowGroupSize: number;
  metadata?: Record<string, string>;
  /** Columns written in small pages (the native codec; parquet-wasm has one limit for all columns). */
  keyColumns?: readonly string[];
  createdBy: string;
  /** Per-column dictionary and value-encoding choices (see `column-encodings.ts`). */
  encodings: { column: string; dictionary: boolean; encoding?: 'DELTA_BINARY_PACKED' | 'DELTA_BYTE_ARRAY'; compressed?: boolean }[];
}

/**
 * Bytes of encoded values per data page: small pages, each with min/max in the page index, let a
 * selective read fetch and decode only the pages holding the rows it selects. parquet-wasm has one
 * limit for all columns; the native codec uses it for key columns only (`KEY_PAGE_SIZE_LIMIT` in
 * `parquet-native.ts`). A sorted integer key in
 * DELTA_BINARY_PACKED takes a fraction of a byte per value, so its pages hold the most rows: at
 * 2 KiB ~3.7k keys per page (7.5k at 4 KiB), 256 doubles, 100-250 short strings. 2 KiB against
 * 4 KiB on the 1M-row benchmark tables: `id IN (100 keys)` 105 -> 82 ms (`bench/io-selective.mjs`);
 * full reads equal within the noise (interleaved A/B of a merge-on-read read: -8% and +8% in two
 * runs); files ~5% larger. 1 KiB made the full read 10-17% slower (a zstd frame per page).
 */
export const DATA_PAGE_SIZE_LIMIT = 2 * 1024;

/**
 * Encodes an Arrow IPC stream as Parquet (chunk- and page-level statistics on every column, with the
 * page index: ColumnIndex and OffsetIndex).
 */
export function encodeFromIPC(req: RawEncodeRequest): Uint8Array {
  if (req.take !== undefined) throw new Error('parquet-wasm encodes IPC streams only: rows taken from sources need the native codec');
  const pw = parquetWasm();
  const compression = req.compression === 'snappy' ? pw.Compression.SNAPPY : req.compression === 'none' ? pw.Compression.UNCOMPRESSED : pw.Compression.ZSTD;
  let builder = new pw.WriterPropertiesBuilder()
    .setCompression(compression)
    .setStatisticsEnabled(pw.EnabledStatistics.Page)
    .setDataPageSizeLimit(DATA_PAGE_SIZE_LIMIT)
    .setMaxRowGroupSize(Math.max(1, req.rowGroupSize))
    .setCreatedBy(req.createdBy);
  if (req.metadata !== undefined) builder = builder.setKeyValueMetadata(new Map(Object.entries(req.metadata)));
  for (const c of req.encodings) {
    builder = builder.setColumnDictionaryEnabled(c.column, c.dictionary);
    if (c.encoding !== undefined) builder = builder.setColumnEncoding(c.column, pw.Encoding[c.encoding]);
    if (c.compressed === false) builder = builder.setColumnCompression(c.column, pw.Compression.UNCOMPRESSED);
  }
  return pw.writeParquet(pw.Table.fromIPCStream(req.ipc), builder.build());
}
