import { describe, expect, it } from 'vitest';
import { Vector, Binary, Bool, DateDay, DateMillisecond, Dictionary, Float32, Float64, Int16, Int32, Int64, Int8, LargeBinary, LargeUtf8, Table, TimeMillisecond, TimeUnit, Timestamp, Uint8, Utf8, makeBuilder, tableFromIPC, tableToIPC, vectorFromArray, type DataType, type RecordBatch } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { constantColumn, formatDate, parseRangeValue, rangeValueCodes, rangeValueText } from './partition-values.js';
import { rebatch } from './scan-plan.js';
import { BEST_EFFORT_FAILURES, dataFileUri, deleteUrisBestEffort, partitionDir, randomAlnum16 } from './table-context.js';
import { MemoryStore, StoreRegistry } from '../store/index.js';
import { OBJECT_STORE_METHODS, type ObjectStore } from '../types.js';
import { nativeDataFileUri, partitionDirName, storedLocation } from './data-file-paths.js';

async function* batchesOf(sizes: number[]): AsyncGenerator<RecordBatch> {
  let k = 0;
  for (const n of sizes) {
    const t = new Table({ x: vectorFromArray(Array.from({ length: n }, () => k++), new Int32()) });
    yield t.batches[0];
  }
}

async function collect(it: AsyncIterable<RecordBatch>): Promise<{ sizes: number[]; values: number[] }> {
  const sizes: number[] = [];
  const values: number[] = [];
  for await (const b of it) {
    sizes.push(b.numRows);
    for (let i = 0; i < b.numRows; i++) values.push(b.getChild('x')!.get(i) as number);
  }
  return { sizes, values };
}

describe('rebatch', () => {
  it('keeps order, caps batches at batchSize and gathers small fragments', async () => {
    const r = await collect(rebatch(batchesOf([3, 2, 10, 25, 1, 1, 4]), 8));
    expect(r.values).toEqual(Array.from({ length: 46 }, (_, i) => i));
    expect(Math.max(...r.sizes)).toBeLessThanOrEqual(8);
    expect(r.sizes.slice(0, -1).every((n) => n >= 4)).toBe(true);
    expect(r.sizes.reduce((a, b) => a + b, 0)).toBe(46);
  });
  it('passes big batches through as slices', async () => {
    const r = await collect(rebatch(batchesOf([20]), 8));
    expect(r.sizes).toEqual([8, 8, 4]);
  });
});

describe('range values', () => {
  it('formats and parses per type', () => {
    expect(formatDate(Date.UTC(2024, 0, 5))).toBe('2024-01-05');
    expect(rangeValueText(Date.UTC(2024, 1, 29), new DateDay())).toBe('2024-02-29');
    expect(rangeValueText(12n, new Int64())).toBe('12');
    expect(rangeValueText(true, new Bool())).toBe('true');
    expect(rangeValueText(null, new Utf8())).toBeNull();
    expect(parseRangeValue('9007199254740993', new Int64(), 'k')).toBe(9007199254740993n);
    expect(() => parseRangeValue('x', new Int32(), 'k')).toThrow(LakeSoulError);
  });
  it('timestamps: micro/nanoseconds exact in LakeSoul\'s text, milliseconds read as UTC whatever the local zone', () => {
    const us = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
    expect(rangeValueText(1704067200123456n, us)).toBe('2024-01-01T00:00:00.123456');
    expect(rangeValueText(1704067200123456789n, new Timestamp(TimeUnit.NANOSECOND))).toBe('2024-01-01T00:00:00.123456789');
    expect(parseRangeValue('2024-01-01T00:00:00.123456', us, 'ts')).toBe(1704067200123456n);
    expect(parseRangeValue('2024-01-01T00:00:00.123000Z', us, 'ts')).toBe(1704067200123000n);
    expect(() => parseRangeValue('2024-01-01T00:00:00.1234567', us, 'ts')).toThrow(/range value .* of column 'ts' does not parse/);
    const zone = process.env.TZ;
    process.env.TZ = 'Asia/Kathmandu';
    try {
      const ms = new Timestamp(TimeUnit.MILLISECOND);
      for (const text of ['2024-01-01T00:00:00.123', '2024-01-01T00:00:00.123Z']) {
        expect((parseRangeValue(text, ms, 'ts') as Date).getTime(), text).toBe(Date.UTC(2024, 0, 1, 0, 0, 0, 123));
      }
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });
  it('builds typed constant columns (re-injected range columns)', () => {
    const d = constantColumn(new DateDay(), '2024-03-01', 3, 'day');
    expect(d.length).toBe(3);
    expect(d.get(2)).toBe(Date.UTC(2024, 2, 1));
    const n = constantColumn(new Int64(), null, 2, 'k');
    expect(n.get(0)).toBeNull();
    expect(n.nullCount).toBe(2);
    const s = constantColumn(new Utf8(), '', 1, 's');
    expect(s.get(0)).toBe('');
  });
  it('builds constant columns equal to a builder appending the value per row, for every range type', () => {
    const cases: [DataType, (string | null)[]][] = [
      [new Utf8(), ['2024-01-01', '', 'ünïcode', null]],
      [new LargeUtf8(), ['abc', '', null]],
      [new Binary(), ['6279746573', '', '00ff', null]],
      [new LargeBinary(), ['78797a', null]],
      [new Bool(), ['true', 'false', null]],
      [new Int8(), ['-7', null]], [new Int16(), ['300', null]], [new Int32(), ['-123456', null]], [new Uint8(), ['200', null]],
      [new Int64(), ['-9007199254740993', null]],
      [new Float32(), ['1.5', null]], [new Float64(), ['-0.125', null]],
      [new DateDay(), ['2024-03-01', null]], [new DateMillisecond(), ['1999-12-31', null]],
      [new TimeMillisecond(), ['12:34:56.789', null]],
      [new Timestamp(TimeUnit.MILLISECOND), ['2024-01-01T00:00:00.123', null]],
      [new Dictionary(new Utf8(), new Int32()), ['red', null]],
    ];
    for (const [type, texts] of cases) {
      for (const text of texts) {
        for (const n of [0, 1, 7, 8, 9, 1000]) {
          const what = `${String(type)} ${JSON.stringify(text)} x${n}`;
          const got = constantColumn(type, text, n, 'c');
          const b = makeBuilder({ type, nullValues: [null, undefined] });
          const value = parseRangeValue(text, type, 'c');
          for (let i = 0; i < n; i++) b.append(value);
          const want = b.finish().toVector();
          expect(got.length, what).toBe(n);
          expect(got.nullCount, what).toBe(text === null ? n : 0);
          expect(String(got.type), what).toBe(String(type));
          // through Arrow IPC, as Flight and toArrow hand it on: the buffers, not only the getters
          const back = tableFromIPC(tableToIPC(new Table({ c: got }))).getChild('c')!;
          for (let i = 0; i < n; i++) {
            const w = want.get(i);
            expect(got.get(i), `${what} row ${i}`).toEqual(w);
            expect(back.get(i), `${what} row ${i} after IPC`).toEqual(w);
          }
        }
      }
    }
  });
});

describe('float range values', () => {
  // What LakeSoul's Rust engine (the lakesoul 2.0.0 wheel) writes into partition_desc for these values,
  // read from its catalog (e2e/interop/lakesoul-python.test.ts 5f writes them through the wheel).
  const wheel: [number, string, string][] = [
    // value, float64 text, float32 text
    [1, '1', '1'],
    [100, '100', '100'],
    [2.5, '2.5', '2.5'],
    [0.1, '0.1', '0.1'],
    [0.3, '0.3', '0.3'],
    [0.30000000000000004, '0.30000000000000004', '0.3'],
    [1e21, '1000000000000000000000', '1000000000000000000000'],
    [1e-7, '0.0000001', '0.0000001'],
    [1.5e-5, '0.000015', '0.000015'],
    [2.5e15, '2500000000000000', '2500000000000000'],
    [123456789012.5, '123456789012.5', '123456790000'],
    [16777217, '16777217', '16777216'],
    [-0, '-0', '-0'],
    [0, '0', '0'],
    [Infinity, 'inf', 'inf'],
    [-Infinity, '-inf', '-inf'],
    [NaN, 'NaN', 'NaN'],
  ];
  it('are written as LakeSoul writes them: fewest digits of the column width, no exponent, inf, -0', () => {
    for (const [value, f64, f32] of wheel) {
      expect(rangeValueText(value, new Float64()), `float64 ${value}`).toBe(f64);
      expect(rangeValueText(Math.fround(value), new Float32()), `float32 ${value}`).toBe(f32);
    }
    expect(rangeValueText(-1.25e-9, new Float64())).toBe('-0.00000000125');
    expect(rangeValueText(-3.5e22, new Float64())).toBe('-35000000000000000000000');
  });
  it('read back as the same value, and as other engines wrote them (Java: Infinity, 1.0E21)', () => {
    for (const [value, f64, f32] of wheel) {
      expect(Object.is(parseRangeValue(f64, new Float64(), 'x'), value) || (Number.isNaN(value) && Number.isNaN(parseRangeValue(f64, new Float64(), 'x') as number)), f64).toBe(true);
      const back = parseRangeValue(f32, new Float32(), 'x') as number;
      expect(Object.is(Math.fround(back), Math.fround(value)) || Number.isNaN(value), f32).toBe(true);
    }
    expect(parseRangeValue('Infinity', new Float64(), 'x')).toBe(Infinity);
    expect(parseRangeValue('-Infinity', new Float64(), 'x')).toBe(-Infinity);
    expect(parseRangeValue('1.0E21', new Float64(), 'x')).toBe(1e21);
    expect(parseRangeValue('1e+21', new Float64(), 'x')).toBe(1e21); // lakesoul-ts before it wrote LakeSoul's text
    expect(() => parseRangeValue('', new Float64(), 'x')).toThrow(/range value '' of column 'x' does not parse/);
    expect(() => parseRangeValue('infinite', new Float64(), 'x')).toThrow(LakeSoulError);
  });
  it('-0 and 0 are two range values, NaN one', () => {
    const { codes, distinct } = rangeValueCodes(vectorFromArray([0, -0, -0, 0, NaN, NaN, 1], new Float64()));
    expect(Array.from(codes)).toEqual([0, 1, 1, 0, 2, 2, 3]);
    expect(distinct.map((x) => rangeValueText(x, new Float64()))).toEqual(['0', '-0', 'NaN', '1']);
  });
});

describe('range value codes', () => {
  it('give each distinct value (null included) one code, in first-occurrence order, for bytes compared as bytes', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const pool = ['2024-01-01', '2024-01-02', '', 'é', 'ab', 'ba', 'a', '2024-01-01 ', '\u0000'];
    const texts = Array.from({ length: 5000 }, (_, i) => (i % 97 === 0 ? null : rnd() < 0.3 && i > 0 ? 'RUN' : pool[Math.floor(rnd() * pool.length)]));
    const bytes = texts.map((t) => (t === null ? null : new TextEncoder().encode(t)));
    const whole = vectorFromArray(texts, new Utf8());
    const cases: [string, Vector][] = [
      ['utf8', whole],
      ['utf8 in three chunks, one sliced', new Vector([...whole.slice(0, 1000).data, ...whole.slice(1003, 4000).data, ...whole.slice(4000).data]).slice(0)],
      ['large utf8', vectorFromArray(texts, new LargeUtf8())],
      ['binary', vectorFromArray(bytes, new Binary())],
      ['int32', vectorFromArray(texts.map((t) => (t === null ? null : t.length)), new Int32())],
    ];
    for (const [what, v] of cases) {
      const { codes, distinct } = rangeValueCodes(v);
      expect(codes.length, what).toBe(v.length);
      const keyOf = (x: unknown) => (x instanceof Uint8Array ? `b:${Array.from(x).join(',')}` : JSON.stringify(x));
      const want: string[] = [];
      for (let i = 0; i < v.length; i++) {
        const k = keyOf(v.get(i));
        if (!want.includes(k)) want.push(k);
        expect(keyOf(distinct[codes[i]]), `${what} row ${i}`).toBe(k);
      }
      expect(distinct.map(keyOf), what).toEqual(want);
    }
  });
});

describe('file names', () => {
  it('follow <table>/<k=v>/.../part-<16 alnum>_<bucket:04>.parquet', () => {
    expect(randomAlnum16()).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(partitionDir('a=1,b=x', ['a', 'b'])).toBe('a=1/b=x');
    expect(partitionDir('-5', [])).toBe('');
    expect(dataFileUri('s3://b/t', 'a=1,b=x', ['a', 'b'], 7)).toMatch(/^s3:\/\/b\/t\/a=1\/b=x\/part-[A-Za-z0-9]{16}_0007\.parquet$/);
    expect(dataFileUri('file:///w/t', '-5', [], 0)).toMatch(/^file:\/\/\/w\/t\/part-[A-Za-z0-9]{16}_0000\.parquet$/);
  });

  it('partition directories survive URL parsing: characters it changes are written ~HH, injectively', () => {
    expect(partitionDir('p=a?b,q=c#d', ['p', 'q'])).toBe('p=a~3Fb/q=c~23d');
    expect(partitionDirName('p', 'tab\there\nx\r%41\\/~')).toBe('p=tab~09here~0Ax~0D~2541~5C~2F~7E');
    // spaces, non-ASCII and other punctuation survive parsing and stay as they are
    expect(partitionDirName('p', 'sp ace é日本 +;&:"*[]')).toBe('p=sp ace é日本 +;&:"*[]');
    const values = ['a?b', 'a~3Fb', 'a#b', 'a%3Fb', 'a/b', 'a\\b', 'a\tb', 'ab', '..', '.'];
    const names = values.map((v) => partitionDirName('p', v));
    expect(new Set(names).size).toBe(values.length);
    for (const n of names) {
      const uri = `file:///w/t/${n}/part-x_0000.parquet`;
      expect(nativeDataFileUri(uri)).toBe(uri);
      expect(nativeDataFileUri(`s3://b/t/${n}/part-x_0000.parquet`)).toBe(`s3://b/t/${n}/part-x_0000.parquet`);
    }
  });

  it('stored paths resolve as LakeSoul\'s native IO parses them', () => {
    const base = 'file:///w/t/p=';
    expect(nativeDataFileUri(`${base}tab\there/f.parquet`)).toBe('file:///w/t/p=tabhere/f.parquet');
    expect(nativeDataFileUri(`${base}nl\nx\r/f.parquet`)).toBe('file:///w/t/p=nlx/f.parquet');
    expect(nativeDataFileUri(`${base}pct%41x/f.parquet`)).toBe('file:///w/t/p=pctAx/f.parquet');
    expect(nativeDataFileUri(`${base}pct%zz/f.parquet`)).toBe('file:///w/t/p=pct%zz/f.parquet');
    expect(nativeDataFileUri(`${base}q?x/f.parquet`)).toBe('file:///w/t/p=q');
    expect(nativeDataFileUri(`${base}h#x/f.parquet`)).toBe('file:///w/t/p=h');
    expect(nativeDataFileUri(`${base}back\\slash/f.parquet`)).toBe('file:///w/t/p=back/slash/f.parquet');
    expect(nativeDataFileUri('s3://b/t/p=back\\slash/f.parquet')).toBe('s3://b/t/p=back\\slash/f.parquet');
    expect(nativeDataFileUri(`${base}%C3%A9/f.parquet`)).toBe('file:///w/t/p=é/f.parquet');
    expect(nativeDataFileUri('file:///w/t/a/../b/./f.parquet')).toBe('file:///w/t/b/f.parquet');
    expect(nativeDataFileUri('/w/t/p=q?x/f.parquet')).toBe('/w/t/p=q?x/f.parquet');
    // no slash after the scheme: a path to a URL parser for file:, opaque (no location) for the rest
    expect(nativeDataFileUri('file:w/t/f.parquet')).toBe('file:///w/t/f.parquet');
    expect(nativeDataFileUri('file:/w/./t/f.parquet')).toBe('file:///w/t/f.parquet');
    expect(nativeDataFileUri('s3:b/t/f.parquet')).toBe('s3:b/t/f.parquet');
  });

  it('a table path or warehouse is a location URL, stored as the engines read it', () => {
    const stored = (uri: string) => storedLocation(uri, 'path', 'INVALID_TABLE_PATH');
    expect(stored('file:tmp/lake')).toBe('file:///tmp/lake');
    expect(stored('file:/tmp/lake')).toBe('file:///tmp/lake');
    expect(stored('s3://b/wh')).toBe('s3://b/wh');
    for (const opaque of ['my:lake', 's3:bucket/x', 'C:\\lake', 'lake:1']) {
      expect(() => stored(opaque)).toThrow(expect.objectContaining({ code: 'INVALID_TABLE_PATH', message: expect.stringContaining(`path '${opaque}' is not a location URL`) }));
    }
  });
});

describe('inputBatches', () => {
  it('takes batches larger than WRITE_SLICE_ROWS in zero-copy slices (a null column of many rows is an empty IPC body)', async () => {
    const { inputBatches, WRITE_SLICE_ROWS } = await import('./table-writer.js');
    const { Null, RecordBatch: Batch, Schema, Field, makeData, Struct } = await import('apache-arrow');
    const n = WRITE_SLICE_ROWS * 2 + 5;
    const nulls = makeData({ type: new Null(), length: n });
    const batch = new Batch(new Schema([new Field('a', new Null(), true)]), makeData({ type: new Struct([new Field('a', new Null(), true)]), length: n, children: [nulls] }));
    const sizes: number[] = [];
    for await (const b of inputBatches(batch)) sizes.push(b.numRows);
    expect(sizes).toEqual([WRITE_SLICE_ROWS, WRITE_SLICE_ROWS, 5]);
    const small: number[] = [];
    for await (const b of inputBatches(batch.slice(0, 10))) small.push(b.numRows);
    expect(small).toEqual([10]);
  });
});

describe('deleteUrisBestEffort', () => {
  /** A memory store registered as `mem://b` whose deletes of the keys `refused` says fail. */
  async function setUp(keys: string[], refused: (key: string) => boolean) {
    const store = new MemoryStore();
    for (const k of keys) await store.put(k, new Uint8Array([1]));
    const attempts: string[] = [];
    const failing = Object.fromEntries(OBJECT_STORE_METHODS.map((m) => [m, (store[m] as (...a: unknown[]) => unknown).bind(store)])) as unknown as ObjectStore;
    (failing as { delete: ObjectStore['delete'] }).delete = async (key, options) => {
      attempts.push(key);
      if (refused(key)) throw new LakeSoulError('PermissionDenied', `delete ${key} refused`);
      return store.delete(key, options);
    };
    (failing as { description: string }).description = 'mem://b/';
    const stores = new StoreRegistry().register('mem://b', failing);
    const left = async () => { const out: string[] = []; for await (const m of store.list('')) out.push(m.path); return out.sort(); };
    return { stores, attempts, left };
  }

  it('deletes every object it can when one delete fails: only that one is left', async () => {
    const keys = Array.from({ length: 25 }, (_, i) => `t/f${String(i).padStart(2, '0')}`);
    const { stores, left } = await setUp(keys, (k) => k === 't/f03');
    await deleteUrisBestEffort(stores, keys.map((k) => `mem://b/${k}`));
    expect(await left()).toEqual(['t/f03']);
  });

  it('gives a store up once its deletes keep failing (it is down), without throwing', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `t/f${String(i).padStart(3, '0')}`);
    const { stores, attempts, left } = await setUp(keys, () => true);
    await deleteUrisBestEffort(stores, keys.map((k) => `mem://b/${k}`));
    expect((await left()).length).toBe(200);
    // each of the tries stops at its first failure (10 deletes in flight): far fewer than one per object
    expect(attempts.length).toBeLessThanOrEqual(BEST_EFFORT_FAILURES * 10);
  });
});

describe('rerunnableRebase', () => {
  it('makes a commit that cannot be rebased retryable (the call reads the table anew), and leaves other errors alone', async () => {
    const { rerunnableRebase } = await import('./table-writer.js');
    const { LakeSoulError } = await import('@lakesoul-ts/meta');
    const rebase = new LakeSoulError('Conflict', "DeleteCommit to table 'default.t' partition 'p=x' conflicts with MergeCommit version 7", { code: 'COMMIT_REBASE_FAILED', retryable: false, context: { table: 'default.t' } });
    const e = rerunnableRebase(rebase) as InstanceType<typeof LakeSoulError>;
    expect(e).toMatchObject({ kind: 'Conflict', code: 'COMMIT_REBASE_FAILED', retryable: true, context: { table: 'default.t' } });
    expect(e.message).toContain('the call can be run again as it is');
    const other = new LakeSoulError('Conflict', 'x', { code: 'SCHEMA_CHANGED', retryable: true });
    expect(rerunnableRebase(other)).toBe(other);
  });
});
