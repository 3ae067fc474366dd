// A write that runs longer than a cleanup's orphan safety window had its first files deleted as
// orphans meanwhile, and still committed their names: the write reported success and every read of
// the partition then failed OBJECT_NOT_FOUND. Its commit now checks its files first (writes older
// than a second), fails STAGED_FILES_MISSING, commits nothing and deletes the files it still has.
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { tableFromArrays } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { Lakehouse } from './lakehouse.js';

const dir = mkdtempSync(join(tmpdir(), 'lakesoul-write-files-gone-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Data files under `root`, recursively. */
function dataFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.parquet'));
}

it('a write whose files a cleanup deleted meanwhile fails and commits nothing', async () => {
  const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(join(dir, 'wh')).href });
  try {
    const t = await lh.createTable('t', [{ id: 0n, v: 0n }], { primaryKeys: ['id'], hashBucketNum: 1 });
    const root = fileURLToPath(t.info.path);
    const before = dataFiles(root);
    const batch = (b: number) => tableFromArrays({ id: BigInt64Array.from({ length: 20_000 }, (_, j) => BigInt(b * 20_000 + j)), v: new BigInt64Array(20_000).fill(1n) });
    let deleted = 0;
    async function* slow() {
      yield batch(1);
      yield batch(2);
      // the first files are flushed: a cleanup with no window takes them for orphans
      for (let i = 0; i < 100 && dataFiles(root).length === before.length; i++) await sleep(50);
      await sleep(1100);
      deleted = (await t.cleanup({ orphanSafetyWindowMs: 0, assumeNoWritesInFlight: true, dryRun: false })).files.length;
      yield batch(3);
    }
    await expect(t.write(slow(), { targetFileSize: 100_000, maxBufferedBytes: 100_000 })).rejects.toMatchObject({
      kind: 'Conflict', code: 'STAGED_FILES_MISSING', message: expect.stringContaining('cannot commit the write of table'),
    });
    expect(deleted).toBeGreaterThan(0);
    // nothing committed, the table reads as before, no file of the write is left
    expect((await t.toArrow()).numRows).toBe(1);
    expect(dataFiles(root).sort()).toEqual(before.sort());
  } finally {
    await lh.close();
  }
});

it('cleanup refuses an orphan window that is not a number of milliseconds (it took an empty one for 0)', async () => {
  const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(join(dir, 'wh2')).href });
  try {
    const t = await lh.createTable('t', [{ id: 0n }]);
    for (const bad of ['', '0', true, [], -1, NaN, 'abc', Infinity]) {
      await expect(t.cleanup({ orphanSafetyWindowMs: bad as never, dryRun: false }), String(bad)).rejects.toMatchObject({
        kind: 'InvalidArgument', message: expect.stringContaining("cleanup of table 'default.t': orphanSafetyWindowMs must be a number of milliseconds >= 0"),
      });
    }
    expect((await t.cleanup({ orphanSafetyWindowMs: 0 })).files).toEqual([]);
  } finally {
    await lh.close();
  }
});

it('a deleting cleanup takes a window under a minute only with assumeNoWritesInFlight (a write under a second is not checked: window 0 beside it committed a deleted file)', async () => {
  const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(join(dir, 'wh-min')).href });
  try {
    const t = await lh.createTable('t', [{ id: 1n }]);
    const root = fileURLToPath(t.info.path);
    const [file] = dataFiles(root);
    // a file no commit names: an orphan to cleanup (or a write in flight)
    copyFileSync(join(root, file!), join(root, 'part-in-flight.parquet'));
    for (const window of [0, 1, 59_999]) {
      await expect(t.cleanup({ orphanSafetyWindowMs: window, dryRun: false }), String(window)).rejects.toMatchObject({
        kind: 'InvalidArgument', code: 'ORPHAN_WINDOW_TOO_SHORT',
        message: expect.stringContaining(`cleanup of table 'default.t': an orphan safety window of ${window} ms (orphanSafetyWindowMs) is under one minute`),
      });
      await expect(t.cleanup({ orphanSafetyWindowMs: window, dryRun: false, assumeNoWritesInFlight: false })).rejects.toMatchObject({ code: 'ORPHAN_WINDOW_TOO_SHORT' });
    }
    await expect(t.cleanup({ orphanSafetyWindowMs: 0, dryRun: false, assumeNoWritesInFlight: 'true' as never })).rejects.toMatchObject({ code: 'INVALID_OPTION_VALUE' });
    expect(dataFiles(root)).toContain('part-in-flight.parquet');
    // a dry run reports it; a minute is taken (the file is newer: kept); the caller's word deletes it
    expect((await t.cleanup({ orphanSafetyWindowMs: 0 })).files.map((f) => f.reason)).toEqual(['orphan']);
    expect((await t.cleanup({ orphanSafetyWindowMs: 60_000, dryRun: false })).files).toEqual([]);
    expect((await t.cleanup({ orphanSafetyWindowMs: 0, dryRun: false, assumeNoWritesInFlight: true })).files.map((f) => f.reason)).toEqual(['orphan']);
    expect(dataFiles(root)).toEqual([file]);
    expect((await t.toArrow()).numRows).toBe(1);
  } finally {
    await lh.close();
  }
});

it('the check HEADs only the files the write added; a HEAD refused for permission skips it, another failing HEAD deletes them, one the store never answered leaves them for cleanup', async () => {
  const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(join(dir, 'wh3')).href });
  try {
    const t = await lh.createTable('t', [{ id: 0n, v: 0n }]);
    for (let i = 1; i <= 30; i++) await t.write([{ id: BigInt(i), v: 1n }, { id: BigInt(i + 1000), v: 1n }]);
    const root = fileURLToPath(t.info.path);
    const { store } = lh.stores.resolve(t.info.path);
    const head = store.head.bind(store);
    const put = store.put.bind(store);
    let heads = 0;
    store.head = (...a: Parameters<typeof head>) => { heads++; return head(...a); };
    // a rewrite of one file among 31 that takes over a second: one HEAD, not one per file it keeps
    store.put = async (...a: Parameters<typeof put>) => { await sleep(1100); return put(...a); };
    await t.deleteWhere('id = 7');
    expect(heads).toBe(1);
    // a HEAD refused (a write-only role may PutObject but not HeadObject): the check cannot be made
    // and the write commits, as a write under a second always did (it failed every slow write)
    heads = 0;
    store.head = async () => { heads++; throw new LakeSoulError('PermissionDenied', 'AccessDenied: HeadObject'); };
    await t.write([{ id: 98n, v: 1n }]);
    expect(heads).toBe(1);
    expect((await t.toArrow()).numRows).toBe(61);
    // a HEAD failing otherwise (the store unreachable): the write fails and leaves no file of its own
    const before = dataFiles(root).sort();
    store.head = async () => { throw new LakeSoulError('Io', 'connection reset'); };
    await expect(t.write([{ id: 99n, v: 1n }])).rejects.toMatchObject({ kind: 'Io' });
    expect(dataFiles(root).sort()).toEqual(before);
    expect((await t.toArrow()).numRows).toBe(61);
    // a store that took the HEAD and never answered (noAnswer): its file is left for cleanup, not
    // deleted by requests that would wait out the same timeouts again (the error came twice as late)
    const del = store.delete.bind(store);
    let deletes = 0;
    store.delete = async (...a: Parameters<typeof del>) => { deletes++; return del(...a); };
    store.head = async () => { throw new LakeSoulError('Io', 'head failed: the endpoint took the connection but sent nothing back in time', { context: { noAnswer: true } }); };
    await expect(t.write([{ id: 100n, v: 1n }])).rejects.toMatchObject({ kind: 'Io', context: { noAnswer: true } });
    expect(deletes).toBe(0);
    expect(dataFiles(root).length).toBe(before.length + 1);
    expect((await t.toArrow()).numRows).toBe(61);
  } finally {
    await lh.close();
  }
});
