// Blob roots set after the create (Catalog.updateTableProperties, which createTable's checks do not
// see) are checked when blobs are read: a relative entry (`images`) failed every blob read with
// "relative location 'images': expected an absolute URI", naming neither the table nor the property.
// Only that: reads take roots createTable does not let a new table declare (Hadoop's `file:/abs`).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { Lakehouse } from '../table/lakehouse.js';

const dir = mkdtempSync(join(tmpdir(), 'lakesoul-roots-updated-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('a scan with blobs refuses a relative root, naming the table and the property, and reads Hadoop file:/ roots', async () => {
  const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(join(dir, 'wh')).href });
  try {
    mkdirSync(join(dir, 'imgs'));
    writeFileSync(join(dir, 'imgs', 'a.png'), 'PNG BYTES');
    const t = await lh.createTable('pics', [{ id: 1n, path: `file://${join(dir, 'imgs', 'a.png')}` }], { blobColumns: ['path'] });
    await lh.catalog.updateTableProperties(t.info.tableId, { lakesoul_blob_roots: 'images' });
    await t.refresh();
    await expect(t.toArrow({ blobs: ['path'] })).rejects.toMatchObject({
      kind: 'InvalidArgument', message: expect.stringContaining("table 'default.pics': property 'lakesoul_blob_roots' lists 'images', a relative location"),
    });
    // reads without blobs are unaffected
    expect((await t.toArrow()).numRows).toBe(1);
    // a root in Hadoop's spelling, as other engines may set it: read as before
    await lh.catalog.updateTableProperties(t.info.tableId, { lakesoul_blob_roots: `file:${join(dir, 'imgs')}` });
    await t.refresh();
    const read = await t.toArrow({ blobs: ['path'] });
    expect(Buffer.from(read.getChild('path__bytes')!.get(0) as Uint8Array).toString()).toBe('PNG BYTES');
  } finally {
    await lh.close();
  }
});
