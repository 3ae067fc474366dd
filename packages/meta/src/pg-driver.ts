/**
 * {@link SqlDriver} over a PostgreSQL server through a node-postgres connection pool.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type pg from 'pg';
import { parsePostgresUrl, plausibleFilePath, redactCatalogUrl, sslFlagMode } from './catalog-config.js';
import { LakeSoulError } from './errors.js';
import { abortedError, throwIfAborted } from './abort.js';
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
  /** Pool size: connections open at once at most (default 10). */
  max?: number;
  /**
   * How long (ms) a call waits for a pool connection (default 10000): for a new one to connect, or,
   * when all `max` are in use, for one to be released. Past it the call fails with `Catalog`
   * `CATALOG_UNAVAILABLE` (retryable), saying which of the two it was.
   */
  connectionTimeoutMillis?: number;
  /**
   * How long (ms) one statement (BEGIN, COMMIT and ROLLBACK included) may wait for its answer
   * (default: the URL's `query_timeout`, node-postgres's setting of that name, else
   * {@link DEFAULT_QUERY_TIMEOUT_MS}). Past it the connection is closed (never returned to
   * the pool: its state is unknown), the statement is cancelled on the server (a cancel request), and
   * the call fails with `Catalog` `CATALOG_TIMEOUT` (retryable: the statement did not finish) — for a
   * COMMIT with `TRANSACTION_OUTCOME_UNKNOWN`, as when its connection is lost (it may have committed).
   */
  queryTimeoutMillis?: number;
  /**
   * Idle time (ms) of a pool connection before TCP keepalive probes start (default 30000), so a peer
   * that vanished without closing (a dropped NAT entry, a failed-over host) fails its connection
   * instead of holding it for ever.
   */
  keepAliveInitialDelayMillis?: number;
  /**
   * Sets, on each new connection, the server-side guards `statement_timeout` (the query timeout plus
   * {@link SERVER_TIMEOUT_MARGIN_MS}: ends a statement whose cancel request could not reach the
   * server) and `idle_in_transaction_session_timeout` (half the query timeout, at least 10 s: ends the
   * transaction of a client that vanished, releasing its locks) (default true). `false` for a pooler
   * that must not see session settings (PgBouncer in transaction mode). A guard the URL sets itself
   * (`?statement_timeout=`, or in its `options`) is left as the URL has it.
   */
  serverTimeouts?: boolean;
}

/**
 * Default of {@link PgDriverOptions.queryTimeoutMillis}: 120 s. Catalog statements take milliseconds;
 * what may legitimately wait is a commit behind other writers (catalog.ts `commitPhase2`): it takes the
 * table's commit gate and its partitions' advisory locks, and its `FOR SHARE`/`FOR UPDATE` of the
 * table row, which another writer holds for its whole phase-2 transaction — milliseconds a partition,
 * so a queue of writers to one partition waits for each in turn, and a commit of thousands of
 * partitions (the gate taken exclusively) holds the table for seconds to tens of seconds. The check of
 * a commit whose answer was lost (`FOR SHARE` on its rows) waits for that transaction to end, which the
 * server-side `idle_in_transaction_session_timeout` (half this) bounds. 120 s leaves those waits
 * ample room; a wait that outlasts it fails retryable with nothing committed (the COMMIT was not sent).
 */
export const DEFAULT_QUERY_TIMEOUT_MS = 120_000;

/** The server-side `statement_timeout` is the query timeout plus this: the client's timeout fires first. */
export const SERVER_TIMEOUT_MARGIN_MS = 10_000;

/** How long a cancel request may take to reach the server before it is given up. */
const CANCEL_REQUEST_TIMEOUT_MS = 5_000;

/** Default of {@link PgDriverOptions.keepAliveInitialDelayMillis}. */
const DEFAULT_KEEPALIVE_DELAY_MS = 30_000;

/** pg-pool's message when a caller waited `connectionTimeoutMillis` for a connection of a full pool. */
const POOL_WAIT_TIMEOUT = 'timeout exceeded when trying to connect';

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The longest delay a Node.js timer takes (ms); a longer one fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** How long {@link PgDriver.close} waits for cancel requests still on their way. */
const CANCEL_WAIT_ON_CLOSE_MS = 1_000;

/**
 * The query parameters node-postgres 8 reads from a connection string, besides the host, port,
 * credentials and SSL ones `pgClientConfig` reads itself: `text` ones are passed as written,
 * `duration` ones (PostgreSQL's, sent when connecting) as the number of milliseconds node-postgres
 * takes. The others node-postgres ignores (libpq's `connect_timeout`, `keepalives`,
 * `target_session_attrs`...; `binary`, which it parses but never uses), and so does `pgClientConfig`.
 * `query_timeout` becomes {@link PgDriverOptions.queryTimeoutMillis} (see `pgClientConfig`).
 */
const URL_SETTINGS: Readonly<Record<string, 'text' | 'duration'>> = {
  application_name: 'text', fallback_application_name: 'text', client_encoding: 'text', options: 'text',
  sslnegotiation: 'text', replication: 'text',
  statement_timeout: 'duration', lock_timeout: 'duration', idle_in_transaction_session_timeout: 'duration',
};

/** The server-side guards of {@link PgDriverOptions.serverTimeouts}. */
const SERVER_GUARDS = ['statement_timeout', 'idle_in_transaction_session_timeout'] as const;

/** Milliseconds in each unit PostgreSQL takes for a duration setting. */
const DURATION_UNITS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration as PostgreSQL writes it (`5000`, `5s`, `1.5 min`; no unit: ms) in whole milliseconds;
 * undefined when it is not one, or above 2147483647 ms (the most PostgreSQL takes).
 */
function durationMillis(value: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d*)?)\s*(us|ms|s|min|h|d)?\s*$/.exec(value);
  if (!m) return undefined;
  const ms = Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms']!);
  return ms <= MAX_TIMER_MS ? ms : undefined;
}

/** The SSL modes of libpq (and node-postgres's `no-verify`). */
const SSL_MODES = new Set(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify']);

/** Connection settings of `pgClientConfig`. */
export interface PgClientConfig {
  /** What node-postgres is given (no connection string: every setting is explicit). */
  config: pg.ClientConfig;
  /** The SSL mode in force (`sslmode`, else `PGSSLMODE`, else `disable`; `verify-full` when only SSL files are named). */
  sslMode: string;
  /** `sslmode=prefer`: when the server refuses SSL, connect without it (as libpq does). */
  plainFallback: boolean;
  /** The URL for messages: credentials in the userinfo, the password and other secrets masked. */
  description: string;
  /** The URL's `query_timeout` (ms; absent, or 0: none). */
  queryTimeoutMillis?: number;
  /**
   * The server-side guards ({@link PgDriverOptions.serverTimeouts}) the URL sets itself: the value of
   * its parameter (ms), or `null` when its `options` sets it (`-c statement_timeout=...`).
   */
  urlServerTimeouts: Partial<Record<(typeof SERVER_GUARDS)[number], number | null>>;
}

/**
 * The node-postgres settings of a `postgres://` URL, built here rather than by node-postgres's own
 * parser so that:
 * - `user`/`password` (explicit settings) win over the URL's `?user=`/`?password=`, which win over its
 *   userinfo (node-postgres let the URL's values win over explicit ones);
 * - `sslmode` has libpq's meaning: `disable` and `allow` connect without SSL, `prefer` encrypts
 *   without verifying and falls back to a plain connection when the server has no SSL, `require`
 *   encrypts without verifying (verifies the CA when `sslrootcert` names one), `verify-ca` verifies the
 *   certificate's CA, `verify-full` its CA and host name (node-postgres 8 verified everything for every
 *   mode, and warned about it on stderr). `sslrootcert`, `sslcert`, `sslkey` are files (read here;
 *   `sslrootcert=system` is the system CAs), `sslpassword` the key's passphrase; `ssl=true`/`false` is
 *   `verify-full`/`disable`, `ssl=no-verify` (node-postgres's) `no-verify`. Without `sslmode`, env
 *   `PGSSLMODE` is read; SSL files alone mean `verify-full`. An SSL file parameter holding the key or
 *   certificate itself rather than a file name is never shown in an error;
 * - the schema's search_path is added to the URL's `options`;
 * - the other parameters node-postgres reads from a URL are passed as it would take them
 *   (`application_name`, `options`, `client_encoding`, `replication`, `sslnegotiation`, and the
 *   durations `statement_timeout`, `lock_timeout`, `idle_in_transaction_session_timeout`, which may
 *   also be written with PostgreSQL's units, `5s`); its `query_timeout` is returned as
 *   `queryTimeoutMillis`; the parameters node-postgres ignores are ignored;
 * - a URL with no host (`postgres:///db?host=/run/postgresql&user=alice`, or libpq's
 *   `postgres://alice@/db?host=...`) connects as node-postgres's own parser has it.
 * @throws LakeSoulError `InvalidArgument` `INVALID_CATALOG_URL` naming the part or parameter: a URL that
 *   does not parse, a malformed percent escape, an unknown `sslmode`, an unreadable SSL file, a duration
 *   that is not one.
 */
export function pgClientConfig(url: string, over: { user?: string; password?: string; schema?: string } = {}, env: Record<string, string | undefined> = process.env): PgClientConfig {
  const shown = redactCatalogUrl(url);
  const bad = (why: string, context: Record<string, string> = {}, cause?: unknown) => new LakeSoulError('InvalidArgument',
    `invalid catalog URL '${shown}': ${why}`, { code: 'INVALID_CATALOG_URL', context, cause });
  let u: URL;
  let authority: { host: string; hostname: string };
  try {
    ({ u, ...authority } = parsePostgresUrl(url));
  } catch (e) {
    throw bad('expected postgres://user:password@host:port/db', {}, e);
  }
  if (!/^postgres(ql)?:$/.test(u.protocol)) throw bad(`unsupported scheme '${u.protocol}' (expected postgres://)`);
  const decode = (s: string, part: string): string => {
    try {
      return decodeURIComponent(s);
    } catch (e) {
      throw bad(`its ${part} has a '%' not followed by two hex digits (write a '%' in it as %25)`, { part }, e);
    }
  };
  const q = u.searchParams;
  const config: pg.ClientConfig = {};
  const host = q.get('host') ?? decode(authority.hostname, 'host').replace(/^\[(.*)\]$/, '$1');
  if (host) config.host = host;
  const port = q.get('port') ?? u.port;
  if (port) {
    if (!/^\d+$/.test(port)) throw bad(`port '${port}' is not a number`, { part: 'port' });
    config.port = Number(port);
  }
  const database = decode(u.pathname.slice(1), 'database name');
  if (database) config.database = database;
  const user = over.user ?? q.get('user') ?? (u.username ? decode(u.username, 'user name') : undefined);
  const password = over.password ?? q.get('password') ?? (u.password ? decode(u.password, 'password') : undefined);
  if (user) config.user = user;
  if (password) config.password = password;
  const duration = (k: string, v: string): number => {
    const ms = durationMillis(v);
    if (ms === undefined) throw bad(`${k} '${v}' is not a duration (milliseconds, or a number with a unit: 5s, 2min)`, { parameter: k });
    return ms;
  };
  for (const [k, kind] of Object.entries(URL_SETTINGS)) {
    const v = q.get(k);
    if (v !== null) (config as Record<string, unknown>)[k] = kind === 'duration' ? duration(k, v) : v;
  }
  const urlServerTimeouts: PgClientConfig['urlServerTimeouts'] = {};
  for (const k of SERVER_GUARDS) {
    const v = q.get(k);
    if (v !== null) urlServerTimeouts[k] = duration(k, v);
    else if (new RegExp(`(?:^|\\s)(?:-c\\s*|--)${k}\\s*=`).test(config.options ?? '')) urlServerTimeouts[k] = null;
  }
  const queryTimeout = q.get('query_timeout');
  const queryTimeoutMillis = queryTimeout === null ? undefined : duration('query_timeout', queryTimeout);
  if (over.schema !== undefined) config.options = `${config.options ? `${config.options} ` : ''}-c search_path=${quoteIdent(over.schema)}`;
  const { ssl, mode } = sslOptions(q, env, bad);
  config.ssl = ssl;
  const d = new URL(`postgres://${authority.host}${u.pathname}`);
  if (!authority.host && u.port && !q.has('port')) d.searchParams.set('port', u.port);
  for (const [k, v] of q) if (k !== 'user' && k !== 'password') d.searchParams.append(k, v);
  // written out: a URL with no host cannot hold a userinfo (libpq's and node-postgres's postgres://user@/db)
  const userinfo = user ? `${encodeURIComponent(user)}${password ? ':***' : ''}@` : password ? ':***@' : '';
  const description = redactCatalogUrl(d.toString().replace(/^postgres:\/\//, `postgres://${userinfo}`));
  return {
    config, sslMode: mode, plainFallback: mode === 'prefer', description, urlServerTimeouts,
    ...(queryTimeoutMillis ? { queryTimeoutMillis } : {}),
  };
}

/** The `ssl` option of node-postgres for the URL's SSL parameters (see `pgClientConfig`). */
function sslOptions(q: URLSearchParams, env: Record<string, string | undefined>, bad: (why: string, context?: Record<string, string>, cause?: unknown) => LakeSoulError): { ssl: false | ConnectionOptions; mode: string } {
  const files = ['sslrootcert', 'sslcert', 'sslkey'].filter((k) => q.has(k));
  const sslFlag = q.get('ssl');
  let mode = q.get('sslmode') ?? undefined;
  if (mode === undefined && sslFlag !== null) {
    mode = sslFlagMode(sslFlag);
    if (!mode) throw bad(`ssl must be true, false or no-verify, not '${sslFlag}'`, { parameter: 'ssl' });
  }
  mode ??= files.length > 0 ? 'verify-full' : env.PGSSLMODE || 'disable';
  if (!SSL_MODES.has(mode)) throw bad(`sslmode '${mode}' is not one of disable, allow, prefer, require, verify-ca, verify-full`, { parameter: 'sslmode' });
  if (mode === 'disable' || mode === 'allow') return { ssl: false, mode };
  const read = (param: string): string | undefined => {
    const file = q.get(param);
    if (file === null) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      if (plausibleFilePath(file)) throw bad(`cannot read the ${param} file '${file}': ${(e as Error).message}`, { parameter: param, file }, e);
      // the key or certificate itself, pasted in: never repeated (nor Node's error, which names it)
      const what = param === 'sslkey' ? 'key' : 'certificate';
      throw bad(`the ${param} parameter holds no file name (its ${file.length} characters look like the ${what} itself, not shown): ` +
        `give the name of the file holding it (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`, { parameter: param, file: '***' });
    }
  };
  const ssl: ConnectionOptions = {};
  const rootcert = q.get('sslrootcert');
  if (rootcert !== null && rootcert !== 'system') ssl.ca = read('sslrootcert');
  const cert = read('sslcert');
  if (cert !== undefined) ssl.cert = cert;
  const key = read('sslkey');
  if (key !== undefined) ssl.key = key;
  const passphrase = q.get('sslpassword');
  if (passphrase !== null) ssl.passphrase = passphrase;
  const noHostCheck = () => undefined;
  if (mode === 'prefer' || mode === 'no-verify' || (mode === 'require' && ssl.ca === undefined)) ssl.rejectUnauthorized = false;
  else if (mode === 'require' || mode === 'verify-ca') ssl.checkServerIdentity = noHostCheck;
  return { ssl, mode };
}

/**
 * node-postgres pool driver. Many transactions run concurrently; the catalog relies on
 * partition_info's primary key (and an advisory lock) for commit ordering. Every statement has a
 * client-side timeout ({@link PgDriverOptions.queryTimeoutMillis}), connections have TCP keepalive,
 * and a statement given up (timeout, or the call's signal aborted) is cancelled on the server and its
 * connection closed.
 */
export class PgDriver implements SqlDriver {
  readonly kind = 'pg' as const;
  readonly capabilities: SqlDriverCapabilities = { concurrentTransactions: true, multiProcess: true, listenNotify: true };
  /** Redacted URL, for messages. */
  readonly description: string;
  readonly schema: string | undefined;
  /** Client-side timeout of one statement, in ms ({@link PgDriverOptions.queryTimeoutMillis}). */
  readonly queryTimeoutMillis: number;
  private pool: pg.Pool;
  /** The pool's settings; `ssl` becomes false when `sslmode=prefer` meets a server without SSL. */
  private readonly poolConfig: pg.PoolConfig;
  private plainFallback: boolean;
  private readonly serverTimeouts: boolean;
  /** The guards the URL sets itself, which {@link serverTimeouts} leaves as the URL has them. */
  private readonly urlServerTimeouts: PgClientConfig['urlServerTimeouts'];
  /** Cancel requests on their way, which {@link close} waits for (bounded). */
  private readonly cancels = new Set<Promise<void>>();
  private readonly max: number;
  private readonly connectionTimeoutMillis: number;
  /** Connections checked out of the pool (by calls, LISTENs included). */
  private inUse = 0;
  /** Clients whose statement was given up: their connection is closed, never reused. */
  private readonly abandoned = new WeakSet<pg.PoolClient>();
  private closed = false;

  /**
   * Creates the pool from options or a `postgres://` URL (no connection is opened until the first
   * query). Prefer {@link PgDriver.connect}, which checks the server and creates `schema`. The URL is
   * read by `pgClientConfig` (credentials, libpq's SSL modes). A `queryTimeoutMillis` above
   * 2147483647 (24.8 days, the longest timer Node.js takes) is taken as that.
   * @throws LakeSoulError `InvalidArgument` for a timeout or pool size that is not a positive integer,
   * or `INVALID_CATALOG_URL` for a URL `pgClientConfig` refuses.
   */
  constructor(optionsOrUrl: PgDriverOptions | string) {
    const options: PgDriverOptions = typeof optionsOrUrl === 'string' ? { url: optionsOrUrl } : optionsOrUrl;
    const client = pgClientConfig(options.url, { user: options.user, password: options.password, schema: options.schema });
    this.description = client.description;
    this.schema = options.schema;
    this.max = positiveInt(options.max, 10, 'max', this.description);
    this.connectionTimeoutMillis = positiveInt(options.connectionTimeoutMillis, 10_000, 'connectionTimeoutMillis', this.description);
    this.queryTimeoutMillis = Math.min(MAX_TIMER_MS, positiveInt(options.queryTimeoutMillis ?? client.queryTimeoutMillis, DEFAULT_QUERY_TIMEOUT_MS, 'queryTimeoutMillis', this.description));
    this.plainFallback = client.plainFallback;
    this.serverTimeouts = options.serverTimeouts !== false;
    this.urlServerTimeouts = client.urlServerTimeouts;
    this.poolConfig = {
      ...client.config,
      max: this.max,
      connectionTimeoutMillis: this.connectionTimeoutMillis,
      idleTimeoutMillis: 10_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: positiveInt(options.keepAliveInitialDelayMillis, DEFAULT_KEEPALIVE_DELAY_MS, 'keepAliveInitialDelayMillis', this.description),
    };
    this.pool = this.newPool();
  }

  private newPool(): pg.Pool {
    const pool = new (loadPg().Pool)(this.poolConfig);
    // An idle client losing its connection must not crash the process; the next query reports it.
    pool.on('error', () => {});
    if (this.serverTimeouts) {
      // PostgreSQL's settings take at most 2147483647 ms as well
      const ours = {
        statement_timeout: Math.min(MAX_TIMER_MS, this.queryTimeoutMillis + SERVER_TIMEOUT_MARGIN_MS),
        idle_in_transaction_session_timeout: Math.max(Math.ceil(this.queryTimeoutMillis / 2), 10_000),
      };
      // The URL's own value wins (set again here: node-postgres does not send a 0); one its `options`
      // sets is left alone.
      const sets = SERVER_GUARDS.filter((k) => this.urlServerTimeouts[k] !== null)
        .map((k) => `SET ${k} = ${this.urlServerTimeouts[k] ?? ours[k]}`).join('; ');
      // Queued before the first statement of the new connection, which waits for it (and its timeout
      // covers it). Best effort: a pooler refusing it leaves the client-side timeout alone.
      if (sets) {
        pool.on('connect', (client) => {
          client.query(sets).catch(() => {});
        });
      }
    }
    return pool;
  }

  /**
   * Creates a driver, checks the server answers, and creates `options.schema` when missing (only
   * then: an existing schema needs no CREATE privilege on the database). `signal` gives the connect
   * up (the `Aborted` error, about when it aborts): a connection still on its way is closed when it
   * comes, a probe statement in flight is cancelled, and the pool is closed.
   */
  static async connect(optionsOrUrl: PgDriverOptions | string, signal?: AbortSignal): Promise<PgDriver> {
    const options: PgDriverOptions = typeof optionsOrUrl === 'string' ? { url: optionsOrUrl } : optionsOrUrl;
    throwIfAborted(signal, `connect to ${redactCatalogUrl(options.url)}`);
    const d = new PgDriver(options);
    try {
      const client = await d.checkout(signal, `connect to ${d.description}`);
      try {
        if (options.schema === undefined) await d.run(client, 'SELECT 1', undefined, signal);
        else await d.ensureSchema(client, options.schema, signal);
      } catch (e) {
        throw LakeSoulError.is(e) ? e : mapSqlError(e, { operation: `connect to ${d.description}` });
      } finally {
        d.giveBack(client);
      }
    } catch (e) {
      // After an abort the pool is closed without waiting: its end waits for a connection still
      // starting, up to the connection timeout, which the abort is there to cut short.
      if (signal?.aborted) void d.close();
      else await d.close();
      throw e;
    }
    return d;
  }

  /** Creates `schema` unless it exists (PostgreSQL checks CREATE privilege before IF NOT EXISTS). */
  private async ensureSchema(client: pg.PoolClient, schema: string, signal?: AbortSignal): Promise<void> {
    const exists = async () => (await this.run(client, 'SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1', [schema], signal)).rows.length > 0;
    if (await exists()) return;
    try {
      await this.run(client, `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`, undefined, signal);
    } catch (e) {
      // two processes creating it at once: one gets a unique violation of pg_namespace
      if ((e as { code?: unknown })?.code === '23505' && await exists()) return;
      throw e;
    }
  }

  async query<R = Record<string, unknown>>(text: string, params: unknown[] = [], options: SqlQueryOptions = {}): Promise<SqlQueryResult<R>> {
    this.checkOpen();
    throwIfAborted(options.signal, 'catalog query');
    const client = await this.checkout(options.signal, 'catalog query');
    try {
      const r = await this.run(client, text, params, options.signal);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
    } catch (e) {
      throw mapPgError(e, this.description);
    } finally {
      this.giveBack(client);
    }
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options: SqlQueryOptions = {}): Promise<T> {
    this.checkOpen();
    throwIfAborted(options.signal, 'catalog transaction');
    const client = await this.checkout(options.signal, 'catalog transaction');
    let done = false;
    const tx: SqlExecutor = {
      query: async <R>(text: string, params: unknown[] = [], o: SqlQueryOptions = {}): Promise<SqlQueryResult<R>> => {
        if (done) throw new LakeSoulError('Internal', 'transaction handle used after the transaction ended');
        const signal = o.signal ?? options.signal;
        throwIfAborted(signal, 'catalog query');
        try {
          const r = await this.run(client, text, params, signal);
          return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
        } catch (e) {
          throw mapPgError(e, this.description);
        }
      },
    };
    let broken = false;
    let committing = false;
    let fnFailed = false;
    try {
      // BEGIN takes the signal (an abort gives it up like any statement: the connection is closed, so
      // the transaction, begun or not, ends with it); COMMIT takes none: a COMMIT given up on an abort
      // would leave its outcome unknown.
      // explicit: a database whose default_transaction_isolation is serializable fails concurrent
      // catalog transactions that READ COMMITTED (which the catalog is written for) lets through
      await this.run(client, 'BEGIN ISOLATION LEVEL READ COMMITTED', undefined, options.signal);
      let result: T;
      try {
        result = await fn(tx);
      } catch (e) {
        fnFailed = true;
        throw e;
      }
      committing = true;
      await this.run(client, 'COMMIT');
      return result;
    } catch (e) {
      try {
        if (this.abandoned.has(client)) broken = true;
        else await this.run(client, 'ROLLBACK');
      } catch {
        broken = true; // connection is unusable: drop it from the pool
      }
      // the caller's own error, as thrown (its statements' errors are mapped already): it had no
      // SQLSTATE, so mapPgError took it for a lost connection (CATALOG_UNAVAILABLE, retryable)
      if (fnFailed) throw e;
      if (committing && commitOutcomeUnknown(e)) throw this.outcomeUnknown(e);
      throw mapPgError(e, this.description);
    } finally {
      done = true;
      this.giveBack(client, broken);
    }
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    this.checkOpen();
    const client = await this.checkout();
    const handler = (m: pg.Notification) => { if (m.channel === channel) onPayload(m.payload ?? ''); };
    client.on('notification', handler);
    try {
      await this.run(client, `LISTEN ${quoteIdent(channel)}`);
    } catch (e) {
      client.off('notification', handler);
      this.giveBack(client, true);
      throw mapPgError(e, this.description);
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      client.off('notification', handler);
      try {
        await this.run(client, `UNLISTEN ${quoteIdent(channel)}`);
        this.giveBack(client);
      } catch {
        this.giveBack(client, true);
      }
    };
  }

  /**
   * Closes the pool. Cancel requests of statements given up (a timeout, an abort) still on their way
   * are waited for, up to 1 s, so that a process exiting after a `CATALOG_TIMEOUT` has them sent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.cancels.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(this.cancels), new Promise<void>((r) => { timer = setTimeout(r, CANCEL_WAIT_ON_CLOSE_MS); })]);
      clearTimeout(timer);
    }
    await this.pool.end().catch(() => {});
  }

  private checkOpen(): void {
    if (this.closed) throw new LakeSoulError('Catalog', `catalog driver for ${this.description} is closed`, { code: 'DRIVER_CLOSED' });
  }

  /**
   * A connection of the pool, with its 'error' guard; give it back with {@link giveBack}. `signal`
   * stops the wait (for a new connection, or for one of a full pool) with the `Aborted` error for
   * `what`; a connection that comes after it is given back to the pool at once.
   */
  private async checkout(signal?: AbortSignal, what = 'catalog query'): Promise<pg.PoolClient> {
    let client: pg.PoolClient;
    const pool = this.pool;
    try {
      client = await this.poolConnect(pool, signal, what);
    } catch (e) {
      if (LakeSoulError.is(e, 'Aborted')) throw e;
      const swapped = pool !== this.pool;
      if (!(this.plainFallback || swapped) || !/does not support SSL/i.test((e as Error)?.message ?? '')) throw this.connectError(e);
      // sslmode=prefer and a server without SSL: connect without it from now on, as libpq does
      if (!swapped) {
        this.plainFallback = false;
        this.poolConfig.ssl = false;
        this.pool = this.newPool();
        void pool.end().catch(() => {});
      }
      try {
        client = await this.poolConnect(this.pool, signal, what);
      } catch (e2) {
        if (LakeSoulError.is(e2, 'Aborted')) throw e2;
        throw this.connectError(e2);
      }
    }
    guard(client);
    this.inUse++;
    return client;
  }

  /** `pool.connect()`, given up when `signal` aborts: a connection that comes later goes back to the pool. */
  private poolConnect(pool: pg.Pool, signal: AbortSignal | undefined, what: string): Promise<pg.PoolClient> {
    if (!signal) return pool.connect();
    throwIfAborted(signal, what, { database: this.description });
    return new Promise<pg.PoolClient>((resolve, reject) => {
      let gaveUp = false;
      const onAbort = () => {
        gaveUp = true;
        reject(abortedError(what, signal.reason, { database: this.description }));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      pool.connect().then((client) => {
        signal.removeEventListener('abort', onAbort);
        // not guarded nor counted yet: straight back to the pool (it is healthy: nothing ran on it)
        if (gaveUp) client.release();
        else resolve(client);
      }, (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (!gaveUp) reject(e);
      });
    });
  }

  /** Returns a connection to the pool; a broken or abandoned one is closed instead. */
  private giveBack(client: pg.PoolClient, broken = false): void {
    this.inUse--;
    client.release(broken || this.abandoned.has(client) ? true : undefined);
  }

  /** pg-pool's connect failures, a pool exhausted or a connect timeout said as such. */
  private connectError(e: unknown): LakeSoulError {
    const message = (e as Error | undefined)?.message ?? '';
    if (message === POOL_WAIT_TIMEOUT) {
      return new LakeSoulError('Catalog',
        `the connection pool to the catalog database at ${this.description} is exhausted: all ${this.max} connections stayed in use for ${this.connectionTimeoutMillis} ms ` +
        `(${this.inUse} held by calls). Statements stuck on a lock or an unanswering network end after queryTimeoutMillis (${this.queryTimeoutMillis} ms); ` +
        'if this process runs more catalog work at once than the pool holds, raise the pool size (maxConnections)', {
          code: 'CATALOG_UNAVAILABLE', retryable: true, context: { database: this.description, poolSize: this.max }, cause: e,
        });
    }
    if (/connection timeout/i.test(message)) {
      return new LakeSoulError('Catalog', `cannot connect to the catalog database at ${this.description}: no connection within ${this.connectionTimeoutMillis} ms (the server or the network to it does not answer)`, {
        code: 'CATALOG_UNAVAILABLE', retryable: true, context: { database: this.description }, cause: e,
      });
    }
    return mapConnectError(e, this.description);
  }

  /**
   * Runs one statement on `client`, giving it up after {@link queryTimeoutMillis} or when `signal`
   * aborts: the server-side statement is cancelled, the connection closed (the caller's
   * {@link giveBack} then drops it), and the call rejects with `CATALOG_TIMEOUT` or `Aborted`.
   */
  private async run(client: pg.PoolClient, text: string, params?: unknown[], signal?: AbortSignal): Promise<pg.QueryResult> {
    if (this.abandoned.has(client)) throw this.timeoutError(text, 'its connection was closed after an earlier statement was given up');
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const givenUp = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.abandon(client);
        reject(this.timeoutError(text));
      }, this.queryTimeoutMillis);
      if (signal) {
        onAbort = () => {
          this.abandon(client);
          reject(abortedError('catalog query', signal.reason, { database: this.description }));
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
    try {
      return await Promise.race([client.query(text, params), givenUp]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal!.removeEventListener('abort', onAbort);
    }
  }

  /** Gives `client`'s statement up: a cancel request to the server, and the socket destroyed. */
  private abandon(client: pg.PoolClient): void {
    if (this.abandoned.has(client)) return;
    this.abandoned.add(client);
    const sent = sendCancelRequest(client);
    this.cancels.add(sent);
    void sent.then(() => this.cancels.delete(sent));
    client.connection.stream.destroy();
  }

  private timeoutError(text: string, why?: string): LakeSoulError {
    const statement = statementSummary(text);
    return new LakeSoulError('Catalog',
      `catalog statement '${statement}' on ${this.description} ` + (why ?? `got no answer within ${this.queryTimeoutMillis} ms (queryTimeoutMillis): ` +
        'the server or the network to it stopped answering, or the statement waited on a lock another session holds; ' +
        'it was cancelled on the server and its connection closed') + '; try again, and if it keeps timing out check the database (pg_stat_activity, pg_locks)', {
        code: 'CATALOG_TIMEOUT', retryable: true, context: { database: this.description, statement, timeoutMs: this.queryTimeoutMillis },
      });
  }

  /** `TRANSACTION_OUTCOME_UNKNOWN` for a COMMIT whose answer was lost or never came. */
  private outcomeUnknown(e: unknown): LakeSoulError {
    const what = LakeSoulError.hasCode(e, 'CATALOG_TIMEOUT')
      ? `did not answer its transaction's COMMIT within ${this.queryTimeoutMillis} ms (queryTimeoutMillis)`
      : 'lost the connection while its transaction committed';
    return new LakeSoulError('Catalog', `the catalog database at ${this.description} ${what}: it may or may not have committed (${(e as Error)?.message ?? String(e)})`, {
      code: 'TRANSACTION_OUTCOME_UNKNOWN', retryable: false, context: { database: this.description }, cause: e,
    });
  }
}

function positiveInt(v: number | undefined, dflt: number, option: string, where: string): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v <= 0) {
    throw new LakeSoulError('InvalidArgument', `catalog database ${where}: ${option} must be a positive integer, not ${String(v)}`, {
      code: 'INVALID_OPTION_VALUE', context: { option },
    });
  }
  return v;
}

/** The statement's first words, for messages (its parameters are never shown). */
function statementSummary(text: string): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * Sends PostgreSQL's cancel request for the statement running on `client`'s backend, over a new
 * connection (no login, no pool slot). It never delays the caller, and gives up after
 * {@link CANCEL_REQUEST_TIMEOUT_MS} when the network does not answer (the server-side
 * `statement_timeout` then ends the statement). The socket does not keep the process alive; the
 * promise resolves when the request was sent or given up ({@link PgDriver.close} waits for it).
 */
function sendCancelRequest(client: pg.PoolClient): Promise<void> {
  const c = client as unknown as { processID?: number | null; secretKey?: number | null; host?: string; port?: number };
  if (typeof c.processID !== 'number' || typeof c.secretKey !== 'number' || !c.host) return Promise.resolve();
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(80877102, 4); // the CancelRequest code
  packet.writeInt32BE(c.processID, 8);
  packet.writeInt32BE(c.secretKey, 12);
  const port = c.port ?? 5432;
  const socket = c.host.startsWith('/') ? createConnection(`${c.host}/.s.PGSQL.${port}`) : createConnection({ host: c.host, port });
  socket.unref();
  socket.setTimeout(CANCEL_REQUEST_TIMEOUT_MS, () => socket.destroy());
  socket.on('error', () => {});
  socket.on('connect', () => socket.end(packet));
  return new Promise<void>((resolve) => socket.once('close', () => resolve()));
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
 * (no SQLSTATE), the COMMIT got no answer within the query timeout, or the server was shutting the session down (class 08, 57P01-57P03), so the
 * transaction may have committed before the answer was lost. A serialization failure or a
 * constraint error at commit is a definite "not committed".
 */
function commitOutcomeUnknown(e: unknown): boolean {
  if (LakeSoulError.hasCode(e, 'CATALOG_TIMEOUT')) return true; // no answer: it may have committed
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03';
}
