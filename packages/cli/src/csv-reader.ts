/**
 * Streaming CSV (RFC 4180) and JSONL readers that keep line numbers, so a bad value can be reported as
 * `file:line, column 'x'`.
 */
import { createReadStream } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { parseJsonExact } from '@lakesoul-ts/io';

/** One parsed record and the line it started on (1-based). */
export interface CsvRecord {
  line: number;
  fields: string[];
  /** Which fields were quoted (a quoted empty string is an empty string, an unquoted one is null). */
  quoted: boolean[];
}

/** Options of {@link parseCsv}. */
export interface ReadCsvOptions {
  delimiter?: string;
  /** File name for messages. */
  name?: string;
  signal?: AbortSignal;
}

/** Parse CSV text chunks into records. Throws InvalidArgument on an unterminated quote. */
export async function* parseCsv(chunks: AsyncIterable<string> | Iterable<string>, options: ReadCsvOptions = {}): AsyncGenerator<CsvRecord> {
  const delim = options.delimiter ?? ',';
  const name = options.name ?? 'input';
  let field = '';
  let fields: string[] = [];
  let quoted: boolean[] = [];
  let inQuotes = false;
  let wasQuoted = false;
  let afterQuote = false;
  let line = 1;
  let recordLine = 1;
  let pendingCR = false;
  let any = false;
  const endField = () => { fields.push(field); quoted.push(wasQuoted); field = ''; wasQuoted = false; afterQuote = false; };
  for await (const chunk of chunks) {
    options.signal?.throwIfAborted();
    // Plain characters are taken as runs (one slice of the chunk each), not one by one: a string grown
    // a character at a time costs ~38 bytes per character, and a 150 MB field ran out of heap.
    let run = -1;
    const flush = (end: number) => { if (run >= 0) { field += chunk.slice(run, end); run = -1; } };
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (pendingCR) { pendingCR = false; if (c === '\n') continue; }
      if (inQuotes) {
        if (c === '"') {
          flush(i);
          if (chunk[i + 1] === '"') { field += '"'; i++; }
          else { inQuotes = false; afterQuote = true; } // at a chunk's end it may be the first of an escaped pair: handled below
        } else {
          if (c === '\n') line++;
          if (run < 0) run = i;
        }
        continue;
      }
      if (afterQuote && c === '"') { field += '"'; inQuotes = true; afterQuote = false; continue; } // "" split across chunks
      if (c === delim) { flush(i); endField(); any = true; continue; }
      if (c === '\n' || c === '\r') {
        flush(i);
        endField();
        const rec = { line: recordLine, fields, quoted };
        fields = []; quoted = [];
        if (c === '\r') pendingCR = true;
        line++;
        recordLine = line;
        if (!(rec.fields.length === 1 && rec.fields[0] === '' && !rec.quoted[0])) yield rec;
        any = false;
        continue;
      }
      if (c === '"' && run < 0 && field === '' && !wasQuoted) { inQuotes = true; wasQuoted = true; continue; }
      if (afterQuote) {
        throw new LakeSoulError('InvalidArgument', `${name}:${line}: unexpected character '${c}' after a closing quote`, { context: { file: name, row: line } });
      }
      if (run < 0) run = i;
      any = true;
    }
    flush(chunk.length);
  }
  if (inQuotes) throw new LakeSoulError('InvalidArgument', `${name}:${recordLine}: unterminated quoted field`, { context: { file: name, row: recordLine } });
  if (any || field !== '' || fields.length > 0) { endField(); yield { line: recordLine, fields, quoted }; }
}

/** Index of the first byte of `bytes` that is not valid UTF-8, or -1. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) { i++; continue; }
    let len: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) { len = 2; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { len = 3; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { len = 4; min = 0x10000; }
    else return i;
    if (i + len > n) return i;
    let cp = b & (0xff >> (len + 1));
    for (let k = 1; k < len; k++) {
      const c = bytes[i + k];
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += len;
  }
  return -1;
}

/** Bytes at the end of `bytes` that start a multi-byte sequence the chunk does not complete. */
function incompleteTail(bytes: Uint8Array): number {
  for (let k = 1; k <= Math.min(3, bytes.length); k++) {
    const b = bytes[bytes.length - k];
    if ((b & 0xc0) === 0x80) continue; // continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > k ? k : 0;
  }
  return 0;
}

function countNewlines(bytes: Uint8Array, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) if (bytes[i] === 10) n++;
  return n;
}

/**
 * Read a file as UTF-8 text chunks. Invalid UTF-8 is refused (InvalidArgument `INVALID_UTF8`, naming
 * the file and the line), never replaced by U+FFFD: a wrong encoding must not be committed silently.
 */
export async function* readTextChunks(path: string, signal?: AbortSignal): AsyncGenerator<string> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20, signal });
  let carry: Uint8Array = new Uint8Array(0);
  let line = 1;
  const check = (bytes: Uint8Array) => {
    if (isUtf8(bytes)) return;
    const at = firstInvalidUtf8(bytes);
    const where = line + countNewlines(bytes, at < 0 ? bytes.length : at);
    throw new LakeSoulError('InvalidArgument', `${path}:${where}: invalid UTF-8 (byte 0x${(bytes[at] ?? 0).toString(16).padStart(2, '0')}); convert the file to UTF-8 first`, {
      code: 'INVALID_UTF8',
      context: { file: path, row: where },
    });
  };
  try {
    for await (const chunk of stream) {
      const buf: Uint8Array = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
      const cut = buf.length - incompleteTail(buf);
      const whole = buf.subarray(0, cut);
      check(whole);
      carry = buf.slice(cut);
      line += countNewlines(whole, whole.length);
      yield Buffer.from(whole.buffer, whole.byteOffset, whole.byteLength).toString('utf8');
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new LakeSoulError('NotFound', `file not found: ${path}`, { context: { file: path }, cause: e });
    throw e;
  }
  if (carry.length > 0) check(carry);
}

/** One record of a JSON input and the line it starts on (1-based). */
export interface JsonRecord {
  line: number;
  value: Record<string, unknown>;
}

/**
 * Stream the records of a JSON input as parsed objects with line numbers: JSON lines (one object a
 * line), or, when the first character that is not white space is `[`, one JSON array of objects (what
 * `scan --format json` writes; read as it streams, not whole). Numbers are exact (`parseJsonExact`;
 * `wholeFloats` as there: schema inference tells `1.0` from `1`).
 */
export async function* readJsonl(path: string, signal?: AbortSignal, options: { wholeFloats?: boolean } = {}): AsyncGenerator<JsonRecord> {
  const chunks = readTextChunks(path, signal);
  let head = '';
  for (;;) {
    if (/\S/.test(head)) break;
    const n = await chunks.next();
    if (n.done) break;
    head += n.value;
  }
  // a byte-order mark (Windows tools write one) is no part of the first line's JSON
  if (head.charCodeAt(0) === 0xfeff) head = head.slice(1);
  const text = (async function* () {
    try {
      if (head !== '') yield head;
      for (;;) {
        const n = await chunks.next();
        if (n.done) return;
        yield n.value;
      }
    } finally { await chunks.return(undefined); }
  })();
  yield* (/^\s*\[/.test(head) ? jsonArrayRecords(path, text, options) : jsonLines(path, text, options));
}

/** A parsed record, or the error naming the line: invalid JSON, or not an object (`what` it must be). */
function jsonRecord(path: string, line: number, text: string, what: string, options: { wholeFloats?: boolean }): JsonRecord {
  let value: unknown;
  // Exact numbers: integers beyond 2^53 stay exact (bigint), long decimals keep their digits.
  try { value = parseJsonExact(text, options); } catch (e) {
    throw new LakeSoulError('InvalidArgument', `${path}:${line}: not valid JSON (${(e as Error).message})`, { context: { file: path, row: line }, cause: e });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new LakeSoulError('InvalidArgument', `${path}:${line}: ${what} must be a JSON object`, { context: { file: path, row: line } });
  }
  return { line, value: value as Record<string, unknown> };
}

/** The objects of JSON lines. */
async function* jsonLines(path: string, chunks: AsyncIterable<string>, options: { wholeFloats?: boolean }): AsyncGenerator<JsonRecord> {
  let line = 0;
  const parse = (text: string) => {
    line++;
    return text.trim() === '' ? null : jsonRecord(path, line, text, 'each line', options);
  };
  // The unfinished line's pieces, joined once it ends: joining each chunk to it and splitting again
  // rescanned the whole line per chunk (one 128 MB line: 41 s against 11 s as a JSON array).
  let pending: string[] = [];
  for await (const chunk of chunks) {
    let from = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', from)) {
      pending.push(chunk.slice(from, nl));
      const r = parse(pending.length === 1 ? pending[0]! : pending.join(''));
      pending = [];
      from = nl + 1;
      if (r) yield r;
    }
    if (from < chunk.length) pending.push(chunk.slice(from));
  }
  if (pending.length > 0) { const r = parse(pending.join('')); if (r) yield r; }
}

/**
 * The objects of one JSON array, element by element as the text streams: an element ends at a `,` or
 * the closing `]` outside strings and nested brackets.
 */
async function* jsonArrayRecords(path: string, chunks: AsyncIterable<string>, options: { wholeFloats?: boolean }): AsyncGenerator<JsonRecord> {
  const fail = (line: number, why: string) => new LakeSoulError('InvalidArgument', `${path}:${line}: not valid JSON (${why})`, { context: { file: path, row: line } });
  let state: 'before' | 'array' | 'after' = 'before';
  let line = 1;
  let depth = 0; // of brackets inside the element
  let inString = false;
  let escaped = false;
  let element = ''; // the element's text so far
  let elementLine = 0; // its first line (0: no element started)
  let elements = 0;
  let separated = false; // a ',' is waiting for its element
  for await (const chunk of chunks) {
    const out: JsonRecord[] = [];
    let from = -1; // where the element's text starts in this chunk
    const end = (to: number) => {
      element += chunk.slice(Math.max(from, 0), to);
      out.push(jsonRecord(path, elementLine, element.trimEnd(), 'each element of the array', options));
      elements++;
      element = ''; elementLine = 0; from = -1;
    };
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (elementLine > 0) {
        if (inString) {
          if (escaped) escaped = false;
          else if (c === '\\') escaped = true;
          else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === '{' || c === '[') depth++;
        else if ((c === '}' || c === ']') && depth > 0) {
          // an object or array element ends with its closing bracket
          if (--depth === 0) end(i + 1);
        } else if (depth === 0 && (c === ',' || c === ']')) {
          // another value ends before the separator, read next as such
          end(i);
          i--;
          continue;
        }
        if (c === '\n') line++;
        continue;
      }
      if (c === '\n') { line++; continue; }
      if (/\s/.test(c)) continue;
      if (state === 'before') {
        if (c !== '[') throw fail(line, `expected '[' and found '${c}'`);
        state = 'array';
      } else if (state === 'after') {
        throw fail(line, `text after the array's closing ']'`);
      } else if (c === ']') {
        if (separated) throw fail(line, "a ',' before ']' (a trailing comma)");
        state = 'after';
      } else if (c === ',') {
        if (elements === 0 || separated) throw fail(line, "a ',' where a value should be");
        separated = true;
      } else {
        if (elements > 0 && !separated) throw fail(line, "expected ',' or ']'");
        elementLine = line; from = i; separated = false;
        i--; // read this character as the element's first
      }
    }
    if (elementLine > 0) element += chunk.slice(Math.max(from, 0));
    yield* out;
  }
  if (state !== 'after') throw fail(line, state === 'before' ? 'no array' : "the array is not closed: the file ends before its ']'");
}
