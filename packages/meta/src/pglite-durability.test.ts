/**
 * An embedded catalog's commits reach the disk: PGlite runs PostgreSQL with fsync off and its file
 * layer dropped every flush, so a power loss could take committed versions (crash-consistency probe F1:
 * no fsync at all in a committed import). A child process counts the `fsync` calls that reach Node's
 * file system, and which files they were for.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const meta = JSON.stringify(new URL('../dist/index.js', import.meta.url).href);

/** Runs an ES module program in a new node process; resolves to its standard output, rejects unless it exits 0. */
function runProgram(code: string): Promise<string> {
  return new Promise<string>((res, rej) => {
    // run from the package, whose dependencies (apache-arrow) the program imports
    const p = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'], cwd: fileURLToPath(new URL('..', import.meta.url)) });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (c) => (c === 0 ? res(out.trim()) : rej(new Error(`program exited ${c}: ${err}`))));
  });
}

describe('embedded catalog durability', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-durable-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('flushes the write-ahead log to disk at every commit of a catalog directory (PGlite flushed nothing)', async () => {
    const dataDir = join(dir, 'catalog');
    const code = `import fs from 'node:fs';
      import { syncBuiltinESMExports } from 'node:module';
      const synced = [];
      const fsyncSync = fs.fsyncSync;
      fs.fsyncSync = (fd) => { synced.push(fs.readlinkSync('/proc/self/fd/' + fd)); return fsyncSync(fd); };
      syncBuiltinESMExports();
      const { Catalog } = await import(${meta});
      const { Field, Int64, Schema } = await import('apache-arrow');
      const c = await Catalog.open({ dataDir: ${JSON.stringify(dataDir)}, env: {} });
      const settings = (await c.driver.query("SELECT current_setting('fsync') AS fsync, current_setting('wal_sync_method') AS method")).rows[0];
      const before = synced.length;
      for (let i = 0; i < 5; i++) await c.createTable({ name: 't' + i, path: 'file:///tmp/t' + i, schema: new Schema([new Field('id', new Int64(), false)]) });
      const commits = synced.slice(before);
      await c.close();
      console.log(JSON.stringify({ settings, commits }));`;
    const { settings, commits } = JSON.parse(await runProgram(code)) as { settings: Record<string, string>; commits: string[] };
    expect(settings).toEqual({ fsync: 'on', method: 'fsync' });
    // each of the five transactions flushed the log before it returned
    const wal = commits.filter((p) => p.startsWith(join(dataDir, 'pg_wal') + '/'));
    expect(wal.length).toBeGreaterThanOrEqual(5);
  }, 60_000);

  it('puts a new catalog directory on disk whole before its first query (PGlite\'s initdb flushed none of its files)', async () => {
    const dataDir = join(dir, 'fresh');
    const code = `import fs from 'node:fs';
      import { join } from 'node:path';
      import { syncBuiltinESMExports } from 'node:module';
      const synced = new Set();
      const fsyncSync = fs.fsyncSync;
      fs.fsyncSync = (fd) => { synced.add(fs.readlinkSync('/proc/self/fd/' + fd)); return fsyncSync(fd); };
      syncBuiltinESMExports();
      const { PGliteDriver } = await import(${meta});
      const d = await PGliteDriver.open({ dataDir: ${JSON.stringify(dataDir)} });
      const files = [];
      const dirs = [];
      const walk = (p) => { dirs.push(p); for (const e of fs.readdirSync(p, { withFileTypes: true })) { if (e.isDirectory()) walk(join(p, e.name)); else if (e.isFile()) files.push(join(p, e.name)); } };
      walk(${JSON.stringify(dataDir)});
      console.log(JSON.stringify({ files: files.length, dirs: dirs.length, unsynced: [...files, ...dirs].filter((p) => !synced.has(p)) }));
      await d.close();`;
    const { files, dirs, unsynced } = JSON.parse(await runProgram(code)) as { files: number; dirs: number; unsynced: string[] };
    expect(files).toBeGreaterThan(100);
    expect(dirs).toBeGreaterThan(10);
    expect(unsynced).toEqual([]);
  }, 60_000);

  it('an in-memory catalog does not flush anything (there is no disk to reach)', async () => {
    const code = `import fs from 'node:fs';
      import { syncBuiltinESMExports } from 'node:module';
      let n = 0;
      const fsyncSync = fs.fsyncSync;
      fs.fsyncSync = (fd) => { n++; return fsyncSync(fd); };
      syncBuiltinESMExports();
      const { Catalog } = await import(${meta});
      const c = await Catalog.open({ dataDir: 'memory://', env: {} });
      await c.createNamespace('ns');
      await c.close();
      console.log(n);`;
    expect(await runProgram(code)).toBe('0');
  }, 60_000);
});
