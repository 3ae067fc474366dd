/**
 * Arrow -> DataFrame cells. Reads Arrow buffers directly (no per-value `Vector.get`), converting each
 * type as documented in docs/dataframes.md. Every value either converts exactly or the conversion
 * fails with a `LakeSoulError` naming the column and row, unless the caller opted into a lossy mode.
 */
import { DataType, Type, makeVector, util } from 'apache-arrow';
import type { Data, Field, RecordBatch, Schema, Table } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { DanfoConvertOptions, DanfoDtype, Int64Mode } from './danfo-options.js';
import { FRACTION_DIGITS, UNITS_PER_SECOND, ZoneOffsets, formatDate, formatTime, formatTimestamp, resolveZone } from './temporal-codec.js';
import { IsoWriter, Utf8Interner, bytesToBase64, decimalToString } from './value-codec.js';

/** Reads the value at a (data-relative) index; null for a null slot. */
type Reader = (i: number) => unknown;
type ReaderFactory = (data: Data) => Reader;

/** Thrown by readers for a value that cannot be converted; the column loop adds column and row. */
class ValueError extends Error {
  constructor(message: string, readonly code: string, readonly hint: string) {
    super(message);
  }
}

/** Conversion plan of one output column. */
interface ColumnPlan {
  name: string;
  index: number;
  dtype: DanfoDtype;
  factory: ReaderFactory;
}

/** A decoding plan for a schema: which columns are kept, their Danfo dtypes and readers. */
export interface DecodePlan {
  readonly schema: Schema;
  /** Output column names (dropped binary columns excluded). */
  readonly names: string[];
  readonly dtypes: DanfoDtype[];
  /** Columns dropped (binary, `binary: 'drop'`). */
  readonly dropped: string[];
  readonly columns: ColumnPlan[];
}

/** Columns converted to JS values, column-major. */
export interface DecodedColumns {
  names: string[];
  dtypes: DanfoDtype[];
  /** One array per column, each `numRows` long. */
  columns: unknown[][];
  numRows: number;
}

/** Context for messages. */
export interface DecodeContext {
  table?: string;
  namespace?: string;
  /**
   * Every column of the table (a read may project fewer): a per-column option may name any of them.
   * Default: the decoded schema's columns.
   */
  tableColumns?: readonly string[];
}

const TWO32 = 4294967296;

function validity(data: Data): ((i: number) => boolean) | null {
  if (data.typeId === Type.Null) return () => false;
  const bm = data.nullBitmap;
  if (!bm || bm.length === 0 || data.nullCount === 0) return null;
  const off = data.offset;
  return (i) => ((bm[(off + i) >> 3] >> ((off + i) & 7)) & 1) === 1;
}

/** Wrap a value reader with the slot validity. */
function withNulls(data: Data, read: Reader): Reader {
  const valid = validity(data);
  if (!valid) return read;
  return (i) => (valid(i) ? read(i) : null);
}

function int64Mode(option: DanfoConvertOptions['int64'], column: string): Int64Mode {
  if (option === undefined) return 'error';
  if (typeof option === 'string') return option;
  return option[column] ?? 'error';
}

function containsBinary(type: DataType): boolean {
  if (DataType.isBinary(type) || DataType.isLargeBinary(type) || DataType.isFixedSizeBinary(type) || type.typeId === Type.BinaryView) return true;
  return (type.children ?? []).some((c: Field) => containsBinary(c.type));
}

/** Reader of 64-bit integers as exact JS numbers (error beyond +-(2^53-1)), strings or rounded numbers. */
function int64Factory(signed: boolean, mode: Int64Mode, column: string): ReaderFactory {
  return (data) => {
    const values = data.values as BigInt64Array | BigUint64Array;
    if (mode === 'string') return withNulls(data, (i) => values[i].toString());
    if (mode === 'number-unsafe') return withNulls(data, (i) => Number(values[i]));
    // Read the two 32-bit halves: no BigInt allocation for the common (safe) case.
    const lo = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
    const hi = signed ? new Int32Array(values.buffer, values.byteOffset, values.length * 2) : lo;
    return withNulls(data, (i) => {
      const n = hi[2 * i + 1] * TWO32 + lo[2 * i];
      if (Number.isSafeInteger(n)) return n;
      throw new ValueError(
        `int64 value ${values[i]} is beyond +-(2^53-1) and has no exact JS number`,
        'INT64_OUT_OF_RANGE',
        `read it with { int64: 'string' } (exact decimal strings) or { int64: { ${JSON.stringify(column)}: 'string' } }; 'number-unsafe' rounds`,
      );
    });
  };
}

/**
 * The JS Date of `ms` since the epoch, or the ValueError of a value beyond a Date's range (±8.64e15
 * ms; `what` names the value, made only then): `new Date` gave an Invalid Date there, a cell that
 * looked like a date and wrote back as none.
 */
function jsDate(ms: number, what: () => string): Date {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) throw new ValueError(`${what()} is beyond the range of a JS Date`, 'TIMESTAMP_OUT_OF_RANGE', "read it with { dates: 'string' }");
  return d;
}

/** Value of a timestamp slot as a JS number when exact, else bigint. */
function timestampFactory(type: DataType & { unit: number; timezone?: string | null }, options: DanfoConvertOptions, column: string): ReaderFactory {
  const unit = type.unit;
  const tz = type.timezone ?? null;
  const zone = tz ? resolveZone(tz) : null;
  if (tz && !zone) {
    throw new LakeSoulError('Unsupported', `column "${column}": unknown time zone "${tz}" in its timestamp type`, {
      code: 'UNKNOWN_TIME_ZONE', context: { column },
    });
  }
  const offsets = zone ? new ZoneOffsets(zone) : null;
  const utc = zone?.kind === 'fixed' && zone.utc;
  const per = UNITS_PER_SECOND[unit];
  const perN = Number(per);
  const digits = FRACTION_DIGITS[unit];
  if (options.timestamps === 'date') {
    return (data) => {
      const values = data.values as BigInt64Array;
      const lo = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
      const hi = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
      const toDate = (i: number): Date => {
        const n = hi[2 * i + 1] * TWO32 + lo[2 * i];
        if (unit === 0) return new Date(n * 1000);
        if (unit === 1) return new Date(n);
        if (Number.isSafeInteger(n)) return new Date(Math.floor(n / (perN / 1000)));
        return new Date(Number(values[i] / (per / 1000n) - (values[i] < 0n && values[i] % (per / 1000n) !== 0n ? 1n : 0n)));
      };
      return withNulls(data, (i) => {
        const d = toDate(i);
        if (Number.isNaN(d.getTime())) {
          throw new ValueError(`timestamp ${values[i]} is beyond the range of a JS Date`, 'TIMESTAMP_OUT_OF_RANGE', "read it with { timestamps: 'string' }");
        }
        return d;
      });
    };
  }
  const iso = new IsoWriter();
  return (data) => {
    const values = data.values as BigInt64Array;
    const lo = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
    const hi = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
    return withNulls(data, (i) => {
      const n = hi[2 * i + 1] * TWO32 + lo[2 * i];
      if (!Number.isSafeInteger(n)) return formatTimestamp(values[i], unit, offsets, utc);
      // Fast path in exact double arithmetic, written as ASCII bytes (one flat string per value).
      let secs = Math.floor(n / perN);
      let frac = n - secs * perN;
      // The quotient is a rounded double: correct an off-by-one at second boundaries.
      if (frac < 0) { secs -= 1; frac += perN; } else if (frac >= perN) { secs += 1; frac -= perN; }
      const off = offsets ? offsets.at(secs) : 0;
      return iso.timestamp(secs + off * 60, frac, digits, offsets ? off : null, utc) ?? formatTimestamp(values[i], unit, offsets, utc);
    });
  };
}

function unsupported(type: DataType, column: string): never {
  throw new LakeSoulError('Unsupported', `column "${column}": Arrow type ${String(type)} has no DataFrame mapping`, {
    code: 'UNSUPPORTED_TYPE', context: { column },
  });
}

/**
 * Build the reader factory for a type. `column` names the top-level column for messages.
 *
 * Why long: one short case per Arrow type of the type-support table (packages/meta/src/type-support.ts); the switch is the one place this site dispatches on the type, so splitting it would scatter that dispatch.
 */
function makeFactory(type: DataType, options: DanfoConvertOptions, column: string): ReaderFactory {
  const nestedJson = options.nested === 'json';
  switch (type.typeId) {
    case Type.Null:
      return () => () => null;
    case Type.Bool:
      return (data) => {
        const bits = data.values as Uint8Array;
        const off = data.offset;
        return withNulls(data, (i) => ((bits[(off + i) >> 3] >> ((off + i) & 7)) & 1) === 1);
      };
    case Type.Int: {
      const t = type as DataType & { bitWidth: number; isSigned: boolean };
      if (t.bitWidth === 64) return int64Factory(t.isSigned, int64Mode(options.int64, column), column);
      return (data) => {
        const values = data.values as Int32Array;
        return withNulls(data, (i) => values[i]);
      };
    }
    case Type.Float: {
      const t = type as DataType & { precision: number };
      if (t.precision === 0) {
        return (data) => {
          const values = data.values as Uint16Array;
          return withNulls(data, (i) => util.uint16ToFloat64(values[i]));
        };
      }
      return (data) => {
        const values = data.values as Float64Array;
        return withNulls(data, (i) => values[i]);
      };
    }
    case Type.Decimal: {
      const t = type as DataType & { scale: number; bitWidth: number };
      const words = t.bitWidth / 32;
      const asNumber = options.decimals === 'number';
      return (data) => {
        const values = data.values as Uint32Array;
        return withNulls(data, (i) => {
          const s = decimalToString(values, i * words, words, t.scale);
          return asNumber ? Number(s) : s;
        });
      };
    }
    case Type.Utf8:
    case Type.LargeUtf8:
    {
      const interner = new Utf8Interner();
      return (data) => {
        const offsets = data.valueOffsets as Int32Array | BigInt64Array;
        const bytes = data.values as Uint8Array;
        if (offsets instanceof BigInt64Array) return withNulls(data, (i) => interner.decode(bytes, Number(offsets[i]), Number(offsets[i + 1])));
        return withNulls(data, (i) => interner.decode(bytes, offsets[i], offsets[i + 1]));
      };
    }
    case Type.Binary:
    case Type.LargeBinary:
      return (data) => {
        const offsets = data.valueOffsets as Int32Array | BigInt64Array;
        const bytes = data.values as Uint8Array;
        return withNulls(data, (i) => bytesToBase64(bytes.subarray(Number(offsets[i]), Number(offsets[i + 1]))));
      };
    case Type.FixedSizeBinary: {
      const width = (type as DataType & { byteWidth: number }).byteWidth;
      return (data) => {
        const bytes = data.values as Uint8Array;
        return withNulls(data, (i) => bytesToBase64(bytes.subarray(i * width, (i + 1) * width)));
      };
    }
    case Type.Utf8View:
    case Type.BinaryView:
      return (data) => {
        const v = makeVector(data);
        const isText = type.typeId === Type.Utf8View;
        return withNulls(data, (i) => (isText ? v.get(i) : bytesToBase64(v.get(i) as Uint8Array)));
      };
    case Type.Date: {
      const t = type as DataType & { unit: number };
      const asDate = options.dates === 'date';
      if (t.unit === 0) {
        return (data) => {
          const values = data.values as Int32Array;
          let lastDay = NaN, lastText = '';
          const text = (days: number): string => (days === lastDay ? lastText : ((lastDay = days), (lastText = formatDate(days))));
          return withNulls(data, asDate ? (i) => jsDate(values[i] * 86_400_000, () => `date ${formatDate(values[i])}`) : (i) => text(values[i]));
        };
      }
      return (data) => {
        const values = data.values as BigInt64Array;
        return withNulls(data, (i) => {
          const ms = Number(values[i]);
          if (asDate) return jsDate(ms, () => `date64 ${values[i]} ms`);
          return ms % 86_400_000 === 0 ? formatDate(ms / 86_400_000) : formatTimestamp(values[i], 1, new ZoneOffsets({ kind: 'fixed', minutes: 0, utc: true }), true);
        });
      };
    }
    case Type.Timestamp:
      return timestampFactory(type as DataType & { unit: number; timezone?: string | null }, options, column);
    case Type.Time: {
      const t = type as DataType & { unit: number; bitWidth: number };
      return (data) => {
        const values = data.values as Int32Array | BigInt64Array;
        return withNulls(data, (i) => formatTime(BigInt(values[i]), t.unit));
      };
    }
    case Type.List:
    case Type.LargeList: {
      const child = makeFactory((type.children[0] as Field).type, { ...options, nested: 'array' }, column);
      return (data) => {
        const offsets = data.valueOffsets as Int32Array | BigInt64Array;
        const read = child(data.children[0]);
        return withNulls(data, (i) => {
          const a = Number(offsets[i]), b = Number(offsets[i + 1]);
          const out = new Array(b - a);
          for (let k = a; k < b; k++) out[k - a] = read(k);
          return nestedJson ? JSON.stringify(out) : out;
        });
      };
    }
    case Type.FixedSizeList: {
      const size = (type as DataType & { listSize: number }).listSize;
      const child = makeFactory((type.children[0] as Field).type, { ...options, nested: 'array' }, column);
      return (data) => {
        const read = child(data.children[0]);
        return withNulls(data, (i) => {
          const out = new Array(size);
          for (let k = 0; k < size; k++) out[k] = read(i * size + k);
          return nestedJson ? JSON.stringify(out) : out;
        });
      };
    }
    case Type.Struct: {
      const fields = type.children as Field[];
      const kids = fields.map((f) => makeFactory(f.type, { ...options, nested: 'array' }, column));
      return (data) => {
        const reads = kids.map((k, j) => k(data.children[j]));
        return withNulls(data, (i) => {
          const o: Record<string, unknown> = {};
          for (let j = 0; j < fields.length; j++) o[fields[j].name] = reads[j](i);
          return nestedJson ? JSON.stringify(o) : o;
        });
      };
    }
    case Type.Dictionary: {
      const t = type as DataType & { dictionary: DataType };
      const valueFactory = makeFactory(t.dictionary, options, column);
      const cache = new WeakMap<object, unknown[]>();
      return (data) => {
        const dict = data.dictionary!;
        let lookup = cache.get(dict);
        if (!lookup) {
          lookup = [];
          for (const d of dict.data) {
            const r = valueFactory(d);
            for (let k = 0; k < d.length; k++) lookup.push(r(k));
          }
          cache.set(dict, lookup);
        }
        const idx = data.values as Int32Array;
        const l = lookup;
        return withNulls(data, (i) => l[Number(idx[i])]);
      };
    }
    default:
      return unsupported(type, column);
  }
}

function dtypeOf(type: DataType, options: DanfoConvertOptions, column: string): DanfoDtype {
  switch (type.typeId) {
    case Type.Bool: return 'boolean';
    case Type.Int: {
      const t = type as DataType & { bitWidth: number };
      return t.bitWidth === 64 && int64Mode(options.int64, column) === 'string' ? 'string' : 'int32';
    }
    case Type.Float: return 'float32';
    case Type.Decimal: return options.decimals === 'number' ? 'float32' : 'string';
    case Type.Date: return options.dates === 'date' ? 'datetime' : 'string';
    case Type.Timestamp: return options.timestamps === 'date' ? 'datetime' : 'string';
    case Type.Dictionary: return dtypeOf((type as DataType & { dictionary: DataType }).dictionary, options, column);
    default: return 'string';
  }
}

function warn(options: DanfoConvertOptions, message: string): void {
  if (options.onWarning) return options.onWarning(message);
  const proc = (globalThis as { process?: { emitWarning?: (m: string, o: object) => void } }).process;
  if (proc?.emitWarning) proc.emitWarning(message, { code: 'LAKESOUL_DANFO_BINARY_DROPPED' });
  else console.warn(message);
}

const CHOICES: Record<string, readonly string[]> = {
  timestamps: ['string', 'date'], dates: ['string', 'date'], decimals: ['string', 'number'],
  numericNulls: ['null', 'nan'], binary: ['drop', 'base64'], nested: ['array', 'json'],
};
const INT64_MODES: readonly string[] = ['error', 'string', 'number-unsafe'];

function checkOptions(options: DanfoConvertOptions): void {
  const bad = (name: string, value: unknown, allowed: readonly string[]): never => {
    throw new LakeSoulError('InvalidArgument', `option ${name}: ${JSON.stringify(value)} is not one of ${allowed.map((a) => `'${a}'`).join(', ')}`, { code: 'INVALID_ARGUMENT' });
  };
  for (const [name, allowed] of Object.entries(CHOICES)) {
    const v = (options as Record<string, unknown>)[name];
    if (v !== undefined && !allowed.includes(v as string)) bad(name, v, allowed);
  }
  const i = options.int64;
  if (typeof i === 'string' || (i !== undefined && (typeof i !== 'object' || i === null))) {
    if (!INT64_MODES.includes(i as string)) bad('int64', i, INT64_MODES);
  } else if (i) {
    for (const [col, mode] of Object.entries(i)) if (!INT64_MODES.includes(mode)) bad(`int64.${col}`, mode, INT64_MODES);
  }
}

/** Whether a type holds 64-bit integers (itself, its children, or a dictionary's values). */
function contains64BitInts(type: DataType): boolean {
  if (DataType.isInt(type) && type.bitWidth === 64) return true;
  if (DataType.isDictionary(type)) return contains64BitInts(type.dictionary);
  return (type.children ?? []).some((c: Field) => contains64BitInts(c.type));
}

/**
 * The per-column `int64` option names columns of the table holding 64-bit integers: a misspelt or
 * foreign name used to be ignored silently (its column then read under the default `'error'`).
 */
function checkInt64Columns(schema: Schema, options: DanfoConvertOptions, context: DecodeContext): void {
  const i = options.int64;
  if (i === undefined || typeof i !== 'object' || i === null) return;
  const where = context.table ? `table "${context.table}"` : 'the data';
  const all = context.tableColumns ?? schema.fields.map((f) => f.name);
  for (const column of Object.keys(i)) {
    const ctx = { option: 'int64', column, ...(context.table ? { table: context.table } : {}) };
    if (!all.includes(column)) {
      throw new LakeSoulError('InvalidArgument', `option int64: ${JSON.stringify(column)} is not a column of ${where} (its columns: ${all.map((c) => JSON.stringify(c)).join(', ')})`, {
        code: 'INVALID_OPTION_VALUE', context: ctx,
      });
    }
    const field = schema.fields.find((f) => f.name === column);
    if (field && !contains64BitInts(field.type)) {
      throw new LakeSoulError('InvalidArgument', `option int64: column ${JSON.stringify(column)} of ${where} is ${field.type} and holds no int64/uint64 values; name only int64/uint64 columns (or lists, structs of them)`, {
        code: 'INVALID_OPTION_VALUE', context: ctx,
      });
    }
  }
}

/** Plan the conversion of a schema; warns once per dropped binary column. */
export function planDecode(schema: Schema, options: DanfoConvertOptions = {}, context: DecodeContext = {}): DecodePlan {
  checkOptions(options);
  checkInt64Columns(schema, options, context);
  const names: string[] = [];
  const dtypes: DanfoDtype[] = [];
  const dropped: string[] = [];
  const columns: ColumnPlan[] = [];
  schema.fields.forEach((f, index) => {
    if (options.binary !== 'base64' && containsBinary(f.type)) {
      dropped.push(f.name);
      return;
    }
    try {
      const dtype = dtypeOf(f.type, options, f.name);
      let factory = makeFactory(f.type, options, f.name);
      if (options.numericNulls === 'nan' && (dtype === 'int32' || dtype === 'float32')) {
        const inner = factory;
        factory = (data) => {
          const read = inner(data);
          return (i) => read(i) ?? NaN;
        };
      }
      const plan = { name: f.name, index, dtype, factory };
      columns.push(plan);
      names.push(plan.name);
      dtypes.push(plan.dtype);
    } catch (e) {
      if (LakeSoulError.is(e) && context.table) e.context.table = context.table;
      throw e;
    }
  });
  if (dropped.length > 0) {
    const where = context.table ? ` of table "${context.table}"` : '';
    warn(options, `binary column(s) ${dropped.map((d) => `"${d}"`).join(', ')}${where} dropped from the DataFrame; read with { binary: 'base64' } to keep them`);
  }
  return { schema, names, dtypes, dropped, columns };
}

/** The column data chunks of a Table or RecordBatch, by field index. */
function chunksOf(input: Table | RecordBatch, index: number): readonly Data[] {
  const child = (input as Table | RecordBatch).getChildAt(index);
  return child ? child.data : [];
}

/**
 * Decode a Table or RecordBatch straight into row arrays (Danfo's layout), appended to `rows`: no
 * intermediate column arrays. `rowBase` offsets the row numbers reported in errors.
 */
export function decodeRows(input: Table | RecordBatch, plan: DecodePlan, rows: unknown[][], rowBase = 0, context: DecodeContext = {}): void {
  if (util.isArrowTable(input)) {
    // Batch by batch: each batch's row arrays stay in cache while all its columns are written.
    let base = rowBase;
    for (const batch of (input as Table).batches) {
      decodeRows(batch, plan, rows, base, context);
      base += batch.numRows;
    }
    return;
  }
  const numRows = input.numRows;
  const width = plan.columns.length;
  const base = rows.length;
  for (let r = 0; r < numRows; r++) rows.push(new Array(width));
  plan.columns.forEach((col, j) => {
    let pos = base;
    for (const data of chunksOf(input, col.index)) {
      const read = col.factory(data);
      const n = data.length;
      let i = 0;
      try {
        for (; i < n; i++) rows[pos + i][j] = read(i);
      } catch (e) {
        rows.length = base;
        throw cellError(e, col, rowBase + pos - base + i, context);
      }
      pos += n;
    }
  });
}

function cellError(e: unknown, col: ColumnPlan, row: number, context: DecodeContext): unknown {
  if (!(e instanceof ValueError)) return e;
  const where = context.table ? `table "${context.table}" ` : '';
  return new LakeSoulError('InvalidArgument', `${where}column "${col.name}" row ${row}: ${e.message}; ${e.hint}`, {
    code: e.code, context: { table: context.table, namespace: context.namespace, column: col.name, row },
  });
}

/**
 * Decode a Table or RecordBatch into column arrays under a plan. `rowBase` offsets the row numbers
 * reported in errors (rows of earlier batches of the same scan).
 */
export function decodeColumns(input: Table | RecordBatch, plan: DecodePlan, rowBase = 0, context: DecodeContext = {}): DecodedColumns {
  const numRows = input.numRows;
  const columns: unknown[][] = [];
  for (const col of plan.columns) {
    const out = new Array<unknown>(numRows);
    let pos = 0;
    for (const data of chunksOf(input, col.index)) {
      const read = col.factory(data);
      const n = data.length;
      let i = 0;
      try {
        for (; i < n; i++) out[pos + i] = read(i);
      } catch (e) {
        throw cellError(e, col, rowBase + pos + i, context);
      }
      pos += n;
    }
    columns.push(out);
  }
  return { names: plan.names, dtypes: plan.dtypes, columns, numRows };
}

/**
 * Convert an Arrow Table or RecordBatch to DataFrame-ready columns (column-major JS arrays plus the
 * Danfo dtype of each), following the mapping of docs/dataframes.md.
 */
export function arrowToColumns(input: Table | RecordBatch, options: DanfoConvertOptions = {}, context: DecodeContext = {}): DecodedColumns {
  if (!util.isArrowTable(input) && !util.isArrowRecordBatch(input)) {
    throw new LakeSoulError('InvalidArgument', 'expected an Arrow Table or RecordBatch', { code: 'INVALID_INPUT' });
  }
  return decodeColumns(input, planDecode(input.schema, options, context), 0, context);
}
