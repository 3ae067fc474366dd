import { Field, Int64, Schema, Utf8 } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { parseJsonExact } from '@lakesoul-ts/io';
import { rowsToBatch } from './records-to-arrow.js';

describe('rowsToBatch (JSONL values)', () => {
  const schema = new Schema([new Field('id', new Int64(), true), new Field('op', new Utf8(), true)]);
  const at = [{ file: 'f.jsonl', line: 1 }, { file: 'f.jsonl', line: 2 }];

  it('stores a JSON number, boolean or array in a utf8 column as its JSON text, reporting each', () => {
    const seen: string[] = [];
    const b = rowsToBatch(schema, [[1, parseJsonExact('123456789012345678901234')], [2, [true, null]]], at, false, undefined, (c, o) => seen.push(`${c}@${o.line}`));
    expect(b.getChild('op')!.toArray()).toEqual(['123456789012345678901234', '[true,null]']);
    expect(seen).toEqual(['op@1', 'op@2']);
  });

  it('checks the JSON text of a non-string value in the CDC column as it is stored', () => {
    expect(() => rowsToBatch(schema, [[1, 'insert'], [2, 7]], at, false, { primaryKeys: [], rangePartitions: [], cdcColumn: 'op' }))
      .toThrow(/f\.jsonl:2: CDC column 'op' holds "7": expected 'insert', 'update' or 'delete'/);
  });

  it('refuses a record without a CDC value (null, or the key missing) naming its line: it was stored as null', () => {
    for (const missing of [null, undefined]) {
      expect(() => rowsToBatch(schema, [[1, 'insert'], [2, missing]], at, false, { primaryKeys: [], rangePartitions: [], cdcColumn: 'op' }))
        .toThrow(/^f\.jsonl:2: CDC column 'op' has no value: expected 'insert', 'update' or 'delete' \(a file without the column writes 'insert'\)$/);
    }
  });
});
