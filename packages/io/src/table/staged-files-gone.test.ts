/**
 * A staged write whose files a cleanup() deleted as orphans (the write waited longer than the orphan
 * safety window) is refused at its commit, naming the file: it committed, and every read of the
 * partition then failed OBJECT_NOT_FOUND.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lakehouse, toFileUri } from '../index.js';

describe('commitStaged of files a cleanup deleted', () => {
  let dir: string | undefined;
  let lake: Lakehouse | undefined;
  afterEach(async () => {
    await lake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = lake = undefined;
  });

  it('is refused (STAGED_FILES_MISSING, naming the file), commits nothing, and the table stays readable', async () => {
    dir = mkdtempSync(join(tmpdir(), 'staged-gone-'));
    lake = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(dir) });
    const t = await lake.createTable('kv', [{ id: 1, p: 'a', w: 1 }], { primaryKeys: ['id'], rangePartitions: ['p'] });
    const staged = await t.stage([{ id: 7, p: 'b', w: 4242 }], { mode: 'upsert' });
    const cleaned = await t.cleanup({ orphanSafetyWindowMs: 0, dryRun: false });
    expect(cleaned.deleted).toBe(1); // the staged file, taken for an orphan
    const versions = (await t.history()).length;
    const err = await t.commitStaged([staged]).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ kind: 'Conflict', code: 'STAGED_FILES_MISSING', retryable: false, context: { table: 'kv', partition: 'p=b' } });
    expect((err as Error).message).toMatch(/file .*part-.*\.parquet \(partition p=b\) is gone, deleted as an orphan by a cleanup\(\)/);
    expect((await t.history()).length).toBe(versions);
    expect((await t.toArrow()).toArray().map((r) => ({ ...r }))).toEqual([{ id: 1n, p: 'a', w: 1n }]);
  });

  it('a commit landing while a cleanup lists the table keeps its files: cleanup reads the catalog again before deleting orphans', async () => {
    dir = mkdtempSync(join(tmpdir(), 'staged-race-'));
    lake = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(dir) });
    const t = await lake.createTable('kv', [{ id: 1, p: 'a', w: 1 }], { primaryKeys: ['id'], rangePartitions: ['p'] });
    const staged = await t.stage([{ id: 7, p: 'b', w: 4242 }], { mode: 'upsert' });
    const orphan = await t.stage([{ id: 8, p: 'b', w: 1 }], { mode: 'upsert' }); // never committed
    // another process's commit of the staged write lands just after cleanup's catalog read
    const catalog = lake.catalog;
    const fileSets = catalog.tableFileSets.bind(catalog);
    let landed = false;
    catalog.tableFileSets = async (...args: Parameters<typeof fileSets>) => {
      const sets = await fileSets(...args);
      if (!landed) {
        landed = true;
        await t.commitStaged([staged]);
      }
      return sets;
    };
    const cleaned = await t.cleanup({ orphanSafetyWindowMs: 0, dryRun: false });
    catalog.tableFileSets = fileSets;
    expect(landed).toBe(true);
    // the file of the write that was never committed still goes
    expect(cleaned.files.map((f) => [f.path, f.reason])).toEqual(orphan.files.map((f) => [f.path, 'orphan']));
    expect(cleaned.deleted).toBe(1);
    expect((await t.toArrow()).toArray().map((r) => ({ ...r })).sort((x, y) => Number(x.id) - Number(y.id))).toEqual([{ id: 1n, p: 'a', w: 1n }, { id: 7n, p: 'b', w: 4242n }]);
  });

  it('commits staged files that are there, as before', async () => {
    dir = mkdtempSync(join(tmpdir(), 'staged-there-'));
    lake = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(dir) });
    const t = await lake.createTable('kv', [{ id: 1, p: 'a', w: 1 }], { primaryKeys: ['id'], rangePartitions: ['p'] });
    const staged = await t.stage([{ id: 7, p: 'b', w: 4242 }], { mode: 'upsert' });
    await t.commitStaged([staged]);
    expect((await t.toArrow()).numRows).toBe(2);
  });
});
