import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Binary, Field, Int32, Schema, makeTable, vectorFromArray } from 'apache-arrow';
import { PNG } from 'pngjs';
import type { Lakehouse, LakeSoulTable } from '@lakesoul-ts/io';
import { images, tfjsDataset } from './index.js';
import { openTestLakehouse } from './test-support/tables.js';

/** A `size` x `size` PNG of one colour, with noise-like bytes so that it is large. */
function solidPng(size: number, rgb: [number, number, number]): Uint8Array {
  const png = new PNG({ width: size, height: size });
  for (let i = 0; i < size * size; i++) png.data.set([...rgb, 255], i * 4);
  return new Uint8Array(PNG.sync.write(png));
}

let env: Awaited<ReturnType<typeof openTestLakehouse>>;
let lakehouse: Lakehouse;
let table: LakeSoulTable;
let broken: LakeSoulTable;

beforeAll(async () => {
  env = await openTestLakehouse();
  lakehouse = env.lakehouse;
  const schema = new Schema([new Field('image', new Binary(), false), new Field('label', new Int32(), false)]);
  table = await lakehouse.createTable('inline', schema);
  await table.write(makeTable({ image: vectorFromArray([solidPng(40, [255, 0, 0]), solidPng(20, [0, 0, 255])], new Binary()), label: vectorFromArray([0, 1], new Int32()) } as never), { mode: 'append' });
  broken = await lakehouse.createTable('inline_broken', schema);
  // a PNG signature and a broken header: its decoder fails; the message must not quote all its bytes
  const cut = solidPng(256, [1, 2, 3]);
  const big = new Uint8Array(100_000).fill(0x41);
  big.set(cut.subarray(0, 20));
  await broken.write(makeTable({ image: vectorFromArray([big], new Binary()), label: vectorFromArray([0], new Int32()) } as never), { mode: 'append' });
});
afterAll(async () => env?.close());

describe('images stored inline in a binary column', () => {
  for (const [what, pipeline] of [['named with on()', images.resize(4, 4).on('image')], ['the only binary column', images.resize(4, 4)]] as const) {
    it(`are decoded by the image pipeline (${what})`, async () => {
      const ds = await tfjsDataset(table, { tf, batchSize: 2, labels: 'label', transform: pipeline });
      const r = await (await ds.iterator()).next();
      const { xs, ys } = r.value as { xs: tf.Tensor; ys: tf.Tensor };
      expect(xs.shape).toEqual([2, 4, 4, 3]);
      const px = xs.arraySync() as number[][][][];
      expect(px[0][1][2]).toEqual([255, 0, 0]);
      expect(px[1][3][0]).toEqual([0, 0, 255]);
      expect(Array.from(ys.dataSync())).toEqual([0, 1]);
      tf.dispose([xs, ys]);
      await ds.close();
    });
  }

  it('an undecodable inline image fails naming table, row and column, with a bounded message', async () => {
    const ds = await tfjsDataset(broken, { tf, batchSize: 1, transform: images.resize(4, 4).on('image') });
    const err = await (await ds.iterator()).next().then(() => null, (e: unknown) => e as Error & { code?: string });
    expect(err).not.toBeNull();
    expect(err!.code).toBe('IMAGE_DECODE');
    expect(err!.message).toMatch(/inline_broken.*row 0, column image \(inline, 100000 bytes: 89 50 4e 47/);
    expect(err!.message.length).toBeLessThan(1000);
    await ds.close();
  });
});
