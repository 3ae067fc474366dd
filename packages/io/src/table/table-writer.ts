/**
 * The write path (DESIGN "Write path"): validate -> group by range partition -> bucket by PK hash ->
 * stable sort by PK -> Parquet (zstd) -> object store -> one catalog commit.
 *
 * Atomicity: files are uploaded first and become visible only through the single commit at the end.
 * Any failure before the commit (validation, encoding, upload, abort) deletes the files written so far
 * (best effort) and commits nothing.
 */
import { DataType, Field, RecordBatch, Schema, Table, Type, Utf8, type Data, type Dictionary, type Float, type Int, type Vector } from 'apache-arrow';
import { LakeSoulError, inputText, mergeSchemas, nestedEvolutionProblem, type CommitOp, type CommitResult, type CommitSchema, type DataFileOp, type PartitionCommit, type PartitionSnapshot } from '@lakesoul-ts/meta';
import { checkRangePartitionType, decodePartitionDesc, decodePartitionValue, encodePartitionDesc, encodePartitionValue, hasRangeTextVariants, isNullRangeText, partitionDescKey, rangeValueKey } from '@lakesoul-ts/meta';
import { evaluateFilter, filterColumns, normalizeFilter } from '../filter/index.js';
import type { WriteInput, WriteOptions, WriteResult } from '../types.js';
import { concatBatches, gatherData, inferSchema, matchWords, makeBatch, nullColumn, projectBatch, recordsToBatch, sliceBatch, sortIndicesByPk, takeRows, validateAgainstSchema } from '../arrow/index.js';
import { foreignArrowClass, foreignArrowError } from '../arrow/foreign-arrow.js';
import { computeBuckets } from '../hash/index.js';
import { bucketRuleOf } from './bucket-rule.js';
import { existingColumns, fileColumnListing } from './exist-cols.js';
import { encodeParquet, encodeParquetInPool, encodeRowsInPool, DEFAULT_ROW_GROUP_SIZE, type RowSelection, type RowSource } from '../parquet/index.js';
import { NativeParquetPool, sharedParquetPool, poolForSize, type ParquetPool } from '../workers/index.js';
import {
  checkAborted,
  checkFilesExist,
  inTableTerms,
  commitSurelyFailed,
  dataFileUri,
  deleteUrisBestEffort,
  writeUri,
  type TableContext,
} from './table-context.js';
import { constantColumn, constantVector, rangeValueCodes, rangeValueText } from './partition-values.js';
import { growHeapForTableWork } from '../heap-growth.js';
import { isNoAnswerError } from '../store/store-errors.js';

/** Default file roll size: 128 MiB of (uncompressed) Arrow data per file. */
export const DEFAULT_TARGET_FILE_SIZE = 128 * 1024 * 1024;
/** Default bound on Arrow bytes buffered across all (partition, bucket) groups before a flush. */
export const DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024 * 1024;

/**
 * Largest `rowGroupSize` a write takes: the native Parquet codec takes the row count as an unsigned
 * 32-bit integer and parquet-wasm as a wasm32 `usize`; 2^31 - 1 fits both.
 */
export const MAX_ROW_GROUP_SIZE = 2 ** 31 - 1;

/** The numeric options of a write and their largest values (each a whole number of at least 1). */
const SIZE_OPTIONS = [
  ['targetFileSize', Number.MAX_SAFE_INTEGER],
  ['maxBufferedBytes', Number.MAX_SAFE_INTEGER],
  ['rowGroupSize', MAX_ROW_GROUP_SIZE],
] as const;

/**
 * Refuses a numeric write option that is no whole number from 1 to its largest value, before
 * anything is written: NaN, text or a negative size made the writer cut files of no rows and
 * commit them with every row lost, and 0 or -1 wrote a file per row.
 * @throws LakeSoulError InvalidArgument `INVALID_OPTION_VALUE` naming the option (`context.option`) and the value.
 */
function checkWriteSizes(options: Pick<TableWriteOptions, 'targetFileSize' | 'maxBufferedBytes' | 'rowGroupSize'>, table: string): void {
  for (const [option, max] of SIZE_OPTIONS) {
    const v: unknown = options[option];
    if (v === undefined || (Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= max)) continue;
    const shown = typeof v === 'string' ? `'${v}'` : typeof v === 'bigint' ? `${v}n` : String(v);
    throw new LakeSoulError('InvalidArgument', `write to table '${table}': ${option} must be a whole number from 1 to ${max}, got ${shown}`, {
      code: 'INVALID_OPTION_VALUE',
      context: { table, option },
    });
  }
}

/** Options of {@link LakeSoulTable.write} beyond the contract's {@link WriteOptions}. */
export interface TableWriteOptions extends WriteOptions {
  /** Bound on Arrow bytes buffered before the largest group is flushed to a file (default 256 MiB; a whole number from 1). */
  maxBufferedBytes?: number;
  /**
   * `strict` (default): a column the table lacks is UNKNOWN_COLUMN. `merge`: such columns are added
   * to the table as nullable (types from the Arrow data, or inferred from plain objects), and
   * columns the data holds in a wider type are widened (int32 -> int64, float32 -> float64), in the
   * catalog just before the data commits; old files read the new columns as null.
   */
  schemaMode?: 'strict' | 'merge';
  /** Rows per Parquet row group (default: the parquet area's DEFAULT_ROW_GROUP_SIZE; a whole number from 1 to 2^31 - 1). */
  rowGroupSize?: number;
}

/** A data file written (not yet committed). */
export interface WrittenFile {
  path: string;
  size: bigint;
  rows: number;
  partitionDesc: string;
  bucket: number | null;
  existCols: string[];
}

/**
 * Data files written and uploaded but not committed (see table-staging.ts): what one write would have
 * committed. Plain data, so a holder can keep it until it commits or discards it.
 */
export interface StagedWrite {
  /** The table written (a staged write commits only into this table id). */
  tableId: string;
  /** The commit the write would have made. */
  op: CommitOp;
  /** Per partition, the file_ops to commit. */
  partitions: PartitionCommit[];
  /** The uploaded files (deleted by a discard). */
  files: WrittenFile[];
  /** Rows written. */
  rows: number;
  /**
   * Set when staged under an overwrite plan (`LakeSoulTable.planOverwrite`): `partitions` then hold only the
   * added files, and the commit (`commitStaged(staged, { overwrite: plan })`) adds the deletes.
   */
  plan?: OverwritePlan;
  /** The table schema the files were written under (checked, or evolved, by the commit). */
  schema?: CommitSchema;
}

/**
 * An overwrite planned now and written later, possibly by several staged writes (Flight transactions
 * in mode overwrite): the partitions it replaces, as read when planned. Their files are deleted by the
 * one UpdateCommit that commits the staged writes, with the versions read as its readVersion, so
 * files committed to them after the plan survive (the catalog forms [new] ++ (current - read)).
 */
export interface OverwritePlan {
  /** The table planned (the plan commits only into this table id). */
  readonly tableId: string;
  /** The partitions replaced, as read when planned. */
  readonly partitions: readonly PartitionSnapshot[];
  /** Whether rows of partition `partitionDesc` belong to the partitions replaced (others are OUTSIDE_OVERWRITE). */
  selects(partitionDesc: string): boolean;
}

/** Approximate in-memory size of a batch. */
export function batchBytes(batch: RecordBatch): number {
  let n = 0;
  for (const c of batch.data.children) n += c.byteLength;
  return n;
}

function isTableOrBatch(x: unknown): x is Table | RecordBatch {
  return x instanceof Table || x instanceof RecordBatch;
}

function isRecordArray(x: unknown): x is readonly Record<string, unknown>[] {
  return Array.isArray(x) && x.length > 0 && !x.some(isTableOrBatch);
}

/** Rows of an input batch converted and buffered at a time (larger batches are sliced). */
export const WRITE_SLICE_ROWS = 1 << 20;

/**
 * Normalizes every accepted input shape to a stream of record batches. Plain objects (an array of
 * them, one per row) are encoded exactly to the types of `schema` (the value codec; a key not in the
 * schema is UNKNOWN_COLUMN, a value that does not convert exactly VALUE_NOT_CONVERTIBLE, both naming
 * the row and column); columns no object has are left out (a partial-column write).
 */
export async function* inputBatches(input: WriteInput | AsyncIterable<RecordBatch>, schema?: Schema, table?: string): AsyncGenerator<RecordBatch> {
  // Batches are taken WRITE_SLICE_ROWS rows at a time (zero-copy slices): what one batch turns into
  // after conversion is then bounded whatever it holds (2^29 rows of an Arrow null column are an empty
  // IPC body, and were 6 GB once converted to the table's string column in one piece).
  const sliced = function* (b: RecordBatch): Generator<RecordBatch> {
    if (b.numRows <= WRITE_SLICE_ROWS) {
      if (b.numRows > 0) yield b;
      return;
    }
    for (let at = 0; at < b.numRows; at += WRITE_SLICE_ROWS) yield b.slice(at, Math.min(b.numRows, at + WRITE_SLICE_ROWS));
  };
  const one = function* (x: Table | RecordBatch): Generator<RecordBatch> {
    if (x instanceof RecordBatch) yield* sliced(x);
    else for (const b of x.batches) yield* sliced(b);
  };
  // Arrow data of another apache-arrow copy: refused as what it is (an older copy's Table is no
  // instanceof Table but iterable, its rows; a newer one's passes instanceof, its types io's visitors do not know)
  const foreign = foreignArrowError(input, `write input${table ? ` for table '${table}'` : ''}`, table)
    ?? (Array.isArray(input) ? foreignArrowError(input[0], `write input item 0${table ? ` for table '${table}'` : ''}`, table) : undefined);
  if (foreign) throw foreign;
  if (isTableOrBatch(input)) {
    yield* one(input);
    return;
  }
  if (isRecordArray(input)) {
    if (!schema) throw new LakeSoulError('InvalidArgument', 'writing plain objects needs the table schema');
    yield recordsToBatch(input, schema, { table, omitMissing: true });
    return;
  }
  const notArrow = (x: unknown) => foreignArrowError(x, `write input item${table ? ` for table '${table}'` : ''}`, table) ??
    new LakeSoulError('InvalidArgument', `write input items${table ? ` for table '${table}'` : ''} must be Arrow Tables or RecordBatches (or write one array of plain objects)`, {
      context: { table },
    });
  if (input && typeof (input as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    for await (const x of input as AsyncIterable<Table | RecordBatch>) {
      if (!isTableOrBatch(x) || foreignArrowClass(x)) throw notArrow(x);
      yield* one(x);
    }
    return;
  }
  if (input && typeof (input as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const x of input as Iterable<Table | RecordBatch>) {
      if (!isTableOrBatch(x) || foreignArrowClass(x)) throw notArrow(x);
      yield* one(x);
    }
    return;
  }
  throw new LakeSoulError('InvalidArgument', 'write input must be an Arrow Table, a RecordBatch, an array of plain objects, or an (async) iterable of Tables/RecordBatches', {
    context: { table },
  });
}

/**
 * Uploads of one write in flight at most: 200 files of 20 KB took 370 ms to a local disk one at a
 * time (open, write, fsync, rename, directory fsync), 220 ms two at a time, 90-100 ms 8-16 at a time.
 */
export const MAX_UPLOADS_IN_FLIGHT = 16;
/** Bytes of one write's uploads in flight at most (beyond one file, which always may start). */
export const UPLOAD_BYTES_IN_FLIGHT = 32 * 1024 * 1024;

/** Batches with fewer rows than this are encoded on the calling thread when the pool is of worker threads: a round trip would cost more. */
export const POOL_ENCODE_MIN_ROWS = 8192;

/**
 * Encodes and uploads data files, keeping the list of what was written so a failed operation can
 * remove it. {@link FileSink.write} encodes on the calling thread and returns the file;
 * {@link FileSink.enqueue} encodes on the Parquet worker pool when one is at hand, so several files
 * (a write's buckets and partitions) encode in parallel while the caller gathers the next one. Uploads
 * overlap with the encoding. `files` keeps the order files were submitted in (later = newer within a
 * bucket); read it after {@link FileSink.settle}.
 */
export class FileSink {
  readonly files: WrittenFile[] = [];
  /** Encodes (and their hand-off to the uploads) in flight. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Uploads in flight (they never reject: a failure is kept in `failure`), and their bytes. */
  private readonly uploads = new Set<Promise<void>>();
  private uploadBytes = 0;
  private readonly uris: string[] = [];
  private failure: unknown;
  /** When the first file of this sink was begun (epoch ms), undefined before. */
  firstFileAt: number | undefined;

  constructor(
    private readonly ctx: TableContext,
    private readonly signal: AbortSignal | undefined,
    private readonly rowGroupSize: number = DEFAULT_ROW_GROUP_SIZE,
    private readonly pool: ParquetPool | null = null,
  ) {}

  /** Encodes `batch` (no range columns; sorted already when needed) to one file here and starts its upload. */
  async write(batch: RecordBatch, partitionDesc: string, bucket: number | null, existCols: string[]): Promise<WrittenFile> {
    const { uri, place } = this.begin(partitionDesc, bucket);
    let bytes: Uint8Array;
    try {
      bytes = encodeParquet(batch, this.encodeOptions(uri));
    } catch (e) {
      throw this.encodeFailure(e, partitionDesc, uri);
    }
    const file = place(bytes, batch.numRows, existCols);
    await this.startUpload(uri, bytes);
    if (this.failure !== undefined) throw this.failure;
    return file;
  }

  /**
   * Like {@link FileSink.write}, but encodes on the worker pool (batches of at least
   * {@link POOL_ENCODE_MIN_ROWS} rows) and returns once fewer than the pool's size plus one files are
   * being encoded or uploaded. A failure surfaces at a later call or at {@link FileSink.settle}.
   */
  async enqueue(batch: RecordBatch, partitionDesc: string, bucket: number | null, existCols: string[]): Promise<void> {
    const pool = poolForSize(this.pool, batch.numRows, POOL_ENCODE_MIN_ROWS);
    if (pool === null) {
      await this.write(batch, partitionDesc, bucket, existCols);
      return;
    }
    const { uri, place } = this.begin(partitionDesc, bucket);
    const encoded = encodeParquetInPool(batch, pool, { ...this.encodeOptions(uri), signal: this.signal });
    await this.track(this.placed(encoded, uri, place, batch.numRows, existCols, partitionDesc), pool.size + 1);
  }

  /**
   * Whether {@link FileSink.enqueueRows} can be used: the pool is the native codec's, which takes a
   * file's rows from their input batches itself.
   */
  get takesRows(): boolean {
    return this.pool instanceof NativeParquetPool;
  }

  /**
   * Like {@link FileSink.enqueue} for the rows `selection` picks (sorted already when needed), taken
   * from their batches inside the native encode; only when {@link FileSink.takesRows}.
   */
  async enqueueRows(selection: RowSelection, partitionDesc: string, bucket: number | null, existCols: string[]): Promise<void> {
    const pool = this.pool as NativeParquetPool;
    const { uri, place } = this.begin(partitionDesc, bucket);
    const encoded = encodeRowsInPool(selection, pool, { ...this.encodeOptions(uri), signal: this.signal, sources: this.rowSources });
    // a waiting task holds only its row indexes (the rows stay in their batch), so the caller may
    // sort the next groups while the pool is busy
    await this.track(this.placed(encoded, uri, place, selection.rows.length, existCols, partitionDesc), 2 * pool.size + 1);
  }

  /**
   * The input batches' IPC copies {@link FileSink.enqueueRows} made, by batch: the writer drops a
   * batch's copy once no group holds rows of it ({@link FileSink.dropRowSource}; running encodes keep
   * their own reference).
   */
  readonly rowSources = new Map<RecordBatch, RowSource>();

  /** Drops the copy of `batch` (no group holds rows of it any more). */
  dropRowSource(batch: RecordBatch): void {
    this.rowSources.get(batch)?.drop();
    this.rowSources.delete(batch);
  }

  /** Drops every copy left (the write ends). */
  private dropRowSources(): void {
    for (const s of this.rowSources.values()) s.drop();
    this.rowSources.clear();
  }

  private encodeOptions(uri: string): { compression: 'zstd'; rowGroupSize: number; keyColumns: readonly string[]; file: string } {
    return { compression: 'zstd', rowGroupSize: this.rowGroupSize, keyColumns: this.ctx.info.primaryKeys, file: uri };
  }

  /** `encoded` placed in `files` and uploaded; an encode failure named for the table and partition. */
  private placed(encoded: Promise<Uint8Array>, uri: string, place: (bytes: Uint8Array, rows: number, existCols: string[]) => WrittenFile, rows: number, existCols: string[], partitionDesc: string): Promise<void> {
    return encoded.then(
      (bytes) => {
        place(bytes, rows, existCols);
        return this.startUpload(uri, bytes);
      },
      (e) => { throw this.encodeFailure(e, partitionDesc, uri); },
    );
  }

  /** Waits for every encode and upload; throws the first failure. */
  async settle(): Promise<void> {
    await this.drain();
    this.dropRowSources();
    if (this.failure !== undefined) throw this.failure;
  }

  /**
   * Waits for encodes and uploads (ignoring failures) and deletes everything written; not when an
   * upload failed for want of any answer from the store, or `cause` (what ended the write after its
   * uploads: a check of its files) did (its deletes would wait as long again, and the write's error
   * would come twice as late): those files are orphans for cleanup().
   */
  async discard(cause?: unknown): Promise<void> {
    await this.drain();
    this.dropRowSources();
    if (isNoAnswerError(this.failure) || isNoAnswerError(cause)) return;
    await deleteUrisBestEffort(this.ctx.stores, this.uris);
  }

  private async drain(): Promise<void> {
    while (this.inFlight.size > 0 || this.uploads.size > 0) await Promise.allSettled([...this.inFlight, ...this.uploads]);
  }

  /**
   * Starts uploading a file once the uploads in flight leave room ({@link MAX_UPLOADS_IN_FLIGHT},
   * {@link UPLOAD_BYTES_IN_FLIGHT}; one file however large), and returns then: small files upload many
   * at a time, so the store's latency per file (a local disk's fsyncs, an object store's round trip)
   * overlaps instead of adding up over a write of many partitions. A failure surfaces at a later call
   * or at {@link FileSink.settle}.
   */
  private async startUpload(uri: string, bytes: Uint8Array): Promise<void> {
    const size = bytes.byteLength;
    while (this.uploads.size > 0 && (this.uploads.size >= MAX_UPLOADS_IN_FLIGHT || this.uploadBytes + size > UPLOAD_BYTES_IN_FLIGHT)) await Promise.race(this.uploads);
    if (this.failure !== undefined) return; // the write fails: start nothing more
    this.uploadBytes += size;
    const p: Promise<void> = this.upload(uri, bytes).then(
      () => undefined,
      (e: unknown) => { this.failure ??= e; },
    ).finally(() => {
      this.uploads.delete(p);
      this.uploadBytes -= size;
    });
    this.uploads.add(p);
  }

  /** Checks the state, names the next file, and reserves its place in `files` (submission order). */
  private begin(partitionDesc: string, bucket: number | null): { uri: string; place: (bytes: Uint8Array, rows: number, existCols: string[]) => WrittenFile } {
    checkAborted(this.signal, `write to ${this.ctx.info.name}`);
    if (this.failure !== undefined) throw this.failure;
    this.firstFileAt ??= Date.now();
    const info = this.ctx.info;
    let uri: string;
    try {
      uri = dataFileUri(info.path, partitionDesc, info.rangePartitions, bucket ?? 0);
    } catch (e) {
      if (!LakeSoulError.hasCode(e, 'INVALID_PARTITION_VALUE') && !LakeSoulError.hasCode(e, 'PATH_TOO_LONG')) throw e;
      throw new LakeSoulError(e.kind, `write to table '${info.name}': ${e.message}`, { code: e.code, cause: e, context: { ...e.context, table: info.name } });
    }
    this.uris.push(uri);
    const index = this.files.length;
    this.files.length++;
    return {
      uri,
      place: (bytes, rows, existCols) => (this.files[index] = { path: uri, size: BigInt(bytes.byteLength), rows, partitionDesc, bucket, existCols }),
    };
  }

  private upload(uri: string, bytes: Uint8Array): Promise<void> {
    // a new file's name, read by nothing before the commit that names it
    return writeUri(this.ctx.stores, uri, bytes, this.signal, { fresh: true });
  }

  /** Keeps `task` in flight (its failure recorded), then waits while `limit` or more are. */
  private async track(task: Promise<void>, limit: number): Promise<void> {
    const p: Promise<void> = task.then(
      () => { this.inFlight.delete(p); },
      (e) => { this.inFlight.delete(p); this.failure ??= e; },
    );
    this.inFlight.add(p);
    while (this.inFlight.size >= limit) await Promise.race(this.inFlight);
    if (this.failure !== undefined) throw this.failure;
  }

  private encodeFailure(e: unknown, partitionDesc: string, uri: string): unknown {
    const info = this.ctx.info;
    if (LakeSoulError.is(e)) {
      e.context.table ??= info.name;
      e.context.partition ??= partitionDesc;
      return e;
    }
    return new LakeSoulError('Internal', `encoding a Parquet file of table '${info.name}' failed: ${(e as Error).message}`, {
      cause: e,
      context: { table: info.name, partition: partitionDesc, file: uri },
    });
  }
}

/** The file_ops of `files` grouped per partition (in write order). */
export function partitionCommits(files: WrittenFile[], extra?: Map<string, DataFileOp[]>, readVersions?: Map<string, number>): PartitionCommit[] {
  const by = new Map<string, DataFileOp[]>();
  for (const [desc, ops] of extra ?? []) by.set(desc, [...ops]);
  for (const f of files) {
    let ops = by.get(f.partitionDesc);
    if (!ops) by.set(f.partitionDesc, (ops = []));
    ops.push({ path: f.path, op: 'add', size: f.size, existCols: f.existCols });
  }
  return [...by].map(([partitionDesc, ops]) => {
    const pc: PartitionCommit = { partitionDesc, files: ops };
    const rv = readVersions?.get(partitionDesc);
    if (rv !== undefined) pc.readVersion = rv;
    return pc;
  });
}

/**
 * How old a write's first file must be for its commit to check that its files are still there (one
 * HEAD each, 16 at once): shorter writes are not worth the round trips (a cleanup whose orphan window
 * is under a second deletes files of writes in flight whatever is checked).
 */
const CHECK_FILES_AFTER_MS = 1000;

/**
 * Runs `catalog.commit`, deleting the files when the commit surely failed. `schema` says what table
 * schema the files were made under (checked in the commit's transaction).
 */
export async function commitFiles(
  ctx: TableContext,
  sink: FileSink,
  op: CommitOp,
  partitions: PartitionCommit[],
  signal: AbortSignal | undefined,
  schema: CommitSchema,
): Promise<CommitResult> {
  try {
    checkAborted(signal, `commit to ${ctx.info.name}`);
    // A write that took long enough for a cleanup with a short orphan window to take its first files
    // for orphans finds them gone here, not in every later read of the partition.
    const since = sink.firstFileAt;
    if (since !== undefined && Date.now() - since >= CHECK_FILES_AFTER_MS) await checkFilesExist(ctx, sink.files.filter(Boolean), 'write', signal);
  } catch (e) {
    // nothing was sent to the catalog: whatever failed (a HEAD refused too), the files go, unless the
    // store did not answer the check (the deletes would wait out its timeouts again)
    await sink.discard(e);
    throw e;
  }
  try {
    return await ctx.catalog.commit({ tableId: ctx.info.tableId, op, partitions, signal, schema });
  } catch (e) {
    if (commitSurelyFailed(e) || LakeSoulError.is(e, 'Aborted')) await sink.discard();
    throw rerunnableRebase(inTableTerms(e, ctx, "the write's files were deleted"));
  }
}

/**
 * `e` as a call that commits should report it: a commit that cannot be rebased over what another
 * writer committed (`COMMIT_REBASE_FAILED`) is retryable when the call reads the partitions anew when
 * run again (said "redo the update", yet retryable false: a client retrying on the flag lost every
 * such update). Other errors are returned as they are.
 */
export function rerunnableRebase(e: unknown): unknown {
  if (!LakeSoulError.hasCode(e, 'COMMIT_REBASE_FAILED') || e.retryable) return e;
  return new LakeSoulError(e.kind, `${e.message} (nothing was committed; the call can be run again as it is: it reads the table anew)`, {
    code: e.code, retryable: true, context: e.context, cause: e,
  });
}

/** Rows of one input batch that belong to a group: all of them, in order, when `rows` is null. */
interface GroupPart {
  batch: RecordBatch;
  rows: Int32Array | null;
  /** The input batch whose memory the part keeps (`batch` or the batch it is a slice of). */
  source: RecordBatch;
}

interface Group {
  partitionDesc: string;
  bucket: number | null;
  parts: GroupPart[];
  bytes: number;
  rows: number;
}

/**
 * The rows of a group's parts as one batch, sorted by `primaryKeys` (stable) when given. Rows are
 * located first and every column is gathered once, from all input batches at the same time (no
 * per-part copy, no concatenation, no second gather for the sort).
 */
function gatherGroup(parts: readonly GroupPart[], primaryKeys: readonly string[] | null): RecordBatch {
  const first = parts[0].batch;
  const schema = first.schema;
  if (parts.length === 1 && parts[0].rows === null) {
    if (primaryKeys === null) return first;
    const order = sortIndicesByPk(first, primaryKeys);
    return isIdentity(order) ? first : takeRows(first, order);
  }
  if (needsCopyFirst(parts)) {
    // dictionary columns of different batches may not share their dictionary: copy, then sort
    const whole = concatBatches(parts.map((p) => (p.rows === null ? p.batch : takeRows(p.batch, p.rows))));
    return gatherGroup([{ batch: whole, rows: null, source: whole }], primaryKeys);
  }
  const { sources, src, rows } = groupSelection(parts, primaryKeys);
  const columnsOf = (k: number): Data[] => sources.map((b) => b.data.children[k] as Data);
  return makeBatch(schema, schema.fields.map((f, k) => gatherData(f.type, columnsOf(k), src, rows)), rows.length);
}

/** Whether the parts come from several batches with a dictionary column (they may not share it). */
function needsCopyFirst(parts: readonly GroupPart[]): boolean {
  return parts.some((p) => p.batch !== parts[0].batch) && parts[0].batch.schema.fields.some((f) => DataType.isDictionary(f.type));
}

/**
 * A group as a file to write: the whole batch when it is one in order, else the rows of its parts
 * (sorted by `primaryKeys` when given) for {@link FileSink.enqueueRows}.
 */
function groupFile(parts: readonly GroupPart[], primaryKeys: readonly string[] | null): RecordBatch | RowSelection {
  const first = parts[0].batch;
  if (needsCopyFirst(parts)) return gatherGroup(parts, primaryKeys);
  // keys of signed int32/int64, string and binary columns: sorted inside the encode (pool thread), not here
  const sortKeys = (primaryKeys ?? []).map((name) => first.schema.fields.findIndex((f) => f.name === name));
  const nativeSort = sortKeys.length > 0 && sortKeys.every((k) => k >= 0 && sortsNatively(first.schema.fields[k].type));
  if (parts.length === 1 && parts[0].rows === null) {
    if (primaryKeys === null) return first;
    if (nativeSort) {
      const rows = new Int32Array(first.numRows);
      for (let i = 0; i < rows.length; i++) rows[i] = i;
      return { sources: [first], src: null, rows, sortKeys };
    }
    const order = sortIndicesByPk(first, primaryKeys);
    return isIdentity(order) ? first : { sources: [first], src: null, rows: new Int32Array(order.buffer, order.byteOffset, order.length) };
  }
  return nativeSort ? { ...groupSelection(parts, null), sortKeys } : groupSelection(parts, primaryKeys);
}

/** Whether the native encode sorts by a key column of `type` (`sortKeys`): signed 32/64-bit integers, strings and binaries. */
function sortsNatively(type: DataType): boolean {
  if (DataType.isInt(type)) return (type as Int).isSigned && (type as Int).bitWidth >= 32;
  return DataType.isUtf8(type) || DataType.isLargeUtf8(type) || DataType.isBinary(type) || DataType.isLargeBinary(type);
}

/**
 * The rows of a group's parts located in their batches, sorted by `primaryKeys` (stable) when given:
 * only the key columns are gathered (for the sort).
 */
function groupSelection(parts: readonly GroupPart[], primaryKeys: readonly string[] | null): RowSelection {
  const schema = parts[0].batch.schema;
  const sources: RecordBatch[] = [];
  const sourceOf = new Map<RecordBatch, number>();
  let total = 0;
  for (const p of parts) {
    if (!sourceOf.has(p.batch)) {
      sourceOf.set(p.batch, sources.length);
      sources.push(p.batch);
    }
    total += p.rows === null ? p.batch.numRows : p.rows.length;
  }
  let src = sources.length > 1 ? new Uint32Array(total) : null;
  let rows = new Int32Array(total);
  let at = 0;
  for (const p of parts) {
    const s = sourceOf.get(p.batch)!;
    const n = p.rows === null ? p.batch.numRows : p.rows.length;
    if (src !== null) src.fill(s, at, at + n);
    if (p.rows === null) for (let i = 0; i < n; i++) rows[at + i] = i;
    else rows.set(p.rows, at);
    at += n;
  }
  const columnsOf = (k: number): Data[] => sources.map((b) => b.data.children[k] as Data);
  if (primaryKeys !== null) {
    const ks = primaryKeys.map((name) => schema.fields.findIndex((f) => f.name === name));
    const keyBatch = makeBatch(
      new Schema(ks.map((k) => schema.fields[k])),
      ks.map((k) => gatherData(schema.fields[k].type, columnsOf(k), src, rows)),
      total,
    );
    const order = sortIndicesByPk(keyBatch, primaryKeys);
    if (!isIdentity(order)) {
      const r2 = new Int32Array(total);
      for (let i = 0; i < total; i++) r2[i] = rows[order[i]];
      rows = r2;
      if (src !== null) {
        const s2 = new Uint32Array(total);
        for (let i = 0; i < total; i++) s2[i] = src[order[i]];
        src = s2;
      }
    }
  }
  return { sources, src, rows };
}

function isIdentity(order: Uint32Array): boolean {
  for (let i = 0; i < order.length; i++) if (order[i] !== i) return false;
  return true;
}

function typeName(t: DataType): string {
  return String(t);
}

/** The columns a write provides, checked against the table: unknown, missing and required ones. */
function checkColumns(ctx: TableContext, batch: RecordBatch, allowMissing: boolean): string[] {
  const info = ctx.info;
  const table = info.name;
  const known = new Set(info.schema.fields.map((f) => f.name));
  const given = new Set<string>();
  for (const f of batch.schema.fields) {
    if (!known.has(f.name)) {
      throw new LakeSoulError('SchemaMismatch', `column '${f.name}' is not in the schema of table '${table}'`, {
        code: 'UNKNOWN_COLUMN',
        context: { table, column: f.name },
      });
    }
    if (given.has(f.name)) {
      throw new LakeSoulError('SchemaMismatch', `column '${f.name}' appears twice in the data written to table '${table}'`, {
        context: { table, column: f.name },
      });
    }
    given.add(f.name);
  }
  for (const f of info.schema.fields) {
    if (given.has(f.name)) continue;
    if (f.name === info.cdcColumn) continue; // defaults to 'insert'
    const required = info.primaryKeys.includes(f.name) || info.rangePartitions.includes(f.name) || (!f.nullable && !allowMissing);
    if (required) {
      const why = info.primaryKeys.includes(f.name)
        ? 'primary-key column'
        : info.rangePartitions.includes(f.name)
          ? 'range-partition column'
          : 'non-nullable column';
      throw new LakeSoulError('SchemaMismatch', `${why} '${f.name}' (${typeName(f.type)}) is missing from the data written to table '${table}'`, {
        code: 'MISSING_COLUMN',
        context: { table, column: f.name },
      });
    }
  }
  return info.schema.fields.filter((f) => given.has(f.name)).map((f) => f.name);
}

/**
 * The catalog's list of the columns a file of this write holds ({@link fileColumnListing}), or a
 * SchemaMismatch naming the nested column left out whose leaf name is a column written: the list could
 * not say which of the two the file holds.
 */
function fileColumnsListed(info: TableContext['info'], dataCols: string[]): string[] {
  const listing = fileColumnListing(dataCols, info.schema.fields);
  if (listing) return listing;
  const read = existingColumns(dataCols, info.schema.fields);
  const field = info.schema.fields.find((f) => f.name === read.find((c) => !dataCols.includes(c)));
  if (!field) return [...dataCols]; // not reached: a list that reads wrong reads a column left out
  const written = dataCols.filter((c) => !read.includes(c));
  throw new LakeSoulError('SchemaMismatch', `the data written to table '${info.name}' leaves out column '${field.name}' (${typeName(field.type)}) and holds ${written.map((c) => `'${c}'`).join(', ')}, the name of its Parquet leaf: LakeSoul's Rust writer lists a nested column by its leaf names, so a file listed as holding ${written.map((c) => `'${c}'`).join(', ')} is read as holding '${field.name}'; write '${field.name}' too (its current values) in this write`, {
    code: 'MISSING_COLUMN',
    context: { table: info.name, column: field.name },
  });
}

/**
 * Rows that carry no column stored in the data files (a table without a primary key written only its
 * range columns, or objects with no keys) get the table's other columns as nulls: a file of no
 * column holds no row count, and the write's rows were committed and then read as none (by the
 * wheel too). Other batches are returned as they are. (Every non-range column is nullable here:
 * `checkColumns` refused a missing non-nullable one.)
 */
function withStoredColumns(ctx: TableContext, batch: RecordBatch, given: string[]): { batch: RecordBatch; columns: string[] } {
  const info = ctx.info;
  const stored = info.schema.fields.filter((f) => !info.rangePartitions.includes(f.name));
  if (stored.length === 0) {
    // createTable refuses such a table now; one made before that lost every row written to it
    throw new LakeSoulError('InvalidArgument', `table '${info.name}': every column (${info.rangePartitions.join(', ')}) is a range partition column, so rows would store no column in the data files and none could be read back; nothing was written (add a column that is not a partition column)`, {
      context: { table: info.name },
    });
  }
  if (given.some((c) => !info.rangePartitions.includes(c))) return { batch, columns: given };
  const fields = [...batch.schema.fields, ...stored];
  const datas = [...batch.data.children, ...stored.map((f) => nullColumn(f, batch.numRows).data[0]!)];
  const columns = info.schema.fields.filter((f) => given.includes(f.name) || !info.rangePartitions.includes(f.name)).map((f) => f.name);
  return { batch: makeBatch(new Schema(fields, batch.schema.metadata), datas, batch.numRows), columns };
}

/**
 * Conforms one input batch to the table: column order of the schema, types cast/validated by the
 * arrow area, the CDC column defaulted to 'insert'. `rowOffset`: the rows of the write before this
 * batch (a CDC value refused is named by its row in the write).
 */
function conformBatch(ctx: TableContext, batch: RecordBatch, columns: string[], rowOffset = 0): RecordBatch {
  const info = ctx.info;
  let cols = columns;
  let b = batch;
  if (info.cdcColumn && !columns.includes(info.cdcColumn)) {
    const vectors: Record<string, Vector> = {};
    for (const f of b.schema.fields) vectors[f.name] = b.getChild(f.name)!;
    vectors[info.cdcColumn] = constantVector(new Utf8(), 'insert', b.numRows);
    b = new Table(vectors).batches[0];
    cols = info.schema.fields.filter((f) => cols.includes(f.name) || f.name === info.cdcColumn).map((f) => f.name);
  }
  const sub = new Schema(info.schema.fields.filter((f) => cols.includes(f.name)), info.schema.metadata);
  const out = validateAgainstSchema(b, sub, { primaryKeys: info.primaryKeys, tableName: info.name });
  if (info.cdcColumn && columns.includes(info.cdcColumn)) {
    const v = out.getChild(info.cdcColumn)!;
    // null too: it was stored, and read as neither (a filter on the kinds missed the row)
    const i = matchWords(v, ['insert', 'update', 'delete']).findIndex((k) => k === 0 || k === 255);
    if (i >= 0) {
      const held = v.get(i) === null ? 'null' : `'${String(v.get(i))}'`;
      throw new LakeSoulError('InvalidArgument', `CDC column '${info.cdcColumn}' of table '${info.name}' holds ${held} at row ${rowOffset + i}: expected 'insert', 'update' or 'delete' (leave the column out for 'insert')`, {
        context: { table: info.name, column: info.cdcColumn, row: rowOffset + i },
      });
    }
  }
  return out;
}

/**
 * Maps a partition_desc made from values to the table's existing partition of the same values when
 * their texts differ (float and timestamp range values: written by another engine, or by lakesoul-ts
 * before it wrote LakeSoul's text, see `hasRangeTextVariants`), so that the rows of one value stay in
 * one partition (a key upserted into a second partition of its value would be live twice). With
 * `nulls`, also a null of a range column that is not text, which LakeSoul's Python engine writes as
 * `NULL` where the protocol's marker is `__L@KE$OUL_NULL__` (see `isNullRangeText`). Null when the
 * table has no such range column: then nothing is read.
 */
export async function samePartitionOf(ctx: TableContext, signal?: AbortSignal, options: { nulls?: boolean } = {}): Promise<((desc: string) => string) | null> {
  const info = ctx.info;
  const typeOf = (c: string) => info.schema.fields.find((f) => f.name === c)?.type;
  const variants = (t: DataType) => hasRangeTextVariants(t) || (options.nulls === true && isNullRangeText(t, 'NULL'));
  if (!info.rangePartitions.some((c) => { const t = typeOf(c); return t !== undefined && variants(t); })) return null;
  const texts = new Set<string>();
  const byKey = new Map<string, string>();
  for (const p of await ctx.catalog.listPartitions(info.tableId, undefined, { signal })) {
    texts.add(p.partitionDesc);
    const key = partitionDescKey(p.partitionDesc, typeOf);
    if (!byKey.has(key)) byKey.set(key, p.partitionDesc);
  }
  return (desc) => (texts.has(desc) ? desc : byKey.get(partitionDescKey(desc, typeOf)) ?? desc);
}

/**
 * Whether `batch` holds a null in a range column that is not text: its partition may exist as the
 * Python engine's `k=NULL` (see {@link samePartitionOf}), looked up only then (most writes hold none).
 */
function nullOfNonTextRange(info: TableContext['info'], batch: RecordBatch): boolean {
  return info.rangePartitions.some((c) => {
    const column = batch.getChild(c);
    const type = info.schema.fields.find((f) => f.name === c)?.type;
    return column !== null && column.nullCount > 0 && type !== undefined && isNullRangeText(type, 'NULL');
  });
}

/** Per row: the partition_desc of the row (range columns of the table; `same`: see {@link samePartitionOf}). */
function partitionDescsOf(ctx: TableContext, batch: RecordBatch, same: ((desc: string) => string) | null): { descs: string[]; perRow: Int32Array } {
  const info = ctx.info;
  const n = batch.numRows;
  const perRow = new Int32Array(n);
  if (info.rangePartitions.length === 0) return { descs: ['-5'], perRow };
  const cols = info.rangePartitions;
  const types = cols.map((c) => info.schema.fields.find((f) => f.name === c)!.type);
  // Per column: a small code per distinct value.
  const codes: Int32Array[] = [];
  const values: unknown[][] = [];
  for (const [k, c] of cols.entries()) {
    checkRangePartitionType(info.name, c, types[k]);
    const coded = rangeValueCodes(batch.getChild(c)!);
    codes.push(coded.codes);
    values.push(coded.distinct);
  }
  // partition id per combination of codes: an array for one column, a map of the joined codes otherwise
  const byCode = codes.length === 1 ? new Int32Array(values[0].length).fill(-1) : null;
  const index = new Map<string, number>();
  const descs: string[] = [];
  for (let i = 0; i < n; i++) {
    let key = '';
    let id: number | undefined;
    if (byCode !== null) {
      id = byCode[codes[0][i]];
      if (id < 0) id = undefined;
    } else {
      for (let k = 0; k < codes.length; k++) key += `${codes[k][i]},`;
      id = index.get(key);
    }
    if (id === undefined) {
      const texts = cols.map((_, k) => rangeValueText(values[k][codes[k][i]], types[k]));
      let desc: string;
      try {
        desc = encodePartitionDesc(cols, texts);
        if (same !== null) desc = same(desc);
      } catch (e) {
        if (LakeSoulError.is(e)) {
          e.context.table ??= info.name;
          e.context.row ??= i;
        }
        throw e;
      }
      id = descs.indexOf(desc);
      if (id < 0) {
        id = descs.length;
        descs.push(desc);
      }
      if (byCode !== null) byCode[codes[0][i]] = id;
      else index.set(key, id);
    }
    perRow[i] = id;
  }
  return { descs, perRow };
}

/** What the table area's other write paths (staging, partial updates) ask of {@link writeTable}. */
export interface WriteInternals {
  allowMissingColumns?: boolean;
  /**
   * The schema the written rows were made from, which the table must still have at commit (see
   * `CommitSchema.readWith`): CDC delete markers null every nullable column, and markers made before
   * another writer added a column would leave that column out, so a later partial upsert of the key
   * took the deleted value back from the file before the delete.
   */
  readWith?: Schema;
  /** Stage instead of committing: receives what the commit would have held. */
  stage?: (staged: StagedWrite) => void;
  /** With `mode: 'overwrite'` and `stage`: the plan to write under (instead of reading one now). */
  overwrite?: OverwritePlan;
}

/**
 * Writes `input` into the table as one commit: AppendCommit for tables without primary keys (or
 * `mode: 'append'`), MergeCommit for upserts into PK tables.
 */
export async function writeTable(
  ctx: TableContext,
  input: WriteInput,
  options: TableWriteOptions = {},
  internal: WriteInternals = {},
): Promise<WriteResult> {
  growHeapForTableWork();
  checkWriteSizes(options, ctx.info.name);
  if (options.schemaMode === undefined || options.schemaMode === 'strict') return writeConformed(ctx, input, options, internal);
  if (options.schemaMode !== 'merge') {
    throw new LakeSoulError('InvalidArgument', `write to table '${ctx.info.name}': schemaMode must be 'strict' or 'merge', not '${String(options.schemaMode)}'`, {
      code: 'INVALID_OPTION_VALUE',
      context: { table: ctx.info.name, option: 'schemaMode' },
    });
  }
  const { schema, batches } = await mergedInput(ctx, input);
  try {
    if (schema === null) return await writeConformed(ctx, batches, options, internal);
    const evolved: TableContext = { ...ctx, info: { ...ctx.info, schema } };
    // The schema changes in the transaction that commits the data: a write that fails, or a staged
    // write discarded, changes nothing; one whose new column another writer added with another type
    // meanwhile fails (SCHEMA_CHANGED) instead of committing files of the wrong type.
    return await writeConformed(evolved, batches, options, { ...internal, evolve: true });
  } catch (e) {
    // the first batch's new columns were added: this one is in a later batch
    if (!LakeSoulError.hasCode(e, 'UNKNOWN_COLUMN')) throw e;
    throw new LakeSoulError(e.kind, `${e.message} (schemaMode 'merge' takes the new columns of an iterable input from its first batch: give the column there, null-filled, or write the later batches in a second write)`, {
      code: e.code, cause: e, context: e.context,
    });
  }
}

function fixedColumns(ctx: TableContext): string[] {
  return [...ctx.info.primaryKeys, ...ctx.info.rangePartitions];
}

/** The input of a `schemaMode: 'merge'` write and the evolved schema (null when nothing changes). */
async function mergedInput(ctx: TableContext, input: WriteInput): Promise<{ schema: Schema | null; batches: AsyncIterable<RecordBatch> }> {
  const info = ctx.info;
  let incoming: Schema | null = null;
  let batches: AsyncIterable<RecordBatch>;
  if (isRecordArray(input)) {
    const known = new Set(info.schema.fields.map((f) => f.name));
    const extra = [...new Set(input.flatMap((r) => Object.keys(r)))].filter((k) => !known.has(k));
    if (extra.length > 0) {
      incoming = inferSchema(input.map((r) => Object.fromEntries(extra.map((k) => [k, r[k]]))), { table: info.name });
    }
    const schema = incoming ? mergeSchemas(info.schema, incoming, fixedColumns(ctx)) : info.schema;
    batches = inputBatches(input, schema, info.name);
  } else {
    const gen = inputBatches(input, info.schema, info.name);
    const first = await gen.next();
    if (!first.done) incoming = first.value.schema;
    batches = (async function* () {
      if (!first.done) yield first.value;
      yield* gen;
    })();
  }
  if (incoming === null) return { schema: null, batches };
  const nested = nestedEvolutionProblem(info.schema, incoming);
  if (nested) {
    throw new LakeSoulError('SchemaMismatch', `schema change of table '${info.name}' refused: column '${nested.column}' ${nested.why}`, {
      code: 'SCHEMA_EVOLUTION_REFUSED', context: { table: info.name, column: nested.column },
    });
  }
  const merged = mergeSchemas(info.schema, incoming, fixedColumns(ctx));
  const same = merged.fields.length === info.schema.fields.length && merged.fields.every((f, i) => String(f.type) === String(info.schema.fields[i].type));
  return { schema: same ? null : merged, batches };
}

/** One (partition, bucket) group of a batch's rows: `order.subarray(start, start + count)` of {@link groupRows}. */
interface RowGroupOfBatch {
  partition: number;
  bucket: number;
  start: number;
  count: number;
}

/**
 * Row indices grouped by (partition, bucket), each group in arrival order, the groups ascending by
 * partition and bucket. When the possible groups (partitions × buckets) are few beside the rows, a
 * counting sort on the group id `partition * nb + bucket`; otherwise (a table of 2^20 buckets, or
 * thousands of partitions of 65,536 buckets: arrays of every possible group took gigabytes, and
 * beyond 2^30 aborted the process) a sort of the rows by their group. Kept out of the large async
 * writer so its loops are optimized (inside it they ran in the interpreter: ~70 ms per million rows).
 */
function groupRows(partitionOfRow: Int32Array, buckets: Int32Array | null, nb: number, partitions: number): { groups: RowGroupOfBatch[]; order: Int32Array } {
  const n = partitionOfRow.length;
  const groups: RowGroupOfBatch[] = [];
  if (partitions * nb > Math.max(4 * n, 1 << 20)) {
    const bucketOf = buckets ?? new Int32Array(n);
    const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => partitionOfRow[a] - partitionOfRow[b] || bucketOf[a] - bucketOf[b] || a - b);
    for (let i = 0; i < n; i++) {
      const r = order[i];
      const last = groups[groups.length - 1];
      if (last && last.partition === partitionOfRow[r] && last.bucket === bucketOf[r]) last.count++;
      else groups.push({ partition: partitionOfRow[r], bucket: bucketOf[r], start: i, count: 1 });
    }
    return { groups, order };
  }
  const gid = new Int32Array(n);
  const counts = new Int32Array(partitions * nb);
  for (let i = 0; i < n; i++) {
    const g = partitionOfRow[i] * nb + (buckets !== null ? buckets[i] : 0);
    gid[i] = g;
    counts[g]++;
  }
  const starts = new Int32Array(counts.length + 1);
  for (let g = 0; g < counts.length; g++) {
    starts[g + 1] = starts[g] + counts[g];
    if (counts[g] > 0) groups.push({ partition: Math.floor(g / nb), bucket: g % nb, start: starts[g], count: counts[g] });
  }
  const order = new Int32Array(n);
  const fill = starts.slice(0, counts.length);
  for (let i = 0; i < n; i++) order[fill[gid[i]]++] = i;
  return { groups, order };
}

/**
 * `schema` with its written schemas narrowed to the columns `files` hold (their `existCols`): the
 * table schema a write was made under names columns a partial write never wrote, and the commit
 * refused a write adding a column beside another, in the same commit or concurrently, that widened
 * a column the first did not hold ("written as Int32 but is Int64"). Files naming no columns (none
 * written) leave it as it is.
 */
function heldColumns(schema: CommitSchema, files: readonly WrittenFile[]): CommitSchema {
  const held = new Set(files.flatMap((f) => f.existCols));
  if (held.size === 0 || schema.written === undefined) return schema;
  return { ...schema, written: schema.written.map((w) => new Schema(w.fields.filter((f) => held.has(f.name)), w.metadata)) };
}

/** {@link writeTable} once the table schema is settled. */
async function writeConformed(
  ctx: TableContext,
  input: WriteInput | AsyncIterable<RecordBatch>,
  options: TableWriteOptions,
  internal: WriteInternals & { evolve?: boolean },
): Promise<WriteResult> {
  const info = ctx.info;
  // the files hold the table's columns in these types (merge mode: the evolved schema, stored at commit)
  const commitSchema: CommitSchema = {
    written: [info.schema],
    ...(internal.evolve ? { evolve: true } : {}),
    ...(internal.readWith ? { readWith: internal.readWith } : {}),
  };
  const signal = options.signal;
  const isPk = info.primaryKeys.length > 0;
  // before any file is written: a table whose bucket rule is unknown is refused whole
  const bucketRule = isPk ? bucketRuleOf(info) : 'pmod';
  const mode = options.mode ?? (isPk ? 'upsert' : 'append');
  if (mode === 'upsert' && !isPk) {
    throw new LakeSoulError('InvalidArgument', `table '${info.name}' has no primary key: upsert needs one (use mode 'append')`, {
      context: { table: info.name },
    });
  }
  if (mode !== 'overwrite' && (options.replacePartitions !== undefined || options.replaceWhere !== undefined)) {
    throw new LakeSoulError('InvalidArgument', `write to table '${info.name}': replacePartitions and replaceWhere need mode 'overwrite'`, {
      context: { table: info.name },
    });
  }
  // Overwrite: the partitions to replace, as read now (their versions are the commit's readVersion).
  const replace = mode === 'overwrite' ? (internal.overwrite ?? await planOverwrite(ctx, options)) : null;
  let samePartition = await samePartitionOf(ctx, signal);
  let nullsLooked = false;
  const target = options.targetFileSize ?? DEFAULT_TARGET_FILE_SIZE;
  const maxBuffered = Math.max(target, options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES);
  const sink = new FileSink(ctx, signal, options.rowGroupSize, sharedParquetPool());
  const groups = new Map<string, Group>();
  // Groups hold rows of input batches (gathered at flush): `buffered` counts each input batch whole
  // while any group still holds rows of it, so the bound is on the memory really kept.
  let buffered = 0;
  const retained = new Map<RecordBatch, { bytes: number; parts: number }>();
  const retain = (source: RecordBatch, bytes: number): void => {
    let r = retained.get(source);
    if (r === undefined) {
      retained.set(source, (r = { bytes, parts: 0 }));
      buffered += bytes;
    }
    r.parts++;
  };
  const release = (parts: readonly GroupPart[]): void => {
    for (const p of parts) {
      // a slice is one group's part only; the batch's copy goes with the batch's last part
      if (p.batch !== p.source) sink.dropRowSource(p.batch);
      const r = retained.get(p.source)!;
      if (--r.parts === 0) {
        retained.delete(p.source);
        sink.dropRowSource(p.source);
        buffered -= r.bytes;
      }
    }
  };
  let rows = 0;
  let fileCols: string[] | undefined; // non-range columns physically written (same for the whole write)
  let inputCols: string[] | undefined;

  const flush = async (key: string, g: Group): Promise<void> => {
    groups.delete(key);
    const pks = isPk ? info.primaryKeys : null;
    const file = sink.takesRows ? groupFile(g.parts, pks) : gatherGroup(g.parts, pks);
    // started before the release: enqueueRows makes its IPC copies of the batches synchronously
    const queued = file instanceof RecordBatch ? sink.enqueue(file, g.partitionDesc, g.bucket, fileCols!) : sink.enqueueRows(file, g.partitionDesc, g.bucket, fileCols!);
    release(g.parts);
    g.parts = [];
    await queued;
  };

  try {
    for await (const raw of inputBatches(input, info.schema, info.name)) {
      checkAborted(signal, `write to ${info.name}`);
      const given = checkColumns(ctx, raw, internal.allowMissingColumns === true);
      const { batch: input1, columns: cols } = withStoredColumns(ctx, raw, given);
      if (inputCols === undefined) inputCols = cols;
      else if (cols.join(',') !== inputCols.join(',')) {
        throw new LakeSoulError('SchemaMismatch', `all batches of one write to table '${info.name}' must have the same columns ([${inputCols.join(', ')}] then [${cols.join(', ')}])`, {
          context: { table: info.name },
        });
      }
      const batch = conformBatch(ctx, input1, cols, rows);
      const dataCols = batch.schema.fields.map((f) => f.name).filter((c) => !info.rangePartitions.includes(c));
      fileCols ??= fileColumnsListed(info, dataCols);
      if (!nullsLooked && nullOfNonTextRange(info, batch)) {
        nullsLooked = true;
        samePartition = await samePartitionOf(ctx, signal, { nulls: true });
      }
      const { descs, perRow: partitionOfRow } = partitionDescsOf(ctx, batch, samePartition);
      if (replace) {
        for (const d of descs) {
          if (!replace.selects(d)) {
            throw new LakeSoulError('InvalidArgument', `overwrite of table '${info.name}': rows of partition '${d}' are outside the partitions being replaced`, {
              code: 'OUTSIDE_OVERWRITE',
              context: { table: info.name, partition: d },
            });
          }
        }
      }
      const data = info.rangePartitions.length > 0 ? projectBatch(batch, dataCols) : batch;
      const buckets = isPk ? computeBuckets(batch, info.primaryKeys, info.hashBucketNum, bucketRule) : null;
      // Row indices per (partition, bucket), in arrival order.
      const nb = buckets ? Math.max(1, info.hashBucketNum) : 1;
      const n = batch.numRows;
      const { groups: used, order } = groupRows(partitionOfRow, buckets, nb, descs.length);
      const dataBytes = batchBytes(data);
      const perRow = dataBytes / Math.max(1, n);
      for (const g of used) {
        const desc = descs[g.partition];
        const bucket = buckets ? g.bucket : null;
        const key = `${desc}\u0000${bucket ?? ''}`;
        // the group's rows of this batch (gathered only when the group is flushed)
        const partRows = used.length === 1 ? null : order.subarray(g.start, g.start + g.count);
        const partLength = g.count;
        // Files roll at the target size: a part larger than the room left is cut by rows.
        let off = 0;
        while (off < partLength) {
          let grp = groups.get(key);
          if (!grp) groups.set(key, (grp = { partitionDesc: desc, bucket, parts: [], bytes: 0, rows: 0 }));
          const room = Math.max(1, Math.ceil((target - grp.bytes) / Math.max(perRow, 1e-9)));
          const take = Math.min(room, partLength - off);
          // a piece of no rows (or NaN) would end the loop with the group's rows never written
          if (!(Number.isInteger(take) && take >= 1)) {
            throw new LakeSoulError('Internal', `write to table '${info.name}': a file piece of ${take} rows (room ${room}, ${partLength - off} rows left): nothing written`, {
              context: { table: info.name },
            });
          }
          const piece: GroupPart =
            partRows !== null
              ? { batch: data, rows: off === 0 && take === partLength ? partRows : partRows.subarray(off, off + take), source: data }
              : { batch: off === 0 && take === partLength ? data : sliceBatch(data, off, take), rows: null, source: data };
          const bytes = take * perRow;
          // the native encode takes rows from an IPC copy of the batch, dropped with the batch's last part
          retain(data, sink.takesRows ? 2 * dataBytes : dataBytes);
          grp.parts.push(piece);
          grp.bytes += bytes;
          grp.rows += take;
          off += take;
          if (grp.bytes >= target || take === room) await flush(key, grp);
        }
      }
      rows += batch.numRows;
      while (buffered > maxBuffered && groups.size > 0) {
        let big: [string, Group] | undefined;
        for (const kv of groups) if (!big || kv[1].bytes > big[1].bytes) big = kv;
        await flush(big![0], big![1]);
      }
    }
    for (const [key, g] of [...groups]) await flush(key, g);
    await sink.settle();
    // every row taken in is in a file: rows lost on the way fail the write (its files deleted) instead of committing fewer
    const filed = sink.files.reduce((n, f) => n + f.rows, 0);
    if (filed !== rows) {
      throw new LakeSoulError('Internal', `write to table '${info.name}': ${rows} rows taken in, ${filed} in the files written: nothing committed`, {
        context: { table: info.name },
      });
    }
  } catch (e) {
    await sink.discard();
    throw e;
  }
  const held = heldColumns(commitSchema, sink.files);
  let result: CommitResult;
  if (replace) {
    if (internal.overwrite && internal.stage) {
      // Staged under a plan: only the added files; the commit of the plan adds the deletes.
      if (sink.files.length === 0) return { versions: new Map(), commitIds: new Map(), retries: 0, files: [], rows: 0 };
      internal.stage({ tableId: info.tableId, op: 'UpdateCommit', partitions: partitionCommits(sink.files), files: [...sink.files], rows, plan: internal.overwrite, schema: held });
      return { versions: new Map(), commitIds: new Map(), retries: 0, files: [], rows };
    }
    const commits = overwriteCommits(replace, sink.files);
    if (commits.length === 0) return { versions: new Map(), commitIds: new Map(), retries: 0, files: [], rows: 0 };
    if (internal.stage) {
      // Staging (see table-staging.ts): the files stay uploaded and uncommitted; the caller commits them later.
      internal.stage({ tableId: info.tableId, op: 'UpdateCommit', partitions: commits, files: [...sink.files], rows, schema: held });
      return { versions: new Map(), commitIds: new Map(), retries: 0, files: [], rows };
    }
    result = await commitFiles(ctx, sink, 'UpdateCommit', commits, signal, held);
  } else {
    if (sink.files.length === 0) {
      return { versions: new Map(), commitIds: new Map(), retries: 0, files: [], rows: 0 };
    }
    const op: CommitOp = isPk && mode === 'upsert' ? 'MergeCommit' : 'AppendCommit';
    const partitions = partitionCommits(sink.files);
    if (internal.stage) {
      internal.stage({ tableId: info.tableId, op, partitions, files: [...sink.files], rows, schema: held });
      return { versions: new Map(), commitIds: new Map(), retries: 0, files: [], rows };
    }
    result = await commitFiles(ctx, sink, op, partitions, signal, held);
  }
  return {
    ...result,
    files: sink.files.map((f) => ({ path: f.path, size: f.size, rows: f.rows, partitionDesc: f.partitionDesc, bucket: f.bucket })),
    rows,
  };
}

/**
 * The partition commits of an overwrite writing `files` under `plan`: per replaced or written
 * partition, the new files (first) plus a 'del' of every file it had when planned, with the version
 * planned as readVersion. A replaced partition that had no files and gets none is left out.
 */
export function overwriteCommits(plan: OverwritePlan, files: readonly WrittenFile[]): PartitionCommit[] {
  const extra = new Map<string, DataFileOp[]>();
  const readVersions = new Map<string, number>();
  for (const p of plan.partitions) {
    if (p.files.length === 0 && !files.some((f) => f.partitionDesc === p.partitionDesc)) continue;
    extra.set(p.partitionDesc, p.files.map((f) => ({ path: f.path, op: 'del', size: f.size, existCols: [...f.existCols] })));
    readVersions.set(p.partitionDesc, p.version);
  }
  return partitionCommits([...files], extra, readVersions).map((c) => ({
    ...c,
    files: [...c.files.filter((f) => f.op === 'add'), ...c.files.filter((f) => f.op === 'del')],
  }));
}

/**
 * Plans an overwrite: the partitions it replaces are every partition of the table, or those chosen by
 * `replacePartitions` (descs or range values) or `replaceWhere` (a filter on range columns,
 * evaluated on each partition's range values), read now.
 */
export async function planOverwrite(ctx: TableContext, options: Pick<TableWriteOptions, 'replacePartitions' | 'replaceWhere' | 'signal'>): Promise<OverwritePlan> {
  const info = ctx.info;
  if (options.replacePartitions !== undefined && options.replaceWhere !== undefined) {
    throw new LakeSoulError('InvalidArgument', `overwrite of table '${info.name}': give replacePartitions or replaceWhere, not both`, { context: { table: info.name } });
  }
  let selects: (desc: string) => boolean = () => true;
  const sel = options.replacePartitions;
  if (sel !== undefined) {
    if (info.rangePartitions.length === 0) {
      throw new LakeSoulError('InvalidArgument', `overwrite of table '${info.name}': the table has no range partitions to choose from`, { context: { table: info.name } });
    }
    // by value, not text: a partition another engine (or an earlier lakesoul-ts) wrote as `x=1.0E21`
    // is the partition of 1e21 (its rows go there, so refusing them as outside the overwrite was wrong)
    const typeOf = (c: string) => info.schema.fields.find((f) => f.name === c)?.type;
    const valueKey = (c: string, text: string | null) => {
      const type = typeOf(c);
      return type === undefined ? text : rangeValueKey(type, text);
    };
    const cols = info.rangePartitions;
    const forms = `a list of partition descriptions ('${cols.map((c) => `${c}=<value>`).join(',')}') or one object of range values ({ ${cols[0]}: <value> }; null names the null partition); for several partitions by value, list their descriptions or use replaceWhere`;
    if (Array.isArray(sel)) {
      // descriptions only: an object in the list (a range-value selection per partition) is not one
      for (const d of sel as unknown[]) {
        if (typeof d !== 'string' || d.includes('\u0000') || d.split(',').length !== cols.length || !d.split(',').every((part, i) => part.startsWith(`${cols[i]}=`))) {
          throw new LakeSoulError('InvalidArgument', `overwrite of table '${info.name}': replacePartitions entry ${typeof d === 'string' ? `'${d}'` : inputText(d)} is not a partition description of this table; give ${forms}`, {
            code: 'INVALID_PARTITION', context: { table: info.name },
          });
        }
      }
      const set = new Set(sel.map((d) => partitionDescKey(d, typeOf)));
      selects = (d) => set.has(partitionDescKey(d, typeOf));
    } else {
      if (typeof sel !== 'object' || sel === null) {
        throw new LakeSoulError('InvalidArgument', `overwrite of table '${info.name}': replacePartitions ${inputText(sel)} is not a list or an object; give ${forms}`, {
          code: 'INVALID_PARTITION', context: { table: info.name },
        });
      }
      if (Object.keys(sel).length === 0) {
        // as dropPartitions({}): an empty selection is more likely a bug than "every partition"
        throw new LakeSoulError('InvalidArgument', `overwrite of table '${info.name}': replacePartitions {} names no range value, which would replace every partition; give ${forms}, or leave replacePartitions out to replace the whole table`, {
          code: 'INVALID_PARTITION', context: { table: info.name },
        });
      }
      const want = Object.entries(sel).map(([c, v]) => {
        if (!info.rangePartitions.includes(c)) {
          throw new LakeSoulError('InvalidArgument', `overwrite of table '${info.name}': '${c}' is not a range partition column (${info.rangePartitions.join(', ')})`, {
            context: { table: info.name, column: c },
          });
        }
        if (v === undefined) {
          // a missing property ({ day: row.day } of a row without one) must not replace the null partition
          throw new LakeSoulError('InvalidArgument', `overwrite of table '${info.namespace}.${info.name}': replacePartitions gives range partition column '${c}' as undefined: use null for the null partition`, {
            code: 'INVALID_PARTITION', context: { table: `${info.namespace}.${info.name}`, column: c },
          });
        }
        return [c, valueKey(c, decodePartitionValue(encodePartitionValue(c, v)))] as const;
      });
      selects = (d) => {
        const got = new Map(decodePartitionDesc(d));
        return want.every(([c, key]) => valueKey(c, got.get(c) ?? null) === key);
      };
    }
  } else if (options.replaceWhere !== undefined) {
    const expr = normalizeFilter(options.replaceWhere, info.schema);
    for (const c of filterColumns(expr)) {
      if (!info.rangePartitions.includes(c)) {
        throw new LakeSoulError('InvalidArgument', `overwrite of table '${info.name}': replaceWhere may use range partition columns only (${info.rangePartitions.join(', ') || 'none'}), not '${c}'`, {
          code: 'NOT_A_RANGE_COLUMN',
          context: { table: info.name, column: c },
        });
      }
    }
    const memo = new Map<string, boolean>();
    selects = (d) => {
      let hit = memo.get(d);
      if (hit === undefined) {
        const values = new Map(decodePartitionDesc(d));
        const vectors: Record<string, Vector> = {};
        for (const c of info.rangePartitions) {
          const f = info.schema.fields.find((x) => x.name === c)!;
          vectors[c] = constantColumn(f.type, values.get(c) ?? null, 1, c, info.name);
        }
        hit = evaluateFilter(expr, new Table(vectors).batches[0])[0] === 1;
        memo.set(d, hit);
      }
      return hit;
    };
  }
  const snapshot = await ctx.catalog.getSnapshot(info.tableId, { signal: options.signal });
  return { tableId: info.tableId, partitions: snapshot.filter((p) => selects(p.partitionDesc)), selects };
}
