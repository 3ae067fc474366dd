/**
 * A catalog server that goes away while a process is still in `Catalog.open` (connected to it, not yet
 * done bootstrapping). The open is the call in flight: it fails `CATALOG_UNAVAILABLE`, retryable, as a
 * rejected promise (never an exception thrown from the socket's event handlers), and the next open
 * reaches the catalog. A program whose top-level `await Catalog.open(...)` (or `Lakehouse.open`) is not
 * in a try/catch then exits 1 printing the "lost the connection" error with its creation stack, and its
 * `process.on('unhandledRejection')` handler does not run: Node reports a rejected top-level await of
 * the entry module that way. That is what a kill -9 hunt saw as "the survivor exits".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Catalog } from './catalog.js';
import { CATALOG_SERVER_FILE, readCatalogServerInfo } from './catalog-server.js';
import { processStartTime } from './process-alive.js';

const meta = JSON.stringify(new URL('../dist/index.js', import.meta.url).href);
const dir = mkdtempSync(join(tmpdir(), 'lakesoul-open-loss-'));
const cleanup: (() => unknown)[] = [];
afterEach(async () => { for (const f of cleanup.splice(0).reverse()) await f(); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A "catalog server" in the claim of a live process (a sleeping child) that accepts a connection and
 * drops it when its first request arrives: the server killed while a client opens the catalog. With
 * `dies`, it then goes for good (its claim removed, its socket closed), as a killed server does.
 */
async function dyingServer(dataDir: string, dies = false): Promise<{ requests: () => number }> {
  mkdirSync(dataDir, { recursive: true });
  let requests = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => {
      requests++;
      if (dies) {
        rmSync(join(dataDir, CATALOG_SERVER_FILE), { force: true });
        server.close();
      }
      socket.destroy();
    });
  });
  const path = join(dataDir, 'dying.sock');
  await new Promise<void>((res) => server.listen(path, res));
  const sleeper: ChildProcess = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  await new Promise((r) => sleeper.once('spawn', r));
  cleanup.push(() => new Promise<void>((res) => { for (const s of sockets) s.destroy(); server.close(() => res()); }));
  cleanup.push(() => { sleeper.kill('SIGKILL'); });
  writeFileSync(join(dataDir, CATALOG_SERVER_FILE), JSON.stringify({ pid: sleeper.pid, socket: path, start: processStartTime(sleeper.pid!) }));
  return { requests: () => requests };
}

describe('Catalog.open while its catalog server goes away', () => {
  it('reaches the catalog anyway: this process takes the directory over (and shares it), never an uncaught exception', async () => {
    const dataDir = join(dir, 'takeover');
    const server = await dyingServer(dataDir, true);
    const fatal: unknown[] = [];
    const onFatal = (e: unknown) => fatal.push(e);
    process.on('uncaughtException', onFatal);
    try {
      const catalog = await Catalog.open({ dataDir, env: {}, share: true });
      try {
        expect(server.requests()).toBe(1);
        expect(await catalog.listTables()).toEqual([]);
        expect(readCatalogServerInfo(dataDir)?.pid).toBe(process.pid);
      } finally {
        await catalog.close();
      }
      expect(fatal).toEqual([]);
    } finally {
      process.off('uncaughtException', onFatal);
    }
  }, 30_000);

  it('a server that keeps dropping the open fails it retryably (CATALOG_UNAVAILABLE, a rejection) after a few attempts; the next open reaches the catalog', async () => {
    const dataDir = join(dir, 'open');
    const server = await dyingServer(dataDir);
    const fatal: unknown[] = [];
    const onFatal = (e: unknown) => fatal.push(e);
    process.on('uncaughtException', onFatal);
    try {
      await expect(Catalog.open({ dataDir, env: {}, share: true })).rejects.toMatchObject({
        kind: 'Catalog', code: 'CATALOG_UNAVAILABLE', retryable: true,
        message: expect.stringContaining('lost the connection to the catalog server of'),
      });
      expect(server.requests()).toBe(3);
      await new Promise((r) => setTimeout(r, 100));
      expect(fatal).toEqual([]);
    } finally {
      process.off('uncaughtException', onFatal);
    }
    // the server is gone for good (its claim with it): the next open takes the catalog, and shares it
    rmSync(join(dataDir, CATALOG_SERVER_FILE));
    const catalog = await Catalog.open({ dataDir, env: {}, share: true });
    try {
      expect(await catalog.listTables()).toEqual([]);
      expect(readCatalogServerInfo(dataDir)?.pid).toBe(process.pid);
    } finally {
      await catalog.close();
    }
  }, 30_000);

  it('a program whose top-level await of the open is not caught exits 1, its unhandledRejection handler not run; caught, it is retryable', async () => {
    const dataDir = join(dir, 'program');
    await dyingServer(dataDir);
    const run = (code: string) => new Promise<{ code: number | null; out: string; err: string }>((res) => {
      const p = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout!.on('data', (d) => { out += d; });
      p.stderr!.on('data', (d) => { err += d; });
      p.on('exit', (c) => res({ code: c, out, err }));
    });
    const open = `await (await import(${meta})).Catalog.open({ dataDir: ${JSON.stringify(dataDir)}, env: {}, share: true })`;
    const uncaught = await run(`process.on('unhandledRejection', () => { console.log('handler ran'); process.exit(7); });
      ${open};`);
    expect(uncaught.code).toBe(1);
    expect(uncaught.out).toBe('');
    expect(uncaught.err).toContain('LakeSoulError: lost the connection to the catalog server of');
    const caught = await run(`try { ${open}; } catch (e) { console.log(e.code, e.retryable); }`);
    expect(caught.code).toBe(0);
    expect(caught.out.trim()).toBe('CATALOG_UNAVAILABLE true');
  }, 30_000);
});
