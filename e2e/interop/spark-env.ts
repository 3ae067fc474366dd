/**
 * A PySpark environment for the hash cross-check, kept apart from the shared test venv (.venv) so
 * that its ~430 MB download does not rebuild everyone's venv: node_modules/.cache/lakesoul-interop/
 * spark-venv, created on first use from PyPI (pyspark, pinned) and reused while the pin is unchanged.
 * Spark runs on the machine's Java 17, in local mode, on the loopback interface only.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSparkVenv, runCommand } from '../../scripts/python-envs.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Spark SQL hash driver. */
export const SPARK_HASH_PY = join(root, 'e2e/interop/spark_hash.py');

/**
 * The PySpark venv's python, creating the venv when missing or pinned differently
 * (scripts/python-envs.mjs). Fails (with the pip output) when PyPI or Java is unavailable: the
 * cross-check is part of the suite, not optional.
 */
export function sparkPython(): Promise<string> {
  return ensureSparkVenv();
}

/** Runs spark_hash.py; see there. */
export async function sparkHash(py: string, args: { input: string; keys: string[][]; output: string }): Promise<void> {
  await runCommand(py, [SPARK_HASH_PY, JSON.stringify(args)], 600_000, { PYSPARK_PYTHON: py, SPARK_LOCAL_IP: '127.0.0.1' });
}
