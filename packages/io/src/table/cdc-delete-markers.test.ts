import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int32, Int64, List, Schema, Struct, Utf8 } from 'apache-arrow';
import { Lakehouse } from './lakehouse.js';
import type { LakeSoulTable } from './lakesoul-table.js';

const rows = (t: { toArray(): { toJSON(): unknown }[] }) =>
  t.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON(), (_, v) => (typeof v === 'bigint' ? Number(v) : v))));

// A CDC delete marker used to hold only the key, range and CDC columns: a later partial upsert of the
// key took its other columns from the newest file having them, the pre-delete one, and the deleted
// values came back. Markers now hold every (nullable) column, null.
describe('CDC delete markers', () => {
  let lh: Lakehouse;
  let n = 0;
  const schema = (bNullable = true) => new Schema([
    new Field('id', new Int64(), false), new Field('a', new Int32(), true), new Field('b', new Utf8(), bNullable),
    new Field('day', new Utf8(), false), new Field('rowKinds', new Utf8(), true),
  ]);
  const create = (bNullable = true, partitioned = false): Promise<LakeSoulTable> => lh.createTable(`cdc${n++}`, partitioned ? schema(bNullable) : new Schema(schema(bNullable).fields.filter((f) => f.name !== 'day')), {
    primaryKeys: ['id'], hashBucketNum: 1, cdcColumn: 'rowKinds', ...(partitioned ? { rangePartitions: ['day'] } : {}),
  });

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-cdc-markers-'));
    lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(dir).href });
  });
  afterAll(() => lh.close());

  it('a partial upsert after deleteByKeys does not bring the deleted values back (with or without a compaction between)', async () => {
    for (const compact of [false, true]) {
      const t = await create();
      await t.write([{ id: 1, a: 10, b: 'secret' }, { id: 2, a: 11, b: 'kept' }]);
      await t.deleteByKeys([{ id: 1 }]);
      if (compact) await t.compact();
      await t.write([{ id: 1, a: 20 }]);
      expect(rows(await t.toArrow())).toEqual([
        { id: 1, a: 20, b: null, rowKinds: 'insert' },
        { id: 2, a: 11, b: 'kept', rowKinds: 'insert' },
      ]);
      const files = (await t.snapshot()).flatMap((p) => p.files);
      if (!compact) expect(files[1]!.existCols).toEqual(['id', 'a', 'b', 'rowKinds']);
    }
  });

  it('markers made before another writer added a column are made again with it (the deleted value came back through that column)', async () => {
    const t = await create();
    await t.write([{ id: 1, a: 10, b: 'x' }]);
    const other = await lh.table(t.info.name);
    // the other writer adds `c` and writes it between the markers being made and their commit
    const catalog = lh.catalog as unknown as { commit: (...a: unknown[]) => Promise<unknown> };
    const original = catalog.commit;
    let interleave = true;
    let deleted: Awaited<ReturnType<LakeSoulTable['deleteByKeys']>>;
    catalog.commit = async function (this: unknown, ...a: unknown[]) {
      if (interleave) {
        interleave = false;
        await other.addColumns([new Field('c', new Utf8(), true)]);
        await other.write([{ id: 1, a: 11, b: 'y', c: 'secret' }]);
      }
      return original.apply(this, a);
    };
    try {
      deleted = await t.deleteByKeys([{ id: 1 }]);
      expect(interleave).toBe(false);
    } finally {
      catalog.commit = original;
    }
    expect((await t.toArrow()).numRows).toBe(0);
    await t.write([{ id: 1, a: 20 }]);
    expect(rows(await t.toArrow())).toEqual([{ id: 1, a: 20, b: null, rowKinds: 'insert', c: null }]);
    expect(deleted.rows).toBe(1);
    expect(deleted.retries).toBeGreaterThanOrEqual(1); // the markers were made twice
  });

  it('markers found by a key without its range value hold nulls too (partitioned table)', async () => {
    const t = await create(true, true);
    await t.write([{ id: 1, a: 10, b: 'secret', day: 'd1' }]);
    await t.deleteByKeys([{ id: 1 }]);
    await t.write([{ id: 1, day: 'd1', a: 20 }]);
    expect(rows(await t.toArrow())).toEqual([{ id: 1, a: 20, b: null, day: 'd1', rowKinds: 'insert' }]);
  });

  it('an incremental read shows the delete row with nulls, also when the insert is in the same range', async () => {
    const t = await create();
    const start = Date.now() - 1;
    await t.write([{ id: 1, a: 10, b: 'secret' }]);
    const [w] = await t.history();
    await new Promise((r) => setTimeout(r, 5));
    await t.deleteByKeys([{ id: 1 }]);
    await new Promise((r) => setTimeout(r, 2)); // the last commit's time < end (strict)
    const end = Date.now(); // (an end later than now is refused)
    expect(rows(await t.toArrow({ incremental: { start, end } }))).toEqual([{ id: 1, a: null, b: null, rowKinds: 'delete' }]);
    expect(rows(await t.toArrow({ incremental: { start: w!.timestamp + 1, end } }))).toEqual([{ id: 1, a: null, b: null, rowKinds: 'delete' }]);
  });

  // A partition rewritten or dropped within the range is read whole as of the range's end, its rows
  // the partition's state (resetPartitions): its delete rows were kept there and taken for live rows.
  it('an incremental read keeps delete rows, except in partitions it reads whole (rewritten or dropped in the range)', async () => {
    const t = await create(true, true);
    await t.write([{ id: 1, a: 1, day: 'd1' }, { id: 2, a: 2, day: 'd1' }, { id: 3, a: 3, day: 'd2' }, { id: 4, a: 4, day: 'd2' }]);
    const start = (await t.history()).at(-1)!.timestamp + 1;
    await new Promise((r) => setTimeout(r, 5));
    await t.deleteByKeys([{ id: 1, day: 'd1' }]); // d1: a delete row, nothing rewritten
    await t.deleteByKeys([{ id: 3, day: 'd2' }]);
    await t.update("day = 'd2' and id = 4", { a: 40 }); // d2 rewritten: read whole as of the end
    await t.write([{ id: 9, day: 'd2', rowKinds: 'delete' }]);
    await new Promise((r) => setTimeout(r, 2)); // the last commit's time < end (strict)
    const end = Date.now(); // (an end later than now is refused)
    const plan = await t.scan({ incremental: { start, end } });
    expect(plan.toJSON().resetPartitions).toEqual(['day=d2']);
    expect(rows(await t.toArrow({ incremental: { start, end } })).sort((x, y) => x.id - y.id)).toEqual([
      { id: 1, a: null, b: null, day: 'd1', rowKinds: 'delete' },
      { id: 4, a: 40, b: null, day: 'd2', rowKinds: 'insert' },
    ]);
  });

  it('a key named in a partition the table does not have writes no marker and makes no partition', async () => {
    const t = await create(true, true);
    await t.write([{ id: 1, a: 1, day: 'd1' }]);
    const r = await t.deleteByKeys([{ id: 1, day: 'typo' }, { id: 1, day: 'd1' }]);
    expect(r.rows).toBe(1);
    expect((await lh.catalog.listPartitions(t.info.tableId)).map((p) => p.partitionDesc)).toEqual(['day=d1']);
    expect((await t.deleteByKeys([{ id: 2, day: 'nowhere' }])).rows).toBe(0);
    expect((await t.history()).map((h) => h.partitionDesc)).toEqual(['day=d1', 'day=d1']);
    expect(rows(await t.toArrow())).toEqual([]);
    // nor does a dropped partition come back
    await t.write([{ id: 5, a: 5, day: 'd5' }]);
    await t.dropPartitions({ day: 'd5' });
    expect((await t.deleteByKeys([{ id: 5, day: 'd5' }])).rows).toBe(0);
    expect((await lh.catalog.listPartitions(t.info.tableId)).find((p) => p.partitionDesc === 'day=d5')?.commitOp).toBe('DeleteCommit');
  });

  it('markers hold null in nested columns too', async () => {
    const t = await lh.createTable(`cdc${n++}`, new Schema([
      new Field('id', new Int64(), false), new Field('l', new List(new Field('item', new Int32(), false)), true),
      new Field('s', new Struct([new Field('x', new Utf8(), false)]), true), new Field('rowKinds', new Utf8(), true),
    ]), { primaryKeys: ['id'], hashBucketNum: 1, cdcColumn: 'rowKinds' });
    await t.write([{ id: 1, l: [1, 2], s: { x: 'secret' } }]);
    await t.deleteByKeys([{ id: 1 }]);
    await t.write([{ id: 1 }]);
    expect(rows(await t.toArrow())).toEqual([{ id: 1, l: null, s: null, rowKinds: 'insert' }]);
  });

  it('a non-nullable column stays out of the marker (a later write must give it)', async () => {
    const t = await create(false);
    await t.write([{ id: 1, a: 10, b: 'secret' }]);
    await t.deleteByKeys([{ id: 1 }]);
    const files = (await t.snapshot()).flatMap((p) => p.files);
    expect(files[1]!.existCols).toEqual(['id', 'a', 'rowKinds']);
    await expect(t.write([{ id: 1, a: 20 }])).rejects.toThrow(/non-nullable column 'b'.*table 'cdc/);
    await t.write([{ id: 1, b: 'new' }]);
    expect(rows(await t.toArrow())).toEqual([{ id: 1, a: null, b: 'new', rowKinds: 'insert' }]);
  });
});
