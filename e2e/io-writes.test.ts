/**
 * Writing tables the way JS users expect (issue 14): plain objects and Arrow data of other types in,
 * tables created from data, overwrite of the table or of chosen partitions, update by predicate,
 * `await using`. On PGlite + local disk and on PostgreSQL + the moto S3 server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal, Field, Float32, Float64, Int32, Int64, Schema, Timestamp, TimeUnit, Utf8, DateDay, tableFromArrays, tableFromJSON } from 'apache-arrow';
import { Catalog, LakeSoulError } from '@lakesoul-ts/meta';
import { Lakehouse, plainValues, type LakeSoulTable } from '@lakesoul-ts/io';
import { createConnection } from 'node:net';
import { createFlightServer } from '@lakesoul-ts/connector-flight';
import { openTestLakehouse, rowsOf, sortRows, type CatalogKind, type StorageKind, type TestLakehouse } from './io-harness.js';

const ENVS: [CatalogKind, StorageKind][] = [
  ['pglite', 'local'],
  ['pg', 's3'],
];

async function rows(t: LakeSoulTable, opts: Parameters<LakeSoulTable['toArrow']>[0] = {}, keys = ['id']) {
  return sortRows(rowsOf(await t.toArrow(opts)), keys);
}

/** Exact plain values of one column of a scan (timestamps with every digit, decimals as text). */
async function exact(t: LakeSoulTable, column: string, keys = ['id']): Promise<unknown[]> {
  const tab = await t.toArrow();
  const order = sortRows(rowsOf(tab).map((r, i) => ({ ...r, __i: i })), keys).map((r) => r.__i as number);
  const all = tab.batches.flatMap((b) => plainValues(b.getChild(column)!.data[0]));
  return order.map((i) => all[i]);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => { s.destroy(); res(true); });
    s.once('error', () => res(false));
  });
}

async function refusal(p: Promise<unknown>): Promise<LakeSoulError> {
  try {
    await p;
  } catch (e) {
    expect(LakeSoulError.is(e)).toBe(true);
    return e as LakeSoulError;
  }
  throw new Error('expected a refusal');
}

describe.each(ENVS)('writes on %s catalog + %s storage', (catalogKind, storage) => {
  let env: TestLakehouse;
  let lh: Lakehouse;
  beforeAll(async () => {
    env = await openTestLakehouse(catalogKind, storage);
    lh = env.lh;
  }, 120_000);
  afterAll(async () => env?.close());

  const eventsSchema = new Schema([
    new Field('id', new Int64(), false),
    new Field('at', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), true),
    new Field('day', new DateDay(), true),
    new Field('price', new Decimal(2, 12, 128), true),
    new Field('note', new Utf8(), true),
  ]);

  it('§1 write() takes arrays of objects and Arrow data of compatible types, converting exactly', async () => {
    const t = await lh.createTable('plain_in', eventsSchema, { primaryKeys: ['id'] });
    await t.write([
      { id: 1, at: '2024-01-01T00:00:00.123456Z', day: '2024-01-01', price: 19.9, note: 'a' },
      { id: 2n, at: new Date('2024-01-02T00:00:00.5Z'), day: new Date('2024-01-02T00:00:00Z'), price: '0.05' },
    ]);
    // tableFromArrays gives Float64 ids and utf8 timestamps: converted when exact.
    await t.write(tableFromArrays({ id: [3, 4], at: ['2024-01-03T00:00:00.000001Z', '2024-01-04T00:00:00Z'], note: ['c', 'd'] }));
    await t.write(tableFromJSON([{ id: 5, note: 'e' }]));
    expect(await exact(t, 'at')).toEqual(['2024-01-01T00:00:00.123456Z', '2024-01-02T00:00:00.500000Z', '2024-01-03T00:00:00.000001Z', '2024-01-04T00:00:00.000000Z', null]);
    expect(await exact(t, 'price')).toEqual(['19.90', '0.05', null, null, null]);
    expect(await exact(t, 'day')).toEqual(['2024-01-01', '2024-01-02', null, null, null]);
    expect((await rows(t)).map((r) => r.note)).toEqual(['a', null, 'c', 'd', 'e']);

    const versions = (await t.history()).length;
    let e = await refusal(t.write([{ id: 6 }, { id: 7.5 }]));
    expect(e.code).toBe('VALUE_NOT_CONVERTIBLE');
    expect(e.message).toMatch(/row 1: column 'id' of table 'plain_in'.*7\.5 is not an integer/);
    e = await refusal(t.write([{ id: 8, price: 1.001 }]));
    expect(e.message).toMatch(/row 0: column 'price'.*more than 2 fraction digits/);
    e = await refusal(t.write(tableFromArrays({ id: [9, 10.5] })));
    expect(e.message).toMatch(/row 1: column 'id' of table 'plain_in'/);
    e = await refusal(t.write([{ id: 11, colour: 'red' }]));
    expect(e.code).toBe('UNKNOWN_COLUMN');
    expect(e.message).toMatch(/row 0: column 'colour'/);
    expect((await t.history()).length, 'a refused write commits nothing').toBe(versions);
    expect((await rows(t)).length).toBe(5);
  });

  it('§1 deleteByKeys takes plain JS numbers for int64 keys through the same codec', async () => {
    const t = await lh.createTable('del_keys', eventsSchema, { primaryKeys: ['id'] });
    await t.write([{ id: 1 }, { id: 2 }, { id: 3 }]);
    const r = await t.deleteByKeys([{ id: 2 }, { id: '3' }]);
    expect(r.rows).toBe(2);
    expect((await rows(t)).map((x) => x.id)).toEqual([1]);
    const e = await refusal(t.deleteByKeys([{ id: 1.5 }]));
    expect(e.message).toMatch(/delete keys: row 0: column 'id'/);
  });

  it('§2 createTable from objects / Arrow data infers the schema; ifNotExists and openOrCreate', async () => {
    const t = await lh.createTable('from_objects', [{ id: 1, name: 'a', score: 0.5, at: new Date(0) }, { id: 2, name: null, score: 1 }], { primaryKeys: ['id'] });
    expect(t.schema.fields.map((f) => `${f.name}:${f.type}:${f.nullable}`)).toEqual(['id:Int64:false', 'name:Utf8:true', 'score:Float64:true', 'at:Timestamp<MICROSECOND, UTC>:true']);
    expect(await rows(t)).toEqual([
      { id: 1, name: 'a', score: 0.5, at: 0 },
      { id: 2, name: null, score: 1, at: null },
    ]);
    const again = await lh.createTable('from_objects', [{ id: 3, name: 'x', score: 2 }], { primaryKeys: ['id'], ifNotExists: true });
    expect(again.info.tableId).toBe(t.info.tableId);
    expect((await rows(again)).length, 'ifNotExists on an existing table writes nothing').toBe(2);
    expect((await refusal(lh.createTable('from_objects', [{ id: 3 }]))).kind).toBe('AlreadyExists');

    const a = await lh.createTable('from_arrow', tableFromArrays({ k: ['x', 'y'], v: Float64Array.from([1, 2]) }), { primaryKeys: ['k'], integers: 'int32' });
    expect(a.schema.fields.map((f) => `${f.name}:${f.type}:${f.nullable}`)).toEqual(['k:Utf8:false', 'v:Float64:true']);
    expect((await rows(a, {}, ['k'])).map((r) => r.v)).toEqual([1, 2]);
    // the Schema of Arrow data (dictionary strings) stores the values' type, and that data writes into it
    const arrowData = tableFromArrays({ k: ['x', 'y'], v: Float64Array.from([1, 2]) });
    const fromSchema = await lh.createTable('from_arrow_schema', arrowData.schema, { primaryKeys: ['k'] });
    expect(fromSchema.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['k:Utf8', 'v:Float64']);
    await fromSchema.write(arrowData);
    expect((await rows(fromSchema, {}, ['k'])).map((r) => r.k)).toEqual(['x', 'y']);
    const wrapped = await refusal(lh.createTable('schema_in_object', { schema: arrowData.schema } as never, { primaryKeys: ['k'] }));
    expect(wrapped.message).toMatch(/got an object with a 'schema' key: pass the Schema itself/);
    const small = await lh.createTable('int32s', [{ n: 1 }], { integers: 'int32' });
    expect(String(small.schema.fields[0].type)).toBe('Int32');

    const o1 = await lh.openOrCreate('opened', [{ id: 1 }], { primaryKeys: ['id'] });
    const o2 = await lh.openOrCreate('opened', [{ id: 2 }], { primaryKeys: ['id'] });
    expect(o2.info.tableId).toBe(o1.info.tableId);
    expect((await rows(o2)).map((r) => r.id)).toEqual([1]);
    expect((await refusal(lh.createTable('bad_pk', [{ id: 1 }], { primaryKeys: ['nope'] }))).message).toMatch(/primary-key column 'nope' is not in the data/);

    // data the first write refuses creates no table: trying again with good data works
    expect((await refusal(lh.createTable('first_write_fails', [{ id: 1 }, { id: null }], { primaryKeys: ['id'] }))).message).toMatch(/null in primary key column 'id' .* row 1/);
    expect((await refusal(lh.table('first_write_fails'))).kind).toBe('NotFound');
    const retried = await lh.createTable('first_write_fails', [{ id: 1 }, { id: 2 }], { primaryKeys: ['id'], ifNotExists: true });
    expect((await rows(retried)).map((r) => r.id)).toEqual([1, 2]);
  });

  it('§3 overwrite the whole table: one UpdateCommit per partition, time travel still sees the old rows', async () => {
    const t = await lh.createTable('ow_all', [{ id: 1, region: 'eu', v: 1 }, { id: 2, region: 'us', v: 2 }, { id: 3, region: 'apac', v: 3 }], {
      primaryKeys: ['id'],
      rangePartitions: ['region'],
    });
    const before = await t.history();
    const r = await t.write([{ id: 10, region: 'eu', v: 10 }, { id: 11, region: 'cn', v: 11 }], { mode: 'overwrite' });
    expect(new Set(r.versions.keys())).toEqual(new Set(['region=eu', 'region=us', 'region=apac', 'region=cn']));
    expect(await rows(t)).toEqual([
      { id: 10, region: 'eu', v: 10 },
      { id: 11, region: 'cn', v: 11 },
    ]);
    const after = await t.history();
    const newVersions = after.filter((h) => !before.some((b) => b.partitionDesc === h.partitionDesc && b.version === h.version));
    expect(newVersions.map((h) => h.commitOp)).toEqual(newVersions.map(() => 'UpdateCommit'));
    // One commit: every new version shares the commit timestamp window and the same catalog transaction.
    expect(newVersions.length).toBe(4);
    // Time travel to the versions before the overwrite.
    expect(await rows(t, { partitions: { region: 'us' }, version: 0 })).toEqual([{ id: 2, region: 'us', v: 2 }]);
    // Overwrite with no rows empties the table.
    await t.write([], { mode: 'overwrite' });
    expect(await rows(t)).toEqual([]);
  });

  it('§3 overwrite chosen partitions (by values, by desc, by predicate on range columns); rows outside are refused', async () => {
    const t = await lh.createTable('ow_parts', [
      { id: 1, day: '2024-01-01', v: 1 },
      { id: 2, day: '2024-01-02', v: 2 },
      { id: 3, day: '2024-01-03', v: 3 },
    ], { rangePartitions: ['day'], integers: 'int64' });
    await t.write([{ id: 20, day: '2024-01-02', v: 20 }, { id: 21, day: '2024-01-02', v: 21 }], { mode: 'overwrite', replacePartitions: { day: '2024-01-02' } });
    expect(await rows(t)).toEqual([
      { id: 1, day: '2024-01-01', v: 1 },
      { id: 3, day: '2024-01-03', v: 3 },
      { id: 20, day: '2024-01-02', v: 20 },
      { id: 21, day: '2024-01-02', v: 21 },
    ]);
    await t.write([{ id: 30, day: '2024-01-03', v: 30 }], { mode: 'overwrite', replaceWhere: "day >= '2024-01-02'" });
    expect(await rows(t)).toEqual([
      { id: 1, day: '2024-01-01', v: 1 },
      { id: 30, day: '2024-01-03', v: 30 },
    ]);
    await t.write([{ id: 40, day: '2024-01-01', v: 40 }], { mode: 'overwrite', replacePartitions: ['day=2024-01-01'] });
    expect((await rows(t)).map((r) => r.id)).toEqual([30, 40]);
    const versions = (await t.history()).length;
    let e = await refusal(t.write([{ id: 50, day: '2024-01-05', v: 1 }], { mode: 'overwrite', replacePartitions: { day: '2024-01-01' } }));
    expect(e.code).toBe('OUTSIDE_OVERWRITE');
    expect(e.message).toMatch(/partition 'day=2024-01-05'/);
    e = await refusal(t.write([{ id: 50, day: '2024-01-01', v: 1 }], { mode: 'overwrite', replaceWhere: 'v > 3' }));
    expect(e.code).toBe('NOT_A_RANGE_COLUMN');
    e = await refusal(t.write([{ id: 50, day: '2024-01-01', v: 1 }], { replaceWhere: "day = '2024-01-01'" }));
    expect(e.message).toMatch(/need mode 'overwrite'/);
    // a list of range-value objects, malformed descriptions, a bare value: refused naming the table and
    // the accepted forms (a list of objects failed with "TypeError: desc.split is not a function")
    // and {} (no range value), which replaced every partition, as dropPartitions({}) refuses
    for (const bad of [[{ day: '2024-01-01' }, { day: null }], ['nonsense'], ['v=1'], [1], 'day=2024-01-01', {}] as any[]) {
      e = await refusal(t.write([{ id: 50, day: '2024-01-01', v: 1 }], { mode: 'overwrite', replacePartitions: bad }));
      expect(e.kind, JSON.stringify(bad)).toBe('InvalidArgument');
      expect(e.code).toBe('INVALID_PARTITION');
      expect(e.context.table).toBe('ow_parts');
      expect(e.message).toMatch(/^overwrite of table 'ow_parts': replacePartitions .*give a list of partition descriptions \('day=<value>'\) or one object of range values/);
    }
    expect((await t.history()).length).toBe(versions);
    expect((await rows(t)).map((r) => r.id)).toEqual([30, 40]);
  });

  it('§4 update(where, set) on PK and non-PK tables, one commit each; refuses key columns', async () => {
    const pk = await lh.createTable('upd_pk', [{ id: 1, name: 'a', score: 1 }, { id: 2, name: 'b', score: 2 }, { id: 3, name: 'c', score: 3 }], { primaryKeys: ['id'], hashBucketNum: 2 });
    await pk.write([{ id: 2, score: 20 }]); // a partial upsert: the update must see merged rows
    const h0 = (await pk.history()).length;
    const r = await pk.update('score >= 3', { name: 'big', score: 0 });
    expect(r.rows).toBe(2);
    expect((await pk.history()).length).toBe(h0 + 1);
    expect((await pk.history()).at(-1)!.commitOp).toBe('UpdateCommit');
    expect(await rows(pk)).toEqual([
      { id: 1, name: 'a', score: 1 },
      { id: 2, name: 'big', score: 0 },
      { id: 3, name: 'big', score: 0 },
    ]);
    const none = await pk.update("name = 'zzz'", { score: 5 });
    expect(none.rows).toBe(0);
    expect(none.versions.size).toBe(0);
    expect((await refusal(pk.update(null, { id: 5 }))).message).toMatch(/column 'id' is a primary-key column/);
    expect((await refusal(pk.update(null, { score: 'x' }))).code).toBe('VALUE_NOT_CONVERTIBLE');
    expect((await refusal(pk.update(null, { nope: 1 }))).code).toBe('UNKNOWN_COLUMN');

    const plain = await lh.createTable('upd_plain', [{ k: 'a', n: 1 }, { k: 'b', n: 2 }, { k: 'c', n: null }], {});
    await plain.write([{ k: 'd', n: 4 }]);
    const u = await plain.update(null, { n: 7 });
    expect(u.rows).toBe(4);
    expect((await rows(plain, {}, ['k'])).map((x) => x.n)).toEqual([7, 7, 7, 7]);
    await plain.update("k IN ('a', 'd')", { n: null });
    expect((await rows(plain, {}, ['k'])).map((x) => x.n)).toEqual([null, 7, 7, null]);
    // deleteWhere still works after updates.
    await plain.deleteWhere('n IS NULL');
    expect((await rows(plain, {}, ['k'])).map((x) => x.k)).toEqual(['b', 'c']);
  });

  it('§5 schema evolution: add nullable columns (explicitly and with schemaMode merge), widen int32/float32; old files read nulls; partial upserts merge across schemas', async () => {
    const t = await lh.createTable('evolve_pk', new Schema([
      new Field('id', new Int64(), false),
      new Field('qty', new Int32(), true),
      new Field('w', new Float32(), true),
    ]), { primaryKeys: ['id'], hashBucketNum: 2 });
    await t.write([{ id: 1, qty: 10, w: 0.5 }, { id: 2, qty: 20, w: 1.5 }, { id: 3, qty: 30, w: 2.5 }]);

    // Strict by default.
    expect((await refusal(t.write([{ id: 1, colour: 'red' }]))).code).toBe('UNKNOWN_COLUMN');
    // Explicit add.
    await t.addColumns([new Field('note', new Utf8(), true)]);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['id', 'qty', 'w', 'note']);
    expect(await rows(t)).toEqual([
      { id: 1, qty: 10, w: 0.5, note: null },
      { id: 2, qty: 20, w: 1.5, note: null },
      { id: 3, qty: 30, w: 2.5, note: null },
    ]);
    // Merge on write: a partial upsert that brings a new column; other columns keep their values.
    await t.write([{ id: 2, colour: 'red' }, { id: 4, colour: 'blue', note: 'new' }], { schemaMode: 'merge' });
    expect(t.schema.fields.map((f) => `${f.name}:${f.type}:${f.nullable}`)).toEqual(['id:Int64:false', 'qty:Int32:true', 'w:Float32:true', 'note:Utf8:true', 'colour:Utf8:true']);
    expect(await rows(t)).toEqual([
      { id: 1, qty: 10, w: 0.5, note: null, colour: null },
      { id: 2, qty: 20, w: 1.5, note: null, colour: 'red' },
      { id: 3, qty: 30, w: 2.5, note: null, colour: null },
      { id: 4, qty: null, w: null, note: 'new', colour: 'blue' },
    ]);
    // Widen explicitly, then write a value only the wider type holds.
    await t.widenColumns({ qty: new Int64() });
    await t.write([{ id: 3, qty: 2n ** 40n }]);
    // Widen from the data's type with schemaMode merge (a Float64 column into float32).
    await t.write(tableFromArrays({ id: BigInt64Array.from([1n]), w: Float64Array.from([0.1]) }), { schemaMode: 'merge' });
    expect(t.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['id:Int64', 'qty:Int64', 'w:Float64', 'note:Utf8', 'colour:Utf8']);
    const got = await rows(t);
    expect(got.map((r) => [r.id, r.qty, r.w])).toEqual([[1, 10, 0.1], [2, 20, 1.5], [3, 2 ** 40, 2.5], [4, null, null]]);
    // After compaction (old and new files rewritten together) the rows are the same.
    await t.compact();
    expect(await rows(t)).toEqual(got);

    const versions = (await t.history()).length;
    expect((await refusal(t.addColumns([new Field('must', new Utf8(), false)]))).code).toBe('SCHEMA_EVOLUTION_REFUSED');
    const k32 = await lh.createTable('evolve_pk32', new Schema([new Field('id', new Int32(), false)]), { primaryKeys: ['id'] });
    expect((await refusal(k32.widenColumns({ id: new Int64() }))).message).toMatch(/'id' is a primary-key column; its type cannot change/);
    expect((await refusal(t.widenColumns({ qty: new Int32() }))).message).toMatch(/column 'qty' cannot change type from Int64 to Int32/);
    expect((await refusal(t.widenColumns({ note: new Int64() }))).code).toBe('SCHEMA_EVOLUTION_REFUSED');
    expect((await refusal(t.addColumns([new Field('qty', new Utf8(), true)]))).message).toMatch(/'qty' appears twice/);
    expect((await t.history()).length).toBe(versions);
  });

  it('§5 schemaMode merge on a non-PK partitioned table: old files read the new column as null', async () => {
    const t = await lh.createTable('evolve_plain', [{ day: '2024-01-01', n: 1 }], { rangePartitions: ['day'] });
    await t.write([{ day: '2024-01-02', n: 2, tag: 'x', score: 0.5 }], { schemaMode: 'merge' });
    expect(await rows(t, {}, ['n'])).toEqual([
      { day: '2024-01-01', n: 1, tag: null, score: null },
      { day: '2024-01-02', n: 2, tag: 'x', score: 0.5 },
    ]);
    expect(await rows(t, { filter: 'tag is null' }, ['n'])).toEqual([{ day: '2024-01-01', n: 1, tag: null, score: null }]);
    // A refused merge write changes neither data nor schema.
    expect((await refusal(t.write([{ day: '2024-01-03', n: 1.5, more: 1 }], { schemaMode: 'merge' }))).code).toBe('VALUE_NOT_CONVERTIBLE');
    await t.refresh();
    expect(t.schema.fields.map((f) => f.name)).toEqual(['day', 'n', 'tag', 'score']);
  });

  it('§5 a schema changed by another writer: rewrites of an older handle keep it, conflicting columns and failed writes change nothing', async () => {
    const a = await lh.createTable('evolve_handles', new Schema([new Field('id', new Int64(), false), new Field('n', new Int32(), true), new Field('f', new Float32(), true)]), { primaryKeys: ['id'], hashBucketNum: 1 });
    await a.write([{ id: 1, n: 1, f: 0.5 }, { id: 2, n: 2, f: 1.5 }, { id: 3, n: 3, f: 2.5 }]);
    const b = await lh.table('evolve_handles'); // a long-running service's handle, opened before the changes
    await a.write([{ id: 1, c: 'c1' }, { id: 2, c: 'c2' }, { id: 3, c: 'c3' }], { schemaMode: 'merge' });
    await a.widenColumns({ f: new Float64() });
    // a write through an object opened before the widening stores 0.1 as float64 (it was rounded to float32)
    await (b as LakeSoulTable).write([{ id: 3, f: 0.1 }]);
    const want = [
      { id: 1, n: 1, f: 0.5, c: 'c1' },
      { id: 2, n: 2, f: 1.5, c: 'c2' },
      { id: 3, n: 3, f: 0.1, c: 'c3' },
    ];
    expect(await rows(a)).toEqual(want);
    // each rewrite through the older handle reads and writes under the table's current schema
    await b.compact();
    expect(await rows(a), 'compaction kept the added column and the widened values').toEqual(want);
    await b.update('id = 2', { n: 20 });
    await b.deleteByKeys([{ id: 1 }]);
    await b.deleteWhere('n = 3');
    await a.write([{ id: 4, n: 4, f: 4.25, c: 'c4' }]);
    expect(await rows(a)).toEqual([{ id: 2, n: 20, f: 1.5, c: 'c2' }, { id: 4, n: 4, f: 4.25, c: 'c4' }]);

    // two merge writers add one column with different types: the second commits nothing (its object,
    // opened before, reads the schema when the write starts; a write already under way when the first
    // commits is refused by its commit: the catalog conformance suite)
    const x = await lh.table('evolve_handles');
    const y = await lh.table('evolve_handles');
    await x.write([{ id: 2, tag: 'text' }], { schemaMode: 'merge' });
    const versions = (await a.history()).length;
    const clash = await refusal(y.write(tableFromArrays({ id: BigInt64Array.from([4n]), tag: BigInt64Array.from([42n]) }), { schemaMode: 'merge' }));
    expect(clash.message).toMatch(/column 'tag' of table 'evolve_handles': cannot convert Int64 to Utf8/);
    expect((await a.history()).length).toBe(versions);
    expect((await rows(await lh.table('evolve_handles'))).map((r) => r.tag), 'the table stays readable').toEqual(['text', null]);

    // a staged merge write discarded, or a merge write whose commit fails, adds no column
    const staged = await a.stage([{ id: 9, staged_col: 's' }], { schemaMode: 'merge' });
    await a.discardStaged([staged]);
    const plan = await a.planOverwrite();
    await a.write([{ id: 5, n: 5 }], { mode: 'overwrite' });
    const lost = await refusal(a.commitStaged([await a.stage([{ id: 6, late_col: 'l' }], { schemaMode: 'merge', overwrite: plan })], { overwrite: plan }));
    expect(lost.kind).toBe('Conflict');
    expect((await a.refresh()).schema.fields.map((f) => f.name)).toEqual(['id', 'n', 'f', 'c', 'tag']);

    // merge mode takes the new columns of an iterable input from its first batch, and says so
    async function* later() {
      yield tableFromArrays({ id: BigInt64Array.from([7n]) });
      yield tableFromArrays({ id: BigInt64Array.from([8n]), extra: ['e'] });
    }
    expect((await refusal(a.write(later(), { schemaMode: 'merge' }))).message).toMatch(/column 'extra' is not in the schema .* takes the new columns of an iterable input from its first batch/);
  });

  it('§6 await using closes a lakehouse that owns its catalog, and leaves a passed-in one open', async () => {
    const cat = catalogKind === 'pg' ? await Catalog.open({ url: process.env.LAKESOUL_TEST_PG_URL!, schema: `io_using_${Date.now().toString(36)}` }) : await Catalog.open({ dataDir: ':memory:' });
    {
      await using lake = await Lakehouse.open({ catalog: cat, warehouse: env.warehouse, stores: lh.stores });
      await lake.createTable('using_t', [{ id: 1 }], { primaryKeys: ['id'] });
    }
    // The catalog was passed in without ownCatalog: still open after the scope.
    expect((await cat.listTables()).map((t) => t.name)).toContain('using_t');
    {
      await using lake = await Lakehouse.open({ catalog: cat, ownCatalog: true, warehouse: env.warehouse, stores: lh.stores });
      expect((await lake.table('using_t')).name).toBe('using_t');
    }
    // Owned: closed at the end of the scope.
    await expect(cat.listTables()).rejects.toThrow();
  });

  it('§6 await using closes a Flight server at the end of its scope', async () => {
    let port = 0;
    {
      await using server = createFlightServer({ lakehouse: lh, ticketSecret: 'docs-secret-0123456789abcdef0123' });
      port = await server.listen(0, '127.0.0.1');
      expect(await canConnect(port)).toBe(true);
    }
    expect(await canConnect(port)).toBe(false);
  });
});
