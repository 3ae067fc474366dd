/**
 * One embedded catalog, several processes. PGlite is a single session inside one process, so a catalog
 * directory has one holder (its lock file). The holder can serve its driver on a unix socket
 * ({@link serveCatalog}): `lakesoul-ts serve` does while it runs, and so does the CLI's background catalog
 * server, which keeps a home's catalog open between commands so that a command does not pay PGlite's
 * start (about 0.4 s) each time. Any other process that opens the directory ({@link openEmbeddedDriver},
 * used by `Catalog.open`) then runs its statements through that socket with a {@link SocketDriver}
 * instead of failing on the lock.
 *
 * # The server file
 * `<dataDir>/.lakesoul-ts.server.json` holds `{ pid, socket }`. A server claims it with an exclusive
 * create BEFORE it opens the directory, so a client that finds the lock held by a process that also
 * owns the server file knows a server is starting and waits for its socket. A claim left by a dead
 * process is taken over. The socket itself lives in a private directory (mode 0700) under the system's
 * temporary directory: only the user who runs the server can connect, and the path stays short.
 *
 * # Wire format
 * Frames of a 4-byte big-endian length and a value in V8's serialization format (`node:v8`), which keeps
 * bigints, dates and byte arrays exact. A request is `{ id, op, text?, params?, tx? }` with `op` one of
 * `query`, `begin`, `commit`, `rollback`; a reply is `{ id, rows, rowCount }`, `{ id, tx }` or
 * `{ id, error }` with the error's kind, message, code, retryable flag and context. A frame may hold
 * 256 MB: a larger one ends the connection, so the server answers a larger result with
 * `CATALOG_REPLY_TOO_LARGE` and the client fails a larger request before sending it. A transaction is
 * the server's driver transaction held open across requests; a connection that closes rolls back its
 * open transactions, and so does a transaction left without a statement for
 * {@link ServeCatalogOptions.transactionIdleMs} (its next statement gets `CATALOG_TRANSACTION_EXPIRED`).
 */
import { mkdtempSync, openSync, closeSync, readFileSync, realpathSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { abortableSleep, abortedError, throwIfAborted } from './abort.js';
import { ownProcessStart, processActivity, processAlive, processCommandLine, processStartTime, processUid } from './process-alive.js';
import { readOnlyCatalogError } from './pglite-driver.js';
import { LakeSoulError, type LakeSoulErrorKind } from './errors.js';
import { mapSqlError, type SqlDriver, type SqlDriverCapabilities, type SqlExecutor, type SqlQueryOptions, type SqlQueryResult } from './sql-driver.js';

/** Name of the file in an embedded catalog directory that says which process serves it, and where. */
export const CATALOG_SERVER_FILE = '.lakesoul-ts.server.json';

/** Contents of {@link CATALOG_SERVER_FILE}. */
export interface CatalogServerInfo {
  /** Process that holds (or is opening) the catalog. */
  pid: number;
  /** Unix socket it serves the catalog on. */
  socket: string;
  /** What the process is, for messages (e.g. "lakesoul-ts serve"). */
  role?: string;
  /** When the process started (`processStartTime`), where known: a pid reused by another process does not serve. */
  start?: string;
  /**
   * The real path of the catalog directory it serves: a server file copied with a home into another
   * directory names the original's server, whose catalog is not the copy's (older versions did not
   * write it: see {@link catalogServerDirectory}).
   */
  dir?: string;
}

interface Request { id: number; op: 'query' | 'begin' | 'commit' | 'rollback' | 'listen' | 'unlisten' | 'ping'; text?: string; params?: unknown[]; tx?: number; channel?: string; listener?: number }
interface WireError { kind: LakeSoulErrorKind; message: string; code: string; retryable: boolean; context: Record<string, unknown> }
interface Reply { id: number; rows?: unknown[]; rowCount?: number; tx?: number; listener?: number; error?: WireError }
/** Pushed by the server (id 0): a NOTIFY payload for a client's `listen`. */
interface Notification { id: 0; listener: number; payload: string }


/** The server file of `dataDir`, or undefined when there is none (or it cannot be read). */
export function readCatalogServerInfo(dataDir: string): CatalogServerInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(join(dataDir, CATALOG_SERVER_FILE), 'utf8')) as CatalogServerInfo;
    return Number.isInteger(info.pid) && typeof info.socket === 'string' ? info : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How long a claim whose socket is not there yet is taken as a server that is starting (it claims the
 * directory before PGlite starts, and listens after): an older one, whose process is not known to be
 * the one that wrote it, is stale.
 */
const UNPROVEN_CLAIM_GRACE_MS = 30_000;

/**
 * Whether the process a server file names (`info`, read from `dataDir`'s) is alive and is that server.
 * A live pid alone is not enough: a file without the process's start (written by an older version, or
 * where there is no `/proc`) may name a pid another process has taken since, which `catalog-server
 * --stop` then killed, and for which every command waited. So the process must be the one that
 * started then (the start recorded and matched through `/proc`), or, where that cannot be told, a
 * process whose command line holds `catalog-server` when the role is a catalog server's (Linux), or one
 * whose socket is there (or a claim younger than 30 s: the server is starting). pid 1 never serves.
 */
export function catalogServerAlive(info: CatalogServerInfo, dataDir?: string): boolean {
  if (!Number.isInteger(info.pid) || info.pid <= 1) return false;
  if (!processAlive(info.pid, info.start)) return false;
  if (info.pid === process.pid) return true;
  if (info.start !== undefined && processStartTime(info.pid) === info.start) return true;
  const cmdline = processCommandLine(info.pid);
  if (cmdline !== undefined && info.role?.includes('catalog-server')) return cmdline.includes('catalog-server');
  try {
    if (statSync(info.socket).isSocket()) return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return true; // another user's private directory: cannot tell
  }
  if (dataDir === undefined) return false;
  try {
    return Date.now() - statSync(join(dataDir, CATALOG_SERVER_FILE)).mtimeMs < UNPROVEN_CLAIM_GRACE_MS;
  } catch {
    return false;
  }
}

/**
 * The real path of the catalog directory the server a server file names serves: the file's `dir`,
 * or for a file an older version wrote, the `--catalog <dir>` its background `catalog-server` was
 * started with (`/proc`, relative to its working directory). Undefined where neither tells.
 */
export function catalogServerDirectory(info: CatalogServerInfo): string | undefined {
  if (typeof info.dir === 'string') return info.dir;
  try {
    const args = readFileSync(`/proc/${info.pid}/cmdline`, 'utf8').split('\0');
    const at = args.indexOf('--catalog');
    if (at < 0 || !args[at + 1] || !args.includes('catalog-server')) return undefined;
    return realDirectory(resolve(realpathSync(`/proc/${info.pid}/cwd`), args[at + 1]));
  } catch {
    return undefined;
  }
}

function realDirectory(dir: string): string | undefined {
  try {
    return realpathSync(dir);
  } catch {
    return undefined;
  }
}

/**
 * The user id of the process a server file names, when it is another user's: its process (`/proc`),
 * else its socket's owner. Undefined when it is this user's, or unknown.
 */
export function catalogServerForeignUid(info: CatalogServerInfo): number | undefined {
  if (typeof process.getuid !== 'function') return undefined;
  let uid = processUid(info.pid);
  if (uid === undefined) {
    try { uid = statSync(info.socket).uid; } catch { try { uid = statSync(dirname(info.socket)).uid; } catch { return undefined; } }
  }
  return uid === process.getuid() ? undefined : uid;
}

/** The error for a catalog served by another user's process: its socket is theirs alone (mode 0700). */
export function foreignCatalogServerError(dataDir: string, info: CatalogServerInfo, uid: number): LakeSoulError {
  return new LakeSoulError('PermissionDenied',
    `the embedded catalog ${dataDir} is served by process ${info.pid}${info.role ? ` (${info.role})` : ''} of another user (user id ${uid}), ` +
    `whose socket only that user may use: run the command as that user; an embedded catalog belongs to one user (keep a catalog several users share on PostgreSQL: LAKESOUL_PG_URL)`,
    { context: { dataDir, pid: info.pid, uid } });
}

/** A claim on serving a directory: the socket path to listen on, and the release of the claim. */
export interface CatalogServerClaim {
  /** Where to listen (in a fresh private directory). */
  socket: string;
  /** Removes the server file (when it is still this process's) and the socket's directory. Idempotent. */
  release(): void;
}

/** Longest unix socket path every platform binds as given (macOS: 104 bytes with the terminating NUL; Linux 108). */
const MAX_SOCKET_PATH = 103;

/**
 * Where a server's private socket directory is made: the system's temporary directory, unless its path
 * is so long that the socket's would not fit in a unix socket address. libuv then cuts the path short
 * without an error, so the socket would be made outside its private directory, under a truncated name;
 * `/tmp` is used instead.
 */
function socketBase(): string {
  const longest = join(tmpdir(), 'lakesoul-ts-catalog-XXXXXX', 'catalog.sock');
  return Buffer.byteLength(longest) <= MAX_SOCKET_PATH ? tmpdir() : '/tmp';
}

/**
 * A new private directory for a server's socket under {@link socketBase}; under `/tmp` when that
 * fails (TMPDIR missing, read-only or a file: the server died without a word, and every command paid
 * the catalog's whole start).
 */
function socketDirectory(): string {
  const base = socketBase();
  try {
    return mkdtempSync(join(base, 'lakesoul-ts-catalog-'));
  } catch (e) {
    if (base === '/tmp') throw e;
    return mkdtempSync(join('/tmp', 'lakesoul-ts-catalog-'));
  }
}

/**
 * Claims serving `dataDir`: creates its server file exclusively (`role` says what serves it, for
 * messages). Undefined when a live process holds the claim (the claim of a dead process is taken over; this process's own claim is not taken twice).
 */
export function claimCatalogServer(dataDir: string, role?: string): CatalogServerClaim | undefined {
  const path = join(dataDir, CATALOG_SERVER_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    const held = readCatalogServerInfo(dataDir);
    if (held && catalogServerAlive(held, dataDir)) return undefined;
    if (held) {
      try { unlinkSync(path); } catch { /* someone else cleaned up */ }
      // the dead server's private socket directory (a killed server left it in TMPDIR)
      if (basename(dirname(held.socket)).startsWith('lakesoul-ts-catalog-')) rmSync(dirname(held.socket), { recursive: true, force: true });
    }
    const dir = socketDirectory();
    const socket = join(dir, 'catalog.sock');
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw readOnlyCatalogError(dataDir, e, `its server file ${CATALOG_SERVER_FILE}`) ?? e;
    }
    const start = ownProcessStart();
    const served = realDirectory(dataDir);
    writeSync(fd, JSON.stringify({ pid: process.pid, socket, ...(role ? { role } : {}), ...(start ? { start } : {}), ...(served ? { dir: served } : {}) } satisfies CatalogServerInfo));
    closeSync(fd);
    let released = false;
    return {
      socket,
      release: () => {
        if (released) return;
        released = true;
        if (readCatalogServerInfo(dataDir)?.pid === process.pid) { try { unlinkSync(path); } catch { /* gone */ } }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  return undefined;
}

/** Writes frames: a 4-byte length then the serialized value. */
function send(socket: Socket, value: unknown): void {
  writeFrame(socket, serialize(value));
}

/** Writes one frame of `body` (a serialized value). */
function writeFrame(socket: Socket, body: Buffer): void {
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length);
  socket.write(Buffer.concat([head, body]));
}

/** Largest frame accepted (a catalog's rows are small; anything bigger is not this protocol). */
const MAX_FRAME_BYTES = 256 * 2 ** 20;

/**
 * A reply the server cannot send: its rows serialize to more than {@link MAX_FRAME_BYTES} (or not at
 * all). The client gets this error instead; it once got a frame it refused by ending the connection,
 * which failed the call as a lost server.
 */
function unsendableReply(id: number, bytes: number | undefined, e?: unknown): Reply {
  const size = bytes === undefined ? `could not be serialized (${(e as Error)?.message})` : `is ${Math.ceil(bytes / 2 ** 20)} MB, over the ${MAX_FRAME_BYTES / 2 ** 20} MB a reply may hold`;
  return {
    id,
    error: {
      kind: 'Catalog', code: 'CATALOG_REPLY_TOO_LARGE', retryable: false, context: bytes === undefined ? {} : { bytes },
      message: `catalog server: the result of the statement ${size}: read less at a time (e.g. fewer versions or commits)`,
    },
  };
}

/** Sends `reply`, or the error saying it is too large to send ({@link unsendableReply}). */
function sendReply(socket: Socket, reply: Reply): void {
  let body: Buffer;
  try {
    body = serialize(reply);
  } catch (e) {
    send(socket, unsendableReply(reply.id, undefined, e));
    return;
  }
  if (body.length > MAX_FRAME_BYTES) {
    send(socket, unsendableReply(reply.id, body.length));
    return;
  }
  writeFrame(socket, body);
}

/** A size for messages: bytes under 1 MB, else whole MB (rounded up). */
function byteSize(n: number): string {
  return n < 2 ** 20 ? `${n} bytes` : `${Math.ceil(n / 2 ** 20)} MB`;
}

/** A statement's first words, for messages (its parameters are never shown). */
function statementWords(text: string | undefined): string {
  const s = (text ?? '').replace(/\s+/g, ' ').trim();
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * Calls `onFrame` with each value read from `socket`. A frame that is too large or does not
 * deserialize ends the connection (the peer does not speak this protocol), after `onBad` is told why.
 */
function readFrames(socket: Socket, onFrame: (value: unknown) => void, onBad?: (why: string) => void): void {
  // what arrived of the next frame(s), joined only once a whole frame is there (joining on every chunk
  // was quadratic in a frame's size)
  let parts: Buffer[] = [];
  let have = 0;
  let needed = 4;
  socket.on('data', (chunk: Buffer) => {
    parts.push(chunk);
    have += chunk.length;
    if (have < needed) return;
    let buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
    while (buf.length >= 4) {
      const n = buf.readUInt32BE(0);
      if (n > MAX_FRAME_BYTES) { onBad?.(`a frame of ${n} bytes, over the ${MAX_FRAME_BYTES} a frame may hold`); socket.destroy(); return; }
      if (buf.length < 4 + n) break;
      const frame = buf.subarray(4, 4 + n);
      buf = buf.subarray(4 + n);
      let value: unknown;
      try {
        value = deserialize(frame);
      } catch (e) {
        onBad?.(`a frame that does not deserialize (${(e as Error).message})`);
        socket.destroy();
        return;
      }
      onFrame(value);
    }
    parts = buf.length ? [buf] : [];
    have = buf.length;
    needed = buf.length >= 4 ? 4 + buf.readUInt32BE(0) : 4;
  });
}

function toWire(e: unknown): WireError {
  const err = mapSqlError(e);
  const context: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err.context)) {
    if (v === undefined || ['string', 'number', 'boolean', 'bigint'].includes(typeof v)) context[k] = v;
  }
  return { kind: err.kind, message: err.message, code: err.code, retryable: err.retryable, context };
}

/** Options of {@link serveCatalog}. */
export interface ServeCatalogOptions {
  /** Called once no client has been connected for `idleMs`. */
  onIdle?: () => void;
  /** Idle time before `onIdle`, in ms (default 5 minutes). */
  idleMs?: number;
  /**
   * How long a client's open transaction may go without a statement before the server rolls it back,
   * in ms (default {@link TRANSACTION_IDLE_MS}). An embedded catalog runs one transaction at a time, so
   * a client that stops inside one (killed with SIGSTOP, a debugger, a blocked event loop) would stop
   * every other client and the holder's own statements.
   */
  transactionIdleMs?: number;
}

/** The longest delay `setTimeout` takes (2^31-1 ms); a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Default {@link ServeCatalogOptions.transactionIdleMs}: catalog transactions take milliseconds. */
export const TRANSACTION_IDLE_MS = 15_000;

/** A catalog served on a unix socket; see {@link serveCatalog}. */
export interface CatalogServer {
  /** The socket clients connect to. */
  readonly socket: string;
  /** Clients connected now. */
  readonly connections: number;
  /** Stops accepting, drops the clients (rolling back their open transactions) and releases the claim. Idempotent. */
  close(): Promise<void>;
}

/** A transaction a client holds open on the server's driver. */
interface OpenTx { tx: SqlExecutor; finish(commit: boolean): Promise<void> }

function openTransaction(driver: SqlDriver): Promise<OpenTx> {
  return new Promise<OpenTx>((resolveOpen, rejectOpen) => {
    let end!: (commit: boolean) => void;
    const decided = new Promise<boolean>((res) => { end = res; });
    // Thrown to roll back; a LakeSoulError, so the driver rethrows this very object.
    const ROLLBACK = new LakeSoulError('Aborted', 'rolled back by the client');
    const done = driver.transaction(async (tx) => {
      resolveOpen({ tx, finish: (commit) => { end(commit); return done.then(() => {}, (e) => { if (e !== ROLLBACK) throw e; }); } });
      if (!(await decided)) throw ROLLBACK;
    });
    done.catch((e) => rejectOpen(e));
  });
}

/**
 * Serves `driver` (the holder's open catalog driver) to other processes on `claim.socket`: see the
 * module comment. The claim is released on {@link CatalogServer.close}.
 */
export async function serveCatalog(driver: SqlDriver, claim: CatalogServerClaim, options: ServeCatalogOptions = {}): Promise<CatalogServer> {
  const clients = new Set<Socket>();
  const idleMs = options.idleMs ?? 5 * 60_000;
  const txIdleMs = options.transactionIdleMs ?? TRANSACTION_IDLE_MS;
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdle = (): void => {
    if (!options.onIdle || clients.size > 0) return;
    // setTimeout takes at most 2^31-1 ms (24.8 days) and fires at once for more (the server stopped
    // as it started): a longer idle time is waited for in steps
    const until = Date.now() + idleMs;
    const step = (): void => {
      const left = until - Date.now();
      idleTimer = left > MAX_TIMER_MS ? setTimeout(step, MAX_TIMER_MS) : setTimeout(options.onIdle!, Math.max(0, left));
    };
    step();
  };
  const server: Server = createServer((socket) => {
    clearTimeout(idleTimer);
    clients.add(socket);
    const txs = new Map<number, OpenTx>();
    const listeners = new Map<number, () => Promise<void>>();
    let nextTx = 1;
    // a transaction's idle timer runs while no statement of it is running; one that fires rolls it back
    const idleTimers = new Map<number, NodeJS.Timeout>();
    const expired = new Set<number>();
    const pauseTxIdle = (tx: number) => { clearTimeout(idleTimers.get(tx)); idleTimers.delete(tx); };
    const armTxIdle = (tx: number) => {
      pauseTxIdle(tx);
      idleTimers.set(tx, setTimeout(() => {
        const open = txs.get(tx);
        idleTimers.delete(tx);
        if (!open) return;
        txs.delete(tx);
        expired.add(tx);
        open.finish(false).catch(() => {});
      }, txIdleMs).unref());
    };
    const txOf = (tx: number | undefined): OpenTx => {
      const open = txs.get(tx ?? -1);
      if (open) return open;
      if (expired.has(tx ?? -1)) {
        throw new LakeSoulError('Catalog', `catalog server: transaction ${tx} was rolled back after ${txIdleMs} ms without a statement (an open transaction stops every other user of an embedded catalog)`, { code: 'CATALOG_TRANSACTION_EXPIRED' });
      }
      return unknownTx(tx);
    };
    const handle = async (req: Request): Promise<Reply> => {
      // answered at once, also while other requests wait for the catalog: it tells a busy server from a hung one
      if (req.op === 'ping') return { id: req.id };
      if (req.op === 'listen') {
        const listener = nextTx++;
        listeners.set(listener, await driver.listen(req.channel ?? '', (payload) => {
          if (!socket.destroyed) send(socket, { id: 0, listener, payload } satisfies Notification);
        }));
        return { id: req.id, listener };
      }
      if (req.op === 'unlisten') {
        await listeners.get(req.listener ?? -1)?.();
        listeners.delete(req.listener ?? -1);
        return { id: req.id };
      }
      if (req.op === 'query') {
        if (req.tx === undefined) {
          const r = await driver.query(req.text ?? '', req.params ?? []);
          return { id: req.id, rows: r.rows, rowCount: r.rowCount };
        }
        const open = txOf(req.tx);
        pauseTxIdle(req.tx);
        try {
          const r = await open.tx.query(req.text ?? '', req.params ?? []);
          return { id: req.id, rows: r.rows, rowCount: r.rowCount };
        } finally {
          if (txs.has(req.tx)) armTxIdle(req.tx);
        }
      }
      if (req.op === 'begin') {
        const tx = nextTx++;
        const open = await openTransaction(driver);
        // A client gone while its BEGIN waited for another transaction: never leave this one open.
        if (socket.destroyed) { await open.finish(false); return { id: req.id }; }
        txs.set(tx, open);
        armTxIdle(tx);
        return { id: req.id, tx };
      }
      // the client's rollback after its statement failed on an expired transaction: done already
      if (req.op === 'rollback' && expired.delete(req.tx ?? -1)) return { id: req.id };
      const open = txOf(req.tx);
      txs.delete(req.tx!);
      pauseTxIdle(req.tx!);
      await open.finish(req.op === 'commit');
      return { id: req.id };
    };
    readFrames(socket, (value) => {
      const req = value as Request;
      if (typeof req !== 'object' || req === null || typeof req.id !== 'number') { socket.destroy(); return; }
      handle(req).then((reply) => { if (!socket.destroyed) sendReply(socket, reply); }, (e) => { if (!socket.destroyed) send(socket, { id: req.id, error: toWire(e) } satisfies Reply); });
    });
    socket.on('error', () => { /* the client went away: handled on close */ });
    socket.on('close', () => {
      clients.delete(socket);
      for (const t of idleTimers.values()) clearTimeout(t);
      idleTimers.clear();
      for (const open of txs.values()) open.finish(false).catch(() => {});
      txs.clear();
      for (const stop of listeners.values()) stop().catch(() => {});
      listeners.clear();
      armIdle();
    });
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(claim.socket, () => { server.off('error', rej); res(); });
  });
  armIdle();
  let closing: Promise<void> | undefined;
  return {
    socket: claim.socket,
    get connections() { return clients.size; },
    close: () => closing ??= new Promise<void>((res) => {
      clearTimeout(idleTimer);
      claim.release();
      for (const c of clients) c.destroy();
      server.close(() => res());
    }),
  };
}

/** Options of {@link shareCatalogDirectory}. */
export interface ShareCatalogOptions extends ServeCatalogOptions {
  /**
   * How long to keep trying to take the directory's claim while a live process holds it, in ms
   * (default 0: one try). A background catalog server that lost the race for the lock holds its claim
   * for a moment before it exits.
   */
  claimWaitMs?: number;
}

/**
 * Serves the embedded catalog in `dataDir`, which `driver` holds open in this process, to other
 * processes: takes the directory's claim ({@link claimCatalogServer}, `role` names this process in
 * messages) and serves the driver on it ({@link serveCatalog}). Undefined when a live process (this
 * one included, through another catalog on the directory) still claims it after `claimWaitMs`. A
 * claim taken is released again when serving fails.
 */
export async function shareCatalogDirectory(driver: SqlDriver, dataDir: string, role: string, options: ShareCatalogOptions = {}): Promise<CatalogServer | undefined> {
  const until = Date.now() + (options.claimWaitMs ?? 0);
  let claim = claimCatalogServer(dataDir, role);
  while (!claim && Date.now() < until) {
    await new Promise((res) => setTimeout(res, 50));
    claim = claimCatalogServer(dataDir, role);
  }
  if (!claim) return undefined;
  try {
    return await serveCatalog(driver, claim, options);
  } catch (e) {
    claim.release();
    throw e;
  }
}

function unknownTx(tx: number | undefined): never {
  throw new LakeSoulError('Catalog', `catalog server: no open transaction ${tx}`, { code: 'CATALOG_UNAVAILABLE' });
}

/** {@link SqlDriver} that runs statements on a catalog served by another process ({@link serveCatalog}). */
export class SocketDriver implements SqlDriver {
  readonly kind = 'pglite' as const;
  readonly capabilities: SqlDriverCapabilities = { concurrentTransactions: false, multiProcess: true, listenNotify: true };
  /** The catalog directory and the serving process, for messages. */
  readonly description: string;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: unknown) => void }>();
  private readonly listeners = new Map<number, (payload: string) => void>();
  private nextId = 1;
  private closed = false;
  private lost: LakeSoulError | undefined;
  /** How long one call may wait for its reply (a wait behind other clients' transactions included). */
  callTimeoutMs = 120_000;
  /**
   * While a call waits for its reply, the server is pinged this often: a server waiting for the
   * catalog (behind other clients' transactions) answers pings at once, a stopped or hung one does not.
   */
  pingEveryMs = 5_000;
  /**
   * The largest request this client sends, in bytes (default 256 MB, the largest frame the server
   * takes): the server ends the connection of a client that sends a larger frame, which failed the call
   * as a lost server (`CATALOG_UNAVAILABLE`, retryable). A larger request (a statement with a huge
   * parameter: a property value, a schema) fails before it is sent instead, `InvalidArgument` naming
   * the statement and its size, and the connection stays. Tests lower it; raising it only gets the
   * connection ended.
   */
  maxRequestBytes = MAX_FRAME_BYTES;
  /** A ping unanswered this long fails every waiting call (`CATALOG_UNAVAILABLE`, naming the process) instead of letting them wait out {@link callTimeoutMs}. */
  pingTimeoutMs = 15_000;
  private pinging = false;
  /** The socket's 'close' was emitted (close() must not wait for it then). */
  private socketClosed = false;
  /** Set when a ping went unanswered while the server's process used CPU: it was busy, not hung. */
  private busySince: number | undefined;

  private constructor(private readonly socket: Socket, description: string, private readonly server: CatalogServerInfo | undefined) {
    this.description = description;
    readFrames(socket, (value) => {
      const reply = value as Reply;
      if (reply.id === 0) {
        const { listener, payload } = value as Notification;
        this.listeners.get(listener)?.(payload);
        return;
      }
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      p?.resolve(reply);
    }, (why) => {
      this.lost ??= new LakeSoulError('Catalog', `the catalog server of ${this.description} sent ${why}: the connection was closed`, { code: 'CATALOG_PROTOCOL_VIOLATION' });
    });
    socket.on('error', () => { /* reported on close */ });
    socket.on('close', () => {
      this.socketClosed = true;
      this.lost ??= new LakeSoulError('Catalog', `lost the connection to the catalog server of ${this.description}`, { code: 'CATALOG_UNAVAILABLE', retryable: true });
      for (const p of this.pending.values()) p.reject(this.lost);
      this.pending.clear();
      if (!this.closed) this.onLost?.();
    });
  }

  /** Called once when the connection to the server ends without {@link SocketDriver.close} (the server stopped or died). */
  onLost: (() => void) | undefined;

  /** Whether the connection to the server ended without {@link SocketDriver.close}: every call fails from then on. */
  get connectionLost(): boolean {
    return this.lost !== undefined && !this.closed;
  }

  /**
   * Connects to the server listening on `socketPath`; `description` names the catalog in errors, and
   * `server` (its server file's record, when known) the process errors tell how to resume or stop.
   */
  static connect(socketPath: string, description: string, server?: CatalogServerInfo): Promise<SocketDriver> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(socketPath);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new SocketDriver(socket, description, server));
      });
    });
  }

  /**
   * Sends `req` and waits for its reply. `signal` stops the wait (the `Aborted` error for `what`): the
   * server may still run the request, and its reply, matched by id to no waiting call, is dropped; the
   * late reply of an aborted `begin` gets its transaction rolled back at once (nothing else would end it).
   */
  private async call(req: Omit<Request, 'id'>, signal?: AbortSignal, what = 'catalog query'): Promise<Reply> {
    if (this.closed) throw new LakeSoulError('Catalog', `catalog driver for ${this.description} is closed`, { code: 'DRIVER_CLOSED' });
    if (this.lost) throw this.lost;
    throwIfAborted(signal, what);
    const id = this.nextId++;
    const frame = this.requestFrame({ ...req, id });
    const reply = await new Promise<Reply>((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const stop = () => {
        clearTimeout(timer);
        clearInterval(pinger);
        if (onAbort) signal!.removeEventListener('abort', onAbort);
      };
      // A server that stopped answering (suspended, wedged) fails the call instead of hanging it.
      const timer = setTimeout(() => {
        if (onAbort) signal!.removeEventListener('abort', onAbort);
        this.pending.delete(id);
        clearInterval(pinger);
        const why = this.busySince !== undefined
          ? `its process ${this.server?.pid} was busy, not answering pings while it used CPU: a long catalog statement (of this or another client) holds it`
          : 'it answered pings: it was waiting for the catalog, held by other clients\' transactions';
        reject(new LakeSoulError('Catalog', `the catalog server of ${this.description} did not answer within ${this.callTimeoutMs / 1000} s (${why}); run the command again`,
          { code: 'CATALOG_UNAVAILABLE', retryable: true, context: { pid: this.server?.pid, busy: this.busySince !== undefined } }));
      }, this.callTimeoutMs);
      const pinger = setInterval(() => this.ping(), this.pingEveryMs);
      this.pending.set(id, {
        resolve: (r) => { stop(); resolve(r); },
        reject: (e) => { stop(); reject(e); },
      });
      if (signal) {
        onAbort = () => {
          stop();
          if (req.op === 'begin') {
            // the transaction the server opens after all is rolled back as soon as it says which it is
            this.pending.set(id, {
              resolve: (r) => { this.pending.delete(id); if (r.tx !== undefined) this.sendOnly({ op: 'rollback', tx: r.tx }); },
              reject: () => {},
            });
          } else {
            this.pending.delete(id);
          }
          reject(abortedError(what, signal.reason, { catalog: this.description }));
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      writeFrame(this.socket, frame);
    });
    if (reply.error) {
      const { kind, message, code, retryable, context } = reply.error;
      throw new LakeSoulError(kind, message, { code, retryable, context });
    }
    return reply;
  }

  /** Sends `req` without waiting for its reply (dropped when it comes: no call waits for its id). */
  private sendOnly(req: Omit<Request, 'id'>): void {
    if (this.closed || this.lost || this.socket.destroyed) return;
    send(this.socket, { ...req, id: this.nextId++ });
  }

  /**
   * `req` serialized for the wire. A request that does not serialize (a parameter no value of the
   * catalog is: a function, a symbol) or is over `maxRequestBytes` fails here, `InvalidArgument`,
   * before anything is sent: the server would end the connection on such a frame.
   */
  private requestFrame(req: Request): Buffer {
    const statement = statementWords(req.text);
    const what = req.op === 'query' ? `the statement '${statement}' with its parameters` : `the catalog request '${req.op}'`;
    let body: Buffer;
    try {
      body = serialize(req);
    } catch (e) {
      throw new LakeSoulError('InvalidArgument', `cannot send ${what} to the catalog server of ${this.description}: a parameter does not serialize (${(e as Error)?.message ?? e})`, {
        context: { statement }, cause: e,
      });
    }
    if (body.length > this.maxRequestBytes) {
      throw new LakeSoulError('InvalidArgument',
        `${what} is ${byteSize(body.length)}, over the ${byteSize(this.maxRequestBytes)} a request to the catalog server of ${this.description} may hold: ` +
        'store less in one call (a smaller property value or schema); nothing of it was sent',
        { context: { statement, bytes: body.length, maxBytes: this.maxRequestBytes } });
    }
    return body;
  }

  /**
   * Pings the server (one ping at a time); when no answer comes within {@link pingTimeoutMs}, the
   * connection is given up: every waiting call fails, naming the process and what to do
   * ({@link unresponsiveServerError}). Unless the server's process used CPU meanwhile (where `/proc`
   * tells): PGlite runs a statement without returning to the event loop, so a server busy with a long
   * one (of any client) answers no ping until it is done; its calls then wait up to
   * {@link callTimeoutMs}, and pinging goes on.
   */
  private ping(): void {
    if (this.pinging || this.lost || this.closed) return;
    this.pinging = true;
    const id = this.nextId++;
    const pid = this.server?.pid;
    const before = pid === undefined ? undefined : processActivity(pid);
    const timer = setTimeout(() => {
      this.pending.delete(id);
      this.pinging = false;
      const now = pid === undefined ? undefined : processActivity(pid);
      if (before && now && !now.stopped && now.cpuTicks > before.cpuTicks) {
        this.busySince ??= Date.now();
        return;
      }
      this.lost = this.unresponsiveServerError(now?.stopped === true);
      for (const p of this.pending.values()) p.reject(this.lost);
      this.pending.clear();
      this.socket.destroy();
    }, this.pingTimeoutMs);
    this.pending.set(id, {
      resolve: () => { clearTimeout(timer); this.pinging = false; this.busySince = undefined; },
      reject: () => { clearTimeout(timer); this.pinging = false; },
    });
    send(this.socket, { op: 'ping', id });
  }

  /**
   * The error of a server that answers not even a ping: its process is suspended or hung. The way out
   * is said with the process's own commands (`kill -CONT <pid>`, `kill -9 <pid>`), which work for any
   * program: the context holds that sentence (`remedy`, part of the message) with the process's `pid`
   * and `role` and `serverUnresponsive: true`, so that a program that knows a better way to stop its own
   * servers (the CLI's `catalog-server --stop`) can say it instead. `stopped`: its process is known
   * to be stopped (state T in `/proc`), not hung.
   */
  private unresponsiveServerError(stopped = false): LakeSoulError {
    const pid = this.server?.pid;
    const kill = (signal: string) => (pid === undefined ? `kill ${signal} its process` : `\`kill ${signal} ${pid}\``);
    const remedy = `If you suspended it (Ctrl-Z, SIGSTOP), resume it (fg, or ${kill('-CONT')}); otherwise stop it (${kill('-9')}) ` +
      'and try again: the next process to open the catalog serves it itself';
    return new LakeSoulError('Catalog', `the catalog server of ${this.description} does not answer, not even a ping within ${this.pingTimeoutMs / 1000} s: its process is stopped or hung${stopped ? ' (its state: stopped)' : ''}. ${remedy}`,
      { code: 'CATALOG_UNAVAILABLE', retryable: true, context: { pid, role: this.server?.role, serverUnresponsive: true, remedy } });
  }

  private async run<R>(text: string, params: unknown[], tx: number | undefined, signal: AbortSignal | undefined): Promise<SqlQueryResult<R>> {
    const r = await this.call({ op: 'query', text, params, tx }, signal, 'catalog query');
    return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
  }

  async query<R = Record<string, unknown>>(text: string, params: unknown[] = [], options: SqlQueryOptions = {}): Promise<SqlQueryResult<R>> {
    return this.run<R>(text, params, undefined, options.signal);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options: SqlQueryOptions = {}): Promise<T> {
    const { tx } = await this.call({ op: 'begin' }, options.signal, 'catalog transaction');
    // A statement given up on an abort may still run on the server: the transaction can no longer
    // commit (what it did is unknown), whatever `fn` does with the error.
    let givenUp: LakeSoulError | undefined;
    let result: T;
    try {
      result = await fn({
        query: async (text, params = [], o = {}) => {
          if (givenUp) throw givenUp;
          try {
            return await this.run(text, params, tx, o.signal ?? options.signal);
          } catch (e) {
            if (LakeSoulError.is(e, 'Aborted')) givenUp = e;
            throw e;
          }
        },
      });
      if (givenUp) throw givenUp;
    } catch (e) {
      // after an abort the rollback is sent, not waited for: the server runs it after the statement
      // given up (its transaction's statements run one at a time), and the call stops at the abort
      if (givenUp) this.sendOnly({ op: 'rollback', tx });
      else await this.call({ op: 'rollback', tx }).catch(() => {});
      // `fn` runs here, in the client: what it threw is rethrown as it is (its statements' errors are
      // LakeSoulErrors already)
      throw e;
    }
    try {
      await this.call({ op: 'commit', tx });
    } catch (e) {
      // the server may have committed before the connection (or its answer) was lost
      if (!LakeSoulError.hasCode(e, 'CATALOG_UNAVAILABLE')) throw e;
      throw new LakeSoulError('Catalog', `${e.message} while its transaction committed: it may or may not have committed`, {
        code: 'TRANSACTION_OUTCOME_UNKNOWN', retryable: false, context: e.context, cause: e,
      });
    }
    return result;
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    const { listener } = await this.call({ op: 'listen', channel });
    this.listeners.set(listener!, onPayload);
    return async () => {
      if (!this.listeners.delete(listener!) || this.closed || this.lost) return;
      await this.call({ op: 'unlisten', listener });
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // a socket destroyed here (a ping unanswered, a bad frame) or closed already emits nothing more:
    // waiting for it left the caller's promise unsettled (a CLI command exited with code 13, silent)
    if (this.socketClosed || this.socket.destroyed) return;
    await new Promise<void>((res) => { this.socket.end(() => res()); this.socket.once('close', () => res()); });
  }
}

/**
 * The file naming a background catalog server that was started (by a CLI command as it exits) but has
 * not claimed the home yet: Node's start and PGlite's import take a few hundred ms, and a program or
 * `catalog-server --stop` in that moment found no server (the program then opened PGlite itself, the
 * server could not start, and the next program was locked out).
 */
export const CATALOG_SERVER_STARTING_FILE = '.lakesoul-ts.server.starting';

/** A starting server is waited for this long after it was spawned (it claims the home in well under 1 s). */
const STARTING_WINDOW_MS = 30_000;

/** Records that process `pid` was started to serve `dataDir` (see {@link CATALOG_SERVER_STARTING_FILE}). */
export function markCatalogServerStarting(dataDir: string, pid: number): void {
  const start = processStartTime(pid);
  try { writeFileSync(join(dataDir, CATALOG_SERVER_STARTING_FILE), JSON.stringify({ pid, ...(start ? { start } : {}) })); } catch { /* then nobody waits for it */ }
}

/** The pid of a server started for `dataDir` that is alive and has not claimed it yet, if any. */
export function startingCatalogServer(dataDir: string): number | undefined {
  const path = join(dataDir, CATALOG_SERVER_STARTING_FILE);
  try {
    if (Date.now() - statSync(path).mtimeMs > STARTING_WINDOW_MS) return undefined;
    const { pid, start } = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown; start?: unknown };
    if (typeof pid !== 'number' || pid === process.pid || !processAlive(pid, typeof start === 'string' ? start : undefined)) return undefined;
    return readCatalogServerInfo(dataDir)?.pid === pid ? undefined : pid;
  } catch {
    return undefined;
  }
}

/** Removes the starting marker when it names this process (it has claimed the home, or given up). */
export function clearCatalogServerStarting(dataDir: string): void {
  const path = join(dataDir, CATALOG_SERVER_STARTING_FILE);
  try {
    if ((JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown }).pid === process.pid) rmSync(path, { force: true });
  } catch { /* none */ }
}

/**
 * The driver for an embedded catalog directory: through the process that serves it when there is one
 * ({@link SocketDriver}), else `openDirect()` (the directory opened in this process). A server that is
 * starting (spawned but not yet claimed, see {@link CATALOG_SERVER_STARTING_FILE}; or claimed, its socket
 * not yet up) or stopping (its lock not yet released) is waited for, up to `waitMs` (default 15 s).
 */
export async function openEmbeddedDriver(dataDir: string, openDirect: () => Promise<SqlDriver>, waitMs = 15_000): Promise<SqlDriver> {
  return (await resolveEmbeddedDriver(dataDir, openDirect, { waitMs })).driver;
}

/** Options of {@link resolveEmbeddedDriver}. */
export interface ResolveEmbeddedOptions {
  /** How long a server that is starting or stopping is waited for, in ms. */
  waitMs: number;
  /** A server this process went through before (it is waited for while it still holds the lock: it is stopping). */
  lastServer?: CatalogServerInfo;
  /**
   * When this process ends up opening the directory itself, it first claims serving it under this role
   * ({@link claimCatalogServer}), so that other clients wait for its socket instead of failing on its lock.
   */
  claimAs?: string;
}

/** What {@link resolveEmbeddedDriver} found: the driver, the server it goes through, or the claim this process took. */
export interface ResolvedEmbeddedDriver {
  driver: SqlDriver;
  /** The process serving the catalog, when `driver` goes through its socket. */
  server?: CatalogServerInfo;
  /** This process's claim on serving the directory (`claimAs`), when it opened the directory itself. */
  claim?: CatalogServerClaim;
}

/** {@link openEmbeddedDriver}, saying how the catalog was reached (a `ServedCatalogDriver` reconnects with it). */
export async function resolveEmbeddedDriver(dataDir: string, openDirect: () => Promise<SqlDriver>, options: ResolveEmbeddedOptions): Promise<ResolvedEmbeddedDriver> {
  const deadline = Date.now() + options.waitMs;
  let lastServer = options.lastServer;
  const wait = () => abortableSleep(25, undefined, 'waiting for the catalog server');
  for (;;) {
    const info = readCatalogServerInfo(dataDir);
    if (info && info.pid !== process.pid && catalogServerAlive(info, dataDir)) {
      lastServer = info;
      try {
        return { driver: await SocketDriver.connect(info.socket, `${dataDir} (served by process ${info.pid})`, info), server: info };
      } catch (e) {
        // another user's server: its socket will not let this user in, however long it is waited for
        const foreign = (e as NodeJS.ErrnoException).code === 'EACCES' ? catalogServerForeignUid(info) : undefined;
        if (foreign !== undefined) throw foreignCatalogServerError(dataDir, info, foreign);
        if (Date.now() > deadline) {
          throw new LakeSoulError('Catalog',
            `the embedded catalog ${dataDir} is served by process ${info.pid}, whose socket ${info.socket} does not answer (${(e as Error).message}): stop that process (\`kill ${info.pid}\`) and run the command again`,
            { code: 'CATALOG_UNAVAILABLE', retryable: true, context: { dataDir, pid: info.pid } });
        }
        await wait();
        continue;
      }
    }
    // a server a command has just started: wait for its claim rather than take the catalog from it
    if (Date.now() < deadline && startingCatalogServer(dataDir) !== undefined) {
      await wait();
      continue;
    }
    let claim: CatalogServerClaim | undefined;
    if (options.claimAs) {
      claim = claimCatalogServer(dataDir, options.claimAs);
      // another process claimed it a moment ago: its socket comes up shortly
      if (!claim && readCatalogServerInfo(dataDir)?.pid !== process.pid && Date.now() < deadline) {
        await wait();
        continue;
      }
    }
    try {
      return { driver: await openDirect(), claim };
    } catch (e) {
      claim?.release();
      // The lock of a server that is starting (claim not yet visible) or stopping: wait for either.
      const holder = e instanceof LakeSoulError && e.code === 'CATALOG_LOCKED' ? Number(e.context.pid) : NaN;
      const serving = readCatalogServerInfo(dataDir);
      if (Date.now() < deadline && (holder === lastServer?.pid || holder === serving?.pid)) {
        await wait();
        continue;
      }
      throw e;
    }
  }
}
