/**
 * `cleanup` beside a writer: a commit landing while cleanup reads the catalog must not have its new
 * file deleted. Cleanup once read "files still referenced" and "files ever committed" in two
 * statements; a commit between the two reads made its file committed-but-unreferenced, deleted as
 * expired with the default settings, and every read of the table failed from then on (found by a
 * crash/concurrency probe: 2 of 2 runs on a shared embedded home, 6 files in 500 cleanups on
 * PostgreSQL). It reads both in one statement now (`Catalog.tableFileSets`); the commit is placed
 * beside that read and right after its answer here on purpose. Also what killed writers leave: temp
 * files of puts, and files plus commit rows of a write that died between its commit's phases.
 * PGlite catalog, local disk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lakehouse, type CleanupProgress, type PurgeProgress } from '@lakesoul-ts/io';
import { LakeSoulError } from '@lakesoul-ts/meta';

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

/** Puts `n` one-byte Parquet-named files no commit names, two days old, into the table at `path`. */
function oldOrphans(path: string, n: number): void {
  const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
  for (let i = 0; i < n; i++) {
    const f = join(fileURLToPath(path), `part-orphan${String(i).padStart(4, '0')}_0000.parquet`);
    writeFileSync(f, 'x');
    utimesSync(f, twoDaysAgo, twoDaysAgo);
  }
}

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

  it('deletes what a writer killed between its commit phases left: its files (as orphans) and its commit rows, once past the window', async () => {
    const t = await lakehouse.createTable('killed', [{ id: 1, v: 'a' }], { primaryKeys: ['id'] });
    // the writer uploaded its file and wrote phase 1 (its commit rows, committed=false), then died
    const staged = await t.stage([{ id: 2, v: 'b' }]);
    const [part] = staged.partitions;
    const phaseOne = (at: number) => lakehouse.catalog.driver.query(
      `INSERT INTO data_commit_info (table_id, partition_desc, commit_id, file_ops, commit_op, committed, timestamp)
       VALUES ($1, $2, gen_random_uuid(), ARRAY[ROW($3, 'add', $4, $5)::data_file_op], 'MergeCommit', false, $6)`,
      [t.info.tableId, part!.partitionDesc, part!.files[0]!.path, String(part!.files[0]!.size), part!.files[0]!.existCols.join(','), at]);
    await phaseOne(Date.now());
    const rows = async () => (await lakehouse.catalog.driver.query<{ n: number }>('SELECT count(*)::int AS n FROM data_commit_info WHERE table_id = $1', [t.info.tableId])).rows[0]!.n;
    // within the safety window: a write that may still commit, left alone
    expect(await t.cleanup({ dryRun: false })).toMatchObject({ files: [], abandonedCommits: 0 });
    expect(await rows()).toBe(2);
    // a day later (the same rows and file, stamped two days ago)
    await lakehouse.catalog.driver.query('UPDATE data_commit_info SET timestamp = $2 WHERE table_id = $1 AND NOT committed', [t.info.tableId, Date.now() - 2 * 86_400_000]);
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    utimesSync(fileURLToPath(staged.files[0]!.path), twoDaysAgo, twoDaysAgo);
    const dry = await t.cleanup();
    expect(dry).toMatchObject({ dryRun: true, abandonedCommits: 1, files: [{ path: staged.files[0]!.path, reason: 'orphan' }] });
    expect(await rows()).toBe(2);
    const report = await t.cleanup({ dryRun: false });
    expect(report).toMatchObject({ deleted: 1, abandonedCommits: 1, files: [{ path: staged.files[0]!.path, reason: 'orphan' }] });
    expect(existsSync(fileURLToPath(staged.files[0]!.path))).toBe(false);
    expect(await rows()).toBe(1);
    expect((await t.toArrow()).toArray().map((r) => `${r.id}:${r.v}`)).toEqual(['1:a']);
  });

  it('a failure deleting abandoned commit rows names the table and says the files were deleted', async () => {
    const t = await lakehouse.createTable('purge_fails', [{ id: 1, v: 'a' }], { primaryKeys: ['id'] });
    await t.write([{ id: 1, v: 'b' }], { mode: 'upsert' });
    await t.compact();
    const catalog = lakehouse.catalog;
    const purge = catalog.purgeAbandonedCommits.bind(catalog);
    catalog.purgeAbandonedCommits = async () => {
      throw new LakeSoulError('Catalog', 'catalog database unavailable: injected', { code: 'CATALOG_UNAVAILABLE', retryable: true });
    };
    try {
      const e = await t.cleanup({ dryRun: false, retainSince: Date.now() + 1 }).then(() => expect.unreachable(), (x: unknown) => x);
      expect(e).toMatchObject({ kind: 'Catalog', code: 'CATALOG_UNAVAILABLE', retryable: true, context: { table: 'default.purge_fails' } });
      expect((e as Error).message).toBe("cleanup of table 'default.purge_fails': 2 files were deleted, but deleting its abandoned commit rows failed (run cleanup again): catalog database unavailable: injected");
    } finally {
      catalog.purgeAbandonedCommits = purge;
    }
    expect((await t.toArrow()).toArray().map((r) => `${r.id}:${r.v}`)).toEqual(['1:b']);
  });

  it('reports progress: every 1,000 objects listed, then after each group of deletes, ending where the report does', async () => {
    const t = await lakehouse.createTable('many_orphans', [{ id: 1, v: 'a' }], { primaryKeys: ['id'] });
    oldOrphans(t.info.path, 1203);
    const seen: CleanupProgress[] = [];
    const report = await t.cleanup({ dryRun: false, onProgress: (p) => seen.push(p) });
    expect(report).toMatchObject({ deleted: 1203, bytes: 1203 });
    // 1,204 objects listed (the table's own file too): one report at 1,000; then the listing's end;
    // then deletes of 500, 500 and 203
    expect(seen.map((p) => [p.filesListed, p.listed, p.filesToDelete, p.filesDeleted, p.bytesDeleted])).toEqual([
      [1000, false, 0, 0, 0], [1204, true, 1203, 0, 0], [1204, true, 1203, 500, 500], [1204, true, 1203, 1000, 1000], [1204, true, 1203, 1203, 1203],
    ]);
    expect(seen.at(-1)!.bytesToDelete).toBe(1203);
    expect((await t.toArrow()).numRows).toBe(1);
    // a dry run reports the listing and what it would delete, and deletes nothing
    const dry: CleanupProgress[] = [];
    await t.cleanup({ onProgress: (p) => dry.push(p) });
    expect(dry).toEqual([{ filesListed: 1, listed: true, filesToDelete: 0, bytesToDelete: 0, filesDeleted: 0, bytesDeleted: 0 }]);
  });

  it('dropTable with purge reports progress the same way, and deletes every object under the path', async () => {
    const t = await lakehouse.createTable('purged', [{ id: 1, v: 'a' }], { primaryKeys: ['id'] });
    const dir = fileURLToPath(t.info.path);
    oldOrphans(t.info.path, 1202);
    // a killed writer's temp file (the table gone, it can never commit), and a file a commit named
    // that is gone already: not counted as deleted, its bytes unknown
    writeFileSync(join(dir, '.lakesoul-tmp-0123456789ab-1'), 'xyz');
    const filesNow = (): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    const before = new Set(filesNow());
    await t.write([{ id: 2, v: 'b' }], { mode: 'upsert' });
    const named = filesNow().filter((f) => !before.has(f));
    expect(named).toHaveLength(1);
    rmSync(named[0]);
    const sizes = filesNow().map((f) => statSync(f).size);
    const total = sizes.reduce((n, s) => n + s, 0);
    expect(sizes).toHaveLength(1204);
    const seen: PurgeProgress[] = [];
    const { files } = await lakehouse.dropTable('purged', { purge: true, onProgress: (p) => seen.push(p) });
    expect(files).toHaveLength(1204);
    expect(files.map((f) => fileURLToPath(f))).not.toContain(named[0]);
    expect(seen.map((p) => [p.filesListed, p.listed, p.filesToDelete, p.filesDeleted])).toEqual([
      [1000, false, 0, 0], [1204, true, 1204, 0], [1204, true, 1204, 500], [1204, true, 1204, 1000], [1204, true, 1204, 1204],
    ]);
    expect(seen.map((p) => p.bytesToDelete)).toEqual([0, total, total, total, total]);
    expect(seen.at(-1)!.bytesDeleted).toBe(total);
    expect(seen[2].bytesDeleted).toBeGreaterThan(0);
    expect(existsSync(dir)).toBe(false); // the directories it left empty went too
  });

  it('a delete failing in a later group says how many files went before it, across groups', async () => {
    let deletes = 0;
    const failing = await Lakehouse.open({
      catalog: { dataDir: join(dir, 'catalog-failing') }, warehouse: join(dir, 'warehouse-failing'),
      stores: {
        wrap: (store) => new Proxy(store, {
          get: (target, prop, receiver) => (prop !== 'delete' ? Reflect.get(target, prop, receiver) : async (key: string, o?: { signal?: AbortSignal }) => {
            if (++deletes === 700) throw new LakeSoulError('Io', `delete ${key} failed: injected`);
            return target.delete(key, o);
          }),
        }),
      },
    });
    try {
      const t = await failing.createTable('fails_later', [{ id: 1, v: 'a' }], { primaryKeys: ['id'] });
      oldOrphans(t.info.path, 900);
      const e = await t.cleanup({ dryRun: false }).then(() => expect.unreachable(), (x: unknown) => x as LakeSoulError);
      // the first group of 500 went; of the second, those before the 700th delete and those in flight beside it
      const done = Number(e.context.deleted);
      expect(done).toBeGreaterThanOrEqual(699);
      expect(done).toBeLessThan(710);
      expect(e.message).toMatch(new RegExp(`^cleanup of table 'default\\.fails_later': deleting file://.*\\.parquet failed after ${done} of 900 files were deleted`));
      // a purge whose delete fails keeps the table and says so (it dropped the table and reported its files deleted)
      deletes = 699;
      const p = await failing.dropTable('fails_later', { purge: true }).then(() => expect.unreachable(), (x: unknown) => x as LakeSoulError);
      expect(p.message).toMatch(/^drop table 'default\.fails_later' with purge: .*injected; \d+ of its files were deleted, the table was not dropped: run the drop again/);
      expect(p.context.file).toMatch(/^file:\/\//);
      expect((await failing.table('fails_later')).info.tableId).toBe(t.info.tableId);
      const finished = await failing.dropTable('fails_later', { purge: true });
      expect(finished.files.length).toBeGreaterThan(0);
      expect(existsSync(fileURLToPath(t.info.path))).toBe(false);
    } finally {
      await failing.close();
    }
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
