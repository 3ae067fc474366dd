#!/usr/bin/env node
// Train a small CNN on labelled images straight from a lakehouse table.
//
// The example generates its own data: PNG images of coloured shapes (red square = 0, green bar = 1,
// blue cross = 2), stored next to a table partitioned by date whose `image_path` column references
// them. It loads ONE partition as a tf.data.Dataset (image bytes fetched with the scan, decoded and
// resized by the loader), and trains with model.fitDataset, printing the loss per epoch.
//
//   pnpm build && node examples/tfjs-train-images.mjs [--per-date 96] [--size 32] [--epochs 5] [--dir DIR] [--backend auto|tensorflow|cpu]
//
// The backend: 'auto' (default) trains on native TensorFlow through @tensorflow/tfjs-node when its
// addon is built (`pnpm setup:native`), else on tfjs's pure-JS 'cpu' backend, and says which. (The
// wasm backend of tfjs 4.22 has no Conv2DBackpropFilter kernel, so it cannot train this CNN.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateSync } from 'node:zlib';
import { Field, Int32, Int64, Schema, Utf8, makeTable, vectorFromArray } from 'apache-arrow';
import { Lakehouse, importHidingArgv, toFileUri, joinUri } from '@lakesoul-ts/io';
import { images, tfjsDataset } from '@lakesoul-ts/connector-tfjs';

// ---- a minimal PNG encoder (RGB, 8-bit, no filtering): real PNG bytes without extra packages ----
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
/** Encodes `rgb` (width*height*3 bytes) as a PNG file. */
export function encodePng(width, height, rgb) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) Buffer.from(rgb.buffer, rgb.byteOffset + y * width * 3, width * 3).copy(raw, y * (width * 3 + 1) + 1);
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]));
}

/** A noisy `size`x`size` image of shape `label` at a random offset (deterministic per `seed`). */
export function shapeImage(label, size, seed) {
  let s = seed * 2654435761 >>> 0;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
  const rgb = new Uint8Array(size * size * 3);
  const cx = size / 2 + (rand() - 0.5) * size * 0.3;
  const cy = size / 2 + (rand() - 0.5) * size * 0.3;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = Math.abs(x - cx), dy = Math.abs(y - cy);
      const on = label === 0 ? dx < size / 5 && dy < size / 5 : label === 1 ? dy < size / 10 : dx < size / 12 || dy < size / 12;
      const i = (y * size + x) * 3;
      for (let k = 0; k < 3; k++) rgb[i + k] = Math.min(255, (on && k === label ? 200 : 30) + Math.floor(rand() * 40));
    }
  }
  return encodePng(size, size, rgb);
}

/**
 * tf on the requested backend: 'tensorflow' is @tensorflow/tfjs-node (native TensorFlow), 'cpu' the
 * pure-JS backend of @tensorflow/tfjs, 'auto' the first when its addon loads. Returns the namespace, the
 * backend in use and, when 'auto' fell back, why.
 */
export async function loadTf(backend = 'auto') {
  let fallback = null;
  if (backend === 'auto' || backend === 'tensorflow') {
    try {
      // with the command line hidden: tfjs-node's addon locator would take this script's --dir for its own
      const mod = await importHidingArgv('@tensorflow/tfjs-node', import.meta.url);
      const tf = mod.default ?? mod;
      await tf.setBackend('tensorflow');
      await tf.ready();
      return { tf, backend: 'tensorflow', fallback };
    } catch (e) {
      const why = String(e?.message ?? e).split('\n')[0];
      if (backend === 'tensorflow') throw new Error(`backend 'tensorflow' needs @tensorflow/tfjs-node with its addon (pnpm setup:native): ${why}`);
      fallback = `native TensorFlow unavailable (${why}); pnpm setup:native builds it`;
    }
  }
  const mod = await import('@tensorflow/tfjs');
  const tf = mod.default ?? mod;
  await tf.setBackend(backend === 'auto' ? 'cpu' : backend);
  await tf.ready();
  return { tf, backend: tf.getBackend(), fallback };
}

/**
 * Generates the table (dates x perDate images), loads partition `dates[0]` and trains a small CNN.
 * Returns the per-epoch losses. `log` receives progress lines.
 */
export async function trainImages({ dir, dates = ['2023-08-09', '2023-08-10'], perDate = 96, size = 32, epochs = 5, batchSize = 16, backend = 'auto', log = console.log } = {}) {
  const loaded = await loadTf(backend);
  const { tf } = loaded;
  log(loaded.backend === 'tensorflow' ? 'backend: tensorflow (native TensorFlow through @tensorflow/tfjs-node)' : `backend: ${loaded.backend} (pure JS, @tensorflow/tfjs)${loaded.fallback ? `: ${loaded.fallback}` : ''}`);
  const lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: toFileUri(join(dir, 'warehouse')) });
  try {
    const schema = new Schema([
      new Field('id', new Int64(), false),
      new Field('image_path', new Utf8(), false),
      new Field('label', new Int32(), false),
      new Field('date', new Utf8(), false),
    ]);
    const table = await lakehouse.createTable('shapes', schema, { rangePartitions: ['date'], blobColumns: ['image_path'] });
    let id = 0;
    for (const date of dates) {
      const ids = [], paths = [], labels = [];
      for (let k = 0; k < perDate; k++, id++) {
        const label = id % 3;
        const rel = `images/${date}/${id}.png`;
        // Image files live under the table's location; rows reference them by relative path.
        const { store, key } = lakehouse.stores.resolve(joinUri(table.info.path, rel));
        await store.put(key, shapeImage(label, size, id));
        ids.push(BigInt(id)); paths.push(rel); labels.push(label);
      }
      await table.write(makeTable({
        id: vectorFromArray(ids, new Int64()),
        image_path: vectorFromArray(paths, new Utf8()),
        label: vectorFromArray(labels, new Int32()),
        date: vectorFromArray(paths.map(() => date), new Utf8()),
      }));
    }
    log(`wrote ${id} images into table shapes (${dates.length} date partitions)`);

    const ds = await tfjsDataset(table, {
      tf,
      partitions: { date: dates[0] },
      batchSize,
      shuffle: { seed: 7, bufferSize: 256 },
      transform: images.resize(size, size).flip(0.5).scale(1 / 255),
      labels: { column: 'label', oneHot: 3 },
    });
    log(`partition date=${dates[0]}: ${ds.samplesPerEpoch} images, plan at versions ${JSON.stringify(ds.plan.partitionVersions)}, decoder ${ds.imageDecoder}`);

    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [size, size, 3], filters: 8, kernelSize: 3, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const losses = [];
    const accuracies = [];
    await model.fitDataset(ds, {
      epochs,
      verbose: 0,
      callbacks: {
        onEpochEnd: async (epoch, logs) => {
          losses.push(logs.loss);
          accuracies.push(logs.acc);
          log(`epoch ${epoch + 1}/${epochs}: loss ${logs.loss.toFixed(4)} accuracy ${logs.acc.toFixed(3)}`);
        },
      },
    });
    model.dispose();
    await ds.close();
    return { losses, accuracies, images: ds.samplesPerEpoch, backend: loaded.backend };
  } finally {
    await lakehouse.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : dflt;
  };
  const own = !arg('dir');
  const dir = arg('dir') ?? mkdtempSync(join(tmpdir(), 'lakesoul-tfjs-example-'));
  try {
    await trainImages({ dir, perDate: Number(arg('per-date', 96)), size: Number(arg('size', 32)), epochs: Number(arg('epochs', 5)), backend: arg('backend', 'auto') });
  } finally {
    if (own) rmSync(dir, { recursive: true, force: true });
  }
}
