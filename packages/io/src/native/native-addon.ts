/**
 * io's native addon (`packages/io/native`, built as a Node-API addon by `pnpm setup:native`): loaded
 * once per process and checked against the interface this code calls. Its parts are used through
 * their own modules: the Parquet codec and the read/write kernels (`parquet/parquet-native.ts`) and
 * the local store's file tasks (`native-files.ts`).
 *
 * `LAKESOUL_PARQUET_CODEC` chooses: `native` (fail when not built), `wasm` (parquet-wasm, and none of
 * the addon), or unset / `auto`: the addon when built, else parquet-wasm.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { PreparedRowSource, RawEncodeRequest } from '../parquet/parquet-wasm-ops.js';

/** Environment variable choosing the Parquet codec: `native`, `wasm`, or `auto` (the default). */
export const PARQUET_CODEC_ENV = 'LAKESOUL_PARQUET_CODEC';

/** What the addon takes for a decode (see `native/src/lib.rs`). */
export interface NativeDecodeRequest {
  size: number;
  pieces: Uint8Array[];
  offsets: number[];
  columns?: string[];
  rowGroups?: number[];
  batchSize: number;
}

/** What the addon takes for an encode. */
export interface NativeEncodeRequest {
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

/**
 * The addon's kernels of the read and write paths that cost most in JavaScript, called as they are
 * (`native/src/lib.rs`).
 */
export interface NativeKernels {
  /**
   * The winners of one merge-on-read round over numeric keys, as `merge/merge-on-read.ts`'s radix sort
   * finds them (see `native/src/lib.rs`, `sorted_winners`): per distinct key, ascending, the source
   * index (-1: none has the columns) and row of its last row in a source that has the columns.
   */
  sortedWinners(keys: Float64Array[], starts: number[], ends: number[], indexes: number[], has: boolean[], winS: Int32Array, winR: Int32Array): number;
  /**
   * {@link NativeKernels.sortedWinners} for keys of bytes (strings, binaries) with 32-bit offsets:
   * source k's key of row r is `values[k]` from `offsets[k][r]` to `offsets[k][r + 1]`, ordered by
   * unsigned bytes, a prefix first (`arrow/pk-compare.ts`'s order). Throws on offsets outside their
   * source's bytes.
   */
  sortedWinnersBytes(values: Uint8Array[], offsets: Int32Array[], starts: number[], ends: number[], indexes: number[], has: boolean[], winS: Int32Array, winR: Int32Array): number;
  /**
   * {@link NativeKernels.sortedWinners} for keys of several columns compared column by column:
   * `kinds[c]` 0 for numbers (every source's values as a Float64Array ordered like the key, no NaN),
   * 1 for bytes (values and 32-bit offsets, as {@link NativeKernels.sortedWinnersBytes}). Source s's
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
}

/** The addon's functions: Arrow IPC streams out of decodes, Parquet files out of encodes, the kernels, file tasks. */
export interface NativeAddon extends NativeKernels {
  decode(req: NativeDecodeRequest): Promise<Uint8Array>;
  decodeSync(req: NativeDecodeRequest): Uint8Array;
  encode(req: NativeEncodeRequest): Promise<Uint8Array>;
  encodeSync(req: NativeEncodeRequest): Uint8Array;
  parquetVersion(): string;
  interfaceVersion?(): number;
  foldHashI32(values: Int32Array, hashes: Int32Array): void;
  foldHashI64(words: Int32Array, hashes: Int32Array): void;
  foldHashBytes(values: Uint8Array, offsets: Int32Array, hashes: Int32Array): void;
  /** Unix builds only. */
  createFileTask?(path: string, data: Uint8Array, fsync: boolean): Promise<FileFailure | null>;
  /** Unix builds only. */
  syncDirectoryTask?(path: string): Promise<FileFailure | null>;
}

/** How one of the addon's file operations failed (`native/src/files.rs`). */
export interface FileFailure {
  errno: number;
  syscall: string;
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

/** Where `pnpm setup:native` puts the addon (the same relative path from `src/native` and `dist/native`). */
export const NATIVE_PARQUET_ADDON = fileURLToPath(new URL('../../native/lakesoul-parquet.node', import.meta.url));
/** The addon's Rust crate: present in a clone of the repository, not in the npm package. */
const NATIVE_PARQUET_SOURCES = fileURLToPath(new URL('../../native/Cargo.toml', import.meta.url));

let loaded: NativeAddon | null | undefined;
let loadError: unknown;

function load(): NativeAddon | null {
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
  return addon;
}

/**
 * The addon, or null when parquet-wasm is to be used (`LAKESOUL_PARQUET_CODEC=wasm`, or unset and the
 * addon not built or not loadable). Throws `InvalidArgument` for `LAKESOUL_PARQUET_CODEC=native`
 * without a loadable addon, and for a value it does not know.
 */
export function nativeAddon(): NativeAddon | null {
  const choice = process.env[PARQUET_CODEC_ENV] ?? '';
  if (choice === 'wasm') return null;
  if (choice !== '' && choice !== 'auto' && choice !== 'native') {
    throw new LakeSoulError('InvalidArgument', `${PARQUET_CODEC_ENV} must be native, wasm or auto, got '${choice}'`);
  }
  if (loaded === undefined) loaded = load();
  if (loaded === null && choice === 'native') {
    const why = loadError === undefined ? 'it is not built' : `it does not load: ${loadError instanceof Error ? loadError.message : String(loadError)}`;
    // The addon is built from the Rust sources of a clone (packages/io/native); the npm package has neither.
    const fix = existsSync(NATIVE_PARQUET_SOURCES)
      ? 'Build it with: pnpm setup:native (in this clone of lakesoul-ts)'
      : 'The npm package does not ship it: it is built only in a clone of the lakesoul-ts repository (pnpm setup:native there)';
    throw new LakeSoulError('InvalidArgument', `${PARQUET_CODEC_ENV}=native, but the native Parquet codec (${NATIVE_PARQUET_ADDON}): ${why}. ${fix}. ` +
      `Or set ${PARQUET_CODEC_ENV}=auto (or leave it unset) to use parquet-wasm, which every install has.`, { code: 'NATIVE_CODEC_MISSING' });
  }
  return loaded;
}
