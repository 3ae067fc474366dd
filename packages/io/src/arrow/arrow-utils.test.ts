import { describe, expect, it, onTestFinished } from 'vitest';
import { existsSync } from 'node:fs';
import { NATIVE_PARQUET_ADDON, PARQUET_CODEC_ENV } from '../native/native-addon.js';
import {
  DateDay, DateMillisecond, Dictionary, Field, FixedSizeList, Float32, Float64, Int8, Int16, Int32, Int64, LargeUtf8, List,
  RecordBatch, Schema, Struct, Table, TimeUnit, Timestamp, Uint8, Uint32, Uint64, Utf8, makeData, makeVector, vectorFromArray, type DataType, type Vector,
} from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import {
  castData, comparePkRows, concatBatches, gatherData, matchWords, nullColumn, projectBatch, sliceBatch, sortIndicesByPk, takeRows,
  validateAgainstSchema,
} from './index.js';
import { plainRows, sampleAllTypesTable, seededRandom } from './sample-tables.js';

const sample = sampleAllTypesTable(300, 7);

/**
 * Up to 1200 random row selectors into sources of `lengths` rows: a source index of `bits` bits when
 * there are several, 8% null selectors (-1), and with probability `runs` the row after the previous
 * one of the same source.
 */
function randomSelectors(rnd: () => number, lengths: number[], bits: number, runs: number): { src: Uint8Array | Uint32Array | null; rows: Int32Array } {
  const total = Math.floor(rnd() * 1200);
  const src = lengths.length > 1 ? (bits === 8 ? new Uint8Array(total) : new Uint32Array(total)) : null;
  const rows = new Int32Array(total);
  for (let i = 0; i < total; i++) {
    const s = src === null ? 0 : Math.floor(rnd() * lengths.length);
    if (src !== null) src[i] = s;
    const len = lengths[s];
    const prev = i > 0 && (src === null || src[i - 1] === s) ? rows[i - 1] : -2;
    rows[i] = rnd() < 0.08 ? -1 : prev >= 0 && prev + 1 < len && rnd() < runs ? prev + 1 : Math.floor(rnd() * len);
  }
  return { src, rows };
}

describe('gatherData of strings', () => {
  // utf8 gathers of 256 rows or more with a 32-bit source index go to the native addon when it is
  // built (LAKESOUL_PARQUET_CODEC=wasm keeps them in JavaScript)
  const codecs = existsSync(NATIVE_PARQUET_ADDON) ? ['native', 'wasm'] : ['wasm'];
  const cases = [
    ['utf8', new Utf8()],
    ['large utf8', new LargeUtf8()],
  ] as const;
  it.each(cases.flatMap(([name, type]) => codecs.flatMap((codec) => [[name, type, codec, 8], [name, type, codec, 32]] as const)))('equals a row-by-row gather (%s as %s, %s build, %i-bit source index): several sources (sliced, with nulls), runs of consecutive rows, null selectors', (_name, type, codec, bits) => {
    process.env[PARQUET_CODEC_ENV] = codec;
    onTestFinished(() => {
      delete process.env[PARQUET_CODEC_ENV];
    });
    const rnd = seededRandom(11);
    for (let round = 0; round < 40; round++) {
      const sources = Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, s) => {
        const n = 1 + Math.floor(rnd() * 200);
        const values = Array.from({ length: n }, (_, i) => (rnd() < 0.1 ? null : `s${s}-${i}-${'x'.repeat(Math.floor(rnd() * (rnd() < 0.1 ? 100 : 6)))}`));
        const whole = vectorFromArray(values, type).data[0];
        const from = Math.floor(rnd() * Math.min(5, n));
        return { data: whole.slice(from, n - from), values: values.slice(from) };
      });
      const { src, rows } = randomSelectors(rnd, sources.map((x) => x.data.length), bits, 0.6);
      const got = makeVector(gatherData(type, sources.map((x) => x.data), src, rows));
      const want = Array.from(rows, (r, i) => (r < 0 ? null : sources[src === null ? 0 : src[i]].values[r]));
      expect(got.toArray()).toEqual(want);
    }
  });
});

describe('gatherData of fixed-width values', () => {
  // gathers of 256 rows or more with a 32-bit source index go to the native addon when it is built
  const codecs = existsSync(NATIVE_PARQUET_ADDON) ? ['native', 'wasm'] : ['wasm'];
  const cases: [string, DataType, (r: () => number) => unknown][] = [
    ['int64', new Int64(), (r) => BigInt(Math.floor(r() * 2 ** 40) - 2 ** 39) * 4099n],
    ['float64', new Float64(), (r) => r() * 1e6 - 5e5],
    ['int32', new Int32(), (r) => Math.floor(r() * 2 ** 32) - 2 ** 31],
    ['int8', new Int8(), (r) => Math.floor(r() * 256) - 128],
    ['timestamp[ms]', new Timestamp(TimeUnit.MILLISECOND), (r) => Math.floor(r() * 4e12)],
  ];
  it.each(cases.flatMap(([name, type, gen]) => codecs.flatMap((codec) => [[name, type, gen, codec, 8], [name, type, gen, codec, 32]] as const)))('equals a row-by-row gather (%s, %s build, %i-bit source index): several sources (sliced, with nulls), null selectors', (_name, type, gen, codec, bits) => {
    process.env[PARQUET_CODEC_ENV] = codec;
    onTestFinished(() => {
      delete process.env[PARQUET_CODEC_ENV];
    });
    const rnd = seededRandom(12);
    for (let round = 0; round < 30; round++) {
      const sources = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => {
        const n = 1 + Math.floor(rnd() * 300);
        const values = Array.from({ length: n }, () => (rnd() < 0.1 ? null : gen(rnd)));
        const whole = vectorFromArray(values as never[], type).data[0];
        const from = Math.floor(rnd() * Math.min(5, n));
        return { data: whole.slice(from, n - from), vector: makeVector(whole.slice(from, n - from)) };
      });
      const { src, rows } = randomSelectors(rnd, sources.map((x) => x.data.length), bits, 0);
      const total = rows.length;
      const got = makeVector(gatherData(type, sources.map((x) => x.data), src, rows));
      const want = Array.from(rows, (r, i) => (r < 0 ? null : sources[src === null ? 0 : src[i]].vector.get(r)));
      expect(Array.from({ length: total }, (_, i) => got.get(i))).toEqual(want);
    }
  });
});

describe('takeRows / concatBatches / slice / project', () => {
  it('takes arbitrary rows of every type, with repeats', () => {
    const rnd = seededRandom(3);
    const idx = Array.from({ length: 500 }, () => Math.floor(rnd() * 300));
    const out = takeRows(sample, idx);
    const all = plainRows(sample);
    expect(out.numRows).toBe(500);
    expect(plainRows(out)).toEqual(idx.map((i) => all[i]));
    expect(out.schema.fields.map((f) => String(f.type))).toEqual(sample.schema.fields.map((f) => String(f.type)));
  });

  it('takes from sliced batches (offsets into bitmaps, bools, lists, structs)', () => {
    const b = sample.batches[0].slice(13, 200);
    const all = plainRows(b);
    const idx = [5, 0, 186, 77, 77, 3];
    expect(plainRows(takeRows(b, idx))).toEqual(idx.map((i) => all[i]));
  });

  it('concatenates batches (including sliced and empty) and takes across a multi-batch table', () => {
    const b = sample.batches[0];
    const parts = [b.slice(0, 10), b.slice(10, 10), b.slice(10, 123), b.slice(123, 300)];
    const c = concatBatches(parts);
    expect(plainRows(c)).toEqual(plainRows(b));
    const t = new Table(parts);
    expect(plainRows(takeRows(t, [299, 0, 150, 10]))).toEqual([299, 0, 150, 10].map((i) => plainRows(b)[i]));
    expect(() => takeRows(t, [300])).toThrow(LakeSoulError);
  });

  it('slices and projects', () => {
    const b = sample.batches[0];
    expect(plainRows(sliceBatch(b, 290, 50))).toEqual(plainRows(b).slice(290));
    const p = projectBatch(b, ['s', 'id']);
    expect(p.schema.fields.map((f) => f.name)).toEqual(['s', 'id']);
    expect(p.getChild('id')!.get(3)).toBe(b.getChild('id')!.get(3));
    expect(() => projectBatch(b, ['nope'])).toThrow(/nope/);
  });

  it('builds all-null columns of every type', () => {
    for (const f of sample.schema.fields) {
      const v = nullColumn(f, 5);
      expect(v.length).toBe(5);
      expect(v.nullCount).toBe(5);
      expect(v.get(4)).toBe(null);
    }
  });
});

describe('PK ordering', () => {
  it('orders nulls first, strings by UTF-8 bytes, numbers numerically, bigint exactly', () => {
    const s = vectorFromArray([null, 'b', 'a', 'é', 'Z', 'ab', ''], new Utf8());
    const cmp = (i: number, j: number) => Math.sign(comparePkRows([s], i, [s], j));
    expect(cmp(0, 1)).toBe(-1);
    expect(cmp(2, 5)).toBe(-1);
    expect(cmp(4, 2)).toBe(-1); // 'Z' (0x5a) < 'a'
    expect(cmp(3, 1)).toBe(1); // 'é' (0xc3..) > 'b'
    expect(cmp(6, 4)).toBe(-1);
    const big = vectorFromArray([-(2n ** 62n), 2n ** 62n, -1n, 0n], new Int64());
    expect(Math.sign(comparePkRows([big], 0, [big], 2))).toBe(-1);
    expect(Math.sign(comparePkRows([big], 1, [big], 3))).toBe(1);
    expect(Math.sign(comparePkRows([big], 2, [big], 3))).toBe(-1);
    const f = vectorFromArray([-0, 0, NaN, 1e300, -Infinity], new Float64());
    expect(comparePkRows([f], 0, [f], 1)).toBe(0);
    expect(Math.sign(comparePkRows([f], 2, [f], 3))).toBe(1);
    expect(Math.sign(comparePkRows([f], 4, [f], 0))).toBe(-1);
  });

  it('sorts stably by a composite key', () => {
    const rnd = seededRandom(11);
    const n = 3000;
    const a = Array.from({ length: n }, () => (rnd() < 0.1 ? null : Math.floor(rnd() * 5)));
    const b = Array.from({ length: n }, () => (rnd() < 0.1 ? null : `k${Math.floor(rnd() * 8)}`));
    const t = new Table({ a: vectorFromArray(a, new Int32()), b: vectorFromArray(b, new Utf8()) });
    const idx = Array.from(sortIndicesByPk(t, ['a', 'b']));
    const enc = new TextEncoder();
    const cmpBytes = (x: string, y: string) => Buffer.compare(enc.encode(x), enc.encode(y));
    const ref = Array.from({ length: n }, (_, i) => i).sort((x, y) => {
      const ax = a[x], ay = a[y];
      if (ax !== ay) {
        if (ax === null) return -1;
        if (ay === null) return 1;
        return ax - ay;
      }
      const bx = b[x], by = b[y];
      if (bx !== by) {
        if (bx === null) return -1;
        if (by === null) return 1;
        return cmpBytes(bx, by);
      }
      return x - y;
    });
    expect(idx).toEqual(ref);
    // numeric fast path keeps stability too
    const k = Array.from({ length: n }, () => Math.floor(rnd() * 50));
    const t2 = new Table({ k: vectorFromArray(k, new Float64()) });
    const idx2 = Array.from(sortIndicesByPk(t2, ['k']));
    expect(idx2).toEqual(Array.from({ length: n }, (_, i) => i).sort((x, y) => k[x] - k[y] || x - y));
    // single int64 key with nulls, small values (numeric path) and huge values (exact path)
    for (const scale of [1n, 2n ** 58n]) {
      const v = Array.from({ length: n }, () => (rnd() < 0.1 ? null : BigInt(Math.floor(rnd() * 40) - 20) * scale));
      const t3 = new Table({ k: vectorFromArray(v, new Int64()) });
      const want = Array.from({ length: n }, (_, i) => i).sort((x, y) => {
        const a = v[x], b = v[y];
        if (a === b) return x - y;
        if (a === null) return -1;
        if (b === null) return 1;
        return a < b ? -1 : a > b ? 1 : x - y;
      });
      expect(Array.from(sortIndicesByPk(t3, ['k']))).toEqual(want);
    }
    // already sorted input: identity
    expect(Array.from(sortIndicesByPk(takeRows(t2, idx2), ['k']))).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('sorts single integer keys (radix path) stably, nulls first, over several batches', () => {
    const rnd = seededRandom(5);
    const n = 5000;
    const ref = (v: (bigint | number | null)[]) =>
      Array.from({ length: v.length }, (_, i) => i).sort((x, y) => {
        const a = v[x], b = v[y];
        if (a === b) return x - y;
        if (a === null) return -1;
        if (b === null) return 1;
        return a < b ? -1 : a > b ? 1 : x - y;
      });
    const i64 = (bits: bigint) => Array.from({ length: n }, () => (rnd() < 0.05 ? null : BigInt.asIntN(64, BigInt(Math.floor(rnd() * 2 ** 30)) * bits + BigInt(Math.floor(rnd() * 7)))));
    const cases: [string, (bigint | number | null)[], DataType][] = [
      ['int64 full range', i64(2n ** 34n), new Int64()],
      ['int64 small', i64(1n), new Int64()],
      ['uint64 above 2^63', Array.from({ length: n }, () => 2n ** 63n + BigInt(Math.floor(rnd() * 1000)) * 2n ** 40n - 5n * 2n ** 40n), new Uint64()],
      ['int32 negative', Array.from({ length: n }, () => (rnd() < 0.05 ? null : Math.floor(rnd() * 2 ** 32) - 2 ** 31)), new Int32()],
      ['uint32', Array.from({ length: n }, () => Math.floor(rnd() * 2 ** 32)), new Uint32()],
      ['int16 repeats', Array.from({ length: n }, () => Math.floor(rnd() * 100) - 50), new Int16()],
    ];
    for (const [name, v, type] of cases) {
      const whole = new Table({ k: vectorFromArray(v, type) });
      expect(Array.from(sortIndicesByPk(whole, ['k'])), name).toEqual(ref(v));
      // the same rows in three batches: global row indices
      const parts = [v.slice(0, 1000), v.slice(1000, 3500), v.slice(3500)].map((p) => new Table({ k: vectorFromArray(p, type) }).batches[0]);
      expect(Array.from(sortIndicesByPk(new Table(parts), ['k'])), `${name} (batches)`).toEqual(ref(v));
    }
  });
});

describe('castData', () => {
  const ctx = { column: 'c', file: 'f.parquet' };
  it('widens and narrows ints with range checks', () => {
    const v = vectorFromArray([1, -5, null, 127], new Int32()).data[0];
    const w = castData(v, new Int64(), ctx);
    expect(makeVector(w).toArray()).toEqual(new BigInt64Array([1n, -5n, 0n, 127n]));
    expect(makeVector(w).get(2)).toBe(null);
    expect(makeVector(castData(w, new Int8(), ctx)).get(1)).toBe(-5);
    expect(() => castData(v, new Uint8(), ctx)).toThrow(/-5 does not fit.*row 1|column 'c' of file 'f.parquet'/);
  });
  it('converts timestamps by unit exactly, dates, large utf8, dictionaries, lists', () => {
    const ts = makeData({ type: new Timestamp(TimeUnit.MILLISECOND, null), length: 2, data: new BigInt64Array([1500n, -2n]) });
    expect(Array.from(makeVector(castData(ts, new Timestamp(TimeUnit.MICROSECOND, 'UTC'), ctx)).data[0].values as BigInt64Array)).toEqual([1500000n, -2000n]);
    expect(() => castData(ts, new Timestamp(TimeUnit.SECOND, null), ctx)).toThrow(/not exactly representable/);
    const dm = makeData({ type: new DateMillisecond(), length: 1, data: new BigInt64Array([86400000n * 3n]) });
    expect(makeVector(castData(dm, new DateDay(), ctx)).data[0].values[0]).toBe(3);
    const s = vectorFromArray(['a', null, 'ccc'], new Utf8()).data[0];
    expect(makeVector(castData(s, new LargeUtf8(), ctx)).toArray()).toEqual(['a', null, 'ccc']);
    const dict = vectorFromArray(['x', 'y', null, 'x']);
    expect(dict.type).toBeInstanceOf(Dictionary);
    expect(makeVector(castData(dict.data[0], new Utf8(), ctx)).toArray()).toEqual(['x', 'y', null, 'x']);
    const l = vectorFromArray([[1, 2], null, [3, 4]], new List(new Field('element', new Float32(), true))).data[0];
    const fsl = castData(l, new FixedSizeList(2, new Field('item', new Float32(), true)), ctx);
    expect(makeVector(fsl).get(2)!.toArray()).toEqual(new Float32Array([3, 4]));
    expect(makeVector(fsl).get(1)).toBe(null);
    const bad = vectorFromArray([[1, 2], [3]], new List(new Field('item', new Float32(), true))).data[0];
    expect(() => castData(bad, new FixedSizeList(2, new Field('item', new Float32(), true)), ctx)).toThrow(/length 1.*row 1/);
    expect(() => castData(s, new Int32(), ctx)).toThrow(/cannot convert Utf8 to Int32/);
    const i = vectorFromArray([16777217], new Int32()).data[0];
    expect(() => castData(i, new Float32(), ctx)).toThrow(/not exactly representable/);
    // float64 data into float32: the nearest float32; beyond its range refused, naming the row
    const d = vectorFromArray([0.1, null, NaN, 1e-60], new Float64()).data[0];
    expect(Array.from(makeVector(castData(d, new Float32(), ctx)).toArray() as Float32Array)).toEqual([Math.fround(0.1), 0, NaN, 0]);
    expect(makeVector(castData(d, new Float32(), ctx)).get(1)).toBe(null);
    const big = vectorFromArray([1, -1e39], new Float64()).data[0];
    expect(() => castData(big, new Float32(), ctx)).toThrow(/-1e\+39 is beyond the range of Float32.*row 1/);
    expect(makeVector(castData(i, new Float64(), ctx)).get(0)).toBe(16777217);
  });
});

describe('validateAgainstSchema', () => {
  const schema = new Schema([
    new Field('id', new Int64(), false),
    new Field('name', new Utf8(), true),
    new Field('score', new Float64(), true),
    new Field('tags', new Struct([new Field('a', new Int16(), true)]), true),
  ]);
  const mk = (cols: Record<string, any>) => new Table(cols).batches[0] as RecordBatch;

  it('conforms order and types (safe widenings, dictionary strings)', () => {
    const b = mk({ score: vectorFromArray([1.5, null], new Float32()), id: vectorFromArray([1, 2], new Int32()), name: vectorFromArray(['a', 'b']), tags: vectorFromArray([{ a: 1 }, null], new Struct([new Field('a', new Int8(), true)])) });
    const out = validateAgainstSchema(b, schema, { primaryKeys: ['id'], tableName: 't' });
    expect(out.schema.fields.map((f) => `${f.name}:${f.type}:${f.nullable}`)).toEqual(schema.fields.map((f) => `${f.name}:${f.type}:${f.nullable}`));
    expect(out.getChild('id')!.get(1)).toBe(2n);
    expect(out.getChild('name')!.get(0)).toBe('a');
  });

  it('partial columns when allowed; errors name the column and row', () => {
    const b = mk({ id: vectorFromArray([1n, 2n], new Int64()), score: vectorFromArray([1, 2], new Float64()) });
    const out = validateAgainstSchema(b, schema, { primaryKeys: ['id'], allowMissingNullable: true });
    expect(out.schema.fields.map((f) => f.name)).toEqual(['id', 'score']);
    const filled = validateAgainstSchema(b, schema, { primaryKeys: ['id'], allowMissingNullable: true, fillMissing: true });
    expect(filled.schema.fields.map((f) => f.name)).toEqual(['id', 'name', 'score', 'tags']);
    expect(filled.getChild('name')!.nullCount).toBe(2);
    const err = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(LakeSoulError);
        return e as LakeSoulError;
      }
      throw new Error('expected an error');
    };
    let e = err(() => validateAgainstSchema(b, schema, { primaryKeys: ['id'], tableName: 't' }));
    expect(e.kind).toBe('SchemaMismatch');
    expect(e.message).toMatch(/missing nullable column 'name' of table 't'/);
    e = err(() => validateAgainstSchema(mk({ name: vectorFromArray(['x'], new Utf8()) }), schema, { primaryKeys: ['id'], allowMissingNullable: true }));
    expect(e.message).toMatch(/missing primary key column 'id'/);
    e = err(() => validateAgainstSchema(mk({ id: vectorFromArray([1n, null, 3n], new Int64()) }), schema, { primaryKeys: ['id'], allowMissingNullable: true, tableName: 't' }));
    expect(e.kind).toBe('InvalidArgument');
    expect(e.message).toBe("null in primary key column 'id' of table 't' at row 1");
    expect(e.context.row).toBe(1);
    e = err(() => validateAgainstSchema(mk({ id: vectorFromArray([1n], new Int64()), name: vectorFromArray([1], new Int32()) }), schema, { allowMissingNullable: true }));
    expect(e.kind).toBe('SchemaMismatch');
    expect(e.message).toMatch(/column 'name'.*cannot convert Int32 to Utf8/);
    e = err(() => validateAgainstSchema(mk({ id: vectorFromArray([1n], new Int64()), extra: vectorFromArray([1], new Int32()) }), schema, { allowMissingNullable: true }));
    expect(e.message).toMatch(/column 'extra' is not in the schema/);
  });
});

describe('matchWords', () => {
  it('finds the words of UTF-8 columns by their bytes, also sliced, large and dictionary-encoded', () => {
    const rnd = seededRandom(11);
    const pool = ['insert', 'update', 'delete', 'delet', 'deletes', 'Delete', '', 'é', null];
    const texts = Array.from({ length: 3000 }, () => pool[Math.floor(rnd() * pool.length)]);
    const words = ['insert', 'update', 'delete'];
    const utf8 = vectorFromArray(texts, new Utf8());
    const cases: [string, Vector, (string | null)[]][] = [
      ['utf8', utf8, texts],
      ['utf8 sliced', utf8.slice(17, 2900), texts.slice(17, 2900)],
      ['large utf8', vectorFromArray(texts, new LargeUtf8()), texts],
      ['dictionary', vectorFromArray(texts, new Dictionary(new Utf8(), new Int32())), texts],
    ];
    for (const [what, v, want] of cases) {
      const got = matchWords(v, words);
      expect(got.length, what).toBe(want.length);
      for (let i = 0; i < want.length; i++) {
        const w = want[i];
        expect(got[i], `${what} row ${i} (${JSON.stringify(w)})`).toBe(w === null ? 0 : words.indexOf(w) + 1 || 255);
      }
    }
  });
});

