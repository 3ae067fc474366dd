/**
 * Imports of several folders into one table at once each add their folder to the table's blob roots:
 * the roots were computed from the properties as read before the update, so one import's root could
 * replace another's, whose rows were then refused (BLOB_OUTSIDE_ROOTS). The update now extends the
 * properties as they are in its own transaction (`updateTableProperties` with a function).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { toFileUri } from '../store/index.js';
import { Lakehouse } from '../table/index.js';
import { blobRootsOf } from '../blob/blob-columns.js';
import { importImages } from './image-import.js';

const dir = mkdtempSync(join(tmpdir(), 'lakesoul-import-concurrent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('imports of four folders at once into one table record every folder as a root', async () => {
  const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(join(dir, 'wh')) });
  try {
    const folders = [0, 1, 2, 3].map((i) => {
      const f = join(dir, `src${i}`);
      mkdirSync(join(f, 'label'), { recursive: true });
      writeFileSync(join(f, 'label', `${i}.png`), `IMAGE ${i}`);
      return toFileUri(f);
    });
    await importImages(lh, 'pics', { folder: folders[0] });
    await Promise.all(folders.slice(1).map((folder) => importImages(lh, 'pics', { folder })));
    const t = await lh.table('pics');
    expect(blobRootsOf(t.info).sort()).toEqual([...folders].sort());
    const rows = (await t.toArrow({ blobs: ['path'] })).toArray().map((r) => Buffer.from(r.path__bytes as Uint8Array).toString());
    expect(rows.sort()).toEqual(['IMAGE 0', 'IMAGE 1', 'IMAGE 2', 'IMAGE 3']);
    // a copy import refused by the mode recorded changes nothing
    await expect(importImages(lh, 'pics', { folder: folders[0] }, { mode: 'copy' })).rejects.toThrow(/imported in reference mode/);
    expect(blobRootsOf((await lh.table('pics')).info).length).toBe(4);
  } finally {
    await lh.close();
  }
});
