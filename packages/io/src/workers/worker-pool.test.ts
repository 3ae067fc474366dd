import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { WorkerPool, WORKER_TASK_FAILED } from './worker-pool.js';
import { createParquetPool, parquetWorkerScript, type ParquetPool } from './parquet-pool.js';
import { decodeParquet, encodeParquet, encodeParquetInPool } from '../parquet/parquet-codec.js';
import { PARQUET_CODEC_ENV } from '../native/native-addon.js';

// A worker speaking the pool's envelope: doubles `n`, sleeps `ms` first, fails on 'fail', dies on 'crash'.
const TEST_WORKER = `
import { parentPort } from 'node:worker_threads';
parentPort.on('message', async ({ id, request }) => {
  if (request.ms) await new Promise((r) => setTimeout(r, request.ms));
  if (request.op === 'crash') process.exit(3);
  if (request.op === 'fail') return parentPort.postMessage({ id, ok: false, error: { message: 'bad request ' + request.n } });
  parentPort.postMessage({ id, ok: true, reply: { n: request.n * 2, thread: (await import('node:worker_threads')).threadId } });
});
`;

interface TestReq { op?: 'crash' | 'fail'; n: number; ms?: number }
interface TestRes { n: number; thread: number }

let dir: string;
let script: URL;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'worker-pool-'));
  writeFileSync(join(dir, 'w.mjs'), TEST_WORKER);
  script = pathToFileURL(join(dir, 'w.mjs'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function withPool(pool: WorkerPool<TestReq, TestRes>, body: (pool: WorkerPool<TestReq, TestRes>) => Promise<void>): Promise<void> {
  try {
    await body(pool);
  } finally {
    await pool.close();
  }
}

describe('WorkerPool', () => {
  it('runs requests on up to `size` workers at once and answers each with its own reply', () => withPool(new WorkerPool<TestReq, TestRes>(script, { size: 2 }), async (pool) => {
    const replies = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => pool.run({ n, ms: 30 })));
    expect(replies.map((r) => r.n)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(new Set(replies.map((r) => r.thread)).size).toBe(2);
    expect(pool.workers).toBe(2);
    expect(pool.pending).toBe(0);
  }));

  it('bounds the waiting requests: run() waits for a place once maxQueued wait', () => withPool(new WorkerPool<TestReq, TestRes>(script, { size: 1, maxQueued: 2 }), async (pool) => {
    let peak = 0;
    const all: Promise<TestRes>[] = [];
    for (let n = 0; n < 6; n++) {
      // A run() beyond the bound only queues once a place frees: the pending count stays bounded.
      all.push(pool.run({ n, ms: 10 }));
      await new Promise((r) => setImmediate(r));
      peak = Math.max(peak, pool.pending);
    }
    expect((await Promise.all(all)).map((r) => r.n)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(peak).toBeLessThanOrEqual(3);
  }));

  it('aborting a waiting request removes it; aborting a running one rejects at once', () => withPool(new WorkerPool<TestReq, TestRes>(script, { size: 1 }), async (pool) => {
    const running = new AbortController();
    const waiting = new AbortController();
    const a = pool.run({ n: 1, ms: 300 }, { signal: running.signal });
    const b = pool.run({ n: 2 }, { signal: waiting.signal });
    waiting.abort();
    await expect(b).rejects.toMatchObject({ kind: 'Aborted' });
    expect(pool.pending).toBe(1);
    const t0 = performance.now();
    running.abort();
    await expect(a).rejects.toMatchObject({ kind: 'Aborted' });
    expect(performance.now() - t0).toBeLessThan(250);
    // the worker finishes and serves the next request
    expect((await pool.run({ n: 5 })).n).toBe(10);
    await expect(pool.run({ n: 1 }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ kind: 'Aborted' });
  }));

  it("turns a worker's error reply into a LakeSoulError and replaces a crashed worker", () => withPool(new WorkerPool<TestReq, TestRes>(script, { size: 1, name: 'test worker' }), async (pool) => {
    const failed = await pool.run({ op: 'fail', n: 7 }).catch((e: unknown) => e);
    expect(LakeSoulError.is(failed, 'Internal')).toBe(true);
    expect(failed).toMatchObject({ code: WORKER_TASK_FAILED, message: 'bad request 7' });
    const crashed = await pool.run({ op: 'crash', n: 1 }).catch((e: unknown) => e);
    expect(crashed).toMatchObject({ kind: 'Internal' });
    expect(String((crashed as Error).message)).toMatch(/test worker thread failed: exited with code 3/);
    expect((await pool.run({ n: 4 })).n).toBe(8);
  }));

  it('close() rejects what waits and refuses later requests', async () => {
    const pool = new WorkerPool<TestReq, TestRes>(script, { size: 1 });
    const a = pool.run({ n: 1, ms: 200 }).catch((e: unknown) => e);
    const b = pool.run({ n: 2 }).catch((e: unknown) => e);
    await pool.close();
    expect(await a).toMatchObject({ kind: 'Aborted' });
    expect(await b).toMatchObject({ kind: 'Aborted' });
    await expect(pool.run({ n: 3 })).rejects.toThrow(/closed/);
    expect(pool.workers).toBe(0);
  });
});

describe('Parquet pool (worker threads: parquet-wasm, also on the calling thread)', () => {
  const N = 50_000;
  const table = new Table({
    id: makeVector(BigInt64Array.from({ length: N }, (_, i) => BigInt(i))),
    name: vectorFromArray(Array.from({ length: N }, (_, i) => (i % 7 === 0 ? null : `name-${i}`)), new Utf8()),
    score: makeVector(Float64Array.from({ length: N }, (_, i) => i / 3)),
  });
  let pool: ParquetPool;
  beforeAll(() => {
    expect(parquetWorkerScript(), 'the worker script is built (pnpm turbo run build)').not.toBeNull();
    pool = createParquetPool({ size: 2 });
    process.env[PARQUET_CODEC_ENV] = 'wasm';
  });
  afterAll(async () => {
    delete process.env[PARQUET_CODEC_ENV];
    await pool.close();
  });

  it('decodes and encodes the same as the calling thread, with projection and row groups', async () => {
    const bytes = encodeParquet(table, { rowGroupSize: 10_000 });
    const inPool = await encodeParquetInPool(table, pool, { rowGroupSize: 10_000 });
    expect(Buffer.from(inPool).equals(Buffer.from(bytes))).toBe(true);
    for (const opts of [{}, { columns: ['score', 'id'] }, { rowGroups: [1, 3] }, { columns: ['name'], rowGroups: [4] }]) {
      const here = await decodeParquet(bytes, opts);
      const there = await decodeParquet(bytes, { ...opts, pool });
      expect(there.schema.fields.map((f) => f.name)).toEqual(here.schema.fields.map((f) => f.name));
      expect(there.numRows).toBe(here.numRows);
      for (const f of here.schema.fields) expect(there.getChild(f.name)!.toArray()).toEqual(here.getChild(f.name)!.toArray());
    }
    // the caller's bytes stay intact unless it gives them up
    await decodeParquet(bytes, { pool });
    expect(bytes.byteLength).toBeGreaterThan(0);
    const given = bytes.slice();
    await decodeParquet(given, { pool, transferBytes: true });
    expect(given.byteLength).toBe(0);
  });

  it('moves pieces that are Node Buffers over one memory (as S3 responses are) without detaching views the caller keeps', async () => {
    const bytes = encodeParquet(table, { rowGroupSize: 10_000 });
    // The file's head and the rest as two Buffers over one ArrayBuffer, plus a Buffer view of the tail
    // that the caller keeps for a later decode: a Buffer's slice() is a view, not a copy.
    const shared = Buffer.from(bytes);
    const head = shared.subarray(0, 4);
    const rest = shared.subarray(4);
    const kept = shared.subarray(bytes.length - 4096);
    const sparse = () => ({ size: bytes.length, pieces: [{ offset: 0, bytes: head.slice() }, { offset: 4, bytes: rest.slice() }] });
    for (let round = 0; round < 2; round++) {
      const t = await decodeParquet(sparse(), { pool, transferBytes: true, rowGroups: [round] });
      expect(t.numRows).toBe(10_000);
      expect(t.getChild('id')!.get(0)).toBe(BigInt(round * 10_000));
    }
    expect(kept.byteLength).toBe(4096);
  });

  it('reports a corrupt file decoded on a worker as an Io error naming the file', async () => {
    const bytes = encodeParquet(table, { rowGroupSize: 10_000 });
    bytes.fill(7, 1000, 20_000);
    const e = await decodeParquet(bytes, { pool, file: 'part-bad.parquet' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ kind: 'Io', code: 'CORRUPT_FILE', context: { file: 'part-bad.parquet' } });
    expect(String((e as Error).message)).toContain('part-bad.parquet');
  });

  it('an idle shared pool does not keep a process alive', async () => {
    const dist = new URL('../../dist/index.js', import.meta.url).href;
    const code = `
      const io = await import(${JSON.stringify(dist)});
      const { Table, makeVector } = await import('apache-arrow');
      const t = new Table({ id: makeVector(BigInt64Array.from([1n, 2n, 3n])) });
      const pool = io.sharedParquetPool();
      if (!pool) throw new Error('no shared pool');
      const back = await io.decodeParquet(io.encodeParquet(t), { pool });
      console.log(back.numRows, pool.workers);`;
    const t0 = performance.now();
    const env = { ...process.env, [PARQUET_CODEC_ENV]: 'wasm' };
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], { cwd: new URL('../..', import.meta.url).pathname, timeout: 60_000, env });
    expect(stdout.trim()).toBe('3 1');
    // it exits right after its work (a kept-alive worker would hold it until the 60 s timeout)
    expect(performance.now() - t0).toBeLessThan(30_000);
  });
});
