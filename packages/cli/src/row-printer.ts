/**
 * Writing rows in one output format (an aligned table for people; JSON, JSONL or CSV for scripts) to a
 * stream, with its backpressure respected, so memory does not grow with the number of rows. Values
 * arrive already rendered (see output-format.ts for Arrow batches); this module loads nothing heavy,
 * so metadata commands print through it without the table API.
 */
import type { Schema } from 'apache-arrow';
import { holdsNegativeZero, jsonText } from '@lakesoul-ts/meta';

/** Output formats of scan/head (and of every printing command). */
export type OutputFormat = 'table' | 'json' | 'jsonl' | 'csv';

/** Every {@link OutputFormat}, for option choices. */
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'jsonl', 'csv'];


function csvEscape(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** What {@link writeWithBackpressure} reads of a stream's state (node's Writable has all of it). */
interface StreamState {
  destroyed?: boolean;
  errored?: Error | null;
}

/** Why a destroyed stream takes no more writes: its own error (a full disk), or that it was closed. */
function streamGone(state: StreamState): Error {
  if (state.errored) return named(state, state.errored);
  return named(state, Object.assign(new Error('the output was closed before everything was written'), { code: 'ERR_STREAM_DESTROYED' }));
}

/** Errors made by {@link named}: standard output failed. */
const outputFailures = new WeakSet<Error>();
let outputFailureReported = false;

/** A write error of this process's standard output says so (as main.ts's handler of its 'error' does). */
function named(out: unknown, e: Error): Error {
  if (out !== process.stdout) return e;
  const failure = Object.assign(new Error(`cannot write to standard output: ${e.message}`), { code: (e as NodeJS.ErrnoException).code });
  outputFailures.add(failure);
  return failure;
}

/** Whether `e` is a failed write of this process's standard output (a full disk, a closed pipe). */
export function isOutputFailure(e: unknown): boolean {
  return e instanceof Error && outputFailures.has(e);
}

/**
 * Claims the one report of standard output's failure: true the first time, false after. A failed
 * write reaches both main.ts's handler of the stream's 'error' and the command's catch (through the
 * write's rejection), in either order: the person reads the error once.
 */
export function claimOutputFailureReport(): boolean {
  if (outputFailureReported) return false;
  outputFailureReported = true;
  return true;
}

/**
 * Writes `text` and resolves once the stream can take more (its `'drain'`), so a producer that awaits
 * every write holds at most one chunk beyond the stream's high-water mark. Rejects, instead of waiting
 * for a `'drain'` that never comes, when the stream failed or was closed: before the write (an earlier
 * write's error, such as ENOSPC, destroyed it), during it, or while waiting (`'error'` or `'close'`).
 */
export function writeWithBackpressure(out: NodeJS.WritableStream, text: string): Promise<void> | void {
  const state = out as StreamState;
  if (state.destroyed || state.errored) return Promise.reject(streamGone(state));
  if (text.length === 0 || out.write(text)) return;
  // a destroyed stream's write() returns false and emits nothing more: neither 'drain' nor 'error'
  if (state.destroyed || state.errored) return Promise.reject(streamGone(state));
  return new Promise<void>((res, rej) => {
    const done = (err?: Error) => {
      out.off('drain', onDrain); out.off('error', onError); out.off('close', onClose);
      if (err) rej(err); else res();
    };
    const onDrain = () => done();
    const onError = (e: Error) => done(named(out, e));
    // closed without a 'drain' (destroyed by its owner, or after an error whose event came first)
    const onClose = () => done(streamGone(state));
    out.once('drain', onDrain);
    out.once('error', onError);
    out.once('close', onClose);
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
  protected pending: string[][] = [];
  protected widths: number[] | undefined;
  protected started = false;
  protected columns: string[] | undefined;
  /** Rows written so far. */
  rows = 0;

  constructor(protected readonly out: NodeJS.WritableStream, protected readonly format: OutputFormat, protected readonly maxCellWidth = 40) {}

  /** Print rows given as cells already rendered for this format (`values` are JSON-safe values). */
  async writeRows(columns: string[], rows: Iterable<unknown[]>): Promise<void> {
    this.columns ??= columns;
    let s = '';
    const flushAt = 64 * 1024;
    for (const values of rows) {
      this.rows++;
      if (this.format === 'jsonl' || this.format === 'json') {
        let line: string;
        if (values.some(holdsNegativeZero)) {
          // JSON.stringify writes -0 as 0, also in a list or struct (an export-import round trip lost
          // the sign): `-0` is valid JSON
          line = `{${columns.flatMap((c, i) => values[i] === undefined ? [] : [`${JSON.stringify(c)}:${jsonText(values[i])}`]).join(',')}}`;
        } else {
          const o: Record<string, unknown> = {};
          for (let i = 0; i < columns.length; i++) o[columns[i]!] = values[i];
          line = JSON.stringify(o);
        }
        if (this.format === 'jsonl') s += line + '\n';
        else { s += (this.started ? ',\n' : '[\n') + line; this.started = true; }
      } else if (this.format === 'csv') {
        if (!this.started) { s += columns.map(csvEscape).join(',') + '\n'; this.started = true; }
        s += values.map((v) => csvEscape(v === null || v === undefined ? '' : typeof v === 'string' ? v : jsonText(v))).join(',') + '\n';
      } else {
        const cells = values.map((v) => {
          const t = v === null || v === undefined ? 'null' : typeof v === 'string' ? tableText(v) : jsonText(v);
          return displayWidth(t) > this.maxCellWidth ? cutToWidth(t, this.maxCellWidth - 1) + '…' : t;
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
    return cells.map((v, c) => v + ' '.repeat(Math.max(0, (this.widths![c] ?? 0) - displayWidth(v)))).join('  ').trimEnd();
  }

  private flushTable(): string {
    if (!this.widths) {
      if (!this.columns) return '';
      const header = this.columns.map(escapeControls);
      const all = [header, ...this.pending];
      this.widths = this.columns.map((_, c) => {
        let w = 0;
        for (const r of all) w = Math.max(w, displayWidth(r[c] ?? ''));
        return w;
      });
      const text = [this.line(header), this.widths.map((w) => '─'.repeat(w)).join('  '), ...this.pending.map((r) => this.line(r))].join('\n') + '\n';
      this.pending = [];
      return text;
    }
    const text = this.pending.map((r) => this.line(r) + '\n').join('');
    this.pending = [];
    return text;
  }
}

/** Text a terminal shows one column per UTF-16 unit: printable ASCII. */
const NARROW_ASCII = /^[\x20-\x7e]*$/;
/**
 * Characters a terminal shows two columns wide: East Asian wide and full-width forms, and emoji shown
 * as emoji (their default presentation, or text ones followed by U+FE0F). Text-presentation symbols
 * such as © ® ™ ↔ are one column, as terminals show them.
 */
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]|\p{Emoji_Presentation}|\p{Extended_Pictographic}\ufe0f/u;
/** A cluster that takes no column of its own: marks, format characters, variation selectors. */
const ZERO_WIDTH = /^[\p{M}\p{Cf}]+$/u;
let graphemes: Intl.Segmenter | undefined;

function clusters(text: string): Iterable<{ segment: string }> {
  graphemes ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  return graphemes.segment(text);
}

function clusterWidth(cluster: string): number {
  if (WIDE.test(cluster)) return 2;
  return ZERO_WIDTH.test(cluster) ? 0 : 1;
}

/**
 * Columns `text` takes on a terminal: one per user-perceived character (a base letter and its
 * combining accents are one), two for East Asian wide characters and emoji. The `table` format pads
 * and cuts by it, so accented (NFD), CJK and emoji cells keep the columns aligned.
 */
export function displayWidth(text: string): number {
  if (NARROW_ASCII.test(text)) return text.length;
  let w = 0;
  for (const { segment } of clusters(text)) w += clusterWidth(segment);
  return w;
}

/** The longest start of `text` at most `width` columns wide, cut between characters (never inside a surrogate pair or after a base letter whose accent follows). */
export function cutToWidth(text: string, width: number): string {
  if (NARROW_ASCII.test(text)) return text.slice(0, width);
  let w = 0;
  let end = 0;
  for (const { segment } of clusters(text)) {
    const cw = clusterWidth(segment);
    if (w + cw > width) break;
    w += cw;
    end += segment.length;
  }
  return text.slice(0, end);
}

/**
 * A text value as the `table` format shows it: as it is, control characters escaped, except that a text
 * that reads as a null (`null`, as the table shows a null) or that starts with a double quote is shown
 * as a JSON string (`"null"`, `"\"x\""`), so a null and the text "null" look different.
 */
export function tableText(text: string): string {
  return escapeControls(text === 'null' || text.startsWith('"') ? JSON.stringify(text) : text);
}

const CONTROL_NAMES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Control characters of a value as escapes (`\n`, `\t`, `\x1b`, `\u009b`), as `psql` and `ls -b`
 * show them: the table format is read on a terminal, where a stored ESC sequence set the window title
 * or cleared the screen, and newlines broke the rows. The invisible characters that reorder or break
 * what a terminal shows are escaped too (`\u202e`): the bidirectional controls (U+061C, U+200E-U+200F,
 * U+202A-U+202E, U+2066-U+2069), with which a stored value showed its text reversed or moved the
 * columns after it (a value that reads as another), and the line and paragraph separators U+2028 and
 * U+2029. The other formats quote the C0 and C1 controls already, and show the others as they are.
 */
export function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g, (c) => CONTROL_NAMES[c] ?? (c.charCodeAt(0) < 0x80 ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

