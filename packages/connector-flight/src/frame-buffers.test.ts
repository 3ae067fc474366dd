import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { Binary, Field, Int64, Schema, Table, makeVector, vectorFromArray, type RecordBatch } from 'apache-arrow';
import type { Lakehouse } from '@lakesoul-ts/io';
import { FrameBuffers, MIN_POOLED_FRAME_BYTES } from './frame-buffers.js';
import type { FlightServer } from './flight-server.js';
import type { FlightClient } from './flight-client.js';
import { startFlightFixture, type FlightFixture } from './test-support/flight-fixture.js';

describe('FrameBuffers', () => {
  it('gives a released buffer to the next message that fits, the smallest that fits first', () => {
    const pool = new FrameBuffers(2);
    const big = pool.take(300_000);
    const small = pool.take(100_000);
    expect(big.byteLength).toBe(300_000);
    expect(pool.release(big)).toBe(true);
    expect(pool.release(small)).toBe(true);
    const again = pool.take(90_000);
    expect(again.buffer).toBe(small.buffer); // not the 300 kB one
    expect(again.byteLength).toBe(90_000);
    expect(pool.take(250_000).buffer).toBe(big.buffer);
    expect(pool.size).toBe(0);
    expect(pool.take(400_000).buffer).not.toBe(big.buffer); // none fits: a new one
  });

  it('keeps at most maxFree, and never a small message, a view into shared memory or a transferred buffer', () => {
    const pool = new FrameBuffers(1);
    const tiny = pool.take(100);
    expect(tiny.byteLength).toBe(100);
    expect(pool.release(tiny)).toBe(false); // Node's shared pool: others' bytes live next to it
    const shared = Buffer.allocUnsafeSlow(4 * MIN_POOLED_FRAME_BYTES);
    expect(pool.release(shared.subarray(MIN_POOLED_FRAME_BYTES))).toBe(false); // not from the start of its memory
    const moved = pool.take(MIN_POOLED_FRAME_BYTES);
    structuredClone(moved.buffer, { transfer: [moved.buffer as ArrayBuffer] }); // detaches it here
    expect(pool.release(moved)).toBe(false);
    expect(pool.release(pool.take(MIN_POOLED_FRAME_BYTES))).toBe(true);
    expect(pool.release(pool.take(2 * MIN_POOLED_FRAME_BYTES))).toBe(false); // already holds maxFree
    expect(pool.size).toBe(1);
  });
});

describe('a Flight server using message buffers again', () => {
  const schema = new Schema([new Field('id', new Int64(), false), new Field('blob', new Binary(), false)]);
  let fixture: FlightFixture;
  let lakehouse: Lakehouse;
  let server: FlightServer;
  let client: FlightClient;

  /** A digest of rows in key order: equal for equal contents whatever the batching. */
  function digest(batches: RecordBatch[]): string {
    const rows: [bigint, Uint8Array][] = [];
    for (const b of batches) for (let i = 0; i < b.numRows; i++) rows.push([b.getChild('id')!.get(i) as bigint, b.getChild('blob')!.get(i) as Uint8Array]);
    rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const h = createHash('sha256');
    for (const [id, blob] of rows) h.update(`${id}:`).update(blob);
    return `${rows.length}:${h.digest('hex')}`;
  }

  beforeAll(async () => {
    // messages of ~256 kB (several per split), one stream on this thread and the others on 2 workers
    fixture = await startFlightFixture('frame-buffers', async (lh) => {
      const t = await lh.createTable('t', schema, { primaryKeys: ['id'], hashBucketNum: 4 });
      const rows = (ids: number[]) => new Table(schema, {
        id: makeVector(BigInt64Array.from(ids, BigInt)),
        blob: vectorFromArray(ids.map(() => randomBytes(200 + (ids.length % 300))), new Binary()),
      } as any);
      await t.write(rows(Array.from({ length: 24_000 }, (_, i) => i)));
      await t.write(rows(Array.from({ length: 4000 }, (_, i) => i * 5))); // merge-on-read: the upsert wins
    }, { maxMessageBytes: 256 * 1024, doGetThreads: 2, maxDoGetsOnServerThread: 1 });
    ({ lakehouse, server, client } = fixture);
  });

  afterAll(() => fixture?.close());

  it('streams the same rows as an in-process read, DoGet after DoGet, on its thread and on the workers', async () => {
    const t = await lakehouse.table('t');
    const plan = await t.scan();
    const expected = await Promise.all(plan.splits.map(async (s) => { const out: RecordBatch[] = []; for await (const b of plan.readSplit(s)) out.push(b); return digest(out); }));
    const info = await client.getFlightInfo({ path: ['t'] });
    expect(info.endpoints).toHaveLength(plan.splits.length);
    for (let round = 0; round < 4; round++) {
      // all endpoints at once: written into buffers the previous messages (of any stream) left
      const got = await Promise.all(info.endpoints.map(async (e) => { const out: RecordBatch[] = []; for await (const b of client.doGet(e)) out.push(b); return digest(out); }));
      expect(got, `round ${round}`).toEqual(expected);
    }
    expect(server.stats.doGetOnWorkers).toBeGreaterThan(0);
    expect(server.stats.messagesSent).toBeGreaterThan(16 * plan.splits.length);
    expect(server.stats.messageBuffersReused).toBeGreaterThan(server.stats.messagesSent / 2);
  });
});
