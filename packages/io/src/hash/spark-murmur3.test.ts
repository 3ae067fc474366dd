import { describe, expect, it } from 'vitest';
import {
  Bool, Binary, DateDay, DateMillisecond, Decimal, Float32, Float64, Int8, Int16, Int32, Int64, LargeUtf8, RecordBatch, Table,
  TimeUnit, Timestamp, Utf8, makeData, makeVector, vectorFromArray,
} from 'apache-arrow';
import { computeBuckets, hashPkRow, murmur3Bytes, murmur3Float32, murmur3Float64, murmur3Int32, murmur3Int64, pmod } from './index.js';

const enc = new TextEncoder();

describe('Spark Murmur3 (protocol §4 test vectors)', () => {
  it('scalar vectors', () => {
    expect(murmur3Int32(1, 42)).toBe(-559580957);
    expect(murmur3Int32(2, 42)).toBe(1765031574);
    expect(murmur3Int64(1n, 42)).toBe(-1712319331);
    expect(murmur3Float32(1.0, 42)).toBe(-466301895);
    expect(murmur3Float64(1.0, 42)).toBe(-460888942);
    expect(murmur3Float32(0.0, 42)).toBe(933211791);
    expect(murmur3Float64(0.0, 42)).toBe(-1670924195);
    expect(murmur3Float32(-0.0, 42)).toBe(933211791);
    expect(murmur3Float64(-0.0, 42)).toBe(-1670924195);
    expect(murmur3Bytes(enc.encode('1'), 42)).toBe(1625004744);
    expect(murmur3Bytes(enc.encode('4'), 42)).toBe(-2142269034);
  });

  it('tuple vectors fold over PK columns', () => {
    const t = new Table({ a: vectorFromArray(['1', '321']), b: vectorFromArray(['12', '321']) });
    const cols = [t.getChild('a')!, t.getChild('b')!];
    expect(hashPkRow(cols, 0)).toBe(891492135);
    expect(hashPkRow(cols, 1)).toBe(-218318595);
    // the same by hand
    expect(murmur3Bytes(enc.encode('12'), murmur3Bytes(enc.encode('1'), 42))).toBe(891492135);
  });

  it('vectors through every column type mapping', () => {
    const one = (v: any) => hashPkRow([v], 0);
    expect(one(vectorFromArray([1], new Int32()))).toBe(-559580957);
    expect(one(vectorFromArray([1], new Int8()))).toBe(-559580957);
    expect(one(vectorFromArray([1], new Int16()))).toBe(-559580957);
    expect(one(vectorFromArray([true], new Bool()))).toBe(-559580957);
    expect(one(vectorFromArray([1n], new Int64()))).toBe(-1712319331);
    expect(one(vectorFromArray([1], new Float32()))).toBe(-466301895);
    expect(one(vectorFromArray([1], new Float64()))).toBe(-460888942);
    expect(one(vectorFromArray(['4'], new Utf8()))).toBe(-2142269034);
    expect(one(vectorFromArray(['4'], new LargeUtf8()))).toBe(-2142269034);
    expect(one(vectorFromArray([enc.encode('4')], new Binary()))).toBe(-2142269034);
    // date32 day 1 hashes like int32 1
    expect(one(makeVector(makeData({ type: new DateDay(), length: 1, data: new Int32Array([1]) })))).toBe(-559580957);
    // date64 hashes its day number like date32
    expect(one(makeVector(makeData({ type: new DateMillisecond(), length: 1, data: new BigInt64Array([86400000n]) })))).toBe(-559580957);
    expect(one(makeVector(makeData({ type: new DateMillisecond(), length: 1, data: new BigInt64Array([-1n]) })))).toBe(murmur3Int32(-1, 42));
    // timestamps hash their microseconds: 1 µs == 1000 ns; 1 ms == 1000 µs
    const ts = (unit: TimeUnit, v: bigint) =>
      makeVector(makeData({ type: new Timestamp(unit, 'UTC'), length: 1, data: new BigInt64Array([v]) }));
    expect(one(ts(TimeUnit.MICROSECOND, 1n))).toBe(-1712319331);
    expect(one(ts(TimeUnit.NANOSECOND, 1000n))).toBe(-1712319331);
    expect(one(ts(TimeUnit.MILLISECOND, 5n))).toBe(murmur3Int64(5000n, 42));
    expect(one(ts(TimeUnit.SECOND, 5n))).toBe(murmur3Int64(5_000_000n, 42));
    expect(one(ts(TimeUnit.NANOSECOND, -1n))).toBe(murmur3Int64(-1n, 42));
    // decimal(10,2) hashes its unscaled long
    const dec = makeVector(makeData({ type: new Decimal(2, 10, 128), length: 1, data: new Uint32Array([12345, 0, 0, 0]) }));
    expect(one(dec)).toBe(murmur3Int64(12345n, 42));
    const decNeg = makeVector(makeData({ type: new Decimal(2, 10, 128), length: 1, data: new Uint32Array([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]) }));
    expect(one(decNeg)).toBe(murmur3Int64(-1n, 42));
    // decimal(38,0): bytes of BigInteger.toByteArray: 255 -> [0x00, 0xff]
    const big = makeVector(makeData({ type: new Decimal(0, 38, 128), length: 1, data: new Uint32Array([255, 0, 0, 0]) }));
    expect(one(big)).toBe(murmur3Bytes(new Uint8Array([0x00, 0xff]), 42));
  });

  it('nulls are skipped in the fold', () => {
    const a = vectorFromArray([null, '1'], new Utf8());
    const b = vectorFromArray(['1', null], new Utf8());
    expect(hashPkRow([a, b], 0)).toBe(1625004744);
    expect(hashPkRow([a, b], 1)).toBe(1625004744);
    expect(hashPkRow([vectorFromArray([null], new Int32())], 0)).toBe(42);
  });

  it('bytes tail is sign-extended one byte at a time', () => {
    // 5 bytes: one word + one tail byte >= 0x80 (sign extension matters)
    const b = new Uint8Array([1, 2, 3, 4, 0xff]);
    const withTail = murmur3Bytes(b, 42);
    expect(withTail).not.toBe(murmur3Bytes(new Uint8Array([1, 2, 3, 4, 0x7f]), 42));
    expect(murmur3Bytes(enc.encode('é'), 42)).toBe(murmur3Bytes(new Uint8Array([0xc3, 0xa9]), 42));
  });

  it('computeBuckets equals per-row hash and pmod (vectorized)', () => {
    const n = 2000;
    const ids: bigint[] = [];
    const names: (string | null)[] = [];
    for (let i = 0; i < n; i++) {
      ids.push(BigInt(i * 7919 - 5000));
      names.push(i % 13 === 0 ? null : `n${(i * 31) % 97}✓`);
    }
    const t = new Table({ id: vectorFromArray(ids, new Int64()), name: vectorFromArray(names, new Utf8()), x: vectorFromArray(ids.map(Number), new Float64()) });
    const batch = t.batches[0] as RecordBatch;
    for (const nb of [1, 4, 16, 3]) {
      const b = computeBuckets(batch, ['id', 'name'], nb);
      for (let i = 0; i < n; i += 37) {
        const h = hashPkRow([t.getChild('id')!, t.getChild('name')!], i);
        expect(b[i]).toBe(pmod(h, nb));
        if ((nb & (nb - 1)) === 0) expect(b[i]).toBe((h >>> 0) % nb); // upstream Rust's (uint32)h % n
      }
    }
    // tables whose count is not a power of two (LakeSoul-Python's): the unsigned remainder
    for (const nb of [3, 5, 6, 1000]) {
      const b = computeBuckets(batch, ['id', 'name'], nb, 'uint32');
      for (let i = 0; i < n; i += 37) expect(b[i]).toBe((hashPkRow([t.getChild('id')!, t.getChild('name')!], i) >>> 0) % nb);
    }
    expect(() => computeBuckets(batch, ['id'], 2 ** 31)).toThrow(/below 2\^31/);
    // buckets spread over all 16
    expect(new Set(computeBuckets(batch, ['id'], 16)).size).toBe(16);
    expect(() => computeBuckets(batch, ['nope'], 4)).toThrow(/nope/);
  });
});

describe('the native hash (columns of 512 rows or more without nulls)', () => {
  it('gives the hash of every value that the per-row hash gives, for each column kind it takes', () => {
    let seed = 99;
    const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) | 0) >>> 0) / 2 ** 32;
    const n = 3001;
    const words = ['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'ünïcödé', '\u{1F600}x', 'key-123456789'];
    const table = new Table({
      i32: makeVector(Int32Array.from({ length: n }, () => (rnd() * 2 ** 32) | 0)),
      i64: makeVector(BigInt64Array.from({ length: n }, () => BigInt.asIntN(64, BigInt(Math.floor(rnd() * 2 ** 53)) * 4099n))),
      s: vectorFromArray(Array.from({ length: n }, () => words[Math.floor(rnd() * words.length)] + String(Math.floor(rnd() * 1000))), new Utf8()),
      ts: vectorFromArray(Array.from({ length: n }, () => new Date(Math.floor(rnd() * 4e12))), new Timestamp(TimeUnit.MICROSECOND)),
    });
    const b = table.batches[0];
    // a bucket count of 2^31 - 1 keeps (almost) the whole hash: any differing hash shows
    for (const cols of [['i32'], ['i64'], ['s'], ['ts'], ['i64', 's', 'i32', 'ts']]) {
      const buckets = computeBuckets(b, cols, 0x7fffffff);
      const vectors = cols.map((c) => b.getChildAt(table.schema.fields.findIndex((f) => f.name === c))!);
      for (let r = 0; r < n; r++) expect(buckets[r], `${cols} row ${r}`).toBe(pmod(hashPkRow(vectors, r), 0x7fffffff));
    }
  });
});
