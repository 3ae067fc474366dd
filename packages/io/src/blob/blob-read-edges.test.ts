/**
 * Edge cases of reading blob references: roots written as percent-encoded file: URIs, ranges past the
 * end of their object, objects too large for a Binary value, streams that change schema, and
 * references ending in '/' (on local disk and on the moto S3 server).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int32, Int64, RecordBatch, Struct, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { Vector } from 'apache-arrow';
import type { ObjectStore } from '../types.js';
import { S3Store, StoreRegistry, parseUri, toFileUri } from '../store/index.js';
import { createTestBucket, deleteTestBucket, testS3Env } from '../store/s3-test-env.js';
import { BlobRoots } from './blob-reference.js';
import { BlobFetcher } from './blob-fetch.js';
import { resolveBlobs } from './blob-resolver.js';
import { asAsync } from './blob-test-fixtures.js';

async function collect(it: AsyncIterable<RecordBatch>): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

async function errorOf(p: Promise<unknown>): Promise<LakeSoulError> {
  const e = await p.then(() => undefined, (x) => x);
  expect(e, 'expected an error').toBeInstanceOf(LakeSoulError);
  return e as LakeSoulError;
}

const text = (b: Uint8Array | null | undefined) => (b === null || b === undefined ? b : Buffer.from(b).toString());

describe('allowed roots written as file: URIs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-roots-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('decodes a file: root as references are decoded, so an encoded root matches its references', async () => {
    // a folder literally named `my%41dir`: as a file: URI (pathToFileURL) it is `my%2541dir`
    const folder = join(dir, 'my%41dir');
    mkdirSync(join(folder, 'dog'), { recursive: true });
    writeFileSync(join(folder, 'dog', 'd.png'), 'DOG');
    mkdirSync(join(dir, 'myAdir', 'dog'), { recursive: true });
    writeFileSync(join(dir, 'myAdir', 'dog', 'd.png'), 'OTHER');
    const root = pathToFileURL(folder).href;
    expect(root).toContain('my%2541dir');
    const ref = pathToFileURL(join(folder, 'dog', 'd.png')).href;
    const f = new BlobFetcher({ tablePath: toFileUri(join(dir, 'table')), allowedRoots: [root], stores: new StoreRegistry() });
    // the root was kept encoded while the reference was decoded: BLOB_OUTSIDE_ROOTS for every row
    expect(text(await f.fetch(ref))).toBe('DOG');
    // a root with a space, as pathToFileURL writes it
    mkdirSync(join(dir, 'a b'), { recursive: true });
    writeFileSync(join(dir, 'a b', 'x.png'), 'SPACE');
    const g = new BlobFetcher({ tablePath: toFileUri(join(dir, 'table')), allowedRoots: [pathToFileURL(join(dir, 'a b')).href], stores: new StoreRegistry() });
    expect(text(await g.fetch(pathToFileURL(join(dir, 'a b', 'x.png')).href))).toBe('SPACE');
    // the decoded root does not let the reference out: the sibling `myAdir` stays outside
    const e = await errorOf(f.fetch(pathToFileURL(join(dir, 'myAdir', 'dog', 'd.png')).href));
    expect(e.code).toBe('BLOB_OUTSIDE_ROOTS');
  });

  it('keeps a root recorded unencoded (as older imports wrote it) readable', async () => {
    const roots = new BlobRoots({ tablePath: 'file:///wh/t', allowedRoots: ['file:///data/a b', 'file:///data/50%off', 'file:///data/my%41dir'] });
    // unencoded, no '%': the same either way
    expect(roots.resolve({ path: 'file:///data/a%20b/x.png' }).uri).toBe('file:///data/a b/x.png');
    expect(roots.resolve({ path: 'file:///data/a b/x.png' }).uri).toBe('file:///data/a b/x.png');
    // a literal '%' no decoding accepts is taken as written (it was refused for the whole table)
    expect(roots.resolve({ path: 'file:///data/50%25off/x.png' }).uri).toBe('file:///data/50%off/x.png');
    expect(roots.resolve({ path: '/data/50%off/x.png' }).uri).toBe('file:///data/50%off/x.png');
    // `my%41dir` reads both as the folder `myAdir` (RFC 8089) and as the folder named so (as written)
    expect(roots.resolve({ path: 'file:///data/my%2541dir/x.png' }).uri).toBe('file:///data/my%41dir/x.png');
    expect(roots.resolve({ path: 'file:///data/myAdir/x.png' }).uri).toBe('file:///data/myAdir/x.png');
    expect(roots.allowed).toEqual(['file:///wh/t', 'file:///data/a b', 'file:///data/50%off', 'file:///data/myAdir', 'file:///data/my%41dir']);
    // the table path and relativeRoot are store locations, never decoded
    const t = new BlobRoots({ tablePath: 'file:///wh/100%41', relativeRoot: 'file:///rel/a%20b' });
    expect(t.resolve({ path: 'x.png' }).uri).toBe('file:///rel/a%20b/x.png');
    expect(t.allowed).toEqual(['file:///wh/100%41', 'file:///rel/a%20b']);
    // other schemes keep their characters
    expect(new BlobRoots({ tablePath: 's3://b/t', allowedRoots: ['s3://b/a%20b'] }).allowed).toEqual(['s3://b/t', 's3://b/a%20b']);
  });
});

interface Env {
  tablePath: string;
  stores: StoreRegistry;
  put(rel: string, bytes: string): Promise<void>;
  teardown(): Promise<void>;
}

function localEnv(): Env {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-blob-edges-'));
  const tablePath = toFileUri(join(dir, 'table'));
  return {
    tablePath,
    stores: new StoreRegistry(),
    async put(rel, bytes) {
      const p = '/' + parseUri(`${tablePath}/${rel}`).key;
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, bytes);
    },
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function s3Env(): Promise<Env> {
  const bucket = await createTestBucket('blob-edges');
  const stores = new StoreRegistry({ env: testS3Env() });
  const tablePath = `s3://${bucket}/wh/t`;
  return {
    tablePath,
    stores,
    async put(rel, bytes) {
      const { store, key } = stores.resolve(`${tablePath}/${rel}`);
      await store.put(key, new TextEncoder().encode(bytes));
    },
    async teardown() {
      (stores.resolve(`s3://${bucket}/x`).store as S3Store).destroy();
      await deleteTestBucket(bucket);
    },
  };
}

const refType = new Struct([new Field('path', new Utf8(), true), new Field('offset', new Int64(), true), new Field('length', new Int64(), true)]);

function edgeSuite(name: string, makeEnv: () => Env | Promise<Env>) {
  describe(`reference edges on ${name}`, () => {
    let env: Env;
    beforeAll(async () => {
      env = await makeEnv();
      await env.put('i/a.bin', 'ABCD');
      await env.put('i/empty.bin', '');
    });
    afterAll(async () => env.teardown());

    const read = async (value: { path: string; offset: bigint | null; length: bigint | null }) => {
      const t = new Table({ id: vectorFromArray([7], new Int32()), ref: vectorFromArray([value], refType) });
      const out = await collect(resolveBlobs(asAsync(t.batches), { columns: ['ref'], tablePath: env.tablePath, stores: env.stores, keyColumns: ['id'] }));
      return text(out[0].getChild('ref__bytes')!.get(0));
    };

    it('refuses a range starting or reaching past the end of its object (BLOB_RANGE_OUT_OF_BOUNDS), as the table read and openBlob do', async () => {
      // these returned empty bytes
      for (const [offset, length] of [[100n, null], [10n, 0n], [4n, null], [5n, 0n], [3n, 5n]] as const) {
        const e = await errorOf(read({ path: 'i/a.bin', offset, length }));
        expect(e.kind, `${offset} ${length}`).toBe('InvalidArgument');
        expect(e.code, `${offset} ${length}`).toBe('BLOB_RANGE_OUT_OF_BOUNDS');
        expect(e.message).toContain('id=7');
        expect(e.message).toContain('i/a.bin');
      }
      // the same through the per-row fetcher, with and without a HEAD first
      const f = new BlobFetcher({ tablePath: env.tablePath, stores: env.stores });
      for (const v of [{ path: 'i/a.bin', offset: 100 }, { path: 'i/a.bin', offset: 10, length: 0 }]) {
        expect((await errorOf(f.fetch(v))).code).toBe('BLOB_RANGE_OUT_OF_BOUNDS');
        expect((await errorOf(f.size(f.target({ path: v.path, offset: v.offset, length: v.length })))).code).toBe('BLOB_RANGE_OUT_OF_BOUNDS');
      }
      // inside the object (or an empty range at its end, or the whole of an empty object): read
      expect(await read({ path: 'i/a.bin', offset: 1n, length: 2n })).toBe('BC');
      expect(await read({ path: 'i/a.bin', offset: 3n, length: null })).toBe('D');
      expect(await read({ path: 'i/a.bin', offset: 4n, length: 0n })).toBe('');
      expect(await read({ path: 'i/a.bin', offset: 0n, length: null })).toBe('ABCD');
      expect(await read({ path: 'i/empty.bin', offset: 0n, length: null })).toBe('');
      expect(await read({ path: 'i/empty.bin', offset: null, length: null })).toBe('');
    });

    it('refuses a reference ending in / . or .. rather than reading the object without it', async () => {
      const f = new BlobFetcher({ tablePath: env.tablePath, stores: env.stores });
      expect(text(await f.fetch('i/a.bin'))).toBe('ABCD');
      // `i/a.bin/` read `i/a.bin` (on S3 a key with a trailing slash is another object)
      for (const ref of ['i/a.bin/', `${env.tablePath}/i/a.bin/`, 'i/a.bin/.', 'i/a.bin/x/..', 'i/a.bin//', 'i/a.bin/#bytes=0-1']) {
        const e = await errorOf(f.fetch(ref));
        expect(e.code, ref).toBe('BLOB_BAD_REFERENCE');
        expect(e.message, ref).toContain('names a directory');
      }
      // `.` inside a reference is still applied
      expect(text(await f.fetch('i/./a.bin'))).toBe('ABCD');
    });
  });
}

edgeSuite('local disk', localEnv);
edgeSuite('S3 (moto)', s3Env);

describe('resolveBlobs limits and stream schemas', () => {
  /** A store whose objects claim `size` bytes; a get is recorded (it must not happen). */
  function hugeStore(size: number) {
    const gets: string[] = [];
    const store: ObjectStore = {
      description: 'memory://huge/',
      get: async (path) => {
        gets.push(path);
        return new Uint8Array(0);
      },
      put: async () => undefined,
      head: async (path) => ({ path, size, lastModified: new Date(0) }),
      delete: async () => undefined,
      list: async function* () {},
    };
    return { store, gets };
  }

  it('refuses an object over 2 GiB (also over 4 GiB) before reading it, naming the row, column and reference', async () => {
    for (const size of [2 ** 31, 2 ** 32 + 1000]) {
      const { store, gets } = hugeStore(size);
      const stores = new StoreRegistry().register('memory://huge/', store);
      const t = new Table({ id: vectorFromArray([1, 2], new Int32()), ref: vectorFromArray(['small', 'big'], new Utf8()) });
      const e = await errorOf(collect(resolveBlobs(asAsync(t.batches), { columns: ['ref'], tablePath: 'memory://huge/t', stores, keyColumns: ['id'] })));
      expect(e.kind).toBe('Unsupported');
      expect(e.message).toContain("blob column 'ref', id=1");
      expect(e.message).toContain("'small'");
      expect(e.message).toContain(`${size} bytes`);
      expect(e.context).toMatchObject({ column: 'ref', row: 'id=1', reference: 'small' });
      expect(gets).toEqual([]);
    }
    // a size column claiming more is checked by a HEAD, not trusted for a refusal
    const { store } = hugeStore(3);
    const stores = new StoreRegistry().register('memory://huge/', store);
    const t = new Table({ ref: vectorFromArray(['a'], new Utf8()), size: vectorFromArray([2n ** 33n], new Int64()) });
    const out = await collect(resolveBlobs(asAsync(t.batches), { columns: ['ref'], tablePath: 'memory://huge/t', stores, keyColumns: [], sizeColumns: { ref: 'size' } }));
    expect(out[0].getChild('ref__bytes')!.get(0)).toEqual(new Uint8Array(0));
  });

  it('checks every batch of a stream: a later batch without the column or with another type is refused naming the column and batch', async () => {
    const stores = new StoreRegistry();
    await stores.resolve('memory://rb/t/a').store.put('t/a', new Uint8Array([1, 2, 3]));
    const mk = (cols: Record<string, Vector>) => new Table(cols).batches[0];
    const first = mk({ ref: vectorFromArray(['a'], new Utf8()) });
    const cases = [
      [mk({ other: vectorFromArray(['a'], new Utf8()) }), 'InvalidArgument', /blob column 'ref' is not among the read columns in input batch 2 \(other\)/],
      [mk({ ref: vectorFromArray([1], new Int32()) }), 'SchemaMismatch', /blob column 'ref' has type Int32 in input batch 2/],
    ] as const;
    for (const [second, kind, message] of cases) {
      const got: RecordBatch[] = [];
      const e = await errorOf(
        (async () => {
          for await (const b of resolveBlobs(asAsync([first, second]), { columns: ['ref'], tablePath: 'memory://rb/t', stores, keyColumns: [] })) got.push(b);
        })(),
      );
      expect(e.kind).toBe(kind);
      expect(e.message).toMatch(message);
      expect(e.context).toMatchObject({ column: 'ref', batch: 2 });
      // the first batch's rows came first
      expect([...got[0].getChild('ref__bytes')!]).toEqual([new Uint8Array([1, 2, 3])]);
    }
  });
});
