/**
 * Catalog findings of hunter "g" (H1-H3, M2, L1-L3, L5), on PGlite and on the real PostgreSQL server.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Field, Int64, Schema } from 'apache-arrow';
import { Catalog, pathWithin } from './catalog.js';
import { LakeSoulError } from './errors.js';
import { PGliteDriver } from './pglite-driver.js';
import { PgDriver } from './pg-driver.js';
import type { SqlDriver } from './sql-driver.js';

const schema = new Schema([new Field('id', new Int64(), false)]);
const uniq = () => randomUUID().slice(0, 8);

async function failure(p: Promise<unknown>): Promise<LakeSoulError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(LakeSoulError);
    return e as LakeSoulError;
  }
  throw new Error('expected a LakeSoulError');
}

const pgSchema = `hunt_g_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const backends: Array<[string, () => Promise<SqlDriver>]> = [
  ['PGlite', () => PGliteDriver.open()],
  ['PostgreSQL', () => PgDriver.connect({ url: process.env.LAKESOUL_TEST_PG_URL!, schema: pgSchema })],
];

afterAll(async () => {
  if (!process.env.LAKESOUL_TEST_PG_URL) return;
  const c = new pg.Client({ connectionString: process.env.LAKESOUL_TEST_PG_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`);
  await c.end();
});

describe('pathWithin compares file: paths as the native IO reads them (H1)', () => {
  it('decodes percent escapes of file: paths, not of s3 keys', () => {
    expect(pathWithin('file:///w/my lake', 'file:///w/my%20lake')).toBe(true);
    expect(pathWithin('file:///w/my%20lake/x.parquet', 'file:///w/my lake')).toBe(true);
    expect(pathWithin('file:///w/caf%C3%A9/a', 'file:///w/café')).toBe(true);
    expect(pathWithin('file:///w/q%2Fr/a', 'file:///w/q')).toBe(true);
    expect(pathWithin('file:///w/a%2E%2E/b', 'file:///w/a')).toBe(false);
    expect(pathWithin('file:///w/x/%2E%2E/b', 'file:///w/b')).toBe(true);
    expect(pathWithin('file:///w/my lake2', 'file:///w/my%20lake')).toBe(false);
    expect(pathWithin('s3://b/my lake', 's3://b/my%20lake')).toBe(false);
  });
});

for (const [label, open] of backends) {
  describe.skipIf(label === 'PostgreSQL' && !process.env.LAKESOUL_TEST_PG_URL)(`catalog (hunt g) on ${label}`, () => {
    let catalog: Catalog;
    beforeAll(async () => {
      catalog = new Catalog(await open());
      await catalog.bootstrap();
    }, 60_000);
    afterAll(async () => { await catalog?.close(); });

    it('H1: a path equal to or inside another table\'s decoded path is refused', async () => {
      const base = `file:///tmp/hunt-g-${uniq()}`;
      await catalog.createTable({ name: `wl_${uniq()}`, path: `${base}/my%20lake`, schema });
      const same = await failure(catalog.createTable({ name: `tsl_${uniq()}`, path: `${base}/my lake`, schema }));
      expect(same.code).toBe('TABLE_PATH_EXISTS');
      const inside = await failure(catalog.createTable({ name: `in_${uniq()}`, path: `${base}/my lake/sub`, schema }));
      expect(inside.code).toBe('TABLE_PATH_OVERLAP');
      await catalog.createTable({ name: `caf_${uniq()}`, path: `${base}/café`, schema });
      expect((await failure(catalog.createTable({ name: `caf2_${uniq()}`, path: `${base}/caf%C3%A9`, schema }))).code).toBe('TABLE_PATH_EXISTS');
      // s3 keys are compared as written
      await catalog.createTable({ name: `s1_${uniq()}`, path: `s3://b-${uniq()}/q%20r`, schema });
    });

    it('H1: foreignClaimsUnder finds a table and files stored in another spelling', async () => {
      const base = `file:///tmp/hunt-g-${uniq()}`;
      const wheel = await catalog.createTable({ name: `wl_${uniq()}`, path: `${base}/my%20lake`, schema });
      await catalog.commit({
        tableId: wheel.tableId, op: 'AppendCommit',
        partitions: [{ partitionDesc: '-5', files: [{ path: `${base}/my%20lake/part-a_0000.parquet`, op: 'add', size: 10n, existCols: ['id'] }] }],
      });
      const claims = await catalog.foreignClaimsUnder(`${base}/my lake`, { exceptTableId: 'none' });
      expect(claims.tablePaths).toEqual([`${base}/my%20lake`]);
      expect(claims.files).toEqual([`${base}/my%20lake/part-a_0000.parquet`]);
      const fromParent = await catalog.foreignClaimsUnder(`${base}`, { exceptTableId: 'none' });
      expect(fromParent.tablePaths).toEqual([`${base}/my%20lake`]);
    });
  });
}
