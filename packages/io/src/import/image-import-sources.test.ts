/**
 * importImages with several sources, odd file names, tables that exist, and manifests that are wrong:
 * every image stays readable through the table, nothing is overwritten or listed twice, and a refused
 * import leaves nothing behind (local disk).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int64, Schema, Utf8 } from 'apache-arrow';
import { Catalog, LakeSoulError } from '@lakesoul-ts/meta';
import { LocalStore, StoreRegistry, toFileUri } from '../store/index.js';
import { Lakehouse } from '../table/index.js';
import type { LakeSoulTable } from '../table/index.js';
import { blobRootsOf } from '../blob/blob-columns.js';
import { scanImageFolder } from '../blob/image-folder.js';
import { IMPORT_MODE_PROPERTY, importImages } from './image-import.js';

/** path -> bytes of every row, read through the table (each row alone, so one failure names its row). */
async function bytesOf(t: LakeSoulTable): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const all = await t.toArrow({ blobs: ['path'] });
  for (const r of all.toArray()) out[r.path as string] = Buffer.from(r.path__bytes as Uint8Array).toString();
  return out;
}

function put(file: string, text: string): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
}

describe('importImages: sources, names, existing tables, manifests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-import-src-'));
  let catalog: Catalog;
  let lh: Lakehouse;

  beforeAll(async () => {
    catalog = await Catalog.open({ dataDir: ':memory:' });
    lh = await Lakehouse.open({ catalog, warehouse: toFileUri(join(dir, 'wh')) });
  });
  afterAll(async () => {
    await catalog?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reference imports of two folders into one table: both folders become roots, every row reads its bytes', async () => {
    put(join(dir, 'two/a/cat/1.png'), 'CAT');
    put(join(dir, 'two/b/dog/2.png'), 'DOG');
    await importImages(lh, 'two', { folder: toFileUri(join(dir, 'two/a')) });
    const r = await importImages(lh, 'two', { folder: toFileUri(join(dir, 'two/b')) });
    expect(blobRootsOf(r.table.info)).toEqual([toFileUri(join(dir, 'two/a')), toFileUri(join(dir, 'two/b'))]);
    const t = await lh.table('two');
    expect(Object.values(await bytesOf(t)).sort()).toEqual(['CAT', 'DOG']);
    // importing a folder again adds no root twice
    await importImages(lh, 'two', { folder: toFileUri(join(dir, 'two/a')) });
    expect(blobRootsOf((await lh.table('two')).info).length).toBe(2);
  });

  it('an import in the other mode than the table was imported with is refused, naming the table and its mode; nothing changes', async () => {
    put(join(dir, 'mixed/cat/1.png'), 'CAT');
    const folder = { folder: toFileUri(join(dir, 'mixed')) };
    await importImages(lh, 'mixed_ref', folder);
    await importImages(lh, 'mixed_copy', folder, { mode: 'copy' });
    for (const [name, mode, recorded] of [['mixed_ref', 'copy', 'reference'], ['mixed_copy', 'reference', 'copy']] as const) {
      const e = await importImages(lh, name, folder, { mode }).catch((x) => x);
      expect(LakeSoulError.is(e, 'InvalidArgument'), String(e)).toBe(true);
      expect(e.message).toContain(`default.${name}`);
      expect(e.message).toContain(`imported in ${recorded} mode`);
      const t = await lh.table(name);
      expect(t.info.properties[IMPORT_MODE_PROPERTY]).toBe(recorded);
      expect((await t.toArrow()).numRows).toBe(1);
    }
    expect(existsSync(join(dir, 'wh/default/mixed_ref/_blobs'))).toBe(false);
    // a table imported before the mode was recorded: its rows tell
    const t = await lh.table('mixed_copy');
    t.info = await t.catalog.updateTableProperties(t.info.tableId, { [IMPORT_MODE_PROPERTY]: null });
    const e = await importImages(lh, 'mixed_copy', folder).catch((x) => x);
    expect(e.message).toContain('imported in copy mode');
  });

  it('file names with %, #bytes=, spaces and accents are referenced so that each row reads its own file, in both modes', async () => {
    const names = ['a%41.png', 'aA.png', '50%off.png', 'a b.png', 'x#bytes=0-1.png', 'é.png', 'q?.png', 'c,d.png'];
    names.forEach((n, i) => put(join(dir, 'pct/cat', n), `F${i}`));
    for (const mode of ['reference', 'copy'] as const) {
      const r = await importImages(lh, `pct_${mode}`, { folder: toFileUri(join(dir, 'pct')) }, { mode });
      expect(r.rows).toBe(names.length);
      const got = await bytesOf(r.table);
      const want = names.map((_, i) => `F${i}`).sort();
      expect(Object.values(got).sort(), mode).toEqual(want);
      if (mode === 'reference') {
        // pathToFileURL's form: a read decodes it back to the very file
        for (const n of names) expect(got[pathToFileURL(join(dir, 'pct/cat', n)).href], n).toBe(`F${names.indexOf(n)}`);
      }
    }
  });

  it('a folder whose name holds % or a space is recorded as a root a read finds its files in', async () => {
    put(join(dir, 'my%41 dir/cat/1.png'), 'CAT');
    const r = await importImages(lh, 'pctdir', { folder: toFileUri(join(dir, 'my%41 dir')) });
    expect(blobRootsOf(r.table.info)).toEqual([pathToFileURL(join(dir, 'my%41 dir')).href]);
    expect(await bytesOf(r.table)).toEqual({ [pathToFileURL(join(dir, 'my%41 dir/cat/1.png')).href]: 'CAT' });
  });

  it('a manifest naming files by pathToFileURL (percent-encoded) imports in both modes', async () => {
    put(join(dir, 'man2/a b.png'), 'AB');
    put(join(dir, 'man2/c%20d.png'), 'CD');
    writeFileSync(join(dir, 'man2/m.csv'), `file\n${pathToFileURL(join(dir, 'man2/a b.png')).href}\n${pathToFileURL(join(dir, 'man2/c%20d.png')).href}\n`);
    for (const mode of ['reference', 'copy'] as const) {
      const r = await importImages(lh, `man2_${mode}`, { manifest: toFileUri(join(dir, 'man2/m.csv')), pathColumn: 'file' }, { mode });
      expect(Object.values(await bytesOf(r.table)).sort(), mode).toEqual(['AB', 'CD']);
    }
    writeFileSync(join(dir, 'man2/bad.csv'), `file\n${toFileUri(join(dir, 'man2'))}/50%zz.png\n`);
    const e = await importImages(lh, 'man2_bad', { manifest: toFileUri(join(dir, 'man2/bad.csv')), pathColumn: 'file' }).catch((x) => x);
    expect(LakeSoulError.is(e, 'InvalidArgument')).toBe(true);
    expect(e.message).toContain('manifest row 1');
  });

  it('copy imports of two folders holding the same relative path: the second is refused naming both files, the first copy intact', async () => {
    put(join(dir, 'coll/batch1/cat/IMG_0001.png'), 'ONE');
    put(join(dir, 'coll/batch2/cat/IMG_0001.png'), 'TWO');
    put(join(dir, 'coll/batch2/dog/IMG_0002.png'), 'DOG');
    await importImages(lh, 'coll', { folder: toFileUri(join(dir, 'coll/batch1')) }, { mode: 'copy' });
    const e = await importImages(lh, 'coll', { folder: toFileUri(join(dir, 'coll/batch2')) }, { mode: 'copy' }).catch((x) => x);
    expect(LakeSoulError.is(e, 'InvalidArgument'), String(e)).toBe(true);
    expect(e.message).toContain(toFileUri(join(dir, 'coll/batch1/cat/IMG_0001.png')));
    expect(e.message).toContain(toFileUri(join(dir, 'coll/batch2/cat/IMG_0001.png')));
    const t = await lh.table('coll');
    expect(await bytesOf(t)).toEqual({ '_blobs/cat/IMG_0001.png': 'ONE' });
    // the first folder imports again (its own copy is no collision)
    const again = await importImages(lh, 'coll', { folder: toFileUri(join(dir, 'coll/batch1')) }, { mode: 'copy' });
    expect(again.copied).toBe(0);
  });

  it('a copy import of a folder holding the warehouse (or hidden directories) does not import the table copies: the row count stays', async () => {
    const home = join(dir, 'cwd');
    put(join(home, 'cat/1.png'), 'CAT');
    put(join(home, 'dog/2.png'), 'DOG');
    put(join(home, '.git/x.png'), 'GIT');
    const lh2 = await Lakehouse.open({ catalog, warehouse: toFileUri(join(home, '.lakesoul/warehouse')) });
    const lh3 = await Lakehouse.open({ catalog, warehouse: toFileUri(join(home, 'wh')) });
    for (const l of [lh2, lh3]) {
      const name = l === lh2 ? 'cwd_hidden' : 'cwd_wh';
      for (let i = 0; i < 3; i++) {
        const r = await importImages(l, name, { folder: toFileUri(home) }, { mode: 'copy' });
        expect(r.rows, `${name} run ${i}`).toBe(2);
      }
      expect((await (await l.table(name)).toArrow()).numRows).toBe(2);
    }
  });

  it('a copy import leaves out the warehouse inside the folder when either is named through a symbolic link (it imported its own copies again on every run)', async () => {
    // the folder through the link, the warehouse by its real path; then the other way round
    const cases = [
      { name: 'via_link_folder', real: join(dir, 'linked-a'), link: join(dir, 'link-a'), folderThroughLink: true },
      { name: 'via_link_wh', real: join(dir, 'linked-b'), link: join(dir, 'link-b'), folderThroughLink: false },
    ].map((c) => {
      put(join(c.real, 'cat/1.png'), 'CAT');
      put(join(c.real, 'dog/2.png'), 'DOG');
      symlinkSync(c.real, c.link);
      return c.folderThroughLink ? { name: c.name, folder: c.link, warehouse: join(c.real, 'wh') } : { name: c.name, folder: c.real, warehouse: join(c.link, 'wh') };
    });
    for (const c of cases) {
      const l = await Lakehouse.open({ catalog, warehouse: toFileUri(c.warehouse) });
      for (let i = 0; i < 3; i++) {
        const r = await importImages(l, c.name, { folder: toFileUri(c.folder) }, { mode: 'copy' });
        expect(r.rows, `${c.name} run ${i}`).toBe(2);
      }
      const rows = (await (await l.table(c.name)).toArrow({ columns: ['path', 'label'] })).toArray().map((r) => `${r.label}:${r.path}`);
      expect(rows.sort()).toEqual(['cat:_blobs/cat/1.png', 'dog:_blobs/dog/2.png']);
    }
  });

  it('an existing table that cannot hold the rows is refused before any file is copied or property set', async () => {
    put(join(dir, 'exist/cat/1.png'), 'CAT');
    await lh.createTable('exist', new Schema([new Field('id', new Int64(), false), new Field('img', new Utf8(), true)]), { primaryKeys: ['id'], hashBucketNum: 1 });
    for (const mode of ['copy', 'reference'] as const) {
      const e = await importImages(lh, 'exist', { folder: toFileUri(join(dir, 'exist')) }, { mode }).catch((x) => x);
      expect(LakeSoulError.is(e, 'SchemaMismatch'), String(e)).toBe(true);
      expect(e.message).toContain("'path'");
    }
    expect(existsSync(join(dir, 'wh/default/exist/_blobs'))).toBe(false);
    const t = await lh.table('exist');
    expect(blobRootsOf(t.info)).toEqual([]);
    expect(t.info.properties[IMPORT_MODE_PROPERTY]).toBeUndefined();
  });

  it('a LocalStore registered for a location with another root: folder scans and imports confine to the folder it serves', async () => {
    const real = join(dir, 'remap/real');
    put(join(real, 'pets/cat/1.png'), 'CAT');
    put(join(dir, 'remap/outside.png'), 'SECRET');
    const stores = new StoreRegistry();
    stores.register('file:///lake/', new LocalStore({ root: real }));
    const lh4 = await Lakehouse.open({ catalog, stores, warehouse: 'file:///lake/wh' });
    expect((await scanImageFolder('file:///lake/pets', { stores })).numRows).toBe(1);
    const r = await importImages(lh4, 'remap', { folder: 'file:///lake/pets' });
    expect(await bytesOf(r.table)).toEqual({ 'file:///lake/pets/cat/1.png': 'CAT' });
    // a link out of the folder is still refused
    symlinkSync(join(dir, 'remap/outside.png'), join(real, 'pets/cat/2.png'));
    const e = await scanImageFolder('file:///lake/pets', { stores }).catch((x) => x);
    expect(e.code).toBe('BLOB_OUTSIDE_ROOTS');
    expect(e.context.folder).toBe('file:///lake/pets');
  });

  it('manifests: . and .. in absolute paths, a missing file, a numeric path, a size column and duplicate files', async () => {
    const m = join(dir, 'man');
    put(join(m, 'x.png'), 'X');
    put(join(m, 'sub/y.png'), 'Y');
    const csv = (name: string, text: string) => (writeFileSync(join(m, name), text), toFileUri(join(m, name)));
    const ok = csv('dots.csv', `file\n${m}/sub/../x.png\nfile://${m}/./sub/y.png\n`);
    const r = await importImages(lh, 'man_dots', { manifest: ok, pathColumn: 'file' });
    expect(Object.values(await bytesOf(r.table)).sort()).toEqual(['X', 'Y']);
    const fail = async (name: string, manifest: string) => importImages(lh, name, { manifest, pathColumn: 'file' }).catch((x) => x);
    let e = await fail('man_missing', csv('missing.csv', 'file\nx.png\nnope.png\n'));
    expect(LakeSoulError.is(e, 'NotFound')).toBe(true);
    expect(e.message).toContain('row 2');
    expect(e.context.row).toBe(2);
    e = await fail('man_num', csv('num.jsonl', '{"file": "x.png"}\n{"file": 123}\n'));
    expect(LakeSoulError.is(e, 'InvalidArgument')).toBe(true);
    expect(e.message).toContain('line 2');
    e = await fail('man_size', csv('size.jsonl', '{"file": "x.png", "size": 5}\n'));
    expect(LakeSoulError.is(e, 'InvalidArgument')).toBe(true);
    expect(e.message).toContain("column 'size'");
    e = await fail('man_path', csv('path.jsonl', '{"file": "x.png", "path": "p"}\n'));
    expect(e.message).toContain("column 'path'");
    e = await fail('man_dup', csv('dup.csv', `file\nx.png\nsub/y.png\nsub/../x.png\n`));
    expect(LakeSoulError.is(e, 'InvalidArgument')).toBe(true);
    expect(e.message).toContain('rows 1 and 3');
    for (const name of ['man_missing', 'man_num', 'man_size', 'man_path', 'man_dup']) {
      expect(await lh.table(name).then(() => 'exists', () => 'absent'), name).toBe('absent');
    }
  });

  it('an invalid option is refused before the table is created', async () => {
    put(join(dir, 'conc/cat/1.png'), 'CAT');
    for (const [option, value] of [['concurrency', 0], ['concurrency', -1], ['concurrency', 1.5], ['concurrency', NaN], ['concurrency', '4'], ['hashBucketNum', 0], ['mode', 'move']] as const) {
      const e = await importImages(lh, 'conc', { folder: toFileUri(join(dir, 'conc')) }, { [option]: value } as never).catch((x) => x);
      expect(e.code, `${option}=${value}`).toBe('INVALID_OPTION_VALUE');
      expect(e.context.option).toBe(option);
    }
    expect(await lh.table('conc').then(() => 'exists', () => 'absent')).toBe('absent');
    expect(readdirSync(join(dir, 'wh', 'default')).includes('conc')).toBe(false);
  });
});
