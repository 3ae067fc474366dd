import { mkdtempSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDirectory, makeDirectorySync } from './directories.js';

describe('makeDirectory', () => {
  const base = mkdtempSync(join(tmpdir(), 'lakesoul-dirs-'));

  it('makes missing parents, accepts an existing directory, refuses a file', async () => {
    makeDirectorySync(join(base, 'a', 'b', 'c'), 0o700);
    expect(statSync(join(base, 'a', 'b', 'c')).isDirectory()).toBe(true);
    expect(statSync(join(base, 'a')).mode & 0o777).toBe(0o700);
    makeDirectorySync(join(base, 'a', 'b'));
    await makeDirectory(join(base, 'x', 'y'));
    await makeDirectory(join(base, 'x', 'y'));
    expect(statSync(join(base, 'x', 'y')).isDirectory()).toBe(true);
    writeFileSync(join(base, 'file'), '');
    expect(() => makeDirectorySync(join(base, 'file'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    await expect(makeDirectory(join(base, 'file'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(makeDirectory(join(base, 'file', 'under'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('fails at once where mkdir fails although the parent exists (Node 20 recursive mkdir spins on /proc)', async () => {
    const started = Date.now();
    expect(() => makeDirectorySync('/proc/lakesoul-test/catalog')).toThrow(/mkdir '\/proc\/lakesoul-test'.*its parent \/proc exists/);
    await expect(makeDirectory('/proc/lakesoul-test/catalog')).rejects.toMatchObject({ code: 'ENOENT', path: '/proc/lakesoul-test' });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
