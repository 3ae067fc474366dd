/**
 * The conformance suite of the {@link ObjectStore} seam: one set of vitest tests that every backend
 * runs (local disk, memory, S3 against a real server).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { ObjectMeta, ObjectStore } from '../types.js';

/** Options of {@link runObjectStoreConformance}. */
export interface ConformanceOptions {
  /** Number of keys written by the listing test; make it exceed the backend's page size (default 25). */
  listKeys?: number;
  /** Size of the streamed large upload (default 12 MiB). */
  largeObjectBytes?: number;
  /** Called after the suite, e.g. to delete a bucket. */
  teardown?: (store: ObjectStore) => Promise<void> | void;
}

const MIB = 1024 * 1024;

/** Deterministic pseudo-random bytes (xorshift) so failures are reproducible. */
export function patternBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

async function collect(it: AsyncIterable<ObjectMeta>): Promise<ObjectMeta[]> {
  const out: ObjectMeta[] = [];
  for await (const m of it) out.push(m);
  return out;
}

async function expectKind(p: Promise<unknown>, kind: LakeSoulError['kind'], mentions?: string): Promise<LakeSoulError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected a LakeSoulError ${kind}`).toBeInstanceOf(LakeSoulError);
  const le = err as LakeSoulError;
  expect(le.kind, le.message).toBe(kind);
  if (mentions) expect(le.message).toContain(mentions);
  return le;
}

/**
 * Defines a vitest `describe` block named `ObjectStore conformance: <name>` exercising every method of
 * the store returned by `makeStore` (called once, before the tests; each test writes below its own
 * random prefix): put/get round trips, ranged gets (bounded, open-ended, suffix, clamped), head,
 * idempotent delete, recursive prefix listing across pages, a large streamed (multipart) upload read
 * back byte-exactly, NotFound for missing objects, AbortSignal handling (an aborted streamed put
 * leaves no object), and fresh puts.
 *
 * Why long: one `it` per clause of the ObjectStore contract over one shared store and prefix; each
 * test is short and independent, and a backend's author reads the contract top to bottom here.
 */
export function runObjectStoreConformance(name: string, makeStore: () => ObjectStore | Promise<ObjectStore>, options: ConformanceOptions = {}): void {
  describe(`ObjectStore conformance: ${name}`, () => {
    let store: ObjectStore;
    const run = randomBytes(4).toString('hex');
    let n = 0;
    const prefix = () => `conf-${run}/t${++n}`;

    beforeAll(async () => {
      store = await makeStore();
    });
    afterAll(async () => {
      if (store && options.teardown) await options.teardown(store);
    });

    it('puts and gets bytes exactly, overwrites atomically', async () => {
      const p = prefix();
      const a = patternBytes(1000, 1);
      await store.put(`${p}/a.bin`, a);
      expect(Buffer.from(await store.get(`${p}/a.bin`)).equals(Buffer.from(a))).toBe(true);
      const b = patternBytes(10, 2);
      await store.put(`${p}/a.bin`, b);
      expect(Buffer.from(await store.get(`${p}/a.bin`)).equals(Buffer.from(b))).toBe(true);
      await store.put(`${p}/empty`, new Uint8Array(0));
      expect((await store.get(`${p}/empty`)).length).toBe(0);
      expect((await store.head(`${p}/empty`)).size).toBe(0);
      // nested keys need no directory creation
      await store.put(`${p}/deep/er/x.bin`, a.subarray(0, 3));
      expect([...(await store.get(`${p}/deep/er/x.bin`))]).toEqual([...a.subarray(0, 3)]);
      // the caller's buffer may change after put without changing the object
      const c = patternBytes(16, 3);
      await store.put(`${p}/c.bin`, c);
      c[0] ^= 0xff;
      expect((await store.get(`${p}/c.bin`))[0]).toBe(c[0] ^ 0xff);
      // also a Node Buffer's (whose slice() is a view, not a copy), given whole and streamed
      const d = Buffer.from(patternBytes(16, 4));
      await store.put(`${p}/d.bin`, d);
      await store.put(`${p}/e.bin`, (async function* () { yield d; })());
      d[0] ^= 0xff;
      expect((await store.get(`${p}/d.bin`))[0]).toBe(d[0] ^ 0xff);
      expect((await store.get(`${p}/e.bin`))[0]).toBe(d[0] ^ 0xff);
    });

    it('streams puts from async iterables', async () => {
      const p = prefix();
      const parts = [patternBytes(100, 4), patternBytes(0, 5), patternBytes(333, 6)];
      async function* gen() {
        for (const x of parts) yield x;
      }
      await store.put(`${p}/s.bin`, gen());
      expect(Buffer.from(await store.get(`${p}/s.bin`)).equals(Buffer.concat(parts))).toBe(true);
    });

    it('a streamed put whose source reuses its buffer for every chunk stores each chunk as it was yielded', async () => {
      const p = prefix();
      // small (one request) and large (parts not aligned with the chunks)
      for (const [name, chunk, count] of [['small', 4, 3], ['large', 1 * MIB + 7, Math.ceil((options.largeObjectBytes ?? 12 * MIB) / MIB)]] as const) {
        const buf = new Uint8Array(chunk);
        const expected: Buffer[] = [];
        async function* reusing() {
          for (let i = 0; i < count; i++) {
            buf.fill(65 + (i % 26));
            expected.push(Buffer.from(buf));
            yield buf;
          }
        }
        await store.put(`${p}/${name}.bin`, reusing());
        expect(Buffer.from(await store.get(`${p}/${name}.bin`)).equals(Buffer.concat(expected)), name).toBe(true);
      }
    });

    it('reads byte ranges: bounded, open-ended, suffix, clamped', async () => {
      const p = prefix();
      const data = patternBytes(4096, 7);
      await store.put(`${p}/r.bin`, data);
      const get = async (range: Parameters<ObjectStore['get']>[1] extends infer O ? O extends { range?: infer R } ? R : never : never) =>
        Buffer.from(await store.get(`${p}/r.bin`, { range }));
      const slice = (s: number, e?: number) => Buffer.from(data.subarray(s, e));
      expect((await get({ offset: 0, length: 1 })).equals(slice(0, 1))).toBe(true);
      expect((await get({ offset: 100, length: 900 })).equals(slice(100, 1000))).toBe(true);
      expect((await get({ offset: 4000 })).equals(slice(4000))).toBe(true);
      expect((await get({ offset: 0 })).equals(slice(0))).toBe(true);
      expect((await get({ suffix: 10 })).equals(slice(4086))).toBe(true);
      expect((await get({ suffix: 4096 })).equals(slice(0))).toBe(true);
      expect((await get({ suffix: 100000 })).equals(slice(0))).toBe(true);
      expect((await get({ offset: 4090, length: 100 })).equals(slice(4090))).toBe(true);
      expect((await get({ offset: 10, length: 0 })).length).toBe(0);
      expect((await get({ offset: 4096 })).length).toBe(0);
      expect((await get({ offset: 5000, length: 10 })).length).toBe(0);
      await expectKind(store.get(`${p}/r.bin`, { range: { offset: -1, length: 2 } }), 'InvalidArgument');
    });

    it('reads into a buffer the caller gives when the store honours `into`, exactly either way', async () => {
      const p = prefix();
      const data = patternBytes(5000, 11);
      await store.put(`${p}/i.bin`, data);
      for (const range of [undefined, { offset: 1000, length: 300 }]) {
        const want = Buffer.from(range ? data.subarray(1000, 1300) : data);
        const given = new Uint8Array(8192).fill(0xee);
        const sizes: number[] = [];
        const got = await store.get(`${p}/i.bin`, { range, into: (size) => (sizes.push(size), given) });
        expect(Buffer.from(got).equals(want)).toBe(true);
        if (got.buffer === given.buffer) {
          // honoured: a view of the given buffer's start, asked for once with the exact size
          expect(got.byteOffset).toBe(0);
          expect(sizes).toEqual([want.length]);
          expect(given[want.length]).toBe(0xee);
        }
      }
    });

    it('heads objects: size and modification time', async () => {
      const p = prefix();
      const before = Date.now();
      await store.put(`${p}/h.bin`, patternBytes(1234, 8));
      const m = await store.head(`${p}/h.bin`);
      expect(m.path).toBe(`${p}/h.bin`);
      expect(m.size).toBe(1234);
      expect(m.lastModified).toBeInstanceOf(Date);
      // second-granular clocks (S3) may round down
      expect(m.lastModified.getTime()).toBeGreaterThanOrEqual(before - 2000);
    });

    it('reports missing objects as NotFound naming the path', async () => {
      const p = prefix();
      await expectKind(store.get(`${p}/missing.bin`), 'NotFound', `${p}/missing.bin`);
      await expectKind(store.get(`${p}/missing.bin`, { range: { offset: 0, length: 10 } }), 'NotFound', `${p}/missing.bin`);
      await expectKind(store.get(`${p}/missing.bin`, { range: { suffix: 5 } }), 'NotFound', `${p}/missing.bin`);
      await expectKind(store.head(`${p}/missing.bin`), 'NotFound', `${p}/missing.bin`);
      const e = await expectKind(store.get(`${p}/missing.bin`), 'NotFound');
      expect(String(e.context.file)).toContain(`${p}/missing.bin`);
    });

    it('deletes idempotently', async () => {
      const p = prefix();
      await store.put(`${p}/d.bin`, patternBytes(10, 9));
      await store.put(`${p}/keep.bin`, patternBytes(10, 10));
      await store.delete(`${p}/d.bin`);
      await expectKind(store.head(`${p}/d.bin`), 'NotFound');
      await store.delete(`${p}/d.bin`);
      await store.delete(`${p}/never-existed.bin`);
      expect((await store.head(`${p}/keep.bin`)).size).toBe(10);
    });

    it('lists recursively by key prefix across pages', async () => {
      const p = prefix();
      const count = options.listKeys ?? 25;
      const keys: string[] = [];
      for (let i = 0; i < count; i++) keys.push(`${p}/dir/${i % 3}/k${String(i).padStart(5, '0')}.bin`);
      keys.push(`${p}/dirx/other.bin`, `${p}/top.bin`);
      const batch = 32;
      for (let i = 0; i < keys.length; i += batch) {
        await Promise.all(keys.slice(i, i + batch).map((k, j) => store.put(k, patternBytes(j % 7, i + j))));
      }
      const all = await collect(store.list(`${p}/`));
      expect(all.map((m) => m.path).sort()).toEqual([...keys].sort());
      const dir = await collect(store.list(`${p}/dir/`));
      expect(dir.length).toBe(count);
      expect(new Set(dir.map((m) => m.path)).size).toBe(count);
      // a prefix is a key prefix, not only a directory
      const dirAny = await collect(store.list(`${p}/dir`));
      expect(dirAny.length).toBe(count + 1);
      const one = await collect(store.list(`${p}/dir/1/`));
      expect(one.map((m) => m.path).sort()).toEqual(keys.filter((k) => k.startsWith(`${p}/dir/1/`)).sort());
      const sized = all.find((m) => m.path === keys[5]);
      expect(sized?.size).toBe(5 % 7);
      expect(await collect(store.list(`${p}/nothing-here/`))).toEqual([]);
    });

    it('uploads a large streamed object in parts and reads it back byte-exactly', async () => {
      const p = prefix();
      const total = options.largeObjectBytes ?? 12 * MIB;
      const chunk = 1 * MIB + 12345; // not aligned with part sizes
      const chunks: Uint8Array[] = [];
      for (let off = 0, i = 0; off < total; off += chunk, i++) chunks.push(patternBytes(Math.min(chunk, total - off), 100 + i));
      async function* gen() {
        for (const c of chunks) yield c;
      }
      await store.put(`${p}/large.bin`, gen(), { contentLength: total });
      const expected = Buffer.concat(chunks);
      expect((await store.head(`${p}/large.bin`)).size).toBe(total);
      const got = Buffer.from(await store.get(`${p}/large.bin`));
      expect(got.length).toBe(total);
      expect(got.equals(expected)).toBe(true);
      const mid = Buffer.from(await store.get(`${p}/large.bin`, { range: { offset: 5 * MIB - 3, length: 10 } }));
      expect(mid.equals(expected.subarray(5 * MIB - 3, 5 * MIB + 7))).toBe(true);
      const tail = Buffer.from(await store.get(`${p}/large.bin`, { range: { suffix: 7 } }));
      expect(tail.equals(expected.subarray(total - 7))).toBe(true);
      // a large byte array (not streamed) too
      await store.put(`${p}/large2.bin`, expected);
      expect(Buffer.from(await store.get(`${p}/large2.bin`, { range: { offset: total - 100 } })).equals(expected.subarray(total - 100))).toBe(true);
    });

    it('honours AbortSignal on every method', async () => {
      const p = prefix();
      await store.put(`${p}/x.bin`, patternBytes(10, 11));
      const signal = AbortSignal.abort(new Error('stop'));
      await expectKind(store.get(`${p}/x.bin`, { signal }), 'Aborted');
      await expectKind(store.put(`${p}/y.bin`, patternBytes(10, 12), { signal }), 'Aborted');
      await expectKind(store.head(`${p}/x.bin`, { signal }), 'Aborted');
      await expectKind(store.delete(`${p}/x.bin`, { signal }), 'Aborted');
      await expectKind(collect(store.list(`${p}/`, { signal })), 'Aborted');
      // nothing happened
      expect((await store.head(`${p}/x.bin`)).size).toBe(10);
      await expectKind(store.head(`${p}/y.bin`), 'NotFound');
    });

    /** A stream of two 6 MiB parts that aborts `ac` after the first (the put is under way by then). */
    async function* abortedMidStream(ac: AbortController, seed: number): AsyncGenerator<Uint8Array> {
      yield patternBytes(6 * MIB, seed);
      ac.abort(new Error('consumer gone'));
      await new Promise((r) => setTimeout(r, 20));
      yield patternBytes(6 * MIB, seed + 1);
    }

    it('an aborted streamed put leaves no object', async () => {
      const p = prefix();
      const ac = new AbortController();
      await expectKind(store.put(`${p}/partial.bin`, abortedMidStream(ac, 13), { signal: ac.signal }), 'Aborted');
      await expectKind(store.head(`${p}/partial.bin`), 'NotFound');
      expect(await collect(store.list(`${p}/`))).toEqual([]);
    });

    it('a put of bytes aborted while it runs leaves the whole object or none, fresh or not, and no temp file', async () => {
      // the abort races the put (a local put of bytes is one native task, seen aborted once it ends)
      for (const fresh of [false, true]) {
        const p = prefix();
        const bytes = patternBytes(8 * MIB, fresh ? 22 : 21);
        const ac = new AbortController();
        const put = store.put(`${p}/k.bin`, bytes, { signal: ac.signal, fresh });
        ac.abort(new Error('consumer gone'));
        const outcome = await put.then(() => 'done', (e: unknown) => {
          if (!LakeSoulError.is(e, 'Aborted')) throw e;
          return 'aborted';
        });
        const listed = (await collect(store.list(`${p}/`))).map((m) => m.path);
        if (outcome === 'done') {
          expect(listed).toEqual([`${p}/k.bin`]);
          expect(Buffer.from(await store.get(`${p}/k.bin`)).equals(Buffer.from(bytes))).toBe(true);
        } else {
          expect(listed).toEqual([]);
        }
        const temporary = (store as Partial<{ listTemporary(prefix: string): AsyncIterable<ObjectMeta> }>).listTemporary;
        if (temporary) expect(await collect(temporary.call(store, `${p}/`))).toEqual([]);
      }
    });

    it('a fresh put (the caller\'s word that the key is new) writes the object; over an existing key it replaces it; aborted, it leaves none', async () => {
      const p = prefix();
      const a = patternBytes(5000, 15);
      await store.put(`${p}/part=1/f.bin`, a, { fresh: true });
      expect(Buffer.from(await store.get(`${p}/part=1/f.bin`)).equals(Buffer.from(a))).toBe(true);
      const b = patternBytes(7, 16);
      await store.put(`${p}/part=1/f.bin`, b, { fresh: true });
      expect(Buffer.from(await store.get(`${p}/part=1/f.bin`)).equals(Buffer.from(b))).toBe(true);
      const ac = new AbortController();
      await expectKind(store.put(`${p}/part=1/g.bin`, abortedMidStream(ac, 17), { signal: ac.signal, fresh: true }), 'Aborted');
      await expectKind(store.head(`${p}/part=1/g.bin`), 'NotFound');
      expect((await collect(store.list(`${p}/`))).map((m) => m.path)).toEqual([`${p}/part=1/f.bin`]);
    });
  });
}
