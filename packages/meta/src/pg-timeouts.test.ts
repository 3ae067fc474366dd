import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Field, Int64, Schema, Utf8 } from 'apache-arrow';
import { Catalog } from './catalog.js';
import { LakeSoulError } from './errors.js';
import { PgDriver } from './pg-driver.js';
import { testFile } from './testing/index.js';
import { PgWireProxy, simpleQueryText, testPgUrl } from './testing/pg-wire-proxy.js';

// A real PostgreSQL server, a catalog statement that never gets its answer: a network path that goes
// silent (a proxy that stops passing bytes without closing), a lock another session holds, a COMMIT
// whose answer never comes. Each must end after the driver's query timeout, be cancelled on the
// server, and leave the pool usable (it held every connection for ever: a long-running process
// answered "timeout exceeded when trying to connect" to every request).

const QUERY_TIMEOUT_MS = 700;
const uniq = () => randomUUID().replace(/-/g, '').slice(0, 12);
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** The settled outcome of `p`, or a failure of the test when it is still pending after `ms` (it hung). */
async function settled<T>(p: Promise<T>, ms: number, what: string): Promise<{ value?: T; error?: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${ms} ms`)), ms); });
  try {
    return await Promise.race([p.then((value) => ({ value }), (error: unknown) => ({ error })), hung]);
  } finally {
    clearTimeout(timer);
  }
}

function expectCode(error: unknown, code: string): LakeSoulError {
  expect(error, `expected a LakeSoulError ${code}`).toBeInstanceOf(LakeSoulError);
  const le = error as LakeSoulError;
  expect(le.kind, le.message).toBe('Catalog');
  expect(le.code, le.message).toBe(code);
  return le;
}

/** Backends whose statement holds `marker` (passed as a parameter: this query's text does not hold it). */
async function activeWith(admin: pg.Client, column: 'query' | 'application_name', marker: string): Promise<number> {
  const r = await admin.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE state <> 'idle' AND pid <> pg_backend_pid() AND ${column} LIKE '%' || $1 || '%'`, [marker]);
  return r.rows[0]!.n;
}

/** Waits up to `ms` for no backend to match; returns the count left. */
async function goneWithin(admin: pg.Client, column: 'query' | 'application_name', marker: string, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    const n = await activeWith(admin, column, marker);
    if (n === 0 || Date.now() >= deadline) return n;
    await sleep(100);
  }
}

describe('catalog statements on PostgreSQL that get no answer', () => {
  const schema = `pgtimeout_${uniq()}`;
  let silentMarker = 'never';
  let commitFault: 'none' | 'silent' = 'none';
  let commitCountdown = 0;
  const proxy = new PgWireProxy((msg, link) => {
    const text = simpleQueryText(msg) ?? '';
    const silence = text.includes(silentMarker)
      || (/^COMMIT\b/i.test(text) && commitFault !== 'none' && --commitCountdown === 0 && (commitFault = 'none', true));
    if (!silence) return false;
    // the statement reaches the server; from then on nothing passes either way, and nothing closes
    link.up.write(msg);
    link.answering = false;
    link.forwarding = false;
    return true;
  });
  const admin = new pg.Client({ connectionString: testPgUrl() });
  const MAX = 3;
  let driver: PgDriver;
  let catalog: Catalog;

  beforeAll(async () => {
    await proxy.start();
    await admin.connect();
    driver = await PgDriver.connect({ url: proxy.url(), schema, max: MAX, queryTimeoutMillis: QUERY_TIMEOUT_MS, connectionTimeoutMillis: 3000 });
    catalog = new Catalog(driver);
    await catalog.bootstrap();
  });
  afterAll(async () => {
    await proxy.stop(); // first: a statement still hanging (no fix) fails with its connection
    await Promise.race([catalog?.close(), sleep(3000)]);
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  const newTable = (c: Catalog, name: string) => c.createTable({
    name: `${name}_${uniq()}`, path: `file:///tmp/lakesoul-pgtimeout/${name}_${uniq()}`,
    schema: new Schema([new Field('id', new Int64(), true), new Field('v', new Utf8(), true)]),
  });

  it('a network path that goes silent mid-query: the query fails after the timeout, is cancelled on the server, and the pool recovers', async () => {
    silentMarker = `silent_${uniq()}`;
    // every pool connection at once: none may stay held
    const started = Date.now();
    const outcomes = await Promise.all(Array.from({ length: MAX }, (_, i) =>
      settled(driver.query(`SELECT pg_sleep(30) /* ${silentMarker} ${i} */`), 8000, 'a query over a silent network path')));
    const elapsed = Date.now() - started;
    for (const o of outcomes) {
      const le = expectCode(o.error, 'CATALOG_TIMEOUT');
      expect(le.retryable).toBe(true);
      expect(le.message).toContain('pg_sleep');
      expect(le.message).toContain(`${QUERY_TIMEOUT_MS} ms`);
      expect(le.message).toContain('127.0.0.1');
    }
    expect(elapsed).toBeGreaterThanOrEqual(QUERY_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(QUERY_TIMEOUT_MS + 3000);
    silentMarker = 'never';
    // the cancel request reached the server over a new connection: the sleeps are gone long before 30 s
    // (and before the server-side statement_timeout, 10 s later)
    expect(await goneWithin(admin, 'query', 'pg_sleep(30)', 3000), 'cancelled on the server').toBe(0);
    // no connection leaked: twice the pool's size of queries all get one
    const again = await settled(Promise.all(Array.from({ length: 2 * MAX }, (_, i) => driver.query<{ i: number }>('SELECT $1::int AS i', [i]))), 5000, 'queries after the timeouts');
    expect(again.error).toBeUndefined();
    expect(again.value!.map((r) => r.rows[0]!.i)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('each connection carries the server-side guards: statement_timeout past the client timeout, idle_in_transaction_session_timeout', async () => {
    const r = await driver.transaction(async (tx) => (await tx.query<{ s: string; i: string }>(
      "SELECT current_setting('statement_timeout') AS s, current_setting('idle_in_transaction_session_timeout') AS i")).rows[0]!);
    expect(r).toEqual({ s: `${QUERY_TIMEOUT_MS + 10_000}ms`, i: '10s' });
  });

  it('a pool whose connections are all held says it is exhausted, naming the catalog', async () => {
    const pool = await PgDriver.connect({ url: testPgUrl(), schema, max: 1, connectionTimeoutMillis: 300, queryTimeoutMillis: 5000 });
    try {
      const holding = pool.query('SELECT pg_sleep(1)');
      const o = await settled(pool.query('SELECT 1'), 5000, 'a query waiting for a pool connection');
      const le = expectCode(o.error, 'CATALOG_UNAVAILABLE');
      expect(le.retryable).toBe(true);
      expect(le.message).toMatch(/pool .* is exhausted: all 1 connections stayed in use for 300 ms/);
      expect(le.message).toContain(new URL(testPgUrl()).host);
      expect(le.message).not.toContain('timeout exceeded when trying to connect');
      await holding;
    } finally {
      await pool.close();
    }
  });

  it('a LOCK TABLE held by another session: the catalog call fails after the timeout and its statement is cancelled on the server', async () => {
    const app = `pgtimeout_lock_${uniq()}`;
    const url = new URL(testPgUrl());
    url.searchParams.set('application_name', app);
    // through Catalog.open: its queryTimeoutMs option reaches the driver
    const c = await Catalog.open({ url: url.href, schema, queryTimeoutMs: QUERY_TIMEOUT_MS, bootstrap: false, env: {} });
    const locker = new pg.Client({ connectionString: testPgUrl() });
    await locker.connect();
    try {
      await c.listTables('default'); // a connection open before the lock
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE "${schema}".table_info IN ACCESS EXCLUSIVE MODE`);
      const started = Date.now();
      const o = await settled(c.listTables('default'), 8000, 'a catalog call behind a LOCK TABLE');
      const elapsed = Date.now() - started;
      const le = expectCode(o.error, 'CATALOG_TIMEOUT');
      expect(le.context.statement).toMatch(/^SELECT /);
      expect(elapsed).toBeGreaterThanOrEqual(QUERY_TIMEOUT_MS - 50);
      expect(elapsed).toBeLessThan(QUERY_TIMEOUT_MS + 3000);
      // still locked: only the cancel can have ended the wait (statement_timeout comes 10 s later)
      expect(await goneWithin(admin, 'application_name', app, 3000), 'the waiting statement is gone from pg_stat_activity').toBe(0);
      await locker.query('ROLLBACK');
      expect(Array.isArray(await c.listTables('default'))).toBe(true);
    } finally {
      await locker.end();
      await Promise.race([c.close(), sleep(3000)]);
    }
  });

  it('a COMMIT that gets no answer within the timeout reports its outcome unknown, never "not committed"', async () => {
    const marker = `outcome_${uniq()}`;
    await driver.query(`CREATE TABLE IF NOT EXISTS "${schema}".probe (v text)`);
    commitFault = 'silent';
    commitCountdown = 1;
    const o = await settled(driver.transaction(async (tx) => {
      await tx.query(`INSERT INTO "${schema}".probe VALUES ($1)`, [marker]);
    }), 8000, 'a transaction whose COMMIT gets no answer');
    const le = expectCode(o.error, 'TRANSACTION_OUTCOME_UNKNOWN');
    expect(le.retryable).toBe(false);
    expect(le.message).toContain('COMMIT');
    expect(le.message).toContain('may or may not have committed');
    // it did commit: the server got the COMMIT, only its answer was lost
    expect((await admin.query(`SELECT count(*)::int AS n FROM "${schema}".probe WHERE v = $1`, [marker])).rows[0].n).toBe(1);
  });

  it('a catalog commit whose COMMIT gets no answer asks the catalog and reports the commit once', async () => {
    const t = await newTable(catalog, 'commit');
    commitFault = 'silent';
    commitCountdown = 2; // phase 1's COMMIT passes; phase 2's reaches the server, its answer never comes
    const o = await settled(catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [testFile(t, '-5', 'a')] }] }),
      10_000, 'a commit whose COMMIT gets no answer');
    expect(o.error).toBeUndefined();
    expect(o.value!.versions).toEqual(new Map([['-5', 0]]));
    expect((await catalog.history(t.tableId)).map((v) => v.version)).toEqual([0]);
  });
});
