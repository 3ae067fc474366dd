/**
 * DoPut memory reservations never deadlock: a writer alone never waits on its own reservation, and
 * concurrent writers whose peaks do not fit the writers' share together run (some after others)
 * instead of each holding part of it and waiting for the others. The budget's safe-state invariant
 * (byte-budget.ts) is checked directly too. PGlite catalog, local disk, the project's grpc-js client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Int64, Schema, Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { Lakehouse } from '@lakesoul-ts/io';
import { FlightClient } from './flight-client.js';
import { createFlightServer, type FlightServer } from './flight-server.js';
import { ByteBudget } from './byte-budget.js';

const MiB = 1024 * 1024;
const schema = new Schema([new Field('id', new Int64(), false), new Field('s', new Utf8(), true)]);
/** ~`mb` MB of 600-character strings in batches of 1000 rows (one FlightData message of ~600 KB each). */
function strings(mb: number, from = 0): Table {
  const n = Math.floor((mb * 1e6) / 600);
  const ids = Array.from({ length: n }, (_, i) => from + i);
  const t = new Table(schema, {
    id: makeVector(BigInt64Array.from(ids, BigInt)),
    s: vectorFromArray(ids.map((i) => String(i).padStart(6, '0').repeat(100)), new Utf8()),
  } as any);
  const batches = [];
  for (let i = 0; i < n; i += 1000) batches.push(...t.slice(i, Math.min(n, i + 1000)).batches);
  return new Table(batches);
}

let dir: string;
let lakehouse: Lakehouse;
let server: FlightServer;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flight-doput-mem-'));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
  await lakehouse.createTable('t', schema);
  // `serve --memory-budget 64 --memory-wait 5`: the writers' share is 32 MiB, under the 128 MiB a
  // writer with the default 32 MiB file buffer and 64 MiB receive limit may reach
  server = createFlightServer({ lakehouse, ticketSecret: 'flight-doput-memory-secret-0123456789', memoryBudgetBytes: 64 * MiB, memoryWaitMs: 5000, doGetThreads: 0 });
  url = `grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
});

afterAll(async () => {
  await server?.close(2000);
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('DoPut memory reservations', () => {
  it('a writer alone on an idle server never waits on its own reservation (20 MB into a 64 MiB budget)', async () => {
    const client = await FlightClient.connect(url);
    try {
      const data = strings(20);
      const t0 = Date.now();
      const r = await client.doPut({ cmd: { table: 't', expectedRows: data.numRows } }, data);
      expect((r.json as { rows: number }).rows).toBe(data.numRows);
      expect(Date.now() - t0, 'the writer waited (for itself)').toBeLessThan(5000);
      // the writers' share is the bound of what DoPuts reserve
      expect(server.stats.peakReservedBytes).toBeLessThanOrEqual(32 * MiB);
      expect(server.stats.activeStreams).toBe(0);
    } finally {
      client.close();
    }
  }, 60_000);

  it('concurrent writers whose peaks exceed the writers\' share together all commit (no deadlock)', async () => {
    const client = await FlightClient.connect(url);
    try {
      const before = (await client.readAll(await client.getFlightInfo({ path: ['t'] }))).numRows;
      const tables = [0, 1, 2, 3].map((k) => strings(12, 1e7 * (k + 1)));
      const t0 = Date.now();
      const outcomes = await Promise.all(tables.map((data) => client.doPut({ cmd: { table: 't', expectedRows: data.numRows } }, data).then((r) => (r.json as { rows: number }).rows, (e: Error) => e.message)));
      expect(outcomes).toEqual(tables.map((t) => t.numRows));
      expect(Date.now() - t0).toBeLessThan(30_000);
      expect(server.stats.peakReservedBytes).toBeLessThanOrEqual(64 * MiB); // the reads' reservations included
      const after = (await client.readAll(await client.getFlightInfo({ path: ['t'] }))).numRows;
      expect(after - before).toBe(tables.reduce((n, t) => n + t.numRows, 0));
    } finally {
      client.close();
    }
  }, 120_000);
});

describe('ByteBudget', () => {
  const wait = { timeoutMs: 200, what: 'test stream' };

  it('the only holder grows without waiting, also past what others could get', async () => {
    const b = new ByteBudget(100);
    const r = await b.reserve(1, { ...wait, claim: 100 });
    for (let i = 0; i < 10; i++) await r.grow(10, wait);
    expect(r.held).toBe(100);
    await r.grow(10, wait); // beyond the claim: nothing more is reserved
    expect(b.reserved).toBe(100);
    r.release();
    expect(b.reserved).toBe(0);
  });

  it('admits a writer only while every writer can still reach its claim, so growing writers cannot deadlock', async () => {
    const b = new ByteBudget(100);
    const a = await b.reserve(1, { ...wait, claim: 60 });
    await a.grow(40, wait); // a holds 41, needs 19 more
    const c = await b.reserve(1, { ...wait, claim: 60 }); // free 58 after: a can finish, then c
    const d = await b.reserve(1, { ...wait, claim: 30 }); // free 57: a (19), then d and c can finish
    // growing c by 40 would leave 17 free, less than what a and c each still need (19): it waits
    let grown = false;
    const cGrow = c.grow(40, { ...wait, timeoutMs: 5000 }).then(() => { grown = true; });
    await new Promise((res) => setTimeout(res, 20));
    expect(grown, 'c grew into the memory a needs to finish').toBe(false);
    await a.grow(19, wait); // a reaches its claim without waiting
    a.release();
    await cGrow;
    expect(grown).toBe(true);
    c.release();
    d.release();
    expect(b.reserved).toBe(0);
  });

  it('a timed-out wait says how much other streams hold and how much this one holds', async () => {
    const b = new ByteBudget(100);
    const other = await b.reserve(75, wait);
    const mine = await b.reserve(10, { ...wait, claim: 30 });
    const err = await mine.grow(20, wait).catch((e: Error) => e);
    expect(String((err as Error).message)).toMatch(/stayed in use by 1 other stream \(75 bytes\) for 200 ms; this stream holds 10 bytes of it and needed 20 more/);
    expect((err as { code?: string }).code).toBe('RESOURCE_EXHAUSTED');
    other.release();
    mine.release();
  });

  it('many writers growing at random in a small budget all finish', async () => {
    const b = new ByteBudget(64);
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const writer = async () => {
      const r = await b.reserve(1, { timeoutMs: 10_000, what: 'w', claim: 40 });
      while (r.held < 40) {
        await r.grow(1 + Math.floor(rand() * 6), { timeoutMs: 10_000, what: 'w' });
        await new Promise((res) => setTimeout(res, rand() * 3));
      }
      r.release();
    };
    await Promise.all(Array.from({ length: 12 }, writer));
    expect(b.reserved).toBe(0);
    expect(b.peak).toBeLessThanOrEqual(64);
  });
});
