/**
 * Arrow values as JSON for the browser: every cell becomes a string, a finite number, a boolean or
 * null, so the front end can render it with `textContent` and never needs to interpret it.
 *
 * Cells are read as io's exact plain values (`plainReader`: the value codec the CLI prints
 * with): timestamps are ISO 8601 with every fraction digit of their unit (and no Date range limit),
 * strings are whole with a leading U+FEFF kept, binary is its bytes. What is shown ({@link cellJson},
 * cut at {@link MAX_CELL_CHARS}) is for the eye only: comparisons and counts use the identity of the
 * exact value ({@link exactText}).
 */
import { createHash } from 'node:crypto';
import { TimeUnit, Type, util, type DataType, type Decimal, type RecordBatch, type Schema, type Vector } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { formatDate, formatTimestamp, plainValueAt } from '@lakesoul-ts/io';

/** A cell as sent to the browser. */
export type CellJson = string | number | boolean | null;

/** Longest cell text sent in a page of rows; longer text is cut and marked (the row view shows it whole). */
export const MAX_CELL_CHARS = 2000;

/** Longest {@link exactText} kept as it is; longer ones are replaced by their SHA-256 (bounded memory). */
const MAX_EXACT_CHARS = 128;

const MS_PER_DAY = 86_400_000;

function decimalText(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${text}` : text;
}

/** Epoch milliseconds (what `Vector.get` gives for timestamps and dates) as text, without Date's range limit. */
function msText(ms: number, date: boolean): string {
  const whole = Math.floor(ms);
  if (date && whole % MS_PER_DAY === 0) return formatDate(whole / MS_PER_DAY);
  return `${formatTimestamp(BigInt(whole), TimeUnit.MILLISECOND, null, false)}Z`;
}

/**
 * JSON of a nested value: bigints as decimal text, bytes as base64, NaN and infinities as text
 * (JSON would write null), objects with `toJSON` (an Arrow struct row) as that gives.
 */
function nestedJson(v: unknown, negativeZero = false): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return x.toString();
    // JSON writes -0 as 0: an identity tells them apart (a list's [0, 1] -> [-0, 1] is a change)
    if (negativeZero && x === 0 && 1 / x < 0) return '-0';
    if (typeof x === 'number' && !Number.isFinite(x)) return String(x);
    if (x instanceof Uint8Array) return Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
    return x;
  });
}

/** A 64-bit integer as a JSON number when it is one exactly, else as its decimal text. */
function bigintJson(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

/** The first bytes of `bytes` as hex (`0x0a1b…`), marked with the length when cut. */
export function binaryHex(bytes: Uint8Array, maxChars = MAX_CELL_CHARS): string {
  const shown = Math.max(0, Math.floor((maxChars - 2) / 2));
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, shown)).toString('hex');
  return bytes.byteLength > shown ? `0x${head}… (${bytes.byteLength} bytes)` : `0x${head}`;
}

/**
 * Reads row `i` of a column as its exact plain value (io's `plainValueAt`): null, boolean, number,
 * bigint, string (text; timestamps, dates, times and decimals as their exact text), Uint8Array,
 * arrays and objects. A type the value codec lacks (intervals, unions) is read with `Vector.get`.
 */
export function plainReader(v: Vector): (i: number) => unknown {
  const chunks = v.data;
  const starts: number[] = [];
  let total = 0;
  for (const d of chunks) {
    starts.push(total);
    total += d.length;
  }
  let k = 0; // the chunk of the previous call: reads go mostly in order
  let codec = true;
  return (i) => {
    if (!codec) return v.get(i);
    if (i < starts[k]! || i >= starts[k]! + chunks[k]!.length) {
      k = 0;
      while (k + 1 < chunks.length && starts[k + 1]! <= i) k++;
    }
    try {
      return plainValueAt(chunks[k]!, i - starts[k]!);
    } catch (e) {
      if (!(e instanceof LakeSoulError) || e.kind !== 'SchemaMismatch') throw e;
      codec = false;
      return v.get(i);
    }
  };
}

/**
 * A value of type `type` as JSON, cut at `maxChars`: bigints beyond 2^53, decimals, NaN and
 * infinities become strings; binary is shown as its size (`binary: 'size'`, the rows view, which
 * previews the bytes) or as hex (`'hex'`, where values are compared or counted). `v` is a plain value
 * (`plainReader`); the epoch milliseconds `Vector.get` gives for timestamps and dates are
 * formatted too (at that precision).
 */
export function cellJson(v: unknown, type: DataType, maxChars = MAX_CELL_CHARS, binary: 'size' | 'hex' = 'size'): CellJson {
  if (v === null || v === undefined) return null;
  let out: CellJson;
  switch (type.typeId) {
    case Type.Int:
      out = typeof v === 'bigint' ? bigintJson(v) : (v as number);
      break;
    case Type.Float:
      out = Number.isFinite(v as number) ? (v as number) : String(v);
      break;
    case Type.Bool:
      out = Boolean(v);
      break;
    case Type.Timestamp:
    case Type.Date:
      out = typeof v === 'string' ? v : typeof v === 'number' ? msText(v, type.typeId === Type.Date) : v instanceof Date ? msText(v.getTime(), type.typeId === Type.Date) : String(v);
      break;
    case Type.Binary:
    case Type.LargeBinary:
      out = binary === 'hex' ? binaryHex(v as Uint8Array, maxChars) : `<${(v as Uint8Array).length} bytes>`;
      break;
    case Type.Decimal:
      out = typeof v === 'string' ? v : decimalText(util.bigNumToBigInt(v as never), (type as Decimal).scale);
      break;
    default:
      // a bare bigint (a duration) or bytes (a fixed-size binary) as the value, not as JSON text of it
      out = typeof v === 'string' ? v : typeof v === 'bigint' ? bigintJson(v)
        : v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : nestedJson(v);
  }
  if (typeof out === 'string' && out.length > maxChars) out = `${out.slice(0, maxChars)}… (${out.length} chars)`;
  return out;
}

/**
 * The identity of a plain value within its column: equal for equal values, different for different
 * ones (every byte, character and digit counts; `-0` is not `0`). Long ones are a SHA-256 of the
 * value, so holding many costs little.
 */
export function exactText(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  const text = v === 0 && 1 / v < 0 ? '-0' : nestedJson(v, true);
  return text.length > MAX_EXACT_CHARS ? `#${createHash('sha256').update(text).digest('base64')}` : text;
}

/** Rows of `batch` as arrays of cells in `schema` order (plain values, see `plainReader`). */
export function batchRowsJson(batch: RecordBatch, schema: Schema, maxChars = MAX_CELL_CHARS): CellJson[][] {
  // plain values, not Vector.get: a string's leading U+FEFF is shown as it is stored, a timestamp
  // keeps every digit of its unit
  const cols = schema.fields.map((f) => { const v = batch.getChild(f.name); return v ? plainReader(v) : undefined; });
  const out: CellJson[][] = [];
  for (let r = 0; r < batch.numRows; r++) out.push(schema.fields.map((f, c) => cellJson(cols[c]?.(r) ?? null, f.type, maxChars)));
  return out;
}

/** Whether a column type is numeric (a histogram makes sense). */
export function isNumericType(type: DataType): boolean {
  return type.typeId === Type.Int || type.typeId === Type.Float || type.typeId === Type.Decimal;
}

/**
 * A plain value as a number for a histogram: null for null; NaN and ±Infinity as they are (the
 * histogram counts them apart from the bins).
 */
export function numericValue(v: unknown, type: DataType): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return Number(v);
  if (type.typeId === Type.Decimal && typeof v !== 'number' && typeof v !== 'bigint') return Number(decimalText(util.bigNumToBigInt(v as never), (type as Decimal).scale));
  return typeof v === 'bigint' ? Number(v) : (v as number);
}
