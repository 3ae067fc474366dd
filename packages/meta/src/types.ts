/**
 * Public data types of the catalog. These are the contract between `@lakesoul-ts/meta` and its users
 * (`@lakesoul-ts/io`, the connectors, the CLI); see ../../../docs/ and lakesoul-protocol.md §1-3.
 */
import type { Schema } from 'apache-arrow';

/** The LakeSoul commit operations (partition_info.commit_op / data_commit_info.commit_op). */
export type CommitOp = 'AppendCommit' | 'MergeCommit' | 'CompactionCommit' | 'UpdateCommit' | 'DeleteCommit';

/** One entry of a commit's `file_ops` (the `data_file_op` composite type). */
export interface DataFileOp {
  /** Fully qualified URI of the data file (`file:///...`, `s3://bucket/...`). */
  path: string;
  op: 'add' | 'del';
  /** File size in bytes. */
  size: bigint;
  /** Column names physically in the file (range columns excluded); stored comma-joined. */
  existCols: string[];
}

/** A namespace row. */
export interface NamespaceInfo {
  name: string;
  properties: Record<string, string>;
  comment: string;
  domain: string;
}

/** A table as the catalog knows it (table_info, decoded). */
export interface TableInfo {
  /** `table_<uuid>` */
  tableId: string;
  namespace: string;
  name: string;
  /** Fully qualified URI without trailing slash. */
  path: string;
  /** Full Arrow schema: data columns, range-partition columns and the CDC column. */
  schema: Schema;
  /** table_schema as stored (Arrow-Java JSON). */
  schemaJson: string;
  /** Range-partition columns, in order. */
  rangePartitions: string[];
  /** Primary-key columns, in order (empty for non-PK tables). */
  primaryKeys: string[];
  /**
   * Hash bucket count; -1 for non-PK tables. A primary-key table whose `hashBucketNum` property is
   * missing or no count (an integer from 1 to 2^31-1) is refused by `getTable` and the other
   * single-table lookups (`CATALOG_INCONSISTENT`, naming the table and the value); its entry in
   * `listTables` has -1 here and {@link TableInfo.unsupported} set.
   */
  hashBucketNum: number;
  /** CDC change column name when the table is a CDC table. */
  cdcColumn?: string;
  /** table_info.properties (all values are strings). */
  properties: Record<string, string>;
  domain: string;
  /**
   * Set only on an entry of `Catalog.listTables` (or `getTableEntry`) for a table this version cannot
   * read or write: the error that reading the table gives. Either its stored schema (`schemaJson`)
   * does not decode (a type it does not support, written by another engine), and then the entry's
   * `schema` has no fields (it is not the table's); or it has a primary key and its `hashBucketNum`
   * property is missing or no bucket count (`properties.hashBucketNum` holds the stored value). The
   * entry is listed so the table can be seen and dropped (`Catalog.dropTable` needs neither).
   * `getTable` and the other single-table lookups throw that error instead.
   */
  unsupported?: string;
}

/** Options of {@link Catalog.createTable}. */
export interface CreateTableOptions {
  namespace?: string;
  name: string;
  /** Fully qualified table URI (no trailing slash is stored). */
  path: string;
  schema: Schema;
  rangePartitions?: string[];
  primaryKeys?: string[];
  /** Power of two; required (>0) for PK tables, ignored (-1) otherwise. Default 4 for PK tables. */
  hashBucketNum?: number;
  cdcColumn?: string;
  /**
   * Extra properties (numbers and booleans become strings; `null` or `undefined` leaves the property
   * out; another value is InvalidArgument naming the property).
   */
  properties?: Record<string, string | number | boolean>;
  /** Return the existing table instead of failing with AlreadyExists when one with the name exists. */
  ifNotExists?: boolean;
  /**
   * The id of a table of the same name and path that has no commit (a create whose first write was
   * abandoned), dropped in the create's own transaction: no moment passes without a table at the name,
   * and a commit to the old table after it fails (its table is gone). When that table has a commit by
   * then, the create fails AlreadyExists `TABLE_EXISTS`; when it is gone (or its name or path is not
   * this create's), NotFound `REPLACED_TABLE_GONE`, nothing changed.
   */
  replaceEmptyTable?: string;
}

/** One partition's part of a commit. */
export interface PartitionCommit {
  /** Encoded partition_desc (`"date=2024-01-01"`, `"-5"` for unpartitioned tables). */
  partitionDesc: string;
  /** file_ops of this commit for this partition ('add' and, for UpdateCommit, 'del'). */
  files: DataFileOp[];
  /**
   * For CompactionCommit / UpdateCommit: the partition version the writer read, so the catalog can
   * compute `[new] ++ (current - read)` and detect interleaved Update/Compaction commits.
   */
  readVersion?: number;
}

/** Options of {@link Catalog.commit}. */
export interface CommitRequest {
  tableId: string;
  op: CommitOp;
  partitions: PartitionCommit[];
  /** Client epoch-ms stamped on data_commit_info.timestamp; default Date.now(). */
  timestamp?: number;
  /** Conflict retries before failing with a Conflict error (default 5, like upstream). */
  maxRetries?: number;
  /** The table schema the files were made under, checked (and evolved) in the commit's transaction. */
  schema?: CommitSchema;
  signal?: AbortSignal;
}

/**
 * The table schema a commit's files depend on. It is checked in the transaction that commits them,
 * holding the table row against schema changes, so a change committed by another writer meanwhile
 * fails the commit (a retryable Conflict `SCHEMA_CHANGED`; nothing is committed) instead of
 * committing files that contradict the table's schema.
 */
export interface CommitSchema {
  /**
   * The table schema existing rows were read under (a rewrite: compaction, update, delete). The table's
   * schema must still be exactly this one: a rewrite under an older schema would leave out a column
   * added since (its values lost) or narrow a widened one.
   */
  readWith?: Schema;
  /**
   * The table schemas the files were encoded under (one per staged write combined). Every column
   * they hold must be in the table's schema with that type (a column widened meanwhile would hold
   * values rounded to the narrower type).
   */
  written?: Schema[];
  /**
   * Evolve the table's schema by the written schemas first (`mergeSchemas`: missing columns appended,
   * wider types widened; a `schemaMode: 'merge'` write), in the same transaction as the data: a commit
   * that fails changes no schema.
   */
  evolve?: boolean;
}

/** Result of a successful commit. */
export interface CommitResult {
  /** New version per partition_desc (a partition dropped from a CompactionCommit is absent). */
  versions: Map<string, number>;
  /** commit_id per partition_desc. */
  commitIds: Map<string, string>;
  /** Number of conflict retries it took. */
  retries: number;
}

/** A data file in a resolved snapshot, in merge order. */
export interface SnapshotFile {
  path: string;
  size: bigint;
  existCols: string[];
  /** Bucket id parsed from the file name (`_(\d+)(\..*)?$`), 0 when absent. */
  bucket: number;
  commitId: string;
}

/** One partition of a resolved snapshot. */
export interface PartitionSnapshot {
  partitionDesc: string;
  /** Partition version this snapshot is at. */
  version: number;
  commitOp: CommitOp;
  /** partition_info.timestamp (epoch ms) of that version. */
  timestamp: number;
  /** Files in merge priority order: later = newer. */
  files: SnapshotFile[];
  /**
   * Incremental snapshots only: the partition was rewritten (UpdateCommit) or dropped (DeleteCommit)
   * within the range, so `files` is its whole content as of the end of the range (none when it was
   * dropped), which REPLACES whatever the reader built for this partition from earlier increments.
   * Absent otherwise (the files are additions on top of the reader's state).
   */
  reset?: boolean;
}

/** Which snapshot to read. At most one of version / timestamp / incremental. */
export interface SnapshotOptions {
  /** Partition version (applied to every selected partition). */
  version?: number;
  /** Epoch ms: per partition `max(version) where timestamp < T` (strict, like upstream native). */
  timestamp?: number;
  /** Incremental range of epoch ms, [start, end). */
  incremental?: { start: number; end: number };
  /** Restrict to these partition_desc values, or to partitions whose range values match. */
  partitions?: string[] | Record<string, string | number | null>;
  /**
   * Keep only the partitions whose description this returns true for (with `partitions`, those that
   * pass both). The catalog tests it on the versions it finds and reads the snapshots of the kept
   * partitions only: a scan's filter on range columns (`day = '2026-12-01'`) reads one partition's
   * snapshot, not every partition's.
   */
  partitionMatch?: (partitionDesc: string) => boolean;
  signal?: AbortSignal;
  /**
   * Called with the table's entry as the read found it (its schema of now), before the snapshot is
   * read: a reader holding an older copy of the entry takes it from here instead of another query.
   * Called a second time, after the snapshot is read, when another writer changed the schema in
   * between (a merge write widens or adds columns in its commit): the last entry given covers every
   * file of the snapshot.
   */
  onTableInfo?: (table: TableInfo) => void;
}

/** One version of one partition (history). */
export interface PartitionVersion {
  partitionDesc: string;
  version: number;
  commitOp: CommitOp;
  timestamp: number;
  /**
   * The ids of every commit in force at this version: as long as the partition's history since its
   * last compaction, so a whole history of these is quadratic in its commits
   * ({@link PartitionVersionSummary} leaves them out).
   */
  snapshot: string[];
}

/**
 * One version of one partition without its snapshot (`Catalog.historySummary`): what a commit log
 * shows. Its size does not grow with the history before it.
 */
export type PartitionVersionSummary = Omit<PartitionVersion, 'snapshot'>;

/** Options of {@link Catalog.createNamespace}. */
export interface CreateNamespaceOptions {
  /** namespace.properties (values become strings). */
  properties?: Record<string, string | number | boolean>;
  comment?: string;
  /** Return the existing namespace instead of failing with AlreadyExists. */
  ifNotExists?: boolean;
  signal?: AbortSignal;
}

/** Options of {@link Catalog.dropNamespace}. */
export interface DropNamespaceOptions {
  /** Also drop the namespace's tables (their data file paths are returned); otherwise a non-empty namespace is refused. */
  cascade?: boolean;
  /** Succeed when the namespace does not exist. */
  ifExists?: boolean;
  signal?: AbortSignal;
}

/** Result of dropping a table or namespace: every data file path the dropped commits referenced. */
export interface DropResult {
  /** Fully qualified data file paths (deduplicated); the io layer deletes them on request. */
  files: string[];
}

/** Options of the catalog's read calls (get/list/history). */
export interface CatalogCallOptions {
  signal?: AbortSignal;
}

/** Options of {@link Catalog.history}. */
export interface HistoryOptions {
  /** Only this partition. */
  partitionDesc?: string;
  /**
   * Only the versions of the newest `commits` commits (a commit stamps one time on every version it
   * makes): a table written for years holds one version per commit, and every version lists all the
   * commits in force, so its whole history is large.
   */
  commits?: number;
  signal?: AbortSignal;
}
