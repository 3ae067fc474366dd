#!/usr/bin/env node
// What a table's history costs the reads of its latest state: a table of `long` one-row upsert commits
// against one of `short` commits, both compacted at the end (so their latest states are alike: one
// file), measured in the same run on the embedded catalog. Before compaction each version's snapshot
// lists every commit in force, so the history holds long^2 / 2 commit ids. Printed per operation: the
// time on each and the ratio long / short. Planning the latest snapshot, listing partitions and an
// incremental read of the last commits should not grow with the history (ratio near 1: the latest
// version of each partition is picked before any snapshot is read); `history` of the newest 100
// commits reads those versions' snapshots, which list up to `long` commits each. Before (2026-12-03, 10,000 commits): planning 27 s,
// incremental read 106 s and 4 GB. Last, cleanup's catalog read keeping every version, and with the
// commit rows left committed=false, as LakeSoul-Python writes them.
// Usage: node bench/catalog-history.mjs [long] [short] [runs]   (packages must be built: `pnpm build`)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Lakehouse } from '@lakesoul-ts/io';

const long = Number(process.argv[2] ?? 1000);
const short = Number(process.argv[3] ?? 20);
const runs = Number(process.argv[4] ?? 5);
const root = mkdtempSync(join(tmpdir(), 'lakesoul-bench-history-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function tableOf(lake, name, commits) {
  const t = await lake.createTable(name, [{ id: 0n, v: 0 }], { primaryKeys: ['id'], hashBucketNum: 1 });
  for (let i = 1; i < commits; i++) await t.write([{ id: BigInt(i % 50), v: i }], { mode: 'upsert' });
  await t.compact();
  return t;
}

async function timed(fn) {
  const samples = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

try {
  const lake = await Lakehouse.open({ catalog: { dataDir: join(root, 'catalog') }, warehouse: pathToFileURL(join(root, 'warehouse')).href });
  try {
    const t0 = performance.now();
    const tables = { short: await tableOf(lake, 'short', short), long: await tableOf(lake, 'long', long) };
    console.log(`catalog-history: ${short} and ${long} commits written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const ops = {
      'plan the latest snapshot (scan)': (t) => t.scan(),
      'list partitions': (t) => lake.catalog.listPartitions(t.info.tableId),
      'incremental read of the last 10 commits (the compaction among them)': async (t) => {
        const times = [...new Set((await t.history({ commits: 11 })).map((h) => h.timestamp))].sort((a, b) => a - b);
        await t.toArrow({ incremental: { start: times[0] + 1, end: Date.now() } }); // (an end later than now is refused)
      },
      'history of the newest 100 commits': (t) => t.history({ commits: 100 }),
    };
    const measure = async (name, op) => {
      const s = await timed(() => op(tables.short));
      const l = await timed(() => op(tables.long));
      console.log(`${name}: ${short} commits ${s.toFixed(1)} ms, ${long} commits ${l.toFixed(1)} ms, ratio ${(l / s).toFixed(2)}x`);
    };
    for (const [name, op] of Object.entries(ops)) await measure(name, op);
    // Cleanup's catalog read (the files commits name, and those the versions in force keep) when the
    // commit rows stay committed=false, as LakeSoul-Python leaves them: whether a commit counts as
    // committed is then decided from the snapshots, whose lengths grow with the history (before
    // 2026-12-05: 3.7 s for 1,000 such commits on this catalog, 10.8 s for 2,000 on PostgreSQL).
    for (const t of Object.values(tables)) {
      await lake.catalog.driver.query('UPDATE data_commit_info SET committed = false WHERE table_id = $1', [t.info.tableId]);
    }
    // A cleanup whose retention covers the whole history keeps every version: their files are the
    // distinct commits' (before 2026-12-05 every version was resolved, 3.7 s for 2,000 commits).
    await measure("cleanup's catalog read keeping every version", async (t) => {
      const sets = await lake.catalog.tableFileSets(t.info.tableId, 0);
      if (sets.referenced.length < (t === tables.long ? long : short)) throw new Error(`only ${sets.referenced.length} files referenced`);
    });
    await measure("cleanup's catalog read, commit rows left uncommitted (LakeSoul-Python's)", async (t) => {
      const sets = await lake.catalog.tableFileSets(t.info.tableId, Date.now());
      if (sets.committed.length < (t === tables.long ? long : short)) throw new Error(`only ${sets.committed.length} files taken for committed`);
    });
  } finally {
    await lake.close();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
