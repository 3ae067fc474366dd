/**
 * Deterministic sample data covering every Arrow type a LakeSoul table may hold here (issue 2's
 * list). Used by this package's tests (round trips, take/concat, casts) and usable by other tests.
 */
import {
  Binary, Bool, Decimal, Field, FixedSizeList, Float32, Float64, Int8, Int16, Int32, Int64, LargeBinary, LargeUtf8,
  List, Schema, Struct, Table, TimeUnit, Timestamp, Uint8, Uint16, Uint32, Uint64, Utf8, DateDay, makeData, makeVector,
  vectorFromArray, RecordBatch, Vector, DataType,
} from 'apache-arrow';
import { makeBatch } from './data-access.js';

/** A small seeded PRNG (mulberry32); returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function decimalVector(values: (bigint | null)[], precision: number, scale: number): Vector {
  const n = values.length;
  const words = new Uint32Array(n * 4);
  const bitmap = new Uint8Array(((n + 63) & ~63) >> 3);
  let nulls = 0;
  values.forEach((v, i) => {
    if (v === null) {
      nulls++;
      return;
    }
    bitmap[i >> 3] |= 1 << (i & 7);
    const u = BigInt.asUintN(128, v);
    for (let k = 0; k < 4; k++) words[4 * i + k] = Number((u >> BigInt(32 * k)) & 0xffffffffn);
  });
  return makeVector(makeData({ type: new Decimal(scale, precision, 128), length: n, nullCount: nulls, nullBitmap: bitmap, data: words }));
}

function tsVector(values: (bigint | null)[], unit: TimeUnit, tz: string | null): Vector {
  const n = values.length;
  const data = new BigInt64Array(n);
  const bitmap = new Uint8Array(((n + 63) & ~63) >> 3);
  let nulls = 0;
  values.forEach((v, i) => {
    if (v === null) nulls++;
    else {
      data[i] = v;
      bitmap[i >> 3] |= 1 << (i & 7);
    }
  });
  return makeVector(makeData({ type: new Timestamp(unit, tz), length: n, nullCount: nulls, nullBitmap: bitmap, data }));
}

/**
 * A table of `n` rows with one column per supported type (nulls every few rows, except in the
 * non-nullable `id` int64 column, which holds 0..n-1 shuffled when `shuffle` is set).
 */
export function sampleAllTypesTable(n: number, seed = 1, shuffle = false): Table {
  const rnd = seededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const nul = <T>(i: number, every: number, v: T): T | null => (i % every === every - 1 ? null : v);
  const ids = Array.from({ length: n }, (_, i) => i);
  if (shuffle) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
  }
  const rows = ids.map((id, i) => {
    const s = `s${int(0, 1000)}-ü${'x'.repeat(int(0, 40))}`;
    return {
      id: BigInt(id),
      b: nul(i, 5, rnd() < 0.5),
      i8: nul(i, 7, int(-128, 127)),
      i16: nul(i, 6, int(-32768, 32767)),
      i32: nul(i, 4, int(-2147483648, 2147483647)),
      i64: nul(i, 3, BigInt(int(-1e9, 1e9)) * 1000000007n),
      u8: nul(i, 5, int(0, 255)),
      u16: nul(i, 5, int(0, 65535)),
      u32: nul(i, 5, int(0, 4294967295)),
      u64: nul(i, 5, BigInt(int(0, 2 ** 31)) * 8589934592n + 7n),
      f32: nul(i, 4, Math.fround(rnd() * 1000 - 500)),
      f64: nul(i, 4, rnd() * 1e6 - 5e5),
      s: nul(i, 3, s),
      ls: nul(i, 4, s.toUpperCase()),
      bin: nul(i, 3, Uint8Array.from({ length: int(0, 20) }, () => int(0, 255))),
      lbin: nul(i, 4, Uint8Array.from({ length: int(0, 5) }, () => int(0, 255))),
      d: nul(i, 5, int(-10000, 30000)),
      ts_s: nul(i, 5, BigInt(int(0, 2e9))),
      ts_ms: nul(i, 5, BigInt(int(0, 2e9)) * 1000n + BigInt(int(0, 999))),
      ts_us: nul(i, 5, BigInt(int(0, 2e9)) * 1000000n + BigInt(int(0, 999999))),
      ts_ns: nul(i, 5, BigInt(int(0, 2e9)) * 1000000000n + BigInt(int(0, 999999999))),
      ts_us_utc: nul(i, 5, BigInt(int(0, 2e9)) * 1000000n + BigInt(int(0, 999999))),
      ts_ms_sh: nul(i, 5, BigInt(int(0, 2e9)) * 1000n),
      dec: nul(i, 4, BigInt(int(-1e9, 1e9)) * 1000n + BigInt(int(0, 999))),
      dec38: nul(i, 4, BigInt(int(-1e9, 1e9)) * 10n ** 25n + BigInt(int(0, 1e9))),
      lst: nul(i, 4, Array.from({ length: int(0, 4) }, () => Math.fround(rnd()))),
      st: nul(i, 6, { x: int(-100, 100), y: i % 3 === 0 ? null : `y${i}` }),
      emb: nul(i, 5, [Math.fround(rnd()), Math.fround(rnd()), Math.fround(rnd()), Math.fround(rnd())]),
    };
  });
  const col = <K extends keyof (typeof rows)[0]>(k: K) => rows.map((r) => r[k]);
  const f = (name: string, type: DataType, nullable = true) => new Field(name, type, nullable);
  const fields: Field[] = [];
  const vectors: Vector[] = [];
  const add = (field: Field, v: Vector) => {
    fields.push(field);
    vectors.push(v);
  };
  add(f('id', new Int64(), false), vectorFromArray(col('id'), new Int64()));
  add(f('b', new Bool()), vectorFromArray(col('b'), new Bool()));
  add(f('i8', new Int8()), vectorFromArray(col('i8'), new Int8()));
  add(f('i16', new Int16()), vectorFromArray(col('i16'), new Int16()));
  add(f('i32', new Int32()), vectorFromArray(col('i32'), new Int32()));
  add(f('i64', new Int64()), vectorFromArray(col('i64'), new Int64()));
  add(f('u8', new Uint8()), vectorFromArray(col('u8'), new Uint8()));
  add(f('u16', new Uint16()), vectorFromArray(col('u16'), new Uint16()));
  add(f('u32', new Uint32()), vectorFromArray(col('u32'), new Uint32()));
  add(f('u64', new Uint64()), vectorFromArray(col('u64'), new Uint64()));
  add(f('f32', new Float32()), vectorFromArray(col('f32'), new Float32()));
  add(f('f64', new Float64()), vectorFromArray(col('f64'), new Float64()));
  add(f('s', new Utf8()), vectorFromArray(col('s'), new Utf8()));
  add(f('ls', new LargeUtf8()), vectorFromArray(col('ls'), new LargeUtf8()));
  add(f('bin', new Binary()), vectorFromArray(col('bin'), new Binary()));
  add(f('lbin', new LargeBinary()), vectorFromArray(col('lbin'), new LargeBinary()));
  {
    const days = col('d');
    const data = new Int32Array(n);
    const bitmap = new Uint8Array(((n + 63) & ~63) >> 3);
    let nulls = 0;
    days.forEach((v, i) => (v === null ? nulls++ : ((data[i] = v), (bitmap[i >> 3] |= 1 << (i & 7)))));
    add(f('d', new DateDay()), makeVector(makeData({ type: new DateDay(), length: n, nullCount: nulls, nullBitmap: bitmap, data })));
  }
  add(f('ts_s', new Timestamp(TimeUnit.SECOND, null)), tsVector(col('ts_s'), TimeUnit.SECOND, null));
  add(f('ts_ms', new Timestamp(TimeUnit.MILLISECOND, null)), tsVector(col('ts_ms'), TimeUnit.MILLISECOND, null));
  add(f('ts_us', new Timestamp(TimeUnit.MICROSECOND, null)), tsVector(col('ts_us'), TimeUnit.MICROSECOND, null));
  add(f('ts_ns', new Timestamp(TimeUnit.NANOSECOND, null)), tsVector(col('ts_ns'), TimeUnit.NANOSECOND, null));
  add(f('ts_us_utc', new Timestamp(TimeUnit.MICROSECOND, 'UTC')), tsVector(col('ts_us_utc'), TimeUnit.MICROSECOND, 'UTC'));
  add(f('ts_ms_sh', new Timestamp(TimeUnit.MILLISECOND, 'Asia/Shanghai')), tsVector(col('ts_ms_sh'), TimeUnit.MILLISECOND, 'Asia/Shanghai'));
  add(f('dec', new Decimal(3, 18, 128)), decimalVector(col('dec'), 18, 3));
  add(f('dec38', new Decimal(5, 38, 128)), decimalVector(col('dec38'), 38, 5));
  const lt = new List(new Field('item', new Float32(), true));
  add(f('lst', lt), vectorFromArray(col('lst'), lt));
  const st = new Struct([new Field('x', new Int32(), true), new Field('y', new Utf8(), true)]);
  add(f('st', st), vectorFromArray(col('st'), st));
  const fsl = new FixedSizeList(4, new Field('item', new Float32(), true));
  add(f('emb', fsl), vectorFromArray(col('emb'), fsl));
  const schema = new Schema(fields);
  const batch: RecordBatch = makeBatch(schema, vectors.map((v) => v.data[0]), n);
  return new Table(schema, [batch]);
}

/**
 * Plain JS value of row `i` of a column, normalized for deep equality in tests: bigint stays bigint,
 * binary -> number[], nested -> arrays/objects, NaN kept.
 */
export function plainValue(v: Vector, i: number): unknown {
  if (DataType.isTimestamp(v.type)) {
    // raw int64 in the column's unit (get() would round to float milliseconds)
    if (!v.isValid(i)) return null;
    let r = i;
    for (const d of v.data) {
      if (r < d.length) return (d.values as BigInt64Array)[r];
      r -= d.length;
    }
  }
  return normalize(v.get(i));
}

function normalize(x: any): unknown {
  if (x === null || x === undefined) return null;
  if (typeof x === 'bigint' || typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean') return x;
  if (x instanceof Uint8Array) return Array.from(x);
  if (ArrayBuffer.isView(x)) return Array.from(x as any);
  if (x instanceof Vector) {
    const out: unknown[] = [];
    for (let k = 0; k < x.length; k++) out.push(normalize(x.get(k)));
    return out;
  }
  if (typeof x.toJSON === 'function') {
    const o = x.toJSON();
    const r: Record<string, unknown> = {};
    for (const k of Object.keys(o)) r[k] = normalize(o[k]);
    return r;
  }
  return x;
}

/** All rows of a table or batch as arrays of {@link plainValue}s, one array per row. */
export function plainRows(t: Table | RecordBatch): unknown[][] {
  const out: unknown[][] = [];
  const cols = t.schema.fields.map((_, k) => t.getChildAt(k)!);
  for (let i = 0; i < t.numRows; i++) out.push(cols.map((c) => plainValue(c, i)));
  return out;
}
