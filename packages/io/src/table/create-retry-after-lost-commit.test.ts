/**
 * A create from data whose first commit failed without a known outcome kept its files (a commit
 * that may have landed keeps them for cleanup), then dropped the empty table: the files stayed under
 * a path no table owned, so no cleanup could reach them, and trying again was refused
 * TABLE_PATH_NOT_EMPTY ("left by a table of that name dropped without purge"). Once the empty table
 * is dropped no commit can land, so its files are deleted with it.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, expect, it, vi } from 'vitest';
import { Catalog, LakeSoulError } from '@lakesoul-ts/meta';
import { Lakehouse } from './lakehouse.js';

const dir = mkdtempSync(join(tmpdir(), 'lakesoul-create-retry-'));
afterEach(() => { vi.restoreAllMocks(); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

function filesUnder(root: string): string[] {
  try {
    return readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
  } catch {
    return [];
  }
}

it('a create from data whose first commit was lost leaves no file behind, and a second try succeeds', async () => {
  const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(join(dir, 'wh')).href });
  try {
    const rows = [{ id: 1n, v: 'a' }, { id: 2n, v: 'b' }];
    const commit = Catalog.prototype.commit;
    let lost = 0;
    vi.spyOn(Catalog.prototype, 'commit').mockImplementation(async function (this: Catalog, request) {
      if (lost++ === 0) {
        throw new LakeSoulError('Catalog', 'catalog database unavailable: connection terminated', { code: 'CATALOG_UNAVAILABLE', retryable: true });
      }
      return commit.call(this, request);
    });
    await expect(lh.createTable('t', rows, { primaryKeys: ['id'] })).rejects.toMatchObject({ code: 'CATALOG_UNAVAILABLE' });
    expect(await lh.catalog.listTables()).toEqual([]);
    const path = join(dir, 'wh', 'default', 't');
    expect(filesUnder(path)).toEqual([]);
    const t = await lh.createTable('t', rows, { primaryKeys: ['id'] });
    expect((await t.toArrow()).numRows).toBe(2);
    const named = (await lh.catalog.getSnapshot(t.info.tableId)).flatMap((p) => p.files.map((f) => f.path.slice(f.path.lastIndexOf('/') + 1)));
    expect(filesUnder(fileURLToPath(t.info.path)).sort()).toEqual(named.sort());
  } finally {
    await lh.close();
  }
});
