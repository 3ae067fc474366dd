/**
 * Evaluating filters on Arrow batches (SQL three-valued logic) and on Parquet row-group statistics
 * (conservative pruning).
 */
import { Data, RecordBatch, Struct, TimeUnit, Type, makeData, util, type Schema } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { FilterExpr, FilterValue } from '../types.js';
import { decodeDictionary, nullColumn, takeRows } from '../arrow/take-rows.js';
import { TemporalParseError, UNITS_PER_SECOND, parseDateDays, parseTimestamp } from '../arrow/temporal-codec.js';
import { likeMatcher } from './like.js';
import { utf8Text } from '../arrow/data-access.js';
import { decimalOfBigint, decimalOfNumber, integerComparer, numberComparer, parseDecimal, scaledDecimal, type ExactDecimal } from './exact-decimal.js';
import type { LiteralText } from './filter-parse.js';

const F = 0;
const T = 1;
const N = 2; // unknown (SQL NULL)

const encoder = new TextEncoder();


/** Compare strings by code point (= UTF-8 byte order, the order of PK strings). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      // surrogates (U+D800..DFFF) encode code points above U+FFFF: move them above U+E000..FFFF
      x = x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x;
      y = y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y;
      return x - y;
    }
  }
  return a.length - b.length;
}

function cmpBytes(v: Uint8Array, a: number, b: number, lit: Uint8Array): number {
  const la = b - a;
  const m = la < lit.length ? la : lit.length;
  for (let k = 0; k < m; k++) {
    const d = v[a + k] - lit[k];
    if (d !== 0) return d;
  }
  return la - lit.length;
}

type Cmp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** `c` is the sign of a comparison; NaN (an unordered float pair) satisfies only '!='. */
function test(op: Cmp, c: number): boolean {
  if (c !== c) return op === '!=';
  switch (op) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    default:
      return c >= 0;
  }
}

/** A literal as an error message shows it: a number as written when its text is kept, long ones cut. */
function shown(value: FilterValue, text?: string): string {
  const s = text ?? (typeof value === 'string' ? `'${value}'` : String(value));
  return s.length > 80 ? `${s.slice(0, 80)}… (${s.length} characters)` : s;
}

function typeError(column: string, type: unknown, value: FilterValue, text?: string): LakeSoulError {
  return new LakeSoulError('InvalidArgument', `filter compares column '${column}' (${String(type)}) with ${shown(value, text)} of another type`, {
    code: 'FILTER_INVALID',
    context: { column },
  });
}

/**
 * A number literal with a fraction at or beyond 2^53 against a float column: the nearest double is a
 * whole number (`9007199254740992.5` is 9007199254740992), so the comparison is refused rather than
 * answered for another number. Decimal and integer columns compare with such a literal exactly.
 */
function wholeDoubleError(column: string, type: unknown, value: FilterValue, text: string): LakeSoulError {
  return new LakeSoulError(
    'InvalidArgument',
    `filter compares float column '${column}' (${String(type)}) with ${shown(value, text)}, a number with a fraction no double can hold (at 2^53 and beyond doubles are whole numbers): compare with a whole number`,
    { code: 'FILTER_INVALID', context: { column } },
  );
}

/** Whether a literal kept as text (see `LiteralText`) has a double that is a whole number for it. */
function fractionLost(value: FilterValue, text: string | undefined): boolean {
  return text !== undefined && typeof value === 'number' && Math.abs(value) >= 2 ** 53;
}

function toMillis(v: FilterValue, column: string, type: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  // text the way timestamp literals and statistics take it (Date.parse read `-0100-02-22` as year 100)
  const ns = v instanceof Date || typeof v === 'string' ? timestampLiteralNanos(v) : undefined;
  if (ns === undefined) throw typeof v === 'string' ? timestampLiteralError(column, type, v) : typeError(column, type, v);
  return Number(ns / NS_PER_MS) + Number(ns % NS_PER_MS) / 1e6;
}

const NS_PER_MS = 1_000_000n;
const OFFSET_RE = /(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * A timestamp literal as exact nanoseconds since the epoch (UTC): a Date or a number is epoch ms, a
 * string ISO 8601 (a wall time without offset is UTC; a bare date is midnight) with up to 9 fraction
 * digits, none of which is dropped. Not bounded to int64 nanoseconds (1677-09-21..2262-04-11): the
 * result is a bigint compared exactly, so `'9999-12-31T23:59:59.999999Z'` selects that row of a µs
 * column, and a literal beyond a column's range lies beyond all its values. Undefined when `v` is not
 * a timestamp.
 */
export function timestampLiteralNanos(v: FilterValue): bigint | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : BigInt(v.getTime()) * NS_PER_MS;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return undefined;
    return Number.isInteger(v) ? BigInt(v) * NS_PER_MS : BigInt(Math.round(v * 1e6));
  }
  if (typeof v !== 'string') return undefined;
  const text = v.trim();
  const zoned = OFFSET_RE.test(text) && /\d{2}:\d{2}/.test(text);
  try {
    return parseTimestamp(text, TimeUnit.NANOSECOND, zoned, false);
  } catch (e) {
    if (!(e instanceof TemporalParseError)) throw e;
  }
  try {
    return BigInt(parseDateDays(text)) * 86_400_000_000_000n;
  } catch {
    return undefined;
  }
}

/** The error for a literal that is not a timestamp: for text, why it does not parse as one. */
function timestampLiteralError(column: string, type: unknown, value: FilterValue): LakeSoulError {
  if (typeof value !== 'string') return typeError(column, type, value);
  let why = 'it is not an ISO 8601 timestamp';
  try {
    parseTimestamp(value.trim(), TimeUnit.NANOSECOND, false, false);
  } catch (e) {
    if (e instanceof TemporalParseError) why = e.message;
  }
  return new LakeSoulError('InvalidArgument', `filter compares column '${column}' (${String(type)}) with '${value}', which is not a timestamp: ${why}`, { code: 'FILTER_INVALID', context: { column } });
}

/**
 * A number literal as a float column compares with it (row evaluation and every statistics test use
 * this one rule). A number is itself. A bigint (the parser's form of a whole number beyond ±2^53) is
 * the double it denotes: the double equal to it (`1e21`, `2^60`), or else the double whose shortest
 * decimal form it is (`1e300` is the double printed `1e+300`, which is not exactly 10^300). A bigint
 * that denotes no double (`9007199254740993`, between the doubles ...992 and ...994) stays a bigint:
 * no float equals it, and `<`/`>` order floats by exact value. NaN compares with neither.
 */
export function floatLiteral(v: number | bigint): number | bigint {
  if (typeof v === 'number') return v;
  const d = Number(v);
  if (!Number.isFinite(d)) return v;
  if (BigInt(d) === v) return d;
  // the shortest decimal form of an integral double of at least 2^53: digits, or d.ddd e+x
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e\+(\d+))?$/.exec(String(d));
  if (m === null) return v;
  const frac = m[3] ?? '';
  const exp = Number(m[4] ?? 0) - frac.length;
  if (exp < 0) return v;
  const shortest = BigInt(m[2] + frac) * 10n ** BigInt(exp);
  return (m[1] === '-' ? -shortest : shortest) === v ? d : v;
}

/**
 * Compares the integer timestamps of a column in `unit` with an exact nanosecond literal: the sign of
 * `x - literal` for each value, never rounding the literal (a literal between two values of the unit
 * lies strictly between them).
 */
function timestampComparer(unit: number, lit: bigint): (x: bigint) => number {
  const nsPer = 1_000_000_000n / UNITS_PER_SECOND[unit];
  let floor = lit / nsPer;
  const rem = lit - floor * nsPer;
  if (rem < 0n) floor -= 1n;
  const between = rem !== 0n;
  return (x) => (x < floor ? -1 : x > floor ? 1 : between ? -1 : 0);
}

/** A float16 column's values as numbers (Arrow stores them as uint16 bit patterns). */
function halfFloatValues(data: Data): Float64Array {
  const h = data.values as Uint16Array;
  const out = new Float64Array(data.length);
  for (let i = 0; i < out.length; i++) out[i] = util.uint16ToFloat64(h[i]);
  return out;
}

const isHalf = (data: Data): boolean => data.typeId === Type.Float && (data.type as unknown as { precision: number }).precision === 0;

/**
 * Compare every row of `data` with literal `value` using `op`, writing T/F/N into `out`.
 * The literal is converted to the column's representation (see module docs of the filter area).
 */
function compareColumn(data: Data, column: string, op: Cmp, value: FilterValue, out: Uint8Array, text?: string): void {
  const n = data.length;
  if (value === null) {
    out.fill(N);
    return;
  }
  if (data.typeId === Type.Dictionary) data = decodeDictionary(data);
  const type = data.type as any;
  const vals = (isHalf(data) ? halfFloatValues(data) : data.values) as any;
  switch (data.typeId) {
    case Type.Int:
    case Type.Float: {
      if (typeof value !== 'number' && typeof value !== 'bigint') throw typeError(column, type, value, text);
      const isBig = vals instanceof BigInt64Array || vals instanceof BigUint64Array;
      if (text !== undefined && typeof value === 'number') {
        if (data.typeId === Type.Float) {
          // a float column compares with the double (`f = 0.1` is the double 0.1), unless it lost the fraction
          if (fractionLost(value, text)) throw wholeDoubleError(column, type, value, text);
        } else {
          // an integer column compares with the literal as written (`i = 1.00000000000000001` is no integer)
          const dec = parseDecimal(text)!;
          if (isBig) {
            const cmp = integerComparer(dec, 0);
            for (let i = 0; i < n; i++) out[i] = test(op, cmp(vals[i])) ? T : F;
          } else {
            const cmp = numberComparer(dec);
            for (let i = 0; i < n; i++) out[i] = test(op, cmp(vals[i])) ? T : F;
          }
          return;
        }
      }
      if (!isBig && typeof value === 'bigint') {
        const lit = data.typeId === Type.Float ? floatLiteral(value) : value;
        if (typeof lit === 'number') {
          compareColumn(data, column, op, lit, out);
          return;
        }
        // Ordered by exact value (mixed bigint/number comparisons are exact in JS): no float equals
        // it (see floatLiteral), a 32-bit integer only a bigint within its range (`5n`); NaN is unordered.
        for (let i = 0; i < n; i++) {
          const x = vals[i];
          out[i] = test(op, x < lit ? -1 : x > lit ? 1 : x == lit ? 0 : NaN) ? T : F; // eslint-disable-line eqeqeq
        }
        return;
      }
      if (isBig) {
        for (let i = 0; i < n; i++) {
          const x = vals[i];
          // mixed bigint/number comparisons are exact in JS; NaN is unordered (equals no value)
          out[i] = test(op, x < value ? -1 : x > value ? 1 : x == value ? 0 : NaN) ? T : F; // eslint-disable-line eqeqeq
        }
        return;
      }
      const lit = value as number;
      switch (op) {
        case '=':
          for (let i = 0; i < n; i++) out[i] = vals[i] === lit ? T : F;
          return;
        case '!=':
          for (let i = 0; i < n; i++) out[i] = vals[i] !== lit ? T : F;
          return;
        case '<':
          for (let i = 0; i < n; i++) out[i] = vals[i] < lit ? T : F;
          return;
        case '<=':
          for (let i = 0; i < n; i++) out[i] = vals[i] <= lit ? T : F;
          return;
        case '>':
          for (let i = 0; i < n; i++) out[i] = vals[i] > lit ? T : F;
          return;
        default:
          for (let i = 0; i < n; i++) out[i] = vals[i] >= lit ? T : F;
          return;
      }
    }
    case Type.Bool: {
      if (typeof value !== 'boolean') throw typeError(column, type, value, text);
      const lit = value ? 1 : 0;
      for (let i = 0; i < n; i++) {
        const pos = data.offset + i;
        const x = (vals[pos >> 3] >> (pos & 7)) & 1;
        out[i] = test(op, x - lit) ? T : F;
      }
      return;
    }
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Binary:
    case Type.LargeBinary: {
      if (typeof value !== 'string') throw typeError(column, type, value, text);
      const lit = encoder.encode(value);
      const offs = data.valueOffsets as Int32Array | BigInt64Array;
      const big = offs instanceof BigInt64Array;
      for (let i = 0; i < n; i++) {
        const a = big ? Number(offs[i]) : (offs[i] as number);
        const b = big ? Number(offs[i + 1]) : (offs[i + 1] as number);
        out[i] = test(op, cmpBytes(vals, a, b, lit)) ? T : F;
      }
      return;
    }
    case Type.Timestamp: {
      const lit = timestampLiteralNanos(value);
      if (lit === undefined) throw timestampLiteralError(column, type, value);
      const cmp = timestampComparer(type.unit as number, lit);
      for (let i = 0; i < n; i++) out[i] = test(op, cmp(vals[i] as bigint)) ? T : F;
      return;
    }
    case Type.Date: {
      const ms = toMillis(value, column, type);
      if (type.unit === 0) {
        const lit = ms / 86400000;
        for (let i = 0; i < n; i++) out[i] = test(op, vals[i] < lit ? -1 : vals[i] > lit ? 1 : 0) ? T : F;
      } else {
        for (let i = 0; i < n; i++) {
          const x = vals[i] as bigint;
          out[i] = test(op, x < ms ? -1 : x > ms ? 1 : 0) ? T : F;
        }
      }
      return;
    }
    case Type.Decimal: {
      if (type.bitWidth !== 128) break;
      // the column's unscaled values against the literal's exact value at the column's scale: a literal
      // with more fraction digits lies strictly between two values (scale 2: `= 1.005` matches none,
      // `> 1.005` is `>= 1.01`)
      const cmp = integerComparer(decimalLiteral(value, column, type, text), type.scale as number);
      const words = data.values as Uint32Array;
      for (let i = 0; i < n; i++) {
        let v = 0n;
        for (let w = 3; w >= 0; w--) v = (v << 32n) | BigInt(words[4 * i + w]);
        out[i] = test(op, cmp(BigInt.asIntN(128, v))) ? T : F;
      }
      return;
    }
    default:
      break;
  }
  throw new LakeSoulError('Unsupported', `filters on column '${column}' of type ${String(type)} are not supported`, { context: { column } });
}

/**
 * A literal for a decimal column as the exact decimal it denotes: a number literal's kept text (the
 * literal as written, see `LiteralText`), else a number's shortest decimal form (what a double
 * given in an AST reads as), a bigint, or decimal text (`'12.50'`, `'1e-3'`).
 */
function decimalLiteral(value: FilterValue, column: string, type: unknown, text?: string): ExactDecimal {
  if (typeof value === 'bigint') return decimalOfBigint(value);
  if (typeof value === 'number') {
    if (text !== undefined) return parseDecimal(text) ?? decimalOfNumber(value);
    if (!Number.isFinite(value)) throw typeError(column, type, value);
    return decimalOfNumber(value);
  }
  if (typeof value === 'string') {
    const d = parseDecimal(value);
    if (d !== undefined) return d;
  }
  throw typeError(column, type, value);
}

function applyNulls(data: Data, out: Uint8Array): void {
  const bm = data.nullBitmap;
  if (data.typeId === Type.Null) {
    out.fill(N);
    return;
  }
  if (bm === undefined || bm.length === 0 || data.nullCount === 0) return;
  for (let i = 0; i < data.length; i++) {
    const pos = data.offset + i;
    if ((bm[pos >> 3] & (1 << (pos & 7))) === 0) out[i] = N;
  }
}

function columnData(batch: RecordBatch, column: string): Data {
  const k = batch.schema.fields.findIndex((f) => f.name === column);
  if (k < 0) {
    throw new LakeSoulError('InvalidArgument', `filter names unknown column '${column}' (columns: ${batch.schema.fields.map((f) => f.name).join(', ')})`, {
      context: { column },
    });
  }
  return batch.data.children[k] as Data;
}

function evalNode(expr: FilterExpr, batch: RecordBatch): Uint8Array {
  const n = batch.numRows;
  switch (expr.op) {
    case 'and':
    case 'or': {
      const acc = evalNode(expr.args[0], batch);
      for (let a = 1; a < expr.args.length; a++) {
        const x = evalNode(expr.args[a], batch);
        if (expr.op === 'and') {
          for (let i = 0; i < n; i++) {
            const p = acc[i];
            const q = x[i];
            acc[i] = p === F || q === F ? F : p === N || q === N ? N : T;
          }
        } else {
          for (let i = 0; i < n; i++) {
            const p = acc[i];
            const q = x[i];
            acc[i] = p === T || q === T ? T : p === N || q === N ? N : F;
          }
        }
      }
      return acc;
    }
    case 'not': {
      const x = evalNode(expr.arg, batch);
      for (let i = 0; i < n; i++) x[i] = x[i] === T ? F : x[i] === F ? T : N;
      return x;
    }
    case 'isNull':
    case 'isNotNull': {
      const data = columnData(batch, expr.column);
      const out = new Uint8Array(n).fill(expr.op === 'isNull' ? F : T);
      const bm = data.nullBitmap;
      const hasNulls = data.typeId === Type.Null || (bm !== undefined && bm.length > 0 && data.nullCount > 0);
      if (hasNulls) {
        for (let i = 0; i < n; i++) {
          const pos = data.offset + i;
          const isNull = data.typeId === Type.Null || (bm![pos >> 3] & (1 << (pos & 7))) === 0;
          if (isNull) out[i] = expr.op === 'isNull' ? T : F;
        }
      }
      return out;
    }
    case 'in': {
      let data = columnData(batch, expr.column);
      const out = new Uint8Array(n).fill(F);
      const tmp = new Uint8Array(n);
      let sawNull = false;
      if (data.typeId === Type.Dictionary) data = decodeDictionary(data);
      const texts = (expr as LiteralText).texts;
      if (expr.values.length > 8) {
        // a long list: one lookup per row in a set built once for the node (and column type)
        const c = compiledIn(expr);
        const m = inMatcher(c, expr.column, data);
        if (m !== null) {
          m(data, out);
          if (c.hasNull) for (let i = 0; i < n; i++) if (out[i] === F) out[i] = N;
          applyNulls(data, out);
          return out;
        }
      }
      for (let k = 0; k < expr.values.length; k++) {
        const v = expr.values[k];
        if (v === null) {
          sawNull = true;
          continue;
        }
        inWork.inValueScans++;
        compareColumn(data, expr.column, '=', v, tmp, texts?.[k] ?? undefined);
        for (let i = 0; i < n; i++) if (tmp[i] === T) out[i] = T;
      }
      // x IN (..., NULL) is NULL, not false, when no listed value matches
      if (sawNull) for (let i = 0; i < n; i++) if (out[i] === F) out[i] = N;
      applyNulls(data, out);
      return out;
    }
    case 'like': {
      let data = columnData(batch, expr.column);
      if (data.typeId === Type.Dictionary) data = decodeDictionary(data);
      if (data.typeId !== Type.Utf8 && data.typeId !== Type.LargeUtf8) {
        throw new LakeSoulError('InvalidArgument', `filter: LIKE needs a text column, '${expr.column}' is ${String(data.type)}`, { code: 'FILTER_INVALID', context: { column: expr.column } });
      }
      const like = likeMatcher(expr.pattern);
      const out = new Uint8Array(n);
      const vals = data.values as Uint8Array;
      const offs = data.valueOffsets as Int32Array | BigInt64Array;
      for (let i = 0; i < n; i++) out[i] = like.test(utf8Text(vals.subarray(Number(offs[i]), Number(offs[i + 1])))) ? T : F;
      applyNulls(data, out);
      return out;
    }
    case 'compare': {
      const out = compareColumns(columnData(batch, expr.left), expr.left, expr.cmp, columnData(batch, expr.right), expr.right);
      return out;
    }
    default: {
      const data = columnData(batch, expr.column);
      const out = new Uint8Array(n);
      compareColumn(data, expr.column, expr.op, expr.value, out, (expr as LiteralText).text);
      applyNulls(data, out);
      return out;
    }
  }
}

/** The literal prefix of a LIKE pattern (before its first wildcard). */
export function likePrefix(pattern: string): string {
  let out = '';
  const chars = [...pattern];
  for (let k = 0; k < chars.length; k++) {
    const c = chars[k];
    if (c === '%' || c === '_') break;
    if (c === '\\' && k + 1 < chars.length) out += chars[++k];
    else out += c;
  }
  return out;
}

const NUMERIC = new Set([Type.Int, Type.Float]);

/**
 * `left cmp right` row by row. Numbers compare exactly across int/float widths (mixed bigint/number
 * comparisons are exact in JS); text by code points; timestamps, dates and times only against the
 * same type (same unit); a null on either side is unknown.
 */
function compareColumns(a: Data, left: string, cmp: Cmp, b: Data, right: string): Uint8Array {
  if (a.typeId === Type.Dictionary) a = decodeDictionary(a);
  if (b.typeId === Type.Dictionary) b = decodeDictionary(b);
  const n = a.length;
  const out = new Uint8Array(n);
  const ta = a.type as any;
  const tb = b.type as any;
  const text = (t: Data) => t.typeId === Type.Utf8 || t.typeId === Type.LargeUtf8;
  const bad = () =>
    new LakeSoulError('InvalidArgument', `filter compares column '${left}' (${String(ta)}) with column '${right}' (${String(tb)}): the types are not comparable`, {
      code: 'FILTER_INVALID',
      context: { column: left },
    });
  if (NUMERIC.has(a.typeId) && NUMERIC.has(b.typeId)) {
    const x = (isHalf(a) ? halfFloatValues(a) : a.values) as any;
    const y = (isHalf(b) ? halfFloatValues(b) : b.values) as any;
    for (let i = 0; i < n; i++) {
      const p = x[i];
      const q = y[i];
      out[i] = test(cmp, p < q ? -1 : p > q ? 1 : p == q ? 0 : NaN) ? T : F; // eslint-disable-line eqeqeq
    }
  } else if (text(a) && text(b)) {
    const s = (d: Data, i: number) => utf8Text((d.values as Uint8Array).subarray(Number(d.valueOffsets[i]), Number(d.valueOffsets[i + 1])));
    for (let i = 0; i < n; i++) out[i] = test(cmp, Math.sign(compareCodePoints(s(a, i), s(b, i)))) ? T : F;
  } else if (String(ta) === String(tb) && (a.typeId === Type.Timestamp || a.typeId === Type.Date || a.typeId === Type.Time || a.typeId === Type.Bool)) {
    if (a.typeId === Type.Bool) {
      const bit = (d: Data, i: number) => ((d.values as Uint8Array)[(d.offset + i) >> 3] >> ((d.offset + i) & 7)) & 1;
      for (let i = 0; i < n; i++) out[i] = test(cmp, bit(a, i) - bit(b, i)) ? T : F;
    } else {
      const x = a.values as any;
      const y = b.values as any;
      for (let i = 0; i < n; i++) out[i] = test(cmp, x[i] < y[i] ? -1 : x[i] > y[i] ? 1 : 0) ? T : F;
    }
  } else throw bad();
  applyNulls(a, out);
  applyNulls(b, out);
  return out;
}

/**
 * Work counters of `IN` evaluation, for tests that pin its cost by counting rather than timing:
 * `inSetBuilds` counts lookup sets built (one per `in` node and column type, reused by every batch
 * evaluated with that node), `inValueScans` counts whole-column comparisons with one listed value (the
 * value-by-value path, taken for short lists and column types without a set).
 */
export const inWork = { inSetBuilds: 0, inValueScans: 0 };

/** murmur3's 32-bit finalizer: every input bit flips each output bit with probability about 1/2. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * The 32-bit hash of a 64-bit pattern given as its low and high 32-bit words (both words mixed, so
 * values differing only in the high word, `i << 32`, spread like any others). IN sets take a slot
 * from its top bits.
 */
export function hash64(low: number, high: number): number {
  return fmix32(low ^ fmix32(high));
}

/** The hash of a 128-bit pattern given as its four 32-bit words, least significant first. */
function hash128(w0: number, w1: number, w2: number, w3: number): number {
  return fmix32(w0 ^ fmix32(w1 ^ fmix32(w2 ^ fmix32(w3))));
}

/** Bits of an open-addressing table for `count` keys: at most a quarter full. */
function tableBits(count: number): number {
  let bits = 2;
  while (1 << bits < 4 * count) bits++;
  return bits;
}

/**
 * A set of 64- or 128-bit integer patterns (two or four 32-bit words a key), looked up with a column's
 * values in place (no BigInt per row). Linear probing on a table at most a quarter full.
 */
class WordSet {
  private readonly shift: number;
  private readonly mask: number;
  private readonly keys: Int32Array;
  private readonly used: Uint8Array;
  /** distinct keys */
  private size = 0;

  /** `patterns`: the keys' bits (`width` 32-bit words each), each already within the column type's range. */
  constructor(width: 2 | 4, patterns: bigint[]) {
    const bits = tableBits(patterns.length);
    this.shift = 32 - bits;
    this.mask = (1 << bits) - 1;
    this.keys = new Int32Array(width << bits);
    this.used = new Uint8Array(1 << bits);
    const w = [0, 0, 0, 0];
    for (const p of patterns) {
      const u = BigInt.asUintN(32 * width, p);
      for (let j = 0; j < width; j++) w[j] = Number((u >> BigInt(32 * j)) & 0xffffffffn) | 0;
      let h = (width === 2 ? hash64(w[0], w[1]) : hash128(w[0], w[1], w[2], w[3])) >>> this.shift;
      for (;;) {
        if (this.used[h] === 0) {
          this.used[h] = 1;
          for (let j = 0; j < width; j++) this.keys[width * h + j] = w[j];
          this.size++;
          break;
        }
        let same = true;
        for (let j = 0; j < width; j++) if (this.keys[width * h + j] !== w[j]) same = false;
        if (same) break;
        h = (h + 1) & this.mask;
      }
    }
  }

  /** Sets `out[i] = T` for the first `n` 64-bit values of `vals` that are in the set. */
  mark64(vals: BigInt64Array | BigUint64Array, n: number, out: Uint8Array): void {
    if (this.size === 0) return;
    const { keys, used, shift, mask } = this;
    const halves = new Int32Array(vals.buffer, vals.byteOffset, 2 * n); // little-endian: low, high
    for (let i = 0; i < n; i++) {
      const low = halves[2 * i];
      const high = halves[2 * i + 1];
      let h = hash64(low, high) >>> shift;
      while (used[h] === 1) {
        if (keys[2 * h] === low && keys[2 * h + 1] === high) {
          out[i] = T;
          break;
        }
        h = (h + 1) & mask;
      }
    }
  }

  /** Sets `out[i] = T` for the first `n` 128-bit values (four words each, least significant first) in the set. */
  mark128(words: Uint32Array, n: number, out: Uint8Array): void {
    if (this.size === 0) return;
    const { keys, used, shift, mask } = this;
    const w = new Int32Array(words.buffer, words.byteOffset, 4 * n);
    for (let i = 0; i < n; i++) {
      const a = w[4 * i];
      const b = w[4 * i + 1];
      const c = w[4 * i + 2];
      const d = w[4 * i + 3];
      let h = hash128(a, b, c, d) >>> shift;
      while (used[h] === 1) {
        const k = 4 * h;
        if (keys[k] === a && keys[k + 1] === b && keys[k + 2] === c && keys[k + 3] === d) {
          out[i] = T;
          break;
        }
        h = (h + 1) & mask;
      }
    }
  }
}

/** The hash of bytes `v[a..b)`: FNV-1a, then mixed. */
function hashBytes(v: Uint8Array, a: number, b: number): number {
  let h = 0x811c9dc5 ^ (b - a);
  for (let k = a; k < b; k++) h = Math.imul(h ^ v[k], 0x01000193);
  return fmix32(h);
}

/**
 * A set of byte strings (the UTF-8 of string literals), looked up with a utf8/binary column's values
 * in place: rows compare byte for byte, as `=` compares them (no decoding per row).
 */
class BytesSet {
  private readonly shift: number;
  private readonly mask: number;
  /** per slot: 1 + the index of its key, 0 when free */
  private readonly slots: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly starts: Int32Array;
  /** distinct keys */
  private size = 0;

  constructor(keys: Uint8Array[]) {
    const bits = tableBits(keys.length);
    this.shift = 32 - bits;
    this.mask = (1 << bits) - 1;
    this.slots = new Int32Array(1 << bits);
    let total = 0;
    for (const k of keys) total += k.length;
    this.bytes = new Uint8Array(total);
    this.starts = new Int32Array(keys.length + 1);
    let at = 0;
    for (const key of keys) {
      let h = hashBytes(key, 0, key.length) >>> this.shift;
      let dup = false;
      while (this.slots[h] !== 0) {
        const j = this.slots[h] - 1;
        if (this.equals(j, key, 0, key.length)) {
          dup = true;
          break;
        }
        h = (h + 1) & this.mask;
      }
      if (dup) continue;
      const j = this.size;
      this.bytes.set(key, at);
      this.starts[j] = at;
      at += key.length;
      this.starts[j + 1] = at;
      this.slots[h] = j + 1;
      this.size++;
    }
  }

  private equals(j: number, v: Uint8Array, a: number, b: number): boolean {
    const s = this.starts[j];
    if (this.starts[j + 1] - s !== b - a) return false;
    const bytes = this.bytes;
    for (let k = 0; k < b - a; k++) if (bytes[s + k] !== v[a + k]) return false;
    return true;
  }

  /** Sets `out[i] = T` for the rows of a utf8/binary column (`n` rows) whose bytes are in the set. */
  mark(vals: Uint8Array, offs: Int32Array | BigInt64Array, n: number, out: Uint8Array): void {
    if (this.size === 0) return;
    const { slots, shift, mask } = this;
    const big = offs instanceof BigInt64Array;
    for (let i = 0; i < n; i++) {
      const a = big ? Number(offs[i]) : (offs[i] as number);
      const b = big ? Number(offs[i + 1]) : (offs[i + 1] as number);
      let h = hashBytes(vals, a, b) >>> shift;
      while (slots[h] !== 0) {
        if (this.equals(slots[h] - 1, vals, a, b)) {
          out[i] = T;
          break;
        }
        h = (h + 1) & mask;
      }
    }
  }
}

/** Marks `out[i] = T` for the rows of `data` (of the type it was built for) whose value is listed. */
type InMatcher = (data: Data, out: Uint8Array) => void;

const INT64_MIN = -(2n ** 63n);
const INT64_END = 2n ** 63n;
const UINT64_END = 2n ** 64n;
const INT128_MIN = -(2n ** 127n);
const INT128_END = 2n ** 127n;

/** A 64-bit set of `keys` as a matcher of a BigInt64Array/BigUint64Array column; keys beyond the type's range equal no value. */
function matcher64(keys: bigint[], signed: boolean): InMatcher {
  const inRange = keys.filter((v) => (signed ? v >= INT64_MIN && v < INT64_END : v >= 0n && v < UINT64_END));
  const set = new WordSet(2, inRange);
  return (data, out) => set.mark64(data.values as BigInt64Array | BigUint64Array, data.length, out);
}

/**
 * A set of doubles as a matcher of a number-valued column (32-bit integers, floats, float16 bit
 * patterns when `half`): a row matches when `===` to a listed double (Set uses SameValueZero, which
 * differs from `===` only in NaN, never listed; -0 and 0 are one key).
 */
function numberMatcher(set: Set<number>, half: boolean): InMatcher {
  if (half) {
    return (data, out) => {
      const h = data.values as Uint16Array;
      for (let i = 0; i < data.length; i++) if (set.has(util.uint16ToFloat64(h[i]))) out[i] = T;
    };
  }
  return (data, out) => {
    const vals = data.values as Int32Array | Float64Array;
    for (let i = 0; i < data.length; i++) if (set.has(vals[i])) out[i] = T;
  };
}

/**
 * `column IN (values)` as one lookup per row, for every column type `=` compares by a key: integers,
 * floats (float16 too), bool, utf8/binary (large ones too), timestamps of every unit, dates and
 * 128-bit decimals. Each literal becomes the key `=` would find it equal to (or none: a literal equal
 * to no value of the type, such as a timestamp between two ticks of the unit, a fraction against an
 * integer or a decimal with more digits than the scale), with the conversions and the errors of
 * `compareColumn`, in the order of the list. Null for the other types (the value-by-value path
 * decides, and refuses them). Dictionary columns are decoded before.
 */
function compileIn(data: Data, column: string, values: FilterValue[], texts: (string | null)[] | undefined): InMatcher | null {
  const type = data.type as any;
  const vals = data.values as unknown;
  const textOf = (k: number) => texts?.[k] ?? undefined;
  switch (data.typeId) {
    case Type.Int:
    case Type.Float: {
      const lits: (number | bigint)[] = [];
      values.forEach((v, k) => {
        const text = textOf(k);
        if (v === null) return;
        if (typeof v !== 'number' && typeof v !== 'bigint') throw typeError(column, type, v, text);
        if (text === undefined || typeof v !== 'number') lits.push(v);
        else if (data.typeId === Type.Float) {
          if (fractionLost(v, text)) throw wholeDoubleError(column, type, v, text);
          lits.push(v);
        } else {
          // an integer column: the literal as written, which only a whole number equals
          const s = scaledDecimal(parseDecimal(text)!, 0);
          if (s.beyond === undefined && !s.frac) lits.push(s.floor);
        }
      });
      if (vals instanceof BigInt64Array || vals instanceof BigUint64Array) {
        // exact mixed comparisons: only a whole number equals an int64 (NaN and fractions none)
        const keys: bigint[] = [];
        for (const v of lits) if (typeof v === 'bigint' || Number.isInteger(v)) keys.push(BigInt(v));
        return matcher64(keys, vals instanceof BigInt64Array);
      }
      const set = new Set<number>();
      for (const v of lits) {
        const d = floatLiteral(v); // a bigint that stays one equals no value of a 32-bit or float column
        if (typeof d === 'number' && !Number.isNaN(d)) set.add(d === 0 ? 0 : d); // IEEE: NaN equals nothing
      }
      return numberMatcher(set, isHalf(data));
    }
    case Type.Bool: {
      let listT = false;
      let listF = false;
      values.forEach((v, k) => {
        if (v === null) return;
        if (typeof v !== 'boolean') throw typeError(column, type, v, textOf(k));
        if (v) listT = true;
        else listF = true;
      });
      return (d, out) => {
        const bits = d.values as Uint8Array;
        for (let i = 0; i < d.length; i++) {
          const pos = d.offset + i;
          if (((bits[pos >> 3] >> (pos & 7)) & 1) === 1 ? listT : listF) out[i] = T;
        }
      };
    }
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Binary:
    case Type.LargeBinary: {
      const keys: Uint8Array[] = [];
      values.forEach((v, k) => {
        if (v === null) return;
        if (typeof v !== 'string') throw typeError(column, type, v, textOf(k));
        keys.push(encoder.encode(v));
      });
      const set = new BytesSet(keys);
      return (d, out) => set.mark(d.values as Uint8Array, d.valueOffsets as Int32Array | BigInt64Array, d.length, out);
    }
    case Type.Timestamp: {
      if (!(vals instanceof BigInt64Array)) return null;
      // a literal equals a value only when it is a whole number of the unit (timestampComparer)
      const nsPer = 1_000_000_000n / UNITS_PER_SECOND[type.unit as number];
      const keys: bigint[] = [];
      for (const v of values) {
        if (v === null) continue;
        const lit = timestampLiteralNanos(v);
        if (lit === undefined) throw timestampLiteralError(column, type, v);
        if (lit % nsPer === 0n) keys.push(lit / nsPer);
      }
      return matcher64(keys, true);
    }
    case Type.Date: {
      if (type.unit === 0) {
        if (!(vals instanceof Int32Array)) return null;
        // days as compareColumn computes them: a literal within a day equals no value
        const set = new Set<number>();
        for (const v of values) if (v !== null) set.add(toMillis(v, column, type) / 86400000);
        return numberMatcher(set, false);
      }
      if (!(vals instanceof BigInt64Array)) return null;
      const keys: bigint[] = [];
      for (const v of values) {
        if (v === null) continue;
        const ms = toMillis(v, column, type);
        if (Number.isInteger(ms)) keys.push(BigInt(ms));
      }
      return matcher64(keys, true);
    }
    case Type.Decimal: {
      if (type.bitWidth !== 128 || !(vals instanceof Uint32Array)) return null;
      const keys: bigint[] = [];
      values.forEach((v, k) => {
        if (v === null) return;
        const s = scaledDecimal(decimalLiteral(v, column, type, textOf(k)), type.scale as number);
        if (s.beyond === undefined && !s.frac && s.floor >= INT128_MIN && s.floor < INT128_END) keys.push(s.floor);
      });
      const set = new WordSet(4, keys);
      return (d, out) => set.mark128(d.values as Uint32Array, d.length, out);
    }
    default:
      return null;
  }
}

/** An `in` node's compiled lists (per column type) and whether it lists NULL. */
interface InCompiled {
  values: FilterValue[];
  texts: (string | null)[] | undefined;
  hasNull: boolean;
  byType: Map<string, InMatcher | null>;
}

/** Compiled `in` nodes, so that the batches of one scan (which share the node) share its lookup set. */
const inCompiled = new WeakMap<object, InCompiled>();

/** What a compiled list depends on of a column's type (the key of `InCompiled.byType`). */
function typeKey(data: Data): string {
  const t = data.type as any;
  return `${data.typeId}|${String(t)}|${t.bitWidth}|${t.precision}|${t.scale}|${t.unit}|${t.isSigned}|${(data.values as object | undefined)?.constructor?.name}`;
}

/**
 * The compiled form of an `in` node for a column: built on the node's first batch of that column
 * type and kept with the node (rebuilt if its `values` or `texts` array is replaced).
 */
function compiledIn(expr: FilterExpr & { op: 'in' }): InCompiled {
  const texts = (expr as LiteralText).texts;
  let c = inCompiled.get(expr);
  if (c === undefined || c.values !== expr.values || c.texts !== texts) {
    c = { values: expr.values, texts, hasNull: expr.values.includes(null), byType: new Map() };
    inCompiled.set(expr, c);
  }
  return c;
}

/** The node's lookup set for `data`'s type (built once, see `compiledIn`), or null for the value-by-value path. */
function inMatcher(c: InCompiled, column: string, data: Data): InMatcher | null {
  const key = typeKey(data);
  let m = c.byType.get(key);
  if (m === undefined) {
    // a literal of another type throws here, on every batch, as the value-by-value path does
    m = compileIn(data, column, c.values, c.texts);
    if (m !== null) inWork.inSetBuilds++;
    c.byType.set(key, m);
  }
  return m;
}

/**
 * Checks `expr` against the columns of `schema` as an evaluation does (a literal of another type, LIKE
 * on a number...), with no row to evaluate: a scan, delete or update whose filter leaves out every
 * partition by range values still refuses a filter it could never evaluate, as one reading rows does.
 * @throws LakeSoulError InvalidArgument `FILTER_INVALID` naming the column.
 */
export function checkFilter(expr: FilterExpr, schema: Schema): void {
  const columns = schema.fields.map((f) => nullColumn(f, 0).data[0]!);
  evaluateFilter(expr, new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 0, nullCount: 0, children: columns })));
}

/**
 * Evaluate a filter on a batch: a mask with 1 for rows where the filter is TRUE (SQL three-valued
 * logic: comparisons with NULL are unknown, NOT unknown is unknown, and rows with unknown are
 * dropped). Literals are converted to the column's type: numbers/bigints for numeric columns (exact
 * mixed comparisons; a bigint against a float column as `floatLiteral` takes it; a number literal's
 * kept text, see `LiteralText`, against integer and decimal columns as written), exact decimals
 * (numbers, bigints, decimal text) for decimal columns, strings by
 * UTF-8 bytes for utf8/binary columns, Date / epoch ms / ISO strings for timestamp and date columns.
 * An unknown column or a mismatched literal is InvalidArgument. A long `in` list is compiled into a
 * lookup set on the node's first batch and kept with the node object (weakly), so the batches of a
 * scan share it: give a node a new `values` array rather than editing its array in place.
 */
export function evaluateFilter(expr: FilterExpr, batch: RecordBatch): Uint8Array {
  const r = evalNode(expr, batch);
  for (let i = 0; i < r.length; i++) r[i] = r[i] === T ? 1 : 0;
  return r;
}

/**
 * Positions of the ones in a 0/1 mask, ascending; null when there are none. Selective masks are
 * mostly zeros, so the mask is walked four bytes at a time (a word's ones are summed by one multiply).
 */
export function maskPositions(mask: Uint8Array): Int32Array | null {
  const words = mask.byteOffset % 4 === 0 ? new Uint32Array(mask.buffer, mask.byteOffset, mask.length >>> 2) : new Uint32Array(0);
  const tail = words.length * 4;
  let n = 0;
  for (let w = 0; w < words.length; w++) {
    const x = words[w];
    if (x !== 0) n += Math.imul(x, 0x01010101) >>> 24;
  }
  for (let i = tail; i < mask.length; i++) n += mask[i];
  if (n === 0) return null;
  const out = new Int32Array(n);
  let p = 0;
  for (let w = 0; w < words.length; w++) {
    if (words[w] === 0) continue;
    for (let i = 4 * w; i < 4 * w + 4; i++) if (mask[i] === 1) out[p++] = i;
  }
  for (let i = tail; i < mask.length; i++) if (mask[i] === 1) out[p++] = i;
  return out;
}

/** The rows of `batch` where the filter is TRUE (the batch itself when all pass). */
export function filterBatch(batch: RecordBatch, expr: FilterExpr): RecordBatch {
  const idx = maskPositions(evaluateFilter(expr, batch));
  if (idx === null) return batch.slice(0, 0);
  if (idx.length === batch.numRows) return batch;
  return takeRows(batch, idx);
}

/** Column statistics as used by {@link rowGroupMayMatch} (a subset of the Parquet footer's). */
export interface ColumnStatsLike {
  min: unknown;
  max: unknown;
  nullCount: number | null;
}

/**
 * Compare a statistics value with a literal (and a number literal's kept text, see
 * `LiteralText`); undefined when they cannot be compared.
 */
function cmpStat(stat: unknown, lit: FilterValue, text?: string): number | undefined {
  if (stat === null || stat === undefined || lit === null) return undefined;
  if (stat instanceof Date) {
    const ns = timestampLiteralNanos(lit);
    if (ns === undefined) return undefined;
    // Statistics are whole milliseconds (widened outwards): the literal's sub-millisecond part decides
    // nothing against them, except that a statistic in the literal's own millisecond is incomparable.
    const s = BigInt(stat.getTime());
    let ms = ns / NS_PER_MS;
    if (ns - ms * NS_PER_MS < 0n) ms -= 1n;
    if (ms * NS_PER_MS !== ns && s === ms) return undefined;
    return s < ms ? -1 : s > ms ? 1 : 0;
  }
  if (typeof stat === 'number' || typeof stat === 'bigint') {
    if (typeof lit !== 'number' && typeof lit !== 'bigint') return undefined;
    if (typeof stat === 'number' && Number.isNaN(stat)) return undefined;
    if (text !== undefined && typeof lit === 'number') {
      // Rows of an integer column compare with the literal as written; rows of a float column, or of a
      // date64 one (whose statistics are bigints too), with its double (a float column refuses a
      // double that lost the fraction). Decimals have no statistics. Only a sign both readings agree
      // on decides anything.
      if (typeof stat === 'number' && fractionLost(lit, text)) return undefined;
      const dbl = stat < lit ? -1 : stat > lit ? 1 : 0; // mixed bigint/number comparisons are exact
      if (typeof stat === 'number' && !Number.isInteger(stat)) return dbl; // a float's
      const exact = typeof stat === 'bigint' ? integerComparer(parseDecimal(text)!, 0)(stat) : numberComparer(parseDecimal(text)!)(stat);
      return exact === dbl ? dbl : undefined;
    }
    // a number statistic is of a float or 32-bit integer column: the literal as row evaluation takes it
    const l = typeof stat === 'number' ? floatLiteral(lit) : lit;
    return stat < l ? -1 : stat > l ? 1 : 0;
  }
  if (typeof stat === 'string') return typeof lit === 'string' ? Math.sign(compareCodePoints(stat, lit)) : undefined;
  if (typeof stat === 'boolean') return typeof lit === 'boolean' ? Number(stat) - Number(lit) : undefined;
  if (stat instanceof Uint8Array && typeof lit === 'string') {
    const l = encoder.encode(lit);
    return Math.sign(cmpBytes(stat, 0, stat.length, l));
  }
  return undefined;
}

interface Possible {
  t: boolean;
  f: boolean;
  n: boolean;
}

const ANY: Possible = { t: true, f: true, n: true };

function possible(expr: FilterExpr, stats: Record<string, ColumnStatsLike | undefined>, numRows: number): Possible {
  switch (expr.op) {
    case 'and': {
      const ps = expr.args.map((a) => possible(a, stats, numRows));
      return { t: ps.every((p) => p.t), f: ps.some((p) => p.f), n: ps.some((p) => p.n) };
    }
    case 'or': {
      const ps = expr.args.map((a) => possible(a, stats, numRows));
      return { t: ps.some((p) => p.t), f: ps.every((p) => p.f), n: ps.some((p) => p.n) };
    }
    case 'not': {
      const p = possible(expr.arg, stats, numRows);
      return { t: p.f, f: p.t, n: p.n };
    }
    case 'compare':
      return ANY;
    default:
      break;
  }
  const st = stats[expr.column];
  if (st === undefined) return ANY;
  const nulls = st.nullCount;
  const someNull = nulls === null || nulls > 0;
  const someValue = nulls === null || nulls < numRows;
  if (expr.op === 'isNull') return { t: someNull, f: someValue, n: false };
  if (expr.op === 'isNotNull') return { t: someValue, f: someNull, n: false };
  if (!someValue) return { t: false, f: false, n: true };
  if (expr.op === 'like') {
    // A literal prefix bounds the matching strings to [prefix, the first string after all prefix+x).
    const prefix = likePrefix(expr.pattern);
    const asText = (v: unknown) => (typeof v === 'string' ? v : v instanceof Uint8Array ? utf8Text(v) : null);
    const min = asText(st.min);
    const max = asText(st.max);
    if (prefix === '' || min === null || max === null) return ANY;
    const t = compareCodePoints(max, prefix) >= 0 && (compareCodePoints(min, prefix) <= 0 || min.startsWith(prefix));
    return { t, f: true, n: someNull };
  }
  // floats may hold NaN, which statistics leave out: NaN rows make comparisons false and != true
  const maybeNaN = typeof st.min === 'number' || st.min === null || st.min === undefined;
  const values = expr.op === 'in' ? expr.values : [(expr as { value: FilterValue }).value];
  const texts = expr.op === 'in' ? (expr as LiteralText).texts : [(expr as LiteralText).text ?? null];
  if (values.every((v) => v === null)) return { t: false, f: false, n: true };
  let t = false;
  let f = maybeNaN;
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (v === null) continue;
    const text = texts?.[k] ?? undefined;
    const lo = cmpStat(st.min, v, text); // min vs v
    const hi = cmpStat(st.max, v, text); // max vs v
    if (lo === undefined || hi === undefined) return ANY;
    const inRange = lo <= 0 && hi >= 0;
    const allEqual = lo === 0 && hi === 0;
    switch (expr.op) {
      case '=':
      case 'in':
        t ||= inRange;
        f ||= !allEqual;
        break;
      case '!=':
        t ||= !allEqual || maybeNaN;
        f ||= inRange;
        break;
      case '<':
        t ||= lo < 0;
        f ||= hi >= 0;
        break;
      case '<=':
        t ||= lo <= 0;
        f ||= hi > 0;
        break;
      case '>':
        t ||= hi > 0;
        f ||= lo <= 0;
        break;
      case '>=':
        t ||= hi >= 0;
        f ||= lo < 0;
        break;
    }
  }
  const n = someNull || (expr.op === 'in' && expr.values.includes(null));
  return { t, f, n };
}

/**
 * Conservative row-group pruning: false only when NO row of a row group with these statistics can
 * satisfy the filter (so the group may be skipped); true when unsure (missing or incomparable
 * statistics, NaN-capable floats under negation). `stats` maps column names to min/max/nullCount as
 * returned by readParquetFooter.
 */
export function rowGroupMayMatch(expr: FilterExpr, stats: Record<string, ColumnStatsLike | undefined>, numRows: number): boolean {
  return possible(expr, stats, numRows).t;
}

