import { describe, expect, it } from 'vitest';
import { Field, FixedSizeList, Float32, Int64, List, Schema, TimeUnit, Timestamp, Utf8, DateDay, Decimal } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
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
  it('refuses a timestamp with an empty or missing time zone as a schema error naming the position', () => {
    for (const spec of ['ts:timestamp(us,)', 'ts:timestamp(us,', 'ts:timestamp(us, )']) {
      expect(() => parseSchemaSpec(spec)).toThrow(LakeSoulError);
      expect(() => parseSchemaSpec(spec)).toThrow(/expected a time zone after ',' .* at position \d+/);
    }
    expect(() => parseSchemaSpec('ts:timestamp(us,UTC')).toThrow(/expected '\)' at position 20/);
  });
  it('refuses every truncation of a valid spec with a schema error, never a crash', () => {
    const specs = ['id:int64!, ts:timestamp(ns,Asia/Shanghai)!, amount:decimal(10,2), emb:fixed_size_list<list<float32>,4>, tags:list<utf8>',
      '[{"name":"id","type":"timestamp(ms,UTC)","nullable":false},{"name":"v","type":"list<float32>"}]',
      '{"fields":[{"name":"id","nullable":false,"type":{"name":"int","bitWidth":64,"isSigned":true},"children":[]}]}'];
    for (const spec of specs) {
      for (let n = 0; n <= spec.length; n++) {
        try { parseSchemaSpec(spec.slice(0, n)); } catch (e) {
          expect(e, `${spec.slice(0, n)}: ${(e as Error).message}`).toBeInstanceOf(LakeSoulError);
          expect(['InvalidArgument', 'SchemaMismatch']).toContain((e as LakeSoulError).kind); // both exit 4
        }
      }
    }
  });
  it('accepts column names of any script, and points to a JSON schema for other names', () => {
    const s = parseSchemaSpec('id:int64!,név:utf8, 名前:int32, ñ_1.x-y:bool');
    expect(s.fields.map((f) => f.name)).toEqual(['id', 'név', '名前', 'ñ_1.x-y']);
    expect(() => parseSchemaSpec('id:int64,é ü:utf8')).toThrow(/expected ':' after column name 'é' \(a name here is .*--schema @file\.json\) at position 12/);
    expect(() => parseSchemaSpec('1x:int64')).toThrow(/expected a column name .*--schema @file\.json/);
  });
  it('reads struct<...> as table describe prints it, nested and with non-null fields', () => {
    const spec = 'id:int64!,pt:struct<x:float32!,y:float32,tags:list<utf8>,inner:struct<ts:timestamp(us,UTC)>>';
    const s = parseSchemaSpec(spec);
    const pt = s.fields[1]!.type;
    expect(formatType(pt)).toBe('struct<x:float32!,y:float32,tags:list<utf8>,inner:struct<ts:timestamp(us,UTC)>>');
    expect(formatType(parseTypeSpec(formatType(pt)))).toBe(formatType(pt));
    expect(pt.children.map((c: Field) => [c.name, c.nullable])).toEqual([['x', false], ['y', true], ['tags', true], ['inner', true]]);
    expect(() => parseSchemaSpec('p:struct<a:int32,a:utf8>')).toThrow(/struct field 'a' appears twice/);
    expect(() => parseSchemaSpec('p:struct<>')).toThrow(/expected a column name/);
    for (let n = 0; n <= spec.length; n++) {
      try { parseSchemaSpec(spec.slice(0, n)); } catch (e) { expect(e).toBeInstanceOf(LakeSoulError); }
    }
  });
});
