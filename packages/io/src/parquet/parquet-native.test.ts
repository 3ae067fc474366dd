import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { castTableToSchema, decodeOffsetIndex, decodeParquet, decoderReadsPageIndex, encodeParquet, encodeRowsInPool, nativeParquet, readParquetFooter } from './index.js';
import { KEY_PAGE_SIZE_LIMIT, VALUE_PAGE_SIZE_LIMIT } from './parquet-native.js';
import { NATIVE_INTERFACE_VERSION, NATIVE_PARQUET_ADDON, PARQUET_CODEC_ENV, addonMismatch } from '../native/native-addon.js';
import { nativeFiles } from '../native/native-files.js';
import { createRequire } from 'node:module';
import { takeRows } from '../arrow/take-rows.js';
import { parquetWasm } from './parquet-wasm-ops.js';
import { NativeParquetPool } from '../workers/parquet-pool.js';
import { plainRows, sampleAllTypesTable, seededRandom } from '../arrow/sample-tables.js';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Binary, LargeUtf8, Table, Utf8, makeVector, tableFromIPC, vectorFromArray } from 'apache-arrow';
import { CompactWriter, I64, fieldSpans } from './thrift-compact.js';

// The native codec is built by `pnpm setup:native`, which CI runs: there it must be present, and
// every other io test runs on it. These tests compare it with parquet-wasm on the same tables.
const built = existsSync(NATIVE_PARQUET_ADDON);
const sample = sampleAllTypesTable(3000, 11);

function withCodec<T>(codec: 'native' | 'wasm', fn: () => T): T {
  const before = process.env[PARQUET_CODEC_ENV];
  process.env[PARQUET_CODEC_ENV] = codec;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env[PARQUET_CODEC_ENV];
    else process.env[PARQUET_CODEC_ENV] = before;
  }
}

afterEach(() => {
  delete process.env[PARQUET_CODEC_ENV];
});

describe('the native Parquet codec', () => {
  // CI (.ci/run sets CI=true) must have built the codec; a developer's clone may lack it (auto then
  // uses parquet-wasm), which the describes below need, so they run only where it is built
  it.runIf(process.env.CI === 'true')('is built in CI (pnpm setup:native)', () => {
    expect(built, NATIVE_PARQUET_ADDON).toBe(true);
  });

  it('an addon of another interface (built from older sources) is refused, naming the versions; the built one matches', () => {
    expect(addonMismatch({})).toMatch(/built from other sources \(interface unversioned, this code needs \d+\)/);
    expect(addonMismatch({ interfaceVersion: () => NATIVE_INTERFACE_VERSION - 1 })).toMatch(new RegExp(`interface ${NATIVE_INTERFACE_VERSION - 1}, this code needs ${NATIVE_INTERFACE_VERSION}`));
    if (built) expect(addonMismatch(createRequire(import.meta.url)(NATIVE_PARQUET_ADDON))).toBeNull();
  });

  describe.runIf(built)('against parquet-wasm', () => {
    const byNative = withCodec('native', () => encodeParquet(sample, { rowGroupSize: 1000 }));
    const byWasm = withCodec('wasm', () => encodeParquet(sample, { rowGroupSize: 1000 }));

    it('a footer announcing more rows than its row groups hold (2^50) decodes what is there, the process unharmed', async () => {
      // the decoder reserves its output from the announced rows: a lie must not abort the process
      const len = new DataView(byNative.buffer, byNative.byteOffset + byNative.length - 8, 4).getUint32(0, true);
      const start = byNative.length - 8 - len;
      const footer = byNative.subarray(start, byNative.length - 8);
      const w = new CompactWriter();
      for (const f of fieldSpans(footer).fields) {
        if (f.id === 3) w.int(3, I64, 2n ** 50n);
        else w.raw(f.id, f.type, footer.subarray(f.start, f.end));
      }
      const lying = w.stop().finish();
      const file = new Uint8Array(start + lying.length + 8);
      file.set(byNative.subarray(0, start));
      file.set(lying, start);
      new DataView(file.buffer).setUint32(start + lying.length, lying.length, true);
      file.set(new TextEncoder().encode('PAR1'), file.length - 4);
      for (const batchSize of [1000, 100]) {
        const t = tableFromIPC(await nativeParquet()!.decode({ bytes: file, batchSize }));
        expect(t.numRows).toBe(sample.numRows);
        expect(plainRows(castTableToSchema(t, sample.schema))).toEqual(plainRows(sample));
      }
    });

    it('each reads what the other wrote, every type exact', async () => {
      for (const [writer, bytes] of [['native', byNative], ['wasm', byWasm]] as const) {
        for (const reader of ['native', 'wasm'] as const) {
          const t = await withCodec(reader, () => decodeParquet(bytes, { file: `${writer}.parquet` }));
          expect(plainRows(castTableToSchema(t, sample.schema)), `${writer} -> ${reader}`).toEqual(plainRows(sample));
        }
      }
    });

    it('names itself in created_by and writes the same layout: row groups, statistics, page index', async () => {
      const [n, w] = [await readParquetFooter(byNative, byNative.length), await readParquetFooter(byWasm, byWasm.length)];
      expect(n.createdBy).toBe(`lakesoul-ts (parquet-rs ${nativeParquet()!.version})`);
      expect(w.createdBy).toBe('lakesoul-ts (parquet-wasm 0.8.0)');
      expect(n.rowGroups.map((g) => g.numRows)).toEqual([1000, 1000, 1000]);
      expect(n.rowGroups.map((g) => g.numRows)).toEqual(w.rowGroups.map((g) => g.numRows));
      for (const [k, g] of n.rowGroups.entries()) {
        for (const [c, stats] of Object.entries(g.columns)) {
          const other = w.rowGroups[k].columns[c];
          const same = (s: typeof stats) => ({ min: s.min, max: s.max, nullCount: s.nullCount, physicalType: s.physicalType, numValues: s.numValues, pageIndex: s.offsetIndex !== null && s.columnIndex !== null });
          expect(same(stats), `row group ${k}, column ${c}`).toEqual(same(other));
        }
      }
    });

    it('projection and row groups, the same as parquet-wasm', async () => {
      const opts = { columns: ['s', 'id'], rowGroups: [2, 0] };
      const [n, w] = await Promise.all([withCodec('native', () => decodeParquet(byWasm, opts)), withCodec('wasm', () => decodeParquet(byWasm, opts))]);
      expect(n.schema.fields.map((f) => f.name)).toEqual(['s', 'id']);
      expect(plainRows(n)).toEqual(plainRows(w));
      expect(n.numRows).toBe(2000);
    });

    it('a sparse file (some ranges known) decodes the row groups those ranges hold', async () => {
      const footer = await readParquetFooter(byNative, byNative.length);
      const g = footer.rowGroups[1];
      const [start, end] = [g.offset, g.offset + g.compressedSize];
      expect(start).toBeGreaterThan(4);
      const tail = byNative.length - footer.footerLength - 8;
      const sparse = { size: byNative.length, pieces: [{ offset: start, bytes: byNative.slice(start, end) }, { offset: tail - 1, bytes: byNative.slice(tail - 1) }] };
      const t = await withCodec('native', () => decodeParquet(sparse, { rowGroups: [1], file: 'sparse.parquet' }));
      expect(plainRows(castTableToSchema(t, sample.schema))).toEqual(plainRows(sample).slice(1000, 2000));
      // without the page index (written between the row groups and the footer), which the native codec
      // does not read and parquet-wasm does: scans leave it out of sparse copies for the native codec
      expect(footer.rowGroups[1].columns.id.offsetIndex!.offset).toBeLessThan(tail - 1);
      expect(withCodec('native', () => decoderReadsPageIndex())).toBe(false);
      expect(withCodec('wasm', () => decoderReadsPageIndex())).toBe(true);
      await expect(withCodec('wasm', () => decodeParquet(sparse, { rowGroups: [1], file: 'sparse.parquet' }))).rejects.toMatchObject({ kind: 'Io', context: { file: 'sparse.parquet' } });
      // a footer already decoded is used, not decoded again
      const given = await withCodec('native', () => decodeParquet(sparse, { rowGroups: [1], file: 'sparse.parquet', footer }));
      expect(plainRows(castTableToSchema(given, sample.schema))).toEqual(plainRows(sample).slice(1000, 2000));
      const shorter = { ...footer, rowGroups: footer.rowGroups.slice(0, 1) };
      await expect(decodeParquet(sparse, { rowGroups: [1], file: 'sparse.parquet', footer: shorter })).rejects.toThrow(/row group 1 is not in file 'sparse.parquet' \(1 row groups\)/);
    });

    it('corrupt bytes are an Io error naming the file, on the calling thread and on the pool', async () => {
      const bad = byNative.slice();
      bad.fill(7, 200, bad.length - 400);
      const pool = new NativeParquetPool(nativeParquet()!, 1);
      for (const p of [null, pool]) {
        const err = await withCodec('native', () => decodeParquet(bad, { file: 'bad.parquet', pool: p })).catch((e: unknown) => e);
        expect(LakeSoulError.is(err, 'Io'), String(err)).toBe(true);
        expect((err as Error).message).toContain("'bad.parquet'");
      }
    });
  });

  describe('corrupt files: an error naming the file, never a crash or a bare TypeError', () => {
    const good = encodeParquet(sample, { rowGroupSize: 700 });
    it.each(built ? (['native', 'wasm'] as const) : (['wasm'] as const))('%s: 600 files with random bytes changed (a third in the footer)', async (codec) => {
      const rnd = seededRandom(99);
      const pool = codec === 'native' ? new NativeParquetPool(nativeParquet()!, 2) : null;
      let failed = 0;
      for (let i = 0; i < 600; i++) {
        const b = good.slice();
        for (let f = 1 + Math.floor(rnd() * 8); f > 0; f--) {
          const at = rnd() < 0.35 ? b.length - 8 - Math.floor(rnd() * 900) : Math.floor(rnd() * b.length);
          b[at] = Math.floor(rnd() * 256);
        }
        const err = await withCodec(codec, () => decodeParquet(b, { file: `bad-${i}.parquet`, pool: i % 2 === 0 ? pool : null })).then(
          () => null,
          (e: unknown) => e,
        );
        if (err === null) continue; // a changed value in a data page goes unnoticed: Parquet has no checksum by default
        failed++;
        expect(LakeSoulError.is(err, 'Io') || LakeSoulError.is(err, 'Unsupported'), `file ${i}: ${String(err)}`).toBe(true);
        expect((err as Error).message, `file ${i}`).toContain(`'bad-${i}.parquet'`);
      }
      expect(failed).toBeGreaterThan(300);
    });
  });

  describe.runIf(built)('rows taken from sources inside the encode (encodeRowsInPool)', () => {
    const pool = () => new NativeParquetPool(nativeParquet()!, 2);
    // two sources of every type, rows picked at random from both (repeats included)
    const a = sampleAllTypesTable(2000, 3).batches[0];
    const b = sampleAllTypesTable(1500, 4).batches[0];
    const rnd = seededRandom(5);
    const n = 2500;
    const src = Uint32Array.from({ length: n }, () => (rnd() < 0.5 ? 0 : 1));
    const rows = Int32Array.from(src, (s) => Math.floor(rnd() * (s === 0 ? a.numRows : b.numRows)));

    it('holds exactly the rows picked, every type, from one source and from several', async () => {
      const one = Int32Array.from({ length: 900 }, () => Math.floor(rnd() * a.numRows));
      const fromOne = await decodeParquet(await encodeRowsInPool({ sources: [a], src: null, rows: one }, pool()));
      expect(plainRows(castTableToSchema(fromOne, a.schema))).toEqual(plainRows(takeRows(a, one)));
      const fromTwo = await decodeParquet(await encodeRowsInPool({ sources: [a, b], src, rows }, pool(), { rowGroupSize: 1000 }));
      const expected = Array.from(rows, (r, i) => plainRows(takeRows(src[i] === 0 ? a : b, [r]))[0]);
      expect(fromTwo.numRows).toBe(n);
      expect(plainRows(castTableToSchema(fromTwo, a.schema))).toEqual(expected);
    });

    it('sortKeys order the rows by int32, int64, string or binary columns, one or several, stably, across sources', async () => {
      // keys with many repeats; the tag column records each row's place in `rows`; strings with shared
      // prefixes, the empty string and multi-byte characters (unsigned byte order, a prefix first)
      const words = ['', 'a', 'ab', 'b', '\u00e9', 'Z', 'a\u0000', '\u{1F600}'];
      const mk = (n: number, seed: number) => {
        const r = seededRandom(seed);
        const str = Array.from({ length: n }, () => words[Math.floor(r() * words.length)] + String(Math.floor(r() * 4)));
        return new Table({
          k64: makeVector(BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 50) - 25) * 10_000_000_000n)),
          k32: makeVector(Int32Array.from({ length: n }, () => Math.floor(r() * 50) - 25)),
          tag: makeVector(Int32Array.from({ length: n }, (_, i) => i + seed * 100_000)),
          ks: vectorFromArray(str, new Utf8()),
          kb: vectorFromArray(str.map((x) => new TextEncoder().encode(x)), new Binary()),
          kls: vectorFromArray(str, new LargeUtf8()),
        }).batches[0];
      };
      const [x, y] = [mk(700, 1), mk(500, 2)];
      const m = 900;
      const src2 = Uint32Array.from({ length: m }, () => (rnd() < 0.5 ? 0 : 1));
      const rows2 = Int32Array.from(src2, (s) => Math.floor(rnd() * (s === 0 ? x.numRows : y.numRows)));
      const bytesOf = (v: unknown) => (v instanceof Uint8Array ? v : new TextEncoder().encode(String(v)));
      const asKey = (key: string, v: unknown) => (key === 'k64' || key === 'k32' ? Number(v) : Buffer.from(bytesOf(v)).toString('hex'));
      const compare = (key: string, p: unknown, q: unknown) => (key === 'k64' || key === 'k32' ? Number(p) - Number(q) : Buffer.compare(bytesOf(p), bytesOf(q)));
      for (const keys of [['k64'], ['k32'], ['ks'], ['kb'], ['kls'], ['k32', 'ks'], ['kb', 'k64'], ['ks', 'k32', 'kls']]) {
        const ks = keys.map((key) => x.schema.fields.findIndex((f) => f.name === key));
        const out = await decodeParquet(await encodeRowsInPool({ sources: [x, y], src: src2, rows: rows2, sortKeys: ks }, pool()));
        const picked = Array.from(rows2, (r, i) => {
          const b = src2[i] === 0 ? x : y;
          return { key: ks.map((k) => b.getChildAt(k)!.get(r) as unknown), tag: b.getChildAt(2)!.get(r) as number, i };
        });
        const byKeys = (p: (typeof picked)[number], q: (typeof picked)[number]) => keys.reduce((o, key, c) => o || compare(key, p.key[c], q.key[c]), 0);
        const expected = [...picked].sort((p, q) => byKeys(p, q) || p.i - q.i); // stable: equal keys in the order picked
        for (const [c, key] of keys.entries()) {
          const got = Array.from({ length: out.numRows }, (_, i) => asKey(key, out.getChild(key)!.get(i)));
          expect(got, `${keys} / ${key}`).toEqual(expected.map((e) => asKey(key, e.key[c])));
        }
        expect(Array.from(out.getChild('tag')!.toArray() as Int32Array), `${keys}`).toEqual(expected.map((e) => e.tag));
      }
      const floats = new Table({ f: makeVector(Float64Array.of(2, 1)) }).batches[0];
      const notInt = await encodeRowsInPool({ sources: [floats], src: null, rows: Int32Array.of(0, 1), sortKeys: [0] }, pool()).catch((e) => e);
      expect(notInt.message).toMatch(/sort key \(column \d+\) is Float64, not int32, int64, string or binary/);
      const outside = await encodeRowsInPool({ sources: [x], src: null, rows: Int32Array.of(0, 1), sortKeys: [0, 9] }, pool()).catch((e) => e);
      expect(outside.message).toMatch(/sort key column 9 of 6/);
      const withNulls = await encodeRowsInPool({ sources: [a], src: null, rows: Int32Array.of(0, 1), sortKeys: [a.schema.fields.findIndex((f) => f.name === 'i64')] }, pool()).catch((e) => e);
      expect(withNulls.message).toMatch(/sort key \(column \d+\) has nulls/);
    });

    it('a row outside its source is an error naming the file, nothing is written', async () => {
      const bad = rows.slice();
      bad[17] = b.numRows + 3;
      const err = await encodeRowsInPool({ sources: [a, b], src: src.map((s, i) => (i === 17 ? 1 : s)), rows: bad }, pool(), { file: 'bad.parquet' }).catch((e) => e);
      expect(LakeSoulError.is(err, 'Internal')).toBe(true);
      expect(err.message).toMatch(/bad\.parquet.*row 17/);
      const noSource = await encodeRowsInPool({ sources: [a], src: Uint32Array.of(0, 1), rows: Int32Array.of(0, 0) }, pool()).catch((e) => e);
      expect(noSource.message).toMatch(/row 1: \(1, 0\) is outside the sources/);
    });

    it('a source is decoded once for the encodes sharing a cache; dropped while they run, it goes once they end; bad IPC is refused', async () => {
      const p = pool();
      const cache = new Map();
      const picks = Array.from({ length: 6 }, (_, k) => Int32Array.from({ length: 300 }, (_, i) => (i * 7 + k * 101) % a.numRows));
      const files = picks.map((r) => encodeRowsInPool({ sources: [a], src: null, rows: r }, p, { sources: cache }));
      expect(cache.size).toBe(1);
      const source = cache.get(a);
      // the writer drops a batch's copy once no group holds rows of it: the running encodes keep theirs
      source.drop();
      cache.clear();
      for (const [k, f] of files.entries()) {
        expect(plainRows(castTableToSchema(await decodeParquet(await f), a.schema))).toEqual(plainRows(takeRows(a, picks[k])));
      }
      // released once they ended: an encode taking rows of it now is refused
      const late = nativeParquet()!.encode({ ipc: new Uint8Array(0), take: { prepared: [await source.prepared], src: null, rows: picks[0] }, compression: 'zstd', rowGroupSize: 1000, createdBy: 'test', encodings: [] });
      await expect(late).rejects.toThrow(/used after its release/);
      await expect(nativeParquet()!.prepareSource(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).rejects.toThrow();
    });

    it('writes key columns in small pages and the others in larger ones', async () => {
      const t = sampleAllTypesTable(60_000, 6).batches[0];
      const all = Int32Array.from({ length: t.numRows }, (_, i) => i);
      const pagesOf = async (keyColumns: string[]) => {
        const bytes = await encodeRowsInPool({ sources: [t], src: null, rows: all }, pool(), { keyColumns });
        const footer = await readParquetFooter(bytes, bytes.length);
        const at = footer.rowGroups[0].columns.f64.offsetIndex!;
        return decodeOffsetIndex(bytes.subarray(at.offset, at.offset + at.length)).length;
      };
      // f64 (random doubles, PLAIN): pages of its limit's worth of values
      const asKey = await pagesOf(['f64']);
      const asValue = await pagesOf(['i64']);
      expect(asKey / asValue).toBeGreaterThan((VALUE_PAGE_SIZE_LIMIT / KEY_PAGE_SIZE_LIMIT) * 0.75);
      expect(asValue).toBeLessThanOrEqual(Math.ceil((t.numRows * 8) / VALUE_PAGE_SIZE_LIMIT) + 1);
    });
  });

  describe.runIf(built)('sortedWinners (the merge-on-read round of numeric keys)', () => {
    /** The winners by definition: every (key, source, row) in that order; per key, the last whose source has the columns. */
    function expected(keys: Float64Array[], starts: number[], ends: number[], indexes: number[], has: boolean[]): [number, number][] {
      const all: [number, number, number][] = [];
      keys.forEach((ks, s) => { for (let r = starts[s]; r < ends[s]; r++) all.push([ks[r], s, r]); });
      all.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
      const out: [number, number][] = [];
      for (let i = 0; i < all.length;) {
        let win: [number, number] = [-1, -1];
        const key = all[i][0];
        for (; i < all.length && all[i][0] === key; i++) if (has[all[i][1]]) win = [indexes[all[i][1]], all[i][2]];
        out.push(win);
      }
      return out;
    }

    /**
     * A random round over `keys` (each source's keys as numbers ordered like the real keys): rows,
     * indexes and which sources have the columns drawn from `rnd`; `run` (given them and the winner
     * arrays) must find the winners of the definition.
     */
    function expectRound(rnd: () => number, keys: Float64Array[], label: string, run: (starts: number[], ends: number[], indexes: number[], has: boolean[], winS: Int32Array, winR: Int32Array) => number): void {
      const starts = keys.map((ks) => Math.floor(rnd() * (ks.length / 4)));
      const ends = keys.map((ks, s) => starts[s] + Math.floor(rnd() * (ks.length - starts[s] + 1)));
      const indexes = keys.map(() => Math.floor(rnd() * 100));
      const has = keys.map(() => rnd() < 0.8);
      const total = ends.reduce((n, e, s) => n + e - starts[s], 0);
      const [winS, winR] = [new Int32Array(total), new Int32Array(total)];
      const n = run(starts, ends, indexes, has, winS, winR);
      const want = expected(keys, starts, ends, indexes, has);
      expect(n, label).toBe(want.length);
      expect(Array.from({ length: n }, (_, i) => [winS[i], winR[i]]), label).toEqual(want);
    }

    it('agrees with the definition on random rounds: skewed sizes, duplicate keys, -0 and 0, sources without the columns', () => {
      const native = nativeParquet()!;
      const rnd = seededRandom(29);
      for (let round = 0; round < 300; round++) {
        const k = 1 + Math.floor(rnd() * 12);
        const range = [4, 50, 5000][round % 3];
        const keys = Array.from({ length: k }, (_, s) => {
          const n = Math.floor(rnd() * (s === round % k ? 3000 : 300));
          return Float64Array.from(Array.from({ length: n }, () => (rnd() < 0.02 ? (rnd() < 0.5 ? -0 : 0) : Math.floor(rnd() * range) - range / 2)).sort((a, b) => a - b));
        });
        expectRound(rnd, keys, `round ${round}`, (...args) => native.sortedWinners(keys, ...args));
      }
    });

    it('for keys of bytes: agrees with the definition (unsigned bytes, a prefix first), and refuses offsets outside the bytes', () => {
      const native = nativeParquet()!;
      const rnd = seededRandom(31);
      const enc = new TextEncoder();
      const alphabet = ['', 'a', 'ab', 'b', '\u00e9', 'Z', '\u{1F600}', 'a\u0000'];
      for (let round = 0; round < 200; round++) {
        const k = 1 + Math.floor(rnd() * 10);
        const strings = Array.from({ length: k }, (_, s) => {
          const n = Math.floor(rnd() * (s === round % k ? 2000 : 200));
          const keys = Array.from({ length: n }, () => alphabet[Math.floor(rnd() * alphabet.length)] + (rnd() < 0.3 ? '' : String(Math.floor(rnd() * [5, 60, 4000][round % 3]))));
          return keys.map((x) => enc.encode(x)).sort((a, b) => Buffer.compare(a, b));
        });
        const values = strings.map((ks) => Uint8Array.from(ks.flatMap((b) => [...b])));
        const offsets = strings.map((ks) => { const o = new Int32Array(ks.length + 1); ks.forEach((b, i) => (o[i + 1] = o[i] + b.length)); return o; });
        // the same order as numbers: each distinct byte string's rank
        const ranks = new Map([...new Set(strings.flat().map((b) => Buffer.from(b).toString('hex')))].sort((a, b) => Buffer.compare(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'))).map((h, i) => [h, i]));
        const keys = strings.map((ks) => Float64Array.from(ks, (b) => ranks.get(Buffer.from(b).toString('hex'))!));
        expectRound(rnd, keys, `round ${round}`, (...args) => native.sortedWinnersBytes(values, offsets, ...args));
      }
      const values = [enc.encode('abc'), enc.encode('bd')];
      const win = () => [new Int32Array(5), new Int32Array(5)] as const;
      expect(() => native.sortedWinnersBytes(values, [Int32Array.of(0, 1, 2, 3), Int32Array.of(0, 1, 9)], [0, 0], [3, 2], [0, 1], [true, true], ...win())).toThrow(/source 1's offsets of rows \[0, 2\) are not within its 2 bytes/);
      expect(() => native.sortedWinnersBytes(values, [Int32Array.of(0, 2, 1, 3), Int32Array.of(0, 1, 2)], [0, 0], [3, 2], [0, 1], [true, true], ...win())).toThrow(/source 0's offsets/);
      expect(() => native.sortedWinnersBytes(values, [Int32Array.of(0, 1, 2, 3)], [0], [3], [0], [true], ...win())).toThrow(/values and offsets differ in length/);
    });

    it('for keys of several columns (numbers, bytes): agrees with the definition, column by column; refuses bad layouts', () => {
      const native = nativeParquet()!;
      const rnd = seededRandom(37);
      const enc = new TextEncoder();
      const kinds = [0, 1, 0]; // number, bytes, number
      for (let round = 0; round < 150; round++) {
        const k = 1 + Math.floor(rnd() * 8);
        const tuples = Array.from({ length: k }, (_, s) => {
          const n = Math.floor(rnd() * (s === round % k ? 1500 : 150));
          const one = (): [number, Uint8Array, number] => [Math.floor(rnd() * 4) - 2, enc.encode(['', 'a', 'ab', '\u00e9'][Math.floor(rnd() * 4)] + String(Math.floor(rnd() * [3, 30][round % 2]))), [-0, 0, 0.5, -1.5, 1e300][Math.floor(rnd() * 5)]];
          const cmp = (a: [number, Uint8Array, number], b: [number, Uint8Array, number]) => a[0] - b[0] || Buffer.compare(a[1], b[1]) || a[2] - b[2];
          return Array.from({ length: n }, one).sort(cmp);
        });
        const nums = tuples.flatMap((ts) => [Float64Array.from(ts, (t) => t[0]), Float64Array.from(ts, (t) => t[2])]);
        const values = tuples.map((ts) => Uint8Array.from(ts.flatMap((t) => [...t[1]])));
        const offsets = tuples.map((ts) => { const o = new Int32Array(ts.length + 1); ts.forEach((t, i) => (o[i + 1] = o[i] + t[1].length)); return o; });
        // the definition on ranks: equal tuples (also -0 and 0) share a rank
        const id = (t: [number, Uint8Array, number]) => `${t[0] + 0}|${Buffer.from(t[1]).toString('hex')}|${t[2] + 0}`;
        const distinct = [...new Map(tuples.flat().map((t) => [id(t), t] as const)).values()];
        distinct.sort((a, b) => a[0] - b[0] || Buffer.compare(a[1], b[1]) || a[2] - b[2]);
        const rank = new Map(distinct.map((t, i) => [id(t), i]));
        const keys = tuples.map((ts) => Float64Array.from(ts, (t) => rank.get(id(t))!));
        expectRound(rnd, keys, `round ${round}`, (...args) => native.sortedWinnersTuple(kinds, nums, values, offsets, ...args));
      }
      const win = () => [new Int32Array(4), new Int32Array(4)] as const;
      const one = { nums: [Float64Array.of(1, 2)], values: [enc.encode('ab')], offsets: [Int32Array.of(0, 1, 2)] };
      expect(() => native.sortedWinnersTuple([0, 1], [], one.values, one.offsets, [0], [2], [0], [true], ...win())).toThrow(/need 1 number and 1 byte columns, got 0/);
      expect(() => native.sortedWinnersTuple([0, 2], one.nums, one.values, one.offsets, [0], [2], [0], [true], ...win())).toThrow(/sortedWinnersTuple/);
      expect(() => native.sortedWinnersTuple([0, 1], one.nums, one.values, [Int32Array.of(0, 1, 5)], [0], [2], [0], [true], ...win())).toThrow(/offsets of byte column 0, rows \[0, 2\), are not within its 2 bytes/);
      expect(() => native.sortedWinnersTuple([0, 1], one.nums, one.values, one.offsets, [0], [3], [0], [true], ...win())).toThrow(/rows \[0, 3\) are outside its 2 keys/);
    });

    it('refuses rows outside a source and winner arrays too small for the round', () => {
      const native = nativeParquet()!;
      const keys = [Float64Array.of(1, 2, 3), Float64Array.of(2, 4)];
      expect(() => native.sortedWinners(keys, [0, 0], [3, 3], [0, 1], [true, true], new Int32Array(6), new Int32Array(6))).toThrow(/source 1's rows \[0, 3\) are outside its 2 keys/);
      expect(() => native.sortedWinners(keys, [0, 0], [3, 2], [0, 1], [true, true], new Int32Array(4), new Int32Array(5))).toThrow(/winner arrays hold 4 and 5, the round has 5 rows/);
      expect(native.sortedWinners([], [], [], [], [], new Int32Array(0), new Int32Array(0))).toBe(0);
    });
  });

  describe.runIf(built)('NativeParquetPool', () => {
    it('runs at most its size at once, also while calls finish and new ones arrive, and answers every request', async () => {
      const codec = nativeParquet()!;
      let inFlight = 0;
      let most = 0;
      const counted = {
        ...codec,
        decode: async (req: Parameters<typeof codec.decode>[0]) => {
          most = Math.max(most, ++inFlight);
          try {
            return await codec.decode(req);
          } finally {
            inFlight--;
          }
        },
      };
      const pool = new NativeParquetPool(counted, 2);
      const bytes = withCodec('native', () => encodeParquet(sample));
      const all: Promise<Uint8Array>[] = [];
      for (let i = 0; i < 7; i++) all.push(pool.run({ op: 'decode', bytes, batchSize: 1024 }));
      expect(pool.pending).toBe(7);
      // newcomers while the first calls finish must not take a place beyond the size
      await all[0];
      for (let i = 0; i < 5; i++) all.push(pool.run({ op: 'decode', bytes, batchSize: 1024 }));
      const outs = await Promise.all(all);
      expect(outs.every((o) => o.length > 0 && o.length === outs[0].length)).toBe(true);
      expect(most).toBe(2);
      expect(pool.pending).toBe(0);
    });

    it('aborting a waiting request rejects it without running it; the others finish', async () => {
      const pool = new NativeParquetPool(nativeParquet()!, 1);
      const bytes = withCodec('native', () => encodeParquet(sample));
      const ac = new AbortController();
      const first = pool.run({ op: 'decode', bytes, batchSize: 1024 });
      const second = pool.run({ op: 'decode', bytes, batchSize: 1024 }, { signal: ac.signal });
      const third = pool.run({ op: 'decode', bytes, batchSize: 1024 });
      ac.abort();
      await expect(second).rejects.toSatisfy((e: unknown) => LakeSoulError.is(e, 'Aborted'));
      expect((await first).length).toBeGreaterThan(0);
      expect((await third).length).toBeGreaterThan(0);
      await pool.close();
      await expect(pool.run({ op: 'decode', bytes, batchSize: 1024 })).rejects.toThrow(/closed/);
    });
  });

  it('LAKESOUL_PARQUET_CODEC: wasm uses parquet-wasm; an unknown value is refused naming the choices', () => {
    process.env[PARQUET_CODEC_ENV] = 'wasm';
    expect(nativeParquet()).toBeNull();
    expect(typeof parquetWasm().readParquet).toBe('function');
    process.env[PARQUET_CODEC_ENV] = 'fast';
    expect(() => nativeParquet()).toThrow(/must be native, wasm or auto, got 'fast'/);
    process.env[PARQUET_CODEC_ENV] = 'native';
    if (built) expect(nativeParquet()).not.toBeNull();
    else expect(() => nativeParquet()).toThrow(/pnpm setup:native \(in this clone of lakesoul-ts\)\. Or set LAKESOUL_PARQUET_CODEC=auto/);
  });

  describe.runIf(built)('file operations (the local store\'s puts of bytes)', () => {
    const root = mkdtempSync(join(tmpdir(), 'native-files-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it('creates a new file holding the bytes, flushed or not; fails as Node\'s fs does, leaving what was there', async () => {
      const files = nativeFiles()!;
      expect(files).not.toBeNull();
      const data = Uint8Array.from({ length: 100_000 }, (_, i) => i % 251);
      await files.createFile(join(root, 'a.bin'), data, true);
      await files.createFile(join(root, 'b.bin'), data.subarray(10, 20), false);
      expect(readFileSync(join(root, 'a.bin'))).toEqual(Buffer.from(data));
      expect(readFileSync(join(root, 'b.bin'))).toEqual(Buffer.from(data.subarray(10, 20)));
      // the key exists: EEXIST, and the file keeps its bytes
      await expect(files.createFile(join(root, 'a.bin'), new Uint8Array([1]), true)).rejects.toMatchObject({ code: 'EEXIST', syscall: 'open', path: join(root, 'a.bin'), message: expect.stringMatching(/^EEXIST: file already exists, open '/) });
      expect(readFileSync(join(root, 'a.bin')).length).toBe(100_000);
      await expect(files.createFile(join(root, 'missing', 'c.bin'), data, true)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
      await expect(files.createFile(join(root, 'a.bin', 'c.bin'), data, true)).rejects.toMatchObject({ code: 'ENOTDIR' });
      // many at once, as a write of many partitions puts them
      mkdirSync(join(root, 'many'));
      await Promise.all(Array.from({ length: 64 }, (_, i) => files.createFile(join(root, 'many', `${i}.bin`), Uint8Array.of(i), true)));
      expect(readdirSync(join(root, 'many')).length).toBe(64);
      expect(readFileSync(join(root, 'many', '63.bin'))).toEqual(Buffer.from([63]));
    });

    it('flushes a directory; one that cannot be opened is an error', async () => {
      const files = nativeFiles()!;
      await expect(files.syncDirectory(root)).resolves.toBeUndefined();
      await expect(files.syncDirectory(join(root, 'none'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open', path: join(root, 'none') });
    });

    it('are not used under LAKESOUL_PARQUET_CODEC=wasm (the store\'s Node calls then run, and are tested so)', () => {
      process.env[PARQUET_CODEC_ENV] = 'wasm';
      expect(nativeFiles()).toBeNull();
      process.env[PARQUET_CODEC_ENV] = 'fast';
      expect(nativeFiles()).toBeNull();
    });
  });
});
