#!/usr/bin/env node
// `pnpm setup:native`: gives the workspace's @tensorflow/tfjs-node (and danfojs-node, which shares it)
// a working native TensorFlow backend built from registry packages only.
//
//   node scripts/setup-native.mjs [--check] [--force]
//
// tfjs-node's own install script downloads libtensorflow from outside the package registries, so pnpm
// never runs it (allowBuilds in pnpm-workspace.yaml). Instead:
//   1. pip downloads PyPI's tensorflow-cpu wheel, which carries the TensorFlow C API
//      (libtensorflow_cc.so.2 exports the TF_* / TFE_* symbols, next to libtensorflow_framework.so.2)
//      and its headers;
//   2. the libraries and the headers the C API includes are unpacked into a cache directory laid out
//      as tfjs-node's binding.gyp expects (deps/lib, deps/include);
//   3. node-gyp (from npm) compiles tfjs-node's addon against them and the local Node headers;
//   4. each installed tfjs-node copy gets the addon in lib/napi-v8/ and deps/ as a link to the cache.
// Everything lands under $LAKESOUL_NATIVE_CACHE (default ~/.cache/lakesoul-ts/native), keyed by the
// versions involved, so a re-run (another clone, a fresh `pnpm install`) only re-links: seconds.
// --check reports the state without changing anything (exit 0 when ready); --force rebuilds.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, lstatSync, writeFileSync, copyFileSync } from 'node:fs';
import { homedir, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NAPI_BUILD_VERSION, TFJS_NODE_VERSION, hasNativeAddon, nativeStatus, tfjsNodeCopies } from './native-status.mjs';

/** The PyPI release whose C API the addon is built against (checked with tfjs-node 4.22.0). */
const TENSORFLOW_CPU_VERSION = '2.21.0';
/** Wheel tags pinned so every machine and Python version fetches the same file (the C library does not depend on them). */
const WHEEL_PYTHON = '3.11';
const WHEEL_PLATFORM = 'manylinux_2_27_x86_64';
/** The header trees of the wheel that tensorflow/c/c_api.h and tensorflow/c/eager/c_api.h reach. */
const HEADER_TREES = ['tensorflow', 'tsl', 'xla'];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const started = performance.now();
const say = (line) => console.log(`setup:native: ${line}`);
const elapsed = (t0) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

/** A failure with what to do about it; reported by the top level, after temporary files are gone. */
class SetupError extends Error {
  constructor(message, hint) {
    super(message);
    this.hint = hint;
  }
}
function fail(message, hint) {
  throw new SetupError(message, hint);
}

function run(cmd, argv, options = {}) {
  const r = spawnSync(cmd, argv, { stdio: options.capture ? 'pipe' : 'inherit', encoding: 'utf8', ...options });
  if (r.error) return { ok: false, out: String(r.error.message), stdout: '' };
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '' };
}
const works = (cmd, argv) => run(cmd, argv, { capture: true }).ok;

const cacheRoot = resolve(process.env.LAKESOUL_NATIVE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'lakesoul-ts/native'));
const key = `tfjs-node-${TFJS_NODE_VERSION}_tensorflow-cpu-${TENSORFLOW_CPU_VERSION}_napi-${NAPI_BUILD_VERSION}_${process.platform}-${process.arch}`;
const built = join(cacheRoot, key);

try {
  main();
} catch (e) {
  if (!(e instanceof SetupError)) throw e;
  console.error(`setup:native: ${e.message}`);
  if (e.hint) console.error(`setup:native: ${e.hint}`);
  console.error('setup:native: the pure-JS backend (@tensorflow/tfjs, danfojs) keeps working without this step.');
  process.exit(1);
}

function main() {
const status = nativeStatus(root);
if (args.has('--check')) {
  say(status.ready ? `ready (${status.copies.length} tfjs-node copy/copies; cache ${built})` : `not ready: ${status.reason}`);
  process.exitCode = status.ready ? 0 : 1;
  return;
}
const copies = tfjsNodeCopies(root).filter((c) => c.version === TFJS_NODE_VERSION);
if (copies.length === 0) fail(`@tensorflow/tfjs-node@${TFJS_NODE_VERSION} is not installed in ${root}`, 'run pnpm install first');
for (const c of tfjsNodeCopies(root).filter((c) => c.version !== TFJS_NODE_VERSION)) say(`leaving tfjs-node ${c.version} at ${c.dir} alone (only ${TFJS_NODE_VERSION} is built)`);

if (process.platform !== 'linux' || process.arch !== 'x64') {
  fail(`the native set-up supports linux x64 (PyPI's ${WHEEL_PLATFORM} tensorflow-cpu wheel); this is ${process.platform} ${process.arch}`);
}

// ------------------------------------------------------------------------------------------------
// Build (once per cache key)

if (args.has('--force')) rmSync(built, { recursive: true, force: true });
if (existsSync(join(built, 'done.json'))) {
  say(`addon cached in ${built}`);
} else {
  buildAddon(copies[0].dir);
}

// ------------------------------------------------------------------------------------------------
// Install into every copy, then prove it loads and trains

for (const c of copies) {
  const napiDir = join(c.dir, `lib/napi-v${NAPI_BUILD_VERSION}`);
  mkdirSync(napiDir, { recursive: true });
  // Copied (small): the addon's rpath is $ORIGIN/../../deps/lib, resolved from where it is loaded.
  copyFileSync(join(built, `lib/napi-v${NAPI_BUILD_VERSION}/tfjs_binding.node`), join(napiDir, 'tfjs_binding.node'));
  const deps = join(c.dir, 'deps');
  let linked = false;
  try {
    linked = lstatSync(deps).isSymbolicLink() && statSync(join(deps, 'lib/libtensorflow.so.2')).size > 0;
  } catch {
    linked = false;
  }
  if (!linked) {
    rmSync(deps, { recursive: true, force: true });
    // Linked (about 850 MB of libraries): shared by every clone and install on this machine.
    symlinkSync(join(built, 'deps'), deps, 'dir');
  }
  if (!hasNativeAddon(c.dir)) fail(`installing into ${c.dir} left it incomplete`);
}

const t0 = performance.now();
const probe = `
const tf = require(${JSON.stringify(copies[0].dir)});
const x = tf.tensor2d([[1, 2], [3, 4]]);
const y = tf.matMul(x, x).dataSync();
if (tf.getBackend() !== 'tensorflow' || y[0] !== 7 || y[3] !== 22) { console.error('unexpected', tf.getBackend(), y); process.exit(1); }
const { createRequire } = require('node:module');
const dfd = createRequire(${JSON.stringify(join(root, 'packages/connector-danfo/package.json'))})('danfojs-node');
const df = new dfd.DataFrame({ a: [1, 2, 3] });
if (df.shape[0] !== 3) { console.error('danfojs-node: unexpected shape', df.shape); process.exit(1); }
console.log('tfjs-node ' + tf.version['tfjs-node'] + ' loads with backend ' + tf.getBackend() + ' (tensorflow-cpu ${TENSORFLOW_CPU_VERSION} C API); danfojs-node loads on it');
`;
const check = run(process.execPath, ['-e', probe], { capture: true, cwd: root, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
if (!check.ok) fail(`the built addon does not load or compute:\n${check.out.trim()}`, `rebuild with: node scripts/setup-native.mjs --force`);
say(`${check.stdout.trim()} (checked in ${elapsed(t0)})`);
say(`done in ${elapsed(started)}`);
}

// ------------------------------------------------------------------------------------------------

function buildAddon(src) {
  // Prerequisites, all reported at once.
  const python = ['python3', 'python'].find((p) => works(p, ['--version']));
  const missing = [];
  if (!python) missing.push('python3 (Debian: apt-get install -y python3)');
  else if (!works(python, ['-m', 'pip', '--version'])) missing.push('pip for python3 (Debian: apt-get install -y python3-pip)');
  const cxx = ['c++', 'g++', 'clang++'].find((c) => works(c, ['--version']));
  if (!cxx) missing.push('a C++ compiler (Debian: apt-get install -y g++)');
  if (!works('make', ['--version'])) missing.push('make (Debian: apt-get install -y make)');
  const nodedir = resolve(process.execPath, '../..');
  if (!existsSync(join(nodedir, 'include/node/node_api.h'))) missing.push(`Node.js headers in ${nodedir}/include/node (they ship with Node's official tarballs; Debian: apt-get install -y libnode-dev)`);
  const nodeGyp = join(root, 'node_modules/node-gyp/bin/node-gyp.js');
  if (!existsSync(nodeGyp)) missing.push('node-gyp (a devDependency of the workspace: run pnpm install)');
  if (missing.length > 0) fail(`missing prerequisites:\n  - ${missing.join('\n  - ')}`);

  const work = `${built}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'deps/lib'), { recursive: true });
  try {
    // 1. The wheel, kept in the cache (pip's own HTTP cache also keeps it).
    const wheels = join(cacheRoot, 'wheels');
    mkdirSync(wheels, { recursive: true });
    const findWheel = () => readdirSync(wheels).find((f) => f.startsWith(`tensorflow_cpu-${TENSORFLOW_CPU_VERSION}-`) && f.endsWith('.whl'));
    let wheel = findWheel();
    let t = performance.now();
    if (wheel) say(`wheel cached: ${join(wheels, wheel)}`);
    else {
      say(`downloading tensorflow-cpu==${TENSORFLOW_CPU_VERSION} from PyPI with pip (about 274 MB) ...`);
      const r = run(python, ['-m', 'pip', 'download', `tensorflow-cpu==${TENSORFLOW_CPU_VERSION}`, '--no-deps', '--only-binary=:all:', '--python-version', WHEEL_PYTHON, '--platform', WHEEL_PLATFORM, '--dest', wheels, '--quiet', '--disable-pip-version-check']);
      wheel = findWheel();
      if (!r.ok || !wheel) fail(`pip could not download tensorflow-cpu==${TENSORFLOW_CPU_VERSION}`, 'check the network access to PyPI (or a pip index configured in pip.conf)');
      say(`downloaded in ${elapsed(t)}`);
    }

    // 2. Libraries and headers, laid out as tfjs-node's binding.gyp expects.
    t = performance.now();
    const unpack = `
import sys, zipfile, shutil, os
wheel, out, trees = sys.argv[1], sys.argv[2], sys.argv[3].split(',')
libs = {'tensorflow/libtensorflow_cc.so.2': 'lib/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2': 'lib/libtensorflow_framework.so.2'}
prefixes = tuple('tensorflow/include/' + t + '/' for t in trees)
found = set()
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if name in libs:
            dest = os.path.join(out, libs[name]); found.add(name)
        elif name.startswith(prefixes) and not name.endswith('/'):
            dest = os.path.join(out, 'include', name[len('tensorflow/include/'):])
        else:
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, 'wb') as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
missing = sorted(set(libs) - found)
if missing:
    sys.exit('the wheel lacks ' + ', '.join(missing))
`;
    const u = run(python, ['-c', unpack, join(wheels, wheel), join(work, 'deps'), HEADER_TREES.join(',')], { capture: true });
    if (!u.ok) fail(`cannot unpack ${wheel}: ${u.out.trim()}`);
    for (const [link, target] of [['libtensorflow.so.2', 'libtensorflow_cc.so.2'], ['libtensorflow.so', 'libtensorflow_cc.so.2'], ['libtensorflow_framework.so', 'libtensorflow_framework.so.2']]) {
      symlinkSync(target, join(work, 'deps/lib', link));
    }
    if (!existsSync(join(work, 'deps/include/tensorflow/c/eager/c_api.h'))) fail(`${wheel} has no tensorflow/c/eager/c_api.h header`);
    say(`unpacked the C API (libtensorflow_cc.so.2 ${(statSync(join(work, 'deps/lib/libtensorflow_cc.so.2')).size / 2 ** 20).toFixed(0)} MB) and headers in ${elapsed(t)}`);

    // 3. Compile tfjs-node's own binding sources (binding.gyp + binding/) against them.
    t = performance.now();

    cpSync(join(src, 'binding.gyp'), join(work, 'binding.gyp'));
    cpSync(join(src, 'binding'), join(work, 'binding'), { recursive: true });
    say(`compiling the tfjs-node addon with node-gyp (${cxx}, Node headers from ${nodedir}) ...`);
    const gyp = run(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${nodedir}`, `--python=${python}`, '--module_name=tfjs_binding', `--module_path=${join(work, `lib/napi-v${NAPI_BUILD_VERSION}`)}`, `--napi_build_version=${NAPI_BUILD_VERSION}`, `--jobs=${Math.max(1, cpus().length)}`, '--loglevel=warn'], { cwd: work, capture: true });
    const addon = join(work, `lib/napi-v${NAPI_BUILD_VERSION}/tfjs_binding.node`);
    if (!gyp.ok || !existsSync(addon)) fail(`node-gyp could not build the addon:\n${gyp.out.trim().split('\n').slice(-30).join('\n')}`);
    rmSync(join(work, 'build'), { recursive: true, force: true });
    say(`compiled in ${elapsed(t)}`);

    writeFileSync(join(work, 'done.json'), `${JSON.stringify({ tfjsNode: TFJS_NODE_VERSION, tensorflowCpu: TENSORFLOW_CPU_VERSION, wheel, napi: NAPI_BUILD_VERSION, builtAt: new Date().toISOString() }, null, 2)}\n`);
    // Published whole or not at all; a concurrent set-up that finished first wins.
    try {
      renameSync(work, built);
    } catch (e) {
      if (!existsSync(join(built, 'done.json'))) throw e;
      rmSync(work, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
}
