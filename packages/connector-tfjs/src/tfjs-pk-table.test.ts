import { afterAll, beforeAll, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { LakeSoulTable } from '@lakesoul-ts/io';
import { tfjsDataset, type TfjsDataset } from './index.js';
import { openTestLakehouse, tabularRows, tabularSchema } from './test-support/tables.js';

// A primary-key table: splits are partition x bucket, row counts from footers are upper bounds before
// the merge (upserted keys appear in two files), so equalizing must cope with fewer merged rows.
let env: Awaited<ReturnType<typeof openTestLakehouse>>;
let table: LakeSoulTable;
const IDS = Array.from({ length: 40 }, (_, i) => i);

beforeAll(async () => {
  env = await openTestLakehouse();
  table = await env.lakehouse.createTable('pk', tabularSchema, { rangePartitions: ['date'], primaryKeys: ['id'], hashBucketNum: 4 });
  await table.write(tabularRows(IDS, 'd'));
  // Upsert half of the keys again: they are in two files of their bucket until the merge.
  const upd = tabularRows(IDS.filter((i) => i % 2 === 0), 'd');
  await table.write(upd);
});
afterAll(async () => env?.close());

async function readAll(ds: TfjsDataset): Promise<{ id: number; x: number }[]> {
  const out: { id: number; x: number }[] = [];
  const it = await ds.iterator();
  for (let r = await it.next(); !r.done; r = await it.next()) {
    const el = r.value as Record<string, tf.Tensor>;
    const ids = el.id.dataSync();
    const xs = el.x.dataSync();
    ids.forEach((id, k) => out.push({ id, x: xs[k] }));
    tf.dispose(Object.values(el));
  }
  return out;
}

it('ranks read merged partition x bucket splits: disjoint, union = the distinct keys', async () => {
  const per: { id: number; x: number }[][] = [];
  for (let rank = 0; rank < 3; rank++) {
    const ds = await tfjsDataset(table, { tf, rank, worldSize: 3, batchSize: 8, features: { id: { column: 'id', dtype: 'int32' }, x: 'x' }, shuffle: { seed: 2 } });
    expect(ds.shardSplits.every((s) => s.bucket !== null)).toBe(true);
    per.push(await readAll(ds));
  }
  const all = per.flat();
  expect(all.map((r) => r.id).sort((a, b) => a - b)).toEqual(IDS);
  for (let a = 0; a < 3; a++) for (let b = a + 1; b < 3; b++) expect(per[a].filter((r) => per[b].some((q) => q.id === r.id))).toEqual([]);
});

it("'pad' reaches the promised count although the merge removed rows; 'drop' either matches or says why", async () => {
  const counts: number[] = [];
  for (let rank = 0; rank < 2; rank++) {
    const ds = await tfjsDataset(table, { tf, rank, worldSize: 2, equalize: 'pad', batchSize: 8, features: { id: { column: 'id', dtype: 'int32' }, x: 'x' } });
    const rows = await readAll(ds);
    expect(rows.length).toBe(ds.samplesPerEpoch);
    counts.push(rows.length);
  }
  expect(counts[0]).toBe(counts[1]);
  for (let rank = 0; rank < 2; rank++) {
    const ds = await tfjsDataset(table, { tf, rank, worldSize: 2, equalize: 'drop', batchSize: 8, features: { id: { column: 'id', dtype: 'int32' }, x: 'x' } });
    const got = await readAll(ds).then(
      (rows) => rows.length,
      (e: unknown) => e,
    );
    if (typeof got === 'number') expect(got).toBe(ds.samplesPerEpoch);
    else {
      expect(LakeSoulError.is(got, 'Conflict')).toBe(true);
      expect((got as LakeSoulError).code).toBe('EQUALIZE_SHORT');
      expect((got as Error).message).toMatch(/metadata promised at least \d+ .*use equalize 'pad'/);
    }
  }
});

it('resume on a primary-key table (counts are upper bounds: the pass is replayed) is exact', async () => {
  const o = { tf, batchSize: 3, features: { id: { column: 'id', dtype: 'int32' as const }, x: 'x' }, shuffle: { seed: 9, bufferSize: 4 }, rank: 0, worldSize: 2, equalize: 'pad' as const };
  const full = (await readAll(await tfjsDataset(table, o))).map((r) => r.id);
  const first = await tfjsDataset(table, o);
  const it1 = await first.iterator();
  const a: number[] = [];
  for (let i = 0; i < 2; i++) {
    const el = (await it1.next()).value as Record<string, tf.Tensor>;
    a.push(...el.id.dataSync());
    tf.dispose(Object.values(el));
  }
  const second = await tfjsDataset(table, { ...o, resumeFrom: first.getState() });
  const it2 = await second.iterator();
  const el = (await it2.next()).value as Record<string, tf.Tensor>;
  a.push(...el.id.dataSync());
  tf.dispose(Object.values(el));
  const third = await tfjsDataset(table, { ...o, resumeFrom: second.getState() });
  const rest = (await readAll(third)).map((r) => r.id);
  expect([...a, ...rest]).toEqual(full);
});

it('a resumed position after the last full batch (dropRemainder; the epoch count unknown) continues with the next epoch', async () => {
  const o = { tf, batchSize: 7, dropRemainder: true, features: { id: { column: 'id', dtype: 'int32' as const }, x: 'x' }, shuffle: { seed: 3, bufferSize: 8 } };
  const run = await tfjsDataset(table, o);
  const epoch0 = (await readAll(run)).map((r) => r.id);
  expect(epoch0.length).toBe(35); // 40 keys in batches of 7: 5 full batches, 5 rows dropped
  const epoch1 = (await readAll(run)).map((r) => r.id);
  // stop after the last full batch of epoch 0, before the iterator has seen the end
  const first = await tfjsDataset(table, o);
  const it = await first.iterator();
  for (let i = 0; i < 5; i++) tf.dispose(Object.values((await it.next()).value as Record<string, tf.Tensor>));
  expect(first.getState()).toMatchObject({ epoch: 0, samplesConsumed: 35 });
  const resumed = await tfjsDataset(table, { ...o, resumeFrom: first.getState() });
  expect((await readAll(resumed)).map((r) => r.id), 'the first iteration of the resumed run is epoch 1, not an empty rest of epoch 0').toEqual(epoch1);
  expect(resumed.getState()).toMatchObject({ epoch: 2, samplesConsumed: 0 });
  // That state counts epoch 0 as not ended, so it cannot change the sharding (docs/training.md, Resume);
  // once the iterator has reported the end (what onEpochEnd sees), the state is the epoch boundary.
  await expect(tfjsDataset(table, { ...o, rank: 0, worldSize: 2, resumeFrom: first.getState() })).rejects.toMatchObject({ code: 'RESUME_MISMATCH' });
  expect((await it.next()).done).toBe(true);
  const boundary = first.getState();
  expect(boundary).toMatchObject({ epoch: 1, samplesConsumed: 0 });
  for (let rank = 0; rank < 2; rank++) expect((await tfjsDataset(table, { ...o, rank, worldSize: 2, resumeFrom: boundary })).shardSplits.length).toBeGreaterThan(0);
});

it('a resume position past the merged epoch (counts known only by reading) fails naming the position and the real count', async () => {
  const o = { tf, batchSize: 8, features: { id: { column: 'id', dtype: 'int32' as const }, x: 'x' }, shuffle: { seed: 4 } };
  const ds = await tfjsDataset(table, o);
  expect(ds.samplesPerEpoch).toBeNull(); // footer counts (60) are upper bounds of the 40 merged keys
  const state = ds.getState();
  for (const past of [41, 60, 1000]) {
    const err = await readAll(await tfjsDataset(table, { ...o, resumeFrom: { ...state, epoch: 0, samplesConsumed: past } })).then(() => null, (e: unknown) => e);
    expect(LakeSoulError.is(err, 'InvalidArgument'), String(past)).toBe(true);
    expect((err as LakeSoulError).code).toBe('RESUME_PAST_END');
    expect((err as Error).message).toContain(`position ${past} (samplesConsumed) is past the end of epoch 0, which held 40 samples`);
  }
  // the end is the next epoch
  const next = (await readAll(await tfjsDataset(table, { ...o, resumeFrom: { ...state, epoch: 0, samplesConsumed: 40 } }))).map((r) => r.id);
  expect(next).toEqual((await readAll(await tfjsDataset(table, { ...o, epoch: 1 }))).map((r) => r.id));
});
