/**
 * A commit whose phase-1 rows (data_commit_info, committed = false) are deleted before phase 2 (as a
 * tool that cleans up uncommitted commits could): it must fail and commit nothing, not insert
 * versions whose snapshots name commits no reader finds. On PGlite and the test's PostgreSQL server;
 * a trigger on partition_info does the deleting inside phase 2, right before the rows are marked.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int64, Schema } from 'apache-arrow';
import pg from 'pg';
import { Catalog } from './catalog.js';
import { PgDriver } from './pg-driver.js';
import { PGliteDriver } from './pglite-driver.js';

function testUrl(): string {
  const url = process.env.LAKESOUL_TEST_PG_URL;
  if (!url) throw new Error('LAKESOUL_TEST_PG_URL is not set: run via pnpm test (node scripts/test-env.mjs -- vitest run ...) to get a PostgreSQL server');
  return url;
}

const schema = `commit_rows_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

const DRIVERS: [string, () => Promise<Catalog>][] = [
  ['PGlite', async () => new Catalog(await PGliteDriver.open({}))],
  ['PostgreSQL', async () => new Catalog(await PgDriver.connect({ url: testUrl(), schema }))],
];

afterAll(async () => {
  const c = new pg.Client({ connectionString: testUrl() });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
});

describe.each(DRIVERS)('commit rows deleted between the phases, on %s', (_label, open) => {
  let catalog: Catalog;
  beforeAll(async () => {
    catalog = await open();
    await catalog.bootstrap();
  }, 120_000);
  afterAll(async () => catalog?.close());

  it('fails with COMMIT_ROWS_MISSING naming the table, and commits nothing; the next commit lands', async () => {
    const name = `rows_${randomUUID().slice(0, 8)}`;
    const t = await catalog.createTable({ name, path: `file:///tmp/lakesoul-commit-rows/${name}`, schema: new Schema([new Field('id', new Int64(), false)]) });
    const file = (k: string) => ({ path: `${t.path}/part-${k}.parquet`, op: 'add' as const, size: 10n, existCols: ['id'] });
    await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [file('a')] }] });
    await catalog.driver.query(`CREATE FUNCTION lakesoul_test_drop_pending() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN DELETE FROM data_commit_info WHERE table_id = NEW.table_id AND NOT committed AND commit_id = ANY(NEW.snapshot); RETURN NEW; END $$`);
    await catalog.driver.query('CREATE TRIGGER lakesoul_test_drop_pending AFTER INSERT ON partition_info FOR EACH ROW EXECUTE FUNCTION lakesoul_test_drop_pending()');
    try {
      const e = await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [file('b')] }] }).then(() => expect.unreachable(), (x: unknown) => x);
      expect(e).toMatchObject({ kind: 'Conflict', code: 'COMMIT_ROWS_MISSING', retryable: true, context: { table: `default.${name}` } });
      expect((e as Error).message).toMatch(new RegExp(`^commit AppendCommit to table 'default\\.${name}': 1 of its 1 commit rows \\(data_commit_info\\) were deleted before it was applied`));
    } finally {
      await catalog.driver.query('DROP TRIGGER lakesoul_test_drop_pending ON partition_info');
      await catalog.driver.query('DROP FUNCTION lakesoul_test_drop_pending()');
    }
    expect((await catalog.history(t.tableId)).map((v) => v.version)).toEqual([0]);
    expect((await catalog.getSnapshot(t.tableId)).flatMap((p) => p.files.map((f) => f.path))).toEqual([file('a').path]);
    await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [file('c')] }] });
    expect((await catalog.getSnapshot(t.tableId)).flatMap((p) => p.files.map((f) => f.path))).toEqual([file('a').path, file('c').path]);
  });
});
