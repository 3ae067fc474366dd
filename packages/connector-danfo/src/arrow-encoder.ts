/**
 * DataFrame cells -> Arrow under a target schema. Every cell is validated against its field's type and
 * nullability and converted exactly (int64 from strings/numbers/bigints, timestamps from ISO strings
 * or Dates, decimals from strings, bytes from base64); the first bad cell fails the whole conversion
 * with a `LakeSoulError` naming the column and row, so nothing partial ever reaches a writer.
 */
import { DataType, Field, RecordBatch, Schema, Struct, Table, Type, makeData, makeVector, util } from 'apache-arrow';
import type { Data } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { DanfoDataFrameLike, DanfoEncodeOptions } from './danfo-options.js';
import { TemporalParseError, UNITS_PER_SECOND, parseDateDays, parseTime, parseTimestamp } from './temporal-codec.js';
import { DecimalParseError, base64ToBytes, parseDecimal, writeDecimalWords } from './value-codec.js';

/** A bad cell at `index` of the values being encoded; mapped to a column and row at the top. */
class CellError extends Error {
  constructor(message: string, readonly index: number) {
    super(message);
  }
}

interface EncodeContext {
  nan: 'value' | 'null';
  /** Path inside the column for nested fields (`tags[]`, `point.x`). */
  path: string;
}

function show(v: unknown): string {
  if (typeof v === 'string') return `${JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v)} (string)`;
  if (typeof v === 'bigint') return `${v}n (bigint)`;
  if (v instanceof Date) return `Date(${Number.isNaN(v.getTime()) ? 'Invalid' : v.toISOString()})`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  if (typeof v === 'object') return 'an object';
  return `${String(v)} (${typeof v})`;
}

function typeName(type: DataType): string {
  return String(type);
}

/** Null slots: null, undefined, and NaN outside float columns (Danfo's missing-value marker). */
function isMissing(v: unknown, floatColumn: boolean, ctx: EncodeContext): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'number' && Number.isNaN(v)) return !floatColumn || ctx.nan === 'null';
  return false;
}

/** makeData with loose typing: the props are built per type id above, which the overloads cannot see. */
function mk(props: Record<string, unknown>): Data {
  return makeData(props as never) as unknown as Data;
}

class Validity {
  readonly bits: Uint8Array;
  nulls = 0;
  constructor(readonly length: number) {
    this.bits = new Uint8Array(((length + 63) & ~63) >> 3);
  }
  set(i: number): void {
    this.bits[i >> 3] |= 1 << (i & 7);
  }
  props(): { nullCount: number; nullBitmap?: Uint8Array } {
    return this.nulls === 0 ? { nullCount: 0 } : { nullCount: this.nulls, nullBitmap: this.bits };
  }
}

const INT_RE = /^\s*[+-]?\d+\s*$/;

function toBigIntStrict(v: unknown, k: number, type: DataType): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new CellError(`expected an integer for ${typeName(type)}, got ${show(v)}`, k);
    return BigInt(v);
  }
  if (typeof v === 'string' && INT_RE.test(v)) return BigInt(v.trim());
  throw new CellError(`expected an integer (number, bigint or decimal string) for ${typeName(type)}, got ${show(v)}`, k);
}

function intArray(type: DataType & { bitWidth: number; isSigned: boolean }, n: number) {
  switch (type.bitWidth) {
    case 8: return type.isSigned ? new Int8Array(n) : new Uint8Array(n);
    case 16: return type.isSigned ? new Int16Array(n) : new Uint16Array(n);
    case 32: return type.isSigned ? new Int32Array(n) : new Uint32Array(n);
    default: return type.isSigned ? new BigInt64Array(n) : new BigUint64Array(n);
  }
}

function growBytes(buf: Uint8Array, need: number): Uint8Array {
  let size = buf.length * 2;
  while (size < need) size *= 2;
  const next = new Uint8Array(size);
  next.set(buf);
  return next;
}

function bytesOf(v: unknown, k: number, type: DataType): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (typeof v === 'string') {
    const b = base64ToBytes(v);
    if (b) return b;
    throw new CellError(`expected bytes or a base64 string for ${typeName(type)}, got a string that is not base64`, k);
  }
  throw new CellError(`expected bytes (Uint8Array) or a base64 string for ${typeName(type)}, got ${show(v)}`, k);
}

function parseJsonCell(v: string, k: number, type: DataType, want: 'array' | 'object'): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw new CellError(`expected ${want === 'array' ? 'an array' : 'an object'} (or its JSON) for ${typeName(type)}, got ${show(v)}`, k);
  }
  return parsed;
}

/**
 * Encode `values` (one per slot) as Arrow data of `field`'s type.
 *
 * Why long: one short case per Arrow type of the type-support table (packages/meta/src/type-support.ts); the switch is the one place this site dispatches on the type, so splitting it would scatter that dispatch.
 */
function encode(field: Field, values: ArrayLike<unknown>, ctx: EncodeContext): Data {
  const type = field.type as DataType;
  const n = values.length;
  const valid = new Validity(n);
  const float = type.typeId === Type.Float;
  const present = (v: unknown, k: number): boolean => {
    if (isMissing(v, float, ctx)) {
      if (!field.nullable) throw new CellError(`null in a non-nullable field${ctx.path ? ` (${ctx.path})` : ''}`, k);
      valid.nulls++;
      return false;
    }
    valid.set(k);
    return true;
  };
  switch (type.typeId) {
    case Type.Null: {
      for (let k = 0; k < n; k++) if (!isMissing(values[k], false, ctx)) throw new CellError(`expected null for a Null-typed column, got ${show(values[k])}`, k);
      return mk({ type, length: n, nullCount: n });
    }
    case Type.Bool: {
      const bits = new Uint8Array(((n + 63) & ~63) >> 3);
      for (let k = 0; k < n; k++) {
        const v = values[k];
        if (!present(v, k)) continue;
        if (typeof v !== 'boolean') throw new CellError(`expected a boolean, got ${show(v)}`, k);
        if (v) bits[k >> 3] |= 1 << (k & 7);
      }
      return mk({ type, length: n, data: bits, ...valid.props() });
    }
    case Type.Int: {
      const t = type as DataType & { bitWidth: number; isSigned: boolean };
      const data = intArray(t, n);
      if (t.bitWidth === 64) {
        const min = t.isSigned ? -(1n << 63n) : 0n;
        const max = t.isSigned ? (1n << 63n) - 1n : (1n << 64n) - 1n;
        for (let k = 0; k < n; k++) {
          const v = values[k];
          if (!present(v, k)) continue;
          const b = toBigIntStrict(v, k, type);
          if (b < min || b > max) throw new CellError(`${show(v)} is out of range for ${typeName(type)}`, k);
          (data as BigInt64Array)[k] = b;
        }
      } else {
        const min = t.isSigned ? -(2 ** (t.bitWidth - 1)) : 0;
        const max = t.isSigned ? 2 ** (t.bitWidth - 1) - 1 : 2 ** t.bitWidth - 1;
        for (let k = 0; k < n; k++) {
          const v = values[k];
          if (!present(v, k)) continue;
          const x = typeof v === 'number' && Number.isInteger(v) ? v : Number(toBigIntStrict(v, k, type));
          if (x < min || x > max) throw new CellError(`${show(v)} is out of range for ${typeName(type)}`, k);
          (data as Int32Array)[k] = x;
        }
      }
      return mk({ type, length: n, data, ...valid.props() });
    }
    case Type.Float: {
      const t = type as DataType & { precision: number };
      const data = t.precision === 0 ? new Uint16Array(n) : t.precision === 1 ? new Float32Array(n) : new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const v = values[k];
        if (!present(v, k)) continue;
        let x: number;
        if (typeof v === 'number') x = v;
        else if (typeof v === 'bigint') x = Number(v);
        else throw new CellError(`expected a number for ${typeName(type)}, got ${show(v)}`, k);
        // as table.write: the nearest value of the type, but never a finite value turned infinite
        // (1e39 was stored in float32 as Infinity) nor a bigint rounded
        const stored = t.precision === 0 ? util.float64ToUint16(x) : x;
        const held = t.precision === 0 ? util.uint16ToFloat64(stored) : t.precision === 1 ? Math.fround(x) : x;
        if (Number.isFinite(x) && !Number.isFinite(held)) throw new CellError(`${show(v)} is beyond ${typeName(type)}'s range`, k);
        if (typeof v === 'bigint' && (BigInt(x) !== v || held !== x)) throw new CellError(`${show(v)} is not exactly representable as ${typeName(type)}`, k);
        data[k] = stored;
      }
      return mk({ type, length: n, data, ...valid.props() });
    }
    case Type.Decimal: {
      const t = type as DataType & { scale: number; precision: number; bitWidth: number };
      const words = t.bitWidth / 32;
      const data = new Uint32Array(n * words);
      for (let k = 0; k < n; k++) {
        const v = values[k];
        if (!present(v, k)) continue;
        let text: string;
        if (typeof v === 'string') text = v;
        else if (typeof v === 'bigint') text = v.toString();
        else if (typeof v === 'number' && Number.isFinite(v)) {
          // A number is an approximation by nature: round it to the column's scale (documented).
          text = t.scale >= 0 && t.scale <= 100 && Math.abs(v) < 1e21 ? v.toFixed(t.scale) : String(v);
        } else throw new CellError(`expected a decimal (string or number) for ${typeName(type)}, got ${show(v)}`, k);
        try {
          writeDecimalWords(parseDecimal(text, t.precision, t.scale), data, k * words, words);
        } catch (e) {
          if (e instanceof DecimalParseError) throw new CellError(`${e.message} for ${typeName(type)}`, k);
          throw e;
        }
      }
      return mk({ type, length: n, data, ...valid.props() });
    }
    case Type.Utf8:
    case Type.LargeUtf8: {
      const large = type.typeId === Type.LargeUtf8;
      const offsets = large ? new BigInt64Array(n + 1) : new Int32Array(n + 1);
      let bytes: Uint8Array = new Uint8Array(Math.max(64, n * 8));
      let pos = 0;
      const encoder = new TextEncoder();
      for (let k = 0; k < n; k++) {
        const v = values[k];
        if (present(v, k)) {
          if (typeof v !== 'string') throw new CellError(`expected a string for ${typeName(type)}, got ${show(v)}`, k);
          if (!(v as string & { isWellFormed(): boolean }).isWellFormed()) {
            throw new CellError(`a string with an unpaired UTF-16 surrogate has no UTF-8 form (it would be stored as U+FFFD, another value): ${show(v)}`, k);
          }
          if (bytes.length - pos < v.length * 3) bytes = growBytes(bytes, pos + v.length * 3);
          pos += encoder.encodeInto(v, bytes.subarray(pos)).written;
          if (!large && pos > 0x7fffffff) throw new CellError('more than 2 GiB of string data in one batch for Utf8', k);
        }
        if (large) (offsets as BigInt64Array)[k + 1] = BigInt(pos);
        else (offsets as Int32Array)[k + 1] = pos;
      }
      return mk({ type, length: n, valueOffsets: offsets as Int32Array, data: bytes.subarray(0, pos), ...valid.props() });
    }
    case Type.Binary:
    case Type.LargeBinary: {
      const large = type.typeId === Type.LargeBinary;
      const offsets = large ? new BigInt64Array(n + 1) : new Int32Array(n + 1);
      let bytes: Uint8Array = new Uint8Array(Math.max(64, n * 8));
      let pos = 0;
      for (let k = 0; k < n; k++) {
        const v = values[k];
        if (present(v, k)) {
          const b = bytesOf(v, k, type);
          if (bytes.length - pos < b.length) bytes = growBytes(bytes, pos + b.length);
          bytes.set(b, pos);
          pos += b.length;
        }
        if (large) (offsets as BigInt64Array)[k + 1] = BigInt(pos);
        else (offsets as Int32Array)[k + 1] = pos;
      }
      return mk({ type, length: n, valueOffsets: offsets as Int32Array, data: bytes.subarray(0, pos), ...valid.props() });
    }
    case Type.FixedSizeBinary: {
      const width = (type as DataType & { byteWidth: number }).byteWidth;
      const bytes = new Uint8Array(n * width);
      for (let k = 0; k < n; k++) {
        const v = values[k];
        if (!present(v, k)) continue;
        const b = bytesOf(v, k, type);
        if (b.length !== width) throw new CellError(`expected ${width} bytes for ${typeName(type)}, got ${b.length}`, k);
        bytes.set(b, k * width);
      }
      return mk({ type, length: n, data: bytes, ...valid.props() });
    }
    case Type.Date: {
      const t = type as DataType & { unit: number };
      const data = t.unit === 0 ? new Int32Array(n) : new BigInt64Array(n);
      for (let k = 0; k < n; k++) {
        const v = values[k];
        if (!present(v, k)) continue;
        // Date64 counts milliseconds: a value not at midnight (which other writers store, and the
        // reader gives as an ISO timestamp with Z) is kept exactly; Date32 counts days and refuses it
        if (t.unit !== 0) {
          (data as BigInt64Array)[k] = date64Millis(v, type, k);
          continue;
        }
        let days: number;
        if (typeof v === 'string') {
          try {
            days = parseDateDays(v);
          } catch (e) {
            if (e instanceof TemporalParseError) throw new CellError(`${e.message} for ${typeName(type)}`, k);
            throw e;
          }
        } else if (v instanceof Date && !Number.isNaN(v.getTime())) {
          const ms = v.getTime();
          if (ms % 86_400_000 !== 0) throw new CellError(`${show(v)} is not at UTC midnight, so it is not a date (${typeName(type)})`, k);
          days = ms / 86_400_000;
        } else throw new CellError(`expected a date ("YYYY-MM-DD" or a Date at UTC midnight) for ${typeName(type)}, got ${show(v)}`, k);
        (data as Int32Array)[k] = days;
      }
      return mk({ type, length: n, data, ...valid.props() });
    }
    case Type.Timestamp: {
      const t = type as DataType & { unit: number; timezone?: string | null };
      const zoned = !!t.timezone;
      const per = UNITS_PER_SECOND[t.unit];
      const data = new BigInt64Array(n);
      for (let k = 0; k < n; k++) {
        const v = values[k];
        if (!present(v, k)) continue;
        if (typeof v === 'string') {
          try {
            data[k] = parseTimestamp(v, t.unit, zoned);
          } catch (e) {
            if (e instanceof TemporalParseError) throw new CellError(`${e.message} (${typeName(type)})`, k);
            throw e;
          }
        } else if (v instanceof Date && !Number.isNaN(v.getTime())) {
          const ms = BigInt(v.getTime());
          if (t.unit === 0) {
            if (ms % 1000n !== 0n) throw new CellError(`${show(v)} has milliseconds but the column's unit is seconds (${typeName(type)})`, k);
            data[k] = ms / 1000n;
          } else data[k] = ms * (per / 1000n);
        } else if (typeof v === 'bigint') {
          data[k] = v;
        } else {
          throw new CellError(`expected an ISO 8601 string or a Date for ${typeName(type)}, got ${show(v)}`, k);
        }
      }
      return mk({ type, length: n, data, ...valid.props() });
    }
    case Type.Time: {
      const t = type as DataType & { unit: number; bitWidth: number };
      const data = t.bitWidth === 32 ? new Int32Array(n) : new BigInt64Array(n);
      for (let k = 0; k < n; k++) {
        const v = values[k];
        if (!present(v, k)) continue;
        if (typeof v !== 'string') throw new CellError(`expected a time of day "HH:MM:SS[.fff]" for ${typeName(type)}, got ${show(v)}`, k);
        let x: bigint;
        try {
          x = parseTime(v, t.unit);
        } catch (e) {
          if (e instanceof TemporalParseError) throw new CellError(`${e.message} (${typeName(type)})`, k);
          throw e;
        }
        if (t.bitWidth === 32) (data as Int32Array)[k] = Number(x);
        else (data as BigInt64Array)[k] = x;
      }
      return mk({ type, length: n, data, ...valid.props() });
    }
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList: {
      const childField = type.children[0] as Field;
      const fixed = type.typeId === Type.FixedSizeList ? (type as DataType & { listSize: number }).listSize : -1;
      const large = type.typeId === Type.LargeList;
      const offsets = fixed >= 0 ? null : large ? new BigInt64Array(n + 1) : new Int32Array(n + 1);
      const flat: unknown[] = [];
      const owner: number[] = [];
      for (let k = 0; k < n; k++) {
        let v = values[k];
        if (typeof v === 'string' && !isMissing(v, false, ctx)) v = parseJsonCell(v, k, type, 'array');
        if (present(v, k)) {
          if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) {
            throw new CellError(`expected an array (or its JSON) for ${typeName(type)}, got ${show(v)}`, k);
          }
          const arr = v as ArrayLike<unknown>;
          if (fixed >= 0 && arr.length !== fixed) throw new CellError(`expected ${fixed} elements for ${typeName(type)}, got ${arr.length}`, k);
          for (let j = 0; j < arr.length; j++) { flat.push(arr[j]); owner.push(k); }
        } else if (fixed >= 0) {
          for (let j = 0; j < fixed; j++) { flat.push(null); owner.push(k); }
        }
        if (offsets instanceof BigInt64Array) offsets[k + 1] = BigInt(flat.length);
        else if (offsets) offsets[k + 1] = flat.length;
      }
      let child: Data;
      try {
        child = encode(childField, flat, { ...ctx, path: `${ctx.path}[]` });
      } catch (e) {
        if (e instanceof CellError) throw new CellError(`list element ${e.index - (owner.indexOf(owner[e.index]))}: ${e.message}`, owner[e.index]);
        throw e;
      }
      if (fixed >= 0) return mk({ type, length: n, child, ...valid.props() });
      return mk({ type, length: n, valueOffsets: offsets as Int32Array, child, ...valid.props() });
    }
    case Type.Struct: {
      const fields = type.children as Field[];
      const objs: (Record<string, unknown> | null)[] = new Array(n);
      for (let k = 0; k < n; k++) {
        let v = values[k];
        if (typeof v === 'string' && !isMissing(v, false, ctx)) v = parseJsonCell(v, k, type, 'object');
        if (present(v, k)) {
          if (typeof v !== 'object' || Array.isArray(v) || v instanceof Date) throw new CellError(`expected an object (or its JSON) for ${typeName(type)}, got ${show(v)}`, k);
          objs[k] = v as Record<string, unknown>;
        } else objs[k] = null;
      }
      const children = fields.map((f) => {
        const vals = objs.map((o) => (o === null ? null : o[f.name]));
        // A null struct slot has null children; the child field must then accept nulls there.
        const childField = valid.nulls > 0 && !f.nullable ? (f.clone({ nullable: true }) as Field) : f;
        return encode(childField, vals, { ...ctx, path: `${ctx.path}.${f.name}` });
      });
      return mk({ type, length: n, children, ...valid.props() });
    }
    case Type.Dictionary: {
      const t = type as DataType & { dictionary: DataType; indices: DataType & { bitWidth: number; isSigned: boolean } };
      const indices = intArray(t.indices, n);
      const keyOf = new Map<unknown, number>();
      const uniques: unknown[] = [];
      const firstSeen: number[] = [];
      for (let k = 0; k < n; k++) {
        const v = values[k];
        if (!present(v, k)) continue;
        const key = typeof v === 'object' ? JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x)) : v;
        let idx = keyOf.get(key);
        if (idx === undefined) {
          idx = uniques.length;
          keyOf.set(key, idx);
          uniques.push(v);
          firstSeen.push(k);
        }
        if (indices instanceof BigInt64Array || indices instanceof BigUint64Array) indices[k] = BigInt(idx);
        else indices[k] = idx;
      }
      let dict: Data;
      try {
        dict = encode(new Field('dictionary', t.dictionary, false), uniques, ctx);
      } catch (e) {
        if (e instanceof CellError) throw new CellError(e.message, firstSeen[e.index]);
        throw e;
      }
      return mk({ type, length: n, data: indices, dictionary: makeVector(dict), ...valid.props() });
    }
    default:
      throw new LakeSoulError('Unsupported', `writing Arrow type ${typeName(type)} from a DataFrame is not supported`, { code: 'UNSUPPORTED_TYPE' });
  }
}

/** Column values of a DataFrame, by name. */
export type ColumnValues = Record<string, ArrayLike<unknown>>;

function fieldMismatch(options: DanfoEncodeOptions, column: string, row: number | undefined, message: string, code: string): LakeSoulError {
  const where = options.table ? `table "${options.table}" ` : '';
  const at = row === undefined ? '' : ` row ${row}`;
  return new LakeSoulError('SchemaMismatch', `${where}column "${column}"${at}: ${message}`, {
    code, context: { table: options.table, namespace: options.namespace, column, ...(row === undefined ? {} : { row }) },
  });
}

/**
 * Build an Arrow Table with exactly `schema` (fields, order, nullability, metadata) from column
 * arrays keyed by name. Throws a `LakeSoulError` (kind `SchemaMismatch`) naming the column, and the
 * row for a bad cell.
 */
export function columnsToArrow(columns: ColumnValues, schema: Schema, options: DanfoEncodeOptions = {}): Table {
  const choices: [keyof DanfoEncodeOptions, readonly string[]][] = [
    ['missingColumns', ['error', 'null', 'partial']], ['extraColumns', ['error', 'ignore']], ['nan', ['value', 'null']],
  ];
  for (const [name, allowed] of choices) {
    const v = options[name];
    if (v !== undefined && !allowed.includes(v as string)) {
      throw new LakeSoulError('InvalidArgument', `option ${name}: ${JSON.stringify(v)} is not one of ${allowed.map((a) => `'${a}'`).join(', ')}`, { code: 'INVALID_ARGUMENT' });
    }
  }
  // A column given as undefined is a missing column (reported below by name), not a crash.
  const names = Object.keys(columns).filter((c) => columns[c] !== undefined);
  const known = new Set(schema.fields.map((f) => f.name));
  if (options.extraColumns !== 'ignore') {
    const extra = names.filter((c) => !known.has(c));
    if (extra.length > 0) {
      throw fieldMismatch(options, extra[0], undefined, `not a column of the table (columns: ${[...known].join(', ')}); drop it or pass { extraColumns: 'ignore' }`, 'DATAFRAME_COLUMN_UNKNOWN');
    }
  }
  const lengths = new Set(names.filter((c) => known.has(c)).map((c) => columns[c].length));
  if (lengths.size > 1) {
    throw new LakeSoulError('InvalidArgument', `columns have different lengths (${[...lengths].join(', ')})`, { code: 'INVALID_INPUT', context: { table: options.table } });
  }
  const numRows = lengths.size === 1 ? [...lengths][0] : 0;
  const ctx: EncodeContext = { nan: options.nan ?? 'value', path: '' };
  if (options.missingColumns === 'partial') {
    const fields = schema.fields.filter((f) => columns[f.name] !== undefined);
    schema = new Schema(fields, schema.metadata);
  }
  const children = schema.fields.map((field) => {
    let values = columns[field.name];
    if (values === undefined) {
      const canFill = options.missingColumns === 'null' && field.nullable;
      if (!canFill) {
        const hint = options.missingColumns === 'null'
          ? 'it is not nullable'
          : `every table column must be present (binary columns are dropped on read unless { binary: 'base64' }); pass { missingColumns: 'partial' } for a partial upsert or 'null' to write nulls`;
        throw fieldMismatch(options, field.name, undefined, `missing from the DataFrame: ${hint}`, 'DATAFRAME_COLUMN_MISSING');
      }
      values = new Array(numRows).fill(null);
    }
    try {
      return encode(field, values, ctx);
    } catch (e) {
      if (e instanceof CellError) throw fieldMismatch(options, field.name, e.index, e.message, 'DATAFRAME_TYPE_MISMATCH');
      if (LakeSoulError.is(e) && !e.context.column) {
        e.context.column = field.name;
        e.context.table = options.table;
      }
      throw e;
    }
  });
  const data = makeData({ type: new Struct(schema.fields), length: numRows, nullCount: 0, children });
  return new Table(schema, [new RecordBatch(schema, data)]);
}

/** Column arrays of a Danfo DataFrame (from its row-major `values`), by column name. */
export function dataFrameColumns(df: DanfoDataFrameLike): ColumnValues {
  if (!df || !Array.isArray(df.columns)) {
    throw new LakeSoulError('InvalidArgument', 'expected a Danfo DataFrame (an object with `columns` and `values`)', { code: 'INVALID_INPUT' });
  }
  const names = df.columns;
  const rows = (df.values ?? []) as unknown[];
  const out: ColumnValues = {};
  const cols: unknown[][] = names.map(() => new Array(rows.length));
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (!Array.isArray(row) || row.length !== names.length) {
      throw new LakeSoulError('InvalidArgument', `DataFrame row ${r} is not an array of ${names.length} cells`, { code: 'INVALID_INPUT', context: { row: r } });
    }
    for (let j = 0; j < names.length; j++) cols[j][r] = row[j];
  }
  names.forEach((n, j) => { out[n] = cols[j]; });
  return out;
}

/**
 * Convert a Danfo DataFrame to an Arrow Table with exactly `schema`, restoring exact types (bigint
 * from strings/numbers, timestamps from ISO strings or Dates, bytes from base64). Validation errors
 * are `LakeSoulError`s of kind `SchemaMismatch` naming the column (and row).
 */
export function fromDataFrame(df: DanfoDataFrameLike, schema: Schema, options: DanfoEncodeOptions = {}): Table {
  return columnsToArrow(dataFrameColumns(df), schema, options);
}


/**
 * A Date64 cell as milliseconds since the epoch: `"YYYY-MM-DD"` (midnight UTC), an ISO timestamp with
 * an offset or `Z` (exact to the millisecond: finer non-zero digits are refused), or a `Date`. Not at
 * midnight is kept as written: what the reader gives for such a stored value writes it back exactly.
 */
function date64Millis(v: unknown, type: DataType, k: number): bigint {
  if (typeof v === 'string') {
    try {
      return /^([+-]\d{4,}|\d{4})-\d{2}-\d{2}$/.test(v.trim()) ? BigInt(parseDateDays(v)) * 86_400_000n : parseTimestamp(v, 1, true);
    } catch (e) {
      if (e instanceof TemporalParseError) throw new CellError(`${e.message} for ${typeName(type)}`, k);
      throw e;
    }
  }
  if (v instanceof Date && !Number.isNaN(v.getTime())) return BigInt(v.getTime());
  throw new CellError(`expected a date ("YYYY-MM-DD", an ISO timestamp with offset, or a Date) for ${typeName(type)}, got ${show(v)}`, k);
}
