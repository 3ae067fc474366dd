/**
 * Listings come back in the order of their names' UTF-16 code units whatever the database's collation:
 * a PostgreSQL database created with an ICU locale (`en-US`, as managed services default to) listed
 * `aa` before `Zz` and `ça` beside `cb`, where PGlite (C collation) lists `Zz` first, so one catalog
 * listed tables, namespaces and partitions in another order than the other.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Field, Int64, Schema, Utf8 } from 'apache-arrow';
import { Catalog } from './catalog.js';
import { PGliteDriver } from './pglite-driver.js';
import { PgDriver } from './pg-driver.js';
import type { SqlDriver } from './sql-driver.js';

const NAMES = ['cb', 'ça', 'ib', 'ıa', 'Zz', 'aa', 'öa', 'ob', 'a_b', 'a-b', 'A'];
const codeUnitOrder = (xs: string[]) => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
const schema = new Schema([new Field('id', new Int64(), false), new Field('p', new Utf8(), false)]);
const database = `collation_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

function urlOf(db: string): string {
  const url = new URL(process.env.LAKESOUL_TEST_PG_URL!);
  url.pathname = `/${db}`;
  return url.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: process.env.LAKESOUL_TEST_PG_URL });
  await c.connect();
  try { return await fn(c); } finally { await c.end(); }
}

const backends: Array<[string, () => Promise<SqlDriver>]> = [
  ['PGlite', () => PGliteDriver.open()],
  ['PostgreSQL with an ICU en-US collation', async () => {
    await admin((c) => c.query(`CREATE DATABASE ${database} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`));
    return PgDriver.connect({ url: urlOf(database) });
  }],
];

afterAll(async () => {
  if (!process.env.LAKESOUL_TEST_PG_URL) return;
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
});

for (const [label, open] of backends) {
  // The test command (scripts/test-env.mjs) always provides LAKESOUL_TEST_PG_URL; a bare
  // `vitest run` of this file without it runs the PGlite half only.
  describe.skipIf(label !== 'PGlite' && !process.env.LAKESOUL_TEST_PG_URL)(`listing order on ${label}`, () => {
    let catalog: Catalog;
    let tableId: string;
    beforeAll(async () => {
      catalog = new Catalog(await open());
      await catalog.bootstrap();
      for (const n of NAMES) {
        await catalog.createNamespace(n);
        await catalog.createTable({ name: n, namespace: 'default', path: `file:///tmp/collation/${randomUUID()}`, schema, rangePartitions: ['p'] });
      }
      const t = await catalog.createTable({ name: 'parts', path: `file:///tmp/collation/${randomUUID()}`, schema, rangePartitions: ['p'] });
      tableId = t.tableId;
      for (const n of NAMES) {
        const d = `p=${n}`;
        await catalog.commit({ tableId, op: 'AppendCommit', partitions: [{ partitionDesc: d, files: [{ path: `${t.path}/${randomUUID()}.parquet`, op: 'add', size: 1n, existCols: ['id'] }] }] });
      }
    }, 60_000);
    afterAll(async () => { await catalog?.close(); });

    it('tables, namespaces, partitions and history in code-unit order', async () => {
      const tables = (await catalog.listTables('default')).map((t) => t.name).filter((n) => n !== 'parts');
      expect(tables).toEqual(codeUnitOrder(NAMES));
      const namespaces = (await catalog.listNamespaces()).map((n) => n.name).filter((n) => n !== 'default');
      expect(namespaces).toEqual(codeUnitOrder(NAMES));
      const descs = codeUnitOrder(NAMES.map((n) => `p=${n}`));
      expect((await catalog.listPartitions(tableId)).map((p) => p.partitionDesc)).toEqual(descs);
      expect((await catalog.historySummary(tableId)).map((v) => v.partitionDesc)).toEqual(descs);
    });
  });
}
