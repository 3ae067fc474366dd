import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Table, Utf8, vectorFromArray } from 'apache-arrow';
import { Catalog, LakeSoulError } from '@lakesoul-ts/meta';
import type { ObjectStore } from '../types.js';
import { StoreRegistry, confinedReaderOf, toFileUri } from '../store/index.js';
import { createTestBucket, deleteTestBucket, testS3Env } from '../store/s3-test-env.js';
import { Lakehouse } from '../table/index.js';
import { blobColumnsOf, blobRootsOf } from '../blob/blob-columns.js';
import { importImages } from './image-import.js';
import { makePng } from '../blob/blob-test-fixtures.js';

const LABELS = ['cat', 'dog', 'owl'];
const COUNT = 150;

describe('importImages + scan({ blobs }) through the Lakehouse API', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-import-'));
  const folder = join(dir, 'photos');
  const files = new Map<string, Uint8Array>(); // relative path -> bytes
  let bucket: string;
  let catalog: Catalog;
  const puts: string[] = [];
  let lhLocal: Lakehouse;
  let lhS3: Lakehouse;

  beforeAll(async () => {
    for (let i = 0; i < COUNT; i++) {
      const rel = `${LABELS[i % 3]}/p${String(i).padStart(4, '0')}.png`;
      const png = makePng(1000 + i, 6 + (i % 17), 6 + (i % 5));
      mkdirSync(join(folder, LABELS[i % 3]), { recursive: true });
      writeFileSync(join(folder, rel), png);
      files.set(rel, png);
    }
    writeFileSync(join(folder, 'notes.txt'), 'not an image');
    bucket = await createTestBucket('import');
    catalog = await Catalog.open({ dataDir: ':memory:' });
    const track = (s: ObjectStore): ObjectStore => {
      const confined = confinedReaderOf(s);
      return {
        description: s.description,
        get: (p, o) => s.get(p, o),
        head: (p, o) => s.head(p, o),
        delete: (p, o) => s.delete(p, o),
        list: (p, o) => s.list(p, o),
        put: (p, d, o) => (puts.push(p), s.put(p, d, o)),
        // local blob reads need the confined read of the wrapped store
        ...(confined ? { getConfined: confined.getConfined.bind(confined), headConfined: confined.headConfined.bind(confined) } : {}),
      };
    };
    lhLocal = await Lakehouse.open({ catalog, stores: new StoreRegistry({ wrap: track }), warehouse: toFileUri(join(dir, 'wh')) });
    lhS3 = await Lakehouse.open({ catalog, stores: new StoreRegistry({ env: testS3Env(), wrap: track }), warehouse: `s3://${bucket}/wh` });
  });
  afterAll(async () => {
    await catalog?.close();
    rmSync(dir, { recursive: true, force: true });
    if (bucket) await deleteTestBucket(bucket);
  });

  async function readAll(t: Awaited<ReturnType<typeof importImages>>['table'], extra: Record<string, unknown> = {}) {
    const out = await t.toArrow({ blobs: { columns: ['path'], allowedRoots: blobRootsOf(t.info) }, ...extra });
    return out.toArray().map((r) => ({ path: r.path as string, label: r.label as string | null, size: r.size as bigint, bytes: r.path__bytes as Uint8Array }));
  }

  it('reference mode: rows point at the files in place; bytes round-trip exactly', async () => {
    const res = await importImages(lhLocal, 'photos_ref', { folder: toFileUri(folder) });
    expect(res.rows).toBe(COUNT);
    expect(res.copied).toBe(0);
    const info = (await lhLocal.table('photos_ref')).info;
    expect(blobColumnsOf(info)).toEqual(['path']);
    expect(blobRootsOf(info)).toEqual([toFileUri(folder)]);
    const rows = await readAll(res.table);
    expect(rows.length).toBe(COUNT);
    for (const r of rows) {
      const rel = r.path.slice(toFileUri(folder).length + 1);
      expect(Buffer.from(r.bytes).equals(Buffer.from(files.get(rel)!)), r.path).toBe(true);
      expect(r.label).toBe(rel.split('/')[0]);
      expect(Number(r.size)).toBe(files.get(rel)!.length);
    }
    // projected: only the label and the bytes
    const proj = await res.table.toArrow({ columns: ['label', 'path'], blobs: { columns: ['path'], allowedRoots: blobRootsOf(info) } });
    expect(proj.schema.fields.map((f) => f.name)).toEqual(['label', 'path', 'path__bytes']);
    // scans honour the root the table declares, without the caller repeating it
    const plain = await res.table.toArrow({ blobs: ['path'] });
    expect(plain.numRows).toBe(COUNT);
    expect(plain.getChild('path__bytes')!.nullCount).toBe(0);
    // without the declared root the references are refused
    await lhLocal.catalog.updateTableProperties(info.tableId, { lakesoul_blob_roots: null });
    const e = await (await lhLocal.table('photos_ref')).toArrow({ blobs: ['path'] }).catch((x) => x);
    expect(LakeSoulError.is(e, 'PermissionDenied')).toBe(true);
    expect(e.message).toMatch(/path=file:\/\/\//);
  });

  it('copy mode onto S3: files under <table>/_blobs, relative references, label upserts leave files alone', async () => {
    puts.length = 0;
    const res = await importImages(lhS3, 'photos_copy', { folder: toFileUri(folder) }, { mode: 'copy' });
    expect(res.copied).toBe(COUNT);
    expect(res.table.info.path).toBe(`s3://${bucket}/wh/default/photos_copy`);
    expect(puts.filter((p) => p.includes('/_blobs/')).length).toBe(COUNT);
    const rows = await readAll(res.table);
    expect(rows.length).toBe(COUNT);
    for (const r of rows) {
      expect(r.path.startsWith('_blobs/')).toBe(true);
      expect(Buffer.from(r.bytes).equals(Buffer.from(files.get(r.path.slice('_blobs/'.length))!))).toBe(true);
    }
    // upsert new labels for the same files: no object under _blobs is written again
    puts.length = 0;
    const relabel = rows.filter((_, i) => i % 2 === 0).map((r) => r.path);
    await res.table.write(new Table({ path: vectorFromArray(relabel, new Utf8()), label: vectorFromArray(relabel.map(() => 'relabelled'), new Utf8()) }), { mode: 'upsert' });
    expect(puts.filter((p) => p.includes('/_blobs/'))).toEqual([]);
    const after = await readAll(res.table);
    expect(after.length).toBe(COUNT);
    expect(after.filter((r) => r.label === 'relabelled').length).toBe(relabel.length);
    for (const r of after) expect(Buffer.from(r.bytes).equals(Buffer.from(files.get(r.path.slice('_blobs/'.length))!))).toBe(true);
    // importing again copies nothing (same sizes already there)
    const again = await importImages(lhS3, 'photos_copy', { folder: toFileUri(folder) }, { mode: 'copy' });
    expect(again.copied).toBe(0);
  });

  it('symbolic links leading out of the source folder are refused in both modes before anything is written; links inside work', async () => {
    const base = join(dir, 'links');
    const src = join(base, 'photos');
    mkdirSync(join(src, 'cat'), { recursive: true });
    mkdirSync(join(base, 'private'), { recursive: true });
    writeFileSync(join(base, 'private', 'credentials'), 'aws_secret_access_key=TOPSECRET\n');
    const ok = makePng(7, 5, 5);
    writeFileSync(join(src, 'cat', 'ok.png'), ok);
    symlinkSync('ok.png', join(src, 'cat', 'alias.png')); // inside the folder
    symlinkSync('../../private/credentials', join(src, 'cat', 'evil.png'));
    writeFileSync(join(src, 'm.csv'), 'file\ncat/ok.png\ncat/evil.png\n');
    const evil = toFileUri(join(src, 'cat', 'evil.png'));
    const cases = [
      ['links_ref', { folder: toFileUri(src) }, 'reference'],
      ['links_copy', { folder: toFileUri(src) }, 'copy'],
      ['links_mref', { manifest: toFileUri(join(src, 'm.csv')), pathColumn: 'file' }, 'reference'],
      ['links_mcopy', { manifest: toFileUri(join(src, 'm.csv')), pathColumn: 'file' }, 'copy'],
    ] as const;
    for (const [name, source, mode] of cases) {
      puts.length = 0;
      const e = await importImages(lhLocal, name, source, { mode }).catch((x) => x);
      expect(LakeSoulError.is(e, 'PermissionDenied'), name).toBe(true);
      expect(e.code, name).toBe('BLOB_OUTSIDE_ROOTS');
      expect(e.message, name).toContain(evil);
      expect(e.context.realPath, name).toBe(join(base, 'private', 'credentials'));
      expect(e.message, name).not.toContain('TOPSECRET');
      expect(puts, name).toEqual([]); // no table, no copy, no commit
      expect(await lhLocal.table(name).then(() => 'exists', () => 'absent'), name).toBe('absent');
      expect(existsSync(join(dir, 'wh', 'default', name)), name).toBe(false);
    }
    // with the link out gone, both modes import the file and the link inside
    unlinkSync(join(src, 'cat', 'evil.png'));
    const ref = await importImages(lhLocal, 'links_ref', { folder: toFileUri(src) });
    const copy = await importImages(lhLocal, 'links_copy', { folder: toFileUri(src) }, { mode: 'copy' });
    for (const res of [ref, copy]) {
      const rows = await readAll(res.table);
      expect(rows.map((r) => r.path.split('/').pop()).sort()).toEqual(['alias.png', 'ok.png']);
      for (const r of rows) {
        expect(Buffer.from(r.bytes).equals(Buffer.from(ok))).toBe(true);
        expect(Number(r.size)).toBe(ok.length);
      }
    }
    expect(readFileSync(join(dir, 'wh', 'default', 'links_copy', '_blobs', 'cat', 'alias.png')).equals(Buffer.from(ok))).toBe(true);
  });

  it('a reference import refuses a manifest row outside the manifest directory, absolute or relative, naming the row; copy mode copies absolute ones', async () => {
    const base = join(dir, 'mref');
    mkdirSync(join(base, 'm', 'img'), { recursive: true });
    mkdirSync(join(base, 'secret'), { recursive: true });
    writeFileSync(join(base, 'm', 'img', 'a.png'), 'A-BYTES');
    writeFileSync(join(base, 'secret', 'key.png'), 'SECRET');
    const manifestDir = toFileUri(join(base, 'm'));
    const outside = [
      join(base, 'secret', 'key.png'),
      toFileUri(join(base, 'secret', 'key.png')),
      join(base, 'm', '..', 'secret', 'key.png'),
      join(base, 'm2', 'key.png'), // a sibling sharing the directory's name as a prefix
      '../secret/key.png',
      `s3://${bucket}/x.png`,
    ];
    for (const [k, p] of outside.entries()) {
      const name = `mref_${k}`;
      writeFileSync(join(base, 'm', `${name}.csv`), `path,label\nimg/a.png,cat\n${p},dog\n`);
      puts.length = 0;
      const e = await importImages(lhLocal, name, { manifest: toFileUri(join(base, 'm', `${name}.csv`)), pathColumn: 'path' }).catch((x) => x);
      expect(LakeSoulError.is(e, 'InvalidArgument'), p).toBe(true);
      expect(e.message, p).toContain(`manifest row 2: path '${p}' leaves the manifest's directory ${manifestDir}`);
      expect(e.context, p).toMatchObject({ file: p, row: 2 });
      expect(puts, p).toEqual([]);
      expect(await lhLocal.table(name).then(() => 'exists', () => 'absent'), p).toBe('absent');
    }
    // copy mode keeps copying files a manifest names elsewhere (docs/blobs.md: _blobs/ext/...); '..' stays refused
    writeFileSync(join(base, 'm', 'copy.csv'), `path,label\nimg/a.png,cat\n${join(base, 'secret', 'key.png')},dog\n`);
    const copy = await importImages(lhLocal, 'mref_copy', { manifest: toFileUri(join(base, 'm', 'copy.csv')), pathColumn: 'path' }, { mode: 'copy' });
    expect((await readAll(copy.table)).map((r) => Buffer.from(r.bytes).toString())).toEqual(expect.arrayContaining(['A-BYTES', 'SECRET']));
    const e = await importImages(lhLocal, 'mref_copy2', { manifest: toFileUri(join(base, 'm', 'mref_4.csv')), pathColumn: 'path' }, { mode: 'copy' }).catch((x) => x);
    expect(e.message).toContain("manifest row 2: path '../secret/key.png' leaves the manifest's directory");
    // inside the directory, absolute or relative, a reference import works and reads back
    writeFileSync(join(base, 'm', 'img', 'b.png'), 'B-BYTES');
    writeFileSync(join(base, 'm', 'in.csv'), `path,label\nimg/a.png,cat\n${toFileUri(join(base, 'm', 'img', 'b.png'))},dog\n`);
    const ok = await importImages(lhLocal, 'mref_in', { manifest: toFileUri(join(base, 'm', 'in.csv')), pathColumn: 'path' });
    expect((await readAll(ok.table)).map((r) => Buffer.from(r.bytes).toString()).sort()).toEqual(['A-BYTES', 'B-BYTES']);
  });

  it('copy mode copies a source again when it changed but kept its size (also to an older time); unchanged ones stay', async () => {
    const src = join(dir, 'stale');
    mkdirSync(join(src, 'cat'), { recursive: true });
    writeFileSync(join(src, 'cat', 'a.png'), 'AAAA-1');
    writeFileSync(join(src, 'cat', 'b.png'), 'BBBB-1');
    const t0 = new Date('2024-05-01T10:00:00.123Z');
    utimesSync(join(src, 'cat', 'a.png'), t0, t0);
    const bytesOf = async (t: Awaited<ReturnType<typeof importImages>>['table']) => Object.fromEntries((await readAll(t)).map((r) => [r.path, Buffer.from(r.bytes).toString()]));
    for (const [lh, name] of [[lhLocal, 'stale_local'], [lhS3, 'stale_s3']] as const) {
      utimesSync(join(src, 'cat', 'a.png'), t0, t0);
      writeFileSync(join(src, 'cat', 'a.png'), 'AAAA-1');
      utimesSync(join(src, 'cat', 'a.png'), t0, t0);
      writeFileSync(join(src, 'cat', 'b.png'), 'BBBB-1');
      utimesSync(join(src, 'cat', 'b.png'), t0, t0); // S3 times are whole seconds: a file written in the second of its upload is copied again
      expect((await importImages(lh, name, { folder: toFileUri(src) }, { mode: 'copy' })).copied, name).toBe(2);
      expect((await importImages(lh, name, { folder: toFileUri(src) }, { mode: 'copy' })).copied, name).toBe(0);
      // rewritten in place, same size: copied again
      writeFileSync(join(src, 'cat', 'b.png'), 'BBBB-2');
      const again = await importImages(lh, name, { folder: toFileUri(src) }, { mode: 'copy' });
      expect(again.copied, name).toBe(1);
      expect(await bytesOf(again.table), name).toEqual({ '_blobs/cat/a.png': 'AAAA-1', '_blobs/cat/b.png': 'BBBB-2' });
    }
    {
      // on local disk the copy carries its source's time, so a same-size file put in place with an older
      // time (cp -p, rsync -t, tar) is noticed too
      expect(statSync(join(dir, 'wh', 'default', 'stale_local', '_blobs', 'cat', 'a.png')).mtime.getTime()).toBe(t0.getTime());
      await importImages(lhLocal, 'stale_local', { folder: toFileUri(src) }, { mode: 'copy' }); // b.png, rewritten by the S3 round
      writeFileSync(join(src, 'cat', 'a.png'), 'AAAA-2');
      const older = new Date('2020-01-01T00:00:00Z');
      utimesSync(join(src, 'cat', 'a.png'), older, older);
      const res = await importImages(lhLocal, 'stale_local', { folder: toFileUri(src) }, { mode: 'copy' });
      expect(res.copied).toBe(1);
      expect(await bytesOf(res.table)).toEqual({ '_blobs/cat/a.png': 'AAAA-2', '_blobs/cat/b.png': 'BBBB-2' });
      expect((await importImages(lhLocal, 'stale_local', { folder: toFileUri(src) }, { mode: 'copy' })).copied).toBe(0);
    }
  });

  it('imports a manifest; a row escaping the table is refused through scan, naming its key', async () => {
    writeFileSync(join(folder, 'manifest.csv'), 'file,caption\n' + [...files.keys()].slice(0, 10).map((p, i) => `${p},caption ${i}`).join('\n') + '\n');
    const res = await importImages(lhLocal, 'captions', { manifest: toFileUri(join(folder, 'manifest.csv')), pathColumn: 'file' }, { mode: 'copy' });
    expect(res.rows).toBe(10);
    const rows = await res.table.toArrow({ blobs: ['path'] });
    expect(rows.schema.fields.map((f) => f.name)).toEqual(['path', 'caption', 'size', 'path__bytes']);
    for (const r of rows.toArray()) expect(Buffer.from(r.path__bytes).equals(Buffer.from(files.get(r.path.slice('_blobs/'.length))!))).toBe(true);
    await res.table.write(new Table({ path: vectorFromArray(['../../../../../../etc/passwd'], new Utf8()), caption: vectorFromArray(['evil'], new Utf8()) }), { mode: 'upsert' });
    const e = await res.table.toArrow({ blobs: ['path'] }).catch((x) => x);
    expect(LakeSoulError.is(e, 'PermissionDenied')).toBe(true);
    expect(e.message).toContain('path=../../../../../../etc/passwd');
  });
  it("an S3 folder: a key whose name holds '#bytes=' is refused in reference mode (no escape for it), copied with %23 in copy mode", async () => {
    const root = `s3://${bucket}/raw/odd`;
    const put = (rel: string, text: string) => {
      const { store, key } = lhS3.stores.resolve(`${root}/${rel}`);
      return store.put(key, new TextEncoder().encode(text));
    };
    await put('cat/x#bytes=1-2.png', 'HASH');
    await put('cat/a%41.png', 'PCT');
    await put('cat/aA.png', 'AA');
    const e = await importImages(lhS3, 'odd_ref', { folder: root }).catch((x) => x);
    expect(e.code).toBe('BLOB_BAD_REFERENCE');
    expect(e.message).toContain(`${root}/cat/x#bytes=1-2.png`);
    expect(await lhS3.table('odd_ref').then(() => 'exists', () => 'absent')).toBe('absent');
    const res = await importImages(lhS3, 'odd_copy', { folder: root }, { mode: 'copy' });
    const got = Object.fromEntries((await res.table.toArrow({ blobs: ['path'] })).toArray().map((r) => [r.path as string, Buffer.from(r.path__bytes as Uint8Array).toString()]));
    expect(got).toEqual({ '_blobs/cat/x%23bytes=1-2.png': 'HASH', '_blobs/cat/a%41.png': 'PCT', '_blobs/cat/aA.png': 'AA' });
  });
});
