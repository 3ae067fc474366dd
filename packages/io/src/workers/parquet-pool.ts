/**
 * The Parquet worker pool: parquet-wasm decode and encode on worker threads, so a scan decodes
 * several files or row groups at once on every core while the main thread merges, and a writer
 * encodes buckets in parallel. Requests and replies are bytes (Parquet, Arrow IPC streams), moved
 * between threads without copies where the caller gives its buffer up.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { RawDecodeRequest, RawEncodeRequest } from '../parquet/parquet-wasm-ops.js';
import { WorkerPool, type WorkerPoolOptions } from './worker-pool.js';

/** One request to a Parquet worker. */
export type ParquetTask = ({ op: 'decode' } & RawDecodeRequest) | ({ op: 'encode' } & RawEncodeRequest);

/** A pool of Parquet worker threads (a {@link WorkerPool} running `parquet-worker.js`). */
export type ParquetPool = WorkerPool<ParquetTask, Uint8Array>;

/**
 * Where the compiled worker script is: next to this module in `dist/`; when this module runs from
 * `src/` (tests import sources), the built copy in `dist/` (the build step comes first).
 */
export function parquetWorkerScript(): URL | null {
  const here = new URL('./parquet-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = new URL('../../dist/workers/parquet-worker.js', import.meta.url);
  return existsSync(fileURLToPath(built)) ? built : null;
}

/**
 * A new Parquet pool (size defaults to the available parallelism). Throws `Internal` when the worker
 * script is missing, i.e. `@lakesoul-ts/io` was not built.
 */
export function createParquetPool(options: WorkerPoolOptions = {}): ParquetPool {
  const script = parquetWorkerScript();
  if (!script) {
    throw new LakeSoulError('Internal', 'the Parquet worker script is missing: build @lakesoul-ts/io first (pnpm turbo run build)');
  }
  return new WorkerPool<ParquetTask, Uint8Array>(script, { name: 'Parquet worker', ...options });
}

/**
 * Parquet inputs smaller than this (compressed bytes) decode on the calling thread even when a pool
 * is at hand: posting to a worker and back costs more than decoding them.
 */
export const PARQUET_POOL_MIN_BYTES = 256 * 1024;

/** Environment variable: worker threads of the shared Parquet pool; `0` decodes on the calling thread. */
export const PARQUET_THREADS_ENV = 'LAKESOUL_PARQUET_THREADS';

let shared: ParquetPool | null | undefined;

/**
 * The process-wide Parquet pool scans use, created on first call: `LAKESOUL_PARQUET_THREADS` workers
 * (default: available parallelism). Null when that variable is `0` or the worker script is not built
 * (callers then decode on their own thread). Its idle workers never keep the process alive, so
 * nothing has to close it; {@link closeSharedParquetPool} does for tests and tools that want to.
 */
export function sharedParquetPool(): ParquetPool | null {
  if (shared !== undefined) return shared;
  const env = process.env[PARQUET_THREADS_ENV];
  const size = env === undefined || env === '' ? undefined : Number(env);
  if (size !== undefined && !(Number.isInteger(size) && size >= 0)) {
    throw new LakeSoulError('InvalidArgument', `${PARQUET_THREADS_ENV} must be a whole number of threads (0 = none), got '${env}'`);
  }
  const script = size === 0 ? null : parquetWorkerScript();
  shared = script ? new WorkerPool<ParquetTask, Uint8Array>(script, { name: 'Parquet worker', size }) : null;
  return shared;
}

/** Terminates the shared pool's workers (a later {@link sharedParquetPool} call starts a new pool). */
export async function closeSharedParquetPool(): Promise<void> {
  const p = shared;
  shared = undefined;
  await p?.close();
}
