import { describe, expect, it } from 'vitest';
import { Field, FixedSizeList, Float32, Int64, List, Schema, TimeUnit, Timestamp, Utf8, DateDay, Decimal } from 'apache-arrow';
import { formatType, parseSchemaSpec, parseTypeSpec } from './schema-spec.js';

describe('schema spec', () => {
  it('parses fields, nullability and nested types', () => {
    const s = parseSchemaSpec('id:int64!, name:string, ts:timestamp(us,UTC), d:date, emb:fixed_size_list<float32,4>, tags:list<utf8>, amount:decimal(10,2)');
    expect(s.fields.map((f) => f.name)).toEqual(['id', 'name', 'ts', 'd', 'emb', 'tags', 'amount']);
    expect(s.fields[0]!.nullable).toBe(false);
    expect(s.fields[0]!.type).toBeInstanceOf(Int64);
    expect(s.fields[1]!.type).toBeInstanceOf(Utf8);
    const ts = s.fields[2]!.type as Timestamp;
    expect([ts.unit, ts.timezone]).toEqual([TimeUnit.MICROSECOND, 'UTC']);
    expect(s.fields[3]!.type).toBeInstanceOf(DateDay);
    const emb = s.fields[4]!.type as FixedSizeList;
    expect(emb.listSize).toBe(4);
    expect(emb.children[0]!.type).toBeInstanceOf(Float32);
    expect(s.fields[5]!.type).toBeInstanceOf(List);
    const dec = s.fields[6]!.type as Decimal;
    expect([dec.precision, dec.scale]).toEqual([10, 2]);
  });
  it('round-trips through formatType', () => {
    for (const t of ['int64', 'utf8', 'timestamp(ms)', 'timestamp(us,UTC)', 'list<float32>', 'fixed_size_list<float32,3>', 'decimal(12,3)', 'date32', 'binary', 'bool']) {
      expect(formatType(parseTypeSpec(t))).toBe(t);
    }
  });
  it('accepts a JSON field list', () => {
    const s = parseSchemaSpec('[{"name":"id","type":"int64","nullable":false},{"name":"v","type":"list<float32>"}]');
    expect(s).toEqual(new Schema([new Field('id', new Int64(), false), new Field('v', new List(new Field('item', new Float32(), true)), true)]));
  });
  it('names the problem in errors', () => {
    expect(() => parseSchemaSpec('id:int65')).toThrow(/unknown type 'int65'/);
    expect(() => parseSchemaSpec('id:int64,id:utf8')).toThrow(/column 'id' appears twice/);
    expect(() => parseSchemaSpec('id int64')).toThrow(/expected ':'/);
  });
});
