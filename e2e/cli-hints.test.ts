/**
 * The hints the real `lakesoul-ts` binary prints can be pasted and reach the same lakehouse: they repeat
 * the options that select it wherever they were typed (before or after the command), and never a catalog
 * password (masked as `***`, which LAKESOUL_PG_PASSWORD then stands in for). Each case runs the binary
 * as a subprocess with a timeout, and pastes the hint into a shell.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
