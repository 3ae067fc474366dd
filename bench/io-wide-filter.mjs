// A point lookup on a wide table without a projection (every column of the one matching row) against
// a full read of the same table, in the same run: `id = 5` on a 1,000-column table of 2,000 rows (id
// int64 PK, 1 bucket; columns alternate float64 and utf8). The selective read decodes a small file
// per column: it cost columns × footer size until the footer was decoded once per file (11 s for
// this lookup on 200 rows; docs/benchmarks.md 2026-12-06 17:30). Prints medians and the ratio
// lookup / full read.
import { Field, Float64, Int64, Schema, Utf8 } from 'apache-arrow';
import { benchLakehouse, interleaved, fmt } from './io-common.mjs';

const COLUMNS = Number(process.env.BENCH_COLUMNS ?? 1000);
const ROWS = Number(process.env.BENCH_ROWS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const env = await benchLakehouse();
try {
  const fields = [new Field('id', new Int64(), false)];
  for (let i = 0; i < COLUMNS; i++) fields.push(new Field(`c${i}`, i % 2 ? new Utf8() : new Float64(), true));
  const t = await env.lh.createTable('wide', new Schema(fields), { primaryKeys: ['id'], hashBucketNum: 1 });
  const rows = Array.from({ length: ROWS }, (_, r) => Object.fromEntries([['id', r], ...Array.from({ length: COLUMNS }, (_, i) => [`c${i}`, i % 2 ? `v${r}-${i}` : r + i / 8])]));
  await t.write(rows);
  const lookup = async () => {
    const got = await t.toArrow({ filter: 'id = 5' });
    if (got.numRows !== 1 || got.getChild('c1').get(0) !== 'v5-1') throw new Error(`id = 5 read ${got.numRows} rows`);
  };
  const full = async () => {
    const got = await t.toArrow();
    if (got.numRows !== ROWS) throw new Error(`the full read gave ${got.numRows} rows`);
  };
  const [l, f] = await interleaved([{ name: 'lookup', run: lookup }, { name: 'full', run: full }], ROUNDS);
  console.log(`table: ${ROWS} rows x ${COLUMNS + 1} columns (id PK, 1 bucket); medians of ${ROUNDS} interleaved rounds`);
  console.log(`full read:                   ${fmt(f.ms, 0)} ms`);
  // the median of the per-round ratios (robust to load changing between rounds)
  console.log(`id = 5, every column:        ${fmt(l.ms, 0)} ms  ratio ${fmt(1 / f.ratio, 2)}x the full read`);
} finally {
  await env.close();
}
