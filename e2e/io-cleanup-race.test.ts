/**
 * `cleanup` beside a writer: a commit landing while cleanup reads the catalog must not have its new
 * file deleted. Cleanup read "files still referenced" and "files ever committed" at the same time; a
 * commit between the two reads made its file committed-but-unreferenced, deleted as expired with the
 * default settings, and every read of the table failed from then on (found by a crash/concurrency
 * probe: 2 of 2 runs on a shared embedded home, 6 files in 500 cleanups on PostgreSQL). The commit is
 * placed in that window here on purpose. PGlite catalog, local disk.
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
  it('keeps the file of a commit that lands between its catalog reads, with the default settings', async () => {
    const t = await lakehouse.createTable('r', [{ id: 1, v: 'a' }], { primaryKeys: ['id'] });
    const catalog = lakehouse.catalog;
    const referenced = catalog.filesReferencedSince.bind(catalog);
    const committed = catalog.allCommittedFilePaths.bind(catalog);
    // the writer has uploaded its file (cleanup's listing sees it) and commits while cleanup runs
    const staged = await t.stage([{ id: 2, v: 'b' }]);
    let referencing = false;
    let writing: Promise<unknown> | undefined;
    // the commit lands after cleanup's "referenced" read has its answer, before it returns; a
    // "committed" read made while that one runs sees the commit
    catalog.filesReferencedSince = async (...args) => {
      referencing = true;
      const answer = await referenced(...args);
      writing = t.commitStaged([staged]);
      await writing;
      return answer;
    };
    catalog.allCommittedFilePaths = async (...args) => {
      if (referencing) {
        while (writing === undefined) await new Promise((res) => setTimeout(res, 5));
        await writing;
      }
      return committed(...args);
    };
    try {
      const report = await t.cleanup({ dryRun: false });
      expect(report.files).toEqual([]);
    } finally {
      catalog.filesReferencedSince = referenced;
      catalog.allCommittedFilePaths = committed;
    }
    const rows = (await t.toArrow()).toArray().map((r) => `${r.id}:${r.v}`).sort();
    expect(rows).toEqual(['1:a', '2:b']);
  });

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
