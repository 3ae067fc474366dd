#!/usr/bin/env node
// Native TensorFlow (@tensorflow/tfjs-node, built by `pnpm setup:native`) against tfjs's pure-JS cpu
// backend, measured in the same run, and the image loader against the native step rate:
//   - training steps/s of the example's CNN (examples/tfjs-train-images.mjs, 32x32 inputs) and of a
//     ResNet-style model at 224x224, on pre-made tensors; pure JS runs only a few steps (it is
//     hundreds of times slower) so the benchmark stays short;
//   - the loader (sharp path: decode + resize 224x224 + scale, 8 decodes in flight) alone, the
//     ResNet-style model's step rate alone, and the loader feeding that model through fitDataset:
//     loader/model > 1 means the loader is not the bottleneck.
//
//   pnpm build && pnpm setup:native && node bench/tfjs-native.mjs [--images 160] [--js-steps 1] [--js-batch 2] [--only loader]
//   (--only loader: just the loader against the ResNet-style step on native, not native vs pure JS)
//
// Rates are compared per sample. The pure-JS ResNet-style step runs at batch --js-batch (default 2):
// at batch 16 one step took 18 minutes on a loaded 2-core machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Int32, Int64, Schema, Utf8, makeTable, vectorFromArray } from 'apache-arrow';
import { Lakehouse, joinUri, toFileUri } from '@lakesoul-ts/io';
import { images, tfjsDataset } from '@lakesoul-ts/connector-tfjs';
import { shapeImage } from '../examples/tfjs-train-images.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const IMAGES = Number(arg('images', 160));
const JS_STEPS = Number(arg('js-steps', 1));
const JS_BATCH = Number(arg('js-batch', 2));
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';

let native;
try {
  const mod = await import('@tensorflow/tfjs-node');
  native = mod.default ?? mod;
} catch (e) {
  console.error(`tfjs-native benchmark: @tensorflow/tfjs-node does not load (${String(e.message).split('\n')[0]}); run pnpm setup:native first`);
  process.exit(1);
}
// The same tfjs-core instance: tfjs-node registers the `tensorflow` backend next to `cpu`.
const tf = native;

const results = [];
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(2));
const report = (name, value, unit) => {
  results.push({ name, value, unit });
  console.log(`${name.padEnd(64)} ${fmt(value).padStart(9)} ${unit}`);
  return value;
};

console.log(`tfjs native benchmark: tfjs ${tf.version.tfjs}, tfjs-node ${tf.version['tfjs-node']}, node ${process.version}, ${cpus().length} x ${cpus()[0]?.model}, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);

/** The example's CNN (examples/tfjs-train-images.mjs). */
function exampleCnn(size, classes) {
  const m = tf.sequential({ layers: [
    tf.layers.conv2d({ inputShape: [size, size, 3], filters: 8, kernelSize: 3, activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.flatten(),
    tf.layers.dense({ units: classes, activation: 'softmax' }),
  ] });
  m.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  return m;
}

/**
 * A ResNet-style model: 7x7/2 stem and 3x3/2 max pool, then three stages of two basic residual blocks
 * (16, 32, 64 filters; batch norm; projection shortcut where the shape changes), global average pool.
 */
function resnetStyle(size, classes) {
  const input = tf.input({ shape: [size, size, 3] });
  const convBn = (x, filters, kernel, strides, relu = true) => {
    let y = tf.layers.conv2d({ filters, kernelSize: kernel, strides, padding: 'same', useBias: false }).apply(x);
    y = tf.layers.batchNormalization().apply(y);
    return relu ? tf.layers.activation({ activation: 'relu' }).apply(y) : y;
  };
  let x = convBn(input, 16, 7, 2);
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(x);
  for (const [filters, firstStride] of [[16, 1], [32, 2], [64, 2]]) {
    for (let b = 0; b < 2; b++) {
      const strides = b === 0 ? firstStride : 1;
      let y = convBn(x, filters, 3, strides);
      y = convBn(y, filters, 3, 1, false);
      const shortcut = strides !== 1 || x.shape[3] !== filters ? convBn(x, filters, 1, strides, false) : x;
      x = tf.layers.activation({ activation: 'relu' }).apply(tf.layers.add().apply([y, shortcut]));
    }
  }
  x = tf.layers.globalAveragePooling2d({}).apply(x);
  const output = tf.layers.dense({ units: classes, activation: 'softmax' }).apply(x);
  const m = tf.model({ inputs: input, outputs: output });
  m.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy' });
  return m;
}

/** Steps/s of `make()`'s model on one backend: `warm` unmeasured steps, then `steps` measured ones. */
async function stepsPerSecond(backend, make, size, batch, steps, warm) {
  await tf.setBackend(backend);
  await tf.ready();
  const model = make(size, 3);
  const xs = tf.randomUniform([batch, size, size, 3]);
  const ys = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 3), 'int32'), 3);
  for (let i = 0; i < warm; i++) await model.trainOnBatch(xs, ys);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await model.trainOnBatch(xs, ys);
  const sec = (performance.now() - t0) / 1000;
  tf.dispose([xs, ys]);
  model.dispose();
  return steps / sec;
}

// ---------------------------------------------------------------------------------------------- models
const B = 16;
if (arg('only', null) !== 'loader') {
console.log(`\n-- training on pre-made tensors, samples/s (native: batch ${B}, warmed up; pure JS: ${JS_STEPS} step(s), no warm-up, CNN batch ${B}, ResNet-style batch ${JS_BATCH})`);
const cnnNative = report('example CNN 32x32, native tensorflow', B * (await stepsPerSecond('tensorflow', exampleCnn, 32, B, 50, 3)), 'samples/s');
const cnnJs = report('example CNN 32x32, pure-JS cpu', B * (await stepsPerSecond('cpu', exampleCnn, 32, B, Math.max(3, JS_STEPS), 1)), 'samples/s');
const resNative = report('ResNet-style 224x224, native tensorflow', B * (await stepsPerSecond('tensorflow', resnetStyle, 224, B, 8, 2)), 'samples/s');
const resJs = report('ResNet-style 224x224, pure-JS cpu', JS_BATCH * (await stepsPerSecond('cpu', resnetStyle, 224, JS_BATCH, JS_STEPS, 0)), 'samples/s');
console.log(`ratios: native/pure-JS example CNN ${fmt(cnnNative / cnnJs)}x, ResNet-style ${fmt(resNative / resJs)}x; native steps/s (batch ${B}): CNN ${fmt(cnnNative / B)}, ResNet-style ${fmt(resNative / B)}`);
results.push({ ratios: { cnnNativeOverJs: cnnNative / cnnJs, resnetNativeOverJs: resNative / resJs } });
}

// ---------------------------------------------------------------------------------------------- loader vs model
await tf.setBackend('tensorflow');
await tf.ready();
const dir = mkdtempSync(join(tmpdir(), 'lakesoul-bench-native-'));
const lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: toFileUri(join(dir, 'warehouse')) });
try {
  const SRC = 256;
  const schema = new Schema([new Field('id', new Int64(), false), new Field('image_path', new Utf8(), false), new Field('label', new Int32(), false)]);
  const table = await lakehouse.createTable('img', schema, { blobColumns: ['image_path'] });
  const paths = [];
  for (let id = 0; id < IMAGES; id++) {
    const rel = `images/${id}.png`;
    const { store, key } = lakehouse.stores.resolve(joinUri(table.info.path, rel));
    await store.put(key, shapeImage(id % 3, SRC, id));
    paths.push(rel);
  }
  await table.write(makeTable({
    id: vectorFromArray(paths.map((_, i) => BigInt(i)), new Int64()),
    image_path: vectorFromArray(paths, new Utf8()),
    label: vectorFromArray(paths.map((_, i) => i % 3), new Int32()),
  }));
  const opts = { tf, batchSize: B, transform: images.resize(224, 224).scale(1 / 255), labels: { column: 'label', oneHot: 3 }, shuffle: { seed: 1, bufferSize: 64 }, decode: { decoder: 'sharp' } };
  console.log(`\n-- loader on native: ${IMAGES} PNG ${SRC}x${SRC} -> sharp decode + resize 224x224 + scale -> [${B}, 224, 224, 3]; ResNet-style model`);
  const drain = async () => {
    const ds = await tfjsDataset(table, opts);
    let n = 0;
    const it = await ds.iterator();
    for (let r = await it.next(); !r.done; r = await it.next()) {
      n += r.value.xs.shape[0];
      tf.dispose(r.value);
    }
    await ds.close();
    return n;
  };
  await drain(); // warm-up
  let t0 = performance.now();
  const n = await drain();
  const loader = report('loader alone (sharp path): samples/s', n / ((performance.now() - t0) / 1000), 'samples/s');
  const model = resnetStyle(224, 3);
  const step = report('ResNet-style step alone (pre-made tensors): samples/s', B * (await (async () => {
    const xs = tf.randomUniform([B, 224, 224, 3]);
    const ys = tf.oneHot(tf.tensor1d(Array.from({ length: B }, (_, i) => i % 3), 'int32'), 3);
    await model.trainOnBatch(xs, ys);
    const steps = Math.ceil(IMAGES / B);
    const s0 = performance.now();
    for (let i = 0; i < steps; i++) await model.trainOnBatch(xs, ys);
    tf.dispose([xs, ys]);
    return steps / ((performance.now() - s0) / 1000);
  })()), 'samples/s');
  const ds = await tfjsDataset(table, opts);
  let fedSamples = 0;
  t0 = performance.now();
  await model.fitDataset(ds, { epochs: 1, verbose: 0, callbacks: { onBatchEnd: async (_b, logs) => void (fedSamples += logs.size) } });
  const fed = report('loader feeding the ResNet-style model (fitDataset): samples/s', fedSamples / ((performance.now() - t0) / 1000), 'samples/s');
  await ds.close();
  model.dispose();
  console.log(`ratios: loader/model-step ${fmt(loader / step)}x (> 1: the loader is not the bottleneck), fed/model-step ${fmt(fed / step)}x`);
  results.push({ ratios: { loaderOverResnetStep: loader / step, fedOverResnetStep: fed / step } });
} finally {
  await lakehouse.close();
  rmSync(dir, { recursive: true, force: true });
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results));
