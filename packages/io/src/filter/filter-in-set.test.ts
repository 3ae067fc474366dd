// `column IN (long list)` takes a lookup set built once per filter node and column type. These tests
// pin that it selects exactly the rows of the value-by-value path (`x = v1 OR x = v2 ...`, the same
// comparisons `=` makes) for every column type, null and NaN, and that its cost does not grow with
// the list per batch: work is counted (`inWork`), never timed.
import { describe, expect, it } from 'vitest';
import {
  Binary,
  Bool,
  Data,
  DataType,
  DateDay,
  DateMillisecond,
  Decimal,
  Dictionary,
  Field,
  Float16,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  LargeBinary,
  LargeUtf8,
  RecordBatch,
  Schema,
  Struct,
  TimeMillisecond,
  TimeUnit,
  Timestamp,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  makeData,
  util,
  vectorFromArray,
} from 'apache-arrow';
import type { FilterExpr, FilterValue } from '../types.js';
import { evaluateFilter, hash64, inWork } from './filter-eval.js';
import { seededRandom } from '../arrow/sample-tables.js';

type Rnd = () => number;
/** A literal with the kept text of a number literal (see `LiteralText`). */
type Lit = { value: FilterValue; text?: string };

const pickOf = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];

/** A validity bitmap (bit set = valid) for `cells`, or undefined when none is null. */
function validity(cells: readonly unknown[]): { nullBitmap?: Uint8Array; nullCount: number } {
  const nulls = cells.filter((c) => c === null).length;
  if (nulls === 0) return { nullCount: 0 };
  const bm = new Uint8Array((cells.length + 7) >> 3);
  cells.forEach((c, i) => {
    if (c !== null) bm[i >> 3] |= 1 << (i & 7);
  });
  return { nullBitmap: bm, nullCount: nulls };
}

function fixed(type: DataType, Ctor: { new (n: number): any }, cells: readonly (number | bigint | null)[], zero: number | bigint): Data {
  const data = new Ctor(cells.length);
  cells.forEach((c, i) => (data[i] = c ?? zero));
  return makeData({ type, length: cells.length, data, ...validity(cells) } as any);
}

function varBytes(type: DataType, cells: readonly (Uint8Array | null)[], large: boolean): Data {
  const offs = large ? new BigInt64Array(cells.length + 1) : new Int32Array(cells.length + 1);
  let total = 0;
  cells.forEach((c, i) => {
    total += c?.length ?? 0;
    offs[i + 1] = (large ? BigInt(total) : total) as never;
  });
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of cells) {
    if (c !== null) bytes.set(c, at);
    at += c?.length ?? 0;
  }
  return makeData({ type, length: cells.length, valueOffsets: offs, data: bytes, ...validity(cells) } as any);
}

const enc = new TextEncoder();

interface Case<R> {
  name: string;
  /** raw cell values (the column's representation) */
  pool: (rnd: Rnd) => R[];
  build: (cells: (R | null)[]) => Data;
  /** a literal that denotes the cell (various spellings), for matches */
  lit: (r: R, rnd: Rnd) => Lit;
  /** literals at the edges: between values, beyond the range, NaN, other spellings */
  odd: Lit[];
  /** a literal the column refuses (both paths throw the same error) */
  bad: Lit[];
}

const intCase = (name: string, type: DataType, Ctor: any, lo: number, hi: number): Case<number> => ({
  name,
  pool: (rnd) => [lo, hi, 0, 1, -1 >= lo ? -1 : 2, ...Array.from({ length: 20 }, () => lo + Math.floor(rnd() * (hi - lo + 1)))],
  build: (cells) => fixed(type, Ctor, cells, 0),
  lit: (r, rnd) => pickOf(rnd, [{ value: r }, { value: BigInt(r) }, { value: r, text: `${r}.0` }, { value: r, text: `${r}e0` }, { value: r === 0 ? -0 : r }]),
  odd: [
    { value: 2.5 },
    { value: NaN },
    { value: Infinity },
    { value: -Infinity },
    { value: 2n ** 60n },
    { value: 9007199254740993n },
    { value: lo - 1 },
    { value: hi + 1 },
    { value: BigInt(hi) + 1n },
    { value: 1, text: '1.00000000000000001' },
    { value: 9007199254740992, text: '9007199254740992.5' },
  ],
  bad: [{ value: 'x' }, { value: true }],
});

const int64Case = (name: string, type: DataType, signed: boolean): Case<bigint> => ({
  name,
  pool: (rnd) => {
    const out: bigint[] = signed ? [-(2n ** 63n), 2n ** 63n - 1n, -1n, 0n] : [0n, 2n ** 64n - 1n, 2n ** 63n];
    for (let k = 0; k < 24; k++) {
      const i = BigInt(Math.floor(rnd() * 1000));
      const v = pickOf(rnd, [i, i << 32n, (i << 32n) | 7n, (BigInt(1700000000000) + i * 1024n) << 22n, i * 4294967297n, -i]);
      out.push(signed ? BigInt.asIntN(64, v) : BigInt.asUintN(64, v));
    }
    return out;
  },
  build: (cells) => fixed(type, signed ? BigInt64Array : BigUint64Array, cells, 0n),
  lit: (r, rnd) => {
    const n = Number(r);
    const forms: Lit[] = [{ value: r }];
    if (Number.isSafeInteger(n)) forms.push({ value: n }, { value: n, text: `${n}.000` });
    return pickOf(rnd, forms);
  },
  odd: [
    { value: 2n ** 63n },
    { value: -(2n ** 63n) - 1n },
    { value: 2n ** 64n },
    { value: -1n },
    { value: NaN },
    { value: 1.5 },
    { value: Infinity },
    { value: 2 ** 63 },
    { value: 4294967296, text: '4294967296.0000001' },
  ],
  bad: [{ value: 'x' }, { value: new Date(0) }],
});

const floatCase = (name: string, type: DataType, bits: 16 | 32 | 64): Case<number> => {
  const round = (x: number) => (bits === 64 ? x : bits === 32 ? Math.fround(x) : util.uint16ToFloat64(util.float64ToUint16(x)));
  return {
    name,
    pool: (rnd) => [0, -0, NaN, Infinity, -Infinity, 0.1, 1.5, -2, 2 ** 60, 65504, 1e-7, ...Array.from({ length: 16 }, () => (rnd() - 0.5) * 1000)].map(round),
    build: (cells) =>
      bits === 16
        ? fixed(type, Uint16Array, cells.map((c) => (c === null ? null : util.float64ToUint16(c))), 0)
        : fixed(type, bits === 32 ? Float32Array : Float64Array, cells, 0),
    lit: (r, rnd) => {
      const forms: Lit[] = [{ value: r }];
      if (Number.isInteger(r)) forms.push({ value: BigInt(r) });
      if (Number.isFinite(r) && !Number.isInteger(r) && String(r).length < 20) forms.push({ value: r, text: `${r}000000000000000000001` });
      return pickOf(rnd, forms);
    },
    odd: [{ value: NaN }, { value: -0 }, { value: 9007199254740993n }, { value: 10n ** 300n }, { value: 0.1 }, { value: 1e300 }, { value: 2 ** 52, text: '4503599627370496.0' }],
    bad: [{ value: 'x' }, { value: 2 ** 53, text: '9007199254740992.5' }, { value: 2 ** 53, text: '9007199254740992.0' }],
  };
};

const textCase = (name: string, type: DataType, large: boolean): Case<string> => ({
  name,
  pool: (rnd) => ['', 'a', 'abc', 'é', '😀', '\uFFFD', '\uFEFFabc', 'x'.repeat(100), ...Array.from({ length: 16 }, () => Math.floor(rnd() * 1e6).toString(36))],
  build: (cells) => varBytes(type, cells.map((c) => (c === null ? null : enc.encode(c))), large),
  lit: (r) => ({ value: r }),
  odd: [{ value: '\uD800' }, { value: 'zzz' }, { value: 'abc\u0000' }, { value: 'ABC' }],
  bad: [{ value: 1 }, { value: 1n }, { value: new Date(0) }],
});

const binaryCase = (name: string, type: DataType, large: boolean): Case<Uint8Array> => ({
  name,
  pool: (rnd) => [
    new Uint8Array(0),
    Uint8Array.of(0xff),
    Uint8Array.of(0xef, 0xbf, 0xbd),
    Uint8Array.of(0x61, 0x00),
    enc.encode('héllo'),
    ...Array.from({ length: 16 }, () => Uint8Array.from({ length: Math.floor(rnd() * 6) }, () => Math.floor(rnd() * 128))),
  ],
  build: (cells) => varBytes(type, cells, large),
  // a string literal is its UTF-8 bytes: only valid UTF-8 rows have one
  lit: (r) => ({ value: new TextDecoder('utf-8', { ignoreBOM: true }).decode(r) }),
  odd: [{ value: '\uFFFD' }, { value: '\uDFFF' }, { value: '' }],
  bad: [{ value: 5 }],
});

/** An ISO text of `ns` nanoseconds since the epoch (years 1900..2200), with nine fraction digits. */
function isoOfNanos(ns: bigint): string {
  let ms = ns / 1_000_000n;
  if (ms * 1_000_000n > ns) ms -= 1n;
  const sub = ns - ms * 1_000_000n;
  return new Date(Number(ms)).toISOString().replace('Z', `${sub.toString().padStart(6, '0')}Z`);
}

const timestampCase = (unit: TimeUnit, tz: string | null): Case<bigint> => {
  const nsPer = [1_000_000_000n, 1_000_000n, 1_000n, 1n][unit];
  const type = new Timestamp(unit, tz);
  return {
    name: String(type),
    pool: (rnd) =>
      Array.from({ length: 24 }, (_, k) => {
        const ns = BigInt(Math.floor((rnd() - 0.3) * 4e9)) * 1_000_000_000n + BigInt(Math.floor(rnd() * 1e9)) * BigInt(k % 3);
        return ns / nsPer;
      }),
    build: (cells) => fixed(type, BigInt64Array, cells, 0n),
    lit: (r, rnd) => {
      const ns = r * nsPer;
      const forms: Lit[] = [{ value: isoOfNanos(ns) }, { value: isoOfNanos(ns).replace('T', ' ').replace('Z', '+00:00') }];
      if (ns % 1_000_000n === 0n) forms.push({ value: new Date(Number(ns / 1_000_000n)) }, { value: Number(ns / 1_000_000n) });
      else forms.push({ value: Number(ns) / 1e6 });
      return pickOf(rnd, forms);
    },
    odd: [
      { value: '1970-01-01T00:00:00.000000001Z' },
      { value: '1970-01-01T00:00:00.001Z' },
      { value: '1970-01-01' },
      { value: '2262-04-12T00:00:00Z' },
      { value: '9999-12-31T23:59:59.999999Z' },
      { value: 0.5 },
      { value: -1 },
      { value: '2024-01-01T01:00:00+01:00' },
    ],
    bad: [{ value: 'not a time' }, { value: true }, { value: NaN }],
  };
};

const dateDayCase: Case<number> = {
  name: 'Date32<DAY>',
  pool: (rnd) => [0, -1, 1, 19000, -719528, ...Array.from({ length: 20 }, () => Math.floor((rnd() - 0.5) * 200000))],
  build: (cells) => fixed(new DateDay(), Int32Array, cells, 0),
  lit: (r, rnd) => pickOf(rnd, [{ value: new Date(r * 86400000) }, { value: r * 86400000 }, { value: new Date(r * 86400000).toISOString().slice(0, 10) }]),
  odd: [{ value: 1 }, { value: 86400000.5 }, { value: '1970-01-02T00:00:00.000000001Z' }, { value: -0 }, { value: 1e300 }],
  bad: [{ value: 'nope' }, { value: false }],
};

const dateMsCase: Case<bigint> = {
  name: 'Date64<MILLISECOND>',
  pool: (rnd) => [0n, -1n, 86400000n, ...Array.from({ length: 20 }, () => BigInt(Math.floor((rnd() - 0.5) * 1e13)))],
  build: (cells) => fixed(new DateMillisecond(), BigInt64Array, cells, 0n),
  lit: (r, rnd) => pickOf(rnd, [{ value: new Date(Number(r)) }, { value: Number(r) }, { value: new Date(Number(r)).toISOString() }]),
  odd: [{ value: 1.5 }, { value: '1970-01-01T00:00:00.000001Z' }, { value: 2 ** 70 }, { value: -0 }],
  bad: [{ value: 'nope' }, { value: 1n }],
};

function decimalWords(cells: readonly (bigint | null)[]): Uint32Array {
  const words = new Uint32Array(4 * cells.length);
  cells.forEach((c, i) => {
    const u = BigInt.asUintN(128, c ?? 0n);
    for (let w = 0; w < 4; w++) words[4 * i + w] = Number((u >> BigInt(32 * w)) & 0xffffffffn);
  });
  return words;
}

/** The unscaled `v` at `scale` as decimal text (`1250` at scale 2: `12.50`). */
function decimalText(v: bigint, scale: number): string {
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
  const s = scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  return neg ? `-${s}` : s;
}

const decimalCase = (scale: number): Case<bigint> => {
  const type = new Decimal(scale, 38, 128);
  return {
    name: String(type),
    pool: (rnd) => [0n, 1n, -1n, 10n ** 37n, -(10n ** 37n), 2n ** 100n, ...Array.from({ length: 20 }, () => BigInt(Math.floor((rnd() - 0.5) * 1e9)) * pickOf(rnd, [1n, 1n << 40n, 10n ** BigInt(scale)]))],
    build: (cells) => makeData({ type, length: cells.length, data: decimalWords(cells), ...validity(cells) } as any),
    lit: (r, rnd) => {
      const text = decimalText(r, scale);
      const n = Number(text);
      const forms: Lit[] = [{ value: text }, { value: ` ${text}e0` }, { value: n }];
      if (text.includes('.')) forms.push({ value: `${text}000` });
      if (scale === 0) forms.push({ value: r });
      if (Number.isFinite(n) && n !== 0 && Math.abs(n) < 1e15) forms.push({ value: n, text });
      return pickOf(rnd, forms);
    },
    odd: [{ value: '1.005' }, { value: '1e-3' }, { value: 10n ** 40n }, { value: -(10n ** 39n) }, { value: '0.0000000000001' }, { value: 0.1 }, { value: 2n ** 127n }, { value: '-0' }],
    bad: [{ value: 'abc' }, { value: true }, { value: NaN }],
  };
};

const boolCase: Case<number> = {
  name: 'Bool',
  pool: () => [0, 1],
  build: (cells) => {
    const bits = new Uint8Array((cells.length + 7) >> 3);
    cells.forEach((c, i) => {
      if (c === 1) bits[i >> 3] |= 1 << (i & 7);
    });
    return makeData({ type: new Bool(), length: cells.length, data: bits, ...validity(cells) } as any);
  },
  lit: (r) => ({ value: r === 1 }),
  odd: [{ value: true }, { value: false }],
  bad: [{ value: 1 }, { value: 'true' }],
};

const dictCase: Case<string> = {
  name: 'Dictionary<Int32, Utf8>',
  pool: (rnd) => ['a', 'b', '', '\uFFFD', ...Array.from({ length: 12 }, () => Math.floor(rnd() * 1e4).toString(36))],
  build: (cells) => {
    const dict = [...new Set(cells.filter((c): c is string => c !== null))];
    const type = new Dictionary(new Utf8(), new Int32());
    const idx = Int32Array.from(cells, (c) => (c === null ? 0 : dict.indexOf(c)));
    return makeData({ type, length: cells.length, data: idx, dictionary: vectorFromArray(dict.length ? dict : [''], new Utf8()), ...validity(cells) } as any);
  },
  lit: (r) => ({ value: r }),
  odd: [{ value: '\uD800' }, { value: 'nope' }],
  bad: [{ value: 3 }],
};

const cases: Case<any>[] = [
  intCase('Int8', new Int8(), Int8Array, -128, 127),
  intCase('Int16', new Int16(), Int16Array, -32768, 32767),
  intCase('Int32', new Int32(), Int32Array, -(2 ** 31), 2 ** 31 - 1),
  intCase('Uint8', new Uint8(), Uint8Array, 0, 255),
  intCase('Uint16', new Uint16(), Uint16Array, 0, 65535),
  intCase('Uint32', new Uint32(), Uint32Array, 0, 2 ** 32 - 1),
  int64Case('Int64', new Int64(), true),
  int64Case('Uint64', new Uint64(), false),
  floatCase('Float16', new Float16(), 16),
  floatCase('Float32', new Float32(), 32),
  floatCase('Float64', new Float64(), 64),
  boolCase,
  textCase('Utf8', new Utf8(), false),
  textCase('LargeUtf8', new LargeUtf8(), true),
  binaryCase('Binary', new Binary(), false),
  binaryCase('LargeBinary', new LargeBinary(), true),
  timestampCase(TimeUnit.SECOND, null),
  timestampCase(TimeUnit.MILLISECOND, 'UTC'),
  timestampCase(TimeUnit.MICROSECOND, null),
  timestampCase(TimeUnit.NANOSECOND, '+02:00'),
  dateDayCase,
  dateMsCase,
  decimalCase(0),
  decimalCase(2),
  decimalCase(10),
  dictCase,
];

function batchOf(data: Data): RecordBatch {
  const schema = new Schema([new Field('c', data.type, true)]);
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: data.length, children: [data] }));
}

function inExpr(lits: Lit[]): FilterExpr {
  const e: any = { op: 'in', column: 'c', values: lits.map((l) => l.value) };
  if (lits.some((l) => l.text !== undefined)) e.texts = lits.map((l) => l.text ?? null);
  return e;
}

/** The value-by-value reading of the same list: `c = v1 OR c = v2 OR ...`. */
function orExpr(lits: Lit[]): FilterExpr {
  return { op: 'or', args: lits.map((l) => (l.text === undefined ? { op: '=', column: 'c', value: l.value } : { op: '=', column: 'c', value: l.value, text: l.text })) } as FilterExpr;
}

/** The three-valued outcome per row (TRUE rows of `e`, TRUE rows of `NOT e`), or the error. */
function outcome(e: FilterExpr, b: RecordBatch): { t: number[]; f: number[] } | { error: string } {
  try {
    return { t: [...evaluateFilter(e, b)], f: [...evaluateFilter({ op: 'not', arg: e }, b)] };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

describe('IN with a lookup set', () => {
  for (const c of cases) {
    it(`selects the rows of the value-by-value path: ${c.name}`, () => {
      const rnd = seededRandom(0x5eed ^ c.name.length * 7919 ^ c.name.charCodeAt(0));
      let setRuns = 0;
      let errors = 0;
      let matched = 0;
      for (let round = 0; round < 30; round++) {
        const pool = c.pool(rnd);
        const n = 1 + Math.floor(rnd() * 150);
        const nullRate = pickOf(rnd, [0, 0.1, 0.5]);
        const cells = Array.from({ length: n }, () => (rnd() < nullRate ? null : pickOf(rnd, pool)));
        const data = c.build(cells);
        const k = 9 + Math.floor(rnd() * 30);
        const lits: Lit[] = Array.from({ length: k }, () => {
          const x = rnd();
          if (x < 0.6) return c.lit(pickOf(rnd, pool), rnd);
          if (x < 0.9) return pickOf(rnd, c.odd);
          return { value: null };
        });
        if (rnd() < 0.08) lits.splice(Math.floor(rnd() * lits.length), 0, pickOf(rnd, c.bad));
        const e = inExpr(lits);
        const full = batchOf(data);
        const a = Math.floor(rnd() * n);
        const z = a + Math.floor(rnd() * (n - a + 1));
        // the same node on several batches (one set for all), sliced at odd offsets too
        for (const b of [full, full.slice(a, z), full.slice(1, n), full]) {
          const scans = inWork.inValueScans;
          const got = outcome(e, b);
          expect(got, `${c.name} round ${round} ${JSON.stringify(lits, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`).toEqual(outcome(orExpr(lits), b));
          if ('error' in got) errors++;
          else {
            expect(inWork.inValueScans).toBe(scans); // the set path answered, not a scan per value
            setRuns++;
            matched += got.t.reduce((x, y) => x + y, 0);
          }
        }
      }
      expect(setRuns).toBeGreaterThan(errors);
      expect(matched).toBeGreaterThan(0);
    });
  }

  it('refuses columns that comparisons refuse (time) as the value-by-value path does', () => {
    const data = fixed(new TimeMillisecond(), Int32Array, [1, 2, null], 0);
    const b = batchOf(data);
    const lits: Lit[] = Array.from({ length: 12 }, (_, k) => ({ value: k }));
    const got = outcome(inExpr(lits), b);
    expect(got).toEqual(outcome(orExpr(lits), b));
    expect(got).toMatchObject({ error: expect.stringContaining('not supported') });
    // a list of NULLs only compares nothing: every row unknown
    const nulls = inExpr(Array.from({ length: 12 }, () => ({ value: null })));
    expect(outcome(nulls, b)).toEqual({ t: [0, 0, 0], f: [0, 0, 0] });
  });

  it('matches a plain JavaScript reference on int64 keys differing only in the high word, and on text', () => {
    const rnd = seededRandom(42);
    const n = 5000;
    const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) << 32n);
    const listed = Array.from({ length: 700 }, () => BigInt(Math.floor(rnd() * 2 * n)) << 32n);
    const want = new Set(listed);
    const b = batchOf(makeData({ type: new Int64(), length: n, data: ids }));
    const got = evaluateFilter({ op: 'in', column: 'c', values: listed }, b);
    expect([...got]).toEqual([...ids].map((x) => (want.has(x) ? 1 : 0)));

    const words = Array.from({ length: 3000 }, () => Math.floor(rnd() * 5000).toString(36));
    const listedWords = Array.from({ length: 300 }, () => Math.floor(rnd() * 5000).toString(36));
    const wanted = new Set(listedWords);
    const tb = batchOf(vectorFromArray(words, new Utf8()).data[0]);
    expect([...evaluateFilter({ op: 'in', column: 'c', values: listedWords }, tb)]).toEqual(words.map((w) => (wanted.has(w) ? 1 : 0)));
  });
});

describe('IN work per batch', () => {
  const tsType = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
  const tsBatch = (from: number, n: number) => batchOf(fixed(tsType, BigInt64Array, Array.from({ length: n }, (_, i) => BigInt(from + i) * 1_000_000n), 0n));

  it('builds one set per node for all its batches, never one scan per listed value', () => {
    const values = Array.from({ length: 1000 }, (_, k) => new Date(k * 3000));
    const e: FilterExpr = { op: 'in', column: 'c', values };
    const builds = inWork.inSetBuilds;
    const scans = inWork.inValueScans;
    let hits = 0;
    for (let k = 0; k < 20; k++) for (const x of evaluateFilter(e, tsBatch(k * 100, 100))) hits += x;
    expect(hits).toBe(667); // seconds 0, 3, ..., 1998
    expect(inWork.inSetBuilds - builds).toBe(1);
    expect(inWork.inValueScans - scans).toBe(0);
  });

  it('builds one set per column type of a node, and a new one for a new node or list', () => {
    const values = Array.from({ length: 50 }, (_, k) => k);
    const e: FilterExpr = { op: 'in', column: 'c', values };
    const builds = inWork.inSetBuilds;
    const i64 = batchOf(fixed(new Int64(), BigInt64Array, [1n, 2n, 60n], 0n));
    const i32 = batchOf(fixed(new Int32(), Int32Array, [1, 2, 60], 0));
    for (let k = 0; k < 5; k++) {
      expect([...evaluateFilter(e, i64)]).toEqual([1, 1, 0]);
      expect([...evaluateFilter(e, i32)]).toEqual([1, 1, 0]);
    }
    expect(inWork.inSetBuilds - builds).toBe(2);
    // a copy of the node, or the node with another list, is compiled anew (and answers for its list)
    expect([...evaluateFilter({ ...e, values: [...values.slice(3), 60, 61, 62] }, i32)]).toEqual([0, 0, 1]);
    expect(inWork.inSetBuilds - builds).toBe(3);
    // nested in and/or/not, the node is the same object batch after batch
    const nested: FilterExpr = { op: 'and', args: [{ op: 'not', arg: e }, { op: 'isNotNull', column: 'c' }] };
    for (let k = 0; k < 5; k++) expect([...evaluateFilter(nested, i32)]).toEqual([0, 0, 1]);
    expect(inWork.inSetBuilds - builds).toBe(3);
  });

  it('a literal of another type fails on every batch, and builds nothing', () => {
    const e: FilterExpr = { op: 'in', column: 'c', values: [...Array.from({ length: 20 }, (_, k) => new Date(k)), 'not a time'] };
    const builds = inWork.inSetBuilds;
    for (let k = 0; k < 3; k++) expect(() => evaluateFilter(e, tsBatch(0, 10))).toThrow(/not a timestamp/);
    expect(inWork.inSetBuilds).toBe(builds);
  });

  it('hashes 64-bit keys by both words: i << 32 spreads over distinct slots', () => {
    const bits = 18;
    const slotsOf = (key: (i: number) => [number, number]) => {
      const slots = new Set<number>();
      for (let i = 0; i < 1 << 16; i++) slots.add(hash64(...key(i)) >>> (32 - bits));
      return slots.size;
    };
    // 65536 keys over 2^18 slots: a random function reaches about 88% distinct; the low word alone 1 slot
    expect(slotsOf((i) => [0, i])).toBeGreaterThan(0.8 * (1 << 16));
    expect(slotsOf((i) => [i, 0])).toBeGreaterThan(0.8 * (1 << 16));
    expect(slotsOf((i) => [0x5a001000, 0x194e3f0 + i])).toBeGreaterThan(0.8 * (1 << 16)); // snowflake ids 1024 ms apart
    expect(slotsOf((i) => [i & 0xff, i >>> 8])).toBeGreaterThan(0.8 * (1 << 16));
  });
});
