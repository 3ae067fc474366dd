#!/usr/bin/env node
// Runs every benchmark of bench/ (each *.mjs file except this one, _* and *-common.mjs helpers) in sequence, each in its own
// process, against the built packages (`pnpm bench` builds first). Prints what each prints.
// The benchmarks run inside the test environment (scripts/test-env.mjs: a throwaway PostgreSQL, an
// S3 server, the Python venv with pyarrow and the lakesoul wheel, created when missing), and the native
// Parquet codec and tfjs-node's native backend are built when missing, so a fresh clone needs nothing
// set up beforehand.
// Usage: node bench/run.mjs [name-filter]
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const dir = dirname(fileURLToPath(import.meta.url));
if (process.env.LAKESOUL_TEST_ENV !== '1') {
  const r = spawnSync(process.execPath, [join(dir, '../scripts/test-env.mjs'), '--', process.execPath, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const filter = process.argv[2];
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && !f.startsWith('_') && !f.endsWith('-common.mjs'))
  .filter((f) => !filter || f.includes(filter))
  .sort();

// The native Parquet codec is what io uses when built (every io figure depends on it): build it when
// missing, as the test environment creates the Python venvs (cached after the first build).
if (process.env.LAKESOUL_PARQUET_CODEC !== 'wasm' && !existsSync(join(dir, '../packages/io/native/lakesoul-parquet.node'))) {
  const r = spawnSync(process.execPath, [join(dir, '../scripts/setup-parquet-native.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) console.log('!! the native Parquet codec could not be built: io runs on parquet-wasm (set LAKESOUL_PARQUET_CODEC=wasm to measure parquet-wasm on purpose)');
}
// tfjs-native.mjs measures tfjs-node's native backend, which `pnpm install` leaves unbuilt: link or
// build it (cached across clones: seconds after the first build) when that benchmark is to run.
const setupTf = join(dir, '../scripts/setup-native.mjs');
if (files.includes('tfjs-native.mjs') && spawnSync(process.execPath, [setupTf, '--check'], { stdio: 'ignore' }).status !== 0) {
  const r = spawnSync(process.execPath, [setupTf], { stdio: 'inherit' });
  if (r.status !== 0) console.log("!! tfjs-node's native backend could not be built (output above): tfjs-native.mjs will fail");
}

console.log(`# lakesoul-ts benchmarks  ${new Date().toISOString()}`);
console.log(`# machine: ${os.cpus().length} cpus (${os.cpus()[0]?.model ?? '?'}), node ${process.version}, ${os.platform()} ${os.arch()}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
let failed = 0;
for (const f of files) {
  console.log(`\n## ${f}`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(dir, f)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`!! ${f} exited with ${r.status ?? r.signal}`);
  }
}
process.exit(failed ? 1 : 0);
