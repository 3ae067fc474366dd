/**
 * Spark's Murmur3_x86_32 (the bucket hash of LakeSoul, protocol §4), written from the algorithm's
 * description: seed 42 folded over the primary-key columns, `pmod(h, numBuckets)`.
 *
 * Value mapping (as Spark hashes each Catalyst type): bool -> int32 0/1; int8/16/32, uint8/16,
 * date32 and date64 (as days) -> int32; int64, uint32, uint64 (bit pattern) and 64-bit time/duration -> int64; timestamps
 * -> int64 MICROseconds (s/ms scaled up, ns floor-divided like Spark's conversion); float32 -> its
 * int bits, float64 -> its long bits (-0.0 hashed as 0.0, NaN canonicalized); utf8/binary -> bytes;
 * decimal128 with precision <= 18 -> its unscaled long, larger precisions -> the big-endian two's
 * complement bytes of the unscaled value (Java BigInteger.toByteArray), like Spark. Nulls leave the
 * running hash unchanged.
 */
import { Data, RecordBatch, TimeUnit, Type, type Vector } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { decodeDictionary } from '../arrow/take-rows.js';
import { nativeParquet } from '../parquet/parquet-native.js';

/**
 * Columns of at least this many rows and no nulls are hashed by the native addon when it is built
 * (the same hash; ~10x the JavaScript loop, and no JIT warm-up on a process's first writes).
 */
const NATIVE_HASH_MIN_ROWS = 512;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixK1(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixH1(h: number, k: number): number {
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number, len: number): number {
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Spark `Murmur3_x86_32.hashInt(v, seed)`; result as a signed int32. */
export function murmur3Int32(v: number, seed: number): number {
  return fmix(mixH1(seed | 0, mixK1(v | 0)), 4);
}

/** Hash of an int64 given as its two 32-bit halves. */
export function murmur3Int64Words(lo: number, hi: number, seed: number): number {
  let h = mixH1(seed | 0, mixK1(lo | 0));
  h = mixH1(h, mixK1(hi | 0));
  return fmix(h, 8);
}

/** Spark `Murmur3_x86_32.hashLong(v, seed)`; `v` is taken modulo 2^64 (two's complement). */
export function murmur3Int64(v: bigint, seed: number): number {
  const u = BigInt.asUintN(64, v);
  return murmur3Int64Words(Number(u & 0xffffffffn), Number(u >> 32n), seed);
}

/**
 * Spark `Murmur3_x86_32.hashUnsafeBytes(bytes, seed)`: whole little-endian 4-byte words, then each
 * remaining byte on its own, sign-extended (Spark's quirk, not standard Murmur3).
 */
export function murmur3Bytes(bytes: Uint8Array, seed: number, start = 0, end = bytes.length): number {
  let h = seed | 0;
  const len = end - start;
  const aligned = start + (len & ~3);
  let p = start;
  for (; p < aligned; p += 4) {
    const w = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24);
    h = mixH1(h, mixK1(w));
  }
  for (; p < end; p++) {
    h = mixH1(h, mixK1((bytes[p] << 24) >> 24));
  }
  return fmix(h, len);
}

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);
const f64 = new Float64Array(1);
const i64w = new Int32Array(f64.buffer);

/** Spark's hash of a float: its int bits, -0.0 as 0.0, NaN canonical (0x7fc00000). */
export function murmur3Float32(v: number, seed: number): number {
  if (v !== v) return murmur3Int32(0x7fc00000, seed);
  f32[0] = v === 0 ? 0 : v;
  return murmur3Int32(i32[0], seed);
}

/** Spark's hash of a double: its long bits, -0.0 as 0.0, NaN canonical (0x7ff8000000000000). */
export function murmur3Float64(v: number, seed: number): number {
  if (v !== v) return murmur3Int64Words(0, 0x7ff80000, seed);
  f64[0] = v === 0 ? 0 : v;
  return murmur3Int64Words(i64w[0], i64w[1], seed);
}

/** `pmod(h, n)`: the non-negative remainder (Spark's bucket id). */
export function pmod(h: number, n: number): number {
  const r = h % n;
  return r < 0 ? r + n : r + 0;
}

/** Unsupported key type error. */
function unsupportedType(data: Data, column: string): LakeSoulError {
  return new LakeSoulError('Unsupported', `primary key column '${column}' has type ${data.type}, which has no Spark hash`, {
    context: { column },
  });
}

/** Convert a timestamp (lo/hi words in `unit`) to microseconds as bigint when scaling is needed. */
function timestampMicros(v: bigint, unit: TimeUnit): bigint {
  switch (unit) {
    case TimeUnit.SECOND:
      return v * 1_000_000n;
    case TimeUnit.MILLISECOND:
      return v * 1000n;
    case TimeUnit.MICROSECOND:
      return v;
    default: {
      // floor division, like Spark's conversion of nanosecond instants
      const q = v / 1000n;
      return v < 0n && q * 1000n !== v ? q - 1n : q;
    }
  }
}

/** Minimal big-endian two's complement bytes of a 128-bit value (Java BigInteger.toByteArray). */
function decimalBytes(words: Uint32Array, at: number): Uint8Array {
  const le = new Uint8Array(16);
  for (let k = 0; k < 4; k++) {
    const w = words[at + k];
    le[4 * k] = w & 0xff;
    le[4 * k + 1] = (w >>> 8) & 0xff;
    le[4 * k + 2] = (w >>> 16) & 0xff;
    le[4 * k + 3] = (w >>> 24) & 0xff;
  }
  let n = 16;
  // drop redundant sign bytes
  while (n > 1) {
    const top = le[n - 1];
    const next = le[n - 2];
    if ((top === 0 && (next & 0x80) === 0) || (top === 0xff && (next & 0x80) !== 0)) n--;
    else break;
  }
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++) out[k] = le[n - 1 - k];
  return out;
}

/**
 * Fold the Spark hash of every row of one column into `hashes` (in place): for each valid row
 * `hashes[i] = hash(value_i, seed = hashes[i])`; null rows are skipped.
 */
export function foldColumnHash(data: Data, hashes: Int32Array, column = '?'): void {
  if (data.typeId === Type.Dictionary) data = decodeDictionary(data);
  const n = data.length;
  const bm = data.nullBitmap;
  const hasNulls = bm !== undefined && bm.length > 0 && data.nullCount > 0;
  const off = data.offset;
  const valid = (i: number): boolean => {
    if (!hasNulls) return true;
    const pos = off + i;
    return (bm![pos >> 3] & (1 << (pos & 7))) !== 0;
  };
  const t = data.type as any;
  const native = !hasNulls && n >= NATIVE_HASH_MIN_ROWS ? nativeParquet()?.foldHash : undefined;
  switch (data.typeId) {
    case Type.Bool: {
      const v = data.values as Uint8Array;
      for (let i = 0; i < n; i++) {
        if (!valid(i)) continue;
        const pos = off + i;
        hashes[i] = murmur3Int32((v[pos >> 3] >> (pos & 7)) & 1, hashes[i]);
      }
      return;
    }
    case Type.Date:
      if (t.unit !== 0) {
        // date64 (ms): Spark's DateType is int32 days
        const ms = data.values as BigInt64Array;
        for (let i = 0; i < n; i++) {
          if (!valid(i)) continue;
          const v = ms[i];
          const q = v / 86400000n;
          hashes[i] = murmur3Int32(Number(v < 0n && q * 86400000n !== v ? q - 1n : q), hashes[i]);
        }
        return;
      }
    // falls through: date32 days hash as int32
    case Type.Int:
    case Type.Time:
    case Type.Duration: {
      const vals = data.values as any;
      if (vals instanceof BigInt64Array || vals instanceof BigUint64Array) {
        const w = new Int32Array(vals.buffer, vals.byteOffset, n * 2);
        if (native) return native.i64(w, hashes);
        for (let i = 0; i < n; i++) if (valid(i)) hashes[i] = murmur3Int64Words(w[2 * i], w[2 * i + 1], hashes[i]);
        return;
      }
      if (data.typeId === Type.Int && !t.isSigned && t.bitWidth === 32) {
        // uint32 does not fit Spark's int: hash as a long
        for (let i = 0; i < n; i++) if (valid(i)) hashes[i] = murmur3Int64Words(vals[i] | 0, 0, hashes[i]);
        return;
      }
      if (data.typeId === Type.Time || data.typeId === Type.Duration) throw unsupportedType(data, column);
      if (native && vals instanceof Int32Array) return native.i32(vals.length === n ? vals : vals.subarray(0, n), hashes);
      for (let i = 0; i < n; i++) if (valid(i)) hashes[i] = murmur3Int32(vals[i], hashes[i]);
      return;
    }
    case Type.Timestamp: {
      const vals = data.values as BigInt64Array;
      const w = new Int32Array(vals.buffer, vals.byteOffset, vals.length * 2);
      if (t.unit === TimeUnit.MICROSECOND) {
        if (native) return native.i64(w.subarray(0, 2 * n), hashes);
        for (let i = 0; i < n; i++) if (valid(i)) hashes[i] = murmur3Int64Words(w[2 * i], w[2 * i + 1], hashes[i]);
      } else {
        for (let i = 0; i < n; i++) if (valid(i)) hashes[i] = murmur3Int64(timestampMicros(vals[i], t.unit), hashes[i]);
      }
      return;
    }
    case Type.Float: {
      const vals = data.values as Float32Array | Float64Array;
      if (t.precision === 1) {
        for (let i = 0; i < n; i++) if (valid(i)) hashes[i] = murmur3Float32(vals[i], hashes[i]);
        return;
      }
      if (t.precision === 2) {
        for (let i = 0; i < n; i++) if (valid(i)) hashes[i] = murmur3Float64(vals[i], hashes[i]);
        return;
      }
      throw unsupportedType(data, column);
    }
    case Type.Utf8:
    case Type.Binary:
    case Type.LargeUtf8:
    case Type.LargeBinary: {
      const bytes = data.values as Uint8Array;
      const o = data.valueOffsets as Int32Array | BigInt64Array;
      if (o instanceof BigInt64Array) {
        for (let i = 0; i < n; i++) if (valid(i)) hashes[i] = murmur3Bytes(bytes, hashes[i], Number(o[i]), Number(o[i + 1]));
      } else if (native) {
        native.bytes(bytes, o.length === n + 1 ? o : o.subarray(0, n + 1), hashes);
      } else {
        for (let i = 0; i < n; i++) if (valid(i)) hashes[i] = murmur3Bytes(bytes, hashes[i], o[i], o[i + 1]);
      }
      return;
    }
    case Type.FixedSizeBinary: {
      const bytes = data.values as Uint8Array;
      const w = t.byteWidth as number;
      for (let i = 0; i < n; i++) if (valid(i)) hashes[i] = murmur3Bytes(bytes, hashes[i], i * w, (i + 1) * w);
      return;
    }
    case Type.Decimal: {
      if (t.bitWidth !== 128) throw unsupportedType(data, column);
      const words = data.values as Uint32Array;
      if (t.precision <= 18) {
        // unscaled value fits a long: its low two words are its two's complement bits
        for (let i = 0; i < n; i++) if (valid(i)) hashes[i] = murmur3Int64Words(words[4 * i] | 0, words[4 * i + 1] | 0, hashes[i]);
      } else {
        for (let i = 0; i < n; i++) if (valid(i)) hashes[i] = murmur3Bytes(decimalBytes(words, 4 * i), hashes[i]);
      }
      return;
    }
    default:
      throw unsupportedType(data, column);
  }
}

/**
 * Spark hash of the primary-key tuple at `row`: `h = seed; for each non-null value h = hash(v, h)`.
 * `columns` are the PK columns in PK order (chunked vectors are fine).
 */
export function hashPkRow(columns: readonly Vector[], row: number, seed = 42): number {
  const h = new Int32Array(1);
  h[0] = seed;
  for (let c = 0; c < columns.length; c++) {
    let r = row;
    let data: Data | undefined;
    for (const d of columns[c].data) {
      if (r < d.length) {
        data = d;
        break;
      }
      r -= d.length;
    }
    if (data === undefined) throw new LakeSoulError('InvalidArgument', `row ${row} out of range`);
    foldColumnHash(data.slice(r, 1), h, `#${c}`);
  }
  return h[0];
}

/**
 * How a key's hash picks its bucket. `pmod`: Spark's non-negative remainder of the signed hash (the
 * Java engines). `uint32`: the hash read as an unsigned 32-bit integer, modulo the count (LakeSoul's
 * Rust core, the `lakesoul` wheel's writer). They agree whenever the bucket count is a power of two.
 */
export type BucketRule = 'pmod' | 'uint32';

/**
 * Hashes to buckets in place. With a power-of-two count both rules are the low bits of the hash
 * (Java's non-negative modulo of a 32-bit value by 2^k, and the unsigned remainder alike); other
 * counts divide as int32 (`| 0` lets V8 use an integer division instead of a float remainder call).
 */
function bucketsOfHashes(h: Int32Array, numBuckets: number, rule: BucketRule): void {
  const n = h.length;
  const nb = numBuckets | 0;
  if ((nb & (nb - 1)) === 0) {
    const mask = nb - 1;
    for (let i = 0; i < n; i++) h[i] = h[i] & mask;
  } else if (rule === 'uint32') {
    for (let i = 0; i < n; i++) h[i] = (h[i] >>> 0) % nb;
  } else {
    for (let i = 0; i < n; i++) {
      const r = h[i] % nb;
      h[i] = r < 0 ? r + nb : r;
    }
  }
}

/**
 * Bucket id of every row of `batch`: Spark Murmur3 (seed 42) folded over `pkColumns`, then
 * `pmod(h, numBuckets)` (or `(uint32)h % numBuckets` with rule `uint32`). A missing PK column is
 * InvalidArgument naming it.
 */
export function computeBuckets(batch: RecordBatch, pkColumns: readonly string[], numBuckets: number, rule: BucketRule = 'pmod'): Int32Array {
  if (!Number.isInteger(numBuckets) || numBuckets <= 0 || numBuckets > 0x7fffffff) {
    throw new LakeSoulError('InvalidArgument', `hash bucket count must be a positive integer below 2^31, got ${numBuckets}`);
  }
  const n = batch.numRows;
  const h = new Int32Array(n).fill(42);
  for (const name of pkColumns) {
    const k = batch.schema.fields.findIndex((f) => f.name === name);
    if (k < 0) throw new LakeSoulError('InvalidArgument', `primary key column '${name}' is missing`, { context: { column: name } });
    foldColumnHash(batch.data.children[k] as Data, h, name);
  }
  bucketsOfHashes(h, numBuckets, rule);
  return h;
}
