// Merge-on-read scan of a 1M-row PK table with 10 upsert layers vs (a) a plain parquet-wasm decode of
// the same file bytes (target: merge <= 2x decode) and (b) the same table after compaction.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Field, Float64, Int64, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { decodeParquet } from '@lakesoul-ts/io';
import { benchLakehouse, medianMs, prng, fmt } from './io-common.mjs';

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
  const t = await env.lh.createTable('merge', schema, { primaryKeys: ['id'], hashBucketNum: 4 });
  // Base: N rows; then 10 upsert layers of N/10 random keys each.
  await t.write(batch(Array.from({ length: N }, (_, i) => i), 'base'));
  const rnd = prng(7);
  for (let l = 0; l < LAYERS; l++) {
    const ids = Array.from({ length: N / LAYERS }, () => Math.floor(rnd() * N));
    await t.write(batch(ids, `l${l}`));
  }
  const snap = await t.snapshot();
  const files = snap.flatMap((p) => p.files.map((f) => f.path));
  const bytes = files.map((f) => readFileSync(fileURLToPath(f)));
  const totalBytes = bytes.reduce((s, b) => s + b.length, 0);
  let inputRows = 0;

  const decodeMs = await medianMs(async () => {
    inputRows = 0;
    for (const b of bytes) inputRows += (await decodeParquet(b)).numRows;
  });
  let outRows = 0;
  const mergeMs = await medianMs(async () => {
    outRows = 0;
    for await (const b of t.read({ batchSize: 65536 })) outRows += b.numRows;
  });
  await t.compact();
  let compactRows = 0;
  const compactMs = await medianMs(async () => {
    compactRows = 0;
    for await (const b of t.read({ batchSize: 65536 })) compactRows += b.numRows;
  });
  if (outRows !== N || compactRows !== N) throw new Error(`row counts: merged ${outRows}, compacted ${compactRows}, expected ${N}`);
  console.log(`table: ${N} keys, ${LAYERS} upsert layers, ${files.length} files, ${fmt(totalBytes / 1e6)} MB, ${inputRows} stored rows`);
  console.log(`plain parquet-wasm decode of the same bytes: ${fmt(decodeMs, 0)} ms (${fmt(inputRows / (decodeMs / 1000) / 1e6, 2)} M rows/s)`);
  console.log(`merge-on-read scan:                         ${fmt(mergeMs, 0)} ms (${fmt(N / (mergeMs / 1000) / 1e6, 2)} M rows/s out)`);
  console.log(`scan after compaction:                      ${fmt(compactMs, 0)} ms`);
  console.log(`ratio merge / decode: ${fmt(mergeMs / decodeMs, 2)}x (target <= 2x)   merge / compacted: ${fmt(mergeMs / compactMs, 2)}x`);
} finally {
  await env.close();
}
