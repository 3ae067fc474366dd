/**
 * The Parquet pool: decodes and encodes off the calling thread, so a scan decodes several files or
 * row groups at once on every core while the main thread merges, and a writer encodes buckets in
 * parallel. With the native codec (`parquet/parquet-native.ts`) it is a {@link NativeParquetPool}:
 * at most `size` calls at once on libuv's threads. Without it, parquet-wasm on worker threads (a
 * {@link WorkerPool} running `parquet-worker.js`): requests and replies are bytes (Parquet, Arrow
 * IPC streams), moved between threads without copies where the caller gives its buffer up.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { LakeSoulError, abortedError, throwIfAborted, whenAborted } from '@lakesoul-ts/meta';
import { nativeParquet, type NativeParquet } from '../parquet/parquet-native.js';
import type { RawDecodeRequest, RawEncodeRequest } from '../parquet/parquet-wasm-ops.js';
import { WorkerPool, type WorkerPoolOptions, type WorkerRunOptions } from './worker-pool.js';

/** One request to a Parquet worker. */
export type ParquetTask = ({ op: 'decode' } & RawDecodeRequest) | ({ op: 'encode' } & RawEncodeRequest);

/** A Parquet pool: worker threads running parquet-wasm, or the native codec's bounded calls. */
export type ParquetPool = WorkerPool<ParquetTask, Uint8Array> | NativeParquetPool;

/**
 * The native codec as a Parquet pool: `run` has at most `size` decodes or encodes on libuv's
 * threads at once (the rest wait in order; a finishing call hands its place to the next), which
 * leaves libuv threads for file reads. The codec reads the inputs in place (callers leave them
 * unchanged until the call settles), so `transfer` is ignored. Aborting a waiting request removes
 * it; aborting a running one rejects at once (the call finishes in the background, its result
 * dropped, and keeps its place until then).
 */
export class NativeParquetPool {
  /** Calls at once at most. */
  readonly size: number;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private closed = false;

  constructor(
    /** The codec the pool's calls run on. */
    readonly codec: NativeParquet,
    size?: number,
  ) {
    this.size = Math.max(1, Math.floor(size ?? availableParallelism()));
  }

  /** Requests running or waiting. */
  get pending(): number {
    return this.running + this.waiting.length;
  }

  /** Decodes (to an Arrow IPC stream) or encodes (to a Parquet file) `task`. */
  async run(task: ParquetTask, options: WorkerRunOptions = {}): Promise<Uint8Array> {
    const { signal } = options;
    if (this.closed) throw new LakeSoulError('InvalidArgument', 'the native Parquet pool is closed');
    throwIfAborted(signal, 'a Parquet request');
    if (this.running < this.size) this.running++;
    else await this.turn(signal); // the place of the call that finished passes to this one
    try {
      const work = task.op === 'decode' ? this.codec.decode(task) : this.codec.encode(task);
      if (!signal) return await work;
      let stop = (): void => {};
      const aborted = new Promise<never>((_, reject) => {
        stop = whenAborted(signal, () => reject(abortedError('a Parquet request', signal.reason)));
      });
      try {
        return await Promise.race([work, aborted]);
      } finally {
        stop();
        work.catch(() => {});
      }
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** Waits until a finishing call hands over its place (or rejects when `signal` aborts first). */
  private turn(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const go = (): void => {
        stop();
        resolve();
      };
      const stop = signal === undefined ? () => {} : whenAborted(signal, () => {
        const k = this.waiting.indexOf(go);
        if (k >= 0) this.waiting.splice(k, 1);
        reject(abortedError('a Parquet request', signal.reason));
      });
      this.waiting.push(go);
    });
  }

  /** Later `run`s fail; running calls finish. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * `pool` when work of `size` (bytes or rows) should go to it: always for the native codec (a call
 * costs microseconds), from `min` for worker threads (posting to a thread and back costs more than
 * decoding a small file).
 */
export function poolForSize(pool: ParquetPool | null, size: number, min: number): ParquetPool | null {
  return pool !== null && (pool instanceof NativeParquetPool || size >= min) ? pool : null;
}

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
 * A new pool of parquet-wasm worker threads (size defaults to the available parallelism). Throws
 * `Internal` when the worker script is missing, i.e. `@lakesoul-ts/io` was not built.
 */
export function createParquetPool(options: WorkerPoolOptions = {}): WorkerPool<ParquetTask, Uint8Array> {
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

/**
 * Environment variable: threads of the shared Parquet pool (worker threads, or concurrent native
 * calls); `0` decodes and encodes on the calling thread.
 */
export const PARQUET_THREADS_ENV = 'LAKESOUL_PARQUET_THREADS';

let shared: ParquetPool | null | undefined;

/**
 * The process-wide Parquet pool scans and writers use, created on first call, of
 * `LAKESOUL_PARQUET_THREADS` threads (default: available parallelism): a {@link NativeParquetPool}
 * when the native codec is there, else parquet-wasm worker threads. Null when that variable is `0`
 * or, without the native codec, the worker script is not built (callers then decode on their own
 * thread). It never keeps the process alive (idle workers are unref'd), so nothing has to close it;
 * {@link closeSharedParquetPool} does for tests and tools that want to.
 */
export function sharedParquetPool(): ParquetPool | null {
  if (shared !== undefined) return shared;
  const env = process.env[PARQUET_THREADS_ENV];
  const size = env === undefined || env === '' ? undefined : Number(env);
  if (size !== undefined && !(Number.isInteger(size) && size >= 0)) {
    throw new LakeSoulError('InvalidArgument', `${PARQUET_THREADS_ENV} must be a whole number of threads (0 = none), got '${env}'`);
  }
  const native = size === 0 ? null : nativeParquet();
  if (native) {
    shared = new NativeParquetPool(native, size);
    return shared;
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
