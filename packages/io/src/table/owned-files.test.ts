// Which files cleanup and purge of a table may delete: never a file another table's commit names, in
// the spelling written or where LakeSoul's native IO reads it (the wheel wrote `part-x.parquet` of a
// path stored as `.../a%20b/part-x.parquet` into the directory `a b`, which the other spelling missed).
import { expect, it } from 'vitest';
import type { Catalog, TableInfo } from '@lakesoul-ts/meta';
import { ownedFileFilter } from './table-maintenance.js';

it('keeps another table\'s named files in both spellings', async () => {
  // the one catalog call the predicate makes, answered as a catalog holding such a commit answers it
  const catalog = { foreignClaimsUnder: async () => ({ files: ['file:///t/a%20b/part-x.parquet'], tablePaths: [] }) } as unknown as Catalog;
  const owned = await ownedFileFilter(catalog, { path: 'file:///t', tableId: 'table_1' } as TableInfo);
  expect(owned('file:///t/a%20b/part-x.parquet')).toBe(false);
  expect(owned('file:///t/a b/part-x.parquet')).toBe(false);
  expect(owned('file:///t/a b/part-y.parquet')).toBe(true);
});
