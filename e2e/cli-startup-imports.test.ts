/**
 * What the metadata commands load. A command that only reads the catalog (`table list`,
 * `table describe`, `ns list`) pays for every module it imports on every run, and all of
 * `@lakesoul-ts/io` with the root of Arrow JS is ~220 more files: two static imports brought them
 * back into every command (a `Schema` from Arrow's root in commands.ts, io's `rangeValueTextOfInput`
 * in scan-errors.ts), and `table list` went from ~0.25 to ~0.55 s of CPU. The real binary runs here
 * with a module-resolution hook that writes every URL it resolves to a file; scans must still load io.
 * Both entries: the bundle (dist/bin.js), whose chunks name the modules they hold in esbuild's
 * `// <path>` comments, and tsc's modules (dist/main.js), whose imports decide those chunks.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST_BIN, DIST_MAIN, runCli } from './cli-run.js';

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

const CLI_DIR = resolve(dirname(DIST_BIN), '..');
const ENTRIES = [['the bundle', DIST_BIN], ['tsc\'s modules', DIST_MAIN]] as const;

/** The modules a file of the bundle holds (esbuild's `// ../io/dist/x.js` lines, relative to packages/cli), as URLs. */
function bundledModules(url: string): string[] {
  const text = readFileSync(fileURLToPath(url), 'utf8');
  // (a chunk that only re-exports another has none: the other is loaded, and resolved, too)
  return [...text.matchAll(/^\/\/ (\S+\.[cm]?js)$/gm)].map((m) => pathToFileURL(resolve(CLI_DIR, m[1]!)).href);
}

/**
 * The modules `lakesoul-ts --home <home> ...args` loaded with `entry`, after checking that it
 * succeeded: the URLs it resolved, each file of the bundle replaced by the modules it holds.
 */
async function importsOf(args: string[], entry: string): Promise<string[]> {
  const log = join(dir, `imports-${args.join('-')}.log`);
  writeFileSync(log, '');
  const r = await runCli(['--home', home, ...args], { direct: true, entry, env: { IMPORTS_LOG: log, NODE_OPTIONS: `--import ${pathToFileURL(hookEntry).href}` } });
  expect(r.code, r.err).toBe(0);
  const resolved = [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))];
  if (entry === DIST_MAIN) return resolved;
  const bundleFiles = resolved.filter((u) => u === pathToFileURL(DIST_BIN).href || u.includes('/packages/cli/dist/chunks/'));
  expect(bundleFiles.length, 'the bundle ran').toBeGreaterThan(1);
  return [...new Set([...resolved.filter((u) => !bundleFiles.includes(u)), ...bundleFiles.flatMap(bundledModules)])];
}

const ioModules = (urls: string[]) => urls.filter((u) => u.includes('/packages/io/'));
const arrowRoot = (urls: string[]) => urls.filter((u) => /apache-arrow\/Arrow\.(node|dom)\.mjs$/.test(u));

describe.each(ENTRIES)('modules the CLI loads: %s', (_, entry) => {
  it.each([
    [['table', 'list']],
    [['table', 'describe', 'events']],
    [['ns', 'list']],
  ])('%j loads neither @lakesoul-ts/io nor the root of Arrow JS', async (args) => {
    const urls = await importsOf(args, entry);
    expect(urls.length).toBeGreaterThan(20); // the hook saw the command's imports
    expect(ioModules(urls)).toEqual([]);
    expect(arrowRoot(urls)).toEqual([]);
    expect(urls.length).toBeLessThan(200); // 126 distinct at the time of writing, 298 with the two imports
  });

  it('a scan loads io (the hook sees what a command needs)', async () => {
    const urls = await importsOf(['scan', 'events'], entry);
    expect(arrowRoot(urls).length).toBeGreaterThan(0);
    expect(ioModules(urls).length).toBeGreaterThan(10);
  });
});
