/**
 * A table dropped while a write into it runs (`table drop` beside an `import`, in a hunt of concurrent
 * CLI processes): the write failed, committing nothing and deleting its files, with the catalog's
 * "table with id 'table_…' not found", which named no table a person knows.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Catalog, LakeSoulError } from '@lakesoul-ts/meta';
import { useTempLakehouse } from './temp-lakehouse-fixture.js';

const env = useTempLakehouse('lakesoul-dropped-during-write-');
afterEach(() => vi.restoreAllMocks());

describe('a table dropped while a write into it runs', () => {
  it('fails naming the table: dropped, nothing committed, the files deleted', async () => {
    const t = await env.lh.createTable('d5', [{ id: 1n }], { primaryKeys: ['id'], hashBucketNum: 2 });
    const dir = fileURLToPath(t.info.path);
    const commit = Catalog.prototype.commit;
    // the drop lands between the write's files and its commit
    vi.spyOn(Catalog.prototype, 'commit').mockImplementation(async function (this: Catalog, request) {
      await env.lh.dropTable('d5');
      return commit.call(this, request);
    });
    const before = readdirSync(dir, { recursive: true }).length;
    await expect(t.write([{ id: 2n }, { id: 3n }])).rejects.toMatchObject({
      kind: 'NotFound', code: 'TABLE_NOT_FOUND', context: { table: 'default.d5', tableId: t.info.tableId },
      message: "table 'default.d5' was dropped while this write ran: nothing was committed, and the write's files were deleted",
    });
    expect(readdirSync(dir, { recursive: true }).length, 'the write left no file').toBe(before);
    expect(await env.lh.catalog.listTables()).toEqual([]);
  });

  it('a catalog lost before the commit looked the table up is said by the table name (it said its id)', async () => {
    const t = await env.lh.createTable('d7', [{ id: 1n }], { primaryKeys: ['id'], hashBucketNum: 2 });
    const commit = Catalog.prototype.commit;
    let committing = false;
    vi.spyOn(Catalog.prototype, 'commit').mockImplementation(async function (this: Catalog, request) {
      committing = true;
      return commit.call(this, request);
    });
    const lookup = Catalog.prototype.getTableById;
    vi.spyOn(Catalog.prototype, 'getTableById').mockImplementation(async function (this: Catalog, ...args) {
      if (committing) throw new LakeSoulError('Catalog', 'lost the connection to the catalog server of /x', { code: 'CATALOG_UNAVAILABLE', retryable: true });
      return lookup.apply(this, args);
    });
    for (const write of [() => t.write([{ id: 2n }]), async () => t.commitStaged([await t.stage([{ id: 3n }])])]) {
      committing = false;
      await expect(write()).rejects.toMatchObject({
        code: 'CATALOG_UNAVAILABLE', retryable: true, context: { table: 'default.d7', tableId: t.info.tableId, op: 'MergeCommit' },
        message: "commit MergeCommit to table 'default.d7': lost the connection to the catalog server of /x; nothing was committed",
      });
    }
  });

  it('a commit of staged writes says the same (it named the table id)', async () => {
    const t = await env.lh.createTable('d6', [{ id: 1n }], { primaryKeys: ['id'], hashBucketNum: 2 });
    const dir = fileURLToPath(t.info.path);
    const before = readdirSync(dir, { recursive: true }).length;
    const staged = await t.stage([{ id: 2n }, { id: 3n }]);
    await env.lh.dropTable('d6');
    await expect(t.commitStaged([staged])).rejects.toMatchObject({
      kind: 'NotFound', code: 'TABLE_NOT_FOUND', context: { table: 'default.d6', tableId: t.info.tableId },
      message: "table 'default.d6' was dropped while this write ran: nothing was committed, and the staged writes' files were deleted",
    });
    expect(readdirSync(dir, { recursive: true }).length, 'the staged files are gone').toBe(before);
  });
});
