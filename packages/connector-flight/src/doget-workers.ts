/**
 * DoGet streams read on worker threads: each worker (`doget-worker.ts`) runs many streams at once,
 * reading, merging and serializing FlightData there; the server's thread only verifies the ticket,
 * reserves memory and writes the messages it receives to the client. A stream goes to the worker with
 * the fewest running; a stalled client stalls its own stream only (its worker goes on with the others).
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { LakeSoulError, type LakeSoulErrorKind } from '@lakesoul-ts/meta';
import { PARQUET_THREADS_ENV, nativeParquet, workerExecArgv, type StoreRegistryOptions } from '@lakesoul-ts/io';
import type { DoGetRead } from './doget-read.js';
import { FrameBuffers } from './frame-buffers.js';

/** Messages to a DoGet worker. */
export type ToDoGetWorker =
  | { type: 'open'; id: number; read: DoGetRead; stores: StoreRegistryOptions; window: number }
  /** The server's thread took `bytes` of the stream's messages: the worker may send that much more. */
  | { type: 'took'; id: number; bytes: number }
  /** A message's buffer (transferred back), free once gRPC has sent the message: for the next ones. */
  | { type: 'recycle'; buffer: ArrayBuffer }
  | { type: 'cancel'; id: number };

/** Messages from a DoGet worker. */
export type FromDoGetWorker =
  | { type: 'frame'; id: number; frame: Uint8Array }
  | { type: 'end'; id: number }
  | { type: 'error'; id: number; error: { message: string; kind?: LakeSoulErrorKind; code?: string; retryable?: boolean; context?: Record<string, unknown> } };

interface Stream {
  frames: Uint8Array[];
  done: boolean;
  error: unknown;
  wake: (() => void) | null;
}

interface Slot {
  worker: Worker;
  streams: Map<number, Stream>;
}

/** Where the compiled worker script is: next to this module in `dist/`, or `dist/` when this runs from `src/` (tests). */
export function doGetWorkerScript(): URL | null {
  const here = new URL('./doget-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = new URL('../dist/doget-worker.js', import.meta.url);
  return existsSync(fileURLToPath(built)) ? built : null;
}

/** A pool of `size` DoGet worker threads, started on demand. */
export class DoGetWorkers {
  private readonly slots: Slot[] = [];
  /** The worker each message buffer handed out came from, to send it back there (`recycle`). */
  private readonly origin = new WeakMap<ArrayBufferLike, Slot>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly script: URL,
    /** Worker threads at most. */
    readonly size: number,
  ) {}

  /** Worker threads started (and not lost or terminated). */
  get threads(): number {
    return this.slots.length;
  }

  /** Streams running on the workers now. */
  get running(): number {
    return this.slots.reduce((n, s) => n + s.streams.size, 0);
  }

  /**
   * The serialized FlightData of `read`, produced on a worker that reads through a registry built from
   * `stores`, at most `window` bytes ahead of what this generator has handed out. Stopping early (or
   * `signal`) cancels the worker's read.
   */
  async *frames(read: DoGetRead, stores: StoreRegistryOptions, window: number, signal: AbortSignal): AsyncGenerator<Buffer> {
    if (this.closed) throw new LakeSoulError('Aborted', 'the Flight server is closing');
    const slot = this.pick();
    const id = this.nextId++;
    const stream: Stream = { frames: [], done: false, error: null, wake: null };
    slot.streams.set(id, stream);
    if (slot.streams.size === 1) slot.worker.ref();
    const wake = () => { const w = stream.wake; stream.wake = null; w?.(); };
    signal.addEventListener('abort', wake);
    try {
      slot.worker.postMessage({ type: 'open', id, read, stores, window } satisfies ToDoGetWorker);
      for (;;) {
        signal.throwIfAborted();
        const frame = stream.frames.shift();
        if (frame) {
          slot.worker.postMessage({ type: 'took', id, bytes: frame.byteLength } satisfies ToDoGetWorker);
          if (FrameBuffers.adopt(frame)) this.origin.set(frame.buffer, slot);
          yield Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
          continue;
        }
        if (stream.error) throw stream.error;
        if (stream.done) return;
        await new Promise<void>((resolve) => (stream.wake = resolve));
      }
    } finally {
      signal.removeEventListener('abort', wake);
      if (!stream.done && !stream.error) slot.worker.postMessage({ type: 'cancel', id } satisfies ToDoGetWorker);
      slot.streams.delete(id);
      if (slot.streams.size === 0) slot.worker.unref();
    }
  }

  /**
   * Sends the buffer of a message that `frames` handed out back to the worker that wrote it, for its
   * next messages; call once nothing reads the message any more (gRPC has sent it). False when it
   * did not come from a running worker (nothing was done).
   */
  recycle(frame: Uint8Array): boolean {
    const slot = this.origin.get(frame.buffer);
    if (slot === undefined || !this.slots.includes(slot) || !FrameBuffers.owned(frame)) return false;
    this.origin.delete(frame.buffer);
    const buffer = frame.buffer as ArrayBuffer;
    slot.worker.postMessage({ type: 'recycle', buffer } satisfies ToDoGetWorker, [buffer]);
    return true;
  }

  /** Starts the workers not started yet (they load their modules meanwhile); nothing once closed. */
  startAll(): void {
    while (!this.closed && this.slots.length < this.size) this.start();
  }

  /** Terminates the workers; streams still running fail. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const s of slots) this.fail(s, new LakeSoulError('Aborted', 'the Flight server closed'));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  /** The worker with the fewest streams; a new one while fewer than `size` run and all are busy. */
  private pick(): Slot {
    let best: Slot | null = null;
    for (const s of this.slots) if (best === null || s.streams.size < best.streams.size) best = s;
    if (best !== null && (best.streams.size === 0 || this.slots.length >= this.size)) return best;
    return this.start();
  }

  private start(): Slot {
    // With the native codec a worker decodes on libuv's threads, as the server's own reads do (a
    // split's row groups and files decode beside each other and beside the merge), each worker at most
    // its share of the cores at once (libuv's pool, 4 threads by default, is the whole process's: file
    // reads and DNS lookups wait behind decodes there), unless LAKESOUL_PARQUET_THREADS says otherwise;
    // parquet-wasm would start a pool of worker threads per worker, so there the worker decodes on its
    // own thread and the workers are the parallelism.
    const share = String(Math.max(1, Math.floor(availableParallelism() / this.size)));
    const env = nativeParquet() ? { ...process.env, [PARQUET_THREADS_ENV]: process.env[PARQUET_THREADS_ENV] || share } : { ...process.env, [PARQUET_THREADS_ENV]: '0' };
    const worker = new Worker(this.script, { env, execArgv: workerExecArgv() });
    const slot: Slot = { worker, streams: new Map() };
    worker.unref();
    worker.on('message', (m: FromDoGetWorker) => {
      const stream = slot.streams.get(m.id);
      if (!stream) return; // a cancelled stream's late message
      if (m.type === 'frame') stream.frames.push(m.frame);
      else if (m.type === 'end') stream.done = true;
      else stream.error = new LakeSoulError(m.error.kind ?? 'Internal', m.error.message, { code: m.error.code, retryable: m.error.retryable, context: m.error.context });
      const w = stream.wake;
      stream.wake = null;
      w?.();
    });
    const lost = (e: unknown) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      this.fail(slot, new LakeSoulError('Internal', `a DoGet worker thread stopped: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`exit code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  private fail(slot: Slot, error: LakeSoulError): void {
    for (const stream of slot.streams.values()) {
      if (stream.done || stream.error) continue;
      stream.error = error;
      const w = stream.wake;
      stream.wake = null;
      w?.();
    }
  }
}
