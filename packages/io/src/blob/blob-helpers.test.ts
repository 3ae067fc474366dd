import { pathToFileURL } from 'node:url';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Field, Schema, Utf8, Int64 } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { StoreRegistry, toFileUri } from '../store/index.js';
import { createTestBucket, deleteTestBucket, testS3Env } from '../store/s3-test-env.js';
import { blobColumnsOf, blobBytesColumnName } from './blob-columns.js';
import { BlobRoots, parseBlobReferenceString } from './blob-reference.js';
import { readManifest, scanImageFolder } from './image-folder.js';
import { resolveBlobs } from './blob-resolver.js';
import { asAsync, makePng } from './blob-test-fixtures.js';

describe('blobColumnsOf', () => {
  const schema = new Schema([
    new Field('id', new Int64()),
    new Field('image_path', new Utf8()),
    new Field('audio', new Utf8(), true, new Map([['lakesoul.blob', 'true']])),
    new Field('thumb', new Utf8(), true, new Map([['lakesoul.blob', 'TRUE']])),
    new Field('note', new Utf8(), true, new Map([['lakesoul.blob', 'false']])),
  ]);
  it('combines the table property and field metadata', () => {
    expect(blobColumnsOf({ schema, properties: { lakesoul_blob_columns: ' image_path , audio' } })).toEqual(['image_path', 'audio', 'thumb']);
    expect(blobColumnsOf({ schema, properties: {} })).toEqual(['audio', 'thumb']);
    expect(blobBytesColumnName('image_path')).toBe('image_path__bytes');
  });
  it('refuses a property naming an unknown column', () => {
    let e: unknown;
    try {
      blobColumnsOf({ schema, properties: { lakesoul_blob_columns: 'image_path,nope' }, name: 't1' });
    } catch (x) {
      e = x;
    }
    expect(LakeSoulError.is(e, 'SchemaMismatch')).toBe(true);
    expect((e as LakeSoulError).context).toMatchObject({ table: 't1', column: 'nope' });
  });
});

describe('BlobRoots', () => {
  const roots = new BlobRoots({ tablePath: 's3://b/wh/t', allowedRoots: ['file:///data/img/'] });
  it('resolves relative, absolute and ranged references', () => {
    expect(roots.resolve({ path: 'a/./b/../c.png' }).uri).toBe('s3://b/wh/t/a/c.png');
    expect(roots.resolve({ path: 's3a://b/wh/t/x.png' }).uri).toBe('s3://b/wh/t/x.png');
    expect(roots.resolve({ path: 'file:///data/img/cat/1.png' }).uri).toBe('file:///data/img/cat/1.png');
    expect(roots.resolve({ path: '/data/img/x.png' }).uri).toBe('file:///data/img/x.png');
    expect(parseBlobReferenceString('p.bin#bytes=10-19')).toEqual({ path: 'p.bin', offset: 10, length: 10 });
    expect(parseBlobReferenceString('p#1.bin')).toEqual({ path: 'p#1.bin' });
    expect(() => parseBlobReferenceString('p.bin#bytes=10-9')).toThrow(LakeSoulError);
  });
  it('a malformed #bytes= suffix is InvalidArgument BLOB_BAD_REFERENCE naming the reference, not part of the name', () => {
    for (const ref of ['p.bin#bytes=5-', 'p.bin#bytes=-3', 'p.bin#bytes=abc', 'p.bin#bytes=1-2-3', 'p.bin#bytes=', 'p.bin#bytes=10-9', 'p.bin#bytes=1-99999999999999999999']) {
      let e: unknown;
      try {
        parseBlobReferenceString(ref);
      } catch (x) {
        e = x;
      }
      expect(LakeSoulError.is(e, 'InvalidArgument'), ref).toBe(true);
      expect((e as LakeSoulError).code, ref).toBe('BLOB_BAD_REFERENCE');
      expect((e as LakeSoulError).message, ref).toContain(`'${ref}'`);
    }
    // the range is the last one of the last segment; '#bytes=' in a directory name is a name
    expect(parseBlobReferenceString('a#bytes=1-2#bytes=3-4')).toEqual({ path: 'a#bytes=1-2', offset: 3, length: 2 });
    expect(parseBlobReferenceString('d#bytes=x/p.bin')).toEqual({ path: 'd#bytes=x/p.bin' });
    // a name holding '#bytes=': %23 in a file: URI
    expect(parseBlobReferenceString('file:///data/img/p%23bytes=5-')).toEqual({ path: 'file:///data/img/p%23bytes=5-' });
    expect(roots.resolve({ path: 'file:///data/img/p%23bytes=5-' }).uri).toBe('file:///data/img/p#bytes=5-');
  });
  it('refuses everything else', () => {
    for (const bad of ['../u.png', 's3://b/wh/t2/x', 's3://b/wh/x', 's3://c/wh/t/x', 'file:///data/img2/x', 'file:///data/x', '/etc/passwd', 'http://b/wh/t/x', 's3://b/wh/t/../../../x', 's3://b', '/', 'memory://b/wh/t/x']) {
      expect(() => roots.resolve({ path: bad }), bad).toThrow(/refused/);
    }
    expect(() => roots.resolve({ path: '' })).toThrow(LakeSoulError);
  });
  it('a reference naming a root itself is InvalidArgument (BLOB_BAD_REFERENCE), not a refusal', () => {
    const withRel = new BlobRoots({ tablePath: 's3://b/wh/t', allowedRoots: ['file:///data/img/'], relativeRoot: 's3://b/wh/t/rel' });
    for (const [r, ref, root] of [
      [roots, 's3://b/wh/t', 's3://b/wh/t'],
      [roots, 's3://b/wh/t/', 's3://b/wh/t'],
      [roots, '.', 's3://b/wh/t'],
      [roots, 'sub/..', 's3://b/wh/t'],
      [roots, 'file:///data/img', 'file:///data/img'],
      [roots, '/data/img/', 'file:///data/img'],
      [roots, '/data/img/cat/..', 'file:///data/img'],
      [withRel, '.', 's3://b/wh/t/rel'],
      [withRel, '..', 's3://b/wh/t'],
    ] as const) {
      let e: unknown;
      try {
        r.resolve({ path: ref });
      } catch (x) {
        e = x;
      }
      expect(LakeSoulError.is(e, 'InvalidArgument'), ref).toBe(true);
      expect((e as LakeSoulError).code, ref).toBe('BLOB_BAD_REFERENCE');
      expect((e as LakeSoulError).message, ref).toBe(`blob reference '${ref}' names the root ${root} itself, not an object inside it`);
    }
    // a root's parent, or a root of no root, is still outside
    const e = (() => {
      try {
        roots.resolve({ path: 's3://b/wh' });
      } catch (x) {
        return x as LakeSoulError;
      }
    })();
    expect(e?.kind).toBe('PermissionDenied');
    expect(e?.code).toBe('BLOB_OUTSIDE_ROOTS');
  });
  it('decodes the percent-encoding of file: URIs (RFC 8089, as pathToFileURL writes them), and only theirs', () => {
    // `%20` was taken literally: NotFound, or another file literally named `sub%20dir` was read
    expect(roots.resolve({ path: pathToFileURL('/data/img/sub dir/spa ce é猫.png').href }).uri).toBe('file:///data/img/sub dir/spa ce é猫.png');
    expect(roots.resolve({ path: 'file:///data/img/100%25.png' }).uri).toBe('file:///data/img/100%.png');
    // plain paths and other schemes keep their characters
    expect(roots.resolve({ path: '/data/img/a%20b.png' }).uri).toBe('file:///data/img/a%20b.png');
    expect(roots.resolve({ path: 's3://b/wh/t/a%20b.png' }).uri).toBe('s3://b/wh/t/a%20b.png');
    // decoded before the containment check; an encoded '/' and bad escapes are refused
    expect(() => roots.resolve({ path: 'file:///data/img/%2E%2E/x.png' })).toThrow(/refused/);
    expect(() => roots.resolve({ path: 'file:///data/img/a%2F..%2F..%2Fetc' })).toThrow(/encoded '\/' or NUL/);
    expect(() => roots.resolve({ path: 'file:///data/img/100%.png' })).toThrow(/write a literal % as %25/);
  });
});

describe('scanImageFolder and readManifest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-folder-'));
  let bucket: string | undefined;
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (bucket) await deleteTestBucket(bucket);
  });

  it('lists <root>/<label>/<file> on local disk with labels and sizes', async () => {
    const files: [string, Uint8Array][] = [];
    for (let i = 0; i < 12; i++) files.push([`${['cat', 'dog'][i % 2]}/${i}.png`, makePng(i + 1, 4 + i, 4)]);
    files.push(['dog/sub/deep.PNG', makePng(99, 3, 3)], ['top.png', makePng(98, 3, 3)], ['cat/readme.txt', new Uint8Array([1])]);
    for (const [p, b] of files) {
      mkdirSync(join(dir, 'imgs', p, '..'), { recursive: true });
      writeFileSync(join(dir, 'imgs', p), b);
    }
    const stores = new StoreRegistry();
    const root = toFileUri(join(dir, 'imgs'));
    const t = await scanImageFolder(root + '/', { stores });
    expect(t.numRows).toBe(14);
    const rows = t.toArray().map((r) => r.toJSON());
    const cat0 = rows.find((r) => r.path === `${root}/cat/0.png`)!;
    expect(cat0).toEqual({ path: `${root}/cat/0.png`, label: 'cat', size: BigInt(files[0][1].length) });
    expect(rows.find((r) => r.path.endsWith('deep.PNG'))!.label).toBe('dog');
    expect(rows.find((r) => r.path.endsWith('top.png'))!.label).toBeNull();
    expect(rows.some((r) => r.path.endsWith('.txt'))).toBe(false);
    const rel = await scanImageFolder(root, { stores, paths: 'relative', extensions: ['png'] });
    expect(rel.getChild('path')!.toArray()).toContain('cat/0.png');
    expect(rel.numRows).toBe(14); // deep.PNG matches case-insensitively, txt does not
    // the folder table feeds resolveBlobs directly
    const out = [];
    for await (const b of resolveBlobs(asAsync(rel.batches), { columns: ['path'], tablePath: root, stores, keyColumns: [] })) out.push(b);
    const bytes = out.flatMap((b) => [...b.getChild('path__bytes')!]) as Uint8Array[];
    const byPath = new Map(files.map(([p, b]) => [p, b]));
    rel.getChild('path')!.toArray().forEach((p: string, i: number) => expect(Buffer.from(bytes[i]).equals(Buffer.from(byPath.get(p)!))).toBe(true));
    // with the folder's size column no HEAD request is needed
    const stats = { fetched: 0, heads: 0, bytesFetched: 0, peakBytesInFlight: 0, peakConcurrent: 0, batches: 0, cancelled: false };
    const out2 = [];
    for await (const b of resolveBlobs(asAsync(rel.batches), { columns: ['path'], tablePath: root, stores, keyColumns: [], sizeColumns: { path: 'size' }, stats })) out2.push(b);
    expect(stats.heads).toBe(0);
    expect(stats.fetched).toBe(14);
    const bytes2 = out2.flatMap((b) => [...b.getChild('path__bytes')!]) as Uint8Array[];
    bytes2.forEach((b, i) => expect(Buffer.from(b).equals(Buffer.from(bytes[i]))).toBe(true));
  });

  it('refuses a local folder holding a link to a file outside it (no size of the outside file comes back); links inside are listed', async () => {
    const stores = new StoreRegistry();
    mkdirSync(join(dir, 'ln', 'pets', 'cat'), { recursive: true });
    writeFileSync(join(dir, 'ln', 'secret.bin'), new Uint8Array(12345));
    writeFileSync(join(dir, 'ln', 'pets', 'cat', 'a.png'), new Uint8Array(10));
    symlinkSync('a.png', join(dir, 'ln', 'pets', 'cat', 'b.png'));
    symlinkSync('../../secret.bin', join(dir, 'ln', 'pets', 'cat', 'z.png'));
    symlinkSync(join(dir, 'ln', 'secret.bin'), join(dir, 'ln', 'pets', 'cat', 'y.png'));
    const root = toFileUri(join(dir, 'ln', 'pets'));
    const e = await scanImageFolder(root, { stores }).catch((x) => x);
    expect(LakeSoulError.is(e, 'PermissionDenied')).toBe(true);
    expect(e.code).toBe('BLOB_OUTSIDE_ROOTS');
    expect(e.context).toMatchObject({ file: `${root}/cat/y.png`, realPath: join(dir, 'ln', 'secret.bin') }); // the first in path order
    expect(e.message).not.toContain('12345');
    unlinkSync(join(dir, 'ln', 'pets', 'cat', 'y.png'));
    unlinkSync(join(dir, 'ln', 'pets', 'cat', 'z.png'));
    const t = await scanImageFolder(root, { stores, paths: 'relative' });
    expect(t.toArray().map((r) => [r.path, r.size])).toEqual([['cat/a.png', 10n], ['cat/b.png', 10n]]);
  });

  it('lists an image folder on S3 (moto)', async () => {
    bucket = await createTestBucket('folder');
    const stores = new StoreRegistry({ env: testS3Env() });
    const { store } = stores.resolve(`s3://${bucket}/x`);
    for (let i = 0; i < 6; i++) await store.put(`ds/${['a', 'b', 'c'][i % 3]}/${i}.jpg`, new Uint8Array(i + 1));
    const t = await scanImageFolder(`s3://${bucket}/ds`, { stores });
    expect(t.toArray().map((r) => [r.path, r.label, r.size])).toEqual([
      [`s3://${bucket}/ds/a/0.jpg`, 'a', 1n],
      [`s3://${bucket}/ds/a/3.jpg`, 'a', 4n],
      [`s3://${bucket}/ds/b/1.jpg`, 'b', 2n],
      [`s3://${bucket}/ds/b/4.jpg`, 'b', 5n],
      [`s3://${bucket}/ds/c/2.jpg`, 'c', 3n],
      [`s3://${bucket}/ds/c/5.jpg`, 'c', 6n],
    ]);
  });

  it('reads CSV and JSONL manifests', async () => {
    const stores = new StoreRegistry();
    writeFileSync(join(dir, 'm.csv'), 'path,label,note\nimgs/cat/0.png,cat,"has, comma"\r\n"imgs/dog/1.png",dog,"multi\nline ""q"""\nimgs/x.png,,\n');
    const csv = await readManifest(toFileUri(join(dir, 'm.csv')), { stores, pathColumn: 'path' });
    expect(csv.toArray().map((r) => r.toJSON())).toEqual([
      { path: 'imgs/cat/0.png', label: 'cat', note: 'has, comma' },
      { path: 'imgs/dog/1.png', label: 'dog', note: 'multi\nline "q"' },
      { path: 'imgs/x.png', label: null, note: null },
    ]);
    writeFileSync(join(dir, 'm.jsonl'), '{"path":"a.png","label":3,"score":0.5,"ok":true}\n\n{"path":"b.png","label":4,"score":1,"extra":{"k":1}}\n');
    const jl = await readManifest(toFileUri(join(dir, 'm.jsonl')), { stores, pathColumn: 'path' });
    expect(jl.schema.fields.map((f) => [f.name, String(f.type)])).toEqual([
      ['path', 'Utf8'], ['label', 'Int64'], ['score', 'Float64'], ['ok', 'Bool'], ['extra', 'Utf8'],
    ]);
    expect(jl.toArray().map((r) => r.toJSON())).toEqual([
      { path: 'a.png', label: 3n, score: 0.5, ok: true, extra: null },
      { path: 'b.png', label: 4n, score: 1, ok: null, extra: '{"k":1}' },
    ]);
    writeFileSync(join(dir, 'bad.jsonl'), '{"path":"a.png"}\n{"label":1}\n');
    const e = await readManifest(toFileUri(join(dir, 'bad.jsonl')), { stores, pathColumn: 'path' }).catch((x) => x);
    expect(LakeSoulError.is(e, 'InvalidArgument')).toBe(true);
    expect(e.message).toContain('line 2');
    const e2 = await readManifest(toFileUri(join(dir, 'm.csv')), { stores, pathColumn: 'file' }).catch((x) => x);
    expect(e2.message).toContain("no column 'file'");
  });
});
