/**
 * Readers that stop reading cannot hold every stream slot: with all `maxConcurrentStreams` slots held
 * by DoGets whose clients take nothing, a stream refused for the limit ends the one idle the longest
 * (once idle for `getIdleMs`) and takes its slot. PGlite catalog, local disk, the project's client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Binary, Field, Int64, Schema, Table, makeVector, vectorFromArray } from 'apache-arrow';
import { Lakehouse } from '@lakesoul-ts/io';
import { Metadata, credentials, status } from '@grpc/grpc-js';
import { FlightClient } from './flight-client.js';
import { loadFlightProtocol } from './flight-proto.js';
import { createFlightServer, type FlightServer } from './flight-server.js';

const MiB = 1024 * 1024;
const ROWS = 16 * 1024;
/** getIdleMs: wide enough that the reads below come before it on a loaded machine. */
const IDLE_MS = 3000;

let dir: string;
let lakehouse: Lakehouse;
let server: FlightServer;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flight-idle-slots-'));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
  // 16 MiB of incompressible bytes in one split: a reader that stops stalls the server's writes
  const payload = new Schema([new Field('id', new Int64(), false), new Field('b', new Binary(), false)]);
  const big = await lakehouse.createTable('big', payload);
  await big.write(new Table(payload, {
    id: makeVector(BigInt64Array.from({ length: ROWS }, (_, i) => BigInt(i))),
    b: vectorFromArray(Array.from({ length: ROWS }, () => randomBytes(1024)), new Binary()),
  } as any));
  server = createFlightServer({
    lakehouse, ticketSecret: 'flight-idle-slots-secret-0123456789', maxConcurrentStreams: 2,
    maxMessageBytes: MiB, maxBufferedBytes: 2 * MiB, getIdleMs: IDLE_MS, doGetThreads: 0,
  });
  url = `grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
});

afterAll(async () => {
  await server?.close(2000);
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('paused readers and the stream limit', () => {
  it('a stream refused for the limit ends the longest-idle paused DoGet (after getIdleMs) and takes its slot', async () => {
    const client = await FlightClient.connect(url);
    const { client: Ctor } = loadFlightProtocol();
    const raw = new Ctor(url.replace('grpc://', ''), credentials.createInsecure()) as any;
    try {
      const info = await client.getFlightInfo({ path: ['big'] });
      expect(info.endpoints).toHaveLength(1);
      // a raw DoGet that takes one message, then nothing (its stream paused): the server's writes stall
      const pause = async () => {
        const call = raw.DoGet({ ticket: info.endpoints[0]!.ticket }, new Metadata());
        let messages = 0;
        const status = new Promise<{ code?: number; details?: string; messages: number }>((res) => {
          call.on('error', (e: any) => res({ code: e.code, details: e.details, messages }));
          call.on('end', () => res({ code: 0, messages }));
        });
        await new Promise<void>((res) => call.once('data', () => { messages++; call.pause(); res(); }));
        call.on('data', () => { messages++; });
        return { call, status };
      };
      const pausedAt = Date.now();
      const first = await pause();
      await new Promise((res) => setTimeout(res, 100));
      const second = await pause();
      // both slots held by readers paused for less than getIdleMs: refused, nothing ended
      const ended0 = server.stats.doGetsEndedIdle;
      await expect(client.readAll(info)).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED', message: expect.stringContaining('limit of 2 concurrent streams') });
      expect(server.stats.doGetsEndedIdle).toBe(ended0);
      // reads refused until the first paused reader has taken nothing for getIdleMs (when that
      // moment is counted from depends on the server's writes stalling: polled, not timed); then it
      // is ended, and the read gets its slot
      let read: Table | undefined;
      for (const deadline = Date.now() + 8 * IDLE_MS; !read;) {
        read = await client.readAll(info).catch((e: unknown) => {
          if (Date.now() > deadline || (e as { code?: string }).code !== 'RESOURCE_EXHAUSTED') throw e;
          return undefined;
        });
        if (!read) await new Promise((res) => setTimeout(res, 250));
      }
      expect(Date.now() - pausedAt).toBeGreaterThanOrEqual(IDLE_MS);
      expect(read.numRows).toBe(ROWS);
      expect(server.stats.doGetsEndedIdle).toBe(ended0 + 1);
      first.call.resume();
      const e = await first.status;
      expect(e.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(e.details).toMatch(/took nothing for [\d.]+ s while other streams were refused for the server's limit of 2 concurrent streams: the stream was ended to give its slot back; read the endpoint again/);
      // the other paused reader kept its stream and reads to the end
      second.call.resume();
      expect(await second.status).toMatchObject({ code: 0 });
    } finally {
      raw.close();
      client.close();
    }
  }, 60_000);
});
