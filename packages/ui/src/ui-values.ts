/**
 * Arrow values as JSON for the browser: every cell becomes a string, a finite number, a boolean or
 * null, so the front end can render it with `textContent` and never needs to interpret it.
 */
import { Type, util, type DataType, type Decimal, type RecordBatch, type Schema } from 'apache-arrow';
import { cellReader } from '@lakesoul-ts/io';

/** A cell as sent to the browser. */
export type CellJson = string | number | boolean | null;

/** Longest cell text sent in a page of rows; longer text is cut and marked (the row view shows it whole). */
export const MAX_CELL_CHARS = 2000;

function decimalText(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${text}` : text;
}

/** A value of type `type` as JSON; bigints beyond 2^53 and decimals become strings. */
export function cellJson(v: unknown, type: DataType, maxChars = MAX_CELL_CHARS): CellJson {
  if (v === null || v === undefined) return null;
  let out: CellJson;
  switch (type.typeId) {
    case Type.Int:
      out = typeof v === 'bigint' ? (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : (v as number);
      break;
    case Type.Float:
      out = Number.isFinite(v as number) ? (v as number) : String(v);
      break;
    case Type.Bool:
      out = Boolean(v);
      break;
    case Type.Timestamp:
      out = new Date(Number(v)).toISOString();
      break;
    case Type.Date:
      out = new Date(Number(v)).toISOString().slice(0, 10);
      break;
    case Type.Binary:
    case Type.LargeBinary:
      out = `<${(v as Uint8Array).length} bytes>`;
      break;
    case Type.Decimal:
      out = decimalText(util.bigNumToBigInt(v as never), (type as Decimal).scale);
      break;
    default:
      out = typeof v === 'string' ? v : JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  }
  if (typeof out === 'string' && out.length > maxChars) out = `${out.slice(0, maxChars)}… (${out.length} chars)`;
  return out;
}

/** Rows of `batch` as arrays of cells in `schema` order. */
export function batchRowsJson(batch: RecordBatch, schema: Schema, maxChars = MAX_CELL_CHARS): CellJson[][] {
  // cellReader, not Vector.get: a string's leading U+FEFF is shown, as it is stored
  const cols = schema.fields.map((f) => { const v = batch.getChild(f.name); return v ? cellReader(v) : undefined; });
  const out: CellJson[][] = [];
  for (let r = 0; r < batch.numRows; r++) out.push(schema.fields.map((f, c) => cellJson(cols[c]?.(r), f.type, maxChars)));
  return out;
}

/** Whether a column type is numeric (a histogram makes sense). */
export function isNumericType(type: DataType): boolean {
  return type.typeId === Type.Int || type.typeId === Type.Float || type.typeId === Type.Decimal;
}

/** A value as a number for a histogram (null when not numeric or null). */
export function numericValue(v: unknown, type: DataType): number | null {
  if (v === null || v === undefined) return null;
  if (type.typeId === Type.Decimal) return Number(decimalText(util.bigNumToBigInt(v as never), (type as Decimal).scale));
  const n = typeof v === 'bigint' ? Number(v) : (v as number);
  return Number.isFinite(n) ? n : null;
}
