import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { importHidingArgv } from './import-hiding-argv.js';

const dir = mkdtempSync(join(tmpdir(), 'lakesoul-argv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('loads a package that reads the command line with the program\'s options hidden, and puts them back', async () => {
  // as @mapbox/node-pre-gyp does when tfjs-node loads: it parses process.argv at load time
  mkdirSync(join(dir, 'node_modules', 'reads-argv'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'reads-argv', 'index.js'), 'module.exports = { seen: process.argv.slice(2) };');
  mkdirSync(join(dir, 'node_modules', 'esm-only'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'esm-only', 'package.json'), JSON.stringify({ name: 'esm-only', type: 'module', main: 'index.js' }));
  writeFileSync(join(dir, 'node_modules', 'esm-only', 'index.js'), 'export const seen = process.argv.slice(2); export default 7;');
  const base = pathToFileURL(join(dir, 'caller.mjs'));
  const argv = process.argv;
  process.argv = [...argv.slice(0, 2), '--dir', '/somewhere'];
  try {
    const cjs = (await importHidingArgv('reads-argv', base)) as { seen: string[]; default: { seen: string[] } };
    expect(cjs.seen).toEqual([]);
    expect(cjs.default.seen).toEqual([]);
    expect(process.argv.slice(2)).toEqual(['--dir', '/somewhere']);
    const esm = (await importHidingArgv('esm-only', base)) as { default: number };
    expect(esm.default).toBe(7);
    await expect(importHidingArgv('not-installed-anywhere', base)).rejects.toMatchObject({ code: 'MODULE_NOT_FOUND' });
    expect(process.argv.slice(2)).toEqual(['--dir', '/somewhere']);
  } finally {
    process.argv = argv;
  }
});
