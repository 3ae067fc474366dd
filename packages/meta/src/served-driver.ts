/**
 * A process that reaches an embedded catalog through another process's catalog server (a background
 * `lakesoul-ts catalog-server`, `serve`, `ui`, a program with `share: true`) outlives that server more
 * often than not: `ui` and `serve` run for days, the background server stops after five idle minutes
 * or on `catalog-server --stop`, and any of them may be killed. {@link ServedCatalogDriver} follows the
 * catalog across such an end: the call after the connection was lost reaches the catalog again the way
 * `Catalog.open` would at that moment (through a new server, or by opening the directory itself, and
 * then sharing it when asked to), instead of failing every call from then on. As `Catalog.open` does, it
 * waits for a process that has opened the directory itself meanwhile (a CLI `import` run after
 * `catalog-server --stop`) to close it or serve it, up to the lock wait.
 */
import { existsSync } from 'node:fs';
import { LakeSoulError } from './errors.js';
import { abortableSleep, abortedError, throwIfAborted, whenAborted } from './abort.js';
import { catalogLockWaitMs } from './lock-wait.js';
import { resolveEmbeddedDriver, serveCatalog, SocketDriver, type CatalogServer, type CatalogServerInfo } from './catalog-server.js';
import type { SqlDriver, SqlDriverCapabilities, SqlExecutor, SqlQueryOptions, SqlQueryResult } from './sql-driver.js';

/** Options of {@link ServedCatalogDriver}. */
export interface ServedCatalogDriverOptions {
  /** The catalog directory. */
  dataDir: string;
  /** Opens the directory in this process (when no server serves it any more). */
  openDirect: () => Promise<SqlDriver>;
  /** The server the first driver goes through. */
  server: CatalogServerInfo;
  /** How long a server that is starting or stopping is waited for when reconnecting, in ms (default 15 s). */
  waitMs?: number;
  /**
   * How long a call waits, when the server is gone, for a process that has opened the directory itself
   * (and does not serve it) to close it or serve it, in ms: `Catalog.open`'s `lockWaitMs`. Default:
   * `LAKESOUL_CATALOG_WAIT` seconds from `process.env`, else 60 s; 0 fails at once.
   */
  lockWaitMs?: number;
}

interface Subscription { channel: string; onPayload: (payload: string) => void; stop?: () => Promise<void> }

/** How long a listener's reconnection waits between attempts while the catalog cannot be reached. */
const RELISTEN_RETRY_MS = 1000;
/** The pause before looking for the catalog again after the connection just made was lost at once. */
const REOPEN_AGAIN_MS = 25;
/** How often a wait for a process holding the directory tries again, in ms (as `Catalog.open`'s wait). */
const LOCK_POLL_MS = 150;

/**
 * {@link SqlDriver} of an embedded catalog served by another process, which reconnects after that
 * process ends (see the module comment). A call that was running when the connection was lost fails as
 * before (`CATALOG_UNAVAILABLE`, or `TRANSACTION_OUTCOME_UNKNOWN` for a commit); the next call reaches the
 * catalog again: through the socket of whichever process serves it now, or, when none does, by opening
 * the directory in this process — and serving it to others when {@link ServedCatalogDriver.shareOnTakeover}
 * was called. Subscriptions ({@link ServedCatalogDriver.listen}) are renewed on the new connection, at
 * once: notifications sent while no connection existed are lost.
 */
export class ServedCatalogDriver implements SqlDriver {
  readonly kind = 'pglite' as const;
  private current: SqlDriver;
  private server: CatalogServerInfo | undefined;
  private reopening: Promise<SqlDriver> | undefined;
  private sharing: CatalogServer | undefined;
  private shareRole: string | undefined;
  private closed = false;
  private relistenTimer: NodeJS.Timeout | undefined;
  private readonly subscriptions = new Set<Subscription>();
  /** Aborted by close(): ends a wait for the directory under way. */
  private readonly closing = new AbortController();

  /** Told how the catalog was reached again after its server went away (for a long-running process's log). */
  onReconnect: ((how: string) => void) | undefined;

  /**
   * Told once per wait when a call starts waiting for a process that holds the directory without
   * serving it (the wait can be long; see {@link ServedCatalogDriverOptions.lockWaitMs}); nothing is
   * said without it.
   */
  onLockWait: ((wait: { pid: number; dataDir: string; waitMs: number }) => void) | undefined;

  constructor(first: SocketDriver, private readonly options: ServedCatalogDriverOptions) {
    this.current = first;
    this.server = options.server;
    this.watch(first);
  }

  /** The capabilities of the way the catalog is reached now. */
  get capabilities(): SqlDriverCapabilities {
    return this.current.capabilities;
  }

  /** The process whose server this driver goes through now; undefined once this process holds the directory itself. */
  get servedBy(): number | undefined {
    return this.server?.pid;
  }

  /**
   * Should this process have to open the directory itself (its server gone and none other serving it),
   * it serves the catalog to other processes under `role` (as `shareCatalogDirectory` does), until
   * {@link ServedCatalogDriver.close}.
   */
  shareOnTakeover(role: string): void {
    this.shareRole = role;
  }

  async query<R = Record<string, unknown>>(text: string, params: unknown[] = [], options: SqlQueryOptions = {}): Promise<SqlQueryResult<R>> {
    return (await this.driver(options.signal)).query<R>(text, params, options);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options: SqlQueryOptions = {}): Promise<T> {
    return (await this.driver(options.signal)).transaction(fn, options);
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    const sub: Subscription = { channel, onPayload };
    sub.stop = await (await this.driver()).listen(channel, onPayload);
    this.subscriptions.add(sub);
    return async () => {
      if (!this.subscriptions.delete(sub)) return;
      await sub.stop?.();
    };
  }

  /** Closes the connection (or the directory, when this process took it over) and stops sharing it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    clearTimeout(this.relistenTimer);
    this.subscriptions.clear();
    await this.reopening?.catch(() => {});
    const sharing = this.sharing;
    this.sharing = undefined;
    if (sharing) await sharing.close();
    await this.current.close();
  }

  /**
   * The driver to run a call on: the current one, or a new one when the server's connection was lost.
   * One search serves every call meanwhile; a call whose `signal` aborts stops waiting for it.
   */
  private async driver(signal?: AbortSignal): Promise<SqlDriver> {
    if (this.closed) throw this.closedError();
    if (!(this.current instanceof SocketDriver) || !this.current.connectionLost) return this.current;
    const what = `reaching the catalog ${this.options.dataDir} again`;
    throwIfAborted(signal, what);
    const reopening = this.reopening ??= this.reopen().finally(() => { this.reopening = undefined; });
    if (!signal) return reopening;
    return new Promise<SqlDriver>((resolve, reject) => {
      const off = whenAborted(signal, () => reject(abortedError(what, signal.reason)));
      reopening.then((d) => { off(); resolve(d); }, (e: unknown) => { off(); reject(e); });
    });
  }

  private closedError(): LakeSoulError {
    return new LakeSoulError('Catalog', `catalog driver for ${this.options.dataDir} is closed`, { code: 'DRIVER_CLOSED' });
  }

  /**
   * Reaches the catalog again. A server that is being killed can still accept a connection (its
   * listening socket outlives the connections it served by a moment) and then drop it: such a
   * connection is lost before this returns, and the catalog is looked for again.
   */
  private async reopen(): Promise<SqlDriver> {
    const { dataDir } = this.options;
    const waitMs = this.options.waitMs ?? 15_000;
    const lockWaitMs = this.options.lockWaitMs ?? catalogLockWaitMs(process.env);
    const started = Date.now();
    const until = started + waitMs;
    let told = false;
    for (;;) {
      let driver: SqlDriver;
      try {
        driver = await this.reopenOnce();
      } catch (e) {
        // A live process has opened the directory itself (and does not serve it): wait for it to close
        // it or serve it, as Catalog.open does (failing at once told a program to stop the other process).
        const pid = LakeSoulError.hasCode(e, 'CATALOG_LOCKED') ? Number(e.context.pid) : NaN;
        if (!Number.isInteger(pid) || this.closed) throw e;
        if (Date.now() - started >= lockWaitMs) {
          throw new LakeSoulError('Catalog',
            `the catalog server of ${dataDir} went away and process ${pid} has opened it itself, without serving it to other processes; ` +
            `waited ${+(lockWaitMs / 1000).toFixed(1)} s for it to close or serve it (LAKESOUL_CATALOG_WAIT or lockWaitMs sets how long): ` +
            'the call may be retried (each call looks for the catalog again)',
            { code: 'CATALOG_LOCKED', retryable: true, context: { ...(e as LakeSoulError).context, dataDir, pid }, cause: e });
        }
        if (!told) this.onLockWait?.({ pid, dataDir, waitMs: lockWaitMs });
        told = true;
        await abortableSleep(LOCK_POLL_MS, this.closing.signal, `waiting for process ${pid}, which has the catalog ${dataDir} open`)
          .catch((slept: unknown) => { throw this.closed ? this.closedError() : slept; });
        continue;
      }
      if (!(driver instanceof SocketDriver) || !driver.connectionLost) return driver;
      if (Date.now() > until) {
        // a server that keeps dropping its connections fails the call (a listener tries again later)
        throw new LakeSoulError('Catalog',
          `the catalog server of ${this.options.dataDir} (process ${this.server?.pid}) accepted connections and dropped them for ${waitMs / 1000} s: stop that process and run the command again`,
          { code: 'CATALOG_UNAVAILABLE', retryable: true, context: { dataDir: this.options.dataDir, pid: this.server?.pid } });
      }
      await abortableSleep(REOPEN_AGAIN_MS, this.closing.signal, 'reaching the catalog again')
        .catch((slept: unknown) => { throw this.closed ? this.closedError() : slept; });
    }
  }

  private async reopenOnce(): Promise<SqlDriver> {
    const { dataDir, openDirect } = this.options;
    const lost = this.current;
    // A catalog directory moved or deleted while its server served this program is not made anew: the
    // catalog would have been opened directly, and PGlite makes a missing directory a new, empty
    // catalog (a home moved during an import came back at its old path with no table).
    if (!existsSync(dataDir)) {
      throw new LakeSoulError('NotFound', `the embedded catalog ${dataDir} is gone: it was moved or deleted while this program used it through the catalog server of process ${this.server?.pid}; nothing was opened or made at that path. Run the command again with the home (or dataDir) where it is now`, {
        code: 'CATALOG_DIR_GONE',
        context: { dataDir },
      });
    }
    const found = await resolveEmbeddedDriver(dataDir, openDirect, { waitMs: this.options.waitMs ?? 15_000, lastServer: this.server, claimAs: this.shareRole });
    if (this.closed) {
      found.claim?.release();
      await found.driver.close();
      throw this.closedError();
    }
    let how = found.server ? `through the catalog server of process ${found.server.pid}` : 'by opening the catalog in this process';
    if (found.claim) {
      try {
        this.sharing = await serveCatalog(found.driver, found.claim);
        how += ', which now serves it to other processes';
      } catch (e) {
        found.claim.release();
        how += ` (not shared with other processes: ${(e as Error).message})`;
      }
    }
    this.current = found.driver;
    this.server = found.server;
    if (found.driver instanceof SocketDriver) this.watch(found.driver);
    await lost.close().catch(() => {});
    const unrenewed: string[] = [];
    for (const sub of this.subscriptions) {
      sub.stop = await found.driver.listen(sub.channel, sub.onPayload).catch((e: unknown) => {
        unrenewed.push(`${sub.channel} (${(e as Error).message})`);
        return undefined;
      });
    }
    // a connection already lost again is retried by reopen(); nothing to report for it
    if (found.driver instanceof SocketDriver && found.driver.connectionLost) return found.driver;
    if (unrenewed.length > 0) how += `; could not listen again on ${unrenewed.join(', ')}: their notifications are not received`;
    this.onReconnect?.(`the catalog server of ${dataDir} went away; reached the catalog again ${how}`);
    return found.driver;
  }

  /** Renews subscriptions at once when `driver`'s connection is lost (a listener makes no calls that would). */
  private watch(driver: SocketDriver): void {
    driver.onLost = () => {
      if (this.subscriptions.size === 0 || this.closed) return;
      const attempt = (): void => {
        this.relistenTimer = undefined;
        if (this.closed || this.subscriptions.size === 0) return;
        this.driver().catch(() => { if (!this.closed) this.relistenTimer = setTimeout(attempt, RELISTEN_RETRY_MS).unref(); });
      };
      attempt();
    };
  }
}
