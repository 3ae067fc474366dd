// DataFrames through real LakeSoul tables: embedded PGlite catalog + Parquet files on local disk.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as A from 'apache-arrow';
import * as danfo from 'danfojs';
import { Lakehouse } from '@lakesoul-ts/io';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { readDataFrame, streamDataFrames, writeDataFrame } from './index.js';
import type { DanfoModule } from './index.js';

const dfd = danfo as unknown as DanfoModule;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFrame = any;

let dir: string;
let lake: Lakehouse;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'danfo-table-'));
  lake = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog'), env: {} }, warehouse: pathToFileURL(join(dir, 'warehouse')).href });
});
afterAll(async () => {
  await lake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const frame = (data: Record<string, unknown[]>): AnyFrame => {
  const names = Object.keys(data);
  const rows = data[names[0]].map((_, r) => names.map((k) => data[k][r]));
  return new danfo.DataFrame(rows, { columns: names, dtypes: names.map(() => 'string') });
};
const cells = (df: AnyFrame, name: string): unknown[] => {
  const j = df.columns.indexOf(name);
  expect(j, `column ${name}`).toBeGreaterThanOrEqual(0);
  return (df.values as unknown[][]).map((r) => r[j]);
};
const byId = (df: AnyFrame): Record<string, unknown[]> => {
  const out: Record<string, unknown[]> = {};
  for (const r of df.values as unknown[][]) out[String(r[0])] = r;
  return out;
};

const everyType = new A.Schema([
  new A.Field('id', new A.Int64(), false),
  new A.Field('big', new A.Int64(), true),
  new A.Field('n32', new A.Int32(), true),
  new A.Field('score', new A.Float64(), true),
  new A.Field('ok', new A.Bool(), true),
  new A.Field('name', new A.Utf8(), true),
  new A.Field('at_utc', new A.Timestamp(A.TimeUnit.MICROSECOND, 'UTC'), true),
  new A.Field('at_sh', new A.Timestamp(A.TimeUnit.MICROSECOND, 'Asia/Shanghai'), true),
  new A.Field('at_local', new A.Timestamp(A.TimeUnit.MICROSECOND), true),
  new A.Field('day', new A.DateDay(), true),
  new A.Field('price', new A.Decimal(4, 18, 128), true),
  new A.Field('tags', new A.List(new A.Field('element', new A.Utf8(), true)), true),
  new A.Field('blob', new A.Binary(), true),
]);
const everyRow = {
  id: [1, 2, 3],
  big: ['9223372036854775807', '-9007199254740993', null],
  n32: [-2147483648, null, 7],
  score: [0.1, null, -1e300],
  ok: [true, false, null],
  name: ['héllo', null, ''],
  at_utc: ['2024-03-10T06:59:59.123456Z', null, '1969-12-31T23:59:59.999999Z'],
  at_sh: ['2024-01-01T08:00:00.000001+08:00', '1970-01-01T08:00:00.000000+08:00', null],
  at_local: ['2024-03-10T02:30:00.000000', null, '2000-02-29T23:59:59.999999'],
  day: ['2024-02-29', '1969-12-31', null],
  price: ['12345678901234.5678', '-0.0001', null],
  tags: [['a', 'b'], [], null],
  blob: ['AAEC/w==', null, ''],
};

describe('DataFrames through a LakeSoul table (PGlite catalog, local disk)', () => {
  test('every type round-trips exactly: write, read back, same cells', async () => {
    const table = await lake.createTable('every_type', everyType, { primaryKeys: ['id'], hashBucketNum: 2 });
    const written = await writeDataFrame(frame(everyRow), table, { mode: 'upsert' });
    expect(written.rows).toBe(3);
    const df: AnyFrame = await readDataFrame(table, { dfd, int64: { big: 'string' }, binary: 'base64' });
    expect(df.columns).toEqual(everyType.fields.map((f) => f.name));
    const rows = byId(df);
    for (const [j, name] of df.columns.entries()) {
      for (let r = 0; r < 3; r++) {
        expect(rows[String(everyRow.id[r])][j], `${name} row ${r}`).toEqual((everyRow as Record<string, unknown[]>)[name][r]);
      }
    }
    // And the stored Arrow values are the exact ones (not via the connector's decoder).
    const arrow = await table.toArrow();
    const flat = (name: string): bigint[] => arrow.getChild(name)!.data.flatMap((d) => [...(d.values as BigInt64Array).subarray(0, d.length)]);
    const k = flat('id').indexOf(1n);
    expect(flat('big')[k]).toBe(9223372036854775807n);
    expect(flat('at_utc')[k]).toBe(1710053999123456n);
    expect(flat('at_sh')[k]).toBe(1704067200000001n);
    expect(String(arrow.schema.fields[7].type)).toBe('Timestamp<MICROSECOND, Asia/Shanghai>');
  });

  test('int64 beyond 2^53 read with the default mode fails naming column and scan row', async () => {
    const schema = new A.Schema([new A.Field('id', new A.Int64(), false), new A.Field('v', new A.Int64(), true)]);
    const table = await lake.createTable('big_ints', schema);
    const ids = Array.from({ length: 50 }, (_, i) => i);
    await writeDataFrame(frame({ id: ids, v: ids.map((i) => (i === 37 ? '9007199254740993' : i)) }), table, { mode: 'append' });
    const err = await readDataFrame(table, { dfd, batchSize: 10 }).catch((e: unknown) => e);
    expect(LakeSoulError.is(err)).toBe(true);
    expect(err).toMatchObject({ code: 'INT64_OUT_OF_RANGE', context: { table: 'big_ints', column: 'v', row: 37 } });
    expect((err as Error).message).toMatch(/table "big_ints" column "v" row 37/);
    let streamed = 0;
    const streamErr = await (async () => {
      for await (const df of streamDataFrames(table, { dfd, batchSize: 10 })) streamed += (df as AnyFrame).shape[0];
    })().catch((e: unknown) => e);
    expect(streamErr).toMatchObject({ code: 'INT64_OUT_OF_RANGE', context: { column: 'v', row: 37 } });
    expect(streamed).toBeGreaterThan(0);
    expect(streamed).toBeLessThanOrEqual(37);
    const ok: AnyFrame = await readDataFrame(table, { dfd, int64: { v: 'string' } });
    expect(cells(ok, 'v')[37]).toBe('9007199254740993');
    expect(cells(ok, 'id')[37]).toBe(37);
  });

  test('the per-column int64 option names columns of the table that hold int64 values (a misspelt one was ignored silently)', async () => {
    const schema = new A.Schema([new A.Field('id', new A.Int64(), false), new A.Field('v', new A.Int64(), true), new A.Field('k', new A.Utf8(), true)]);
    const table = await lake.createTable('int64_names', schema);
    await writeDataFrame(frame({ id: [1, 2], v: ['9007199254740993', 3], k: ['a', 'b'] }), table, { mode: 'append' });
    const unknown = await readDataFrame(table, { dfd, int64: { nosuch: 'string' } }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ kind: 'InvalidArgument', code: 'INVALID_OPTION_VALUE', context: { option: 'int64', column: 'nosuch', table: 'int64_names' } });
    expect((unknown as Error).message).toBe('option int64: "nosuch" is not a column of table "int64_names" (its columns: "id", "v", "k")');
    const streamed = await (async () => {
      for await (const _ of streamDataFrames(table, { dfd, int64: { V: 'string' } })) { /* refused before the first frame */ }
    })().catch((e: unknown) => e);
    expect(streamed).toMatchObject({ code: 'INVALID_OPTION_VALUE', context: { column: 'V' } });
    const notInt64 = await readDataFrame(table, { dfd, int64: { k: 'string' } }).catch((e: unknown) => e);
    expect(notInt64).toMatchObject({ code: 'INVALID_OPTION_VALUE', context: { option: 'int64', column: 'k' } });
    expect((notInt64 as Error).message).toMatch(/option int64: column "k" of table "int64_names" is Utf8 and holds no int64\/uint64 values/);
    // a column of the table the read projects away may be named (one options object for several reads)
    const projected: AnyFrame = await readDataFrame(table, { dfd, columns: ['id', 'k'], int64: { v: 'string' } });
    expect(projected.columns).toEqual(['id', 'k']);
    const ok: AnyFrame = await readDataFrame(table, { dfd, int64: { v: 'string', id: 'error' } });
    expect(cells(ok, 'v')).toContain('9007199254740993');
  });

  test('streamDataFrames yields one frame per batch and stops early', async () => {
    const schema = new A.Schema([new A.Field('id', new A.Int64(), false), new A.Field('k', new A.Utf8(), true)]);
    const table = await lake.createTable('streamed', schema);
    await writeDataFrame(frame({ id: Array.from({ length: 95 }, (_, i) => i), k: Array.from({ length: 95 }, (_, i) => `k${i % 4}`) }), table, { mode: 'append' });
    const sizes: number[] = [];
    const seen: unknown[] = [];
    for await (const df of streamDataFrames(table, { dfd, batchSize: 20 })) {
      sizes.push((df as AnyFrame).shape[0]);
      seen.push(...cells(df, 'id'));
    }
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(95);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(20);
    expect(sizes.length).toBeGreaterThanOrEqual(5);
    expect([...seen].sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 95 }, (_, i) => i));
    const aborted = AbortSignal.abort();
    await expect(readDataFrame(table, { dfd, signal: aborted })).rejects.toMatchObject({ kind: 'Aborted', context: { table: 'streamed' } });
    await expect(writeDataFrame(frame({ id: [1], k: ['x'] }), table, { signal: aborted })).rejects.toMatchObject({ kind: 'Aborted' });
    const controller = new AbortController();
    const stopped = (async () => {
      let n = 0;
      for await (const _df of streamDataFrames(table, { dfd, batchSize: 10, signal: controller.signal })) if (++n === 2) controller.abort();
      return n;
    })();
    await expect(stopped).rejects.toSatisfy((e: unknown) => LakeSoulError.is(e) && e.kind === 'Aborted');
    let frames = 0;
    for await (const _df of streamDataFrames(table, { dfd, batchSize: 20 })) {
      if (++frames === 2) break;
    }
    expect(frames).toBe(2);
  });

  test('scan options pass through: partitions, columns, version, timestamp, incremental (filter below)', async () => {
    const schema = new A.Schema([
      new A.Field('id', new A.Int64(), false),
      new A.Field('date', new A.Utf8(), false),
      new A.Field('v', new A.Float64(), true),
    ]);
    const table = await lake.createTable('parted', schema, { primaryKeys: ['id'], rangePartitions: ['date'], hashBucketNum: 1 });
    await writeDataFrame(frame({ id: [1, 2, 3, 4], date: ['d1', 'd1', 'd2', 'd2'], v: [1, 2, 3, 4] }), table);
    const between = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    await writeDataFrame(frame({ id: [1, 3], date: ['d1', 'd2'], v: [10, 30] }), table, { mode: 'upsert' });

    const d1: AnyFrame = await readDataFrame(table, { dfd, partitions: { date: 'd1' }, columns: ['id', 'v'] });
    expect(d1.columns).toEqual(['id', 'v']);
    expect(Object.fromEntries((d1.values as number[][]).map((r) => [r[0], r[1]]))).toEqual({ 1: 10, 2: 2 });
    const v0: AnyFrame = await readDataFrame(table, { dfd, partitions: { date: 'd1' }, version: 0 });
    expect(Object.fromEntries((v0.values as unknown[][]).map((r) => [r[0], r[2]]))).toEqual({ 1: 1, 2: 2 });
    const past: AnyFrame = await readDataFrame(table, { dfd, timestamp: between + 5 });
    expect(Object.fromEntries((past.values as unknown[][]).map((r) => [r[0], r[2]]))).toEqual({ 1: 1, 2: 2, 3: 3, 4: 4 });
    const changed: AnyFrame = await readDataFrame(table, { dfd, incremental: { start: between, end: Date.now() } });
    expect(Object.fromEntries((changed.values as unknown[][]).map((r) => [r[0], r[2]]))).toEqual({ 1: 10, 3: 30 });
    const none: AnyFrame = await readDataFrame(table, { dfd, partitions: { date: 'd9' } });
    expect(none.shape[0]).toBe(0);
    expect(none.columns).toEqual(['id', 'date', 'v']);
  });

  test('a row filter is pushed to the scan', async () => {
    const table = await lake.table('parted');
    const filtered: AnyFrame = await readDataFrame(table, { dfd, filter: 'v >= 4' });
    expect(cells(filtered, 'id').sort()).toEqual([1, 3, 4]);
    const empty: AnyFrame = await readDataFrame(table, { dfd, filter: { op: '>', column: 'v', value: 1000 } });
    expect(empty.shape[0]).toBe(0);
    expect(empty.columns).toEqual(['id', 'date', 'v']);
  });

  test('a bad cell commits nothing; partial upsert writes only the given columns', async () => {
    const schema = new A.Schema([
      new A.Field('id', new A.Int64(), false),
      new A.Field('label', new A.Utf8(), true),
      new A.Field('score', new A.Float64(), true),
    ]);
    const table = await lake.createTable('guarded', schema, { primaryKeys: ['id'], hashBucketNum: 1 });
    await writeDataFrame(frame({ id: [1, 2], label: ['a', 'b'], score: [0.5, 0.25] }), table);
    const before = await table.history();
    const rows = Array.from({ length: 1000 }, (_, i) => i + 10);
    const bad = frame({ id: rows, label: rows.map(String), score: rows.map((i) => (i === 1009 ? 'high' : i / 2)) });
    const err = await writeDataFrame(bad, table, { mode: 'upsert' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'SchemaMismatch', code: 'DATAFRAME_TYPE_MISMATCH', context: { table: 'guarded', column: 'score', row: 999 } });
    expect(await table.history()).toEqual(before);
    const after: AnyFrame = await readDataFrame(table, { dfd });
    expect(after.shape[0]).toBe(2);
    await expect(writeDataFrame(frame({ id: [1], label: ['x'] }), table)).rejects.toMatchObject({ code: 'DATAFRAME_COLUMN_MISSING', context: { column: 'score' } });

    await writeDataFrame(frame({ id: [2], score: [0.75] }), table, { mode: 'upsert', missingColumns: 'partial' });
    const merged = byId(await readDataFrame(table, { dfd }));
    expect(merged['2']).toEqual([2, 'b', 0.75]);
    expect(merged['1']).toEqual([1, 'a', 0.5]);
  });

  test("a frame read with numericNulls: 'nan' and written back: a warning names nan: 'null', which restores the nulls", async () => {
    const schema = new A.Schema([new A.Field('id', new A.Int32(), false), new A.Field('x', new A.Float64(), true)]);
    const table = await lake.createTable('nan_nulls', schema);
    await writeDataFrame(frame({ id: [1, 2, 3], x: [1.5, null, 3] }), table, { mode: 'append' });
    const nullsOf = async () => (await table.toArrow()).getChild('x')!.nullCount;
    expect(await nullsOf()).toBe(1);
    const warnings: string[] = [];
    const df: AnyFrame = await readDataFrame(table, { dfd, numericNulls: 'nan' });
    // without `nan`: NaN is a float value, so the null becomes NaN; a warning says so and names the fix
    await writeDataFrame(df, table, { mode: 'overwrite', onWarning: (m) => warnings.push(m) });
    expect(await nullsOf()).toBe(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/read with numericNulls: 'nan', so nulls of its float columns \(x\) are NaN.*pass nan: 'null' to write them back as nulls/);
    // with nan: 'null' the null comes back (and no warning)
    await writeDataFrame(frame({ id: [1, 2, 3], x: [1.5, null, 3] }), table, { mode: 'overwrite' });
    const again: AnyFrame = await readDataFrame(table, { dfd, numericNulls: 'nan' });
    await writeDataFrame(again, table, { mode: 'overwrite', nan: 'null', onWarning: (m) => warnings.push(m) });
    expect(await nullsOf()).toBe(1);
    expect(warnings).toHaveLength(1);
    // frames read with the default null cells are written back as they are, silently
    await writeDataFrame(await readDataFrame(table, { dfd }), table, { mode: 'overwrite', onWarning: (m) => warnings.push(m) });
    expect(await nullsOf()).toBe(1);
    expect(warnings).toHaveLength(1);
  });
  test('float values beyond the column type are refused as table.write refuses them (1e39 was stored in float32 as Infinity), committing nothing', async () => {
    const schema = new A.Schema([new A.Field('id', new A.Int32(), false), new A.Field('x', new A.Float32(), true)]);
    const table = await lake.createTable('float_range', schema);
    for (const [x, why] of [[1e39, 'beyond Float32'], [-3.5e38, 'beyond Float32'], [16777217n, 'not exactly representable as Float32']] as const) {
      const e = await writeDataFrame(frame({ id: [1, 2], x: [0.5, x] }), table, { mode: 'append' }).then(() => null, (err: unknown) => err);
      expect(e, String(x)).toBeInstanceOf(LakeSoulError);
      expect((e as LakeSoulError).message).toContain(why);
      expect((e as LakeSoulError).context).toMatchObject({ column: 'x', row: 1 });
    }
    expect((await table.toArrow()).numRows).toBe(0);
    // the nearest float32 of a value inside the range, infinities and NaN as given
    await writeDataFrame(frame({ id: [1, 2, 3], x: [0.1, Infinity, 3.4e38] }), table, { mode: 'append' });
    expect((await table.toArrow()).getChild('x')!.toArray()).toEqual(Float32Array.from([0.1, Infinity, 3.4e38]));
  });

  test("missingColumns: 'partial' on a table without a primary key is refused (it appended every row again, the left-out columns null)", async () => {
    const table = await lake.createTable('partial_nokey', [{ id: 1, score: 0.5, note: 'keep me' }, { id: 2, score: 0.9, note: 'keep me too' }]);
    const df: AnyFrame = await readDataFrame(table, { dfd, columns: ['id', 'score'] });
    const e = await writeDataFrame(df, table, { missingColumns: 'partial' }).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(LakeSoulError);
    expect(e).toMatchObject({ kind: 'InvalidArgument', context: { table: 'partial_nokey', option: 'missingColumns' } });
    expect((e as LakeSoulError).message).toMatch(/missingColumns 'partial' is a partial upsert, and the table has no primary key, so its rows would be appended again with "note" null/);
    expect((await table.toArrow()).numRows).toBe(2);
    // every column given: an ordinary append
    await writeDataFrame(await readDataFrame(table, { dfd }), table, { missingColumns: 'partial' });
    expect((await table.toArrow()).numRows).toBe(4);
  });
});
