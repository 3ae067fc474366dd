/**
 * The one exact value codec between JavaScript values and Arrow columns, used by the table writer
 * (arrays of objects, Arrow data of another type), `deleteByKeys`, `update`, the CLI's import and
 * output, and connector-danfo's temporal and decimal parts.
 *
 * Plain values: what {@link plainValueAt} returns and {@link encodeColumn} accepts back unchanged.
 * Where a JS type would lose information the plain value is exact text: timestamps are ISO 8601 with
 * every fraction digit of the unit and the zone's offset (`2024-01-01T00:00:00.123456Z`), dates
 * `YYYY-MM-DD`, times `HH:MM:SS.ffffff`, decimals their decimal text; 64-bit integers are bigints;
 * binary is a Uint8Array; lists are arrays and structs objects.
 *
 * Encoding accepts more than plain values, and only when the conversion is exact: JS numbers into
 * integer columns when integral and safe (|n| <= 2^53 - 1), bigints, integer text; numbers, bigints
 * and text into floats and decimals (no rounding). Floats are the one rounding: a number or decimal
 * text goes to the nearest value of the column's float type, as pyarrow and Spark do (`0.1` into a
 * float32 column is 0.100000001490116...), and a finite value beyond float32's range is refused;
 * bigints must be exact in the float type; Dates
 * and ISO strings into dates and timestamps at the column's unit (sub-millisecond digits of a string
 * kept exactly; digits beyond the unit must be zeros); strings into binary (their UTF-8 bytes, or
 * base64 when the caller reads text formats); objects into structs (unknown fields refused); arrays
 * into lists. Anything else is a SchemaMismatch naming the row and the column (code
 * `VALUE_NOT_CONVERTIBLE`); nothing is rounded, truncated or dropped silently.
 */
import {
  Bool, Data, DataType, Date_, DateUnit, Decimal, Field, FixedSizeList, Float, Float64, Int, Int32, Int64, List,
  RecordBatch, Schema, Struct, Time, TimeUnit, Timestamp, Type, Utf8, Binary, makeData, Null,
} from 'apache-arrow';
import { LakeSoulError, jsonText } from '@lakesoul-ts/meta';
import { boolAt, isValidAt, makeBatch, varRange } from './data-access.js';
import { decodeDictionary } from './take-rows.js';
import { DecimalParseError, decimalToString, parseDecimal, writeDecimalWords } from './decimal-codec.js';
import {
  TemporalParseError, UNITS_PER_SECOND, ZoneOffsets, formatDate, formatTime, formatTimestamp, parseDateDays, parseTime,
  parseTimestamp, resolveZone,
} from './temporal-codec.js';

/** Why one value was refused; {@link encodeColumn} adds the row and column. */
export class ValueConversionError extends Error {}

/**
 * A JSON number kept as its text, for numbers a double cannot hold exactly (integers beyond 2^53,
 * decimals with many digits). {@link parseJsonExact} produces it; the encoder accepts it wherever a
 * number is accepted.
 */
export class ExactNumber {
  constructor(
    /** The number's literal text (JSON grammar). */
    readonly text: string,
  ) {}

  /** The nearest double. */
  valueOf(): number {
    return Number(this.text);
  }

  /** The literal text. */
  toString(): string {
    return this.text;
  }
}

/** Where the values come from, for messages: each failure names the column and the row. */
export interface ValueContext {
  /** Column (dotted path for nested fields). */
  column: string;
  table?: string;
  /** Input file (CLI import): messages then say `file:line` using {@link lines}. */
  file?: string;
  /** Per value, the line of the input file it came from. */
  lines?: ArrayLike<number>;
  /**
   * How strings become binary: `utf8` (their UTF-8 bytes: the table API) or `base64` (text formats,
   * whose binary output is base64). Default `utf8`.
   */
  binaryText?: 'utf8' | 'base64';
  /** Strings holding JSON arrays/objects are parsed for list/struct columns (CSV cells). Default false. */
  nestedAsJson?: boolean;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function intBounds(t: Int): [bigint, bigint] {
  const bits = BigInt(t.bitWidth);
  return t.isSigned ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Date) return `Date(${Number.isNaN(v.getTime()) ? 'invalid' : v.toISOString()})`;
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (v instanceof ExactNumber) return v.text;
  if (Array.isArray(v)) return `array(${v.length})`;
  if (v !== null && typeof v === 'object') return 'object';
  return String(v);
}

/** The exact integer a value denotes, or a reason why it has none. */
function toBigInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new ValueConversionError(`${describe(v)} is not an integer`);
    if (!Number.isSafeInteger(v)) {
      throw new ValueConversionError(`${describe(v)} is beyond 2^53 as a JS number, so its exact value is unknown: pass a bigint or a string`);
    }
    return BigInt(v);
  }
  const text = typeof v === 'string' ? v.trim() : v instanceof ExactNumber ? v.text : null;
  if (text !== null) {
    if (/^[+-]?\d+$/.test(text)) return BigInt(text);
    // `1e3`, `5.0`: integral values written another way.
    if (/^[+-]?\d*\.?\d*(?:[eE][+-]?\d+)?$/.test(text) && /\d/.test(text)) {
      try {
        return parseDecimal(text, 1000, 0);
      } catch {
        /* fall through */
      }
    }
    throw new ValueConversionError(`${describe(v)} is not an integer`);
  }
  if (typeof v === 'boolean') throw new ValueConversionError(`${describe(v)} is a boolean, not an integer`);
  throw new ValueConversionError(`${describe(v)} is not an integer`);
}

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

function toFloat(v: unknown, t: Float): number {
  let x: number;
  if (typeof v === 'number') x = v;
  else if (typeof v === 'bigint') {
    x = Number(v);
    if (BigInt(x) !== v) throw new ValueConversionError(`${describe(v)} is not exactly representable as ${t}`);
  } else if (v instanceof ExactNumber) x = Number(v.text);
  else if (typeof v === 'string') {
    const s = v.trim();
    if (/^[+-]?nan$/i.test(s)) x = NaN;
    else if (/^[+-]?(inf|infinity)$/i.test(s)) x = s.startsWith('-') ? -Infinity : Infinity;
    else if (s !== '' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) x = Number(s);
    else throw new ValueConversionError(`${describe(v)} is not a number`);
  } else throw new ValueConversionError(`${describe(v)} is not a number`);
  // digits beyond float64's range ('1e400') are not Infinity; 'inf' is
  if (!Number.isFinite(x) && x === x && (v instanceof ExactNumber || (typeof v === 'string' && /\d/.test(v)))) {
    throw new ValueConversionError(`${describe(v)} is beyond ${t.precision === 1 ? 'float32' : 'float64'}'s range (largest ${t.precision === 1 ? FLOAT32_MAX : Number.MAX_VALUE})`);
  }
  if (t.precision === 1) {
    const f = Math.fround(x);
    if (typeof v === 'bigint' && f !== x) throw new ValueConversionError(`${describe(v)} is not exactly representable as float32`);
    if (f !== x && Number.isFinite(x) && !Number.isFinite(f)) throw new ValueConversionError(`${describe(v)} is beyond float32's range (largest ${FLOAT32_MAX})`);
  }
  if (t.precision === 0) throw new ValueConversionError('float16 columns are not supported by the value codec');
  return x;
}

function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true' || s === 't' || s === '1') return true;
    if (s === 'false' || s === 'f' || s === '0') return false;
  }
  throw new ValueConversionError(`${describe(v)} is not a boolean`);
}

function toText(v: unknown): string {
  if (typeof v === 'string') return v;
  throw new ValueConversionError(`${describe(v)} is not a string`);
}

function toBytes(v: unknown, ctx: ValueContext): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'string') {
    if (ctx.binaryText === 'base64') {
      // Strict: Node's decoder skips what is not base64 and drops trailing bits, so text meant as
      // text ('hello', 'x y') became a few damaged bytes. Only a string the bytes encode back to
      // (padding optional) is taken.
      const bytes = Buffer.from(v, 'base64');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v) || bytes.toString('base64').replace(/=+$/, '') !== v.replace(/=+$/, '') || (v.includes('=') && v.length % 4 !== 0)) {
        throw new ValueConversionError(`${describe(v)} is not base64 (a binary column's values are read as standard base64 here, as export writes them)`);
      }
      return new Uint8Array(bytes);
    }
    return new Uint8Array(Buffer.from(v, 'utf8'));
  }
  throw new ValueConversionError(`${describe(v)} is not binary (Uint8Array or string)`);
}

function zoneIsUtc(tz: string | null | undefined): boolean {
  if (!tz) return false;
  const z = resolveZone(tz);
  return z !== null && z.kind === 'fixed' && z.minutes === 0;
}

function toTimestamp(v: unknown, t: Timestamp): bigint {
  const unit = t.unit as number;
  const per = UNITS_PER_SECOND[unit];
  if (v instanceof Date) {
    const ms = v.getTime();
    if (Number.isNaN(ms)) throw new ValueConversionError('invalid Date');
    const big = BigInt(ms);
    if (unit === TimeUnit.SECOND) {
      if (big % 1000n !== 0n) throw new ValueConversionError(`${describe(v)} has milliseconds; the column holds whole seconds`);
      return big / 1000n;
    }
    return big * (per / 1000n);
  }
  if (typeof v === 'bigint') {
    if (v < INT64_MIN || v > INT64_MAX) throw new ValueConversionError(`${describe(v)} is out of the int64 range`);
    return v;
  }
  if (typeof v === 'string') {
    const zoned = t.timezone !== null && t.timezone !== undefined && t.timezone !== '';
    try {
      return parseTimestamp(v, unit, zoned);
    } catch (e) {
      if (!(e instanceof TemporalParseError)) throw e;
      // A wall time without offset into a UTC column means UTC; other zones need the offset written.
      if (zoned && zoneIsUtc(t.timezone) && /no UTC offset/.test(e.message)) {
        try {
          return parseTimestamp(v, unit, false);
        } catch (e2) {
          if (e2 instanceof TemporalParseError) throw new ValueConversionError(e2.message);
          throw e2;
        }
      }
      // A bare date is midnight.
      if (/^\s*\d{4}-\d{2}-\d{2}\s*$/.test(v) && (!zoned || zoneIsUtc(t.timezone))) {
        try {
          return BigInt(parseDateDays(v)) * 86400n * per;
        } catch {
          /* report the timestamp error */
        }
      }
      throw new ValueConversionError(e.message);
    }
  }
  throw new ValueConversionError(`${describe(v)} is not a timestamp (give a Date, an ISO 8601 string or a bigint count of ${TimeUnit[unit].toLowerCase()}s)`);
}

function toDateDays(v: unknown): number {
  if (v instanceof Date) {
    const ms = v.getTime();
    if (Number.isNaN(ms)) throw new ValueConversionError('invalid Date');
    if (ms % 86_400_000 !== 0) throw new ValueConversionError(`${describe(v)} is not at midnight UTC, so it is not a date`);
    return ms / 86_400_000;
  }
  if (typeof v === 'string') {
    try {
      return parseDateDays(v);
    } catch (e) {
      if (e instanceof TemporalParseError) throw new ValueConversionError(e.message);
      throw e;
    }
  }
  throw new ValueConversionError(`${describe(v)} is not a date (give a Date at midnight UTC or 'YYYY-MM-DD')`);
}

function toTime(v: unknown, t: Time): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string') {
    try {
      return parseTime(v, t.unit as number);
    } catch (e) {
      if (e instanceof TemporalParseError) throw new ValueConversionError(e.message);
      throw e;
    }
  }
  throw new ValueConversionError(`${describe(v)} is not a time of day (HH:MM:SS[.fff])`);
}

function toDecimal(v: unknown, t: Decimal): bigint {
  let text: string;
  if (typeof v === 'string') text = v;
  else if (v instanceof ExactNumber) text = v.text;
  else if (typeof v === 'bigint') text = v.toString();
  else if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ValueConversionError(`${describe(v)} has no decimal value`);
    // The shortest text that reads back as this double: what the user wrote in source code.
    text = String(v);
  } else throw new ValueConversionError(`${describe(v)} is not a decimal number`);
  try {
    return parseDecimal(text, t.precision, t.scale);
  } catch (e) {
    if (e instanceof DecimalParseError) throw new ValueConversionError(e.message);
    throw e;
  }
}

function parseNested(v: unknown, ctx: ValueContext): unknown {
  if (typeof v === 'string' && ctx.nestedAsJson) {
    try {
      return parseJsonExact(v);
    } catch {
      throw new ValueConversionError(`${describe(v)} is not JSON`);
    }
  }
  return v;
}

function conversionError(ctx: ValueContext, row: number, type: DataType, reason: string): LakeSoulError {
  const line = ctx.lines?.[row];
  const where = ctx.file !== undefined && line !== undefined ? `${ctx.file}:${line}: ` : `row ${row}: `;
  return new LakeSoulError('SchemaMismatch', `${where}column '${ctx.column}'${ctx.table ? ` of table '${ctx.table}'` : ''}: ${reason} (column type ${DataType.isDecimal(type) ? `decimal(${type.precision}, ${type.scale})` : type})`, {
    code: 'VALUE_NOT_CONVERTIBLE',
    context: { table: ctx.table, column: ctx.column, row: line ?? row, ...(ctx.file !== undefined ? { file: ctx.file } : {}) },
  });
}

function validity(values: readonly unknown[]): { bitmap: Uint8Array; nullCount: number } {
  const n = values.length;
  const bitmap = new Uint8Array(((n + 63) & ~63) >> 3);
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) nullCount++;
    else bitmap[i >> 3] |= 1 << (i & 7);
  }
  return { bitmap: nullCount === 0 ? new Uint8Array(0) : bitmap, nullCount };
}

/**
 * {@link toText}, refusing an unpaired UTF-16 surrogate: it has no UTF-8 form, and encoding made it
 * U+FFFD, another value (pyarrow refuses it too).
 */
function wellFormedText(v: unknown): string {
  const text = toText(v);
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed()) {
    throw new ValueConversionError(`text with an unpaired UTF-16 surrogate (no UTF-8 form) ${describe(text)}`);
  }
  return text;
}

/**
 * Encodes JS values into one Arrow column of `type` (see the module comment for what is accepted).
 * `rows` maps each value to the caller's row number for messages (nested children), default the index.
 * @throws LakeSoulError SchemaMismatch `VALUE_NOT_CONVERTIBLE` naming the row and the column.
 *
 * Why long: one short case per Arrow type of the type-support table (packages/meta/src/type-support.ts); the switch is the one place this site dispatches on the type, so splitting it would scatter that dispatch.
 */
export function encodeColumn(values: readonly unknown[], type: DataType, ctx: ValueContext, rows?: ArrayLike<number>): Data {
  const n = values.length;
  const rowOf = (i: number) => (rows ? rows[i] : i);
  const { bitmap, nullCount } = validity(values);
  let i = 0;
  try {
    switch (type.typeId) {
      case Type.Null:
        for (; i < n; i++) if (values[i] !== null && values[i] !== undefined) throw new ValueConversionError(`${describe(values[i])} in a null-typed column`);
        return makeData({ type: type as Null, length: n }) as Data;
      case Type.Bool: {
        const out = new Uint8Array(((n + 63) & ~63) >> 3);
        for (; i < n; i++) {
          const v = values[i];
          if (v !== null && v !== undefined && toBool(v)) out[i >> 3] |= 1 << (i & 7);
        }
        return makeData({ type: type as Bool, length: n, nullCount, nullBitmap: bitmap, data: out }) as Data;
      }
      case Type.Int: {
        const t = type as Int;
        const out = new (t.ArrayType as any)(n);
        const [lo, hi] = intBounds(t);
        for (; i < n; i++) {
          const v = values[i];
          if (v === null || v === undefined) continue;
          if (typeof v === 'number' && t.bitWidth < 64 && Number.isInteger(v)) {
            if (v < Number(lo) || v > Number(hi)) throw new ValueConversionError(`${v} does not fit ${t}`);
            out[i] = v;
            continue;
          }
          const b = toBigInt(v);
          if (b < lo || b > hi) throw new ValueConversionError(`${describe(v)} does not fit ${t}`);
          out[i] = t.bitWidth === 64 ? b : Number(b);
        }
        return makeData({ type: t, length: n, nullCount, nullBitmap: bitmap, data: out }) as Data;
      }
      case Type.Float: {
        const t = type as Float;
        const out = t.precision === 1 ? new Float32Array(n) : new Float64Array(n);
        for (; i < n; i++) {
          const v = values[i];
          if (v !== null && v !== undefined) out[i] = toFloat(v, t);
        }
        return makeData({ type: t, length: n, nullCount, nullBitmap: bitmap, data: out }) as Data;
      }
      case Type.Utf8:
      case Type.LargeUtf8:
      case Type.Binary:
      case Type.LargeBinary: {
        const isText = type.typeId === Type.Utf8 || type.typeId === Type.LargeUtf8;
        const parts: Uint8Array[] = new Array(n);
        let total = 0;
        for (; i < n; i++) {
          const v = values[i];
          if (v === null || v === undefined) continue;
          const bytes = isText ? Buffer.from(wellFormedText(v), 'utf8') : toBytes(v, ctx);
          parts[i] = bytes;
          total += bytes.byteLength;
        }
        const large = type.typeId === Type.LargeUtf8 || type.typeId === Type.LargeBinary;
        if (!large && total > 0x7fffffff) throw new ValueConversionError(`column holds ${total} bytes, more than ${type} can (use the large variant)`);
        const data = new Uint8Array(total);
        const offsets = large ? new BigInt64Array(n + 1) : new Int32Array(n + 1);
        let p = 0;
        for (let k = 0; k < n; k++) {
          const b = parts[k];
          if (b) {
            data.set(b, p);
            p += b.byteLength;
          }
          offsets[k + 1] = (large ? BigInt(p) : p) as never;
        }
        return makeData({ type: type as Utf8, length: n, nullCount, nullBitmap: bitmap, valueOffsets: offsets as Int32Array, data }) as Data;
      }
      case Type.Timestamp: {
        const t = type as Timestamp;
        const out = new BigInt64Array(n);
        for (; i < n; i++) {
          const v = values[i];
          if (v !== null && v !== undefined) out[i] = toTimestamp(v, t);
        }
        return makeData({ type: t, length: n, nullCount, nullBitmap: bitmap, data: out }) as Data;
      }
      case Type.Date: {
        const t = type as Date_;
        const day = t.unit === DateUnit.DAY;
        const out = day ? new Int32Array(n) : new BigInt64Array(n);
        for (; i < n; i++) {
          const v = values[i];
          if (v === null || v === undefined) continue;
          const d = toDateDays(v);
          if (day) (out as Int32Array)[i] = d;
          else (out as BigInt64Array)[i] = BigInt(d) * 86_400_000n;
        }
        return makeData({ type: t, length: n, nullCount, nullBitmap: bitmap, data: out }) as Data;
      }
      case Type.Time: {
        const t = type as Time;
        const out = new (t.ArrayType as any)(n);
        for (; i < n; i++) {
          const v = values[i];
          if (v === null || v === undefined) continue;
          const x = toTime(v, t);
          out[i] = t.bitWidth === 64 ? x : Number(x);
        }
        return makeData({ type: t, length: n, nullCount, nullBitmap: bitmap, data: out }) as Data;
      }
      case Type.Decimal: {
        const t = type as Decimal;
        const words = t.bitWidth / 32;
        const out = new Uint32Array(n * words);
        for (; i < n; i++) {
          const v = values[i];
          if (v !== null && v !== undefined) writeDecimalWords(toDecimal(v, t), out, i * words, words);
        }
        return makeData({ type: t, length: n, nullCount, nullBitmap: bitmap, data: out }) as Data;
      }
      case Type.List:
      case Type.LargeList:
      case Type.FixedSizeList: {
        const child = type.children[0] as Field;
        const size = type.typeId === Type.FixedSizeList ? (type as FixedSizeList).listSize : -1;
        const flat: unknown[] = [];
        const flatRows: number[] = [];
        const offsets = type.typeId === Type.LargeList ? new BigInt64Array(n + 1) : new Int32Array(n + 1);
        for (; i < n; i++) {
          let v = values[i];
          if (v !== null && v !== undefined) {
            v = parseNested(v, ctx);
            const arr = Array.isArray(v) ? v : ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<unknown>) : null;
            if (arr === null) throw new ValueConversionError(`${describe(v)} is not an array`);
            if (size >= 0 && arr.length !== size) throw new ValueConversionError(`list of length ${arr.length} does not fit ${type}`);
            for (const x of arr) {
              flat.push(x);
              flatRows.push(rowOf(i));
            }
          } else if (size >= 0) {
            for (let k = 0; k < size; k++) {
              flat.push(null);
              flatRows.push(rowOf(i));
            }
          }
          offsets[i + 1] = (type.typeId === Type.LargeList ? BigInt(flat.length) : flat.length) as never;
        }
        const childData = encodeChild(flat, child, ctx, flatRows);
        if (size >= 0) return makeData({ type: type as FixedSizeList, length: n, nullCount, nullBitmap: bitmap, child: childData }) as Data;
        return makeData({ type: type as List, length: n, nullCount, nullBitmap: bitmap, valueOffsets: offsets as Int32Array, child: childData }) as Data;
      }
      case Type.Struct: {
        const fields = (type as Struct).children;
        const names = new Set(fields.map((f) => f.name));
        const objs: (Record<string, unknown> | null)[] = new Array(n);
        for (; i < n; i++) {
          let v = values[i];
          if (v === null || v === undefined) {
            objs[i] = null;
            continue;
          }
          v = parseNested(v, ctx);
          if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Date || ArrayBuffer.isView(v)) {
            throw new ValueConversionError(`${describe(v)} is not an object`);
          }
          for (const k of Object.keys(v)) {
            if (!names.has(k)) throw new ValueConversionError(`field '${k}' is not in ${type}`);
          }
          objs[i] = v as Record<string, unknown>;
        }
        const rowsHere = Array.from({ length: n }, (_, k) => rowOf(k));
        const children = fields.map((f) => encodeChild(objs.map((o) => (o === null ? null : o[f.name])), f, ctx, rowsHere, objs));
        return makeData({ type: type as Struct, length: n, nullCount, nullBitmap: bitmap, children }) as Data;
      }
      case Type.Dictionary:
        throw new ValueConversionError(`dictionary columns are not supported by the value codec`);
      default:
        throw new ValueConversionError(`${type} columns are not supported by the value codec`);
    }
  } catch (e) {
    if (e instanceof ValueConversionError) throw conversionError(ctx, rowOf(i), type, e.message);
    throw e;
  }
}

/** A nested child: its own column path, and a null check for non-nullable children of valid parents. */
function encodeChild(values: unknown[], field: Field, ctx: ValueContext, rows: ArrayLike<number>, parents?: readonly unknown[]): Data {
  const sub = { ...ctx, column: `${ctx.column}.${field.name}` };
  if (!field.nullable) {
    for (let k = 0; k < values.length; k++) {
      if ((values[k] === null || values[k] === undefined) && (!parents || parents[k] !== null)) {
        throw conversionError(sub, rows[k], field.type, 'null in a non-nullable field');
      }
    }
  }
  return encodeColumn(values, field.type, sub, rows);
}

/** Options of {@link recordsToBatch}. */
export interface RecordsToBatchOptions {
  /** For messages. */
  table?: string;
  /** Refuse keys of a record that are not in `schema` (default true). */
  strict?: boolean;
  /** Leave schema columns that no record has out of the batch (partial-column writes). Default false. */
  omitMissing?: boolean;
  /** See {@link ValueContext}. */
  binaryText?: 'utf8' | 'base64';
  nestedAsJson?: boolean;
  file?: string;
  lines?: ArrayLike<number>;
}

/**
 * An Arrow batch of `schema` from an array of objects (one per row, keyed by column name), each
 * value encoded exactly (see the module comment). A key absent from a record is null.
 * @throws LakeSoulError SchemaMismatch `UNKNOWN_COLUMN` for a key not in the schema (when strict),
 *   `VALUE_NOT_CONVERTIBLE` for a value that does not convert exactly.
 */
export function recordsToBatch(records: readonly Record<string, unknown>[], schema: Schema, options: RecordsToBatchOptions = {}): RecordBatch {
  const names = new Set(schema.fields.map((f) => f.name));
  const present = new Set<string>();
  for (let r = 0; r < records.length; r++) {
    const rec = records[r];
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) {
      throw new LakeSoulError('InvalidArgument', `row ${r}${options.table ? ` written to table '${options.table}'` : ''} is not an object`, {
        context: { table: options.table, row: r },
      });
    }
    for (const k of Object.keys(rec)) {
      if (!names.has(k)) {
        if (options.strict === false) continue;
        throw new LakeSoulError('SchemaMismatch', `row ${r}: column '${k}' is not in the schema${options.table ? ` of table '${options.table}'` : ''} (columns: ${[...names].join(', ')})`, {
          code: 'UNKNOWN_COLUMN',
          context: { table: options.table, column: k, row: r },
        });
      }
      present.add(k);
    }
  }
  const fields = options.omitMissing ? schema.fields.filter((f) => present.has(f.name)) : schema.fields;
  const children = fields.map((f) =>
    encodeColumn(
      records.map((rec) => rec[f.name]),
      f.type,
      { column: f.name, table: options.table, binaryText: options.binaryText, nestedAsJson: options.nestedAsJson, file: options.file, lines: options.lines },
    ),
  );
  return makeBatch(new Schema(fields, schema.metadata), children, records.length);
}

const zoneCache = new Map<string, { offsets: ZoneOffsets; utc: boolean } | null>();
function zoneOf(tz: string | null | undefined): { offsets: ZoneOffsets; utc: boolean } | null {
  if (!tz) return null;
  let z = zoneCache.get(tz);
  if (z === undefined) {
    const r = resolveZone(tz);
    z = r === null ? null : { offsets: new ZoneOffsets(r), utc: r.kind === 'fixed' && r.utc };
    zoneCache.set(tz, z);
  }
  if (z === null) throw new LakeSoulError('SchemaMismatch', `unknown time zone '${tz}'`, { context: {} });
  return z;
}

/**
 * The exact plain value of row `i` of `data` (see the module comment): null, boolean, number (8-32
 * bit integers, floats incl. NaN and infinities), bigint (64-bit integers), string (text, and the
 * ISO/decimal text of temporal and decimal values), Uint8Array, array (lists; maps as [key, value]
 * pairs) or object (structs).
 */
export function plainValueAt(data: Data, i: number): unknown {
  if (!isValidAt(data, i)) return null;
  const type = data.type;
  switch (type.typeId) {
    case Type.Null:
      return null;
    case Type.Bool:
      return boolAt(data, i);
    case Type.Int:
      return (data.values as ArrayLike<number | bigint>)[i];
    case Type.Float: {
      const x = (data.values as ArrayLike<number>)[i];
      return (type as Float).precision === 0 ? halfToFloat(x) : x;
    }
    case Type.Utf8:
    case Type.LargeUtf8: {
      const [s, e] = varRange(data, i);
      return Buffer.from((data.values as Uint8Array).buffer, (data.values as Uint8Array).byteOffset + s, e - s).toString('utf8');
    }
    case Type.Binary:
    case Type.LargeBinary: {
      const [s, e] = varRange(data, i);
      return (data.values as Uint8Array).slice(s, e);
    }
    case Type.FixedSizeBinary: {
      const w = (type as any).byteWidth as number;
      return (data.values as Uint8Array).slice(i * w, (i + 1) * w);
    }
    case Type.Timestamp: {
      const t = type as Timestamp;
      const z = zoneOf(t.timezone);
      return formatTimestamp((data.values as BigInt64Array)[i], t.unit as number, z ? z.offsets : null, z ? z.utc : false);
    }
    case Type.Date:
      if ((type as Date_).unit === DateUnit.DAY) return formatDate((data.values as Int32Array)[i]);
      {
        const ms = (data.values as BigInt64Array)[i];
        return ms % 86_400_000n === 0n ? formatDate(Number(ms / 86_400_000n)) : formatTimestamp(ms, TimeUnit.MILLISECOND, null, false);
      }
    case Type.Time: {
      const t = type as Time;
      return formatTime(BigInt((data.values as ArrayLike<number | bigint>)[i]), t.unit as number);
    }
    case Type.Decimal: {
      const t = type as Decimal;
      const words = t.bitWidth / 32;
      return decimalToString(data.values as Uint32Array, i * words, words, t.scale);
    }
    case Type.List:
    case Type.LargeList:
    case Type.Map: {
      const [s, e] = varRange(data, i);
      const child = data.children[0];
      const out: unknown[] = new Array(e - s);
      for (let k = s; k < e; k++) out[k - s] = plainValueAt(child, k);
      if (type.typeId === Type.Map) return out.map((o) => [(o as Record<string, unknown>)[child.type.children[0].name], (o as Record<string, unknown>)[child.type.children[1].name]]);
      return out;
    }
    case Type.FixedSizeList: {
      const size = (type as FixedSizeList).listSize;
      const child = data.children[0];
      const out: unknown[] = new Array(size);
      for (let k = 0; k < size; k++) out[k] = plainValueAt(child, i * size + k);
      return out;
    }
    case Type.Struct: {
      const out: Record<string, unknown> = {};
      type.children.forEach((f: Field, k: number) => {
        out[f.name] = plainValueAt(data.children[k], i);
      });
      return out;
    }
    case Type.Dictionary: {
      const idx = Number((data.values as ArrayLike<number | bigint>)[i]);
      const dict = data.dictionary!;
      const chunk = dict.data.length === 1 ? dict.data[0] : decodeDictionary(data);
      return dict.data.length === 1 ? plainValueAt(chunk, idx) : plainValueAt(chunk, i);
    }
    default:
      throw new LakeSoulError('SchemaMismatch', `${type} values are not supported by the value codec`, { context: {} });
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Every row of `data` as plain values. */
export function plainValues(data: Data): unknown[] {
  const out = new Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = plainValueAt(data, i);
  return out;
}

/**
 * Whether {@link convertData} can convert some values of `from` to `to` (the pairs castData does not
 * convert itself). Other pairs are a type error, reported as such without looking at values.
 */
export function codecConverts(from: DataType, to: DataType): boolean {
  const f = from.typeId;
  const text = f === Type.Utf8 || f === Type.LargeUtf8;
  const numeric = f === Type.Int || f === Type.Float || f === Type.Decimal;
  switch (to.typeId) {
    case Type.Int:
    case Type.Float:
    case Type.Decimal:
      return numeric || text;
    case Type.Timestamp:
    case Type.Date:
      return text || f === Type.Date || f === Type.Timestamp;
    case Type.Time:
      return text || f === Type.Time;
    case Type.Bool:
      return text;
    default:
      return false;
  }
}

/**
 * Converts Arrow data to `target` through plain values: the exact conversions {@link castData} does
 * not do itself (float -> int when integral, text -> timestamp/date/decimal, numbers -> decimal,
 * date -> timestamp, ...). Refuses lossy values naming the row.
 */
export function convertData(data: Data, target: DataType, ctx: { column: string; table?: string; file?: string }): Data {
  return encodeColumn(plainValues(data), target, { column: ctx.column, table: ctx.table, file: ctx.file });
}

/**
 * A JSON-safe form of a plain value for output (CLI JSONL/CSV/JSON): 64-bit integers beyond 2^53 as
 * decimal strings, NaN and infinities as the strings `NaN`, `Infinity`, `-Infinity` (distinct from
 * null), binary as base64; the rest unchanged. {@link encodeColumn} reads each of these back to the
 * same value (with `binaryText: 'base64'`).
 */
export function jsonSafe(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = jsonSafe(x);
    return out;
  }
  return v;
}

/** The text of a plain value for CSV cells and tables: strings as they are, nested values as JSON. */
export function plainText(v: unknown): string {
  const j = jsonSafe(v);
  if (j === null) return '';
  // -0, also inside a list or struct (JSON.stringify writes 0)
  return typeof j === 'string' ? j : jsonText(j);
}

/**
 * `JSON.parse` that keeps every number exact: integers beyond 2^53 become bigints, other numbers a
 * double cannot hold exactly become {@link ExactNumber}; everything else as `JSON.parse`. With
 * `wholeFloats`, a whole number written with a fraction or an exponent (`1.0`, `2e3`) is an
 * ExactNumber of its text too, which tells it from an integer (`1`): schema inference takes it for a
 * float, as pyarrow's and DuckDB's JSON readers do.
 * @throws SyntaxError on invalid JSON.
 */
export function parseJsonExact(text: string, options: { wholeFloats?: boolean } = {}): unknown {
  // Fast path: no number literal that a double would change.
  let risky = false;
  const re = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
  // Scanning strings too only yields false positives (slow path), never wrong results.
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (options.wholeFloats === true && /[.eE]/.test(m[0]) && Number.isInteger(Number(m[0]))) {
      risky = true;
      break;
    }
    // many digits, or an exponent of three digits (`1e400` parsed as Infinity, where a float64 column refuses the text)
    if (m[0].replace(/^-/, '').replace(/\./, '').replace(/[eE].*$/, '').replace(/^0+/, '').length > 15 || /[eE][+-]?\d{3}/.test(m[0])) {
      risky = true;
      break;
    }
  }
  if (!risky) return JSON.parse(text);
  let pos = 0;
  const ws = () => {
    while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t' || text[pos] === '\n' || text[pos] === '\r')) pos++;
  };
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at position ${pos}`);
  };
  const value = (): unknown => {
    ws();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[pos] === '}') {
        pos++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[pos] !== '"') fail('expected a property name');
        const k = str();
        ws();
        if (text[pos++] !== ':') fail("expected ':'");
        obj[k] = value();
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      pos++;
      const arr: unknown[] = [];
      ws();
      if (text[pos] === ']') {
        pos++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', pos)) return (pos += 4), true;
    if (text.startsWith('false', pos)) return (pos += 5), false;
    if (text.startsWith('null', pos)) return (pos += 4), null;
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(pos, pos + 400));
    if (!m) return fail('unexpected token');
    pos += m[0].length;
    const lit = m[0];
    if (m[1] === undefined && m[2] === undefined) {
      const n = Number(lit);
      return Number.isSafeInteger(n) ? n : BigInt(lit);
    }
    const n = Number(lit);
    if (options.wholeFloats === true && Number.isInteger(n)) return new ExactNumber(lit);
    return exactDouble(lit, n) ? n : new ExactNumber(lit);
  };
  const str = (): string => {
    const start = pos;
    pos++;
    while (pos < text.length && text[pos] !== '"') pos += text[pos] === '\\' ? 2 : 1;
    if (pos >= text.length) fail('unterminated string');
    pos++;
    return JSON.parse(text.slice(start, pos)) as string;
  };
  const v = value();
  ws();
  if (pos !== text.length) fail('unexpected text after the value');
  return v;
}

/**
 * Whether a decimal literal is what the double `n` prints as (its shortest round-trip text), i.e. a
 * JS number literal would denote the same value: then the double is the value meant.
 */
function exactDouble(lit: string, n: number): boolean {
  if (!Number.isFinite(n)) return false;
  try {
    const scale = 400;
    return parseDecimal(lit, 1000, scale) === parseDecimal(String(n), 1000, scale);
  } catch {
    return false;
  }
}

/** Options of {@link inferSchema}. */
export interface InferSchemaOptions {
  /** Columns that must not be null (primary keys): non-nullable in the result. */
  nonNullable?: readonly string[];
  /** Type of integral JS numbers: `int64` (default) or `int32`. */
  integers?: 'int64' | 'int32';
  /** For messages. */
  table?: string;
}

/**
 * Infers an Arrow schema from objects: per column the narrowest type every non-null value fits
 * (boolean; integer numbers and bigints -> int64 (or int32); other numbers -> float64; Date ->
 * timestamp(us, UTC); strings -> utf8; Uint8Array -> binary; arrays -> list of the items' type;
 * objects -> struct). Columns in first-seen order; a column only ever null is refused (its type is
 * unknown), naming it.
 */
export function inferSchema(records: readonly Record<string, unknown>[], options: InferSchemaOptions = {}): Schema {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    for (const k of Object.keys(r)) {
      if (!seen.has(k)) {
        seen.add(k);
        names.push(k);
      }
    }
  }
  const nonNull = new Set(options.nonNullable ?? []);
  const fields = names.map((name) => {
    const t = inferType(records.map((r) => r[name]), name, options);
    if (t === null) {
      throw new LakeSoulError('InvalidArgument', `cannot infer the type of column '${name}'${options.table ? ` of table '${options.table}'` : ''}: every value is null (give a schema)`, {
        context: { table: options.table, column: name },
      });
    }
    return new Field(name, t, !nonNull.has(name));
  });
  for (const k of nonNull) {
    if (!seen.has(k)) {
      throw new LakeSoulError('InvalidArgument', `column '${k}'${options.table ? ` of table '${options.table}'` : ''} is not in the data`, {
        context: { table: options.table, column: k },
      });
    }
  }
  return new Schema(fields);
}

function inferType(values: readonly unknown[], column: string, options: InferSchemaOptions): DataType | null {
  let kind: string | null = null;
  let allInt = true;
  const items: unknown[] = [];
  const structs: Record<string, unknown>[] = [];
  for (const v of values) {
    if (v === null || v === undefined) continue;
    const k =
      typeof v === 'boolean' ? 'bool'
      : typeof v === 'number' || typeof v === 'bigint' ? 'number'
      : typeof v === 'string' ? 'string'
      : v instanceof Date ? 'date'
      : v instanceof Uint8Array ? 'binary'
      : Array.isArray(v) ? 'list'
      : typeof v === 'object' ? 'struct'
      : typeof v;
    if (kind !== null && kind !== k) {
      throw new LakeSoulError('InvalidArgument', `column '${column}'${options.table ? ` of table '${options.table}'` : ''} mixes ${kind} and ${k} values: give a schema`, {
        context: { table: options.table, column },
      });
    }
    kind = k;
    if (k === 'number' && typeof v === 'number' && !Number.isInteger(v)) allInt = false;
    if (k === 'list') items.push(...(v as unknown[]));
    if (k === 'struct') structs.push(v as Record<string, unknown>);
  }
  switch (kind) {
    case null:
      return null;
    case 'bool':
      return new Bool();
    case 'number':
      return allInt ? (options.integers === 'int32' ? new Int32() : new Int64()) : new Float64();
    case 'string':
      return new Utf8();
    case 'date':
      return new Timestamp(TimeUnit.MICROSECOND, 'UTC');
    case 'binary':
      return new Binary();
    case 'list': {
      const item = inferType(items, `${column}[]`, options) ?? new Utf8();
      return new List(new Field('item', item, true));
    }
    case 'struct': {
      const s = inferSchema(structs, { integers: options.integers, table: options.table });
      return new Struct(s.fields);
    }
    default:
      throw new LakeSoulError('InvalidArgument', `column '${column}' holds ${kind} values, which have no Arrow type`, { context: { table: options.table, column } });
  }
}
