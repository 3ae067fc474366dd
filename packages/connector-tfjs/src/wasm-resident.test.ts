import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { LakeSoulTable } from '@lakesoul-ts/io';
import { createImageExecutor, images, tfjsDataset, type ImageExecutor, type PixelTarget } from './index.js';
import { createImageTable, openTestLakehouse } from './test-support/tables.js';

/** The parts of tfjs-backend-wasm's backend these tests look at. */
interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  numDataIds(): number;
  move(dataId: object, values: ArrayLike<number> | null, shape: number[], dtype: string, refCount: number): void;
}

let env: Awaited<ReturnType<typeof openTestLakehouse>>;
let table: LakeSoulTable;
let bytesById: Map<number, Uint8Array>;
let sharp: ImageExecutor;
const backend = () => tf.backend() as unknown as WasmBackend;
const pipeline = images.resize(12, 12).scale(1 / 255);
const IMAGE = 12 * 12 * 3;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

beforeAll(async () => {
  // Always the wasm backend: the memory these tests follow is its heap.
  await tf.setBackend('wasm');
  await tf.ready();
  env = await openTestLakehouse();
  ({ table, bytesById } = await createImageTable(env.lakehouse, 'resident', { dates: ['d'], perDate: 24, size: 20, filesPerDate: 2 }));
  sharp = await createImageExecutor({ decoder: 'sharp', concurrency: 8 });
});
afterAll(async () => {
  await sharp?.close();
  await env?.close();
});

/** Every image of every batch equals the same image decoded alone. */
async function expectImagesOf(batches: { img: tf.Tensor; id: tf.Tensor }[]): Promise<void> {
  for (const el of batches) {
    const got = el.img.dataSync();
    const ids = Array.from(el.id.dataSync());
    expect(got.length).toBe(ids.length * IMAGE);
    for (let i = 0; i < ids.length; i++) {
      const want = (await sharp.run(pipeline, bytesById.get(ids[i]!)!, 0)).data;
      expect(Array.from(got.subarray(i * IMAGE, (i + 1) * IMAGE))).toEqual(Array.from(want));
    }
  }
}

/** Runs `fn` noting the length of every array the backend copies into its heap. */
async function noteCopies<T>(fn: () => Promise<T>): Promise<{ result: T; copied: number[] }> {
  const b = backend();
  const copied: number[] = [];
  const move = b.move;
  b.move = function (this: WasmBackend, ...args: Parameters<WasmBackend['move']>) {
    if (args[1] !== null) copied.push(args[1].length);
    return move.apply(this, args);
  };
  try {
    return { result: await fn(), copied };
  } finally {
    b.move = move;
  }
}

/** Polls (collecting garbage) until the backend holds `n` data buffers, or gives up after 5 s. */
async function settleTo(n: number): Promise<number> {
  for (let t = 0; t < 100 && backend().numDataIds() !== n; t++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  return backend().numDataIds();
}

describe('batch images decoded into the wasm backend heap', () => {
  it('writes each image into the batch tensor itself: no batch-sized copy when the tensor is made', async () => {
    const targets: (PixelTarget | undefined)[] = [];
    const noting: ImageExecutor = { kind: sharp.kind, concurrency: sharp.concurrency, run: (...args) => (targets.push(args[4]), sharp.run(...args)), close: async () => {} };
    const ds = await tfjsDataset(table, { tf, batchSize: 4, transform: pipeline, decode: { executor: noting }, features: { img: 'image_path', id: { column: 'id', dtype: 'int32' } } });
    const { result: kept, copied } = await noteCopies(async () => {
      const out: { img: tf.Tensor; id: tf.Tensor }[] = [];
      const it = await ds.iterator();
      for (let r = await it.next(); !r.done; r = await it.next()) out.push(r.value as { img: tf.Tensor; id: tf.Tensor });
      return out;
    });
    expect(kept.map((el) => el.img.shape)).toEqual(Array.from({ length: 6 }, () => [4, 12, 12, 3]));
    expect(targets.length).toBe(24);
    expect(targets.every((t) => typeof t === 'function')).toBe(true);
    // Only the small id tensors were copied in; no image batch (4 x 432 floats) was.
    expect(copied.filter((n) => n >= IMAGE)).toEqual([]);
    await expectImagesOf(kept);
    tf.dispose(kept.flatMap((el) => [el.img, el.id]));
    await ds.close();
  });

  it('loses nothing when the heap grows between an image decode starting and its write', async () => {
    const big: tf.Tensor[] = [];
    const heapBefore = backend().wasm.HEAPU8.buffer;
    // While each third decode is inside libvips, 8 MiB more tensors: the heap grows and every view
    // of its old buffer is detached before the image is written.
    let calls = 0;
    const growing: ImageExecutor = {
      kind: sharp.kind,
      concurrency: sharp.concurrency,
      run: (...args) => {
        const p = sharp.run(...args);
        if (calls++ % 3 === 0) big.push(tf.zeros([2 << 20]));
        return p;
      },
      close: async () => {},
    };
    const ds = await tfjsDataset(table, { tf, batchSize: 5, transform: pipeline, decode: { executor: growing }, features: { img: 'image_path', id: { column: 'id', dtype: 'int32' } } });
    const { result: kept, copied } = await noteCopies(async () => {
      const out: { img: tf.Tensor; id: tf.Tensor }[] = [];
      const it = await ds.iterator();
      for (let r = await it.next(); !r.done; r = await it.next()) out.push(r.value as { img: tf.Tensor; id: tf.Tensor });
      return out;
    });
    expect(backend().wasm.HEAPU8.buffer).not.toBe(heapBefore); // it did grow
    // Still written in place: a view made before the growth would have been detached, the image
    // decoded into a fresh array instead and the batch copied in.
    expect(copied.filter((n) => n >= IMAGE && n <= 5 * IMAGE)).toEqual([]);
    expect(kept.reduce((a, el) => a + el.img.shape[0]!, 0)).toBe(24);
    await expectImagesOf(kept);
    tf.dispose([...big, ...kept.flatMap((el) => [el.img, el.id])]);
    await ds.close();
  });

  it('frees the memory of batches that fail, and of an iterator dropped mid-epoch', async () => {
    const base = backend().numDataIds();
    // A failing image: its batch and the batches decoding ahead of the consumer are freed.
    const bad = await createImageTable(env.lakehouse, 'resident_broken', { dates: ['d'], perDate: 12, size: 8 });
    writeFileSync(join(fileURLToPath(bad.table.info.path), 'images', '5.png'), new Uint8Array([1, 2, 3]));
    const ds = await tfjsDataset(bad.table, { tf, batchSize: 2, transform: pipeline, decode: { executor: sharp } });
    const it = await ds.iterator();
    let error: unknown = null;
    for (;;) {
      const r = await it.next().catch((e: unknown) => ((error = e), null));
      if (r === null || r.done) break;
      tf.dispose(r.value as tf.TensorContainer);
    }
    expect(String(error)).toMatch(/row 5, column image_path .*cannot transform image/);
    expect(await settleTo(base)).toBe(base);
    // An iterator tf.data stops using after one batch, never ended: collected, its batches are freed.
    const ds2 = await tfjsDataset(table, { tf, batchSize: 2, transform: pipeline, decode: { executor: sharp } });
    await (async () => {
      const it2 = await ds2.iterator();
      tf.dispose((await it2.next()).value as tf.TensorContainer);
    })();
    expect(await settleTo(base)).toBe(base);
  });

  it('with a row hook, images go to recycled JavaScript batch buffers instead (the hook sees plain arrays)', async () => {
    const targets: (PixelTarget | undefined)[] = [];
    const noting: ImageExecutor = { kind: sharp.kind, concurrency: sharp.concurrency, run: (...args) => (targets.push(args[4]), sharp.run(...args)), close: async () => {} };
    let seen = 0;
    const ds = await tfjsDataset(table, {
      tf,
      batchSize: 3,
      image: pipeline,
      transform: (row) => {
        const img = row.image_path as { values: Float32Array };
        if (img.values.length === IMAGE) seen++;
        return row;
      },
      decode: { executor: noting },
      features: { img: 'image_path', id: { column: 'id', dtype: 'int32' } },
    });
    const it = await ds.iterator();
    for (let r = await it.next(); !r.done; r = await it.next()) tf.dispose(r.value as tf.TensorContainer);
    expect(seen).toBe(24);
    expect(targets.every((t) => t instanceof Float32Array && t.length === IMAGE)).toBe(true);
    // The wasm backend copies a tensor's values as it is made, so batch buffers are recycled: at most
    // the batches decoding or waiting at once (ceil(8 / 3) ahead + the one awaited) plus one.
    expect(new Set(targets.map((t) => (t as Float32Array).buffer)).size).toBeLessThanOrEqual(5);
    await ds.close();
  });
});
