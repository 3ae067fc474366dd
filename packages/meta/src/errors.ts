/**
 * The one error type of lakesoul-ts. Every package maps its dependencies' errors (PostgreSQL SQLSTATE,
 * S3 status, gRPC status, parquet decoding) to a `LakeSoulError` at its boundary, so callers can branch
 * on `kind`/`code` and read the table, partition, file or column from `context`.
 */

/** Broad category of a failure; connectors map it to their host's status codes. */
export type LakeSoulErrorKind =
  | 'NotFound'
  | 'AlreadyExists'
  | 'InvalidArgument'
  | 'SchemaMismatch'
  | 'Conflict'
  | 'Unsupported'
  | 'Io'
  | 'Catalog'
  | 'PermissionDenied'
  | 'Unauthenticated'
  | 'Aborted'
  | 'Internal';

/**
 * Every code a lakesoul-ts package throws, each with the kind it comes with (docs/errors.md lists
 * them with what each means; `e2e/error-codes.test.ts` checks that each code the sources throw is
 * here). Branch through {@link LakeSoulError.hasCode}, whose argument is this union, so a misspelt or
 * retired code fails to compile. The codes control flow typically branches on (retry loops,
 * create-if-missing, probes for a missing object) come first, documented one by one. An error without
 * a code of its own carries its kind in SNAKE_CASE (`NOT_FOUND`, `INVALID_ARGUMENT`...): branch on
 * the kind with {@link LakeSoulError.is} there. The `code` field stays open: an error relayed from
 * another process (a catalog server, a Flight server) of another version may carry a code not listed.
 */
export type LakeSoulErrorCode =
  /** Conflict, retryable: another writer took the partition version; re-read and commit again. */
  | 'COMMIT_CONFLICT'
  /** Conflict, not retryable as is: the commit cannot be rebased over a version committed since its read. */
  | 'COMMIT_REBASE_FAILED'
  /** Conflict, retryable: the table's schema changed after the writer read it (files made under the old one are not committed); run the write again. */
  | 'SCHEMA_CHANGED'
  /** Catalog, not retryable: the connection was lost while a transaction committed; it may have committed (the commit path resolves this itself). */
  | 'TRANSACTION_OUTCOME_UNKNOWN'
  /** Catalog, not retryable: a commit's outcome could not be learnt (the catalog stayed unreachable): check the history before writing again. */
  | 'COMMIT_OUTCOME_UNKNOWN'
  /** Conflict, retryable: the database aborted the transaction (40001 serialization failure, 40P01 deadlock, 55P03 lock not available). */
  | 'TRANSACTION_CONFLICT'
  /** AlreadyExists: a unique key other than a partition version (the constraint is in `context.constraint`). */
  | 'ALREADY_EXISTS'
  | 'TABLE_EXISTS'
  /** Conflict, retryable: another process is creating the table from data and has not committed the data yet (`Lakehouse.createTable`/`openOrCreate`; context `pid`, `host`). */
  | 'TABLE_BEING_CREATED'
  | 'REPLACED_TABLE_GONE'
  | 'TABLE_PATH_EXISTS'
  | 'TABLE_PATH_OVERLAP'
  | 'TABLE_NOT_FOUND'
  | 'NAMESPACE_NOT_FOUND'
  | 'VERSION_NOT_FOUND'
  | 'OBJECT_NOT_FOUND'
  /** PermissionDenied: a confined read resolved (through a symbolic link) outside the allowed roots (`context.realPath`). */
  | 'PATH_OUTSIDE_ROOT'
  | 'INVALID_NAME'
  | 'INVALID_TABLE_PATH'
  /** InvalidArgument: a data file's path is longer than the local file system takes (`context.file`). */
  | 'PATH_TOO_LONG'
  | 'INVALID_PARTITION_VALUE'
  /** Catalog, retryable: the database cannot be reached or refused the connection for now. */
  | 'CATALOG_UNAVAILABLE'
  /** NotFound: an embedded catalog's directory was moved or deleted while a program used it through its catalog server. */
  | 'CATALOG_DIR_GONE'
  /** Unauthenticated, not retryable: the PostgreSQL server asked for a password (SCRAM) and none was given. */
  | 'CATALOG_NO_PASSWORD'
  /** Catalog, not retryable: the database could not take a statement (SQLSTATE 08P01, e.g. more than 65,535 parameters). */
  | 'CATALOG_PROTOCOL_VIOLATION'
  /**
   * Catalog, not retryable as is: the result of a statement run through a catalog server (an embedded
   * catalog shared by processes) is over the 256 MB one reply may hold (`context.bytes`); read less at a time.
   */
  | 'CATALOG_REPLY_TOO_LARGE'
  /**
   * Catalog: an embedded catalog directory is open in another process that does not serve it
   * (`context.pid`, `context.dataDir`), still after `Catalog.open`'s `lockWaitMs`.
   */
  | 'CATALOG_LOCKED'
  /**
   * Catalog, retryable: a catalog statement got no answer within the driver's query timeout (a silent
   * network, a lock held by another session); it was cancelled and its connection closed
   * (`context.statement` names it). A COMMIT that times out is `TRANSACTION_OUTCOME_UNKNOWN` instead.
   */
  | 'CATALOG_TIMEOUT'
  /** Catalog, not retryable as is: the catalog database's disk is full (SQLSTATE 53100); the statement and its transaction failed. Free space on the PostgreSQL server. */
  | 'CATALOG_DISK_FULL'
  /** Catalog, retryable: the catalog database ran out of memory (SQLSTATE 53200); the statement and its transaction failed. */
  | 'CATALOG_OUT_OF_MEMORY'
  /** Catalog, not retryable as is: another resource limit of the catalog database was reached (SQLSTATE class 53, e.g. 53400 configuration_limit_exceeded); the statement and its transaction failed. */
  | 'CATALOG_RESOURCE_EXHAUSTED'
  /** Catalog, not retryable as is: the catalog database refused a write because it is read-only (SQLSTATE 25006: a standby, or `default_transaction_read_only` on); point the catalog at the primary. */
  | 'CATALOG_READ_ONLY'
  /** Catalog: the catalog schema is missing or incomplete. */
  | 'CATALOG_SCHEMA'
  /** Unsupported: the catalog was created by a LakeSoul release older than this version reads (columns missing: `context.missing`). */
  | 'CATALOG_SCHEMA_OUTDATED'
  /** InvalidArgument: an options object holds a key the call does not know (a misspelling: see `context.option`). */
  | 'UNKNOWN_OPTION'
  /** InvalidArgument: an enum-like option (`mode`, `schemaMode`...) holds a value it does not take. */
  | 'INVALID_OPTION_VALUE'
  /** Aborted: the call's AbortSignal fired; the reason is the error's `cause`. */
  | 'ABORTED'
  /** SchemaMismatch: a value cannot be converted to its column's type without loss (row and column in `context`). */
  | 'VALUE_NOT_CONVERTIBLE'
  /** SchemaMismatch: a write names a column the table does not have. */
  | 'UNKNOWN_COLUMN'
  /** SchemaMismatch: a schema change LakeSoul's readers could not follow (a new non-nullable column, a narrowing). */
  | 'SCHEMA_EVOLUTION_REFUSED'
  /** InvalidArgument: a scan at a version selects more than one partition (versions are per partition). */
  | 'VERSION_NEEDS_PARTITION'
  /** InvalidArgument: a filter text does not parse. */
  | 'FILTER_SYNTAX'
  /** An int64 value with no exact JS number where numbers were asked for (connector-danfo's `int64: 'number'`). */
  | 'INT64_OUT_OF_RANGE'
  /** Unauthenticated: the credentials a client gave are wrong (a password, a token); servers count these per client host (see `FailedLoginLimiter`). */
  | 'BAD_CREDENTIALS'
  // the codes of the kinds (an error with no code of its own); branch on the kind (docs/errors.md)
  | 'NOT_FOUND'
  | 'INVALID_ARGUMENT'
  | 'SCHEMA_MISMATCH'
  | 'CONFLICT'
  | 'UNSUPPORTED'
  | 'IO'
  | 'CATALOG'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'INTERNAL'
  // meta: the catalog (docs/errors.md)
  | 'CATALOG_CLOSING'
  | 'CATALOG_INCONSISTENT'
  | 'CATALOG_TRANSACTION_EXPIRED'
  | 'COMMIT_ALREADY_LANDED'
  | 'COMMIT_ROWS_MISSING'
  | 'DRIVER_CLOSED'
  | 'INVALID_CATALOG_DIR'
  | 'INVALID_CATALOG_URL'
  | 'INVALID_OPTIONS'
  | 'INVALID_SCHEMA_JSON'
  | 'NAMESPACE_NOT_EMPTY'
  | 'UNSUPPORTED_PARTITION_TYPE'
  // io: tables, files, stores, blobs (docs/errors.md)
  | 'BLOB_BAD_REFERENCE'
  | 'BLOB_OUTSIDE_ROOTS'
  | 'BLOB_RANGE_OUT_OF_BOUNDS'
  | 'BLOB_STORE_NOT_CONFINED'
  | 'BUCKET_NOT_FOUND'
  | 'BUCKET_RULE_UNKNOWN'
  | 'CORRUPT_FILE'
  | 'EMPTY_SCHEMA'
  | 'FILTER_INVALID'
  | 'FILTER_UNKNOWN_COLUMN'
  | 'FOREIGN_ARROW_OBJECT'
  /** InvalidArgument: an incremental scan's `end` is later than now (the commits until then would be in no range). */
  | 'INCREMENTAL_END_IN_FUTURE'
  | 'INVALID_PARTITION'
  | 'INVALID_S3_ENDPOINT'
  | 'INVALID_WAREHOUSE'
  | 'LIMIT_EXCEEDED'
  | 'MISSING_COLUMN'
  | 'NATIVE_CODEC_MISSING'
  | 'NOT_A_RANGE_COLUMN'
  | 'ORPHAN_WINDOW_TOO_SHORT'
  | 'OUTSIDE_OVERWRITE'
  | 'PURGE_FOREIGN_FILES'
  | 'S3_RESPONSE_LENGTH'
  | 'S3_RESPONSE_STALLED'
  | 'STAGED_DISCARDED'
  | 'STAGED_FILES_MISSING'
  | 'STAGED_MIXED_OPS'
  | 'STAGED_NOT_COMBINABLE'
  | 'STAGED_OTHER_PLAN'
  | 'STAGED_SCHEMAS_DIFFER'
  | 'STAGED_WRONG_TABLE'
  | 'TABLE_PATH_NOT_EMPTY'
  | 'UNSUPPORTED_COLUMN_TYPE'
  | 'UNSUPPORTED_FILE_FORMAT'
  | 'UNSUPPORTED_KEY_TYPE'
  | 'UNSUPPORTED_SCHEME'
  // connector-tfjs: datasets, images, resume (docs/errors.md)
  | 'BAD_DATASET_OPTION'
  | 'BAD_DECODE_OPTION'
  | 'BAD_SHARD_OPTION'
  | 'BINARY_FEATURE'
  | 'COLUMN_NOT_FOUND'
  | 'DUPLICATE_SPLIT'
  | 'EMPTY_SHARD'
  | 'EQUALIZE_SHORT'
  | 'FLOAT32_OUT_OF_RANGE'
  | 'IMAGE_COLUMN_NOT_READ'
  | 'IMAGE_COLUMN_REQUIRED'
  | 'IMAGE_DECODE'
  | 'IMAGE_MISSING'
  | 'INT32_OUT_OF_RANGE'
  | 'ITERATOR_OVERTAKEN'
  | 'LABEL_OUT_OF_RANGE'
  | 'LABEL_TYPE_REQUIRED'
  | 'NULL_FEATURE'
  | 'NULL_LABEL'
  | 'RAGGED_FEATURE'
  | 'RESUME_MISMATCH'
  | 'RESUME_PAST_END'
  | 'RESUME_POSITION'
  | 'RESUME_VERSION_MISMATCH'
  | 'ROW_COUNTS_REQUIRED'
  | 'ROW_COUNT_MISMATCH'
  | 'SHARP_MISSING'
  | 'TFJS_MISSING'
  | 'TFJS_NO_BACKEND'
  | 'TFJS_NODE_MISSING'
  | 'UNKNOWN_LABEL'
  | 'UNSUPPORTED_FEATURE'
  | 'UNSUPPORTED_LABEL'
  // connector-danfo: DataFrames (docs/errors.md)
  | 'DANFO_NOT_AVAILABLE'
  | 'DATAFRAME_COLUMN_MISSING'
  | 'DATAFRAME_COLUMN_UNKNOWN'
  | 'DATAFRAME_TYPE_MISMATCH'
  | 'INVALID_INPUT'
  /** InvalidArgument: an incremental read into DataFrames rewrote or dropped partitions and the caller did not say how to take them (`onResetPartitions`). */
  | 'RESET_PARTITIONS_NOT_ACKNOWLEDGED'
  | 'TIMESTAMP_OUT_OF_RANGE'
  | 'UNKNOWN_TIME_ZONE'
  | 'UNSUPPORTED_TYPE'
  // connector-flight: the Flight server and client (docs/errors.md)
  | 'BAD_DESCRIPTOR'
  | 'COLUMN_NAME_INVALID'
  | 'DEADLINE_EXCEEDED'
  | 'DOPUT_END_UNDECLARED'
  | 'DOPUT_IDLE'
  | 'DOPUT_ROW_COUNT'
  | 'EMPTY_CREDENTIAL'
  | 'FLIGHT_SQL_BAD_HANDLE'
  | 'FLIGHT_SQL_NO_CATALOG'
  | 'FLIGHT_SQL_PROTOBUF'
  | 'FLIGHT_SQL_UNSUPPORTED_COMMAND'
  | 'FLIGHT_SQL_UNSUPPORTED_STATEMENT'
  | 'HANDSHAKE_TOO_LARGE'
  | 'INVALID_ARROW_DATA'
  | 'JSON_INVALID'
  | 'NAME_INVALID'
  | 'NUL_CHARACTER'
  | 'RESOURCE_EXHAUSTED'
  | 'ROW_OVER_MESSAGE_BOUND'
  | 'TICKET_EXPIRED'
  | 'TICKET_INVALID'
  | 'TICKET_SECRET_REQUIRED'
  | 'TICKET_TABLE_DROPPED'
  | 'TOKEN_USER_UNKNOWN'
  | 'TRANSACTION_BUSY'
  | 'TRANSACTION_ENDED'
  | 'TRANSACTION_FAILED'
  | 'TRANSACTION_INVALID'
  | 'TRANSACTION_MIXED_MODES'
  | 'TRANSACTION_NOT_FOUND'
  | 'TRANSACTION_ROW_COUNT'
  | 'TRANSACTION_STREAM_MISSING'
  | 'TRANSACTION_STREAM_TWICE'
  | 'TRANSACTION_WRONG_TABLE'
  | 'UNKNOWN_KEY'
  // cli: the lakesoul-ts command (docs/errors.md)
  | 'BAD_SCHEMA_SPEC'
  | 'CATALOG_DIR_UNREADABLE'
  | 'DEMO_DIR_IN_USE'
  | 'INPUT_IS_FOLDER'
  | 'INPUT_NOT_FOUND'
  | 'INTERRUPTED'
  | 'INVALID_UTF8'
  | 'PARTITION_NOT_FOUND'
  | 'PORT_IN_USE'
  | 'SERVE_UNAUTHENTICATED_EXPOSURE'
  | 'VERSION_CLEANED_UP'
  // ui: the web UI's server and API (docs/errors.md)
  | 'UI_AUTH_REQUIRED'
  | 'UI_BAD_BUDGET'
  | 'UI_BAD_DIFF_RANGE'
  | 'UI_BAD_LIMIT'
  | 'UI_BAD_OFFSET'
  | 'UI_BAD_PARAMETER'
  | 'UI_BAD_ROW'
  | 'UI_BAD_TOKEN'
  | 'UI_BLOB_CHANGED'
  | 'UI_EMPTY_TOKEN'
  | 'UI_HOST_REFUSED'
  | 'UI_NOT_BLOB_COLUMN'
  | 'UI_NOT_BUILT'
  | 'UI_NOT_IMAGE'
  | 'UI_NO_BLOB'
  | 'UI_NO_ROUTE'
  | 'UI_NO_ROW';

/** Structured context attached to an error: what it was about. */
export interface LakeSoulErrorContext {
  table?: string;
  namespace?: string;
  partition?: string;
  file?: string;
  column?: string;
  row?: number | string;
  [key: string]: unknown;
}

/** Options of the {@link LakeSoulError} constructor. */
export interface LakeSoulErrorOptions {
  /** Stable machine-readable code, e.g. `TABLE_NOT_FOUND`. Defaults to the kind in SNAKE_CASE. */
  code?: LakeSoulErrorCode | (string & {});
  /** True when retrying the same operation may succeed (commit conflicts, throttling, timeouts). */
  retryable?: boolean;
  context?: LakeSoulErrorContext;
  cause?: unknown;
}

/** Base error of every lakesoul-ts package. */
export class LakeSoulError extends Error {
  override readonly name = 'LakeSoulError';
  readonly kind: LakeSoulErrorKind;
  /** Stable code; those callers branch on are {@link LakeSoulErrorCode}s. */
  readonly code: LakeSoulErrorCode | (string & {});
  readonly retryable: boolean;
  readonly context: LakeSoulErrorContext;

  constructor(kind: LakeSoulErrorKind, message: string, options: LakeSoulErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.code = options.code ?? kind.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
    this.retryable = options.retryable ?? false;
    this.context = options.context ?? {};
  }

  /** True when `e` is a LakeSoulError whose code is one of `codes` (typed: see {@link LakeSoulErrorCode}). */
  static hasCode<C extends LakeSoulErrorCode>(e: unknown, ...codes: C[]): e is LakeSoulError & { readonly code: C } {
    return e instanceof LakeSoulError && (codes as string[]).includes(e.code);
  }

  /** True when `e` is a LakeSoulError, optionally of the given kind. */
  static is(e: unknown, kind?: LakeSoulErrorKind): e is LakeSoulError {
    return e instanceof LakeSoulError && (kind === undefined || e.kind === kind);
  }
}

/**
 * A caller's value as an error message shows it: JSON, with bigints as `10n` and anything JSON
 * cannot write (a cycle, a function) by `String` — never a `TypeError` of its own in place of the
 * error being built (`JSON.stringify` throws on a bigint).
 */
export function inputText(value: unknown): string {
  // bigints become a string marked by a character JSON leaves as it is and callers hardly write
  const mark = '\uE000';
  try {
    const json = JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? `${mark}${v}n` : v));
    return json === undefined ? String(value) : json.replace(new RegExp(`"${mark}(-?\\d+n)"`, 'g'), '$1');
  } catch {
    return String(value);
  }
}
