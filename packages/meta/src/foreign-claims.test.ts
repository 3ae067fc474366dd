/**
 * `foreignClaimsUnder` finds other tables' paths and named files under a location in every spelling
 * (`//`, `.`, `..`, percent escapes, characters beyond ASCII), and its statement sends to JavaScript
 * only the paths under the location (and those with a `..` segment), not every path holding a `%`
 * or `\`: on PGlite and the real PostgreSQL server.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Field, Int64, Schema } from 'apache-arrow';
import { Catalog } from './catalog.js';
import { PGliteDriver } from './pglite-driver.js';
import { PgDriver } from './pg-driver.js';
import type { SqlDriver } from './sql-driver.js';

const schema = new Schema([new Field('id', new Int64(), false)]);
const uniq = () => randomUUID().slice(0, 8);
const pgSchema = `claims_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
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

for (const [label, open] of backends) {
  // The test command (scripts/test-env.mjs) always provides LAKESOUL_TEST_PG_URL; a bare
  // `vitest run` of this file without it runs the PGlite half only.
  describe.skipIf(label === 'PostgreSQL' && !process.env.LAKESOUL_TEST_PG_URL)(`foreignClaimsUnder on ${label}`, () => {
    let catalog: Catalog;
    beforeAll(async () => {
      catalog = new Catalog(await open());
      await catalog.bootstrap();
    }, 60_000);
    afterAll(async () => { await catalog?.close(); });

    /** A table whose path is stored as another engine spelled it, with a commit naming `files`. */
    async function foreign(path: string, files: string[] = []): Promise<void> {
      const t = await catalog.createTable({ name: `f_${uniq()}`, path: `file:///tmp/claims-${uniq()}`, schema });
      await catalog.driver.query('UPDATE table_info SET table_path = $1 WHERE table_id = $2', [path, t.tableId]);
      if (files.length === 0) return;
      await catalog.commit({
        tableId: t.tableId, op: 'AppendCommit',
        partitions: [{ partitionDesc: '-5', files: files.map((f) => ({ path: f, op: 'add' as const, size: 1n, existCols: ['id'] })) }],
      });
    }

    /** The claims, and how many paths the statement returned to JavaScript. */
    async function claims(path: string): Promise<{ tablePaths: string[]; files: string[]; returned: number }> {
      const driver = catalog.driver;
      const query = driver.query.bind(driver);
      let returned = 0;
      driver.query = (async (...args: Parameters<SqlDriver['query']>) => {
        const r = await query(...args);
        returned += r.rows.length;
        return r;
      }) as SqlDriver['query'];
      try {
        return { ...(await catalog.foreignClaimsUnder(path, { exceptTableId: 'none' })), returned };
      } finally {
        driver.query = query;
      }
    }

    it('finds local paths spelled with //, . and .. segments, percent escapes and beyond ASCII', async () => {
      const w = `/tmp/claims-${uniq()}`;
      await foreign(`file://${w}//a/s1`, [`file://${w}//a/s1/p.parquet`]);
      await foreign(`file:${w}/./a/s2`);
      await foreign(`file://${w}/x/../a/s3`);
      await foreign(`file://${w}/%61/s4`, [`file://${w}/%61/s4/caf%C3%A9.parquet`]);
      await foreign(`file://localhost${w}/a/café/s5`);
      // elsewhere: not claims
      await foreign(`file://${w}/ab/s6`);
      await foreign(`file://${w}/x/../ab/s7`);
      const c = await claims(`file://${w}/a`);
      // `x/../a/s3` is found by pathWithin as stored, so it is not listed a second time
      expect(c.tablePaths).toEqual([
        `file://${w}//a/s1`, `file://${w}/%61/s4`, `file://${w}/x/../a/s3`, `file://localhost${w}/a/café/s5`, `file:${w}/./a/s2`,
      ].sort());
      expect(c.files).toEqual([`file://${w}//a/s1/p.parquet`, `file://${w}/%61/s4/caf%C3%A9.parquet`, `file://${w}/a/s1/p.parquet`].sort());
    });

    it('finds s3 paths with . and // segments, listed also under the path asked for', async () => {
      const b = `b-${uniq()}`;
      await foreign(`s3://${b}/x/./t`, [`s3://${b}/x/./t/p.parquet`]);
      await foreign(`s3a://${b}//x/u`);
      await foreign(`s3://${b}/xy/v`);
      const c = await claims(`s3://${b}/x`);
      expect(c.tablePaths).toEqual([`s3://${b}/x/./t`, `s3://${b}/x/t`, `s3://${b}/x/u`, `s3a://${b}//x/u`]);
      expect(c.files).toEqual([`s3://${b}/x/./t/p.parquet`, `s3://${b}/x/t/p.parquet`]);
    });

    it('sends only the paths under the location to JavaScript, not every path holding % or \\', async () => {
      const w = `/tmp/claims-${uniq()}`;
      const many = Array.from({ length: 200 }, (_, i) => `file://${w}/other%20lake/p%25${i}\\x.parquet`);
      await foreign(`file://${w}/other%20lake`, many);
      await foreign(`file://${w}/mine/in%20here`, [`file://${w}/mine/in%20here/f.parquet`]);
      const c = await claims(`file://${w}/mine`);
      expect(c.tablePaths).toEqual([`file://${w}/mine/in%20here`]);
      expect(c.files).toEqual([`file://${w}/mine/in%20here/f.parquet`]);
      // the 200 files elsewhere, and the other paths earlier tests stored elsewhere, are filtered in
      // the statement; the two with a `..` segment (the first test's) are decided in JavaScript
      expect(c.returned).toBe(4);
    });

    it('answers for locations of thousands of characters (a pattern spelling all of them hung PGlite\'s next query)', async () => {
      const w = `/tmp/claims-${uniq()}`;
      for (const ch of ['a', 'é']) {
        const long = `file://${w}/${ch.repeat(2000)}`;
        await foreign(`${long}/sub`, [`${long}/sub/f.parquet`]);
        await foreign(`${long.slice(0, -1)}b/sub`);
        for (let i = 0; i < 3; i++) {
          const c = await claims(long);
          expect(c.tablePaths).toEqual([`${long}/sub`]);
          expect(c.files).toEqual([`${long}/sub/f.parquet`]);
        }
      }
    }, 60_000);
  });
}
