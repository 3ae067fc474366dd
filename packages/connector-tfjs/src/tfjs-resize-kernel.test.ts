import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { Field, Int32, Int64, Schema, Utf8, makeTable, vectorFromArray, type Table } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { joinUri, type LakeSoulTable } from '@lakesoul-ts/io';
import { createImageExecutor, images, tfjsDataset, type ImageDecoderKind } from './index.js';
import { openTestLakehouse } from './test-support/tables.js';
import { testBackend } from './test-support/backend.js';

// One dataset, one resize kernel: sharp decodes, the JS half-pixel-centre bilinear resizes, whatever the
// decoder and whatever the image's size ('auto' decodes PNGs up to 100x100 in JavaScript and larger
// ones with sharp). libvips' resize is another kernel, only by name (resize: 'sharp').

/** High-frequency content: neighbouring pixels far apart, so that any other kernel shows. */
function pixels(w: number, h: number): Uint8Array {
  const d = new Uint8Array(w * h * 4);
  for (let k = 0; k < d.length; k++) d[k] = k % 4 === 3 ? 255 : (k * 7) % 256;
  return d;
}
const png = (w: number, h: number): Uint8Array => {
  const p = new PNG({ width: w, height: h });
  p.data = Buffer.from(pixels(w, h));
  return new Uint8Array(PNG.sync.write(p));
};
const jpg = (w: number, h: number): Uint8Array => new Uint8Array(jpeg.encode({ data: Buffer.from(pixels(w, h)), width: w, height: h }, 90).data);

// [id, format, width, height]: upsampled and downsampled, on both sides of auto's 100x100 PNG switch
const FILES = [
  [0, 'png', 4, 3],
  [1, 'png', 40, 30],
  [2, 'png', 120, 120],
  [3, 'png', 101, 100],
  [4, 'jpeg', 4, 3],
  [5, 'jpeg', 40, 30],
  [6, 'jpeg', 120, 120],
] as const;

let env: Awaited<ReturnType<typeof openTestLakehouse>>;
let table: LakeSoulTable;

beforeAll(async () => {
  await tf.setBackend(testBackend('cpu'));
  await tf.ready();
  env = await openTestLakehouse();
  table = await env.lakehouse.createTable('sizes', new Schema([new Field('id', new Int64(), false), new Field('image_path', new Utf8(), false), new Field('label', new Int32(), false)]), { blobColumns: ['image_path'] });
  for (const [id, format, w, h] of FILES) {
    const { store, key } = env.lakehouse.stores.resolve(joinUri(table.info.path, `img/${id}.${format}`));
    await store.put(key, format === 'png' ? png(w, h) : jpg(w, h));
  }
  await table.write(makeTable({
    id: vectorFromArray(FILES.map(([id]) => BigInt(id)), new Int64()),
    image_path: vectorFromArray(FILES.map(([id, format]) => `img/${id}.${format}`), new Utf8()),
    label: vectorFromArray(FILES.map(() => 0), new Int32()),
  } as never) as unknown as Table);
});
afterAll(async () => env?.close());

/** Per id, the pixels one dataset (all rows, one decoder) delivers. */
async function pixelsById(decode: { decoder: ImageDecoderKind; resize?: 'js' | 'sharp' }, size: number, format: 'png' | 'jpeg'): Promise<Map<number, Float32Array>> {
  const ds = await tfjsDataset(table, { tf, batchSize: 1, filter: format === 'png' ? 'id < 4' : 'id >= 4', transform: images.resize(size, size), decode, features: { img: 'image_path', id: { column: 'id', dtype: 'int32' } } });
  const out = new Map<number, Float32Array>();
  const it = await ds.iterator();
  for (let r = await it.next(); !r.done; r = await it.next()) {
    const el = r.value as unknown as { img: tf.Tensor; id: tf.Tensor };
    out.set(el.id.dataSync()[0]!, el.img.dataSync() as Float32Array);
    tf.dispose([el.img, el.id]);
  }
  await ds.close();
  return out;
}
const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('resize kernel', () => {
  it("PNGs: 'js', 'auto' and 'sharp' (and 'tfjs-node' on its backend) give the same pixels, upsampling and downsampling, small and large images in one dataset", async () => {
    const decoders: ImageDecoderKind[] = ['js', 'auto', 'sharp', ...(tf.getBackend() === 'tensorflow' ? (['tfjs-node'] as const) : [])];
    for (const size of [6, 32]) {
      const js = await pixelsById({ decoder: 'js' }, size, 'png');
      expect([...js.keys()].sort()).toEqual([0, 1, 2, 3]);
      for (const decoder of decoders) {
        const got = await pixelsById({ decoder }, size, 'png');
        for (const [id, want] of js) expect(maxDiff(got.get(id)!, want), `${decoder}, image ${id} -> ${size}x${size}`).toBe(0);
      }
    }
  });

  it("JPEGs: 'auto' decodes every JPEG with sharp (one JPEG decoder per dataset), and the resize is the JS kernel", async () => {
    const sharp = await pixelsById({ decoder: 'sharp' }, 6, 'jpeg');
    const auto = await pixelsById({ decoder: 'auto' }, 6, 'jpeg');
    for (const [id, want] of sharp) expect(maxDiff(auto.get(id)!, want), `image ${id}`).toBe(0);
    // The resize after sharp's decode is the JS kernel: the same as resizing sharp's decoded pixels in JavaScript.
    const executor = await createImageExecutor({ decoder: 'sharp' });
    for (const [id, , w, h] of FILES.filter((f) => f[1] === 'jpeg')) {
      const decoded = await executor.run(images.decode(), jpg(w, h), 0);
      const ref = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(decoded.data as Float32Array, [h, w, 3]), [6, 6], false, true).dataSync() as Float32Array);
      expect(maxDiff(sharp.get(id)!, ref), `image ${id}`).toBeLessThan(1e-3);
    }
    await executor.close();
  });

  it("libvips' resize only by name (decoder 'sharp', resize 'sharp'): another kernel, far from the JS one", async () => {
    const js = await pixelsById({ decoder: 'js' }, 6, 'png');
    const vips = await pixelsById({ decoder: 'sharp', resize: 'sharp' }, 6, 'png');
    expect(maxDiff(vips.get(0)!, js.get(0)!)).toBeGreaterThan(30); // 4x3 -> 6x6
    expect(maxDiff(vips.get(1)!, js.get(1)!)).toBeGreaterThan(30); // 40x30 -> 6x6
    for (const decoder of ['auto', 'js', 'tfjs-node'] as const) {
      const err = await createImageExecutor({ decoder, resize: 'sharp' }).then(() => null, (e: unknown) => e);
      expect(LakeSoulError.is(err, 'InvalidArgument'), decoder).toBe(true);
      expect((err as LakeSoulError).code).toBe('BAD_DECODE_OPTION');
      expect((err as LakeSoulError).message).toMatch(/needs decoder 'sharp'/);
    }
    await expect(createImageExecutor({ decoder: 'sharp', resize: 'vips' as never })).rejects.toThrow(/must be 'js' or 'sharp'/);
  });
});
