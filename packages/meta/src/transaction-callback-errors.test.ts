/**
 * What a caller's callback throws inside a catalog transaction (`updateTableProperties(id, fn)`,
 * `evolveTableSchema(id, evolve)`, a `driver.transaction(fn)`) reaches the caller as it was thrown,
 * after the rollback (hunter g, M1): on PostgreSQL it became `CATALOG_UNAVAILABLE`, retryable, "cannot
 * connect to the catalog database ...: my validation failed"; on PGlite and through a catalog server,
 * `Catalog` "catalog database error: ...". And a request over a catalog server's frame limit fails in
 * the client before it is sent, the connection kept (L4): the server ended the connection, which failed
 * the call as a lost server (`CATALOG_UNAVAILABLE`, retryable).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Field, Int64, Schema } from 'apache-arrow';
import { Catalog } from './catalog.js';
import { readCatalogServerInfo, SocketDriver } from './catalog-server.js';
import { LakeSoulError } from './errors.js';
import { PGliteDriver } from './pglite-driver.js';
import { PgDriver } from './pg-driver.js';
import type { SqlDriver } from './sql-driver.js';

const schema = new Schema([new Field('id', new Int64(), false)]);
const dir = mkdtempSync(join(tmpdir(), 'tx-callback-errors-'));
const pgSchema = `tx_cb_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const holders: Catalog[] = [];

/** A catalog shared by a holder (`share: true`), reached through its server as another process would. */
async function servedDriver(): Promise<SqlDriver> {
  const dataDir = join(dir, `served-${randomUUID().slice(0, 8)}`);
  const holder = await Catalog.open({ dataDir, env: {}, share: true });
  holders.push(holder);
  const info = readCatalogServerInfo(dataDir)!;
  return SocketDriver.connect(info.socket, `${dataDir} (served by process ${info.pid})`, info);
}

const backends: Array<[string, () => Promise<SqlDriver>]> = [
  ['PGlite', () => PGliteDriver.open()],
  ['PostgreSQL', () => PgDriver.connect({ url: process.env.LAKESOUL_TEST_PG_URL!, schema: pgSchema })],
  ['a catalog server', servedDriver],
];

afterAll(async () => {
  for (const h of holders) await h.close();
  rmSync(dir, { recursive: true, force: true });
  if (!process.env.LAKESOUL_TEST_PG_URL) return;
  const c = new pg.Client({ connectionString: process.env.LAKESOUL_TEST_PG_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`);
  await c.end();
});

/** What `p` rejected with (the test fails when it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e);
}

for (const [label, open] of backends) {
  // PostgreSQL only where a server is given: scripts/test-env.mjs (the test command, CI) always starts one
  describe.skipIf(label === 'PostgreSQL' && !process.env.LAKESOUL_TEST_PG_URL)(`a transaction callback's error on ${label}`, () => {
    let catalog: Catalog;
    let driver: SqlDriver;
    beforeAll(async () => {
      driver = await open();
      catalog = new Catalog(driver);
      await catalog.bootstrap();
    }, 60_000);
    afterAll(async () => { await catalog?.close(); });

    const table = () => catalog.createTable({ name: `t_${randomUUID().slice(0, 8)}`, path: join(dir, 'tables', randomUUID()), schema, properties: { owner: 'a' } });

    it('evolveTableSchema: a LakeSoulError and a plain Error thrown by evolve come out as they were thrown', async () => {
      const t = await table();
      const mine = new LakeSoulError('SchemaMismatch', 'my validation failed', { code: 'UNKNOWN_COLUMN', context: { column: 'x' } });
      expect(await rejection(catalog.evolveTableSchema(t.tableId, () => { throw mine; }))).toBe(mine);
      const plain = new RangeError('my validation failed');
      expect(await rejection(catalog.evolveTableSchema(t.tableId, () => { throw plain; }))).toBe(plain);
      // nothing changed, and the catalog goes on
      expect((await catalog.getTableById(t.tableId)).schema.fields.map((f) => f.name)).toEqual(['id']);
    });

    it('updateTableProperties(id, fn): what fn throws comes out as it was thrown, the update rolled back', async () => {
      const t = await table();
      class MyError extends Error {}
      const plain = new MyError('bug in my code');
      expect(await rejection(catalog.updateTableProperties(t.tableId, () => { throw plain; }))).toBe(plain);
      const mine = new LakeSoulError('InvalidArgument', 'owner must be set', { code: 'INVALID_OPTION_VALUE', context: { property: 'owner' } });
      expect(await rejection(catalog.updateTableProperties(t.tableId, () => { throw mine; }))).toBe(mine);
      const after = await catalog.updateTableProperties(t.tableId, { note: 'n' });
      expect(after.properties).toMatchObject({ owner: 'a', note: 'n' });
    });

    it('driver.transaction: a statement run before the callback threw is rolled back; a thrown non-Error value comes out too', async () => {
      const t = await table();
      const mine = new TypeError('after a write');
      const err = await rejection(driver.transaction(async (tx) => {
        await tx.query('UPDATE table_info SET properties = $2::json WHERE table_id = $1', [t.tableId, JSON.stringify({ owner: 'changed' })]);
        throw mine;
      }));
      expect(err).toBe(mine);
      expect((await catalog.getTableById(t.tableId)).properties.owner).toBe('a');
      expect(await rejection(driver.transaction(async () => { throw 'a string'; }))).toBe('a string');
      // a database error in the callback is still the mapped one
      const db = await rejection(driver.transaction((tx) => tx.query('SELECT * FROM no_such_table_here')));
      expect(db).toMatchObject({ kind: 'Catalog', code: 'CATALOG_SCHEMA' });
    });
  });
}

describe('a request over the catalog server\'s frame limit (L4)', () => {
  it('fails before it is sent, InvalidArgument naming the statement and its size; the connection stays', async () => {
    const driver = (await servedDriver()) as SocketDriver;
    driver.maxRequestBytes = 64 * 1024;
    const catalog = new Catalog(driver);
    try {
      const t = await catalog.createTable({ name: 'big_props', path: join(dir, 'tables', 'big_props'), schema });
      const err = await rejection(catalog.updateTableProperties(t.tableId, { huge: 'y'.repeat(100_000) }));
      expect(err).toBeInstanceOf(LakeSoulError);
      expect(err).toMatchObject({
        kind: 'InvalidArgument', retryable: false,
        message: expect.stringMatching(/^the statement 'UPDATE table_info SET properties .* with its parameters is \d+ bytes, over the 65536 bytes a request to the catalog server of .* may hold: store less/),
        context: { statement: expect.stringMatching(/^UPDATE table_info/), maxBytes: 65536 },
      });
      expect(driver.connectionLost).toBe(false);
      expect((await catalog.updateTableProperties(t.tableId, { small: 'y' })).properties.small).toBe('y');
      expect((await catalog.getTableById(t.tableId)).properties.huge).toBeUndefined();
      // a parameter that does not serialize fails the same way, at once (it was sent nowhere and waited 120 s)
      await expect(driver.query('SELECT $1', [() => 1])).rejects.toMatchObject({ kind: 'InvalidArgument', message: expect.stringMatching(/a parameter does not serialize/) });
      expect((await driver.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
    } finally {
      await catalog.close();
    }
  }, 30_000);
});
