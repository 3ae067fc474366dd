import { describe, expect, it } from 'vitest';
import { Field, FixedSizeList, Float32, Int32, Int64, List, Utf8, Binary, makeTable, vectorFromArray, RecordBatch } from 'apache-arrow';
import { batchToRows } from './arrow-rows.js';

describe('batchToRows', () => {
  it('copies every value type out of the batch, lists through the fast path and with nulls', () => {
    const listType = new List(new Field('item', new Float32(), true));
    const fixedType = new FixedSizeList(2, new Field('item', new Int32(), true));
    const t = makeTable({
      id: vectorFromArray([1n, 2n, 3n], new Int64()),
      l: vectorFromArray([[1, 2], [], [3.5]], listType),
      ln: vectorFromArray([[1], null, [2, null]], listType),
      f: vectorFromArray([[1, 2], [3, 4], [5, 6]], fixedType),
      s: vectorFromArray(['a', null, 'c'], new Utf8()),
      b: vectorFromArray([new Uint8Array([1, 2]), new Uint8Array([3]), null], new Binary()),
    } as never);
    // a sliced batch exercises chunk offsets
    const batch = (t.batches[0] as unknown as RecordBatch).slice(1, 3);
    const rows = batchToRows(batch);
    expect(rows.length).toBe(2);
    expect(rows[0].id).toBe(2n);
    expect(Array.from(rows[0].l as Float32Array)).toEqual([]);
    expect(Array.from(rows[1].l as Float32Array)).toEqual([3.5]);
    expect(rows[0].ln).toBeNull();
    expect(Array.from(rows[1].ln as ArrayLike<number>)).toEqual([2, null]);
    expect(Array.from(rows[0].f as Int32Array)).toEqual([3, 4]);
    expect(Array.from(rows[1].f as Int32Array)).toEqual([5, 6]);
    expect(rows[0].s).toBeNull();
    expect(rows[1].s).toBe('c');
    expect(Array.from(rows[0].b as Uint8Array)).toEqual([3]);
    expect(rows[1].b).toBeNull();
    // copies: mutating a row value leaves the batch untouched
    (rows[1].l as Float32Array)[0] = 99;
    expect(Array.from(batchToRows(batch)[1].l as Float32Array)).toEqual([3.5]);
    expect(Object.keys(batchToRows(batch, ['id', 's'])[0])).toEqual(['id', 's']);
  });
});
