/**
 * {@link SqlDriver} over an embedded PGlite database (PostgreSQL compiled to WebAssembly), stored in a
 * directory or in memory. One session: transactions are serialized by PGlite, and only one process
 * may open a directory at a time.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { processAlive } from './process-alive.js';
import { LakeSoulError } from './errors.js';
import { pgliteWasmModule, type WasmModule } from './pglite-module.js';
import { throwIfAborted } from './abort.js';
import {
  mapSqlError,
  type SqlDriver, type SqlDriverCapabilities, type SqlExecutor, type SqlQueryOptions, type SqlQueryResult,
} from './sql-driver.js';

/** Options of {@link PGliteDriver.open}. */
export interface PGliteDriverOptions {
  /** Data directory (created when missing). Absent: an in-memory database, gone at close. */
  dataDir?: string;
  /**
   * PostgreSQL settings for this session, on top of {@link PGLITE_CATALOG_SETTINGS} (e.g.
   * `{ shared_buffers: '64MB' }` for a large catalog). Passed on the command line, so they apply to
   * existing directories without editing their files; an invalid value fails the open.
   */
  settings?: Record<string, string>;
}

/**
 * PostgreSQL settings an embedded catalog runs with. PostgreSQL's defaults are sized for a shared
 * server: 128 MB of shared buffers (which PGlite zeroes at every start: ~150 ms and ~130 MiB of
 * resident memory) and slots for 100 connections, where PGlite serves one session. A LakeSoul catalog
 * is a few MB; 8 MB of buffers holds it, and the operating system caches the rest of its files.
 * `max_wal_size` bounds the write-ahead log between checkpoints (the default lets it reach 1 GB).
 * Command-line settings win over the directory's postgresql.conf, so every catalog, new or existing,
 * gets them on open and nothing in the directory is rewritten.
 */
export const PGLITE_CATALOG_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '8MB',
  max_connections: '3',
  autovacuum_worker_slots: '1',
  max_wal_senders: '0',
  max_replication_slots: '0',
  max_wal_size: '64MB',
};

/**
 * WAL segment size of catalogs this driver creates (`initdb --wal-segsize`, in MB). PostgreSQL's 16 MB
 * default makes a new catalog's log 16 MB before anything is written; 1 MB segments keep a fresh
 * catalog small. Existing catalogs keep the size they were created with.
 */
export const PGLITE_WAL_SEGMENT_MB = 1;

/**
 * `min_wal_size` for a directory: two segments, the least PostgreSQL accepts (the default, 80 MB, keeps
 * that much recycled log on disk). Derived from the size of the directory's WAL segment files, as it
 * cannot be lowered below twice the segment size the catalog was created with.
 */
function minWalSize(dataDir: string | undefined): string {
  let segmentBytes = PGLITE_WAL_SEGMENT_MB * 2 ** 20;
  if (dataDir && existsSync(join(dataDir, 'PG_VERSION'))) {
    try {
      const segment = readdirSync(join(dataDir, 'pg_wal')).find((f) => /^[0-9A-F]{24}$/.test(f));
      if (segment) segmentBytes = statSync(join(dataDir, 'pg_wal', segment)).size;
    } catch { /* no pg_wal: PostgreSQL will report it */ }
  }
  return `${Math.max(2, Math.ceil((2 * segmentBytes) / 2 ** 20))}MB`;
}

type PGliteModule = typeof import('@electric-sql/pglite');
let pgliteModule: PGliteModule | undefined;

/**
 * PGlite's package, loaded on first use: a process that reaches its catalog through a catalog server
 * or PostgreSQL never loads it (about 60 ms of a command's start).
 */
async function loadPGlite(): Promise<PGliteModule> {
  return pgliteModule ??= await import('@electric-sql/pglite');
}

/** The same, synchronously (for the constructor), through the package's CommonJS build. */
function loadPGliteSync(): PGliteModule {
  return pgliteModule ??= createRequire(import.meta.url)('@electric-sql/pglite') as PGliteModule;
}

/** PGlite options for a directory (or an in-memory database): start-up settings and initdb arguments. */
function pgliteOptions(pglite: PGliteModule, dataDir: string | undefined, settings: Record<string, string> = {}): { startParams: string[]; initDbStartParams: string[]; pgliteWasmModule?: WasmModule } {
  const defaults = (pglite.PGlite as unknown as { defaultStartParams?: string[] }).defaultStartParams ?? [];
  const all = { ...PGLITE_CATALOG_SETTINGS, min_wal_size: minWalSize(dataDir), ...settings };
  const wasmModule = pgliteWasmModule();
  return {
    startParams: [...defaults, ...Object.entries(all).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    initDbStartParams: [`--wal-segsize=${PGLITE_WAL_SEGMENT_MB}`],
    ...(wasmModule ? { pgliteWasmModule: wasmModule } : {}),
  };
}

/** Name of the lock file that keeps a second process out of an embedded catalog directory. */
export const PGLITE_LOCK_FILE = '.lakesoul-ts.lock';


/**
 * Takes the directory's lock file (pid inside). PGlite is a single session: two processes on one
 * directory would corrupt it, so a second process gets a clear error instead. A lock left by a dead
 * process is taken over; the same process may open the directory again.
 */
function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, PGLITE_LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try { unlinkSync(path); } catch { /* already gone */ }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let pid = NaN;
      try { pid = Number.parseInt(readFileSync(path, 'utf8'), 10); } catch { /* vanished meanwhile */ }
      if (pid === process.pid) return () => {};
      if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
        throw new LakeSoulError('Catalog',
          `the embedded catalog ${dataDir} is in use by process ${pid}; an embedded (PGlite) catalog serves one process at a time: stop the other process or use a PostgreSQL server (LAKESOUL_PG_URL)`,
          { code: 'CATALOG_LOCKED', context: { dataDir, pid } });
      }
      try { unlinkSync(path); } catch { /* someone else took it over */ }
    }
  }
  throw new LakeSoulError('Catalog', `could not lock the embedded catalog ${dataDir} (${path})`, { code: 'CATALOG_LOCKED', context: { dataDir } });
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
  private unlock: () => void = () => {};

  /**
   * Wraps an existing PGlite instance, or creates one: `new PGliteDriver()` (in memory),
   * `new PGliteDriver('/data/dir')` or `new PGliteDriver({ dataDir })`. A created instance finishes
   * starting in the background (the first query waits for it); {@link PGliteDriver.open} instead
   * reports a failing start right away.
   */
  constructor(db?: PGlite | PGliteDriverOptions | string, description?: string) {
    if (typeof db === 'object' && typeof (db as { query?: unknown }).query === 'function') {
      this.db = db as PGlite;
      this.description = description ?? 'pglite';
    } else {
      const dataDir = typeof db === 'string' ? db : db?.dataDir;
      if (dataDir) {
        mkdirSync(dataDir, { recursive: true });
        this.unlock = lockDataDir(dataDir);
      }
      const pglite = loadPGliteSync();
      const options = pgliteOptions(pglite, dataDir, typeof db === 'object' ? (db as PGliteDriverOptions).settings : undefined);
      this.db = dataDir ? new pglite.PGlite(dataDir, options) : new pglite.PGlite(options);
      this.description = description ?? dataDir ?? 'memory://';
    }
  }

  /** Opens (creating when needed) the database in `dataDir`, or in memory. */
  static async open(options: PGliteDriverOptions = {}): Promise<PGliteDriver> {
    let unlock = () => {};
    try {
      if (options.dataDir) {
        mkdirSync(options.dataDir, { recursive: true });
        unlock = lockDataDir(options.dataDir);
      }
      const pglite = await loadPGlite();
      const pgOptions = pgliteOptions(pglite, options.dataDir, options.settings);
      const db = options.dataDir ? await pglite.PGlite.create(options.dataDir, pgOptions) : await pglite.PGlite.create(pgOptions);
      const d = new PGliteDriver(db, options.dataDir ?? 'memory://');
      d.unlock = unlock;
      return d;
    } catch (e) {
      unlock();
      if (e instanceof LakeSoulError) throw e;
      const custom = Object.entries(options.settings ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
      const hint = custom ? ` (check the settings passed to it: ${custom})` : '';
      throw new LakeSoulError('Catalog', `cannot open the embedded catalog at ${options.dataDir ?? 'memory://'}: ${(e as Error)?.message ?? e}${hint}`, {
        code: 'CATALOG_UNAVAILABLE', context: { dataDir: options.dataDir }, cause: e,
      });
    }
  }

  async query<R = Record<string, unknown>>(text: string, params: unknown[] = [], options: SqlQueryOptions = {}): Promise<SqlQueryResult<R>> {
    this.checkOpen();
    throwIfAborted(options.signal, 'catalog query');
    try {
      const r = await this.db.query<R>(text, params);
      return { rows: r.rows, rowCount: r.rows.length || (r.affectedRows ?? 0) };
    } catch (e) {
      throw mapSqlError(e);
    }
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options: SqlQueryOptions = {}): Promise<T> {
    this.checkOpen();
    throwIfAborted(options.signal, 'catalog transaction');
    try {
      return await this.db.transaction(async (t: PGliteTx) => {
        const tx: SqlExecutor = {
          query: async <R>(text: string, params: unknown[] = [], o: SqlQueryOptions = {}): Promise<SqlQueryResult<R>> => {
            throwIfAborted(o.signal ?? options.signal, 'catalog query');
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
      this.unlock();
    } catch (e) {
      this.unlock();
      throw new LakeSoulError('Catalog', `closing the embedded catalog ${this.description} failed: ${(e as Error)?.message ?? e}`, { cause: e });
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new LakeSoulError('Catalog', `catalog driver for ${this.description} is closed`, { code: 'DRIVER_CLOSED' });
  }
}
