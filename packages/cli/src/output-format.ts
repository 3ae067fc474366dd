/**
 * Printing results: an aligned table for people; JSON, JSONL or CSV for scripts. Output streams: rows
 * are written batch by batch with the stream's backpressure respected, so memory does not grow with
 * the size of the table in any format. Values are rendered without loss through io's value codec (see
 * {@link cellValue}): int64 beyond 2^53 as decimal text, timestamps as ISO 8601 at their unit,
 * NaN/±Infinity as text, binary as a size summary (table) or base64 (JSON/JSONL/CSV).
 */
import type { Data, RecordBatch, Schema } from 'apache-arrow';
import { formatScaled, isValidAt, jsonSafe, plainText, plainValueAt } from '@lakesoul-ts/io';

/** Output formats of scan/head (and of every printing command). */
export type OutputFormat = 'table' | 'json' | 'jsonl' | 'csv';

/** Every {@link OutputFormat}, for option choices. */
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'jsonl', 'csv'];

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

/**
 * Writes `text` and resolves once the stream can take more (its `'drain'`), so a producer that awaits
 * every write holds at most one chunk beyond the stream's high-water mark.
 */
export function writeWithBackpressure(out: NodeJS.WritableStream, text: string): Promise<void> | void {
  if (text.length === 0 || out.write(text)) return;
  return new Promise<void>((res, rej) => {
    const done = (err?: Error) => { out.off('drain', onDrain); out.off('error', onError); if (err) rej(err); else res(); };
    const onDrain = () => done();
    const onError = (e: Error) => done(e);
    out.once('drain', onDrain);
    out.once('error', onError);
  });
}

/**
 * Rows of the aligned `table` format are printed in blocks: the column widths come from the first
 * block (at most this many rows) and later rows are padded to them (a longer cell widens only its own
 * line). This keeps the table streaming: nothing waits for the last row.
 */
export const TABLE_WIDTH_SAMPLE_ROWS = 1000;

/**
 * Writes rows in one format to a stream. `write` returns a promise to await (backpressure);
 * `end` closes the document (JSON's `]`, a table with no rows still prints its header).
 */
export class RowPrinter {
  private pending: string[][] = [];
  private widths: number[] | undefined;
  private started = false;
  private columns: string[] | undefined;
  /** Rows written so far. */
  rows = 0;

  constructor(private readonly out: NodeJS.WritableStream, private readonly format: OutputFormat, private readonly maxCellWidth = 40) {}

  /** Print rows given as cells already rendered for this format (`values` are JSON-safe values). */
  async writeRows(columns: string[], rows: Iterable<unknown[]>): Promise<void> {
    this.columns ??= columns;
    let s = '';
    const flushAt = 64 * 1024;
    for (const values of rows) {
      this.rows++;
      if (this.format === 'jsonl' || this.format === 'json') {
        const o: Record<string, unknown> = {};
        for (let i = 0; i < columns.length; i++) o[columns[i]!] = values[i];
        const line = JSON.stringify(o);
        if (this.format === 'jsonl') s += line + '\n';
        else { s += (this.started ? ',\n' : '[\n') + line; this.started = true; }
      } else if (this.format === 'csv') {
        if (!this.started) { s += columns.map(csvEscape).join(',') + '\n'; this.started = true; }
        s += values.map((v) => csvEscape(v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v))).join(',') + '\n';
      } else {
        const cells = values.map((v) => {
          const t = v === null || v === undefined ? 'null' : typeof v === 'string' ? v : JSON.stringify(v);
          return t.length > this.maxCellWidth ? t.slice(0, this.maxCellWidth - 1) + '…' : t;
        });
        if (this.widths) s += this.line(cells) + '\n';
        else {
          this.pending.push(cells);
          if (this.pending.length >= TABLE_WIDTH_SAMPLE_ROWS) s += this.flushTable();
        }
      }
      if (s.length >= flushAt) { await writeWithBackpressure(this.out, s); s = ''; }
    }
    await writeWithBackpressure(this.out, s);
  }

  /** Print one Arrow batch (values through io's codec: {@link cellValue}, CSV fields, table cells). */
  async write(batch: RecordBatch): Promise<void> {
    const columns = batch.schema.fields.map((f) => f.name);
    const cols = columns.map((_, i) => batch.data.children[i] as Data);
    if (this.format === 'csv') {
      // CSV fields come escaped from the codec (an empty string is `""`, null an empty field).
      this.columns ??= columns;
      let s = '';
      if (!this.started) { s += columns.map(csvEscape).join(',') + '\n'; this.started = true; }
      for (let r = 0; r < batch.numRows; r++) {
        s += cols.map((c) => csvField(c, r)).join(',') + '\n';
        if (s.length >= 64 * 1024) { await writeWithBackpressure(this.out, s); s = ''; }
      }
      this.rows += batch.numRows;
      await writeWithBackpressure(this.out, s);
      return;
    }
    const forTable = this.format === 'table';
    await this.writeRows(columns, (function* () {
      for (let r = 0; r < batch.numRows; r++) yield cols.map((c) => (forTable ? cellText(c, r, true) : cellValue(c, r)));
    })());
  }

  /** Close the output; `columns` (or `schema`) gives the header when no row arrived. */
  async end(columns?: string[] | Schema): Promise<void> {
    this.columns ??= Array.isArray(columns) ? columns : columns?.fields.map((f) => f.name);
    let s = '';
    if (this.format === 'json') s = this.started ? '\n]\n' : '[]\n';
    else if (this.format === 'csv' && !this.started && this.columns) s = this.columns.map(csvEscape).join(',') + '\n';
    else if (this.format === 'table') s = this.flushTable();
    this.started = true;
    await writeWithBackpressure(this.out, s);
  }

  private line(cells: string[]): string {
    return cells.map((v, c) => v.padEnd(this.widths![c] ?? 0)).join('  ').trimEnd();
  }

  private flushTable(): string {
    if (!this.widths) {
      if (!this.columns) return '';
      const all = [this.columns, ...this.pending];
      this.widths = this.columns.map((_, c) => {
        let w = 0;
        for (const r of all) w = Math.max(w, r[c]?.length ?? 0);
        return w;
      });
      const text = [this.line(this.columns), this.widths.map((w) => '─'.repeat(w)).join('  '), ...this.pending.map((r) => this.line(r))].join('\n') + '\n';
      this.pending = [];
      return text;
    }
    const text = this.pending.map((r) => this.line(r) + '\n').join('');
    this.pending = [];
    return text;
  }
}
