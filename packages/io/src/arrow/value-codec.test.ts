// The exact value codec: plain values round-trip through every supported type, JS conveniences
// convert exactly, lossy values are refused naming row and column, and Arrow data of another type is
// converted by the writer's validation step.
import { describe, expect, test } from 'vitest';
import {
  Binary, Bool, DateDay, Decimal, Field, FixedSizeList, Float32, Float64, Int16, Int32, Int64, List, Schema, Struct,
  TimeMicrosecond, Timestamp, TimeUnit, Utf8, tableFromArrays, tableFromJSON,
} from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import {
  ExactNumber, encodeColumn, inferSchema, jsonSafe, parseJsonExact, plainValues, recordsToBatch,
} from './value-codec.js';
import { validateAgainstSchema } from './schema-validate.js';

function roundTrip(values: unknown[], type: Parameters<typeof encodeColumn>[1]): unknown[] {
  return plainValues(encodeColumn(values, type, { column: 'c' }));
}

function refusal(fn: () => unknown): LakeSoulError {
  try {
    fn();
  } catch (e) {
    expect(LakeSoulError.is(e)).toBe(true);
    return e as LakeSoulError;
  }
  throw new Error('expected a refusal');
}

describe('plain values round-trip exactly', () => {
  test('integers, floats (NaN and infinities), booleans, text, binary', () => {
    expect(roundTrip([1n, -(1n << 63n), (1n << 63n) - 1n, null, 9007199254740993n], new Int64())).toEqual([1n, -(1n << 63n), (1n << 63n) - 1n, null, 9007199254740993n]);
    expect(roundTrip([NaN, Infinity, -Infinity, -0, 0.1, null], new Float64())).toEqual([NaN, Infinity, -Infinity, -0, 0.1, null]);
    expect(roundTrip([true, false, null], new Bool())).toEqual([true, false, null]);
    expect(roundTrip(['a', '', null, 'ü😀'], new Utf8())).toEqual(['a', '', null, 'ü😀']);
    expect(roundTrip([new Uint8Array([0, 255]), null], new Binary())).toEqual([new Uint8Array([0, 255]), null]);
  });

  test('timestamps keep every digit of their unit and their zone', () => {
    expect(roundTrip(['2024-01-01T00:00:00.123456Z'], new Timestamp(TimeUnit.MICROSECOND, 'UTC'))).toEqual(['2024-01-01T00:00:00.123456Z']);
    expect(roundTrip(['2024-01-01T00:00:00.123456789Z'], new Timestamp(TimeUnit.NANOSECOND, 'UTC'))).toEqual(['2024-01-01T00:00:00.123456789Z']);
    expect(roundTrip(['2024-01-01T08:00:00.000001+08:00'], new Timestamp(TimeUnit.MICROSECOND, '+08:00'))).toEqual(['2024-01-01T08:00:00.000001+08:00']);
    expect(roundTrip(['2024-03-10T12:00:00.5'], new Timestamp(TimeUnit.MILLISECOND))).toEqual(['2024-03-10T12:00:00.500']);
    // Asia/Shanghai: the same instant printed at +08:00.
    expect(roundTrip(['2024-01-01T00:00:00Z'], new Timestamp(TimeUnit.MICROSECOND, 'Asia/Shanghai'))).toEqual(['2024-01-01T08:00:00.000000+08:00']);
  });

  test('dates, times, decimals, lists and structs', () => {
    expect(roundTrip(['2024-02-29', null], new DateDay())).toEqual(['2024-02-29', null]);
    expect(roundTrip(['12:34:56.000001'], new TimeMicrosecond())).toEqual(['12:34:56.000001']);
    const dec = new Decimal(2, 38, 128);
    expect(roundTrip(['12345678901234567890123456789012345.67', '-0.01', null], dec)).toEqual(['12345678901234567890123456789012345.67', '-0.01', null]);
    const list = new List(new Field('item', new Int64(), true));
    expect(roundTrip([[1n, null, 3n], [], null], list)).toEqual([[1n, null, 3n], [], null]);
    const st = new Struct([new Field('a', new Int32(), true), new Field('b', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), true)]);
    expect(roundTrip([{ a: 1, b: '2024-01-01T00:00:00.000001Z' }, null], st)).toEqual([{ a: 1, b: '2024-01-01T00:00:00.000001Z' }, null]);
  });
});

describe('JS conveniences convert exactly', () => {
  test('numbers and decimal text into float32: the nearest float32, as pyarrow and Spark round (an integral JS number too)', () => {
    const got = roundTrip([0.1, '0.1', '1e-50', 16777217, 3.4028234663852886e38, NaN, -Infinity, '-inf', 2n], new Float32()) as number[];
    expect(got).toEqual([Math.fround(0.1), Math.fround(0.1), 0, 16777216, 3.4028234663852886e38, NaN, -Infinity, -Infinity, 2]);
    const emb = new FixedSizeList(3, new Field('item', new Float32(), true));
    expect(roundTrip([[0.1, 0.2, 0.3]], emb)).toEqual([[0.1, 0.2, 0.3].map(Math.fround)]);
  });

  test('numbers into integer columns when integral and safe; bigint and integer text', () => {
    expect(roundTrip([3, 4, '5', 6n], new Int64())).toEqual([3n, 4n, 5n, 6n]);
    expect(roundTrip([3, -32768], new Int16())).toEqual([3, -32768]);
  });

  test('Dates and ISO strings into timestamps and dates at the column unit', () => {
    const d = new Date('2024-05-06T07:08:09.123Z');
    expect(roundTrip([d], new Timestamp(TimeUnit.NANOSECOND, 'UTC'))).toEqual(['2024-05-06T07:08:09.123000000Z']);
    expect(roundTrip([new Date('2024-05-06T00:00:00Z'), '2024-05-07'], new DateDay())).toEqual(['2024-05-06', '2024-05-07']);
    // A wall time without offset into a UTC column is UTC.
    expect(roundTrip(['2024-05-06T07:08:09.000001'], new Timestamp(TimeUnit.MICROSECOND, 'UTC'))).toEqual(['2024-05-06T07:08:09.000001Z']);
    // the widest offsets there are (hours 00-23, minutes 00-59); beyond them is refused (below)
    expect(roundTrip(['2024-01-01T00:00:00-23:59', '2024-01-01T23:59:00+2359'], new Timestamp(TimeUnit.MICROSECOND, 'UTC'))).toEqual(['2024-01-01T23:59:00.000000Z', '2024-01-01T00:00:00.000000Z']);
  });

  test('numbers and strings into decimals; strings into binary as UTF-8 (or base64 when asked)', () => {
    expect(roundTrip([1.25, '3', 7n], new Decimal(2, 10, 128))).toEqual(['1.25', '3.00', '7.00']);
    expect(roundTrip(['hé'], new Binary())).toEqual([new Uint8Array(Buffer.from('hé'))]);
    expect(plainValues(encodeColumn(['AP8='], new Binary(), { column: 'b', binaryText: 'base64' }))).toEqual([new Uint8Array([0, 255])]);
    // padding optional, the empty string empty bytes
    expect(plainValues(encodeColumn(['AP8', '', 'aGVsbG8='], new Binary(), { column: 'b', binaryText: 'base64' })))
      .toEqual([new Uint8Array([0, 255]), new Uint8Array(0), new Uint8Array(Buffer.from('hello'))]);
    // text that is not base64 (Node's decoder made 'hello' three damaged bytes, 'a' none, 'x y' one)
    for (const text of ['hello', 'a', 'x y', 'AP9=', 'AP8=\n', 'A=P8', 'AP8==', '日本']) {
      expect(() => encodeColumn([text], new Binary(), { column: 'b', binaryText: 'base64' }), text).toThrow(/is not base64 \(a binary column's values are read as standard base64/);
    }
  });

  test('objects into structs and arrays into (fixed-size) lists', () => {
    const fsl = new FixedSizeList(2, new Field('item', new Float32(), true));
    expect(roundTrip([[1, 2.5], null], fsl)).toEqual([[1, 2.5], null]);
  });
});

describe('lossy values are refused naming row and column', () => {
  const cases: [string, unknown[], Parameters<typeof encodeColumn>[1], RegExp][] = [
    ['fraction into int', [1, 2.5], new Int64(), /row 1: column 'c'.*2\.5 is not an integer/],
    ['unsafe number into int64', [2 ** 53 + 2], new Int64(), /row 0.*beyond 2\^53/],
    ['int out of range', [1, 40000], new Int16(), /row 1.*does not fit/],
    ['bigint inexact as float32', [16777217n], new Float32(), /not exactly representable as float32/],
    ['beyond float32', [1, 3.5e38], new Float32(), /row 1.*3\.5e\+38 is beyond float32's range/],
    ['text beyond float32', ['-1e39'], new Float32(), /"-1e39" is beyond float32's range/],
    ['text beyond float64', ['1', '1e400'], new Float64(), /row 1.*"1e400" is beyond float64's range/],
    ['too many fraction digits', ['1.005'], new Decimal(2, 10, 128), /more than 2 fraction digits/],
    ['ns digits into a us column', ['2024-01-01T00:00:00.1234567Z'], new Timestamp(TimeUnit.MICROSECOND, 'UTC'), /more precision than the column's unit/],
    ['offset hours beyond 23', ['2024-01-01T00:00:00Z', '2024-01-01T00:00:00+25:00'], new Timestamp(TimeUnit.MICROSECOND, 'UTC'), /row 1.*impossible UTC offset \+25:00/],
    ['offset +99:59', ['2024-01-01T00:00:00+99:59'], new Timestamp(TimeUnit.MICROSECOND, 'UTC'), /impossible UTC offset \+99:59/],
    ['offset minutes beyond 59', ['2024-01-01T00:00:00+00:60'], new Timestamp(TimeUnit.MICROSECOND, 'UTC'), /impossible UTC offset \+00:60/],
    ['offset -2400', ['2024-01-01T00:00:00-2400'], new Timestamp(TimeUnit.NANOSECOND, 'UTC'), /impossible UTC offset -2400/],
    ['date not at midnight', [new Date('2024-01-01T01:00:00Z')], new DateDay(), /not at midnight/],
    ['text into int', ['x'], new Int32(), /"x" is not an integer/],
    ['object into text', [{ a: 1 }], new Utf8(), /is not a string/],
    ['unknown struct field', [{ z: 1 }], new Struct([new Field('a', new Int32(), true)]), /field 'z' is not in/],
  ];
  test.each(cases)('%s', (_name, values, type, re) => {
    const e = refusal(() => encodeColumn(values, type, { column: 'c', table: 't' }));
    expect(e.code).toBe('VALUE_NOT_CONVERTIBLE');
    expect(e.message).toMatch(re);
    expect(e.context.column).toBe('c');
    expect(e.context.table).toBe('t');
  });

  test('nested failures name the field path and the outer row', () => {
    const st = new Struct([new Field('xs', new List(new Field('item', new Int32(), true)), true)]);
    const e = refusal(() => encodeColumn([{ xs: [1] }, { xs: [1, 2.5] }], st, { column: 's' }));
    expect(e.message).toMatch(/row 1: column 's\.xs\.item'/);
  });
});

test('recordsToBatch: unknown keys and absent columns', () => {
  const schema = new Schema([new Field('id', new Int64(), false), new Field('name', new Utf8(), true)]);
  const b = recordsToBatch([{ id: 1, name: 'a' }, { id: 2 }], schema);
  expect(plainValues(b.data.children[1])).toEqual(['a', null]);
  const e = refusal(() => recordsToBatch([{ id: 1 }, { id: 2, nope: 1 }], schema, { table: 'people' }));
  expect(e.code).toBe('UNKNOWN_COLUMN');
  expect(e.message).toMatch(/row 1: column 'nope' is not in the schema of table 'people'/);
  const partial = recordsToBatch([{ id: 1 }], schema, { omitMissing: true });
  expect(partial.schema.fields.map((f) => f.name)).toEqual(['id']);
});

test('Arrow data of another type is converted exactly by the writer validation, or refused', () => {
  const schema = new Schema([
    new Field('id', new Int64(), false),
    new Field('at', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), true),
    new Field('price', new Decimal(2, 10, 128), true),
  ]);
  const t = tableFromArrays({ id: [3, 4], at: ['2024-01-01T00:00:00.000001Z', null], price: [1.5, 2] });
  const out = validateAgainstSchema(t.batches[0], schema, { tableName: 'x' });
  expect(plainValues(out.data.children[0])).toEqual([3n, 4n]);
  expect(plainValues(out.data.children[1])).toEqual(['2024-01-01T00:00:00.000001Z', null]);
  expect(plainValues(out.data.children[2])).toEqual(['1.50', '2.00']);
  // integer data into float32 must be exact (pyarrow's safe int->float cast refuses 16777217 too);
  // float data rounds to the nearest float32 (as pyarrow's float64->float32 cast, safe or not)
  const f32 = new Schema([new Field('f', new Float32(), true)]);
  const ints = tableFromArrays({ f: Int32Array.from([16777217]) });
  expect(refusal(() => validateAgainstSchema(ints.batches[0], f32, { tableName: 'x' })).message).toMatch(/16777217 is not exactly representable as Float32/);
  const doubles = tableFromArrays({ f: Float64Array.from([16777217]) });
  expect(plainValues(validateAgainstSchema(doubles.batches[0], f32, { tableName: 'x' }).data.children[0])).toEqual([16777216]);
  const j = tableFromJSON([{ id: 1, at: null, price: null }, { id: 2.5, at: null, price: null }]);
  const e = refusal(() => validateAgainstSchema(j.batches[0], schema, { tableName: 'x' }));
  expect(e.message).toMatch(/row 1: column 'id' of table 'x'/);
});

test('parseJsonExact keeps big integers and long decimals exact', () => {
  expect(parseJsonExact('{"id":9007199254740993,"x":1.5,"s":"9007199254740993"}')).toEqual({ id: 9007199254740993n, x: 1.5, s: '9007199254740993' });
  const v = parseJsonExact('[12345678901234567890.123456789, 0.1, -5]') as unknown[];
  expect(v[0]).toBeInstanceOf(ExactNumber);
  expect(String(v[0])).toBe('12345678901234567890.123456789');
  expect(v.slice(1)).toEqual([0.1, -5]);
  expect(() => parseJsonExact('{"a":12345678901234567890')).toThrow(SyntaxError);
  // an exponent past a double's range is no Infinity or 0 (JSON.parse's): a float64 column refuses it, as a CSV cell
  for (const text of ['1e400', '-1E+400']) {
    const x = (parseJsonExact(`{"x":${text}}`) as { x: unknown }).x;
    expect(x, text).toBeInstanceOf(ExactNumber);
    expect(() => encodeColumn([x], new Float64(), { column: 'x' }), text).toThrow(/beyond float64's range|float64/);
  }
  expect(parseJsonExact('{"x":1e300}')).toEqual({ x: 1e300 });
  expect(plainValues(encodeColumn([v[0]], new Decimal(9, 38, 128), { column: 'd' }))).toEqual(['12345678901234567890.123456789']);
});

test('jsonSafe output reads back to the same values', () => {
  const type = new Struct([
    new Field('i', new Int64(), true),
    new Field('f', new Float64(), true),
    new Field('b', new Binary(), true),
  ]);
  const values = [{ i: 9007199254740993n, f: NaN, b: new Uint8Array([1, 2]) }, { i: -1n, f: -Infinity, b: null }];
  const text = values.map((v) => JSON.stringify(jsonSafe(v)));
  expect(text[0]).toBe('{"i":"9007199254740993","f":"NaN","b":"AQI="}');
  const back = plainValues(encodeColumn(text.map((t) => parseJsonExact(t)), type, { column: 's', binaryText: 'base64' }));
  expect(back).toEqual(values);
});

test('inferSchema: integers as int64 unless told, PK columns non-null, nested types', () => {
  const s = inferSchema([{ id: 1, score: 0.5, name: 'a', at: new Date(0), tags: ['x'], p: { q: 1 } }, { id: 2, score: 1, name: null }], { nonNullable: ['id'] });
  expect(s.fields.map((f) => `${f.name}:${f.type}:${f.nullable}`)).toEqual([
    'id:Int64:false',
    'score:Float64:true',
    'name:Utf8:true',
    'at:Timestamp<MICROSECOND, UTC>:true',
    'tags:List<Utf8>:true',
    'p:Struct<{q:Int64}>:true',
  ]);
  expect(inferSchema([{ n: 1 }], { integers: 'int32' }).fields[0].type.toString()).toBe('Int32');
  expect(refusal(() => inferSchema([{ a: null }])).message).toMatch(/every value is null/);
  expect(refusal(() => inferSchema([{ a: 1 }, { a: 'x' }])).message).toMatch(/mixes number and string/);
});
