#!/usr/bin/env node
// Part of `pnpm setup:native`: builds @lakesoul-ts/io's native Parquet codec (packages/io/native: the
// parquet crate that parquet-wasm compiles to WebAssembly, same version, as a Node-API addon) with
// cargo, and puts it at packages/io/native/lakesoul-parquet.node, where io loads it. Without it io
// decodes and encodes with parquet-wasm (the same files, slower: docs/benchmarks.md).
//
//   node scripts/setup-parquet-native.mjs [--check] [--force] [--toolchain]
//
// The build lands under $LAKESOUL_NATIVE_CACHE (default ~/.cache/lakesoul-ts/native), keyed by a hash
// of the crate's sources, Cargo.lock and the compiler's version, with cargo's target directory there
// too: a re-run with the same sources (another clone, CI) copies one file; a changed crate rebuilds
// only itself (about a minute; the first build compiles the dependencies too, 2-3 minutes on 2 cores).
// --check reports whether the addon is in place and current (exit 0 when it is); --force rebuilds;
// --toolchain only checks that cargo and a rustc at least the crate's `rust-version` are on PATH (exit
// 0 when they are: .ci/run asks before installing one).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const crate = join(root, 'packages/io/native');
const target = join(crate, 'lakesoul-parquet.node');
const args = new Set(process.argv.slice(2));
const say = (line) => console.log(`setup:native (parquet): ${line}`);
function fail(message, hint) {
  console.error(`setup:native (parquet): ${message}`);
  if (hint) console.error(`setup:native (parquet): ${hint}`);
  console.error('setup:native (parquet): @lakesoul-ts/io keeps working without it, on parquet-wasm.');
  process.exit(1);
}

/** Where a current Rust comes from; Debian 12's `cargo` package is Rust 1.63, too old for the crates. */
const INSTALL_RUST = 'install a current Rust (https://rustup.rs; on Debian 12: apt-get install -y cargo-web, Rust 1.96 from bookworm-security, in place of the cargo package) and run pnpm setup:native again';
const rustc = spawnSync('rustc', ['--version'], { encoding: 'utf8' });
const cargo = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
if (rustc.status !== 0 || cargo.status !== 0) {
  fail('cargo and rustc are needed to build the native Parquet codec and were not found on PATH', INSTALL_RUST);
}
// The oldest compiler the crate and its dependencies build with (Cargo.toml's rust-version); an older
// cargo fails on the lock file or a dependency with a message that does not say so.
const wanted = /^rust-version\s*=\s*"(\d+)\.(\d+)/m.exec(readFileSync(join(crate, 'Cargo.toml'), 'utf8'));
const found = /rustc (\d+)\.(\d+)/.exec(rustc.stdout);
if (wanted && found && (Number(found[1]) < Number(wanted[1]) || (Number(found[1]) === Number(wanted[1]) && Number(found[2]) < Number(wanted[2])))) {
  fail(`${rustc.stdout.trim()} is older than Rust ${wanted[1]}.${wanted[2]}, which the native Parquet codec's crates need`, INSTALL_RUST);
}
if (args.has('--toolchain')) {
  say(`${cargo.stdout.trim()}, ${rustc.stdout.trim()}: new enough`);
  process.exit(0);
}

const hash = createHash('sha256');
const sources = ['Cargo.toml', 'Cargo.lock', 'build.rs', ...readdirSync(join(crate, 'src')).sort().map((f) => `src/${f}`)];
for (const f of sources) hash.update(`${f}\0`).update(readFileSync(join(crate, f)));
// zstd (C, inside zstd-sys) asks the CPU for BMI2 with `cpuid` every time the parquet crate makes a
// compression or decompression context, which it does per column chunk: a `cpuid` leaves a virtual
// machine (a few µs each), ~15% of encoding a file of 100 rows here. Compiled for BMI2 when this
// machine has it (the addon is built where it runs), the decompression side asks no more. The flags
// are part of the cache key, so a cache copied to a machine without BMI2 builds again.
const cpu = cpuFlags();
const cflags = process.arch === 'x64' && cpu.has('bmi1') && cpu.has('bmi2') ? '-mbmi -mbmi2' : '';
hash.update(rustc.stdout).update(`${process.platform}-${process.arch}-napi`).update(`cflags:${cflags}`);
const key = hash.digest('hex').slice(0, 16);
const cacheRoot = resolve(process.env.LAKESOUL_NATIVE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'lakesoul-ts/native'));
const cached = join(cacheRoot, `parquet-${key}`, 'lakesoul-parquet.node');
const current = existsSync(target) && existsSync(cached) && readFileSync(target).equals(readFileSync(cached));

if (args.has('--check')) {
  say(current ? `ready (${target})` : existsSync(target) ? `stale: ${target} was built from other sources` : `not built (${target})`);
  process.exit(current ? 0 : 1);
}

if (args.has('--force') || !existsSync(cached)) {
  const t0 = performance.now();
  say(`building with ${cargo.stdout.trim()}${cflags ? `, C flags ${cflags}` : ''} (cache ${cacheRoot}) ...`);
  const targetDir = join(cacheRoot, 'parquet-target');
  const r = spawnSync('cargo', ['build', '--release', '--locked', '--manifest-path', join(crate, 'Cargo.toml')], {
    stdio: 'inherit',
    env: { ...process.env, CARGO_TARGET_DIR: targetDir, ...(cflags ? { CFLAGS: `${process.env.CFLAGS ?? ''} ${cflags}`.trim() } : {}) },
  });
  if (r.status !== 0) fail(`cargo build failed (exit ${r.status ?? r.signal})`, 'the output above names the cause; a missing crate means no access to the crate registry');
  const lib = join(targetDir, 'release', process.platform === 'darwin' ? 'liblakesoul_parquet.dylib' : process.platform === 'win32' ? 'lakesoul_parquet.dll' : 'liblakesoul_parquet.so');
  mkdirSync(dirname(cached), { recursive: true });
  copyFileSync(lib, `${cached}.tmp-${process.pid}`);
  renameSync(`${cached}.tmp-${process.pid}`, cached);
  say(`built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
} else {
  say(`cached: ${cached}`);
}
// a new file renamed into place: processes running the old addon keep their mapping of it
copyFileSync(cached, `${target}.tmp-${process.pid}`);
renameSync(`${target}.tmp-${process.pid}`, target);

// Prove it loads and round-trips a table through Parquet.
const probe = `
const { createRequire } = require('node:module');
const native = require(${JSON.stringify(target)});
const arrow = createRequire(${JSON.stringify(join(root, 'packages/io/package.json'))})('apache-arrow');
const t = arrow.tableFromArrays({ id: new Float64Array([1, 2, 3]), name: ['a', null, 'c'] });
const file = native.encodeSync({ ipc: arrow.tableToIPC(t, 'stream'), compression: 'zstd', rowGroupSize: 2, dataPageSizeLimit: 2048, createdBy: 'probe', encodings: [] });
native.decode({ size: file.length, pieces: [file], offsets: [0], batchSize: 1024 }).then((ipc) => {
  const back = arrow.tableFromIPC(ipc);
  if (back.numRows !== 3 || back.getChild('name').get(2) !== 'c' || back.getChild('name').get(1) !== null) { console.error('round trip gave', back.toArray()); process.exit(1); }
  console.log('parquet ' + native.parquetVersion() + ' codec loads and round-trips a table');
});
`;
const check = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', cwd: root });
if (check.status !== 0) fail(`the built codec does not load or round-trip:\n${check.stdout}${check.stderr}`.trim(), 'rebuild with: node scripts/setup-parquet-native.mjs --force');
say(check.stdout.trim());

/** The CPU's feature flags (Linux: /proc/cpuinfo), empty where unknown. */
function cpuFlags() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    return new Set(line ? line.split(':')[1].trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}
