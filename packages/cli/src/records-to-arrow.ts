/**
 * Turning text records (CSV fields, JSONL objects) into Arrow batches of a given schema through io's
 * exact value codec (the one the table API uses), with errors that name the file, the line and the
 * column; and inferring a schema from a sample when none is given.
 */
import { Bool, DataType, DateDay, Field, Float64, Int64, List, RecordBatch, Schema, Struct, Timestamp, TimeUnit, Utf8 } from 'apache-arrow';
import { LakeSoulError, encodePartitionValue } from '@lakesoul-ts/meta';
import { ExactNumber, encodeColumn, makeBatch, partitionDirName, partitionDirNameLimit } from '@lakesoul-ts/io';

/** Where a record came from, for messages. */
export interface RecordOrigin {
  file: string;
  line: number;
}

/**
 * The columns of the target table with rules of their own: the write checks them too, but names only a
 * row of a batch ("at row 1"); checked here, the error names the file and line.
 */
export interface ColumnRoles {
  primaryKeys: readonly string[];
  rangePartitions: readonly string[];
  cdcColumn?: string;
  /** The table's location, which bounds its partition directory names (`partitionDirNameLimit`). */
  path?: string;
}

const CDC_WORDS = ['insert', 'update', 'delete'];

/**
 * Called for each JSON value that is not a string read into a text (utf8) column, stored as its JSON
 * text (see {@link rowsToBatch}).
 */
export type OnJsonText = (column: string, origin: RecordOrigin) => void;

/**
 * The JSON text of a value of `parseJsonExact` (`@lakesoul-ts/io`): a number a double holds in its
 * shortest form (`1.0` and `1e0` as `1`, `-0` as `0`), one it does not as written (an `ExactNumber`
 * keeps its literal, a bigint its digits), nested arrays and objects compact.
 */
function jsonText(v: unknown): string {
  if (v instanceof ExactNumber || typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : jsonText(x))).join(',')}]`;
  if (isPlainObject(v)) return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${x === undefined ? 'null' : jsonText(x)}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** A JSON value as a text column stores it: strings and nulls as they are, other values as their JSON text. */
function textValue(v: unknown): unknown {
  return v === null || v === undefined || typeof v === 'string' ? v : jsonText(v);
}

/**
 * Build a RecordBatch of `schema` from rows of raw values (one array per row, in schema order).
 * Text (`fromText`, CSV) is parsed per column type: integers exactly (beyond 2^53 too), floats incl.
 * `NaN`/`Infinity`/`-Infinity`, decimals without rounding, ISO timestamps at the column's unit (µs
 * and ns digits kept) and zone, dates, base64 binary, JSON for lists and structs. JSONL values are the
 * exact values of `parseJsonExact` (`@lakesoul-ts/io`); a JSON number, boolean, array or object read into
 * a text (utf8) column is stored as its JSON text (as DuckDB's `read_json` loads a column of mixed
 * values as text: an inferred schema makes such a column utf8), each one reported to `onJsonText`.
 * Errors name the file, line and column; non-nullable columns reject nulls.
 */
export function rowsToBatch(schema: Schema, rows: unknown[][], origins: RecordOrigin[], fromText: boolean, roles?: ColumnRoles, onJsonText?: OnJsonText): RecordBatch {
  const file = origins[0]?.file;
  const lines = origins.map((o) => o.line);
  const at = (r: number) => `${origins[r]!.file}:${origins[r]!.line}`;
  const children = schema.fields.map((field, c) => {
    const values = new Array(rows.length);
    const key = roles?.primaryKeys.includes(field.name) === true;
    const asJsonText = !fromText && (DataType.isUtf8(field.type) || DataType.isLargeUtf8(field.type));
    // a JSON integer beyond 2^53 (a bigint) as its literal: the same integer to the encoder, and a
    // message that names it as written ('18446744073709551615 does not fit Int64', not '...615n')
    const intLiteral = !fromText && DataType.isInt(field.type);
    for (let r = 0; r < rows.length; r++) {
      const raw = rows[r]![c];
      const v = asJsonText ? textValue(raw) : raw;
      if (v !== raw) onJsonText?.(field.name, origins[r]!);
      if ((v === null || v === undefined) && (!field.nullable || key)) {
        throw new LakeSoulError('SchemaMismatch', `${at(r)}: column '${field.name}': null in a ${key ? 'primary-key' : 'non-nullable'} column`, {
          context: { file: origins[r]!.file, row: origins[r]!.line, column: field.name },
        });
      }
      values[r] = intLiteral && typeof v === 'bigint' ? new ExactNumber(v.toString()) : v;
    }
    return encodeColumn(values, field.type, { column: field.name, file, lines, binaryText: 'base64', nestedAsJson: fromText });
  });
  if (roles) checkRoleValues(schema, rows, origins, roles, fromText);
  return makeBatch(schema, children, rows.length);
}

/**
 * The values of the CDC column and of text range-partition columns (what partition_desc can hold,
 * and the length of the partition's directory name), as the write checks them.
 */
function checkRoleValues(schema: Schema, rows: unknown[][], origins: RecordOrigin[], roles: ColumnRoles, fromText: boolean): void {
  schema.fields.forEach((field, c) => {
    const cdc = field.name === roles.cdcColumn;
    const range = roles.rangePartitions.includes(field.name) && DataType.isUtf8(field.type);
    if (!cdc && !range) return;
    const asJsonText = !fromText && (DataType.isUtf8(field.type) || DataType.isLargeUtf8(field.type));
    for (let r = 0; r < rows.length; r++) {
      // the value as stored: a JSON number in a text column is its JSON text
      const v = asJsonText ? textValue(rows[r]![c]) : rows[r]![c];
      const where = `${origins[r]!.file}:${origins[r]!.line}`;
      if (cdc && (v === null || v === undefined)) {
        // stored as null, it was read as no kind at all (a filter on the kinds missed the row)
        throw new LakeSoulError('InvalidArgument', `${where}: CDC column '${field.name}' has no value: expected 'insert', 'update' or 'delete' (a file without the column writes 'insert')`, {
          context: { file: origins[r]!.file, row: origins[r]!.line, column: field.name },
        });
      }
      if (typeof v !== 'string') continue;
      if (cdc && !CDC_WORDS.includes(v)) {
        throw new LakeSoulError('InvalidArgument', `${where}: CDC column '${field.name}' holds ${JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}...` : v)}: expected 'insert', 'update' or 'delete'`, {
          context: { file: origins[r]!.file, row: origins[r]!.line, column: field.name },
        });
      }
      if (range) {
        try {
          // the value as partition_desc holds it, and its directory (at most 255 bytes on local disk)
          partitionDirName(field.name, encodePartitionValue(field.name, v), roles.path === undefined ? undefined : partitionDirNameLimit(roles.path));
        } catch (e) {
          if (!(e instanceof LakeSoulError)) throw e;
          throw new LakeSoulError(e.kind, `${where}: ${e.message}`, { code: e.code, context: { ...e.context, file: origins[r]!.file, row: origins[r]!.line }, cause: e });
        }
      }
    }
  });
}

/**
 * The table's primary-key and range-partition columns the input does not have (`present`: its
 * columns): a write needs them in every row, so the error names the file (the write's named no file).
 */
export function checkRequiredColumns(file: string, present: Iterable<string>, schema: Schema, roles: ColumnRoles | undefined): void {
  if (!roles) return;
  const have = new Set(present);
  for (const [names, what] of [[roles.primaryKeys, 'primary-key'], [roles.rangePartitions, 'range-partition']] as const) {
    const missing = names.find((n) => !have.has(n));
    if (missing === undefined) continue;
    const type = schema.fields.find((f) => f.name === missing)?.type;
    throw new LakeSoulError('SchemaMismatch', `${file}: ${what} column '${missing}'${type ? ` (${String(type).toLowerCase()})` : ''} is missing: every row written to the table needs it (the file's columns: ${[...have].slice(0, 20).join(', ') || 'none'})`, {
      code: 'MISSING_COLUMN', context: { file, column: missing },
    });
  }
}

const TS_TEXT = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}([.,](\d+))?)?([zZ]|[+-]\d{2}:?\d{2})?$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/** Whether `text` is a decimal integer within int64's range (19 digits: a float64 would round it). */
function isInt64Text(text: string): boolean {
  if (!/^[+-]?\d{1,19}$/.test(text)) return false;
  const n = BigInt(text);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

/**
 * Whether `v` is written as a decimal integer beyond int64 (`18446744073709551615`, a bigint of
 * `parseJsonExact`): an identifier or a count no float holds, which a float64 column would round.
 */
function isBigIntegerSpelling(v: unknown): boolean {
  if (typeof v === 'bigint') return v < -(2n ** 63n) || v >= 2n ** 63n;
  const text = typeof v === 'string' ? v.trim() : v instanceof ExactNumber ? v.text : null;
  return text !== null && /^[+-]?\d+$/.test(text) && !isInt64Text(text);
}

/** The digits and power of ten of a decimal spelling (`-12.50e3`: `125`, 2), zeros trimmed; null if it is none. */
function decimalDigits(text: string): { digits: string; exponent: number } | null {
  const m = /^[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) return null;
  let digits = m[1]! + (m[2] ?? '');
  let exponent = Number(m[3] ?? 0) - (m[2] ?? '').length;
  digits = digits.replace(/^0+/, '');
  const trailing = /0*$/.exec(digits)![0].length;
  if (digits.length === trailing) return { digits: '', exponent: 0 };
  digits = digits.slice(0, digits.length - trailing);
  exponent += trailing;
  return { digits, exponent };
}

/**
 * Whether a float64 holds the number `text` spells as written: its shortest spelling has the same
 * digits (`0.1` and `1.50` yes; `12345678901234567.89` and `0.12345678901234567890` no: a double keeps
 * about 17 significant digits, and the import would round them).
 */
function doubleHoldsText(text: string): boolean {
  const written = decimalDigits(text.trim());
  if (written === null) return true; // not a decimal spelling (Infinity, NaN): the float parser decides
  const held = decimalDigits(String(Math.abs(Number(text))));
  return held !== null && held.digits === written.digits && held.exponent === written.exponent;
}

/**
 * Whether the import's encoder (io's `encodeColumn`, which {@link rowsToBatch} runs) takes every one
 * of `vals` into a column of `type`: a type is inferred only when the file it is inferred from imports
 * into it (`0x1F` looked like a number to `Number()`, `1e400` is beyond float64, `0000-00-00` and
 * `T25:00` are no date or time).
 */
function encodes(vals: unknown[], type: DataType, fromText: boolean): boolean {
  try {
    encodeColumn(vals, type, { column: 'inferred', binaryText: 'base64', nestedAsJson: fromText });
    return true;
  } catch {
    return false;
  }
}

/**
 * Infer a column type from sample values (text when `fromText`). A type is chosen only when the
 * import's parser for it takes every sample (see {@link rowsToBatch}); integers beyond int64, decimals
 * with more digits than a double keeps, numbers written with a leading zero (`02134`: a code whose
 * zeros a number drops), and anything else no type takes are utf8 (never a float that would round them).
 */
export function inferType(samples: unknown[], fromText: boolean): DataType {
  const vals = samples.filter((v) => v !== null && v !== undefined && !(fromText && v === ''));
  if (vals.length === 0) return new Utf8();
  const all = (pred: (v: unknown) => boolean, type: DataType) => vals.every(pred) && encodes(vals, type, fromText);
  // JSON arrays and objects: a list of the items' type, a struct of the keys' (a utf8 column would
  // refuse the very values it was inferred from); when the items do not make one type, utf8 (a JSON
  // value in a text column is stored as its JSON text)
  if (vals.every(Array.isArray)) {
    const list = new List(new Field('item', inferType((vals as unknown[][]).flat(), false), true));
    return encodes(vals, list, fromText) ? list : new Utf8();
  }
  if (vals.every(isPlainObject)) {
    const keys: string[] = [];
    for (const o of vals as Record<string, unknown>[]) for (const k of Object.keys(o)) if (!keys.includes(k)) keys.push(k);
    const struct = new Struct(keys.map((k) => new Field(k, inferType((vals as Record<string, unknown>[]).map((o) => o[k]), false), true)));
    return encodes(vals, struct, fromText) ? struct : new Utf8();
  }
  if (all((v) => typeof v === 'boolean' || (typeof v === 'string' && /^(true|false)$/i.test(v.trim())), new Bool())) return new Bool();
  // codes written with leading zeros (zip codes, account numbers: `02134`, `007`) lose them as numbers
  // (numbers only: 0001-01-01, a date of year 1, is no code)
  const zeroPadded = vals.some((v) => typeof v === 'string' && /^[+-]?0\d+(\.\d*)?([eE][+-]?\d+)?$/.test(v.trim()));
  if (zeroPadded) return new Utf8();
  // (-0 is a JSON number whole numbers do not hold: `-0.0` in int64 would lose its sign)
  if (all((v) => (typeof v === 'number' && Number.isSafeInteger(v) && !Object.is(v, -0)) || typeof v === 'bigint' || (typeof v === 'string' && isInt64Text(v.trim())) || (v instanceof ExactNumber && isInt64Text(v.text)), new Int64())) return new Int64();
  // a number a double does not hold as written (more digits than it keeps) is text, as big integers are
  const roundsAsDouble = vals.some((v) => (typeof v === 'string' && !doubleHoldsText(v)) || (v instanceof ExactNumber && !doubleHoldsText(v.text)));
  if (!roundsAsDouble && !vals.some(isBigIntegerSpelling) && all((v) => typeof v === 'number' || v instanceof ExactNumber || (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))), new Float64())) return new Float64();
  if (all((v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v.trim()), new DateDay())) return new DateDay();
  if (vals.every((v) => typeof v === 'string' && TS_TEXT.test(v.trim()))) {
    // Nanosecond digits in the sample: keep them (a µs column would refuse them).
    const ns = vals.some((v) => (TS_TEXT.exec((v as string).trim())![3] ?? '').length > 6);
    const ts = new Timestamp(ns ? TimeUnit.NANOSECOND : TimeUnit.MICROSECOND, 'UTC');
    if (encodes(vals, ts, fromText)) return ts;
  }
  return new Utf8();
}

/** Infer a schema from column names and sample rows. Every inferred column is nullable. */
export function inferSchema(names: string[], sampleRows: unknown[][], fromText: boolean): Schema {
  return new Schema(names.map((n, c) => new Field(n, inferType(sampleRows.map((r) => r[c]), fromText), true)));
}
