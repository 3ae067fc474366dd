/**
 * Reading import files (CSV, JSONL, Parquet) as a stream of Arrow batches conformed to a schema, and
 * inferring a schema from a file when the user gives none.
 */
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { RecordBatch, Schema, type Table } from 'apache-arrow';
import { LakeSoulError, abortedError } from '@lakesoul-ts/meta';
import { decodeParquet, readParquetFooter, type ByteRange, type ParquetFooter } from '@lakesoul-ts/io';
import { parseCsv, readJsonl, readTextChunks, type CsvRecord } from './csv-reader.js';
import { formatOfExtension } from './file-formats.js';
import { cliName, shellWord } from './cli-name.js';
import { checkRequiredColumns, inferSchema, rowsToBatch, type ColumnRoles, type OnJsonText, type RecordOrigin } from './records-to-arrow.js';

/** Input formats of `import`. */
export type InputFormat = 'csv' | 'jsonl' | 'parquet';

/**
 * Pick the format from a flag or the file extension (see {@link formatOfExtension}): `.tsv` is CSV,
 * `.json` JSON lines or one JSON array of objects (the JSONL reader tells them apart).
 */
export function detectFormat(file: string, flag?: string): InputFormat {
  // a compressed file is read through a decompressor on standard input (with --format its bytes were
  // read as text: "invalid UTF-8 (byte 0x8b)")
  const packed = /\.(gz|bz2|xz|zst)$/i.exec(file);
  if (packed) {
    const tool = ({ gz: 'zcat', bz2: 'bzcat', xz: 'xzcat', zst: 'zstdcat' } as Record<string, string>)[packed[1]!.toLowerCase()]!;
    const inner = formatOfExtension(file.slice(0, -packed[0].length)) ?? 'csv';
    throw new LakeSoulError('InvalidArgument', `${file} is compressed (${packed[1]}): import (and table create --from) read it decompressed from standard input, -: ${tool} ${shellWord(file)} | ${cliName()} import <table> - --format ${flag ?? inner}`, { context: { file } });
  }
  const f = flag?.toLowerCase() ?? formatOfExtension(file);
  if (f === 'csv' || f === 'tsv') return 'csv';
  if (f === 'jsonl' || f === 'json') return 'jsonl';
  if (f === 'parquet') return 'parquet';
  throw new LakeSoulError('InvalidArgument', `cannot tell the format of ${file}: use --format csv|tsv|jsonl|json|parquet`, { context: { file } });
}

/** An input as a regular file (see {@link seekableInput}); `dispose` removes a spooled copy. */
export interface SeekableInput {
  path: string;
  /** Whether `path` is a copy of a pipe or standard input. */
  spooled: boolean;
  dispose(): Promise<void>;
  /** {@link dispose} at once (a process about to exit on a second Ctrl-C). */
  disposeSync(): void;
}

/**
 * `file` as a regular file the readers can read twice (JSONL: once for its columns) and at any
 * offset (Parquet: its footer first). `-` (standard input), a pipe, a FIFO or a device is copied to a
 * temporary file first: read twice, a pipe gave its lines to the first pass only, and a JSONL import
 * from `/dev/stdin` said "imported 0 rows" with exit 0.
 */
export async function seekableInput(file: string, stdin: NodeJS.ReadableStream = process.stdin, signal?: AbortSignal): Promise<SeekableInput> {
  if (file !== '-' && (await stat(file)).isFile()) return { path: file, spooled: false, dispose: async () => {}, disposeSync: () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'lakesoul-ts-import-'));
  const path = join(dir, 'input');
  const dispose = () => rm(dir, { recursive: true, force: true });
  const disposeSync = () => rmSync(dir, { recursive: true, force: true });
  try {
    await pipeline(file === '-' ? stdin : createReadStream(file), createWriteStream(path, { mode: 0o600 }), { signal });
  } catch (e) {
    await dispose();
    if (signal?.aborted) throw abortedError(`copy of ${file === '-' ? 'standard input' : file}`, signal.reason);
    throw new LakeSoulError('Io', `cannot copy ${file === '-' ? 'standard input' : file} to a temporary file in ${dir} (TMPDIR): ${(e as Error).message}`, { context: { file }, cause: e });
  }
  return { path, spooled: true, dispose, disposeSync };
}

async function ensureFile(file: string): Promise<number> {
  try { return (await stat(file)).size; } catch {
    throw new LakeSoulError('NotFound', `input file not found: ${file}`, { context: { file } });
  }
}

/** Options of {@link readInput}. */
export interface ReadInputOptions {
  batchRows?: number;
  delimiter?: string;
  signal?: AbortSignal;
  /** Called with bytes consumed so far (approximate for text formats). */
  onBytes?: (n: number) => void;
  /** The target table's key, range and CDC columns: their rules are checked naming the file and line. */
  roles?: ColumnRoles;
  /** JSONL: called for each number, boolean, array or object stored as its JSON text in a text column. */
  onJsonText?: OnJsonText;
}

/** Rows of a Parquet import decoded at once (whole row groups: at least one). */
const IMPORT_CHUNK_ROWS = 1 << 20;

/** A Parquet input opened for ranged reads: its size, footer, and the piece of its end holding the footer. */
interface ParquetInput {
  size: number;
  footer: ParquetFooter;
  tail: { offset: number; bytes: Uint8Array };
  read: (range: { offset: number; length: number }) => Promise<Uint8Array>;
  close: () => Promise<void>;
}

/** A Parquet file's error as the import reports it: not readable, naming the file. */
function unreadableParquet(file: string, e: unknown): LakeSoulError {
  return e instanceof LakeSoulError ? e
    : new LakeSoulError('InvalidArgument', `${file}: not a readable Parquet file (${(e as Error).message})`, { context: { file }, cause: e });
}

/** Opens `file` and reads its footer (two small reads), not the file. */
async function openParquetInput(file: string): Promise<ParquetInput> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const read = async ({ offset, length }: { offset: number; length: number }): Promise<Uint8Array> => {
      if (!(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 && offset + length <= size)) {
        throw new LakeSoulError('InvalidArgument', `${file}: not a readable Parquet file (its footer names bytes ${offset}-${offset + length} of a ${size}-byte file)`, { context: { file } });
      }
      const out = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await fh.read(out, filled, length - filled, offset + filled);
        if (bytesRead === 0) throw new LakeSoulError('Io', `${file}: the file ended at ${offset + filled} bytes, inside a range its footer names (${offset}-${offset + length}): was it changed during the import?`, { context: { file } });
        filled += bytesRead;
      }
      return out;
    };
    let footer: ParquetFooter;
    const ranged = (r: ByteRange) => ('suffix' in r ? read({ offset: size - r.suffix, length: r.suffix }) : read({ offset: r.offset, length: r.length ?? size - r.offset }));
    try { footer = await readParquetFooter(ranged, size, { file }); } catch (e) { throw unreadableParquet(file, e); }
    const trailer = await read({ offset: size - 8, length: 8 });
    const length = Math.min(size, 8 + new DataView(trailer.buffer).getUint32(0, true));
    return { size, footer, tail: { offset: size - length, bytes: await read({ offset: size - length, length }) }, read, close: () => fh.close() };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Byte ranges sorted and merged where they touch or lie within 64 KiB of each other (one read each). */
function coalesce(ranges: { offset: number; length: number }[]): { offset: number; length: number }[] {
  const out: { offset: number; length: number }[] = [];
  for (const r of [...ranges].sort((a, b) => a.offset - b.offset)) {
    const last = out[out.length - 1];
    if (last !== undefined && r.offset <= last.offset + last.length + 64 * 1024) {
      last.length = Math.max(last.length, r.offset + r.length - last.offset);
    } else {
      out.push({ ...r });
    }
  }
  return out;
}

/**
 * Decodes row groups `rowGroups` of an opened input, reading only their column chunks (the ranges the
 * footer names). A file whose footer names ranges the decoder cannot use (a writer's wrong offsets)
 * is decoded from its whole bytes instead, read once.
 */
async function decodeRowGroups(input: ParquetInput, file: string, rowGroups: number[], batchSize: number, whole: { bytes?: Uint8Array }): Promise<Table> {
  if (whole.bytes === undefined) {
    const pieces = [input.tail];
    for (const r of coalesce(rowGroups.flatMap((g) => input.footer.rowGroups[g]!.chunks.map((c) => ({ offset: c.offset, length: c.compressedSize }))))) {
      pieces.push({ offset: r.offset, bytes: await input.read(r) });
    }
    try {
      return await decodeParquet({ size: input.size, pieces }, { file, rowGroups, batchSize });
    } catch {
      whole.bytes = await input.read({ offset: 0, length: input.size });
    }
  }
  try { return await decodeParquet(whole.bytes, { file, rowGroups, batchSize }); } catch (e) { throw unreadableParquet(file, e); }
}

/**
 * A Parquet file's batches, a few row groups at a time (about a million rows): what is held is those
 * row groups' bytes and their decoded rows, not the file (a 300 MB file of 20M rows took 1.9 GB when
 * read whole) nor all of it decoded (a few-KB file of constant columns decodes to gigabytes); not one
 * row group at a time either, since every decode reads the footer again.
 */
async function* readParquetInput(file: string, schema: Schema, batchRows: number, options: ReadInputOptions): AsyncGenerator<RecordBatch> {
  const input = await openParquetInput(file);
  try {
    const { footer } = input;
    checkColumns(file, footer.columns, schema);
    checkRequiredColumns(file, footer.columns, schema, options.roles);
    const chunks: number[][] = [];
    let rows = Infinity;
    footer.rowGroups.forEach((rg, g) => {
      if (rows >= IMPORT_CHUNK_ROWS) { chunks.push([]); rows = 0; }
      chunks[chunks.length - 1]!.push(g);
      rows += rg.numRows;
    });
    if (chunks.length === 0) chunks.push([]); // no row group: the schema only
    const whole: { bytes?: Uint8Array } = {};
    let done = 0;
    for (const rowGroups of chunks) {
      options.signal?.throwIfAborted();
      const table = await decodeRowGroups(input, file, rowGroups, batchRows, whole);
      done += rowGroups.length;
      options.onBytes?.(Math.round(input.size * Math.max(done, 1) / Math.max(1, footer.rowGroups.length)));
      for (const b of table.batches) yield b;
    }
  } finally {
    await input.close();
  }
}

/**
 * Stream a file as batches of `schema`. Columns of the file not in the schema are an error naming
 * them; schema columns missing from the file are left out of the batch (a partial-column upsert) unless
 * `fullSchema` is set, in which case they are null.
 */
export async function* readInput(file: string, format: InputFormat, schema: Schema, options: ReadInputOptions = {}): AsyncGenerator<RecordBatch> {
  await ensureFile(file);
  const batchRows = options.batchRows ?? 65_536;
  if (format === 'parquet') {
    yield* readParquetInput(file, schema, batchRows, options);
    return;
  }
  if (format === 'csv') {
    let header: string[] | null = null;
    let sub: Schema | null = null;
    let idx: number[] = [];
    let rows: unknown[][] = [];
    let origins: RecordOrigin[] = [];
    const flush = () => { const b = rowsToBatch(sub!, rows, origins, true, options.roles); rows = []; origins = []; return b; };
    let bytes = 0;
    const chunks = (async function* () { for await (const c of readTextChunks(file, options.signal)) { bytes += Buffer.byteLength(c); options.onBytes?.(bytes); yield c; } })();
    for await (const rec of parseCsv(chunks, { name: file, delimiter: options.delimiter, signal: options.signal })) {
      if (!header) {
        // a name as written when the table has it (` x `, which export writes so), else trimmed (`id, v`)
        const names = new Set(schema.fields.map((f) => f.name));
        header = rec.fields.map((h) => (names.has(h) ? h : h.trim()));
        const seen = new Set<string>();
        const twice = header.find((h) => seen.size === seen.add(h).size);
        if (twice !== undefined) throw new LakeSoulError('InvalidArgument', `${file}:${rec.line}: the header names column '${twice}' twice`, { context: { file, row: rec.line, column: twice } });
        checkColumns(file, header, schema);
        checkRequiredColumns(file, header, schema, options.roles);
        const at = new Map(header.map((h, i) => [h, i]));
        sub = new Schema(schema.fields.filter((f) => at.has(f.name)));
        idx = sub.fields.map((f) => at.get(f.name)!);
        continue;
      }
      if (rec.fields.length !== header.length) {
        throw new LakeSoulError('InvalidArgument', `${file}:${rec.line}: expected ${header.length} fields (as in the header), found ${rec.fields.length}`, { context: { file, row: rec.line } });
      }
      rows.push(idx.map((i) => csvCell(rec, i)));
      origins.push({ file, line: rec.line });
      if (rows.length >= batchRows) yield flush();
    }
    if (!header) throw new LakeSoulError('InvalidArgument', `${file}: empty CSV file (no header line)`, { context: { file } });
    if (rows.length) yield flush();
    return;
  }
  // jsonl: the file's columns are the keys of all its lines (a first pass finds them), the same for
  // every batch; a line without one of them has null there. Columns no line names are left out (a
  // partial-column upsert), as a CSV without them does.
  const names = new Set(schema.fields.map((f) => f.name));
  const seen = new Set<string>();
  let lines = 0;
  for await (const { line, value } of readJsonl(file, options.signal)) {
    lines++;
    for (const k of Object.keys(value)) {
      if (seen.has(k)) continue;
      if (!names.has(k)) throw new LakeSoulError('SchemaMismatch', `${file}:${line}: column '${k}' is not in the table schema (${[...names].join(', ')})`, { context: { file, row: line, column: k } });
      seen.add(k);
    }
  }
  if (lines > 0) checkRequiredColumns(file, seen, schema, options.roles);
  const sub = new Schema(schema.fields.filter((f) => seen.has(f.name)));
  let rows: unknown[][] = [];
  let origins: RecordOrigin[] = [];
  const flush = () => {
    const b = rowsToBatch(sub, rows, origins, false, options.roles, options.onJsonText);
    rows = []; origins = [];
    return b;
  };
  for await (const { line, value } of readJsonl(file, options.signal)) {
    rows.push(sub.fields.map((f) => value[f.name]));
    origins.push({ file, line });
    if (rows.length >= batchRows) yield flush();
  }
  if (rows.length) yield flush();
}

function csvCell(rec: CsvRecord, i: number): string | null {
  const v = rec.fields[i]!;
  return v === '' && !rec.quoted[i] ? null : v;
}

function checkColumns(file: string, present: string[], schema: Schema): void {
  const names = new Set(schema.fields.map((f) => f.name));
  const extra = present.filter((c) => !names.has(c));
  if (extra.length) {
    // a few names and the count: a header of 200 000 columns made an error of megabytes
    const shown = extra.slice(0, 10).map((c) => `'${c.length > 64 ? `${c.slice(0, 64)}...` : c}'`).join(', ') + (extra.length > 10 ? ` and ${extra.length - 10} more` : '');
    const table = [...names];
    throw new LakeSoulError('SchemaMismatch', `${file}: column${extra.length > 1 ? 's' : ''} ${shown} not in the table schema (${table.slice(0, 50).join(', ')}${table.length > 50 ? `, ... ${table.length} columns` : ''})`,
      { context: { file, column: extra[0] } });
  }
}

/** Infer a schema from the first rows of a file (CSV/JSONL) or its Parquet schema. */
export async function inferFileSchema(file: string, format: InputFormat, sampleRows = 1000, delimiter?: string): Promise<Schema> {
  await ensureFile(file);
  if (format === 'parquet') {
    // the schema from the footer alone: decoding the file to learn it took 1.3 GB for 20M rows
    const input = await openParquetInput(file);
    try {
      return (await decodeRowGroups(input, file, [], 1, {})).schema;
    } finally {
      await input.close();
    }
  }
  if (format === 'csv') {
    let header: string[] | null = null;
    const rows: unknown[][] = [];
    for await (const rec of parseCsv(readTextChunks(file), { name: file, delimiter })) {
      if (!header) { header = rec.fields.map((h) => h.trim()); continue; }
      rows.push(rec.fields.map((_, i) => csvCell(rec, i)));
      if (rows.length >= sampleRows) break;
    }
    if (!header) throw new LakeSoulError('InvalidArgument', `${file}: empty CSV file (no header line)`, { context: { file } });
    return inferSchema(header, rows, true);
  }
  const names: string[] = [];
  const objs: Record<string, unknown>[] = [];
  // (1.0 is a float here, which JSON.parse makes the number 1)
  for await (const { value } of readJsonl(file, undefined, { wholeFloats: true })) {
    for (const k of Object.keys(value)) if (!names.includes(k)) names.push(k);
    objs.push(value);
    if (objs.length >= sampleRows) break;
  }
  if (names.length === 0) throw new LakeSoulError('InvalidArgument', `${file}: no column to infer a schema from (${objs.length ? 'its lines are empty objects' : 'the file has no line'})`, { context: { file } });
  return inferSchema(names, objs.map((o) => names.map((n) => o[n])), false);
}
