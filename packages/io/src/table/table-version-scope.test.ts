import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int64, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { Lakehouse } from './lakehouse.js';
import type { LakeSoulTable } from './lakesoul-table.js';

// Versions are per partition in LakeSoul: a table version is not defined, so a scan at a version must
// select one partition (issue 13 §5). Before, such a scan silently returned only the partitions that
// happened to have that version.
describe('scan/toArrow at a version of a multi-partition table', () => {
  let lh: Lakehouse;
  let t: LakeSoulTable;
  const write = (ids: bigint[], dates: string[]) => t.write(new Table({
    id: vectorFromArray(ids, new Int64()), date: vectorFromArray(dates, new Utf8()),
  }), { mode: 'upsert' });

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-version-scope-'));
    lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(dir).href });
    t = await lh.createTable('events', new Schema([new Field('id', new Int64(), false), new Field('date', new Utf8(), false)]), {
      rangePartitions: ['date'], primaryKeys: ['id'], hashBucketNum: 1,
    });
    await write([1n, 2n], ['a', 'b']);     // a@0, b@0
    await write([3n], ['a']);              // a@1 only
  });
  afterAll(() => lh.close());

  it('refuses a version without a partition, saying what to use', async () => {
    for (const call of [() => t.scan({ version: 1 }), () => t.toArrow({ version: 0 })]) {
      const e = await call().then(() => null, (x: unknown) => x);
      expect(LakeSoulError.is(e, 'InvalidArgument')).toBe(true);
      expect((e as LakeSoulError).code).toBe('VERSION_NEEDS_PARTITION');
      expect((e as Error).message).toMatch(/versions are per partition and this scan selects 2 partitions.*partitions: \{ date: \.\.\. \}.*timestamp/);
    }
  });

  it('reads the version of one partition, and the whole table as of a time', async () => {
    expect((await t.toArrow({ partitions: { date: 'a' }, version: 0 })).numRows).toBe(1);
    expect((await t.toArrow({ partitions: { date: 'a' }, version: 1 })).numRows).toBe(2);
    const [first] = (await t.history()).filter((h) => h.version === 0);
    expect((await t.toArrow({ timestamp: first!.timestamp + 1 })).numRows).toBe(2);
  });
});
