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

/** The PySpark release the cross-check runs against. */
export const PYSPARK_REQUIREMENT = 'pyspark==4.0.1';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const venv = join(root, 'node_modules/.cache/lakesoul-interop/spark-venv');
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
  if (existsSync(py) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === PYSPARK_REQUIREMENT) return py;
  mkdirSync(dirname(venv), { recursive: true });
  const base = process.env.PYTHON ?? 'python3';
  await run(base, ['-m', 'venv', '--clear', venv], 120_000);
  await run(py, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', PYSPARK_REQUIREMENT], 900_000);
  writeFileSync(stamp, PYSPARK_REQUIREMENT + '\n');
  return py;
}

/** Runs spark_hash.py; see there. */
export async function sparkHash(py: string, args: { input: string; keys: string[][]; output: string }): Promise<void> {
  await run(py, [SPARK_HASH_PY, JSON.stringify(args)], 600_000, { PYSPARK_PYTHON: py, SPARK_LOCAL_IP: '127.0.0.1' });
}
