import { describe, expect, it } from 'vitest';
import { Decimal, Field, Float16, Float32, Float64, Int32, Int64, Schema, Table, TimeUnit, Timestamp, Utf8, Bool, DateDay, makeData, makeVector, vectorFromArray, RecordBatch } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { FilterExpr } from '../types.js';
import { evaluateFilter, filterBatch, filterColumns, isPkOnly, maskPositions, normalizeFilter, parseFilter, rowGroupMayMatch } from './index.js';
import { encodeParquet, readParquetFooter } from '../parquet/index.js';
import { seededRandom } from '../arrow/sample-tables.js';

describe('parseFilter', () => {
  it('parses the documented grammar', () => {
    expect(parseFilter("label = 'cat' and score >= 0.5 or id in (1, 2, 3) and not (note is null)")).toEqual({
      op: 'or',
      args: [
        { op: 'and', args: [{ op: '=', column: 'label', value: 'cat' }, { op: '>=', column: 'score', value: 0.5 }] },
        { op: 'and', args: [{ op: 'in', column: 'id', values: [1, 2, 3] }, { op: 'not', arg: { op: 'isNull', column: 'note' } }] },
      ],
    });
    expect(parseFilter(`"my col" <> 'it''s' AND x IS NOT NULL`)).toEqual({
      op: 'and',
      args: [{ op: '!=', column: 'my col', value: "it's" }, { op: 'isNotNull', column: 'x' }],
    });
    expect(parseFilter('id = 9007199254740993')).toEqual({ op: '=', column: 'id', value: 9007199254740993n });
    // a whole number written with a fraction or an exponent is that whole number, exactly (it was the
    // double 9007199254740992 and matched that row of an int64 column)
    expect(parseFilter('id = 9007199254740993.0')).toEqual({ op: '=', column: 'id', value: 9007199254740993n });
    expect(parseFilter('id >= 9007199254740993e0')).toEqual({ op: '>=', column: 'id', value: 9007199254740993n });
    expect(parseFilter('id = -90071992547409930e-1')).toEqual({ op: '=', column: 'id', value: -9007199254740993n });
    expect(parseFilter('id = 1.2e1')).toEqual({ op: '=', column: 'id', value: 12 });
    expect(parseFilter('x = 0.0 or x = 2.50 or x = .5 or x = 1e400')).toEqual({ op: 'or', args: [0, 2.5, 0.5, Infinity].map((value) => ({ op: '=', column: 'x', value })) });
    // a fraction whose double is another decimal keeps its text (decimal and integer columns compare with it)
    expect(parseFilter('x = 1e-400')).toEqual({ op: '=', column: 'x', value: 0, text: '1e-400' });
    expect(parseFilter('id = 9007199254740992.5')).toEqual({ op: '=', column: 'id', value: 9007199254740992, text: '9007199254740992.5' });
    expect(parseFilter('id > -5')).toEqual({ op: '>', column: 'id', value: -5 });
    expect(parseFilter('5 < id')).toEqual({ op: '>', column: 'id', value: 5 });
    expect(parseFilter('b = true or b = false or b = null')).toMatchObject({ op: 'or' });
    expect(parseFilter("ts >= TIMESTAMP '2024-01-02 03:04:05.678'")).toEqual({ op: '>=', column: 'ts', value: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)) });
    expect(parseFilter("ts < timestamp '2024-01-02T03:04:05+02:00'")).toEqual({ op: '<', column: 'ts', value: new Date(Date.UTC(2024, 0, 2, 1, 4, 5)) });
    expect(parseFilter("d = DATE '2024-02-29'")).toEqual({ op: '=', column: 'd', value: new Date(Date.UTC(2024, 1, 29)) });
    // years 0-99 are those years (Date.UTC would take them for 1900-1999), and year 0 is a leap year
    expect(parseFilter("d = DATE '0050-06-01'")).toEqual({ op: '=', column: 'd', value: new Date('0050-06-01T00:00:00Z') });
    expect(parseFilter("d = DATE '0000-02-29'")).toEqual({ op: '=', column: 'd', value: new Date('0000-02-29T00:00:00Z') });
    expect(parseFilter("ts = TIMESTAMP '0001-01-01 00:00:01.5+01:00'")).toEqual({ op: '=', column: 'ts', value: new Date('0000-12-31T23:00:01.500Z') });
    expect(parseFilter('x not in (1e3, .5)')).toEqual({ op: 'not', arg: { op: 'in', column: 'x', values: [1000, 0.5] } });
    expect(parseFilter('date = 3')).toEqual({ op: '=', column: 'date', value: 3 });
  });

  it('parses BETWEEN, LIKE, NOT IN, <> and column-to-column comparisons', () => {
    expect(parseFilter('x between 1 and 5 and y = 2')).toEqual({
      op: 'and',
      args: [{ op: 'and', args: [{ op: '>=', column: 'x', value: 1 }, { op: '<=', column: 'x', value: 5 }] }, { op: '=', column: 'y', value: 2 }],
    });
    expect(normalizeFilter('x between 1 and 5 and y = 2')).toEqual({
      op: 'and',
      args: [{ op: '>=', column: 'x', value: 1 }, { op: '<=', column: 'x', value: 5 }, { op: '=', column: 'y', value: 2 }],
    });
    expect(parseFilter("x NOT BETWEEN DATE '2024-01-01' AND DATE '2024-02-01'")).toEqual({
      op: 'not',
      arg: { op: 'and', args: [{ op: '>=', column: 'x', value: new Date(Date.UTC(2024, 0, 1)) }, { op: '<=', column: 'x', value: new Date(Date.UTC(2024, 1, 1)) }] },
    });
    expect(parseFilter("name like 'ab%'")).toEqual({ op: 'like', column: 'name', pattern: 'ab%' });
    expect(parseFilter("name not like '%x_'")).toEqual({ op: 'not', arg: { op: 'like', column: 'name', pattern: '%x_' } });
    expect(parseFilter('a <> b')).toEqual({ op: 'compare', left: 'a', cmp: '!=', right: 'b' });
    expect(parseFilter('a < "b c" or a >= date')).toEqual({
      op: 'or',
      args: [{ op: 'compare', left: 'a', cmp: '<', right: 'b c' }, { op: 'compare', left: 'a', cmp: '>=', right: 'date' }],
    });
    expect(parseFilter("a != 'b'")).toEqual({ op: '!=', column: 'a', value: 'b' });
    expect(parseFilter('id not in (1, 2)')).toEqual({ op: 'not', arg: { op: 'in', column: 'id', values: [1, 2] } });
    expect(() => parseFilter('x between 1 or 2')).toThrow(/expected AND in BETWEEN/);
    expect(() => parseFilter('x like 3')).toThrow(/expected a quoted LIKE pattern/);
    // An unquoted word on the right is a column: with a schema, the error says to quote text.
    const schema = new Schema([new Field('kind', new Utf8())]);
    expect(() => parseFilter('kind = click', schema)).toThrow(/unknown column 'click'.*quote it: 'click'/);
  });

  it('reports syntax errors with the position', () => {
    const err = (s: string) => {
      try {
        parseFilter(s);
      } catch (e) {
        expect(e).toBeInstanceOf(LakeSoulError);
        expect((e as LakeSoulError).kind).toBe('InvalidArgument');
        return (e as LakeSoulError).message;
      }
      throw new Error(`no error for ${s}`);
    };
    expect(err("a = 'x")).toMatch(/position 4: unterminated string/);
    expect(err('a = ')).toMatch(/position 4: expected a literal, found end of input/);
    expect(err('a == 1')).toMatch(/position 3: expected a literal/);
    expect(err('(a = 1')).toMatch(/position 6: expected '\)'/);
    expect(err('a = 1 b = 2')).toMatch(/position 6: unexpected 'b'/);
    expect(err('a in (1 2)')).toMatch(/position 8: expected ',' or '\)'/);
    expect(err("d = DATE '2024-02-30'")).toMatch(/invalid DATE literal/);
    expect(err("d = DATE '1900-02-29'")).toMatch(/invalid DATE literal/);
    expect(err("t = TIMESTAMP '2024-01-01 24:00:00'")).toMatch(/invalid TIMESTAMP literal/);
    expect(err("t = TIMESTAMP '2023-02-29 10:00:00Z'")).toMatch(/invalid TIMESTAMP literal/);
    for (const tz of ['+25:00', '+99:59', '+00:60', '-2400']) expect(err(`t = TIMESTAMP '2024-01-01 00:00:00${tz}'`), tz).toMatch(new RegExp(`UTC offset \\${tz} is beyond ±23:59`));
    expect(parseFilter("t = TIMESTAMP '2024-01-01 00:00:00-23:59'")).toEqual({ op: '=', column: 't', value: new Date('2024-01-01T23:59:00.000Z') });
    expect(err('a # 1')).toMatch(/position 2: unexpected character '#'/);
    const schema = new Schema([new Field('a', new Int32())]);
    expect(() => parseFilter('a = 1 and bogus = 2', schema)).toThrow(/unknown column 'bogus'/);
  });

  it('normalizes ASTs and strings; columns; pk-only', () => {
    const n = normalizeFilter({ op: 'and', args: [{ op: 'and', args: [{ op: '=', column: 'a', value: 1 }] }, { op: 'or', args: [{ op: 'isNull', column: 'b' }] }] } as FilterExpr);
    expect(n).toEqual({ op: 'and', args: [{ op: '=', column: 'a', value: 1 }, { op: 'isNull', column: 'b' }] });
    expect(() => normalizeFilter({ op: 'bogus', column: 'a' } as any)).toThrow(/unknown op 'bogus'/);
    expect(() => normalizeFilter({ op: 'like', column: 'a' } as any)).toThrow(/'like' on 'a' needs a string pattern/);
    expect(() => normalizeFilter({ op: 'compare', left: 'a', cmp: '~', right: 'b' } as any)).toThrow(/unknown operator '~'/);
    expect(() => normalizeFilter({ op: 'in', column: 'a', values: [] } as any)).toThrow(/non-empty/);
    expect(filterColumns(parseFilter('a = 1 and (b = 2 or a = 3) and not c is null'))).toEqual(['a', 'b', 'c']);
    expect(isPkOnly(parseFilter('id > 3 and id < 9'), ['id'])).toBe(true);
    expect(isPkOnly(parseFilter('id > 3 and x < 9'), ['id'])).toBe(false);
  });
});

function sampleBatch(n: number, seed: number): RecordBatch {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const ts = new BigInt64Array(n);
  const tsValid = new Uint8Array(((n + 63) & ~63) >> 3);
  let tsNulls = 0;
  for (let i = 0; i < n; i++) {
    if (rnd() < 0.1) tsNulls++;
    else {
      ts[i] = BigInt(Date.UTC(2024, 0, 1 + Math.floor(rnd() * 10))) * 1000n + BigInt(Math.floor(rnd() * 1000));
      tsValid[i >> 3] |= 1 << (i & 7);
    }
  }
  const t = new Table({
    i: vectorFromArray(Array.from({ length: n }, () => (rnd() < 0.1 ? null : Math.floor(rnd() * 20) - 10)), new Int32()),
    big: vectorFromArray(Array.from({ length: n }, () => (rnd() < 0.1 ? null : BigInt(Math.floor(rnd() * 20)) * 2n ** 55n)), new Int64()),
    f: vectorFromArray(Array.from({ length: n }, () => (rnd() < 0.1 ? null : pick([NaN, -1.5, 0, 2.25, 7]))), new Float64()),
    s: vectorFromArray(Array.from({ length: n }, () => (rnd() < 0.1 ? null : pick(['a', 'b', 'é', 'Z', '', 'ab', '😀']))), new Utf8()),
    b: vectorFromArray(Array.from({ length: n }, () => (rnd() < 0.1 ? null : rnd() < 0.5)), new Bool()),
    d: makeVector(makeData({ type: new DateDay(), length: n, data: Int32Array.from({ length: n }, () => 19700 + Math.floor(rnd() * 10)) })),
    ts: makeVector(makeData({ type: new Timestamp(TimeUnit.MICROSECOND, 'UTC'), length: n, nullCount: tsNulls, nullBitmap: tsValid, data: ts })),
  });
  return t.batches[0];
}

/** Reference evaluator on plain JS values (three-valued). */
function refEval(e: FilterExpr, row: Record<string, any>): boolean | null {
  const enc = new TextEncoder();
  const cmp = (a: any, b: any): number | null => {
    if (a === null || b === null) return null;
    if (typeof a === 'string') return Buffer.compare(enc.encode(a), enc.encode(b));
    if (typeof a === 'boolean') return Number(a) - Number(b);
    if (typeof a === 'number' && Number.isNaN(a)) return NaN;
    if (typeof b === 'number' && Number.isNaN(b)) return NaN;
    return a < b ? -1 : a > b ? 1 : 0;
  };
  switch (e.op) {
    case 'and': {
      const r = e.args.map((a) => refEval(a, row));
      return r.includes(false) ? false : r.includes(null) ? null : true;
    }
    case 'or': {
      const r = e.args.map((a) => refEval(a, row));
      return r.includes(true) ? true : r.includes(null) ? null : false;
    }
    case 'not': {
      const r = refEval(e.arg, row);
      return r === null ? null : !r;
    }
    case 'isNull':
      return row[e.column] === null;
    case 'isNotNull':
      return row[e.column] !== null;
    case 'like': {
      if (row[e.column] === null) return null;
      // Reference LIKE: backtracking over code points.
      const str = [...(row[e.column] as string)];
      const pat = [...e.pattern];
      const m = (i: number, j: number): boolean => {
        if (j === pat.length) return i === str.length;
        if (pat[j] === '%') return m(i, j + 1) || (i < str.length && m(i + 1, j));
        if (i === str.length) return false;
        if (pat[j] === '_') return m(i + 1, j + 1);
        const lit = pat[j] === '\\' && j + 1 < pat.length ? pat[++j] : pat[j];
        return str[i] === lit && m(i + 1, j + 1);
      };
      return m(0, 0);
    }
    case 'compare': {
      const c = cmp(row[e.left], row[e.right]);
      if (c === null) return null;
      if (Number.isNaN(c)) return e.cmp === '!=';
      return { '=': c === 0, '!=': c !== 0, '<': c < 0, '<=': c <= 0, '>': c > 0, '>=': c >= 0 }[e.cmp];
    }
    case 'in': {
      if (row[e.column] === null) return null;
      const r = e.values.map((v) => refEval({ op: '=', column: e.column, value: v }, row));
      return r.includes(true) ? true : r.includes(null) ? null : false;
    }
    default: {
      let v: any = e.value;
      if (v instanceof Date) v = e.column === 'ts' ? BigInt(v.getTime()) * 1000n : v.getTime();
      const c = cmp(row[e.column], v);
      if (c === null) return null;
      if (Number.isNaN(c)) return e.op === '!=';
      return { '=': c === 0, '!=': c !== 0, '<': c < 0, '<=': c <= 0, '>': c > 0, '>=': c >= 0 }[e.op];
    }
  }
}

function randomFilter(rnd: () => number, depth = 0): FilterExpr {
  const r = rnd();
  if (depth < 3 && r < 0.3) {
    const op = rnd() < 0.5 ? 'and' : 'or';
    return { op, args: [randomFilter(rnd, depth + 1), randomFilter(rnd, depth + 1)] };
  }
  if (depth < 3 && r < 0.4) return { op: 'not', arg: randomFilter(rnd, depth + 1) };
  const cols = ['i', 'big', 'f', 's', 'b', 'd', 'ts'] as const;
  const column = cols[Math.floor(rnd() * cols.length)];
  const lit = (): any => {
    if (rnd() < 0.05) return null;
    switch (column) {
      case 'i':
        return Math.floor(rnd() * 24) - 12;
      case 'big':
        return rnd() < 0.5 ? BigInt(Math.floor(rnd() * 20)) * 2n ** 55n : Math.floor(rnd() * 20) * 2 ** 55;
      case 'f':
        return [-1.5, 0, 2.25, 7, 3][Math.floor(rnd() * 5)];
      case 's':
        return ['a', 'b', 'é', 'Z', '', 'ab', 'aa', '😀', '\uffff'][Math.floor(rnd() * 9)];
      case 'b':
        return rnd() < 0.5;
      case 'd':
        return new Date((19700 + Math.floor(rnd() * 12) - 1) * 86400000 + (rnd() < 0.3 ? 3600000 : 0));
      default:
        return new Date(Date.UTC(2024, 0, 1 + Math.floor(rnd() * 11)) + (rnd() < 0.5 ? 0 : Math.floor(rnd() * 1000)));
    }
  };
  const k = rnd();
  if (k < 0.05) {
    const pairs = [['i', 'big'], ['i', 'f'], ['big', 'f'], ['s', 's'], ['ts', 'ts'], ['d', 'd'], ['b', 'b'], ['f', 'i']] as const;
    const [left, right] = pairs[Math.floor(rnd() * pairs.length)];
    const ops = ['=', '!=', '<', '<=', '>', '>='] as const;
    return { op: 'compare', left, cmp: ops[Math.floor(rnd() * 6)], right };
  }
  if (k < 0.1 && column === 's') {
    return { op: 'like', column, pattern: ['a%', '%b', '_', 'a_', '%', '', 'é%', '😀', 'a\\%', '\uffff%'][Math.floor(rnd() * 10)] };
  }
  if (k < 0.1) return { op: rnd() < 0.5 ? 'isNull' : 'isNotNull', column };
  if (k < 0.25) return { op: 'in', column, values: Array.from({ length: rnd() < 0.5 ? 3 : 12 }, lit) }; // > 8 values: hash-set path
  const ops = ['=', '!=', '<', '<=', '>', '>='] as const;
  return { op: ops[Math.floor(rnd() * 6)], column, value: lit() };
}

function rowsOf(b: RecordBatch): Record<string, any>[] {
  const out: Record<string, any>[] = [];
  for (let i = 0; i < b.numRows; i++) {
    const row: Record<string, any> = {};
    for (const f of b.schema.fields) {
      const v = b.getChild(f.name)!;
      if (!v.isValid(i)) row[f.name] = null;
      else if (f.name === 'ts') row[f.name] = (v.data[0].values as BigInt64Array)[i];
      else if (f.name === 'd') row[f.name] = (v.data[0].values as Int32Array)[i] * 86400000;
      else row[f.name] = v.get(i);
    }
    out.push(row);
  }
  return out;
}

describe('maskPositions', () => {
  it('equals a byte-by-byte scan on random masks, aligned or not, dense or sparse', () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    for (const density of [0, 0.001, 0.3, 1]) {
      for (const len of [0, 1, 3, 4, 5, 63, 1000, 4099]) {
        const buf = new Uint8Array(len + 3);
        for (let i = 0; i < buf.length; i++) buf[i] = rnd() < density ? 1 : 0;
        for (const start of [0, 1, 3]) {
          const mask = buf.subarray(start, start + len);
          const want: number[] = [];
          mask.forEach((b, i) => b === 1 && want.push(i));
          const got = maskPositions(mask);
          expect(got === null ? [] : Array.from(got)).toEqual(want);
          if (want.length === 0) expect(got).toBeNull();
        }
      }
    }
  });
});

describe('evaluateFilter / filterBatch', () => {
  it('matches a reference three-valued evaluator on random filters', () => {
    const batch = sampleBatch(400, 3);
    const rows = rowsOf(batch);
    const rnd = seededRandom(99);
    for (let t = 0; t < 400; t++) {
      const f = randomFilter(rnd);
      const mask = evaluateFilter(f, batch);
      const want = rows.map((r) => (refEval(f, r) === true ? 1 : 0));
      expect(Array.from(mask), JSON.stringify(f, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))).toEqual(want);
    }
  });

  it('filters batches; SQL nulls; type errors name the column', () => {
    const t = new Table({ a: vectorFromArray([1, null, 3, 4], new Int32()), s: vectorFromArray(['x', 'y', null, 'x'], new Utf8()) }).batches[0];
    expect(filterBatch(t, parseFilter("s = 'x'")).getChild('a')!.toArray()).toEqual(new Int32Array([1, 4]));
    expect(filterBatch(t, parseFilter('not (a = 1)')).getChild('a')!.toArray()).toEqual(new Int32Array([3, 4]));
    expect(filterBatch(t, parseFilter('a in (1, null)')).numRows).toBe(1);
    expect(filterBatch(t, parseFilter('not a in (1, null)')).numRows).toBe(0);
    expect(filterBatch(t, parseFilter('a = null')).numRows).toBe(0);
    expect(filterBatch(t, parseFilter('a is null or s is null')).numRows).toBe(2);
    expect(filterBatch(t, parseFilter('a > 0 or a is null'))).toBe(t); // all pass: no copy
    expect(() => evaluateFilter(parseFilter("a = 'x'"), t)).toThrow(/column 'a' \(Int32\)/);
    // decimals compare exactly against numbers, bigints and decimal strings
    const dec = makeVector(makeData({ type: new Decimal(2, 10, 128), length: 4, data: new Uint32Array([12345, 0, 0, 0, 100, 0, 0, 0, 0xffffff9c, 0xffffffff, 0xffffffff, 0xffffffff, 0, 0, 0, 0]) }));
    const db = new Table({ dec }).batches[0]; // 123.45, 1.00, -1.00, 0.00
    expect(Array.from(evaluateFilter(parseFilter('dec = 123.45'), db))).toEqual([1, 0, 0, 0]);
    expect(Array.from(evaluateFilter(parseFilter("dec = '1.000'"), db))).toEqual([0, 1, 0, 0]);
    expect(Array.from(evaluateFilter(parseFilter('dec < 0'), db))).toEqual([0, 0, 1, 0]);
    expect(Array.from(evaluateFilter(parseFilter('dec >= 1.001'), db))).toEqual([1, 0, 0, 0]);
    expect(Array.from(evaluateFilter({ op: '>', column: 'dec', value: 1n }, db))).toEqual([1, 0, 0, 0]);
    expect(() => evaluateFilter(parseFilter('zz = 1'), t)).toThrow(/unknown column 'zz'/);
    expect(() => evaluateFilter(parseFilter('a < s'), t)).toThrow(/column 'a' \(Int32\) with column 's' \(Utf8\)/);
    expect(() => evaluateFilter(parseFilter("a like 'x'"), t)).toThrow(/LIKE needs a text column, 'a'/);
    expect(Array.from(evaluateFilter(parseFilter("s like 'x' or s like '_'"), t))).toEqual([1, 1, 0, 1]);
  });

  it('LIKE with a literal prefix prunes row groups of sorted text', async () => {
    const words = Array.from({ length: 2000 }, (_, i) => `w${String(i).padStart(4, '0')}`);
    const b = new Table({ s: vectorFromArray(words, new Utf8()) }).batches[0];
    const bytes = encodeParquet(b, { rowGroupSize: 200 });
    const footer = await readParquetFooter(bytes, bytes.length);
    const kept = (pattern: string) => footer.rowGroups.filter((g) => rowGroupMayMatch({ op: 'like', column: 's', pattern }, g.columns, g.numRows)).length;
    expect(kept('w05%')).toBe(1);
    expect(kept('w1%')).toBe(5);
    expect(kept('w05_1')).toBe(1);
    expect(kept('%5')).toBe(10);
    expect(kept('x%')).toBe(0);
    const between = footer.rowGroups.filter((g) => rowGroupMayMatch(normalizeFilter("s between 'w0100' and 'w0250'"), g.columns, g.numRows)).length;
    expect(between).toBe(2);
  });
});

describe('IN on 64-bit integer columns', () => {
  it('is exact at and beyond 2^53, for signed and unsigned columns, with and without large literals', () => {
    const P = 2n ** 53n;
    const values = [0n, -1n, 1n, P - 1n, P, P + 1n, -P, -P - 1n, -P + 1n, 2n ** 62n, -(2n ** 63n), 4294967296n, 4294967295n, -4294967296n, 123456789012345n];
    const batch = new Table({ id: vectorFromArray(values, new Int64()) }).batches[0];
    const rows = (f: FilterExpr) => [...evaluateFilter(f, batch)].flatMap((m, i) => (m ? [i] : []));
    const at = (...vs: bigint[]) => vs.map((v) => values.indexOf(v)).sort((a, b) => a - b);
    // literals inside [-2^53, 2^53): rows outside that range never match, even where a double would round onto a literal
    expect(rows({ op: 'in', column: 'id', values: [Number(P - 1n), -Number(P), 4294967296, -1, 0] })).toEqual(at(P - 1n, -P, 4294967296n, -1n, 0n));
    expect(rows({ op: 'in', column: 'id', values: [-4294967296, 4294967295, 123456789012345, 7, 1.5] })).toEqual(at(-4294967296n, 4294967295n, 123456789012345n));
    // a literal at 2^53 or beyond takes the exact BigInt path
    expect(rows({ op: 'in', column: 'id', values: [P, P + 1n, -P - 1n, 2n ** 62n, -(2n ** 63n), 1] })).toEqual(at(P, P + 1n, -P - 1n, 2n ** 62n, -(2n ** 63n), 1n));
    const unsigned = [0n, 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n, 4294967296n];
    const ub = new Table({ u: makeVector(BigUint64Array.from(unsigned)) }).batches[0];
    const urows = (f: FilterExpr) => [...evaluateFilter(f, ub)].flatMap((m, i) => (m ? [i] : []));
    expect(urows({ op: 'in', column: 'u', values: [1, Number(2n ** 53n - 1n), 4294967296] })).toEqual([1, 2, 5]);
    expect(urows({ op: 'in', column: 'u', values: [2n ** 64n - 1n, 0] })).toEqual([0, 4]);
  });

  it('agrees with a BigInt set on random values and many literals (colliding low halves included)', () => {
    const rnd = seededRandom(64);
    const word = () => BigInt(Math.floor(rnd() * 2 ** 32));
    const pick = () => BigInt.asIntN(64, (word() << 32n) | word());
    const n = 20_000;
    const values = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? BigInt(i) : i % 3 === 1 ? (BigInt(i) << 32n) | 7n : pick()));
    const batch = new Table({ id: vectorFromArray(values, new Int64()) }).batches[0];
    const literals = [...Array.from({ length: 700 }, () => values[Math.floor(rnd() * n)]), ...Array.from({ length: 300 }, pick), ...Array.from({ length: 50 }, (_, k) => (BigInt(k) << 32n) | 7n)];
    const want = new Set(literals);
    const got = evaluateFilter({ op: 'in', column: 'id', values: literals }, batch);
    const bad = values.map((v, i) => (got[i] === 1) !== want.has(v)).filter(Boolean).length;
    expect(bad).toBe(0);
    expect(got.reduce((a, b) => a + b, 0)).toBeGreaterThan(600);
  });
});

describe('exact comparisons: float16 and sub-millisecond timestamps', () => {
  it('float16 columns compare as floats, against literals and against other columns', () => {
    // -1.5, 0.5, 0.25, 2 and NaN as IEEE half floats
    const half = makeVector(makeData({ type: new Float16(), length: 5, nullCount: 0, data: Uint16Array.of(0xbe00, 0x3800, 0x3400, 0x4000, 0x7e00) }));
    const other = vectorFromArray([0, 0.5, 0.5, 3, 1], new Float64());
    const batch = new Table({ h: half, o: other }).batches[0];
    const rows = (f: string) => [...evaluateFilter(normalizeFilter(f), batch)].flatMap((m, i) => (m ? [i] : []));
    expect(rows('h > 0.5')).toEqual([3]);
    expect(rows('h >= 0.25')).toEqual([1, 2, 3]);
    expect(rows('h = 0.5')).toEqual([1]);
    expect(rows('h != 0.5')).toEqual([0, 2, 3, 4]);
    expect(rows('h in (0.25, 2)')).toEqual([2, 3]);
    expect(rows('h < o')).toEqual([0, 2, 3]);
  });

  it('timestamp literals keep every fraction digit, in any column unit; statistics do not prune inside the literal\'s millisecond', () => {
    const us = makeVector(makeData({ type: new Timestamp(TimeUnit.MICROSECOND), length: 3, nullCount: 0, data: BigInt64Array.of(1704067200000000n, 1704067200000001n, 1704067200001000n) }));
    const ms = makeVector(makeData({ type: new Timestamp(TimeUnit.MILLISECOND), length: 3, nullCount: 0, data: BigInt64Array.of(1704067200000n, 1704067200001n, 1704067200002n) }));
    const batch = new Table({ us, ms }).batches[0];
    const rows = (f: string) => [...evaluateFilter(normalizeFilter(f), batch)].flatMap((m, i) => (m ? [i] : []));
    expect(rows("us = '2024-01-01T00:00:00.000001'")).toEqual([1]);
    expect(rows("us = TIMESTAMP '2024-01-01 00:00:00.000001'")).toEqual([1]);
    expect(rows("us < '2024-01-01T00:00:00.000001Z'")).toEqual([0]);
    expect(rows("us > '2024-01-01T00:00:00.0000005'")).toEqual([1, 2]);
    // a literal between two milliseconds lies strictly between them
    expect(rows("ms > '2024-01-01T00:00:00.0015'")).toEqual([2]);
    expect(rows("ms = '2024-01-01T00:00:00.0015'")).toEqual([]);
    expect(rows("ms <= '2024-01-01T00:00:00.0015'")).toEqual([0, 1]);
    const stats = { us: { min: new Date(1704067200000), max: new Date(1704067200000), nullCount: 0 } };
    expect(rowGroupMayMatch(normalizeFilter("us < '2024-01-01T00:00:00.000001'"), stats, 10)).toBe(true);
    expect(rowGroupMayMatch(normalizeFilter("us < '2024-01-01T00:00:00.000000'"), stats, 10)).toBe(false);
  });
});

describe('rowGroupMayMatch', () => {
  it('never prunes a row group holding a matching row, and prunes PK ranges', async () => {
    const n = 4000;
    // sorted by i-ish so row groups have narrow ranges
    const base = sampleBatch(n, 5);
    const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => (base.getChild('d')!.get(x) as number) - (base.getChild('d')!.get(y) as number) || x - y);
    const { takeRows } = await import('../arrow/index.js');
    const sorted = takeRows(base, order);
    const bytes = encodeParquet(sorted, { rowGroupSize: 250 });
    const footer = await readParquetFooter(bytes, bytes.length);
    expect(footer.rowGroups.length).toBe(16);
    const rnd = seededRandom(7);
    let pruned = 0;
    for (let t = 0; t < 300; t++) {
      const f = randomFilter(rnd);
      footer.rowGroups.forEach((g, gi) => {
        const may = rowGroupMayMatch(f, g.columns, g.numRows);
        if (!may) {
          pruned++;
          const part = sorted.slice(gi * 250, gi * 250 + 250);
          const mask = evaluateFilter(f, part);
          expect(mask.reduce((a, b) => a + b, 0), JSON.stringify(f, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))).toBe(0);
        }
      });
    }
    expect(pruned).toBeGreaterThan(100);
    const day = (k: number) => new Date((19700 + k) * 86400000);
    const kept = footer.rowGroups.filter((g) => rowGroupMayMatch({ op: '=', column: 'd', value: day(3) }, g.columns, g.numRows)).length;
    expect(kept).toBeLessThanOrEqual(3);
    expect(rowGroupMayMatch({ op: '=', column: 'nope', value: 1 }, footer.rowGroups[0].columns, 250)).toBe(true);
  });
});

describe('whole-number literals beyond 2^53 against float columns', () => {
  // 1e21 is exactly 10^21; the double 1e300 is not exactly 10^300 but is the double written 1e300;
  // 9007199254740993 (2^53 + 1) lies between the doubles 2^53 and 2^53 + 2: no double is it
  const values = [NaN, 1e300, 1e21, 0, 2 ** 53, 2 ** 53 + 2, Infinity, -1e21, 2 ** 60];
  const at = (...vs: number[]) => vs.map((v) => values.findIndex((x) => Object.is(x, v))).sort((a, b) => a - b);
  const cases: [string, number[]][] = [
    ['f = 1e21', at(1e21)],
    ['f = 1000000000000000000000', at(1e21)],
    ['f = 1e300', at(1e300)],
    ['f >= 1e300', at(1e300, Infinity)],
    ['f > 1e300', at(Infinity)],
    ['f < 1e300', at(1e21, 0, 2 ** 53, 2 ** 53 + 2, -1e21, 2 ** 60)],
    ['f <= -1e21', at(-1e21)],
    ['f = -1e21', at(-1e21)],
    ['f IN (0, 1e21)', at(0, 1e21)],
    ['f IN (0, 1e21, 1e300, 2, 3, 4, 5, 6, 7, 8)', at(0, 1e21, 1e300)], // more than 8 values: the hash-set path
    ['f != 1e21', at(NaN, 1e300, 0, 2 ** 53, 2 ** 53 + 2, Infinity, -1e21, 2 ** 60)],
    ['f NOT IN (1e21)', at(NaN, 1e300, 0, 2 ** 53, 2 ** 53 + 2, Infinity, -1e21, 2 ** 60)],
    ['f NOT IN (1e21, 0, 1, 2, 3, 4, 5, 6, 7, 8)', at(NaN, 1e300, 2 ** 53, 2 ** 53 + 2, Infinity, -1e21, 2 ** 60)],
    ['f = 1152921504606846976', at(2 ** 60)], // 2^60, a double exactly (printed 1152921504606847000)
    ['f = 1152921504606847000', at(2 ** 60)], // the shortest form of that double
    ['f = 9007199254740993', []],
    ['f IN (9007199254740993, 1, 2, 3, 4, 5, 6, 7, 8, 9)', []],
    ['f != 9007199254740993', at(NaN, 1e300, 1e21, 0, 2 ** 53, 2 ** 53 + 2, Infinity, -1e21, 2 ** 60)],
    ['f < 9007199254740993', at(0, 2 ** 53, -1e21)],
    ['f > 9007199254740993', at(1e300, 1e21, 2 ** 53 + 2, Infinity, 2 ** 60)],
    ['f BETWEEN 9007199254740993 AND 1e21', at(2 ** 53 + 2, 1e21, 2 ** 60)],
    ['NOT (f = 1e300)', at(NaN, 1e21, 0, 2 ** 53, 2 ** 53 + 2, Infinity, -1e21, 2 ** 60)],
  ];

  it('row evaluation compares a float with the double the literal denotes; NaN satisfies only != and NOT IN', () => {
    const batch = new Table({ f: vectorFromArray(values, new Float64()) }).batches[0];
    for (const [f, want] of cases) expect([...evaluateFilter(normalizeFilter(f), batch)].flatMap((m, i) => (m ? [i] : [])), f).toEqual(want);
    // float32 and float16 columns take the same rule (2^60 and 0 are exact in both widths)
    const f32 = new Table({ f: vectorFromArray([NaN, 2 ** 60, 0], new Float32()) }).batches[0];
    expect([...evaluateFilter(normalizeFilter('f = 1152921504606847000'), f32)]).toEqual([0, 1, 0]);
    expect([...evaluateFilter(normalizeFilter('f != 1e21'), f32)]).toEqual([1, 1, 1]);
    const half = new Table({ f: makeVector(makeData({ type: new Float16(), length: 2, nullCount: 0, data: Uint16Array.of(0x7e00, 0x7c00) })) }).batches[0]; // NaN, Infinity
    expect([...evaluateFilter(normalizeFilter('f < 1e21'), half)]).toEqual([0, 0]);
    expect([...evaluateFilter(normalizeFilter('f > 1e21'), half)]).toEqual([0, 1]);
    expect([...evaluateFilter(normalizeFilter('f != 1e21'), half)]).toEqual([1, 1]);
  });

  it('row-group statistics decide as row evaluation does (one row per row group, from a real footer)', async () => {
    const finite = values.filter((v) => !Number.isNaN(v));
    const batch = new Table({ f: vectorFromArray(finite, new Float64()) }).batches[0];
    const bytes = encodeParquet(batch, { rowGroupSize: 1 });
    const footer = await readParquetFooter(bytes, bytes.length);
    expect(footer.rowGroups.length).toBe(finite.length);
    for (const [f] of cases) {
      const expr = normalizeFilter(f);
      const rows = [...evaluateFilter(expr, batch)];
      const kept = footer.rowGroups.map((g) => (rowGroupMayMatch(expr, g.columns, g.numRows) ? 1 : 0));
      // never pruned where a row matches; for = and IN, statistics of one value are exact
      rows.forEach((m, i) => m === 1 && expect(kept[i], `${f} row ${finite[i]}`).toBe(1));
      if (/^f (=|IN)/.test(f)) expect(kept, f).toEqual(rows);
    }
    // the single-row file of the report: min = max = 1e300
    const one = { f: { min: 1e300, max: 1e300, nullCount: 0 } };
    expect(rowGroupMayMatch(normalizeFilter('f = 1e300'), one, 1)).toBe(true);
    expect(rowGroupMayMatch(normalizeFilter('f > 1e300'), one, 1)).toBe(false);
    expect(rowGroupMayMatch(normalizeFilter('f = 9007199254740993'), { f: { min: 2 ** 53, max: 2 ** 53, nullCount: 0 } }, 1)).toBe(false);
    expect(rowGroupMayMatch(normalizeFilter('f < 9007199254740993'), { f: { min: 2 ** 53, max: 2 ** 53, nullCount: 0 } }, 1)).toBe(true);
  });
});

describe('timestamp literals beyond int64 nanoseconds (1677-09-21..2262-04-11)', () => {
  const us = (iso: string, micros: bigint) => BigInt(Date.parse(iso)) * 1000n + micros;
  const max = us('9999-12-31T23:59:59.999Z', 999n);
  const min = us('0001-01-01T00:00:00.000Z', 1n);
  const batch = new Table({ ts: makeVector(makeData({ type: new Timestamp(TimeUnit.MICROSECOND, 'UTC'), length: 3, nullCount: 0, data: BigInt64Array.of(max, min, 1704067200000000n) })) }).batches[0];
  const rows = (f: string) => [...evaluateFilter(normalizeFilter(f), batch)].flatMap((m, i) => (m ? [i] : []));

  it('compare exactly with a microsecond column, in row evaluation and statistics', () => {
    expect(rows("ts = TIMESTAMP '9999-12-31T23:59:59.999Z'")).toEqual([]);
    expect(rows("ts = TIMESTAMP '9999-12-31T23:59:59.999999Z'")).toEqual([0]);
    expect(rows("ts = TIMESTAMP '2262-04-11T23:47:16.854775Z'")).toEqual([]);
    expect(rows("ts = TIMESTAMP '2262-04-11T23:47:16.854776Z'")).toEqual([]);
    expect(rows("ts = TIMESTAMP '0001-01-01T00:00:00.000001Z'")).toEqual([1]);
    expect(rows("ts < TIMESTAMP '0001-01-01T00:00:00.000001Z'")).toEqual([]);
    expect(rows("ts > '2262-04-11T23:47:16.854776Z'")).toEqual([0]);
    expect(rows("ts IN (TIMESTAMP '9999-12-31T23:59:59.999999Z', TIMESTAMP '0001-01-01T00:00:00.000001Z')")).toEqual([0, 1]);
    // statistics are whole milliseconds, widened outwards
    const stats = { ts: { min: new Date('9999-12-31T23:59:59.999Z'), max: new Date('+010000-01-01T00:00:00.000Z'), nullCount: 0 } };
    expect(rowGroupMayMatch(normalizeFilter("ts = TIMESTAMP '9999-12-31T23:59:59.999999Z'"), stats, 1)).toBe(true);
    expect(rowGroupMayMatch(normalizeFilter("ts < TIMESTAMP '9999-12-31T23:59:59.998999Z'"), stats, 1)).toBe(false);
    const low = { ts: { min: new Date('0001-01-01T00:00:00.000Z'), max: new Date('0001-01-01T00:00:00.001Z'), nullCount: 0 } };
    expect(rowGroupMayMatch(normalizeFilter("ts = TIMESTAMP '0001-01-01T00:00:00.000001Z'"), low, 1)).toBe(true);
    expect(rowGroupMayMatch(normalizeFilter("ts > TIMESTAMP '0001-01-01T00:00:00.002001Z'"), low, 1)).toBe(false);
  });

  it('a nanosecond column compares with literals beyond its range (they lie beyond every value); text that is no timestamp says why', () => {
    const ns = new Table({ ts: makeVector(makeData({ type: new Timestamp(TimeUnit.NANOSECOND), length: 1, nullCount: 0, data: BigInt64Array.of(2n ** 63n - 1n) })) }).batches[0];
    const nrows = (f: string) => [...evaluateFilter(normalizeFilter(f), ns)].flatMap((m, i) => (m ? [i] : []));
    expect(nrows("ts = '2262-04-11T23:47:16.854775807Z'")).toEqual([0]);
    expect(nrows("ts = '2262-04-11T23:47:16.854775808Z'")).toEqual([]);
    expect(nrows("ts < '2262-04-11T23:47:16.854775808Z'")).toEqual([0]);
    expect(nrows("ts < '9999-12-31T23:59:59.000000001Z'")).toEqual([0]);
    expect(() => rows("ts = '2024-13-01T00:00:00Z'")).toThrow(/'ts'.*'2024-13-01T00:00:00Z', which is not a timestamp: .*not a valid date-time/);
  });
});
