// Merge-on-read scan of a 1M-row PK table with 10 upsert layers vs (a) a plain decode (decodeParquet: the native codec when built, else parquet-wasm) of
// the same file bytes on the calling thread (target: merge <= 2x decode), (b) the same table after
// compaction and (c) the same merge with decoding on the calling thread (LAKESOUL_PARQUET_THREADS=0)
// instead of the Parquet worker pool.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Field, Float64, Int64, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { decodeParquet } from '@lakesoul-ts/io';
import { benchLakehouse, interleaved, prng, fmt, oneThread } from './io-common.mjs';

const N = Number(process.env.BENCH_ROWS ?? 1_000_000);
const LAYERS = 10;
const schema = new Schema([new Field('id', new Int64(), false), new Field('name', new Utf8(), true), new Field('score', new Float64(), true)]);
function batch(ids, tag) {
  return new Table({
    id: vectorFromArray(BigInt64Array.from(ids, (x) => BigInt(x)), new Int64()),
    name: vectorFromArray(Array.from(ids, (x) => `${tag}-${x}`), new Utf8()),
    score: vectorFromArray(Float64Array.from(ids, (x) => x * 0.5), new Float64()),
  });
}

const env = await benchLakehouse();
try {
  // Two identical tables: one stays with its 11 layers, the other is compacted.
  const tables = [];
  for (const name of ['layers', 'compacted']) {
    const t = await env.lh.createTable(name, schema, { primaryKeys: ['id'], hashBucketNum: 4 });
    await t.write(batch(Array.from({ length: N }, (_, i) => i), 'base'));
    const rnd = prng(7);
    for (let l = 0; l < LAYERS; l++) {
      const ids = Array.from({ length: N / LAYERS }, () => Math.floor(rnd() * N));
      await t.write(batch(ids, `l${l}`));
    }
    tables.push(t);
  }
  const [layered, compacted] = tables;
  await compacted.compact();
  const snap = await layered.snapshot();
  const files = snap.flatMap((p) => p.files.map((f) => f.path));
  const bytes = files.map((f) => readFileSync(fileURLToPath(f)));
  const totalBytes = bytes.reduce((s, b) => s + b.length, 0);
  let inputRows = 0;
  const scan = async (t) => {
    let n = 0;
    for await (const b of t.read({ batchSize: 65536 })) n += b.numRows;
    if (n !== N) throw new Error(`read ${n} rows, expected ${N}`);
  };
  const [dec, merge, comp, merge1] = await interleaved([
    { name: 'decode', run: async () => { inputRows = 0; for (const b of bytes) inputRows += (await decodeParquet(b)).numRows; } },
    { name: 'merge', run: () => scan(layered) },
    { name: 'compacted', run: () => scan(compacted) },
    { name: 'merge, one thread', run: () => oneThread(() => scan(layered)) },
  ], Number(process.env.BENCH_ROUNDS ?? 5));
  console.log(`table: ${N} keys, ${LAYERS} upsert layers, ${files.length} files, ${fmt(totalBytes / 1e6)} MB, ${inputRows} stored rows`);
  console.log(`plain decode of the same bytes (decodeParquet, one thread): ${fmt(dec.ms, 0)} ms (${fmt(inputRows / (dec.ms / 1000) / 1e6, 2)} M rows/s)`);
  console.log(`merge-on-read scan:                         ${fmt(merge.ms, 0)} ms (${fmt(N / (merge.ms / 1000) / 1e6, 2)} M rows/s out)`);
  console.log(`scan after compaction:                      ${fmt(comp.ms, 0)} ms`);
  console.log(`merge-on-read scan, decode on one thread:   ${fmt(merge1.ms, 0)} ms (pool / one thread: ${fmt(merge.ratio / merge1.ratio, 2)}x; the pool's first decode of a round starts its workers)`);
  console.log(`ratio merge / decode: ${fmt(merge.ratio, 2)}x (target <= 2x)   merge / compacted: ${fmt(merge.ratio / comp.ratio, 2)}x   (medians of per-round ratios)`);
} finally {
  await env.close();
}
