/**
 * Authentication against clients that try to get around it, with the project's Flight client and raw
 * grpc-js calls against real servers (PGlite catalog, local disk):
 * - a token from a server with auth off, or of a user the server does not have (any more), is refused
 *   by a server sharing the ticket secret;
 * - an unauthenticated or oversized unary request is refused from its headers or its length prefix,
 *   before the message is received;
 * - Handshakes that carry no credentials and never finish cannot keep a real login out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:http2';
import { createConnection } from 'node:net';
import { Metadata, credentials, status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { Field, Int64, Schema, Table, makeVector } from 'apache-arrow';
import { Lakehouse } from '@lakesoul-ts/io';
import { FlightClient } from './flight-client.js';
import { loadFlightProtocol } from './flight-proto.js';
import { AUTH_OFF_TOKEN } from './bearer-auth.js';
import {
  MAX_CONCURRENT_HANDSHAKES, MAX_HANDSHAKES_PER_HOST, MAX_REQUEST_MESSAGE_BYTES, UNAUTHENTICATED_HANDSHAKE_TIMEOUT_MS, createFlightServer,
  type CreateFlightServerOptions, type FlightServer,
} from './flight-server.js';

const MiB = 1024 * 1024;
const SECRET = 'shared-secret-0123456789';
const schema = new Schema([new Field('id', new Int64(), false)]);

let dir: string;
let lakehouse: Lakehouse;
const servers: FlightServer[] = [];

async function serve(options: Omit<CreateFlightServerOptions, 'lakehouse' | 'ticketSecret'>): Promise<string> {
  const server = createFlightServer({ lakehouse, ticketSecret: SECRET, doGetThreads: 0, ...options });
  servers.push(server);
  return `grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
}

function rawClient(url: string): any {
  const { client: Ctor } = loadFlightProtocol();
  return new Ctor(url.replace('grpc://', ''), credentials.createInsecure(), { 'grpc.max_send_message_length': 128 * MiB });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flight-auth-'));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
  await lakehouse.createTable('events', new Table(schema, { id: makeVector(BigInt64Array.from({ length: 100 }, (_, i) => BigInt(i))) } as any));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close(1000)));
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('issued tokens', () => {
  it('a token from a server with auth off is refused by a server with auth on sharing the ticket secret', async () => {
    const secured = await serve({ tokens: ['only-static-token'] });
    const open = await serve({});
    const fromOpen = await FlightClient.connect(open, { basic: { username: 'nobody', password: 'whatever' } });
    // the open server still answers Basic logins (clients that always authenticate work), with a token it does not sign
    expect(fromOpen.bearerToken).toBe(AUTH_OFF_TOKEN);
    expect((await fromOpen.listFlights()).length).toBe(1);
    fromOpen.close();
    const replay = await FlightClient.connect(secured, { token: AUTH_OFF_TOKEN });
    try {
      await expect(replay.getFlightInfo({ path: ['events'] })).rejects.toMatchObject({
        kind: 'Unauthenticated', message: expect.stringContaining('answered by a Flight server with auth off'),
      });
    } finally {
      replay.close();
    }
    const ok = await FlightClient.connect(secured, { token: 'only-static-token' });
    expect((await ok.readAll(await ok.getFlightInfo({ path: ['events'] }))).numRows).toBe(100);
    ok.close();
  });

  it('a token of a user is refused by a server (same secret) that does not have the user, or has another password', async () => {
    const withAlice = await serve({ users: { alice: 'pw' } });
    const login = await FlightClient.connect(withAlice, { basic: { username: 'alice', password: 'pw' } });
    const token = login.bearerToken!;
    expect(token).toMatch(/^lst1\./);
    expect((await login.listFlights()).length).toBe(1);
    login.close();
    // a replica with the same user accepts it
    const replica = await FlightClient.connect(await serve({ users: { alice: 'pw' } }), { token });
    expect((await replica.listFlights()).length).toBe(1);
    replica.close();
    // restarted without alice, or with her password changed, or with static tokens only
    const restarts: Omit<CreateFlightServerOptions, 'lakehouse' | 'ticketSecret'>[] = [{ users: { bob: 'pw' } }, { users: { alice: 'new password' } }, { tokens: ['only-static-token'] }];
    for (const options of restarts) {
      const c = await FlightClient.connect(await serve(options), { token });
      try {
        await expect(c.listFlights(), JSON.stringify(options)).rejects.toMatchObject({ kind: 'Unauthenticated', message: expect.stringMatching(/invalid bearer token .*authenticate again/) });
      } finally {
        c.close();
      }
    }
  });
});

describe('credential guessing', () => {
  it('a host that sent 10 wrong passwords gets one guess per 6 s, refused before the password is checked; other hosts and later tries log in', async () => {
    let now = 1_000_000;
    const url = await serve({ users: { alice: 'right' }, failedLogins: { now: () => now } });
    const login = (password: string) => FlightClient.connect(url, { basic: { username: 'alice', password } });
    for (let i = 0; i < 10; i++) {
      await expect(login(`guess ${i}`)).rejects.toMatchObject({ kind: 'Unauthenticated', message: expect.stringContaining("invalid user name or password for 'alice'") });
    }
    // the right password too: the host is refused before anything is checked, so a guess learns nothing
    await expect(login('right')).rejects.toMatchObject({ kind: 'Aborted', code: 'RESOURCE_EXHAUSTED', message: expect.stringMatching(/too many failed logins from host 127\.0\.0\.1; retry in 6 s/) });
    now += 6_000;
    await expect(login('guess 10')).rejects.toMatchObject({ kind: 'Unauthenticated' });
    await expect(login('right')).rejects.toMatchObject({ kind: 'Aborted' });
    now += 6_000;
    const ok = await login('right');
    expect((await ok.listFlights()).length).toBe(1);
    ok.close();
  });

  it('wrong bearer tokens on any call count too; a missing header does not', async () => {
    let now = 1_000_000;
    const url = await serve({ tokens: ['the-token'], failedLogins: { now: () => now, burst: 3 } });
    const none = rawClient(url);
    try {
      for (let i = 0; i < 5; i++) {
        const err = await new Promise<ServiceError>((resolve) => none.GetFlightInfo({ type: 1, path: ['events'] }, new Metadata(), (e: ServiceError) => resolve(e)));
        expect(err.code).toBe(status.UNAUTHENTICATED);
      }
    } finally {
      none.close();
    }
    for (let i = 0; i < 3; i++) {
      const c = await FlightClient.connect(url, { token: `guess-${i}` });
      try {
        await expect(c.listFlights()).rejects.toMatchObject({ kind: 'Unauthenticated', message: expect.stringContaining('invalid bearer token') });
      } finally {
        c.close();
      }
    }
    const right = await FlightClient.connect(url, { token: 'the-token' });
    try {
      await expect(right.listFlights()).rejects.toMatchObject({ kind: 'Aborted', message: expect.stringContaining('ListFlights: too many failed logins') });
      now += 6_000;
      expect((await right.listFlights()).length).toBe(1);
    } finally {
      right.close();
    }
  });
});

describe('unary requests are refused before they are received', () => {
  const call = (raw: any, method: string, request: unknown, metadata = new Metadata()) => new Promise<ServiceError | null>((res) => {
    raw[method](request, metadata, (err: ServiceError | null) => res(err));
  });

  it('an unauthenticated GetFlightInfo of 60 MiB is refused from its headers, and an oversized one from its length prefix', async () => {
    const url = await serve({ tokens: ['only-static-token'] });
    const server = servers.at(-1)!;
    const raw = rawClient(url);
    try {
      const cmd = Buffer.alloc(60 * MiB, 0x20);
      const refused = await call(raw, 'GetFlightInfo', { type: 'CMD', cmd, path: [] });
      expect(refused).toMatchObject({ code: status.UNAUTHENTICATED, details: expect.stringContaining('authentication required') });
      // with a token: the length prefix is over GetFlightInfo's limit
      const md = new Metadata();
      md.set('authorization', 'Bearer only-static-token');
      const big = await call(raw, 'GetFlightInfo', { type: 'CMD', cmd, path: [] }, md);
      expect(big?.code).toBe(status.INVALID_ARGUMENT);
      expect(big?.details).toMatch(/GetFlightInfo request message \(6291\d+ bytes\) exceeds the limit of 262144 bytes of GetFlightInfo: .*Nothing of it was read/);
      expect(big?.metadata.get('x-lakesoul-error-code')).toEqual(['LIMIT_EXCEEDED']);
      // a DoAction and a DoGet over their own limits too
      const action = await new Promise<ServiceError | null>((res) => {
        const s = raw.DoAction({ type: 'history', body: Buffer.alloc(MAX_REQUEST_MESSAGE_BYTES.DoAction! + 1) }, md);
        s.on('data', () => {});
        s.on('error', res);
        s.on('end', () => res(null));
      });
      expect(action?.details).toMatch(/DoAction request message .* exceeds the limit/);
      // the connection is fine afterwards
      expect(await call(raw, 'GetFlightInfo', { type: 'PATH', cmd: Buffer.alloc(0), path: ['events'] }, md)).toBeNull();
      expect(server.stats.doGetCalls).toBe(0);
    } finally {
      raw.close();
    }
  }, 60_000);

  it('the answer comes before the message: a client that sends a 60 MiB length prefix and 1 KiB of it is answered at once', async () => {
    const url = await serve({ tokens: ['only-static-token'] });
    const path = '/arrow.flight.protocol.FlightService/GetFlightInfo';
    // raw HTTP/2: the gRPC headers, the 5-byte prefix of a 60 MiB message, 1 KiB of it, and then nothing.
    // The server used to wait for (and buffer) the whole message before it refused it.
    const answer = async (headers: Record<string, string>): Promise<Record<string, unknown>> => {
      const session = connect(url.replace('grpc://', 'http://'));
      try {
        const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
        const prefix = Buffer.alloc(5);
        prefix.writeUInt32BE(60 * MiB, 1);
        stream.write(Buffer.concat([prefix, Buffer.alloc(1024, 0x20)]));
        return await new Promise((res, rej) => {
          const timer = setTimeout(() => rej(new Error('no answer within 5 s: the server waits for the whole message')), 5000);
          const done = (h: Record<string, unknown>) => { if (h['grpc-status'] !== undefined) { clearTimeout(timer); res(h); } };
          stream.on('response', done);
          stream.on('trailers', done);
          stream.on('error', rej);
          stream.resume();
        });
      } finally {
        session.destroy();
      }
    };
    const unauthenticated = await answer({});
    expect(unauthenticated['grpc-status']).toBe(String(status.UNAUTHENTICATED));
    const oversized = await answer({ authorization: 'Bearer only-static-token' });
    expect(oversized['grpc-status']).toBe(String(status.INVALID_ARGUMENT));
    expect(decodeURIComponent(String(oversized['grpc-message']))).toMatch(/GetFlightInfo request message \(62914560 bytes\) exceeds the limit of 262144 bytes/);
  }, 30_000);

  it('a gzip-compressed message is inflated no further than its method\'s limit, a Handshake without credentials too (60 MiB arrive as 61 KB)', async () => {
    const url = await serve({ tokens: ['only-static-token'], users: { alice: 'pw' } });
    const { client: Ctor } = loadFlightProtocol();
    const gzip = new Ctor(url.replace('grpc://', ''), credentials.createInsecure(), { 'grpc.max_send_message_length': 128 * MiB, 'grpc.default_compression_algorithm': 2 });
    try {
      const md = new Metadata();
      md.set('authorization', 'Bearer only-static-token');
      // before: the limit bounded the 61 KB sent, grpc-js inflated all 60 MiB, and the handler refused the command
      const big = await call(gzip, 'GetFlightInfo', { type: 'CMD', cmd: Buffer.alloc(60 * MiB, 0x20), path: [] }, md);
      expect(big?.code).toBe(status.INVALID_ARGUMENT);
      expect(big?.details).toMatch(/^GetFlightInfo request message \(\d+ bytes sent gzip-compressed, over 262144 bytes once inflated\) exceeds the limit of 262144 bytes of GetFlightInfo: .*It was inflated no further than the limit/);
      // a Handshake is read before any credential: its payload is bounded all the same
      const handshake = await new Promise<{ code?: number; details?: string }>((res) => {
        const h = gzip.Handshake(new Metadata()) as ClientDuplexStream<any, any>;
        h.on('data', () => {});
        h.on('error', (e: any) => res({ code: e.code, details: e.details }));
        h.on('end', () => res({}));
        h.write({ protocol_version: '0', payload: Buffer.alloc(60 * MiB, 0x20) });
        h.end();
      });
      expect(handshake.details).toMatch(/^Handshake request message \(\d+ bytes sent gzip-compressed, over 131072 bytes once inflated\) exceeds the limit/);
      // compressed requests within the limits are served
      expect(await call(gzip, 'GetFlightInfo', { type: 'PATH', cmd: Buffer.alloc(0), path: ['events'] }, md)).toBeNull();
    } finally {
      gzip.close();
    }
  }, 60_000);
});

describe('connections', () => {
  /** Opens `n` TCP connections that never send a byte; resolves each one's time of closing, relative to the start. */
  const idleSockets = (url: string, n: number) => {
    const [host, port] = [url.slice('grpc://'.length, url.lastIndexOf(':')), Number(url.slice(url.lastIndexOf(':') + 1))];
    const t0 = Date.now();
    const sockets = Array.from({ length: n }, () => createConnection({ host, port }));
    // read what the server sends (its SETTINGS, a GOAWAY), so that its closing is seen
    const closed = sockets.map((s) => new Promise<number>((res) => { s.on('error', () => {}); s.on('close', () => res(Date.now() - t0)); s.resume(); }));
    return { sockets, closed };
  };

  it('a host holding connections that send nothing gets maxConnectionsPerHost of them, and those close after connectionIdleMs; then clients connect again', async () => {
    // before: every connection stayed open (none closed after 150 s), until the server ran out of files
    const url = await serve({ tokens: ['only-static-token'], maxConnectionsPerHost: 8, connectionIdleMs: 1500 });
    const server = servers.at(-1)!;
    const { sockets, closed } = idleSockets(url, 20);
    try {
      const times = await Promise.all(closed);
      const early = times.filter((t) => t < 1000);
      expect(early.length).toBe(12);
      expect(times.filter((t) => t >= 1400).length).toBe(8);
      expect(server.stats.connectionsRefused).toBe(12);
      const client = await FlightClient.connect(url, { token: 'only-static-token' });
      try {
        expect((await client.listFlights()).length).toBe(1);
      } finally {
        client.close();
      }
    } finally {
      for (const s of sockets) s.destroy();
    }
  }, 30_000);

  it('refuses connections past maxConnections from any host, and counts none it closed for idling', async () => {
    const url = await serve({ maxConnections: 5, maxConnectionsPerHost: 100, connectionIdleMs: 60_000 });
    const server = servers.at(-1)!;
    const { sockets, closed } = idleSockets(url, 9);
    try {
      const first = await Promise.race([Promise.all(closed.slice(5)), new Promise((res) => setTimeout(() => res('timeout'), 5000))]);
      expect(first).not.toBe('timeout');
      expect(server.stats.connectionsRefused).toBe(4);
      // the five held stay open
      const held = await Promise.race([Promise.race(closed.slice(0, 5)), new Promise((res) => setTimeout(() => res('open'), 500))]);
      expect(held).toBe('open');
    } finally {
      for (const s of sockets) s.destroy();
    }
    // once they are gone, a client gets in
    await new Promise((res) => setTimeout(res, 200));
    const client = await FlightClient.connect(url);
    try {
      expect((await client.listFlights()).length).toBe(1);
    } finally {
      client.close();
    }
  }, 30_000);
});

describe('Handshakes without credentials', () => {
  it('never keep a Basic login out, are limited per host, and end soon', async () => {
    const url = await serve({ users: { alice: 'pw' } });
    const raw = rawClient(url);
    const open = () => {
      const c = raw.Handshake(new Metadata()) as ClientDuplexStream<any, any>;
      const ended = new Promise<{ code?: number; details?: string; at: number }>((res) => {
        c.on('error', (e: any) => res({ code: e.code, details: e.details, at: Date.now() }));
        c.on('status', (s: any) => res({ code: s.code, details: s.details, at: Date.now() }));
        c.on('data', () => {});
      });
      c.write({ protocol_version: '0', payload: Buffer.from('x') });
      return { call: c, ended };
    };
    try {
      const t0 = Date.now();
      // what blocked every login: as many stalled handshakes as the server-wide limit
      const stalled = Array.from({ length: MAX_CONCURRENT_HANDSHAKES }, () => open());
      await new Promise((res) => setTimeout(res, 300));
      const alice = await FlightClient.connect(url, { basic: { username: 'alice', password: 'pw' } });
      expect((await alice.listFlights()).length).toBe(1);
      const token = alice.bearerToken!;
      alice.close();
      expect(Date.now() - t0).toBeLessThan(UNAUTHENTICATED_HANDSHAKE_TIMEOUT_MS);
      // a wrong password is refused at once, whatever else runs
      await expect(FlightClient.connect(url, { basic: { username: 'alice', password: 'nope' } })).rejects.toMatchObject({ kind: 'Unauthenticated' });
      // one host got MAX_HANDSHAKES_PER_HOST of them, the others were refused at once
      const outcomes = await Promise.all(stalled.map((h) => h.ended));
      const refused = outcomes.filter((o) => /from host 127\.0\.0\.1, the limit of one host/.test(o.details ?? ''));
      expect(refused).toHaveLength(MAX_CONCURRENT_HANDSHAKES - MAX_HANDSHAKES_PER_HOST);
      expect(refused[0]!.code).toBe(status.RESOURCE_EXHAUSTED);
      // the admitted ones were ended after UNAUTHENTICATED_HANDSHAKE_TIMEOUT_MS
      const timedOut = outcomes.filter((o) => /not completed within 3 s/.test(o.details ?? ''));
      expect(timedOut).toHaveLength(MAX_HANDSHAKES_PER_HOST);
      for (const o of timedOut) expect(o.at - t0).toBeGreaterThanOrEqual(UNAUTHENTICATED_HANDSHAKE_TIMEOUT_MS - 100);
      for (const o of timedOut) expect(o.at - t0).toBeLessThan(UNAUTHENTICATED_HANDSHAKE_TIMEOUT_MS + 2000);
      // and their slots are free again: a handshake with the token as its payload (and no header) passes
      const fine = open();
      fine.call.write({ protocol_version: '0', payload: Buffer.from(token) });
      fine.call.end();
      expect((await fine.ended).code).toBe(status.OK);
    } finally {
      raw.close();
    }
  }, 30_000);
});

describe('option values (a hunt of options that ignore mistakes)', () => {
  it('tokens given as a string, an empty tokens list or users object, and ttls given as text are refused', () => {
    // before: each character of the string was a token ('c' read every table) and the whole one was refused
    expect(() => createFlightServer({ lakehouse, ticketSecret: SECRET, tokens: 'correct-horse-battery-staple' as never })).toThrow(/tokens must be an array of strings, got a string \(each of its characters would have been a token\)/);
    // before: a server without auth, saying nothing (an unset variable split on ',')
    expect(() => createFlightServer({ lakehouse, ticketSecret: SECRET, tokens: [] })).toThrow(/tokens is an empty list, which would turn authentication off/);
    expect(() => createFlightServer({ lakehouse, ticketSecret: SECRET, users: {} })).toThrow(/users is an empty object, which would turn authentication off/);
    expect(() => createFlightServer({ lakehouse, ticketSecret: SECRET, tokens: [], users: { alice: 'pw' } })).not.toThrow();
    // before: '60000' was added to the clock as text, and tickets lived for millions of years
    expect(() => createFlightServer({ lakehouse, ticketSecret: SECRET, ticketTtlMs: '60000' as never })).toThrow(/ticketTtlMs must be a positive number of milliseconds, got '60000'/);
    expect(() => createFlightServer({ lakehouse, ticketSecret: SECRET, tokens: ['only-static-token'], tokenTtlMs: '3600000' as never })).toThrow(/tokenTtlMs must be a positive number of milliseconds, got '3600000'/);
  });

  it('readAll refuses a concurrency that is not a positive integer (NaN read no endpoint and returned an empty table)', async () => {
    const url = await serve({});
    const client = await FlightClient.connect(url);
    try {
      const info = await client.getFlightInfo({ path: ['events'] });
      await expect(client.readAll(info, { concurrency: NaN })).rejects.toMatchObject({ code: 'INVALID_OPTION_VALUE', message: expect.stringMatching(/readAll concurrency must be a positive integer, got NaN/) });
      await expect(client.readAll(info, { concurrency: 'four' as never })).rejects.toThrow(/got 'four'/);
      expect((await client.readAll(info, { concurrency: 2 })).numRows).toBe(100);
    } finally {
      client.close();
    }
  });
});
