// The packages as npm users get them: `pnpm pack` of every package (its prepack/postpack scripts
// included), then the tarball itself is read. Each must carry its README and the repository's LICENSE,
// name real versions instead of `workspace:` ranges, hold every entry point its manifest names, and
// declare in dependencies or peerDependencies every package its shipped JavaScript imports (a
// devDependency is not installed for its users).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
  exports?: Record<string, { default: string; types?: string }>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** Packs `packages/<pkg>` and unpacks the tarball into its own directory; returns that directory. */
function packAndUnpack(pkg: string): string {
  const dest = join(out, pkg);
  execFileSync('pnpm', ['pack', '--pack-destination', dest], { cwd: join(root, 'packages', pkg), stdio: 'pipe' });
  const tgz = readdirSync(dest).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error(`pnpm pack wrote no tarball for packages/${pkg}`);
  execFileSync('tar', ['xzf', tgz], { cwd: dest });
  return join(dest, 'package');
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
    const entries = [...Object.values(manifest.bin ?? {}), ...Object.values(manifest.exports ?? {}).flatMap((e) => [e.default, e.types ?? e.default])];
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) expect(existsSync(join(unpacked, entry)), `${manifest.name}: ${entry}`).toBe(true);

    const undeclared = importedPackages(unpacked).filter(({ name }) => name !== manifest.name && !(name in ranges));
    expect(undeclared, `${manifest.name} imports packages its users do not get`).toEqual([]);
  }, 120_000);
});
