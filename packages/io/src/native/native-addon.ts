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

/** The addon's functions: Arrow IPC streams out of decodes, Parquet files out of encodes. */
export interface NativeAddon {
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
    throw new LakeSoulError('InvalidArgument', `${PARQUET_CODEC_ENV}=native, but the native Parquet codec (${NATIVE_PARQUET_ADDON}): ${why}. Build it with: pnpm setup:native`);
  }
  return loaded;
}
