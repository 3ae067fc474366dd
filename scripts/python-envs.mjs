// The Python environments the tests and benchmarks run with, created on first use from PyPI and
// reused while their pins are unchanged. Used by scripts/test-env.mjs, e2e/interop/spark-env.ts and
// bench/ (so `pnpm bench` on a fresh clone creates what it needs instead of failing).
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Base interpreter for new venvs: $PYTHON or python3 (checked to be >= 3.9 with the venv module). */
function basePython() {
  const python = process.env.PYTHON ?? 'python3';
  const probe = spawnSync(python, ['-c', 'import sys, venv; print(sys.version_info[:2] >= (3, 9))'], { encoding: 'utf8' });
  if (probe.status !== 0 || probe.stdout.trim() !== 'True') {
    throw new Error(`Python >= 3.9 with the venv module is needed for the cross-language tests and benchmarks (tried '${python}'). ` +
      `Install it (Debian: apt-get install -y python3 python3-venv) or set PYTHON to an interpreter.`);
  }
  return python;
}

/**
 * The test venv's python (.venv: pyarrow, moto, the lakesoul wheel; pins in
 * e2e/python/requirements.txt), created or refreshed when the requirements change.
 */
export function ensureTestVenv() {
  const req = join(ROOT, 'e2e/python/requirements.txt');
  const venv = join(ROOT, '.venv');
  const py = join(venv, 'bin/python');
  const stamp = join(venv, '.requirements.sha256');
  const want = createHash('sha256').update(readFileSync(req)).digest('hex');
  if (existsSync(py) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want) return py;
  console.error(`[python-envs] creating or updating the Python test environment in .venv (${req}) ...`);
  // An existing venv is updated in place (pip installs the new pins over the old ones) rather than
  // cleared: clearing it under a test run that is using it breaks that run.
  const steps = [
    ...(existsSync(py) ? [] : [[basePython(), ['-m', 'venv', venv]]]),
    [py, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', req]],
  ];
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`'${cmd} ${args.join(' ')}' failed (exit ${r.status}); the Python test environment needs PyPI access.`);
  }
  writeFileSync(stamp, want + '\n');
  return py;
}

/**
 * The PySpark release the Spark tests and the Spark benchmark run against (4.1: the first with
 * filter pushdown into Python data sources).
 */
export const PYSPARK_REQUIREMENT = 'pyspark==4.1.4';
/** What else the PySpark venv holds: the Arrow and pandas the Spark source and PySpark's Arrow path use. */
const SPARK_EXTRA_REQUIREMENTS = ['pyarrow==20.0.0', 'pandas==2.3.3'];
/** The lakesoul_ts Python package (Spark data source), installed editable so edits need no reinstall. */
export const CLIENTS_PYTHON = join(ROOT, 'clients/python');

/** Runs a command, resolving with its stdout; a failure rejects with the command, stdout and stderr. */
export function runCommand(cmd, args, timeoutMs, env) {
  return new Promise((res, rej) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      if (error) rej(new Error(`'${cmd} ${args.join(' ')}' failed: ${error.message}\n${stdout}\n${stderr}`));
      else res(stdout);
    });
  });
}

/**
 * The PySpark venv's python (node_modules/.cache/lakesoul-interop/spark-venv, kept apart from .venv
 * so that its ~430 MB download does not rebuild everyone's venv), created when missing or pinned
 * differently. Fails (with the pip output) when PyPI is unavailable.
 */
export async function ensureSparkVenv() {
  const venv = join(ROOT, 'node_modules/.cache/lakesoul-interop/spark-venv');
  const py = join(venv, 'bin/python');
  const stamp = join(venv, '.lakesoul-interop-requirement');
  const want = [PYSPARK_REQUIREMENT, ...SPARK_EXTRA_REQUIREMENTS, `-e ${CLIENTS_PYTHON}`].join('\n');
  if (existsSync(py) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want) return py;
  mkdirSync(dirname(venv), { recursive: true });
  if (!existsSync(py)) await runCommand(basePython(), ['-m', 'venv', '--clear', venv], 120_000);
  const pip = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check'];
  await runCommand(py, [...pip, PYSPARK_REQUIREMENT, ...SPARK_EXTRA_REQUIREMENTS], 900_000);
  await runCommand(py, [...pip, '--no-deps', '-e', CLIENTS_PYTHON], 300_000);
  writeFileSync(stamp, want + '\n');
  return py;
}
