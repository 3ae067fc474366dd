/**
 * Range-partition values: turning Arrow cells into the text of partition_desc and back into typed
 * constant columns when a reader re-injects them (protocol §1, §4).
 */
import { DataType, Type, makeBuilder, type Vector } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';

const DAY_MS = 86_400_000;

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** Formats epoch ms as `YYYY-MM-DD` (UTC). */
export function formatDate(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

/**
 * Text of one range value as partition_desc stores it (before the null/empty-string markers, which
 * the catalog's encoder applies): integers as decimal, dates `YYYY-MM-DD`, booleans `true`/`false`.
 * `null` for a null cell.
 */
export function rangeValueText(value: unknown, type: DataType): string | null {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case Type.Date:
      return formatDate(value instanceof Date ? value.getTime() : Number(value));
    case Type.Timestamp: {
      const ms = value instanceof Date ? value.getTime() : Number(value);
      return new Date(ms).toISOString();
    }
    case Type.Bool:
      return value ? 'true' : 'false';
    case Type.Binary:
    case Type.LargeBinary:
      return Buffer.from(value as Uint8Array).toString('utf8');
    default:
      return typeof value === 'string' ? value : String(value);
  }
}

/** Parses the text of a range value back into the JS value Arrow builders take for `type`. */
export function parseRangeValue(text: string | null, type: DataType, column: string): unknown {
  if (text === null) return null;
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
    case Type.Float:
    case Type.Decimal: {
      const n = Number(text);
      if (Number.isNaN(n) && text !== 'NaN') throw bad();
      return n;
    }
    case Type.Bool:
      if (text !== 'true' && text !== 'false') throw bad();
      return text === 'true';
    case Type.Date: {
      const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
      if (Number.isNaN(ms)) throw bad();
      return new Date(Math.floor(ms / DAY_MS) * DAY_MS);
    }
    case Type.Timestamp: {
      const ms = Date.parse(text);
      if (Number.isNaN(ms)) throw bad();
      return new Date(ms);
    }
    case Type.Binary:
    case Type.LargeBinary:
      return new Uint8Array(Buffer.from(text, 'utf8'));
    default:
      return text;
  }
}

/** A column of `length` copies of one range value, typed per the table schema. */
export function constantColumn(type: DataType, text: string | null, length: number, column: string): Vector {
  const value = parseRangeValue(text, type, column);
  const b = makeBuilder({ type, nullValues: [null, undefined] });
  for (let i = 0; i < length; i++) b.append(value);
  return b.finish().toVector();
}
