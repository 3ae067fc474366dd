/**
 * {@link SqlDriver} over an embedded PGlite database (PostgreSQL compiled to WebAssembly), stored in a
 * directory or in memory. One session: transactions are serialized by PGlite, and only one process
 * may open a directory at a time; within that process, every driver on a directory shares one PGlite.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants as fsConstants, existsSync, fsyncSync, linkSync, lstatSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Extension, Extensions, PGlite } from '@electric-sql/pglite';
import { ownProcessStart, processAlive } from './process-alive.js';
import { flushDirectoryTreeSync, makeDirectorySync } from './directories.js';
import { LakeSoulError } from './errors.js';
import { pgliteWasmModule, type WasmModule } from './pglite-module.js';
import { abortedError, throwIfAborted } from './abort.js';
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
 * `log_startup_progress_interval` 0: its timer (every 10 s, as a Node timer in PGlite) was never
 * cancelled after the start of an existing catalog, so a program that did not close its catalog never
 * exited (PostgreSQL's statistics timer still holds such a program up to 10 s after its last query).
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
  log_startup_progress_interval: '0',
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

/**
 * Settings that make a catalog directory's commits durable. PGlite starts PostgreSQL with `-F` (fsync
 * off), and its file layer ignores `fdatasync` (PostgreSQL's default way to flush the log on Linux)
 * and has no `fsync` for files on disk: a power loss could take the last seconds of commits, and a
 * checkpoint could reach the disk before the pages it covers. With fsync on and the log flushed by
 * `fsync()`, which the driver passes on to the operating system, a commit returns once its log
 * record is on disk, as on a PostgreSQL server.
 */
export const PGLITE_DURABILITY_SETTINGS: Readonly<Record<string, string>> = {
  fsync: 'on',
  wal_sync_method: 'fsync',
};

/** The part of PGlite's Emscripten module the fsync hook touches. */
interface EmscriptenModule {
  NODEFS?: { stream_ops: { fsync?: (stream: { nfd?: number }) => void }; tryFSOperation?: (f: () => void) => void };
}

/**
 * A PGlite "extension" (its documented way to adjust the Emscripten module) that gives the host file
 * system's streams an `fsync`: Emscripten's `fsync()` calls the stream's, and NODEFS had none, so every
 * flush PostgreSQL asked for was a no-op. Errors come back to PostgreSQL as its errno (an I/O error
 * then stops it, as PostgreSQL does on a failed flush).
 */
const DURABLE_FSYNC: Extension = {
  name: 'lakesoul-ts durable fsync',
  setup: async (_pg, emscriptenOpts: { preRun?: ((mod: EmscriptenModule) => void)[] }) => ({
    emscriptenOpts: {
      ...emscriptenOpts,
      preRun: [...(emscriptenOpts.preRun ?? []), (mod: EmscriptenModule) => {
        const nodefs = mod.NODEFS;
        if (!nodefs) return;
        nodefs.stream_ops.fsync = (stream) => {
          if (stream.nfd === undefined) return;
          const sync = () => fsyncSync(stream.nfd!);
          if (nodefs.tryFSOperation) nodefs.tryFSOperation(sync); else sync();
        };
      }],
    },
  }),
};

/** PGlite options for a directory (or an in-memory database): start-up settings and initdb arguments. */
function pgliteOptions(pglite: PGliteModule, dataDir: string | undefined, settings: Record<string, string> = {}): { startParams: string[]; initDbStartParams: string[]; pgliteWasmModule?: WasmModule; extensions?: Extensions } {
  const defaults = (pglite.PGlite as unknown as { defaultStartParams?: string[] }).defaultStartParams ?? [];
  const all = { ...PGLITE_CATALOG_SETTINGS, ...(dataDir ? PGLITE_DURABILITY_SETTINGS : {}), min_wal_size: minWalSize(dataDir), ...settings };
  const wasmModule = pgliteWasmModule();
  return {
    startParams: [...defaults, ...Object.entries(all).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    initDbStartParams: [`--wal-segsize=${PGLITE_WAL_SEGMENT_MB}`],
    ...(wasmModule ? { pgliteWasmModule: wasmModule } : {}),
    ...(dataDir ? { extensions: { lakesoulDurableFsync: DURABLE_FSYNC } } : {}),
  };
}

/** Name of the lock file that keeps a second process out of an embedded catalog directory. */
export const PGLITE_LOCK_FILE = '.lakesoul-ts.lock';


/**
 * How long a lock file that names no process is taken as being written (by an earlier version, which
 * created it empty and wrote the pid after): an older one was left so by a power loss, and is stale.
 */
const UNREADABLE_LOCK_GRACE_MS = 5_000;

/** What a lock file holds: its text, the pid and start in it (NaN / undefined when unreadable), and its age. */
interface LockFile { text: string; pid: number; start: string | undefined; mtimeMs: number }

function readLock(path: string): LockFile | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    const [p, start] = text.trim().split(/\s+/);
    return { text, pid: /^\d+$/.test(p ?? '') ? Number(p) : NaN, start, mtimeMs: statSync(path).mtimeMs };
  } catch {
    return undefined; // vanished meanwhile
  }
}

/** Creates `path` holding `text`, atomically (a hard link of a complete temp file): false when it exists. */
function createWithText(path: string, text: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, text, { flag: 'wx' });
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    try { unlinkSync(tmp); } catch { /* gone */ }
  }
}

/**
 * Removes a stale lock file, unless another process replaced it since it was read as `stale` (two
 * processes taking over one dead holder's lock: the second removed the first's new lock, and both
 * ran PGlite on the directory, each overwriting the other's commits).
 */
function removeStaleLock(path: string, stale: LockFile): void {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try { renameSync(path, aside); } catch { return; /* someone else took it over */ }
  let text: string | undefined;
  try { text = readFileSync(aside, 'utf8'); } catch { /* unreadable: as stale as before */ }
  if (text !== undefined && text !== stale.text) {
    // a live holder's lock, taken aside a moment: put it back
    try { linkSync(aside, path); } catch { /* a third process locked it meanwhile */ }
  }
  try { unlinkSync(aside); } catch { /* gone */ }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** This process's user id, or undefined where the platform has none (Windows). */
function ownUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/** The name of user `uid` in `/etc/passwd`, where it is there. */
function userName(uid: number): string | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid));
    return line?.split(':')[0] || undefined;
  } catch {
    return undefined;
  }
}

/** `user NAME (id N)`, or `user id N` where the name is unknown. */
function describeUser(uid: number): string {
  const name = userName(uid);
  return name ? `user ${name} (id ${uid})` : `user id ${uid}`;
}

/**
 * Refuses an embedded catalog directory owned by another user, as PostgreSQL refuses such a data
 * directory. PGlite writes new files as whoever runs it, some of them private (mode 0600): one command
 * run on another user's catalog (`sudo lakesoul-ts …`, or a second user of a shared home) left files
 * its owner could not read, and every command of the owner then failed with PGlite's `Aborted()`.
 */
function refuseForeignDataDir(dataDir: string, real: string): void {
  const me = ownUid();
  if (me === undefined) return;
  const owner = statSync(real).uid;
  if (owner === me) return;
  throw new LakeSoulError('PermissionDenied',
    `the embedded catalog ${dataDir} belongs to ${describeUser(owner)}, not to this process's ${describeUser(me)}: ` +
    'PostgreSQL\'s files written by another user would lock its owner out of the catalog, so it is opened only by its owner. ' +
    `Run the command as that user (e.g. \`sudo -u ${userName(owner) ?? `'#${owner}'`} …\`), or, if the catalog is now this user's, give it to this user (\`chown -R ${me} ${real}\`, as root)`,
    { context: { dataDir, owner, uid: me } });
}

/**
 * The error to throw for `e`, raised while creating `what` in an embedded catalog directory, when `e`
 * says the directory cannot be written (EACCES, EPERM, EROFS: a read-only home or mount); undefined
 * for other errors. PGlite writes into its directory on every open (a lock, its log, a checkpoint),
 * so a read-only catalog cannot be opened at all.
 */
export function readOnlyCatalogError(dataDir: string, e: unknown, what: string): LakeSoulError | undefined {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') return undefined;
  const why = code === 'EROFS' ? 'its file system is mounted read-only' : 'this user may not write there';
  return new LakeSoulError('PermissionDenied',
    `the embedded catalog ${dataDir} cannot be opened: an embedded (PGlite) catalog needs write access to its directory, even to read, ` +
    `and creating ${what} there failed (${code}: ${why}). Copy the home to a writable place (\`cp -a\`) and use the copy, make the directory writable, ` +
    'or keep the catalog on a PostgreSQL server (LAKESOUL_PG_URL)',
    { context: { dataDir, errno: code }, cause: e });
}

/**
 * The first file or directory under `dir` that this process cannot write: owned by another user, or
 * without write permission for it (root may write anything it owns). Undefined when there is none, or
 * where user ids are unknown. At most `limit` entries are looked at.
 */
export function unwritableCatalogEntry(dir: string, limit = 20_000): { path: string; owner: number; why: string } | undefined {
  const me = ownUid();
  if (me === undefined) return undefined;
  const pending = [dir];
  let seen = 0;
  while (pending.length > 0 && seen < limit) {
    const path = pending.shift()!;
    seen++;
    let st;
    try { st = lstatSync(path); } catch { continue; }
    if (st.isSymbolicLink()) continue;
    if (st.uid !== me) return { path, owner: st.uid, why: `belongs to ${describeUser(st.uid)}` };
    try { accessSync(path, fsConstants.W_OK); } catch { return { path, owner: st.uid, why: 'is not writable (its mode)' }; }
    if (st.isDirectory()) {
      try { for (const name of readdirSync(path).sort()) pending.push(join(path, name)); } catch { return { path, owner: st.uid, why: 'cannot be listed' }; }
    }
  }
  return undefined;
}

/**
 * Why PGlite failed to start on `dataDir`, when a file in it is not this user's to write: PGlite
 * then stops with a bare `Aborted()`. Empty when every file is writable.
 */
function unwritableFileHint(dataDir: string | undefined): string {
  if (!dataDir) return '';
  let found;
  try { found = unwritableCatalogEntry(realpathSync(dataDir)); } catch { return ''; }
  if (!found) return '';
  const me = ownUid();
  return `. ${found.path} ${found.why}, not this process's ${describeUser(me!)} (another user opened this catalog, e.g. with sudo): ` +
    `PGlite cannot start on files it cannot write. Give them back to the catalog's owner (as root: \`chown -R ${me} ${realpathSync(dataDir)}\`, ` +
    'or `chmod -R u+w` it) and run the command again';
}

/**
 * Takes the directory's lock file (pid and start time inside). PGlite is a single session: two
 * processes on one directory would corrupt it, so a second process gets a clear error instead. A lock
 * left by a dead process (or one whose pid another process has taken since) is taken over; the same
 * process may open the directory again. The file is created with its contents at once (a reader saw
 * it empty for a moment, took it for stale and removed it: two processes then ran PGlite on one
 * directory, and concurrent imports lost commits).
 */
function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, PGLITE_LOCK_FILE);
  // the pid, then when this process started: a pid reused by another process is not the holder
  const start = ownProcessStart();
  const text = start ? `${process.pid} ${start}` : String(process.pid);
  const deadline = Date.now() + 2 * UNREADABLE_LOCK_GRACE_MS;
  while (Date.now() < deadline) {
    let created: boolean;
    try {
      created = createWithText(path, text);
    } catch (e) {
      throw readOnlyCatalogError(dataDir, e, 'its lock file') ?? e;
    }
    if (created) {
      let released = false;
      return () => {
        if (released) return;
        released = true;
        // only this process's own lock (a stale-lock takeover never removes a live one)
        if (readLock(path)?.text === text) { try { unlinkSync(path); } catch { /* already gone */ } }
      };
    }
    const held = readLock(path);
    if (!held) continue;
    const { pid } = held;
    if (pid === process.pid && (held.start === undefined || held.start === start)) return () => {};
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid, held.start)) {
      throw new LakeSoulError('Catalog',
        `the embedded catalog ${dataDir} is in use by process ${pid}; an embedded (PGlite) catalog serves one process at a time: stop the other process or use a PostgreSQL server (LAKESOUL_PG_URL)`,
        { code: 'CATALOG_LOCKED', context: { dataDir, pid } });
    }
    if (Number.isNaN(pid) && Date.now() - held.mtimeMs < UNREADABLE_LOCK_GRACE_MS) {
      sleepSync(20); // being written by an earlier version
      continue;
    }
    removeStaleLock(path, held);
  }
  throw new LakeSoulError('Catalog', `could not lock the embedded catalog ${dataDir} (${path}): another process keeps taking it`, { code: 'CATALOG_LOCKED', context: { dataDir } });
}

/**
 * Removes PostgreSQL's `postmaster.pid` from a directory this process has just locked: no PGlite runs
 * on it (the lock says so), and PGlite refuses to start on an empty or cut one, which a power loss
 * leaves behind (created, its contents not yet on disk): every command then failed with "PGlite failed
 * to initialize properly" until the file was deleted by hand.
 */
function removePostmasterPid(dataDir: string): void {
  try { unlinkSync(join(dataDir, 'postmaster.pid')); } catch { /* none */ }
}

/**
 * The embedded catalogs open in this process, by the real path of their directory. A PGlite is one
 * PostgreSQL over its files with its own buffers: two on one directory would each overwrite what the
 * other committed (a table created through one was gone after both closed). So every driver this
 * process opens on a directory shares the first one's PGlite (its start-up settings too); the last
 * to close closes it and releases the directory's lock.
 */
const openHere = new Map<string, SharedPGlite>();
/** Directories whose PGlite this process is closing: the close, which a new open waits for. */
const closingHere = new Map<string, Promise<void>>();

interface SharedPGlite {
  db: PGlite;
  /** Drivers open on it. */
  users: number;
  unlock: () => void;
}

/**
 * The real path of `dataDir` (made when missing, mode 0700): one key for every spelling of a directory.
 * PGlite writes its files with mode 0666 whatever the umask (a catalog initialised by it had 973 files
 * any local user could rewrite, `postgresql.auto.conf` and the system catalogs among them), so the
 * directory is kept to its owner, as PostgreSQL requires of a data directory; an existing catalog gets
 * the mode on its next open.
 */
function dataDirKey(dataDir: string): string {
  makeDirectorySync(dataDir, 0o700);
  const real = realpathSync(dataDir);
  refuseForeignDataDir(dataDir, real);
  try {
    if ((statSync(real).mode & 0o077) !== 0) chmodSync(real, 0o700);
  } catch {
    // another user's directory (EPERM): its owner controls what is in it whatever its mode
  }
  return real;
}

/** The PGlite this process has open on `dataDir` (one more user), or a new one, locked, from `create`. */
function shareOrCreate(dataDir: string, create: () => PGlite): { key: string; shared: SharedPGlite } {
  const key = dataDirKey(dataDir);
  let shared = openHere.get(key);
  if (shared) {
    shared.users++;
    return { key, shared };
  }
  if (closingHere.has(key)) {
    // its lock file names this process, so a second PGlite would start on files the first still writes
    throw new LakeSoulError('Catalog', `the embedded catalog ${dataDir} is being closed in this process: wait for close() before opening it again (PGliteDriver.open waits by itself)`, {
      code: 'CATALOG_CLOSING', context: { dataDir },
    });
  }
  const unlock = lockDataDir(dataDir);
  try {
    removePostmasterPid(dataDir);
    shared = { db: create(), users: 1, unlock };
  } catch (e) {
    unlock();
    throw e;
  }
  openHere.set(key, shared);
  return { key, shared };
}

interface PGliteTx {
  query<R>(text: string, params?: unknown[]): Promise<{ rows: R[]; affectedRows?: number }>;
}

/** When the event loop last ran a macrotask for this process's PGlite queries ({@link yieldWhenBusy}). */
let lastTurn = 0;

/**
 * Lets the event loop turn (timers, I/O, other tasks) when PGlite queries have run for
 * {@link BUSY_TURN_MS} without it. An in-process PGlite answers on microtasks alone, so a loop of
 * catalog calls that reads no file (a consumer polling a table for new commits) held the event loop:
 * its timers never fired and writers in the same process never finished their first write.
 */
async function yieldWhenBusy(): Promise<void> {
  const now = performance.now();
  if (now - lastTurn < BUSY_TURN_MS) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  lastTurn = performance.now();
}

/** How long PGlite queries may run on microtasks before the event loop is let turn. */
const BUSY_TURN_MS = 10;

/**
 * PGlite's turn, taken before each of its statements outside a transaction and for a whole
 * transaction: what PGlite's own transaction lock does, but a caller waiting for it (behind another
 * transaction) whose signal aborts leaves the queue, and its statement never runs. PGlite's lock
 * cannot be left: a call queued on it ran once the lock came free, aborted or not.
 */
class PGliteTurns {
  private held = false;
  private readonly waiting: Array<() => void> = [];

  /** Waits for the turn (FIFO); resolves to its release. */
  take(signal: AbortSignal | undefined, what: string): Promise<() => void> {
    throwIfAborted(signal, what);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.held = false;
    };
    if (!this.held) {
      this.held = true;
      return Promise.resolve(release);
    }
    return new Promise<() => void>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(abortedError(what, signal!.reason));
      };
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(release);
      };
      this.waiting.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** The turns of each PGlite instance (drivers of one directory share theirs). */
const pgliteTurns = new WeakMap<object, PGliteTurns>();
function turnsOf(db: object): PGliteTurns {
  let t = pgliteTurns.get(db);
  if (!t) pgliteTurns.set(db, t = new PGliteTurns());
  return t;
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
  /** The process-wide instance this driver shares (a directory's), or null (in memory, or wrapped). */
  private shared: { key: string; instance: SharedPGlite } | null = null;

  /**
   * Wraps an existing PGlite instance, or creates one: `new PGliteDriver()` (in memory),
   * `new PGliteDriver('/data/dir')` or `new PGliteDriver({ dataDir })`. A created instance finishes
   * starting in the background (the first query waits for it); {@link PGliteDriver.open} instead
   * reports a failing start right away. A directory this process has open already is shared.
   */
  constructor(db?: PGlite | PGliteDriverOptions | string, description?: string) {
    if (typeof db === 'object' && typeof (db as { query?: unknown }).query === 'function') {
      this.db = db as PGlite;
      this.description = description ?? 'pglite';
      return;
    }
    const dataDir = typeof db === 'string' ? db : db?.dataDir;
    const create = () => {
      const pglite = loadPGliteSync();
      const options = pgliteOptions(pglite, dataDir, typeof db === 'object' ? (db as PGliteDriverOptions).settings : undefined);
      if (!dataDir) return new pglite.PGlite(options);
      const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
      const created = new pglite.PGlite(dataDir, options);
      if (fresh) {
        // PGlite's initdb writes a new catalog's files without flushing any (a power loss soon after
        // could leave an unopenable catalog): flush them all before the first query, which waits for this
        const writable = created as { waitReady: Promise<void> };
        writable.waitReady = writable.waitReady.then(async () => {
          try {
            flushDirectoryTreeSync(dataDir);
          } catch (e) {
            await created.close().catch(() => {}); // started, so shut down before the open fails
            throw e;
          }
        });
      }
      return created;
    };
    if (dataDir) {
      const { key, shared } = shareOrCreate(dataDir, create);
      this.shared = { key, instance: shared };
      this.db = shared.db;
    } else {
      this.db = create();
    }
    this.description = description ?? dataDir ?? 'memory://';
  }

  /**
   * Opens (creating when needed) the database in `dataDir`, or in memory. A directory this process
   * has open already is shared (see `openHere`): the second open waits for the same start.
   */
  static async open(options: PGliteDriverOptions = {}): Promise<PGliteDriver> {
    let d: PGliteDriver | undefined;
    try {
      await loadPGlite(); // the ES module, which the constructor then finds loaded
      if (options.dataDir) await closingHere.get(dataDirKey(options.dataDir))?.catch(() => {});
      d = new PGliteDriver(options);
      await d.db.waitReady;
      return d;
    } catch (e) {
      // a PGlite that did not start is not closed (there is nothing to shut down): only let go of it
      if (d && !d.closed) {
        d.closed = true;
        if (d.release()) d.shared?.instance.unlock();
      }
      if (e instanceof LakeSoulError) throw e;
      const custom = Object.entries(options.settings ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
      const unwritable = unwritableFileHint(options.dataDir);
      const hint = (custom ? ` (check the settings passed to it: ${custom})` : '') + unwritable;
      const why = String((e as Error)?.message ?? e);
      throw new LakeSoulError('Catalog', `cannot open the embedded catalog at ${options.dataDir ?? 'memory://'}: ${unwritable ? why.replace(/\.\s*$/, '') : why}${hint}`, {
        code: 'CATALOG_UNAVAILABLE', context: { dataDir: options.dataDir }, cause: e,
      });
    }
  }

  async query<R = Record<string, unknown>>(text: string, params: unknown[] = [], options: SqlQueryOptions = {}): Promise<SqlQueryResult<R>> {
    this.checkOpen();
    throwIfAborted(options.signal, 'catalog query');
    await yieldWhenBusy();
    // a statement waiting behind another transaction stops waiting when the signal aborts (and never runs)
    const release = await turnsOf(this.db).take(options.signal, 'catalog query');
    try {
      const r = await this.db.query<R>(text, params);
      return { rows: r.rows, rowCount: r.rows.length || (r.affectedRows ?? 0) };
    } catch (e) {
      throw mapSqlError(e);
    } finally {
      release();
    }
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options: SqlQueryOptions = {}): Promise<T> {
    this.checkOpen();
    throwIfAborted(options.signal, 'catalog transaction');
    await yieldWhenBusy();
    // what `fn` threw, rethrown as it is after the rollback (its statements' errors are mapped already)
    let fnError: { error: unknown } | undefined;
    const release = await turnsOf(this.db).take(options.signal, 'catalog transaction');
    try {
      return await this.db.transaction(async (t: PGliteTx) => {
        const tx: SqlExecutor = {
          query: async <R>(text: string, params: unknown[] = [], o: SqlQueryOptions = {}): Promise<SqlQueryResult<R>> => {
            throwIfAborted(o.signal ?? options.signal, 'catalog query');
            await yieldWhenBusy();
            try {
              const r = await t.query<R>(text, params);
              return { rows: r.rows, rowCount: r.rows.length || (r.affectedRows ?? 0) };
            } catch (e) {
              throw mapSqlError(e);
            }
          },
        };
        try {
          return await fn(tx);
        } catch (e) {
          fnError = { error: e };
          throw e;
        }
      });
    } catch (e) {
      if (fnError) throw fnError.error;
      throw mapSqlError(e);
    } finally {
      release();
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

  /** Closes this driver; the PGlite too unless other drivers of this process share it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.release()) return;
    const shared = this.shared;
    const closing = (async () => {
      try {
        await this.db.close();
      } finally {
        shared?.instance.unlock();
        if (shared) closingHere.delete(shared.key);
      }
    })();
    if (shared) closingHere.set(shared.key, closing);
    try {
      await closing;
    } catch (e) {
      throw new LakeSoulError('Catalog', `closing the embedded catalog ${this.description} failed: ${(e as Error)?.message ?? e}`, { cause: e });
    }
  }

  /** Drops this driver's use of its PGlite: true when none is left (a directory's is then unregistered). */
  private release(): boolean {
    const shared = this.shared;
    if (!shared) return true;
    if (--shared.instance.users > 0) return false;
    openHere.delete(shared.key);
    return true;
  }

  private checkOpen(): void {
    if (this.closed) throw new LakeSoulError('Catalog', `catalog driver for ${this.description} is closed`, { code: 'DRIVER_CLOSED' });
  }
}
