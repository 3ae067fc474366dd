/**
 * The hints the real `lakesoul-ts` binary prints can be pasted and reach the same lakehouse: they repeat
 * the options that select it wherever they were typed (before or after the command), never a catalog
 * password (masked as `***`, which LAKESOUL_PG_PASSWORD then stands in for), and name this run's own
 * command to stop a catalog server that hangs; and a command line without a command is a usage error.
 * Each case runs the binary as a subprocess with a timeout, and pastes the hint into a shell.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processAlive, readCatalogServerInfo, SocketDriver } from '@lakesoul-ts/meta';
import { testEnv } from './cli-env.js';
import { DIST_BIN, runCli, type CliResult } from './cli-run.js';

/**
 * Where hints spell the command `node <absolute path to bin.js>`: not under pnpm or npx, `lakesoul-ts`
 * not on PATH (only node's directory and the system's), and run from a directory outside the clone.
 */
const PLAIN = { npm_config_user_agent: '', npm_command: '', PATH: [dirname(process.execPath), '/usr/bin', '/bin'].join(':') };
const NODE_BIN = `node ${DIST_BIN}`;

function emptyDir(): string {
  return mkdtempSync(join(tmpdir(), 'lakesoul-cli-hints-'));
}

/** Runs `node dist/bin.js args` in `cwd` (the background catalog server off unless `env` says). */
function cli(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(args, { cwd, direct: true, timeoutMs: 60_000, env: { LAKESOUL_CATALOG_SERVER: 'off', ...PLAIN, ...env } });
}

/** The command of a `(see: <command>)` hint in `text`. */
function seeHint(text: string): string {
  const m = /\(see: (.*)\)\n?$/m.exec(text);
  if (!m) throw new Error(`no (see: ...) hint in: ${text}`);
  return m[1]!;
}

/** Runs `command` as a person pasting it into a shell in `cwd` would. */
function paste(command: string, cwd: string, env: NodeJS.ProcessEnv = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync('/bin/sh', ['-c', command], { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, LAKESOUL_CATALOG_SERVER: 'off', ...env } });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('hints repeat the options that select the lakehouse, wherever they were typed', () => {
  it('--home after the command, as --home h and --home=h, is in the hint, which then lists that home\'s tables', async () => {
    const dir = emptyDir();
    expect((await cli(dir, ['table', 'create', 't', '--schema', 'id:int64!', '--primary-key', 'id', '--home', 'h'])).code).toBe(0);
    for (const args of [['scan', 'nope', '--home', 'h'], ['scan', 'nope', '--home=h'], ['-q', 'scan', 'nope', '--filter', 'id > 0', '--home', 'h']]) {
      const r = await cli(dir, args);
      expect(r.code, r.err).toBe(3);
      const hint = seeHint(r.err);
      expect(hint, args.join(' ')).toBe(`${NODE_BIN} --home h table list -n default`);
      const pasted = paste(`${hint} --format csv`, dir);
      expect(pasted.code, pasted.err).toBe(0);
      expect(pasted.out).toMatch(/^default,t,/m);
    }
    // a hint inside the message (not a "see:") too
    const folder = await cli(dir, ['import', 't', '.', '--home', 'h']);
    expect(folder.code).toBe(4);
    expect(folder.err).toContain(`\`${NODE_BIN} --home h import t . --format images\``);
  });

  it('they are read as commander reads them: up to --, and the word after --home is its value whatever it is', async () => {
    const dir = emptyDir();
    expect((await cli(dir, ['--home', 'h', 'table', 'create', 't', '--schema', 'id:int64'])).code).toBe(0);
    // after `--`, `--home=x` is the table's name, not an option
    const operand = await cli(dir, ['scan', '--home', 'h', '--', '--home=x']);
    expect(operand.err).toMatch(/table 'default\.--home=x' not found/);
    expect(seeHint(operand.err)).toBe(`${NODE_BIN} --home h table list -n default`);
    // `-w --home --home h`: commander gives --home the value '--home' (and -w none): so does the hint
    const taken = await cli(dir, ['scan', 'nope', '-w', '--home', '--home', 'h']);
    expect(seeHint(taken.err)).toBe(`${NODE_BIN} --home --home table list -n default`);
    expect(existsSync(join(dir, '--home', 'catalog')), 'the home the command used').toBe(true);
  });
});

describe('a hint never prints the PostgreSQL password', () => {
  it('masks the userinfo password and a password= parameter as ***, and LAKESOUL_PG_PASSWORD makes the hint run as printed', async () => {
    const url = testEnv('LAKESOUL_TEST_PG_URL');
    const u = new URL(url);
    const password = decodeURIComponent(u.password);
    expect(password, 'the test URL carries a password').not.toBe('');
    const jdbc = `jdbc:postgresql://${u.host}${u.pathname}?user=${u.username}&password=${u.password}`;
    const dir = emptyDir();
    const cases: [string[], string][] = [
      [['--catalog', url, 'scan', 'nope'], `'postgres://${u.username}:***@${u.host}${u.pathname}'`],
      [['scan', 'nope', `--catalog=${url}`], `'postgres://${u.username}:***@${u.host}${u.pathname}'`],
      [['--catalog', jdbc, 'scan', 'nope'], `'jdbc:postgresql://${u.host}${u.pathname}?user=${u.username}&password=***'`],
    ];
    for (const [args, shown] of cases) {
      const r = await cli(dir, args);
      expect(r.code, r.err).toBe(3);
      const hint = seeHint(r.err);
      expect(hint).toBe(`${NODE_BIN} --catalog ${shown} table list -n default`);
      expect(r.err).not.toContain(`:${password}@`);
      expect(r.err).not.toContain(`password=${password}`);
      const pasted = paste(hint, dir, { LAKESOUL_PG_PASSWORD: password });
      expect(pasted.code, `${hint}: ${pasted.err}`).toBe(0);
    }
    // --pg-password is never repeated
    const flag = await cli(dir, ['--catalog', `postgres://${u.host}${u.pathname}`, '--pg-user', u.username, 'scan', 'nope', '--pg-password', password]);
    expect(seeHint(flag.err)).toBe(`${NODE_BIN} --catalog postgres://${u.host}${u.pathname} --pg-user ${u.username} table list -n default`);
  });
});

describe('a hung catalog server: the way out is this run\'s own command', () => {
  it('the CLI names `<its command> --home <home> catalog-server --stop`, which stops the server once resumed', async () => {
    const dir = emptyDir();
    const home = join(dir, 'my home');
    const auto = { LAKESOUL_CATALOG_SERVER: 'auto' };
    expect((await cli(dir, ['ns', 'create', 'kept', '--home', home], auto)).code).toBe(0);
    const catalogDir = join(home, 'catalog');
    const deadline = Date.now() + 20_000;
    let info = readCatalogServerInfo(catalogDir);
    while (!(info && existsSync(info.socket) && processAlive(info.pid)) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50));
      info = readCatalogServerInfo(catalogDir);
    }
    expect(info, 'the background catalog server').toBeDefined();
    const pid = info!.pid;
    process.kill(pid, 'SIGSTOP');
    let r: CliResult;
    let pasted: ReturnType<typeof paste>;
    const stop = `${NODE_BIN} --home '${home}' catalog-server --stop`;
    try {
      r = await cli(dir, ['ns', 'list', '--home', home], auto);
      // pasted while the server is still suspended: the stop resumes it to deliver its SIGTERM (it
      // waited 10 s and failed, the signal pending)
      pasted = paste(stop, dir, PLAIN);
    } finally {
      if (processAlive(pid)) process.kill(pid, 'SIGCONT');
    }
    expect(r.code, r.out).toBe(1);
    expect(r.err).toContain(`(served by process ${pid}) does not answer, not even a ping within 15 s`);
    expect(r.err).toContain(`resume it (fg, kill -CONT), e.g. \`kill -CONT ${pid}\`; otherwise stop it: \`${stop}\` (or \`kill -9 ${pid}\` when that does not stop it)`);
    expect(r.err).not.toMatch(/[^/]lakesoul-ts catalog-server --stop/);
    expect(pasted.code, pasted.err).toBe(0);
    expect(pasted.out).toContain(`stopped the catalog server for ${catalogDir} (process ${pid})`);
  }, 90_000);

  it('a program without the CLI is told to resume or kill the process by its pid, no CLI command', async () => {
    const dir = emptyDir();
    const socketPath = join(dir, 's.sock');
    // a server that accepts the connection and never answers, as a suspended one does
    const silent = createServer(() => {});
    await new Promise<void>((res) => silent.listen(socketPath, res));
    try {
      const driver = await SocketDriver.connect(socketPath, `${dir} (served by process 4242)`, { pid: 4242, socket: socketPath, role: 'my notebook' });
      driver.pingEveryMs = 20;
      driver.pingTimeoutMs = 200;
      const e = await driver.query('SELECT 1').then(() => undefined, (err: unknown) => err as Error & { code: string; context: Record<string, unknown> });
      expect(e?.code).toBe('CATALOG_UNAVAILABLE');
      expect(e?.message).toMatch(/does not answer, not even a ping within 0\.2 s: its process is stopped or hung\. If you suspended it \(Ctrl-Z, SIGSTOP\), resume it \(fg, or `kill -CONT 4242`\); otherwise stop it \(`kill -9 4242`\) and try again/);
      expect(e?.message).not.toMatch(/lakesoul-ts|catalog-server/);
      expect(e?.context).toMatchObject({ pid: 4242, role: 'my notebook', serverUnresponsive: true });
      await driver.close();
    } finally {
      silent.close();
    }
  });
});

describe('no command is a usage error', () => {
  it('lakesoul-ts, lakesoul-ts table and lakesoul-ts ns print help on stderr and exit 2; --help and help exit 0 on stdout', async () => {
    const dir = emptyDir();
    for (const args of [[], ['table'], ['ns'], ['--home', 'h'], ['-q']]) {
      const r = await cli(dir, args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/^Usage: lakesoul-ts/);
    }
    for (const args of [['--help'], ['help'], ['table', '--help'], ['help', 'ns']]) {
      const r = await cli(dir, args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.out).toMatch(/^Usage: lakesoul-ts/);
    }
  });
});
