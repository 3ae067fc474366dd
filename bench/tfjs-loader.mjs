#!/usr/bin/env node
// Benchmark of the tfjs loader (connector-tfjs), against baselines measured in the same run:
//   - tabular rows and 224x224 images: loader samples/s alone, and feeding a small model via
//     model.fitDataset, vs the model's own step rate on pre-made tensors (ratio > 1: the loader is
//     not the bottleneck for that model);
//   - the same with 20 ms injected latency per storage request (withLatency) vs none;
//   - image decoding on the main thread vs a worker pool;
//   - the sharp path (what 'auto' picks when sharp is installed) against the sharp limit: sharp's own
//     decode + resize of the same PNGs with 8 calls in flight, no loader around it. The loader's target
//     is >= 0.8x that limit; `concurrency: 1` (one sharp call at a time) shows what overlapping calls buys.
//     On Linux it also prints CPU per image on each side, by thread group (main, V8 platform/GC, libuv, libvips).
//     Use --images 640 or more on a busy machine: 160 images is a few hundred ms per run.
//
//   pnpm build && node bench/tfjs-loader.mjs [--rows 40000] [--images 160] [--backend wasm|cpu] [--only images]
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Field, Float32, Int32, Int64, List, Schema, Utf8, makeTable, vectorFromArray } from 'apache-arrow';
import { Lakehouse, StoreRegistry, joinUri, scanPlanFromJSON, toFileUri, withLatency } from '@lakesoul-ts/io';
import { createImageExecutor, images, tfjsDataset } from '@lakesoul-ts/connector-tfjs';
import { shapeImage } from '../examples/tfjs-train-images.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const ROWS = Number(arg('rows', 40000));
const IMAGES = Number(arg('images', 160));
const LATENCY_MS = 20;
// The wasm backend (several times faster than cpu). tfjs-backend-wasm 4.22 has no
// Conv2DBackpropFilter kernel, so the image model is pooling + dense (a CNN trains on cpu/tfjs-node).
const TAB_BACKEND = arg('backend', 'wasm');
const IMG_BACKEND = arg('image-backend', TAB_BACKEND);
await tf.setBackend(TAB_BACKEND);
await tf.ready();

const dir = mkdtempSync(join(tmpdir(), 'lakesoul-bench-tfjs-'));
const lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: toFileUri(join(dir, 'warehouse')) });
const plainStores = new StoreRegistry();
const slowStores = new StoreRegistry({ wrap: (s) => withLatency(s, { perRequestMs: LATENCY_MS }) });
const results = [];
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
const report = (name, samples, ms) => {
  const rate = (samples / ms) * 1000;
  results.push({ name, samples, ms: Math.round(ms), samplesPerSec: Math.round(rate) });
  console.log(`${name.padEnd(52)} ${String(samples).padStart(7)} samples  ${fmt(ms).padStart(8)} ms  ${fmt(rate).padStart(9)} samples/s`);
  return rate;
};
const REPS = Number(arg('reps', 3));

/**
 * CPU time (ms) per thread group of this process, from /proc/self/task (Linux; null elsewhere): the
 * main thread, the first 6 threads Node starts (V8's platform workers: mostly garbage collection),
 * libvips' workers, and the rest (libuv's thread pool: sharp calls and file reads).
 */
function threadCpu() {
  let tids;
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return null;
  }
  const main = String(process.pid);
  const startup = new Set(tids.filter((t) => t !== main).sort((a, b) => Number(a) - Number(b)).slice(0, 6));
  const out = { main: 0, gc: 0, libvips: 0, libuv: 0 };
  for (const t of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = (Number(f[11]) + Number(f[12])) * 10; // utime + stime, in 10 ms clock ticks
      const comm = readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
      out[t === main ? 'main' : startup.has(t) ? 'gc' : comm.startsWith('libvips') ? 'libvips' : 'libuv'] += ms;
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}
/** Runs `fn` REPS times (returns [samples, ms]); reports the median run. */
const time = async (fn) => {
  const runs = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    const n = await fn();
    runs.push([n, performance.now() - t0]);
  }
  runs.sort((a, b) => a[1] / a[0] - b[1] / b[0]);
  return runs[Math.floor(runs.length / 2)];
};

async function drain(ds) {
  let n = 0;
  const it = await ds.iterator();
  for (let r = await it.next(); !r.done; r = await it.next()) {
    const el = r.value;
    n += (el.xs ?? Object.values(el)[0]).shape[0];
    tf.dispose(el);
  }
  return n;
}

async function fit(model, ds) {
  let n = 0;
  await model.fitDataset(ds, { epochs: 1, verbose: 0, callbacks: { onBatchEnd: async (_b, logs) => void (n += logs.size) } });
  return n;
}

async function modelSteps(model, xs, ys, steps) {
  await model.trainOnBatch(xs, ys); // warm-up
  return time(async () => {
    for (let i = 0; i < steps; i++) await model.trainOnBatch(xs, ys);
    return steps * xs.shape[0];
  });
}

console.log(`tfjs loader benchmark: tf ${tf.version.tfjs}, backends tabular=${TAB_BACKEND} images=${IMG_BACKEND}, node ${process.version}, ${cpus().length} x ${cpus()[0]?.model}, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; median of ${REPS} runs`);

const ONLY = arg('only', null);
// ---------------------------------------------------------------------------------------------- tabular
if (ONLY === null || ONLY === 'tabular') {
  const D = 16;
  const schema = new Schema([new Field('id', new Int64(), false), new Field('x', new Float32(), false), new Field('v', new List(new Field('item', new Float32(), true)), false), new Field('label', new Int32(), false), new Field('date', new Utf8(), false)]);
  const table = await lakehouse.createTable('tab', schema, { rangePartitions: ['date'] });
  const files = 8;
  for (let f = 0; f < files; f++) {
    const ids = Array.from({ length: ROWS / files }, (_, i) => f * (ROWS / files) + i);
    await table.write(makeTable({
      id: vectorFromArray(ids.map(BigInt), new Int64()),
      x: vectorFromArray(ids.map((i) => (i % 100) / 100), new Float32()),
      v: vectorFromArray(ids.map((i) => Array.from({ length: D }, (_, k) => Math.sin(i + k))), new List(new Field('item', new Float32(), true))),
      label: vectorFromArray(ids.map((i) => i % 10), new Int32()),
      date: vectorFromArray(ids.map(() => `d${f % 2}`), new Utf8()),
    }));
  }
  const planJSON = (await (await table.scan({})).withRowCounts()).toJSON();
  const B = 256;
  const open = (stores) => ({ planJSON, open: (j) => scanPlanFromJSON(j, stores) });
  const opts = { tf, batchSize: B, features: ['x', 'v'], labels: { column: 'label', oneHot: 10 }, shuffle: { seed: 1, bufferSize: 4096 } };
  const makeModel = () => {
    const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [D + 1], units: 64, activation: 'relu' }), tf.layers.dense({ units: 10, activation: 'softmax' })] });
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    return m;
  };
  console.log(`\n-- tabular: ${ROWS} rows in ${files} splits, features x + v[${D}] -> [${B}, ${D + 1}] float32, one-hot labels; MLP ${D + 1}-64-10`);
  await drain(await tfjsDataset(open(plainStores), opts)); // warm-up (parquet-wasm init)
  const loader = report('loader alone', ...(await time(async () => drain(await tfjsDataset(open(plainStores), opts)))));
  const loaderSlow = report(`loader alone, ${LATENCY_MS} ms storage latency`, ...(await time(async () => drain(await tfjsDataset(open(slowStores), opts)))));
  const model = makeModel();
  const xs = tf.randomNormal([B, D + 1]);
  const ys = tf.oneHot(tf.tensor1d(Array.from({ length: B }, (_, i) => i % 10), 'int32'), 10);
  const step = report('model step alone (pre-made tensors)', ...(await modelSteps(model, xs, ys, Math.ceil(ROWS / B))));
  const fed = report('loader feeding the model (fitDataset)', ...(await time(async () => fit(model, await tfjsDataset(open(plainStores), opts)))));
  const fedSlow = report(`loader feeding the model, ${LATENCY_MS} ms latency`, ...(await time(async () => fit(model, await tfjsDataset(open(slowStores), opts)))));
  tf.dispose([xs, ys]);
  model.dispose();
  console.log(`ratios: loader/model-step ${fmt(loader / step)}x, fed/model-step ${fmt(fed / step)}x, latency/no-latency loader ${fmt(loaderSlow / loader)}x, fed ${fmt(fedSlow / fed)}x`);
  results.push({ ratios: { tabularLoaderOverModel: loader / step, tabularFedOverModel: fed / step, tabularLatencyLoader: loaderSlow / loader, tabularLatencyFed: fedSlow / fed } });
}

// ---------------------------------------------------------------------------------------------- images
await tf.setBackend(IMG_BACKEND);
await tf.ready();
{
  const SRC = 256;
  const schema = new Schema([new Field('id', new Int64(), false), new Field('image_path', new Utf8(), false), new Field('label', new Int32(), false), new Field('date', new Utf8(), false)]);
  const table = await lakehouse.createTable('img', schema, { rangePartitions: ['date'], blobColumns: ['image_path'] });
  const files = 4;
  let bytes = 0;
  for (let f = 0; f < files; f++) {
    const ids = Array.from({ length: IMAGES / files }, (_, i) => f * (IMAGES / files) + i);
    const paths = [];
    for (const id of ids) {
      const png = shapeImage(id % 3, SRC, id);
      bytes += png.length;
      const rel = `images/${id}.png`;
      const { store, key } = lakehouse.stores.resolve(joinUri(table.info.path, rel));
      await store.put(key, png);
      paths.push(rel);
    }
    await table.write(makeTable({
      id: vectorFromArray(ids.map(BigInt), new Int64()),
      image_path: vectorFromArray(paths, new Utf8()),
      label: vectorFromArray(ids.map((i) => i % 3), new Int32()),
      date: vectorFromArray(ids.map(() => 'd'), new Utf8()),
    }));
  }
  const planJSON = (await (await table.scan({ blobs: ['image_path'] })).withRowCounts()).toJSON();
  const B = 16;
  const open = (stores) => ({ planJSON, open: (j) => scanPlanFromJSON(j, stores) });
  {
    // The sharp path against sharp alone, on the same PNG bytes (in memory: no storage, no Parquet).
    const { default: sharp } = await import('sharp');
    const pngs = [];
    for (let id = 0; id < IMAGES; id++) pngs.push(shapeImage(id % 3, SRC, id));
    const IN_FLIGHT = 8;
    const sharpAlone = async () => {
      let next = 0;
      await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
        while (next < pngs.length) await sharp(pngs[next++]).resize(224, 224, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
      }));
      return pngs.length;
    };
    const sharpOpts = (concurrency) => ({ tf, batchSize: B, transform: images.resize(224, 224).scale(1 / 255), labels: { column: 'label', oneHot: 3 }, shuffle: { seed: 1, bufferSize: 64 }, decode: { decoder: 'sharp', concurrency } });
    console.log(`\n-- sharp path: ${IMAGES} PNG ${SRC}x${SRC} -> decode + resize 224x224 + scale -> [${B}, 224, 224, 3] float32`);
    await sharpAlone(); // warm-up
    await drain(await tfjsDataset(open(plainStores), sharpOpts(IN_FLIGHT)));
    // Interleaved so that load from other processes hits both alike.
    const limit = [], loaderRuns = [], oldRuns = [];
    const cpu = { limit: { main: 0, gc: 0, libvips: 0, libuv: 0, n: 0 }, loader: { main: 0, gc: 0, libvips: 0, libuv: 0, n: 0 } };
    const once = async (fn, cpuInto) => {
      const c0 = threadCpu();
      const t0 = performance.now();
      const n = await fn();
      const ms = performance.now() - t0;
      const c1 = threadCpu();
      if (c0 && c1 && cpuInto) {
        for (const k of ['main', 'gc', 'libvips', 'libuv']) cpuInto[k] += c1[k] - c0[k];
        cpuInto.n += n;
      }
      return [n, ms];
    };
    const ROUNDS = Math.max(REPS, 5);
    for (let r = 0; r < ROUNDS; r++) {
      limit.push(await once(sharpAlone, cpu.limit));
      loaderRuns.push(await once(async () => drain(await tfjsDataset(open(plainStores), sharpOpts(IN_FLIGHT))), cpu.loader));
      oldRuns.push(await once(async () => drain(await tfjsDataset(open(plainStores), sharpOpts(1)))));
    }
    // Ratios are taken round by round (each variant against the limit measured just before it) and the
    // median of those is reported, as the io benchmarks do: load from other processes that drifts
    // during the run then moves both sides of a ratio alike.
    const rate = ([n, ms]) => n / ms;
    const medianOf = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const median = (runs) => [...runs].sort((a, b) => a[1] / a[0] - b[1] / b[0])[Math.floor(runs.length / 2)];
    report(`sharp limit: decode + resize, ${IN_FLIGHT} in flight`, ...median(limit));
    report(`loader alone, sharp, ${IN_FLIGHT} in flight, no batch barrier`, ...median(loaderRuns));
    report('loader alone, sharp, one call at a time (concurrency 1)', ...median(oldRuns));
    const perRound = loaderRuns.map((r, i) => rate(r) / rate(limit[i]));
    const ld = medianOf(perRound), lim = 1;
    const old = medianOf(oldRuns.map((r, i) => rate(r) / rate(limit[i])));
    console.log(`ratios (median of ${ROUNDS} rounds): loader/sharp-limit ${fmt(ld)}x (target >= 0.8; rounds ${perRound.map(fmt).join(' ')}), one-call-at-a-time/sharp-limit ${fmt(old)}x`);
    const perImage = (c) => {
      const g = Object.fromEntries(['main', 'gc', 'libvips', 'libuv'].map((k) => [k, c[k] / c.n]));
      return `${(g.main + g.gc + g.libvips + g.libuv).toFixed(2)} ms (main ${g.main.toFixed(2)}, V8 platform/GC ${g.gc.toFixed(2)}, libuv pool ${g.libuv.toFixed(2)}, libvips ${g.libvips.toFixed(2)})`;
    };
    if (cpu.limit.n > 0) console.log(`CPU per image, all ${ROUNDS} rounds (/proc/self/task): sharp limit ${perImage(cpu.limit)}; loader ${perImage(cpu.loader)}`);
    results.push({ ratios: { sharpLoaderOverLimit: ld / lim, sharpOneCallAtATimeOverLimit: old / lim } });
  }
  if (ONLY === 'images') {
    await lakehouse.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }
  const workers = Math.max(1, Math.min(4, cpus().length));
  // One worker pool for every run (warmed up once), as a training job keeps it across epochs.
  const pool = await createImageExecutor({ decoder: 'js', workers });
  const opts = (w) => ({ tf, batchSize: B, transform: images.resize(224, 224).scale(1 / 255), labels: { column: 'label', oneHot: 3 }, shuffle: { seed: 1, bufferSize: 64 }, decode: w ? { executor: pool } : { decoder: 'js' } });
  const makeModel = () => {
    const m = tf.sequential({ layers: [
      tf.layers.averagePooling2d({ inputShape: [224, 224, 3], poolSize: 4 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 32, activation: 'relu' }),
      tf.layers.dense({ units: 3, activation: 'softmax' }),
    ] });
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    return m;
  };
  console.log(`\n-- images: ${IMAGES} PNG ${SRC}x${SRC} (${(bytes / IMAGES / 1024).toFixed(0)} KiB avg) in ${files} splits -> decode + resize 224x224 + scale -> [${B}, 224, 224, 3]; small model (avg-pool 4, dense 32, dense 3)`);
  await drain(await tfjsDataset(open(plainStores), opts(0))); // warm-up
  await drain(await tfjsDataset(open(plainStores), opts(workers))); // warm-up of the pool
  const main = report('loader alone, decode on main thread', ...(await time(async () => drain(await tfjsDataset(open(plainStores), opts(0))))));
  let ds = await tfjsDataset(open(plainStores), opts(workers));
  const poolRate = report(`loader alone, decode on ${workers} worker threads`, ...(await time(() => drain(ds))));
  await ds.close();
  ds = await tfjsDataset(open(slowStores), opts(workers));
  const poolSlow = report(`loader alone, ${workers} workers, ${LATENCY_MS} ms latency`, ...(await time(() => drain(ds))));
  const mainSlow = report(`loader alone, main thread, ${LATENCY_MS} ms latency`, ...(await time(async () => drain(await tfjsDataset(open(slowStores), opts(0))))));
  await ds.close();
  const model = makeModel();
  const xs = tf.randomUniform([B, 224, 224, 3]);
  const ys = tf.oneHot(tf.tensor1d(Array.from({ length: B }, (_, i) => i % 3), 'int32'), 3);
  const step = report('model step alone (pre-made tensors)', ...(await modelSteps(model, xs, ys, Math.ceil(IMAGES / B))));
  const fedMain = report('loader (main thread) feeding the model', ...(await time(async () => fit(model, await tfjsDataset(open(plainStores), opts(0))))));
  ds = await tfjsDataset(open(plainStores), opts(workers));
  const fedPool = report(`loader (${workers} workers) feeding the model`, ...(await time(() => fit(model, ds))));
  await ds.close();
  ds = await tfjsDataset(open(slowStores), opts(workers));
  const fedSlow = report(`loader (${workers} workers) feeding, ${LATENCY_MS} ms latency`, ...(await time(() => fit(model, ds))));
  await ds.close();
  tf.dispose([xs, ys]);
  model.dispose();
  await pool.close();
  console.log(`main-thread latency/no-latency loader ${fmt(mainSlow / main)}x`);
  console.log(`ratios: loader/model-step main ${fmt(main / step)}x, workers ${fmt(poolRate / step)}x; fed/model-step main ${fmt(fedMain / step)}x, workers ${fmt(fedPool / step)}x; workers/main ${fmt(poolRate / main)}x; latency/no-latency loader ${fmt(poolSlow / poolRate)}x, fed ${fmt(fedSlow / fedPool)}x`);
  results.push({ ratios: { imageLoaderMainOverModel: main / step, imageLoaderWorkersOverModel: poolRate / step, imageFedMainOverModel: fedMain / step, imageFedWorkersOverModel: fedPool / step, workersOverMain: poolRate / main, imageLatencyLoader: poolSlow / poolRate, imageLatencyFed: fedSlow / fedPool } });
}

await lakehouse.close();
rmSync(dir, { recursive: true, force: true });
if (process.argv.includes('--json')) console.log(JSON.stringify(results));
