/**
 * {@link SqlDriver} over a PostgreSQL server through a node-postgres connection pool.
 */
import { createRequire } from 'node:module';
import type pg from 'pg';
import { LakeSoulError } from './errors.js';
import { throwIfAborted } from './abort.js';
import {
  mapConnectError, mapSqlError,
  type SqlDriver, type SqlDriverCapabilities, type SqlExecutor, type SqlQueryOptions, type SqlQueryResult,
} from './sql-driver.js';

/**
 * node-postgres, loaded on first use: importing it costs ~0.1-0.25 s (its stream set-up loads
 * undici), which a process on the embedded catalog (every CLI command on a home) never needs.
 */
let pgModule: typeof pg | undefined;
function loadPg(): typeof pg {
  return (pgModule ??= createRequire(import.meta.url)('pg') as typeof pg);
}

/** Options of {@link PgDriver}. */
export interface PgDriverOptions {
  /** `postgres://user:password@host:port/db` (credentials URL-encoded). */
  url: string;
  /** Overrides the URL's user. */
  user?: string;
  /** Overrides the URL's password. */
  password?: string;
  /**
   * PostgreSQL schema holding the catalog tables (sets `search_path`; created by {@link PgDriver.connect}
   * when missing). Default: the server's search_path (normally `public`, like upstream LakeSoul).
   */
  schema?: string;
  /** Pool size (default 10). */
  max?: number;
  /** Connection timeout in ms (default 10000). */
  connectionTimeoutMillis?: number;
}

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

/**
 * node-postgres pool driver. Many transactions run concurrently; the catalog relies on
 * partition_info's primary key (and an advisory lock) for commit ordering.
 */
export class PgDriver implements SqlDriver {
  readonly kind = 'pg' as const;
  readonly capabilities: SqlDriverCapabilities = { concurrentTransactions: true, multiProcess: true, listenNotify: true };
  /** Redacted URL, for messages. */
  readonly description: string;
  readonly schema: string | undefined;
  private readonly pool: pg.Pool;
  private closed = false;

  /**
   * Creates the pool from options or a `postgres://` URL (no connection is opened until the first
   * query). Prefer {@link PgDriver.connect}, which checks the server and creates `schema`.
   */
  constructor(optionsOrUrl: PgDriverOptions | string) {
    const options: PgDriverOptions = typeof optionsOrUrl === 'string' ? { url: optionsOrUrl } : optionsOrUrl;
    this.description = redact(options.url);
    this.schema = options.schema;
    const config: pg.PoolConfig = {
      connectionString: options.url,
      max: options.max ?? 10,
      connectionTimeoutMillis: options.connectionTimeoutMillis ?? 10_000,
      idleTimeoutMillis: 10_000,
    };
    if (options.user !== undefined) config.user = options.user;
    if (options.password !== undefined) config.password = options.password;
    if (options.schema !== undefined) config.options = `-c search_path=${quoteIdent(options.schema)}`;
    this.pool = new (loadPg().Pool)(config);
    // An idle client losing its connection must not crash the process; the next query reports it.
    this.pool.on('error', () => {});
  }

  /** Creates a driver, checks the server answers, and creates `options.schema` when missing. */
  static async connect(optionsOrUrl: PgDriverOptions | string): Promise<PgDriver> {
    const options: PgDriverOptions = typeof optionsOrUrl === 'string' ? { url: optionsOrUrl } : optionsOrUrl;
    const d = new PgDriver(options);
    try {
      const client = await d.pool.connect().catch((e) => { throw mapConnectError(e, d.description); });
      guard(client);
      try {
        if (options.schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(options.schema)}`);
        else await client.query('SELECT 1');
      } catch (e) {
        throw mapSqlError(e, { operation: `connect to ${d.description}` });
      } finally {
        client.release();
      }
    } catch (e) {
      await d.close();
      throw e;
    }
    return d;
  }

  async query<R = Record<string, unknown>>(text: string, params: unknown[] = [], options: SqlQueryOptions = {}): Promise<SqlQueryResult<R>> {
    this.checkOpen();
    throwIfAborted(options.signal, 'catalog query');
    try {
      const r = await this.pool.query(text, params);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
    } catch (e) {
      throw mapPgError(e, this.description);
    }
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options: SqlQueryOptions = {}): Promise<T> {
    this.checkOpen();
    throwIfAborted(options.signal, 'catalog transaction');
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw mapConnectError(e, this.description);
    }
    guard(client);
    let done = false;
    const tx: SqlExecutor = {
      query: async <R>(text: string, params: unknown[] = [], o: SqlQueryOptions = {}): Promise<SqlQueryResult<R>> => {
        if (done) throw new LakeSoulError('Internal', 'transaction handle used after the transaction ended');
        throwIfAborted(o.signal ?? options.signal, 'catalog query');
        try {
          const r = await client.query(text, params);
          return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
        } catch (e) {
          throw mapPgError(e, this.description);
        }
      },
    };
    let broken = false;
    let committing = false;
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      committing = true;
      await client.query('COMMIT');
      return result;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // connection is unusable: drop it from the pool
      }
      if (committing && commitOutcomeUnknown(e)) {
        throw new LakeSoulError('Catalog', `the connection to the catalog database at ${this.description} was lost while its transaction committed: it may or may not have committed (${(e as Error)?.message ?? String(e)})`, {
          code: 'TRANSACTION_OUTCOME_UNKNOWN', retryable: false, context: { database: this.description }, cause: e,
        });
      }
      throw mapPgError(e, this.description);
    } finally {
      done = true;
      client.release(broken ? true : undefined);
    }
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    this.checkOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw mapConnectError(e, this.description);
    }
    guard(client);
    const handler = (m: pg.Notification) => { if (m.channel === channel) onPayload(m.payload ?? ''); };
    client.on('notification', handler);
    try {
      await client.query(`LISTEN ${quoteIdent(channel)}`);
    } catch (e) {
      client.off('notification', handler);
      client.release(true);
      throw mapPgError(e, this.description);
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      client.off('notification', handler);
      try {
        await client.query(`UNLISTEN ${quoteIdent(channel)}`);
        client.release();
      } catch {
        client.release(true);
      }
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end().catch(() => {});
  }

  private checkOpen(): void {
    if (this.closed) throw new LakeSoulError('Catalog', `catalog driver for ${this.description} is closed`, { code: 'DRIVER_CLOSED' });
  }
}

function mapPgError(e: unknown, where: string): LakeSoulError {
  if (e instanceof LakeSoulError) return e;
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return mapSqlError(e);
  return mapConnectError(e, where);
}

/**
 * A checked-out client emits 'error' when its connection dies (a restart, `pg_terminate_backend`, a
 * reset); pg-pool listens only while the client is idle, and an 'error' nobody listens to ends the
 * process. The query in flight rejects as well, which is how the caller learns of it.
 */
const guarded = new WeakSet<pg.PoolClient>();
function guard(client: pg.PoolClient): void {
  if (guarded.has(client)) return;
  guarded.add(client);
  client.on('error', () => { /* surfaced by the query that fails; the client is dropped on release */ });
}

/**
 * Whether an error of the `COMMIT` statement leaves its outcome unknown: the connection was lost
 * (no SQLSTATE), or the server was shutting the session down (class 08, 57P01-57P03), so the
 * transaction may have committed before the answer was lost. A serialization failure or a
 * constraint error at commit is a definite "not committed".
 */
function commitOutcomeUnknown(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03';
}
