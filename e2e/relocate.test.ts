/**
 * Relocating tables after their files moved (a home or warehouse moved): `Catalog.relocateTables`
 * rewrites the catalog's absolute paths, on PGlite and on PostgreSQL, and the moved tables read,
 * write and keep their history.
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Field, Int64, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { openTestLakehouse, rowsOf, sortRows, type CatalogKind } from './io-harness.js';

const schema = new Schema([new Field('id', new Int64(), false), new Field('day', new Utf8(), false), new Field('v', new Utf8(), true)]);
const batch = (ids: bigint[], v: string) => new Table({
  id: vectorFromArray(ids, new Int64()), day: vectorFromArray(ids.map((i) => (i % 2n ? 'd1' : 'd2')), new Utf8()), v: vectorFromArray(ids.map(() => v), new Utf8()),
});

/**
 * Stores a table's path and its files' paths with the prefix `from` spelled `to`, as another engine
 * would have stored them (Hadoop's `file:/`, the Python wheel's percent-encoding).
 */
async function respell(env: { lh: { catalog: { driver: { query: (sql: string, params: unknown[]) => Promise<unknown> } } } }, tableId: string, from: string, to: string): Promise<void> {
  const db = env.lh.catalog.driver;
  const moved = (col: string) => `CASE WHEN left(${col}, length($2)) = $2 THEN $3 || substr(${col}, length($2) + 1) ELSE ${col} END`;
  await db.query(`UPDATE table_info SET table_path = ${moved('table_path')} WHERE table_id = $1`, [tableId, from, to]);
  await db.query(`UPDATE table_path_id SET table_path = ${moved('table_path')} WHERE table_id = $1`, [tableId, from, to]);
  await db.query(`UPDATE data_commit_info d SET file_ops = ARRAY(
      SELECT ROW(${moved('u.path')}, u.file_op, u.size, u.file_exist_cols)::data_file_op
        FROM unnest(d.file_ops) WITH ORDINALITY AS u(path, file_op, size, file_exist_cols, n) ORDER BY u.n)
    WHERE d.table_id = $1`, [tableId, from, to]);
}

describe.each<CatalogKind>(['pglite', 'pg'])('relocateTables on %s', (kind) => {
  it('moves every table below a location to another after its files moved; they read, write and keep their history', async () => {
    const env = await openTestLakehouse(kind, 'local');
    const from = env.warehouse;
    const to = `${from}-moved`;
    try {
      const t = await env.lh.createTable('kept', schema, { primaryKeys: ['id'], rangePartitions: ['day'], hashBucketNum: 2 });
      await t.write(batch([1n, 2n, 3n, 4n], 'a'));
      await t.write(batch([2n, 3n], 'b'), { mode: 'upsert' });
      await t.compact();
      await t.write(batch([4n, 5n], 'c'), { mode: 'upsert' });
      const plain = await env.lh.createTable('plain', new Schema([new Field('id', new Int64(), false)]));
      await plain.write(new Table({ id: vectorFromArray([7n], new Int64()) }));
      const before = sortRows(rowsOf(await t.toArrow()), ['id']);
      const history = (await env.lh.catalog.history(t.info.tableId)).map((h) => `${h.partitionDesc}@${h.version}`);
      renameSync(fileURLToPath(from), fileURLToPath(to));

      const dry = await env.lh.catalog.relocateTables(from, `${to}/`, { dryRun: true });
      expect(dry.tables.map((x) => [x.name, x.from, x.to]).sort()).toEqual([
        ['default.kept', `${from}/default/kept`, `${to}/default/kept`],
        ['default.plain', `${from}/default/plain`, `${to}/default/plain`],
      ]);
      expect(dry.files).toBeGreaterThan(4);
      expect((await env.lh.catalog.getTable('kept')).path).toBe(`${from}/default/kept`); // a dry run changes nothing

      const done = await env.lh.catalog.relocateTables(from, to);
      expect(done).toEqual(dry);
      const moved = await env.lh.table('kept');
      expect(moved.info.path).toBe(`${to}/default/kept`);
      expect(sortRows(rowsOf(await moved.toArrow()), ['id'])).toEqual(before);
      expect((await env.lh.catalog.history(moved.info.tableId)).map((h) => `${h.partitionDesc}@${h.version}`)).toEqual(history);
      for (const p of await env.lh.catalog.getSnapshot(moved.info.tableId)) {
        for (const f of p.files) expect(f.path.startsWith(`${to}/default/kept/`)).toBe(true);
      }
      expect(rowsOf(await (await env.lh.table('plain')).toArrow())).toEqual([{ id: 7 }]);
      await moved.write(batch([6n], 'd'), { mode: 'upsert' });
      expect((await moved.toArrow()).numRows).toBe(6);
      expect((await env.lh.catalog.getTableByPath(`${to}/default/kept`)).name).toBe('kept');

      // nothing is left at the old location; a location that is not a URI is refused
      await expect(env.lh.catalog.relocateTables(from, to)).rejects.toMatchObject({ kind: 'NotFound', message: expect.stringContaining(`no table has its path at or below ${from}`) });
      await expect(env.lh.catalog.relocateTables('tmp/x', to)).rejects.toMatchObject({ kind: 'InvalidArgument', code: 'INVALID_TABLE_PATH' });
      // a table may not land on another table's path: nothing changes
      const other = await env.lh.createTable('other', schema);
      const clash = await env.lh.catalog.relocateTables(other.info.path, `${to}/default/plain`).catch((e: unknown) => e);
      expect(clash).toMatchObject({
        kind: 'AlreadyExists', code: 'TABLE_PATH_EXISTS',
        message: `relocate: table 'default.other' would move to ${to}/default/plain, which is the path of table 'default.plain' (${to}/default/plain); a table's files must not mix with another's: nothing was changed`,
      });
      expect(LakeSoulError.is(clash)).toBe(true);
      expect((await env.lh.catalog.getTable('other')).path).toBe(other.info.path);
    } finally {
      await env.close();
      rmSync(fileURLToPath(to), { recursive: true, force: true });
    }
  });

  it("moves tables another engine stored in its own spelling of the location (Hadoop's file:/, s3a://), keeping that spelling", async () => {
    const env = await openTestLakehouse(kind, 'local');
    const from = env.warehouse;
    const to = `${from}-moved`;
    const db = env.lh.catalog.driver;
    try {
      // as LakeSoul's Spark and Flink store a local table: the table's and its files' paths as file:/dir
      const spark = await env.lh.createTable('spark_made', schema, { primaryKeys: ['id'], hashBucketNum: 2 });
      await spark.write(batch([1n, 2n, 3n], 'a'));
      await spark.write(batch([2n], 'b'), { mode: 'upsert' });
      await respell(env, spark.info.tableId, 'file:///', 'file:/');
      const ours = await env.lh.createTable('ours', schema);
      await ours.write(batch([9n], 'x'));
      const before = sortRows(rowsOf(await (await env.lh.table('spark_made')).toArrow()), ['id']);
      // a catalog-only table on S3 in Hadoop's s3a:// spelling (no object is read here)
      const s3 = await env.lh.catalog.createTable({ name: 's3a_made', schema: new Schema([new Field('id', new Int64(), false)]), path: 's3://bucket/wh/s3a_made' });
      await db.query('UPDATE table_info SET table_path = $2 WHERE table_id = $1', [s3.tableId, 's3a://bucket/wh/s3a_made']);
      await db.query('UPDATE table_path_id SET table_path = $2 WHERE table_id = $1', [s3.tableId, 's3a://bucket/wh/s3a_made']);
      renameSync(fileURLToPath(from), fileURLToPath(to));

      // the old location given in Hadoop's spelling too
      const done = await env.lh.catalog.relocateTables(from.replace(/^file:\/\/\//, 'file:/'), to);
      const hadoopTo = to.replace(/^file:\/\/\//, 'file:/');
      expect(done.tables.map((x) => [x.name, x.to]).sort()).toEqual([['default.ours', `${to}/default/ours`], ['default.spark_made', `${hadoopTo}/default/spark_made`]]);
      const moved = await env.lh.table('spark_made');
      expect(moved.info.path).toBe(`${hadoopTo}/default/spark_made`);
      for (const p of await env.lh.catalog.getSnapshot(moved.info.tableId)) {
        for (const f of p.files) expect(f.path.startsWith(`${hadoopTo}/default/spark_made/`)).toBe(true);
      }
      expect(sortRows(rowsOf(await moved.toArrow()), ['id'])).toEqual(before);
      expect(rowsOf(await (await env.lh.table('ours')).toArrow())).toEqual([{ id: 9, day: 'd1', v: 'x' }]);

      // a table stored as s3a:// moves with its s3:// location, spelled as it was
      const s3Done = await env.lh.catalog.relocateTables('s3://bucket/wh', 's3://other/wh');
      expect(s3Done.tables).toEqual([{ name: 'default.s3a_made', from: 's3a://bucket/wh/s3a_made', to: 's3a://other/wh/s3a_made' }]);
      expect((await env.lh.catalog.getTable('s3a_made')).path).toBe('s3a://other/wh/s3a_made');
      // to the root (normalized as file:///, with its slash): one slash between it and what follows,
      // each table in its spelling
      const toRoot = await env.lh.catalog.relocateTables(to, '/', { dryRun: true });
      expect(toRoot.tables.map((x) => x.to).sort()).toEqual(['file:///default/ours', 'file:/default/spark_made']);
      // landing on a table stored in another spelling of the same path is refused
      const clash = await env.lh.catalog.relocateTables(`${to}/default/ours`, `${to}/default/spark_made`).catch((e: unknown) => e);
      expect(clash).toMatchObject({
        kind: 'AlreadyExists', code: 'TABLE_PATH_EXISTS',
        message: `relocate: table 'default.ours' would move to ${to}/default/spark_made, which is the path of table 'default.spark_made' (${hadoopTo}/default/spark_made); a table's files must not mix with another's: nothing was changed`,
      });
    } finally {
      await env.close();
      rmSync(fileURLToPath(to), { recursive: true, force: true });
    }
  });

  // found by a hunt of relocate
  it('moves each table once when the new location lies inside the old one in another spelling (it moved them twice: sub/sub)', async () => {
    const env = await openTestLakehouse(kind, 'local');
    const from = env.warehouse;
    const dir = fileURLToPath(from);
    try {
      const t = await env.lh.createTable('t', schema, { primaryKeys: ['id'], hashBucketNum: 2 });
      await t.write(batch([1n, 2n], 'a'));
      const s3 = await env.lh.catalog.createTable({ name: 's3_made', schema: new Schema([new Field('id', new Int64(), false)]), path: 's3://bucket/wh/s3_made' });
      mkdirSync(join(dir, 'sub'));
      renameSync(join(dir, 'default'), join(dir, 'sub', 'default'));
      const localhost = `file://localhost${dir}/sub`;
      const dry = await env.lh.catalog.relocateTables(from, localhost, { dryRun: true });
      expect(dry.tables).toEqual([{ name: 'default.t', from: `${from}/default/t`, to: `${localhost}/default/t` }]);
      const done = await env.lh.catalog.relocateTables(from, localhost);
      expect(done).toEqual(dry);
      const moved = await env.lh.table('t');
      expect(moved.info.path).toBe(`${localhost}/default/t`);
      for (const p of await env.lh.catalog.getSnapshot(moved.info.tableId)) {
        for (const f of p.files) expect(f.path.startsWith(`${localhost}/default/t/`), f.path).toBe(true);
      }
      expect(sortRows(rowsOf(await moved.toArrow()), ['id'])).toEqual([{ id: 1, day: 'd1', v: 'a' }, { id: 2, day: 'd2', v: 'a' }]);
      // the same on S3 (catalog only): s3 -> s3a inside it
      const s3Done = await env.lh.catalog.relocateTables('s3://bucket/wh', 's3a://bucket/wh/sub');
      expect(s3Done.tables).toEqual([{ name: 'default.s3_made', from: 's3://bucket/wh/s3_made', to: 's3a://bucket/wh/sub/s3_made' }]);
      expect((await env.lh.catalog.getTableById(s3.tableId)).path).toBe('s3a://bucket/wh/sub/s3_made');
    } finally {
      await env.close();
    }
  });

  it('moves a table the wheel stored percent-encoded when the old location is given as written (its next read failed)', async () => {
    const env = await openTestLakehouse(kind, 'local');
    const base = fileURLToPath(env.warehouse);
    const [old, now] = [`${base} my lake`, `${base} new lake`];
    try {
      const t = await env.lh.createTable('wheel_made', schema, { path: `file://${old}/wheel_made` });
      await t.write(batch([1n, 2n], 'a'));
      await respell(env, t.info.tableId, `file://${old}/`, `${pathToFileURL(old).href}/`);
      expect((await env.lh.catalog.getTable('wheel_made')).path).toBe(`${pathToFileURL(old).href}/wheel_made`);
      renameSync(old, now);
      const done = await env.lh.catalog.relocateTables(old, now);
      expect(done.tables).toEqual([{ name: 'default.wheel_made', from: `${pathToFileURL(old).href}/wheel_made`, to: `${pathToFileURL(now).href}/wheel_made` }]);
      expect(rowsOf(await (await env.lh.table('wheel_made')).toArrow()).length).toBe(2);
      // an old location given percent-encoded names the decoded directory, never its encoding again
      // (file:///w/my%20lake also moved the tables of a directory named my%2520lake)
      const other = await env.lh.catalog.createTable({ name: 'elsewhere', schema, path: `${pathToFileURL(new URL(pathToFileURL(now).href).pathname).href}/elsewhere` });
      const encoded = await env.lh.catalog.relocateTables(pathToFileURL(now).href, `${base} moved`, { dryRun: true });
      expect(encoded.tables.map((x) => x.name)).toEqual(['default.wheel_made']);
      expect((await env.lh.catalog.getTableById(other.tableId)).path).toContain('%2520new%2520lake');
    } finally {
      await env.close();
      rmSync(now, { recursive: true, force: true });
      rmSync(old, { recursive: true, force: true });
    }
  });

  it('checks its options and the new location as a create does, finds tables by the decoded old location and from the root, and refuses overlaps', async () => {
    const env = await openTestLakehouse(kind, 'local');
    const from = env.warehouse;
    const dir = fileURLToPath(from);
    try {
      const a = await env.lh.createTable('a', schema);
      await a.write(batch([1n], 'a'));
      const b = await env.lh.createTable('b', schema);
      // a misspelled dryRun relocated for real
      await expect(env.lh.catalog.relocateTables(from, `${from}-x`, { dryrun: true } as never)).rejects.toMatchObject({ kind: 'InvalidArgument', code: 'UNKNOWN_OPTION' });
      // a new location LakeSoul's engines would read as another place is refused, as at create
      for (const bad of [`${dir}-pw%41`, `${dir}-data#1`, `${from}-q?x`]) {
        await expect(env.lh.catalog.relocateTables(from, bad, { dryRun: true }), bad).rejects.toMatchObject({ kind: 'InvalidArgument', code: 'INVALID_TABLE_PATH', message: expect.stringMatching(/^relocate: the new location '/) });
      }
      await expect(env.lh.catalog.relocateTables(`${from}/../x`, `${from}-y`, { dryRun: true })).rejects.toMatchObject({ code: 'INVALID_TABLE_PATH', message: expect.stringMatching(/^relocate: the old location /) });
      // a file: URL's escapes are decoded (stored raw, new files went to a directory named 'new%20lake')
      const spaced = `${dir}-new lake`;
      const viaUrl = await env.lh.catalog.relocateTables(from, pathToFileURL(spaced).href, { dryRun: true });
      expect(viaUrl.tables.map((x) => x.to).sort()).toEqual([`file://${spaced}/default/a`, `file://${spaced}/default/b`]);
      // the old location percent-encoded finds the tables stored decoded
      renameSync(dir, spaced);
      await env.lh.catalog.relocateTables(from, spaced);
      expect((await env.lh.catalog.relocateTables(pathToFileURL(spaced).href, from, { dryRun: true })).tables.map((x) => x.name).sort()).toEqual(['default.a', 'default.b']);
      // from the root: every local table
      const fromRoot = await env.lh.catalog.relocateTables('/', '/mnt/x', { dryRun: true });
      expect(fromRoot.tables.map((x) => x.to)).toEqual(expect.arrayContaining([`file:///mnt/x${spaced}/default/a`, `file:///mnt/x${spaced}/default/b`]));
      // landing around or inside another table's path is refused, nothing changed
      const around = await env.lh.catalog.relocateTables(`file://${spaced}/default/a`, `file://${spaced}/default`).catch((e: unknown) => e);
      expect(around).toMatchObject({
        kind: 'AlreadyExists', code: 'TABLE_PATH_OVERLAP',
        message: `relocate: table 'default.a' would move to file://${spaced}/default, which contains the path of table 'default.b' (file://${spaced}/default/b); a table's files must not mix with another's: nothing was changed`,
      });
      const inside = await env.lh.catalog.relocateTables(`file://${spaced}/default/a`, `file://${spaced}/default/b/a`).catch((e: unknown) => e);
      expect(inside).toMatchObject({ code: 'TABLE_PATH_OVERLAP', message: expect.stringContaining("which lies inside the path of table 'default.b'") });
      expect((await env.lh.catalog.getTable('a')).path).toBe(`file://${spaced}/default/a`);
      expect(b.info.path).toBe(`${from}/default/b`);
      renameSync(spaced, dir);
    } finally {
      await env.close();
      rmSync(`${dir}-new lake`, { recursive: true, force: true });
    }
  });
});
