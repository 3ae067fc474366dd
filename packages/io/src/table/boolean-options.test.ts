/**
 * Flags given as text (`purge: 'false'` read from an environment variable, a form or a config file)
 * are refused: a non-empty string is truthy, so `dropTable('t', { purge: 'false' })` deleted the
 * table's files, `dropNamespace(ns, { cascade: 'false' })` dropped its tables, and
 * `cleanup({ dryRun: 'false' })` was a dry run reported as `dryRun: 'false'`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Catalog } from '@lakesoul-ts/meta';
import { Lakehouse } from './lakehouse.js';
import { LocalStore } from '../store/local-store.js';
import { S3Store } from '../store/s3-store.js';
import { StoreRegistry } from '../store/store-registry.js';
import { useTempLakehouse } from './temp-lakehouse-fixture.js';

const env = useTempLakehouse('lakesoul-boolean-options-');
const refused = (where: string, name: string, got: string) => ({
  code: 'INVALID_OPTION_VALUE',
  message: `${where}: ${name} must be true or false, got ${got}`,
});

describe('boolean options given another type', () => {
  it("dropTable's purge: refused, the table and its files kept", async () => {
    const t = await env.lh.createTable('kept', [{ id: 1 }, { id: 2 }]);
    const files = (await t.snapshot()).flatMap((p) => p.files.map((f) => fileURLToPath(f.path)));
    expect(files.length).toBeGreaterThan(0);
    await expect(env.lh.dropTable('kept', { purge: 'false' as never })).rejects.toMatchObject(refused("dropTable 'kept'", 'purge', "the string 'false'"));
    expect((await env.lh.table('kept').then((x) => x.toArrow())).numRows).toBe(2);
    expect(files.every((f) => existsSync(f))).toBe(true);
  });

  it("dropNamespace's cascade and ifExists: refused, the namespace's tables kept", async () => {
    await env.lh.createTable('inside', [{ id: 1 }], { namespace: 'flags' });
    await expect(env.lh.catalog.dropNamespace('flags', { cascade: 'false' as never })).rejects.toMatchObject(refused("drop namespace 'flags'", 'cascade', "the string 'false'"));
    await expect(env.lh.catalog.dropNamespace('flags', { ifExists: 1 as never })).rejects.toMatchObject(refused("drop namespace 'flags'", 'ifExists', '1'));
    expect((await env.lh.table('inside', 'flags').then((x) => x.toArrow())).numRows).toBe(1);
  });

  it("cleanup's dryRun, createTable's and createNamespace's ifNotExists, relocateTables' dryRun", async () => {
    const t = await env.lh.createTable('clean', [{ id: 1 }]);
    await expect(t.cleanup({ dryRun: 'false' as never })).rejects.toMatchObject(refused("cleanup of table 'default.clean'", 'dryRun', "the string 'false'"));
    await expect(env.lh.createTable('clean', [{ id: 1 }], { ifNotExists: 'yes' as never })).rejects.toMatchObject(refused("createTable 'clean'", 'ifNotExists', "the string 'yes'"));
    await expect(env.lh.catalog.createNamespace('flags2', { ifNotExists: {} as never })).rejects.toMatchObject(refused("create namespace 'flags2'", 'ifNotExists', 'an object'));
    await expect(env.lh.catalog.relocateTables('file:///a', 'file:///b', { dryRun: 'true' as never })).rejects.toMatchObject(refused('relocateTables', 'dryRun', "the string 'true'"));
    expect(await env.lh.catalog.listNamespaces()).not.toContainEqual(expect.objectContaining({ name: 'flags2' }));
  });

  it('the opening options of a lakehouse, a catalog and the stores', async () => {
    await expect(Lakehouse.open({ catalog: env.lh.catalog, ownCatalog: 'true' as never })).rejects.toMatchObject(refused('Lakehouse.open', 'ownCatalog', "the string 'true'"));
    await expect(Catalog.open({ dataDir: ':memory:', bootstrap: 'false' as never })).rejects.toMatchObject(refused('Catalog.open', 'bootstrap', "the string 'false'"));
    expect(() => new StoreRegistry({ local: { fsync: 'false' as never } })).toThrow(expect.objectContaining(refused('stores.local', 'fsync', "the string 'false'")));
    expect(() => new StoreRegistry({ s3: { forcePathStyle: 'false' as never } })).toThrow(expect.objectContaining(refused('stores.s3', 'forcePathStyle', "the string 'false'")));
    expect(() => new LocalStore({ fsync: 0 as never })).toThrow(expect.objectContaining(refused('LocalStore', 'fsync', '0')));
    expect(() => new S3Store({ bucket: 'b', forcePathStyle: 'false' as never })).toThrow(expect.objectContaining(refused("S3Store of bucket 'b'", 'forcePathStyle', "the string 'false'")));
    // booleans pass
    expect(new LocalStore({ fsync: false })).toBeInstanceOf(LocalStore);
  });
});
