// Blob roots set after the create (Catalog.updateTableProperties, which createTable's checks do not
// see) are checked when blobs are read: a relative entry (`images`) failed every blob read with
// "relative location 'images': expected an absolute URI", naming neither the table nor the property.
import { expect, it } from 'vitest';
import { Lakehouse } from '../table/lakehouse.js';

it('a scan with blobs refuses roots a property update made unreadable, naming the table and the property', async () => {
  const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: 'memory://roots-updated' });
  try {
    const t = await lh.createTable('pics', [{ id: 1n, path: 'a.png' }], { blobColumns: ['path'] });
    await lh.catalog.updateTableProperties(t.info.tableId, { lakesoul_blob_roots: 'images' });
    await t.refresh();
    await expect(t.toArrow({ blobs: ['path'] })).rejects.toMatchObject({
      kind: 'InvalidArgument', message: expect.stringContaining("table 'default.pics': property 'lakesoul_blob_roots' lists 'images'"),
    });
    // reads without blobs are unaffected
    expect((await t.toArrow()).numRows).toBe(1);
  } finally {
    await lh.close();
  }
});
