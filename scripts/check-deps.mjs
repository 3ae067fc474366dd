#!/usr/bin/env node
// Lint rule: package dependencies point one way, connector-* -> io -> meta and ui -> io -> meta (cli,
// e2e, bench and examples may use all). Checks package.json dependencies and every import in src/. Exit 1 on a
// violation, naming the file and the import.
// Also: every package a shipped source file imports (not a test, test support or fixture) is declared
// in its package's dependencies or peerDependencies (a devDependency is missing for the package's users).
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const allowed = {
  meta: [],
  io: ['meta'],
  'connector-tfjs': ['io', 'meta'],
  'connector-danfo': ['io', 'meta'],
  'connector-flight': ['io', 'meta'],
  ui: ['io', 'meta'],
  cli: ['io', 'meta', 'connector-tfjs', 'connector-danfo', 'connector-flight', 'ui'],
};
const problems = [];
function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'node_modules' && name !== 'dist') yield* walk(p); }
    else if (/\.(ts|mts|js|mjs)$/.test(name)) yield p;
  }
}
for (const [pkg, deps] of Object.entries(allowed)) {
  const dir = join(root, 'packages', pkg);
  if (!existsSync(dir)) { problems.push(`packages/${pkg} is missing`); continue; }
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const declared = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies, ...manifest.peerDependencies });
  const shipped = new Set(Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }));
  for (const d of declared) {
    const m = /^@lakesoul-ts\/(.+)$/.exec(d);
    if (m && !deps.includes(m[1])) problems.push(`packages/${pkg}/package.json depends on ${d}; ${pkg} may depend on: ${deps.join(', ') || 'no other package'}`);
  }
  for (const file of walk(join(dir, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g)) {
      const spec = m[1];
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      const isShippedFile = !/\.test\.|test-support|test-fixtures/.test(relative(dir, file));
      // an import statement, not an import written in a comment or a message
      const before = text.slice(text.lastIndexOf('\n', m.index) + 1, m.index);
      const isCode = !/^\s*(\*|\/\/)/.test(before) && !/['"`]/.test(before);
      if (isShippedFile && isCode && !spec.startsWith('.') && !spec.startsWith('node:') && !builtinModules.includes(name) && name !== manifest.name && !shipped.has(name)) {
        problems.push(`${relative(root, file)} imports ${spec}, which packages/${pkg}/package.json does not list in dependencies or peerDependencies (its users would not get it)`);
      }
      const internal = /^@lakesoul-ts\/([^/]+)/.exec(spec);
      if (internal && internal[1] !== pkg && !deps.includes(internal[1])) problems.push(`${relative(root, file)} imports ${spec}: ${pkg} may not depend on ${internal[1]}`);
      if (spec.startsWith('.') && resolve(dirname(file), spec).startsWith(join(root, 'packages')) && !resolve(dirname(file), spec).startsWith(dir)) {
        problems.push(`${relative(root, file)} imports ${spec} across package boundaries: import the package by name`);
      }
    }
  }
}
if (problems.length) {
  console.error('dependency check failed (direction connector-* -> io -> meta; imports declared):\n  ' + problems.join('\n  '));
  process.exit(1);
}
console.log('check-deps: dependency direction ok (connector-* -> io -> meta)');
