// Write throughput of the table writer (validate, partition, bucket, sort, Parquet zstd, local disk,
// one commit on an in-memory PGlite catalog): MB/s of Arrow input and rows/s, for a PK table
// (upsert) and a table without keys (append). Baseline in the same run: encodeParquet of the same
// data as one file (no bucketing, sorting or commit).
import { Field, Float64, Int64, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { encodeParquet } from '@lakesoul-ts/io';
import { benchLakehouse, interleaved, fmt, oneThread } from './io-common.mjs';

const N = Number(process.env.BENCH_ROWS ?? 1_000_000);
const schema = new Schema([
  new Field('id', new Int64(), false),
  new Field('name', new Utf8(), true),
  new Field('score', new Float64(), true),
  new Field('day', new Utf8(), false),
]);
function data(n) {
  const ids = new BigInt64Array(n);
  const names = new Array(n);
  const scores = new Float64Array(n);
  const days = new Array(n);
  for (let i = 0; i < n; i++) {
    const k = (i * 2654435761) % n; // a permutation: unsorted input
    ids[i] = BigInt(k);
    names[i] = `name-${k}`;
    scores[i] = k * 0.25;
    days[i] = `2024-01-0${1 + (k % 4)}`;
  }
  return new Table({
    id: vectorFromArray(ids, new Int64()),
    name: vectorFromArray(names, new Utf8()),
    score: vectorFromArray(scores, new Float64()),
    day: vectorFromArray(days, new Utf8()),
  });
}

const input = data(N);
const arrowBytes = input.batches.reduce((s, b) => s + b.data.children.reduce((x, c) => x + c.byteLength, 0), 0);
const env = await benchLakehouse();
try {
  let k = 0;
  const [enc, pk, app, pk1] = await interleaved([
    { name: 'encode', run: async () => { encodeParquet(input, { compression: 'zstd' }); } },
    { name: 'pk', run: async () => {
      const t = await env.lh.createTable(`pk_${k++}`, schema, { rangePartitions: ['day'], primaryKeys: ['id'], hashBucketNum: 4 });
      await t.write(input);
    } },
    { name: 'append', run: async () => {
      const t = await env.lh.createTable(`append_${k++}`, schema, { rangePartitions: ['day'] });
      await t.write(input);
    } },
    // The same PK write with every file encoded on the calling thread (no Parquet worker pool).
    { name: 'pk one thread', run: () => oneThread(async () => {
      const t = await env.lh.createTable(`pk1_${k++}`, schema, { rangePartitions: ['day'], primaryKeys: ['id'], hashBucketNum: 4 });
      await t.write(input);
    }) },
  ], Number(process.env.BENCH_ROUNDS ?? 3));
  const mb = arrowBytes / 1e6;
  console.log(`rows: ${N}, Arrow input: ${fmt(mb)} MB`);
  console.log(`PK upsert (4 partitions x 4 buckets): ${fmt(pk.ms, 0)} ms  ${fmt(mb / (pk.ms / 1000))} MB/s  ${fmt(N / (pk.ms / 1000) / 1000, 0)}k rows/s`);
  console.log(`append (4 partitions):               ${fmt(app.ms, 0)} ms  ${fmt(mb / (app.ms / 1000))} MB/s  ${fmt(N / (app.ms / 1000) / 1000, 0)}k rows/s`);
  console.log(`PK upsert, encoding on one thread:    ${fmt(pk1.ms, 0)} ms  (pool / one thread: ${fmt(pk.ratio / pk1.ratio, 2)}x; 16 files encoded on the Parquet workers)`);
  console.log(`baseline encodeParquet (one file):   ${fmt(enc.ms, 0)} ms  ${fmt(mb / (enc.ms / 1000))} MB/s`);
  console.log(`ratio PK upsert / plain encode: ${fmt(pk.ratio, 2)}x   append / plain encode: ${fmt(app.ratio, 2)}x   (medians of per-round ratios)`);
} finally {
  await env.close();
}
