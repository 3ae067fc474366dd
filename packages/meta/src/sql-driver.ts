/**
 * The SQL seam of the catalog: one small interface, two implementations ({@link PgDriver} for a
 * PostgreSQL server, {@link PGliteDriver} for the embedded engine) that run the very same SQL.
 */
import { LakeSoulError, type LakeSoulErrorContext } from './errors.js';

/** What a driver can do beyond plain queries. */
export interface SqlDriverCapabilities {
  /** Several transactions can be open at once (false for PGlite: one session, transactions are serialized). */
  concurrentTransactions: boolean;
  /** Other processes can share the catalog (a server); false for an embedded PGlite directory. */
  multiProcess: boolean;
  /** LISTEN/NOTIFY is available through {@link SqlDriver.listen}. */
  listenNotify: boolean;
}

/** Result of {@link SqlExecutor.query}. */
export interface SqlQueryResult<R> {
  rows: R[];
  /** Rows returned or affected. */
  rowCount: number;
}

/** Options of a single query. */
export interface SqlQueryOptions {
  /**
   * An aborted signal fails the call with kind `Aborted`, about when it aborts, whatever the call
   * waits for: a pool connection, its turn behind another transaction, a statement in flight
   * (`PgDriver` cancels it on the server and closes its connection), a catalog server's reply (the
   * server may still run it; its reply is dropped), a transaction's BEGIN. A COMMIT is never given up
   * on a signal (its outcome would be unknown).
   */
  signal?: AbortSignal;
}

/** Something that runs parameterized SQL: a driver, or the transaction handle given to `transaction(fn)`. */
export interface SqlExecutor {
  /**
   * Runs ONE statement with `$1..$n` parameters. Errors are mapped to {@link LakeSoulError}
   * (see {@link mapSqlError}); no driver error escapes.
   */
  query<R = Record<string, unknown>>(text: string, params?: unknown[], options?: SqlQueryOptions): Promise<SqlQueryResult<R>>;
}

/**
 * The catalog's SQL driver.
 *
 * # Contract
 * Every method fails only with a {@link LakeSoulError} (the driver's error is its `cause`, the
 * SQLSTATE in `context.sqlState`), mapped by {@link mapSqlError} the same way for every driver, except
 * that `transaction` rethrows what its callback threw as it is (see there):
 * - `Conflict`, retryable: `COMMIT_CONFLICT` (a unique violation of
 *   {@link PARTITION_VERSION_CONSTRAINT}) or `TRANSACTION_CONFLICT` (40001, 40P01, 55P03);
 * - `AlreadyExists` `ALREADY_EXISTS`: any other unique violation (`context.constraint` names it);
 * - `InvalidArgument`: other data or integrity errors (SQLSTATE classes 22, 23);
 * - `Aborted`: the call's `signal` was aborted before the statement was sent (or, on `PgDriver`,
 *   while it ran), or the statement was cancelled (57014);
 * - `Catalog`: `CATALOG_UNAVAILABLE` (retryable: connection refused or lost, server starting up or
 *   shutting down, too many connections, a connection pool exhausted), `CATALOG_TIMEOUT` (retryable: a
 *   statement got no answer within the driver's query timeout; a COMMIT that did is
 *   `TRANSACTION_OUTCOME_UNKNOWN`), `CATALOG_DISK_FULL` (53100), `CATALOG_OUT_OF_MEMORY` (53200,
 *   retryable), `CATALOG_RESOURCE_EXHAUSTED` (the rest of SQLSTATE class 53),
 *   `CATALOG_SCHEMA` (a catalog table or function is missing: bootstrap),
 *   `DRIVER_CLOSED` (a call after {@link SqlDriver.close}), or any other database error;
 * - `Unauthenticated` (class 28) and `PermissionDenied` (42501).
 * `runCatalogConformance` (`@lakesoul-ts/meta/testing`) runs the catalog over a driver, on PGlite
 * and PostgreSQL alike.
 *
 * # Wrappers
 * A driver that wraps another forwards `query`, `transaction`, `listen` and `close` with the same
 * arguments, keeps `kind` and `capabilities` (a wrapper must not claim what the wrapped driver
 * lacks) and lets the wrapped driver's `LakeSoulError`s through unchanged.
 */
export interface SqlDriver extends SqlExecutor {
  readonly kind: 'pg' | 'pglite';
  readonly capabilities: SqlDriverCapabilities;
  /**
   * Runs `fn` inside one transaction (READ COMMITTED): committed when `fn` resolves, rolled back when
   * it throws, and then what it threw is rethrown as it is, the same object: a caller's validation
   * error keeps its class, kind and code (it once became a retryable `CATALOG_UNAVAILABLE` "cannot
   * connect" on PostgreSQL, a `Catalog` "database error" on PGlite). Errors of the statements it ran
   * are the mapped ones `tx.query` threw. Statements must go through the given `tx`.
   * @throws LakeSoulError the kinds of `query` (BEGIN and COMMIT included: a serialization failure at
   * COMMIT is `Conflict` `TRANSACTION_CONFLICT`); or whatever `fn` threw, unchanged.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: SqlQueryOptions): Promise<T>;
  /**
   * Subscribes to a NOTIFY channel; resolves to an unsubscribe function.
   * @throws LakeSoulError `Unsupported` when `capabilities.listenNotify` is false; `Catalog` when the
   * listening connection cannot be opened.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /**
   * Releases connections / closes the embedded database. Idempotent.
   * @throws LakeSoulError `Catalog` when the embedded database fails to close (a server pool's close does not throw).
   */
  close(): Promise<void>;
}

interface DbErrorLike {
  code?: string;
  message?: string;
  table?: string;
  constraint?: string;
  detail?: string;
  schema?: string;
}

/** Context of a failing statement, used in mapped error messages. */
export interface SqlErrorContext extends LakeSoulErrorContext {
  /** What was being done, e.g. "create table 'default.t'". */
  operation?: string;
}

/**
 * Constraint whose unique violation is the commit conflict signal: partition_info's primary key
 * `(table_id, partition_desc, version)`, named so by PostgreSQL's default naming both here
 * (catalog-schema.ts) and in upstream LakeSoul's meta_init.sql.
 */
export const PARTITION_VERSION_CONSTRAINT = 'partition_info_pkey';

/**
 * Maps an error thrown by pg or PGlite to a {@link LakeSoulError}. The SQLSTATE is kept in
 * `context.sqlState` (and the constraint/table in `context.constraint` / `context.sqlTable`).
 * Tagged by the error's constraint name, never its message: a unique violation (23505) of
 * {@link PARTITION_VERSION_CONSTRAINT} is the commit conflict signal (`Conflict`
 * `COMMIT_CONFLICT`, retryable); other unique violations are `AlreadyExists` `ALREADY_EXISTS`.
 * 40001, 40P01 and 55P03 are `Conflict` `TRANSACTION_CONFLICT`, retryable. SQLSTATE class 53
 * (insufficient resources) is `Catalog` naming the resource: 53100 `CATALOG_DISK_FULL`, 53200
 * `CATALOG_OUT_OF_MEMORY` (retryable), 53300 `CATALOG_UNAVAILABLE` (retryable), others
 * `CATALOG_RESOURCE_EXHAUSTED`. Class 08 (connection), 57P01-57P03 and 57P05 (idle_session_timeout)
 * are `CATALOG_UNAVAILABLE`,
 * retryable, except 08P01 (a protocol violation: a statement the server cannot take, sent again by
 * a retry), `CATALOG_PROTOCOL_VIOLATION`, not retryable. 25006 (a read-only transaction: a standby,
 * `default_transaction_read_only`) is `Catalog` `CATALOG_READ_ONLY` saying so. Already mapped errors pass through.
 */
export function mapSqlError(e: unknown, ctx: SqlErrorContext = {}): LakeSoulError {
  if (e instanceof LakeSoulError) return e;
  const err = (e ?? {}) as DbErrorLike & { name?: string };
  const code = typeof err.code === 'string' ? err.code : undefined;
  const what = ctx.operation ? `${ctx.operation}: ` : '';
  const msg = `${what}${err.message ?? String(e)}`;
  const context: LakeSoulErrorContext = { ...ctx, sqlState: code, constraint: err.constraint, sqlTable: err.table };
  delete (context as SqlErrorContext).operation;
  if (err.name === 'AbortError') return new LakeSoulError('Aborted', `${what}aborted`, { context, cause: e });
  if (!code) {
    return new LakeSoulError('Catalog', `catalog database error: ${msg}`, { context, cause: e, retryable: false });
  }
  if (code === '23505') {
    if (err.constraint === PARTITION_VERSION_CONSTRAINT) {
      // the detail names the key taken (table, partition, version): a batched commit says which partition
      const key = typeof err.detail === 'string' ? { detail: err.detail } : {};
      return new LakeSoulError('Conflict', `commit conflict: ${msg}`, { code: 'COMMIT_CONFLICT', retryable: true, context: { ...context, ...key }, cause: e });
    }
    return new LakeSoulError('AlreadyExists', msg, { code: 'ALREADY_EXISTS', context, cause: e });
  }
  if (code === '40001' || code === '40P01' || code === '55P03') {
    return new LakeSoulError('Conflict', `transaction conflict: ${msg}`, { code: 'TRANSACTION_CONFLICT', retryable: true, context, cause: e });
  }
  if (code === '57014') return new LakeSoulError('Aborted', `statement cancelled: ${msg}`, { context, cause: e });
  if (code === '08P01') {
    // a message the server could not take (e.g. more than 65,535 parameters): the same statement fails again
    return new LakeSoulError('Catalog', `catalog database refused a statement it could not parse (SQLSTATE 08P01, protocol violation; retrying sends it again): ${msg}`, { code: 'CATALOG_PROTOCOL_VIOLATION', retryable: false, context, cause: e });
  }
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '57P05' || code === '53300') {
    const why = code === '53300' ? 'too many connections (SQLSTATE 53300): '
      : code === '57P03' ? 'the server is starting up or shutting down (SQLSTATE 57P03): '
        : code === '57P05' ? 'the server closed an idle connection (SQLSTATE 57P05, idle_session_timeout): ' : '';
    return new LakeSoulError('Catalog', `catalog database unavailable: ${why}${msg}`, { code: 'CATALOG_UNAVAILABLE', retryable: true, context, cause: e });
  }
  if (code.startsWith('53')) return resourceError(code, msg, context, e);
  if (code === '25006') {
    return new LakeSoulError('Catalog', `catalog database is read-only (SQLSTATE 25006, read_only_sql_transaction): the catalog URL points at a standby (replica) or the database has default_transaction_read_only on; point the catalog at the primary, or turn the setting off for the catalog's role or database: ${msg}`, { code: 'CATALOG_READ_ONLY', context, cause: e, retryable: false });
  }
  if (code.startsWith('28')) return new LakeSoulError('Unauthenticated', `catalog login failed: ${msg}`, { context, cause: e });
  if (code === '42501') return new LakeSoulError('PermissionDenied', `catalog permission denied: ${msg}`, { context, cause: e });
  if (code.startsWith('22') || code.startsWith('23')) return new LakeSoulError('InvalidArgument', msg, { context, cause: e });
  if (code === '42P01' || code === '42883' || code === '3F000') {
    return new LakeSoulError('Catalog', `catalog schema missing or incomplete (run bootstrap): ${msg}`, { code: 'CATALOG_SCHEMA', context, cause: e });
  }
  return new LakeSoulError('Catalog', `catalog database error (SQLSTATE ${code}): ${msg}`, { context, cause: e });
}

/**
 * SQLSTATE class 53 (insufficient resources) other than 53300: the database refused the statement,
 * so it and its transaction did not take effect (whether an operation committed anything is for its
 * caller to say: the commit path does).
 */
function resourceError(code: string, msg: string, context: LakeSoulErrorContext, cause: unknown): LakeSoulError {
  if (code === '53100') {
    return new LakeSoulError('Catalog', `catalog database disk full (SQLSTATE 53100): the PostgreSQL server has no space left to write; free disk space there, then run again: ${msg}`, { code: 'CATALOG_DISK_FULL', retryable: false, context, cause });
  }
  if (code === '53200') {
    return new LakeSoulError('Catalog', `catalog database out of memory (SQLSTATE 53200): ${msg}`, { code: 'CATALOG_OUT_OF_MEMORY', retryable: true, context, cause });
  }
  return new LakeSoulError('Catalog', `catalog database resource limit reached (SQLSTATE ${code}${code === '53400' ? ' configuration_limit_exceeded' : ''}): ${msg}`, { code: 'CATALOG_RESOURCE_EXHAUSTED', retryable: false, context, cause });
}

/** Maps a low-level connection error (no SQLSTATE: ECONNREFUSED, ENOTFOUND, ...) to a retryable Catalog error. */
export function mapConnectError(e: unknown, where: string): LakeSoulError {
  if (e instanceof LakeSoulError) return e;
  const err = e as { code?: string; message?: string };
  if (typeof err?.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code)) {
    if (err.code === '08P01' && /startup parameter/i.test(err.message ?? '')) {
      // PgBouncer refuses startup parameters it does not know (`options`: a schema's search_path)
      return new LakeSoulError('Catalog', `connection refused by the catalog database at ${where} or a connection pooler in front of it (such as PgBouncer): ${err.message} (SQLSTATE 08P01). ` +
        "A schema (options.schema, a JDBC currentSchema, ?options=) is sent as the startup parameter 'options', which PgBouncer refuses: " +
        "set the search_path for the catalog's role on the server (ALTER ROLE … SET search_path) and give no schema, or list 'options' in the pooler's ignore_startup_parameters; " +
        'behind a pooler in transaction mode also open the catalog with serverTimeouts: false (LAKESOUL_PG_SERVER_TIMEOUTS=off for the CLI)', {
        code: 'CATALOG_PROTOCOL_VIOLATION', retryable: false, context: { database: where, sqlState: err.code }, cause: e,
      });
    }
    const mapped = mapSqlError(e, { operation: `connect to ${where}` });
    // no user in the URL nor the environment: pg tried the OS user ("role \"root\" does not exist")
    if ((err.code === '28000' || err.code === '28P01') && !/^postgres(?:ql)?:\/\/[^/@]+@/.test(where)) {
      return new LakeSoulError(mapped.kind, `${mapped.message}; no user name was given for ${where}: set LAKESOUL_PG_USERNAME (and LAKESOUL_PG_PASSWORD), or put it in the URL (postgres://user:password@host:port/db)`, {
        code: mapped.code, retryable: mapped.retryable, context: mapped.context, cause: e,
      });
    }
    return mapped;
  }
  // node-postgres, asked for a SCRAM password (PostgreSQL's default since 14) with none given, throws
  // this plain Error: it was CATALOG_UNAVAILABLE and retryable, and said nothing of the password
  if (/SASL: .*client password must be a string/.test(err?.message ?? '')) {
    return new LakeSoulError('Unauthenticated', `catalog login failed: the catalog database at ${where} asks for a password (SCRAM) and none was given: ` +
      'set LAKESOUL_PG_PASSWORD (the CLI: --pg-password, or lakesoul.pg.password in the lakesoul_home file), or put it in the URL (postgres://user:password@host:port/db)', {
      code: 'CATALOG_NO_PASSWORD', retryable: false, context: { database: where }, cause: e,
    });
  }
  return new LakeSoulError('Catalog', `cannot connect to the catalog database at ${where}: ${err?.message ?? String(e)}`, {
    code: 'CATALOG_UNAVAILABLE', retryable: true, context: { database: where }, cause: e,
  });
}

