/**
 * An AbortSignal given to a catalog call on PostgreSQL while nothing answers: `Catalog.open` on a
 * network path gone silent, a call waiting for a connection of a full pool, a transaction whose BEGIN
 * gets no answer. Each waited out a timeout (the connection timeout, or the 120 s query timeout)
 * instead of ending at the abort.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Catalog } from './catalog.js';
import { expectAborted, settled } from './testing/abort-expect.js';
import { PgDriver } from './pg-driver.js';
import { PgWireProxy, simpleQueryText, testPgUrl } from './testing/pg-wire-proxy.js';

const uniq = () => randomUUID().replace(/-/g, '').slice(0, 12);
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

describe('aborting catalog calls on PostgreSQL that wait for an answer', () => {
  const schema = `pgabort_${uniq()}`;
  /** Text a statement must hold for the proxy to silence its connection (from that statement on). */
  let silentMarker = 'never';
  /** Silence every connection from its first message after the startup one. */
  let silenceAll = false;
  const proxy = new PgWireProxy((msg, link) => {
    const text = simpleQueryText(msg) ?? '';
    if (!silenceAll && !text.includes(silentMarker)) return false;
    link.up.write(msg);
    link.answering = false;
    link.forwarding = false;
    return true;
  });
  const admin = new pg.Client({ connectionString: testPgUrl() });

  beforeAll(async () => {
    await proxy.start();
    await admin.connect();
  });
  afterAll(async () => {
    await proxy.stop();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('Catalog.open on a silent network path ends at the abort, not after the connection or query timeout', async () => {
    silenceAll = true;
    try {
      const controller = new AbortController();
      const started = Date.now();
      setTimeout(() => controller.abort(new Error('user pressed Ctrl-C')), 300);
      const o = await settled(Catalog.open({ url: proxy.url(), schema, env: {}, signal: controller.signal }), 4000, started);
      const le = expectAborted(o.error);
      expect(le.message).toContain('aborted');
      expect(o.after).toBeLessThan(2000);
    } finally {
      silenceAll = false;
    }
  });

  it('Catalog.open to a server that accepts and never answers the start-up ends at the abort, not after the connection timeout', async () => {
    const sockets: Socket[] = [];
    const server = createServer((s) => { sockets.push(s); }); // takes the connection, says nothing
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const controller = new AbortController();
      const started = Date.now();
      setTimeout(() => controller.abort(new Error('user pressed Ctrl-C')), 300);
      // the connection timeout is 10 s: closing the pool waited for the connection still starting
      const o = await settled(Catalog.open({ url: `postgres://u:p@127.0.0.1:${port}/db`, env: {}, signal: controller.signal }), 8000, started);
      expectAborted(o.error);
      expect(o.after).toBeLessThan(2000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('a call waiting for a connection of a full pool ends at the abort; the connection it gets later goes back to the pool', async () => {
    const driver = await PgDriver.connect({ url: testPgUrl(), schema, max: 1, connectionTimeoutMillis: 5000, queryTimeoutMillis: 10_000 });
    try {
      const holding = driver.query('SELECT pg_sleep(1.5)');
      await sleep(100);
      const controller = new AbortController();
      const started = Date.now();
      setTimeout(() => controller.abort(), 200);
      const o = await settled(driver.query('SELECT 1 AS one', [], { signal: controller.signal }), 3000, started);
      expectAborted(o.error);
      expect(o.after).toBeLessThan(1000);
      await holding;
      // the pool's one connection, handed to the aborted call after it gave up, is not leaked
      const again = await settled(driver.query<{ two: number }>('SELECT 2 AS two'), 3000, Date.now());
      expect(again.error).toBeUndefined();
      expect(again.value!.rows).toEqual([{ two: 2 }]);
    } finally {
      await driver.close();
    }
  });

  it('a transaction whose BEGIN gets no answer ends at the abort, and its connection is not reused', async () => {
    const driver = await PgDriver.connect({ url: proxy.url(), schema, max: 1, queryTimeoutMillis: 10_000, connectionTimeoutMillis: 3000 });
    try {
      await driver.query('SELECT 1'); // the pool's connection, open
      silentMarker = 'BEGIN';
      const controller = new AbortController();
      const started = Date.now();
      setTimeout(() => controller.abort(), 300);
      let ran = false;
      const o = await settled(driver.transaction(async (tx) => { ran = true; await tx.query('SELECT 1'); }, { signal: controller.signal }), 4000, started);
      silentMarker = 'never';
      expectAborted(o.error);
      expect(o.after).toBeLessThan(2000);
      expect(ran).toBe(false);
      // the silenced connection was closed: a new one serves the next transaction (max 1)
      const r = await settled(driver.transaction(async (tx) => (await tx.query<{ x: number }>('SELECT 3 AS x')).rows), 4000, Date.now());
      expect(r.error).toBeUndefined();
      expect(r.value).toEqual([{ x: 3 }]);
    } finally {
      silentMarker = 'never';
      await driver.close();
    }
  });
});
