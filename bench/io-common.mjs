// Shared helpers of the io benchmarks (not a benchmark itself: run.mjs skips *-common.mjs).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog } from '@lakesoul-ts/meta';
import { Lakehouse, StoreRegistry, toFileUri } from '@lakesoul-ts/io';

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

/** Seeded PRNG (mulberry32). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const fmt = (n, d = 1) => n.toFixed(d);
