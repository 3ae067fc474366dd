// The native Parquet codec (packages/io/native, built by `pnpm setup:native`) against parquet-wasm,
// the codec io uses without it, on the same data in the same run: the 44 files of io-read-peers'
// layered table (a 1M-row base in 4 bucket files, 10 layers of 100k keys; id int64, name utf8,
// score float64), encoded by io's own choices (`encodeParquet`: delta / plain / dictionary per column,
// zstd where it pays, page index).
//   - encode: every file, one at a time on this thread;
//   - decode: every file, one at a time on this thread, and all of them through each codec's pool
//     (native calls on libuv threads, or parquet-wasm worker threads; one per core);
// Ratios are native / parquet-wasm (below 1.0: native is faster), medians of interleaved rounds; both
// decodes are checked to give the same rows first. Without the addon it says so and exits 1.
import { Float64, Int64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { NativeParquetPool, PARQUET_CODEC_ENV, createParquetPool, decodeParquet, encodeParquet, nativeParquet } from '@lakesoul-ts/io';
import { distinctKeys, fmt, interleaved, prng } from './io-common.mjs';

const N = Number(process.env.BENCH_ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const native = nativeParquet();
if (!native) {
  console.log('parquet-codec: the native codec is not built (pnpm setup:native) or LAKESOUL_PARQUET_CODEC=wasm; nothing to compare');
  process.exit(1);
}
const codec = (name, fn) => {
  process.env[PARQUET_CODEC_ENV] = name;
  try {
    return fn();
  } finally {
    delete process.env[PARQUET_CODEC_ENV];
  }
};

function rows(ids, tag) {
  ids.sort((a, b) => a - b);
  return new Table({
    id: vectorFromArray(BigInt64Array.from(ids, (x) => BigInt(x)), new Int64()),
    name: vectorFromArray(ids.map((x) => `${tag}-${x}`), new Utf8()),
    score: vectorFromArray(Float64Array.from(ids, (x) => x * 0.5 + tag.length), new Float64()),
  });
}
const rnd = prng(7);
const tables = [];
for (let b = 0; b < 4; b++) tables.push(rows(Array.from({ length: N / 4 }, (_, i) => i * 4 + b), 'base'));
for (let l = 0; l < 10; l++) {
  const keys = distinctKeys(rnd, N / 10, N);
  for (let b = 0; b < 4; b++) tables.push(rows(keys.filter((k) => k % 4 === b), `l${l}`));
}
const files = tables.map((t) => codec('native', () => encodeParquet(t)));
const bytes = (fs) => fs.reduce((n, f) => n + f.length, 0);
const wasmFiles = tables.map((t) => codec('wasm', () => encodeParquet(t)));
console.log(`parquet-codec: ${files.length} files, ${N} base rows + 10 layers of ${N / 10}; 2 x ${cpus()[0]?.model ?? '?'}, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; ${ROUNDS} interleaved rounds`);
console.log(`bytes: native ${(bytes(files) / 1e6).toFixed(2)} MB, parquet-wasm ${(bytes(wasmFiles) / 1e6).toFixed(2)} MB (ratio ${fmt(bytes(files) / bytes(wasmFiles), 2)}x)`);

const sum = async (decode) => {
  let n = 0;
  let s = 0;
  for (const t of await decode()) {
    n += t.numRows;
    for (const v of t.getChild('score').data) for (const x of v.values.subarray(0, v.length)) s += x;
  }
  return `${n}:${s}`;
};
const serial = (name) => async () => {
  const out = [];
  for (const f of files) out.push(await codec(name, () => decodeParquet(f)));
  return out;
};
const wasmPool = createParquetPool({ size: availableParallelism() });
const nativePool = new NativeParquetPool(native, availableParallelism());
const pooled = (name, pool) => () => codec(name, () => Promise.all(files.map((f) => decodeParquet(f, { pool }))));
const [a, b, c] = [await sum(serial('wasm')), await sum(serial('native')), await sum(pooled('native', nativePool))];
if (a !== b || a !== c) throw new Error(`decodes differ: wasm ${a}, native ${b}, native pool ${c}`);
console.log('rows and score sums equal across codecs');

const report = (what, [base, other]) => console.log(`${what.padEnd(34)} ${fmt(other.ms).padStart(7)} ms   vs parquet-wasm ${fmt(base.ms).padStart(7)} ms   ratio ${fmt(other.ratio, 2)}x`);
report('encode, one thread', await interleaved([{ name: 'wasm', run: () => codec('wasm', () => tables.forEach((t) => encodeParquet(t))) }, { name: 'native', run: () => codec('native', () => tables.forEach((t) => encodeParquet(t))) }], ROUNDS));
report('decode, one thread', await interleaved([{ name: 'wasm', run: serial('wasm') }, { name: 'native', run: serial('native') }], ROUNDS));
report(`decode, pool of ${availableParallelism()}`, await interleaved([{ name: 'wasm', run: pooled('wasm', wasmPool) }, { name: 'native', run: pooled('native', nativePool) }], ROUNDS));
await wasmPool.close();
