// The packages as npm users get them: `pnpm pack` of every package (its prepack/postpack scripts
// included), then the tarball itself is read. Each must carry its README and the repository's LICENSE,
// name real versions instead of `workspace:` ranges, hold every entry point its manifest names, and
// declare in dependencies or peerDependencies every package its shipped JavaScript imports (a
// devDependency is not installed for its users); state the Node versions it runs on (`engines`, the
// root's), export its package.json, and take apache-arrow as a peer (one copy in an app: Arrow objects
// of another copy are no `instanceof` of lakesoul-ts's classes).
// Then io and meta are installed from their tarballs with npm into an app, as a user does.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const packages = readdirSync(join(root, 'packages')).filter((p) => existsSync(join(root, 'packages', p, 'package.json')));
const out = mkdtempSync(join(tmpdir(), 'packages-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Manifest {
  name: string;
  bin?: Record<string, string>;
  exports?: Record<string, string | { default: string; types?: string }>;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };

/** `pnpm pack` of `packages/<pkg>` (once): the tarball's path. */
const tarballs = new Map<string, string>();
function tarball(pkg: string): string {
  if (!tarballs.has(pkg)) {
    const dest = join(out, pkg);
    execFileSync('pnpm', ['pack', '--pack-destination', dest], { cwd: join(root, 'packages', pkg), stdio: 'pipe' });
    const tgz = readdirSync(dest).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`pnpm pack wrote no tarball for packages/${pkg}`);
    tarballs.set(pkg, join(dest, tgz));
  }
  return tarballs.get(pkg)!;
}

/** Packs `packages/<pkg>` and unpacks the tarball into its own directory; returns that directory. */
function packAndUnpack(pkg: string): string {
  const tgz = tarball(pkg);
  execFileSync('tar', ['xzf', tgz], { cwd: dirname(tgz) });
  return join(dirname(tgz), 'package');
}

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else yield p;
  }
}

/** Bare package names imported by the JavaScript in `dir` (static, dynamic and require), by file. */
function importedPackages(dir: string): Array<{ file: string; name: string }> {
  const found: Array<{ file: string; name: string }> = [];
  for (const file of files(dir)) {
    if (!/\.(m?js)$/.test(file) || /\.test\.|test-support|test-fixtures/.test(file)) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]\s*\)/gm)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (spec.startsWith('.') || spec.startsWith('node:')) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      if (!builtinModules.includes(name)) found.push({ file: file.slice(dir.length + 1), name });
    }
  }
  return found;
}

describe('packed packages', () => {
  it.each(packages)('packages/%s: README, LICENSE, real versions, entry points, declared imports', (pkg) => {
    const unpacked = packAndUnpack(pkg);
    expect(existsSync(join(unpacked, 'README.md')), 'README.md in the tarball').toBe(true);
    expect(readFileSync(join(unpacked, 'LICENSE'), 'utf8')).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
    expect(existsSync(join(root, 'packages', pkg, 'LICENSE')), 'postpack removed the copied LICENSE').toBe(false);

    const manifest = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')) as Manifest;
    const ranges = { ...manifest.dependencies, ...manifest.peerDependencies };
    for (const [dep, range] of Object.entries(ranges)) expect(range, `${manifest.name} -> ${dep}`).not.toMatch(/^workspace:/);
    const entries = [...Object.values(manifest.bin ?? {}), ...Object.values(manifest.exports ?? {}).flatMap((e) => (typeof e === 'string' ? [e] : [e.default, e.types ?? e.default]))];
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) expect(existsSync(join(unpacked, entry)), `${manifest.name}: ${entry}`).toBe(true);

    // a debugger or `node --enable-source-maps` shows the TypeScript a map names: the maps carry it
    // (the tarball has no src/), and no test-only module ships
    for (const file of [...files(unpacked)].filter((f) => f.endsWith('.js.map'))) {
      const map = JSON.parse(readFileSync(file, 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
      const missing = map.sources.filter((src, k) => typeof map.sourcesContent?.[k] !== 'string' && !existsSync(join(dirname(file), src)));
      expect(missing, `${file.slice(unpacked.length + 1)}: sources neither shipped nor inlined`).toEqual([]);
    }
    expect([...files(unpacked)].filter((f) => /test-fixtures|\.test\./.test(f)).map((f) => f.slice(unpacked.length + 1)), `${manifest.name}: test files shipped`).toEqual([]);

    const imported = importedPackages(unpacked);
    const undeclared = imported.filter(({ name }) => name !== manifest.name && !(name in ranges));
    expect(undeclared, `${manifest.name} imports packages its users do not get`).toEqual([]);

    // the Node versions it runs on, and its manifest readable by tools (`import '<pkg>/package.json'`)
    expect(manifest.engines, `${manifest.name}: engines`).toEqual({ node: rootManifest.engines.node });
    expect(manifest.exports?.['./package.json'], `${manifest.name}: exports['./package.json']`).toBe('./package.json');
    // apache-arrow is a peer (the app's one copy), not a dependency (a second, nested copy next to an
    // app's other version: its Arrow objects failed lakesoul-ts's instanceof), pinned for the workspace's
    // own builds as a devDependency that the peer range admits
    if (imported.some(({ name }) => name === 'apache-arrow')) {
      expect(manifest.dependencies?.['apache-arrow'], `${manifest.name}: apache-arrow in dependencies`).toBeUndefined();
      expect(manifest.peerDependencies?.['apache-arrow'], `${manifest.name}: apache-arrow peer range`).toBe(ARROW_PEER_RANGE);
      expect(manifest.devDependencies?.['apache-arrow'], `${manifest.name}: apache-arrow pinned for the workspace`).toBe(ARROW_PINNED);
    }
  }, 120_000);
});

/**
 * The apache-arrow every package takes: 21.2.0 is the oldest the code loads with (meta imports
 * `LargeList`, which 21.2.0 added: on 21.1.0 the import fails), and the first whose `instanceof`
 * accepts the Arrow objects of another copy of the same or a later version.
 */
const ARROW_PEER_RANGE = '^21.2.0';
const ARROW_PINNED = '21.2.0';

/** npm in `cwd`, quietly; its exit status and output. */
function npm(cwd: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync('npm', args, {
    cwd, encoding: 'utf8', timeout: 300_000,
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', npm_config_loglevel: 'error' },
  });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

/** A new app directory (an ES module package) under the test's directory. */
function newApp(name: string): string {
  const dir = join(out, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }));
  return dir;
}

/** Runs `code` as an ES module in `dir` (its working directory `cwd`, default `dir`); its exit status and output. */
function runModule(dir: string, code: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { status: number | null; output: string } {
  const file = join(dir, `run-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, code);
  const env = { ...process.env, ...options.env };
  if (options.env?.LAKESOUL_PARQUET_CODEC === undefined) delete env.LAKESOUL_PARQUET_CODEC;
  const r = spawnSync(process.execPath, [file], { cwd: options.cwd ?? dir, encoding: 'utf8', timeout: 120_000, env });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

describe('installed with npm from the tarballs', () => {
  let app: string;

  it('`npm i @lakesoul-ts/io` installs apache-arrow with it, one copy, which the app\'s own Arrow objects come from', () => {
    app = newApp('app');
    const r = npm(app, ['install', tarball('io'), tarball('meta')]);
    expect(r.status, r.output).toBe(0);
    // npm 7+ installs peers: apache-arrow is there without being asked for, once, at the top
    expect(JSON.parse(readFileSync(join(app, 'node_modules/apache-arrow/package.json'), 'utf8')).version).toBe(ARROW_PINNED);
    for (const pkg of ['io', 'meta']) expect(existsSync(join(app, 'node_modules/@lakesoul-ts', pkg, 'node_modules/apache-arrow')), `a second apache-arrow under ${pkg}`).toBe(false);
    // README's "Using it": a Schema and data of the app's apache-arrow
    const run = runModule(app, `
      import { Lakehouse } from '@lakesoul-ts/io';
      import { Field, Float64, Int64, Schema, Utf8, tableFromArrays } from 'apache-arrow';
      const lake = await Lakehouse.open({ catalog: { dataDir: ':memory:' } });
      const schema = new Schema([new Field('id', new Int64(), false), new Field('date', new Utf8(), false), new Field('score', new Float64(), true)]);
      const events = await lake.createTable('events', schema, { rangePartitions: ['date'], primaryKeys: ['id'], hashBucketNum: 4 });
      await events.write(tableFromArrays({ id: BigInt64Array.from([1n, 2n]), date: ['2024-01-01', '2024-01-01'], score: Float64Array.from([0.4, 0.9]) }));
      console.log('rows', (await events.toArrow()).numRows);
      await lake.close();
    `);
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain('rows 2');
  }, 600_000);

  it('an app on an apache-arrow the packages do not take is refused at install (ERESOLVE), not given a second copy', () => {
    const other = newApp('app-arrow-21-1');
    const r = npm(other, ['install', 'apache-arrow@21.1.0', tarball('io'), tarball('meta')]);
    expect(r.status, r.output).not.toBe(0);
    expect(r.output).toMatch(/ERESOLVE/);
    expect(r.output).toMatch(/peer apache-arrow@"\^21\.2\.0" from @lakesoul-ts\/(io|meta)/);
  }, 600_000);

  it('Arrow objects of another apache-arrow copy are refused naming both versions (FOREIGN_ARROW_OBJECT)', () => {
    expect(app, 'the install test ran').toBeDefined();
    // a directory whose apache-arrow is 21.1.0 (what an app on it would make objects with), as the working directory
    const old = join(out, 'old-arrow');
    mkdirSync(old, { recursive: true });
    writeFileSync(join(old, 'package.json'), JSON.stringify({ name: 'old-arrow', version: '1.0.0', private: true }));
    const r = npm(old, ['install', 'apache-arrow@21.1.0']);
    expect(r.status, r.output).toBe(0);
    const io = JSON.stringify(join(app, 'node_modules/@lakesoul-ts/io/dist/index.js'));
    const run = runModule(app, `
      import { createRequire } from 'node:module';
      const { Lakehouse, LakeSoulError } = await import(${io});
      const old = await import(${JSON.stringify(join(old, 'node_modules/apache-arrow/Arrow.node.mjs'))});
      const cjs = createRequire(import.meta.url)('apache-arrow'); // the same 21.2.0, its CommonJS build: another copy
      const lake = await Lakehouse.open({ catalog: { dataDir: ':memory:' } });
      for (const [what, arrow] of [['old', old], ['cjs', cjs]]) {
        const data = arrow.tableFromArrays({ id: BigInt64Array.from([1n]) });
        for (const attempt of [() => lake.createTable('t_' + what, data.schema), () => lake.createTable('t_' + what, data)]) {
          try { await attempt(); console.log(what, 'created'); } catch (e) { console.log(what, e.code, e.message); }
        }
      }
      const t = await lake.createTable('w', [{ id: 1 }]);
      try { await t.write(old.tableFromArrays({ id: BigInt64Array.from([2n]) })); console.log('write ok'); } catch (e) { console.log('write', e.code, e.message); }
      await lake.close();
    `, { cwd: old });
    expect(run.status, run.output).toBe(0);
    const lines = run.output.split('\n');
    const oldLines = lines.filter((l) => l.startsWith('old '));
    expect(oldLines, run.output).toHaveLength(2);
    for (const l of oldLines) expect(l).toMatch(/^old FOREIGN_ARROW_OBJECT table 't_old': createTable's schema or data is an Arrow (Schema|Table) from another copy of apache-arrow \(the app's 21\.1\.0 vs lakesoul-ts's 21\.2\.0\): install one apache-arrow version \(lakesoul-ts takes \^21\.2\.0\)/);
    const cjsLines = lines.filter((l) => l.startsWith('cjs '));
    expect(cjsLines, run.output).toHaveLength(2);
    for (const l of cjsLines) expect(l).toMatch(/^cjs FOREIGN_ARROW_OBJECT .* from another copy of apache-arrow \(both 21\.2\.0, loaded twice: e\.g\. the app's require\('apache-arrow'\) loads its CommonJS build/);
    expect(run.output).toMatch(/write FOREIGN_ARROW_OBJECT write input for table 'w' is an Arrow Table from another copy of apache-arrow \(the app's 21\.1\.0 vs lakesoul-ts's 21\.2\.0\)/);
  }, 600_000);

  it('each installed package exports its package.json', () => {
    expect(app, 'the install test ran').toBeDefined();
    const run = runModule(app, `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      for (const p of ['@lakesoul-ts/io', '@lakesoul-ts/meta']) console.log(require(p + '/package.json').engines.node);
    `);
    expect(run.status, run.output).toBe(0);
    expect(run.output.trim().split('\n')).toEqual([rootManifest.engines.node, rootManifest.engines.node]);
  }, 120_000);

  it('LAKESOUL_PARQUET_CODEC=native where the codec cannot be (an npm install) says what to do: the codec comes from a clone, auto uses parquet-wasm', () => {
    expect(app, 'the install test ran').toBeDefined();
    const code = `
      const { Lakehouse } = await import('@lakesoul-ts/io');
      const lake = await Lakehouse.open({ catalog: { dataDir: ':memory:' } });
      try { await lake.createTable('t', [{ id: 1 }]); console.log('written'); } catch (e) { console.log(e.code, e.message); }
      await lake.close();
    `;
    const native = runModule(app, code, { env: { LAKESOUL_PARQUET_CODEC: 'native' } });
    expect(native.status, native.output).toBe(0);
    expect(native.output).toMatch(/NATIVE_CODEC_MISSING LAKESOUL_PARQUET_CODEC=native, but the native Parquet codec .*: it is not built\. The npm package does not ship it: it is built only in a clone of the lakesoul-ts repository \(pnpm setup:native there\)\. Or set LAKESOUL_PARQUET_CODEC=auto \(or leave it unset\) to use parquet-wasm/);
    // and what it says works
    const auto = runModule(app, code, { env: { LAKESOUL_PARQUET_CODEC: 'auto' } });
    expect(auto.output.trim(), auto.output).toBe('written');
  }, 120_000);
});
