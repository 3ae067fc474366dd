/**
 * A new table's blob declarations are checked at createTable: blob columns of a reference type, and
 * `lakesoul_blob_roots` a list of absolute URIs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dictionary, Field, Int32, Int64, LargeUtf8, Schema, Struct, Utf8 } from 'apache-arrow';
import { Catalog, LakeSoulError } from '@lakesoul-ts/meta';
import { StoreRegistry, toFileUri } from '../store/index.js';
import { Lakehouse } from '../table/index.js';
import { BLOB_FIELD_METADATA, BLOB_ROOTS_PROPERTY, blobRootsOf } from './blob-columns.js';

describe('blob declarations at createTable', () => {
  let catalog: Catalog;
  let lh: Lakehouse;
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-blob-decl-'));
  beforeAll(async () => {
    catalog = await Catalog.open({ dataDir: ':memory:' });
    lh = await Lakehouse.open({ catalog, stores: new StoreRegistry(), warehouse: toFileUri(join(dir, 'wh')) });
  });
  afterAll(async () => {
    await catalog?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const refusal = async (p: Promise<unknown>): Promise<LakeSoulError> => {
    const e = await p.then(() => undefined, (x) => x);
    expect(e, 'expected a refusal').toBeInstanceOf(LakeSoulError);
    return e as LakeSoulError;
  };
  const tables = async () => (await catalog.listTables('default')).map((t) => t.name);

  it('refuses a blob column that cannot hold references, naming the table, the column and its type', async () => {
    const schema = new Schema([new Field('id', new Int32(), false), new Field('n', new Int32(), true)]);
    // was accepted, and described as a blob reference
    let e = await refusal(lh.createTable('bad_col', schema, { blobColumns: ['n'] }));
    expect(e.kind).toBe('InvalidArgument');
    expect(e.message).toBe("table 'default.bad_col': blob column 'n' has type Int32; a blob column holds references: a string (URI or relative path, Utf8) or a struct {path, offset, length}");
    expect(e.context).toMatchObject({ table: 'default.bad_col', column: 'n', type: 'Int32' });
    // through the property and through field metadata alike
    e = await refusal(lh.createTable('bad_prop', schema, { properties: { lakesoul_blob_columns: 'n' } }));
    expect(e.message).toContain("blob column 'n' has type Int32");
    const marked = new Schema([new Field('id', new Int32(), false), new Field('n', new Int64(), true, new Map([[BLOB_FIELD_METADATA, 'true']]))]);
    e = await refusal(lh.createTable('bad_meta', marked));
    expect(e.message).toContain("blob column 'n' has type Int64");
    expect(await tables()).not.toContain('bad_col');
    // every reference type is accepted
    const ok = new Schema([
      new Field('a', new Utf8(), true),
      new Field('b', new LargeUtf8(), true),
      new Field('c', new Dictionary(new Utf8(), new Int32()), true),
      new Field('d', new Struct([new Field('path', new Utf8(), true), new Field('offset', new Int64(), true), new Field('length', new Int64(), true)]), true),
    ]);
    await lh.createTable('good_cols', ok, { blobColumns: ['a', 'b', 'c', 'd'] });
  });

  it('refuses a lakesoul_blob_roots that is not a list of absolute URIs, naming the property and the table', async () => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field('img', new Utf8(), true)]);
    // `images` was accepted, and every blob read then failed "relative location 'images'"
    for (const roots of ['images', '/data/images', 'file://host/x', 'http://h/x', 's3:///x', 'file:///data/a,images', 's3://b/x/../y']) {
      const e = await refusal(lh.createTable('bad_roots', schema, { blobColumns: ['img'], properties: { [BLOB_ROOTS_PROPERTY]: roots } }));
      expect(e.kind, roots).toBe('InvalidArgument');
      expect(e.message, roots).toContain(`table 'default.bad_roots': property '${BLOB_ROOTS_PROPERTY}' lists '`);
      expect(e.context, roots).toMatchObject({ table: 'default.bad_roots', property: BLOB_ROOTS_PROPERTY });
    }
    expect(await tables()).not.toContain('bad_roots');
    const roots = `file:///data/my%2541dir, s3://bucket/raw/pets,memory://m/x, file://localhost/srv/img`;
    const t = await lh.createTable('good_roots', schema, { blobColumns: ['img'], properties: { [BLOB_ROOTS_PROPERTY]: roots } });
    expect(blobRootsOf(t.info)).toEqual(['file:///data/my%2541dir', 's3://bucket/raw/pets', 'memory://m/x', 'file://localhost/srv/img']);
  });
});
