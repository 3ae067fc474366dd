/**
 * Failed logins are bounded per client host, but one careless or hostile client must not lock out
 * the clients behind the same address that hold valid credentials (a NAT, the gRPC load balancer of
 * docs/scale-out.md): a stale token sent again and again spends one failure; a host locked by
 * distinct wrong guesses still accepts tokens no guessing finds (issued by Handshake, configured
 * ones of 32+ characters), while passwords and short tokens stay behind the lock (guessing them stays
 * bounded). PGlite catalog, the project's Flight client, every client from 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Int64, Schema } from 'apache-arrow';
import { Lakehouse } from '@lakesoul-ts/io';
import { FailedLoginLimiter, type LakeSoulError } from '@lakesoul-ts/meta';
import { FlightClient } from './flight-client.js';
import { MIN_UNGUESSABLE_TOKEN_CHARS } from '@lakesoul-ts/meta';
import { createFlightServer, type CreateFlightServerOptions, type FlightServer } from './flight-server.js';

const LONG_TOKEN = 'L'.repeat(MIN_UNGUESSABLE_TOKEN_CHARS);

let dir: string;
let lakehouse: Lakehouse;
const servers: FlightServer[] = [];

async function serve(options: Omit<CreateFlightServerOptions, 'lakehouse' | 'ticketSecret'>): Promise<string> {
  const server = createFlightServer({ lakehouse, ticketSecret: 'login-lockout-secret-0123456789', doGetThreads: 0, ...options });
  servers.push(server);
  return `grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
}

/** listFlights with `token`: 'ok', or the refusal's code. */
async function list(url: string, token: string): Promise<string> {
  const c = await FlightClient.connect(url, { token });
  try {
    await c.listFlights();
    return 'ok';
  } catch (e) {
    return (e as LakeSoulError).code;
  } finally {
    c.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flight-login-lockout-'));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
  await lakehouse.createTable('events', new Schema([new Field('id', new Int64(), false)]));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close(1000)));
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('failed logins of one client do not lock out the others on its host', () => {
  it('a client sending the same stale token again and again spends one failure: the right token keeps working', async () => {
    const now = 1_000_000;
    const url = await serve({ tokens: ['tok-secret-1'], failedLogins: { burst: 3, now: () => now } });
    for (let i = 0; i < 12; i++) {
      expect(await list(url, 'stale-token'), `stale call ${i}`).toBe('BAD_CREDENTIALS');
      expect(await list(url, 'tok-secret-1'), `good call after ${i + 1} stale ones`).toBe('ok');
    }
    // distinct wrong tokens are guesses: they still lock the host (a short token is then refused too)
    for (let i = 0; i < 2; i++) expect(await list(url, `guess-${i}`)).toBe('BAD_CREDENTIALS');
    expect(await list(url, 'guess-x')).toBe('RESOURCE_EXHAUSTED');
    expect(await list(url, 'tok-secret-1')).toBe('RESOURCE_EXHAUSTED');
  });

  it('a host locked by guesses still accepts issued and long configured tokens; passwords and short tokens, right or wrong, are refused', async () => {
    let now = 1_000_000;
    const url = await serve({ tokens: ['short-token', LONG_TOKEN], users: { alice: 'pw' }, failedLogins: { burst: 3, now: () => now } });
    const alice = await FlightClient.connect(url, { basic: { username: 'alice', password: 'pw' } });
    try {
      for (let i = 0; i < 3; i++) expect(await list(url, `guess-${i}`)).toBe('BAD_CREDENTIALS');
      expect(await list(url, 'guess-3')).toBe('RESOURCE_EXHAUSTED');
      // a token issued by Handshake (the session of a client that logged in) and a long configured token
      expect((await alice.listFlights()).length).toBe(1);
      expect(await list(url, LONG_TOKEN)).toBe('ok');
      expect(await list(url, alice.bearerToken!)).toBe('ok');
      // a forged issued token or a near-miss of the long one is refused like any wrong guess
      expect(await list(url, `${alice.bearerToken!.slice(0, -2)}xx`)).toBe('RESOURCE_EXHAUSTED');
      expect(await list(url, `${LONG_TOKEN.slice(1)}x`)).toBe('RESOURCE_EXHAUSTED');
      // what could be guessed stays behind the lock
      expect(await list(url, 'short-token')).toBe('RESOURCE_EXHAUSTED');
      await expect(FlightClient.connect(url, { basic: { username: 'alice', password: 'pw' } })).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
      now += 6_000;
      expect(await list(url, 'short-token')).toBe('ok');
    } finally {
      alice.close();
    }
  });

  it('hosts beyond maxHosts share one allowance: a repeated credential spends it once, and refusal() tells a locked host without throwing', () => {
    const now = 0;
    const limiter = new FailedLoginLimiter({ burst: 2, refillMs: 1_000, maxHosts: 1, now: () => now });
    limiter.fail('a', 'x');
    for (let i = 0; i < 5; i++) limiter.fail(`h${i}`, 'stale');
    expect(limiter.refusal('h9', 'login')).toBeUndefined();
    limiter.fail('h9', 'other');
    expect(limiter.refusal('h9', 'login')).toMatchObject({ code: 'RESOURCE_EXHAUSTED', message: expect.stringContaining('too many failed logins from host h9') });
    expect(limiter.refusal('a', 'login')).toBeUndefined();
  });
});
