/**
 * SQLSTATE class 53 (insufficient resources) from a real database, PGlite and the PostgreSQL server
 * of the test environment: a full catalog disk reached users as a bare internal error. The database
 * raises the errors itself (a function, a trigger on a catalog table of the test's own schema), so
 * the driver's mapping and the commit path see them as they come from a full disk.
 *
 * Also on both: a commit whose phase-1 rows (data_commit_info, committed = false) are deleted before
 * phase 2, as a tool that cleans up uncommitted commits could (a trigger on partition_info deletes
 * them inside phase 2): it must fail and commit nothing, not insert versions whose snapshots name
 * commits no reader finds. And the tool that deletes them rightly (`Catalog.purgeAbandonedCommits`,
 * which cleanup runs): only rows no version names, older than its cut-off, of its own table.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int64, Schema } from 'apache-arrow';
import pg from 'pg';
import { Catalog } from './catalog.js';
import { LakeSoulError } from './errors.js';
import { PgDriver } from './pg-driver.js';
import { PGliteDriver } from './pglite-driver.js';

function testUrl(): string {
  const url = process.env.LAKESOUL_TEST_PG_URL;
  if (!url) throw new Error('LAKESOUL_TEST_PG_URL is not set: run via pnpm test (node scripts/test-env.mjs -- vitest run ...) to get a PostgreSQL server');
  return url;
}

const schema = `resources_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

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

describe.each(DRIVERS)('SQLSTATE class 53 on %s', (_label, open) => {
  let catalog: Catalog;
  beforeAll(async () => {
    catalog = await open();
    await catalog.bootstrap();
    // raises the condition named by its argument, as the server does when a resource runs out
    await catalog.driver.query(`CREATE FUNCTION lakesoul_test_raise(cond text) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        IF cond = 'disk_full' THEN RAISE EXCEPTION 'could not extend file "base/5/16384": No space left on device' USING ERRCODE = 'disk_full';
        ELSIF cond = 'out_of_memory' THEN RAISE EXCEPTION 'out of memory' USING ERRCODE = 'out_of_memory';
        ELSIF cond = 'too_many_connections' THEN RAISE EXCEPTION 'sorry, too many clients already' USING ERRCODE = 'too_many_connections';
        ELSIF cond = 'cannot_connect_now' THEN RAISE EXCEPTION 'the database system is starting up' USING ERRCODE = 'cannot_connect_now';
        ELSIF cond = 'protocol_violation' THEN RAISE EXCEPTION 'bind message has 4464 parameter formats but 0 parameters' USING ERRCODE = 'protocol_violation';
        ELSE RAISE EXCEPTION 'out of shared memory' USING ERRCODE = 'configuration_limit_exceeded';
        END IF;
      END $$`);
  }, 120_000);
  afterAll(async () => catalog?.close());

  it('maps each to a Catalog error naming the exhausted resource, with its code and retryable flag', async () => {
    const raised = (cond: string) => catalog.driver.query('SELECT lakesoul_test_raise($1)', [cond]).then(() => expect.unreachable(), (e: unknown) => e as LakeSoulError);
    expect(await raised('disk_full')).toMatchObject({
      kind: 'Catalog', code: 'CATALOG_DISK_FULL', retryable: false, context: { sqlState: '53100' },
      message: expect.stringMatching(/^catalog database disk full \(SQLSTATE 53100\): the PostgreSQL server has no space left to write; free disk space there, then run again: .*No space left on device/),
    });
    expect(await raised('out_of_memory')).toMatchObject({ kind: 'Catalog', code: 'CATALOG_OUT_OF_MEMORY', retryable: true, message: expect.stringMatching(/^catalog database out of memory \(SQLSTATE 53200\)/) });
    expect(await raised('too_many_connections')).toMatchObject({ kind: 'Catalog', code: 'CATALOG_UNAVAILABLE', retryable: true, message: expect.stringMatching(/^catalog database unavailable: too many connections \(SQLSTATE 53300\)/) });
    expect(await raised('cannot_connect_now')).toMatchObject({ kind: 'Catalog', code: 'CATALOG_UNAVAILABLE', retryable: true, message: expect.stringMatching(/^catalog database unavailable: the server is starting up or shutting down \(SQLSTATE 57P03\)/) });
    // not a connection problem: a retry sends the same statement again
    expect(await raised('protocol_violation')).toMatchObject({ kind: 'Catalog', code: 'CATALOG_PROTOCOL_VIOLATION', retryable: false, context: { sqlState: '08P01' }, message: expect.stringMatching(/^catalog database refused a statement it could not parse \(SQLSTATE 08P01/) });
    expect(await raised('configuration_limit_exceeded')).toMatchObject({ kind: 'Catalog', code: 'CATALOG_RESOURCE_EXHAUSTED', retryable: false, message: expect.stringMatching(/^catalog database resource limit reached \(SQLSTATE 53400 configuration_limit_exceeded\)/) });
  });

  it.each(['data_commit_info', 'partition_info'])('a commit whose insert into %s meets a full disk says so, and commits nothing', async (target) => {
    const name = `full_${target}_${randomUUID().slice(0, 8)}`;
    const t = await catalog.createTable({ name, path: `file:///tmp/lakesoul-resources/${name}`, schema: new Schema([new Field('id', new Int64(), false)]) });
    const file = (k: string) => ({ path: `${t.path}/part-${k}.parquet`, op: 'add' as const, size: 10n, existCols: ['id'] });
    await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [file('a')] }] });
    const trigger = `lakesoul_test_full_${target}`;
    await catalog.driver.query(`CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM lakesoul_test_raise('disk_full'); RETURN NEW; END $$`);
    await catalog.driver.query(`CREATE TRIGGER ${trigger} BEFORE INSERT ON ${target} FOR EACH ROW EXECUTE FUNCTION ${trigger}()`);
    try {
      const e = await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [file('b')] }] }).then(() => expect.unreachable(), (x: unknown) => x);
      expect(e).toMatchObject({ kind: 'Catalog', code: 'CATALOG_DISK_FULL', retryable: false, context: { sqlState: '53100', table: `default.${name}` } });
      expect((e as Error).message).toMatch(new RegExp(`^commit AppendCommit to table 'default\\.${name}' failed, nothing was committed: catalog database disk full \\(SQLSTATE 53100\\)`));
    } finally {
      await catalog.driver.query(`DROP TRIGGER ${trigger} ON ${target}`);
    }
    const history = await catalog.history(t.tableId);
    expect(history.map((v) => v.version)).toEqual([0]);
    const rows = await catalog.driver.query<{ n: number }>('SELECT count(*)::int AS n FROM data_commit_info WHERE table_id = $1', [t.tableId]);
    expect(rows.rows[0]!.n, 'no commit row of the failed commit stays').toBe(1);
  });

  // A catalog that cannot be reached before phase 2 (a killed catalog server, a database restarting):
  // the error said only "catalog database unavailable", naming neither the table nor whether running
  // the write again would add its rows twice (a hunt of concurrent CLI processes).
  it.each(['data_commit_info', 'partition_info'])('a commit whose insert into %s meets an unavailable catalog names the table and says nothing was committed', async (target) => {
    const name = `gone_${target}_${randomUUID().slice(0, 8)}`;
    const t = await catalog.createTable({ name, path: `file:///tmp/lakesoul-resources/${name}`, schema: new Schema([new Field('id', new Int64(), false)]) });
    const file = (k: string) => ({ path: `${t.path}/part-${k}.parquet`, op: 'add' as const, size: 10n, existCols: ['id'] });
    const trigger = `lakesoul_test_gone_${target}`;
    await catalog.driver.query(`CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM lakesoul_test_raise('cannot_connect_now'); RETURN NEW; END $$`);
    await catalog.driver.query(`CREATE TRIGGER ${trigger} BEFORE INSERT ON ${target} FOR EACH ROW EXECUTE FUNCTION ${trigger}()`);
    try {
      const e = await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', maxRetries: 0, partitions: [{ partitionDesc: '-5', files: [file('b')] }] }).then(() => expect.unreachable(), (x: unknown) => x);
      expect(e).toMatchObject({ kind: 'Catalog', code: 'CATALOG_UNAVAILABLE', retryable: true, context: { table: `default.${name}`, op: 'AppendCommit' } });
      expect((e as Error).message).toMatch(new RegExp(`^commit AppendCommit to table 'default\\.${name}': catalog database unavailable: the server is starting up or shutting down \\(SQLSTATE 57P03\\).*; nothing was committed$`, 's'));
    } finally {
      await catalog.driver.query(`DROP TRIGGER ${trigger} ON ${target}`);
    }
    expect(await catalog.history(t.tableId)).toEqual([]);
  });

  it('a commit whose table lookup meets an unavailable catalog names the table by its id, in context.tableId (context.table held "id <id>")', async () => {
    const id = `table_${randomUUID()}`;
    const lookup = catalog.getTableById;
    catalog.getTableById = () => Promise.reject(new LakeSoulError('Catalog', 'lost the connection to the catalog server', { code: 'CATALOG_UNAVAILABLE', retryable: true }));
    try {
      const e = await catalog.commit({ tableId: id, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [] }] }).then(() => expect.unreachable(), (x: unknown) => x);
      expect(e).toMatchObject({ code: 'CATALOG_UNAVAILABLE', retryable: true, context: { tableId: id, op: 'AppendCommit' }, message: `commit AppendCommit to table with id '${id}': lost the connection to the catalog server; nothing was committed` });
      expect((e as LakeSoulError).context.table).toBeUndefined();
    } finally {
      catalog.getTableById = lookup;
    }
  });
});

describe.each(DRIVERS)('commit rows deleted between the phases, and abandoned ones, on %s', (_label, open) => {
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

  it('purgeAbandonedCommits deletes uncommitted rows no version names, older than the cut-off, of that table only', async () => {
    const day = 86_400_000;
    const tables = await Promise.all(['a', 'b'].map((k) => {
      const name = `abandoned_${k}_${randomUUID().slice(0, 8)}`;
      return catalog.createTable({ name, path: `file:///tmp/lakesoul-abandoned/${name}`, schema: new Schema([new Field('id', new Int64(), false)]) });
    }));
    const [t, other] = tables as [typeof tables[0], typeof tables[0]];
    const file = (k: string) => ({ path: `${t.path}/part-${k}.parquet`, op: 'add' as const, size: 10n, existCols: ['id'] });
    await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [file('a')] }] });
    // committed=false but named by a version, as LakeSoul-Python leaves its commits
    const python = await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [file('p')] }] });
    await catalog.driver.query('UPDATE data_commit_info SET committed = false, timestamp = $2 WHERE commit_id = $1::uuid',
      [python.commitIds.get('-5'), Date.now() - 2 * day]);
    // phase 1 of writers that never reached phase 2: two days ago, a minute ago, and another table's
    const phaseOne = async (tableId: string, k: string, at: number): Promise<string> => {
      const id = randomUUID();
      await catalog.driver.query(`INSERT INTO data_commit_info (table_id, partition_desc, commit_id, file_ops, commit_op, committed, timestamp)
        VALUES ($1, '-5', $2::uuid, ARRAY[ROW($3, 'add', 10, 'id')::data_file_op], 'AppendCommit', false, $4)`, [tableId, id, `${t.path}/part-${k}.parquet`, at]);
      return id;
    };
    // another engine's version naming three new commits at once, left uncommitted: the middle one is
    // at neither end of any snapshot
    const three = [];
    for (const k of ['first', 'middle', 'last']) three.push(await phaseOne(t.tableId, k, Date.now() - 2 * day));
    await catalog.driver.query(`INSERT INTO partition_info (table_id, partition_desc, version, commit_op, snapshot, expression, domain)
      SELECT table_id, partition_desc, version + 1, 'AppendCommit', snapshot || $2::uuid[], '', domain FROM partition_info
       WHERE table_id = $1 ORDER BY version DESC LIMIT 1`, [t.tableId, three]);
    const old = await phaseOne(t.tableId, 'old', Date.now() - 2 * day);
    const recent = await phaseOne(t.tableId, 'recent', Date.now() - 60_000);
    const foreign = await phaseOne(other.tableId, 'foreign', Date.now() - 2 * day);
    const commitIds = async (tableId: string) => (await catalog.driver.query<{ id: string }>(
      'SELECT commit_id::text AS id FROM data_commit_info WHERE table_id = $1 ORDER BY 1', [tableId])).rows.map((r) => r.id);
    const before = await commitIds(t.tableId);
    expect(before).toHaveLength(7);
    // what cleanup takes for committed: every row a version names, at an end of its snapshot or not
    const named = ['a', 'p', 'first', 'middle', 'last'].map((k) => file(k).path);
    expect((await catalog.tableFileSets(t.tableId, Date.now())).committed).toEqual([...named].sort());

    expect(await catalog.purgeAbandonedCommits(t.tableId, Date.now() - day, { dryRun: true })).toBe(1);
    expect(await commitIds(t.tableId), 'a dry run deletes nothing').toEqual(before);
    expect(await catalog.purgeAbandonedCommits(t.tableId, Date.now() - day)).toBe(1);
    expect(await commitIds(t.tableId)).toEqual(before.filter((id) => id !== old));
    expect(await commitIds(t.tableId)).toContain(recent);
    expect(await commitIds(other.tableId)).toEqual([foreign]);
    expect((await catalog.getSnapshot(t.tableId)).flatMap((p) => p.files.map((f) => f.path))).toEqual(named);
    expect(await catalog.purgeAbandonedCommits(t.tableId, Date.now() - day)).toBe(0);
  });
});
