/**
 * Overwrite and update (issue 14 §3, §4) against LakeSoul's own reader: the lakesoul wheel (PyPI
 * lakesoul 2.0.0) reads a table this project overwrote or updated exactly as this project does, on
 * the same PostgreSQL catalog, on local disk and on the moto S3 server.
 */
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it as vitestIt } from 'vitest';
import { Field, FixedSizeList, Float32, Int32, Int64, List, Map_, Schema, Struct, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { Catalog } from '@lakesoul-ts/meta';
import { Lakehouse } from '@lakesoul-ts/io';
import { canonicalRows, interopEnv, lakesoulPy, readIpc, scratchDir, writeIpc, type InteropEnv } from './interop-env.js';
import { MergeModel, PK_COLUMNS, PK_SCHEMA_SPEC, makeRows, rowsToArrow, type Row } from './interop-rows.js';

/** Each scenario starts several LakeSoul-Python processes: allow for a loaded 2-core machine. */
const it = (name: string, fn: () => Promise<void>) => vitestIt(name, fn, 600_000);
const ALL = PK_COLUMNS.map(([n]) => n) as string[];

/** A table of nested columns (list, fixed-size list, struct, map) in the driver's type names. */
const NESTED_SPEC = [['id', 'int64'], ['lst', 'list_int32'], ['fsl', 'fixed_list_float32_2'], ['st', 'struct_a_int32_b_string'], ['mp', 'map_string_int32']];
const NESTED_SCHEMA = new Schema([
  new Field('id', new Int64(), false),
  new Field('lst', new List(new Field('item', new Int32(), true)), true),
  new Field('fsl', new FixedSizeList(2, new Field('item', new Float32(), true)), true),
  new Field('st', new Struct([new Field('a', new Int32(), true), new Field('b', new Utf8(), true)]), true),
  new Field('mp', new Map_<Utf8, Int32>(new Field('entries', new Struct<{ key: Utf8; value: Int32 }>([new Field('key', new Utf8(), false), new Field('value', new Int32(), true)]), false)), true),
]);

/** Rows `ids` of NESTED_SCHEMA, their values derived from the id and `salt` (every fifth list null). */
function nestedRows(ids: number[], salt: number): Table {
  const [, lst, fsl, st, mp] = NESTED_SCHEMA.fields.map((f) => f.type);
  return new Table({
    id: vectorFromArray(ids.map(BigInt), new Int64()),
    lst: vectorFromArray(ids.map((i) => (i % 5 === 0 ? null : [i, salt, i * salt])), lst),
    fsl: vectorFromArray(ids.map((i) => [i + 0.5, salt]), fsl),
    st: vectorFromArray(ids.map((i) => ({ a: i * salt, b: `s${i}-${salt}` })), st),
    mp: vectorFromArray(ids.map((i) => new Map([[`k${i}`, salt]])), mp),
  });
}

for (const storage of ['local', 's3'] as const) {
  describe(`overwrite and update read the same in LakeSoul-Python 2.0.0 (${storage} storage)`, () => {
    let env: InteropEnv;
    let scratch: { dir: string; cleanup: () => void };
    let catalog: Catalog;
    let lake: Lakehouse;
    let warehouse: string;
    const suffix = randomBytes(4).toString('hex');
    const tname = (what: string) => `writes_${what}_${storage}_${suffix}`;

    async function pyWrite(name: string, rows: Partial<Row>[]): Promise<void> {
      const input = writeIpc(rowsToArrow(rows), join(scratch.dir, `${name}-${randomBytes(4).toString('hex')}.arrow`));
      await lakesoulPy(env, 'write', { name, namespace: 'default', input });
    }

    async function pyScan(name: string): Promise<Table> {
      const output = join(scratch.dir, `${name}-scan-${randomBytes(4).toString('hex')}.arrow`);
      await lakesoulPy(env, 'scan', { name, namespace: 'default', output });
      return readIpc(output);
    }

    beforeAll(async () => {
      env = interopEnv();
      scratch = scratchDir(`writes-${storage}`);
      if (storage === 's3') {
        const bucket = `writes-${suffix}`;
        await lakesoulPy(env, 'make_bucket', { bucket });
        warehouse = `s3://${bucket}/warehouse`;
      } else {
        warehouse = pathToFileURL(join(scratch.dir, 'warehouse')).href.replace(/\/+$/, '');
      }
      catalog = await Catalog.open({ url: env.pgUrl });
      lake = await Lakehouse.open({ catalog, warehouse, stores: { env: { ...process.env, AWS_ENDPOINT: env.s3Endpoint } } });
    });

    afterAll(async () => {
      await lake?.close();
      await catalog?.close();
      scratch?.cleanup();
    });

    it('LakeSoul-Python table: TS overwrites one partition, then the whole table; both readers agree at each step', async () => {
      const name = tname('ow');
      await lakesoulPy(env, 'create', {
        name, namespace: 'default', path: `${warehouse}/default/${name}`, schema: PK_SCHEMA_SPEC, partitionBy: ['region'], primaryKeys: ['id'], hashBucketNum: 4,
      });
      const base = makeRows([...Array(30).keys()], ['eu', 'us', 'apac'], 1, 'base');
      await pyWrite(name, base);
      const table = await lake.table(name);

      // Replace only region=eu.
      const eu = makeRows([100, 101, 102], ['eu'], 2, 'eu2');
      await table.write(rowsToArrow(eu), { mode: 'overwrite', replacePartitions: { region: 'eu' } });
      const model = new MergeModel().upsert(base.filter((r) => r.region !== 'eu')).upsert(eu);
      const want = canonicalRows(rowsToArrow(model.toRows()), ALL);
      expect(canonicalRows(await table.toArrow(), ALL)).toEqual(want);
      expect(canonicalRows(await pyScan(name), ALL), 'the wheel sees the replaced partition').toEqual(want);

      // LakeSoul-Python appends on top of the overwritten partition: merge still agrees.
      const more = makeRows([100, 200], ['eu'], 3, 'py');
      await pyWrite(name, more);
      model.upsert(more);
      const want2 = canonicalRows(rowsToArrow(model.toRows()), ALL);
      expect(canonicalRows(await table.toArrow(), ALL)).toEqual(want2);
      expect(canonicalRows(await pyScan(name), ALL)).toEqual(want2);

      // Whole-table overwrite: partitions not written become empty.
      const all = makeRows([7, 8], ['us'], 4, 'all');
      await table.write(rowsToArrow(all), { mode: 'overwrite' });
      const want3 = canonicalRows(rowsToArrow(new MergeModel().upsert(all).toRows()), ALL);
      expect(canonicalRows(await table.toArrow(), ALL)).toEqual(want3);
      expect(canonicalRows(await pyScan(name), ALL), 'the wheel sees only the new rows').toEqual(want3);
      const ops = (await table.history()).filter((h) => h.commitOp === 'UpdateCommit');
      expect(new Set(ops.map((h) => h.partitionDesc))).toEqual(new Set(['region=eu', 'region=us', 'region=apac']));
      // what the wheel leaves in a table's directory is a table's: purge takes it all (no PURGE_FOREIGN_FILES)
      const purged = await lake.dropTable(name, { purge: true });
      expect(purged.files.length).toBeGreaterThanOrEqual(4);
      const { store, key } = lake.stores.resolve(table.info.path);
      const left: string[] = [];
      for await (const m of store.list(`${key}/`)) left.push(m.path);
      expect(left).toEqual([]);
    });

    it('schema evolution both ways: TS adds a column and widens one; the wheel reads old and new files, and its writes with the new column read here', async () => {
      const name = tname('evo');
      await lakesoulPy(env, 'create', {
        name, namespace: 'default', path: `${warehouse}/default/${name}`, schema: PK_SCHEMA_SPEC, partitionBy: ['region'], primaryKeys: ['id'], hashBucketNum: 4,
      });
      const base = makeRows([...Array(20).keys()], ['eu', 'us'], 7, 'e');
      await pyWrite(name, base);
      const table = await lake.table(name);
      // TS: a new nullable column via a merge write (partial upsert of some keys), then an explicit widen.
      await table.write([{ id: 1n, region: 'eu', label: 'one' }, { id: 100n, region: 'us', label: 'hundred' }], { schemaMode: 'merge' });
      await table.widenColumns({ qty: new Int64() });
      expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toContain('label:Utf8');
      // qty is int64 now: canonical int64 values are "<n>n".
      const byKey = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => (`${a.region}/${a.id}` < `${b.region}/${b.id}` ? -1 : 1));
      const withLabels = (model: MergeModel, extra: Map<string, string | null>) =>
        byKey(canonicalRows(rowsToArrow(model.toRows()), ALL).map((r) => ({ ...r, qty: r.qty === null ? null : `${r.qty}n`, label: extra.get(`${r.region}/${String(r.id).replace(/n$/, '')}`) ?? null })));
      const expectRows = (extra: Map<string, string | null>) => withLabels(new MergeModel().upsert(base).upsert([{ id: 1n, region: 'eu' }, { id: 100n, region: 'us' }]), extra);
      const labels = new Map<string, string | null>([['eu/1', 'one'], ['us/100', 'hundred']]);
      const want = expectRows(labels);
      const cols = [...ALL, 'label'];
      expect(byKey(canonicalRows(await table.toArrow(), cols))).toEqual(want);
      const py = await pyScan(name);
      expect(py.schema.fields.map((f) => f.name)).toContain('label');
      expect(byKey(canonicalRows(py, cols)), 'the wheel reads old files with label null and widened qty').toEqual(want);

      // The wheel writes rows with the new column (its writer conforms to the evolved schema).
      const more = makeRows([1, 2], ['eu'], 8, 'py2');
      const arrow = rowsToArrow(more);
      const withLabel = arrow.assign(new Table({ label: vectorFromArray(['py-one', null], new Utf8()) }));
      const input = writeIpc(withLabel, join(scratch.dir, `${name}-evo.arrow`));
      await lakesoulPy(env, 'write', { name, namespace: 'default', input });
      const model2 = new MergeModel().upsert(base).upsert([{ id: 1n, region: 'eu' }, { id: 100n, region: 'us' }]).upsert(more);
      labels.set('eu/1', 'py-one');
      labels.set('eu/2', null);
      const want2 = withLabels(model2, labels);
      await table.refresh();
      expect(byKey(canonicalRows(await table.toArrow(), cols))).toEqual(want2);
      expect(byKey(canonicalRows(await pyScan(name), cols))).toEqual(want2);
    });

    it('nested columns the wheel wrote (its file_exist_cols lists their leaf fields) read here, and a compaction here keeps them for both readers', async () => {
      const name = tname('nested');
      await lakesoulPy(env, 'create', { name, namespace: 'default', path: `${warehouse}/default/${name}`, schema: NESTED_SPEC, primaryKeys: ['id'], hashBucketNum: 2 });
      const write = async (rows: Table) => lakesoulPy(env, 'write', { name, namespace: 'default', input: writeIpc(rows, join(scratch.dir, `${name}-${randomBytes(4).toString('hex')}.arrow`)) });
      const first = await write(nestedRows([...Array(30).keys()], 1));
      expect(first.files[0].existingColumns, 'the wheel names leaf fields, not the columns').toContain('item');
      const table = await lake.table(name);
      const cols = NESTED_SCHEMA.fields.map((f) => f.name);
      const want1 = canonicalRows(nestedRows([...Array(30).keys()], 1), cols);
      expect(canonicalRows(await table.toArrow(), cols)).toEqual(want1);

      await write(nestedRows([...Array(20).keys()].map((i) => i + 20), 2));
      const want2 = canonicalRows(new Table([...nestedRows([...Array(20).keys()], 1).batches, ...nestedRows([...Array(20).keys()].map((i) => i + 20), 2).batches]), cols);
      expect(canonicalRows(await table.toArrow(), cols), 'merge-on-read over two wheel layers').toEqual(want2);
      expect(canonicalRows(await table.toArrow({ filter: 'id >= 25' }), cols)).toEqual(want2.filter((r) => BigInt(String(r.id).slice(0, -1)) >= 25n));
      await table.compact();
      expect(canonicalRows(await table.toArrow(), cols), 'after the compaction here').toEqual(want2);
      expect(canonicalRows(await pyScan(name), cols), 'the wheel reads the compacted files').toEqual(want2);

      // The other way: a table this project created and wrote, read by the wheel.
      const own = await lake.createTable(tname('nested_ts'), NESTED_SCHEMA, { primaryKeys: ['id'], hashBucketNum: 2 });
      await own.write(nestedRows([...Array(10).keys()], 3));
      await own.write(nestedRows([5, 6, 7, 8, 9, 10, 11], 4), { mode: 'upsert' });
      const want3 = canonicalRows(new Table([...nestedRows([0, 1, 2, 3, 4], 3).batches, ...nestedRows([5, 6, 7, 8, 9, 10, 11], 4).batches]), cols);
      expect(canonicalRows(await own.toArrow(), cols)).toEqual(want3);
      expect(canonicalRows(await pyScan(own.info.name), cols), 'the wheel reads nested columns written here').toEqual(want3);
    });

    it('TS update(where, set) on a LakeSoul-Python table reads the same in the wheel', async () => {
      const name = tname('upd');
      await lakesoulPy(env, 'create', {
        name, namespace: 'default', path: `${warehouse}/default/${name}`, schema: PK_SCHEMA_SPEC, partitionBy: ['region'], primaryKeys: ['id'], hashBucketNum: 4,
      });
      const base = makeRows([...Array(40).keys()], ['eu', 'us'], 5, 'u');
      await pyWrite(name, base);
      const table = await lake.table(name);
      const r = await table.update('id < 10', { name: 'updated', qty: 7 });
      expect(r.rows).toBe(10);
      const model = new MergeModel().upsert(base.map((row) => (row.id < 10n ? { ...row, name: 'updated', qty: 7 } : row)));
      const want = canonicalRows(rowsToArrow(model.toRows()), ALL);
      expect(canonicalRows(await table.toArrow(), ALL)).toEqual(want);
      expect(canonicalRows(await pyScan(name), ALL)).toEqual(want);
    });
  });
}
