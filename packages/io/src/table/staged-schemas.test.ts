/**
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

describe('commitStaged and the schemas of staged writes', () => {
  let dir: string | undefined;
  let lake: Lakehouse | undefined;
  afterEach(async () => {
    await lake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = lake = undefined;
  });
  const open = async () => {
    dir = mkdtempSync(join(tmpdir(), 'staged-schemas-'));
    lake = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(dir) });
    return lake;
  };

  it('two merge-mode writes adding a column in two types are refused together, naming it, files kept; one at a time they commit', async () => {
    const l = await open();
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

  it('a staged write whose commit failed on a schema race says its files are gone, and is refused as discarded when committed again', async () => {
    const l = await open();
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
