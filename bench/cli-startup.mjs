#!/usr/bin/env node
// Start-up of the `lakesoul-ts` command (issue 13 §2), spawned as a person runs it, against the
// baseline `node -e ''` measured in the same run. Targets: a fresh `init` <= 3 s; metadata commands
// (table list, table describe, history) <= 0.5 s median on the embedded catalog.
// Each metadata command is measured twice: opening the catalog in the command itself
// (LAKESOUL_CATALOG_SERVER=off) and through the background catalog server that a command on an embedded
// home leaves behind (the default: packages/cli/src/catalog-daemon.ts).
// Usage: node bench/cli-startup.mjs [runs]   (packages/cli must be built: `pnpm build`)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
// The same command unbundled: tsc's output, each module loaded by Node (packages/cli/scripts/bundle-bin.mjs).
const unbundled = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const runs = Number(process.argv[2] ?? 7);
const root = mkdtempSync(join(tmpdir(), 'lakesoul-startup-'));

const direct = { ...process.env, LAKESOUL_CATALOG_SERVER: 'off' };
const served = { ...process.env, LAKESOUL_CATALOG_SERVER: 'auto' };

function timed(args, env = direct) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const series = (args, env = direct, n = runs) => median(Array.from({ length: n }, () => timed(args, env)));

try {
  const baseline = series(['-e', '']);
  // A fresh home each time: what a new user's first command costs.
  const initRuns = Math.max(3, Math.floor(runs / 2));
  const inits = Array.from({ length: initRuns }, (_, i) => timed([bin, '--home', join(root, `fresh-${i}`), 'init']));
  // The same without the shipped catalog image (initdb + the catalog's DDL), for the ratio.
  const slowInits = Array.from({ length: initRuns }, (_, i) => timed([bin, '--home', join(root, `slow-${i}`), 'init'], { ...direct, LAKESOUL_TS_NO_CATALOG_IMAGE: '1' }));
  const home = join(root, 'home');
  const g = [bin, '--home', home];
  timed([...g, 'init']);
  timed([...g, 'table', 'create', 'events', '--schema', 'id:int64!,date:utf8!,v:float64', '--partition-by', 'date', '--primary-key', 'id', '--buckets', '2']);
  const csv = join(root, 'events.csv');
  writeFileSync(csv, 'id,date,v\n' + Array.from({ length: 1000 }, (_, i) => `${i},2024-01-0${(i % 3) + 1},${i / 7}`).join('\n') + '\n');
  timed([...g, 'import', 'events', csv, '--mode', 'upsert']);
  // What opening the embedded catalog costs by itself: import @lakesoul-ts/meta and open PGlite on
  // the home's catalog, in a bare node process; once with the driver's settings (8 MB shared buffers,
  // 3 connection slots) and once with PostgreSQL's defaults (what every open used before), the
  // baseline of that change. Each child reports its CPU time (user + system, less sensitive to a
  // busy machine than wall time) and its RSS once open.
  const catalogDir = JSON.stringify(join(home, 'catalog'));
  const report = 'const c = process.cpuUsage(); console.log(JSON.stringify({ cpu: (c.user + c.system) / 1000, rss: process.memoryUsage().rss / 2 ** 20, openMs }));';
  const openOnly = (settings) => `const { PGliteDriver } = await import('@lakesoul-ts/meta'); const t0 = performance.now(); const d = await PGliteDriver.open({ dataDir: ${catalogDir}, settings: ${JSON.stringify(settings)} }); const openMs = performance.now() - t0; ${report} await d.close(); process.exit(0);`;
  const lakehouseOpen = `const { Lakehouse } = await import('@lakesoul-ts/io'); const t0 = performance.now(); const l = await Lakehouse.open({ catalog: { dataDir: ${catalogDir} } }); const openMs = performance.now() - t0; ${report} await l.close(); process.exit(0);`;
  const importOnly = `await import('@lakesoul-ts/meta'); const openMs = 0; ${report} process.exit(0);`;
  const benchDir = fileURLToPath(new URL('.', import.meta.url));
  const inBench = (code, env = {}) => {
    const samples = Array.from({ length: runs }, () => {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: benchDir, encoding: 'utf8', env: { ...direct, ...env } });
      if (r.status !== 0) throw new Error(r.stderr);
      return { wall: performance.now() - t0, ...JSON.parse(r.stdout.trim().split('\n').pop()) };
    });
    return { wall: median(samples.map((x) => x.wall)), cpu: median(samples.map((x) => x.cpu)), rss: median(samples.map((x) => x.rss)), openMs: median(samples.map((x) => x.openMs)) };
  };
  const metaImport = inBench(importOnly);
  const pgliteOpen = inBench(openOnly({}));
  // PGlite's module is compiled by V8's baseline tier only (meta's pglite-module.ts); the same open
  // with V8's default tiering, in the same run.
  const pgliteTiered = inBench(openOnly({}), { LAKESOUL_PGLITE_TIERING: 'default' });
  const pgliteDefaults = inBench(openOnly({ shared_buffers: '128MB', max_connections: '100', autovacuum_worker_slots: '16', max_wal_senders: '10', max_replication_slots: '10' }));
  const lakehouse = inBench(lakehouseOpen);
  // The same commands and Lakehouse.open with the background catalog server up: one command starts
  // it; wait until it answers.
  timed([...g, 'table', 'list'], served);
  for (let i = 0; i < 200 && !/process \d+/.test(spawnSync(process.execPath, [...g, 'catalog-server', '--status'], { encoding: 'utf8' }).stdout); i++) {
    spawnSync('sleep', ['0.05']);
  }
  const lakehouseServed = inBench(lakehouseOpen, { LAKESOUL_CATALOG_SERVER: 'auto' });
  const servedRows = [
    ['table list', series([...g, 'table', 'list'], served)],
    ['table describe', series([...g, 'table', 'describe', 'events'], served)],
    ['history', series([...g, 'history', 'events'], served)],
    ['head -l 5', series([...g, 'head', 'events', '-l', '5'], served)],
  ];
  // What bundling the command saves each run: the bundle against tsc's modules, same commands.
  const u = [unbundled, '--home', home];
  const bundleRows = [
    ['--help', series([bin, '--help'], served), series([unbundled, '--help'], served)],
    ['table list', series([...g, 'table', 'list'], served), series([...u, 'table', 'list'], served)],
    ['head -l 5', series([...g, 'head', 'events', '-l', '5'], served), series([...u, 'head', 'events', '-l', '5'], served)],
  ];
  timed([...g, 'catalog-server', '--stop']);
  const du = (dir) => Number(spawnSync('du', ['-sk', dir], { encoding: 'utf8' }).stdout.split('\t')[0]) / 1024;
  console.log('in-process figures (median): wall ms / CPU ms (user+sys) / RSS MiB after open / the open call alone, ms');
  for (const [name, x] of [['import @lakesoul-ts/meta', metaImport], ['  + PGliteDriver.open (existing)', pgliteOpen],
    ['  same, V8 default tiering', pgliteTiered], ['  same, PostgreSQL defaults', pgliteDefaults], ['Lakehouse.open (existing)', lakehouse],
    ['Lakehouse.open (catalog server up)', lakehouseServed]]) {
    console.log(`${name.padEnd(34)}${x.wall.toFixed(0).padStart(7)}${x.cpu.toFixed(0).padStart(7)}${x.rss.toFixed(0).padStart(7)}${x.openMs.toFixed(0).padStart(7)}`);
  }
  console.log(`PGliteDriver.open CPU vs PostgreSQL defaults: ${(pgliteOpen.cpu / pgliteDefaults.cpu).toFixed(2)}x; RSS ${(pgliteOpen.rss / pgliteDefaults.rss).toFixed(2)}x`);
  console.log(`PGliteDriver.open, baseline tier vs V8 default tiering: wall ${(pgliteOpen.wall / pgliteTiered.wall).toFixed(2)}x, CPU ${(pgliteOpen.cpu / pgliteTiered.cpu).toFixed(2)}x; RSS ${(pgliteOpen.rss / pgliteTiered.rss).toFixed(2)}x`);
  console.log(`catalog on disk: fresh home (image) ${du(join(root, 'fresh-0', 'catalog')).toFixed(1)} MiB; without the image ${du(join(root, 'slow-0', 'catalog')).toFixed(1)} MiB; after the commands above ${du(join(home, 'catalog')).toFixed(1)} MiB`);
  const rows = [
    ['node -e \'\' (baseline)', baseline],
    ['import @lakesoul-ts/meta', metaImport.wall],
    ['  + open PGlite (existing)', pgliteOpen.wall],
    ['lakesoul-ts --version', series([bin, '--version'])],
    ['init (fresh home)', median(inits)],
    ['init without the image', median(slowInits)],
    ['table list', series([...g, 'table', 'list'])],
    ['table describe', series([...g, 'table', 'describe', 'events'])],
    ['history', series([...g, 'history', 'events'])],
    ['head -l 5', series([...g, 'head', 'events', '-l', '5'])],
  ];
  console.log(`runs per command: ${runs} (init: ${inits.length}); median wall time`);
  const print = (title, table) => {
    console.log(`${title}:`);
    console.log(`${'command'.padEnd(28)}median ms   x baseline   minus baseline`);
    for (const [name, ms] of table) {
      console.log(`${name.padEnd(28)}${ms.toFixed(0).padStart(9)}   ${(ms / baseline).toFixed(1).padStart(10)}   ${(ms - baseline).toFixed(0).padStart(14)}`);
    }
  };
  print('catalog opened by the command', rows);
  print('through the catalog server', servedRows);
  console.log('the bundled command (dist/bin.js) vs the unbundled modules (dist/main.js), through the catalog server:');
  console.log(`${'command'.padEnd(28)}bundled ms   unbundled ms   bundled / unbundled`);
  for (const [name, b, m] of bundleRows) console.log(`${name.padEnd(28)}${b.toFixed(0).padStart(10)}   ${m.toFixed(0).padStart(12)}   ${(b / m).toFixed(2).padStart(19)}`);
  const met = (table) => ['table list', 'table describe', 'history'].every((n) => table.find((r) => r[0] === n)[1] <= 500) ? 'met' : 'NOT met';
  console.log(`targets: init <= 3000 ms: ${rows.find((r) => r[0] === 'init (fresh home)')[1] <= 3000 ? 'met' : 'NOT met'}; ` +
    `list/describe/history <= 500 ms: ${met(servedRows)} through the catalog server, ${met(rows)} when each command opens the catalog`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
