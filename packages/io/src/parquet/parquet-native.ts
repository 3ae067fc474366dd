/**
 * The native Parquet codec: the parquet crate parquet-wasm compiles to WebAssembly (same version, same
 * writer settings) in io's native addon (`native/native-addon.ts`). It encodes the same files 2.4x and
 * decodes them 2.1x faster than parquet-wasm on one thread (`bench/parquet-codec.mjs`), and runs on
 * libuv's threads, so the Parquet pool needs no worker threads when it is there (`NativeParquetPool` in
 * `workers/parquet-pool.ts`). The addon also has kernels of the read and write paths that cost most in
 * JavaScript: a merge-on-read round's winners (`sortedWinners`), gathering values by row
 * (`gatherBytes`, `gatherFixed`) and the bucket hash of key columns (`foldHash`).
 */
import { nativeAddon, type NativeAddon, type NativeDecodeRequest, type NativeEncodeRequest, type NativeKernels } from '../native/native-addon.js';
import { DATA_PAGE_SIZE_LIMIT, type RawDecodeRequest, type RawEncodeRequest } from './parquet-wasm-ops.js';

/** The native codec's calls on the requests parquet-wasm takes, and the addon's kernels. */
export interface NativeParquet extends NativeKernels {
  /** Decodes on libuv's thread pool. */
  decode(req: RawDecodeRequest): Promise<Uint8Array>;
  /** Decodes on the calling thread. */
  decodeSync(req: RawDecodeRequest): Uint8Array;
  /** Encodes on libuv's thread pool (also rows taken from sources: `req.take`). */
  encode(req: RawEncodeRequest): Promise<Uint8Array>;
  /** Encodes on the calling thread. */
  encodeSync(req: RawEncodeRequest): Uint8Array;
  /** The parquet crate's version, for files' `created_by`. */
  readonly version: string;
  /**
   * Spark's Murmur3 folded over a key column without nulls, as `hash/spark-murmur3.ts` computes it:
   * `hashes[i]` (the running hash of row i) becomes the hash of value i with it as the seed. Int32
   * values (`hashInt`), int64 values as (low, high) word pairs (`hashLong`), and byte values by
   * 32-bit offsets (`hashUnsafeBytes`; offsets are checked). Throws when the lengths disagree.
   */
  readonly foldHash: {
    /** Int32 values (`hashInt`). */
    i32(values: Int32Array, hashes: Int32Array): void;
    /** Int64 values as (low, high) word pairs (`hashLong`). */
    i64(words: Int32Array, hashes: Int32Array): void;
    /** Byte values by 32-bit offsets (`hashUnsafeBytes`); offsets are checked. */
    bytes(values: Uint8Array, offsets: Int32Array, hashes: Int32Array): void;
  };
}

/** The codec over the addon, wrapped at the first call that finds it loaded. */
let wrapped: NativeParquet | undefined;

/**
 * The native codec, or null when parquet-wasm is to be used (`LAKESOUL_PARQUET_CODEC=wasm`, or unset
 * and the addon not built). Throws `InvalidArgument` for `LAKESOUL_PARQUET_CODEC=native` without a
 * loadable addon, and for a value it does not know.
 */
export function nativeParquet(): NativeParquet | null {
  const addon = nativeAddon();
  if (addon === null) return null;
  return (wrapped ??= codecOf(addon));
}

/** The addon's calls as {@link NativeParquet}: requests shaped for it, Buffers out as plain Uint8Arrays. */
function codecOf(addon: NativeAddon): NativeParquet {
  return {
    decode: async (req) => plain(await addon.decode(decodeRequest(req))),
    decodeSync: (req) => plain(addon.decodeSync(decodeRequest(req))),
    encode: async (req) => plain(await addon.encode(encodeRequest(req))),
    encodeSync: (req) => plain(addon.encodeSync(encodeRequest(req))),
    version: addon.parquetVersion(),
    sortedWinners: (...args) => addon.sortedWinners(...args),
    sortedWinnersBytes: (...args) => addon.sortedWinnersBytes(...args),
    sortedWinnersTuple: (...args) => addon.sortedWinnersTuple(...args),
    gatherBytes: (...args) => plain(addon.gatherBytes(...args)),
    i64KeysAsF64: (w, o) => addon.i64KeysAsF64(w, o),
    gatherFixed: (...args) => addon.gatherFixed(...args),
    prepareSource: (ipc) => addon.prepareSource(ipc),
    releaseSource: (handle) => addon.releaseSource(handle),
    foldHash: { i32: (v, h) => addon.foldHashI32(v, h), i64: (w, h) => addon.foldHashI64(w, h), bytes: (v, o, h) => addon.foldHashBytes(v, o, h) },
  };
}

/**
 * The addon's Buffer as a plain Uint8Array over the same memory: callers expect `slice()` to copy
 * (Buffer's makes a view) and byte views to compare equal to parquet-wasm's.
 */
function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function decodeRequest(req: RawDecodeRequest): NativeDecodeRequest {
  const b = req.bytes;
  const file = b instanceof Uint8Array ? { size: b.length, pieces: [b], offsets: [0] } : { size: b.size, pieces: b.pieces.map((p) => p.bytes), offsets: b.pieces.map((p) => p.offset) };
  return {
    ...file,
    columns: req.columns,
    rowGroups: req.rowGroups,
    batchSize: req.batchSize,
  };
}

/**
 * Bytes of encoded values per data page of the columns a selective read looks rows up by
 * (`keyColumns`): parquet-wasm's limit for every column, {@link DATA_PAGE_SIZE_LIMIT}.
 */
export const KEY_PAGE_SIZE_LIMIT = DATA_PAGE_SIZE_LIMIT;

/**
 * Bytes of encoded values per data page of the other columns. Each page is a zstd frame of its own
 * (with a compression context made for it) and a page-index entry, so at 2 KiB the frames cost more
 * than the values: on 250k rows of (int64 key, short string, double), 8 KiB pages for the string and
 * the double encode in 22 ms instead of 33, decode in 17 instead of 20, and take 295 KiB instead of
 * 466. 16 KiB was no faster and made `id IN (100 keys)` slower (`bench/io-selective.mjs`; see
 * docs/benchmarks.md).
 */
export const VALUE_PAGE_SIZE_LIMIT = 8 * 1024;

function encodeRequest(req: RawEncodeRequest): NativeEncodeRequest {
  const encodings: NativeEncodeRequest['encodings'] = req.encodings.map((c) => ({ ...c }));
  for (const key of req.keyColumns ?? []) {
    const c = encodings.find((e) => e.column === key);
    if (c !== undefined) c.pageSizeLimit = KEY_PAGE_SIZE_LIMIT;
    else encodings.push({ column: key, dictionary: true, pageSizeLimit: KEY_PAGE_SIZE_LIMIT });
  }
  return {
    ipc: req.ipc,
    prepared: req.take?.prepared,
    src: req.take?.src ?? undefined,
    rows: req.take?.rows,
    sortKeys: req.take?.sortKeys,
    compression: req.compression,
    rowGroupSize: req.rowGroupSize,
    dataPageSizeLimit: VALUE_PAGE_SIZE_LIMIT,
    metadata: req.metadata === undefined ? undefined : Object.entries(req.metadata),
    createdBy: req.createdBy,
    encodings,
  };
}
