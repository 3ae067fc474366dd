/**
 * A PySpark environment for the hash cross-check, kept apart from the shared test venv (.venv) so
 * that its ~430 MB download does not rebuild everyone's venv: node_modules/.cache/lakesoul-interop/
 * spark-venv, created on first use from PyPI (pyspark, pinned) and reused while the pin is unchanged.
 * Spark runs on the machine's Java 17, in local mode, on the loopback interface only.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The PySpark release the cross-check and the lakesoul_ts Spark source run against (4.1: the first
 * with filter pushdown into Python data sources).
 */
export const PYSPARK_REQUIREMENT = 'pyspark==4.1.4';
/** What else the venv holds: the Arrow and pandas the Spark source and PySpark's Arrow path use. */
const EXTRA_REQUIREMENTS = ['pyarrow==20.0.0', 'pandas==2.3.3'];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const venv = join(root, 'node_modules/.cache/lakesoul-interop/spark-venv');
/** The lakesoul_ts Python package (Spark data source), installed editable so edits need no reinstall. */
export const CLIENTS_PYTHON = join(root, 'clients/python');
/** Spark SQL hash driver. */
export const SPARK_HASH_PY = join(root, 'e2e/interop/spark_hash.py');

function run(cmd: string, args: string[], timeoutMs: number, env?: Record<string, string>): Promise<string> {
  return new Promise((res, rej) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      if (error) rej(new Error(`'${cmd} ${args.join(' ')}' failed: ${error.message}\n${stdout}\n${stderr}`));
      else res(stdout);
    });
  });
}

/**
 * The PySpark venv's python, creating the venv when missing or pinned differently. Fails (with the
 * pip output) when PyPI or Java is unavailable: the cross-check is part of the suite, not optional.
 */
export async function sparkPython(): Promise<string> {
  const py = join(venv, 'bin/python');
  const stamp = join(venv, '.lakesoul-interop-requirement');
  const want = [PYSPARK_REQUIREMENT, ...EXTRA_REQUIREMENTS, `-e ${CLIENTS_PYTHON}`].join('\n');
  if (existsSync(py) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want) return py;
  mkdirSync(dirname(venv), { recursive: true });
  const base = process.env.PYTHON ?? 'python3';
  if (!existsSync(py)) await run(base, ['-m', 'venv', '--clear', venv], 120_000);
  const pip = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check'];
  await run(py, [...pip, PYSPARK_REQUIREMENT, ...EXTRA_REQUIREMENTS], 900_000);
  await run(py, [...pip, '--no-deps', '-e', CLIENTS_PYTHON], 300_000);
  writeFileSync(stamp, want + '\n');
  return py;
}

/** Runs spark_hash.py; see there. */
export async function sparkHash(py: string, args: { input: string; keys: string[][]; output: string }): Promise<void> {
  await run(py, [SPARK_HASH_PY, JSON.stringify(args)], 600_000, { PYSPARK_PYTHON: py, SPARK_LOCAL_IP: '127.0.0.1' });
}
