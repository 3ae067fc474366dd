/**
 * A write whose commit meets a full catalog disk (SQLSTATE 53100): it said INTERNAL and left its data
 * files behind, orphans until a cleanup(). The database raises the error itself (a trigger on the
 * catalog's partition_info in the test's own schema or embedded database), on PGlite + local disk and
 * on PostgreSQL + the moto S3 server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableFromArrays } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { openTestLakehouse, rowsOf, sortRows, type CatalogKind, type StorageKind, type TestLakehouse } from './io-harness.js';

const ENVS: [CatalogKind, StorageKind][] = [
  ['pglite', 'local'],
  ['pg', 's3'],
];

describe.each(ENVS)('a full catalog disk on %s catalog + %s storage', (catalogKind, storage) => {
  let env: TestLakehouse;
  beforeAll(async () => {
    env = await openTestLakehouse(catalogKind, storage);
  }, 120_000);
  afterAll(async () => env?.close());

  /** Every object below the table's directory. */
  async function filesOf(path: string): Promise<string[]> {
    const { store, key } = env.lh.stores.resolve(`${path}/`);
    const out: string[] = [];
    for await (const m of store.list(key)) out.push(m.path);
    return out.sort();
  }

  it('fails the write with CATALOG_DISK_FULL, commits nothing and deletes the files it uploaded', async () => {
    const lh = env.lh;
    const t = await lh.createTable('full_disk', tableFromArrays({ id: BigInt64Array.from([1n]), part: ['a'] }).schema, { rangePartitions: ['part'] });
    await t.write(tableFromArrays({ id: BigInt64Array.from([1n, 2n]), part: ['a', 'b'] }));
    const filesBefore = await filesOf(t.info.path);
    const history = (await t.history()).length;
    expect(filesBefore.length).toBeGreaterThan(0);

    await lh.catalog.driver.query(`CREATE FUNCTION lakesoul_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'could not extend file "base/5/16384": No space left on device' USING ERRCODE = 'disk_full'; END $$`);
    await lh.catalog.driver.query('CREATE TRIGGER lakesoul_test_disk_full BEFORE INSERT ON partition_info FOR EACH ROW EXECUTE FUNCTION lakesoul_test_disk_full()');
    let e: unknown;
    try {
      e = await t.write(tableFromArrays({ id: BigInt64Array.from([3n, 4n, 5n]), part: ['a', 'b', 'c'] })).then(() => undefined, (x: unknown) => x);
    } finally {
      await lh.catalog.driver.query('DROP TRIGGER lakesoul_test_disk_full ON partition_info');
    }
    expect(LakeSoulError.is(e)).toBe(true);
    expect(e).toMatchObject({ kind: 'Catalog', code: 'CATALOG_DISK_FULL', retryable: false });
    expect((e as Error).message).toMatch(/^commit AppendCommit to table 'default\.full_disk' failed, nothing was committed: catalog database disk full \(SQLSTATE 53100\): the PostgreSQL server has no space left to write; free disk space there, then run again/);

    expect((await t.history()).length, 'nothing was committed').toBe(history);
    expect(sortRows(rowsOf(await t.toArrow()), ['id']).map((r) => r.id)).toEqual([1, 2]);
    expect(await filesOf(t.info.path), 'no data file of the failed write remains').toEqual(filesBefore);

    // with the disk "freed", the same write succeeds
    await t.write(tableFromArrays({ id: BigInt64Array.from([3n]), part: ['c'] }));
    expect(sortRows(rowsOf(await t.toArrow()), ['id']).map((r) => r.id)).toEqual([1, 2, 3]);
  });

  // A read-only database (a standby, default_transaction_read_only) or a role without the privilege
  // refuses a statement of the commit: nothing was committed, yet the write left its files behind
  // (orphans until a cleanup()) and the error did not say that nothing was committed.
  const REFUSALS = [
    { errcode: 'read_only_sql_transaction', on: 'data_commit_info', kind: 'Catalog', code: 'CATALOG_READ_ONLY', says: /catalog database is read-only \(SQLSTATE 25006/ },
    { errcode: 'insufficient_privilege', on: 'partition_info', kind: 'PermissionDenied', code: 'PERMISSION_DENIED', says: /catalog permission denied/ },
  ] as const;
  it.each(REFUSALS)('a commit refused with $errcode on $on commits nothing and deletes the files it uploaded', async ({ errcode, on, kind, code, says }) => {
    const lh = env.lh;
    const t = await lh.createTable(`refused_${on}`, tableFromArrays({ id: BigInt64Array.from([1n]), part: ['a'] }).schema, { rangePartitions: ['part'] });
    await t.write(tableFromArrays({ id: BigInt64Array.from([1n, 2n]), part: ['a', 'b'] }));
    const filesBefore = await filesOf(t.info.path);
    const history = (await t.history()).length;

    await lh.catalog.driver.query(`CREATE FUNCTION lakesoul_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused by the test' USING ERRCODE = '${errcode}'; END $$`);
    await lh.catalog.driver.query(`CREATE TRIGGER lakesoul_test_refuse BEFORE INSERT ON ${on} FOR EACH ROW EXECUTE FUNCTION lakesoul_test_refuse()`);
    let e: unknown;
    try {
      e = await t.write(tableFromArrays({ id: BigInt64Array.from([3n, 4n]), part: ['a', 'c'] })).then(() => undefined, (x: unknown) => x);
    } finally {
      await lh.catalog.driver.query(`DROP TRIGGER lakesoul_test_refuse ON ${on}`);
      await lh.catalog.driver.query('DROP FUNCTION lakesoul_test_refuse()');
    }
    expect(LakeSoulError.is(e), String(e)).toBe(true);
    expect(e).toMatchObject({ kind, code });
    expect((e as Error).message).toMatch(new RegExp(`^commit AppendCommit to table 'default\\.refused_${on}' failed, nothing was committed: `));
    expect((e as Error).message).toMatch(says);

    expect((await t.history()).length, 'nothing was committed').toBe(history);
    expect(sortRows(rowsOf(await t.toArrow()), ['id']).map((r) => r.id)).toEqual([1, 2]);
    expect(await filesOf(t.info.path), 'no data file of the refused write remains').toEqual(filesBefore);
  });
});
