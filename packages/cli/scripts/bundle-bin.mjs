#!/usr/bin/env node
// Build step of @lakesoul-ts/cli, after tsc: bundles the command (dist/main.js, with the workspace
// packages and the pure-JS libraries it loads) into dist/bin.js and dist/chunks/, the `lakesoul-ts`
// the package's `bin` names.
//
// Why: unbundled, each run loads ~290 ES modules (Arrow alone 146) before it does anything, and Node's
// ESM loader spent ~190 ms of a 400 ms `scan` resolving, reading and linking them. As one entry and a
// few chunks that is gone. Commands load what they use: the Flight server, tfjs, the UI sit in chunks
// that only their commands import.
//
// What a bundle changes, and how it is kept as it was:
// - `import.meta.url` in a bundled module would be the chunk's URL. Modules find files beside them
//   (workers, the native addon, package.json, the catalog image) and resolve packages from their own
//   package, so each use is replaced by the URL of the module's own file in its package's dist,
//   found at run time through the package's name: the same in this workspace and in an install.
// - Packages with native code, WebAssembly or their own files stay external (see BUNDLED). An
//   external imported by another package's module is resolved from this package: the build checks that
//   this package has it as a dependency, and that it is the same copy the other package would load.
import { build } from 'esbuild';
import { builtinModules } from 'node:module';
import { existsSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
/** Libraries bundled into the CLI: plain JavaScript, no files of their own loaded at run time. */
const BUNDLED = new Set(['apache-arrow', 'flatbuffers', 'commander', 'tslib']);
const builtins = new Set(builtinModules);

/** The package name of a bare specifier (`@scope/name/sub` -> `@scope/name`). */
const packageOf = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

/** The workspace package a file belongs to: its directory and name, or undefined. */
function workspacePackageOf(file) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (dir.split(sep).includes('node_modules')) return undefined;
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8'));
      return name?.startsWith('@lakesoul-ts/') ? { dir, name } : undefined;
    }
  }
  return undefined;
}

/** The real directory of package `name` as Node would find it from `dir`, or undefined. */
function installedPackage(name, dir) {
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    const p = join(d, 'node_modules', name, 'package.json');
    if (existsSync(p)) return dirname(realpathSync(p));
  }
  return undefined;
}

const problems = [];
const externalsChecked = new Set();

/** An external imported by `importer`: it must load the same copy from this package. */
function checkExternal(name, importer) {
  const pkg = workspacePackageOf(importer);
  const key = `${name}\0${pkg?.dir}`;
  if (!pkg || externalsChecked.has(key)) return;
  externalsChecked.add(key);
  const theirs = installedPackage(name, pkg.dir);
  const ours = installedPackage(name, root);
  if (theirs === undefined) return; // an optional peer the other package loads only when present
  if (ours !== theirs) {
    const version = JSON.parse(readFileSync(join(theirs, 'package.json'), 'utf8')).version;
    problems.push(`${pkg.name} imports ${name}, which the bundled CLI loads from @lakesoul-ts/cli: `
      + (ours === undefined ? `add "${name}": "${version}" to packages/cli/package.json dependencies` : `it resolves to ${ours}, not ${theirs}; give both the same version (${version})`));
  }
}

// the last build's chunks, and what builds before the bundle left under bin's name (tsc's bin.d.ts and
// maps of a src/bin.ts): nothing stale is packed
for (const stale of ['chunks', 'bin.js.map', 'bin.d.ts', 'bin.d.ts.map']) rmSync(join(dist, stale), { recursive: true, force: true });
await build({
  entryPoints: { bin: join(dist, 'main.js') },
  outdir: dist,
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  keepNames: true, // class and function names as written: error names and messages print them
  // no source maps: tsc's maps name sources the package does not ship (src/), so the bundle's could
  // not show them; a stack through dist/main.js (the same code, unbundled) maps to the sources.
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  // CommonJS modules bundled into ES chunks `require` Node's built-ins through this.
  banner: { js: "import { createRequire as __lakesoulCreateRequire } from 'node:module';\nconst require = __lakesoulCreateRequire(import.meta.url);" },
  plugins: [{
    name: 'lakesoul-bundle',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:') || builtins.has(args.path)) return { external: true };
        const name = packageOf(args.path);
        if (name.startsWith('@lakesoul-ts/') || BUNDLED.has(name)) return undefined;
        checkExternal(name, args.importer);
        return { external: true };
      });
      b.onLoad({ filter: /[\\/]packages[\\/][^\\/]+[\\/]dist[\\/].*\.js$/ }, (args) => {
        const pkg = workspacePackageOf(args.path);
        const source = readFileSync(args.path, 'utf8');
        if (!pkg || !source.includes('import.meta.url')) return undefined;
        const own = relative(pkg.dir, args.path).split(sep).join('/');
        const url = `new URL(${JSON.stringify(own)}, import.meta.resolve(${JSON.stringify(`${pkg.name}/package.json`)})).href`;
        return { contents: source.replaceAll('import.meta.url', url), loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  }],
});
if (problems.length > 0) {
  console.error(`bundle-bin: the bundled CLI would not load what the unbundled modules load:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
