/**
 * Public contract of `@lakesoul-ts/io`: object stores, scans, splits and writes. Implementations live
 * in their own files; connectors and the CLI program against these types only.
 */
import type { RecordBatch, Schema, Table } from 'apache-arrow';
import type { CommitResult } from '@lakesoul-ts/meta';

// ------------------------------------------------------------------------------------------------
// Object stores

/** A byte range: `offset` + optional `length` (to the end when absent), or the last `suffix` bytes. */
export type ByteRange = { offset: number; length?: number } | { suffix: number };

/** Metadata of a stored object. `path` is the key inside its store (no leading slash). */
export interface ObjectMeta {
  path: string;
  size: number;
  lastModified: Date;
  etag?: string;
}

/** Options of {@link ObjectStore.get}. */
export interface GetOptions {
  range?: ByteRange;
  signal?: AbortSignal;
  /**
   * Where to put the bytes, for callers that recycle buffers: called once with the byte count when the
   * store learns it before reading (local files), it returns a buffer of at least that many bytes, and
   * the result is a view of its start. A hint: stores that receive the bytes in buffers of their own
   * (S3, memory) ignore it, so a caller checks the result's `buffer` before reusing it.
   */
  into?: (size: number) => Uint8Array;
}

/** Options of {@link ObjectStore.put}. */
export interface PutOptions {
  signal?: AbortSignal;
  /** Size hint for streaming puts; large or unknown sizes use multipart upload where the backend has it. */
  contentLength?: number;
  /**
   * The caller's word that the key is new and that nothing reads it before this put returns (a data
   * file a commit will name). A local store then writes the file in place, without a temp file and a
   * rename: one flush covers the file and its directory entry. A key that exists after all is
   * replaced as by any put; the other stores ignore it.
   */
  fresh?: boolean;
}

/** Options of list/head/delete. */
export interface StoreCallOptions {
  signal?: AbortSignal;
}

/**
 * The storage seam: five methods every backend implements (local disk, S3, memory). Paths are keys
 * relative to the store's root, `/`-separated, without a leading slash. Helpers (ranged reads with
 * coalescing, concurrency limits, latency injection) wrap a store rather than extend this interface.
 *
 * # Contract
 * Every method fails only with a `LakeSoulError` (no backend error escapes; the backend's error is
 * its `cause`), naming the object's URI. The kinds, the same for every backend:
 * - `NotFound` (code `OBJECT_NOT_FOUND`): `get` and `head` of a missing object (`delete` and `list`
 *   never throw it); S3's missing bucket is `NotFound` `BUCKET_NOT_FOUND` on any method.
 * - `InvalidArgument`: a malformed key or prefix (empty, a NUL, an empty, `.` or `..` segment) or byte range
 *   (negative, not an integer), before any I/O.
 * - `Aborted`: the call's `signal` aborted (checked before the call and while it runs); an aborted
 *   `put` leaves no object.
 * - `PermissionDenied` / `Unauthenticated`: the backend refused access (EACCES, HTTP 403 / 401).
 * - `Io`: anything else; `retryable` is true for throttling, 5xx, timeouts and connection resets.
 * `runObjectStoreConformance` (`@lakesoul-ts/io/testing`) checks these for a backend.
 *
 * # Wrappers
 * A wrapper (`withConcurrencyLimit`, `withLatency`) forwards every method of {@link OBJECT_STORE_METHODS}
 * with the same arguments and keeps the wrapped store's errors and extra capabilities (a
 * `ConfinedReader` stays one); `store-wrappers.test.ts` fails when a wrapper misses a method.
 */
export interface ObjectStore {
  /** Short description for messages, e.g. `s3://bucket` or `file:///`. */
  readonly description: string;
  /**
   * The object's bytes, or those of `options.range` (clamped to the object's size).
   * @throws LakeSoulError `NotFound`, `InvalidArgument` (key, range), `Aborted`, `PermissionDenied`, `Io`.
   */
  get(path: string, options?: GetOptions): Promise<Uint8Array>;
  /**
   * Writes the object, replacing any. Atomic from a reader's view: the object appears whole or not
   * at all; a failed or aborted put leaves no (new) object.
   * @throws LakeSoulError `InvalidArgument` (key), `Aborted`, `PermissionDenied`, `Io`.
   */
  put(path: string, data: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<void>;
  /**
   * Size and modification time of the object.
   * @throws LakeSoulError `NotFound`, `InvalidArgument` (key), `Aborted`, `PermissionDenied`, `Io`.
   */
  head(path: string, options?: StoreCallOptions): Promise<ObjectMeta>;
  /**
   * Deletes the object. Deleting a missing object is not an error.
   * @throws LakeSoulError `InvalidArgument` (key), `Aborted`, `PermissionDenied`, `Io`.
   */
  delete(path: string, options?: StoreCallOptions): Promise<void>;
  /**
   * Objects whose key starts with `prefix`, in any order, paginated transparently. A prefix with no
   * objects lists nothing (no `NotFound`). Errors surface from the iteration.
   * @throws LakeSoulError `InvalidArgument` (prefix), `Aborted`, `PermissionDenied`, `Io`.
   */
  list(prefix: string, options?: StoreCallOptions): AsyncIterable<ObjectMeta>;
}

/**
 * The methods of {@link ObjectStore}, for wrappers and their test: a method added to the interface
 * and not listed here fails to compile (see `ObjectStoreMethodsComplete`).
 */
export const OBJECT_STORE_METHODS = ['get', 'put', 'head', 'delete', 'list'] as const;

/** Compile-time proof that {@link OBJECT_STORE_METHODS} lists every method of {@link ObjectStore}. */
export type ObjectStoreMethodsComplete = Exclude<keyof ObjectStore, 'description' | (typeof OBJECT_STORE_METHODS)[number]> extends never ? true : never;
const objectStoreMethodsComplete: ObjectStoreMethodsComplete = true;
void objectStoreMethodsComplete;

// ------------------------------------------------------------------------------------------------
// Filters

/** A comparison value. bigint for int64 columns beyond 2^53; Date or epoch ms for timestamps. */
export type FilterValue = string | number | bigint | boolean | null | Date;

/**
 * A row filter, as JSON-serializable AST or a SQL-like string
 * (`"label = 'cat' and score >= 0.5 or id in (1, 2, 3) and not (note is null)"`, also
 * `x between 1 and 5`, `name like 'ab%'`, `a <> b`, `id not in (1, 2)`; see the filter area's parser).
 */
export type FilterExpr =
  | { op: 'and' | 'or'; args: FilterExpr[] }
  | { op: 'not'; arg: FilterExpr }
  /**
   * `text`: the number literal as written, where the double `value` would print another decimal
   * (`12345678.123456789`); decimal and integer columns compare with it exactly. Set by the parser.
   */
  | { op: '=' | '!=' | '<' | '<=' | '>' | '>='; column: string; value: FilterValue; text?: string }
  /** `texts`: per value, the number literal as written where its double prints another decimal (else null); see `text` above. */
  | { op: 'in'; column: string; values: FilterValue[]; texts?: (string | null)[] }
  | { op: 'isNull' | 'isNotNull'; column: string }
  /** SQL LIKE on a text column: `%` any run, `_` one character, `\` escapes the next character. */
  | { op: 'like'; column: string; pattern: string }
  /** Column-to-column comparison (`a < b`), row by row; never pruned by statistics. */
  | { op: 'compare'; left: string; cmp: '=' | '!=' | '<' | '<=' | '>' | '>='; right: string };

/** A filter given by the caller. */
export type Filter = string | FilterExpr;

// ------------------------------------------------------------------------------------------------
// Scans

/** Per-column merge operators of LakeSoul (protocol §5). Default UseLast. */
export type MergeOperator =
  | 'UseLast'
  | 'UseLastNotNull'
  | 'SumAll'
  | 'SumLast'
  | 'JoinedLastByComma'
  | 'JoinedLastBySemicolon'
  | 'JoinedAllByComma'
  | 'JoinedAllBySemicolon';

/** How blob (file reference) columns are read; see docs/blobs.md. */
export interface BlobReadOptions {
  /** Reference columns whose bytes to fetch; each adds a binary column `<col>__bytes`. */
  columns: string[];
  /** Extra URI roots references may point into (the table's own path is always allowed). */
  allowedRoots?: string[];
  /** Missing object: 'error' (default) or a null value. */
  onMissing?: 'error' | 'null';
  /** Concurrent fetches (default 512: hides ~20 ms per request at ~5000 small images per second; bytes stay bounded by maxBytesInFlight). */
  concurrency?: number;
  /** Bytes in flight bound (default 64 MiB). */
  maxBytesInFlight?: number;
}

/** Options of {@link LakeSoulTable.scan}. At most one of version / timestamp / incremental. */
export interface ScanOptions {
  /** partition_desc strings, or range-column values to match (`{ date: '2024-01-01' }`). */
  partitions?: string[] | Record<string, string | number | null>;
  /** Output columns (default: all, in schema order). */
  columns?: string[];
  filter?: Filter;
  version?: number;
  /** Epoch ms or Date; strict `timestamp < T` per partition. */
  timestamp?: number | Date;
  incremental?: { start: number | Date; end: number | Date };
  /** Target rows per output batch (default 8192). */
  batchSize?: number;
  mergeOperators?: Record<string, MergeOperator>;
  /** Blob columns to read as bytes (names, or full options). */
  blobs?: string[] | BlobReadOptions;
  /** Bound on bytes fetched ahead of the consumer (default 64 MiB). */
  prefetchBytes?: number;
  signal?: AbortSignal;
}

/** A file of a split, JSON-safe. */
export interface SplitFile {
  path: string;
  /** Size in bytes as a decimal string (bigint-safe JSON). */
  size: string;
  existCols: string[];
}

/**
 * An independent unit of reading: PK tables: one partition x bucket; others: one file. Plain JSON:
 * any process (a training rank, a Flight replica) reads it from storage alone, no catalog needed.
 */
export interface Split {
  /** Stable id within a plan, e.g. `date=2024-01-01#3`. */
  id: string;
  tableId: string;
  tableName: string;
  namespace: string;
  tablePath: string;
  partitionDesc: string;
  /** Range-column values decoded from partitionDesc (null for the null marker). */
  partitionValues: Record<string, string | null>;
  /** Bucket id for PK splits, null otherwise. */
  bucket: number | null;
  /** Files in merge order (later = newer). */
  files: SplitFile[];
  /** Row count when known (after {@link ScanPlan.withRowCounts}), else null. For PK splits an upper bound before merge. */
  rowCount: number | null;
  /**
   * Set on the bucket splits of a plan whose filter holds a primary-key `IN` list: the positions in
   * that list of the literals that hash to this split's bucket. The split's reads test only those
   * (its rows can hold no other key), so page statistics skip the pages that only the other buckets'
   * keys would need. Positions outside the list are ignored; a reader that ignores the field reads
   * the same rows.
   */
  keyLiterals?: number[];
}

/** The serializable part of a plan: everything a worker needs to read its splits. */
export interface ScanPlanJSON {
  /** Table schema as Arrow-Java JSON (table_schema). */
  tableSchemaJson: string;
  primaryKeys: string[];
  rangePartitions: string[];
  cdcColumn: string | null;
  /** Output columns. */
  columns: string[];
  filter: FilterExpr | null;
  mergeOperators: Record<string, MergeOperator>;
  /** 'snapshot' drops CDC deletes after the merge; 'incremental' keeps them. */
  mode: 'snapshot' | 'incremental';
  skipMergeOnRead: boolean;
  blobs: BlobReadOptions | null;
  /** Per partition_desc, the catalog version the plan read (for reproducibility/resume). */
  partitionVersions: Record<string, number>;
  /**
   * Incremental plans only: partitions rewritten (UpdateCommit) or dropped (DeleteCommit) within
   * the range. Their splits hold the partition's whole content as of the end of the range (none
   * when dropped), which replaces what the reader built for it from earlier increments; the splits
   * of other partitions are additions. Absent in snapshot plans.
   */
  resetPartitions?: string[];
  splits: Split[];
}

/** Options of reading a plan or split. */
export interface ReadOptions {
  batchSize?: number;
  prefetchBytes?: number;
  signal?: AbortSignal;
  /**
   * Fetch the bytes of the plan's blob columns into `<col>__bytes` (default true). False leaves those
   * columns null: a consumer that fetches each object itself, when it needs it, through
   * {@link ScanPlan.blobFetcher} (each object's own buffer, no batch-wide copy).
   */
  blobBytes?: boolean;
}

/** Reads the objects blob references point to, one at a time (io's `BlobFetcher`). */
export interface BlobValueFetcher {
  /**
   * The bytes the reference cell `value` points to (a string, or a `{ path, offset, length }` struct
   * value), as the store returned them; null for a null reference, or a missing object when the
   * plan's blob options say `onMissing: 'null'`. References outside the allowed roots are refused
   * (`PermissionDenied`, code `BLOB_OUTSIDE_ROOTS`) before any read. `into` is passed to the store
   * read (see `GetOptions.into`): local files are read into the buffer it returns.
   */
  fetch(value: unknown, signal?: AbortSignal, into?: (size: number) => Uint8Array): Promise<Uint8Array | null>;
}

/** Options of {@link ScanPlan.withRowCounts}. */
export interface RowCountOptions extends ReadOptions {
  /**
   * Row counts by stored file path, shared across plans: files found here are not read again, and
   * the counts read are added. Counting many snapshots of one table (such as one per commit, which
   * share most files) then reads each file's footer once.
   */
  rowCounts?: Map<string, number>;
}

/** A planned scan: splits plus the output schema; reading it yields merged, filtered batches. */
export interface ScanPlan {
  readonly schema: Schema;
  readonly splits: Split[];
  /** All splits in order. Early `return()` cancels prefetch and frees buffers. */
  read(options?: ReadOptions): AsyncIterable<RecordBatch>;
  /** One split (of this plan, or received as JSON by another process), merged and filtered. */
  readSplit(split: Split, options?: ReadOptions): AsyncIterable<RecordBatch>;
  /** Fill `rowCount` of every split from Parquet footers (ranged reads, no data pages). */
  withRowCounts(options?: RowCountOptions): Promise<ScanPlan>;
  /**
   * Reads blob references of `split` one at a time, inside the roots and with the `onMissing` rule
   * the plan's blob options give (null when the plan reads no blob columns).
   */
  blobFetcher(split: Split): BlobValueFetcher | null;
  /** The plan as plain JSON, for another process to read splits of (see `scanPlanFromJSON`). */
  toJSON(): ScanPlanJSON;
}

// ------------------------------------------------------------------------------------------------
// Writes

/**
 * Data accepted by writers: Arrow tables or batches (of any type convertible exactly to the table's,
 * see the arrow area's value codec), or plain objects, one per row, keyed by column name.
 */
export type WriteInput =
  | Table
  | RecordBatch
  | readonly Record<string, unknown>[]
  | Iterable<Table | RecordBatch>
  | AsyncIterable<Table | RecordBatch>;

/** Options of {@link LakeSoulTable.write}. */
export interface WriteOptions {
  /**
   * 'append' for any table; 'upsert' (PK tables): MergeCommit; 'overwrite': replace the table's rows
   * (or the partitions chosen by `replacePartitions` / `replaceWhere`) with the data, in one
   * UpdateCommit that deletes every current file of those partitions and adds the new ones. Default:
   * upsert for PK tables, else append.
   */
  mode?: 'append' | 'upsert' | 'overwrite';
  /**
   * With `mode: 'overwrite'`: only these range partitions are replaced (partition_desc strings or
   * range values, as in scans); every written row must belong to one of them.
   */
  replacePartitions?: string[] | Record<string, string | number | null>;
  /**
   * With `mode: 'overwrite'`: only the partitions whose range values satisfy this filter (on range
   * columns only) are replaced; every written row must satisfy it.
   */
  replaceWhere?: Filter;
  /** Roll to a new Parquet file past this many bytes of encoded data (default 128 MiB). */
  targetFileSize?: number;
  signal?: AbortSignal;
}

/** Result of a write. */
export interface WriteResult extends CommitResult {
  files: { path: string; size: bigint; rows: number; partitionDesc: string; bucket: number | null }[];
  rows: number;
}

/** Re-exported for convenience. */
export type { RecordBatch, Schema, Table };
