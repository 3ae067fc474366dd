/**
 * The native Parquet codec: `packages/io/native`, the parquet crate parquet-wasm compiles to
 * WebAssembly (same version, same writer settings) built as a Node-API addon by `pnpm setup:native`.
 * It encodes the same files 2.4x and decodes them 2.1x faster than parquet-wasm on one thread
 * (`bench/parquet-codec.mjs`), and runs on libuv's threads, so the Parquet pool needs no worker threads when it is there
 * (`NativeParquetPool` in `workers/parquet-pool.ts`). The addon also has two kernels of the read
 * and write paths that cost most in JavaScript: a merge-on-read round's winners (`sortedWinners`),
 * gathering variable-width values by row (`gatherBytes`) and the bucket hash of key columns (`foldHash`).
 *
 * `LAKESOUL_PARQUET_CODEC` chooses: `native` (fail when not built), `wasm` (parquet-wasm), or unset /
 * `auto`: native when built, else parquet-wasm.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { getSystemErrorMap } from 'node:util';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { DATA_PAGE_SIZE_LIMIT, type PreparedRowSource, type RawDecodeRequest, type RawEncodeRequest } from './parquet-wasm-ops.js';

/** Environment variable choosing the Parquet codec: `native`, `wasm`, or `auto` (the default). */
export const PARQUET_CODEC_ENV = 'LAKESOUL_PARQUET_CODEC';

/** What the addon takes for a decode (see `native/src/lib.rs`). */
interface NativeDecodeRequest {
  size: number;
  pieces: Uint8Array[];
  offsets: number[];
  columns?: string[];
  rowGroups?: number[];
  batchSize: number;
}

/** What the addon takes for an encode. */
interface NativeEncodeRequest {
  ipc: Uint8Array;
  prepared?: PreparedRowSource[];
  src?: Uint32Array;
  rows?: Int32Array;
  sortKeys?: number[];
  compression: string;
  rowGroupSize: number;
  dataPageSizeLimit: number;
  metadata?: string[][];
  createdBy: string;
  encodings: (RawEncodeRequest['encodings'][number] & { pageSizeLimit?: number })[];
}

/** The addon's functions: Arrow IPC streams out of decodes, Parquet files out of encodes. */
interface NativeAddon {
  decode(req: NativeDecodeRequest): Promise<Uint8Array>;
  decodeSync(req: NativeDecodeRequest): Uint8Array;
  encode(req: NativeEncodeRequest): Promise<Uint8Array>;
  encodeSync(req: NativeEncodeRequest): Uint8Array;
  parquetVersion(): string;
  interfaceVersion?(): number;
  sortedWinners(keys: Float64Array[], starts: number[], ends: number[], indexes: number[], has: boolean[], winS: Int32Array, winR: Int32Array): number;
  sortedWinnersBytes(values: Uint8Array[], offsets: Int32Array[], starts: number[], ends: number[], indexes: number[], has: boolean[], winS: Int32Array, winR: Int32Array): number;
  sortedWinnersTuple(kinds: number[], nums: Float64Array[], values: Uint8Array[], offsets: Int32Array[], starts: number[], ends: number[], indexes: number[], has: boolean[], winS: Int32Array, winR: Int32Array): number;
  gatherBytes(values: Uint8Array[], offsets: Int32Array[], src: Uint32Array | null, rows: Int32Array, outOffsets: Int32Array): Uint8Array;
  foldHashI32(values: Int32Array, hashes: Int32Array): void;
  foldHashI64(words: Int32Array, hashes: Int32Array): void;
  foldHashBytes(values: Uint8Array, offsets: Int32Array, hashes: Int32Array): void;
  i64KeysAsF64(words: Int32Array, out: Float64Array): boolean;
  gatherFixed(values: Uint8Array[], width: number, src: Uint32Array | null, rows: Int32Array, out: Uint8Array): void;
  prepareSource(ipc: Uint8Array): Promise<PreparedRowSource>;
  releaseSource(handle: PreparedRowSource): void;
  /** Unix builds only. */
  createFileTask?(path: string, data: Uint8Array, fsync: boolean): Promise<FileFailure | null>;
  /** Unix builds only. */
  syncDirectoryTask?(path: string): Promise<FileFailure | null>;
}

/** How one of the addon's file operations failed (`native/src/files.rs`). */
interface FileFailure {
  errno: number;
  syscall: string;
}

/** The native codec's calls on the requests parquet-wasm takes. */
export interface NativeParquet {
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
   * The winners of one merge-on-read round over numeric keys, as `merge/merge-on-read.ts`'s radix sort
   * finds them (see `native/src/lib.rs`, `sorted_winners`): per distinct key, ascending, the source
   * index (-1: none has the columns) and row of its last row in a source that has the columns.
   */
  sortedWinners(keys: Float64Array[], starts: number[], ends: number[], indexes: number[], has: boolean[], winS: Int32Array, winR: Int32Array): number;
  /**
   * {@link NativeParquet.sortedWinners} for keys of bytes (strings, binaries) with 32-bit offsets:
   * source k's key of row r is `values[k]` from `offsets[k][r]` to `offsets[k][r + 1]`, ordered by
   * unsigned bytes, a prefix first (`arrow/pk-compare.ts`'s order). Throws on offsets outside their
   * source's bytes.
   */
  sortedWinnersBytes(values: Uint8Array[], offsets: Int32Array[], starts: number[], ends: number[], indexes: number[], has: boolean[], winS: Int32Array, winR: Int32Array): number;
  /**
   * {@link NativeParquet.sortedWinners} for keys of several columns compared column by column:
   * `kinds[c]` 0 for numbers (every source's values as a Float64Array ordered like the key, no NaN),
   * 1 for bytes (values and 32-bit offsets, as {@link NativeParquet.sortedWinnersBytes}). Source s's
   * q-th number column is `nums[s * numberColumns + q]`, its q-th byte column `values` / `offsets`
   * `[s * byteColumns + q]`. Throws on inconsistent lengths and offsets outside their bytes.
   */
  sortedWinnersTuple(kinds: number[], nums: Float64Array[], values: Uint8Array[], offsets: Int32Array[], starts: number[], ends: number[], indexes: number[], has: boolean[], winS: Int32Array, winR: Int32Array): number;
  /**
   * Variable-width values (32-bit offsets) gathered by row, as `arrow/take-rows.ts`'s `gatherBytes32`
   * does (rows < 0 are nulls; `src` picks each row's source, all from the first without it): fills
   * `outOffsets` (rows + 1) and returns the bytes. Throws on offsets outside their source's values.
   */
  gatherBytes(values: Uint8Array[], offsets: Int32Array[], src: Uint32Array | null, rows: Int32Array, outOffsets: Int32Array): Uint8Array;
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
  /**
   * Signed int64 keys, as (low, high) word pairs, written to `out` as doubles; false when one is
   * beyond +-2^53 (doubles are not exact there; `out` is then partly written).
   */
  i64KeysAsF64(words: Int32Array, out: Float64Array): boolean;
  /**
   * Fixed-width values (`width` bytes each) gathered by row into `out` (rows < 0 left as they are:
   * nulls), as `arrow/take-rows.ts`'s loops do. Throws on a row outside its source.
   */
  gatherFixed(values: Uint8Array[], width: number, src: Uint32Array | null, rows: Int32Array, out: Uint8Array): void;
  /**
   * An Arrow IPC stream decoded and validated once, on libuv's thread pool, for the encodes that take
   * rows of it (`take.prepared`): each encode decoded the whole source again otherwise.
   * @throws Error (rejects) when the stream is not valid Arrow IPC.
   */
  prepareSource(ipc: Uint8Array): Promise<PreparedRowSource>;
  /**
   * Lets a prepared source go now instead of when its handle is collected (its memory is the stream
   * and the columns decoded from it); encodes running with it keep it until they end, later ones fail.
   */
  releaseSource(handle: PreparedRowSource): void;
  /** The addon's file operations, for the local store (null in a build without them: not Unix). */
  readonly files: NativeFiles | null;
}

/**
 * File operations of the local store as one task each on the addon's 16 file threads
 * (`native/src/files.rs`; libuv's 4 threads run the codec): writing and flushing a new file is one
 * task instead of four Node calls (open, write, fsync, close). Failures reject with an error shaped as
 * Node's (`code`, `errno`, `syscall`, `path`).
 */
export interface NativeFiles {
  /**
   * Creates `path`, which must not exist (`EEXIST` otherwise), holding `data`, flushed to disk when
   * `fsync`. A failure after the file was created removes it.
   */
  createFile(path: string, data: Uint8Array, fsync: boolean): Promise<void>;
  /** Flushes a directory's entries (a file system that cannot flush a directory is left as is); rejects when it cannot be opened. */
  syncDirectory(path: string): Promise<void>;
}

/**
 * The native file operations, or null where the native codec is not used (not built, or
 * `LAKESOUL_PARQUET_CODEC=wasm`, under which the store's own Node calls are tested too). Never
 * throws: an invalid codec choice is reported by the codec.
 */
export function nativeFiles(): NativeFiles | null {
  try {
    return nativeParquet()?.files ?? null;
  } catch {
    return null;
  }
}

/** The error Node's `fs` would give for a failed system call. */
function systemError(f: FileFailure, path: string): NodeJS.ErrnoException {
  const [code, description] = getSystemErrorMap().get(-f.errno) ?? [`E${f.errno}`, 'unknown error'];
  return Object.assign(new Error(`${code}: ${description}, ${f.syscall} '${path}'`), { code, errno: -f.errno, syscall: f.syscall, path });
}

/** The addon's file operations as {@link NativeFiles}, or null when it was built without them. */
function nativeFileOps(addon: NativeAddon): NativeFiles | null {
  const { createFileTask, syncDirectoryTask } = addon;
  if (typeof createFileTask !== 'function' || typeof syncDirectoryTask !== 'function') return null;
  return {
    createFile: (path, data, fsync) => settled(createFileTask.call(addon, path, data, fsync), path),
    syncDirectory: (path) => settled(syncDirectoryTask.call(addon, path), path),
  };
}

/** Rejects with {@link systemError} when a file operation failed. */
async function settled(task: Promise<FileFailure | null>, path: string): Promise<void> {
  const failed = await task;
  if (failed) throw systemError(failed, path);
}

/**
 * The addon interface this code calls (`interface_version` in `native/src/lib.rs`): an addon built from
 * other sources lacks functions or ignores request fields (an older encode leaves `sortKeys` rows
 * unsorted), so it is not used.
 */
export const NATIVE_INTERFACE_VERSION = 4;

/**
 * Why a loaded addon cannot be used by this code (an interface of another version, or none: built
 * before versions existed), or null when it can.
 */
export function addonMismatch(addon: { interfaceVersion?: () => number }): string | null {
  const found = typeof addon.interfaceVersion === 'function' ? addon.interfaceVersion() : null;
  if (found === NATIVE_INTERFACE_VERSION) return null;
  return `it was built from other sources (interface ${found ?? 'unversioned'}, this code needs ${NATIVE_INTERFACE_VERSION})`;
}

/** Where `pnpm setup:native` puts the addon (the same relative path from `src/parquet` and `dist/parquet`). */
export const NATIVE_PARQUET_ADDON = fileURLToPath(new URL('../../native/lakesoul-parquet.node', import.meta.url));

let loaded: NativeParquet | null | undefined;
let loadError: unknown;

function load(): NativeParquet | null {
  if (!existsSync(NATIVE_PARQUET_ADDON)) return null;
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(NATIVE_PARQUET_ADDON) as NativeAddon;
  } catch (e) {
    loadError = e;
    process.emitWarning(`the native Parquet codec at ${NATIVE_PARQUET_ADDON} does not load (${e instanceof Error ? e.message : String(e)}); using parquet-wasm. Rebuild it with: pnpm setup:native`);
    return null;
  }
  const mismatch = addonMismatch(addon);
  if (mismatch !== null) {
    loadError = new Error(mismatch);
    process.emitWarning(`the native Parquet codec at ${NATIVE_PARQUET_ADDON} is not used: ${mismatch}; using parquet-wasm. Rebuild it with: pnpm setup:native`);
    return null;
  }
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
    files: nativeFileOps(addon),
    foldHash: { i32: (v, h) => addon.foldHashI32(v, h), i64: (w, h) => addon.foldHashI64(w, h), bytes: (v, o, h) => addon.foldHashBytes(v, o, h) },
  };
}

/**
 * The native codec, or null when parquet-wasm is to be used (`LAKESOUL_PARQUET_CODEC=wasm`, or unset
 * and the addon not built). Throws `InvalidArgument` for `LAKESOUL_PARQUET_CODEC=native` without a
 * loadable addon, and for a value it does not know.
 */
export function nativeParquet(): NativeParquet | null {
  const choice = process.env[PARQUET_CODEC_ENV] ?? '';
  if (choice === 'wasm') return null;
  if (choice !== '' && choice !== 'auto' && choice !== 'native') {
    throw new LakeSoulError('InvalidArgument', `${PARQUET_CODEC_ENV} must be native, wasm or auto, got '${choice}'`);
  }
  if (loaded === undefined) loaded = load();
  if (loaded === null && choice === 'native') {
    const why = loadError === undefined ? 'it is not built' : `it does not load: ${loadError instanceof Error ? loadError.message : String(loadError)}`;
    throw new LakeSoulError('InvalidArgument', `${PARQUET_CODEC_ENV}=native, but the native Parquet codec (${NATIVE_PARQUET_ADDON}): ${why}. Build it with: pnpm setup:native`);
  }
  return loaded;
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
