#!/usr/bin/env node
// Benchmark: reading image bytes referenced from a table's rows (resolveBlobs, issue 4).
//   baseline : image files on local disk, no injected latency;
//   latency  : the same files behind withLatency (20 ms per request: every HEAD and GET);
//   serial   : 20 ms latency with concurrency 1 (what prefetch saves; fewer images);
//   memory   : a tight in-flight bound (BENCH_BLOB_BOUND_MB) vs the process's peak RSS growth.
// Prints MB/s and images/s, the ratio latency/baseline (target >= 0.80) and peak RSS vs the bound.
// Usage: pnpm --filter @lakesoul-ts/io build && node --expose-gc bench/blob-read.mjs
import { deflateSync, crc32 } from 'node:zlib';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Int32, Int64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { DEFAULT_BLOB_CONCURRENCY, StoreRegistry, resolveBlobs, toFileUri, withLatency } from '@lakesoul-ts/io';

const IMAGES = Number(process.env.BENCH_BLOB_IMAGES ?? 1200);
const SIDE = Number(process.env.BENCH_BLOB_SIDE ?? 160); // pixels; RGB noise PNGs of ~SIDE*SIDE*3 bytes
const LATENCY = 20;
const CONCURRENCY = Number(process.env.BENCH_BLOB_CONCURRENCY ?? DEFAULT_BLOB_CONCURRENCY);
const BOUND = Number(process.env.BENCH_BLOB_BOUND_MB ?? 32) * 1024 * 1024;
const BATCH = 64;
const RUNS = Number(process.env.BENCH_BLOB_RUNS ?? 5);

/** A real PNG (RGB, 8 bit) of noise; deflate level 1 so generation is quick. */
function png(seed, w, h) {
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    data.copy(out, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const raw = Buffer.alloc(h * (1 + w * 3));
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let r = 0; r < h; r++) {
    const o = r * (1 + w * 3);
    for (let i = 1; i <= w * 3; i++) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      raw[o + i] = x & 0xff;
    }
  }
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 1 })), chunk('IEND', Buffer.alloc(0))]);
}

const dir = mkdtempSync(join(tmpdir(), 'lakesoul-blob-bench-'));
const tablePath = toFileUri(join(dir, 'table'));
const labels = ['cat', 'dog', 'bird', 'fish'];
const paths = [];
const sizes = [];
let totalBytes = 0;
for (let i = 0; i < IMAGES; i++) {
  const rel = `images/${labels[i % 4]}/${String(i).padStart(5, '0')}.png`;
  mkdirSync(join(dir, 'table', 'images', labels[i % 4]), { recursive: true });
  const bytes = png(i + 1, SIDE, SIDE);
  writeFileSync(join(dir, 'table', rel), bytes);
  totalBytes += bytes.length;
  paths.push(rel);
  sizes.push(BigInt(bytes.length));
}

function batches(n = IMAGES) {
  const t = new Table({
    id: vectorFromArray(Array.from({ length: n }, (_, i) => i), new Int32()),
    label: vectorFromArray(paths.slice(0, n).map((_, i) => labels[i % 4]), new Utf8()),
    image_path: vectorFromArray(paths.slice(0, n), new Utf8()),
    size: vectorFromArray(BigInt64Array.from(sizes.slice(0, n)), new Int64()),
  });
  const out = [];
  for (let s = 0; s < n; s += BATCH) out.push(...t.slice(s, s + BATCH).batches);
  return out;
}
async function* source(bs) {
  for (const b of bs) yield b;
}

/** Reads every image once; returns { ms, bytes, peakRssDelta, stats }. */
async function readAll({ latency, concurrency, bound, n = IMAGES, sized = false }) {
  const stores = new StoreRegistry({ wrap: latency ? (s) => withLatency(s, { perRequestMs: latency }) : undefined });
  const stats = { fetched: 0, heads: 0, bytesFetched: 0, peakBytesInFlight: 0, peakConcurrent: 0, batches: 0, cancelled: false };
  const bs = batches(n);
  globalThis.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
  const t0 = performance.now();
  let bytes = 0;
  let rows = 0;
  for await (const b of resolveBlobs(source(bs), { columns: ['image_path'], tablePath, stores, keyColumns: ['id'], concurrency, maxBytesInFlight: bound, stats, sizeColumns: sized ? { image_path: 'size' } : undefined })) {
    const col = b.getChild('image_path__bytes');
    for (let i = 0; i < b.numRows; i++) bytes += col.get(i).length; // the consumer touches every image
    rows += b.numRows;
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  const ms = performance.now() - t0;
  clearInterval(sampler);
  if (rows !== n) throw new Error(`read ${rows} of ${n} rows`);
  return { ms, bytes, peakRssDelta: peak - rss0, stats };
}

/** Runs the configurations interleaved (so machine load drifts hit all alike); medians by name. */
async function medians(configs) {
  for (const c of Object.values(configs)) await readAll(c); // warm-up (page cache, JIT)
  const runs = Object.fromEntries(Object.keys(configs).map((k) => [k, []]));
  for (let i = 0; i < RUNS; i++) for (const [k, c] of Object.entries(configs)) runs[k].push(await readAll(c));
  return Object.fromEntries(Object.entries(runs).map(([k, rs]) => [k, rs.sort((a, b) => a.ms - b.ms)[Math.floor(rs.length / 2)]]));
}

const MB = 1024 * 1024;
const rate = (r) => `${(r.bytes / MB / (r.ms / 1000)).toFixed(1)} MB/s, ${Math.round((r.bytes ? r.stats.fetched : 0) / (r.ms / 1000))} images/s`;
try {
  console.log(`${IMAGES} PNG images of ${SIDE}x${SIDE} (${(totalBytes / MB).toFixed(1)} MiB, avg ${(totalBytes / IMAGES / 1024).toFixed(0)} KiB) on local disk; ` +
    `resolveBlobs concurrency ${CONCURRENCY}, maxBytesInFlight ${BOUND / MB} MiB, batches of ${BATCH} rows; median of ${RUNS}`);
  const m = await medians({
    base: { latency: 0, concurrency: CONCURRENCY, bound: BOUND },
    slow: { latency: LATENCY, concurrency: CONCURRENCY, bound: BOUND },
    baseSized: { latency: 0, concurrency: CONCURRENCY, bound: BOUND, sized: true },
    slowSized: { latency: LATENCY, concurrency: CONCURRENCY, bound: BOUND, sized: true },
  });
  const serialN = Math.min(IMAGES, 100);
  const serial = await readAll({ latency: LATENCY, concurrency: 1, bound: BOUND, n: serialN });
  console.log(`HEAD+GET per image (sizes unknown):`);
  console.log(`  no latency:                  ${m.base.ms.toFixed(0)} ms  ${rate(m.base)}`);
  console.log(`  ${LATENCY} ms per request, prefetch: ${m.slow.ms.toFixed(0)} ms  ${rate(m.slow)}`);
  const ratio = m.base.ms / m.slow.ms;
  console.log(`  ratio latency/no-latency throughput: ${ratio.toFixed(2)} (target >= 0.80: ${ratio >= 0.8 ? 'met' : 'NOT met'})`);
  console.log(`GET only (sizeColumns: { image_path: 'size' }):`);
  console.log(`  no latency:                  ${m.baseSized.ms.toFixed(0)} ms  ${rate(m.baseSized)}`);
  console.log(`  ${LATENCY} ms per request, prefetch: ${m.slowSized.ms.toFixed(0)} ms  ${rate(m.slowSized)}`);
  const ratio2 = m.baseSized.ms / m.slowSized.ms;
  console.log(`  ratio latency/no-latency throughput: ${ratio2.toFixed(2)} (target >= 0.80: ${ratio2 >= 0.8 ? 'met' : 'NOT met'})`);
  console.log(`${LATENCY} ms per request, no prefetch (concurrency 1, ${serialN} images): ${rate(serial)}; prefetch is ${((serial.ms / serialN) / (m.slow.ms / IMAGES)).toFixed(1)}x faster`);
  console.log(`(hiding latency L needs concurrency >= throughput x L x requests per image; here ${CONCURRENCY})`);

  const tight = Math.max(1, Number(process.env.BENCH_BLOB_TIGHT_MB ?? 4)) * MB;
  const mem = await readAll({ latency: LATENCY, concurrency: CONCURRENCY, bound: tight });
  const memLoose = await readAll({ latency: LATENCY, concurrency: CONCURRENCY, bound: 256 * MB });
  console.log(`memory, bound ${tight / MB} MiB:   peak reserved ${(mem.stats.peakBytesInFlight / MB).toFixed(1)} MiB, peak RSS growth ${(mem.peakRssDelta / MB).toFixed(1)} MiB, ${rate(mem)}`);
  console.log(`memory, bound 256 MiB: peak reserved ${(memLoose.stats.peakBytesInFlight / MB).toFixed(1)} MiB, peak RSS growth ${(memLoose.peakRssDelta / MB).toFixed(1)} MiB, ${rate(memLoose)}`);
  console.log(`(peak reserved bytes never exceed the bound plus one image; RSS growth includes output batches held by the consumer and GC slack)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
