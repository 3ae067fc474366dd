/**
 * Printing scan results: an aligned table for people, JSONL or CSV for scripts. Values are rendered
 * without loss: int64 as decimal text, timestamps as ISO 8601, binary as a size summary (table) or
 * base64 (JSONL/CSV).
 */
import { DataType, Type, util, type Decimal, type RecordBatch, type Schema } from 'apache-arrow';

/** Output formats of scan/head/export. */
export type OutputFormat = 'table' | 'jsonl' | 'csv';

/** Render an unscaled decimal value with its scale (`1990`, 2 -> `19.90`). */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${text}` : text;
}

/** Convert one Arrow cell to a JSON-safe value. */
export function toJsonValue(v: unknown, type: DataType): unknown {
  if (v === null || v === undefined) return null;
  switch (type.typeId) {
    case Type.Int: return typeof v === 'bigint' ? (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v;
    case Type.Timestamp: return new Date(Number(v)).toISOString();
    case Type.Date: return new Date(Number(v)).toISOString().slice(0, 10);
    case Type.Binary: case Type.LargeBinary: return Buffer.from(v as Uint8Array).toString('base64');
    case Type.Decimal: return formatDecimal(util.bigNumToBigInt(v as never), (type as Decimal).scale);
    case Type.List: case Type.FixedSizeList: {
      const child = type.children[0]!.type;
      return Array.from(v as Iterable<unknown>, (x) => toJsonValue(x, child));
    }
    case Type.Struct: {
      const out: Record<string, unknown> = {};
      for (const f of type.children) out[f.name] = toJsonValue((v as Record<string, unknown>)[f.name], f.type);
      return out;
    }
    default: return typeof v === 'bigint' ? v.toString() : v;
  }
}

function cellText(v: unknown, type: DataType, forTable: boolean): string {
  if (v === null || v === undefined) return forTable ? 'null' : '';
  if (forTable && (type.typeId === Type.Binary || type.typeId === Type.LargeBinary)) return `<${(v as Uint8Array).length} bytes>`;
  const j = toJsonValue(v, type);
  return typeof j === 'string' ? j : JSON.stringify(j);
}

function csvEscape(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Row objects (JSON-safe) of a batch. */
export function* batchRows(batch: RecordBatch): Generator<Record<string, unknown>> {
  const cols = batch.schema.fields.map((f, i) => [f, batch.getChildAt(i)!] as const);
  for (let r = 0; r < batch.numRows; r++) {
    const row: Record<string, unknown> = {};
    for (const [f, col] of cols) row[f.name] = toJsonValue(col.get(r), f.type);
    yield row;
  }
}

/** Writes batches in one format to a stream, with header/footer handling per format. */
export class BatchPrinter {
  private rows: string[][] = [];
  private headerDone = false;
  constructor(private readonly out: NodeJS.WritableStream, private readonly format: OutputFormat, private readonly maxCellWidth = 40) {}

  /** Print (or buffer, for 'table') one batch. */
  write(batch: RecordBatch): void {
    const fields = batch.schema.fields;
    if (this.format === 'jsonl') {
      let s = '';
      for (const row of batchRows(batch)) s += JSON.stringify(row) + '\n';
      this.out.write(s);
      return;
    }
    const cols = fields.map((_, i) => batch.getChildAt(i)!);
    if (this.format === 'csv') {
      let s = '';
      if (!this.headerDone) { s += fields.map((f) => csvEscape(f.name)).join(',') + '\n'; this.headerDone = true; }
      for (let r = 0; r < batch.numRows; r++) s += cols.map((c, i) => csvEscape(cellText(c.get(r), fields[i]!.type, false))).join(',') + '\n';
      this.out.write(s);
      return;
    }
    if (!this.headerDone) { this.rows.push(fields.map((f) => f.name)); this.headerDone = true; }
    for (let r = 0; r < batch.numRows; r++) {
      this.rows.push(cols.map((c, i) => {
        const t = cellText(c.get(r), fields[i]!.type, true);
        return t.length > this.maxCellWidth ? t.slice(0, this.maxCellWidth - 1) + '…' : t;
      }));
    }
  }

  /** Flush: prints the aligned table. `schema` gives the header when no batch arrived. */
  end(schema?: Schema): number {
    if (this.format !== 'table') return 0;
    if (!this.headerDone && schema) this.rows.push(schema.fields.map((f) => f.name));
    if (this.rows.length === 0) return 0;
    const widths = this.rows[0]!.map((_, c) => Math.max(...this.rows.map((r) => r[c]!.length)));
    const line = (r: string[]) => r.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd();
    const sep = widths.map((w) => '─'.repeat(w)).join('  ');
    this.out.write([line(this.rows[0]!), sep, ...this.rows.slice(1).map(line)].join('\n') + '\n');
    const n = this.rows.length - 1;
    this.rows = [];
    return n;
  }
}
