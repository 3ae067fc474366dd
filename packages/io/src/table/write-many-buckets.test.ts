import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int64, Schema, Table, Utf8, makeVector } from 'apache-arrow';
import { computeBuckets } from '../hash/spark-murmur3.js';
import { Lakehouse } from './lakehouse.js';

// A write grouped a batch's rows with arrays of every possible (partition, bucket) group: a table of
// 2^30 buckets aborted the process on a 3-row write (V8's "invalid array length", no error to
// catch), 2,000 partitions of 65,536 buckets the same, 20,000 rows into 20,000 partitions of 4,096
// buckets took 2 GB. Only the groups the rows use are made now.

describe('writes to tables of very many buckets', () => {
  let lh: Lakehouse;
  beforeAll(async () => {
    lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(mkdtempSync(join(tmpdir(), 'lakesoul-many-buckets-'))).href });
  });
  afterAll(() => lh.close());

  it('2^30 buckets: rows land in their hash buckets and read back merged', async () => {
    const t = await lh.createTable('huge', new Schema([new Field('id', new Int64(), false), new Field('v', new Utf8(), true)]), { primaryKeys: ['id'], hashBucketNum: 2 ** 30 });
    await t.write([{ id: 1, v: 'a' }, { id: 2, v: 'b' }, { id: 3, v: 'c' }]);
    await t.write([{ id: 2, v: 'B' }]);
    const got = await t.toArrow();
    expect(got.toArray().map((r) => [r.id, r.v]).sort()).toEqual([[1n, 'a'], [2n, 'B'], [3n, 'c']]);
    const want = computeBuckets(new Table({ id: makeVector(BigInt64Array.from([1n, 2n, 3n])) }).batches[0], ['id'], 2 ** 30);
    const buckets = new Set((await t.snapshot()).flatMap((p) => p.files.map((f) => Number(/_(\d+)\.parquet$/.exec(f.path)![1]))));
    expect([...buckets].sort()).toEqual([...new Set(want)].sort());
  });

  it('hundreds of partitions of 2^14 buckets in one write: each row in its partition and bucket, arrival order kept per key', async () => {
    const t = await lh.createTable('parts', new Schema([new Field('id', new Int64(), false), new Field('p', new Utf8(), false), new Field('v', new Utf8(), true)]), {
      primaryKeys: ['id'], rangePartitions: ['p'], hashBucketNum: 2 ** 14,
    });
    const rows = Array.from({ length: 600 }, (_, i) => ({ id: i % 450, p: `p${i % 300}`, v: `v${i}` }));
    await t.write(rows);
    const last = new Map<string, string>();
    for (const r of rows) last.set(`${r.p}/${r.id}`, r.v);
    const got = (await t.toArrow()).toArray().map((r) => `${r.p}/${r.id}=${r.v}`).sort();
    expect(got).toEqual([...last].map(([k, v]) => `${k}=${v}`).sort());
    const snapshot = await t.snapshot();
    expect(snapshot.length).toBe(300);
  });
});
