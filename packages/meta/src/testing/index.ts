/**
 * The catalog conformance suite: one set of tests every {@link SqlDriver} must pass (PGlite and a
 * real PostgreSQL server). Import from `@lakesoul-ts/meta/testing` inside a vitest test file.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int32, Int64, Schema, Utf8, DateDay, Float64 } from 'apache-arrow';
import { Catalog } from '../catalog.js';
import { LakeSoulError } from '../errors.js';
import { partitionOfVersionConflict } from '../commit-statements.js';
import { ARROW_TYPE_SUPPORT } from '../type-support.js';
import { catalogSchemaComplete, COMPACTION_NOTIFY_CHANNEL } from '../catalog-schema.js';
import type { SqlDriver } from '../sql-driver.js';
import type { CommitOp, DataFileOp, SnapshotOptions, TableInfo } from '../types.js';

/** Makes the driver under test (called once per suite); the suite closes it at the end. */
export type MakeDriver = () => Promise<SqlDriver>;

/** A data file op for tests: `part-<name>_<bucket>.parquet` under the table path. */
export function testFile(table: TableInfo, partitionDesc: string, name: string, options: { bucket?: number; size?: number; cols?: string[]; op?: 'add' | 'del' } = {}): DataFileOp {
  const dir = partitionDesc === '-5' ? '' : `/${partitionDesc.split(',').join('/')}`;
  return {
    path: `${table.path}${dir}/part-${name}_${String(options.bucket ?? 0).padStart(4, '0')}.parquet`,
    op: options.op ?? 'add',
    size: BigInt(options.size ?? 100),
    existCols: options.cols ?? ['id', 'v'],
  };
}

const uniq = () => randomUUID().slice(0, 8);

async function expectError(p: Promise<unknown>, kind: string, ...mentions: string[]): Promise<LakeSoulError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected a ${kind} LakeSoulError`).toBeInstanceOf(LakeSoulError);
  const le = err as LakeSoulError;
  expect(le.kind, le.message).toBe(kind);
  for (const m of mentions) expect(le.message).toContain(m);
  return le;
}

/**
 * Registers the catalog conformance tests as a vitest `describe` block named `name`, against the
 * driver `makeDriver()` returns (bootstrapped by the suite). Tests use unique table/namespace names,
 * so the driver's database may hold other data.
 *
 * Why long: one `it` per clause of the catalog contract over one shared driver and catalog; each test
 * is short and independent, and a driver's author reads the contract top to bottom here.
 */
export function runCatalogConformance(name: string, makeDriver: MakeDriver): void {
  describe(`catalog conformance: ${name}`, () => {
    let driver: SqlDriver;
    let catalog: Catalog;

    beforeAll(async () => {
      driver = await makeDriver();
      catalog = new Catalog(driver);
      await catalog.bootstrap();
    });
    afterAll(async () => {
      await catalog?.close();
    });

    const kvSchema = () => new Schema([
      new Field('id', new Int64(), false),
      new Field('v', new Utf8(), true),
      new Field('date', new DateDay(), true),
    ]);

    async function partTable(extra: Partial<Parameters<Catalog['createTable']>[0]> = {}): Promise<TableInfo> {
      const n = `t_${uniq()}`;
      return catalog.createTable({ name: n, path: `file:///tmp/lakesoul-conf/${n}`, schema: kvSchema(), rangePartitions: ['date'], primaryKeys: ['id'], hashBucketNum: 2, ...extra });
    }

    async function plainTable(): Promise<TableInfo> {
      const n = `p_${uniq()}`;
      return catalog.createTable({ name: n, path: `file:///tmp/lakesoul-conf/${n}`, schema: new Schema([new Field('id', new Int64(), true), new Field('v', new Utf8(), true)]) });
    }

    async function commit(t: TableInfo, op: CommitOp, desc: string, files: DataFileOp[], readVersion?: number) {
      return catalog.commit({ tableId: t.tableId, op, partitions: [{ partitionDesc: desc, files, ...(readVersion !== undefined ? { readVersion } : {}) }] });
    }

    async function setTimestamps(t: TableInfo, desc: string, stamps: number[]) {
      for (let v = 0; v < stamps.length; v++) {
        await driver.query('UPDATE partition_info SET timestamp = $1 WHERE table_id = $2 AND partition_desc = $3 AND version = $4', [stamps[v], t.tableId, desc, v]);
      }
    }

    const names = (snap: { files: { path: string }[] }[]) => snap.flatMap((p) => p.files.map((f) => f.path.slice(f.path.lastIndexOf('/') + 1).replace(/_\d+\.parquet$/, '').replace(/^part-/, '')));

    describe('schema bootstrap', () => {
      it('creates every catalog table, the composite type, the indexes, the default namespace and one trigger; idempotently', async () => {
        await catalog.bootstrap();
        await catalog.bootstrap();
        const tables = await driver.query<{ name: string }>(
          `SELECT c.relname AS name FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace ORDER BY 1`);
        expect(tables.rows.map((r) => r.name)).toEqual(expect.arrayContaining([
          'data_commit_info', 'discard_compressed_file_info', 'global_config', 'namespace', 'partition_info', 'table_info', 'table_name_id', 'table_path_id',
        ]));
        const type = await driver.query<{ attname: string; typ: string }>(
          `SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS typ FROM pg_type t JOIN pg_attribute a ON a.attrelid = t.typrelid
            WHERE t.typname = 'data_file_op' AND t.typnamespace = current_schema()::regnamespace ORDER BY a.attnum`);
        expect(type.rows).toEqual([
          { attname: 'path', typ: 'text' }, { attname: 'file_op', typ: 'text' }, { attname: 'size', typ: 'bigint' }, { attname: 'file_exist_cols', typ: 'text' },
        ]);
        const pk = await driver.query<{ rel: string; cols: string }>(
          `SELECT c.relname AS rel, pg_get_indexdef(i.indexrelid) AS cols FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
            WHERE i.indisprimary AND c.relnamespace = current_schema()::regnamespace ORDER BY 1`);
        const pkOf = Object.fromEntries(pk.rows.map((r) => [r.rel, r.cols.replace(/^.*USING btree /, '')]));
        expect(pkOf).toMatchObject({
          namespace: '(namespace)', table_info: '(table_id)', table_name_id: '(table_name, table_namespace)', table_path_id: '(table_path)',
          data_commit_info: '(table_id, partition_desc, commit_id)', partition_info: '(table_id, partition_desc, version)',
          global_config: '(key)', discard_compressed_file_info: '(file_path)',
        });
        const idx = await driver.query<{ def: string }>(
          `SELECT indexdef AS def FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT LIKE '%pkey'`);
        const defs = idx.rows.map((r) => r.def.replace(/^.* ON /, ''));
        expect(defs).toEqual(expect.arrayContaining([
          expect.stringMatching(/table_info USING btree \(table_namespace, table_name\)/),
          expect.stringMatching(/table_info USING btree \(table_path\)/),
          expect.stringMatching(/data_commit_info USING btree \(commit_id\)/),
          expect.stringMatching(/partition_info USING btree \("?timestamp"?\)/),
        ]));
        const cols = await driver.query<{ t: string; c: string; typ: string; def: string | null }>(
          `SELECT c.relname AS t, a.attname AS c, format_type(a.atttypid, a.atttypmod) AS typ, pg_get_expr(d.adbin, d.adrelid) AS def
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
              AND c.relname IN ('partition_info', 'data_commit_info') ORDER BY c.relname, a.attnum`);
        const colOf = (t: string) => cols.rows.filter((r) => r.t === t).map((r) => `${r.c} ${r.typ}`);
        expect(colOf('partition_info')).toEqual(['table_id text', 'partition_desc text', 'version integer', 'commit_op text', 'timestamp bigint', 'snapshot uuid[]', 'expression text', 'domain text']);
        expect(colOf('data_commit_info')).toEqual(['table_id text', 'partition_desc text', 'commit_id uuid', 'file_ops data_file_op[]', 'commit_op text', 'committed boolean', 'timestamp bigint', 'domain text']);
        const trig = await driver.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = to_regclass('partition_info') AND NOT tgisinternal`);
        expect(trig.rows[0].n).toBe(1);
        const ns = await catalog.getNamespace('default');
        expect(ns).toMatchObject({ name: 'default', domain: 'public' });
      });

      it('checks a complete schema without DDL and completes an incomplete one', async () => {
        expect(await catalogSchemaComplete(driver)).toBe(true);
        await driver.query('DROP INDEX partition_info_timestamp');
        expect(await catalogSchemaComplete(driver)).toBe(false);
        await catalog.bootstrap();
        expect(await catalogSchemaComplete(driver)).toBe(true);
        await driver.query("DELETE FROM namespace WHERE namespace = 'default'");
        expect(await catalogSchemaComplete(driver)).toBe(false);
        await catalog.bootstrap();
        expect((await catalog.getNamespace('default')).name).toBe('default');
      });

      it("adds the table_info columns of LakeSoul's Arrow IPC schema to a catalog LakeSoul 2.4-2.6 created (without them)", async () => {
        await driver.query('ALTER TABLE table_info DROP COLUMN table_schema_arrow_ipc, DROP COLUMN table_schema_arrow_ipc_json_hash');
        expect(await catalogSchemaComplete(driver)).toBe(false);
        await catalog.bootstrap();
        expect(await catalogSchemaComplete(driver)).toBe(true);
        const t = await plainTable();
        const evolved = await catalog.evolveTableSchema(t.tableId, (s) => new Schema([...s.fields, new Field('extra', new Int64(), true)]));
        expect(evolved.schema.fields.map((f) => f.name)).toEqual(['id', 'v', 'extra']);
      });

      it('tags unique violations by constraint name: only partition_info_pkey is a commit conflict', async () => {
        await driver.query('CREATE TABLE IF NOT EXISTS partition_info_notes (k int PRIMARY KEY)');
        try {
          await driver.query('INSERT INTO partition_info_notes VALUES (1)');
          const e1 = await driver.query('INSERT INTO partition_info_notes VALUES (1)').then(() => undefined, (e: unknown) => e);
          expect(LakeSoulError.hasCode(e1, 'ALREADY_EXISTS')).toBe(true);
          expect((e1 as LakeSoulError).context.constraint).toBe('partition_info_notes_pkey');
          const t = await plainTable();
          await commit(t, 'AppendCommit', '-5', [testFile(t, '-5', 'k0')]);
          const e2 = await driver.query(`INSERT INTO partition_info (table_id, partition_desc, version, commit_op, snapshot) VALUES ($1, '-5', 0, 'AppendCommit', '{}')`, [t.tableId])
            .then(() => undefined, (e: unknown) => e);
          expect(LakeSoulError.hasCode(e2, 'COMMIT_CONFLICT')).toBe(true);
          expect((e2 as LakeSoulError).retryable).toBe(true);
          // a batched commit names the partition whose version was taken from the error's detail
          expect(partitionOfVersionConflict((e2 as LakeSoulError).context.detail, t.tableId)).toBe('-5');
          const p = await partTable();
          await commit(p, 'AppendCommit', 'date=2024-01-01', [testFile(p, 'date=2024-01-01', 'k1')]);
          const e3 = await driver.query(`INSERT INTO partition_info (table_id, partition_desc, version, commit_op, snapshot) VALUES ($1, 'date=2024-01-01', 0, 'AppendCommit', '{}')`, [p.tableId])
            .then(() => undefined, (e: unknown) => e);
          expect(partitionOfVersionConflict((e3 as LakeSoulError).context.detail, p.tableId)).toBe('date=2024-01-01');
          expect(partitionOfVersionConflict((e3 as LakeSoulError).context.detail, t.tableId)).toBeUndefined();
        } finally {
          await driver.query('DROP TABLE IF EXISTS partition_info_notes');
        }
      });

      it('notifies lakesoul_compaction_notify once a partition has 10+ versions since its last compaction', async () => {
        const t = await plainTable();
        const got: string[] = [];
        const stop = await driver.listen(COMPACTION_NOTIFY_CHANNEL, (p) => got.push(p));
        try {
          // waits until n payloads arrived (or 2 s); for n beyond what should arrive, a short settle time
          const waitFor = async (n: number, max = 100) => {
            for (let i = 0; i < max && got.length < n; i++) await new Promise((r) => setTimeout(r, 20));
          };
          for (let v = 0; v < 10; v++) await commit(t, 'AppendCommit', '-5', [testFile(t, '-5', `a${v}`)]);
          await waitFor(1, 15);
          expect(got).toEqual([]); // versions 0..9
          await commit(t, 'AppendCommit', '-5', [testFile(t, '-5', 'a10')]); // version 10
          await waitFor(1);
          expect(got.length).toBe(1);
          expect(JSON.parse(got[0])).toEqual({ table_path: t.path, table_partition_desc: '-5', table_namespace: 'default' });
          await commit(t, 'CompactionCommit', '-5', [testFile(t, '-5', 'c11')], 10); // version 11
          for (let v = 12; v < 21; v++) await commit(t, 'AppendCommit', '-5', [testFile(t, '-5', `a${v}`)]);
          await waitFor(2, 15);
          expect(got.length).toBe(1); // 9 versions since the compaction
          await commit(t, 'AppendCommit', '-5', [testFile(t, '-5', 'a21')]);
          await waitFor(2);
          expect(got.length).toBe(2);
        } finally {
          await stop();
        }
      });
    });

    describe('namespaces', () => {
      it('creates, lists, gets and drops; refuses duplicates and non-empty drops', async () => {
        const ns = `ns_${uniq()}`;
        const created = await catalog.createNamespace(ns, { properties: { owner: 'me', n: 3 }, comment: 'c' });
        expect(created).toEqual({ name: ns, properties: { owner: 'me', n: '3' }, comment: 'c', domain: 'public' });
        expect((await catalog.listNamespaces()).map((n) => n.name)).toEqual(expect.arrayContaining(['default', ns]));
        expect(await catalog.getNamespace(ns)).toEqual(created);
        const raw = await driver.query<{ properties: unknown }>('SELECT properties FROM namespace WHERE namespace = $1', [ns]);
        expect(raw.rows[0].properties).toEqual({ owner: 'me', n: '3' });
        await expectError(catalog.createNamespace(ns), 'AlreadyExists', ns);
        expect((await catalog.createNamespace(ns, { ifNotExists: true })).comment).toBe('c');
        const t = await catalog.createTable({ namespace: ns, name: 'x', path: `file:///tmp/lakesoul-conf/${ns}/x`, schema: kvSchema() });
        await commit(t, 'AppendCommit', '-5', [testFile(t, '-5', 'f1')]);
        const e = await expectError(catalog.dropNamespace(ns), 'InvalidArgument', ns, 'not empty');
        expect(e.context.namespace).toBe(ns);
        const dropped = await catalog.dropNamespace(ns, { cascade: true });
        expect(dropped.files).toEqual([`file:///tmp/lakesoul-conf/${ns}/x/part-f1_0000.parquet`]);
        await expectError(catalog.getNamespace(ns), 'NotFound', ns);
        await expectError(catalog.getTableById(t.tableId), 'NotFound');
        await expectError(catalog.dropNamespace(ns), 'NotFound', ns);
        await catalog.dropNamespace(ns, { ifExists: true });
        await expectError(catalog.dropNamespace('default'), 'InvalidArgument', 'default');
        await expectError(catalog.createTable({ namespace: `missing_${uniq()}`, name: 'y', path: 'file:///tmp/y', schema: kvSchema() }), 'NotFound', 'missing_');
      });

      it('a namespace only tables name (LakeSoul-Python never registers its namespaces) is listed, read and dropped like the others', async () => {
        const ns = `implicit_${uniq()}`;
        await catalog.createNamespace(ns);
        const t = await catalog.createTable({ namespace: ns, name: 'wt', path: `file:///tmp/lakesoul-conf/${ns}/wt`, schema: kvSchema() });
        await driver.query('DELETE FROM namespace WHERE namespace = $1', [ns]); // as the wheel leaves it
        expect((await catalog.listNamespaces()).filter((n) => n.name === ns)).toEqual([{ name: ns, properties: {}, comment: '', domain: 'public' }]);
        expect(await catalog.getNamespace(ns)).toEqual({ name: ns, properties: {}, comment: '', domain: 'public' });
        expect((await catalog.listTables(ns)).map((x) => x.name)).toEqual(['wt']);
        await expectError(catalog.dropNamespace(ns), 'InvalidArgument', ns, 'not empty');
        await catalog.dropNamespace(ns, { cascade: true });
        await expectError(catalog.getTableById(t.tableId), 'NotFound');
        await expectError(catalog.getNamespace(ns), 'NotFound', ns);
        expect((await catalog.listNamespaces()).map((n) => n.name)).not.toContain(ns);
      });
    });

    describe('tables', () => {
      it("gives a table its namespace's domain (LakeSoul's access control filters by it), in every row the create and its commits write", async () => {
        const ns = `dom_${uniq()}`;
        await catalog.createNamespace(ns);
        await driver.query("UPDATE namespace SET domain = 'tenant1' WHERE namespace = $1", [ns]);
        const t = await catalog.createTable({ name: `t_${uniq()}`, namespace: ns, path: `file:///tmp/lakesoul-conf/${ns}/t`, schema: kvSchema() });
        expect(t.domain).toBe('tenant1');
        expect((await catalog.getTable(t.name, ns)).domain).toBe('tenant1');
        await commit(t, 'AppendCommit', '-5', [{ path: `${t.path}/part-a_0000.parquet`, op: 'add', size: 10n, existCols: ['id', 'v', 'date'] }]);
        for (const table of ['table_info', 'table_name_id', 'table_path_id', 'data_commit_info', 'partition_info']) {
          const r = await driver.query<{ domain: string }>(`SELECT DISTINCT domain FROM ${table} WHERE table_id = $1`, [t.tableId]);
          expect(r.rows.map((x) => x.domain), table).toEqual(['tenant1']);
        }
        const plain = await plainTable();
        expect(plain.domain).toBe('public');
      });

      it('takes over a name whose table is gone (a table_name_id row without table_info, left by a drop another engine did not finish)', async () => {
        const name = `ghost_${uniq()}`;
        const deadId = `table_dead_${uniq()}`;
        await driver.query("INSERT INTO table_name_id (table_name, table_id, table_namespace, domain) VALUES ($1, $2, 'default', 'public')", [name, deadId]);
        await driver.query("INSERT INTO table_path_id (table_path, table_id, table_namespace, domain) VALUES ($1, $2, 'default', 'public')", [`file:///tmp/lakesoul-conf/${name}-old`, deadId]);
        await expect(catalog.getTable(name)).rejects.toMatchObject({ code: 'TABLE_NOT_FOUND' });
        const t = await catalog.createTable({ name, path: `file:///tmp/lakesoul-conf/${name}`, schema: kvSchema(), ifNotExists: true });
        expect((await catalog.getTable(name)).tableId).toBe(t.tableId);
        const left = await driver.query('SELECT 1 FROM table_name_id WHERE table_id = $1 UNION ALL SELECT 1 FROM table_path_id WHERE table_id = $1', [deadId]);
        expect(left.rowCount).toBe(0);
        await expect(catalog.createTable({ name, path: `file:///tmp/lakesoul-conf/${name}-2`, schema: kvSchema() })).rejects.toMatchObject({ code: 'TABLE_EXISTS' });
      });

      it('writes the upstream encodings: table_id, path, partitions, properties, schema JSON', async () => {
        const n = `enc_${uniq()}`;
        const schema = new Schema([
          new Field('id', new Int64(), false),
          new Field('date', new Utf8(), true),
          new Field('score', new Float64(), true),
          new Field('rowKinds', new Utf8(), true),
        ]);
        const t = await catalog.createTable({
          name: n, path: `s3://bucket/warehouse/${n}///`, schema, rangePartitions: ['date'], primaryKeys: ['id'], hashBucketNum: 8,
          cdcColumn: 'rowKinds', properties: { 'partition.ttl': 30, skip_merge_on_read: false },
        });
        expect(t.tableId).toMatch(/^table_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        const row = (await driver.query<Record<string, unknown>>(
          `SELECT table_id, table_namespace, table_name, table_path, table_schema, table_schema_arrow_ipc, table_schema_arrow_ipc_json_hash,
                  properties::text AS properties, partitions, domain FROM table_info WHERE table_id = $1`, [t.tableId])).rows[0];
        expect(row).toEqual({
          table_id: t.tableId, table_namespace: 'default', table_name: n, table_path: `s3://bucket/warehouse/${n}`,
          table_schema: '{"fields":[' +
            '{"name":"id","nullable":false,"type":{"name":"int","bitWidth":64,"isSigned":true},"children":[],"metadata":[]},' +
            '{"name":"date","nullable":true,"type":{"name":"utf8"},"children":[],"metadata":[]},' +
            '{"name":"score","nullable":true,"type":{"name":"floatingpoint","precision":"DOUBLE"},"children":[],"metadata":[]},' +
            '{"name":"rowKinds","nullable":true,"type":{"name":"utf8"},"children":[],"metadata":[]}]}',
          table_schema_arrow_ipc: null, table_schema_arrow_ipc_json_hash: null,
          properties: '{"hashBucketNum":"8","file_format":"parquet","lakesoul_cdc_change_column":"rowKinds","partition.ttl":"30","skip_merge_on_read":"false"}',
          partitions: 'date;id', domain: 'public',
        });
        expect((await driver.query('SELECT table_name, table_id, table_namespace, domain FROM table_name_id WHERE table_id = $1', [t.tableId])).rows)
          .toEqual([{ table_name: n, table_id: t.tableId, table_namespace: 'default', domain: 'public' }]);
        expect((await driver.query('SELECT table_path, table_id, table_namespace, domain FROM table_path_id WHERE table_id = $1', [t.tableId])).rows)
          .toEqual([{ table_path: `s3://bucket/warehouse/${n}`, table_id: t.tableId, table_namespace: 'default', domain: 'public' }]);

        const plain = await plainTable();
        const prow = (await driver.query<{ properties: string; partitions: string }>(
          'SELECT properties::text AS properties, partitions FROM table_info WHERE table_id = $1', [plain.tableId])).rows[0];
        expect(prow).toEqual({ properties: '{"hashBucketNum":"-1","file_format":"parquet"}', partitions: ';' });
        const pkOnly = await catalog.createTable({ name: `k_${uniq()}`, path: `file:///tmp/lakesoul-conf/k_${uniq()}`, schema: kvSchema(), primaryKeys: ['id'] });
        expect(pkOnly.hashBucketNum).toBe(4);
        expect((await driver.query<{ partitions: string }>('SELECT partitions FROM table_info WHERE table_id = $1', [pkOnly.tableId])).rows[0].partitions).toBe(';id');
        const rangeOnly = await catalog.createTable({ name: `r_${uniq()}`, path: `file:///tmp/lakesoul-conf/r_${uniq()}`, schema: kvSchema(), rangePartitions: ['date'] });
        expect((await driver.query<{ partitions: string }>('SELECT partitions FROM table_info WHERE table_id = $1', [rangeOnly.tableId])).rows[0].partitions).toBe('date;');

        const back = await catalog.getTable(n);
        expect(back).toMatchObject({
          tableId: t.tableId, namespace: 'default', name: n, path: `s3://bucket/warehouse/${n}`, rangePartitions: ['date'], primaryKeys: ['id'],
          hashBucketNum: 8, cdcColumn: 'rowKinds', domain: 'public',
          properties: { hashBucketNum: '8', file_format: 'parquet', lakesoul_cdc_change_column: 'rowKinds', 'partition.ttl': '30', skip_merge_on_read: 'false' },
        });
        expect(back.schema.fields.map((f) => `${f.name}:${String(f.type)}:${f.nullable}`)).toEqual(['id:Int64:false', 'date:Utf8:true', 'score:Float64:true', 'rowKinds:Utf8:true']);
        expect((await catalog.getTableById(t.tableId)).name).toBe(n);
        expect((await catalog.getTableByPath(`s3://bucket/warehouse/${n}/`)).tableId).toBe(t.tableId);
        expect((await catalog.listTables('default')).map((x) => x.tableId)).toEqual(expect.arrayContaining([t.tableId, plain.tableId]));
      });

      it('validates the options and names the table and column', async () => {
        const base = { path: `file:///tmp/lakesoul-conf/v_${uniq()}`, schema: kvSchema() };
        await expectError(catalog.createTable({ ...base, name: 'bad1', primaryKeys: ['nope'] }), 'InvalidArgument', 'default.bad1', "'nope'");
        await expectError(catalog.createTable({ ...base, name: 'bad2', rangePartitions: ['nope'] }), 'InvalidArgument', "'nope'");
        await expectError(catalog.createTable({ ...base, name: 'bad3', rangePartitions: ['id'], primaryKeys: ['id'] }), 'InvalidArgument', "'id'");
        await expectError(catalog.createTable({ ...base, name: 'bad4', primaryKeys: ['id'], hashBucketNum: 3 }), 'InvalidArgument', 'power of two');
        await expectError(catalog.createTable({ ...base, name: 'bad4b', primaryKeys: [], hashBucketNum: 4 }), 'InvalidArgument', 'hashBucketNum 4 needs primaryKeys');
        await expectError(catalog.createTable({ ...base, name: 'bad4c', schema: new Schema([new Field('k', new Int64(), false), new Field('a\tb', new Utf8(), true)]) }), 'InvalidArgument', 'column name "a\\tb" contains control characters');
        await expectError(catalog.createTable({ ...base, name: 'bad5', primaryKeys: ['id'], hashBucketNum: 0 }), 'InvalidArgument', 'power of two');
        await expectError(catalog.createTable({ ...base, name: 'bad6', cdcColumn: 'id' }), 'InvalidArgument', "CDC column 'id'", 'utf8');
        await expectError(catalog.createTable({ ...base, name: 'bad7', cdcColumn: 'nope' }), 'InvalidArgument', "'nope'");
        await expectError(catalog.createTable({ ...base, name: 'bad8', path: 'relative/dir' }), 'InvalidArgument', 'relative/dir');
        const e = await expectError(catalog.createTable({ ...base, name: 'bad9', primaryKeys: ['nope'] }), 'InvalidArgument');
        expect(e.context).toMatchObject({ table: 'default.bad9', column: 'nope' });
        for (const n of ['bad1', 'bad2', 'bad3', 'bad4', 'bad5', 'bad6', 'bad7', 'bad8', 'bad9']) await expectError(catalog.getTable(n), 'NotFound', `default.${n}`);
      });

      it('refuses a range partition column of a type partition_desc cannot hold (every type the type-support table marks so), naming table and column', async () => {
        for (const row of ARROW_TYPE_SUPPORT.filter((r) => r.supported.write)) {
          const name = `part_${uniq()}`;
          const schema = new Schema([new Field('id', new Int64(), false), new Field('p', row.type(), true)]);
          const create = catalog.createTable({ name, path: `file:///tmp/lakesoul-conf/${name}`, schema, rangePartitions: ['p'] });
          if (row.supported.partition) {
            expect((await create).rangePartitions, row.name).toEqual(['p']);
            continue;
          }
          const e = await expectError(create, 'Unsupported', `default.${name}`, "column 'p'", 'cannot be a range partition column');
          expect(e.context, row.name).toMatchObject({ table: `default.${name}`, column: 'p' });
          expect(e.code, row.name).toBe('UNSUPPORTED_PARTITION_TYPE');
          await expectError(catalog.getTable(name), 'NotFound', `default.${name}`);
        }
      });

      it('refuses a second table with the same name or path, unless ifNotExists', async () => {
        const t = await plainTable();
        await expectError(catalog.createTable({ name: t.name, path: `${t.path}-other`, schema: kvSchema() }), 'AlreadyExists', `default.${t.name}`);
        await expectError(catalog.createTable({ name: `${t.name}_2`, path: t.path, schema: kvSchema() }), 'AlreadyExists', t.path, t.name);
        const again = await catalog.createTable({ name: t.name, path: `${t.path}-other`, schema: kvSchema(), ifNotExists: true });
        expect(again.tableId).toBe(t.tableId);
        const rows = await driver.query('SELECT 1 FROM table_info WHERE table_name = $1', [t.name]);
        expect(rows.rowCount).toBe(1);
      });

      it('updates properties, and drops a table with every catalog row, returning its files', async () => {
        const t = await partTable();
        const u = await catalog.updateTableProperties(t.tableId, { 'compaction.ttl': '7', extra: 'x' });
        expect(u.properties).toEqual({ hashBucketNum: '2', file_format: 'parquet', 'compaction.ttl': '7', extra: 'x' });
        const u2 = await catalog.updateTableProperties(t.tableId, { extra: null });
        expect(u2.properties).toEqual({ hashBucketNum: '2', file_format: 'parquet', 'compaction.ttl': '7' });
        expect((await catalog.getTableById(t.tableId)).properties).toEqual(u2.properties);
        await expectError(catalog.updateTableProperties(t.tableId, { hashBucketNum: '16' }), 'InvalidArgument', 'hashBucketNum');
        await expectError(catalog.updateTableProperties('table_missing', { a: 'b' }), 'NotFound', 'table_missing');

        const d1 = 'date=2024-01-01';
        await commit(t, 'MergeCommit', d1, [testFile(t, d1, 'a'), testFile(t, d1, 'b', { bucket: 1 })]);
        await commit(t, 'UpdateCommit', d1, [testFile(t, d1, 'a', { op: 'del' }), testFile(t, d1, 'c')], 0);
        const dropped = await catalog.dropTable(t.tableId);
        expect(dropped.files.sort()).toEqual([
          `${t.path}/date=2024-01-01/part-a_0000.parquet`, `${t.path}/date=2024-01-01/part-b_0001.parquet`, `${t.path}/date=2024-01-01/part-c_0000.parquet`,
        ]);
        for (const tbl of ['table_info', 'table_name_id', 'table_path_id', 'partition_info', 'data_commit_info']) {
          expect((await driver.query(`SELECT 1 FROM ${tbl} WHERE table_id = $1`, [t.tableId])).rowCount, tbl).toBe(0);
        }
        await expectError(catalog.getTable(t.name), 'NotFound', t.name);
        await expectError(catalog.dropTable(t.tableId), 'NotFound');
      });

      it('drops a table without partition versions only (dropTableIfEmpty: undoing a create whose first write failed)', async () => {
        const kept = await partTable();
        const d1 = 'date=2024-01-01';
        await commit(kept, 'AppendCommit', d1, [testFile(kept, d1, 'a')]);
        expect(await catalog.dropTableIfEmpty(kept.tableId)).toBe(false);
        expect((await catalog.getSnapshot(kept.tableId)).length).toBe(1);
        const empty = await partTable();
        expect(await catalog.dropTableIfEmpty(empty.tableId)).toBe(true);
        for (const tbl of ['table_info', 'table_name_id', 'table_path_id']) {
          expect((await driver.query(`SELECT 1 FROM ${tbl} WHERE table_id = $1`, [empty.tableId])).rowCount, tbl).toBe(0);
        }
        await expectError(catalog.getTable(empty.name), 'NotFound', empty.name);
      });

      it('replaces a table without partition versions in the create\'s transaction (replaceEmptyTable: an abandoned create made again)', async () => {
        const old = await partTable();
        const again = { name: old.name, path: old.path, schema: kvSchema(), rangePartitions: ['date'], primaryKeys: ['id'], hashBucketNum: 2 };
        const made = await catalog.createTable({ ...again, replaceEmptyTable: old.tableId });
        expect(made.tableId).not.toBe(old.tableId);
        expect((await catalog.getTable(old.name)).tableId).toBe(made.tableId);
        for (const tbl of ['table_info', 'table_name_id', 'table_path_id']) {
          expect((await driver.query(`SELECT 1 FROM ${tbl} WHERE table_id = $1`, [old.tableId])).rowCount, tbl).toBe(0);
        }
        // a commit into the replaced table fails: its table is gone
        const d1 = 'date=2024-01-01';
        await expectError(commit(old, 'AppendCommit', d1, [testFile(old, d1, 'a')]), 'NotFound');
        // gone now: the next replacement of it changes nothing
        await expectError(catalog.createTable({ ...again, replaceEmptyTable: old.tableId }), 'NotFound', 'no longer at that name and path');
        expect((await catalog.getTable(old.name)).tableId).toBe(made.tableId);
        // with a commit it is an existing table, kept
        await commit(made, 'AppendCommit', d1, [testFile(made, d1, 'a')]);
        await expectError(catalog.createTable({ ...again, replaceEmptyTable: made.tableId }), 'AlreadyExists', 'already exists');
        expect((await catalog.getSnapshot(made.tableId)).length).toBe(1);
        // another name's table is not replaced
        const other = await partTable();
        await expectError(catalog.createTable({ ...again, name: `${old.name}_x`, path: `${old.path}_x`, replaceEmptyTable: other.tableId }), 'NotFound', 'no longer at that name and path');
        expect((await catalog.getTable(other.name)).tableId).toBe(other.tableId);
      });
    });

    describe('commits', () => {
      it('writes data_commit_info and partition_info rows exactly as upstream', async () => {
        const t = await partTable();
        const desc = 'date=2024-05-01';
        const before = Date.now();
        const res = await catalog.commit({
          tableId: t.tableId, op: 'MergeCommit', timestamp: 1_700_000_000_123,
          partitions: [{ partitionDesc: desc, files: [testFile(t, desc, 'x', { bucket: 1, size: 1234, cols: ['id', 'v'] }), testFile(t, desc, 'y', { size: 5, cols: ['id'] })] }],
        });
        expect(res.versions).toEqual(new Map([[desc, 0]]));
        expect(res.retries).toBe(0);
        const cid = res.commitIds.get(desc)!;
        expect(cid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        const dci = (await driver.query<Record<string, unknown>>(
          `SELECT table_id, partition_desc, commit_id::text AS commit_id, file_ops::text AS file_ops, commit_op, committed, timestamp::text AS timestamp, domain
             FROM data_commit_info WHERE table_id = $1`, [t.tableId])).rows;
        expect(dci).toEqual([{
          table_id: t.tableId, partition_desc: desc, commit_id: cid,
          file_ops: `{"(${t.path}/date=2024-05-01/part-x_0001.parquet,add,1234,\\"id,v\\")","(${t.path}/date=2024-05-01/part-y_0000.parquet,add,5,id)"}`,
          commit_op: 'MergeCommit', committed: true, timestamp: '1700000000123', domain: 'public',
        }]);
        const pi = (await driver.query<Record<string, unknown>>(
          `SELECT table_id, partition_desc, version, commit_op, timestamp::text AS timestamp, snapshot::text AS snapshot, expression, domain
             FROM partition_info WHERE table_id = $1`, [t.tableId])).rows;
        expect(pi).toEqual([{
          table_id: t.tableId, partition_desc: desc, version: 0, commit_op: 'MergeCommit', timestamp: expect.any(String),
          snapshot: `{${cid}}`, expression: '', domain: 'public',
        }]);
        const stamp = Number(pi[0].timestamp);
        expect(stamp).toBeGreaterThanOrEqual(before - 5000);
        expect(stamp).toBeLessThanOrEqual(Date.now() + 5000);
        const res2 = await commit(t, 'MergeCommit', desc, [testFile(t, desc, 'z')]);
        expect(res2.versions.get(desc)).toBe(1);
        const snap = (await driver.query<{ s: string }>('SELECT snapshot::text AS s FROM partition_info WHERE table_id = $1 AND version = 1', [t.tableId])).rows[0].s;
        expect(snap).toBe(`{${cid},${res2.commitIds.get(desc)}}`);
      });

      it('checks the schema the files were made under, in the commit transaction; evolves it there or not at all', async () => {
        const t = await plainTable();
        const d = '-5';
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a')]);
        const refusal = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as LakeSoulError);
        const committedRows = async () => Number((await driver.query<{ n: string }>('SELECT count(*)::text AS n FROM data_commit_info WHERE table_id = $1', [t.tableId])).rows[0].n);
        // another writer adds a column after a compaction read the rows: the compaction commits nothing
        const readWith = t.schema;
        await catalog.evolveTableSchema(t.tableId, (s) => new Schema([...s.fields, new Field('c', new Utf8(), true)]));
        const stale = await refusal(catalog.commit({ tableId: t.tableId, op: 'CompactionCommit', partitions: [{ partitionDesc: d, files: [testFile(t, d, 'compacted')], readVersion: 0 }], schema: { readWith, written: [readWith] } }));
        expect(LakeSoulError.hasCode(stale, 'SCHEMA_CHANGED')).toBe(true);
        expect(stale.kind).toBe('Conflict');
        expect(stale.retryable).toBe(true);
        expect(stale.message).toMatch(/schema changed after this compaction read its rows \(column 'c' added\)/);
        expect((await catalog.getSnapshot(t.tableId)).map((p) => p.version)).toEqual([0]);
        expect(await committedRows(), 'no commit row left behind').toBe(1);
        // files whose column has another type than the table's (added by another writer) are refused
        const asInt = new Schema([...readWith.fields, new Field('c', new Int64(), true)]);
        const wrong = await refusal(catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: d, files: [testFile(t, d, 'b')] }], schema: { written: [asInt], evolve: true } }));
        expect(wrong.message).toMatch(/column 'c' was written as Int64 but is Utf8 in the table's schema/);
        // evolve adds what is missing, with the data
        const withN = new Schema([...readWith.fields, new Field('c', new Utf8(), true), new Field('n', new Int32(), true)]);
        await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: d, files: [testFile(t, d, 'c')] }], schema: { written: [withN], evolve: true } });
        expect(String((await catalog.getTableById(t.tableId)).schema.fields.map((f) => `${f.name}:${f.type}`))).toBe('id:Int64,v:Utf8,c:Utf8,n:Int32');
        // files of a type the table widened meanwhile are refused (their values were rounded to it)
        await catalog.evolveTableSchema(t.tableId, (s) => new Schema(s.fields.map((f) => (f.name === 'n' ? f.clone({ type: new Int64() }) : f))));
        const narrow = await refusal(catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: d, files: [testFile(t, d, 'd')] }], schema: { written: [withN] } }));
        expect(narrow.message).toMatch(/column 'n' was written as Int32 but is Int64 in the table's schema/);
        const withN64 = new Schema(withN.fields.map((f) => (f.name === 'n' ? f.clone({ type: new Int64() }) : f)));
        await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: d, files: [testFile(t, d, 'd')] }], schema: { written: [withN64] } });
        // a commit that fails (its rebase refused) evolves nothing
        const withX = new Schema([...withN64.fields, new Field('x', new Utf8(), true)]);
        const v = (await catalog.commit({ tableId: t.tableId, op: 'UpdateCommit', partitions: [{ partitionDesc: d, files: [testFile(t, d, 'e')], readVersion: 2 }] })).versions.get(d)!;
        const failed = await refusal(catalog.commit({ tableId: t.tableId, op: 'UpdateCommit', partitions: [{ partitionDesc: d, files: [testFile(t, d, 'f')], readVersion: v - 1 }], schema: { written: [withX], evolve: true } }));
        expect(failed.kind).toBe('Conflict');
        expect((await catalog.getTableById(t.tableId)).schema.fields.map((f) => f.name)).toEqual(['id', 'v', 'c', 'n']);
      });

      it('commits several partitions in one commit, each with its own version', async () => {
        const t = await partTable();
        await commit(t, 'MergeCommit', 'date=2024-01-01', [testFile(t, 'date=2024-01-01', 'a')]);
        const r = await catalog.commit({ tableId: t.tableId, op: 'MergeCommit', partitions: [
          { partitionDesc: 'date=2024-01-02', files: [testFile(t, 'date=2024-01-02', 'b')] },
          { partitionDesc: 'date=2024-01-01', files: [testFile(t, 'date=2024-01-01', 'c')] },
        ] });
        expect(r.versions).toEqual(new Map([['date=2024-01-01', 1], ['date=2024-01-02', 0]]));
        expect(new Set(r.commitIds.values()).size).toBe(2);
        const s = await catalog.getSnapshot(t.tableId);
        expect(s.map((p) => [p.partitionDesc, p.version, names([p])])).toEqual([['date=2024-01-01', 1, ['a', 'c']], ['date=2024-01-02', 0, ['b']]]);
      });

      it('commits thousands of partitions at once, in statements bounded by the parameter limit', async () => {
        const t = await partTable();
        // 5,000 partitions of 3 files: phase 1 needs 70,000 parameters, over the protocol's 65,535 (three
        // statements); the versions 20,000 (one); more partitions than are locked one by one (the gate)
        const n = 5000;
        const descs = Array.from({ length: n }, (_, i) => `date=${new Date(Date.UTC(2000, 0, 1) + i * 86_400_000).toISOString().slice(0, 10)}`);
        const files = (d: string, tag: string) => [0, 1, 2].map((k) => testFile(t, d, `${tag}${k}`, { bucket: k % 2 }));
        const first = await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: descs.map((d) => ({ partitionDesc: d, files: files(d, 'a') })) });
        expect([...first.versions.values()].every((v) => v === 0)).toBe(true);
        expect(first.versions.size).toBe(n);
        const second = await catalog.commit({ tableId: t.tableId, op: 'MergeCommit', partitions: descs.map((d) => ({ partitionDesc: d, files: files(d, 'm') })) });
        expect(second.versions.size).toBe(n);
        expect([...second.versions.values()].every((v) => v === 1)).toBe(true);
        const snap = await catalog.getSnapshot(t.tableId);
        expect(snap).toHaveLength(n);
        for (const p of [snap[0]!, snap[2345]!, snap[n - 1]!]) {
          expect(p.version).toBe(1);
          expect(names([p])).toEqual(['a0', 'a1', 'a2', 'm0', 'm1', 'm2']);
          expect(p.files.map((f) => f.commitId)).toEqual([first.commitIds.get(p.partitionDesc), first.commitIds.get(p.partitionDesc), first.commitIds.get(p.partitionDesc),
            second.commitIds.get(p.partitionDesc), second.commitIds.get(p.partitionDesc), second.commitIds.get(p.partitionDesc)]);
        }
        const rows = await driver.query<{ n: string; committed: string }>('SELECT count(*)::text AS n, count(*) FILTER (WHERE committed)::text AS committed FROM data_commit_info WHERE table_id = $1', [t.tableId]);
        expect(rows.rows[0]).toEqual({ n: String(2 * n), committed: String(2 * n) });
        // the versions of one commit carry one time, after the partition's previous version
        const stamps = await driver.query<{ version: number; stamps: string }>('SELECT version, count(DISTINCT timestamp)::text AS stamps FROM partition_info WHERE table_id = $1 GROUP BY version ORDER BY version', [t.tableId]);
        expect(stamps.rows.map((r) => [Number(r.version), r.stamps])).toEqual([[0, '1'], [1, '1']]);
      });

      it('applies Append, Merge, Compaction, Update and Delete to the snapshot', async () => {
        const t = await plainTable();
        const d = '-5';
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a1')]);
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a2'), testFile(t, d, 'a3', { bucket: 2 })]);
        let s = await catalog.getSnapshot(t.tableId);
        expect(s).toHaveLength(1);
        expect(s[0]).toMatchObject({ partitionDesc: '-5', version: 1, commitOp: 'AppendCommit' });
        expect(names(s)).toEqual(['a1', 'a2', 'a3']);
        expect(s[0].files[2]).toMatchObject({ bucket: 2, size: 100n, existCols: ['id', 'v'] });
        // compaction read version 1 while an append lands as version 2: [compacted] ++ (current - read)
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a4')]);
        const c = await commit(t, 'CompactionCommit', d, [testFile(t, d, 'c1')], 1);
        expect(c.versions.get(d)).toBe(3);
        s = await catalog.getSnapshot(t.tableId);
        expect(names(s)).toEqual(['c1', 'a4']);
        expect(s[0].commitOp).toBe('CompactionCommit');
        // update: surviving + add + del, [new] ++ (current - read)
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a5')]); // v4
        // the update read v3 (c1, a4): keeps a4, adds u1, deletes c1; a5 landed since
        const u = await commit(t, 'UpdateCommit', d, [testFile(t, d, 'a4'), testFile(t, d, 'u1'), testFile(t, d, 'c1', { op: 'del' })], 3);
        expect(u.versions.get(d)).toBe(5);
        s = await catalog.getSnapshot(t.tableId);
        expect(names(s)).toEqual(['a4', 'u1', 'a5']);
        const del = await commit(t, 'DeleteCommit', d, []);
        expect(del.versions.get(d)).toBe(6);
        s = await catalog.getSnapshot(t.tableId);
        expect(s).toEqual([{ partitionDesc: '-5', version: 6, commitOp: 'DeleteCommit', timestamp: expect.any(Number), files: [] }]);
        const snap6 = (await driver.query<{ s: string }>('SELECT snapshot::text AS s FROM partition_info WHERE table_id = $1 AND version = 6', [t.tableId])).rows[0].s;
        expect(snap6).toBe('{}');
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a7')]);
        expect(names(await catalog.getSnapshot(t.tableId))).toEqual(['a7']);
        const h = await catalog.history(t.tableId);
        expect(h.map((x) => `${x.version}:${x.commitOp}`)).toEqual(['0:AppendCommit', '1:AppendCommit', '2:AppendCommit', '3:CompactionCommit', '4:AppendCommit', '5:UpdateCommit', '6:DeleteCommit', '7:AppendCommit']);
      });

      it('forms snapshots in commit order: a compaction that read an old version keeps the later commits in order', async () => {
        const t = await plainTable();
        const d = '-5';
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a0')]);
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a1')]);
        // the compactor read v1 (a0, a1); nine appends land meanwhile, in an order unlike their ids'
        for (const n of [9, 3, 7, 1, 8, 2, 6, 4, 5]) await commit(t, 'AppendCommit', d, [testFile(t, d, `b${n}`)]);
        expect(names(await catalog.getSnapshot(t.tableId))).toEqual(['a0', 'a1', 'b9', 'b3', 'b7', 'b1', 'b8', 'b2', 'b6', 'b4', 'b5']);
        const c = await commit(t, 'CompactionCommit', d, [testFile(t, d, 'c')], 1);
        expect(c.versions.get(d)).toBe(11);
        expect(names(await catalog.getSnapshot(t.tableId))).toEqual(['c', 'b9', 'b3', 'b7', 'b1', 'b8', 'b2', 'b6', 'b4', 'b5']);
        // the stored arrays themselves, as other engines read them: version 11 = [c] ++ (v10 - v1)
        const snap = async (v: number) => (await driver.query<{ s: string[] }>('SELECT snapshot::text[] AS s FROM partition_info WHERE table_id = $1 AND version = $2', [t.tableId, v])).rows[0]!.s;
        const [v1, v10, v11] = [await snap(1), await snap(10), await snap(11)];
        expect(v10.slice(0, 2)).toEqual(v1);
        expect(v11).toEqual([v11[0], ...v10.slice(2)]);
        expect(v10).not.toContain(v11[0]);
      });

      it('drops a partition from a compaction when an update or compaction happened since its read', async () => {
        const t = await partTable();
        const p1 = 'date=2024-01-01';
        const p2 = 'date=2024-01-02';
        for (const p of [p1, p2]) await commit(t, 'MergeCommit', p, [testFile(t, p, `m-${p.slice(-2)}`)]);
        await commit(t, 'UpdateCommit', p1, [testFile(t, p1, 'u')], 0); // p1 -> v1 since the compactor read v0
        const r = await catalog.commit({ tableId: t.tableId, op: 'CompactionCommit', partitions: [
          { partitionDesc: p1, files: [testFile(t, p1, 'c1')], readVersion: 0 },
          { partitionDesc: p2, files: [testFile(t, p2, 'c2')], readVersion: 0 },
        ] });
        expect(r.versions).toEqual(new Map([[p2, 1]]));
        expect([...r.commitIds.keys()]).toEqual([p2]);
        const s = await catalog.getSnapshot(t.tableId);
        expect(s.map((p) => names([p]))).toEqual([['u'], ['c2']]);
        const orphans = await driver.query('SELECT 1 FROM data_commit_info WHERE table_id = $1 AND NOT committed', [t.tableId]);
        expect(orphans.rowCount).toBe(0);
        // a compaction over a compaction since read is dropped too
        await commit(t, 'CompactionCommit', p2, [testFile(t, p2, 'c3')], 1);
        const r2 = await commit(t, 'CompactionCommit', p2, [testFile(t, p2, 'c4')], 1);
        expect(r2.versions.size).toBe(0);
        expect(names(await catalog.getSnapshot(t.tableId, { partitions: [p2] }))).toEqual(['c3']);
      });

      it('fails loudly when a rebase is not allowed', async () => {
        const t = await partTable();
        const p = 'date=2024-02-02';
        await commit(t, 'AppendCommit', p, [testFile(t, p, 'a0')]); // v0
        await commit(t, 'MergeCommit', p, [testFile(t, p, 'm1')]); // v1
        // an append that read v0 races the merge (v1): refused, naming table and partition
        const e1 = await expectError(commit(t, 'AppendCommit', p, [testFile(t, p, 'a2')], 0), 'Conflict', t.name, p, 'MergeCommit');
        expect(e1.retryable).toBe(false);
        expect(e1.context).toMatchObject({ partition: p, conflictingOp: 'MergeCommit', conflictingVersion: 1 });
        // a merge that read v0 cannot rebase over an append either
        await commit(t, 'AppendCommit', p, [testFile(t, p, 'a3')]); // v2
        await expectError(commit(t, 'MergeCommit', p, [testFile(t, p, 'm4')], 1), 'Conflict', 'AppendCommit');
        // an update that read v2 after another update landed
        await commit(t, 'UpdateCommit', p, [testFile(t, p, 'u3')], 2); // v3
        await expectError(commit(t, 'UpdateCommit', p, [testFile(t, p, 'u4')], 2), 'Conflict', 'UpdateCommit');
        // a delete that read v2
        await expectError(commit(t, 'DeleteCommit', p, [], 2), 'Conflict');
        // appends rebase over appends, compactions and updates
        await commit(t, 'AppendCommit', p, [testFile(t, p, 'a5')]); // v4
        await commit(t, 'CompactionCommit', p, [testFile(t, p, 'c5')], 4); // v5
        const ok = await commit(t, 'AppendCommit', p, [testFile(t, p, 'a6')], 3);
        expect(ok.versions.get(p)).toBe(6);
        expect(names(await catalog.getSnapshot(t.tableId))).toEqual(['c5', 'a6']);
        const h = await catalog.history(t.tableId, { partitionDesc: p });
        expect(h.map((x) => x.version)).toEqual([0, 1, 2, 3, 4, 5, 6]);
        const orphans = await driver.query('SELECT 1 FROM data_commit_info WHERE table_id = $1 AND NOT committed', [t.tableId]);
        expect(orphans.rowCount).toBe(0);
      });

      it('rejects malformed commits and commits nothing', async () => {
        const t = await partTable();
        const p = 'date=2024-03-03';
        await expectError(commit(t, 'MergeCommit', 'other=1', [testFile(t, p, 'x')]), 'InvalidArgument', 'other=1');
        await expectError(commit(t, 'MergeCommit', '-5', [testFile(t, p, 'x')]), 'InvalidArgument', '-5');
        await expectError(commit(t, 'MergeCommit', p, [testFile(t, p, 'x', { op: 'del' })]), 'InvalidArgument', 'part-x_0000.parquet');
        await expectError(commit(t, 'MergeCommit', p, [testFile(t, p, 'x', { cols: ['id', 'date'] })]), 'InvalidArgument', "'date'");
        await expectError(commit(t, 'CompactionCommit', p, [testFile(t, p, 'x')]), 'InvalidArgument', 'readVersion');
        await expectError(commit(t, 'DeleteCommit', p, [testFile(t, p, 'x')]), 'InvalidArgument');
        await expectError(commit(t, 'MergeCommit', p, [testFile(t, p, 'x')], 7), 'InvalidArgument', 'readVersion 7');
        await expectError(catalog.commit({ tableId: 'table_nope', op: 'MergeCommit', partitions: [] }), 'NotFound', 'table_nope');
        const rows = await driver.query('SELECT 1 FROM data_commit_info WHERE table_id = $1', [t.tableId]);
        expect(rows.rowCount).toBe(0);
        expect(await catalog.listPartitions(t.tableId)).toEqual([]);
      });

      it('keeps every commit of concurrent writers in one process', async () => {
        const t = await plainTable();
        const results = await Promise.all(Array.from({ length: 12 }, (_, i) => commit(t, 'AppendCommit', '-5', [testFile(t, '-5', `w${i}`)])));
        const versions = results.map((r) => r.versions.get('-5')).sort((a, b) => a! - b!);
        expect(versions).toEqual(Array.from({ length: 12 }, (_, i) => i));
        const s = await catalog.getSnapshot(t.tableId);
        expect(s[0].version).toBe(11);
        expect(new Set(s[0].files.map((f) => f.commitId))).toEqual(new Set(results.map((r) => r.commitIds.get('-5'))));
      });
    });

    describe('snapshots', () => {
      it('time travel by version and by timestamp (strict <)', async () => {
        const t = await plainTable();
        const d = '-5';
        for (let i = 0; i < 4; i++) await commit(t, 'AppendCommit', d, [testFile(t, d, `f${i}`)]);
        await setTimestamps(t, d, [1000, 2000, 3000, 4000]);
        expect(names(await catalog.getSnapshot(t.tableId, { version: 1 }))).toEqual(['f0', 'f1']);
        expect(names(await catalog.getSnapshot(t.tableId, { timestamp: 2000 }))).toEqual(['f0']);
        expect(names(await catalog.getSnapshot(t.tableId, { timestamp: 2001 }))).toEqual(['f0', 'f1']);
        expect(await catalog.getSnapshot(t.tableId, { timestamp: 1000 })).toEqual([]);
        expect(names(await catalog.getSnapshot(t.tableId, { timestamp: 99999 }))).toEqual(['f0', 'f1', 'f2', 'f3']);
        const v2 = await catalog.getSnapshot(t.tableId, { version: 2 });
        expect(v2[0]).toMatchObject({ version: 2, timestamp: 3000, commitOp: 'AppendCommit' });
        await expectError(catalog.getSnapshot(t.tableId, { version: 9 }), 'NotFound', 'version 9');
        await expectError(catalog.getSnapshot(t.tableId, { version: 1, timestamp: 5 }), 'InvalidArgument');
      });

      it('incremental reads [start, end) with baseline, update and compaction rules', async () => {
        const t = await plainTable();
        const d = '-5';
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a0')]); // v0 @1000
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a1')]); // v1 @2000
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a2')]); // v2 @3000
        await commit(t, 'CompactionCommit', d, [testFile(t, d, 'c3')], 2); // v3 @4000: [c3]
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a4')]); // v4 @5000
        await commit(t, 'UpdateCommit', d, [testFile(t, d, 'a4', { op: 'del' }), testFile(t, d, 'u5')], 4); // v5 @6000
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a6')]); // v6 @7000
        await setTimestamps(t, d, [1000, 2000, 3000, 4000, 5000, 6000, 7000]);
        const inc = async (start: number, end: number) => names(await catalog.getSnapshot(t.tableId, { incremental: { start, end } }));
        // baseline = version in force before start (v0): increment = a1, a2
        expect(await inc(1500, 3500)).toEqual(['a1', 'a2']);
        // end is exclusive
        expect(await inc(1500, 3000)).toEqual(['a1']);
        // nothing before start: a full snapshot as of end
        expect(await inc(500, 2500)).toEqual(['a0', 'a1']);
        // a compaction in range: its first (compacted) commit is excluded; later appends are included
        expect(await inc(3500, 5500)).toEqual(['a4']);
        expect(await inc(2500, 4500)).toEqual(['a2']);
        // an update in range: the whole partition as of end, flagged reset (it replaces the reader's state)
        const resets = async (start: number, end: number) => (await catalog.getSnapshot(t.tableId, { incremental: { start, end } })).map((x) => x.reset ?? false);
        expect(await inc(4500, 6500)).toEqual(['u5']);
        expect(await resets(4500, 6500)).toEqual([true]);
        expect(await inc(1500, 7500)).toEqual(['u5', 'a6']);
        expect(await resets(1500, 7500)).toEqual([true]);
        expect(await resets(1500, 3500)).toEqual([false]);
        // after the update
        expect(await inc(6500, 7500)).toEqual(['a6']);
        const p = await catalog.getSnapshot(t.tableId, { incremental: { start: 6500, end: 7500 } });
        expect(p[0]).toMatchObject({ version: 6, commitOp: 'AppendCommit', timestamp: 7000 });
        // an empty range leaves the partition out
        expect(await catalog.getSnapshot(t.tableId, { incremental: { start: 7500, end: 9000 } })).toEqual([]);
        // a drop (DeleteCommit) in range: the partition comes with no files, flagged reset
        await commit(t, 'DeleteCommit', d, []); // v7 @10000
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a8')]); // v8 @11000
        await setTimestamps(t, d, [1000, 2000, 3000, 4000, 5000, 6000, 7000, 10000, 11000]);
        const dropped = await catalog.getSnapshot(t.tableId, { incremental: { start: 9500, end: 10500 } });
        expect(dropped).toMatchObject([{ version: 7, commitOp: 'DeleteCommit', reset: true, files: [] }]);
        expect(await inc(9500, 11500)).toEqual(['a8']);
        expect(await resets(9500, 11500)).toEqual([true]);
        expect(await inc(10500, 11500)).toEqual(['a8']);
        expect(await resets(10500, 11500)).toEqual([false]);
      });

      it('filters partitions by partition_desc or range values, lists and orders them', async () => {
        const t = await partTable();
        const descs = ['date=2024-01-01', 'date=2024-01-02', 'date=__L@KE$OUL_NULL__'];
        for (const p of descs) await commit(t, 'MergeCommit', p, [testFile(t, p, `f-${p.length}-${p.slice(-2)}`)]);
        await commit(t, 'MergeCommit', descs[0], [testFile(t, descs[0], 'g')]);
        const parts = await catalog.listPartitions(t.tableId);
        expect(parts.map((p) => [p.partitionDesc, p.version])).toEqual([[descs[0], 1], [descs[1], 0], [descs[2], 0]]);
        expect(parts[0].snapshot).toHaveLength(2);
        expect((await catalog.listPartitions(t.tableId, { date: '2024-01-02' })).map((p) => p.partitionDesc)).toEqual([descs[1]]);
        expect((await catalog.listPartitions(t.tableId, { date: null })).map((p) => p.partitionDesc)).toEqual([descs[2]]);
        expect((await catalog.listPartitions(t.tableId, { date: new Date(Date.UTC(2024, 0, 1)) })).map((p) => p.partitionDesc)).toEqual([descs[0]]);
        expect((await catalog.getSnapshot(t.tableId, { partitions: [descs[1], descs[2]] })).map((p) => p.partitionDesc)).toEqual([descs[1], descs[2]]);
        expect((await catalog.getSnapshot(t.tableId, { partitions: { date: '2024-01-01' } })).map((p) => names([p]))).toEqual([['f-15-01', 'g']]);
        await expectError(catalog.listPartitions(t.tableId, { id: 1 }), 'InvalidArgument', "'id'");
        const h = await catalog.history(t.tableId);
        expect(h.map((x) => `${x.partitionDesc}@${x.version}`)).toEqual([`${descs[0]}@0`, `${descs[0]}@1`, `${descs[1]}@0`, `${descs[2]}@0`]);
        expect(h[1].snapshot).toEqual(parts[0].snapshot);
      });

      it('a partition selection reads the snapshots of the selected partitions only, in every mode, and says when a version went meanwhile', async () => {
        const t = await partTable();
        const descs = Array.from({ length: 24 }, (_, i) => `date=2024-02-${String(i + 1).padStart(2, '0')}`);
        for (let v = 0; v < 3; v++) {
          await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: descs.map((d) => ({ partitionDesc: d, files: [testFile(t, d, `v${v}`)] })) });
        }
        await commit(t, 'UpdateCommit', descs[5], [testFile(t, descs[5], 'v0', { op: 'del' }), testFile(t, descs[5], 'u3')], 2);
        for (const d of descs) await setTimestamps(t, d, d === descs[5] ? [1000, 2000, 3000, 4000] : [1000, 2000, 3000]);
        // the ids of every snapshot array the catalog's replies carry
        let ids = 0;
        const query = driver.query;
        driver.query = (async (...args: Parameters<SqlDriver['query']>) => {
          const r = await query.apply(driver, args);
          for (const row of r.rows as Record<string, unknown>[]) for (const v of Object.values(row)) if (Array.isArray(v)) ids += v.length;
          return r;
        }) as SqlDriver['query'];
        try {
          const modes: SnapshotOptions[] = [{}, { timestamp: 2500 }, { version: 1 }, { incremental: { start: 1500, end: 4500 } }];
          const wanted = new Set([descs[5], descs[17]]);
          const selections: SnapshotOptions[] = [
            { partitions: [descs[5], descs[17]] },
            { partitionMatch: (d) => wanted.has(d) },
            { partitions: { date: '2024-02-06' }, partitionMatch: (d) => d !== descs[17] },
          ];
          for (const mode of modes) {
            ids = 0;
            const whole = await catalog.getSnapshot(t.tableId, mode);
            const wholeIds = ids;
            expect(whole.length).toBe(descs.length);
            for (const sel of selections) {
              ids = 0;
              const got = await catalog.getSnapshot(t.tableId, { ...mode, ...sel });
              const expected = whole.filter((p) => (sel.partitions ? p.partitionDesc === descs[5] || (Array.isArray(sel.partitions) && p.partitionDesc === descs[17]) : wanted.has(p.partitionDesc)));
              expect(got, JSON.stringify(mode)).toEqual(expected);
              expect(got.length).toBeGreaterThan(0);
              // two of 24 partitions: at most their versions' ids, not every partition's
              expect(ids, JSON.stringify({ mode, sel: sel.partitions ?? 'predicate' })).toBeLessThanOrEqual(Math.ceil(wholeIds / 6));
            }
          }
          expect((await catalog.listPartitions(t.tableId, [descs[3]])).map((p) => [p.partitionDesc, p.version, p.snapshot.length])).toEqual([[descs[3], 2, 3]]);
          expect(await catalog.getSnapshot(t.tableId, { partitionMatch: () => false })).toEqual([]);
          // a version the predicate's partitions lack is nothing to read; a version no partition has is still an error
          expect(await catalog.getSnapshot(t.tableId, { version: 1, partitions: { date: '2024-02-03' }, partitionMatch: (d) => d !== descs[2] })).toEqual([]);
          expect(await catalog.getSnapshot(t.tableId, { version: 3, partitionMatch: (d) => d !== descs[5] })).toEqual([]);
          await expectError(catalog.getSnapshot(t.tableId, { version: 9, partitionMatch: () => false }), 'NotFound', 'no partition at version 9', `${descs[0]}: 2`);
          // a version deleted between the read of the versions and of its snapshot (a cleanup, a drop)
          driver.query = (async (...args: Parameters<SqlDriver['query']>) => {
            if (String(args[0]).includes('unnest($2::text[], $3::int[])')) {
              await query.call(driver, 'DELETE FROM partition_info WHERE table_id = $1 AND partition_desc = $2 AND version = 1', [t.tableId, descs[2]]);
            }
            return query.apply(driver, args);
          }) as SqlDriver['query'];
          const err = await expectError(catalog.getSnapshot(t.tableId, { version: 1, partitions: [descs[2]] }), 'NotFound', t.name, descs[2], 'version 1', 'read again');
          expect(err.code).toBe('VERSION_CLEANED_UP');
        } finally {
          driver.query = query;
        }
      });

      it('reports the files kept versions reference by the protocol\'s resolution, also where a deleting commit comes after the commits it deletes from', async () => {
        const t = await plainTable();
        const d = '-5';
        const p = (n: string) => testFile(t, d, n).path;
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a0')]); // v0
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a1')]); // v1
        // another engine's form: v2 appends a commit that deletes a0 and adds x2 AFTER a0's commit
        const x = randomUUID();
        await driver.query(`INSERT INTO data_commit_info (table_id, partition_desc, commit_id, file_ops, commit_op, committed, timestamp)
          VALUES ($1, $2, $3::uuid, ARRAY[ROW($4, 'del', 7, 'id,v')::data_file_op, ROW($5, 'add', 7, 'id,v')::data_file_op], 'UpdateCommit', true, 0)`,
        [t.tableId, d, x, p('a0'), p('x2')]);
        await driver.query(`INSERT INTO partition_info (table_id, partition_desc, version, commit_op, snapshot, expression)
          SELECT table_id, partition_desc, 2, 'UpdateCommit', snapshot || $2::uuid, '' FROM partition_info WHERE table_id = $1 AND version = 1`, [t.tableId, x]);
        // then this engine's forms: an update (its commit first) deleting a1 and x2, and an append after it
        await commit(t, 'UpdateCommit', d, [testFile(t, d, 'a1', { op: 'del' }), testFile(t, d, 'x2', { op: 'del' }), testFile(t, d, 'u3')], 2); // v3
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a4')]); // v4
        await setTimestamps(t, d, [1000, 2000, 3000, 4000, 5000]);
        expect(names(await catalog.getSnapshot(t.tableId, { version: 2, partitions: [d] }))).toEqual(['a1', 'x2']);
        const referenced = async (since: number) => (await catalog.tableFileSets(t.tableId, since)).referenced;
        expect(await referenced(0)).toEqual([p('a0'), p('a1'), p('x2'), p('u3'), p('a4')].sort());
        expect(await referenced(3500), 'v2 deletes a0, though its commit comes after a0\'s').toEqual([p('a1'), p('x2'), p('u3'), p('a4')].sort());
        expect(await referenced(4500)).toEqual([p('u3'), p('a4')].sort());
        expect(await referenced(6000)).toEqual([p('u3'), p('a4')].sort());
      });

      it('reports the files of the kept versions as resolving each of them would, on random histories', async () => {
        // Appends, merges, compactions, updates (deleting some live files), whole-partition deletes and
        // now and then another engine's form (a deleting commit appended after the commits it deletes
        // from), in two partitions; then, from several instants, tableFileSets' referenced files
        // against the union of every kept version's files as getSnapshot resolves it.
        const seed = Number(process.env.LAKESOUL_CONFORMANCE_SEED ?? Math.floor(Math.random() * 2 ** 31));
        let state = seed;
        const rnd = () => { state = (state + 0x6d2b79f5) | 0; let x = Math.imul(state ^ (state >>> 15), 1 | state); x ^= x + Math.imul(x ^ (x >>> 7), 61 | x); return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32; };
        const t = await plainTable();
        const d = '-5';
        let n = 0;
        for (let step = 0; step < 40; step++) {
          const current = await catalog.getSnapshot(t.tableId);
          const live = current.flatMap((p) => p.files.map((f) => f.path));
          const version = (await catalog.listPartitions(t.tableId)).find((p) => p.partitionDesc === d)?.version;
          const name = `f${n++}`;
          const r = rnd();
          if (version === undefined || r < 0.45) await commit(t, r < 0.25 ? 'AppendCommit' : 'MergeCommit', d, [testFile(t, d, name)]);
          else if (r < 0.6) await commit(t, 'CompactionCommit', d, [testFile(t, d, name)], version);
          else if (r < 0.8) {
            const gone = live.filter(() => rnd() < 0.5).map((path) => ({ ...testFile(t, d, 'x'), path, op: 'del' as const }));
            await commit(t, 'UpdateCommit', d, [...gone, testFile(t, d, name)], version);
          } else if (r < 0.85) await commit(t, 'DeleteCommit', d, [], version);
          else if (live.length > 0) {
            const id = randomUUID();
            await driver.query(`INSERT INTO data_commit_info (table_id, partition_desc, commit_id, file_ops, commit_op, committed, timestamp)
              VALUES ($1, $2, $3::uuid, ARRAY[ROW($4, 'del', 7, 'id,v')::data_file_op, ROW($5, 'add', 7, 'id,v')::data_file_op], 'UpdateCommit', true, 0)`,
            [t.tableId, d, id, live[Math.floor(rnd() * live.length)], testFile(t, d, name).path]);
            await driver.query(`INSERT INTO partition_info (table_id, partition_desc, version, commit_op, snapshot, expression)
              SELECT table_id, partition_desc, version + 1, 'UpdateCommit', snapshot || $3::uuid, '' FROM partition_info
               WHERE table_id = $1 AND partition_desc = $2 ORDER BY version DESC LIMIT 1`, [t.tableId, d, id]);
          }
        }
        const versions = (await catalog.listPartitions(t.tableId))[0]!.version + 1;
        await setTimestamps(t, d, Array.from({ length: versions }, (_, v) => 1000 * (v + 1)));
        for (const since of [0, 1000, 1500, ...Array.from({ length: 6 }, () => Math.floor(rnd() * 1000 * (versions + 1))), 1000 * (versions + 2)]) {
          // the version a read at `since` resolves: the last stamped before it (version v at 1000 (v + 1))
          const inForce = Math.max(0, Math.min(versions, Math.ceil(since / 1000) - 1) - 1);
          const kept = Array.from({ length: versions - inForce }, (_, i) => inForce + i);
          const expected = new Set<string>();
          for (const v of kept) for (const p of await catalog.getSnapshot(t.tableId, { version: v, partitions: [d] })) for (const f of p.files) expected.add(f.path);
          expect((await catalog.tableFileSets(t.tableId, since)).referenced, `seed ${seed} (LAKESOUL_CONFORMANCE_SEED), since ${since}`).toEqual([...expected].sort());
        }
      });

      it('reports files for cleanup: referenced since a time, and all committed', async () => {
        const t = await plainTable();
        const d = '-5';
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a0')]); // v0 @1000
        await commit(t, 'AppendCommit', d, [testFile(t, d, 'a1')]); // v1 @2000
        await commit(t, 'CompactionCommit', d, [testFile(t, d, 'c2')], 1); // v2 @3000
        await commit(t, 'UpdateCommit', d, [testFile(t, d, 'c2', { op: 'del' }), testFile(t, d, 'u3')], 2); // v3 @4000
        await setTimestamps(t, d, [1000, 2000, 3000, 4000]);
        const p = (n: string) => testFile(t, d, n).path;
        expect(await catalog.filesReferencedSince(t.tableId, 0)).toEqual([p('a0'), p('a1'), p('c2'), p('u3')].sort());
        expect(await catalog.filesReferencedSince(t.tableId, 2500)).toEqual([p('a0'), p('a1'), p('c2'), p('u3')].sort());
        // at 3000 itself a read resolves v1 (stamped before it), so its files stay (v2 is stamped at 3000)
        expect(await catalog.filesReferencedSince(t.tableId, 3000)).toEqual([p('a0'), p('a1'), p('c2'), p('u3')].sort());
        expect(await catalog.filesReferencedSince(t.tableId, 3001)).toEqual([p('c2'), p('u3')].sort());
        expect(await catalog.filesReferencedSince(t.tableId, 5000)).toEqual([p('u3')]);
        expect(await catalog.allCommittedFilePaths(t.tableId)).toEqual([p('a0'), p('a1'), p('c2'), p('u3')].sort());
        // a commit referenced by a version but never flagged committed (as LakeSoul-Python writes
        // them) counts as committed; an unreferenced, unflagged one (in flight or abandoned) does not
        const flagless = randomUUID();
        const inflight = randomUUID();
        for (const [id, name] of [[flagless, 'py4'], [inflight, 'lost']]) {
          await driver.query(
            `INSERT INTO data_commit_info (table_id, partition_desc, commit_id, file_ops, commit_op, committed, timestamp)
             VALUES ($1, '-5', $2::uuid, ARRAY[ROW($3, 'add', 7, 'id,v')::data_file_op], 'AppendCommit', false, 4500)`, [t.tableId, id, p(name)]);
        }
        await driver.query(
          `INSERT INTO partition_info (table_id, partition_desc, version, commit_op, timestamp, snapshot, expression)
           SELECT table_id, partition_desc, 4, 'AppendCommit', 5000, snapshot || $2::uuid, '' FROM partition_info WHERE table_id = $1 AND version = 3`,
          [t.tableId, flagless]);
        expect(await catalog.allCommittedFilePaths(t.tableId)).toEqual([p('a0'), p('a1'), p('c2'), p('u3'), p('py4')].sort());
        expect(names(await catalog.getSnapshot(t.tableId))).toEqual(['u3', 'py4']);
        expect(await catalog.filesReferencedSince(t.tableId, 4500)).toEqual([p('u3'), p('py4')].sort());
        // both sets from one statement, as cleanup reads them
        expect(await catalog.tableFileSets(t.tableId, 3001)).toEqual({
          committed: [p('a0'), p('a1'), p('c2'), p('u3'), p('py4')].sort(), referenced: [p('c2'), p('u3'), p('py4')].sort(),
        });
        await expectError(catalog.tableFileSets(randomUUID(), 0), 'NotFound', 'table');
        // a snapshot naming a commit without a row is refused, naming the table and partition
        await driver.query(`UPDATE partition_info SET snapshot = snapshot || $2::uuid WHERE table_id = $1 AND version = 4`, [t.tableId, randomUUID()]);
        await expectError(catalog.tableFileSets(t.tableId, 4500), 'Catalog', `partition '-5'`);
      });
    });
  });
}
