/**
 * Range-partition values: turning Arrow cells into the text of partition_desc and back into typed
 * constant columns when a reader re-injects them (protocol §1, §4).
 */
import { DataType, Precision, Type, TimeUnit, makeBuilder, makeData, makeVector, util, type Data, type Float, type Timestamp, type Vector } from 'apache-arrow';
import { LakeSoulError, checkRangePartitionType, decodePartitionDesc, encodePartitionValue, isNullRangeText, localDateText, parseFloatRangeText } from '@lakesoul-ts/meta';
import type { FilterExpr } from '../types.js';
import { rowGroupMayMatch, type ColumnStatsLike } from '../filter/filter-eval.js';
import { TemporalParseError, formatTimestamp, parseTimestamp } from '../arrow/temporal-codec.js';
import { cellReader, hashBytes, isValidAt, sameBytes } from '../arrow/data-access.js';
import { encodeColumn } from '../arrow/value-codec.js';

const DAY_MS = 86_400_000;

/**
 * Formats epoch ms as `YYYY-MM-DD` (UTC), years outside 0000-9999 as Java's `LocalDate.toString`
 * writes them (which LakeSoul's engines write in partition_desc): `-0100-02-22`, `-12345-01-01`,
 * `+10000-01-01`.
 */
export function formatDate(ms: number): string {
  return localDateText(new Date(ms));
}

/**
 * Epoch ms of a `YYYY-MM-DD` range value, years signed and of any width (`-0100-02-22` as Java writes
 * year -100; `-100-02-22`, as lakesoul-ts wrote it before; `+10000-01-01`, `+010000-01-01`);
 * undefined when `text` is not of that form, null when it is no valid date.
 */
function parseDateText(text: string): number | null | undefined {
  const m = /^([+-]?\d+)-(\d{2})-(\d{2})$/.exec(text);
  if (m === null) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (!Number.isSafeInteger(y) || mo < 1 || mo > 12 || d < 1) return null;
  const at = new Date(0); // midnight UTC; setUTCFullYear takes years 0-99 as they are (Date.UTC does not)
  at.setUTCFullYear(y, mo - 1, d);
  if (at.getUTCFullYear() !== y || at.getUTCMonth() !== mo - 1 || at.getUTCDate() !== d) return null;
  return at.getTime();
}

/** True for timestamps finer than milliseconds, whose range values are kept as integer counts of their unit. */
function subMillisecond(type: DataType): boolean {
  return type.typeId === Type.Timestamp && ((type as Timestamp).unit === TimeUnit.MICROSECOND || (type as Timestamp).unit === TimeUnit.NANOSECOND);
}

/**
 * Reads the cells of a range-partition column as {@link rangeValueText} takes them: `v.get(i)`, except
 * for micro- and nanosecond timestamps, whose exact int64 count is read (Arrow's getter rounds to ms).
 */
export function rangeCellReader(v: Vector): (i: number) => unknown {
  if (!subMillisecond(v.type)) return cellReader(v);
  const raw = new BigInt64Array(v.length);
  let at = 0;
  for (const d of v.data) {
    raw.set((d.values as BigInt64Array).subarray(0, d.length), at);
    at += d.length;
  }
  return (i) => (v.isValid(i) ? raw[i] : null);
}

/** The key of -0 among range values (a Map takes -0 and 0 for one key). */
const NEGATIVE_ZERO = Symbol('-0');

/**
 * The range values of column `v` as small codes: `codes[i]` indexes `distinct`, which holds each
 * distinct value once as {@link rangeCellReader} reads it (first occurrence order; null included).
 * Strings and byte arrays are compared as bytes, so a value is decoded once, not once per row.
 */
export function rangeValueCodes(v: Vector): { codes: Int32Array; distinct: unknown[] } {
  const codes = new Int32Array(v.length);
  const distinct: unknown[] = [];
  const id = v.type.typeId;
  if (id === Type.Utf8 || id === Type.Binary || id === Type.LargeUtf8 || id === Type.LargeBinary) {
    byteValueCodes(v, codes, distinct);
    return { codes, distinct };
  }
  const cell = rangeCellReader(v);
  const seen = new Map<unknown, number>();
  let prev: unknown = Symbol('none');
  let prevCode = -1;
  for (let i = 0; i < codes.length; i++) {
    const x = cell(i);
    // -0 is its own range value (LakeSoul writes `-0`), which === and Map keys would merge with 0
    if (!Object.is(x, prev) || prevCode < 0) {
      const key = x instanceof Date ? x.getTime() : Object.is(x, -0) ? NEGATIVE_ZERO : x;
      let k = seen.get(key);
      if (k === undefined) {
        k = distinct.length;
        distinct.push(x);
        seen.set(key, k);
      }
      prev = x;
      prevCode = k;
    }
    codes[i] = prevCode;
  }
  return { codes, distinct };
}

/** {@link rangeValueCodes} of a string or binary column: rows hashed and compared as bytes. */
function byteValueCodes(v: Vector, codes: Int32Array, distinct: unknown[]): void {
  const cell = cellReader(v);
  const bytesOf: Uint8Array[] = []; // the bytes of each code's value (empty for null)
  const byHash = new Map<number, number[]>();
  let nullCode = -1;
  let row = 0;
  for (const d of v.data) {
    const offsets = d.valueOffsets as Int32Array | BigInt64Array;
    const big = offsets instanceof BigInt64Array;
    const values = d.values as Uint8Array;
    let prevStart = 0;
    let prevEnd = 0;
    let prevCode = -1; // the previous row's code when it was not null
    for (let i = 0; i < d.length; i++, row++) {
      if (!isValidAt(d, i)) {
        if (nullCode < 0) {
          nullCode = distinct.length;
          distinct.push(null);
          bytesOf.push(new Uint8Array(0));
        }
        codes[row] = nullCode;
        prevCode = -1;
        continue;
      }
      // a sliced Data's offsets start at its first row already (its validity bitmap does not)
      const start = big ? Number(offsets[i]) : (offsets[i] as number);
      const end = big ? Number(offsets[i + 1]) : (offsets[i + 1] as number);
      if (prevCode >= 0 && sameBytes(values, start, end, values, prevStart, prevEnd)) {
        codes[row] = prevCode;
        continue;
      }
      const h = hashBytes(values, start, end);
      let code = -1;
      const candidates = byHash.get(h);
      if (candidates !== undefined) {
        for (const c of candidates) {
          if (sameBytes(values, start, end, bytesOf[c], 0, bytesOf[c].length)) {
            code = c;
            break;
          }
        }
      }
      if (code < 0) {
        code = distinct.length;
        distinct.push(cell(row));
        bytesOf.push(values.slice(start, end));
        if (candidates === undefined) byHash.set(h, [code]);
        else candidates.push(code);
      }
      codes[row] = code;
      prevStart = start;
      prevEnd = end;
      prevCode = code;
    }
  }
}

/**
 * Text of one range value as partition_desc stores it (before the null/empty-string markers, which
 * the catalog's encoder applies): integers as decimal, dates `YYYY-MM-DD`, booleans `true`/`false`,
 * floats as {@link floatRangeText}, byte strings as lowercase hex (`0x61 0x62` is `6162`). Timestamps (micro- and nanoseconds given as their int64 count, see
 * {@link rangeCellReader}) as LakeSoul writes them: the UTC wall time with all the unit's fraction
 * digits and no zone suffix (`2024-01-01T00:00:00.123456`, `2024-01-01T00:00:00.123`,
 * `2024-01-01T00:00:00` for seconds). `null` for a null cell.
 */
export function rangeValueText(value: unknown, type: DataType): string | null {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case Type.Date:
      return formatDate(value instanceof Date ? value.getTime() : Number(value));
    case Type.Timestamp: {
      if (typeof value === 'bigint' && subMillisecond(type)) return formatTimestamp(value, (type as Timestamp).unit, null, false);
      const ms = value instanceof Date ? value.getTime() : Number(value);
      // as LakeSoul writes them: `2024-01-01T00:00:00.123` (milliseconds), `2024-01-01T00:00:00` (seconds)
      if ((type as Timestamp).unit === TimeUnit.SECOND) return formatTimestamp(BigInt(Math.floor(ms / 1000)), TimeUnit.SECOND, null, false);
      return formatTimestamp(BigInt(Math.floor(ms)), TimeUnit.MILLISECOND, null, false);
    }
    case Type.Bool:
      return value ? 'true' : 'false';
    case Type.Float:
      return floatRangeText(Number(value), (type as Float).precision);
    case Type.Binary:
    case Type.LargeBinary:
      // as LakeSoul's Rust engine writes them: lowercase hex (text could not hold every byte string)
      return Buffer.from(value as Uint8Array).toString('hex');
    default:
      return typeof value === 'string' ? value : String(value);
  }
}

/**
 * A float range value as LakeSoul's Rust engine writes it into partition_desc (Rust's `Display`): the
 * fewest digits that read back as the same value of the column's width (a float32 0.1 is `0.1`, not
 * float64's `0.10000000149011612`; a float16 as its float32 value, as the `half` crate prints it),
 * never an exponent (`1000000000000000000000`, `0.0000001`), `inf`, `-inf`, `NaN` and `-0`. The same
 * value then names the same partition whichever engine writes it.
 */
export function floatRangeText(value: number, precision: Precision): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  let text = String(value); // the shortest digits that read back as this float64
  if (precision !== Precision.DOUBLE && Math.fround(value) === value) {
    for (let digits = 1; digits <= 9; digits++) {
      const t = value.toPrecision(digits);
      if (Math.fround(Number(t)) === value) {
        text = t;
        break;
      }
    }
  }
  return withoutExponent(text);
}

/** `1.5e-7` as `0.00000015`, `1e+21` as `1000000000000000000000` (other text unchanged). */
function withoutExponent(text: string): string {
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (m === null) return text;
  const [, sign, first, rest = '', exponent] = m;
  const digits = first! + rest;
  const point = 1 + Number(exponent); // digits before the decimal point
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * The partition_desc text of a range value a person typed (`1.0` for a float column, an ISO time with
 * a zone for a timestamp column) or a program gave (a Date, a bigint, a number): parsed as a value of `type` by the value codec, then written as the
 * writer writes it (`1`, `2024-01-02T08:00:00.000000`), so that it names the partition it means.
 * @throws LakeSoulError when the text is not a value of `type`, naming the column.
 */
export function rangeValueTextOfInput(text: unknown, type: DataType, column: string): string | null {
  if (type.typeId === Type.Date && typeof text === 'string') {
    // a date as partition_desc holds it, signed years too (`-0100-02-22`, which the value codec reads not)
    const ms = parseDateText(text.trim());
    if (typeof ms === 'number') return formatDate(ms);
  }
  const v = makeVector(encodeColumn([text], type, { column }));
  return rangeValueText(rangeCellReader(v)(0), type);
}

/** Parses the text of a range value back into the JS value Arrow builders take for `type`. */
export function parseRangeValue(text: string | null, type: DataType, column: string): unknown {
  if (text === null || isNullRangeText(type, text)) return null; // `NULL`: the wheel's null of a column that is not text
  const bad = () =>
    new LakeSoulError('InvalidArgument', `range value '${text}' of column '${column}' does not parse as ${type}`, {
      context: { column },
    });
  switch (type.typeId) {
    case Type.Int: {
      const t = type as DataType & { bitWidth: number };
      if (t.bitWidth === 64) {
        try {
          return BigInt(text);
        } catch {
          throw bad();
        }
      }
      const n = Number(text);
      if (!Number.isInteger(n)) throw bad();
      return n;
    }
    case Type.Float: {
      const n = parseFloatRangeText(text);
      if (Number.isNaN(n) && text.toLowerCase() !== 'nan') throw bad();
      // the value the column's rows hold: `0.1` in a float32 column is 0.10000000149011612 (pruning
      // by the double 0.1 left the partition out of `f > 0.1`, which its rows satisfy)
      const precision = (type as Float).precision;
      return precision === Precision.SINGLE ? Math.fround(n) : precision === Precision.HALF ? util.uint16ToFloat64(util.float64ToUint16(n)) : n;
    }
    case Type.Decimal: {
      const n = Number(text);
      if (Number.isNaN(n) && text !== 'NaN') throw bad();
      return n;
    }
    case Type.Bool:
      if (text !== 'true' && text !== 'false') throw bad();
      return text === 'true';
    case Type.Date: {
      // exactly, years before 1 and after 9999 too (Date.parse read `-100-02-22` as year 100)
      const exact = parseDateText(text);
      const ms = exact === undefined ? Date.parse(text) : (exact ?? NaN);
      if (Number.isNaN(ms)) throw bad();
      return new Date(Math.floor(ms / DAY_MS) * DAY_MS);
    }
    case Type.Timestamp: {
      if (subMillisecond(type)) return timestampCount(text, (type as Timestamp).unit, bad);
      // Whole milliseconds (LakeSoul's engines write `...00.123`, lakesoul-ts `...00.123Z`): UTC either way.
      return new Date(Number(timestampCount(text, TimeUnit.MILLISECOND, bad)));
    }
    case Type.Binary:
    case Type.LargeBinary:
      if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw bad();
      return new Uint8Array(Buffer.from(text, 'hex'));
    default:
      return text;
  }
}

/**
 * The exact count of `unit` of a range value's text: a wall time read as UTC, with `Z` or an
 * offset allowed (values written before the LakeSoul format ended in `Z`).
 */
function timestampCount(text: string, unit: TimeUnit, bad: () => LakeSoulError): bigint {
  const zoned = /(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$/.test(text) && /[T ]\d{2}:\d{2}/.test(text);
  try {
    return parseTimestamp(text, unit, zoned);
  } catch (e) {
    if (e instanceof TemporalParseError) throw bad();
    throw e;
  }
}

/**
 * A column of `length` copies of one range value, typed per the table schema. A column whose type
 * cannot be a range partition (a table another engine created) is Unsupported naming the column.
 */
export function constantColumn(type: DataType, text: string | null, length: number, column: string, table?: string): Vector {
  checkRangePartitionType(table, column, type);
  const value = parseRangeValue(text, type, column);
  if (subMillisecond(type)) {
    const values = new BigInt64Array(length);
    if (value !== null) values.fill(value as bigint);
    const nullBitmap = value === null ? new Uint8Array((length + 7) >> 3) : undefined;
    return makeVector(makeData({ type: type as Timestamp, length, nullCount: value === null ? length : 0, data: values, nullBitmap }));
  }
  return constantVector(type, value, length);
}

/**
 * A column of `length` copies of `value` (a value Arrow's builder of `type` accepts; null: all null).
 * One cell goes through the builder (its conversions for every type), then its buffers are repeated:
 * a builder appending `length` times encoded a string once per row (half of a partitioned read's time).
 */
export function constantVector(type: DataType, value: unknown, length: number): Vector {
  const b = makeBuilder({ type, nullValues: [null, undefined] });
  b.append(value);
  return makeVector(repeatCell(b.finish().toVector().data[0], length));
}

type TypedArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Float32Array | Float64Array;

/** `length` copies of the one-row `cell` (a null cell gives an all-null column). */
function repeatCell(cell: Data, length: number): Data {
  const type = cell.type;
  const isNull = cell.nullCount > 0;
  const nullBitmap = isNull ? new Uint8Array((length + 7) >> 3) : undefined;
  const nullCount = isNull ? length : 0;
  switch (type.typeId) {
    case Type.Bool: {
      const bits = new Uint8Array((length + 7) >> 3);
      if (!isNull && (cell.values[0] & 1) === 1) bits.fill(0xff);
      return makeData({ type, length, nullCount, nullBitmap, data: bits } as Parameters<typeof makeData>[0]);
    }
    case Type.Utf8:
    case Type.Binary:
    case Type.LargeUtf8:
    case Type.LargeBinary: {
      const large = type.typeId === Type.LargeUtf8 || type.typeId === Type.LargeBinary;
      const cellOffsets = cell.valueOffsets as Int32Array | BigInt64Array;
      const start = Number(cellOffsets[0]);
      const width = isNull ? 0 : Number(cellOffsets[1]) - start;
      if (!large && width * length > 0x7fffffff) {
        throw new LakeSoulError('InvalidArgument', `a column of ${length} copies of a ${width}-byte value exceeds 2 GiB; read in smaller batches`);
      }
      const data = repeatPrefix(cell.values.subarray(start, start + width), width, width * length);
      let valueOffsets: Int32Array | BigInt64Array;
      if (large) {
        valueOffsets = new BigInt64Array(length + 1);
        for (let i = 0; i <= length; i++) valueOffsets[i] = BigInt(i * width);
      } else {
        valueOffsets = new Int32Array(length + 1);
        for (let i = 0; i <= length; i++) valueOffsets[i] = i * width;
      }
      return makeData({ type, length, nullCount, nullBitmap, valueOffsets, data } as Parameters<typeof makeData>[0]);
    }
    default: {
      // fixed width (ints, floats, dates, times, timestamps, dictionary indices): `stride` elements a cell
      const stride = cell.stride;
      const source = isNull ? cell.values.subarray(0, 0) : cell.values.subarray(0, stride);
      const data = repeatPrefix(source, stride, stride * length);
      return makeData({ type, length, nullCount, nullBitmap, data, dictionary: cell.dictionary } as Parameters<typeof makeData>[0]);
    }
  }
}

/** A new array like `unit` of `total` elements: `unit` (of `width` elements) repeated; zeros if `width` is 0. */
function repeatPrefix(unit: TypedArray, width: number, total: number): TypedArray {
  const out = new (unit.constructor as new (n: number) => TypedArray)(total);
  if (width === 0 || total === 0) return out;
  (out as Uint8Array).set(unit.subarray(0, width) as Uint8Array);
  for (let filled = width; filled < total; filled *= 2) out.copyWithin(filled, 0, Math.min(filled, total - filled));
  return out;
}

/**
 * A partition selection (`partitions: { day: ... }`) with each range value given as a JS value of its
 * column (a Date or ISO time with a zone for a timestamp, a bigint, a number for a float or date
 * column) turned into the text the writer writes for it, so that it selects the partition it means
 * instead of none. Strings of string columns, nulls, description lists and keys that are not range
 * columns (which the catalog refuses) pass unchanged.
 * @throws LakeSoulError SchemaMismatch when a value is not a value of its column's type, naming it.
 */
export function canonicalPartitionSelection<T>(partitions: T, fields: readonly { name: string; type: DataType }[], rangeColumns: readonly string[]): T {
  if (partitions === null || typeof partitions !== 'object' || Array.isArray(partitions)) return partitions;
  let out: Record<string, unknown> | undefined;
  for (const [column, value] of Object.entries(partitions as Record<string, unknown>)) {
    if (value === null || value === undefined || !rangeColumns.includes(column)) continue;
    const field = fields.find((f) => f.name === column);
    if (!field || (typeof value === 'string' && (field.type.typeId === Type.Utf8 || field.type.typeId === Type.LargeUtf8))) continue;
    const text = rangeValueTextOfInput(value, field.type, column);
    if (text !== value) (out ??= { ...(partitions as Record<string, unknown>) })[column] = text;
  }
  return (out ?? partitions) as T;
}

/**
 * Whether rows of the partition `desc` may satisfy `filter`: its range values are the one value of
 * their columns, tested as row-group statistics are (other columns: unknown). False only when no row
 * of the partition can match, so a scan skips it: a filter `day = 'x'` on a range column read every
 * partition's files before (28 s against 0.2 s for `partitions: { day: 'x' }` at 10,000 partitions).
 * Range types whose values statistics do not compare exactly (decimals, sub-millisecond times) decide
 * nothing.
 */
export function partitionMayMatch(filter: FilterExpr, desc: string, schema: { fields: { name: string; type: DataType }[] }): boolean {
  const stats: Record<string, ColumnStatsLike> = {};
  for (const [column, text] of decodePartitionDesc(desc)) {
    const type = schema.fields.find((f) => f.name === column)?.type;
    if (type === undefined || !comparableRangeType(type)) continue;
    let value: unknown;
    try {
      value = parseRangeValue(text, type, column);
    } catch {
      continue; // a value the column does not parse: decided by the rows, as before
    }
    stats[column] = value === null ? { min: null, max: null, nullCount: 1 } : { min: value, max: value, nullCount: 0 };
  }
  return rowGroupMayMatch(filter, stats, 1);
}

/**
 * The catalog's partition predicate for a filter (`SnapshotOptions.partitionMatch`): partitions whose
 * range values cannot satisfy it are left out before their snapshots are read. Undefined without a
 * filter or range partitions.
 */
export function rangeFilterMatch(filter: FilterExpr | null, info: { rangePartitions: string[]; schema: { fields: { name: string; type: DataType }[] } }): ((desc: string) => boolean) | undefined {
  if (filter === null || info.rangePartitions.length === 0) return undefined;
  return (desc) => partitionMayMatch(filter, desc, info.schema);
}

/**
 * The range values a filter pins with top-level `=` conjuncts on string and integer range columns,
 * as a catalog partition selection (`{ day: '2026-12-01' }`), which the catalog turns into a narrower
 * statement than a predicate can: every partition it leaves out holds no row the filter keeps.
 * Undefined when the filter pins none (other types have several texts per value, tested by
 * {@link rangeFilterMatch} instead).
 */
export function rangeEqualities(filter: FilterExpr | null, info: { rangePartitions: string[]; schema: { fields: { name: string; type: DataType }[] } }): Record<string, string> | undefined {
  if (filter === null || info.rangePartitions.length === 0) return undefined;
  let out: Record<string, string> | undefined;
  for (const c of filter.op === 'and' ? filter.args : [filter]) {
    if (c.op !== '=' || !info.rangePartitions.includes(c.column)) continue;
    const type = info.schema.fields.find((f) => f.name === c.column)?.type;
    const text = type === undefined ? undefined
      : (type.typeId === Type.Utf8 || type.typeId === Type.LargeUtf8) && typeof c.value === 'string' ? c.value
        : type.typeId === Type.Int && (typeof c.value === 'bigint' || (typeof c.value === 'number' && Number.isSafeInteger(c.value))) ? String(c.value) : undefined;
    // a text no description can hold (',', '=', the null marker...) leaves the selection to the predicate
    if (text === undefined || text === '' || !rangeTextOk(text)) continue;
    (out ??= {})[c.column] ??= text; // `a = 1 AND a = 2` selects a=1, where the filter keeps nothing
  }
  return out;
}

function rangeTextOk(text: string): boolean {
  try {
    return encodePartitionValue('', text) === text;
  } catch {
    return false;
  }
}

function comparableRangeType(type: DataType): boolean {
  switch (type.typeId) {
    case Type.Int:
    case Type.Float:
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Bool:
    case Type.Date:
      return true;
    case Type.Timestamp:
      return !subMillisecond(type);
    default:
      return false;
  }
}
