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
  code?: string;
  /** True when retrying the same operation may succeed (commit conflicts, throttling, timeouts). */
  retryable?: boolean;
  context?: LakeSoulErrorContext;
  cause?: unknown;
}

/** Base error of every lakesoul-ts package. */
export class LakeSoulError extends Error {
  override readonly name = 'LakeSoulError';
  readonly kind: LakeSoulErrorKind;
  readonly code: string;
  readonly retryable: boolean;
  readonly context: LakeSoulErrorContext;

  constructor(kind: LakeSoulErrorKind, message: string, options: LakeSoulErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.code = options.code ?? kind.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
    this.retryable = options.retryable ?? false;
    this.context = options.context ?? {};
  }

  /** True when `e` is a LakeSoulError, optionally of the given kind. */
  static is(e: unknown, kind?: LakeSoulErrorKind): e is LakeSoulError {
    return e instanceof LakeSoulError && (kind === undefined || e.kind === kind);
  }
}
