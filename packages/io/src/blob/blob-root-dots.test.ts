/**
 * An allowed root whose `file:` path holds a segment percent-encoding `.` or `..` (`%2E`, `%2E%2E`):
 * decoded, it became a step of the path, so `file:///data/%2E` allowed all of `/data`, and
 * `.../sub/%2E%2E` was accepted by createTable, after which every blob read of the table failed. Such a
 * segment is now a folder of that name, as written, and createTable validates the property through the
 * same placing as reads.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { toFileUri } from '../store/index.js';
import { Lakehouse } from '../table/index.js';
import { BlobRoots, allowedRootLocations } from './blob-reference.js';
import { BLOB_ROOTS_PROPERTY, checkBlobDeclarations } from './blob-columns.js';
import { Field, Schema, Utf8 } from 'apache-arrow';

const tablePath = 'file:///wh/t';
const resolve = (roots: string[], ref: string) => new BlobRoots({ tablePath, allowedRoots: roots }).resolve({ path: ref }).uri;

describe('allowed roots with an encoded . or .. segment', () => {
  it('a root file:///data/%2E is the folder named %2E, not /data', () => {
    expect(new BlobRoots({ tablePath, allowedRoots: ['file:///data/%2E'] }).allowed).toEqual([tablePath, 'file:///data/%2E']);
    expect(() => resolve(['file:///data/%2E'], 'file:///data/secret.txt')).toThrow(/outside the allowed roots/);
    // a reference names a file in that folder with its % encoded
    expect(resolve(['file:///data/%2E'], 'file:///data/%252E/x.png')).toBe('file:///data/%2E/x.png');
    expect(allowedRootLocations('file:///data/a%20b/%2e%2E')).toEqual(['file:///data/a b/%2e%2E', 'file:///data/a%20b/%2e%2E']);
    
  });

  it('a root holding %2E%2E is usable (it refused every read), and a literal .. is still refused', () => {
    expect(resolve(['file:///data/imgs/%2E%2E', 'file:///other'], 'file:///other/x.png')).toBe('file:///other/x.png');
    expect(() => resolve(['file:///data/imgs/%2E%2E'], 'file:///data/imgs/x.png')).toThrow(/outside the allowed roots/);
    expect(() => allowedRootLocations('file:///data/imgs/..')).toThrow(/may not contain '\.\.'/);
    
  });

  it('checkBlobDeclarations places roots as reads do', () => {
    const schema = new Schema([new Field('p', new Utf8(), true)]);
    const check = (roots: string) => () => checkBlobDeclarations({ name: 't', schema, properties: { lakesoul_blob_columns: 'p', [BLOB_ROOTS_PROPERTY]: roots } });
    expect(check('file:///data/imgs/sub/%2E%2E,file:///data/%2E')).not.toThrow();
    expect(check('file:///data/imgs/sub/..')).toThrow(LakeSoulError);
    expect(check('s3://bucket/a/../b')).toThrow(/lists 's3:\/\/bucket\/a\/\.\.\/b'/);
  });

  it('through a table: %2E%2E reads its rows, %2E does not widen to the parent folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-blob-dots-'));
    const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(join(dir, 'wh')) });
    try {
      mkdirSync(join(dir, 'imgs'), { recursive: true });
      writeFileSync(join(dir, 'imgs', 'a.png'), 'A');
      writeFileSync(join(dir, 'secret.txt'), 'S');
      const imgs = toFileUri(join(dir, 'imgs'));
      const t1 = await lh.createTable('t1', [{ path: 'x' }], { blobColumns: ['path'], properties: { [BLOB_ROOTS_PROPERTY]: `${imgs}/sub/%2E%2E,${imgs}` } });
      await t1.write([{ path: `${imgs}/a.png` }]);
      // (createTable writes its sample row `x`: read only the written one)
      const a = await t1.toArrow({ blobs: ['path'], filter: `path = '${imgs}/a.png'` });
      expect(Buffer.from(a.getChild('path__bytes')!.get(0) as Uint8Array).toString()).toBe('A');

      const t2 = await lh.createTable('t2', [{ path: 'x' }], { blobColumns: ['path'], properties: { [BLOB_ROOTS_PROPERTY]: `${toFileUri(dir)}/%2E` } });
      await t2.write([{ path: `${toFileUri(dir)}/secret.txt` }]);
      const e = await t2.toArrow({ blobs: ['path'], filter: `path = '${toFileUri(dir)}/secret.txt'` }).then(() => undefined, (x: unknown) => x);
      expect(LakeSoulError.hasCode(e, 'BLOB_OUTSIDE_ROOTS')).toBe(true);
    } finally {
      await lh.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
