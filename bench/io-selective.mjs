// Selective reads on a compacted 1M-row PK table (id int64 PK, 4 buckets; name utf8; score float64
// uniform in [0,1)): `score > 0.99` (~1% of rows, spread over every row group) and `id IN (100 keys)`
// (random keys), against LanceDB's TypeScript SDK on the same rows in the same run (its table also
// compacted by optimize()). Both sides must return the same rows (checked by key sums).
// Prints each side's median time and the ratio (this project / LanceDB; target <= 1.0).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Float64, Int64, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import * as A18 from 'apache-arrow-18';
import * as lancedb from '@lancedb/lancedb';
import { benchLakehouse, interleaved, prng, fmt } from './io-common.mjs';

const N = Number(process.env.BENCH_ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const schema = new Schema([new Field('id', new Int64(), false), new Field('name', new Utf8(), true), new Field('score', new Float64(), true)]);
const rnd = prng(15);
const ids = BigInt64Array.from({ length: N }, (_, i) => BigInt(i));
// The source rows are dropped once both tables hold them (`names.length = 0` below): 1M JS strings
// kept alive would make every full garbage collection of the measured reads mark them (~70 ms each
// here), a cost of this harness, not of either reader.
const names = Array.from({ length: N }, (_, i) => `name-${i}`);
const scores = Float64Array.from({ length: N }, () => rnd());
const keys = [...new Set(Array.from({ length: 100 }, () => Math.floor(rnd() * N)))].sort((a, b) => a - b);
const scoreFilter = 'score > 0.99';
const inFilter = `id IN (${keys.join(', ')})`;

const env = await benchLakehouse();
const lanceDir = mkdtempSync(join(tmpdir(), 'lance-bench-'));
try {
  const t = await env.lh.createTable('sel', schema, { primaryKeys: ['id'], hashBucketNum: 4 });
  const CHUNK = 250_000;
  for (let o = 0; o < N; o += CHUNK) {
    const e = Math.min(N, o + CHUNK);
    await t.write(new Table({
      id: vectorFromArray(ids.subarray(o, e), new Int64()),
      name: vectorFromArray(names.slice(o, e), new Utf8()),
      score: vectorFromArray(scores.subarray(o, e), new Float64()),
    }));
  }
  await t.compact();

  const db = await lancedb.connect(lanceDir);
  const lt = await db.createTable('sel', A18.tableFromArrays({ id: ids, name: names, score: scores }));
  await lt.optimize();
  names.length = 0;

  const ours = async (filter) => {
    let rows = 0;
    let sum = 0n;
    for await (const b of t.read({ filter, batchSize: 65536 })) {
      rows += b.numRows;
      const v = b.getChild('id');
      for (let i = 0; i < b.numRows; i++) sum += v.get(i);
    }
    return { rows, sum };
  };
  const lance = async (filter) => {
    const r = await lt.query().where(filter).toArrow();
    let sum = 0n;
    const v = r.getChild('id');
    for (let i = 0; i < r.numRows; i++) sum += BigInt(v.get(i));
    return { rows: r.numRows, sum };
  };
  for (const f of [scoreFilter, inFilter]) {
    const a = await ours(f);
    const b = await lance(f);
    if (a.rows !== b.rows || a.sum !== b.sum) throw new Error(`'${f.slice(0, 40)}': lakesoul-ts ${a.rows} rows (id sum ${a.sum}) vs LanceDB ${b.rows} rows (id sum ${b.sum})`);
    console.log(`'${f.length > 40 ? `${f.slice(0, 37)}...` : f}': ${a.rows} rows on both sides`);
  }
  const res = await interleaved([
    { name: 'lance score', run: () => lance(scoreFilter) },
    { name: 'ours score', run: () => ours(scoreFilter) },
    { name: 'lance in', run: () => lance(inFilter) },
    { name: 'ours in', run: () => ours(inFilter) },
    { name: 'ours full', run: () => ours(null) },
  ], ROUNDS);
  const [ls, os, li, oi, of] = res;
  console.log(`table: ${N} rows (id PK, 4 buckets, compacted), same rows in LanceDB (optimized); medians of ${ROUNDS} interleaved rounds`);
  console.log(`full read (this project):     ${fmt(of.ms, 0)} ms`);
  console.log(`${scoreFilter}:                ${fmt(os.ms, 0)} ms vs LanceDB ${fmt(ls.ms, 0)} ms  ratio ${fmt(os.ms / ls.ms, 2)}x (target <= 1.0)`);
  console.log(`id IN (${keys.length} keys):           ${fmt(oi.ms, 0)} ms vs LanceDB ${fmt(li.ms, 0)} ms  ratio ${fmt(oi.ms / li.ms, 2)}x (target <= 1.0)`);
} finally {
  await env.close();
  rmSync(lanceDir, { recursive: true, force: true });
}
