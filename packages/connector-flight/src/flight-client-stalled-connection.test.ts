/**
 * FlightClient.doGet over a connection that dies or stalls in the middle of a message (a TCP proxy
 * in front of a raw grpc-js server that cuts or stops forwarding the server's bytes): a connection
 * closed mid-message fails at once (UNAVAILABLE, retryable); one that stalls without closing held the
 * read forever, and `idleTimeoutMs` bounds the wait (`Io`, retryable, naming the ticket). Neither
 * leaves a timer or the client's socket behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, connect, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { Server, ServerCredentials, type ServerWritableStream } from '@grpc/grpc-js';
import { Field, Int32, Schema, Table, makeVector } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { FlightClient } from './flight-client.js';
import { loadFlightProtocol, type FlightDataMessage, type TicketMessage } from './flight-proto.js';
import { batchToFlightData, schemaToFlightData } from './ipc-framing.js';

const schema = new Schema([new Field('x', new Int32(), false)]);
/** 40 batches of 50,000 rows (200 KB each): 8 MB the proxy cuts or stalls in the middle of. */
const BATCHES = 40;
const ROWS = 50_000;
/** Server bytes the proxy forwards on a connection before it cuts or stalls it (the handshake is < 1 KB). */
const FORWARDED_BYTES = 1_000_000;

/** What the proxy does past {@link FORWARDED_BYTES}. */
let mode: 'cut' | 'stall' = 'cut';
/** Per connection: the socket the client connected to, and whether it was closed. */
const connections: { client: Socket; upstream: Socket; closed: Promise<void> }[] = [];
let server: Server;
let proxy: NetServer;
let url: string;

beforeAll(async () => {
  const { service } = loadFlightProtocol();
  server = new Server();
  server.addService(service, {
    DoGet: (call: ServerWritableStream<TicketMessage, FlightDataMessage>) => {
      call.on('error', () => undefined);
      const batch = (k: number) => batchToFlightData(new Table(schema, { x: makeVector(Int32Array.from({ length: ROWS }, (_, i) => k * ROWS + i)) }).batches[0]!, 1 << 20)[0]!;
      call.write(schemaToFlightData(schema));
      for (let k = 0; k < BATCHES; k++) call.write(batch(k));
      call.end();
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  proxy = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    connections.push({ client, upstream, closed });
    let forwarded = 0;
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    client.on('data', (d) => upstream.write(d));
    client.on('close', () => upstream.destroy());
    upstream.on('data', (d) => {
      if (forwarded + d.byteLength > FORWARDED_BYTES) {
        // the part of this chunk up to the bound, then: the connection dies, or nothing more comes
        client.write(d.subarray(0, FORWARDED_BYTES - forwarded));
        forwarded = FORWARDED_BYTES;
        if (mode === 'cut') { client.destroy(); upstream.destroy(); } else upstream.pause();
        return;
      }
      forwarded += d.byteLength;
      client.write(d);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  url = `grpc://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(() => {
  for (const c of connections) { c.client.destroy(); c.upstream.destroy(); }
  proxy?.close();
  server?.forceShutdown();
});

/** The rows a doGet yields and the error it ends with, or 'pending' when it has not ended within `ms`. */
async function read(client: FlightClient, options: Parameters<FlightClient['doGet']>[1], ms: number): Promise<{ rows: number; error: unknown; ms: number } | 'pending'> {
  let rows = 0;
  const t0 = Date.now();
  const done = (async () => {
    try {
      for await (const b of client.doGet(Buffer.from('stream-8mb'), options)) rows += b.numRows;
      return { rows, error: null, ms: Date.now() - t0 };
    } catch (e) {
      return { rows, error: e, ms: Date.now() - t0 };
    }
  })();
  return Promise.race([done, new Promise<'pending'>((resolve) => { setTimeout(() => resolve('pending'), ms).unref(); })]);
}

/** This process' timers (what would keep it alive, with sockets). */
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('FlightClient.doGet over a connection that dies or stalls mid-message', () => {
  it('a connection closed in the middle of a message fails at once, UNAVAILABLE and retryable', async () => {
    mode = 'cut';
    const before = timers();
    const client = await FlightClient.connect(url);
    try {
      const r = await read(client, {}, 10_000);
      expect(r).not.toBe('pending');
      const { rows, error, ms } = r as Exclude<typeof r, 'pending'>;
      expect(rows).toBeLessThan(BATCHES * ROWS);
      expect(LakeSoulError.is(error), String(error)).toBe(true);
      expect(error).toMatchObject({ retryable: true, message: expect.stringMatching(/^Flight DoGet failed \(UNAVAILABLE\)/) });
      expect(ms).toBeLessThan(3000);
    } finally {
      client.close();
    }
    await expect.poll(timers, { timeout: 3000 }).toBeLessThanOrEqual(before);
  });

  it('a connection that stalls in the middle of a message holds the read (no bound by default), and idleTimeoutMs fails it, naming the ticket, closing the client\'s socket', async () => {
    mode = 'stall';
    const before = timers();
    const client = await FlightClient.connect(url);
    try {
      // without a bound: still waiting after 2 s (what pyarrow does too); aborting ends it
      const ac = new AbortController();
      const unbounded = client.doGet(Buffer.from('stream-8mb'), { signal: ac.signal });
      const waited = (async () => { let rows = 0; try { for await (const b of unbounded) rows += b.numRows; return null; } catch (e) { return { rows, e }; } })();
      expect(await Promise.race([waited, new Promise((resolve) => { setTimeout(() => resolve('pending'), 2000).unref(); })])).toBe('pending');
      ac.abort();
      expect(await waited).toMatchObject({ e: { kind: 'Aborted' } });
    } finally {
      client.close();
    }
    const bounded = await FlightClient.connect(url);
    const socket = connections.at(-1)!;
    try {
      const r = await read(bounded, { idleTimeoutMs: 1000 }, 10_000);
      expect(r).not.toBe('pending');
      const { rows, error, ms } = r as Exclude<typeof r, 'pending'>;
      expect(rows).toBeLessThan(BATCHES * ROWS);
      expect(error).toMatchObject({
        kind: 'Io', retryable: true, context: { idleTimeoutMs: 1000 },
        message: "Flight DoGet of ticket 'stream-8mb': no message from the server for 1000 ms (idleTimeoutMs): the connection or the server stalled, the call was cancelled",
      });
      expect(ms).toBeGreaterThanOrEqual(1000);
      expect(ms).toBeLessThan(4000);
    } finally {
      bounded.close();
    }
    // the client let its connection go, and no timer is left
    await expect(Promise.race([socket.closed.then(() => 'closed'), new Promise((resolve) => { setTimeout(() => resolve('open'), 5000).unref(); })])).resolves.toBe('closed');
    await expect.poll(timers, { timeout: 3000 }).toBeLessThanOrEqual(before);
  });

  it('refuses an idleTimeoutMs that is no positive number', async () => {
    const client = await FlightClient.connect(url);
    try {
      await expect(client.doGet(Buffer.from('x'), { idleTimeoutMs: 0 }).next()).rejects.toMatchObject({ kind: 'InvalidArgument', message: expect.stringContaining('idleTimeoutMs must be a positive number') });
    } finally {
      client.close();
    }
  });
});
