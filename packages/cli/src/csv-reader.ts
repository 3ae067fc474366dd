/**
 * Streaming CSV (RFC 4180) and JSONL readers that keep line numbers, so a bad value can be reported as
 * `file:line, column 'x'`.
 */
import { createReadStream } from 'node:fs';
import { LakeSoulError } from '@lakesoul-ts/meta';

/** One parsed record and the line it started on (1-based). */
export interface CsvRecord {
  line: number;
  fields: string[];
  /** Which fields were quoted (a quoted empty string is an empty string, an unquoted one is null). */
  quoted: boolean[];
}

/** Options of {@link readCsv}. */
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
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (pendingCR) { pendingCR = false; if (c === '\n') continue; }
      if (inQuotes) {
        if (c === '"') {
          if (chunk[i + 1] === '"') { field += '"'; i++; }
          else if (i + 1 === chunk.length) { inQuotes = false; afterQuote = true; } // may be an escaped quote split across chunks: handled below
          else { inQuotes = false; afterQuote = true; }
        } else {
          if (c === '\n') line++;
          field += c;
        }
        continue;
      }
      if (afterQuote && c === '"') { field += '"'; inQuotes = true; afterQuote = false; continue; } // "" split across chunks
      if (c === delim) { endField(); any = true; continue; }
      if (c === '\n' || c === '\r') {
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
      if (c === '"' && field === '' && !wasQuoted) { inQuotes = true; wasQuoted = true; continue; }
      if (afterQuote) {
        throw new LakeSoulError('InvalidArgument', `${name}:${line}: unexpected character '${c}' after a closing quote`, { context: { file: name, row: line } });
      }
      field += c;
      any = true;
    }
  }
  if (inQuotes) throw new LakeSoulError('InvalidArgument', `${name}:${recordLine}: unterminated quoted field`, { context: { file: name, row: recordLine } });
  if (any || field !== '' || fields.length > 0) { endField(); yield { line: recordLine, fields, quoted }; }
}

/** Read a file as UTF-8 text chunks. */
export async function* readTextChunks(path: string, signal?: AbortSignal): AsyncGenerator<string> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20, signal });
  try {
    for await (const chunk of stream) yield chunk as string;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new LakeSoulError('NotFound', `file not found: ${path}`, { context: { file: path }, cause: e });
    throw e;
  }
}

/** Stream the lines of a JSONL file as parsed objects with line numbers. */
export async function* readJsonl(path: string, signal?: AbortSignal): AsyncGenerator<{ line: number; value: Record<string, unknown> }> {
  let rest = '';
  let line = 0;
  const parse = (text: string) => {
    line++;
    if (text.trim() === '') return null;
    let value: unknown;
    try { value = JSON.parse(text); } catch (e) {
      throw new LakeSoulError('InvalidArgument', `${path}:${line}: not valid JSON (${(e as Error).message})`, { context: { file: path, row: line }, cause: e });
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new LakeSoulError('InvalidArgument', `${path}:${line}: each line must be a JSON object`, { context: { file: path, row: line } });
    }
    return { line, value: value as Record<string, unknown> };
  };
  for await (const chunk of readTextChunks(path, signal)) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const p of parts) { const r = parse(p); if (r) yield r; }
  }
  if (rest !== '') { const r = parse(rest); if (r) yield r; }
}
