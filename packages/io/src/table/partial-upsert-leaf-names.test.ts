/**
 * A partial upsert that leaves out a nested column whose Parquet leaf names are columns it writes.
 * The catalog lists a file's columns by name, and LakeSoul's Rust writer lists a nested column by its
 * leaf names, so such a file's list was read as holding the nested column: the upsert's values were
 * lost, the nested column read as nulls, and a compaction wrote that for good (a hunt of schema
 * evolution: `addColumns` beside a struct makes the case).
 */
import { describe, expect, it } from 'vitest';
import { Field, Int32, Int64, List, Schema, Struct, Utf8 } from 'apache-arrow';
import { plainRows as rows, useTempLakehouse } from './temp-lakehouse-fixture.js';

describe('partial upserts beside nested columns with leaves named like columns', () => {
  const fixture = useTempLakehouse('lakesoul-leaf-names-');

  it('a struct left out, its field names written as columns: read as written, also after compaction', async () => {
    const t = await fixture.lh.createTable('evolved', new Schema([new Field('id', new Int64(), false), new Field('s', new Struct([new Field('x', new Int32(), true), new Field('y', new Utf8(), true)]), true)]), { primaryKeys: ['id'], hashBucketNum: 1 });
    await t.write([{ id: 1, s: { x: 1, y: 'one' } }, { id: 2, s: { x: 2, y: 'two' } }]);
    await t.addColumns([new Field('x', new Int32(), true), new Field('y', new Utf8(), true)]);
    const evolved = await fixture.lh.table('evolved');
    await evolved.write([{ id: 1, s: { x: 1, y: 'one' }, x: 5, y: 'five' }]);
    await evolved.write([{ id: 1, x: 10, y: 'ten' }, { id: 2, x: 20, y: 'twenty' }]);
    // before: [{ id: 1, s: null, x: 5, y: 'five' }, { id: 2, s: null, x: null, y: null }]
    const want = [{ id: 1, s: { x: 1, y: 'one' }, x: 10, y: 'ten' }, { id: 2, s: { x: 2, y: 'two' }, x: 20, y: 'twenty' }];
    expect(rows(await evolved.toArrow())).toEqual(want);
    await evolved.compact();
    expect(rows(await evolved.toArrow())).toEqual(want);
  });

  it("a list left out beside a column named `item`, its leaf: refused naming both, nothing committed", async () => {
    const t = await fixture.lh.createTable('tagged', new Schema([new Field('id', new Int64(), false), new Field('tags', new List(new Field('item', new Utf8(), true)), true), new Field('item', new Utf8(), true)]), { primaryKeys: ['id'], hashBucketNum: 1 });
    await t.write([{ id: 1, tags: ['a', 'b'], item: 'old' }]);
    const before = (await fixture.lh.catalog.listPartitions(t.info.tableId)).map((p) => p.version);
    // before: written, and read as { tags: null, item: 'old' }
    await expect(t.write([{ id: 1, item: 'new' }])).rejects.toMatchObject({
      kind: 'SchemaMismatch',
      code: 'MISSING_COLUMN',
      context: { table: 'tagged', column: 'tags' },
      message: expect.stringMatching(/leaves out column 'tags' \(List<Utf8>\) and holds 'item', the name of its Parquet leaf: .*write 'tags' too/),
    });
    expect((await fixture.lh.catalog.listPartitions(t.info.tableId)).map((p) => p.version)).toEqual(before);
    // the whole row goes in
    await t.write([{ id: 1, tags: ['a', 'b'], item: 'new' }]);
    expect(rows(await t.toArrow())).toEqual([{ id: 1, tags: ['a', 'b'], item: 'new' }]);
  });
});
