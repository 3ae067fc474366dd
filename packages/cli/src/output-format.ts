/**
 * Printing results: an aligned table for people; JSON, JSONL or CSV for scripts. Output streams: rows
 * are written batch by batch with the stream's backpressure respected, so memory does not grow with
 * the size of the table in any format. Values are rendered without loss through io's value codec (see
 * {@link cellValue}): int64 beyond 2^53 as decimal text, timestamps as ISO 8601 at their unit,
 * NaN/±Infinity as text, binary as a size summary (table) or base64 (JSON/JSONL/CSV).
 */
import type { Data, RecordBatch } from 'apache-arrow';
import { LakeSoulError, formatScaled, isValidAt, jsonSafe, plainText, plainValueAt } from '@lakesoul-ts/io';

import { RowPrinter, writeWithBackpressure } from './row-printer.js';

export { RowPrinter, OUTPUT_FORMATS, TABLE_WIDTH_SAMPLE_ROWS, writeWithBackpressure } from './row-printer.js';
export type { OutputFormat } from './row-printer.js';
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

/**
 * Text of one cell: CSV (null = empty field) or the human table (null itself, which the table shows as
 * `null` and tells from the text "null": see {@link RowPrinter}; binary summarized).
 */
function cellText(data: Data, i: number, forTable: true): string | null;
function cellText(data: Data, i: number, forTable: false): string;
function cellText(data: Data, i: number, forTable: boolean): string | null {
  const v = plainValueAt(data, i);
  if (v === null || v === undefined) return forTable ? null : '';
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

/** A {@link RowPrinter} that also prints Arrow batches, their values through io's codec. */
export class BatchPrinter extends RowPrinter {
  /**
   * Print one Arrow batch (values through io's codec: {@link cellValue}, CSV fields, table cells).
   * @throws LakeSoulError InvalidArgument `LIMIT_EXCEEDED` naming the row and column when a value is
   * too large for a JavaScript string as text (V8's limit, ~512 MiB: a 420 MB binary in base64).
   */
  async write(batch: RecordBatch): Promise<void> {
    const before = this.rows;
    const at = { row: 0 };
    try {
      await this.writeBatch(batch, at);
    } catch (e) {
      throw textTooLong(e, batch, at.row, before + at.row, this.format) ?? e;
    }
  }

  private async writeBatch(batch: RecordBatch, at: { row: number }): Promise<void> {
    const columns = batch.schema.fields.map((f) => f.name);
    const cols = columns.map((_, i) => batch.data.children[i] as Data);
    if (this.format === 'csv') {
      // CSV fields come escaped from the codec (an empty string is `""`, null an empty field).
      this.columns ??= columns;
      let s = '';
      if (!this.started) { s += columns.map(csvEscape).join(',') + '\n'; this.started = true; }
      for (let r = 0; r < batch.numRows; r++) {
        at.row = r;
        s += cols.map((c) => csvField(c, r)).join(',') + '\n';
        if (s.length >= 64 * 1024) { await writeWithBackpressure(this.out, s); s = ''; }
      }
      this.rows += batch.numRows;
      await writeWithBackpressure(this.out, s);
      return;
    }
    const forTable = this.format === 'table';
    await this.writeRows(columns, (function* () {
      for (let r = 0; r < batch.numRows; r++) {
        at.row = r; // rows are printed as they are made: a failure is in this one
        yield cols.map((c) => (forTable ? cellText(c, r, true) : cellValue(c, r)));
      }
    })());
  }
}

/**
 * V8's refusal of a string over its length limit while row `r` of `batch` (row `outputRow` of the
 * output, from 0) was printed, as an error naming the row and its largest column; null for any other
 * error.
 */
function textTooLong(e: unknown, batch: RecordBatch, r: number, outputRow: number, format: string): LakeSoulError | null {
  // Node's ERR_STRING_TOO_LONG (a Buffer's text, as base64), V8's RangeError (strings joined)
  const tooLong = (e as { code?: unknown } | null)?.code === 'ERR_STRING_TOO_LONG' || (e instanceof RangeError && /Invalid string length/.test(e.message));
  if (!tooLong) return null;
  let largest: { column: string; size: string; length: number } | null = null;
  batch.schema.fields.forEach((f, i) => {
    const v = plainValueAt(batch.data.children[i] as Data, r);
    if ((v instanceof Uint8Array || typeof v === 'string') && v.length > (largest?.length ?? 0)) {
      largest = { column: f.name, size: `${v.length} ${typeof v === 'string' ? 'characters' : 'bytes'}`, length: v.length };
    }
  });
  const found = largest as { column: string; size: string } | null;
  return new LakeSoulError('InvalidArgument',
    `row ${outputRow + 1} of the output is too large to print as ${format} text (${found ? `its column '${found.column}' holds ${found.size}, and ` : ''}a JavaScript string holds at most ~512 MiB): ` +
    'leave the large column out (--columns), or export the rows as Parquet (export --format parquet), which keeps values as bytes', {
      code: 'LIMIT_EXCEEDED', context: { row: outputRow + 1, column: found?.column, format }, cause: e,
    });
}
