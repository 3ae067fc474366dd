// A table created from data and dropped by another call while its rows were being written failed
// with "...; the empty table 't' it created could not be dropped again (... not found): drop it
// before trying again" (code NOT_FOUND) though no table was left: the write's own error now stands.
import { afterEach, expect, it, vi } from 'vitest';
import { tableFromArrays } from 'apache-arrow';
import { Lakehouse } from './lakehouse.js';
import { LakeSoulTable } from './lakesoul-table.js';

afterEach(() => { vi.restoreAllMocks(); });

it('a create from data whose table another call drops fails with the write\'s own error', async () => {
  const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: 'memory://create-dropped' });
  try {
    const write = LakeSoulTable.prototype.write;
    vi.spyOn(LakeSoulTable.prototype, 'write').mockImplementationOnce(async function (this: LakeSoulTable, ...args: Parameters<LakeSoulTable['write']>) {
      await lh.dropTable('t');
      return write.apply(this, args);
    });
    const err = await lh.createTable('t', tableFromArrays({ id: BigInt64Array.from([1n, 2n]) }), { primaryKeys: ['id'] }).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ kind: 'NotFound', code: 'TABLE_NOT_FOUND' });
    expect((err as Error).message).not.toContain('could not be dropped again');
    expect(await lh.listTables()).toEqual([]);
  } finally {
    await lh.close();
  }
});
