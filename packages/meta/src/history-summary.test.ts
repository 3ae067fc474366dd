/**
 * A table's commit log without the quadratic part: every version's snapshot lists each commit in
 * force, so `history` of n uncompacted commits returns n²/2 ids (4,801 commits: 11.5 million, which
 * made `lakesoul-ts history --limit 0` take 71 s and 2.9 GB, and fail through a catalog server).
 * `historySummary` leaves them out, and `versionSnapshots` sends each id once per read, not once per
 * version. Measured by the ids the driver returns, not by time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int64, Schema } from 'apache-arrow';
import { Catalog } from './catalog.js';
import type { SqlDriver } from './sql-driver.js';

const schema = new Schema([new Field('id', new Int64(), false), new Field('p', new Int64(), false)]);
const COMMITS = 240;

describe('historySummary and versionSnapshots of many uncompacted commits', () => {
  let catalog: Catalog;
  let tableId: string;
  /** Array elements in the rows the driver returned since the last reset. */
  let ids = 0;

  beforeAll(async () => {
    catalog = await Catalog.open({ dataDir: ':memory:', env: {} });
    const driver = (catalog as unknown as { driver: SqlDriver }).driver;
    const query = driver.query.bind(driver);
    driver.query = (async (...args: Parameters<SqlDriver['query']>) => {
      const r = await query(...args);
      for (const row of r.rows as Record<string, unknown>[]) for (const v of Object.values(row)) if (Array.isArray(v)) ids += v.length;
      return r;
    }) as SqlDriver['query'];
    const t = await catalog.createTable({ name: 'many', path: 'file:///tmp/history-summary/many', schema, rangePartitions: ['p'] });
    tableId = t.tableId;
    const file = (d: string, n: string, op: 'add' | 'del' = 'add') => ({ path: `${t.path}/${d}/part-${n}_0000.parquet`, op, size: 1n, existCols: ['id'] });
    for (let i = 0; i < COMMITS; i++) {
      const d = i % 4 === 3 ? 'p=2' : 'p=1';
      await catalog.commit({ tableId, op: 'AppendCommit', partitions: [{ partitionDesc: d, files: [file(d, `c${i}`)] }] });
      // a rewrite of p=1 in the middle: versions after it do not extend the snapshot before it
      if (i === COMMITS / 2) {
        await catalog.commit({ tableId, op: 'UpdateCommit', partitions: [{ partitionDesc: 'p=1', files: [file('p=1', 'compacted')] }] });
      }
    }
  }, 60_000);

  afterAll(async () => {
    await catalog?.close();
  });

  it('historySummary is history without the snapshots, and returns no ids', async () => {
    ids = 0;
    const full = await catalog.history(tableId);
    const heavy = ids;
    ids = 0;
    const light = await catalog.historySummary(tableId);
    expect(ids).toBe(0);
    expect(heavy).toBeGreaterThan(COMMITS * COMMITS / 8);
    expect(light).toEqual(full.map(({ snapshot: _, ...v }) => v));
    expect(await catalog.historySummary(tableId, { commits: 3, partitionDesc: 'p=2' })).toEqual(
      (await catalog.history(tableId, { commits: 3, partitionDesc: 'p=2' })).map(({ snapshot: _, ...v }) => v));
  });

  it('versionSnapshots in chunks of 100 versions returns each version as getSnapshot does, each id crossing about once', async () => {
    const versions = await catalog.historySummary(tableId);
    ids = 0;
    const files: string[][] = [];
    for (let at = 0; at < versions.length; at += 100) {
      for (const s of await catalog.versionSnapshots(tableId, versions.slice(at, at + 100))) files.push(s.files.map((f) => f.path));
    }
    // the snapshot ids (and the commits' file ops) of each chunk: the quadratic read returned ~15,000
    expect(ids).toBeLessThan(6 * versions.length);
    for (const k of [0, 1, 60, 120, 121, 122, 179, 180, 181, versions.length - 1]) {
      const v = versions[k]!;
      const [one] = await catalog.getSnapshot(tableId, { version: v.version, partitions: [v.partitionDesc] });
      expect(files[k], `${v.partitionDesc}@${v.version}`).toEqual(one!.files.map((f) => f.path));
    }
    // in any order, with a version twice
    const some = [versions[200]!, versions[3]!, versions[200]!, versions[150]!];
    expect((await catalog.versionSnapshots(tableId, some)).map((s) => [s.partitionDesc, s.version, s.files.length]))
      .toEqual(some.map((v) => [v.partitionDesc, v.version, files[versions.indexOf(v)]!.length]));
  });
});
