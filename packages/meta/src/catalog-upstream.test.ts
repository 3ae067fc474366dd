/**
 * Bootstrapping a database whose catalog upstream LakeSoul created first changes nothing, and the
 * catalog reads upstream-written rows (Arrow-Java schema JSON without metadata, no file_format).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Catalog } from './catalog.js';
import { PgDriver } from './pg-driver.js';
import { PGliteDriver } from './pglite-driver.js';
import type { SqlDriver } from './sql-driver.js';

// The upstream DDL as LakeSoul's meta_init.sql lays it out (column types/defaults per
// lakesoul-protocol.md §1), with an upstream-style trigger function carrying a marker comment.
const UPSTREAM_DDL = [
  `create table namespace (namespace text, properties json, comment text, domain text default 'public', primary key (namespace))`,
  `insert into namespace(namespace, properties, comment) values ('default', '{}', '')`,
  `create table table_info (table_id text, table_namespace text default 'default', table_name text, table_path text, table_schema text,
     table_schema_arrow_ipc bytea, table_schema_arrow_ipc_json_hash text, properties json, partitions text, domain text default 'public', primary key (table_id))`,
  `create index table_info_name_index on table_info (table_namespace, table_name)`,
  `create index table_info_path_index on table_info (table_path)`,
  `create table table_name_id (table_name text, table_id text, table_namespace text default 'default', domain text default 'public', primary key (table_name, table_namespace))`,
  `create table table_path_id (table_path text, table_id text, table_namespace text default 'default', domain text default 'public', primary key (table_path))`,
  `create type data_file_op as (path text, file_op text, size bigint, file_exist_cols text)`,
  `create table data_commit_info (table_id text, partition_desc text, commit_id uuid, file_ops data_file_op[], commit_op text, committed boolean default 'false',
     timestamp bigint, domain text default 'public', primary key (table_id, partition_desc, commit_id))`,
  `create table partition_info (table_id text, partition_desc text, version int, commit_op text,
     timestamp bigint default (date_part('epoch'::text, now()) * (1000)::double precision), snapshot uuid[], expression text, domain text default 'public',
     primary key (table_id, partition_desc, version))`,
  `create table global_config (key text, value text, primary key (key))`,
  `create table discard_compressed_file_info (file_path text, table_path text, partition_desc text,
     timestamp bigint default (date_part('epoch'::text, now()) * (1000)::double precision), t_date date, primary key (file_path))`,
  `create function partition_insert() returns trigger as $$
   begin
     -- upstream marker
     return null;
   end;
   $$ language plpgsql`,
  `create trigger partition_table_change after insert on partition_info for each row execute procedure partition_insert()`,
];

const TABLE_ID = 'table_0a1b2c3d-0000-4000-8000-000000000001';
const C1 = '11111111-1111-4111-8111-111111111111';
const C2 = '22222222-2222-4222-8222-222222222222';
const UPSTREAM_ROWS: Array<[string, unknown[]]> = [
  [`insert into table_info (table_id, table_name, table_path, table_schema, properties, partitions) values ($1, 'spark_t', 's3://lake/spark_t', $2, $3, 'date;id')`, [
    TABLE_ID,
    '{"fields":[{"name":"id","nullable":false,"type":{"name":"int","bitWidth":64,"isSigned":true},"children":[]},{"name":"name","nullable":true,"type":{"name":"utf8"},"children":[]},{"name":"date","nullable":true,"type":{"name":"utf8"},"children":[]},{"name":"rowKinds","nullable":true,"type":{"name":"utf8"},"children":[]}]}',
    '{"hashBucketNum":"2","lakesoul_cdc_change_column":"rowKinds"}',
  ]],
  [`insert into table_name_id (table_name, table_id) values ('spark_t', $1)`, [TABLE_ID]],
  [`insert into table_path_id (table_path, table_id) values ('s3://lake/spark_t', $1)`, [TABLE_ID]],
  [`insert into data_commit_info (table_id, partition_desc, commit_id, file_ops, commit_op, committed, timestamp)
    values ($1, 'date=2024-01-01', $2::uuid, '{"(s3://lake/spark_t/date=2024-01-01/part-aaaa_0000.parquet,add,100,\\"id,name,rowKinds\\")","(s3://lake/spark_t/date=2024-01-01/part-bbbb_0001.parquet,add,200,\\"id,name,rowKinds\\")"}', 'MergeCommit', true, 1700000000000)`, [TABLE_ID, C1]],
  [`insert into data_commit_info (table_id, partition_desc, commit_id, file_ops, commit_op, committed, timestamp)
    values ($1, 'date=2024-01-01', $2::uuid, '{"(s3://lake/spark_t/date=2024-01-01/part-cccc_0001.parquet,add,50,\\"id,rowKinds\\")"}', 'MergeCommit', true, 1700000000100)`, [TABLE_ID, C2]],
  [`insert into partition_info (table_id, partition_desc, version, commit_op, snapshot, expression) values ($1, 'date=2024-01-01', 0, 'MergeCommit', $2::uuid[], '')`, [TABLE_ID, [C1]]],
  [`insert into partition_info (table_id, partition_desc, version, commit_op, snapshot, expression) values ($1, 'date=2024-01-01', 1, 'MergeCommit', $2::uuid[], '')`, [TABLE_ID, [C1, C2]]],
];

async function checkHarmless(driver: SqlDriver): Promise<void> {
  for (const sql of UPSTREAM_DDL) await driver.query(sql);
  for (const [sql, params] of UPSTREAM_ROWS) await driver.query(sql, params);
  const catalog = new Catalog(driver);
  await catalog.bootstrap();
  await catalog.bootstrap();
  const trig = await driver.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = to_regclass('partition_info') AND NOT tgisinternal`);
  expect(trig.rows[0].n).toBe(1);
  const fn = await driver.query<{ src: string }>(`SELECT prosrc AS src FROM pg_proc WHERE proname = 'partition_insert' AND pronamespace = current_schema()::regnamespace`);
  expect(fn.rows).toHaveLength(1);
  expect(fn.rows[0].src).toContain('upstream marker');
  const ns = await driver.query('SELECT namespace FROM namespace');
  expect(ns.rows).toEqual([{ namespace: 'default' }]);
  const types = await driver.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_type WHERE typname = 'data_file_op' AND typnamespace = current_schema()::regnamespace`);
  expect(types.rows[0].n).toBe(1);
  const pi = await driver.query('SELECT version FROM partition_info ORDER BY version');
  expect(pi.rows).toEqual([{ version: 0 }, { version: 1 }]);

  // upstream rows read back
  const t = await catalog.getTable('spark_t');
  expect(t).toMatchObject({ tableId: TABLE_ID, path: 's3://lake/spark_t', rangePartitions: ['date'], primaryKeys: ['id'], hashBucketNum: 2, cdcColumn: 'rowKinds' });
  expect(t.schema.fields.map((f) => `${f.name}:${String(f.type)}:${f.nullable}`)).toEqual(['id:Int64:false', 'name:Utf8:true', 'date:Utf8:true', 'rowKinds:Utf8:true']);
  const snap = await catalog.getSnapshot(TABLE_ID);
  expect(snap).toEqual([{
    partitionDesc: 'date=2024-01-01', version: 1, commitOp: 'MergeCommit', timestamp: expect.any(Number),
    files: [
      { path: 's3://lake/spark_t/date=2024-01-01/part-aaaa_0000.parquet', size: 100n, existCols: ['id', 'name', 'rowKinds'], bucket: 0, commitId: C1 },
      { path: 's3://lake/spark_t/date=2024-01-01/part-bbbb_0001.parquet', size: 200n, existCols: ['id', 'name', 'rowKinds'], bucket: 1, commitId: C1 },
      { path: 's3://lake/spark_t/date=2024-01-01/part-cccc_0001.parquet', size: 50n, existCols: ['id', 'rowKinds'], bucket: 1, commitId: C2 },
    ],
  }]);
  // and our commit lands on top of upstream's versions
  const r = await catalog.commit({ tableId: TABLE_ID, op: 'MergeCommit', partitions: [{ partitionDesc: 'date=2024-01-01', files: [{ path: 's3://lake/spark_t/date=2024-01-01/part-dddd_0000.parquet', op: 'add', size: 1n, existCols: ['id', 'name', 'rowKinds'] }] }] });
  expect(r.versions.get('date=2024-01-01')).toBe(2);
  await catalog.close();
}

describe('bootstrap over an upstream-created catalog', () => {
  const schema = `upstream_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const url = process.env.LAKESOUL_TEST_PG_URL;

  afterAll(async () => {
    if (!url) return;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  });

  it('is harmless on PostgreSQL', async () => {
    if (!url) throw new Error('LAKESOUL_TEST_PG_URL is not set: run via pnpm test (node scripts/test-env.mjs -- vitest run ...) to get a PostgreSQL server');
    await checkHarmless(await PgDriver.connect({ url, schema }));
  });

  it('is harmless on PGlite', async () => {
    await checkHarmless(new PGliteDriver());
  });
});
