/**
 * The background catalog server (packages/cli/src/catalog-daemon.ts), as a person meets it: the real
 * binary, spawned with a timeout, on an embedded home with `LAKESOUL_CATALOG_SERVER` at its default.
 * A command leaves a server behind; the next commands, other processes and concurrent writers go
 * through it; it stops when asked, when idle, when its home is deleted, and a killed server is replaced.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Catalog, CATALOG_SERVER_FILE, PGLITE_LOCK_FILE, processAlive, readCatalogServerInfo, ServedCatalogDriver } from '@lakesoul-ts/meta';
import { runCli, waitForOutput, type CliResult } from './cli-run.js';

const TIMEOUT_MS = 60_000;
/** The server at its default; the suite's environment turns it off for every other test. */
const AUTO = { LAKESOUL_CATALOG_SERVER: 'auto' };

function cli(args: string[], env: NodeJS.ProcessEnv = AUTO): Promise<CliResult> {
  return runCli(args, { env, timeoutMs: TIMEOUT_MS });
}

/** Whether the process runs (one that has ended but that its new parent, init, has not collected yet counts as ended). */
function alive(pid: number): boolean {
  return processAlive(pid);
}

async function until<T>(what: string, probe: () => T | undefined | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

function newHome(): { home: string; catalogDir: string; g: string[] } {
  const home = mkdtempSync(join(tmpdir(), 'lakesoul-catsrv-'));
  return { home, catalogDir: join(home, 'catalog'), g: ['--home', home] };
}

/** The pid of the background server once it answers on its socket. */
async function serverUp(catalogDir: string): Promise<number> {
  const info = await until('the background catalog server', () => {
    const i = readCatalogServerInfo(catalogDir);
    return i && existsSync(i.socket) && alive(i.pid) ? i : undefined;
  });
  return info.pid;
}

describe('background catalog server', () => {
  it('is left by a command, serves the next commands and other processes, and stops on --stop', async () => {
    const { home, catalogDir, g } = newHome();
    const init = await cli([...g, 'init']);
    expect(init.code, init.err).toBe(0);
    const pid = await serverUp(catalogDir);
    expect(pid).not.toBe(process.pid);
    const info = readCatalogServerInfo(catalogDir)!;
    expect(info.role).toBe('lakesoul-ts catalog-server');
    // Only its user can reach the socket.
    expect(statSync(dirname(info.socket)).mode & 0o777).toBe(0o700);

    const created = await cli([...g, 'table', 'create', 'events', '--schema', 'id:int64!,kind:utf8', '--primary-key', 'id', '--buckets', '2']);
    expect(created.code, created.err).toBe(0);
    // Four writers at once, each its own process, all through the one server: every commit lands.
    const csvs = [0, 1, 2, 3].map((w) => {
      const f = join(home, `w${w}.csv`);
      writeFileSync(f, 'id,kind\n' + Array.from({ length: 50 }, (_, i) => `${w * 1000 + i},w${w}`).join('\n') + '\n');
      return f;
    });
    const writes = await Promise.all(csvs.map((f) => cli([...g, 'import', 'events', f, '--mode', 'upsert'])));
    for (const w of writes) expect(w.code, w.err).toBe(0);
    const scan = await cli([...g, 'scan', 'events', '--format', 'jsonl']);
    expect(scan.code, scan.err).toBe(0);
    expect(scan.out.trim().split('\n')).toHaveLength(200);
    const history = await cli([...g, 'history', 'events', '--format', 'jsonl']);
    expect(history.out.trim().split('\n')).toHaveLength(4);
    // The same server all along: it still holds the catalog's lock.
    expect(readCatalogServerInfo(catalogDir)?.pid).toBe(pid);
    expect(readFileSync(join(catalogDir, PGLITE_LOCK_FILE), 'utf8').split(' ')[0]).toBe(String(pid));

    // A program on the same home (here: this test process) goes through it too.
    const catalog = await Catalog.open({ dataDir: catalogDir });
    try {
      expect(catalog.driver).toBeInstanceOf(ServedCatalogDriver);
      expect((await catalog.listTables()).map((t) => t.name)).toEqual(['events']);
    } finally {
      await catalog.close();
    }

    const status = await cli([...g, 'catalog-server', '--status']);
    expect(status.out).toMatch(new RegExp(`process ${pid} \\(lakesoul-ts catalog-server\\), socket `));
    const stop = await cli([...g, 'catalog-server', '--stop']);
    expect(stop.code, stop.err).toBe(0);
    expect(stop.out).toMatch(new RegExp(`stopped the catalog server for .* \\(process ${pid}\\)`));
    expect(alive(pid)).toBe(false);
    expect(existsSync(join(catalogDir, CATALOG_SERVER_FILE))).toBe(false);
    expect(existsSync(join(catalogDir, PGLITE_LOCK_FILE))).toBe(false);
    expect(existsSync(dirname(info.socket))).toBe(false);

    // Turned off: the command opens the catalog itself and leaves nothing running.
    const off = await cli([...g, 'table', 'list'], { LAKESOUL_CATALOG_SERVER: 'off' });
    expect(off.out).toMatch(/events/);
    await new Promise((res) => setTimeout(res, 1000));
    expect(readCatalogServerInfo(catalogDir)).toBeUndefined();
    expect((await cli([...g, 'catalog-server', '--stop'])).out).toMatch(/no catalog server for /);
  });

  it('stops by itself when idle, and at once when its home is deleted', async () => {
    const a = newHome();
    expect((await cli([...a.g, 'init'], { ...AUTO, LAKESOUL_CATALOG_SERVER_IDLE: '1' })).code).toBe(0);
    const idlePid = await serverUp(a.catalogDir);
    await until('the idle server to stop', () => !alive(idlePid), 15_000);
    expect(existsSync(join(a.catalogDir, CATALOG_SERVER_FILE))).toBe(false);
    expect(existsSync(join(a.catalogDir, PGLITE_LOCK_FILE))).toBe(false);

    const b = newHome();
    expect((await cli([...b.g, 'init'])).code).toBe(0);
    const pid = await serverUp(b.catalogDir);
    const socket = readCatalogServerInfo(b.catalogDir)!.socket;
    expect(existsSync(socket)).toBe(true);
    rmSync(b.home, { recursive: true, force: true });
    await until('the server of a deleted home to stop', () => !alive(pid), 10_000);
    expect(existsSync(b.home)).toBe(false); // and it did not write into the deleted path on its way out
    // nor left its private socket directory behind in TMPDIR (one stayed per deleted home)
    expect(existsSync(dirname(socket))).toBe(false);
  });

  it('starts with TMPDIR missing: its socket goes under /tmp (it died without a word, and every command paid the catalog start)', async () => {
    const a = newHome();
    const env = { ...AUTO, TMPDIR: join(a.home, 'no-such-dir') };
    expect((await cli([...a.g, 'init'], env)).code).toBe(0);
    const pid = await serverUp(a.catalogDir);
    expect(readCatalogServerInfo(a.catalogDir)!.socket).toMatch(/^\/tmp\/lakesoul-ts-catalog-[^/]+\/catalog\.sock$/);
    const listed = await cli([...a.g, 'table', 'list', '--format', 'json'], env);
    expect([listed.code, listed.out.trim()]).toEqual([0, '[]']);
    expect(alive(pid)).toBe(true);
    expect((await cli([...a.g, 'catalog-server', '--stop'], env)).code).toBe(0);
    await until('the server to stop', () => !alive(pid), 10_000);
  });

  it("--status and --stop on another user's home say whose it is (they said 'no catalog server' while one ran)", async () => {
    const a = newHome();
    expect((await cli([...a.g, 'init'])).code).toBe(0);
    const pid = await serverUp(a.catalogDir);
    let r: { status: number | null; stderr: string };
    if (process.getuid?.() === 0) {
      // as another user (root reads everything): the catalog directory is 0700. That user must reach
      // the CLI itself: a checkout under a private temporary directory (CI's fresh clone) is opened
      // for traversal for the moment of the call.
      const { spawnSync } = await import('node:child_process');
      const { chmodSync } = await import('node:fs');
      const { DIST_BIN } = await import('./cli-run.js');
      const opened: [string, number][] = [];
      for (let d = dirname(DIST_BIN); dirname(d) !== d; d = dirname(d)) {
        const mode = statSync(d).mode & 0o7777;
        if ((mode & 0o001) === 0) { opened.push([d, mode]); chmodSync(d, mode | 0o001); }
      }
      try {
        r = spawnSync('su', ['nobody', '-s', '/bin/sh', '-c', `cd /tmp && "${process.execPath}" "${DIST_BIN}" --home "${a.home}" catalog-server --status`], { encoding: 'utf8', timeout: TIMEOUT_MS });
      } finally {
        for (const [d, mode] of opened) chmodSync(d, mode);
      }
    } else {
      const { chmodSync } = await import('node:fs');
      chmodSync(a.catalogDir, 0o000);
      const run = await cli([...a.g, 'catalog-server', '--status']);
      chmodSync(a.catalogDir, 0o700);
      r = { status: run.code, stderr: run.err };
    }
    expect([r.status, r.stderr]).toEqual([1, expect.stringMatching(/cannot read the embedded catalog .* \(EACCES\): it belongs to user id \d+/)]);
    expect(alive(pid)).toBe(true);
    expect((await cli([...a.g, 'catalog-server', '--stop'])).code).toBe(0);
  });

  it('a killed server is replaced: its claim and lock are taken over by the next command', async () => {
    const { catalogDir, g } = newHome();
    expect((await cli([...g, 'init'])).code).toBe(0);
    expect((await cli([...g, 'ns', 'create', 'kept'])).code).toBe(0);
    const pid = await serverUp(catalogDir);
    const killedSocket = readCatalogServerInfo(catalogDir)!.socket;
    process.kill(pid, 'SIGKILL');
    await until('the killed server to be gone', () => !alive(pid));
    const list = await cli([...g, 'ns', 'list']);
    expect(list.code, list.err).toBe(0);
    expect(list.out).toMatch(/kept/);
    const next = await serverUp(catalogDir);
    expect(next).not.toBe(pid);
    // the killed server's private socket directory went with its claim (it stayed in TMPDIR)
    expect(existsSync(dirname(killedSocket))).toBe(false);
    expect((await cli([...g, 'catalog-server', '--stop'])).code).toBe(0);
  });

  it('a suspended server fails a command within ~20 s, saying what to do (it waited 120 s in silence), and serves again once resumed', async () => {
    const { catalogDir, g } = newHome();
    expect((await cli([...g, 'ns', 'create', 'kept'])).code).toBe(0);
    const pid = await serverUp(catalogDir);
    process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const list = await cli([...g, 'ns', 'list']);
      const took = Date.now() - started;
      expect(list.code, list.out).toBe(1);
      expect(list.err).toMatch(new RegExp(`catalog server of .* \\(served by process ${pid}\\) does not answer, not even a ping within 15 s: its process is stopped or hung.*resume it \\(fg, kill -CONT\\).*catalog-server --stop`));
      expect(took).toBeLessThan(40_000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const after = await cli([...g, 'ns', 'list']);
    expect(after.code, after.err).toBe(0);
    expect(after.out).toMatch(/kept/);
    expect((await cli([...g, 'catalog-server', '--stop'])).code).toBe(0);
  }, 90_000);

  it('commands started together on a home without a server wait for the one that opened the catalog', async () => {
    const { home, catalogDir, g } = newHome();
    const csv = join(home, 'a.csv');
    writeFileSync(csv, 'id,v\n1,a\n2,b\n');
    expect((await cli([...g, 'table', 'create', 't', '--from', csv])).code).toBe(0);
    // the server that command leaves behind is stopped once it is up (a --stop before it claims the
    // home would find nothing, and it would serve the imports below)
    await serverUp(catalogDir);
    expect((await cli([...g, 'catalog-server', '--stop'])).code).toBe(0);
    const runs = await Promise.all([1, 2, 3].map(() => cli([...g, 'import', 't', csv])));
    for (const r of runs) expect(r.code, r.err).toBe(0);
    const history = await cli([...g, 'history', 't', '--format', 'json']);
    expect(JSON.parse(history.out)).toHaveLength(3);
    await serverUp(catalogDir);
    expect((await cli([...g, 'catalog-server', '--stop'])).code).toBe(0);
  });

  it('a server stopped while it starts lets go of its claim; --status does not name a process that is gone', async () => {
    const { catalogDir, g } = newHome();
    expect((await cli([...g, 'init'])).code).toBe(0);
    await serverUp(catalogDir); // the one init leaves behind, stopped once it has claimed the home
    expect((await cli([...g, 'catalog-server', '--stop'])).code).toBe(0);
    // started by hand and stopped as soon as it has claimed the home (before PGlite is open)
    const run = runCli([...g, 'catalog-server'], { env: AUTO, timeoutMs: TIMEOUT_MS });
    await until('the claim', () => readCatalogServerInfo(catalogDir)?.pid === run.child.pid || undefined, 20_000);
    run.child.kill('SIGTERM');
    const r = await run;
    expect(r.signal).toBeNull();
    expect(readCatalogServerInfo(catalogDir)).toBeUndefined();
    // a claim left by a process killed outright: --status says it is gone
    writeFileSync(join(catalogDir, CATALOG_SERVER_FILE), JSON.stringify({ pid: 2 ** 22 + 4321, socket: '/nonexistent.sock', role: 'lakesoul-ts catalog-server' }));
    const status = await cli([...g, 'catalog-server', '--status']);
    expect(status.out).toMatch(/^no catalog server for .*\(process 4198625, which claimed it, is gone/);
  });

  it('--stop right after a command stops the server that command has just started (before it claimed the home)', async () => {
    const { catalogDir, g } = newHome();
    for (let round = 0; round < 3; round++) {
      const made = await cli([...g, round === 0 ? 'init' : 'ns', ...(round === 0 ? [] : ['list'])]);
      expect(made.code, made.err).toBe(0);
      const stop = await cli([...g, 'catalog-server', '--stop']);
      expect(stop.code, stop.err).toBe(0);
      expect(stop.out).toMatch(/^stopped the catalog server for .* \(process \d+\)/);
      const pid = Number(/process (\d+)/.exec(stop.out)![1]);
      expect(alive(pid)).toBe(false);
      // nothing comes up afterwards
      await new Promise((res) => setTimeout(res, 1500));
      expect(readCatalogServerInfo(catalogDir)).toBeUndefined();
      expect((await cli([...g, 'catalog-server', '--status'])).out).toMatch(/^no catalog server for /);
    }
  });

  it('a program opening the home right after a command goes through the server that command started, instead of taking the catalog from it', async () => {
    const { catalogDir, g } = newHome();
    expect((await cli([...g, 'init'])).code).toBe(0);
    // at once: the background server is still starting (it has not claimed the home yet)
    const catalog = await Catalog.open({ dataDir: catalogDir });
    try {
      expect(catalog.driver).toBeInstanceOf(ServedCatalogDriver);
      expect((await catalog.listTables()).length).toBe(0);
    } finally {
      await catalog.close();
    }
    const pid = await serverUp(catalogDir);
    expect(pid).not.toBe(process.pid);
    expect((await cli([...g, 'catalog-server', '--stop'])).code).toBe(0);
  });

  it('`serve` shares its catalog: commands run beside it, and --stop names it instead of stopping it', async () => {
    const { catalogDir, g } = newHome();
    const off = { LAKESOUL_CATALOG_SERVER: 'off' };
    const serve = runCli([...g, 'serve', '--port', '0'], { env: off, timeoutMs: TIMEOUT_MS });
    await waitForOutput(serve.child, /grpc:\/\/127\.0\.0\.1:\d+/);
    await until('serve to share its catalog', () => readCatalogServerInfo(catalogDir)?.pid === serve.child.pid);
    const created = await cli([...g, 'table', 'create', 'beside', '--schema', 'id:int64!'], off);
    expect(created.code, created.err).toBe(0);
    const stop = await cli([...g, 'catalog-server', '--stop'], off);
    expect(stop.code).toBe(4);
    expect(stop.err).toMatch(new RegExp(`served by lakesoul-ts serve on grpc://127\\.0\\.0\\.1:\\d+ \\(process ${serve.child.pid}\\).*kill ${serve.child.pid}`));
    serve.child.kill('SIGTERM');
    expect((await serve).code).toBe(0);
    expect(readCatalogServerInfo(catalogDir)).toBeUndefined();
    const list = await cli([...g, 'table', 'list'], off);
    expect(list.out).toMatch(/beside/);
  });

  it('`ui` on a home a background server serves outlives that server: after --stop it takes the catalog over and shares it', async () => {
    const { catalogDir, g } = newHome();
    expect((await cli([...g, 'table', 'create', 'kept', '--schema', 'id:int64!'])).code).toBe(0);
    const first = await serverUp(catalogDir);
    const ui = runCli([...g, 'ui', '--port', '0'], { env: AUTO, timeoutMs: TIMEOUT_MS });
    let err = '';
    ui.child.stderr!.on('data', (d) => { err += d; });
    const url = (await waitForOutput(ui.child, /LakeSoul UI on (http:\/\/127\.0\.0\.1:\d+\/)/))[1]!;
    const tables = async () => {
      const r = await fetch(`${url}api/namespaces`);
      return { status: r.status, body: await r.json() as { tables: { name: string }[] }[] };
    };
    expect((await tables()).body[0]!.tables.map((t) => t.name)).toEqual(['kept']);
    // the UI went through the background server; stopping that server (as the docs say to) used to
    // leave every later UI request failing with 502 for good
    const stop = await cli([...g, 'catalog-server', '--stop']);
    expect(stop.code, stop.err).toBe(0);
    expect(alive(first)).toBe(false);
    const after = await tables();
    expect(after.status).toBe(200);
    expect(after.body[0]!.tables.map((t) => t.name)).toEqual(['kept']);
    expect(err).toMatch(/the catalog server of .* went away; reached the catalog again by opening the catalog in this process, which now serves it to other processes/);
    // the UI serves the catalog now: commands beside it go through it instead of failing on its lock
    expect(readCatalogServerInfo(catalogDir)?.pid).toBe(ui.child.pid);
    const created = await cli([...g, 'table', 'create', 'beside', '--schema', 'id:int64!']);
    expect(created.code, created.err).toBe(0);
    expect((await tables()).body[0]!.tables.map((t) => t.name).sort()).toEqual(['beside', 'kept']);
    ui.child.kill('SIGINT');
    expect((await ui).code).toBe(0);
    expect(readCatalogServerInfo(catalogDir)).toBeUndefined();
    expect(existsSync(join(catalogDir, PGLITE_LOCK_FILE))).toBe(false);
  });

  it("--stop and --status do not take a process that has a dead server's pid since for that server (--stop signalled it)", async () => {
    const { catalogDir, g } = newHome();
    expect((await cli([...g, 'table', 'list'], { LAKESOUL_CATALOG_SERVER: 'off' })).code).toBe(0);
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => other.once('spawn', r));
      // the claim of a server that died before a reboot: its pid is another process's now
      writeFileSync(join(catalogDir, CATALOG_SERVER_FILE), JSON.stringify({ pid: other.pid, socket: join(catalogDir, 'gone.sock'), role: 'lakesoul-ts catalog-server', start: '00000000-0000-0000-0000-000000000000:1' }));
      const stop = await cli([...g, 'catalog-server', '--stop']);
      expect(stop.out).toMatch(/no catalog server for /);
      expect(alive(other.pid!)).toBe(true);
      const status = await cli([...g, 'catalog-server', '--status']);
      expect(status.out).toMatch(new RegExp(`no catalog server for .*process ${other.pid}, which claimed it, is gone`));
      const list = await cli([...g, 'table', 'list'], { LAKESOUL_CATALOG_SERVER: 'off' });
      expect(list.code, list.err).toBe(0);
    } finally {
      other.kill();
    }
  });
});
