/**
 * Printing scan results: an aligned table for people, JSONL or CSV for scripts. Values are rendered
 * without loss through io's value codec (see {@link cellValue}): int64 beyond 2^53 as decimal text,
 * timestamps as ISO 8601 at their unit, NaN/±Infinity as text, binary as a size summary (table) or
 * base64 (JSONL/CSV).
 */
import type { Data, RecordBatch, Schema } from 'apache-arrow';
import { formatScaled, isValidAt, jsonSafe, plainText, plainValueAt } from '@lakesoul-ts/io';

/** Output formats of scan/head/export. */
export type OutputFormat = 'table' | 'jsonl' | 'csv';

/** Render an unscaled decimal value with its scale (`1990`, 2 -> `19.90`). */
export function formatDecimal(unscaled: bigint, scale: number): string {
  return formatScaled(unscaled, scale);
}

/**
 * The JSON-safe exact value of row `i` of a column (io's value codec): timestamps as ISO 8601 with
 * every digit of their unit and their zone, int64 beyond 2^53 as decimal strings, decimals as text,
 * NaN and infinities as the strings `NaN`/`Infinity`/`-Infinity` (never null), binary as base64,
 * lists and structs as arrays and objects. `import` reads each back to the same value.
 */
export function cellValue(data: Data, i: number): unknown {
  return jsonSafe(plainValueAt(data, i));
}

/** Text of one cell: CSV (null = empty field) or the human table (null = `null`, binary summarized). */
function cellText(data: Data, i: number, forTable: boolean): string {
  const v = plainValueAt(data, i);
  if (v === null || v === undefined) return forTable ? 'null' : '';
  if (forTable && v instanceof Uint8Array) return `<${v.length} bytes>`;
  return plainText(v);
}

/** A CSV field; an empty string is quoted (`""`) because an empty unquoted field reads back as null. */
function csvField(data: Data, i: number): string {
  if (!isValidAt(data, i)) return '';
  const s = cellText(data, i, false);
  return s === '' || /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvEscape(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Row objects (JSON-safe) of a batch. */
export function* batchRows(batch: RecordBatch): Generator<Record<string, unknown>> {
  const cols = batch.schema.fields.map((f, i) => [f, batch.data.children[i] as Data] as const);
  for (let r = 0; r < batch.numRows; r++) {
    const row: Record<string, unknown> = {};
    for (const [f, col] of cols) row[f.name] = cellValue(col, r);
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
    const cols = fields.map((_, i) => batch.data.children[i] as Data);
    if (this.format === 'csv') {
      let s = '';
      if (!this.headerDone) { s += fields.map((f) => csvEscape(f.name)).join(',') + '\n'; this.headerDone = true; }
      for (let r = 0; r < batch.numRows; r++) s += cols.map((c) => csvField(c, r)).join(',') + '\n';
      this.out.write(s);
      return;
    }
    if (!this.headerDone) { this.rows.push(fields.map((f) => f.name)); this.headerDone = true; }
    for (let r = 0; r < batch.numRows; r++) {
      this.rows.push(cols.map((c) => {
        const t = cellText(c, r, true);
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
