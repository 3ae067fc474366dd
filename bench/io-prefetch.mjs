// Scan throughput with 20 ms injected per-request latency (withLatency on every store) vs none:
// async prefetch should keep >= 80% of the throughput.
import { Field, Float64, Int64, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { LocalStore, withLatency } from '@lakesoul-ts/io';
import { benchLakehouse, interleaved, fmt } from './io-common.mjs';

const FILES = Number(process.env.BENCH_FILES ?? 40);
const ROWS = Number(process.env.BENCH_ROWS_PER_FILE ?? 25_000);
const LATENCY = 20;
const schema = new Schema([new Field('id', new Int64(), false), new Field('name', new Utf8(), true), new Field('score', new Float64(), true)]);

let latency = 0;
const env = await benchLakehouse();
// The latency is switched per measurement through a store registered on the warehouse.
const base = new LocalStore({ root: env.dir });
const slow = withLatency(base, { perRequestMs: LATENCY });
env.lh.stores.register(`file://${env.dir}`, {
  description: base.description,
  get: (p, o) => (latency ? slow : base).get(p, o),
  put: (p, d, o) => base.put(p, d, o),
  head: (p, o) => (latency ? slow : base).head(p, o),
  delete: (p, o) => base.delete(p, o),
  list: (p, o) => base.list(p, o),
});
try {
  const t = await env.lh.createTable('files', schema, {});
  for (let f = 0; f < FILES; f++) {
    const ids = Array.from({ length: ROWS }, (_, i) => f * ROWS + i);
    await t.write(new Table({
      id: vectorFromArray(BigInt64Array.from(ids, BigInt), new Int64()),
      name: vectorFromArray(ids.map((i) => `name-${i}`), new Utf8()),
      score: vectorFromArray(Float64Array.from(ids, (i) => i / 3), new Float64()),
    }));
  }
  const scan = async (opts = {}) => {
    let n = 0;
    for await (const b of t.read(opts)) n += b.numRows;
    if (n !== FILES * ROWS) throw new Error(`read ${n} rows`);
  };
  const none = { name: 'none', run: async () => { latency = 0; await scan(); } };
  const slowRun = { name: 'latency', run: async () => { latency = LATENCY; await scan(); } };
  const serial = { name: 'serial', run: async () => { latency = LATENCY; await scan({ prefetchBytes: 1 }); } };
  const [a, b, c] = await interleaved([none, slowRun, serial], Number(process.env.BENCH_ROUNDS ?? 5));
  latency = 0;
  const rows = FILES * ROWS;
  console.log(`${FILES} files x ${ROWS} rows; ${LATENCY} ms per request injected`);
  console.log(`no latency:                 ${fmt(a.ms, 0)} ms (${fmt(rows / (a.ms / 1000) / 1e6, 2)} M rows/s)`);
  console.log(`20 ms latency, prefetch:    ${fmt(b.ms, 0)} ms (${fmt(rows / (b.ms / 1000) / 1e6, 2)} M rows/s)`);
  console.log(`20 ms latency, no prefetch: ${fmt(c.ms, 0)} ms (prefetchBytes: 1, one file at a time)`);
  console.log(`throughput kept with prefetch: ${fmt(100 / b.ratio, 0)}% (target >= 80%); without: ${fmt(100 / c.ratio, 0)}%   (medians of per-round ratios)`);
  // What the prefetch did not hide, in requests: the scan's first requests have little to overlap
  // with, so a scan that gets faster keeps a smaller share of its throughput for the same latency.
  const added = b.ms - a.ms;
  console.log(`latency left unhidden: ${fmt(added, 0)} ms = ${fmt(added / LATENCY, 2)} requests of ${LATENCY} ms (medians of each side)`);
  // The first file's request has nothing to overlap with (the plan names the files; nothing is fetched
  // before it): a scan of T ms keeps at most T / (T + one request) of its throughput.
  console.log(`kept at most, with only the first request unhidden: ${fmt((100 * a.ms) / (a.ms + LATENCY), 0)}% (so the 80% target needs a scan of >= ${4 * LATENCY} ms without latency)`);
} finally {
  await env.close();
}
