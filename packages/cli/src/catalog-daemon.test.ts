// The background catalog server's own checks: a server file naming a process that is no catalog
// server is not signalled, and LAKESOUL_CATALOG_SERVER_IDLE is refused when it is no idle time.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CATALOG_SERVER_FILE, LakeSoulError } from '@lakesoul-ts/meta';
import { cliInProcess } from './test-support/run-in-process.js';
import { CATALOG_SERVER_ROLE, catalogServerIdleSeconds, checkCatalogServerIdleEnv, runCatalogServer, stopCatalogServer } from './catalog-daemon.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lakesoul-daemon-'));
  dirs.push(d);
  return d;
}
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe('catalog-server --status', () => {
  it('does not report a process named by a server file that is no catalog server as the server', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'home', 'catalog'), { recursive: true });
    const sleep = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, 'home', 'catalog', CATALOG_SERVER_FILE), JSON.stringify({ pid: sleep.pid, socket: join(dir, 'gone', 'catalog.sock'), role: CATALOG_SERVER_ROLE }));
      const r = await cliInProcess(dir, ['catalog-server', '--status']);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain(`no catalog server for ${join(dir, 'home', 'catalog')} (process ${sleep.pid}, which claimed it, is gone or is no catalog server`);
      expect(sleep.exitCode).toBeNull();
    } finally {
      sleep.kill();
    }
  });
});

describe('catalog-server --stop', () => {
  it('does not kill a process named by a server file that is no catalog server (an old file, its pid reused)', async () => {
    const dir = tempDir();
    const sleep = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, CATALOG_SERVER_FILE), JSON.stringify({ pid: sleep.pid, socket: join(dir, 'gone', 'catalog.sock'), role: CATALOG_SERVER_ROLE }));
      const notes: string[] = [];
      expect(await stopCatalogServer(dir, (l) => notes.push(l))).toBeUndefined();
      await new Promise((res) => setTimeout(res, 100));
      expect(sleep.exitCode).toBeNull();
      expect(sleep.signalCode).toBeNull();
      expect(existsSync(join(dir, CATALOG_SERVER_FILE))).toBe(false);
      expect(notes.join('\n')).toContain(`removed the stale server file ${join(dir, CATALOG_SERVER_FILE)}: process ${sleep.pid}`);
    } finally {
      sleep.kill();
    }
  });

  it('never signals its own process (pid 1: see catalog-ownership.test.ts, which does not signal)', async () => {
    for (const pid of [process.pid]) {
      const dir = tempDir();
      writeFileSync(join(dir, CATALOG_SERVER_FILE), JSON.stringify({ pid, socket: join(dir, 'catalog.sock'), role: CATALOG_SERVER_ROLE }));
      expect(await stopCatalogServer(dir, () => {})).toBeUndefined();
    }
  });
});

describe('LAKESOUL_CATALOG_SERVER_IDLE', () => {
  it.each(['0', '-1', 'abc', '1e999', 'Infinity'])('%s is refused, naming the variable', (value) => {
    const e = (() => { try { checkCatalogServerIdleEnv({ LAKESOUL_CATALOG_SERVER_IDLE: value }); } catch (x) { return x; } })();
    expect(e).toBeInstanceOf(LakeSoulError);
    expect((e as LakeSoulError).kind).toBe('InvalidArgument');
    expect((e as LakeSoulError).message).toContain(`LAKESOUL_CATALOG_SERVER_IDLE="${value}" is not a positive number of seconds`);
  });

  it('takes a positive number, a long one included', () => {
    for (const value of ['300', '0.5', '2678400', '']) expect(() => checkCatalogServerIdleEnv({ LAKESOUL_CATALOG_SERVER_IDLE: value })).not.toThrow();
    expect(catalogServerIdleSeconds({ LAKESOUL_CATALOG_SERVER_IDLE: '2678400' })).toBe(2678400);
    expect(catalogServerIdleSeconds({})).toBe(300);
  });

  it('an invalid value stops catalog-server before it claims the home', async () => {
    const dir = tempDir();
    const before = process.env.LAKESOUL_CATALOG_SERVER_IDLE;
    process.env.LAKESOUL_CATALOG_SERVER_IDLE = 'abc';
    try {
      await expect(runCatalogServer(dir, { idleSeconds: 300, note: () => {} })).rejects.toThrow(/LAKESOUL_CATALOG_SERVER_IDLE="abc"/);
      expect(existsSync(join(dir, CATALOG_SERVER_FILE))).toBe(false);
    } finally {
      if (before === undefined) delete process.env.LAKESOUL_CATALOG_SERVER_IDLE; else process.env.LAKESOUL_CATALOG_SERVER_IDLE = before;
    }
  });
});
