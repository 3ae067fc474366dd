/**
 * The background catalog server: a process that keeps an embedded home's catalog open between commands.
 *
 * Opening PGlite costs a command about 0.4 s (unpacking PostgreSQL's files in memory, booting it).
 * After a command has opened an embedded catalog itself, `main.ts` starts `lakesoul-ts catalog-server`
 * in the background ({@link startCatalogServerInBackground}); the next commands on that home find it
 * through the home's server file and run their statements through its socket (`Catalog.open` does
 * that: see `@lakesoul-ts/meta`'s catalog-server module). It stops after `LAKESOUL_CATALOG_SERVER_IDLE`
 * seconds without a client (default 300), on SIGINT/SIGTERM, on `catalog-server --stop`, and at once
 * when its home is deleted or claimed by another server. `LAKESOUL_CATALOG_SERVER=off` turns it off.
 */
import { spawn } from 'node:child_process';
import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CATALOG_SERVER_FILE, catalogServerAlive, catalogServerForeignUid, claimCatalogServer, clearCatalogServerStarting, foreignCatalogServerError, LakeSoulError, markCatalogServerStarting,
  ownProcessStart, PGliteDriver, processAlive, readCatalogServerInfo, serveCatalog, startingCatalogServer, type CatalogServerInfo, type SqlDriver,
} from '@lakesoul-ts/meta';

/** The role the background server writes in the home's server file. */
export const CATALOG_SERVER_ROLE = 'lakesoul-ts catalog-server';

/** Default idle time of the background catalog server, in seconds. */
export const DEFAULT_CATALOG_SERVER_IDLE_S = 300;

/** Whether commands may start the background catalog server (`LAKESOUL_CATALOG_SERVER`, default on). */
export function catalogServerEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return !/^(off|0|false|no)$/i.test(env.LAKESOUL_CATALOG_SERVER ?? '');
}

/**
 * Idle seconds from `LAKESOUL_CATALOG_SERVER_IDLE` (default {@link DEFAULT_CATALOG_SERVER_IDLE_S},
 * also for an invalid value: this is `catalog-server --idle`'s default, computed for every command;
 * {@link checkCatalogServerIdleEnv} refuses an invalid value where it is used).
 */
export function catalogServerIdleSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const v = parseIdleSeconds(env.LAKESOUL_CATALOG_SERVER_IDLE);
  return v ?? DEFAULT_CATALOG_SERVER_IDLE_S;
}

/** A positive, finite number of seconds written as a decimal number; undefined otherwise. */
export function parseIdleSeconds(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text)) return undefined;
  const v = Number(text);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/**
 * Refuses an invalid `LAKESOUL_CATALOG_SERVER_IDLE` (`0`, `-1`, `abc`: not a positive number of
 * seconds), which was taken as the default without a word. Unset or empty: no error.
 * @throws LakeSoulError `InvalidArgument` naming the variable and its value.
 */
export function checkCatalogServerIdleEnv(env: NodeJS.ProcessEnv = process.env): void {
  const text = env.LAKESOUL_CATALOG_SERVER_IDLE;
  if (text === undefined || text.trim() === '' || parseIdleSeconds(text) !== undefined) return;
  throw new LakeSoulError('InvalidArgument',
    `LAKESOUL_CATALOG_SERVER_IDLE=${JSON.stringify(text)} is not a positive number of seconds: set it to how long the background catalog server waits for a client (e.g. 300), or unset it for the default (${DEFAULT_CATALOG_SERVER_IDLE_S} s)`,
    { context: { option: 'LAKESOUL_CATALOG_SERVER_IDLE', value: text } });
}

/**
 * Whether the home's server file is there but names no server (not JSON with a pid and a socket: a
 * disk error, an editor, `echo garbage >`). Such a file was read as "no server" by every command, yet
 * it kept any server from claiming the home, so none started again and each command paid the full
 * open. A claim is written right after its file is made, so a file of `graceMs` or younger is not
 * judged.
 */
export function serverFileCorrupt(dataDir: string, graceMs = 2000): boolean {
  let st;
  try { st = statSync(join(dataDir, CATALOG_SERVER_FILE)); } catch { return false; }
  return readCatalogServerInfo(dataDir) === undefined && Date.now() - st.mtimeMs > graceMs;
}

/** Removes a corrupt server file ({@link serverFileCorrupt}) as a stale claim; true when it did. */
export function removeCorruptServerFile(dataDir: string): boolean {
  if (!serverFileCorrupt(dataDir)) return false;
  rmSync(join(dataDir, CATALOG_SERVER_FILE), { force: true });
  return true;
}

/**
 * Starts `lakesoul-ts catalog-server` for `dataDir` as a detached background process (its output
 * discarded), unless one already serves it. Returns the new process's pid, or undefined.
 */
export function startCatalogServerInBackground(dataDir: string): number | undefined {
  const info = readCatalogServerInfo(dataDir);
  if (info && catalogServerAlive(info, dataDir)) return undefined;
  try {
    checkCatalogServerIdleEnv();
  } catch (e) {
    // the command is done: say why no server keeps the catalog open for the next one
    process.stderr.write(`warning: no background catalog server started: ${(e as Error).message}\n`);
    return undefined;
  }
  const bin = fileURLToPath(new URL('./bin.js', import.meta.url));
  const child = spawn(process.execPath, [...process.execArgv, bin, '--catalog', dataDir, 'catalog-server', '--idle', String(catalogServerIdleSeconds())], {
    detached: true, stdio: 'ignore', env: process.env,
  });
  child.on('error', () => { /* not started: commands open the catalog themselves */ });
  child.unref();
  if (child.pid !== undefined) markCatalogServerStarting(dataDir, child.pid);
  return child.pid;
}


/** Options of {@link runCatalogServer}. */
export interface RunCatalogServerOptions {
  /** Stop after this many seconds without a client. */
  idleSeconds: number;
  /** Progress lines (started, stopping). */
  note: (line: string) => void;
}

/**
 * Serves the embedded catalog in `dataDir` until idle, signalled or displaced (see the module comment).
 * @throws LakeSoulError `AlreadyExists` when a live process already serves it; `Catalog` `CATALOG_LOCKED`
 * when another process holds the directory.
 */
export async function runCatalogServer(dataDir: string, options: RunCatalogServerOptions): Promise<void> {
  checkCatalogServerIdleEnv();
  if (!(options.idleSeconds > 0)) throw new LakeSoulError('InvalidArgument', `--idle must be a positive number of seconds (got ${options.idleSeconds})`, { context: { option: '--idle' } });
  // a corrupt server file is a stale claim: it is replaced (it kept every server out)
  if (removeCorruptServerFile(dataDir)) options.note(`replaced the corrupt server file ${join(dataDir, CATALOG_SERVER_FILE)}`);
  const claim = claimCatalogServer(dataDir, CATALOG_SERVER_ROLE);
  clearCatalogServerStarting(dataDir);
  if (!claim) {
    const info = readCatalogServerInfo(dataDir);
    throw new LakeSoulError('AlreadyExists', `the embedded catalog ${dataDir} is already served by process ${info?.pid} (socket ${info?.socket})`,
      { context: { dataDir, pid: info?.pid } });
  }
  // signals are taken from here on: a SIGTERM (catalog-server --stop) while PGlite starts still lets
  // go of the claim, which a server killed outright left behind (--status then named a dead process)
  let stop!: (why: string) => void;
  let stopping: string | undefined;
  const stopped = new Promise<string>((res) => { stop = (why) => { stopping ??= why; res(why); }; });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop(sig));
  let driver: SqlDriver;
  try {
    driver = await PGliteDriver.open({ dataDir });
  } catch (e) {
    claim.release();
    throw e;
  }
  if (stopping) {
    options.note(`${stopping} while starting: the catalog server stops`);
    await driver.close();
    claim.release();
    return;
  }
  const server = await serveCatalog(driver, claim, { idleMs: options.idleSeconds * 1000, onIdle: () => stop(`no client for ${options.idleSeconds} s`) });
  // A home deleted (or re-created, or claimed by another server) under a running server: leave at once,
  // without closing PGlite, whose shutdown would write into whatever directory now has that path.
  const watch = setInterval(() => {
    const info = readCatalogServerInfo(dataDir);
    // its own claim made unreadable: written again (commands took "no server" from it and opened the
    // catalog themselves, and --status said none ran)
    if (info === undefined && serverFileCorrupt(dataDir, 0)) {
      rewriteClaim(dataDir, server.socket);
      return;
    }
    if (info?.pid !== process.pid || info.socket !== server.socket) {
      // the private socket directory goes too (it stayed in TMPDIR, one per deleted home); release()
      // removes the server file only while it is this process's
      claim.release();
      process.exit(0);
    }
  }, 1000);
  options.note(`catalog server for ${dataDir}: process ${process.pid}, socket ${server.socket}; stops after ${options.idleSeconds} s without a client`);
  const why = await stopped;
  clearInterval(watch);
  options.note(`${why}: stopping the catalog server`);
  await server.close();
  await driver.close();
}

/** Writes this server's claim to the server file again (through a temporary file and a rename). */
function rewriteClaim(dataDir: string, socket: string): void {
  const path = join(dataDir, CATALOG_SERVER_FILE);
  const temp = `${path}.${process.pid}.tmp`;
  try {
    const start = ownProcessStart();
    writeFileSync(temp, JSON.stringify({ pid: process.pid, socket, role: CATALOG_SERVER_ROLE, ...(start ? { start } : {}) }));
    renameSync(temp, path);
  } catch {
    rmSync(temp, { force: true }); // the home is going away: the next check exits
  }
}

/**
 * Stops the catalog server of `dataDir` (SIGTERM, then waits up to 10 s for it to release the
 * catalog). A server a command has just started in the background is waited for (up to 10 s) and
 * stopped too. Returns the stopped process's pid, or undefined when none was running.
 */
export async function stopCatalogServer(dataDir: string, note: (line: string) => void = (line) => { process.stderr.write(`${line}\n`); }): Promise<number | undefined> {
  let info = readCatalogServerInfo(dataDir);
  if (info && processAlive(info.pid, info.start) && !catalogServerAlive(info, dataDir)) removeStaleServerFile(dataDir, info, note);
  if (!info || !catalogServerAlive(info, dataDir)) {
    const starting = startingCatalogServer(dataDir);
    if (starting === undefined) return undefined;
    // it either claims the home (then it is stopped below) or exits (another server had it)
    for (let i = 0; i < 400 && processAlive(starting) && readCatalogServerInfo(dataDir)?.pid !== starting; i++) await new Promise((res) => setTimeout(res, 25));
    info = readCatalogServerInfo(dataDir);
    if (!info || !catalogServerAlive(info, dataDir)) return undefined;
  }
  // never signal init or this very process, whatever a file says
  if (info.pid <= 1 || info.pid === process.pid) {
    removeStaleServerFile(dataDir, info, note);
    return undefined;
  }
  const foreign = catalogServerForeignUid(info);
  if (foreign !== undefined && process.getuid?.() !== 0) throw foreignCatalogServerError(dataDir, info, foreign);
  if (info.role !== CATALOG_SERVER_ROLE) {
    throw new LakeSoulError('InvalidArgument', `the embedded catalog ${dataDir} is served by ${info.role ?? 'another program'} (process ${info.pid}), not by a background catalog server: stop that program itself (Ctrl-C in its terminal, or \`kill ${info.pid}\`)`,
      { context: { dataDir, pid: info.pid } });
  }
  process.kill(info.pid, 'SIGTERM');
  // a suspended server (Ctrl-Z, SIGSTOP) keeps the SIGTERM pending until it runs again
  try {
    process.kill(info.pid, 'SIGCONT');
  } catch {
    // gone already
  }
  for (let i = 0; i < 400 && processAlive(info.pid, info.start); i++) await new Promise((res) => setTimeout(res, 25));
  if (processAlive(info.pid, info.start)) {
    throw new LakeSoulError('Catalog', `the catalog server of ${dataDir} (process ${info.pid}) did not stop within 10 s: \`kill -9 ${info.pid}\``, { context: { dataDir, pid: info.pid } });
  }
  // a server that died without letting go (killed outright): its claim goes with it
  if (readCatalogServerInfo(dataDir)?.pid === info.pid) rmSync(join(dataDir, CATALOG_SERVER_FILE), { force: true });
  return info.pid;
}

/**
 * Removes a server file that names a live process which is not its catalog server
 * ({@link catalogServerAlive}: a pid taken by another process since an older version wrote the file),
 * saying so through `note`.
 */
function removeStaleServerFile(dataDir: string, info: CatalogServerInfo, note: (line: string) => void): void {
  const path = join(dataDir, CATALOG_SERVER_FILE);
  if (readCatalogServerInfo(dataDir)?.pid !== info.pid) return;
  rmSync(path, { force: true });
  note(`removed the stale server file ${path}: process ${info.pid}, which it names, is not a catalog server of this home (its pid was taken by another program)`);
}
