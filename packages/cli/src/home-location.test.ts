/**
 * A copied or moved home must not act on another home's files (home-location.ts). Table paths are
 * absolute: (A) after `cp -a h h2`, `--home h2 import t` wrote into h's table directory, h's cleanup
 * deleted that file as an orphan and h2 lost an acknowledged write; (B) after `mv lake lake-2025` and a
 * new `lake`, `--home lake-2025 cleanup t --execute` deleted the new home's file. Real CLI runs, in
 * this process.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cliInProcess, type Ran } from './test-support/run-in-process.js';
import { HOME_MARKER } from './home-location.js';
import { CATALOG_SERVER_FILE } from '@lakesoul-ts/meta';

let dir: string;
let env: string | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-home-location-'));
  env = process.env.LAKESOUL_CATALOG_SERVER;
  process.env.LAKESOUL_CATALOG_SERVER = 'off';
  writeFileSync(join(dir, 't.csv'), 'id,v\n1,a\n2,b\n');
  writeFileSync(join(dir, 's1.csv'), 'id,v\n101,x1\n');
});
afterAll(() => {
  if (env === undefined) delete process.env.LAKESOUL_CATALOG_SERVER; else process.env.LAKESOUL_CATALOG_SERVER = env;
  rmSync(dir, { recursive: true, force: true });
});

/** The CLI on the home `<dir>/<home>`, in `dir`. */
function cli(home: string, ...args: string[]): Promise<Ran> {
  return cliInProcess(dir, args, '', home);
}

const parquetUnder = (d: string): string[] => (existsSync(d) ? readdirSync(d, { recursive: true }) as string[] : []).filter((f) => f.endsWith('.parquet')).sort();

async function makeHome(home: string, path?: string): Promise<void> {
  const made = await cli(home, 'table', 'create', 't', '--schema', 'id:int64!,v:utf8', '--primary-key', 'id', ...(path ? ['--path', path] : []));
  expect(made.code, made.err).toBe(0);
  const imported = await cli(home, 'import', 't', 't.csv');
  expect(imported.code, imported.err).toBe(0);
}

it('(A) a copy refuses writes into the original\'s tables, warns on reads, and relocate gives it its own', async () => {
  await makeHome('h');
  const marker = JSON.parse(readFileSync(join(dir, 'h', 'catalog', HOME_MARKER), 'utf8')) as { home: string };
  expect(marker.home.endsWith('/h')).toBe(true);
  cpSync(join(dir, 'h'), join(dir, 'h2'), { recursive: true });
  const before = parquetUnder(join(dir, 'h', 'warehouse'));

  const imp = await cli('h2', 'import', 't', 's1.csv');
  expect(imp.code).toBe(4);
  expect(imp.err).toContain(`the home ${join(dir, 'h2')} was made at ${join(dir, 'h')}`);
  expect(imp.err).toContain(`relocate ${join(dir, 'h', 'warehouse')} ${join(dir, 'h2', 'warehouse')}`);
  expect(imp.err).toMatch(/^error: import: refused/);
  expect(parquetUnder(join(dir, 'h', 'warehouse'))).toEqual(before); // nothing written into the original
  for (const args of [['compact', 't'], ['cleanup', 't', '--orphan-window', '0', '--assume-no-writes', '--execute'], ['table', 'drop', 't', '--purge'], ['table', 'create', 'u', '--schema', 'id:int64!']]) {
    const r = await cli('h2', ...args);
    expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(4);
    expect(r.err).toContain(`${args[0] === 'table' ? `table ${args[1]}` : args[0]}: refused`);
  }
  expect(parquetUnder(join(dir, 'h', 'warehouse'))).toEqual(before);

  const scan = await cli('h2', 'scan', 't', '--format', 'csv');
  expect(scan.code, scan.err).toBe(0);
  expect(scan.out).toContain('1,a');
  expect(scan.err.split('\n').filter((l) => l.startsWith('warning: the home ')).length).toBe(1);
  expect((await cli('h', 'scan', 't')).err).not.toContain('warning');

  const rel = await cli('h2', 'relocate', join(dir, 'h', 'warehouse'), join(dir, 'h2', 'warehouse'));
  expect(rel.code, rel.err).toBe(0);
  expect(rel.err).toBe('');
  const imp2 = await cli('h2', 'import', 't', 's1.csv');
  expect(imp2.code, imp2.err).toBe(0);
  expect(imp2.err).not.toContain('warning');
  expect(parquetUnder(join(dir, 'h', 'warehouse'))).toEqual(before);
  // the original's cleanup no longer reaches the copy's acknowledged row
  expect((await cli('h', 'cleanup', 't', '--orphan-window', '0', '--assume-no-writes', '--execute')).code).toBe(0);
  const after = await cli('h2', 'scan', 't', '--format', 'csv');
  expect(after.code, after.err).toBe(0);
  expect(after.out).toContain('101,x1');
  expect(after.err).toBe('');
});

it('(B) a moved home whose old place holds a new home does not delete the new home\'s files', async () => {
  await makeHome('lake');
  renameSync(join(dir, 'lake'), join(dir, 'lake-2025'));
  await makeHome('lake');
  const files = parquetUnder(join(dir, 'lake', 'warehouse'));
  expect(files.length).toBeGreaterThan(0);
  const dry = await cli('lake-2025', 'cleanup', 't', '--orphan-window', '0');
  expect(dry.code, dry.err).toBe(0);
  expect(dry.err).toMatch(/^warning: the home .*lake-2025 was made at .*\/lake \(/m);
  const r = await cli('lake-2025', 'cleanup', 't', '--orphan-window', '0', '--assume-no-writes', '--execute');
  expect(r.code).toBe(4);
  expect(r.err).toContain(`relocate ${join(dir, 'lake', 'warehouse')} ${join(dir, 'lake-2025', 'warehouse')}`);
  expect(parquetUnder(join(dir, 'lake', 'warehouse'))).toEqual(files);
  const scan = await cli('lake', 'scan', 't', '--format', 'csv');
  expect(scan.code, scan.err).toBe(0);
  expect(scan.out).toContain('1,a');
});

it('a moved home with no table under its old warehouse is not refused, and takes its new place', async () => {
  const elsewhere = join(dir, 'tables', 't');
  mkdirSync(join(dir, 'tables'));
  await makeHome('m1', elsewhere);
  renameSync(join(dir, 'm1'), join(dir, 'm2'));
  const r = await cli('m2', 'import', 't', 's1.csv');
  expect(r.code, r.err).toBe(0);
  expect(r.err).not.toContain('warning');
  const marker = JSON.parse(readFileSync(join(dir, 'm2', 'catalog', HOME_MARKER), 'utf8')) as { home: string };
  expect(marker.home.endsWith('/m2')).toBe(true);
});

it('a home without a marker (an older version\'s) gets one; a --catalog directory gets none', async () => {
  await makeHome('old');
  rmSync(join(dir, 'old', 'catalog', HOME_MARKER));
  expect((await cli('old', 'table', 'list')).code).toBe(0);
  expect(existsSync(join(dir, 'old', 'catalog', HOME_MARKER))).toBe(true);
  const r = await cli('x', '--catalog', join(dir, 'cat'), 'ns', 'list');
  expect(r.code, r.err).toBe(0);
  expect(existsSync(join(dir, 'cat', HOME_MARKER))).toBe(false);
});

it('a home only older versions used (no marker), copied while its server ran, is refused by the directory that server serves', async () => {
  await makeHome('q');
  rmSync(join(dir, 'q', 'catalog', HOME_MARKER));
  cpSync(join(dir, 'q'), join(dir, 'qc'), { recursive: true });
  const served = realpathSync(join(dir, 'q', 'catalog'));
  // this version's server file names the directory it serves
  const claim = JSON.stringify({ pid: process.pid, socket: join(dir, 'q-server.sock'), role: 'lakesoul-ts catalog-server', dir: served });
  writeFileSync(join(dir, 'qc', 'catalog', CATALOG_SERVER_FILE), claim);
  const r = await cli('qc', 'table', 'drop', 't', '--purge');
  expect(r.code).toBe(4);
  expect(r.err).toContain(`the home ${join(dir, 'qc')} was copied from ${dirname(served)} while that home's catalog server (process ${process.pid}) ran`);
  // an older server's file has no directory: its background process was started with `--catalog <dir> catalog-server`
  const old = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)', '--', '--catalog', served, 'catalog-server'], { stdio: 'ignore' });
  try {
    await new Promise((r2) => old.once('spawn', r2));
    writeFileSync(join(dir, 'qc', 'catalog', CATALOG_SERVER_FILE), JSON.stringify({ pid: old.pid, socket: join(dir, 'q-old.sock'), role: 'lakesoul-ts catalog-server' }));
    const r2 = await cli('qc', 'table', 'list');
    expect(r2.code).toBe(4);
    expect(r2.err).toContain(`was copied from ${dirname(served)} while that home's catalog server (process ${old.pid}) ran`);
  } finally {
    old.kill('SIGKILL');
    await new Promise((r3) => old.once('exit', r3));
  }
  // that server gone: the copy's stale file is replaced and the copy is its own home
  const after = await cli('qc', 'table', 'list');
  expect(after.code, after.err).toBe(0);
  expect(existsSync(join(dir, 'q', 'warehouse', 'default', 't'))).toBe(true);
});

it('a home copied while the original\'s catalog server ran does not go through that server', async () => {
  await makeHome('o');
  cpSync(join(dir, 'o'), join(dir, 'oc'), { recursive: true });
  // the server file as the copy took it: the original's server (a live process) and its socket
  const claim = JSON.stringify({ pid: process.pid, socket: join(dir, 'o-server.sock'), role: 'lakesoul-ts catalog-server' });
  for (const home of ['o', 'oc']) writeFileSync(join(dir, home, 'catalog', CATALOG_SERVER_FILE), claim);
  try {
    const r = await cli('oc', 'table', 'list');
    expect(r.code).toBe(4);
    expect(r.err).toContain(`the home ${join(dir, 'oc')} was copied from ${join(dir, 'o')} while that home's catalog server (process ${process.pid}) ran`);
    expect(r.err).toContain(`--home ${join(dir, 'o')} catalog-server --stop`);
  } finally {
    rmSync(join(dir, 'o', 'catalog', CATALOG_SERVER_FILE));
  }
  // that server gone (its file no longer names it): the copy's stale file is the library's to replace
  const after = await cli('oc', 'table', 'list');
  expect(after.code, after.err).toBe(0);
  expect(after.err).toMatch(/^warning: the home /);
});
