/**
 * Mapping between LakeSoulError kinds and gRPC status codes, at the boundary of the Flight server
 * (errors out) and client (statuses in).
 */
import { Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { LakeSoulError, abortedError, isAbortError, type LakeSoulErrorKind } from '@lakesoul-ts/meta';
import { shownName } from './flight-limits.js';

const KIND_TO_STATUS: Record<LakeSoulErrorKind, status> = {
  NotFound: status.NOT_FOUND,
  AlreadyExists: status.ALREADY_EXISTS,
  InvalidArgument: status.INVALID_ARGUMENT,
  SchemaMismatch: status.INVALID_ARGUMENT,
  Conflict: status.ABORTED,
  Aborted: status.ABORTED,
  Unsupported: status.UNIMPLEMENTED,
  PermissionDenied: status.PERMISSION_DENIED,
  Unauthenticated: status.UNAUTHENTICATED,
  Io: status.INTERNAL,
  Catalog: status.INTERNAL,
  Internal: status.INTERNAL,
};

const STATUS_TO_KIND: Partial<Record<status, LakeSoulErrorKind>> = {
  [status.NOT_FOUND]: 'NotFound',
  [status.ALREADY_EXISTS]: 'AlreadyExists',
  [status.INVALID_ARGUMENT]: 'InvalidArgument',
  [status.ABORTED]: 'Conflict',
  [status.UNIMPLEMENTED]: 'Unsupported',
  [status.PERMISSION_DENIED]: 'PermissionDenied',
  [status.UNAUTHENTICATED]: 'Unauthenticated',
  [status.CANCELLED]: 'Aborted',
  [status.DEADLINE_EXCEEDED]: 'Aborted',
  [status.UNAVAILABLE]: 'Io',
  [status.RESOURCE_EXHAUSTED]: 'InvalidArgument',
};

/**
 * Longest status message sent. Status details travel in trailers, which clients bound (gRPC's default
 * metadata limit is 8 KiB): a longer message would turn the error into RESOURCE_EXHAUSTED on the
 * client. Parsers quote at most a short prefix of client input; this is the last guard.
 */
export const MAX_STATUS_DETAILS_CHARS = 2048;

/**
 * Error codes answered with RESOURCE_EXHAUSTED (a server limit reached; retry later), the catalog
 * database's too (its disk full, out of memory, a resource limit: not INTERNAL, which reads as a bug).
 */
const RESOURCE_EXHAUSTED_CODES = new Set(['RESOURCE_EXHAUSTED', 'CATALOG_DISK_FULL', 'CATALOG_OUT_OF_MEMORY', 'CATALOG_RESOURCE_EXHAUSTED']);

/** What ends a message cut to {@link MAX_STATUS_DETAILS_CHARS}. */
const TRUNCATED = '... (message truncated)';

/**
 * A status message that can travel: at most {@link MAX_STATUS_DETAILS_CHARS} characters, and no
 * unpaired surrogate (gRPC percent-encodes the message with `encodeURIComponent`, which throws on
 * one, and the call would never be answered).
 */
function truncate(text: string): string {
  // the note counts towards the limit: the whole message is at most MAX_STATUS_DETAILS_CHARS
  const cut = text.length > MAX_STATUS_DETAILS_CHARS ? `${text.slice(0, MAX_STATUS_DETAILS_CHARS - TRUNCATED.length)}${TRUNCATED}` : text;
  return cut.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** Builds the message of an error: the table (when known and not already named) then the message. */
function describe(e: LakeSoulError): string {
  const table = e.context.table;
  if (typeof table === 'string' && !e.message.includes(table)) {
    const ns = typeof e.context.namespace === 'string' ? `${e.context.namespace}.` : '';
    // the name may be the client's input (a refused create-table): quoted short, control characters escaped
    return truncate(`table ${shownName(`${ns}${table}`)}: ${e.message}`);
  }
  return truncate(e.message);
}

/**
 * True when `e` names the catalog database: its address (`postgres://user:***@host:port/db`), an
 * embedded catalog's directory or a catalog server's socket. Such messages help the server's operator,
 * not a Flight client, which is told only what failed ({@link catalogMessage}).
 */
function namesCatalogDatabase(e: LakeSoulError): boolean {
  const database = e.context.database;
  if (typeof database === 'string' && database.length > 0 && e.message.includes(database)) return true;
  if (isCatalogAccessFailure(e)) return true;
  return e.kind === 'Catalog' && /:\/\/|catalog (?:database at|server of|driver for) |embedded catalog \//.test(e.message);
}

/**
 * True when the catalog database refused the server's own login or privileges (meta's mapSqlError:
 * SQLSTATE class 28 `catalog login failed`, 42501 `catalog permission denied`): a fault of the
 * server's configuration, not of the client's credentials, so it is neither UNAUTHENTICATED nor
 * PERMISSION_DENIED to the client (and its message names the database role and address). Told by the
 * SQLSTATE the error carries, else by its message, also when a caller prefixed it (a commit's
 * "commit … failed, nothing was committed: catalog permission denied: …").
 */
function isCatalogAccessFailure(e: LakeSoulError): boolean {
  if (e.kind !== 'Unauthenticated' && e.kind !== 'PermissionDenied') return false;
  const sqlState = e.context.sqlState;
  if (typeof sqlState === 'string' && (sqlState === '42501' || sqlState.startsWith('28'))) return true;
  return /(?:^|: )catalog (?:login failed|permission denied): /.test(e.message);
}

/** What a Flight client is told of a catalog failure that names the catalog database. */
function catalogMessage(e: LakeSoulError, code: status): string {
  if (e.code === 'TRANSACTION_OUTCOME_UNKNOWN') {
    return 'the catalog database did not confirm the commit: it may or may not have taken effect (look at the table before writing again)';
  }
  if (code === status.UNAVAILABLE) return 'the catalog is unavailable (retry later)';
  if (code === status.RESOURCE_EXHAUSTED) return 'the catalog database is out of a resource (retry later)';
  if (isCatalogAccessFailure(e)) return `the catalog database refused this server's ${e.kind === 'Unauthenticated' ? 'login' : 'access'} (a server configuration fault, not your credentials); the server's log has the details`;
  return `the catalog failed (${e.code}); the server's log has the details`;
}

/**
 * The gRPC status of any error thrown inside a handler (the table named in the message). A catalog
 * failure naming the catalog database (its address and user) is answered with a generic message of
 * the same status and code, and its whole message goes to `log` (the server's operator needs it).
 */
export function toGrpcStatus(e: unknown, log?: (message: string) => void): Partial<StatusObject> {
  const metadata = new Metadata();
  if (LakeSoulError.is(e)) {
    metadata.set('x-lakesoul-error-kind', e.kind);
    metadata.set('x-lakesoul-error-code', e.code);
    // a storage or catalog failure that may pass (a reset, a 503, a restarting PostgreSQL) is UNAVAILABLE,
    // which clients retry, not INTERNAL, which reads as a server bug
    const access = isCatalogAccessFailure(e);
    const code = RESOURCE_EXHAUSTED_CODES.has(e.code) ? status.RESOURCE_EXHAUSTED
      : access ? status.INTERNAL
        : (e.kind === 'Io' || e.kind === 'Catalog') && e.retryable ? status.UNAVAILABLE
          : KIND_TO_STATUS[e.kind] ?? status.INTERNAL;
    if (access) metadata.set('x-lakesoul-error-kind', 'Catalog');
    if (namesCatalogDatabase(e)) {
      log?.(`${e.code}: ${e.message}`);
      const shown = new LakeSoulError(access ? 'Catalog' : e.kind, catalogMessage(e, code), { code: e.code, context: { table: e.context.table, namespace: e.context.namespace } });
      return { code, details: describe(shown), metadata };
    }
    return { code, details: describe(e), metadata };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { code: status.INTERNAL, details: truncate(`internal error: ${message}`), metadata };
}

/**
 * True for a gRPC call's error (grpc-js `ServiceError`: a numeric status `code`, `details` and
 * `metadata`), not any error with a numeric `code` (a DOMException's legacy code: an AbortError's is 20).
 */
function isServiceError(e: unknown): e is ServiceError {
  const err = e as Partial<ServiceError> | null;
  // duck-typed: another copy of grpc-js has its own Metadata class
  return typeof err?.code === 'number' && typeof err.details === 'string' && typeof err.metadata?.get === 'function';
}

/**
 * The LakeSoulError for a failed client call (kind from the server's metadata or the status code).
 * An abort however it surfaced (an AbortError, an `Aborted` LakeSoulError) is kind `Aborted`.
 */
export function fromGrpcError(e: unknown, what: string): LakeSoulError {
  if (LakeSoulError.is(e)) return e;
  if (isServiceError(e)) {
    const err = e;
    const kindHeader = err.metadata?.get('x-lakesoul-error-kind')[0];
    const codeHeader = err.metadata?.get('x-lakesoul-error-code')[0];
    const kind = (typeof kindHeader === 'string' && kindHeader in KIND_TO_STATUS ? kindHeader : STATUS_TO_KIND[err.code as status] ?? 'Internal') as LakeSoulErrorKind;
    return new LakeSoulError(kind, `Flight ${what} failed (${status[err.code] ?? err.code}): ${err.details ?? err.message}`, {
      code: typeof codeHeader === 'string' ? codeHeader : undefined,
      retryable: err.code === status.UNAVAILABLE || err.code === status.ABORTED,
      context: { grpcCode: err.code },
      cause: e,
    });
  }
  if (isAbortError(e)) return abortedError(`Flight ${what}`, e);
  return new LakeSoulError('Internal', `Flight ${what} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}
