/**
 * A reference import into a table an older import wrote, which stored each file's address as written
 * (`file:///d/My Images/cat/a.png`), not percent-encoded: the re-import keeps the table's spelling of
 * each file it already lists (`path` is the primary key, so the encoded spelling added a second row for
 * every file whose name holds a space, a non-ASCII letter, `#` or `?`), and does not list the root a
 * second time in another spelling.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Field, Int64, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { toFileUri } from '../store/index.js';
import { Lakehouse } from '../table/index.js';
import { blobRootsOf } from '../blob/blob-columns.js';
import { importImages } from './image-import.js';

const dir = mkdtempSync(join(tmpdir(), 'lakesoul-import-respell-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('re-importing a folder into a table of unencoded references replaces its rows, adding only the new file', async () => {
  const folder = join(dir, 'My Images');
  const names = ['cat/a.png', 'chat/café.png', 'cat/x#1.png', 'cat/q?.png'];
  for (const n of names) {
    mkdirSync(join(folder, n, '..'), { recursive: true });
    writeFileSync(join(folder, n), n);
  }
  const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(join(dir, 'wh')) });
  try {
    const root = toFileUri(folder);
    // the table as the importer before references were encoded made it: root and paths unencoded
    const schema = new Schema([new Field('path', new Utf8(), false), new Field('label', new Utf8(), true), new Field('size', new Int64(), true)]);
    const t = await lh.createTable('imgs', schema, { primaryKeys: ['path'], hashBucketNum: 4, blobColumns: ['path'], properties: { lakesoul_blob_roots: root } });
    const old = names.map((n) => `${root}/${n}`);
    await t.write(new Table({ path: vectorFromArray(old, new Utf8()), label: vectorFromArray(names.map((n) => n.split('/')[0]), new Utf8()), size: vectorFromArray(names.map((n) => BigInt(Buffer.byteLength(n))), new Int64()) }), { mode: 'upsert' });
    expect((await t.toArrow({ blobs: ['path'] })).numRows).toBe(4);

    writeFileSync(join(folder, 'cat', 'b.png'), 'cat/b.png');
    await importImages(lh, 'imgs', { folder: root });
    const after = await lh.table('imgs');
    const rows = (await after.toArrow({ blobs: ['path'] })).toArray();
    // 5, not 8: the four files keep their rows as spelled, the new one is written encoded
    expect(rows.map((r) => r.path as string).sort()).toEqual([...old, `${toFileUri(folder).replace('My Images', 'My%20Images')}/cat/b.png`].sort());
    for (const r of rows) expect(Buffer.from(r.path__bytes as Uint8Array).toString()).toBe(String(r.label) + '/' + (r.path as string).split('/').pop()!.replace('caf%C3%A9', 'café'));
    expect(blobRootsOf(after.info)).toEqual([root]);
  } finally {
    await lh.close();
  }
});
