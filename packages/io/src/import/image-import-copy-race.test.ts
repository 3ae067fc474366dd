/**
 * Two copy imports at once of folders sharing relative paths: the collision check read the recorded
 * sources (and committed rows) before either import had recorded anything, so both passed, copied to
 * the same `_blobs/cat/N.png`, and committed; one folder's images were lost (rows whose size is not
 * their copy's). Each import now records its source in the property update's transaction only once it
 * is checked against every other source recorded, before it copies: the one recorded second is refused.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { toFileUri } from '../store/index.js';
import { Lakehouse } from '../table/index.js';
import { IMPORT_SOURCES_PROPERTY, importImages } from './image-import.js';

const dir = mkdtempSync(join(tmpdir(), 'lakesoul-import-copy-race-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function folder(name: string, content: string, n: number, label = 'cat'): string {
  const f = join(dir, name);
  mkdirSync(join(f, label), { recursive: true });
  for (let i = 0; i < n; i++) writeFileSync(join(f, label, `${i}.png`), content + i);
  return toFileUri(f);
}

it('of two copy imports at once sharing relative paths, one is refused naming both files; every row reads its own bytes', async () => {
  const a = folder('batch1', 'AAAA', 30);
  const b = folder('batch2', 'BBBBBBBB', 30);
  const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(join(dir, 'wh')) });
  try {
    const rs = await Promise.allSettled([importImages(lh, 'imgs', { folder: a }, { mode: 'copy' }), importImages(lh, 'imgs', { folder: b }, { mode: 'copy' })]);
    const ok = rs.findIndex((r) => r.status === 'fulfilled');
    const refused = rs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rs.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const e = refused!.reason as LakeSoulError;
    expect(LakeSoulError.is(e, 'InvalidArgument'), String(e)).toBe(true);
    expect(e.message).toMatch(new RegExp(`${a}/cat/\\d+\\.png`));
    expect(e.message).toMatch(new RegExp(`${b}/cat/\\d+\\.png`));
    const t = await lh.table('imgs');
    // only the import that copied is recorded
    expect(JSON.parse(t.info.properties[IMPORT_SOURCES_PROPERTY])).toEqual([[a, b][ok]]);
    const rows = (await t.toArrow({ blobs: ['path'] })).toArray();
    expect(rows.length).toBe(30);
    for (const r of rows) {
      const bytes = Buffer.from(r.path__bytes as Uint8Array).toString();
      expect(BigInt(bytes.length)).toBe(r.size);
      expect(bytes).toBe(`${ok === 0 ? 'AAAA' : 'BBBBBBBB'}${(r.path as string).match(/(\d+)\.png$/)![1]}`);
    }
  } finally {
    await lh.close();
  }
});

it('copy imports at once of folders without a common relative path both copy and both are recorded', async () => {
  const c = folder('batch3', 'C', 5, 'dog');
  const d = folder('batch4', 'D', 5, 'bird');
  const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(join(dir, 'wh2')) });
  try {
    await Promise.all([importImages(lh, 'imgs', { folder: c }, { mode: 'copy' }), importImages(lh, 'imgs', { folder: d }, { mode: 'copy' })]);
    const t = await lh.table('imgs');
    expect(JSON.parse(t.info.properties[IMPORT_SOURCES_PROPERTY]).sort()).toEqual([c, d].sort());
    expect((await t.toArrow({ blobs: ['path'] })).numRows).toBe(10);
  } finally {
    await lh.close();
  }
});
