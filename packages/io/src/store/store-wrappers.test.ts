import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { OBJECT_STORE_METHODS, type GetOptions, type ObjectStore } from '../types.js';
import { confinedReaderOf, LocalStore, type ConfinedReader } from './local-store.js';
import { patternBytes } from '../testing/index.js';
import { MemoryStore } from './memory-store.js';
import { readRanges } from './range-reader.js';
import { withConcurrencyLimit, withLatency } from './store-wrappers.js';
import { batchDeleterOf, deleteObjects } from './batch-delete.js';

/** Counts concurrent and total get calls of a store whose gets take `ms`. */
function probe(inner: ObjectStore, ms: number) {
  const stats = { inFlight: 0, peak: 0, gets: 0, ranges: [] as unknown[] };
  const store: ObjectStore = {
    ...inner,
    description: inner.description,
    list: (p, o) => inner.list(p, o),
    async get(path: string, o?: GetOptions) {
      stats.inFlight++;
      stats.gets++;
      stats.ranges.push(o?.range);
      stats.peak = Math.max(stats.peak, stats.inFlight);
      try {
        await new Promise((r) => setTimeout(r, ms));
        return await inner.get(path, o);
      } finally {
        stats.inFlight--;
      }
    },
  };
  return { store, stats };
}

describe('withLatency', () => {
  it('delays every request, concurrently, and adds transfer time', async () => {
    const mem = new MemoryStore();
    await mem.put('a', patternBytes(100_000));
    const slow = withLatency(mem, { perRequestMs: 50 });
    let t = performance.now();
    await slow.head('a');
    expect(performance.now() - t).toBeGreaterThanOrEqual(45);
    t = performance.now();
    await Promise.all(Array.from({ length: 10 }, () => slow.get('a')));
    const par = performance.now() - t;
    expect(par).toBeGreaterThanOrEqual(45);
    expect(par).toBeLessThan(400); // concurrent, not 10 x 50 ms
    const bw = withLatency(mem, { perRequestMs: 0, bytesPerSecond: 1_000_000 });
    t = performance.now();
    await bw.get('a'); // 100 kB at 1 MB/s = 100 ms
    expect(performance.now() - t).toBeGreaterThanOrEqual(90);
  });

  it('aborts during the delay', async () => {
    const slow = withLatency(new MemoryStore(), { perRequestMs: 10_000 });
    const ac = new AbortController();
    const t = performance.now();
    const p = slow.get('x', { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    const e = await p.catch((x) => x);
    expect(LakeSoulError.is(e, 'Aborted')).toBe(true);
    expect(performance.now() - t).toBeLessThan(2000);
  });
});

describe('withConcurrencyLimit', () => {
  it('bounds in-flight calls and runs them all', async () => {
    const mem = new MemoryStore();
    for (let i = 0; i < 20; i++) await mem.put(`k${i}`, new Uint8Array([i]));
    const { store, stats } = probe(mem, 15);
    const limited = withConcurrencyLimit(store, 3);
    const out = await Promise.all(Array.from({ length: 20 }, (_, i) => limited.get(`k${i}`)));
    expect(out.map((b) => b[0])).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(stats.peak).toBe(3);
    // without the wrapper all 20 overlap (the probe itself does not limit)
    const { store: s2, stats: st2 } = probe(mem, 15);
    await Promise.all(Array.from({ length: 20 }, (_, i) => s2.get(`k${i}`)));
    expect(st2.peak).toBe(20);
  });

  it('lets waiting calls abort', async () => {
    const mem = new MemoryStore();
    await mem.put('k', new Uint8Array([1]));
    const { store } = probe(mem, 100);
    const limited = withConcurrencyLimit(store, 1);
    const first = limited.get('k');
    const ac = new AbortController();
    const second = limited.get('k', { signal: ac.signal });
    ac.abort();
    expect(LakeSoulError.is(await second.catch((e) => e), 'Aborted')).toBe(true);
    expect((await first)[0]).toBe(1);
    expect(() => withConcurrencyLimit(mem, 0)).toThrow(LakeSoulError);
  });

  it('waits on one signal with one abort listener, however many calls wait (11 warned of a leak); aborting rejects only them', async () => {
    const mem = new MemoryStore();
    await mem.put('k', new Uint8Array([1]));
    const { store } = probe(mem, 30);
    const limited = withConcurrencyLimit(store, 1);
    const ac = new AbortController();
    let added = 0;
    const add = ac.signal.addEventListener.bind(ac.signal);
    ac.signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => { added++; return add(...args); }) as AbortSignal['addEventListener'];
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const reads = Array.from({ length: 20 }, () => limited.get('k', { signal: ac.signal }));
      expect(added).toBe(1);
      expect((await Promise.all(reads)).map((b) => b[0])).toEqual(Array(20).fill(1));
      // the listener went with the last waiter; a new wait adds one again, and an abort rejects
      // every call still waiting on that signal, not others' waits
      const other = new AbortController();
      const holding = limited.get('k');
      const waiting = [limited.get('k', { signal: ac.signal }), limited.get('k', { signal: ac.signal })];
      const unaffected = limited.get('k', { signal: other.signal });
      expect(added).toBe(2);
      ac.abort();
      for (const w of waiting) expect(LakeSoulError.is(await w.catch((e) => e), 'Aborted')).toBe(true);
      expect((await holding)[0]).toBe(1);
      expect((await unaffected)[0]).toBe(1);
      await new Promise((r) => setImmediate(r));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('limits list page pulls without deadlocking nested calls', async () => {
    const mem = new MemoryStore();
    for (let i = 0; i < 5; i++) await mem.put(`d/k${i}`, new Uint8Array([i]));
    const limited = withConcurrencyLimit(mem, 1);
    const got: number[] = [];
    for await (const m of limited.list('d/')) got.push((await limited.get(m.path))[0]);
    expect(got.sort()).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('readRanges', () => {
  it('coalesces nearby ranges into fewer requests and returns bytes in the given order', async () => {
    const mem = new MemoryStore();
    const data = patternBytes(10_000, 3);
    await mem.put('f', data);
    const { store, stats } = probe(mem, 0);
    const ranges = [
      { offset: 5000, length: 100 },
      { offset: 0, length: 10 },
      { offset: 20, length: 30 },
      { offset: 40, length: 20 }, // overlaps the previous one
      { offset: 9000, length: 2000 }, // clamped at the end
      { suffix: 5 },
    ];
    const out = await readRanges(store, 'f', ranges, { coalesceGap: 100 });
    expect(Buffer.from(out[0]).equals(Buffer.from(data.subarray(5000, 5100)))).toBe(true);
    expect(Buffer.from(out[1]).equals(Buffer.from(data.subarray(0, 10)))).toBe(true);
    expect(Buffer.from(out[2]).equals(Buffer.from(data.subarray(20, 50)))).toBe(true);
    expect(Buffer.from(out[3]).equals(Buffer.from(data.subarray(40, 60)))).toBe(true);
    expect(Buffer.from(out[4]).equals(Buffer.from(data.subarray(9000)))).toBe(true);
    expect(Buffer.from(out[5]).equals(Buffer.from(data.subarray(9995)))).toBe(true);
    // [0,60) one request, [5000,5100) one, [9000,11000) one, suffix one
    expect(stats.gets).toBe(4);
    const { store: s2, stats: st2 } = probe(mem, 0);
    await readRanges(s2, 'f', ranges.slice(0, 4), { coalesceGap: 0 });
    expect(st2.gets).toBe(3); // only the overlapping pair merges
    const { store: s3, stats: st3 } = probe(mem, 0);
    await readRanges(s3, 'f', ranges.slice(0, 4), { coalesceGap: 10_000 });
    expect(st3.gets).toBe(1);
  });

  it('reads every range of a local file through one open (LocalStore.getRanges), with the bytes of separate gets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-ranges-'));
    try {
      const local = new LocalStore({ root: dir });
      const data = patternBytes(50_000, 7);
      await local.put('d/f', data);
      const ranges = [
        { offset: 30_000, length: 100 },
        { offset: 0, length: 10 },
        { offset: 20, length: 30 },
        { offset: 49_990, length: 100 }, // clamped at the end
        { offset: 60_000, length: 5 }, // past the end: empty
        { suffix: 7 },
      ];
      const viaGets = await Promise.all(ranges.map((range) => local.get('d/f', { range })));
      expect(viaGets[4].length).toBe(0);
      const direct = await local.getRanges('d/f', ranges.slice(0, 5) as { offset: number; length: number }[]);
      expect(direct.map((b) => Buffer.from(b).toString('hex'))).toEqual(viaGets.slice(0, 5).map((b) => Buffer.from(b).toString('hex')));
      // readRanges takes that path for several requests: one open, the same answers
      const opens: string[] = [];
      const counted = Object.assign(Object.create(local) as LocalStore, {
        getRanges: (path: string, rs: { offset: number; length: number }[]) => {
          opens.push(path);
          return local.getRanges(path, rs);
        },
      });
      const out = await readRanges(counted, 'd/f', ranges, { coalesceGap: 0 });
      expect(out.map((b) => Buffer.from(b).toString('hex'))).toEqual(viaGets.map((b) => Buffer.from(b).toString('hex')));
      expect(opens).toEqual(['d/f']);
      await expect(local.getRanges('d/missing', [{ offset: 0, length: 1 }])).rejects.toMatchObject({ kind: 'NotFound' });
      await expect(local.getRanges('d', [{ offset: 0, length: 1 }])).rejects.toBeInstanceOf(LakeSoulError);
      await expect(local.getRanges('d/f', [{ offset: -1, length: 1 }])).rejects.toMatchObject({ kind: 'InvalidArgument' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * A real store that records each method called on it with its arguments (the wrappers under test
 * must hand every call through unchanged).
 */
function recording(inner: ObjectStore & Partial<ConfinedReader>) {
  const calls: Array<{ method: string; args: unknown[] }> = [];
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return (...args: unknown[]) => {
        calls.push({ method: prop, args });
        return v.apply(target, args);
      };
    },
  });
  return { store, calls };
}

const WRAPPERS: Array<[string, (s: ObjectStore) => ObjectStore]> = [
  ['withConcurrencyLimit', (s) => withConcurrencyLimit(s, 2)],
  ['withLatency', (s) => withLatency(s, { perRequestMs: 1 })],
];

/** Calls `method` of `store` with arguments it can run; returns the path/prefix given. */
async function callEach(store: ObjectStore & Partial<ConfinedReader>, method: string): Promise<unknown[]> {
  const signal = new AbortController().signal;
  switch (method) {
    case 'get': await store.get('dir/a', { range: { offset: 1, length: 2 }, signal }); return ['dir/a', { range: { offset: 1, length: 2 }, signal }];
    case 'put': await store.put('dir/b', new Uint8Array([1]), { signal }); return ['dir/b', new Uint8Array([1]), { signal }];
    case 'head': await store.head('dir/a', { signal }); return ['dir/a', { signal }];
    case 'delete': await store.delete('dir/b', { signal }); return ['dir/b', { signal }];
    case 'list': for await (const _ of store.list('dir/', { signal })) { /* drain */ } return ['dir/', { signal }];
    case 'getConfined': await store.getConfined!('dir/a', ['dir'], { signal }); return ['dir/a', ['dir'], { signal }];
    case 'headConfined': await store.headConfined!('dir/a', ['dir'], { signal }); return ['dir/a', ['dir'], { signal }];
    default: throw new Error(`the forwarding test does not know how to call ${method}: add it to callEach`);
  }
}

describe('ObjectStore wrappers forward every method (the # Wrappers contract of ObjectStore)', () => {
  const root = mkdtempSync(join(tmpdir(), 'lakesoul-wrappers-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const CONFINED_METHODS = ['getConfined', 'headConfined'] as const satisfies readonly (keyof ConfinedReader)[];

  for (const [name, wrap] of WRAPPERS) {
    for (const backend of ['memory', 'local'] as const) {
      const methods: readonly string[] = backend === 'local' ? [...OBJECT_STORE_METHODS, ...CONFINED_METHODS] : OBJECT_STORE_METHODS;
      for (const method of methods) {
        it(`${name} over a ${backend} store forwards ${method} with its arguments`, async () => {
          const inner = backend === 'memory' ? new MemoryStore() : new LocalStore({ root });
          await inner.put('dir/a', patternBytes(8));
          const { store, calls } = recording(inner);
          const wrapped = wrap(store) as ObjectStore & Partial<ConfinedReader>;
          expect(typeof (wrapped as unknown as Record<string, unknown>)[method], `${name} lacks ${method}`).toBe('function');
          expect(wrapped.description).toBe(inner.description);
          const args = await callEach(wrapped, method);
          const forwarded = calls.filter((c) => c.method === method);
          expect(forwarded, `${name}.${method} did not reach the wrapped store`).toHaveLength(1);
          expect(forwarded[0].args.slice(0, args.length)).toEqual(args);
        });
      }
    }
  }

  it('keeps a wrapped store that is not a ConfinedReader free of confined methods', () => {
    for (const [, wrap] of WRAPPERS) expect(confinedReaderOf(wrap(new MemoryStore()))).toBeUndefined();
  });
});

describe('deleteObjects', () => {
  it('deletes through single deletes where the store has no batch delete, `concurrency` at a time, and refuses a concurrency below 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'delete-objects-'));
    try {
      const local = new LocalStore({ root: dir });
      const keys = Array.from({ length: 25 }, (_, i) => `d/k${i}`);
      for (const k of keys) await local.put(k, new Uint8Array([1]));
      let inFlight = 0;
      let peak = 0;
      const counting: ObjectStore = Object.assign(Object.create(local) as ObjectStore, {
        async delete(path: string) {
          peak = Math.max(peak, ++inFlight);
          try {
            await new Promise((r) => setTimeout(r, 5));
            return await local.delete(path);
          } finally {
            inFlight--;
          }
        },
      });
      expect(batchDeleterOf(counting)).toBeUndefined();
      await expect(deleteObjects(counting, keys, { concurrency: 0 })).rejects.toMatchObject({ kind: 'InvalidArgument', message: expect.stringContaining('concurrency') });
      await deleteObjects(counting, [...keys, 'd/missing'], { concurrency: 4 });
      expect(peak).toBe(4);
      const left: string[] = [];
      for await (const m of local.list('d/')) left.push(m.path);
      expect(left).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
