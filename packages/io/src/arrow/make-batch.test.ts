import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  Data, Dictionary, Field, Float64, Int32, List, MetadataVersion, RecordBatch, Schema, Struct, Utf8, makeData, vectorFromArray,
} from 'apache-arrow';
import { makeBatch } from './data-access.js';
import { plainRows, sampleAllTypesTable } from './sample-tables.js';

/** What a batch is made of, for comparing two batches field by field. */
function shape(b: RecordBatch) {
  const field = (f: Field) => ({ name: f.name, type: String(f.type), nullable: f.nullable, metadata: [...f.metadata] });
  return {
    fields: b.schema.fields.map(field),
    metadata: [...b.schema.metadata],
    dictionaries: [...b.schema.dictionaries],
    metadataVersion: b.schema.metadataVersion,
    batchMetadata: [...b.metadata],
    numRows: b.numRows,
    nullCount: b.data.nullCount,
    dataType: String(b.data.type),
    dataTypeChildren: b.data.type.children,
    children: b.data.children,
    dictionaryData: [...b.dictionaries],
    rows: plainRows(b),
  };
}

/** The batch as apache-arrow's constructor builds it (what makeBatch did before). */
function byConstructor(schema: Schema, children: Data[], length: number): RecordBatch {
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children }));
}

describe('makeBatch', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('builds the batch the RecordBatch constructor builds (metadata, nullability, dictionaries, nested and absent columns)', () => {
    const sample = sampleAllTypesTable(50, 3).batches[0];
    const dictType = new Dictionary(new Utf8(), new Int32(), 7);
    const dict = vectorFromArray(['x', 'y', 'x', null, 'y'], dictType).data[0];
    const cases: [string, Schema, Data[], number][] = [
      ['every type', sample.schema, sample.data.children as Data[], sample.numRows],
      [
        'metadata, non-nullable fields, a dictionary',
        new Schema(
          [
            new Field('a', new Int32(), false, new Map([['k', 'v']])),
            new Field('d', dictType, true),
            new Field('l', new List(new Field('item', new Float64(), true)), true, new Map([['x', '1'], ['y', '2']])),
          ],
          new Map([['schema', 'meta']]),
          undefined,
          MetadataVersion.V4,
        ),
        [vectorFromArray([1, 2, 3, 4, 5], new Int32()).data[0], dict, vectorFromArray([[1], [], null, [2, 3], [4]], new List(new Field('item', new Float64(), true))).data[0]],
        5,
      ],
      ['no columns', new Schema([]), [], 4],
      ['no rows', new Schema([new Field('a', new Int32(), false)]), [vectorFromArray([], new Int32()).data[0]], 0],
      // the constructor pads a short child with nulls and makes its field nullable; makeBatch leaves that to it
      ['a short child', new Schema([new Field('a', new Int32(), false), new Field('b', new Utf8(), false)]), [vectorFromArray([1, 2, 3], new Int32()).data[0], vectorFromArray(['p'], new Utf8()).data[0]], 3],
      // a repeated name: the constructor's assign merges the fields by name; makeBatch leaves that to it
      ['a repeated name', new Schema([new Field('a', new Int32(), false), new Field('a', new Utf8(), true)]), [vectorFromArray([1, 2], new Int32()).data[0], vectorFromArray(['p', 'q'], new Utf8()).data[0]], 2],
    ];
    for (const [name, schema, children, length] of cases) {
      const got = makeBatch(schema, children, length);
      expect(got, name).toBeInstanceOf(RecordBatch);
      expect(shape(got), name).toEqual(shape(byConstructor(schema, children, length)));
      // like the constructor's: its own schema and field objects, not the caller's
      expect(got.schema, name).not.toBe(schema);
      if (schema.fields.length > 0) expect(got.schema.fields[0], name).not.toBe(schema.fields[0]);
      // the batch works as any other
      expect(plainRows(got.slice(1)), name).toEqual(plainRows(got).slice(1));
      const first = schema.fields.slice(0, 1).map((f) => f.name);
      expect(shape(got.select(first)), name).toEqual(shape(byConstructor(schema, children, length).select(first)));
    }
  });

  it('does not look fields up by name: a batch of 2,000 columns costs no schema assign over its fields', () => {
    const schema = new Schema(Array.from({ length: 2_000 }, (_, c) => new Field(`c${c}`, new Float64(), true)));
    const children = schema.fields.map(() => makeData({ type: new Float64(), length: 10, data: new Float64Array(10) }));
    const assign = vi.spyOn(Schema.prototype, 'assign');
    const findIndex = vi.spyOn(Array.prototype, 'findIndex');
    const b = makeBatch(schema, children, 10);
    findIndex.mockRestore();
    expect(b.numCols).toBe(2_000);
    expect(b.numRows).toBe(10);
    // the constructor's assign over 2,000 fields ran findIndex 2,000 times over up to 2,000 fields
    const assignedFields = assign.mock.calls.reduce((n, args) => n + (Array.isArray(args[0]) ? args[0].length : 0), 0);
    expect(assignedFields).toBe(0);
    expect(findIndex).not.toHaveBeenCalled();
  });
});
