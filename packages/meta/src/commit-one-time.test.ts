/**
 * A commit's versions share one time, also when a partition's previous version is dated after the
 * clock (a clock stepped back, or another writer's clock ahead): each version was dated after its
 * own partition's previous one, so one commit got two times a day apart, `history` showed it as two
 * commits and a read as of a time between them saw half of it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Field, Int64, Schema, Utf8 } from 'apache-arrow';
import { Catalog } from './catalog.js';

const schema = new Schema([new Field('id', new Int64(), false), new Field('p', new Utf8(), false)]);
let catalog: Catalog;
beforeAll(async () => { catalog = await Catalog.open({ dataDir: ':memory:', env: {} }); });
afterAll(async () => { await catalog?.close(); });

it('dates every partition of a commit alike, after the latest previous version of any of them', async () => {
  const t = await catalog.createTable({ name: 'skew', path: 'file:///tmp/commit-one-time/skew', schema, rangePartitions: ['p'] });
  const file = (d: string, n: string) => ({ path: `${t.path}/${d}/part-${n}_0000.parquet`, op: 'add' as const, size: 1n, existCols: ['id'] });
  await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: 'p=a', files: [file('p=a', '1')] }] });
  // p=a's version dated a day ahead of this clock
  const ahead = Date.now() + 86_400_000;
  await catalog.driver.query('UPDATE partition_info SET timestamp = $2 WHERE table_id = $1', [t.tableId, ahead]);
  await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [
    { partitionDesc: 'p=a', files: [file('p=a', '2')] }, { partitionDesc: 'p=b', files: [file('p=b', '2')] },
  ] });
  const latest = (await catalog.historySummary(t.tableId)).filter((v) => !(v.partitionDesc === 'p=a' && v.version === 0));
  expect(latest.map((v) => [v.partitionDesc, v.version])).toEqual([['p=a', 1], ['p=b', 0]]);
  expect(latest.map((v) => v.timestamp)).toEqual([ahead + 1, ahead + 1]);
  // as of just after p=a's first version (reads take versions dated before T): none of the commit, not half of it (p=b's file)
  const names = async (timestamp: number) => (await catalog.getSnapshot(t.tableId, { timestamp })).flatMap((s) => s.files.map((f) => f.path.split('/').pop())).sort();
  expect(await names(ahead + 1)).toEqual(['part-1_0000.parquet']);
  expect(await names(ahead + 2)).toEqual(['part-1_0000.parquet', 'part-2_0000.parquet', 'part-2_0000.parquet']);
});

it('refuses a maxRetries that is not a whole number of retries (NaN never reached its bound: a conflicting commit retried forever)', async () => {
  await expect(Catalog.open({ dataDir: ':memory:', env: {}, maxRetries: NaN })).rejects.toMatchObject({ code: 'INVALID_OPTION_VALUE', message: expect.stringMatching(/Catalog maxRetries must be a whole number of retries \(0 or more\), got NaN/) });
  const t = await catalog.createTable({ name: 'retries', path: 'file:///tmp/commit-one-time/retries', schema });
  const files = [{ path: `${t.path}/part-r_0000.parquet`, op: 'add' as const, size: 1n, existCols: ['id'] }];
  await expect(catalog.commit({ tableId: t.tableId, op: 'AppendCommit', maxRetries: '3' as never, partitions: [{ partitionDesc: '-5', files }] })).rejects.toThrow(/commit to table 'default\.retries': maxRetries must be a whole number of retries \(0 or more\), got '3'/);
  expect(await catalog.getSnapshot(t.tableId)).toEqual([]);
});
