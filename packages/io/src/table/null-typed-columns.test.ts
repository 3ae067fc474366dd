/**
 * Columns of Arrow's null type (types.md: written and read). A merge of two files of one key, one
 * holding the column and one not (a partial upsert), sliced the merged null column, and Arrow JS left
 * the slice's null count unknown (-1): compaction and update then failed to encode the file
 * ("NullArray has unequal null_count -1 and len 1"), on both Parquet codecs (a hunt of schema evolution).
 */
import { describe, expect, it } from 'vitest';
import { Field, Int32, Int64, Null, RecordBatch, Schema, Struct, Utf8, makeData, tableFromIPC, tableToIPC, Table } from 'apache-arrow';
import { plainRows as rows, useTempLakehouse } from './temp-lakehouse-fixture.js';
import { batchWithKnownNullCounts } from '../arrow/null-counts.js';
import { makeBatch } from '../arrow/data-access.js';

describe('null-typed columns', () => {
  const fixture = useTempLakehouse('lakesoul-null-typed-');
  let n = 0;
  const schema = new Schema([
    new Field('id', new Int64(), false),
    new Field('v', new Utf8(), true),
    new Field('n', new Null(), true),
    new Field('s', new Struct([new Field('a', new Int32(), true), new Field('z', new Null(), true)]), true),
  ]);

  const layered = async () => {
    const t = await fixture.lh.createTable(`n${n++}`, schema, { primaryKeys: ['id'], hashBucketNum: 1 });
    await t.write([{ id: 1, v: 'a', n: null, s: { a: 1, z: null } }, { id: 2, v: 'b', n: null, s: null }, { id: 3, v: 'c', n: null, s: { a: 3, z: null } }]);
    await t.write([{ id: 1, v: 'a2' }, { id: 3, v: 'c2' }]); // a partial upsert: its file lacks n and s
    return t;
  };
  const merged = [
    { id: 1, v: 'a2', n: null, s: { a: 1, z: null } },
    { id: 2, v: 'b', n: null, s: null },
    { id: 3, v: 'c2', n: null, s: { a: 3, z: null } },
  ];

  it('compact() and update() write a merge whose null-typed columns were sliced', async () => {
    const t = await layered();
    expect(rows(await t.toArrow())).toEqual(merged);
    // before: Internal INTERNAL could not encode Parquet file ...: NullArray has unequal null_count -1 and len 1
    await t.update('id = 2', { v: 'b2' });
    expect(rows(await t.toArrow())).toEqual([merged[0], { ...merged[1], v: 'b2' }, merged[2]]);
    await t.compact();
    expect(rows(await t.toArrow())).toEqual([merged[0], { ...merged[1], v: 'b2' }, merged[2]]);
    const u = await layered();
    await u.compact();
    expect(rows(await u.toArrow())).toEqual(merged);
  });

  it('a sliced batch is written to IPC with its null-typed arrays counted as all nulls, at any depth', () => {
    const z = makeData({ type: new Null(), length: 4 });
    const s = makeData({ type: schema.fields[3].type as Struct, length: 4, nullCount: 0, children: [makeData({ type: new Int32(), length: 4, data: new Int32Array([1, 2, 3, 4]) }), z] });
    const batch = makeBatch(new Schema([new Field('n', new Null(), true), schema.fields[3]]), [makeData({ type: new Null(), length: 4 }), s], 4).slice(1, 3);
    // Arrow JS's slice leaves them unknown: this is what the IPC writer wrote
    expect(batch.getChildAt(0)!.data[0].nullCount).toBe(-1);
    const fixed = batchWithKnownNullCounts(batch);
    expect(fixed.getChildAt(0)!.data[0].nullCount).toBe(2);
    expect(fixed.getChildAt(1)!.data[0].children[1].nullCount).toBe(2);
    const back = tableFromIPC(tableToIPC(new Table([fixed])));
    expect(back.getChildAt(0)!.nullCount).toBe(2);
    expect(rows(back)).toEqual([{ n: null, s: { a: 2, z: null } }, { n: null, s: { a: 3, z: null } }]);
    // nothing to change: the same batch
    const whole = new RecordBatch({ a: makeData({ type: new Int32(), length: 1, data: new Int32Array([1]) }) });
    expect(batchWithKnownNullCounts(whole)).toBe(whole);
  });
});
