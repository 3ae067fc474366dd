/**
 * Entry point of a Parquet worker thread (see `parquet-pool.ts`): decodes Parquet to Arrow IPC and
 * encodes Arrow IPC to Parquet with parquet-wasm, replying with the result's buffer transferred.
 */
import { parentPort } from 'node:worker_threads';
import { decodeToIPC, encodeFromIPC } from '../parquet/parquet-wasm-ops.js';
import type { ParquetTask } from './parquet-pool.js';
import type { WorkerEnvelope, WorkerReplyEnvelope } from './worker-pool.js';

const port = parentPort;
if (!port) throw new Error('parquet-worker.js runs in a worker thread (see WorkerPool)');

port.on('message', async ({ id, request }: WorkerEnvelope<ParquetTask>) => {
  try {
    const out = request.op === 'decode' ? await decodeToIPC(request) : encodeFromIPC(request);
    port.postMessage({ id, ok: true, reply: out } satisfies WorkerReplyEnvelope<Uint8Array>, [out.buffer as ArrayBuffer]);
  } catch (e) {
    port.postMessage({ id, ok: false, error: { message: e instanceof Error ? e.message : String(e) } } satisfies WorkerReplyEnvelope<Uint8Array>);
  }
});
