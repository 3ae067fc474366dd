import { describe, expect, it } from 'vitest';
import {
  Field, Int32, Int64, List, RecordBatch, Schema, Struct, Utf8, makeData, makeVector, vectorFromArray, Dictionary, FixedSizeList, Float32,
} from 'apache-arrow';
import { checkSchemaSize, MAX_SCHEMA_FIELDS, validateRecordBatch } from './validate-data.js';

const batchOf = (name: string, data: ReturnType<typeof makeData>): RecordBatch =>
  new RecordBatch(new Schema([new Field(name, data.type, true)]), makeData({ type: new Struct([new Field(name, data.type, true)]), length: data.length, children: [data] }));

describe('validateRecordBatch', () => {
  it('passes well-formed data of every kind', () => {
    const good = [
      vectorFromArray([1n, null, 3n], new Int64()),
      vectorFromArray(['a', null, 'ccc'], new Utf8()),
      vectorFromArray([[1, 2], null, []], new List(new Field('item', new Int32(), true))),
      vectorFromArray([{ a: 1, b: 'x' }, null], new Struct([new Field('a', new Int32(), true), new Field('b', new Utf8(), true)])),
      vectorFromArray([[1, 2], [3, 4]], new FixedSizeList(2, new Field('item', new Float32(), true))),
      vectorFromArray(['x', 'y', 'x', null], new Dictionary(new Utf8(), new Int32())),
    ];
    for (const v of good) validateRecordBatch(batchOf('c', v.data[0]!), 'test');
  });

  it('refuses lengths past the buffers, offsets out of range or backwards, list offsets past the child, indices past the dictionary', () => {
    const cases: [ReturnType<typeof makeData>, RegExp][] = [
      [makeData({ type: new Int64(), length: 2 ** 31 - 1, data: new BigInt64Array(3) }), /2147483647 rows need 2147483647 values, its buffer holds 3/],
      [makeData({ type: new Utf8(), length: 2, valueOffsets: Int32Array.from([0, 2 ** 31 - 1, 3]), data: new Uint8Array(3) }), /offsets go backwards at row 1/],
      [makeData({ type: new Utf8(), length: 2, valueOffsets: Int32Array.from([0, 2, 9]), data: new Uint8Array(3) }), /offsets reach 9, past the 3 values held/],
      [makeData({ type: new Utf8(), length: 2, valueOffsets: Int32Array.from([-1, 2, 3]), data: new Uint8Array(3) }), /offset -1 at row 0 is negative/],
      [makeData({ type: new Utf8(), length: 5, valueOffsets: Int32Array.from([0, 1]), data: new Uint8Array(3) }), /5 rows need 6 offsets, the buffer holds 2/],
      [makeData({
        type: new List(new Field('item', new Int32(), true)), length: 1, valueOffsets: Int32Array.from([0, 4]),
        child: makeData({ type: new Int32(), length: 2, data: new Int32Array(2) }),
      }), /offsets reach 4, past the 2 values held/],
      [makeData({
        type: new Dictionary(new Utf8(), new Int32()), length: 2, data: Int32Array.from([0, 5]),
        dictionary: makeVector(vectorFromArray(['x'], new Utf8()).data[0]!),
      }), /row 1 has dictionary index 5, outside its 1 values/],
    ];
    for (const [data, re] of cases) {
      expect(() => validateRecordBatch(batchOf('col', data), 'DoPut into default.t')).toThrow(re);
      try {
        validateRecordBatch(batchOf('col', data), 'DoPut into default.t');
      } catch (e) {
        expect((e as { code: string }).code).toBe('INVALID_ARROW_DATA');
        expect((e as Error).message).toMatch(/^DoPut into default\.t: column 'col': invalid Arrow data: /);
      }
    }
  });

  it('refuses schemas over the field limit, nested fields counted', () => {
    const wide = new Schema(Array.from({ length: MAX_SCHEMA_FIELDS / 2 }, (_, i) => new Field(`s${i}`, new Struct([new Field('a', new Int32(), true)]), true)));
    checkSchemaSize(wide, 'x');
    const wider = new Schema([...wide.fields, new Field('extra', new Int32(), true)]);
    expect(() => checkSchemaSize(wider, 'DoPut into default.t')).toThrow(/^DoPut into default\.t: the schema has more than 10000 fields/);
  });
});
