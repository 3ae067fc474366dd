/**
 * The local store's file operations as tasks of io's native addon (`native/src/files.rs`), run on
 * the addon's own threads. Unix builds only; elsewhere, and without the addon, the store makes Node's
 * calls.
 */
import { getSystemErrorMap } from 'node:util';
import { nativeAddon, type FileFailure, type NativeAddon } from './native-addon.js';

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

/** The addon's file operations, wrapped at the first call that finds the addon loaded. */
let wrapped: NativeFiles | null | undefined;

/**
 * The native file operations, or null where the native codec is not used (not built, or
 * `LAKESOUL_PARQUET_CODEC=wasm`, under which the store's own Node calls are tested too). Never
 * throws: an invalid codec choice is reported by the codec.
 */
export function nativeFiles(): NativeFiles | null {
  let addon: NativeAddon | null;
  try {
    addon = nativeAddon();
  } catch {
    return null;
  }
  if (addon === null) return null;
  if (wrapped === undefined) wrapped = nativeFileOps(addon);
  return wrapped;
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

