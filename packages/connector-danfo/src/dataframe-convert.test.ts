// Arrow <-> DataFrame conversion, per type, with the real danfojs 1.2.0. Source tables are built from
// raw buffers with apache-arrow's own makeData (independent of the connector's encoder), and
// round-trips are compared on the raw stored integers, so a unit or precision slip fails.
import { describe, expect, test } from 'vitest';
import * as A from 'apache-arrow';
import * as danfo from 'danfojs';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { arrowToColumns, fromDataFrame, loadDanfo, toDataFrame, columnsToArrow } from './index.js';
import type { DanfoModule } from './index.js';

const dfd = danfo as unknown as DanfoModule;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFrame = any;

function validity(valid: boolean[]): { nullBitmap?: Uint8Array; nullCount: number } {
  const bits = new Uint8Array(Math.ceil(valid.length / 8) + 8);
  let nulls = 0;
  valid.forEach((v, i) => { if (v) bits[i >> 3] |= 1 << (i & 7); else nulls++; });
  return nulls ? { nullBitmap: bits, nullCount: nulls } : { nullCount: 0 };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function col(type: A.DataType, data: any, valid?: boolean[], extra: Record<string, unknown> = {}): A.Data {
  const length = valid?.length ?? data.length;
  return A.makeData({ type, length, data, ...(valid ? validity(valid) : { nullCount: 0 }), ...extra } as never) as unknown as A.Data;
}

function tableOf(fields: [string, A.DataType, A.Data, boolean?][]): A.Table {
  const schema = new A.Schema(fields.map(([n, t, , nullable]) => new A.Field(n, t, nullable ?? true)));
  const length = fields[0][2].length;
  const data = A.makeData({ type: new A.Struct(schema.fields), length, nullCount: 0, children: fields.map((f) => f[2]) });
  return new A.Table([new A.RecordBatch(schema, data)]);
}

/** Exact per-row values of a column, from the raw buffers for 64-bit and decimal types. */
function raw(table: A.Table, name: string): unknown[] {
  const out: unknown[] = [];
  const vec = table.getChild(name)!;
  for (const d of vec.data) {
    const v = A.makeVector(d);
    for (let i = 0; i < d.length; i++) {
      if (!d.getValid(i)) { out.push(null); continue; }
      const t = d.type;
      if (t.typeId === A.Type.Timestamp || (t.typeId === A.Type.Date && (t as A.Date_).unit === A.DateUnit.MILLISECOND)
        || (t.typeId === A.Type.Int && (t as A.Int).bitWidth === 64) || (t.typeId === A.Type.Time && (t as A.Time).bitWidth === 64)) {
        out.push((d.values as BigInt64Array)[i]);
      } else if (t.typeId === A.Type.Decimal) {
        out.push(Array.from((d.values as Uint32Array).subarray(i * 4, i * 4 + 4)));
      } else out.push(norm(v.get(i)));
    }
  }
  return out;
}
function norm(x: unknown): unknown {
  if (x instanceof Uint8Array) return Array.from(x);
  if (A.util.isArrowVector(x)) return [...(x as A.Vector)].map(norm);
  if (x && typeof x === 'object' && typeof (x as { toJSON?: unknown }).toJSON === 'function') return norm((x as { toJSON(): unknown }).toJSON());
  if (x && typeof x === 'object' && !(x instanceof Date)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, norm(v)]));
  return x;
}

function cells(df: AnyFrame, name: string): unknown[] {
  const j = df.columns.indexOf(name);
  expect(j, `column ${name} in frame`).toBeGreaterThanOrEqual(0);
  return (df.values as unknown[][]).map((r) => r[j]);
}

function expectRoundTrip(source: A.Table, back: A.Table): void {
  expect(back.schema).toBe(source.schema);
  expect(back.numRows).toBe(source.numRows);
  for (const f of source.schema.fields) expect(raw(back, f.name), f.name).toEqual(raw(source, f.name));
}

function utf8(values: (string | null)[], type: A.DataType = new A.Utf8()): A.Data {
  return A.vectorFromArray(values, type as A.Utf8).data[0] as unknown as A.Data;
}

const TS = {
  utcNs: new A.Timestamp(A.TimeUnit.NANOSECOND, 'UTC'),
  nyUs: new A.Timestamp(A.TimeUnit.MICROSECOND, 'America/New_York'),
  kathmanduS: new A.Timestamp(A.TimeUnit.SECOND, '+05:45'),
  naiveMs: new A.Timestamp(A.TimeUnit.MILLISECOND),
};

function allTypes(): A.Table {
  const i64 = new BigInt64Array([0n, 9007199254740991n, -9007199254740991n, 42n]);
  const listType = new A.List(new A.Field('item', new A.Int64(), true));
  const listData = col(listType, undefined, [true, true, false, true], {
    valueOffsets: new Int32Array([0, 2, 2, 2, 3]),
    child: col(new A.Int64(), new BigInt64Array([1n, -2n, 9007199254740991n])),
  });
  const structType = new A.Struct([new A.Field('x', new A.Float64(), false), new A.Field('tag', new A.Utf8(), true)]);
  const structData = col(structType, undefined, [true, false, true, true], {
    children: [col(new A.Float64(), new Float64Array([1.5, 0, -2, 3])), utf8(['a', null, null, 'd'])],
  });
  const dec = new Uint32Array(16);
  // 12345678901234567890.0123456789 at scale 10, -0.0000000001, null, 0
  const decVals = [123456789012345678900123456789n, -1n, 0n, 0n];
  decVals.forEach((v, i) => {
    let u = v < 0n ? (1n << 128n) + v : v;
    for (let k = 0; k < 4; k++) { dec[i * 4 + k] = Number(u & 0xffffffffn); u >>= 32n; }
  });
  return tableOf([
    ['i8', new A.Int8(), col(new A.Int8(), new Int8Array([-128, 127, 0, 5]), [true, true, false, true])],
    ['u32', new A.Uint32(), col(new A.Uint32(), new Uint32Array([4294967295, 0, 1, 2])), false],
    ['i64', new A.Int64(), col(new A.Int64(), i64, [true, true, true, false])],
    ['u64', new A.Uint64(), col(new A.Uint64(), new BigUint64Array([0n, 9007199254740991n, 1n, 2n]))],
    ['f32', new A.Float32(), col(new A.Float32(), new Float32Array([1.5, -0, 3.25, 0]), [true, true, true, false])],
    ['f64', new A.Float64(), col(new A.Float64(), new Float64Array([0.1, NaN, Infinity, 0]), [true, true, true, false])],
    ['flag', new A.Bool(), col(new A.Bool(), new Uint8Array([0b0101, 0, 0, 0, 0, 0, 0, 0]), [true, true, false, true])],
    ['text', new A.Utf8(), utf8(['héllo 🌍', '', null, 'x'])],
    ['ltext', new A.LargeUtf8(), A.vectorFromArray(['a', null, 'ccc', ''], new A.LargeUtf8()).data[0] as unknown as A.Data],
    ['day', new A.DateDay(), col(new A.DateDay(), new Int32Array([0, -1, 19797, 0]), [true, true, true, false])],
    ['day64', new A.DateMillisecond(), col(new A.DateMillisecond(), new BigInt64Array([0n, 86_400_000n * 19797n, -86_400_000n, 0n]))],
    ['ts_utc_ns', TS.utcNs, col(TS.utcNs, new BigInt64Array([1710053999123456789n, -1n, 9223372036854775807n, 0n]), [true, true, true, false])],
    ['ts_ny_us', TS.nyUs, col(TS.nyUs, new BigInt64Array([1710052200000000n, 1710055800000000n, 1699165800000001n, 0n]))],
    ['ts_ktm_s', TS.kathmanduS, col(TS.kathmanduS, new BigInt64Array([0n, -86401n, 1700000000n, 1n]))],
    ['ts_naive_ms', TS.naiveMs, col(TS.naiveMs, new BigInt64Array([0n, 1700000000123n, -1n, 5n]))],
    ['time_us', new A.TimeMicrosecond(), col(new A.TimeMicrosecond(), new BigInt64Array([0n, 86399999999n, 3600000001n, 1n]))],
    ['dec', new A.Decimal(10, 38, 128), col(new A.Decimal(10, 38, 128), dec, [true, true, false, true])],
    ['ints', listType, listData],
    ['point', structType, structData],
  ]);
}

describe('Arrow -> DataFrame -> Arrow', () => {
  test('every supported type round-trips exactly, with explicit dtypes', async () => {
    const source = allTypes();
    const df: AnyFrame = await toDataFrame(source, { dfd });
    expect(df.shape).toEqual([4, source.schema.fields.length]);
    expect(df.columns).toEqual(source.schema.fields.map((f) => f.name));
    expect(Object.fromEntries(df.columns.map((c: string, j: number) => [c, df.dtypes[j]]))).toEqual({
      i8: 'int32', u32: 'int32', i64: 'int32', u64: 'int32', f32: 'float32', f64: 'float32', flag: 'boolean',
      text: 'string', ltext: 'string', day: 'string', day64: 'string', ts_utc_ns: 'string', ts_ny_us: 'string',
      ts_ktm_s: 'string', ts_naive_ms: 'string', time_us: 'string', dec: 'string', ints: 'string', point: 'string',
    });
    expect(cells(df, 'i8')).toEqual([-128, 127, null, 5]);
    expect(cells(df, 'u32')).toEqual([4294967295, 0, 1, 2]);
    expect(cells(df, 'i64')).toEqual([0, 9007199254740991, -9007199254740991, null]);
    expect(cells(df, 'f64')).toEqual([0.1, NaN, Infinity, null]);
    expect(cells(df, 'flag')).toEqual([true, false, null, false]);
    expect(cells(df, 'text')).toEqual(['héllo 🌍', '', null, 'x']);
    expect(cells(df, 'day')).toEqual(['1970-01-01', '1969-12-31', '2024-03-15', null]);
    expect(cells(df, 'day64')).toEqual(['1970-01-01', '2024-03-15', '1969-12-31', '1970-01-01']);
    expect(cells(df, 'ts_utc_ns')).toEqual(['2024-03-10T06:59:59.123456789Z', '1969-12-31T23:59:59.999999999Z', '2262-04-11T23:47:16.854775807Z', null]);
    // New York across the 2024 spring-forward and the 2023 fall-back: the offset in effect is kept.
    expect(cells(df, 'ts_ny_us')).toEqual(['2024-03-10T01:30:00.000000-05:00', '2024-03-10T03:30:00.000000-04:00', '2023-11-05T01:30:00.000001-05:00', '1969-12-31T19:00:00.000000-05:00']);
    expect(cells(df, 'ts_ktm_s')).toEqual(['1970-01-01T05:45:00+05:45', '1969-12-31T05:44:59+05:45', '2023-11-15T03:58:20+05:45', '1970-01-01T05:45:01+05:45']);
    expect(cells(df, 'ts_naive_ms')).toEqual(['1970-01-01T00:00:00.000', '2023-11-14T22:13:20.123', '1969-12-31T23:59:59.999', '1970-01-01T00:00:00.005']);
    expect(cells(df, 'time_us')).toEqual(['00:00:00.000000', '23:59:59.999999', '01:00:00.000001', '00:00:00.000001']);
    expect(cells(df, 'dec')).toEqual(['12345678901234567890.0123456789', '-0.0000000001', null, '0.0000000000']);
    expect(cells(df, 'ints')).toEqual([[1, -2], [], null, [9007199254740991]]);
    expect(cells(df, 'point')).toEqual([{ x: 1.5, tag: 'a' }, null, { x: -2, tag: null }, { x: 3, tag: 'd' }]);

    const back = fromDataFrame(df, source.schema);
    expectRoundTrip(source, back);
  });

  test('a date64 value not at midnight (as other writers store it) round-trips exactly; date32 still refuses one', async () => {
    const at = BigInt(Date.UTC(2024, 0, 1, 10, 30, 0, 7));
    const t = tableOf([['d64', new A.DateMillisecond(), col(new A.DateMillisecond(), new BigInt64Array([at, 86_400_000n, -1n, 0n]), [true, true, true, false])]]);
    for (const dates of ['string', 'date'] as const) {
      const df: AnyFrame = await toDataFrame(t, { dfd, dates });
      if (dates === 'string') expect(cells(df, 'd64')).toEqual(['2024-01-01T10:30:00.007Z', '1970-01-02', '1969-12-31T23:59:59.999Z', null]);
      // it was refused: "not at midnight UTC"
      expect(raw(fromDataFrame(df, t.schema), 'd64')).toEqual([at, 86_400_000n, -1n, null]);
    }
    const day32 = new A.Schema([new A.Field('d', new A.DateDay(), true)]);
    const frame = new danfo.DataFrame([['2024-01-01T10:30:00.000Z']], { columns: ['d'], dtypes: ['string'] });
    expect(() => fromDataFrame(frame, day32)).toThrow(/not at midnight UTC/);
    // a date64 string needs an offset, and more digits than milliseconds must be zeros
    const d64 = new A.Schema([new A.Field('d', new A.DateMillisecond(), true)]);
    expect(() => fromDataFrame(new danfo.DataFrame([['2024-01-01T10:30:00']], { columns: ['d'], dtypes: ['string'] }), d64)).toThrow(/offset/);
    expect(() => fromDataFrame(new danfo.DataFrame([['2024-01-01T10:30:00.0001Z']], { columns: ['d'], dtypes: ['string'] }), d64)).toThrow();
  });

  test('int64 beyond 2^53 fails by default, naming column and row', async () => {
    const t = tableOf([['id', new A.Int64(), col(new A.Int64(), new BigInt64Array([1n, 2n, 9007199254740992n]))]]);
    const err = await toDataFrame(t, { dfd }).catch((e: unknown) => e);
    expect(LakeSoulError.is(err, 'InvalidArgument')).toBe(true);
    const e = err as LakeSoulError;
    expect(e.code).toBe('INT64_OUT_OF_RANGE');
    expect(e.context).toMatchObject({ column: 'id', row: 2 });
    expect(e.message).toContain('9007199254740992');
    const neg = tableOf([['id', new A.Int64(), col(new A.Int64(), new BigInt64Array([-9007199254740992n]))]]);
    await expect(toDataFrame(neg, { dfd })).rejects.toMatchObject({ code: 'INT64_OUT_OF_RANGE', context: { row: 0 } });
    const u = tableOf([['u', new A.Uint64(), col(new A.Uint64(), new BigUint64Array([18446744073709551615n]))]]);
    await expect(toDataFrame(u, { dfd })).rejects.toMatchObject({ code: 'INT64_OUT_OF_RANGE', context: { column: 'u' } });
  });

  test("int64: 'string' keeps every digit and writes back exact bigints; 'number-unsafe' rounds", async () => {
    const big = [9223372036854775807n, -9223372036854775808n, 9007199254740993n, 7n];
    const t = tableOf([
      ['id', new A.Int64(), col(new A.Int64(), new BigInt64Array(big))],
      ['n', new A.Int64(), col(new A.Int64(), new BigInt64Array([1n, 2n, 3n, 4n]))],
      ['u', new A.Uint64(), col(new A.Uint64(), new BigUint64Array([18446744073709551615n, 0n, 1n, 2n]))],
    ]);
    const df: AnyFrame = await toDataFrame(t, { dfd, int64: { id: 'string', u: 'string' } });
    expect(cells(df, 'id')).toEqual(['9223372036854775807', '-9223372036854775808', '9007199254740993', '7']);
    expect(cells(df, 'n')).toEqual([1, 2, 3, 4]);
    expect(df.dtypes).toEqual(['string', 'int32', 'string']);
    expectRoundTrip(t, fromDataFrame(df, t.schema));

    const all: AnyFrame = await toDataFrame(t, { dfd, int64: 'string' });
    expect(cells(all, 'n')).toEqual(['1', '2', '3', '4']);
    expectRoundTrip(t, fromDataFrame(all, t.schema));

    const unsafe: AnyFrame = await toDataFrame(t, { dfd, int64: 'number-unsafe' });
    expect(cells(unsafe, 'id')[2]).toBe(9007199254740992);
  });

  test('Date modes: timestamps and dates as JS Date (dtype datetime) and back', async () => {
    const t = tableOf([
      ['at', TS.nyUs, col(TS.nyUs, new BigInt64Array([1710052200123000n, -1000n]))],
      ['day', new A.DateDay(), col(new A.DateDay(), new Int32Array([19797, -1]))],
    ]);
    const df: AnyFrame = await toDataFrame(t, { dfd, timestamps: 'date', dates: 'date' });
    expect(df.dtypes).toEqual(['datetime', 'datetime']);
    expect(cells(df, 'at')).toEqual([new Date(1710052200123), new Date(-1)]);
    expect(cells(df, 'day')).toEqual([new Date(Date.UTC(2024, 2, 15)), new Date(Date.UTC(1969, 11, 31))]);
    expectRoundTrip(t, fromDataFrame(df, t.schema));
  });

  test('decimals as numbers; numbers written back are rounded to the scale, strings must fit', async () => {
    const type = new A.Decimal(2, 9, 128);
    const words = new Uint32Array(8);
    words[0] = 12345; // 123.45
    words[4] = 0xffffffff; words[5] = 0xffffffff; words[6] = 0xffffffff; words[7] = 0xffffffff; // -0.01
    const t = tableOf([['price', type, col(type, words, [true, true])]]);
    const df: AnyFrame = await toDataFrame(t, { dfd, decimals: 'number' });
    expect(df.dtypes).toEqual(['float32']);
    expect(cells(df, 'price')).toEqual([123.45, -0.01]);
    expectRoundTrip(t, fromDataFrame(df, t.schema));
    const sum = columnsToArrow({ price: [0.1 + 0.2, '1.5e2'] }, t.schema);
    expect((await toDataFrame(sum, { dfd }) as AnyFrame).values).toEqual([['0.30'], ['150.00']]);
    expect(() => columnsToArrow({ price: ['1.234'] }, t.schema)).toThrow(/more than 2 fraction digits/);
    expect(() => columnsToArrow({ price: ['12345678.9'] }, t.schema)).toThrow(/more than 9 significant digits/);
  });

  test('binary columns are dropped with a warning, or kept as base64', async () => {
    const bin = A.vectorFromArray([new Uint8Array([0, 255, 7]), null, new Uint8Array([])], new A.Binary()).data[0] as unknown as A.Data;
    const t = tableOf([['id', new A.Int32(), col(new A.Int32(), new Int32Array([1, 2, 3]))], ['img', new A.Binary(), bin]]);
    const warnings: string[] = [];
    const dropped: AnyFrame = await toDataFrame(t, { dfd, onWarning: (m) => warnings.push(m) });
    expect(dropped.columns).toEqual(['id']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/"img".*binary: 'base64'/);
    // Writing the frame back needs the column: the error says so.
    expect(() => fromDataFrame(dropped, t.schema)).toThrow(/column "img": missing from the DataFrame/);
    // So does a column object whose binary entry is undefined (the columns of a frame read without base64).
    const decoded = arrowToColumns(t, { onWarning: () => {} });
    expect(decoded.names).toEqual(['id']);
    expect(() => columnsToArrow({ id: decoded.columns[0], img: undefined as unknown as unknown[] }, t.schema)).toThrow(/column "img": missing from the DataFrame/);
    const filled = fromDataFrame(dropped, t.schema, { missingColumns: 'null' });
    expect(raw(filled, 'img')).toEqual([null, null, null]);

    const kept: AnyFrame = await toDataFrame(t, { dfd, binary: 'base64', onWarning: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
    expect(cells(kept, 'img')).toEqual(['AP8H', null, '']);
    expectRoundTrip(t, fromDataFrame(kept, t.schema));
  });

  test("nested: 'json' cells survive Danfo Series access and parse back", async () => {
    const source = allTypes();
    const t = source.select(['ints', 'point']);
    const df: AnyFrame = await toDataFrame(t, { dfd, nested: 'json' });
    expect(cells(df, 'ints')).toEqual(['[1,-2]', '[]', null, '[9007199254740991]']);
    expect(df['point'].values).toEqual(['{"x":1.5,"tag":"a"}', null, '{"x":-2,"tag":null}', '{"x":3,"tag":"d"}']);
    expectRoundTrip(t, fromDataFrame(df, t.schema));
  });
});

describe('DataFrame -> Arrow validation', () => {
  const schema = new A.Schema([
    new A.Field('id', new A.Int64(), false),
    new A.Field('name', new A.Utf8(), true),
    new A.Field('at', new A.Timestamp(A.TimeUnit.MICROSECOND, 'UTC'), true),
    new A.Field('score', new A.Float64(), true),
    new A.Field('tags', new A.List(new A.Field('item', new A.Utf8(), true)), true),
  ]);
  const frame = (data: Record<string, unknown[]>): AnyFrame =>
    new danfo.DataFrame(Object.keys(data)[0] ? data[Object.keys(data)[0]].map((_, r) => Object.keys(data).map((k) => data[k][r])) : [], {
      columns: Object.keys(data), dtypes: Object.keys(data).map(() => 'string'),
    });
  const good = {
    id: ['1', 2, '9223372036854775807'], name: ['a', null, 'c'], at: ['2024-01-01T00:00:00Z', null, '2024-01-01T09:00:00.000001+09:00'],
    score: [1, NaN, null], tags: [['x'], [], null],
  };

  test('a valid frame converts with the table schema and exact values', () => {
    const t = fromDataFrame(frame(good), schema);
    expect(t.schema).toBe(schema);
    expect(raw(t, 'id')).toEqual([1n, 2n, 9223372036854775807n]);
    expect(raw(t, 'at')).toEqual([1704067200000000n, null, 1704067200000001n]);
    expect(raw(t, 'score')).toEqual([1, NaN, null]);
    expect(raw(fromDataFrame(frame(good), schema, { nan: 'null' }), 'score')).toEqual([1, null, null]);
    expect(raw(t, 'tags')).toEqual([['x'], [], null]);
  });

  const cases: [string, Record<string, unknown[]>, RegExp, Record<string, unknown>][] = [
    ['missing column', { id: [1], name: ['a'], at: [null], score: [1] }, /column "tags": missing from the DataFrame/, { code: 'DATAFRAME_COLUMN_MISSING', context: { column: 'tags' } }],
    ['unknown column', { ...good, extra: [1, 2, 3] }, /column "extra": not a column of the table/, { code: 'DATAFRAME_COLUMN_UNKNOWN', context: { column: 'extra' } }],
    ['string in int64', { ...good, id: [1, 'two', 3] }, /column "id" row 1: expected an integer/, { code: 'DATAFRAME_TYPE_MISMATCH', context: { column: 'id', row: 1 } }],
    ['fraction in int64', { ...good, id: [1, 2, 3.5] }, /column "id" row 2: expected an integer/, { context: { column: 'id', row: 2 } }],
    ['int64 overflow', { ...good, id: [1, 2, '9223372036854775808'] }, /row 2: .* out of range for Int64/, { context: { column: 'id', row: 2 } }],
    ['null in non-nullable', { ...good, id: [1, null, 3] }, /column "id" row 1: null in a non-nullable field/, { context: { column: 'id', row: 1 } }],
    ['number in string column', { ...good, name: ['a', 5, 'c'] }, /column "name" row 1: expected a string/, { context: { column: 'name', row: 1 } }],
    ['unpaired surrogate in a string', { ...good, name: ['a', 'b', 'x\ud800y'] }, /column "name" row 2: a string with an unpaired UTF-16 surrogate has no UTF-8 form/, { context: { column: 'name', row: 2 } }],
    ['timestamp without offset in a zoned column', { ...good, at: [null, null, '2024-01-01T00:00:00'] }, /column "at" row 2: .*has no UTC offset/, { context: { column: 'at', row: 2 } }],
    ['timestamp with too much precision', { ...good, at: ['2024-01-01T00:00:00.0000001Z', null, null] }, /more precision than the column's unit/, { context: { row: 0 } }],
    ['number in timestamp column', { ...good, at: [1704067200000, null, null] }, /expected an ISO 8601 string or a Date/, { context: { column: 'at', row: 0 } }],
    ['string in float column', { ...good, score: [1, '2', 3] }, /column "score" row 1: expected a number/, { context: { column: 'score', row: 1 } }],
    ['bad list element', { ...good, tags: [['x'], [1], null] }, /column "tags" row 1: list element 0: expected a string/, { context: { column: 'tags', row: 1 } }],
  ];
  test.each(cases)('%s fails naming the column', (_name, data, message, fields) => {
    let err: unknown;
    try {
      fromDataFrame(frame(data), schema, { table: 'events' });
    } catch (e) {
      err = e;
    }
    expect(LakeSoulError.is(err, 'SchemaMismatch'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toMatch(/^table "events" /);
    expect(err).toMatchObject(fields);
  });

  test('extra columns can be ignored; missing nullable columns filled with nulls only when asked', () => {
    const t = fromDataFrame(frame({ ...good, extra: [1, 2, 3] }), schema, { extraColumns: 'ignore' });
    expect(t.numCols).toBe(5);
    const { name: _n, ...noName } = good;
    expect(raw(fromDataFrame(frame(noName), schema, { missingColumns: 'null' }), 'name')).toEqual([null, null, null]);
    const { id: _i, ...noId } = good;
    expect(() => fromDataFrame(frame(noId), schema, { missingColumns: 'null' })).toThrow(/column "id": missing from the DataFrame: it is not nullable/);
  });
});

describe('Danfo on converted frames', () => {
  test('groupby/describe work and large exact integers stay exact', async () => {
    const n = 1000;
    const ids = new BigInt64Array(n).map((_, i) => BigInt(i) + (1n << 40n));
    const keys = Array.from({ length: n }, (_, i) => ['a', 'b', 'c'][i % 3]);
    const t = tableOf([
      ['id', new A.Int64(), col(new A.Int64(), ids)],
      ['k', new A.Utf8(), utf8(keys)],
      ['v', new A.Float64(), col(new A.Float64(), Float64Array.from({ length: n }, (_, i) => i / 2))],
    ]);
    const df: AnyFrame = await toDataFrame(t, { dfd });
    const g = df.groupby(['k']).agg({ v: 'sum', id: 'count' });
    const rows = Object.fromEntries((g.values as unknown[][]).map((r) => [r[0], r.slice(1)]));
    expect(rows.a).toEqual([keys.reduce((s, k, i) => (k === 'a' ? s + i / 2 : s), 0), 334]);
    const d = df.describe();
    expect(d.columns).toEqual(['id', 'v']);
    expect(cells(df, 'id')[999]).toBe(2 ** 40 + 999);
    // A frame derived by Danfo converts back.
    const derived = df.query(df['k'].eq('b'));
    derived.addColumn('extra', derived['v'].mul(2), { inplace: true });
    const back = fromDataFrame(derived, t.schema, { extraColumns: 'ignore' });
    expect(back.numRows).toBe(333);
    expect(raw(back, 'id')[0]).toBe((1n << 40n) + 1n);
  });

  test('ISO timestamp strings work with Danfo\'s dt accessor', async () => {
    const t = tableOf([['at', TS.utcNs, col(TS.utcNs, new BigInt64Array([1710053999123456789n]))]]);
    const df: AnyFrame = await toDataFrame(t, { dfd });
    expect(df['at'].dt.year().values).toEqual([new Date(1710053999123).getFullYear()]);
  });

  test('arrowToColumns gives column-major values and dtypes without Danfo', () => {
    const c = arrowToColumns(allTypes().select(['i64', 'text']));
    expect(c).toEqual({ names: ['i64', 'text'], dtypes: ['int32', 'string'], numRows: 4, columns: [[0, 9007199254740991, -9007199254740991, null], ['héllo 🌍', '', null, 'x']] });
  });

  test('loadDanfo imports a module by default and rejects a non-module', async () => {
    const mod = await loadDanfo();
    expect(typeof mod.DataFrame).toBe('function');
    await expect(loadDanfo({} as DanfoModule)).rejects.toMatchObject({ kind: 'InvalidArgument' });
  });
});

describe('numeric nulls', () => {
  test("numericNulls: 'nan' gives NaN for null numbers (describe works) and writes back nulls", async () => {
    const t = tableOf([
      ['n', new A.Int32(), col(new A.Int32(), new Int32Array([1, 0, 3]), [true, false, true])],
      ['x', new A.Float64(), col(new A.Float64(), new Float64Array([1.5, 0, NaN]), [true, false, true])],
      ['s', new A.Utf8(), utf8(['a', null, 'c'])],
    ]);
    const df: AnyFrame = await toDataFrame(t, { dfd, numericNulls: 'nan' });
    expect(cells(df, 'n')).toEqual([1, NaN, 3]);
    expect(cells(df, 'x')).toEqual([1.5, NaN, NaN]);
    expect(cells(df, 's')).toEqual(['a', null, 'c']);
    expect(df.describe().columns).toEqual(['n', 'x']);
    const back = fromDataFrame(df, t.schema, { nan: 'null' });
    expect(raw(back, 'n')).toEqual([1, null, 3]);
    expect(raw(back, 'x')).toEqual([1.5, null, null]);
    // With the default (null cells), Danfo 1.2's describe() throws: documented in docs/dataframes.md.
    const plain: AnyFrame = await toDataFrame(t, { dfd });
    expect(() => plain.describe()).toThrow(/Cannot calculate mean/);
  });
});

test('invalid conversion options are refused naming the option', async () => {
  const t = tableOf([['n', new A.Int64(), col(new A.Int64(), new BigInt64Array([1n]))]]);
  await expect(toDataFrame(t, { dfd, int64: 'strng' as never })).rejects.toThrow(/option int64: "strng" is not one of 'error', 'string', 'number-unsafe'/);
  await expect(toDataFrame(t, { dfd, int64: { n: 'big' as never } })).rejects.toThrow(/option int64.n/);
  // a per-column int64 entry for a column the data lacks, or one without int64 values, was ignored silently
  await expect(toDataFrame(t, { dfd, int64: { m: 'string' } })).rejects.toMatchObject({
    kind: 'InvalidArgument', code: 'INVALID_OPTION_VALUE', context: { option: 'int64', column: 'm' },
    message: 'option int64: "m" is not a column of the data (its columns: "n")',
  });
  const listType = new A.List(new A.Field('item', new A.Int64(), true));
  const nested = tableOf([
    ['l', listType, col(listType, undefined, [true], { valueOffsets: new Int32Array([0, 1]), child: col(new A.Int64(), new BigInt64Array([9007199254740993n])) })],
    ['f', new A.Float64(), col(new A.Float64(), new Float64Array([1]))],
  ]);
  await expect(toDataFrame(nested, { dfd, int64: { f: 'string' } })).rejects.toMatchObject({
    code: 'INVALID_OPTION_VALUE', context: { column: 'f' }, message: expect.stringMatching(/option int64: column "f" of the data is Float64 and holds no int64\/uint64 values/),
  });
  // a list of int64 is a column the option applies to
  const df: AnyFrame = await toDataFrame(nested, { dfd, int64: { l: 'string' } });
  expect(df.values[0][0]).toEqual(['9007199254740993']);
  await expect(toDataFrame(t, { dfd, timestamps: 'iso' as never })).rejects.toMatchObject({ kind: 'InvalidArgument' });
  await expect(toDataFrame({} as never, { dfd })).rejects.toMatchObject({ kind: 'InvalidArgument' });
});

test('invalid write options are refused naming the option', () => {
  const schema = new A.Schema([new A.Field('n', new A.Int64(), true)]);
  expect(() => columnsToArrow({ n: [1] }, schema, { missingColumns: 'skip' as never })).toThrow(/option missingColumns: "skip"/);
  expect(() => columnsToArrow({ n: [1] }, schema, { nan: 'drop' as never })).toThrow(/option nan/);
});
