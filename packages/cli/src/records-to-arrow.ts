/**
 * Turning text records (CSV fields, JSONL objects) into Arrow batches of a given schema, with errors that
 * name the file, the line and the column; and inferring a schema from a sample when none is given.
 */
import {
  DataType, Field, Float64, Int64, RecordBatch, Schema, Timestamp, TimeUnit, Bool, DateDay, Utf8, Type,
  makeData, Struct, vectorFromArray,
} from 'apache-arrow';
import type { Decimal, FixedSizeList, Int as Int_ } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { formatType } from './schema-spec.js';

/** Where a record came from, for messages. */
export interface RecordOrigin {
  file: string;
  line: number;
}

class ConvertError extends Error {}

function intRange(t: Int_): [bigint, bigint] {
  const bits = BigInt(t.bitWidth);
  return t.isSigned ? [-(2n ** (bits - 1n)), 2n ** (bits - 1n) - 1n] : [0n, 2n ** bits - 1n];
}

function toBigIntStrict(raw: unknown): bigint {
  if (typeof raw === 'bigint') return raw;
  if (typeof raw === 'number') { if (!Number.isInteger(raw)) throw new ConvertError('not an integer'); return BigInt(raw); }
  const s = String(raw).trim();
  if (!/^[+-]?\d+$/.test(s)) throw new ConvertError('not an integer');
  return BigInt(s);
}

function decimalWords(raw: unknown, t: Decimal): Uint32Array {
  const s = String(raw).trim();
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new ConvertError('not a decimal number');
  const frac = (m[3] ?? '');
  if (frac.length > t.scale && /[1-9]/.test(frac.slice(t.scale))) throw new ConvertError(`has more than ${t.scale} decimal places`);
  let v = BigInt((m[2] || '0') + frac.slice(0, t.scale).padEnd(t.scale, '0'));
  if (v.toString().length > t.precision) throw new ConvertError(`exceeds precision ${t.precision}`);
  if (m[1] === '-') v = -v;
  const words = new Uint32Array(4);
  let u = BigInt.asUintN(128, v);
  for (let i = 0; i < 4; i++) { words[i] = Number(u & 0xffffffffn); u >>= 32n; }
  return words;
}

function parseTimestampMs(raw: unknown): number {
  if (raw instanceof Date) return raw.getTime();
  if (typeof raw === 'number') return raw;
  const s = String(raw).trim();
  if (/^-?\d+$/.test(s)) return Number(s);
  // Date-only and zone-less strings are read as UTC so imports do not depend on the machine's zone.
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : /[zZ]|[+-]\d{2}:?\d{2}$/.test(s) ? s : `${s.replace(' ', 'T')}Z`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new ConvertError('not a timestamp (ISO 8601 or epoch ms)');
  return ms;
}

/** Convert one raw value (CSV text or JSON value) to what Arrow's builders accept for `type`. */
export function convertValue(raw: unknown, type: DataType, fromText: boolean): unknown {
  if (raw === null || raw === undefined) return null;
  switch (type.typeId) {
    case Type.Bool: {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).trim().toLowerCase();
      if (s === 'true' || s === '1' || s === 't' || s === 'yes') return true;
      if (s === 'false' || s === '0' || s === 'f' || s === 'no') return false;
      throw new ConvertError('not a boolean');
    }
    case Type.Int: {
      const v = toBigIntStrict(raw);
      const [lo, hi] = intRange(type as Int_);
      if (v < lo || v > hi) throw new ConvertError(`out of range for ${formatType(type)}`);
      return (type as Int_).bitWidth === 64 ? v : Number(v);
    }
    case Type.Float: {
      if (typeof raw === 'number') return raw;
      const s = String(raw).trim();
      const n = Number(s);
      if (s === '' || (Number.isNaN(n) && s.toLowerCase() !== 'nan')) throw new ConvertError('not a number');
      return n;
    }
    case Type.Utf8: case Type.LargeUtf8:
      return typeof raw === 'string' ? raw : JSON.stringify(raw);
    case Type.Binary: case Type.LargeBinary: {
      if (raw instanceof Uint8Array) return raw;
      const s = String(raw);
      if (!/^[A-Za-z0-9+/=\s]*$/.test(s)) throw new ConvertError('not base64');
      return new Uint8Array(Buffer.from(s, 'base64'));
    }
    case Type.Date: {
      const s = String(raw).trim();
      if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) throw new ConvertError('not a date (YYYY-MM-DD)');
      const d = new Date(`${s}T00:00:00Z`);
      if (Number.isNaN(d.getTime())) throw new ConvertError('not a valid date');
      return d;
    }
    case Type.Timestamp:
      return parseTimestampMs(raw);
    case Type.Decimal:
      return decimalWords(raw, type as Decimal);
    case Type.List: case Type.FixedSizeList: {
      let arr = raw;
      if (typeof raw === 'string' && fromText) {
        try { arr = JSON.parse(raw); } catch { throw new ConvertError('not a JSON array'); }
      }
      if (!Array.isArray(arr)) throw new ConvertError('not an array');
      if (type.typeId === Type.FixedSizeList && arr.length !== (type as FixedSizeList).listSize) {
        throw new ConvertError(`has ${arr.length} items, expected ${(type as FixedSizeList).listSize}`);
      }
      const child = type.children[0]!.type;
      return arr.map((x) => convertValue(x, child, false));
    }
    case Type.Struct: {
      let obj = raw;
      if (typeof raw === 'string' && fromText) {
        try { obj = JSON.parse(raw); } catch { throw new ConvertError('not a JSON object'); }
      }
      if (obj === null || typeof obj !== 'object') throw new ConvertError('not an object');
      const out: Record<string, unknown> = {};
      for (const f of (type as Struct).children) out[f.name] = convertValue((obj as Record<string, unknown>)[f.name], f.type, false);
      return out;
    }
    default:
      throw new ConvertError(`type ${formatType(type)} is not supported for import`);
  }
}

/**
 * Build a RecordBatch of `schema` from rows of raw values (one array per row, in schema order).
 * Errors name the file, line and column; non-nullable columns reject nulls.
 */
export function rowsToBatch(schema: Schema, rows: unknown[][], origins: RecordOrigin[], fromText: boolean): RecordBatch {
  const children = schema.fields.map((field, c) => {
    const values = new Array(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const raw = rows[r]![c];
      const where = () => `${origins[r]!.file}:${origins[r]!.line}: column '${field.name}'`;
      let v: unknown;
      try { v = convertValue(raw, field.type, fromText); } catch (e) {
        if (!(e instanceof ConvertError)) throw e;
        throw new LakeSoulError('SchemaMismatch', `${where()}: ${JSON.stringify(raw)} is ${e.message} (column type ${formatType(field.type)})`,
          { context: { file: origins[r]!.file, row: origins[r]!.line, column: field.name } });
      }
      if (v === null && !field.nullable) {
        throw new LakeSoulError('SchemaMismatch', `${where()}: null in a non-nullable column`, { context: { file: origins[r]!.file, row: origins[r]!.line, column: field.name } });
      }
      values[r] = v;
    }
    return vectorFromArray(values, field.type).data[0]!;
  });
  const data = makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

/** Infer a column type from sample values (text when `fromText`). */
export function inferType(samples: unknown[], fromText: boolean): DataType {
  const vals = samples.filter((v) => v !== null && v !== undefined && !(fromText && v === ''));
  if (vals.length === 0) return new Utf8();
  const all = (pred: (v: unknown) => boolean) => vals.every(pred);
  if (all((v) => typeof v === 'boolean' || (typeof v === 'string' && /^(true|false)$/i.test(v.trim())))) return new Bool();
  if (all((v) => (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^[+-]?\d{1,18}$/.test(v.trim())))) return new Int64();
  if (all((v) => typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))))) return new Float64();
  if (all((v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v.trim()))) return new DateDay();
  if (all((v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([zZ]|[+-]\d{2}:?\d{2})?$/.test(v.trim()))) {
    return new Timestamp(TimeUnit.MICROSECOND, 'UTC');
  }
  return new Utf8();
}

/** Infer a schema from column names and sample rows. Every inferred column is nullable. */
export function inferSchema(names: string[], sampleRows: unknown[][], fromText: boolean): Schema {
  return new Schema(names.map((n, c) => new Field(n, inferType(sampleRows.map((r) => r[c]), fromText), true)));
}

