// Write, upsert, compaction and cleanup against the peers, measured in the same run:
//   - the `lakesoul` wheel (LakeSoul's Rust core, in the test venv) on one writer thread, on the same
//     PostgreSQL catalog (bench/lakesoul_wheel_write.py, its own timing, a fresh process per round);
//   - LanceDB's TypeScript SDK (`@lancedb/lancedb`, native; createTable, mergeInsert on `id`,
//     optimize) on local disk.
// Data: 1M rows (id int64 PK, 4 buckets; name utf8; score float64), then an upsert of 100k random
// keys; the same with string keys (`key-00000042`, write and upsert); 200k rows in 200 range
// partitions (1 bucket each), then an upsert of 20k keys across them (the wheel only: LanceDB has no
// range partitions); for compaction, the 1M rows plus 10 upsert layers of 100k. Fresh tables every round; medians
// of interleaved rounds. Ratios are this project / peer (time: <= 1.0 meets the target; bytes: <= 1.05).
// Needs PostgreSQL and the Python venv: bench/run.mjs runs every benchmark inside scripts/test-env.mjs.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Field, Float64, Int64, Schema, Table, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import * as A18 from 'apache-arrow-18';
import * as lancedb from '@lancedb/lancedb';
import { Catalog } from '@lakesoul-ts/meta';
import { Lakehouse } from '@lakesoul-ts/io';
import { distinctKeys, fmt, prng, wheelPeerEnv } from './io-common.mjs';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LAYERS = 10;
const BUCKETS = 4;
const { pgUrl, python, wheelEnv } = wheelPeerEnv('io-write-peers');

const schema = new Schema([new Field('id', new Int64(), false), new Field('name', new Utf8(), true), new Field('score', new Float64(), true)]);
const schemaStr = new Schema([new Field('id', new Utf8(), false), ...schema.fields.slice(1)]);
/** The rows of keys `ids` (names tagged with `tag`; string keys `key-00000042`), as an apache-arrow 21 table and as plain columns. */
function rows(ids, tag, stringKeys = false) {
  const id = stringKeys ? Array.from(ids, (x) => `key-${String(x).padStart(8, '0')}`) : BigInt64Array.from(ids, (x) => BigInt(x));
  const cols = { id, name: Array.from(ids, (x) => `${tag}-${x}`), score: Float64Array.from(ids, (x) => x * 0.5) };
  const table = new Table({ id: vectorFromArray(cols.id, stringKeys ? new Utf8() : new Int64()), name: vectorFromArray(cols.name, new Utf8()), score: vectorFromArray(cols.score, new Float64()) });
  return { table, lance: A18.tableFromArrays(cols) };
}
const rnd = prng(7);
const baseIds = Array.from({ length: N }, (_, i) => i);
const base = rows(baseIds, 'base');
const layerIds = Array.from({ length: LAYERS }, () => distinctKeys(rnd, N / LAYERS, N));
const layers = layerIds.map((ids, l) => rows(ids, `l${l}`));

const dir = mkdtempSync(join(tmpdir(), 'write-peers-bench-'));
/** A write-and-upsert case: its schema, rows, and the same rows as Arrow IPC files for the wheel. */
function writeCase(name, tableSchema, baseRows, upsertRows) {
  const ipc = { base: join(dir, `${name}-base.arrow`), upsert: join(dir, `${name}-upsert.arrow`) };
  writeFileSync(ipc.base, tableToIPC(baseRows.table, 'file'));
  writeFileSync(ipc.upsert, tableToIPC(upsertRows.table, 'file'));
  return { schema: tableSchema, base: baseRows, upsert: upsertRows, ipc };
}
const PARTS = 200;
const schemaPart = new Schema([...schema.fields, new Field('day', new Utf8(), false)]);
/** The rows of keys `ids` with a range-partition column `day` (`d000`..`d199`, by key). */
function partRows(ids, tag) {
  const r = rows(ids, tag);
  const day = Array.from(ids, (x) => `d${String(x % PARTS).padStart(3, '0')}`);
  return { table: r.table.assign(new Table({ day: vectorFromArray(day, new Utf8()) })), lance: null };
}
const partIds = Array.from({ length: N / 5 }, (_, i) => i);
const cases = {
  int: writeCase('int', schema, base, layers[0]),
  str: writeCase('str', schemaStr, rows(baseIds, 'base', true), rows(layerIds[0], 'l0', true)),
  part: { ...writeCase('part', schemaPart, partRows(partIds, 'base'), partRows(distinctKeys(rnd, N / 50, N / 5), 'up')), partitionBy: ['day'], buckets: 1 },
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const catalog = await Catalog.open({ url: pgUrl });
const lake = await Lakehouse.open({ catalog, warehouse: pathToFileURL(join(dir, 'ours')).href });
const db = await lancedb.connect(join(dir, 'lance'));
let k = 0;
const timed = async (fn) => {
  globalThis.gc?.();
  const t0 = performance.now();
  const r = await fn();
  return { ms: performance.now() - t0, r };
};

const sides = {
  async ours(c) {
    const t = await lake.createTable(`ours_${k++}`, c.schema, { primaryKeys: ['id'], hashBucketNum: c.buckets ?? BUCKETS, rangePartitions: c.partitionBy ?? [] });
    const w = await timed(() => t.write(c.base.table));
    const up = await timed(() => t.write(c.upsert.table));
    return { writeMs: w.ms, upsertMs: up.ms, bytes: w.r.files.reduce((s, f) => s + Number(f.size), 0) };
  },
  async wheel(c) {
    const name = `wheel_${process.pid}_${k++}`;
    const args = { name, path: pathToFileURL(join(dir, 'wheel', name)).href, base: c.ipc.base, upsert: c.ipc.upsert, buckets: c.buckets ?? BUCKETS, threads: 1, partition_by: c.partitionBy ?? [] };
    const { stdout } = await run(python, [join(root, 'bench/lakesoul_wheel_write.py'), JSON.stringify(args)], { env: wheelEnv, maxBuffer: 1 << 24 });
    return JSON.parse(stdout.trim().split('\n').at(-1));
  },
  async lance(c) {
    const w = await timed(() => db.createTable(`lance_${k++}`, c.base.lance));
    const lt = w.r;
    const up = await timed(() => lt.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(c.upsert.lance));
    return { writeMs: w.ms, upsertMs: up.ms };
  },
};

/** A layered table on each side (untimed), then compaction and cleanup (timed). */
const maintenance = {
  async ours() {
    const t = await lake.createTable(`ours_m_${k++}`, schema, { primaryKeys: ['id'], hashBucketNum: BUCKETS });
    await t.write(base.table);
    for (const l of layers) await t.write(l.table);
    const c = await timed(() => t.compact());
    const cl = await timed(() => t.cleanup({ retainSince: Date.now(), orphanSafetyWindowMs: 0, assumeNoWritesInFlight: true, dryRun: false }));
    if (cl.r.deleted === 0) throw new Error('cleanup after compaction deleted nothing');
    return { compactMs: c.ms, cleanupMs: cl.ms, files: cl.r.deleted };
  },
  async lance() {
    const lt = await db.createTable(`lance_m_${k++}`, base.lance);
    for (const l of layers) await lt.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(l.lance);
    // default cleanupOlderThan (7 days): compaction only; then a cleanup of every old version
    const c = await timed(() => lt.optimize());
    const cl = await timed(() => lt.optimize({ cleanupOlderThan: new Date(), deleteUnverified: true }));
    return { compactMs: c.ms, cleanupMs: cl.ms, files: cl.r.prune.oldVersionsRemoved };
  },
};

try {
  // one warm-up round, then interleaved rounds
  const results = { ours: [], wheel: [], lance: [], oursS: [], wheelS: [], lanceS: [], oursP: [], wheelP: [], oursM: [], lanceM: [] };
  for (let r = 0; r <= ROUNDS; r++) {
    const got = { ours: await sides.ours(cases.int), wheel: await sides.wheel(cases.int), lance: await sides.lance(cases.int) };
    Object.assign(got, { oursS: await sides.ours(cases.str), wheelS: await sides.wheel(cases.str), lanceS: await sides.lance(cases.str) });
    Object.assign(got, { oursP: await sides.ours(cases.part), wheelP: await sides.wheel(cases.part) });
    Object.assign(got, { oursM: await maintenance.ours(), lanceM: await maintenance.lance() });
    if (r > 0) for (const [side, v] of Object.entries(got)) results[side].push(v);
  }
  const m = (side, key) => median(results[side].map((x) => x[key]));
  // ratios per round (robust to load changes between rounds), then the median
  const ratio = (a, b, key) => median(results[a].map((x, i) => x[key] / results[b][i][key]));
  const line = (what, key, a, b) =>
    `${what.padEnd(34)} ${fmt(m(a, key), 0).padStart(6)} ms   vs ${b.startsWith('wheel') ? 'wheel (1 thread)' : 'LanceDB TS'.padEnd(16)} ${fmt(m(b, key), 0).padStart(6)} ms   ratio ${fmt(ratio(a, b, key), 2)}x`;
  console.log(`rows: ${N} (id int64 PK, ${BUCKETS} buckets; name utf8; score float64); upsert ${N / LAYERS} keys; medians of ${ROUNDS} interleaved rounds`);
  console.log(line(`write ${N} rows`, 'writeMs', 'ours', 'wheel'));
  console.log(line(`write ${N} rows`, 'writeMs', 'ours', 'lance'));
  console.log(line(`upsert ${N / LAYERS} rows`, 'upsertMs', 'ours', 'wheel'));
  console.log(line(`upsert ${N / LAYERS} rows`, 'upsertMs', 'ours', 'lance'));
  console.log(line(`write ${N} rows, string keys`, 'writeMs', 'oursS', 'wheelS'));
  console.log(line(`write ${N} rows, string keys`, 'writeMs', 'oursS', 'lanceS'));
  console.log(line(`upsert ${N / LAYERS}, string keys`, 'upsertMs', 'oursS', 'wheelS'));
  console.log(line(`upsert ${N / LAYERS}, string keys`, 'upsertMs', 'oursS', 'lanceS'));
  console.log(line(`write ${N / 5} rows, ${PARTS} partitions`, 'writeMs', 'oursP', 'wheelP'));
  console.log(line(`upsert ${N / 50}, ${PARTS} partitions`, 'upsertMs', 'oursP', 'wheelP'));
  console.log(`bytes written (${N} rows):           ${fmt(m('ours', 'bytes') / 1e6, 2)} MB  vs wheel ${fmt(m('wheel', 'bytes') / 1e6, 2)} MB   ratio ${fmt(m('ours', 'bytes') / m('wheel', 'bytes'), 2)}x (target <= 1.05)`);
  console.log(line(`compact (${LAYERS} layers) / optimize`, 'compactMs', 'oursM', 'lanceM'));
  console.log(line('cleanup / optimize(cleanup)', 'cleanupMs', 'oursM', 'lanceM'));
} finally {
  await lake.close();
  await catalog.close();
  rmSync(dir, { recursive: true, force: true });
}
