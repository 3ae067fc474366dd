#!/usr/bin/env node
// Streaming read() memory against table size (issue 15: "4M and 16M keys read in the same bounded
// memory"). For each size, a one-bucket primary-key table of N keys is written as four base files
// (N/4 keys each) and two upsert layers (every 3rd and every 5th key): six files per split at every
// size, so only the table's size changes. A fresh process then opens the home and streams
// `table.read()` with a 16 MiB prefetch budget, counting rows; it reports its RSS after the open and
// its peak RSS (VmHWM, the whole process: main thread, Parquet workers, wasm); BENCH_ROUNDS (default
// 5) such processes per size, interleaved, and the median is reported (one process's peak moves by
// 20-30 MiB between runs). The baseline is the smallest size's growth, measured in the same run; the
// ratio of each size's growth to it should stay near 1. Files are not rolled (target file size 1 GiB):
// at the default 128 MiB roll, 16M keys made seven files per split (an upsert layer in two), i.e. one
// more source in the merge, whose row groups in flight were counted as growth with table size. The
// child checks the file count.
// Usage: node bench/io-read-memory.mjs [keys,keys,...]   (default 4000000,16000000)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { Lakehouse, toFileUri } from '@lakesoul-ts/io';

const ROW_GROUP = 65_536;
const PREFETCH_BYTES = 16 * 2 ** 20;
const MiB = 2 ** 20;
const FILES_PER_SPLIT = 6;
const WRITE = { rowGroupSize: ROW_GROUP, targetFileSize: 2 ** 30 };
const vmHwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;

function rows(from, n, step, tag) {
  const ids = new BigInt64Array(n);
  const names = new Array(n);
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const id = from + i * step;
    ids[i] = BigInt(id);
    names[i] = `${tag}-${id % 100_000}`;
    scores[i] = id / 3;
  }
  return new Table({ id: makeVector(ids), name: vectorFromArray(names, new Utf8()), score: makeVector(scores) });
}

/** Writes a table of `keys` keys in `chunk`-row pieces (so the writer's memory does not grow with it). */
async function writeLayered(home, keys) {
  const lh = await Lakehouse.open({ catalog: { dataDir: join(home, 'catalog') }, warehouse: toFileUri(join(home, 'warehouse')) });
  try {
    const t = await lh.createTable('layered', rows(0, 1, 1, 's').schema, { primaryKeys: ['id'], hashBucketNum: 1 });
    const quarter = keys / 4;
    for (let q = 0; q < 4; q++) await t.write(rows(q * quarter, quarter, 1, 'base'), WRITE);
    await t.write(rows(0, Math.ceil(keys / 3), 3, 'l1'), WRITE);
    await t.write(rows(0, Math.ceil(keys / 5), 5, 'l2'), WRITE);
  } finally {
    await lh.close();
  }
}

/** The child: open, stream, report. */
async function readChild(home) {
  const lh = await Lakehouse.open({ catalog: { dataDir: join(home, 'catalog') }, warehouse: toFileUri(join(home, 'warehouse')) });
  const t = await lh.table('layered');
  const files = (await t.scan()).splits.map((s) => s.files.length);
  if (files.some((n) => n !== FILES_PER_SPLIT)) throw new Error(`expected ${FILES_PER_SPLIT} files per split, got ${files.join(', ')}`);
  const afterOpen = process.memoryUsage().rss;
  const t0 = performance.now();
  let n = 0;
  for await (const b of t.read({ prefetchBytes: PREFETCH_BYTES })) n += b.numRows;
  const ms = performance.now() - t0;
  const out = { rows: n, ms, afterOpen, peak: vmHwm() };
  await lh.close();
  console.log(JSON.stringify(out));
  process.exit(0);
}

if (process.argv[2] === '--child') {
  await readChild(process.argv[3]);
} else {
  const sizes = (process.argv[2] ?? '4000000,16000000').split(',').map(Number);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const homes = [];
  const results = [];
  try {
    for (const keys of sizes) {
      const home = mkdtempSync(join(tmpdir(), 'lakesoul-readmem-'));
      homes.push(home);
      const w0 = performance.now();
      await writeLayered(home, keys);
      results.push({ keys, writeMs: performance.now() - w0, runs: [] });
    }
    // Fresh reader processes, the sizes interleaved round by round; each figure is the median run's.
    for (let r = 0; r < rounds; r++) {
      for (const [i, x] of results.entries()) {
        const c = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', homes[i]], { encoding: 'utf8', env: { ...process.env, LAKESOUL_CATALOG_SERVER: 'off' } });
        if (c.status !== 0) throw new Error(`reader for ${x.keys} keys exited ${c.status}: ${c.stderr}`);
        const run = JSON.parse(c.stdout.trim().split('\n').pop());
        if (run.rows !== x.keys) throw new Error(`read ${run.rows} rows of ${x.keys} keys`);
        x.runs.push({ ...run, growth: run.peak - run.afterOpen });
      }
    }
  } finally {
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  }
  for (const x of results) {
    const byGrowth = [...x.runs].sort((a, b) => a.growth - b.growth);
    Object.assign(x, byGrowth[Math.floor(byGrowth.length / 2)], { all: byGrowth.map((y) => Math.round(y.growth / MiB)) });
  }
  const base = results[0];
  console.log(`streaming read(), prefetch ${PREFETCH_BYTES / MiB} MiB, row groups of ${ROW_GROUP} rows, ${FILES_PER_SPLIT} files per split; the median of ${rounds} reader processes per size`);
  console.log('keys        write s   read s   RSS after open MiB   peak RSS MiB   growth MiB   growth vs smallest   growth of each run MiB');
  for (const x of results) {
    console.log(`${String(x.keys).padEnd(12)}${(x.writeMs / 1000).toFixed(1).padStart(7)}${(x.ms / 1000).toFixed(1).padStart(9)}` +
      `${(x.afterOpen / MiB).toFixed(0).padStart(21)}${(x.peak / MiB).toFixed(0).padStart(15)}${(x.growth / MiB).toFixed(0).padStart(13)}` +
      `${(x.growth / base.growth).toFixed(2).padStart(20)}x   ${x.all.join(', ')}`);
  }
  const worst = Math.max(...results.map((x) => x.growth / base.growth));
  console.log(`target: peak growth independent of table size (every size <= 1.25x the smallest's): ${worst <= 1.25 ? 'met' : 'NOT met'} (worst ${worst.toFixed(2)}x)`);
}
