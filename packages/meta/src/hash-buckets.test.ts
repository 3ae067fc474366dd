/**
 * A primary-key table whose `hashBucketNum` property is not a bucket count (LakeSoul's wheel or a
 * hand-edited catalog can store 'abc') read as -1 buckets: a write failed with "got -1" naming no
 * table. The lookups now refuse it naming the table and the value; it stays listed and droppable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int64, Schema } from 'apache-arrow';
import { Catalog } from './catalog.js';
import { LakeSoulError } from './errors.js';
import { decodeHashBucketNum, MAX_HASH_BUCKET_NUM } from './hash-buckets.js';
import { PGliteDriver } from './pglite-driver.js';

const schema = new Schema([new Field('id', new Int64(), false)]);

async function failure(p: Promise<unknown>): Promise<LakeSoulError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(LakeSoulError);
    return e as LakeSoulError;
  }
  throw new Error('expected a LakeSoulError');
}

describe('decodeHashBucketNum', () => {
  it('a primary-key table needs an integer from 1 to 2^31-1; a table without a key is not checked', () => {
    for (const [v, n] of [['4', 4], ['+8', 8], ['3', 3], ['0004', 4], [String(MAX_HASH_BUCKET_NUM), MAX_HASH_BUCKET_NUM]] as const) {
      expect(decodeHashBucketNum('ns.t', v, true)).toEqual({ value: n });
    }
    for (const v of ['abc', '', ' 4', '4.0', '1e1', '0x4', '0', '-1', '2147483648', '99999999999', undefined]) {
      const d = decodeHashBucketNum('ns.t', v, true);
      expect(d.value).toBe(-1);
      expect(d.error).toMatchObject({ kind: 'Catalog', code: 'CATALOG_INCONSISTENT', context: { table: 'ns.t', property: 'hashBucketNum', value: v ?? null } });
      expect(d.error!.message).toMatch(v === undefined ? /^table 'ns\.t' has no hashBucketNum property, not a bucket count/ : new RegExp(`^table 'ns\\.t' has hashBucketNum '${v.replace(/[.+]/g, '\\$&')}', not a bucket count`));
    }
    // as before: a table without a primary key has no buckets (a value that is no number reads as -1)
    expect(decodeHashBucketNum('ns.t', 'abc', false)).toEqual({ value: -1 });
    expect(decodeHashBucketNum('ns.t', undefined, false)).toEqual({ value: -1 });
    expect(decodeHashBucketNum('ns.t', '-1', false)).toEqual({ value: -1 });
  });
});

describe('bucket counts in the catalog: stored text that is no count, and the counts createTable takes', () => {
  let catalog: Catalog;
  beforeAll(async () => {
    catalog = new Catalog(await PGliteDriver.open());
    await catalog.bootstrap();
  }, 60_000);
  afterAll(async () => { await catalog?.close(); });

  it('is refused by the lookups naming the table and the value, listed with `unsupported`, and droppable', async () => {
    const t = await catalog.createTable({ name: 'pk', path: 'file:///tmp/hash-buckets-test/pk', schema, primaryKeys: ['id'], hashBucketNum: 4 });
    const plain = await catalog.createTable({ name: 'plain', path: 'file:///tmp/hash-buckets-test/plain', schema });
    // as LakeSoul's wheel or a person editing the catalog by SQL leaves it
    for (const id of [t.tableId, plain.tableId]) {
      await catalog.driver.query(`UPDATE table_info SET properties = jsonb_set(properties::jsonb, '{hashBucketNum}', '"abc"')::json WHERE table_id = $1`, [id]);
    }
    for (const lookup of [() => catalog.getTable('pk'), () => catalog.getTableById(t.tableId), () => catalog.getTableByPath(t.path)]) {
      const e = await failure(lookup());
      expect(e).toMatchObject({ kind: 'Catalog', code: 'CATALOG_INCONSISTENT', context: { table: 'default.pk', property: 'hashBucketNum', value: 'abc' } });
      expect(e.message).toMatch(/^table 'default\.pk' has hashBucketNum 'abc', not a bucket count \(an integer from 1 to 2147483647\)/);
    }
    // a commit (what a write or compaction ends with) looks the table up by id: refused the same way
    expect(await failure(catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [] }] }))).toMatchObject({ code: 'CATALOG_INCONSISTENT' });
    // a property update is refused before it changes anything (it committed, then threw)
    expect(await failure(catalog.updateTableProperties(t.tableId, { owner: 'x' }))).toMatchObject({ code: 'CATALOG_INCONSISTENT' });
    expect((await catalog.getTableEntry('pk')).properties.owner).toBeUndefined();

    // listed, with the reason and the stored value; the table without a key is as before
    const listed = await catalog.listTables('default');
    const entry = listed.find((x) => x.name === 'pk')!;
    expect(entry).toMatchObject({ hashBucketNum: -1, properties: { hashBucketNum: 'abc' }, unsupported: expect.stringContaining("has hashBucketNum 'abc'") });
    expect(entry.schema.fields.map((f) => f.name)).toEqual(['id']);
    const other = listed.find((x) => x.name === 'plain')!;
    expect(other.unsupported).toBeUndefined();
    expect(other.hashBucketNum).toBe(-1);
    expect((await catalog.getTable('plain')).hashBucketNum).toBe(-1);
    // described by name, with its partitions
    expect((await catalog.getTableEntry('pk')).unsupported).toBe(entry.unsupported);
    expect(await catalog.listPartitions(t.tableId)).toEqual([]);

    await catalog.dropTable(t.tableId);
    expect((await catalog.listTables('default')).map((x) => x.name)).toEqual(['plain']);
  });

  it('takes powers of two from 1 to 2^30 and refuses the rest before any row is made (2^31 and 3 * 2^32 passed a 32-bit check)', async () => {
    for (const n of [2 ** 31, 3 * 2 ** 32, 2 ** 40 + 2 ** 31, 2 ** 53, 0, -1, 6, 100_000, 1.5, Number.NaN]) {
      const e = await failure(catalog.createTable({ name: 'b', path: 'file:///tmp/hash-buckets-test/b', schema, primaryKeys: ['id'], hashBucketNum: n }));
      expect(e, String(n)).toMatchObject({ kind: 'InvalidArgument' });
      expect(e.message).toContain(`hashBucketNum ${n} must be a power of two from 1 to 2^30`);
    }
    expect((await catalog.listTables('default')).some((x) => x.name === 'b')).toBe(false);
    for (const n of [1, 2, 2 ** 30]) {
      const t = await catalog.createTable({ name: `b${n}`, path: `file:///tmp/hash-buckets-test/b${n}`, schema, primaryKeys: ['id'], hashBucketNum: n });
      expect((await catalog.getTableById(t.tableId)).hashBucketNum).toBe(n);
    }
  });
});
