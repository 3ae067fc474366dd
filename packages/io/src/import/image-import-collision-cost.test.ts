/**
 * The copy-collision check of a copy import into a table of many sources (daily folders): it HEADed
 * each file in every other recorded source, 200 x 29 requests for the 30th folder of 200 files, and
 * quadratically many over the folders. It now looks up only the names the table holds (or a running
 * import of another source will): none for folders of new names. It also refused a name another
 * source held after that source's rows were deleted; a name is now free once no row holds it, and a
 * refusal says how to get past it.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { LocalStore, toFileUri } from '../store/index.js';
import { Lakehouse } from '../table/index.js';
import { IMPORT_RUNNING_PROPERTY, importImages } from './image-import.js';

const dir = mkdtempSync(join(tmpdir(), 'lakesoul-import-cost-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function folder(name: string, files: string[], content = name): string {
  const f = join(dir, name);
  for (const file of files) {
    mkdirSync(join(f, file, '..'), { recursive: true });
    writeFileSync(join(f, file), `${content}:${file}`);
  }
  return toFileUri(f);
}

it('30 daily folders of 200 files: no request reaches another folder than the one imported', async () => {
  const days = Array.from({ length: 30 }, (_, d) => folder(`day${String(d).padStart(2, '0')}`, Array.from({ length: 200 }, (_, i) => `cam/d${d}_${i}.jpg`), 'x'));
  const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(join(dir, 'wh')) });
  const head = LocalStore.prototype.head;
  const list = LocalStore.prototype.list;
  const calls = { head: 0, list: 0, elsewhere: 0 };
  let current = '';
  const elsewhere = (key: string) => key.includes('/day') && !key.includes(`/${current}/`) && !key.includes('/wh/');
  LocalStore.prototype.head = function (this: LocalStore, path: string, ...rest) {
    calls.head++;
    if (elsewhere(`/${path}`)) calls.elsewhere++;
    return head.call(this, path, ...rest);
  };
  LocalStore.prototype.list = function (this: LocalStore, prefix: string, ...rest) {
    calls.list++;
    if (elsewhere(`/${prefix}`)) calls.elsewhere++;
    return list.call(this, prefix, ...rest);
  };
  try {
    for (const [d, uri] of days.entries()) {
      current = `day${String(d).padStart(2, '0')}`;
      await importImages(lh, 'photos', { folder: uri }, { mode: 'copy' });
    }
    console.log(`30 copy imports of 200 files each: ${calls.head} HEAD and ${calls.list} LIST calls, ${calls.elsewhere} of them in another folder than the one imported`);
    expect(calls.elsewhere).toBe(0);
    expect((await (await lh.table('photos')).toArrow({ columns: ['path'] })).numRows).toBe(6000);
  } finally {
    LocalStore.prototype.head = head;
    LocalStore.prototype.list = list;
    await lh.close();
  }
}, 600_000);

it('a name another source held is free once the table holds no row of it; a refusal says how to get past it', async () => {
  const one = folder('one', ['cat/1.png', 'cat/2.png'], 'ONE');
  const two = folder('two', ['cat/1.png', 'dog/3.png'], 'TWO');
  // both cat/1.png of one size and one modification time (files unpacked from archives, or written in
  // the same millisecond, as when CI met it): the copy of one's was kept as current for two's file,
  // and two's row read ONE's bytes (a copy carries no record of its source)
  const same = new Date(1_700_000_000_000);
  for (const f of ['one/cat/1.png', 'two/cat/1.png']) utimesSync(join(dir, f), same, same);
  const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(join(dir, 'wh2')) });
  try {
    await importImages(lh, 't', { folder: one }, { mode: 'copy' });
    const e = await importImages(lh, 't', { folder: two }, { mode: 'copy' }).catch((x: unknown) => x);
    expect(LakeSoulError.is(e, 'InvalidArgument'), String(e)).toBe(true);
    expect((e as Error).message).toContain(`${two}/cat/1.png would overwrite _blobs/cat/1.png, the copy of ${one}/cat/1.png`);
    expect((e as Error).message).toContain("delete the table's row of _blobs/cat/1.png (deleteWhere)");
    const t = await lh.table('t');
    await t.deleteWhere("path = '_blobs/cat/1.png'");
    const r = await importImages(lh, 't', { folder: two }, { mode: 'copy' });
    expect(r.copied).toBe(2);
    const rows = (await (await lh.table('t')).toArrow({ blobs: ['path'] })).toArray();
    const bytes = Object.fromEntries(rows.map((x) => [x.path as string, Buffer.from(x.path__bytes as Uint8Array).toString()]));
    expect(bytes).toEqual({ '_blobs/cat/1.png': 'TWO:cat/1.png', '_blobs/cat/2.png': 'ONE:cat/2.png', '_blobs/dog/3.png': 'TWO:dog/3.png' });
  } finally {
    await lh.close();
  }
});

it('an import marked running (killed) keeps its names until that source is imported again', async () => {
  const three = folder('three', ['a/1.png'], 'THREE');
  const four = folder('four', ['a/1.png'], 'FOUR');
  const five = folder('five', ['b/1.png'], 'FIVE');
  const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(join(dir, 'wh3')) });
  try {
    const { table } = await importImages(lh, 't', { folder: five }, { mode: 'copy' });
    // as an import of `three` killed after it was recorded leaves the table: recorded, marked, no rows
    await lh.catalog.updateTableProperties(table.info.tableId, (p) => ({
      lakesoul_import_sources: JSON.stringify([...JSON.parse(p.lakesoul_import_sources!), three]),
      [IMPORT_RUNNING_PROPERTY]: JSON.stringify({ [three]: 'killed' }),
    }));
    const e = await importImages(lh, 't', { folder: four }, { mode: 'copy' }).catch((x: unknown) => x);
    expect(LakeSoulError.is(e, 'InvalidArgument'), String(e)).toBe(true);
    expect((e as Error).message).toContain(`an import of ${three} is marked running in the table property ${IMPORT_RUNNING_PROPERTY}`);
    expect((e as Error).message).toContain(`importing ${three} again clears the mark`);
    await importImages(lh, 't', { folder: three }, { mode: 'copy' });
    expect((await lh.table('t')).info.properties[IMPORT_RUNNING_PROPERTY]).toBeUndefined();
  } finally {
    await lh.close();
  }
});
