/**
 * A staged write whose files a cleanup() deleted as orphans (the write waited longer than the orphan
 * safety window) is refused at its commit, naming the file: it committed, and every read of the
 * partition then failed OBJECT_NOT_FOUND.
 *
 * commitStaged and schemas (found by a hunt of schema evolution): two staged merge-mode writes adding
 * one column in different types failed a retryable SCHEMA_CHANGED blaming "another writer" (there was
 * none) and deleted their files, and committing them again then failed STAGED_FILES_MISSING blaming a
 * cleanup that never ran. They are refused before the commit now (their files kept, each commits on
 * its own); a staged write whose files a failed commit deleted is refused as such; and a real schema
 * race says that the staged files are gone, not only "run it again".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Float32, Float64, Int32, Int64, Int8, Schema, Table, vectorFromArray } from 'apache-arrow';
import { Lakehouse, toFileUri } from '../index.js';

describe('commitStaged of files a cleanup deleted, and of staged writes whose schemas differ', () => {
  let dir: string | undefined;
  let lake: Lakehouse | undefined;
  afterEach(async () => {
    await lake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = lake = undefined;
  });

  it('says the table was dropped when its files went with a purge, not that a cleanup took them (found by a hunt of Flight replicas)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'staged-dropped-'));
    lake = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(dir) });
    const t = await lake.createTable('dr', [{ id: 1, p: 'a', w: 1 }], { primaryKeys: ['id'], rangePartitions: ['p'] });
    const staged = await t.stage([{ id: 7, p: 'b', w: 4242 }], { mode: 'upsert' });
    await lake.dropTable('dr', { purge: true });
    const again = await lake.createTable('dr', [{ id: 2, p: 'a', w: 2 }], { primaryKeys: ['id'], rangePartitions: ['p'] });
    const err = await t.commitStaged([staged]).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ kind: 'NotFound', code: 'TABLE_NOT_FOUND', retryable: false });
    expect((err as Error).message).toBe("table 'default.dr' was dropped while this write ran: nothing was committed, and its files were deleted with it");
    expect((await again.toArrow()).numRows).toBe(1);
  });

  it('is refused (STAGED_FILES_MISSING, naming the file), commits nothing, and the table stays readable', async () => {
    dir = mkdtempSync(join(tmpdir(), 'staged-gone-'));
    lake = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(dir) });
    const t = await lake.createTable('kv', [{ id: 1, p: 'a', w: 1 }], { primaryKeys: ['id'], rangePartitions: ['p'] });
    const staged = await t.stage([{ id: 7, p: 'b', w: 4242 }], { mode: 'upsert' });
    const cleaned = await t.cleanup({ orphanSafetyWindowMs: 0, assumeNoWritesInFlight: true, dryRun: false });
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
    const cleaned = await t.cleanup({ orphanSafetyWindowMs: 0, assumeNoWritesInFlight: true, dryRun: false });
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

  it('two merge-mode writes adding a column in two types are refused together, naming it, files kept; one at a time they commit', async () => {
    dir = mkdtempSync(join(tmpdir(), 'staged-schemas-'));
    const l = lake = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(dir) });
    const t = await l.createTable('s', new Schema([new Field('id', new Int64(), false), new Field('v', new Int32(), true)]), { primaryKeys: ['id'], hashBucketNum: 2 });
    const s1 = await t.stage(new Table({ id: vectorFromArray([1n], new Int64()), x: vectorFromArray([5], new Int8()) }), { schemaMode: 'merge' });
    const s2 = await t.stage(new Table({ id: vectorFromArray([2n], new Int64()), x: vectorFromArray([100000], new Int32()) }), { schemaMode: 'merge' });
    const err = await t.commitStaged([s1, s2]).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ kind: 'InvalidArgument', code: 'STAGED_SCHEMAS_DIFFER', context: { table: 's', column: 'x' } });
    expect((err as Error).message).toContain("hold column 'x' as Int8 and as Int32");
    expect(await t.history()).toHaveLength(0);
    await t.commitStaged([s1]);
    await t.commitStaged([s2]);
    const rows = (await t.toArrow()).toArray().map((r) => `${r.id}:${r.x}`);
    expect(rows.sort()).toEqual(['1:5', '2:100000']);
  });

  // found by a hunt of schema evolution: the check compared the whole table schema each was staged
  // under, so s1 (id, x) was said to hold 'a' as Int32 beside s2's Int64
  it('a merge write adding a column and another widening a column it does not hold commit together', async () => {
    dir = mkdtempSync(join(tmpdir(), 'staged-schemas-'));
    const l = lake = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(dir) });
    const t = await l.createTable('w', new Schema([new Field('id', new Int32(), false), new Field('a', new Int32(), true)]), { primaryKeys: ['id'], hashBucketNum: 1 });
    await t.write([{ id: 1, a: 1 }]);
    const s1 = await t.stage(new Table({ id: vectorFromArray([2], new Int32()), x: vectorFromArray([5], new Int8()) }), { schemaMode: 'merge' });
    const s2 = await t.stage(new Table({ id: vectorFromArray([3], new Int32()), a: vectorFromArray([5_000_000_000n], new Int64()) }), { schemaMode: 'merge' });
    await t.commitStaged([s1, s2]);
    const out = await t.toArrow();
    expect(String(out.schema.fields.find((f) => f.name === 'a')!.type)).toBe('Int64');
    expect(out.toArray().map((r) => `${r.id}:${r.a}:${r.x}`).sort()).toEqual(['1:1:null', '2:null:5', '3:5000000000:null']);
  });

  it('a staged write whose commit failed on a schema race says its files are gone, and is refused as discarded when committed again', async () => {
    dir = mkdtempSync(join(tmpdir(), 'staged-schemas-'));
    const l = lake = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(dir) });
    const t = await l.createTable('r', new Schema([new Field('id', new Int64(), false), new Field('f', new Float32(), true)]), { primaryKeys: ['id'], hashBucketNum: 1 });
    const staged = await t.stage([{ id: 1, f: 0.1 }]);
    await (await l.table('r')).widenColumns({ f: new Float64() });
    const err = await t.commitStaged([staged]).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ kind: 'Conflict', code: 'SCHEMA_CHANGED', retryable: true });
    expect((err as Error).message).toContain('staged writes: their files were deleted with this commit; stage the rows again');
    const again = await t.commitStaged([staged]).then(() => null, (e: unknown) => e);
    expect(again).toMatchObject({ kind: 'InvalidArgument', code: 'STAGED_DISCARDED' });
    await t.discardStaged([staged]); // harmless
    expect(await t.history()).toHaveLength(0);
  });
});
