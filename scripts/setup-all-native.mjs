#!/usr/bin/env node
// `pnpm setup:native [--check] [--force]`: runs scripts/setup-parquet-native.mjs (the native Parquet
// codec), then scripts/setup-native.mjs (native TensorFlow for tfjs-node / danfojs-node), each with
// this script's arguments. pnpm appends a script's arguments to its last command only, so
// `a && b --check` built the Parquet codec where `--check` asked for a report.
//
// --check runs both reports whatever the first says and exits 1 when either is not ready; otherwise
// a failed Parquet build stops before the TensorFlow one (as `a && b`). --toolchain concerns only the
// Parquet codec's compiler, so only that script runs.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const scripts = args.includes('--toolchain') ? ['setup-parquet-native.mjs'] : ['setup-parquet-native.mjs', 'setup-native.mjs'];
let exitCode = 0;
for (const script of scripts) {
  const r = spawnSync(process.execPath, [join(here, script), ...args], { stdio: 'inherit' });
  const code = r.status ?? 1;
  if (code !== 0) {
    exitCode = code;
    if (!args.includes('--check')) break;
  }
}
process.exit(exitCode);
