/**
 * A new home's catalog, unpacked from the shipped image, is on disk before it takes the catalog's
 * name: unflushed, a power loss soon after `init` could leave a catalog of empty files. A child process
 * (the built package, as the CLI runs it) records every `fsync` that reaches Node's file system.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const image = JSON.stringify(new URL('../dist/catalog-image.js', import.meta.url).href);

describe('restoreCatalogImage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-image-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('flushes every file and directory of the unpacked catalog, and its new name in the parent directory', () => {
    const home = join(dir, 'home');
    const dataDir = join(home, 'catalog');
    const code = `import fs from 'node:fs';
      import { join } from 'node:path';
      import { syncBuiltinESMExports } from 'node:module';
      const synced = new Set();
      const fsyncSync = fs.fsyncSync;
      fs.fsyncSync = (fd) => { synced.add(fs.readlinkSync('/proc/self/fd/' + fd)); return fsyncSync(fd); };
      syncBuiltinESMExports();
      const { restoreCatalogImage } = await import(${image});
      const restored = restoreCatalogImage(${JSON.stringify(dataDir)});
      const entries = [];
      const walk = (p) => { for (const e of fs.readdirSync(p, { withFileTypes: true })) { const q = join(p, e.name); if (e.isDirectory()) walk(q); if (e.isDirectory() || e.isFile()) entries.push(q.slice(${JSON.stringify(dataDir)}.length)); } };
      walk(${JSON.stringify(dataDir)});
      // the files were flushed under the staging directory's name, before the rename
      const flushed = new Set([...synced].map((p) => p.replace(/^.*\\/catalog\\.image-[^/]*/, '')));
      console.log(JSON.stringify({ restored, entries: entries.length, unsynced: entries.filter((p) => !flushed.has(p)), parent: synced.has(${JSON.stringify(home)}) }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)) });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { restored: boolean; entries: number; unsynced: string[]; parent: boolean };
    expect(out.restored).toBe(true);
    expect(out.entries).toBeGreaterThan(100);
    expect(out.unsynced).toEqual([]);
    expect(out.parent).toBe(true);
  }, 60_000);
});
