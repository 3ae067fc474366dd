import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int32, Int64, Schema, Utf8, tableFromArrays } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { Lakehouse } from './lakehouse.js';

const rows = (t: { toArray(): { toJSON(): unknown }[] }) =>
  t.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON(), (_, v) => (typeof v === 'bigint' ? Number(v) : v))) as Record<string, unknown>);

/** A Lakehouse (embedded catalog in memory, a temp warehouse) opened before the describe's tests and closed after. */
function lakehouseForEach(prefix: string): { lh: Lakehouse } {
  const box = {} as { lh: Lakehouse };
  beforeAll(async () => {
    box.lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(mkdtempSync(join(tmpdir(), prefix))).href });
  });
  afterAll(async () => box.lh?.close());
  return box;
}

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as LakeSoulError);

// Rows that carry no column stored in the data files (only range columns, or objects without keys)
// were written as a file of no column: the write said it wrote them and committed, and every reader
// (this project's and LakeSoul's wheel) read none. Found by a randomized differential against the wheel.
describe('rows that carry no stored column', () => {
  const lake = lakehouseForEach('lakesoul-no-columns-');

  it('objects without keys on a table without a primary key: each row is stored, all nulls', async () => {
    const t = await lake.lh.createTable('empty_objects', new Schema([new Field('v', new Utf8(), true), new Field('w', new Int32(), true)]));
    expect((await t.write([{}, {}, {}])).rows).toBe(3);
    expect(rows(await t.toArrow())).toEqual([{ v: null, w: null }, { v: null, w: null }, { v: null, w: null }]);
    await t.write([{ v: 'x', w: 1 }]);
    expect((await t.toArrow({ filter: 'v IS NULL' })).numRows).toBe(3);
  });

  it('only the range column, from Arrow and from objects: the rows land in their partitions with nulls', async () => {
    const t = await lake.lh.createTable('range_only', new Schema([new Field('p', new Utf8(), false), new Field('v', new Utf8(), true)]), { rangePartitions: ['p'] });
    expect((await t.write(tableFromArrays({ p: ['a', 'a', 'b'] }))).rows).toBe(3);
    expect((await t.write([{ p: 'b' }])).rows).toBe(1);
    const got = rows(await t.toArrow()).sort((x, y) => String(x.p).localeCompare(String(y.p)));
    expect(got).toEqual([{ p: 'a', v: null }, { p: 'a', v: null }, { p: 'b', v: null }, { p: 'b', v: null }]);
    expect((await t.toArrow({ partitions: { p: 'b' } })).numRows).toBe(2);
  });

  it('a partition given as a list of objects with a bigint value is refused as such, not with a TypeError', async () => {
    const t = await lake.lh.createTable('int_range', new Schema([new Field('k', new Int64(), false), new Field('p', new Int64(), false)]), { primaryKeys: ['k'], rangePartitions: ['p'] });
    await t.write([{ k: 1n, p: 10n }]);
    for (const call of [() => t.toArrow({ partitions: [{ p: 10n }] as never }), () => t.compact({ partitions: [{ p: 10n }] as never })]) {
      const e = await failure(call());
      expect(LakeSoulError.is(e, 'InvalidArgument'), String(e)).toBe(true);
      expect(e.message).toContain('partition {"p":10n} is not a partition description of this table');
    }
    // a bare bigint where a list or an object goes
    for (const call of [() => t.toArrow({ partitions: 5n as never }), () => t.write([{ k: 2n, p: 10n }], { mode: 'overwrite', replacePartitions: 5n as never })]) {
      const e = await failure(call());
      expect(LakeSoulError.is(e, 'InvalidArgument'), String(e)).toBe(true);
      expect(e.message).toMatch(/ 5n is not a list|not 5n$/);
    }
  });

  it('a table whose every column is a range partition column is refused at create (its rows could not be stored)', async () => {
    const e = await failure(lake.lh.createTable('all_range', new Schema([new Field('p', new Utf8(), false), new Field('q', new Int32(), false)]), { rangePartitions: ['p', 'q'] }));
    expect(LakeSoulError.is(e, 'InvalidArgument')).toBe(true);
    expect(e.message).toBe("create table 'default.all_range': every column (p, q) is a range partition column: rows would store no column in the data files, and none could be read back; add a column that is not a partition column");
    expect((await lake.lh.catalog.listTables('default')).map((x) => x.name)).not.toContain('all_range');
    // one made before (here: its schema cut to its range column by hand) refuses writes, committing nothing
    const t = await lake.lh.createTable('was_all_range', new Schema([new Field('p', new Utf8(), false), new Field('v', new Int32(), true)]), { rangePartitions: ['p'] });
    await lake.lh.catalog.driver.query('UPDATE table_info SET table_schema = $1 WHERE table_id = $2', [JSON.stringify({ type: 'struct', fields: [{ name: 'p', type: 'string', nullable: false, metadata: {} }] }), t.info.tableId]);
    const old = await lake.lh.table('was_all_range');
    expect(old.info.schema.fields.map((f) => f.name)).toEqual(['p']);
    const w = await failure(old.write([{ p: 'a' }, { p: 'b' }]));
    expect(w.message).toBe("table 'was_all_range': every column (p) is a range partition column, so rows would store no column in the data files and none could be read back; nothing was written (add a column that is not a partition column)");
    expect(await old.history()).toEqual([]);
  });
});

describe('CDC column values and tables', () => {
  const lake = lakehouseForEach('lakesoul-cdc-values-');

  // A 'delete' row deletes the row of its key; on a table without keys it deleted nothing but itself.
  it('a CDC column on a table without primary keys is refused at create', async () => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field('rk', new Utf8(), true)]);
    const e = await failure(lake.lh.createTable('cdc_no_keys', schema, { cdcColumn: 'rk' }));
    expect(LakeSoulError.is(e, 'InvalidArgument')).toBe(true);
    expect(e.message).toBe("create table 'default.cdc_no_keys': CDC column 'rk' needs primaryKeys: a 'delete' row deletes the row of its primary key, and a table without keys has none");
    expect(e.context.column).toBe('rk');
  });

  // A null CDC value was stored: the row read as no kind (a filter `rk IN ('insert', 'update')` missed it).
  it('a null CDC value is refused naming its row, and nothing is committed', async () => {
    const t = await lake.lh.createTable('cdc_nulls', new Schema([new Field('id', new Int64(), false), new Field('v', new Utf8(), true), new Field('rk', new Utf8(), true)]), { primaryKeys: ['id'], hashBucketNum: 1, cdcColumn: 'rk' });
    const e = await failure(t.write([{ id: 1n, v: 'a', rk: 'insert' }, { id: 2n, v: 'b', rk: null }]));
    expect(LakeSoulError.is(e, 'InvalidArgument')).toBe(true);
    expect(e.message).toBe("CDC column 'rk' of table 'cdc_nulls' holds null at row 1: expected 'insert', 'update' or 'delete' (leave the column out for 'insert')");
    expect(e.context).toMatchObject({ column: 'rk', row: 1 });
    // counted within the write, not within its batch
    const inBatches = (async function* () { yield tableFromArrays({ id: BigInt64Array.of(3n, 4n), v: ['c', 'd'], rk: ['insert', 'insert'] }).batches[0]!; yield tableFromArrays({ id: BigInt64Array.of(5n, 6n), v: ['e', 'f'], rk: ['insert', null] }).batches[0]!; })();
    expect((await failure(t.write(inBatches))).context).toMatchObject({ column: 'rk', row: 3 });
    expect(await t.history()).toEqual([]);
    // without the column every row is an insert, as before
    await t.write([{ id: 1n, v: 'a' }]);
    expect(rows(await t.toArrow())).toEqual([{ id: 1, v: 'a', rk: 'insert' }]);
  });
});
