import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { LakeSoulTable } from '@lakesoul-ts/io';
import { createImageExecutor, images, tfjsDataset, type PixelTarget } from './index.js';
import { createImageTable, openTestLakehouse } from './test-support/tables.js';
import { testBackend } from './test-support/backend.js';

/** A 16-bit PNG of big-endian `samples` (color type 2: RGB, 6: RGBA), rows unfiltered. */
function png16(width: number, height: number, colorType: 2 | 6, channels: number, samples: number[]): Uint8Array {
  return pngOf(width, height, 16, colorType, channels, samples);
}

/** A PNG of 8- or 16-bit `samples` (color type 0: grey, 2: RGB, 6: RGBA), rows unfiltered, with a tRNS chunk of `transparent` samples when given. */
function pngOf(width: number, height: number, depth: 8 | 16, colorType: 0 | 2 | 6, channels: number, samples: number[], transparent?: number[]): Uint8Array {
  const chunk = (type: string, body: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([depth, colorType, 0, 0, 0], 8);
  const bytesPerSample = depth / 8;
  const rows = Buffer.alloc(height * (1 + width * channels * bytesPerSample));
  for (let y = 0, o = 0; y < height; y++) {
    rows[o++] = 0; // filter: none
    for (let i = 0; i < width * channels; i++, o += bytesPerSample) rows.writeUIntBE(samples[y * width * channels + i]!, o, bytesPerSample);
  }
  const trns = transparent ? [chunk('tRNS', Buffer.from(transparent.flatMap((v) => [v >> 8, v & 255])))] : [];
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(Buffer.concat([signature, chunk('IHDR', ihdr), ...trns, chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]));
}

let env: Awaited<ReturnType<typeof openTestLakehouse>>;
let table: LakeSoulTable;
let bytesById: Map<number, Uint8Array>;

beforeAll(async () => {
  // The wasm backend, loaded from node_modules (its .wasm files resolve without configuration), or
  // tensorflow in the native project.
  await tf.setBackend(testBackend('wasm'));
  await tf.ready();
  env = await openTestLakehouse();
  ({ table, bytesById } = await createImageTable(env.lakehouse, 'shapes', { dates: ['2024-08-09', '2024-08-10'], perDate: 12, size: 20, filesPerDate: 2 }));
});
afterAll(async () => env?.close());

describe('images from a blob column', () => {
  it('runs on the wasm backend (tensorflow in the native project)', () => {
    expect(tf.getBackend()).toBe(testBackend('wasm'));
  });

  it('decodes the referenced bytes into [B, H, W, C] float32 equal to a direct decode', async () => {
    const pipeline = images.resize(12, 12).scale(1 / 255);
    // The pure-JS decoder as the reference (PNG: sharp gives the same pixels, tfjs-resize-kernel.test.ts).
    const ds = await tfjsDataset(table, { tf, partitions: { date: '2024-08-10' }, batchSize: 5, transform: pipeline, decode: { decoder: 'js' }, features: { img: 'image_path', id: { column: 'id', dtype: 'int32' } } });
    expect(ds.imageDecoder).toBe('js');
    const auto = await tfjsDataset(table, { tf, partitions: { date: '2024-08-10' }, batchSize: 5, transform: pipeline });
    expect(auto.imageDecoder).toBe('sharp'); // 'auto' prefers sharp, a devDependency here
    await auto.close();
    const ex = await createImageExecutor({ decoder: 'js' }); // the reference decode
    const it = await ds.iterator();
    const seen: number[] = [];
    for (let r = await it.next(); !r.done; r = await it.next()) {
      const el = r.value as { img: tf.Tensor; id: tf.Tensor };
      const ids = Array.from(el.id.dataSync());
      expect(el.img.shape).toEqual([ids.length, 12, 12, 3]);
      expect(el.img.dtype).toBe('float32');
      const px = el.img.dataSync();
      for (let k = 0; k < ids.length; k++) {
        const want = await ex.run(pipeline, bytesById.get(ids[k])!.slice(), 0);
        const got = px.subarray(k * 432, (k + 1) * 432);
        let maxDiff = 0;
        for (let i = 0; i < 432; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want.data[i]));
        expect(maxDiff).toBeLessThan(1e-6);
      }
      seen.push(...ids);
      tf.dispose([el.img, el.id]);
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => 12 + i));
  });

  it('16-bit PNGs decode to the same 8-bit values in JavaScript as in sharp (the high byte of each sample)', async () => {
    const js = await createImageExecutor({ decoder: 'js' });
    const native = await createImageExecutor({ decoder: 'sharp' });
    const [w, h] = [16, 8];
    for (const [colorType, channels] of [[2, 3], [6, 4]] as const) {
      const samples = Array.from({ length: w * h * channels }, (_, i) => (i * 2654435761) % 65536);
      const png = png16(w, h, colorType, channels, samples);
      const a = await js.run(images.decode(), png, 0);
      const b = await native.run(images.decode(), png, 0);
      const want = Array.from({ length: w * h }, (_, p) => [0, 1, 2].map((c) => samples[p * channels + c]! >> 8)).flat();
      expect([...a.data], 'pngjs alone rounds v/257: one level above for about half the samples').toEqual(want);
      expect([...b.data]).toEqual(want);
    }
    await js.close();
    await native.close();
  });

  it('transparent pixels of grey and RGB PNGs (tRNS) keep their colour in JavaScript, as in sharp (pngjs made them black)', async () => {
    const js = await createImageExecutor({ decoder: 'js' });
    const inWorker = await createImageExecutor({ decoder: 'js', workers: 1 });
    const native = await createImageExecutor({ decoder: 'sharp' });
    const [w, h] = [8, 4];
    const cases: [8 | 16, 0 | 2, number, number[]][] = [[8, 2, 3, [200, 100, 50]], [16, 2, 3, [51400, 25700, 12850]], [8, 0, 1, [180]]];
    for (const [depth, colorType, channels, key] of cases) {
      // every third pixel is the transparent colour
      const samples = Array.from({ length: w * h }, (_, p) => (p % 3 === 0 ? key : Array.from({ length: channels }, (_, c) => ((p * 37 + c * 11) % 250) * (depth === 16 ? 257 : 1)))).flat();
      const png = pngOf(w, h, depth, colorType, channels, samples, key);
      const a = await js.run(images.decode(), png, 0);
      const b = await native.run(images.decode(), png, 0);
      const to8 = (v: number) => (depth === 16 ? v >> 8 : v);
      const want = Array.from({ length: w * h }, (_, p) => [0, 1, 2].map((c) => to8(samples[p * channels + (channels === 1 ? 0 : c)]!))).flat();
      expect([...b.data], `sharp, depth ${depth} colour type ${colorType}`).toEqual(want);
      expect([...a.data], `JavaScript, depth ${depth} colour type ${colorType}`).toEqual(want);
      expect([...(await inWorker.run(images.decode(), png, 0)).data], `JavaScript in a worker thread, depth ${depth}`).toEqual(want);
    }
    await inWorker.close();
    await js.close();
    await native.close();
  });

  it('worker-thread decoding yields the same batches, augmentation reproducible per seed and epoch', async () => {
    const pipeline = images.resize(16, 16).randomCrop(12, 12).flip(0.5);
    const read = async (workers: number, epoch = 0) => {
      const ds = await tfjsDataset(table, { tf, batchSize: 4, transform: pipeline, decode: { decoder: 'js', workers }, shuffle: { seed: 4, bufferSize: 6 }, epoch, labels: { column: 'label', oneHot: 3 } });
      const out: number[][] = [];
      const it = await ds.iterator();
      for (let r = await it.next(); !r.done; r = await it.next()) {
        const el = r.value as { xs: tf.Tensor; ys: tf.Tensor };
        out.push(Array.from(el.xs.dataSync()));
        tf.dispose([el.xs, el.ys]);
      }
      await ds.close();
      return { out, kind: ds.imageDecoder };
    };
    const main = await read(0);
    const pool = await read(2);
    expect(pool.kind).toBe('js-workers');
    expect(pool.out).toEqual(main.out);
    expect(main.out.length).toBe(6);
    expect((await read(0, 1)).out).not.toEqual(main.out);
    // A pool shared by several datasets stays open when a dataset closes.
    const shared = await createImageExecutor({ decoder: 'js', workers: 2 });
    try {
      for (let k = 0; k < 2; k++) {
        const ds = await tfjsDataset(table, { tf, batchSize: 4, transform: pipeline, decode: { executor: shared }, shuffle: { seed: 4, bufferSize: 6 }, labels: { column: 'label', oneHot: 3 } });
        expect(ds.imageDecoder).toBe('js-workers');
        const it = await ds.iterator();
        const el = (await it.next()).value as { xs: tf.Tensor; ys: tf.Tensor };
        expect(Array.from(el.xs.dataSync())).toEqual(main.out[0]);
        tf.dispose([el.xs, el.ys]);
        await ds.close();
      }
    } finally {
      await shared.close();
    }
  });

  it('on the sharp path, images decode ahead across batch boundaries: more calls in flight than a batch holds', async () => {
    const sharp = await createImageExecutor({ decoder: 'sharp', concurrency: 8 });
    // The real sharp executor, counting the calls in flight.
    let inFlight = 0;
    let maxInFlight = 0;
    const targets: (PixelTarget | undefined)[] = [];
    const results: Float32Array[] = [];
    const counting = {
      kind: sharp.kind,
      concurrency: sharp.concurrency,
      run: async (...args: Parameters<typeof sharp.run>) => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        targets.push(args[4]);
        try {
          const img = await sharp.run(...args);
          results.push(img.data as Float32Array);
          return img;
        } finally {
          inFlight--;
        }
      },
      close: () => sharp.close(),
    };
    const pipeline = images.resize(12, 12).scale(1 / 255);
    const ds = await tfjsDataset(table, { tf, batchSize: 3, transform: pipeline, decode: { executor: counting }, features: { img: 'image_path', id: { column: 'id', dtype: 'int32' } } });
    const it = await ds.iterator();
    const ids: number[] = [];
    for (let r = await it.next(); !r.done; r = await it.next()) {
      const el = r.value as { img: tf.Tensor; id: tf.Tensor };
      expect(el.img.shape.slice(1)).toEqual([12, 12, 3]);
      ids.push(...Array.from(el.id.dataSync()));
      tf.dispose([el.img, el.id]);
    }
    expect(ids).toEqual(Array.from({ length: 24 }, (_, i) => i)); // order kept
    // One batch at a time would never exceed 3; 8 in flight means ceil(8 / 3) = 3 batches started ahead.
    expect(maxInFlight).toBeGreaterThan(3);
    expect(maxInFlight).toBeLessThanOrEqual(12);
    // Each image was decoded straight into its slice of the batch's memory (no copy when batching): on
    // the wasm backend the batch tensor's own memory in its heap (a view made when the image is
    // written), elsewhere a batch-sized JavaScript buffer, one per batch of 3.
    expect(results.every((r) => r.length === 12 * 12 * 3)).toBe(true);
    if (tf.getBackend() === 'wasm') {
      expect(targets.every((t) => typeof t === 'function')).toBe(true);
    } else {
      expect(targets.every((t) => t instanceof Float32Array && t.length === 12 * 12 * 3)).toBe(true);
      expect(results.every((r) => r.buffer.byteLength === 3 * 12 * 12 * 3 * 4)).toBe(true);
      expect(new Set(targets.map((t) => (t as Float32Array).buffer)).size).toBe(8);
    }
    await ds.close();
  });

  it('recycled batch and file buffers never change a batch already made: each batch equals its images decoded one by one', async () => {
    const sharp = await createImageExecutor({ decoder: 'sharp', concurrency: 8 });
    // The real sharp executor, noting the buffers the image files were read into.
    const inputs = new Set<ArrayBufferLike>();
    const noting = { kind: sharp.kind, concurrency: sharp.concurrency, run: (...args: Parameters<typeof sharp.run>) => (inputs.add(args[1].buffer), sharp.run(...args)), close: () => sharp.close() };
    const pipeline = images.resize(12, 12).scale(1 / 255);
    const ds = await tfjsDataset(table, { tf, batchSize: 4, transform: pipeline, decode: { executor: noting }, features: { img: 'image_path', id: { column: 'id', dtype: 'int32' } } });
    const it = await ds.iterator();
    const kept: { img: tf.Tensor; id: tf.Tensor }[] = [];
    for (let r = await it.next(); !r.done; r = await it.next()) kept.push(r.value as { img: tf.Tensor; id: tf.Tensor }); // none disposed
    expect(kept.length).toBe(6);
    // 24 local files, read into buffers handed back once their decode is done: at most 3 batches of 4
    // (the one awaited and ceil(8 / 4) ahead) are fetched or decoding at once, so at most 12 buffers.
    expect(inputs.size).toBeGreaterThan(0);
    expect(inputs.size).toBeLessThanOrEqual(12);
    for (const el of kept) {
      const got = el.img.dataSync();
      const ids = Array.from(el.id.dataSync());
      for (let i = 0; i < ids.length; i++) {
        const want = (await sharp.run(pipeline, bytesById.get(ids[i]!)!, 0)).data;
        expect(Array.from(got.subarray(i * want.length, (i + 1) * want.length))).toEqual(Array.from(want));
      }
    }
    tf.dispose(kept.flatMap((el) => [el.img, el.id]));
    await ds.close();
    await sharp.close();
  });

  it('on the sharp path, scale and normalize (one fused pass) give the values of scaling its 8-bit resize step by step', async () => {
    const sharp = await createImageExecutor({ decoder: 'sharp' });
    const bytes = bytesById.get(5)!;
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const fused = await sharp.run(images.resize(10, 14).scale(1 / 255).normalize(mean, std), bytes, 0);
    const plain = await sharp.run(images.resize(10, 14), bytes, 0); // 8-bit values as float32
    expect([fused.height, fused.width, fused.channels]).toEqual([10, 14, 3]);
    expect(fused.data).toBeInstanceOf(Float32Array);
    let maxDiff = 0;
    for (let i = 0; i < plain.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fused.data[i]! - (plain.data[i]! / 255 - mean[i % 3]!) / std[i % 3]!));
    expect(maxDiff).toBeLessThan(1e-5);
    // Steps after the fused ones still run (here a deterministic flip).
    const flipped = await sharp.run(images.resize(10, 14).scale(1 / 255).flip(1), bytes, 0);
    expect(flipped.data[0]).toBeCloseTo(plain.data[13 * 3]! / 255, 6);
  });

  it('trains with fitDataset and keeps the tensor count flat across epochs', async () => {
    const ds = await tfjsDataset(table, { tf, batchSize: 6, transform: images.resize(16, 16).scale(1 / 255), labels: { column: 'label', oneHot: 3 }, shuffle: { seed: 1 } });
    // Pooling + dense: wasm 4.22 lacks the Conv2DBackpropFilter kernel needed to train convolutions.
    const model = tf.sequential({ layers: [tf.layers.averagePooling2d({ inputShape: [16, 16, 3], poolSize: 2 }), tf.layers.flatten(), tf.layers.dense({ units: 3, activation: 'softmax' })] });
    model.compile({ optimizer: tf.train.adam(0.02), loss: 'categoricalCrossentropy' });
    await model.fitDataset(ds, { epochs: 1, verbose: 0 });
    const before = tf.memory().numTensors;
    const h = await model.fitDataset(ds, { epochs: 8, verbose: 0 });
    expect(tf.memory().numTensors).toBe(before);
    const loss = h.history.loss as number[];
    expect(loss[loss.length - 1]).toBeLessThan(loss[0]);
    model.dispose();
  });

  it('an undecodable image fails with an error naming table, row, column and file', async () => {
    const bad = await createImageTable(env.lakehouse, 'broken', { dates: ['d'], perDate: 3, size: 8 });
    const root = fileURLToPath(bad.table.info.path);
    writeFileSync(join(root, 'images', '1.png'), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const ds = await tfjsDataset(bad.table, { tf, batchSize: 3, transform: images.resize(4, 4) });
    const it = await ds.iterator();
    const err = await it.next().then(() => null, (e: unknown) => e);
    expect(LakeSoulError.is(err, 'InvalidArgument')).toBe(true);
    expect((err as LakeSoulError).message).toMatch(/table broken, partition date=d, split .*, row 1, column image_path \(images\/1\.png\): cannot transform image: unsupported image format/);
    expect((err as LakeSoulError).context).toMatchObject({ table: 'broken', column: 'image_path', row: 1, file: 'images/1.png' });
  });

  it('asks for the image column when the table has none declared', async () => {
    await expect(tfjsDataset({ plan: await (await table.scan({})).withRowCounts() }, { tf, transform: images.resize(4, 4) })).rejects.toThrow(/say which column|not read as bytes/);
  });
});
