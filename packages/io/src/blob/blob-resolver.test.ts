import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int32, Int64, RecordBatch, Schema, Struct, Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { ObjectStore } from '../types.js';
import { S3Store, StoreRegistry, parseUri, toFileUri } from '../store/index.js';
import { createTestBucket, deleteTestBucket, testS3Env } from '../store/s3-test-env.js';
import { resolveBlobs } from './blob-resolver.js';
import type { BlobReadStats, ResolveBlobsOptions } from './blob-resolver.js';
import { asAsync, batchesOf, decodePng, makePng, trackingStore } from './blob-test-fixtures.js';

const N = 300;
const LABELS = ['cat', 'dog', 'bird'];

interface Env {
  tablePath: string;
  /** A location outside the table holding `shared/a.png`. */
  outside: string;
  /** Another root the table does not allow (another bucket / directory) holding `x.png`. */
  forbidden: string;
  put(uri: string, bytes: Uint8Array): Promise<void>;
  registry(wrap?: (s: ObjectStore, base: string) => ObjectStore): StoreRegistry;
  symlinks: boolean;
  teardown(): Promise<void>;
}

function localEnv(): Env {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-blobs-'));
  return {
    tablePath: toFileUri(join(dir, 'table')),
    outside: toFileUri(join(dir, 'outside')),
    forbidden: toFileUri(join(dir, 'forbidden')),
    async put(uri, bytes) {
      const p = '/' + parseUri(uri).key;
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, bytes);
    },
    registry: (wrap) => new StoreRegistry({ wrap }),
    symlinks: true,
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function s3Env(): Promise<Env> {
  const bucket = await createTestBucket('blobs');
  const other = await createTestBucket('blobs-other');
  const reg = new StoreRegistry({ env: testS3Env() });
  return {
    tablePath: `s3://${bucket}/warehouse/images_t`,
    outside: `s3://${bucket}/shared_area`,
    forbidden: `s3://${other}/private`,
    async put(uri, bytes) {
      const { store, key } = reg.resolve(uri);
      await store.put(key, bytes);
    },
    registry: (wrap) => new StoreRegistry({ env: testS3Env(), wrap }),
    symlinks: false,
    async teardown() {
      for (const s of [`s3://${bucket}/`, `s3://${other}/`]) (reg.resolve(s + 'x').store as S3Store).destroy();
      await deleteTestBucket(bucket);
      await deleteTestBucket(other);
    },
  };
}

async function collect(it: AsyncIterable<RecordBatch>): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

function rowsOf(batches: RecordBatch[], col: string): unknown[] {
  return batches.flatMap((b) => [...b.getChild(col)!]);
}

async function errorOf(p: Promise<unknown>): Promise<LakeSoulError> {
  const e = await p.then(() => undefined, (x) => x);
  expect(e, 'expected an error').toBeInstanceOf(LakeSoulError);
  return e as LakeSoulError;
}

function blobSuite(name: string, makeEnv: () => Env | Promise<Env>) {
  describe(`resolveBlobs on ${name}`, () => {
    let env: Env;
    const images: Uint8Array[] = [];
    const sizes = new Map<string, number>();
    const refs: string[] = [];
    let container: Uint8Array;
    const containerParts: { offset: number; length: number }[] = [];

    beforeAll(async () => {
      env = await makeEnv();
      for (let i = 0; i < N; i++) images.push(makePng(i + 1, 8 + (i % 29), 8 + ((i * 7) % 23)));
      const puts: Promise<void>[] = [];
      for (let i = 0; i < N; i++) {
        const rel = `images/${LABELS[i % 3]}/img_${String(i).padStart(4, '0')}.png`;
        // half relative to the table, half absolute URIs inside it
        refs.push(i % 2 === 0 ? rel : `${env.tablePath}/${rel}`);
        sizes.set(parseUri(`${env.tablePath}/${rel}`).key, images[i].length);
        puts.push(env.put(`${env.tablePath}/${rel}`, images[i]));
        if (puts.length >= 32) await Promise.all(puts.splice(0));
      }
      await Promise.all(puts);
      // a container file of 50 images back to back
      let off = 0;
      for (let i = 0; i < 50; i++) {
        containerParts.push({ offset: off, length: images[i].length });
        off += images[i].length;
      }
      container = new Uint8Array(off);
      for (let i = 0; i < 50; i++) container.set(images[i], containerParts[i].offset);
      await env.put(`${env.tablePath}/packs/pack-0.bin`, container);
      await env.put(`${env.outside}/shared/a.png`, images[0]);
      await env.put(`${env.forbidden}/x.png`, images[1]);
    });
    afterAll(async () => {
      await env?.teardown();
    });

    const baseOptions = (stores: StoreRegistry, extra: Partial<ResolveBlobsOptions> = {}): ResolveBlobsOptions => ({
      columns: ['image_path'],
      tablePath: env.tablePath,
      stores,
      keyColumns: ['id'],
      ...extra,
    });

    const table = (paths: (string | null)[], batchSize = 37) =>
      batchesOf(
        { id: paths.map((_, i) => i), label: paths.map((_, i) => LABELS[i % 3]), image_path: paths },
        batchSize,
        { id: 'int32', label: 'utf8', image_path: 'utf8' },
      );

    it(`round-trips ${N} PNG images byte-exactly and in row order`, async () => {
      const stats: BlobReadStats = { fetched: 0, heads: 0, bytesFetched: 0, peakBytesInFlight: 0, peakConcurrent: 0, batches: 0, cancelled: false };
      const reg = env.registry();
      const out = await collect(resolveBlobs(asAsync(table(refs)), baseOptions(reg, { concurrency: 8, stats })));
      expect(out.reduce((s, b) => s + b.numRows, 0)).toBe(N);
      expect(out[0].schema.fields.map((f) => f.name)).toEqual(['id', 'label', 'image_path', 'image_path__bytes']);
      expect(rowsOf(out, 'id')).toEqual(Array.from({ length: N }, (_, i) => i));
      const bytes = rowsOf(out, 'image_path__bytes') as Uint8Array[];
      for (let i = 0; i < N; i++) expect(Buffer.from(bytes[i]).equals(Buffer.from(images[i])), `row ${i}`).toBe(true);
      const d = decodePng(bytes[17]);
      expect([d.width, d.height]).toEqual([8 + (17 % 29), 8 + ((17 * 7) % 23)]);
      expect(stats.fetched).toBe(N);
      expect(stats.peakConcurrent).toBe(8);
      expect(stats.cancelled).toBe(false);
      // one store (client) for every row
      const s1 = reg.resolve(`${env.tablePath}/a`).store;
      expect(reg.resolve(`${env.tablePath}/images/b`).store).toBe(s1);
    });

    it('reads offset/length references inside a container file (struct and #bytes= forms)', async () => {
      const { store, stats } = trackingStore(env.registry().resolve(`${env.tablePath}/packs/pack-0.bin`).store, () => container.length);
      const reg = env.registry(() => store);
      const paths = containerParts.map((p) => 'packs/pack-0.bin');
      const structType = new Struct([new Field('path', new Utf8()), new Field('offset', new Int64()), new Field('length', new Int64())]);
      const structVec = vectorFromArray(
        containerParts.map((p, i) => (i === 3 ? null : { path: paths[i], offset: BigInt(p.offset), length: BigInt(p.length) })),
        structType,
      );
      const strVec = vectorFromArray(
        containerParts.map((p, i) => `${i % 2 ? env.tablePath + '/' : ''}packs/pack-0.bin#bytes=${p.offset}-${p.offset + p.length - 1}`),
        new Utf8(),
      );
      const t = new Table({ id: makeVector(Int32Array.from(containerParts.map((_, i) => i))), ref: structVec, ref2: strVec });
      const out = await collect(resolveBlobs(asAsync(t.batches), baseOptions(reg, { columns: ['ref', 'ref2'], concurrency: 4 })));
      const a = rowsOf(out, 'ref__bytes') as (Uint8Array | null)[];
      const b = rowsOf(out, 'ref2__bytes') as Uint8Array[];
      for (let i = 0; i < 50; i++) {
        if (i === 3) expect(a[i]).toBeNull();
        else expect(Buffer.from(a[i]!).equals(Buffer.from(images[i])), `struct row ${i}`).toBe(true);
        expect(Buffer.from(b[i]).equals(Buffer.from(images[i])), `string row ${i}`).toBe(true);
      }
      expect(stats.heads).toBe(0); // lengths known: no HEAD requests
      expect(stats.gets).toBe(99);
      // a range beyond the object's end is an error naming the row
      const bad = vectorFromArray([`packs/pack-0.bin#bytes=${container.length - 2}-${container.length + 10}`], new Utf8());
      const e = await errorOf(collect(resolveBlobs(asAsync(new Table({ id: makeVector(Int32Array.from([77])), image_path: bad }).batches), baseOptions(env.registry()))));
      expect(e.kind).toBe('InvalidArgument');
      expect(e.message).toContain('id=77');
    });

    it('refuses references outside the allowed roots before reading anything', async () => {
      const attempts = [
        '../x.png',
        'images/../../x.png',
        '../../../../../../../../etc/passwd',
        '/etc/passwd',
        'file:///etc/passwd',
        `${env.forbidden}/x.png`,
        `${env.tablePath}_sibling/x.png`,
        'http://127.0.0.1:1/x.png',
        'gs://bucket/x.png',
        `${env.outside}/shared/a.png`, // allowed only when configured
      ];
      for (const [k, ref] of attempts.entries()) {
        const { store, stats } = trackingStore(env.registry().resolve(`${env.tablePath}/x`).store, () => 0);
        const reg = env.registry(() => store);
        const paths: (string | null)[] = [refs[0], refs[1], ref];
        const batches = table(paths).map((b) => b);
        const got: RecordBatch[] = [];
        const e = await errorOf((async () => {
          for await (const b of resolveBlobs(asAsync(batches), baseOptions(reg))) got.push(b);
        })());
        expect(e.kind, ref).toBe('PermissionDenied');
        expect(e.message).toContain('id=2');
        expect(e.message).toContain(ref);
        expect(e.context.row).toBe('id=2');
        expect(e.context.column).toBe('image_path');
        // rows before the bad one were delivered, in order; nothing outside the roots was touched
        expect(rowsOf(got, 'id')).toEqual([0, 1]);
        for (const key of stats.keys) expect(key.startsWith(parseUri(env.tablePath).key + '/'), `${ref} -> ${key}`).toBe(true);
        void k;
      }
      // the row index names the row when no key column is read
      const e = await errorOf(collect(resolveBlobs(asAsync(table(['../x.png'])), baseOptions(env.registry(), { keyColumns: [] }))));
      expect(e.message).toContain('row 0');
      expect(e.context.row).toBe(0);
    });

    it('reads configured allowed roots and a relative root', async () => {
      const reg = env.registry();
      const out = await collect(resolveBlobs(asAsync(table([`${env.outside}/shared/a.png`, refs[1]])), baseOptions(reg, { allowedRoots: [env.outside] })));
      expect(Buffer.from(rowsOf(out, 'image_path__bytes')[0] as Uint8Array).equals(Buffer.from(images[0]))).toBe(true);
      const out2 = await collect(resolveBlobs(asAsync(table(['shared/a.png'])), baseOptions(reg, { relativeRoot: env.outside })));
      expect(Buffer.from(rowsOf(out2, 'image_path__bytes')[0] as Uint8Array).equals(Buffer.from(images[0]))).toBe(true);
      // allowing one root does not allow its siblings
      const e = await errorOf(collect(resolveBlobs(asAsync(table([`${env.forbidden}/x.png`])), baseOptions(reg, { allowedRoots: [env.outside] }))));
      expect(e.kind).toBe('PermissionDenied');
    });

    it('reports missing objects as NotFound naming row and path, or null with onMissing null', async () => {
      const paths = [refs[0], 'images/cat/missing.png', refs[2]];
      const e = await errorOf(collect(resolveBlobs(asAsync(table(paths)), baseOptions(env.registry()))));
      expect(e.kind).toBe('NotFound');
      expect(e.message).toContain('id=1');
      expect(e.message).toContain('images/cat/missing.png');
      expect(String(e.context.file)).toContain(`${parseUri(env.tablePath).key}/images/cat/missing.png`);
      const out = await collect(resolveBlobs(asAsync(table([...paths, null])), baseOptions(env.registry(), { onMissing: 'null' })));
      const b = rowsOf(out, 'image_path__bytes');
      expect(b[1]).toBeNull();
      expect(b[3]).toBeNull();
      expect(Buffer.from(b[0] as Uint8Array).equals(Buffer.from(images[0]))).toBe(true);
      expect(Buffer.from(b[2] as Uint8Array).equals(Buffer.from(images[2]))).toBe(true);
    });

    it('keeps the bytes in flight under the bound, also while the consumer pauses', async () => {
      const maxBytes = 20_000;
      const { store, stats } = trackingStore(env.registry().resolve(`${env.tablePath}/x`).store, (k) => sizes.get(k), 5);
      const reg = env.registry(() => store);
      const rstats: BlobReadStats = { fetched: 0, heads: 0, bytesFetched: 0, peakBytesInFlight: 0, peakConcurrent: 0, batches: 0, cancelled: false };
      const it = resolveBlobs(asAsync(table(refs, 50)), baseOptions(reg, { concurrency: 16, maxBytesInFlight: maxBytes, stats: rstats }))[Symbol.asyncIterator]();
      let delivered = 0;
      const maxImage = Math.max(...images.map((x) => x.length));
      let rows = 0;
      const got: Uint8Array[] = [];
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        rows += r.value.numRows;
        for (const v of r.value.getChild('image_path__bytes')!) {
          delivered += (v as Uint8Array).length;
          got.push(v as Uint8Array);
        }
        // pause: prefetch must stop at the bound instead of reading everything
        await new Promise((res) => setTimeout(res, 30));
        expect(stats.bytesReturned - delivered).toBeLessThanOrEqual(maxBytes + maxImage);
        expect(rstats.peakBytesInFlight).toBeLessThanOrEqual(maxBytes + maxImage);
      }
      expect(rows).toBe(N);
      for (let i = 0; i < N; i++) expect(Buffer.from(got[i]).equals(Buffer.from(images[i]))).toBe(true);
      expect(stats.peakInFlightBytes).toBeLessThanOrEqual(maxBytes + maxImage);
      expect(stats.peakInFlightBytes).toBeGreaterThan(maxBytes / 4); // it did prefetch
      // batches of 50 rows do not fit 20 kB: they come out as smaller slices
      expect(rstats.batches).toBeGreaterThan(N / 50);
    });

    it('cancels in-flight fetches when the consumer returns early', async () => {
      const { store, stats } = trackingStore(env.registry().resolve(`${env.tablePath}/x`).store, (k) => sizes.get(k), 150);
      const reg = env.registry(() => store);
      let pulled = 0;
      let closed = false;
      async function* source() {
        try {
          for (const b of table(refs, 10)) {
            pulled++;
            yield b;
          }
        } finally {
          closed = true;
        }
      }
      const rstats: BlobReadStats = { fetched: 0, heads: 0, bytesFetched: 0, peakBytesInFlight: 0, peakConcurrent: 0, batches: 0, cancelled: false };
      for await (const b of resolveBlobs(source(), baseOptions(reg, { concurrency: 12, stats: rstats }))) {
        expect(b.numRows).toBe(10);
        break;
      }
      expect(rstats.cancelled).toBe(true);
      expect(closed).toBe(true);
      expect(stats.aborted).toBeGreaterThan(0);
      const getsAtReturn = stats.gets;
      await new Promise((r) => setTimeout(r, 400));
      expect(stats.gets).toBe(getsAtReturn); // nothing new started
      expect(stats.inFlight).toBe(0);
      expect(pulled).toBeLessThan(N / 10);
    });

    it('honours an external AbortSignal', async () => {
      const { store } = trackingStore(env.registry().resolve(`${env.tablePath}/x`).store, (k) => sizes.get(k), 100);
      const ac = new AbortController();
      const p = collect(resolveBlobs(asAsync(table(refs)), baseOptions(env.registry(() => store), { signal: ac.signal })));
      setTimeout(() => ac.abort(new Error('stop')), 50);
      const e = await errorOf(p);
      expect(e.kind).toBe('Aborted');
    });

    if (name === 'local disk') {
      it('refuses symlinks that lead outside the roots', async () => {
        const linkPath = '/' + parseUri(`${env.tablePath}/images/evil.png`).key;
        symlinkSync('/' + parseUri(`${env.forbidden}/x.png`).key, linkPath);
        const e = await errorOf(collect(resolveBlobs(asAsync(table(['images/evil.png'])), baseOptions(env.registry()))));
        expect(e.kind).toBe('PermissionDenied');
        expect(e.message).toContain('symbolic link');
        expect(e.message).toContain('id=0');
        // a symlink that stays inside the table is fine
        const inside = '/' + parseUri(`${env.tablePath}/images/alias.png`).key;
        symlinkSync('/' + parseUri(`${env.tablePath}/images/cat/img_0000.png`).key, inside);
        const out = await collect(resolveBlobs(asAsync(table(['images/alias.png'])), baseOptions(env.registry())));
        expect(Buffer.from(rowsOf(out, 'image_path__bytes')[0] as Uint8Array).equals(Buffer.from(images[0]))).toBe(true);
      });
    }

    it('rejects unknown columns, non-reference types and name clashes', async () => {
      const reg = env.registry();
      const e1 = await errorOf(collect(resolveBlobs(asAsync(table(refs.slice(0, 2))), baseOptions(reg, { columns: ['nope'] }))));
      expect(e1.kind).toBe('InvalidArgument');
      expect(e1.message).toContain('nope');
      const e2 = await errorOf(collect(resolveBlobs(asAsync(table(refs.slice(0, 2))), baseOptions(reg, { columns: ['id'] }))));
      expect(e2.kind).toBe('SchemaMismatch');
      const clash = new Table({ image_path: vectorFromArray([refs[0]], new Utf8()), image_path__bytes: vectorFromArray(['x'], new Utf8()) });
      const e3 = await errorOf(collect(resolveBlobs(asAsync(clash.batches), baseOptions(reg))));
      expect(e3.message).toContain('image_path__bytes');
      // the source is closed after such an error
      let closed = false;
      async function* src() {
        try {
          yield* table(refs.slice(0, 2));
          yield* table(refs.slice(0, 2));
        } finally {
          closed = true;
        }
      }
      await errorOf(collect(resolveBlobs(src(), baseOptions(reg, { columns: ['nope'] }))));
      expect(closed).toBe(true);
    });
  });
}

blobSuite('local disk', localEnv);
blobSuite('S3 (moto)', s3Env);

describe('resolveBlobs details', () => {
  it('passes batches through when no columns are requested', async () => {
    const t = new Table({ a: vectorFromArray([1, 2], new Int32()) });
    const out = await collect(resolveBlobs(asAsync(t.batches), { columns: [], tablePath: 'memory://m/t', stores: new StoreRegistry(), keyColumns: [] }));
    expect(out[0]).toBe(t.batches[0]);
  });

  it('fills a stats object given without counters ({}) with numbers, never NaN or missing', async () => {
    const reg = new StoreRegistry();
    await reg.resolve('memory://ms/t/a.bin').store.put('t/a.bin', new Uint8Array([1, 2, 3]));
    const t = new Table({ p: vectorFromArray(['a.bin', 'a.bin'], new Utf8()) });
    const stats = {} as BlobReadStats;
    await collect(resolveBlobs(asAsync(t.batches), { columns: ['p'], tablePath: 'memory://ms/t', stores: reg, keyColumns: [], stats }));
    expect(stats).toEqual({ fetched: 2, heads: 2, bytesFetched: 6, peakBytesInFlight: expect.any(Number), peakConcurrent: expect.any(Number), batches: 1, cancelled: false });
    expect(stats.peakBytesInFlight).toBeGreaterThan(0);
    expect(stats.peakConcurrent).toBeGreaterThan(0);
    // partly filled: present counters are added to, missing ones start at 0
    const partial = { fetched: 5 } as BlobReadStats;
    await collect(resolveBlobs(asAsync(t.batches), { columns: ['p'], tablePath: 'memory://ms/t', stores: reg, keyColumns: [], stats: partial }));
    expect(partial.fetched).toBe(7);
    expect(partial.heads).toBe(2);
    // no columns requested: the counters are still there
    const none = {} as BlobReadStats;
    await collect(resolveBlobs(asAsync(t.batches), { columns: [], tablePath: 'memory://ms/t', stores: reg, keyColumns: [], stats: none }));
    expect(none).toEqual({ fetched: 0, heads: 0, bytesFetched: 0, peakBytesInFlight: 0, peakConcurrent: 0, batches: 0, cancelled: false });
  });

  it('keeps schema metadata and handles empty batches', async () => {
    const reg = new StoreRegistry();
    await reg.resolve('memory://m/t/a.bin').store.put('t/a.bin', new Uint8Array([1, 2, 3]));
    const schema = new Schema([new Field('p', new Utf8(), true)], new Map([['k', 'v']]));
    const full = new Table(schema, { p: vectorFromArray(['a.bin'], new Utf8()) } as never);
    const empty = full.batches[0].slice(0, 0);
    const out = await collect(resolveBlobs(asAsync([empty, full.batches[0], empty]), { columns: ['p'], tablePath: 'memory://m/t', stores: reg, keyColumns: [] }));
    expect(out.map((b) => b.numRows)).toEqual([0, 1, 0]);
    expect(out[1].schema.metadata.get('k')).toBe('v');
    expect([...(out[1].getChild('p__bytes')!.get(0) as Uint8Array)]).toEqual([1, 2, 3]);
  });

  it('handles several blob columns under a tight bound, objects larger than the bound, and source errors', async () => {
    const reg = new StoreRegistry();
    const mem = reg.resolve('memory://mc/t/x').store;
    const sizes = [10, 3000, 20, 5000, 7, 0, 4096, 1];
    for (let i = 0; i < sizes.length; i++) {
      await mem.put(`t/a${i}`, new Uint8Array(sizes[i]).fill(i + 1));
      await mem.put(`t/b${i}`, new Uint8Array(i + 1).fill(100 + i));
    }
    const rows = 40;
    const a = Array.from({ length: rows }, (_, i) => (i % 9 === 8 ? null : `a${i % sizes.length}`));
    const b = Array.from({ length: rows }, (_, i) => `b${i % sizes.length}`);
    const mk = () => batchesOf({ id: a.map((_, i) => i), a, b }, 13, { id: 'int32', a: 'utf8', b: 'utf8' });
    const stats: BlobReadStats = { fetched: 0, heads: 0, bytesFetched: 0, peakBytesInFlight: 0, peakConcurrent: 0, batches: 0, cancelled: false };
    const out = await collect(resolveBlobs(asAsync(mk()), { columns: ['a', 'b'], tablePath: 'memory://mc/t', stores: reg, keyColumns: ['id'], concurrency: 5, maxBytesInFlight: 2000, stats }));
    expect(rowsOf(out, 'id')).toEqual(Array.from({ length: rows }, (_, i) => i));
    const ab = rowsOf(out, 'a__bytes') as (Uint8Array | null)[];
    const bb = rowsOf(out, 'b__bytes') as Uint8Array[];
    for (let i = 0; i < rows; i++) {
      if (a[i] === null) expect(ab[i]).toBeNull();
      else expect([ab[i]!.length, ab[i]![0]]).toEqual([sizes[i % sizes.length], sizes[i % sizes.length] ? (i % sizes.length) + 1 : undefined]);
      expect([...bb[i]]).toEqual(new Array((i % sizes.length) + 1).fill(100 + (i % sizes.length)));
    }
    // rows larger than the 2000-byte bound (a 5000-byte object + 4 bytes) went through on their own
    expect(stats.peakBytesInFlight).toBeLessThanOrEqual(5004);
    expect(stats.peakBytesInFlight).toBeGreaterThanOrEqual(5000);
    expect(stats.batches).toBeGreaterThan(Math.ceil(rows / 13));

    // the source fails after two batches: those rows come first, then its error
    async function* failing() {
      const bs = mk();
      yield bs[0];
      yield bs[1];
      throw new LakeSoulError('Io', 'source broke');
    }
    const got: RecordBatch[] = [];
    const e = await errorOf((async () => {
      for await (const x of resolveBlobs(failing(), { columns: ['b'], tablePath: 'memory://mc/t', stores: reg, keyColumns: ['id'] })) got.push(x);
    })());
    expect(e.message).toBe('source broke');
    expect(rowsOf(got, 'id')).toEqual(Array.from({ length: 26 }, (_, i) => i));
  });

  it('randomized: any sizes, bounds, concurrency, batch sizes and completion orders give every row in order', async () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const mem = new StoreRegistry().resolve('memory://rnd/t/x').store;
    const objSizes: number[] = [];
    for (let i = 0; i < 60; i++) {
      objSizes.push(rnd(4) === 0 ? rnd(20000) : rnd(500));
      await mem.put(`t/o${i}`, new Uint8Array(objSizes[i]).fill(i));
    }
    // every request waits a random 0-3 ms, so completions come back out of order
    const jitter: ObjectStore = {
      description: mem.description,
      get: async (p, o) => (await new Promise((r) => setTimeout(r, rnd(4))), mem.get(p, o)),
      head: async (p, o) => (await new Promise((r) => setTimeout(r, rnd(4))), mem.head(p, o)),
      put: (p, d, o) => mem.put(p, d, o),
      delete: (p, o) => mem.delete(p, o),
      list: (p, o) => mem.list(p, o),
    };
    const reg = new StoreRegistry();
    reg.register('memory://rnd/', jitter);
    for (let iter = 0; iter < 60; iter++) {
      const rows = 1 + rnd(120);
      const cols = 1 + rnd(3);
      const refs = Array.from({ length: cols }, () => Array.from({ length: rows }, () => (rnd(10) === 0 ? null : rnd(60))));
      const data: Record<string, (string | number | null)[]> = { id: Array.from({ length: rows }, (_, i) => i) };
      const types: Record<string, 'utf8' | 'int32'> = { id: 'int32' };
      refs.forEach((r, c) => {
        data[`c${c}`] = r.map((x) => (x === null ? null : `o${x}`));
        types[`c${c}`] = 'utf8';
      });
      const maxBytes = 1 + rnd(40000);
      const concurrency = 1 + rnd(12);
      const stats: BlobReadStats = { fetched: 0, heads: 0, bytesFetched: 0, peakBytesInFlight: 0, peakConcurrent: 0, batches: 0, cancelled: false };
      const out: RecordBatch[] = [];
      const stopAt = rnd(4) === 0 ? rnd(rows) : -1;
      let seen = 0;
      for await (const b of resolveBlobs(asAsync(batchesOf(data, 1 + rnd(30), types)), {
        columns: refs.map((_, c) => `c${c}`),
        tablePath: 'memory://rnd/t',
        stores: reg,
        keyColumns: ['id'],
        concurrency,
        maxBytesInFlight: maxBytes,
        stats,
      })) {
        out.push(b);
        seen += b.numRows;
        if (rnd(3) === 0) await new Promise((r) => setTimeout(r, rnd(3)));
        if (stopAt >= 0 && seen > stopAt) break;
      }
      const ids = rowsOf(out, 'id');
      if (stopAt < 0) expect(ids.length, `iteration ${iter}`).toBe(rows);
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i));
      refs.forEach((r, c) => {
        const got = rowsOf(out, `c${c}__bytes`) as (Uint8Array | null)[];
        got.forEach((g, i) => {
          if (r[i] === null) expect(g).toBeNull();
          else expect([g!.length, g!.length ? g![0] : r[i]]).toEqual([objSizes[r[i]!], r[i]]);
        });
      });
      const maxRow = Math.max(...Array.from({ length: rows }, (_, i) => refs.reduce((s, r) => s + (r[i] === null ? 0 : objSizes[r[i]!]), 0)));
      expect(stats.peakBytesInFlight, `iteration ${iter}`).toBeLessThanOrEqual(Math.max(maxBytes, maxRow));
      expect(stats.peakConcurrent).toBeLessThanOrEqual(concurrency);
    }
  });
});
