/**
 * `cleanup` beside a writer: a commit landing while cleanup reads the catalog must not have its new
 * file deleted. Cleanup once read "files still referenced" and "files ever committed" in two
 * statements; a commit between the two reads made its file committed-but-unreferenced, deleted as
 * expired with the default settings, and every read of the table failed from then on (found by a
 * crash/concurrency probe: 2 of 2 runs on a shared embedded home, 6 files in 500 cleanups on
 * PostgreSQL). It reads both in one statement now (`Catalog.tableFileSets`); the commit is placed
 * beside that read and right after its answer here on purpose. PGlite catalog, local disk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lakehouse } from '@lakesoul-ts/io';

let dir: string;
let lakehouse: Lakehouse;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cleanup-race-'));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: join(dir, 'warehouse') });
});

afterAll(async () => {
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('cleanup concurrent with a commit', () => {
  for (const when of ['beside', 'after'] as const) {
    it(`keeps the file of a commit that lands ${when} its catalog read, with the default settings`, async () => {
      const t = await lakehouse.createTable(`r_${when}`, [{ id: 1, v: 'a' }], { primaryKeys: ['id'] });
      const catalog = lakehouse.catalog;
      const fileSets = catalog.tableFileSets.bind(catalog);
      // the writer has uploaded its file (cleanup's listing sees it) and commits while cleanup runs
      const staged = await t.stage([{ id: 2, v: 'b' }]);
      let writing: Promise<unknown> | undefined;
      catalog.tableFileSets = async (...args) => {
        if (when === 'beside') writing = t.commitStaged([staged]);
        const answer = await fileSets(...args);
        if (when === 'after') writing = t.commitStaged([staged]);
        await writing;
        return answer;
      };
      try {
        const report = await t.cleanup({ dryRun: false });
        expect(report.files).toEqual([]);
      } finally {
        catalog.tableFileSets = fileSets;
      }
      expect(writing).toBeDefined();
      const rows = (await t.toArrow()).toArray().map((r) => `${r.id}:${r.v}`).sort();
      expect(rows).toEqual(['1:a', '2:b']);
    });
  }

  it('deletes the temp files of puts a killed writer left (old ones, as orphans) and keeps recent ones', async () => {
    const t = await lakehouse.createTable('tmpfiles', [{ id: 1, v: 'a' }], { primaryKeys: ['id'] });
    const dir = fileURLToPath(t.info.path);
    const stale = join(dir, '.lakesoul-tmp-0123456789abcdef');
    const fresh = join(dir, '.lakesoul-tmp-fedcba9876543210');
    writeFileSync(stale, 'partial upload');
    writeFileSync(fresh, 'upload in progress');
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    utimesSync(stale, twoDaysAgo, twoDaysAgo);
    const report = await t.cleanup({ dryRun: false });
    expect(report.files).toEqual([{ path: `${t.info.path}/.lakesoul-tmp-0123456789abcdef`, size: 14, reason: 'orphan' }]);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    expect((await t.toArrow()).numRows).toBe(1);
  });
});
