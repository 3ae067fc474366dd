/**
 * The objects inside tfjsDataset's options are checked as its top level is (a hunt of the training
 * connectors): a misspelled `snapshot.version` read the latest data, a misspelled `labels.oneHot`,
 * `shuffle.bufferSize` or feature `dtype` fell back to a default, and a misspelled decoder name ran
 * the pure-JS decoder, all without a word. A transform that returns nothing is named as such.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Field, Float64, Int32, Schema } from 'apache-arrow';
import type { LakeSoulTable } from '@lakesoul-ts/io';
import { createImageExecutor, images, tfjsDataset, type TfjsDatasetOptions } from './index.js';
import { openTestLakehouse } from './test-support/tables.js';

let env: Awaited<ReturnType<typeof openTestLakehouse>>;
let t: LakeSoulTable;

beforeAll(async () => {
  env = await openTestLakehouse();
  t = await env.lakehouse.createTable('pinned', new Schema([new Field('x', new Float64(), false), new Field('y', new Int32(), false)]));
  await t.write([{ x: 0.5, y: 1 }, { x: 1.5, y: 2 }]);
  await t.write([{ x: 2.5, y: 3 }]);
});
afterAll(async () => env?.close());

const ids = async (options: Partial<TfjsDatasetOptions>) => {
  const ds = await tfjsDataset(t, { tf, batchSize: 8, features: 'x', ...options });
  const out: number[] = [];
  await ds.forEachAsync((el) => {
    out.push(...((el as Record<string, tf.Tensor>).x.dataSync() as Float32Array));
    tf.dispose(el as never);
  });
  return out.sort();
};

describe('tfjsDataset nested options', () => {
  it("dropRemainder given as text is refused (a truthy 'false' dropped each epoch's last batch)", async () => {
    expect(await ids({ batchSize: 2, dropRemainder: false })).toEqual([0.5, 1.5, 2.5]);
    await expect(ids({ batchSize: 2, dropRemainder: 'false' as never })).rejects.toMatchObject({ code: 'INVALID_OPTION_VALUE', message: "tfjsDataset: dropRemainder must be true or false, got the string 'false'" });
  });

  it('a snapshot pins its version; a misspelled or empty one is refused instead of reading the latest', async () => {
    expect(await ids({ snapshot: { version: 0 } })).toEqual([0.5, 1.5]);
    expect(await ids({})).toEqual([0.5, 1.5, 2.5]);
    await expect(ids({ snapshot: { versoin: 0 } as never })).rejects.toMatchObject({ code: 'UNKNOWN_OPTION', message: expect.stringMatching(/tfjsDataset snapshot: unknown option 'versoin' \(did you mean 'version'\?\)/) });
    await expect(ids({ snapshot: {} as never })).rejects.toMatchObject({ code: 'BAD_DATASET_OPTION', message: expect.stringMatching(/snapshot takes one of version or timestamp, got neither/) });
    await expect(ids({ snapshot: { version: 0, timestamp: 1 } as never })).rejects.toMatchObject({ code: 'BAD_DATASET_OPTION', message: expect.stringMatching(/got both/) });
  });

  it('misspelled keys of shuffle, decode, labels and features are refused, naming the closest', async () => {
    for (const [options, where, key, near] of [
      [{ shuffle: { seed: 1, buffersize: 1 } }, 'shuffle', 'buffersize', 'bufferSize'],
      [{ decode: { decodr: 'sharp' } }, 'decode', 'decodr', 'decoder'],
      [{ labels: { column: 'y', onehot: 4 } }, 'labels', 'onehot', 'oneHot'],
      [{ features: { a: { column: 'x', dtyp: 'int32' } } }, 'feature a', 'dtyp', 'dtype'],
    ] as const) {
      await expect(ids(options as never), key).rejects.toMatchObject({ code: 'UNKNOWN_OPTION', message: expect.stringContaining(`tfjsDataset ${where}: unknown option '${key}' (did you mean '${near}'?)`) });
    }
  });

  it("a feature dtype tfjs would refuse at the first batch is refused when the dataset is made, naming the feature", async () => {
    await expect(tfjsDataset(t, { tf, features: { a: { column: 'x', dtype: 'float64' as never } } })).rejects.toMatchObject({ code: 'BAD_DATASET_OPTION', message: expect.stringMatching(/feature a: dtype must be 'float32' or 'int32', got "float64"/) });
    const ds = await tfjsDataset(t, { tf, batchSize: 8, features: { a: { column: 'x', dtype: 'int32' } } });
    const el = (await (await ds.iterator()).next()).value as { xs: Record<string, tf.Tensor> } | Record<string, tf.Tensor>;
    const a = ('xs' in el ? (el.xs as Record<string, tf.Tensor>).a : (el as Record<string, tf.Tensor>).a)!;
    expect([a.dtype, [...a.dataSync()].sort()]).toEqual(['int32', [0, 1, 2]]);
    tf.dispose(el as never);
  });

  it("misspelled keys of an image pipeline's decode and of createImageExecutor are refused (they decoded RGB, picked sharp, ran no workers)", async () => {
    expect(() => images.decode({ channel: 1 } as never)).toThrow(/images\.decode: unknown option 'channel' \(did you mean 'channels'\?\)/);
    expect(() => images.resize(4, 4, { chanels: 1 } as never)).toThrow(/unknown option 'chanels'/);
    expect(() => images.decode('gray' as never)).toThrow(/decode: options must be an object such as \{ channels: 1 \}, got "gray"/);
    await expect(createImageExecutor({ decodr: 'js' } as never)).rejects.toThrow(/createImageExecutor: unknown option 'decodr' \(did you mean 'decoder'\?\)/);
    await expect(createImageExecutor({ worker: 2 } as never)).rejects.toThrow(/unknown option 'worker' \(did you mean 'workers'\?\)/);
    expect(images.decode({ channels: 1 }).ops).toEqual([{ op: 'decode', channels: 1 }]);
  });

  it('an image decoder is one of the four names', async () => {
    await expect(createImageExecutor({ decoder: 'shrap' as never })).rejects.toMatchObject({ code: 'BAD_DECODE_OPTION', message: expect.stringMatching(/image decoder must be 'auto', 'js', 'sharp', 'tfjs-node', got "shrap"/) });
    const js = await createImageExecutor({ decoder: 'js' });
    expect(js.kind).toBe('js');
    await js.close();
  });

  it('a transform that returns nothing is named as such, with the row', async () => {
    await expect(ids({ transform: (() => undefined) as never })).rejects.toMatchObject({ code: 'BAD_DATASET_OPTION', message: expect.stringMatching(/row 0: the transform returned undefined, not a row .*did it miss a `return`/) });
  });
});
