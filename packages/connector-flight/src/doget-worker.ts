/**
 * Entry point of a DoGet worker thread (see `doget-workers.ts`): runs any number of DoGet reads at
 * once, each reading its split, merging and serializing FlightData here, and posts the messages to
 * the server's thread (buffers transferred), never more than its window ahead of what that thread
 * took. The server's thread sends each message's buffer back once gRPC has sent it, and the next
 * messages are written into those (`FrameBuffers`). Parquet is decoded on libuv's threads with the
 * native codec (the process-wide pool's bound per thread), else on this thread (see `DoGetWorkers`).
 */
import { parentPort } from 'node:worker_threads';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { StoreRegistry, type StoreRegistryOptions } from '@lakesoul-ts/io';
import { doGetFrames } from './doget-read.js';
import { FRAME_HEADROOM, FrameBuffers } from './frame-buffers.js';
import type { ToDoGetWorker, FromDoGetWorker } from './doget-workers.js';

const port = parentPort;
if (!port) throw new Error('doget-worker.js runs in a worker thread (see DoGetWorkers)');

interface Session {
  controller: AbortController;
  /** Bytes posted and not yet taken by the server's thread. */
  ahead: number;
  wake: (() => void) | null;
}

const sessions = new Map<number, Session>();
/** Message buffers the server's thread sent back, for this thread's next messages (all streams). */
const buffers = new FrameBuffers();
/** One registry per distinct configuration, so reads of a bucket share one S3 client. */
const registries = new Map<string, StoreRegistry>();

function registry(options: StoreRegistryOptions): StoreRegistry {
  const key = JSON.stringify(options);
  let r = registries.get(key);
  if (!r) registries.set(key, (r = new StoreRegistry(options)));
  return r;
}

function post(message: FromDoGetWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

/**
 * `frame` where its ArrayBuffer is its own to transfer (from `buffers`, or exactly its size), else a
 * copy (a small Buffer is a view into Node's shared pool).
 */
function ownBuffer(frame: Buffer): Uint8Array {
  return FrameBuffers.owned(frame) || (frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength) ? frame : new Uint8Array(frame);
}

async function run(id: number, message: Extract<ToDoGetWorker, { type: 'open' }>): Promise<void> {
  const s: Session = { controller: new AbortController(), ahead: 0, wake: null };
  sessions.set(id, s);
  const { signal } = s.controller;
  try {
    for await (const frame of doGetFrames(message.read, registry(message.stores), signal, buffers)) {
      const out = ownBuffer(frame);
      s.ahead += out.byteLength;
      post({ type: 'frame', id, frame: out }, [out.buffer as ArrayBuffer]);
      // at most `window` bytes ahead of the server's thread (one message may always be)
      while (s.ahead > 0 && s.ahead + message.read.maxMessageBytes > message.window && !signal.aborted) {
        await new Promise<void>((resolve) => (s.wake = resolve));
      }
      signal.throwIfAborted();
    }
    post({ type: 'end', id });
  } catch (e) {
    if (!signal.aborted) post({ type: 'error', id, error: errorFields(e) });
  } finally {
    sessions.delete(id);
  }
}

function errorFields(e: unknown): Extract<FromDoGetWorker, { type: 'error' }>['error'] {
  if (e instanceof LakeSoulError) {
    // context values that cross threads: plain ones only
    const context = Object.fromEntries(Object.entries(e.context).filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v)));
    return { message: e.message, kind: e.kind, code: e.code, retryable: e.retryable, context };
  }
  return { message: e instanceof Error ? e.message : String(e) };
}

port.on('message', (m: ToDoGetWorker) => {
  switch (m.type) {
    case 'open':
      void run(m.id, m);
      return;
    case 'took': {
      const s = sessions.get(m.id);
      if (!s) return;
      s.ahead -= m.bytes;
      s.wake?.();
      s.wake = null;
      return;
    }
    case 'recycle':
      buffers.release(new Uint8Array(m.buffer, FRAME_HEADROOM));
      return;
    case 'cancel': {
      const s = sessions.get(m.id);
      if (!s) return;
      s.controller.abort(new LakeSoulError('Aborted', 'DoGet cancelled'));
      s.wake?.();
      s.wake = null;
    }
  }
});
