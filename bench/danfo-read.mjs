#!/usr/bin/env node
// Benchmark: 1M rows into a Danfo DataFrame.
//   baseline  : new dfd.DataFrame({...plain JS arrays...}, { dtypes }) with the very values the
//               connector produces (what an analyst would do with data already in JS arrays);
//   convert   : toDataFrame(arrowTable) from an in-memory Arrow table (pure conversion overhead);
//   read      : readDataFrame(table) from a LakeSoul table on local disk with the embedded PGlite
//               catalog (Parquet decode + merge + conversion), plus table.toArrow alone for reference.
// Prints medians of N interleaved runs and, per variant, the median over runs of its time divided by
// the baseline's time in the same round.
// Usage: pnpm --filter @lakesoul-ts/connector-danfo build && node bench/danfo-read.mjs [rows] [runs]
import * as A from 'apache-arrow';
import * as danfo from 'danfojs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { toDataFrame, readDataFrame, arrowToColumns } from '@lakesoul-ts/connector-danfo';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const RUNS = Number(process.argv[3] ?? 3);
const dfd = danfo;

function makeTable(n) {
  const ids = new BigInt64Array(n);
  const values = new Float64Array(n);
  const ts = new BigInt64Array(n);
  const flags = new Uint8Array(Math.ceil(n / 8) + 8);
  const keys = new Array(n);
  const names = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa'];
  const t0 = 1_700_000_000_000_000n;
  for (let i = 0; i < n; i++) {
    ids[i] = BigInt(i) * 7919n;
    values[i] = (i % 1000) / 8;
    ts[i] = t0 + BigInt(i) * 1_000_001n;
    if (i % 3 === 0) flags[i >> 3] |= 1 << (i & 7);
    keys[i] = names[i % 10];
  }
  const schema = new A.Schema([
    new A.Field('id', new A.Int64(), false),
    new A.Field('key', new A.Utf8(), true),
    new A.Field('value', new A.Float64(), true),
    new A.Field('at', new A.Timestamp(A.TimeUnit.MICROSECOND, 'UTC'), true),
    new A.Field('flag', new A.Bool(), true),
  ]);
  const children = [
    A.makeData({ type: new A.Int64(), length: n, nullCount: 0, data: ids }),
    A.vectorFromArray(keys, new A.Utf8()).data[0],
    A.makeData({ type: new A.Float64(), length: n, nullCount: 0, data: values }),
    A.makeData({ type: schema.fields[3].type, length: n, nullCount: 0, data: ts }),
    A.makeData({ type: new A.Bool(), length: n, nullCount: 0, data: flags }),
  ];
  // Batches of 8192 rows, like a scan yields.
  const whole = A.makeData({ type: new A.Struct(schema.fields), length: n, nullCount: 0, children });
  const batches = [];
  for (let o = 0; o < n; o += 8192) batches.push(new A.RecordBatch(schema, whole.slice(o, Math.min(8192, n - o))));
  return new A.Table(schema, batches);
}

async function time(fn) {
  const t = performance.now();
  const out = await fn();
  return [performance.now() - t, out];
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Variants run interleaved (one run of each per round) so that load changes on a shared machine hit
// all of them alike; only the shape of each result is kept, so results do not weigh on later GCs.
async function measureAll(variants) {
  const times = variants.map(() => []);
  const shapes = [];
  for (let r = 0; r < RUNS; r++) {
    for (const [i, [, fn]] of variants.entries()) {
      globalThis.gc?.();
      const [t, o] = await time(fn);
      times[i].push(t);
      shapes[i] = o.shape ?? [o.numRows, o.numCols ?? o.names?.length];
    }
  }
  return variants.map(([label], i) => ({ label, ms: median(times[i]), all: times[i], shape: shapes[i] }));
}

const table = makeTable(ROWS);
// The plain JS arrays of the baseline: exactly the values the connector puts in the frame.
const plain = arrowToColumns(table);
const plainObj = Object.fromEntries(plain.names.map((n, j) => [n, plain.columns[j]]));

const variants = [
  ['baseline: new DataFrame(plain JS arrays)', () => new dfd.DataFrame(plainObj, { dtypes: plain.dtypes })],
  ['convert: toDataFrame(in-memory Arrow)', () => toDataFrame(table, { dfd })],
  ['  of which Arrow -> JS arrays (arrowToColumns)', () => arrowToColumns(table)],
];

let io;
try {
  io = await import('@lakesoul-ts/io');
} catch (e) {
  console.log(`(table read skipped: @lakesoul-ts/io not loadable: ${e.message})`);
}
let dir;
let lake;
if (io && typeof io.Lakehouse?.open === 'function') {
  dir = await mkdtemp(join(tmpdir(), 'danfo-bench-'));
  lake = await io.Lakehouse.open({ warehouse: pathToFileURL(join(dir, 'warehouse')).href, catalog: { dataDir: join(dir, 'catalog'), env: {} } });
  const t = await lake.createTable('bench_read', table.schema, {});
  await t.write(table, { mode: 'append' });
  variants.push(['read: table.toArrow() (Parquet -> Arrow only)', () => t.toArrow()]);
  variants.push(['read: readDataFrame(table)', () => readDataFrame(t, { dfd })]);
}
let results;
try {
  results = await measureAll(variants);
} finally {
  await lake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}

// Ratio: median over rounds of (variant / baseline of the same round).
const ratio = (r) => median(r.all.map((t, i) => t / results[0].all[i]));
console.log(`danfo-read: ${ROWS} rows x 5 columns (int64, utf8, float64, timestamp[us, UTC], bool); median of ${RUNS}; ${cpus().length} x ${cpus()[0]?.model}; node ${process.version}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
for (const r of results) {
  console.log(`${r.label.padEnd(52)} ${r.ms.toFixed(0).padStart(7)} ms   ratio ${ratio(r).toFixed(2)}x   runs ${r.all.map((x) => x.toFixed(0)).join('/')}`);
}
for (const r of results) {
  if (r.shape[0] !== ROWS || r.shape[1] !== 5) throw new Error(`${r.label}: unexpected result shape ${r.shape}`);
}
