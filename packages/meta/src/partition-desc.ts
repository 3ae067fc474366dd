/**
 * LakeSoul's `partition_desc` encoding (lakesoul-protocol.md §1) and the bucket id in data file names (§4).
 */
import { Precision, Type } from 'apache-arrow/enum';
import type { DataType } from 'apache-arrow';
import { LakeSoulError } from './errors.js';
import { MAX_QUOTED_INPUT, quoteInput } from './table-names.js';

/** partition_desc of a table without range-partition columns. */
export const NO_PARTITION_DESC = '-5';
/** Encoded null range value. */
export const NULL_PARTITION_VALUE = '__L@KE$OUL_NULL__';
/** Encoded empty-string range value. */
export const EMPTY_PARTITION_VALUE = '__L@KE$OUL_EMPTY_STRING__';

/** A range-partition value as given by callers. Dates encode as `YYYY-MM-DD` (UTC). */
export type PartitionValueInput = string | number | bigint | boolean | Date | null | undefined;

/**
 * Why a column of `type` cannot be a range-partition column, or `undefined` when it can. Range values
 * are stored as text in partition_desc, so only types whose values have one agreed text are allowed:
 * booleans, integers, floats, strings, binaries, dates, times, timestamps, and dictionaries of these.
 * Nested types have no such text (LakeSoul-Python writes a list as `[1, 2]`, which holds a `,` and which
 * its own reader refuses); a decimal's text differs between LakeSoul's engines and the protocol does
 * not fix it (LakeSoul-Python 2.0.0 writes the unscaled integer: 12.50 as `1250`).
 */
export function rangePartitionTypeProblem(type: DataType): string | undefined {
  switch (type.typeId) {
    case Type.Bool:
    case Type.Int:
    case Type.Float:
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Binary:
    case Type.LargeBinary:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
      return undefined;
    case Type.Dictionary:
      return rangePartitionTypeProblem((type as DataType & { dictionary: DataType }).dictionary);
    case Type.Decimal:
      return 'the LakeSoul protocol fixes no text for a decimal range value (its engines write different ones)';
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList:
    case Type.Struct:
    case Type.Map:
    case Type.Union:
    case Type.DenseUnion:
    case Type.SparseUnion:
      return 'a nested value has no partition_desc text';
    default:
      return 'values of this type have no partition_desc text';
  }
}

/**
 * Throws Unsupported `UNSUPPORTED_PARTITION_TYPE` naming the table (when known) and column when `type` cannot be a
 * range-partition column (see {@link rangePartitionTypeProblem}).
 */
export function checkRangePartitionType(table: string | undefined, column: string, type: DataType): void {
  const problem = rangePartitionTypeProblem(type);
  if (problem === undefined) return;
  throw new LakeSoulError('Unsupported',
    `${table === undefined ? '' : `table '${table}': `}column '${column}' of type ${String(type)} cannot be a range partition column: ${problem}; partition by a column of another type (for example a utf8 copy of it) or by none`, {
      code: 'UNSUPPORTED_PARTITION_TYPE', context: { table, column },
    });
}

/**
 * The UTC date of `value` as Java's `LocalDate.toString` writes it, which LakeSoul's engines write
 * in partition_desc: `2024-01-02`, years outside 0000-9999 signed (`-0100-02-22`, `+10000-01-01`).
 */
export function localDateText(value: Date): string {
  const y = value.getUTCFullYear();
  const year = y < 0 ? `-${String(-y).padStart(4, '0')}` : y > 9999 ? `+${y}` : String(y).padStart(4, '0');
  return `${year}-${String(value.getUTCMonth() + 1).padStart(2, '0')}-${String(value.getUTCDate()).padStart(2, '0')}`;
}

/**
 * Encodes one range value (null -> `__L@KE$OUL_NULL__`, '' -> `__L@KE$OUL_EMPTY_STRING__`). A value
 * holding `,` or `=`, or equal to one of the two markers, is InvalidArgument `INVALID_PARTITION_VALUE`
 * naming the column: stored, it would read back as something else.
 */
export function encodePartitionValue(column: string, value: PartitionValueInput): string {
  let s: string;
  if (value === null || value === undefined) return NULL_PARTITION_VALUE;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalid(column, String(value), 'is an invalid Date');
    // (toISOString's `-000100-…` cut at 10 characters was no date)
    s = localDateText(value);
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(column, String(value), 'is a non-finite number');
    s = Number.isInteger(value) ? BigInt(value).toString() : String(value);
  } else {
    s = String(value);
  }
  if (s === '') return EMPTY_PARTITION_VALUE;
  if (s.includes(',') || s.includes('=')) throw invalid(column, s, "contains ',' or '=', which the partition_desc encoding cannot hold");
  if (s.includes('\u0000')) throw invalid(column, s, 'contains U+0000, which the catalog (PostgreSQL text) cannot store');
  // An unpaired surrogate has no UTF-8 form: stored, it would be U+FFFD, another value.
  if (LONE_SURROGATE.test(s)) throw invalid(column, s, 'contains an unpaired UTF-16 surrogate, which has no UTF-8 form');
  // The markers stand for null and ''; stored as themselves they would read back as null or ''.
  if (s === NULL_PARTITION_VALUE) throw invalid(column, s, 'is the encoding of a null range value (write null instead)');
  if (s === EMPTY_PARTITION_VALUE) throw invalid(column, s, "is the encoding of an empty range value (write '' instead)");
  return s;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function invalid(column: string, value: string, what: string): LakeSoulError {
  return new LakeSoulError('InvalidArgument', `range partition column '${column}' value ${quoteInput(value)} ${what}`, {
    code: 'INVALID_PARTITION_VALUE', context: { column, value: value.slice(0, MAX_QUOTED_INPUT) },
  });
}

/**
 * Builds `partition_desc` = `"col=val,col2=val2"` in `rangeColumns` order, or `"-5"` when there are no
 * range columns. `values` is a record by column name or an array in column order. A missing column
 * is an `InvalidArgument` error naming it; a value containing `,` or `=` likewise names column and value.
 */
export function encodePartitionDesc(rangeColumns: readonly string[], values: Record<string, PartitionValueInput> | readonly PartitionValueInput[]): string {
  if (rangeColumns.length === 0) return NO_PARTITION_DESC;
  const parts = rangeColumns.map((c, i) => {
    let v: PartitionValueInput;
    if (Array.isArray(values)) {
      if (i >= values.length) throw new LakeSoulError('InvalidArgument', `no value for range partition column '${c}'`, { context: { column: c } });
      v = values[i];
    } else {
      const rec = values as Record<string, PartitionValueInput>;
      if (!Object.prototype.hasOwnProperty.call(rec, c)) {
        throw new LakeSoulError('InvalidArgument', `no value for range partition column '${c}'`, { context: { column: c } });
      }
      v = rec[c];
    }
    return `${c}=${encodePartitionValue(c, v)}`;
  });
  return parts.join(',');
}

/** Decodes one encoded range value (the null and empty-string markers become null and ''). */
export function decodePartitionValue(raw: string): string | null {
  if (raw === NULL_PARTITION_VALUE) return null;
  if (raw === EMPTY_PARTITION_VALUE) return '';
  return raw;
}

/**
 * Decodes `partition_desc` into `[column, value]` pairs in order (`"-5"` and `""` give `[]`).
 * Values are strings as stored (dates `YYYY-MM-DD`, integers decimal text); null is null.
 */
export function decodePartitionDesc(desc: string): Array<[column: string, value: string | null]> {
  if (desc === NO_PARTITION_DESC || desc === '') return [];
  return desc.split(',').map((part) => {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      throw new LakeSoulError('InvalidArgument', `malformed partition_desc '${desc}': '${part}' is not col=value`, { context: { partition: desc } });
    }
    return [part.slice(0, eq), decodePartitionValue(part.slice(eq + 1))];
  });
}

/**
 * Whether a range column's values are written differently by LakeSoul's engines (and by earlier
 * lakesoul-ts), so that the text of a partition_desc is not the only name of its value: floats
 * (`1e+21`, `1000000000000000000000`, `1.0E21`; `Infinity`, `inf`) and timestamps (`...00.123Z`,
 * `...00.123`, `...00.123000`, `... 00:00:00.123`), and dates of years outside 0000-9999
 * (`-0100-02-22`, `-100-02-22`). See {@link rangeValueKey}.
 */
export function hasRangeTextVariants(type: DataType): boolean {
  return type.typeId === Type.Float || type.typeId === Type.Timestamp || type.typeId === Type.Date;
}

/**
 * Whether `text` (decoded: the null marker is already null) names the null value of a range column
 * of `type`: LakeSoul's Python engine (the `lakesoul` 2.0 wheel) writes a null of a column that is not
 * text as `NULL` (`k=NULL`, where the protocol's marker is `__L@KE$OUL_NULL__`), which no value of
 * such a type has as its text. In a text column `NULL` is the four-letter string.
 */
export function isNullRangeText(type: DataType | undefined, text: string | null): boolean {
  if (text === null) return true;
  if (text !== 'NULL' || type === undefined) return false;
  const t = type.typeId === Type.Dictionary ? (type as DataType & { dictionary: DataType }).dictionary : type;
  return t.typeId !== Type.Utf8 && t.typeId !== Type.LargeUtf8;
}

/**
 * A float range value's text as LakeSoul's engines write it (Rust's `inf`/`-inf`/`NaN`, Java's
 * `Infinity` and `1.0E21`, plain decimals), as a number; NaN for `NaN` and for text that is no float.
 */
export function parseFloatRangeText(text: string): number {
  switch (text.toLowerCase()) {
    case 'inf': case '+inf': case 'infinity': case '+infinity': return Infinity;
    case '-inf': case '-infinity': return -Infinity;
    default: return text.trim() === '' ? NaN : Number(text);
  }
}

/**
 * A key equal for every text of one range value of `type` (null: null): for a float, its value at the
 * column's width (`inf`/`Infinity`, `-0` apart from `0`, NaN one value); for a timestamp, its UTC wall
 * time without zone suffix and trailing zeros of the fraction (a time with another offset converted,
 * to the millisecond); for a date, its year as a number (`-0100`, `-100`; `+10000`, `10000`). Other
 * types: the text itself. Matching partitions by key finds a value's partition whichever engine (or
 * version) wrote it.
 */
export function rangeValueKey(type: DataType, text: string | null): string | null {
  if (text === null || isNullRangeText(type, text)) return null; // `NULL` of a non-text column too: the wheel's null
  if (type.typeId === Type.Float) {
    let n = parseFloatRangeText(text);
    if (Number.isNaN(n)) return text.toLowerCase() === 'nan' ? 'NaN' : text; // not a float's text: itself
    if ((type as DataType & { precision: Precision }).precision !== Precision.DOUBLE) n = Math.fround(n); // float16 and float32 values
    return Object.is(n, -0) ? '-0' : String(n);
  }
  if (type.typeId === Type.Timestamp) {
    let t = text.trim().replace(' ', 'T');
    const offset = /([+-]\d\d:?\d\d)$/.exec(t);
    if (offset !== null && !/^[+-]00:?00$/.test(offset[1]!)) {
      const ms = Date.parse(t);
      if (Number.isNaN(ms)) return text;
      t = new Date(ms).toISOString();
    }
    t = t.replace(/(Z|[+-]00:?00)$/, '');
    return t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t;
  }
  if (type.typeId === Type.Date) {
    // the year as a number: Java's `-0100-02-22` / `+10000-01-01` and the `-100-02-22` /
    // `10000-01-01` lakesoul-ts wrote before 2026-12-06 are one value
    const m = /^([+-]?\d+)(-\d\d-\d\d)$/.exec(text);
    return m === null ? text : `${Number(m[1])}${m[2]}`;
  }
  return text;
}

/**
 * {@link rangeValueKey} of every range value of `desc` (columns typed by `typeOf`), joined: equal for
 * two descriptions of the same values.
 */
export function partitionDescKey(desc: string, typeOf: (column: string) => DataType | undefined): string {
  return decodePartitionDesc(desc)
    .map(([c, v]) => {
      const type = typeOf(c);
      const key = type === undefined ? v : rangeValueKey(type, v);
      return `${c}\u0000${key === null ? '\u0001' : `=${key}`}`;
    })
    .join('\u0000');
}

const BUCKET_RE = /.*_(\d+)(?:\..*)?$/;

/**
 * Bucket id from a data file path (`..._0003.parquet` -> 3), by the upstream rule: the file name
 * matched against `.*_(\d+)(?:\..*)?$`; no match gives 0.
 */
export function bucketFromFileName(path: string): number {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const m = BUCKET_RE.exec(name);
  return m ? Number.parseInt(m[1], 10) : 0;
}
