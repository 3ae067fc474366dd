/**
 * Parquet encoding and decoding through arrow-rs's parquet crate, natively (`parquet-native.ts`, when
 * `pnpm setup:native` built it) or compiled to WebAssembly (parquet-wasm), with Arrow IPC as the
 * bridge to apache-arrow. Both are loaded lazily on first use (no work at import time).
 */
import { DataType, Field, FixedSizeList, List, RecordBatch, Schema, Struct, Table, TimeUnit, Timestamp, Type, tableFromIPC, tableToIPC, type Data } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { castData } from '../arrow/cast-data.js';
import { makeBatch } from '../arrow/data-access.js';
import { batchWithKnownNullCounts } from '../arrow/null-counts.js';
import { checkSchemaDepth } from '../arrow/validate-data.js';
import { gatherData } from '../arrow/take-rows.js';
import { NativeParquetPool, type ParquetPool } from '../workers/parquet-pool.js';
import { WORKER_TASK_FAILED } from '../workers/worker-pool.js';
import { assertParquetMagic, decodeFileMetaData, type ParquetFooter } from './parquet-footer.js';
import { chooseColumnEncodings } from './column-encodings.js';
import { nativeParquet, type NativeParquet } from './parquet-native.js';
import { decodeToIPC, encodeFromIPC, type PreparedRowSource, type RawDecodeRequest, type RawEncodeRequest, type SparseParquetFile } from './parquet-wasm-ops.js';

export { parquetWasm, type SparseParquetFile, type RawDecodeRequest, type RawEncodeRequest, type PreparedRowSource } from './parquet-wasm-ops.js';

/** Options of {@link encodeParquet}. */
export interface EncodeParquetOptions {
  /** Default 'zstd' (what LakeSoul writes); 'snappy' and 'none' for interop tests. */
  compression?: 'zstd' | 'snappy' | 'none';
  /** Maximum rows per row group (default 256Ki rows: a few row groups per large file, for pruning). */
  rowGroupSize?: number;
  /** Extra key/value metadata for the footer. */
  metadata?: Record<string, string>;
  /** File name for messages. */
  file?: string;
  /**
   * Columns a selective read looks rows up by (the primary keys): the native codec cuts their data
   * pages at 2 KiB of encoded values and the other columns' at 8 KiB (parquet-wasm: all at 2 KiB).
   */
  keyColumns?: readonly string[];
  /**
   * 'auto' (default): dictionary encoding only for columns whose sampled values repeat, delta
   * encodings for the other integer and byte-array columns (see column-encodings.ts). 'always':
   * parquet-wasm's default, a dictionary for every column (falling back to plain past 1 MiB).
   */
  dictionary?: 'auto' | 'always';
}

/** Default maximum rows per row group written by {@link encodeParquet}. */
export const DEFAULT_ROW_GROUP_SIZE = 256 * 1024;

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Encode an Arrow table as a Parquet file (zstd by default, chunk- and page-level min/max/null
 * statistics for every column with the page index (ColumnIndex and OffsetIndex), dictionary
 * encoding where it pays: {@link EncodeParquetOptions.dictionary}). The Arrow schema is stored in the footer (ARROW:schema), so parquet-wasm and
 * pyarrow read the types back; timestamp[s] columns are written as timestamp[ms] (Parquet has no
 * seconds unit) and come back through {@link castTableToSchema}.
 */
export function encodeParquet(table: Table | RecordBatch, options: EncodeParquetOptions = {}): Uint8Array {
  const req = encodeRequest(table, options);
  try {
    const native = nativeParquet();
    return native ? native.encodeSync(req) : encodeFromIPC(req);
  } catch (e) {
    throw encodeError(e, options.file);
  }
}

/**
 * {@link encodeParquet} on `pool` (the calling thread stays free; several calls encode in parallel).
 * The same bytes as {@link encodeParquet}.
 */
export async function encodeParquetInPool(table: Table | RecordBatch, pool: ParquetPool, options: EncodeParquetOptions & { signal?: AbortSignal } = {}): Promise<Uint8Array> {
  const req = encodeRequest(table, options);
  try {
    return await pool.run({ op: 'encode', ...req }, { transfer: [req.ipc.buffer as ArrayBuffer], signal: options.signal });
  } catch (e) {
    if (LakeSoulError.is(e, 'Aborted')) throw e;
    throw encodeError(e, options.file);
  }
}

/**
 * Rows of one or more batches of the same schema, in the order a file is to hold them: output row
 * `i` is row `rows[i]` of `sources[src ? src[i] : 0]` (every row index within its source).
 */
export interface RowSelection {
  sources: readonly RecordBatch[];
  src: Uint32Array | null;
  rows: Int32Array;
  /**
   * The indexes of columns without nulls that order the rows, compared in this order, stably (equal
   * keys keep the order of `rows`): int32 or int64 values, or strings/binaries by unsigned bytes, a
   * prefix first (the primary-key order of `arrow/pk-compare.ts`). Sorted inside the encode, on the
   * pool's thread.
   */
  sortKeys?: number[];
}

/**
 * A source batch of {@link encodeRowsInPool} as the encode reads it: its Arrow IPC stream as the
 * native codec decodes it (once for all the encodes that take rows of it, on the pool's threads while
 * the encodings are chosen here), and its column encodings. Whoever keeps it in a cache calls
 * {@link RowSource.drop} once no further encode will take rows of it: the codec lets it go when the
 * running ones end (left to the garbage collector, a large write held ~200 MB more).
 */
export class RowSource {
  private uses = 0;
  private dropped = false;

  constructor(
    readonly prepared: Promise<PreparedRowSource>,
    readonly encodings: RawEncodeRequest['encodings'],
    private readonly codec: NativeParquet,
  ) {
    prepared.catch(() => undefined); // awaited by every encode that takes rows of it
  }

  /** An encode takes rows of it until {@link RowSource.done}. */
  use(): void {
    this.uses++;
  }

  /** An encode that took rows of it has ended. */
  done(): void {
    if (--this.uses === 0 && this.dropped) this.free();
  }

  /** No further encode takes rows of it: freed now, or when the running ones end. */
  drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    if (this.uses === 0) this.free();
  }

  private free(): void {
    this.prepared.then((h) => this.codec.releaseSource(h), () => undefined);
  }
}

/**
 * `b` as a {@link RowSource}, from `cache` when it holds it (the caller decides how long a copy
 * lives: a writer drops it once no group holds rows of the batch).
 */
function rowSource(b: RecordBatch, cache: Map<RecordBatch, RowSource> | undefined, native: NativeParquet): RowSource {
  let s = cache?.get(b);
  if (s === undefined) {
    const t = withoutSecondTimestamps(new Table(b.schema, [batchWithKnownNullCounts(b)]));
    s = new RowSource(native.prepareSource(tableToIPC(t, 'stream')), chooseColumnEncodings(t), native);
    cache?.set(b, s);
  }
  return s;
}

/**
 * The selected rows encoded as one file on the native pool: the rows are taken inside the encode
 * (arrow-rs's take and interleave, on the pool's thread; `sortKeys` are sorted there too), so the
 * calling thread neither gathers them nor serializes the copy. Each source is serialized to Arrow
 * IPC (and decoded by the codec) once per `options.sources` cache (every call without one), before
 * this returns its promise: the caller may drop the cache entry ({@link RowSource.drop}) right after
 * the call, as the running encode keeps its own reference. The same file as
 * {@link encodeParquetInPool} of the gathered rows, except that the column encodings are chosen on
 * the sources' rows ({@link EncodeParquetOptions.dictionary}).
 */
export async function encodeRowsInPool(
  selection: RowSelection,
  pool: NativeParquetPool,
  options: EncodeParquetOptions & { signal?: AbortSignal; sources?: Map<RecordBatch, RowSource> } = {},
): Promise<Uint8Array> {
  const { sources } = selection;
  if (sources.length > 0) checkEncodable(sources[0].schema, options.file);
  const streams = sources.map((b) => rowSource(b, options.sources, pool.codec));
  for (const s of streams) s.use();
  try {
    const auto = (options.dictionary ?? 'auto') === 'auto';
    const req: RawEncodeRequest = {
      ipc: new Uint8Array(0),
      compression: options.compression ?? 'zstd',
      rowGroupSize: options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE,
      metadata: options.metadata,
      keyColumns: options.keyColumns,
      createdBy: createdBy(),
      // one source: its choices; several: chosen again on all of them
      encodings: !auto ? [] : streams.length === 1 ? streams[0].encodings : chooseColumnEncodings(withoutSecondTimestamps(new Table(sources[0].schema, [...sources]))),
      take: { prepared: await Promise.all(streams.map((s) => s.prepared)), src: selection.src, rows: selection.rows, sortKeys: selection.sortKeys },
    };
    return await pool.run({ op: 'encode', ...req }, { signal: options.signal });
  } catch (e) {
    if (LakeSoulError.is(e, 'Aborted')) throw e;
    throw encodeError(e, options.file);
  } finally {
    for (const s of streams) {
      s.done();
      if (options.sources === undefined) s.drop(); // this call's own copy
    }
  }
}

function encodeRequest(table: Table | RecordBatch, options: EncodeParquetOptions): RawEncodeRequest {
  checkEncodable(table.schema, options.file);
  const t = withoutSecondTimestamps(new Table(table.schema, (table instanceof RecordBatch ? [table] : table.batches).map(batchWithKnownNullCounts)));
  return {
    ipc: tableToIPC(t, 'stream'),
    compression: options.compression ?? 'zstd',
    rowGroupSize: options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE,
    metadata: options.metadata,
    keyColumns: options.keyColumns,
    createdBy: createdBy(),
    encodings: (options.dictionary ?? 'auto') === 'auto' ? chooseColumnEncodings(t) : [],
  };
}

/**
 * Refuses, before any work, a column nested deeper than both codecs' Arrow IPC reader takes (it failed
 * as an Internal "DepthLimitReached" from arrow-rs): InvalidArgument `LIMIT_EXCEEDED`.
 */
function checkEncodable(schema: Schema, file: string | undefined): void {
  checkSchemaDepth(schema, `could not encode Parquet${file ? ` file '${file}'` : ''}`);
}

/** The writer named in a file's footer: the codec that encodes it. */
function createdBy(): string {
  const native = nativeParquet();
  return native ? `lakesoul-ts (parquet-rs ${native.version})` : 'lakesoul-ts (parquet-wasm 0.8.0)';
}

function encodeError(e: unknown, file: string | undefined): LakeSoulError {
  return new LakeSoulError('Internal', `could not encode Parquet${file ? ` file '${file}'` : ''}: ${errorMessage(e)}`, {
    context: { file },
    cause: e,
  });
}

/** The type with every timestamp[s] (at any nesting depth) replaced by timestamp[ms], or null if none. */
function secondsToMillis(type: DataType): DataType | null {
  if (type.typeId === Type.Timestamp && (type as Timestamp).unit === TimeUnit.SECOND) {
    return new Timestamp(TimeUnit.MILLISECOND, (type as Timestamp).timezone);
  }
  const children = type.children;
  if (!children || children.length === 0) return null;
  const mapped = children.map((f: Field) => secondsToMillis(f.type));
  if (mapped.every((m: DataType | null) => m === null)) return null;
  const fields = children.map((f: Field, k: number) => (mapped[k] === null ? f : new Field(f.name, mapped[k]!, f.nullable, f.metadata)));
  switch (type.typeId) {
    case Type.Struct:
      return new Struct(fields);
    case Type.List:
      return new List(fields[0]);
    case Type.FixedSizeList:
      return new FixedSizeList((type as FixedSizeList).listSize, fields[0]);
    default:
      return null;
  }
}

/**
 * Parquet has no seconds unit: arrow-rs would store timestamp[s] as a bare INT64 that other engines
 * (DuckDB, Spark) read as a number. Write such columns as timestamp[ms] instead (exact);
 * castTableToSchema converts them back.
 */
function withoutSecondTimestamps(t: Table): Table {
  const mapped = t.schema.fields.map((f) => secondsToMillis(f.type));
  if (mapped.every((m) => m === null)) return t;
  const fields = t.schema.fields.map((f, k) => (mapped[k] === null ? f : new Field(f.name, mapped[k]!, f.nullable, f.metadata)));
  const schema = new Schema(fields, t.schema.metadata);
  return new Table(
    schema,
    t.batches.map((b) =>
      makeBatch(schema, fields.map((f, k) => (mapped[k] === null ? (b.data.children[k] as Data) : castData(b.data.children[k] as Data, f.type, { column: f.name }))), b.numRows),
    ),
  );
}

/** Options of {@link decodeParquet}. */
export interface DecodeParquetOptions {
  /** Top-level columns to read (default all). An unknown name is InvalidArgument naming it and the file. */
  columns?: string[];
  /** Row groups to read, by index (default all). */
  rowGroups?: number[];
  /** Rows per decoded batch (default 64Ki). */
  batchSize?: number;
  /** File name for messages. */
  file?: string;
  /**
   * The file's footer, already decoded (`readParquetFooter`): not decoded again. A file read row group
   * by row group otherwise decodes its footer once per group, which grows with the file (at 123 row
   * groups a file, 11% of a scan's main thread).
   */
  footer?: ParquetFooter;
  /** Decode on this pool (default: on the calling thread). */
  pool?: ParquetPool | null;
  /**
   * With a pool of worker threads: the caller gives `bytes` (or a sparse file's pieces) up, so
   * buffers move to the worker without a copy (they are unusable afterwards). Default false: the
   * worker gets copies.
   */
  transferBytes?: boolean;
  signal?: AbortSignal;
}

/** Default rows per batch of {@link decodeParquet}. */
export const DEFAULT_DECODE_BATCH_SIZE = 64 * 1024;

/**
 * Decode Parquet bytes (or a {@link SparseParquetFile}) to an Arrow table, honouring projection and row-group selection (through
 * parquet-wasm's `ParquetFile`; its plain `readParquet` ignores `columns`). Columns come back in the
 * file's order. Non-Parquet bytes are an Unsupported "unsupported file format" error naming the file;
 * corrupt data is an Io error naming it.
 */
export async function decodeParquet(bytes: Uint8Array | SparseParquetFile, options: DecodeParquetOptions = {}): Promise<Table> {
  const { file } = options;
  const tail = bytes instanceof Uint8Array ? bytes : sparseTail(bytes, file);
  const size = bytes instanceof Uint8Array ? bytes.length : bytes.size;
  assertParquetMagic(tail, file, tail.length < size);
  const len = new DataView(tail.buffer, tail.byteOffset + tail.length - 8, 4).getUint32(0, true);
  if (len + 12 > size || len + 8 > tail.length) throw new LakeSoulError('Io', `corrupt Parquet footer in '${file ?? '<bytes>'}'`, { context: { file } });
  const footer = options.footer ?? decodeFileMetaData(tail.subarray(tail.length - 8 - len, tail.length - 8), file);
  // (Sets: a search of one list per column of the other costs 10^8 comparisons at 10,000 columns)
  const inFile = new Set(footer.columns);
  if (options.columns !== undefined) {
    for (const c of options.columns) {
      if (!inFile.has(c)) {
        throw new LakeSoulError('InvalidArgument', `column '${c}' is not in file '${file ?? '<bytes>'}' (columns: ${footer.columns.join(', ')})`, {
          context: { file, column: c },
        });
      }
    }
  }
  if (options.rowGroups !== undefined) {
    for (const g of options.rowGroups) {
      if (!Number.isInteger(g) || g < 0 || g >= footer.rowGroups.length) {
        throw new LakeSoulError('InvalidArgument', `row group ${g} is not in file '${file ?? '<bytes>'}' (${footer.rowGroups.length} row groups)`, {
          context: { file },
        });
      }
    }
  }
  const batchSize = options.batchSize ?? DEFAULT_DECODE_BATCH_SIZE;
  if (options.columns !== undefined && options.columns.length === 0) {
    const rows = (options.rowGroups ?? footer.rowGroups.map((_, i) => i)).reduce((s, g) => s + footer.rowGroups[g].numRows, 0);
    return new Table(makeBatch(new Schema([]), [], rows));
  }
  const allColumns = options.columns === undefined || (options.columns.length === footer.columns.length && new Set(options.columns).size === inFile.size);
  const req = {
    bytes,
    columns: allColumns ? undefined : options.columns,
    // (a file without columns goes through the row-group reader, which reports its row count)
    rowGroups: options.rowGroups ?? (footer.columns.length === 0 ? footer.rowGroups.map((_, i) => i) : undefined),
    batchSize,
  };
  try {
    let ipc: Uint8Array;
    if (options.pool instanceof NativeParquetPool) {
      ipc = await options.pool.run({ op: 'decode', ...req }, { signal: options.signal });
    } else if (options.pool) {
      const transfer: ArrayBuffer[] = [];
      const sent = bytes instanceof Uint8Array ? sendable(bytes, options.transferBytes === true, transfer) : { size: bytes.size, pieces: bytes.pieces.map((p) => ({ offset: p.offset, bytes: sendable(p.bytes, options.transferBytes === true, transfer) })) };
      ipc = await options.pool.run({ op: 'decode', ...req, bytes: sent }, { transfer, signal: options.signal });
    } else {
      ipc = await decodeHere(req);
    }
    const table = tableFromIPC(ipc);
    return options.columns !== undefined ? reorder(table, options.columns) : table;
  } catch (e) {
    if (e instanceof LakeSoulError && e.code !== WORKER_TASK_FAILED) throw e;
    throw new LakeSoulError('Io', `could not decode Parquet file '${file ?? '<bytes>'}': ${errorMessage(e)}`, {
      code: 'CORRUPT_FILE',
      context: { file },
      cause: e,
    });
  }
}

/**
 * Whether decoding reads a file's page index (ColumnIndex / OffsetIndex) when its footer points at
 * it, so a sparse copy of the file must hold it: parquet-wasm does; the native codec does not (it
 * leaves the page index unread, arrow-rs's default).
 */
export function decoderReadsPageIndex(): boolean {
  return nativeParquet() === null;
}

/** Decodes on the calling thread, with the native codec when it is there. */
function decodeHere(req: RawDecodeRequest): Promise<Uint8Array> | Uint8Array {
  const native = nativeParquet();
  return native ? native.decodeSync(req) : decodeToIPC(req);
}

/**
 * `b` as sent to a worker: moved when the caller gave it up and it spans its whole buffer, else a copy
 * of just the view (posting a view copies its whole underlying buffer). The copy is a Uint8Array's:
 * a Node Buffer's `slice()` (an S3 response's bytes) is a view of the same memory, whose buffer was
 * then listed twice for transfer ("Transfer list contains duplicate ArrayBuffer").
 */
function sendable(b: Uint8Array, give: boolean, transfer: ArrayBuffer[]): Uint8Array {
  const own = give && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer && !transfer.includes(b.buffer);
  const sent = own ? b : new Uint8Array(b);
  transfer.push(sent.buffer as ArrayBuffer);
  return sent;
}

/** The piece of a sparse file that ends at its end (it holds the footer). */
function sparseTail(f: SparseParquetFile, file: string | undefined): Uint8Array {
  const p = f.pieces.find((x) => x.offset + x.bytes.length === f.size);
  if (!p) throw new LakeSoulError('Internal', `a sparse copy of '${file ?? '<bytes>'}' lacks the file's tail`, { context: { file } });
  return p.bytes;
}

function reorder(table: Table, columns: string[]): Table {
  const names = table.schema.fields.map((f) => f.name);
  if (names.length === columns.length && names.every((n, i) => n === columns[i])) return table;
  return table.select(columns as any) as Table;
}

/** Options of {@link castTableToSchema}. */
export interface CastTableOptions {
  /** File name for messages. */
  file?: string;
  /** What to do with a schema field the table lacks: 'error' (default), 'omit' it, or fill with 'null'. */
  missing?: 'error' | 'omit' | 'null';
}

/**
 * Conform a decoded table to `schema` exactly: columns by name in the schema's order, each converted
 * losslessly to the schema's type (Parquet round trips may change int widths, unsigned types, dates,
 * timestamp units/timezones, large_utf8, fixed_size_list, decimal precision, dictionary encoding; a
 * date64, time32[s] or duration column whose file declares no such Arrow type decodes to its bare
 * integers, which the schema's type then takes: {@link CastContext.parquetStorage}).
 * A column that cannot be converted is a SchemaMismatch naming the column and the file.
 */
export function castTableToSchema(table: Table, schema: Schema, options: CastTableOptions = {}): Table {
  const missing = options.missing ?? 'error';
  const fields: Field[] = [];
  const plan: { field: Field; index: number }[] = [];
  // the table's columns by name (the first of a name), looked up once per field, not searched
  const indexOf = new Map<string, number>();
  table.schema.fields.forEach((f, i) => indexOf.has(f.name) || indexOf.set(f.name, i));
  for (const field of schema.fields) {
    const index = indexOf.get(field.name) ?? -1;
    if (index < 0) {
      if (missing === 'omit') continue;
      if (missing === 'error') {
        throw new LakeSoulError('SchemaMismatch', `column '${field.name}' is missing from file '${options.file ?? '<bytes>'}'`, {
          context: { column: field.name, file: options.file },
        });
      }
    }
    fields.push(field);
    plan.push({ field, index });
  }
  const outSchema = new Schema(fields, schema.metadata);
  const batches = table.batches.map((b) => {
    const cols: Data[] = plan.map(({ field, index }) =>
      index < 0
        ? gatherData(field.type, [], null, new Int32Array(b.numRows).fill(-1))
        : castData(b.data.children[index] as Data, field.type, { column: field.name, file: options.file, parquetStorage: true }),
    );
    return makeBatch(outSchema, cols, b.numRows);
  });
  return new Table(outSchema, batches);
}
