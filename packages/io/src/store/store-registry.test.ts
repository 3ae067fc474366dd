import { fstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { open } from 'node:fs/promises';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { nativeFiles } from '../native/native-files.js';
import { LocalStore } from './local-store.js';
import { MemoryStore } from './memory-store.js';
import { S3Store } from './s3-store.js';
import { StoreRegistry } from './store-registry.js';
import { joinUri, normalizeTablePath, parseUri, toFileUri } from './store-uri.js';
import { createTestBucket, deleteTestBucket, testS3Env } from './s3-test-env.js';

describe('URI helpers', () => {
  it('parses the supported forms', () => {
    expect(parseUri('file:///tmp/a/b')).toEqual({ scheme: 'file', authority: '', key: 'tmp/a/b' });
    expect(parseUri('file:/tmp/a')).toEqual({ scheme: 'file', authority: '', key: 'tmp/a' });
    expect(parseUri('/tmp/a')).toEqual({ scheme: 'file', authority: '', key: 'tmp/a' });
    expect(parseUri('s3://bkt/x/y.parquet')).toEqual({ scheme: 's3', authority: 'bkt', key: 'x/y.parquet' });
    expect(parseUri('s3a://bkt/x')).toEqual({ scheme: 's3', authority: 'bkt', key: 'x' });
    expect(parseUri('memory://m/k')).toEqual({ scheme: 'memory', authority: 'm', key: 'k' });
    expect(() => parseUri('relative/path')).toThrow(/relative location/);
    expect(() => parseUri('s3:///nobucket')).toThrow(LakeSoulError);
    expect(() => parseUri('file://remotehost/x')).toThrow(LakeSoulError);
  });

  it('normalizes table paths and joins', () => {
    expect(normalizeTablePath('s3a://b/t/')).toBe('s3://b/t');
    expect(normalizeTablePath('file:/tmp//t///')).toBe('file:///tmp/t');
    expect(normalizeTablePath('/tmp/t/')).toBe('file:///tmp/t');
    expect(joinUri('s3://b/t/', '/part=1/', 'f.parquet')).toBe('s3://b/t/part=1/f.parquet');
    expect(joinUri('file:///', 'tmp', 'x')).toBe('file:///tmp/x');
    expect(toFileUri('/tmp/x y')).toBe('file:///tmp/x y');
    expect(toFileUri('rel')).toBe(`file://${process.cwd()}/rel`);
  });
});

describe('StoreRegistry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-registry-'));
  let bucket: string | undefined;
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (bucket) await deleteTestBucket(bucket);
  });

  it('resolves file URIs to one LocalStore rooted at /', async () => {
    const reg = new StoreRegistry();
    const a = reg.resolve(toFileUri(join(dir, 'a.txt')));
    const b = reg.resolve(`file://${dir}/sub/b.txt`);
    expect(a.store).toBe(b.store);
    expect(a.store).toBeInstanceOf(LocalStore);
    expect(a.key).toBe(join(dir, 'a.txt').slice(1));
    await a.store.put(a.key, new TextEncoder().encode('hello'));
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('hello');
  });

  it('caches one S3Store per bucket, configured from env, and reaches moto', async () => {
    bucket = await createTestBucket('registry');
    const reg = new StoreRegistry({ env: testS3Env() });
    const x = reg.resolve(`s3://${bucket}/t/x.bin`);
    const y = reg.resolve(`s3a://${bucket}/t/y.bin`);
    const other = reg.resolve('s3://another-bucket/z');
    expect(x.store).toBe(y.store);
    expect(other.store).not.toBe(x.store);
    expect(x.store).toBeInstanceOf(S3Store);
    expect(x.key).toBe('t/x.bin');
    await x.store.put(x.key, new Uint8Array([1, 2, 3]));
    expect([...(await y.store.get('t/x.bin'))]).toEqual([1, 2, 3]);
  });

  it('passes local options (fsync) to its LocalStore; fsync puts read back', async () => {
    const reg = new StoreRegistry({ local: { fsync: true } });
    const { store, key } = reg.resolve(toFileUri(join(dir, 'synced', 'x.bin')));
    await store.put(key, new Uint8Array([4, 5]));
    expect(readFileSync(join(dir, 'synced', 'x.bin'))).toEqual(Buffer.from([4, 5]));
  });

  /**
   * Records every flush a local put asks for, on either path: Node's FileHandle.sync (parquet-wasm
   * runs, or bytes streamed) and the native addon's file tasks (a put of bytes where it is built).
   * Returns the function that stops recording.
   */
  async function recordFlushes(onFile: (path: string) => void, onDirectory: (path: string) => void): Promise<() => void> {
    const probe = await open(join(dir, 'probe'), 'w');
    const fileHandle = Object.getPrototypeOf(probe) as { sync(): Promise<void> };
    await probe.close();
    const original = fileHandle.sync;
    const spies: { mockRestore(): void }[] = [vi.spyOn(fileHandle, 'sync').mockImplementation(function (this: { fd: number }) {
      const path = readlinkSync(`/proc/self/fd/${this.fd}`);
      if (fstatSync(this.fd).isDirectory()) onDirectory(path); else onFile(path);
      return original.call(this);
    })];
    const native = nativeFiles();
    if (native) {
      const { createFile, syncDirectory } = native;
      spies.push(vi.spyOn(native, 'createFile').mockImplementation(async (path, data, fsync) => {
        await createFile(path, data, fsync);
        if (fsync) onFile(path);
      }));
      spies.push(vi.spyOn(native, 'syncDirectory').mockImplementation(async (path) => {
        await syncDirectory(path);
        onDirectory(path);
      }));
    }
    return () => { for (const s of spies) s.mockRestore(); };
  }

  it('flushes local puts to disk by default: the file before its rename, its directory after (a power cut left commits pointing at empty files)', async () => {
    const flushed: string[] = [];
    const files: string[] = []; // the paths of the files flushed, when flushed
    const stop = await recordFlushes((path) => {
      flushed.push(`file in ${dirname(path)}`);
      files.push(path);
    }, (path) => flushed.push(path));
    try {
      const store = new LocalStore({ root: dir });
      await store.put('durable/a.bin', new Uint8Array([1, 2, 3]));
      // the file, its directory, and the directory holding the new directory's entry
      expect(flushed.sort()).toEqual([dir, join(dir, 'durable'), `file in ${join(dir, 'durable')}`].sort());
      flushed.length = 0;
      await store.put('durable/a2.bin', new Uint8Array([1]));
      expect(flushed.sort()).toEqual([join(dir, 'durable'), `file in ${join(dir, 'durable')}`].sort());
      // a put that makes several directories flushes each new entry: nested in the root, b in nested, c in b
      flushed.length = 0;
      await store.put('nested/b/c/x.bin', new Uint8Array([2]));
      expect(flushed.sort()).toEqual([dir, join(dir, 'nested'), join(dir, 'nested', 'b'), join(dir, 'nested', 'b', 'c'), `file in ${join(dir, 'nested', 'b', 'c')}`].sort());
      // streamed bytes take the same path
      flushed.length = 0;
      await store.put('streamed/s.bin', (async function* () { yield new Uint8Array([5]); yield new Uint8Array([6]); })());
      expect(flushed.sort()).toEqual([dir, join(dir, 'streamed'), `file in ${join(dir, 'streamed')}`].sort());
      expect(readFileSync(join(dir, 'streamed', 's.bin'))).toEqual(Buffer.from([5, 6]));
      // a put writes a temp file renamed into place after its flush; a fresh one (a new data file's)
      // writes in place, so one flush of the file covers its directory entry as well
      expect(files.every((f) => basename(f).startsWith('.lakesoul-tmp-'))).toBe(true);
      flushed.length = 0;
      files.length = 0;
      await store.put('durable/fresh.bin', new Uint8Array([7]), { fresh: true });
      expect(files).toEqual([join(dir, 'durable', 'fresh.bin')]);
      expect(flushed.sort()).toEqual([join(dir, 'durable'), `file in ${join(dir, 'durable')}`].sort());
      flushed.length = 0;
      await new LocalStore({ root: dir, fsync: false }).put('durable/b.bin', new Uint8Array([4]));
      expect(flushed).toEqual([]);
      expect(readFileSync(join(dir, 'durable', 'a.bin'))).toEqual(Buffer.from([1, 2, 3]));
      expect(readFileSync(join(dir, 'durable', 'b.bin'))).toEqual(Buffer.from([4]));
    } finally {
      stop();
    }
  });

  it('flushes a directory once for the puts that land in it together (each put flushed it for itself: ~20% of a 1M-row write)', async () => {
    let files = 0;
    let directories = 0;
    const stop = await recordFlushes(() => files++, () => directories++);
    try {
      const store = new LocalStore({ root: dir });
      await Promise.all(Array.from({ length: 8 }, (_, i) => store.put(`grouped/${i}.bin`, new Uint8Array([i]))));
      expect(files).toBe(8);
      // the first put's flush, and one after it for every put renamed while it ran
      expect(directories).toBeGreaterThanOrEqual(1);
      expect(directories).toBeLessThan(8);
      // a put after those settled flushes the directory again
      directories = 0;
      await store.put('grouped/late.bin', new Uint8Array([9]));
      expect(directories).toBe(1);
      for (let i = 0; i < 8; i++) expect(readFileSync(join(dir, 'grouped', `${i}.bin`))).toEqual(Buffer.from([i]));
    } finally {
      stop();
    }
  });

  it('keeps one MemoryStore per name', async () => {
    const reg = new StoreRegistry();
    const a = reg.resolve('memory://one/k');
    await a.store.put(a.key, new Uint8Array([9]));
    expect([...(await reg.resolve('memory://one/k').store.get('k'))]).toEqual([9]);
    expect(reg.resolve('memory://two/k').store).not.toBe(a.store);
  });

  it('prefers the longest registered base, segment-wise, with keys relative to it', () => {
    const reg = new StoreRegistry();
    const m1 = new MemoryStore({ name: 'm1' });
    const m2 = new MemoryStore({ name: 'm2' });
    reg.register('s3://b/tables', m1).register('s3://b/tables/t1/', m2);
    expect(reg.resolve('s3://b/tables/t1/x')).toMatchObject({ store: m2, key: 'x' });
    expect(reg.resolve('s3://b/tables/t2/x')).toMatchObject({ store: m1, key: 't2/x' });
    expect(reg.resolve('s3://b/tables2/x').store).not.toBe(m1);
  });

  it('applies wrap once to created stores', () => {
    const seen: string[] = [];
    const reg = new StoreRegistry({ wrap: (s, base) => (seen.push(base), s) });
    reg.resolve('memory://w/a');
    reg.resolve('memory://w/b');
    reg.resolve('file:///tmp/x');
    expect(seen).toEqual(['memory://w/', 'file:///']);
  });

  it('gives portable options only where another thread resolves the same objects', async () => {
    const env = { AWS_ENDPOINT: 'http://127.0.0.1:1', AWS_REGION: 'eu-west-3', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' };
    const reg = new StoreRegistry({ env, local: { fsync: true }, s3: { maxAttempts: 2 } });
    expect(reg.portableOptions(['file:///tmp/a.parquet'])).toEqual({ env: {}, local: { fsync: true } });
    const s3 = reg.portableOptions(['file:///tmp/a', 's3://bkt/t/b.parquet'])!;
    expect(s3.s3).toEqual({ endpoint: 'http://127.0.0.1:1', region: 'eu-west-3', credentials: { accessKeyId: 'k', secretAccessKey: 's' }, maxAttempts: 2 });
    // built from a structured clone (as a worker receives it), the S3 store is configured alike
    const other = new StoreRegistry(structuredClone(s3));
    expect((other.storeFor('s3://bkt/x') as S3Store).description).toBe((reg.storeFor('s3://bkt/x') as S3Store).description);
    expect(reg.portableOptions(['memory://m/k'])).toBeNull();
    expect(new StoreRegistry({ wrap: (st) => st }).portableOptions(['file:///tmp/a'])).toBeNull();
    expect(new StoreRegistry().register('file:///tmp/t', new MemoryStore()).portableOptions(['file:///elsewhere/a'])).toBeNull();
    expect(new StoreRegistry().register('s3://other/', new MemoryStore()).portableOptions(['s3://bkt/a'])).not.toBeNull();
    const { S3Client } = await import('@aws-sdk/client-s3');
    expect(new StoreRegistry({ s3: { client: new S3Client({ region: 'us-east-1' }) } }).portableOptions(['s3://bkt/a'])).toBeNull();
    expect(new StoreRegistry({ s3: { client: new S3Client({ region: 'us-east-1' }) } }).portableOptions(['file:///tmp/a'])).not.toBeNull();
  });

  it('refuses unknown schemes and relative paths with InvalidArgument', () => {
    const reg = new StoreRegistry();
    for (const bad of ['http://example.com/x', 'gs://b/x', 'relative/x', '../x']) {
      let err: unknown;
      try {
        reg.resolve(bad);
      } catch (e) {
        err = e;
      }
      expect(LakeSoulError.is(err, 'InvalidArgument'), bad).toBe(true);
      expect((err as Error).message).toContain(bad);
    }
  });

  it('LocalStore: a put colliding with a directory or a file parent is InvalidArgument and leaves no temp file', async () => {
    const store = new LocalStore({ root: dir });
    await store.put('coll/a/b.bin', new Uint8Array([1]));
    const e1 = await store.put('coll/a', new Uint8Array([2])).catch((x) => x);
    expect(LakeSoulError.is(e1, 'InvalidArgument')).toBe(true);
    const e2 = await store.put('coll/a/b.bin/c', new Uint8Array([2])).catch((x) => x);
    expect(LakeSoulError.is(e2, 'InvalidArgument')).toBe(true);
    const left: string[] = [];
    for await (const m of store.list('coll/')) left.push(m.path);
    expect(left).toEqual(['coll/a/b.bin']);
    expect(readFileSync(join(dir, 'coll/a/b.bin'))[0]).toBe(1);
  });

  it('LocalStore.removeEmptyDirectories: empty ones only, deepest first, none kept or below one, no symbolic link followed', async () => {
    const root = mkdtempSync(join(dir, 'tidy-'));
    const outside = mkdtempSync(join(tmpdir(), 'tidy-outside-'));
    mkdirSync(join(outside, 'empty'));
    const store = new LocalStore({ root });
    await store.put('t/full/a.bin', new Uint8Array([1]));
    for (const d of ['t/p=1/q=2', 't/p=3', 't/kept/sub']) mkdirSync(join(root, d), { recursive: true });
    symlinkSync(outside, join(root, 't/link'));
    expect(await store.removeEmptyDirectories('t', (key) => key === 't/kept')).toBe(3); // p=1/q=2, p=1, p=3
    expect(readdirSync(join(root, 't')).sort()).toEqual(['full', 'kept', 'link']);
    expect(readdirSync(join(root, 't/kept'))).toEqual(['sub']); // below a kept one: not visited
    expect(readdirSync(outside)).toEqual(['empty']);
    await store.delete('t/full/a.bin');
    rmSync(join(root, 't/link'));
    expect(await store.removeEmptyDirectories('t')).toBe(4); // full, kept/sub, kept, t
    expect(readdirSync(root)).toEqual([]);
    expect(await store.removeEmptyDirectories('t')).toBe(0); // gone already
    await expect(store.removeEmptyDirectories('../x')).rejects.toMatchObject({ kind: 'InvalidArgument' });
    rmSync(outside, { recursive: true });
  });

  it('checks keys: no escape from a LocalStore root', async () => {
    const store = new LocalStore({ root: dir });
    const e = await store.get('../etc/passwd').catch((x) => x);
    expect(LakeSoulError.is(e, 'InvalidArgument')).toBe(true);
    expect(testS3Env().AWS_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:/);
  });
});
