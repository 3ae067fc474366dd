import { describe, expect, it } from 'vitest';
import {
  Binary, Bool, DateDay, Decimal, Field, FixedSizeList, Float32, Float64, Int16, Int32, Int64, Int8, LargeBinary, LargeUtf8,
  List, Schema, Struct, TimeUnit, Timestamp, Uint16, Uint32, Uint64, Uint8, Utf8, util, type DataType,
} from 'apache-arrow';
import { arrowSchemaFromJson, arrowSchemaToJson } from './arrow-schema-json.js';
import { LakeSoulError } from './errors.js';

const f = (name: string, type: DataType, nullable = true, metadata?: Map<string, string>) => new Field(name, type, nullable, metadata);

/** Deep description of a field (name, type, nullability, metadata, children) for equality checks. */
function describeField(x: Field): unknown {
  return {
    name: x.name, type: String(x.type), typeId: x.type.typeId, nullable: x.nullable, metadata: [...(x.metadata ?? new Map()).entries()],
    children: (x.type.children ?? []).map(describeField),
  };
}

const all = new Schema([
  f('b', new Bool(), false),
  f('i8', new Int8()), f('i16', new Int16()), f('i32', new Int32()), f('i64', new Int64(), false),
  f('u8', new Uint8()), f('u16', new Uint16()), f('u32', new Uint32()), f('u64', new Uint64()),
  f('f32', new Float32()), f('f64', new Float64()),
  f('s', new Utf8()), f('ls', new LargeUtf8()), f('bin', new Binary()), f('lbin', new LargeBinary()),
  f('d', new DateDay()),
  f('ts_s', new Timestamp(TimeUnit.SECOND, null)), f('ts_ms', new Timestamp(TimeUnit.MILLISECOND, 'UTC')),
  f('ts_us', new Timestamp(TimeUnit.MICROSECOND, 'UTC')), f('ts_us_ntz', new Timestamp(TimeUnit.MICROSECOND, null)),
  f('ts_ns', new Timestamp(TimeUnit.NANOSECOND, 'Asia/Shanghai')),
  f('dec', new Decimal(2, 10, 128)),
  f('tags', new List(f('$data$', new Utf8()))),
  f('tags2', new List(f('item', new Int32(), false))),
  f('st', new Struct([f('x', new Int32(), false), f('y', new List(f('item', new Float64())))])),
  f('emb', new FixedSizeList(4, f('item', new Float32(), false)), false),
  f('image_path', new Utf8(), true, new Map([['lakesoul.blob', 'true'], ['comment', 'a path']])),
], new Map([['owner', 'tests']]));

describe('Arrow schema JSON (Arrow-Java Schema.toJson shape)', () => {
  it('round-trips every supported type to an equal schema, field metadata included', () => {
    const json = arrowSchemaToJson(all);
    const back = arrowSchemaFromJson(json);
    expect(util.compareSchemas(all, back)).toBe(true);
    expect(back.fields.map(describeField)).toEqual(all.fields.map(describeField));
    expect([...back.metadata.entries()]).toEqual([['owner', 'tests']]);
    expect(arrowSchemaToJson(back)).toBe(json);
  });

  it('writes the exact Arrow-Java type JSON', () => {
    const j = JSON.parse(arrowSchemaToJson(all)) as { fields: Array<{ name: string; type: unknown; children: unknown[]; nullable: boolean; metadata: unknown }> };
    const type = (n: string) => j.fields.find((x) => x.name === n)!.type;
    expect(type('b')).toEqual({ name: 'bool' });
    expect(type('i8')).toEqual({ name: 'int', bitWidth: 8, isSigned: true });
    expect(type('i64')).toEqual({ name: 'int', bitWidth: 64, isSigned: true });
    expect(type('u32')).toEqual({ name: 'int', bitWidth: 32, isSigned: false });
    expect(type('f32')).toEqual({ name: 'floatingpoint', precision: 'SINGLE' });
    expect(type('f64')).toEqual({ name: 'floatingpoint', precision: 'DOUBLE' });
    expect(type('s')).toEqual({ name: 'utf8' });
    expect(type('ls')).toEqual({ name: 'largeutf8' });
    expect(type('bin')).toEqual({ name: 'binary' });
    expect(type('lbin')).toEqual({ name: 'largebinary' });
    expect(type('d')).toEqual({ name: 'date', unit: 'DAY' });
    expect(type('ts_s')).toEqual({ name: 'timestamp', unit: 'SECOND', timezone: null });
    expect(type('ts_us')).toEqual({ name: 'timestamp', unit: 'MICROSECOND', timezone: 'UTC' });
    expect(type('ts_ns')).toEqual({ name: 'timestamp', unit: 'NANOSECOND', timezone: 'Asia/Shanghai' });
    expect(type('dec')).toEqual({ name: 'decimal', precision: 10, scale: 2, bitWidth: 128 });
    expect(type('emb')).toEqual({ name: 'fixedsizelist', listSize: 4 });
    expect(j.fields.find((x) => x.name === 'tags')).toEqual({
      name: 'tags', nullable: true, type: { name: 'list' },
      children: [{ name: '$data$', nullable: true, type: { name: 'utf8' }, children: [], metadata: [] }], metadata: [],
    });
    expect(j.fields.find((x) => x.name === 'st')!.children).toEqual([
      { name: 'x', nullable: false, type: { name: 'int', bitWidth: 32, isSigned: true }, children: [], metadata: [] },
      { name: 'y', nullable: true, type: { name: 'list' }, children: [{ name: 'item', nullable: true, type: { name: 'floatingpoint', precision: 'DOUBLE' }, children: [], metadata: [] }], metadata: [] },
    ]);
    expect(j.fields.find((x) => x.name === 'image_path')!.metadata).toEqual([{ key: 'lakesoul.blob', value: 'true' }, { key: 'comment', value: 'a path' }]);
    expect(arrowSchemaToJson(new Schema([f('id', new Int64(), false)])))
      .toBe('{"fields":[{"name":"id","nullable":false,"type":{"name":"int","bitWidth":64,"isSigned":true},"children":[],"metadata":[]}]}');
  });

  it('reads JSON written by Arrow Java and by upstream engines (metadata absent or as an object, Spark StructType)', () => {
    const java = '{"fields":[{"name":"id","nullable":true,"type":{"name":"int","bitWidth":32,"isSigned":true},"children":[]},' +
      '{"name":"ts","nullable":true,"type":{"name":"timestamp","unit":"MICROSECOND"},"children":[]},' +
      '{"name":"m","nullable":true,"type":{"name":"utf8"},"children":[],"metadata":{"k":"v"}},' +
      '{"name":"d","nullable":true,"type":{"name":"decimal","precision":5,"scale":1},"children":[]}]}';
    const s = arrowSchemaFromJson(java);
    expect(s.fields.map((x) => String(x.type))).toEqual(['Int32', 'Timestamp<MICROSECOND>', 'Utf8', 'Decimal[5e+1]']);
    expect((s.fields[3].type as Decimal).bitWidth).toBe(128);
    expect(s.fields[2].metadata.get('k')).toBe('v');
    const spark = '{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},{"name":"name","type":"string","nullable":true,"metadata":{}},' +
      '{"name":"amount","type":"decimal(10,2)","nullable":true,"metadata":{}},{"name":"tags","type":{"type":"array","elementType":"string","containsNull":true},"nullable":true,"metadata":{}}]}';
    const sp = arrowSchemaFromJson(spark);
    expect(sp.fields.map((x) => `${x.name}:${String(x.type)}:${x.nullable}`)).toEqual(['id:Int64:false', 'name:Utf8:true', 'amount:Decimal[10e+2]:true', 'tags:List<Utf8>:true']);
  });

  it('names the column in errors', () => {
    expect(() => arrowSchemaFromJson('{"fields":[{"name":"q","nullable":true,"type":{"name":"union","mode":"Sparse"},"children":[]}]}'))
      .toThrowError(/column 'q'/);
    expect(() => arrowSchemaFromJson('not json')).toThrowError(LakeSoulError);
    try {
      arrowSchemaFromJson('{"fields":[{"name":"q","nullable":true,"type":{"name":"int","bitWidth":12,"isSigned":true},"children":[]}]}');
      expect.unreachable();
    } catch (e) {
      expect((e as LakeSoulError).context.column).toBe('q');
    }
  });
});
