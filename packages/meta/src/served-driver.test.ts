/**
 * {@link ServedCatalogDriver} against real processes: a catalog served by a child process (a program
 * with `share: true`) that is killed or replaced while this process goes through it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Field, Int64, Schema } from 'apache-arrow';
import { Catalog, catalogLockWaitMs } from './catalog.js';
import { CATALOG_SERVER_FILE, readCatalogServerInfo, SocketDriver } from './catalog-server.js';
import { processStartTime } from './process-alive.js';
import { ServedCatalogDriver } from './served-driver.js';
import { PGLITE_LOCK_FILE, PGliteDriver } from './pglite-driver.js';

const schema = new Schema([new Field('id', new Int64(), false)]);
const meta = JSON.stringify(new URL('../dist/index.js', import.meta.url).href);
const children: ChildProcess[] = [];

/** A child process that opens `dataDir` with `share: true` and serves it until killed; resolves once it serves. */
async function servingChild(dataDir: string): Promise<ChildProcess> {
  const code = `const { Catalog } = await import(${meta});
    const c = await Catalog.open({ dataDir: ${JSON.stringify(dataDir)}, env: {}, share: true });
    process.on('SIGTERM', () => c.close().then(() => process.exit(0)));
    console.log('ready');
    setInterval(() => {}, 1 << 30);`;
  return readyChild(code, 'serving');
}

/** Starts an ES module program as a child process; resolves once it prints 'ready'. */
async function readyChild(code: string, what: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  await new Promise<void>((res, rej) => {
    child.stdout!.on('data', (d) => { if (String(d).includes('ready')) res(); });
    child.on('exit', (c) => rej(new Error(`${what} child exited ${c}: ${err}`)));
  });
  return child;
}

/**
 * A child process that opens `dataDir` itself without serving it (as a CLI `import` does), holds it
 * for `holdMs` after it has it, then closes it and exits; resolves once it holds the directory.
 */
async function holdingChild(dataDir: string, holdMs: number): Promise<ChildProcess> {
  const code = `const { Catalog } = await import(${meta});
    const c = await Catalog.open({ dataDir: ${JSON.stringify(dataDir)}, env: {}, lockWaitMs: 20000, onLockWait: () => {} });
    console.log('ready');
    await new Promise((r) => setTimeout(r, ${holdMs}));
    await c.close();`;
  return readyChild(code, 'holding');
}

/** Runs an ES module program in a new node process; resolves to its standard output, rejects unless it exits 0. */
function runProgram(code: string): Promise<string> {
  return new Promise<string>((res, rej) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    p.stdout.on('data', (d) => { text += d; });
    p.on('exit', (c) => (c === 0 ? res(text.trim()) : rej(new Error(`program exited ${c}`))));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((res) => child.once('exit', () => res()));
}

/** A scratch directory for the calling describe block; the children its tests started are killed after each. */
function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterEach(async () => {
    for (const c of children.splice(0)) { c.kill('SIGKILL'); await exited(c); }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('ServedCatalogDriver', () => {
  const dir = scratch('lakesoul-served-');

  it('after its server is killed, the next call opens the catalog in this process (and shares it when asked to); nothing is lost', async () => {
    const dataDir = join(dir, 'killed');
    const server = await servingChild(dataDir);
    const catalog = await Catalog.open({ dataDir, env: {}, share: true });
    try {
      const driver = catalog.driver as ServedCatalogDriver;
      expect(driver).toBeInstanceOf(ServedCatalogDriver);
      expect(driver.servedBy).toBe(server.pid);
      const notes: string[] = [];
      driver.onReconnect = (line) => notes.push(line);
      await catalog.createTable({ name: 'before', path: 'file:///tmp/before', schema });
      server.kill('SIGKILL');
      await exited(server);
      // without reconnecting, every call failed with "lost the connection" from here on
      expect((await catalog.listTables()).map((t) => t.name)).toEqual(['before']);
      expect(driver.servedBy).toBeUndefined();
      expect(notes).toEqual([expect.stringMatching(/went away; reached the catalog again by opening the catalog in this process, which now serves it to other processes$/)]);
      await catalog.createTable({ name: 'after', path: 'file:///tmp/after', schema });
      // it serves the catalog in the dead server's place: another program goes through this process
      expect(readCatalogServerInfo(dataDir)?.pid).toBe(process.pid);
      expect(readCatalogServerInfo(dataDir)?.role).toBe('a program (Catalog.open with share)');
      const code = `const { Catalog } = await import(${meta});
        const c = await Catalog.open({ dataDir: ${JSON.stringify(dataDir)}, env: {} });
        console.log((await c.listTables()).map((t) => t.name).sort().join(','));
        await c.close();`;
      expect(await runProgram(code)).toBe('after,before');
    } finally {
      await catalog.close();
    }
    // closing releases what it took over
    expect(readCatalogServerInfo(dataDir)).toBeUndefined();
    expect(existsSync(join(dataDir, PGLITE_LOCK_FILE))).toBe(false);
  }, 60_000);

  it('a catalog directory moved away while its server served it is not made anew at the old path: the next call fails CATALOG_DIR_GONE (a hunt of the CLI daemon)', async () => {
    const dataDir = join(dir, 'moved');
    const server = await servingChild(dataDir);
    const catalog = await Catalog.open({ dataDir, env: {} });
    try {
      await catalog.createTable({ name: 'kept', path: 'file:///tmp/kept', schema });
      const { renameSync } = await import('node:fs');
      renameSync(dataDir, `${dataDir}.moved`);
      server.kill('SIGKILL');
      await exited(server);
      // before: PGlite made a new, empty catalog at the old path, and the next command listed no table
      await expect(catalog.listTables()).rejects.toMatchObject({ kind: 'NotFound', code: 'CATALOG_DIR_GONE', context: { dataDir } });
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await catalog.close();
    }
    const moved = await Catalog.open({ dataDir: `${dataDir}.moved`, env: {} });
    try {
      expect((await moved.listTables()).map((t) => t.name)).toEqual(['kept']);
    } finally {
      await moved.close();
    }
  }, 60_000);

  it('goes through the next server when another process serves the catalog by the next call', async () => {
    const dataDir = join(dir, 'replaced');
    const first = await servingChild(dataDir);
    const catalog = await Catalog.open({ dataDir, env: {} });
    try {
      await catalog.createTable({ name: 'kept', path: 'file:///tmp/kept', schema });
      first.kill('SIGTERM'); // a graceful stop: its claim and lock released as it exits
      await exited(first);
      const second = await servingChild(dataDir);
      expect((await catalog.listTables()).map((t) => t.name)).toEqual(['kept']);
      expect((catalog.driver as ServedCatalogDriver).servedBy).toBe(second.pid);
      expect(readCatalogServerInfo(dataDir)?.pid).toBe(second.pid);
    } finally {
      await catalog.close();
    }
  }, 60_000);

  it('renews its LISTEN subscriptions at once when the server goes away (a listener makes no call that would)', async () => {
    const dataDir = join(dir, 'listen');
    const first = await servingChild(dataDir);
    const catalog = await Catalog.open({ dataDir, env: {}, share: true });
    try {
      const driver = catalog.driver as ServedCatalogDriver;
      const heard: string[] = [];
      await driver.listen('served_test', (payload) => heard.push(payload));
      await driver.query("SELECT pg_notify('served_test', 'one')");
      await until(() => heard.length === 1);
      first.kill('SIGKILL');
      await exited(first);
      await until(() => readCatalogServerInfo(dataDir)?.pid === process.pid, 20_000);
      // another process notifies through this one, which holds the catalog now
      const code = `const { Catalog } = await import(${meta});
        const c = await Catalog.open({ dataDir: ${JSON.stringify(dataDir)}, env: {} });
        await c.driver.query("SELECT pg_notify('served_test', 'two')");
        await c.close();`;
      await runProgram(code);
      await until(() => heard.length === 2);
      expect(heard).toEqual(['one', 'two']);
    } finally {
      await catalog.close();
    }
  }, 60_000);

  it('looks for the catalog again when the server it reached drops the connection at once (a server being killed still accepts for a moment)', async () => {
    const dataDir = join(dir, 'dropping');
    const first = await servingChild(dataDir);
    const catalog = await Catalog.open({ dataDir, env: {}, share: true });
    // a "server" that accepts and drops every connection, in the claim of a live process
    let accepted = 0;
    const dropper = createServer((socket) => { accepted++; socket.destroy(); });
    const socket = join(dataDir, 'dropping.sock');
    await new Promise<void>((res) => dropper.listen(socket, res));
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    children.push(sleeper);
    try {
      await new Promise((r) => sleeper.once('spawn', r));
      const driver = catalog.driver as ServedCatalogDriver;
      const heard: string[] = [];
      await driver.listen('served_test', (payload) => heard.push(payload));
      writeFileSync(join(dataDir, CATALOG_SERVER_FILE), JSON.stringify({ pid: sleeper.pid, socket, start: processStartTime(sleeper.pid!) }));
      first.kill('SIGKILL');
      await exited(first);
      await until(() => accepted >= 3);
      // a call meanwhile fails once the server has dropped connections for the wait (15 s), naming it
      await expect(driver.query('SELECT 1')).rejects.toMatchObject({
        kind: 'Catalog', code: 'CATALOG_UNAVAILABLE', retryable: true,
        message: expect.stringContaining(`(process ${sleeper.pid}) accepted connections and dropped them for 15 s`),
      });
      // the dropping server goes away: the listener's driver takes the catalog over by itself
      rmSync(join(dataDir, CATALOG_SERVER_FILE));
      sleeper.kill('SIGKILL');
      await until(() => readCatalogServerInfo(dataDir)?.pid === process.pid, 20_000);
      await driver.query("SELECT pg_notify('served_test', 'after')");
      await until(() => heard.length === 1);
      expect(heard).toEqual(['after']);
    } finally {
      await catalog.close();
      dropper.close();
    }
  }, 60_000);

  it('a transaction running when the server dies fails; the next call works, and a closed driver stays closed', async () => {
    const dataDir = join(dir, 'inflight');
    const server = await servingChild(dataDir);
    const catalog = await Catalog.open({ dataDir, env: {} });
    try {
      const failed = await catalog.driver.transaction(async (tx) => {
        await tx.query('SELECT 1');
        server.kill('SIGKILL');
        await exited(server);
        await tx.query('SELECT 2');
      }).catch((e: unknown) => e);
      expect(failed).toMatchObject({ kind: 'Catalog', code: 'CATALOG_UNAVAILABLE', retryable: true });
      // not asked to share: it holds the directory itself, as Catalog.open would have now
      expect((await catalog.listTables()).length).toBe(0);
      expect((catalog.driver as ServedCatalogDriver).servedBy).toBeUndefined();
      // (the dead server's file stays until a process claims the directory: it names a dead pid)
      expect(readCatalogServerInfo(dataDir)?.pid).toBe(server.pid);
    } finally {
      await catalog.close();
    }
    expect(existsSync(join(dataDir, PGLITE_LOCK_FILE))).toBe(false);
    await expect(catalog.listTables()).rejects.toMatchObject({ kind: 'Catalog', code: 'DRIVER_CLOSED' });
  }, 60_000);
});

describe('ServedCatalogDriver: a process holding the directory without serving it once the server is gone', () => {
  const dir = scratch('lakesoul-served-held-');

  it('the next call waits for that process to close the directory, as Catalog.open would, then succeeds', async () => {
    const dataDir = join(dir, 'held');
    const server = await servingChild(dataDir);
    const catalog = await Catalog.open({ dataDir, env: {} });
    try {
      const driver = catalog.driver as ServedCatalogDriver;
      const waits: { pid: number; dataDir: string; waitMs: number }[] = [];
      driver.onLockWait = (w) => waits.push(w);
      await catalog.createTable({ name: 'kept', path: 'file:///tmp/kept', schema });
      server.kill('SIGTERM'); // `catalog-server --stop`
      await exited(server);
      // a CLI command opens the catalog itself meanwhile and keeps it for ~2 s
      const holder = await holdingChild(dataDir, 2000);
      const t0 = Date.now();
      // failed within ms with CATALOG_LOCKED (retryable false, "stop the other process") until the holder ended
      expect((await catalog.listTables()).map((t) => t.name)).toEqual(['kept']);
      expect(Date.now() - t0).toBeGreaterThan(1000);
      expect(waits).toEqual([{ pid: holder.pid, dataDir, waitMs: catalogLockWaitMs() }]);
      await catalog.createTable({ name: 'after', path: 'file:///tmp/after', schema });
      expect(driver.servedBy).toBeUndefined();
    } finally {
      await catalog.close();
    }
  }, 60_000);

  it('when the wait runs out, the call fails retryably, naming the holder; the next call looks again', async () => {
    const dataDir = join(dir, 'timeout');
    const server = await servingChild(dataDir);
    const info = readCatalogServerInfo(dataDir)!;
    const first = await SocketDriver.connect(info.socket, dataDir);
    const driver = new ServedCatalogDriver(first, { dataDir, openDirect: () => PGliteDriver.open({ dataDir }), server: info, lockWaitMs: 600 });
    try {
      await driver.query('SELECT 1');
      server.kill('SIGTERM');
      await exited(server);
      const holder = await holdingChild(dataDir, 4000);
      const t0 = Date.now();
      const failed = await driver.query('SELECT 1').catch((e: unknown) => e);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
      expect(failed).toMatchObject({
        kind: 'Catalog', code: 'CATALOG_LOCKED', retryable: true, context: { dataDir, pid: holder.pid },
        message: expect.stringMatching(new RegExp(`process ${holder.pid} has opened it itself.*waited 0\\.6 s.*may be retried`)),
      });
      expect((failed as Error).message).not.toMatch(/stop the other process/);
      // an aborted call stops waiting at once (the wait goes on for other calls)
      const ac = new AbortController();
      const aborted = driver.query('SELECT 1', [], { signal: ac.signal }).catch((e: unknown) => e);
      setTimeout(() => ac.abort(), 50);
      expect(await aborted).toMatchObject({ kind: 'Aborted' });
      await exited(holder);
      expect((await driver.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await driver.close();
    }
    expect(existsSync(join(dataDir, PGLITE_LOCK_FILE))).toBe(false);
  }, 60_000);

  it('close() ends a wait under way', async () => {
    const dataDir = join(dir, 'closed');
    const server = await servingChild(dataDir);
    const catalog = await Catalog.open({ dataDir, env: {} });
    await catalog.listTables();
    server.kill('SIGTERM');
    await exited(server);
    await holdingChild(dataDir, 20_000);
    const pending = catalog.listTables().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    await catalog.close();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await pending).toMatchObject({ kind: 'Catalog', code: 'DRIVER_CLOSED' });
  }, 60_000);
});

async function until(probe: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((res) => setTimeout(res, 25));
  }
}
