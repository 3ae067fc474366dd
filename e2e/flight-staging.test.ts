/**
 * The io staging API behind Flight transactions (LakeSoulTable.stage / commitStaged / discardStaged),
 * on PGlite + local disk and PostgreSQL + the moto S3 server: staged files are invisible until one
 * commit, a discard deletes them, and what cannot be combined is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Float64, Int64, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { openTestLakehouse, rowsOf, sortRows, type CatalogKind, type StorageKind, type TestLakehouse } from './io-harness.js';

const schema = new Schema([
  new Field('id', new Int64(), false),
  new Field('city', new Utf8(), false),
  new Field('score', new Float64(), true),
]);

function rows(ids: number[], score: (i: number) => number): Table {
  return new Table({
    id: vectorFromArray(ids.map(BigInt), new Int64()),
    city: vectorFromArray(ids.map((i) => (i % 2 ? 'oslo' : 'paris')), new Utf8()),
    score: vectorFromArray(ids.map(score), new Float64()),
  });
}

const ENVS: [CatalogKind, StorageKind][] = [
  ['pglite', 'local'],
  ['pg', 's3'],
];

describe.each(ENVS)('staged writes on %s catalog + %s storage', (catalogKind, storage) => {
  let env: TestLakehouse;
  beforeAll(async () => {
    env = await openTestLakehouse(catalogKind, storage);
  });
  afterAll(async () => {
    await env?.close();
  });

  async function exists(path: string): Promise<boolean> {
    const { store, key } = env.lh.stores.resolve(path);
    try {
      await store.head(key);
      return true;
    } catch {
      return false;
    }
  }

  it('stages two upserts invisibly and commits them as one commit, the later one winning', async () => {
    const t = await env.lh.createTable(`staged_${storage}`, schema, { rangePartitions: ['city'], primaryKeys: ['id'], hashBucketNum: 2 });
    const a = await t.stage(rows([1, 2, 3, 4], (i) => i));
    const b = await t.stage(rows([3, 4, 5, 6], (i) => i * 10));
    expect(a.rows + b.rows).toBe(8);
    for (const f of [...a.files, ...b.files]) expect(await exists(f.path)).toBe(true);
    expect(await t.history()).toEqual([]);
    expect((await t.toArrow()).numRows).toBe(0);
    const r = await t.commitStaged([a, b]);
    expect(r.rows).toBe(8);
    expect([...r.versions.keys()].sort()).toEqual(['city=oslo', 'city=paris']);
    expect((await t.history()).length).toBe(2); // one commit: one version per partition
    expect(sortRows(rowsOf(await t.toArrow()), ['id']).map((x) => [x.id, x.score])).toEqual([[1, 1], [2, 2], [3, 30], [4, 40], [5, 50], [6, 60]]);
  });

  it('discards staged files; refuses mixing appends with upserts and staged writes of another table', async () => {
    const t = await env.lh.createTable(`discard_${storage}`, schema, { primaryKeys: ['id'], hashBucketNum: 2 });
    const other = await env.lh.createTable(`other_${storage}`, schema, { primaryKeys: ['id'], hashBucketNum: 2 });
    const s = await t.stage(rows([1, 2, 3], (i) => i));
    await t.discardStaged([s]);
    for (const f of s.files) expect(await exists(f.path)).toBe(false);
    const up = await t.stage(rows([1], (i) => i), { mode: 'upsert' });
    const app = await t.stage(rows([2], (i) => i), { mode: 'append' });
    await expect(t.commitStaged([up, app])).rejects.toMatchObject({ kind: 'InvalidArgument', code: 'STAGED_MIXED_OPS' });
    await expect(other.commitStaged([up])).rejects.toMatchObject({ kind: 'InvalidArgument', code: 'STAGED_WRONG_TABLE' });
    expect(await t.history()).toEqual([]);
    expect(await other.history()).toEqual([]);
    await t.discardStaged([up, app]);
    // an empty stage commits nothing
    const empty = await t.stage(new Table(schema));
    expect((await t.commitStaged([empty])).versions.size).toBe(0);
    expect(await t.history()).toEqual([]);
  });

  it('stages several writes under one overwrite plan and commits them as one UpdateCommit', async () => {
    const t = await env.lh.createTable(`plan_${storage}`, schema, { rangePartitions: ['city'], primaryKeys: ['id'], hashBucketNum: 2 });
    await t.write(rows([1, 2, 3, 4, 5, 6], (i) => i));
    const plan = await t.planOverwrite({ replacePartitions: { city: 'paris' } });
    expect(plan.partitions.map((p) => p.partitionDesc)).toEqual(['city=paris']);
    const a = await t.stage(rows([10, 12], (i) => i * 100), { overwrite: plan });
    const b = await t.stage(rows([12, 14], (i) => i * 1000), { overwrite: plan });
    await expect(t.stage(rows([11], (i) => i), { overwrite: plan })).rejects.toMatchObject({ code: 'OUTSIDE_OVERWRITE', message: expect.stringMatching(/city=oslo/) });
    await expect(t.stage(rows([10], (i) => i), { overwrite: plan, mode: 'upsert' })).rejects.toMatchObject({ kind: 'InvalidArgument' });
    // Staged under a plan: not committable without it, nor with a plain staged write.
    await expect(t.commitStaged([a])).rejects.toMatchObject({ code: 'STAGED_OTHER_PLAN' });
    const plain = await t.stage(rows([20], (i) => i));
    await expect(t.commitStaged([a, plain], { overwrite: plan })).rejects.toMatchObject({ code: 'STAGED_OTHER_PLAN' });
    await t.discardStaged([plain]);
    expect((await t.history()).length).toBe(2);
    const r = await t.commitStaged([a, b], { overwrite: plan });
    expect([...r.versions.keys()]).toEqual(['city=paris']);
    expect((await t.history()).length).toBe(3); // one commit, one partition
    // paris replaced by the staged rows (the later staged write wins key 12); oslo untouched
    expect(sortRows(rowsOf(await t.toArrow()), ['id']).map((x) => [x.id, x.score])).toEqual([[1, 1], [3, 3], [5, 5], [10, 1000], [12, 12000], [14, 14000]]);
    // nothing staged under a plan: the replaced partitions are emptied
    const truncate = await t.planOverwrite();
    await t.commitStaged([await t.stage(new Table(schema), { overwrite: truncate })], { overwrite: truncate });
    expect((await t.toArrow()).numRows).toBe(0);
  });
});
