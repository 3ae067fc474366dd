// Full reads of a merge-on-read table against LakeSoul's own engine, measured in the same run (issue
// 15's "merge-on-read read at least as fast as the wheel, and of the compacted table too"):
//   - this project: `table.read()` of a 1M-key PK table (4 buckets) written with 10 upsert layers of
//     100k distinct random keys (44 files), and of a copy compacted to one file per bucket;
//   - the `lakesoul` wheel (LakeSoul's Rust core, in the test venv) reading those same two tables
//     through the same PostgreSQL catalog (bench/lakesoul_wheel_read.py, `scan().to_arrow_table()`, its
//     own timing, a fresh process per round, one untimed warm-up read).
// A third table is the layered one with string keys (`key-00000042`): merged by byte comparison.
// Both sides' rows, id sums (string keys: sums of their byte lengths) and score sums are checked
// equal before timing. Ratios are this project /
// the wheel (<= 1.0 meets the target), medians of per-round ratios over interleaved rounds.
// LanceDB is not a peer here: its TypeScript SDK 0.39 took 12-17 s to iterate this table (1M rows in
// ~1,000 batches of ~1,000 rows, before and after `optimize()`) and 50-84 s and 8-10 GB of memory for
// `query().toArrow()` on this machine (2026-12-02), so a full read of it is no useful anchor.
// Needs PostgreSQL and the Python venv: bench/run.mjs runs every benchmark inside scripts/test-env.mjs.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Field, Float64, Int64, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { Catalog } from '@lakesoul-ts/meta';
import { Lakehouse } from '@lakesoul-ts/io';
import { distinctKeys, fmt, prng, wheelPeerEnv } from './io-common.mjs';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const LAYERS = 10;
const BUCKETS = 4;
const { pgUrl, python, wheelEnv } = wheelPeerEnv('io-read-peers');

const schema = new Schema([new Field('id', new Int64(), false), new Field('name', new Utf8(), true), new Field('score', new Float64(), true)]);
const schemaStr = new Schema([new Field('id', new Utf8(), false), ...schema.fields.slice(1)]);
function rows(ids, tag, stringKeys = false) {
  const id = stringKeys ? vectorFromArray(Array.from(ids, (x) => `key-${String(x).padStart(8, '0')}`), new Utf8()) : vectorFromArray(BigInt64Array.from(ids, (x) => BigInt(x)), new Int64());
  const table = new Table({ id, name: vectorFromArray(Array.from(ids, (x) => `${tag}-${x}`), new Utf8()), score: vectorFromArray(Float64Array.from(ids, (x) => x * 0.5 + tag.length), new Float64()) });
  return { table };
}
const rnd = prng(7);
const baseIds = Array.from({ length: N }, (_, i) => i);
const layerIds = Array.from({ length: LAYERS }, () => distinctKeys(rnd, N / LAYERS, N));
const tablesOf = (stringKeys) => ({ base: rows(baseIds, 'base', stringKeys), layers: layerIds.map((ids, l) => rows(ids, `l${l}`, stringKeys)) });

const dir = mkdtempSync(join(tmpdir(), 'read-peers-bench-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const catalog = await Catalog.open({ url: pgUrl });
const lake = await Lakehouse.open({ catalog, warehouse: pathToFileURL(join(dir, 'ours')).href });
const tag = `${process.pid}`;
const names = { layered: `read_layered_${tag}`, compacted: `read_compacted_${tag}`, layeredStr: `read_layered_str_${tag}` };

/** Rows, id sum and score sum of Arrow batches. */
function checksum(batches) {
  let rowsRead = 0;
  let idSum = 0n;
  let scoreSum = 0;
  for (const b of batches) {
    rowsRead += b.numRows;
    for (const v of b.getChild('id').data) {
      if (v.valueOffsets) idSum += BigInt(v.valueOffsets[v.length] - v.valueOffsets[0]); // string keys: their bytes
      else for (const x of v.values.subarray(0, v.length)) idSum += BigInt(x);
    }
    for (const v of b.getChild('score').data) for (const x of v.values.subarray(0, v.length)) scoreSum += x;
  }
  return { rows: rowsRead, idSum: String(idSum), scoreSum };
}

try {
  const ours = {};
  for (const [kind, name] of Object.entries(names)) {
    const stringKeys = kind === 'layeredStr';
    const { base, layers } = tablesOf(stringKeys);
    const t = await lake.createTable(name, stringKeys ? schemaStr : schema, { primaryKeys: ['id'], hashBucketNum: BUCKETS });
    await t.write(base.table);
    for (const l of layers) await t.write(l.table);
    if (kind === 'compacted') await t.compact();
    ours[kind] = t;
  }
  const readOurs = async (kind) => {
    const out = [];
    for await (const b of ours[kind].read({ batchSize: 65536 })) out.push(b);
    return out;
  };
  const readWheel = async () => {
    const { stdout } = await run(python, [join(root, 'bench/lakesoul_wheel_read.py'), JSON.stringify({ tables: Object.values(names) })], { env: wheelEnv, maxBuffer: 1 << 24 });
    const r = JSON.parse(stdout.trim().split('\n').at(-1));
    return Object.fromEntries(Object.entries(names).map(([kind, name]) => [kind, r[name]]));
  };

  // Same answers on every side before anything is timed.
  const wheelFirst = await readWheel();
  for (const kind of Object.keys(names)) {
    const a = checksum(await readOurs(kind));
    const w = wheelFirst[kind];
    const same = w.rows === a.rows && w.idSum === a.idSum && Math.abs(w.scoreSum - a.scoreSum) <= 1e-9 * Math.abs(a.scoreSum);
    if (a.rows !== N || !same) throw new Error(`${kind}: lakesoul-ts ${JSON.stringify(a)}, wheel ${JSON.stringify(w)}`);
  }
  console.log(`io-read-peers: ${N} keys + ${LAYERS} layers of ${N / LAYERS} distinct keys, ${BUCKETS} buckets; ${cpus().length} x ${cpus()[0]?.model}, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; ${ROUNDS} interleaved rounds`);
  console.log('rows, id sum and score sum equal on both sides, layered, compacted and layered with string keys');

  const times = { oursL: [], oursC: [], oursS: [], wheelL: [], wheelC: [], wheelS: [] };
  const timed = async (fn) => {
    globalThis.gc?.();
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  for (let r = 0; r <= ROUNDS; r++) {
    const got = {
      oursL: await timed(() => readOurs('layered')),
      oursC: await timed(() => readOurs('compacted')),
      oursS: await timed(() => readOurs('layeredStr')),
    };
    const w = await readWheel();
    got.wheelL = w.layered.ms;
    got.wheelC = w.compacted.ms;
    got.wheelS = w.layeredStr.ms;
    if (r > 0) for (const [k, v] of Object.entries(got)) times[k].push(v); // round 0 warms up
  }
  const ratio = (a, b) => median(times[a].map((x, i) => x / times[b][i]));
  const line = (what, a, b, peer) => `${what.padEnd(28)} ${fmt(median(times[a]), 0).padStart(6)} ms   vs ${peer.padEnd(10)} ${fmt(median(times[b]), 0).padStart(6)} ms   ratio ${fmt(ratio(a, b), 2)}x`;
  console.log(line('merge-on-read (44 files)', 'oursL', 'wheelL', 'wheel'));
  console.log(line('after compaction', 'oursC', 'wheelC', 'wheel'));
  console.log(line('merge-on-read, string keys', 'oursS', 'wheelS', 'wheel'));
  console.log('(target: every ratio <= 1.0)');
} finally {
  await lake.close();
  await catalog.close();
  rmSync(dir, { recursive: true, force: true });
}
