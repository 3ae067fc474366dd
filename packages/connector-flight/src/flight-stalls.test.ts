/**
 * Clients that stall must not lock others out: DoPut producers that send a schema and then nothing
 * hold only the writers' share of the memory budget and are ended after `putIdleMs`; Handshakes
 * (read to their end before anything is authenticated) are bounded in number and payload.
 * PGlite catalog, local disk, the project's own gRPC client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { Binary, Field, Int64, Schema, Table, makeVector, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { Lakehouse } from '@lakesoul-ts/io';
import { FlightClient } from './flight-client.js';
import { loadFlightProtocol } from './flight-proto.js';
import { MAX_HANDSHAKES_PER_HOST, MAX_HANDSHAKE_PAYLOAD_BYTES, createFlightServer, type FlightServer } from './flight-server.js';

const MiB = 1024 * 1024;
const schema = new Schema([new Field('id', new Int64(), false)]);
const rows = (n: number) => new Table(schema, { id: makeVector(BigInt64Array.from({ length: n }, (_, i) => BigInt(i))) } as any);

let dir: string;
let lakehouse: Lakehouse;
let server: FlightServer;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flight-stalls-'));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
  await lakehouse.createTable('reads', rows(1000));
  await lakehouse.createTable('writes', schema);
  // 24 MiB of incompressible bytes in one split: its DoGet reservation is over the whole budget (it runs alone)
  const payload = new Schema([new Field('id', new Int64(), false), new Field('b', new Binary(), false)]);
  const big = await lakehouse.createTable('big', payload);
  await big.write(new Table(payload, {
    id: makeVector(BigInt64Array.from({ length: 24 * 1024 }, (_, i) => BigInt(i))),
    b: vectorFromArray(Array.from({ length: 24 * 1024 }, () => randomBytes(1024)), new Binary()),
  } as any));
  // A DoPut reserves 2 x 1 MiB + 2 MiB = 4 MiB; writers may hold half of the 16 MiB budget together.
  server = createFlightServer({
    lakehouse, ticketSecret: 'e2e-flight-stalls-secret-0123456789', memoryBudgetBytes: 16 * MiB, putBufferBytes: MiB,
    maxReceiveMessageBytes: 2 * MiB, maxMessageBytes: MiB, maxBufferedBytes: 2 * MiB, putIdleMs: 3000, getIdleMs: 1000, doGetThreads: 0,
  });
  url = `grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
});

afterAll(async () => {
  await server?.close(2000);
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('stalled Flight clients', () => {
  it('DoPut producers that stop sending hold only the writers\' share of the budget, and are ended after putIdleMs', async () => {
    const client = await FlightClient.connect(url);
    try {
      // a schema, then nothing: four producers would take the whole budget
      const never = async function* (): AsyncGenerator<RecordBatch> { await new Promise(() => {}); };
      const t0 = Date.now();
      const stalled = Array.from({ length: 4 }, () => client.doPut({ cmd: { table: 'writes', expectedRows: 10 } }, never(), { schema }).then(() => null, (e) => e));
      await new Promise((res) => setTimeout(res, 300));
      const read = await client.readAll(await client.getFlightInfo({ path: ['reads'] }));
      expect(read.numRows).toBe(1000);
      expect(Date.now() - t0, 'a read waited for stalled writers').toBeLessThan(2500);
      const outcomes = await Promise.all(stalled);
      for (const e of outcomes) expect(e).toMatchObject({ message: expect.stringContaining('no message from the client for 3 s') });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(3000);
      // nothing was committed, and writing works again
      expect((await client.readAll(await client.getFlightInfo({ path: ['writes'] }))).numRows).toBe(0);
      await client.doPut({ cmd: { table: 'writes' } }, rows(10));
      expect((await client.readAll(await client.getFlightInfo({ path: ['writes'] }))).numRows).toBe(10);
    } finally {
      client.close();
    }
  }, 60_000);

  it('DoPut producers of a few rows reserve little: more of them than the peak reservation would admit write at once, and a writer behind them is not held up', async () => {
    const client = await FlightClient.connect(url);
    try {
      // each may reach 2 x 1 MiB + 2 MiB = 4 MiB; the writers' share is 8 MiB: two at their peak. Three
      // at 1 MiB (and a little more), and the one-row writer, are admitted: each can still reach its
      // 4 MiB once those before it end (the budget admits no more than that, so that growing writers
      // cannot deadlock; a fourth slow producer would leave the one-row writer just short of it)
      const slow = async function* (): AsyncGenerator<RecordBatch> {
        for (let i = 0; i < 8; i++) {
          await new Promise((res) => setTimeout(res, 500));
          yield rows(1).batches[0]!;
        }
      };
      const t0 = Date.now();
      const producers = Array.from({ length: 3 }, () => client.doPut({ cmd: { table: 'writes', expectedRows: 8 } }, slow(), { schema }));
      await new Promise((res) => setTimeout(res, 500));
      const t1 = Date.now();
      await client.doPut({ cmd: { table: 'writes', expectedRows: 1 } }, rows(1));
      expect(Date.now() - t1, 'a one-row write waited for slow producers (4 s each)').toBeLessThan(2500);
      await Promise.all(producers);
      expect(Date.now() - t0, 'the three producers (4 s each) ran in turns').toBeLessThan(7500);
      expect(server.stats.peakReservedBytes).toBeLessThanOrEqual(16 * MiB);
    } finally {
      client.close();
    }
  }, 60_000);

  it('a DoGet whose client stops taking messages is ended after getIdleMs when another stream waits for its memory, and keeps its stream when none does', async () => {
    const client = await FlightClient.connect(url);
    try {
      const info = await client.getFlightInfo({ path: ['big'] });
      expect(info.endpoints).toHaveLength(1);
      const pause = async () => {
        const it = client.doGet(info.endpoints[0]!)[Symbol.asyncIterator]();
        expect((await it.next()).done).toBe(false); // one batch, then nothing taken
        return it;
      };
      // paused with nobody waiting: the stream stays open, and reads on when the client goes on
      const alone = await pause();
      await new Promise((res) => setTimeout(res, 2500));
      let n = 1;
      for (let r = await alone.next(); !r.done; r = await alone.next()) n += r.value.numRows > 0 ? 1 : 0;
      expect(n).toBeGreaterThan(1);
      // paused while another reader waits for the budget: ended after ~getIdleMs, the other one reads
      const ended0 = server.stats.doGetsEndedIdle;
      const paused = await pause();
      await new Promise((res) => setTimeout(res, 200));
      const t0 = Date.now();
      const other = await client.readAll(info);
      expect(other.numRows).toBe(24 * 1024);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(server.stats.doGetsEndedIdle).toBe(ended0 + 1);
      const err = await (async () => { for (let r = await paused.next(); !r.done; r = await paused.next()) { /* drain */ } })().catch((e: unknown) => e);
      // the server's status, not the client's decoding error of the cut stream (which quoted it)
      expect(err).toMatchObject({ code: 'RESOURCE_EXHAUSTED', message: expect.stringMatching(/^Flight DoGet failed \(RESOURCE_EXHAUSTED\): .*took nothing for 1 s while other streams waited for the server's memory/) });
    } finally {
      client.close();
    }
  }, 60_000);

  it('bounds Handshakes: payload size and how many run at once from one host (flight-auth.test.ts: the server-wide bound never keeps a login out)', async () => {
    const { client: Ctor } = loadFlightProtocol();
    const raw = new Ctor(url.replace('grpc://', ''), credentials.createInsecure(), { 'grpc.max_send_message_length': 8 * MiB }) as any;
    const open = (): { call: ClientDuplexStream<any, any>; status: Promise<{ code?: number; details?: string }> } => {
      const call = raw.Handshake(new Metadata()) as ClientDuplexStream<any, any>;
      const status = new Promise<{ code?: number; details?: string }>((res) => {
        call.on('error', (e: any) => res({ code: e.code, details: e.details }));
        call.on('status', (s: any) => res({ code: s.code, details: s.details }));
        call.on('data', () => {});
      });
      return { call, status };
    };
    try {
      const big = open();
      big.call.write({ protocol_version: '0', payload: Buffer.alloc(MAX_HANDSHAKE_PAYLOAD_BYTES + 1) });
      expect((await big.status).details).toMatch(/a handshake carries a token/);

      const stalled = Array.from({ length: MAX_HANDSHAKES_PER_HOST }, () => open());
      for (const h of stalled) h.call.write({ protocol_version: '0', payload: Buffer.from('x') });
      await new Promise((res) => setTimeout(res, 300));
      const extra = open();
      extra.call.end();
      expect((await extra.status).details).toMatch(/4 handshakes without credentials are running from host 127\.0\.0\.1, the limit of one host: finish or cancel them, or retry later/);
      for (const h of stalled) h.call.cancel();
      await Promise.all(stalled.map((h) => h.status));
      await new Promise((res) => setTimeout(res, 100));
      const fine = open();
      fine.call.end();
      expect((await fine.status).code).toBe(0);
    } finally {
      raw.close();
    }
  }, 60_000);
});
