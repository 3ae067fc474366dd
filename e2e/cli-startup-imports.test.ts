/**
 * What the metadata commands load. A command that only reads the catalog (`table list`,
 * `table describe`, `ns list`) pays for every module it imports on every run, and all of
 * `@lakesoul-ts/io` with the root of Arrow JS is ~220 more files: two static imports brought them
 * back into every command (a `Schema` from Arrow's root in commands.ts, io's `rangeValueTextOfInput`
 * in scan-errors.ts), and `table list` went from ~0.25 to ~0.55 s of CPU. The real binary runs here
 * with a module-resolution hook that writes every URL it resolves to a file; scans must still load io.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-run.js';

let dir: string;
let home: string;
let hookEntry: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-imports-'));
  home = join(dir, 'home');
  // the hook runs on Node's loader thread: it appends each resolved URL to the file named by the env
  writeFileSync(join(dir, 'hook.mjs'), [
    "import { appendFileSync } from 'node:fs';",
    'export async function resolve(specifier, context, next) {',
    '  const r = await next(specifier, context);',
    "  appendFileSync(process.env.IMPORTS_LOG, r.url + '\\n');",
    '  return r;',
    '}',
  ].join('\n'));
  hookEntry = join(dir, 'register.mjs');
  writeFileSync(hookEntry, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hook.mjs')).href)});\n`);
  for (const args of [['init'], ['table', 'create', 'events', '--schema', 'id:int64!,day:utf8!,v:float64', '--partition-by', 'day', '--primary-key', 'id', '--buckets', '2']]) {
    const r = await runCli(['--home', home, ...args]);
    expect(r.code, r.err).toBe(0);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The URLs `lakesoul-ts --home <home> ...args` resolved, after checking that it succeeded. */
async function importsOf(args: string[]): Promise<string[]> {
  const log = join(dir, `imports-${args.join('-')}.log`);
  writeFileSync(log, '');
  const r = await runCli(['--home', home, ...args], { direct: true, env: { IMPORTS_LOG: log, NODE_OPTIONS: `--import ${pathToFileURL(hookEntry).href}` } });
  expect(r.code, r.err).toBe(0);
  return [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))];
}

const ioModules = (urls: string[]) => urls.filter((u) => u.includes('/packages/io/'));
const arrowRoot = (urls: string[]) => urls.filter((u) => /apache-arrow\/Arrow\.(node|dom)\.mjs$/.test(u));

describe('modules the CLI loads', () => {
  it.each([
    [['table', 'list']],
    [['table', 'describe', 'events']],
    [['ns', 'list']],
  ])('%j loads neither @lakesoul-ts/io nor the root of Arrow JS', async (args) => {
    const urls = await importsOf(args);
    expect(urls.length).toBeGreaterThan(20); // the hook saw the command's imports
    expect(ioModules(urls)).toEqual([]);
    expect(arrowRoot(urls)).toEqual([]);
    expect(urls.length).toBeLessThan(200); // 126 distinct at the time of writing, 298 with the two imports
  });

  it('a scan loads io (the hook sees what a command needs)', async () => {
    const urls = await importsOf(['scan', 'events']);
    expect(ioModules(urls).length).toBeGreaterThan(10);
  });
});
