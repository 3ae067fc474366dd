// Shared helpers of the io benchmarks (not a benchmark itself: run.mjs skips *-common.mjs).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog } from '@lakesoul-ts/meta';
import { Lakehouse, StoreRegistry, toFileUri, closeSharedParquetPool, PARQUET_THREADS_ENV } from '@lakesoul-ts/io';

/** A lakehouse on an in-memory PGlite catalog and a temp directory. */
export async function benchLakehouse(registryOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-bench-'));
  const catalog = await Catalog.open({ dataDir: ':memory:' });
  const stores = new StoreRegistry(registryOptions);
  const lh = await Lakehouse.open({ catalog, stores, warehouse: toFileUri(dir) });
  return {
    lh,
    dir,
    async close() {
      await catalog.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs fn `runs` times (after one warm-up) and returns the median ms. */
export async function medianMs(fn, runs = 3, warmup = 1) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    globalThis.gc?.();
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export { prng } from '@lakesoul-ts/meta/testing/prng';

export const fmt = (n, d = 1) => n.toFixed(d);

/**
 * Runs the variants interleaved for `rounds` rounds (after one warm-up round) and returns, per
 * variant, the median ms, plus the median over rounds of each variant's time relative to the first
 * one (ratios taken within a round are robust to load changes between rounds).
 */
export async function interleaved(variants, rounds = 5) {
  for (const v of variants) await v.run();
  const times = variants.map(() => []);
  const ratios = variants.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const t = [];
    for (const v of variants) {
      globalThis.gc?.();
      const t0 = performance.now();
      await v.run();
      t.push(performance.now() - t0);
    }
    t.forEach((x, i) => {
      times[i].push(x);
      ratios[i].push(x / t[0]);
    });
  }
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  return variants.map((v, i) => ({ name: v.name, ms: med(times[i]), ratio: med(ratios[i]) }));
}

/**
 * Runs `fn` with Parquet work on the calling thread (no worker pool): the shared pool reads
 * LAKESOUL_PARQUET_THREADS when it is created, so it is closed around `fn`. The pool's next use starts
 * its workers again (a cost that lands on the pool variant's timing).
 */
export async function oneThread(fn) {
  process.env[PARQUET_THREADS_ENV] = '0';
  await closeSharedParquetPool();
  try {
    await fn();
  } finally {
    delete process.env[PARQUET_THREADS_ENV];
    await closeSharedParquetPool();
  }
}

/**
 * What the benchmarks against the `lakesoul` wheel need from bench/run.mjs's test environment: the
 * PostgreSQL URL, the venv's Python and the wheel's environment (upstream's LAKESOUL_PG_* variables
 * for the same catalog). Exits with a message naming `bench` when they are missing.
 */
export function wheelPeerEnv(bench) {
  const pgUrl = process.env.LAKESOUL_TEST_PG_URL;
  const python = process.env.LAKESOUL_TEST_PYTHON;
  if (!pgUrl || !python) {
    console.error(`${bench} needs PostgreSQL and the Python venv (LAKESOUL_TEST_PG_URL, LAKESOUL_TEST_PYTHON): run it through bench/run.mjs (pnpm bench), which provides them`);
    process.exit(1);
  }
  const u = new URL(pgUrl);
  const wheelEnv = {
    ...process.env,
    LAKESOUL_PG_URL: `jdbc:postgresql://${u.host}${u.pathname}`,
    LAKESOUL_PG_USERNAME: decodeURIComponent(u.username),
    LAKESOUL_PG_PASSWORD: decodeURIComponent(u.password),
    RUST_BACKTRACE: '0',
  };
  return { pgUrl, python, wheelEnv };
}

/** `n` distinct keys in [0, below) drawn from `rnd` (LanceDB's mergeInsert refuses a source holding a key twice). */
export function distinctKeys(rnd, n, below) {
  const seen = new Set();
  while (seen.size < n) seen.add(Math.floor(rnd() * below));
  return [...seen];
}
