/**
 * Deterministic random rows of every primary-key type the TypeScript bucket hash supports, for the
 * cross-checks against LakeSoul's own writer and Spark SQL's `hash(...)`.
 */
import {
  Binary, Bool, DateDay, Float32, Float64, Int16, Int32, Int64, Int8, Table, TimeUnit, Timestamp, Utf8,
  makeData, makeVector, vectorFromArray, type DataType, type Vector,
} from 'apache-arrow';

/** A small seeded PRNG (mulberry32): the same rows on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,;:!?';
const UNICODE = ['é', 'ß', '€', '中', '文', '😀', 'ж', 'a', 'Z', '0', ' '];

/** Column name -> its Arrow type, in a fixed order. */
export const HASH_COLUMNS: [string, DataType][] = [
  ['c_bool', new Bool()],
  ['c_int8', new Int8()],
  ['c_int16', new Int16()],
  ['c_int32', new Int32()],
  ['c_int64', new Int64()],
  ['c_float32', new Float32()],
  ['c_float64', new Float64()],
  ['c_ascii', new Utf8()],
  ['c_unicode', new Utf8()],
  ['c_binary', new Binary()],
  ['c_date', new DateDay()],
  ['c_ts', new Timestamp(TimeUnit.MICROSECOND, 'UTC')],
];

/** Single-column keys and multi-column keys (in PK order). */
export const KEY_SETS: string[][] = [
  ...HASH_COLUMNS.map(([n]) => [n]),
  ['c_int32', 'c_ascii'],
  ['c_ascii', 'c_int64', 'c_date'],
  ['c_int64', 'c_ts'],
  ['c_bool', 'c_int8', 'c_int16', 'c_float64'],
  ['c_unicode', 'c_float32', 'c_binary'],
  ['c_date', 'c_ts', 'c_ascii', 'c_int32', 'c_int64'],
];

const F32_SPECIAL = [0, -0, 1, -1, Infinity, -Infinity, NaN, 3.4028234663852886e38, 1.401298464324817e-45];
const F64_SPECIAL = [0, -0, 1, -1, Infinity, -Infinity, NaN, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53];

function int64(r: () => number): bigint {
  const hi = BigInt(Math.floor(r() * 2 ** 32));
  const lo = BigInt(Math.floor(r() * 2 ** 32));
  return BigInt.asIntN(64, (hi << 32n) | lo);
}

function text(r: () => number, alphabet: readonly string[] | string, max: number): string {
  const n = Math.floor(r() * (max + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

/**
 * `n` rows: `row_id` (int64, 0..n-1) and one column per {@link HASH_COLUMNS} entry, no nulls (key
 * columns of LakeSoul tables are non-nullable). Edge values (0, -0.0, NaN, +-Inf, extremes, empty
 * strings) appear among the random ones.
 */
export function hashRows(n: number, seed = 20240810): Table {
  const r = rng(seed);
  const pick = <T>(special: readonly T[], gen: () => T): T => (r() < 0.05 ? special[Math.floor(r() * special.length)] : gen());
  const vectors: Record<string, Vector> = {};
  vectors.row_id = makeVector(BigInt64Array.from({ length: n }, (_, i) => BigInt(i)));
  for (const [name, type] of HASH_COLUMNS) {
    switch (name) {
      case 'c_bool':
        vectors[name] = vectorFromArray(Array.from({ length: n }, () => r() < 0.5), new Bool());
        break;
      case 'c_int8':
        vectors[name] = makeVector(Int8Array.from({ length: n }, () => Math.floor(r() * 256) - 128));
        break;
      case 'c_int16':
        vectors[name] = makeVector(Int16Array.from({ length: n }, () => Math.floor(r() * 65536) - 32768));
        break;
      case 'c_int32':
        vectors[name] = makeVector(Int32Array.from({ length: n }, () => pick([0, -1, 1, 2 ** 31 - 1, -(2 ** 31)], () => (r() * 2 ** 32) | 0)));
        break;
      case 'c_int64':
        vectors[name] = makeVector(BigInt64Array.from({ length: n }, () => pick([0n, -1n, 1n, 2n ** 63n - 1n, -(2n ** 63n)], () => int64(r))));
        break;
      case 'c_float32':
        vectors[name] = makeVector(Float32Array.from({ length: n }, () => pick(F32_SPECIAL, () => (r() - 0.5) * 10 ** Math.floor(r() * 12))));
        break;
      case 'c_float64':
        vectors[name] = makeVector(Float64Array.from({ length: n }, () => pick(F64_SPECIAL, () => (r() - 0.5) * 10 ** Math.floor(r() * 30))));
        break;
      case 'c_ascii':
        vectors[name] = vectorFromArray(Array.from({ length: n }, () => text(r, ASCII, 17)), new Utf8());
        break;
      case 'c_unicode':
        vectors[name] = vectorFromArray(Array.from({ length: n }, () => text(r, UNICODE, 9)), new Utf8());
        break;
      case 'c_binary':
        vectors[name] = vectorFromArray(
          Array.from({ length: n }, () => Uint8Array.from({ length: Math.floor(r() * 11) }, () => Math.floor(r() * 256))),
          new Binary(),
        );
        break;
      case 'c_date':
        vectors[name] = makeVector(makeData({ type: new DateDay(), length: n, data: Int32Array.from({ length: n }, () => Math.floor(r() * 80000) - 30000) }));
        break;
      case 'c_ts':
        vectors[name] = makeVector(
          makeData({
            type: new Timestamp(TimeUnit.MICROSECOND, 'UTC'),
            length: n,
            data: BigInt64Array.from({ length: n }, () => BigInt(Math.floor((r() - 0.3) * 4e15))),
          }),
        );
        break;
      default:
        throw new Error(`no generator for ${name} (${type})`);
    }
  }
  return new Table(vectors);
}
