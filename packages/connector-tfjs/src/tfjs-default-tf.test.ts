/**
 * The loader without `tf`, in a process where nothing imported a TensorFlow.js backend (this file
 * imports none): tfjs-core alone registers no backend, and the first batch failed "No backend found in
 * registry". It now takes a whole TensorFlow.js (here the native one, a dev dependency).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Lakehouse } from '@lakesoul-ts/io';
import { tfjsDataset } from './index.js';

const lake = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: 'memory://default-tf' });
afterAll(() => lake.close());

describe('tfjsDataset without tf', () => {
  it('yields batches when no backend was imported', async () => {
    const core = await import('@tensorflow/tfjs-core');
    expect(core.engine().backendNames()).toEqual([]); // the case: nothing registered one
    const t = await lake.createTable('t', [{ id: 1, x: 0.5 }, { id: 2, x: 0.25 }, { id: 3, x: 0.125 }]);
    const ds = await tfjsDataset(t, { batchSize: 2, columns: ['x'] });
    const seen: number[] = [];
    await ds.forEachAsync((b) => {
      const x = (b as Record<string, { dataSync(): Float32Array }>).x!;
      seen.push(...x.dataSync());
    });
    expect(seen.sort()).toEqual([0.125, 0.25, 0.5]);
  });
});
