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
import { Field, Int64, Schema, Table, makeVector, type RecordBatch } from 'apache-arrow';
import { Lakehouse } from '@lakesoul-ts/io';
import { FlightClient } from './flight-client.js';
import { loadFlightProtocol } from './flight-proto.js';
import { MAX_CONCURRENT_HANDSHAKES, MAX_HANDSHAKE_PAYLOAD_BYTES, createFlightServer, type FlightServer } from './flight-server.js';

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
  // A DoPut reserves 2 x 1 MiB + 2 MiB = 4 MiB; writers may hold half of the 16 MiB budget together.
  server = createFlightServer({
    lakehouse, ticketSecret: 'e2e-flight-stalls-secret-0123456789', memoryBudgetBytes: 16 * MiB, putBufferBytes: MiB,
    maxReceiveMessageBytes: 2 * MiB, maxMessageBytes: MiB, putIdleMs: 3000, doGetThreads: 0,
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

  it('bounds Handshakes: payload size and how many run at once', async () => {
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

      const stalled = Array.from({ length: MAX_CONCURRENT_HANDSHAKES }, () => open());
      for (const h of stalled) h.call.write({ protocol_version: '0', payload: Buffer.from('x') });
      await new Promise((res) => setTimeout(res, 300));
      const extra = open();
      extra.call.end();
      expect((await extra.status).details).toMatch(/handshakes are running: retry later/);
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
