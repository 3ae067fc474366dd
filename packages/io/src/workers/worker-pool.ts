/**
 * A small persistent pool of worker threads running one script: submit a request, get a promise of
 * its reply. Used to decode and encode Parquet off the main thread (see `parquet-pool.ts`), and
 * reusable for any CPU-bound work whose inputs and outputs are transferable buffers.
 *
 * Contract:
 * - at most `size` requests run at once, one per worker; later ones wait in FIFO order;
 * - at most `maxQueued` requests wait: {@link WorkerPool.run} beyond that resolves its returned
 *   promise only after the request got a place (callers that await each submission are throttled);
 * - workers start on demand and stay alive between requests, but an idle pool never keeps the
 *   process alive (idle workers are `unref`ed; a busy one holds the process until it replies);
 * - aborting a waiting request removes it; aborting a running one rejects its promise at once and
 *   drops the reply when the worker finishes (the worker is not interrupted);
 * - a worker that crashes rejects its request with an `Internal` error and is replaced on demand;
 * - {@link WorkerPool.close} rejects what waits, terminates every worker and makes later `run`s fail.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { LakeSoulError, abortedError, throwIfAborted, whenAborted } from '@lakesoul-ts/meta';

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Workers at most (default: the machine's available parallelism, at least 1). */
  size?: number;
  /** Requests waiting for a worker at most before `run` applies back-pressure (default 1024). */
  maxQueued?: number;
  /** Name used in messages (default 'worker'). */
  name?: string;
  /** Passed to each worker as `workerData`. */
  workerData?: unknown;
}

/** Options of one {@link WorkerPool.run}. */
export interface WorkerRunOptions {
  /** Buffers moved (not copied) to the worker; they are unusable in the caller afterwards. */
  transfer?: readonly ArrayBuffer[];
  signal?: AbortSignal;
}

/** Message a worker script receives: `{ id, request }`; it must answer `{ id, ok: true, reply }` or `{ id, ok: false, error }`. */
export interface WorkerEnvelope<Req> {
  id: number;
  request: Req;
}

/** What a worker script answers (see {@link WorkerEnvelope}). */
export type WorkerReplyEnvelope<Res> =
  | { id: number; ok: true; reply: Res }
  | { id: number; ok: false; error: { message: string; name?: string; kind?: string; code?: string } };

/** Default number of requests waiting for a worker before `run` applies back-pressure. */
export const DEFAULT_MAX_QUEUED = 1024;

interface Job<Req, Res> {
  id: number;
  request: Req;
  transfer: readonly ArrayBuffer[];
  resolve(r: Res): void;
  reject(e: unknown): void;
  settled: boolean;
  /** Stops watching the run's AbortSignal (see whenAborted). */
  stopWatching?: () => void;
}

interface Slot<Req, Res> {
  worker: Worker;
  job: Job<Req, Res> | null;
}

/**
 * The Node flags for a worker thread started from a file: the process's own (a worker inherits them;
 * those a worker cannot take Node drops), less `--input-type`, which a `node --input-type=module -e`
 * script carries and which makes Node refuse a worker's file entry ("--input-type can only be used
 * with string input"). Undefined when nothing is to be removed (Node's default: inherit).
 */
export function workerExecArgv(): string[] | undefined {
  return process.execArgv.some((a) => a.startsWith('--input-type')) ? process.execArgv.filter((a) => !a.startsWith('--input-type')) : undefined;
}

/** A persistent pool of `size` workers running `script` (see the module comment for the contract). */
export class WorkerPool<Req, Res> {
  /** Workers at most. */
  readonly size: number;
  private readonly maxQueued: number;
  private readonly name: string;
  private readonly slots: Slot<Req, Res>[] = [];
  private readonly queue: Job<Req, Res>[] = [];
  private readonly spaceWaiters: (() => void)[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly script: URL,
    private readonly options: WorkerPoolOptions = {},
  ) {
    this.size = Math.max(1, Math.floor(options.size ?? availableParallelism()));
    this.maxQueued = Math.max(1, options.maxQueued ?? DEFAULT_MAX_QUEUED);
    this.name = options.name ?? 'worker';
  }

  /** Requests running or waiting. */
  get pending(): number {
    return this.queue.length + this.slots.filter((s) => s.job !== null).length;
  }

  /** Workers started and alive. */
  get workers(): number {
    return this.slots.length;
  }

  /**
   * Runs `request` on a free worker (starting one if fewer than `size` are alive) and resolves with
   * its reply. A worker's error reply rejects with a {@link LakeSoulError} of the kind and code it
   * reported (default `Internal` and {@link WORKER_TASK_FAILED}).
   */
  async run(request: Req, options: WorkerRunOptions = {}): Promise<Res> {
    const { signal } = options;
    while (this.queue.length >= this.maxQueued && !this.closed) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
    if (this.closed) throw new LakeSoulError('InvalidArgument', `the ${this.name} pool is closed`);
    throwIfAborted(signal, `a ${this.name} request`);
    return new Promise<Res>((resolve, reject) => {
      const job: Job<Req, Res> = { id: this.nextId++, request, transfer: options.transfer ?? [], resolve, reject, settled: false };
      if (signal) {
        job.stopWatching = whenAborted(signal, () => {
          const q = this.queue.indexOf(job);
          if (q >= 0) {
            this.queue.splice(q, 1);
            this.wakeOne();
          }
          this.settle(job, () => reject(abortedError(`a ${this.name} request`, signal.reason)));
        });
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Rejects waiting requests, terminates every worker; later `run` calls fail. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new LakeSoulError('Aborted', `the ${this.name} pool was closed`);
    for (const job of this.queue.splice(0)) this.settle(job, () => job.reject(err));
    for (const w of this.spaceWaiters.splice(0)) w();
    const slots = this.slots.splice(0);
    for (const s of slots) if (s.job) this.settle(s.job, () => s.job!.reject(err));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  /** Same as {@link WorkerPool.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private settle(job: Job<Req, Res>, fn: () => void): void {
    if (job.settled) return;
    job.settled = true;
    job.stopWatching?.();
    fn();
  }

  private wakeOne(): void {
    this.spaceWaiters.shift()?.();
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      let slot = this.slots.find((s) => s.job === null);
      if (!slot) {
        if (this.slots.length >= this.size) return;
        slot = this.spawn();
      }
      const job = this.queue.shift()!;
      this.wakeOne();
      slot.job = job;
      slot.worker.ref();
      try {
        slot.worker.postMessage({ id: job.id, request: job.request } satisfies WorkerEnvelope<Req>, job.transfer as ArrayBuffer[]);
      } catch (e) {
        slot.job = null;
        slot.worker.unref();
        this.settle(job, () => job.reject(new LakeSoulError('Internal', `could not send a request to the ${this.name} pool: ${(e as Error).message}`, { cause: e })));
      }
    }
  }

  private spawn(): Slot<Req, Res> {
    const worker = new Worker(this.script, { workerData: this.options.workerData, execArgv: workerExecArgv() });
    const slot: Slot<Req, Res> = { worker, job: null };
    worker.unref();
    worker.on('message', (msg: WorkerReplyEnvelope<Res>) => {
      const job = slot.job;
      if (!job || job.id !== msg.id) return;
      slot.job = null;
      worker.unref();
      this.settle(job, () => (msg.ok ? job.resolve(msg.reply) : job.reject(replyError(this.name, msg.error))));
      this.dispatch();
    });
    const fail = (e: unknown) => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      this.slots.splice(i, 1);
      const job = slot.job;
      slot.job = null;
      if (job) {
        this.settle(job, () =>
          job.reject(new LakeSoulError('Internal', `a ${this.name} thread failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e })),
        );
      }
      void worker.terminate();
      this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }
}

/** Code of the error a worker's error reply rejects with (unless the worker named its own). */
export const WORKER_TASK_FAILED = 'WORKER_TASK_FAILED';

function replyError(name: string, error: { message: string; kind?: string; code?: string }): LakeSoulError {
  const kind = (error.kind ?? 'Internal') as ConstructorParameters<typeof LakeSoulError>[0];
  return new LakeSoulError(kind, error.message, { code: error.code ?? WORKER_TASK_FAILED, context: { pool: name } });
}
