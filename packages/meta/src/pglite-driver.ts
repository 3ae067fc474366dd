/**
 * {@link SqlDriver} over an embedded PGlite database (PostgreSQL compiled to WebAssembly), stored in a
 * directory or in memory. One session: transactions are serialized by PGlite, and only one process
 * may open a directory at a time.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { LakeSoulError } from './errors.js';
import {
  checkAborted, mapSqlError,
  type SqlDriver, type SqlDriverCapabilities, type SqlExecutor, type SqlQueryOptions, type SqlQueryResult,
} from './sql-driver.js';

/** Options of {@link PGliteDriver.open}. */
export interface PGliteDriverOptions {
  /** Data directory (created when missing). Absent: an in-memory database, gone at close. */
  dataDir?: string;
}

interface PGliteTx {
  query<R>(text: string, params?: unknown[]): Promise<{ rows: R[]; affectedRows?: number }>;
}

/** Embedded PGlite driver. */
export class PGliteDriver implements SqlDriver {
  readonly kind = 'pglite' as const;
  readonly capabilities: SqlDriverCapabilities = { concurrentTransactions: false, multiProcess: false, listenNotify: true };
  /** `memory://` or the data directory. */
  readonly description: string;
  /** The underlying PGlite instance (for tools and tests). */
  readonly db: PGlite;
  private closed = false;

  /**
   * Wraps an existing PGlite instance, or creates one: `new PGliteDriver()` (in memory),
   * `new PGliteDriver('/data/dir')` or `new PGliteDriver({ dataDir })`. A created instance finishes
   * starting in the background (the first query waits for it); {@link PGliteDriver.open} instead
   * reports a failing start right away.
   */
  constructor(db?: PGlite | PGliteDriverOptions | string, description?: string) {
    if (db instanceof PGlite || (typeof db === 'object' && typeof (db as { query?: unknown }).query === 'function')) {
      this.db = db as PGlite;
      this.description = description ?? 'pglite';
    } else {
      const dataDir = typeof db === 'string' ? db : db?.dataDir;
      if (dataDir) mkdirSync(dataDir, { recursive: true });
      this.db = dataDir ? new PGlite(dataDir) : new PGlite();
      this.description = description ?? dataDir ?? 'memory://';
    }
  }

  /** Opens (creating when needed) the database in `dataDir`, or in memory. */
  static async open(options: PGliteDriverOptions = {}): Promise<PGliteDriver> {
    try {
      if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
      const db = options.dataDir ? await PGlite.create(options.dataDir) : await PGlite.create();
      return new PGliteDriver(db, options.dataDir ?? 'memory://');
    } catch (e) {
      throw new LakeSoulError('Catalog', `cannot open the embedded catalog at ${options.dataDir ?? 'memory://'}: ${(e as Error)?.message ?? e}`, {
        code: 'CATALOG_UNAVAILABLE', context: { dataDir: options.dataDir }, cause: e,
      });
    }
  }

  async query<R = Record<string, unknown>>(text: string, params: unknown[] = [], options: SqlQueryOptions = {}): Promise<SqlQueryResult<R>> {
    this.checkOpen();
    checkAborted(options.signal, 'catalog query');
    try {
      const r = await this.db.query<R>(text, params);
      return { rows: r.rows, rowCount: r.rows.length || (r.affectedRows ?? 0) };
    } catch (e) {
      throw mapSqlError(e);
    }
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options: SqlQueryOptions = {}): Promise<T> {
    this.checkOpen();
    checkAborted(options.signal, 'catalog transaction');
    try {
      return await this.db.transaction(async (t: PGliteTx) => {
        const tx: SqlExecutor = {
          query: async <R>(text: string, params: unknown[] = [], o: SqlQueryOptions = {}): Promise<SqlQueryResult<R>> => {
            checkAborted(o.signal ?? options.signal, 'catalog query');
            try {
              const r = await t.query<R>(text, params);
              return { rows: r.rows, rowCount: r.rows.length || (r.affectedRows ?? 0) };
            } catch (e) {
              throw mapSqlError(e);
            }
          },
        };
        return fn(tx);
      });
    } catch (e) {
      throw mapSqlError(e);
    }
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    this.checkOpen();
    try {
      const unsub = await this.db.listen(channel, onPayload);
      return async () => { if (!this.closed) await unsub(); };
    } catch (e) {
      throw mapSqlError(e);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.db.close();
    } catch (e) {
      throw new LakeSoulError('Catalog', `closing the embedded catalog ${this.description} failed: ${(e as Error)?.message ?? e}`, { cause: e });
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new LakeSoulError('Catalog', `catalog driver for ${this.description} is closed`, { code: 'DRIVER_CLOSED' });
  }
}
