// An embedded catalog across users and processes: a directory of another user is refused, a file of
// another user in one's own catalog is named when PGlite fails on it, a read-only directory is said
// to be one, and a server file naming a process that is no catalog server is stale.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CATALOG_SERVER_FILE, catalogServerAlive, claimCatalogServer, readCatalogServerInfo, resolveEmbeddedDriver, serveCatalog,
} from './catalog-server.js';
import { LakeSoulError } from './errors.js';
import { PGliteDriver, unwritableCatalogEntry } from './pglite-driver.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lakesoul-ownership-'));
  dirs.push(d);
  return d;
}
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** chown as a test step: false where the system refuses it (not root), so the test cannot be set up. */
function tryChown(path: string, uid: number): boolean {
  try { chownSync(path, uid, uid); return true; } catch { return false; }
}

/** The built package the runs without file-permission overrides import (readable by its owner, root). */
const builtMeta = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** root without the capabilities that let it write any file: permissions apply to it as to another user. */
const NO_OVERRIDE = ['--bounding-set', '-dac_override,-dac_read_search,-fowner', '--inh-caps=-all', '--'];

/** Whether `setpriv` (util-linux) can drop them here (root on Linux). */
const canDropOverride = isRoot && spawnSync('setpriv', [...NO_OVERRIDE, 'true']).status === 0;

/**
 * Runs `PGliteDriver.open` on `dir` as root without the capabilities to override file permissions,
 * through the built package (packages/meta/dist: `pnpm --filter @lakesoul-ts/meta build` after
 * changing it), and returns what it printed. (As user nobody, these runs could not import a checkout
 * under a private directory, such as ci-locally's fresh clone.)
 */
function openWithoutOverride(dir: string): string {
  const script = `const { PGliteDriver } = await import(${JSON.stringify(builtMeta)});
try { const d = await PGliteDriver.open({ dataDir: ${JSON.stringify(dir)} }); await d.close(); console.log('OPENED'); }
catch (e) { console.log(e.kind + ': ' + e.message); }`;
  const r = spawnSync('setpriv', [...NO_OVERRIDE, process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  return `${r.stdout}${r.stderr}`;
}

describe('an embedded catalog directory of another user', () => {
  // the tests run as root here; elsewhere chown is refused and there is no other user's directory to make
  it.runIf(isRoot)('is refused, naming the directory, its owner and what to do', async () => {
    const dir = join(tempDir(), 'catalog');
    mkdirSync(dir, { mode: 0o700 });
    expect(tryChown(dir, NOBODY)).toBe(true);
    const e = await PGliteDriver.open({ dataDir: dir }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LakeSoulError);
    const err = e as LakeSoulError;
    expect(err.kind).toBe('PermissionDenied');
    expect(err.message).toContain(dir);
    expect(err.message).toMatch(/belongs to user nobody \(id 65534\)/);
    expect(err.message).toContain('Run the command as that user');
    expect(err.message).toContain('chown -R 0 ');
    expect(err.context).toMatchObject({ dataDir: dir, owner: NOBODY });
    // nothing was written into it
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(false);
    expect(existsSync(join(dir, '.lakesoul-ts.lock'))).toBe(false);
  });

  // as root only, as above: making a file of another user needs chown
  it.runIf(isRoot)('names the first file of another user in a catalog of this user', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'pg_logical'));
    writeFileSync(join(dir, 'PG_VERSION'), '17\n');
    writeFileSync(join(dir, 'pg_logical', 'replorigin_checkpoint'), 'x');
    expect(unwritableCatalogEntry(dir)).toBeUndefined();
    expect(tryChown(join(dir, 'pg_logical', 'replorigin_checkpoint'), NOBODY)).toBe(true);
    expect(unwritableCatalogEntry(dir)).toMatchObject({ path: join(dir, 'pg_logical', 'replorigin_checkpoint'), owner: NOBODY });
  });

  // the tests run as root here, with setpriv; elsewhere there is no other user's file to make
  it.runIf(canDropOverride)('PGlite\'s Aborted() on a file its user cannot write names that file (root without permission overrides, with the built package)', async () => {
    const dir = join(tempDir(), 'catalog');
    expect(openWithoutOverride(dir)).toContain('OPENED');
    // what `sudo -u nobody lakesoul-ts …` would leave behind in root's catalog: a private file of nobody's
    const file = join(dir, 'pg_logical', 'replorigin_checkpoint');
    const bytes = readFileSync(file);
    rmSync(file);
    writeFileSync(file, bytes);
    chmodSync(file, 0o600);
    expect(tryChown(file, NOBODY)).toBe(true);
    const out = openWithoutOverride(dir);
    expect(out).toContain(`cannot open the embedded catalog at ${dir}`);
    expect(out).toMatch(/belongs to user nobody \(id 65534\)/);
    expect(out).toContain('chown -R 0 ');
  }, 120_000);

  it.runIf(canDropOverride)('a read-only directory is said to be one (root without permission overrides, with the built package)', () => {
    const dir = join(tempDir(), 'catalog');
    mkdirSync(dir, { mode: 0o500 });
    const out = openWithoutOverride(dir);
    expect(out).toContain(`PermissionDenied: the embedded catalog ${dir} cannot be opened: an embedded (PGlite) catalog needs write access to its directory`);
    expect(out).toContain('EACCES');
    expect(out).toContain('PostgreSQL server (LAKESOUL_PG_URL)');
    expect(out).not.toContain('.lakesoul-ts.lock.');
  }, 60_000);
});

describe('a server file naming a live process that is no catalog server', () => {
  it('is stale: no wait for it, and the claim is taken over', async () => {
    const dir = tempDir();
    const sleep = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      // as an older version wrote it (no start): the pid is now another program's
      writeFileSync(join(dir, CATALOG_SERVER_FILE), JSON.stringify({ pid: sleep.pid, socket: join(dir, 'nowhere', 'catalog.sock'), role: 'lakesoul-ts catalog-server' }));
      const info = readCatalogServerInfo(dir)!;
      expect(catalogServerAlive(info, dir)).toBe(false);
      const t0 = Date.now();
      const resolved = await resolveEmbeddedDriver(dir, () => PGliteDriver.open({ dataDir: dir }), { waitMs: 15_000, claimAs: 'test' });
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(resolved.claim).toBeDefined();
      expect(readCatalogServerInfo(dir)?.pid).toBe(process.pid);
      resolved.claim!.release();
      await resolved.driver.close();
      expect(sleep.exitCode).toBeNull(); // untouched
    } finally {
      sleep.kill();
    }
  }, 60_000);

  it('pid 1 never serves', () => {
    const dir = tempDir();
    expect(catalogServerAlive({ pid: 1, socket: join(dir, 's') }, dir)).toBe(false);
    writeFileSync(join(dir, CATALOG_SERVER_FILE), JSON.stringify({ pid: 1, socket: join(dir, 's') }));
    const claim = claimCatalogServer(dir);
    expect(claim).toBeDefined();
    claim!.release();
  });

  it('a process whose start matches the file serves (this process)', () => {
    const dir = tempDir();
    const claim = claimCatalogServer(dir, 'lakesoul-ts catalog-server')!;
    expect(catalogServerAlive(readCatalogServerInfo(dir)!, dir)).toBe(true);
    claim.release();
  });
});

describe('the idle timer of a catalog server', () => {
  it('waits an idle time over 24.8 days (setTimeout\'s limit) instead of firing at once', async () => {
    const dir = tempDir();
    const claim = claimCatalogServer(dir)!;
    const driver = await PGliteDriver.open();
    let idle = false;
    const server = await serveCatalog(driver, claim, { idleMs: 2678400 * 1000, onIdle: () => { idle = true; } });
    await new Promise((res) => setTimeout(res, 200));
    expect(idle).toBe(false);
    await server.close();
    await driver.close();
  });
});
