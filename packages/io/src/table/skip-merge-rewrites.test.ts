/**
 * `skip_merge_on_read=true` concerns reads: a rewrite of a PK table (compaction, update, delete) used
 * to read through the same unmerged path and wrote both versions of a key, unsorted, into one file
 * (a hunt of compaction). LakeSoul's engines merge such files and read the stale version.
 */
import { describe, expect, it } from 'vitest';
import { Field, Int32, Int64, Schema } from 'apache-arrow';
import { plainRows as rows, useTempLakehouse } from './temp-lakehouse-fixture.js';

describe('rewrites of a PK table with skip_merge_on_read=true', () => {
  const fixture = useTempLakehouse('lakesoul-skip-merge-');
  let n = 0;
  const schema = new Schema([new Field('id', new Int64(), false), new Field('a', new Int32(), true)]);

  const layered = async () => {
    const t = await fixture.lh.createTable(`s${n++}`, schema, { primaryKeys: ['id'], hashBucketNum: 1, properties: { skip_merge_on_read: 'true' } });
    await t.write([{ id: 1, a: 1 }, { id: 3, a: 3 }]);
    await t.write([{ id: 2, a: 2 }, { id: 1, a: 10 }]);
    // reads concatenate the files, as the property asks
    expect(rows(await t.toArrow())).toEqual([{ id: 1, a: 1 }, { id: 3, a: 3 }, { id: 1, a: 10 }, { id: 2, a: 2 }]);
    return t;
  };

  it('compact() writes one row per key, sorted: read without the property, the table is unchanged by it', async () => {
    const t = await layered();
    await t.compact();
    // the one file left holds the merged rows in key order (before: [1:1, 3:3, 1:10, 2:2])
    expect(rows(await t.toArrow())).toEqual([{ id: 1, a: 10 }, { id: 2, a: 2 }, { id: 3, a: 3 }]);
    await fixture.lh.catalog.updateTableProperties(t.info.tableId, { skip_merge_on_read: null });
    const merged = await fixture.lh.table(t.info.name);
    expect(rows(await merged.toArrow())).toEqual([{ id: 1, a: 10 }, { id: 2, a: 2 }, { id: 3, a: 3 }]);
  });

  it('update() and deleteWhere() write merged, sorted files too', async () => {
    const t = await layered();
    await t.update('a = 2', { a: 20 });
    expect(rows(await t.toArrow())).toEqual([{ id: 1, a: 10 }, { id: 2, a: 20 }, { id: 3, a: 3 }]);
    const u = await layered();
    await u.deleteWhere('id = 3');
    expect(rows(await u.toArrow())).toEqual([{ id: 1, a: 10 }, { id: 2, a: 2 }]);
  });
});
