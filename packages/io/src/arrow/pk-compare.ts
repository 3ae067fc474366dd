/**
 * Total order over primary-key tuples (protocol §4): nulls first, strings and binaries by their
 * UTF-8 bytes (unsigned lexicographic), numbers numerically (NaN after every number, -0.0 = 0.0),
 * 64-bit integers exactly, booleans false < true, decimals by unscaled value. Keys are compared
 * through {@link KeyColumn}s prepared once per batch, so hot loops touch typed arrays only.
 */
import { Data, RecordBatch, Table, Type, type Vector } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { batchColumns } from './data-access.js';
import { decodeDictionary } from './take-rows.js';
import { nativeParquet } from '../parquet/parquet-native.js';

const K_NUM = 0;
const K_I64 = 1;
const K_U64 = 2;
const K_BYTES = 3;
const K_BOOL = 4;
const K_DEC = 5;

/** A key column prepared for comparisons (one `Data`). */
export interface KeyColumn {
  readonly kind: number;
  /** Validity as one byte per row, or null when all rows are valid. */
  readonly valid: Uint8Array | null;
  /** K_NUM: numeric values; K_BOOL: 0/1 per row. */
  readonly num: ArrayLike<number> | null;
  /** K_I64/K_U64: [lo, hi] 32-bit words per row; K_DEC: 4 words per row (little-endian). */
  readonly words: Int32Array | null;
  /** K_BYTES: start offsets (n + 1) and bytes. */
  readonly offsets: Int32Array | Float64Array | null;
  readonly bytes: Uint8Array | null;
  readonly length: number;
}

function validity(data: Data): Uint8Array | null {
  const bm = data.nullBitmap;
  if (bm === undefined || bm.length === 0 || data.nullCount === 0) return null;
  const out = new Uint8Array(data.length);
  const off = data.offset;
  for (let i = 0; i < data.length; i++) {
    const pos = off + i;
    out[i] = (bm[pos >> 3] >> (pos & 7)) & 1;
  }
  return out;
}

/** Prepare one column's `Data` for key comparisons. Unsupported key types throw Unsupported. */
export function keyColumn(data: Data, column = '?'): KeyColumn {
  if (data.typeId === Type.Dictionary) data = decodeDictionary(data);
  const t = data.type as any;
  const base = { valid: validity(data), num: null, words: null, offsets: null, bytes: null, length: data.length };
  switch (data.typeId) {
    case Type.Int:
      if (t.bitWidth === 64) {
        const v = data.values as BigInt64Array;
        return { ...base, kind: t.isSigned ? K_I64 : K_U64, words: new Int32Array(v.buffer, v.byteOffset, v.length * 2) };
      }
      return { ...base, kind: K_NUM, num: data.values as ArrayLike<number> };
    case Type.Float:
      if (t.precision === 0) {
        // float16: decode to float64
        const h = data.values as Uint16Array;
        const out = new Float64Array(h.length);
        for (let i = 0; i < h.length; i++) out[i] = halfToFloat(h[i]);
        return { ...base, kind: K_NUM, num: out };
      }
      return { ...base, kind: K_NUM, num: data.values as ArrayLike<number> };
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
    case Type.Duration: {
      const v = data.values as any;
      if (v instanceof BigInt64Array) return { ...base, kind: K_I64, words: new Int32Array(v.buffer, v.byteOffset, v.length * 2) };
      return { ...base, kind: K_NUM, num: v };
    }
    case Type.Bool: {
      const out = new Uint8Array(data.length);
      const vals = data.values as Uint8Array;
      for (let i = 0; i < data.length; i++) {
        const pos = data.offset + i;
        out[i] = (vals[pos >> 3] >> (pos & 7)) & 1;
      }
      return { ...base, kind: K_BOOL, num: out };
    }
    case Type.Utf8:
    case Type.Binary:
    case Type.FixedSizeBinary:
    case Type.LargeUtf8:
    case Type.LargeBinary: {
      let offsets: Int32Array | Float64Array;
      if (data.typeId === Type.FixedSizeBinary) {
        offsets = new Float64Array(data.length + 1);
        for (let i = 0; i <= data.length; i++) offsets[i] = i * t.byteWidth;
      } else if (data.valueOffsets instanceof BigInt64Array) {
        offsets = Float64Array.from(data.valueOffsets as BigInt64Array, Number);
      } else {
        offsets = data.valueOffsets as Int32Array;
      }
      return { ...base, kind: K_BYTES, offsets, bytes: data.values as Uint8Array };
    }
    case Type.Decimal: {
      if (t.bitWidth !== 128) break;
      const v = data.values as Uint32Array;
      return { ...base, kind: K_DEC, words: new Int32Array(v.buffer, v.byteOffset, v.length) };
    }
    default:
      break;
  }
  throw new LakeSoulError('Unsupported', `primary key column '${column}' has type ${data.type}, which cannot be compared`, {
    context: { column },
  });
}

/**
 * The bytes and 32-bit offsets of a key column of strings or binaries without nulls (row r's key:
 * `values` from `offsets[r]` to `offsets[r + 1]`), or null for any other key column.
 */
export function byteKeyParts(k: KeyColumn): { values: Uint8Array; offsets: Int32Array } | null {
  return k.kind === K_BYTES && k.valid === null && k.offsets instanceof Int32Array && k.bytes !== null ? { values: k.bytes, offsets: k.offsets } : null;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/**
 * Compare value `i` of `a` with value `j` of `b` (same key kind). Nulls first.
 * Returns <0, 0 or >0.
 */
export function compareKeyValues(a: KeyColumn, i: number, b: KeyColumn, j: number): number {
  const va = a.valid === null ? 1 : a.valid[i];
  const vb = b.valid === null ? 1 : b.valid[j];
  if (va === 0 || vb === 0) return va - vb;
  switch (a.kind) {
    case K_NUM:
    case K_BOOL: {
      const x = a.num![i];
      const y = b.num![j];
      if (x < y) return -1;
      if (x > y) return 1;
      if (x === y) return 0;
      // at least one NaN: NaN sorts after every number
      const nx = x !== x ? 1 : 0;
      const ny = y !== y ? 1 : 0;
      return nx - ny;
    }
    case K_I64: {
      const ha = a.words![2 * i + 1];
      const hb = b.words![2 * j + 1];
      if (ha !== hb) return ha < hb ? -1 : 1;
      const la = a.words![2 * i] >>> 0;
      const lb = b.words![2 * j] >>> 0;
      return la < lb ? -1 : la > lb ? 1 : 0;
    }
    case K_U64: {
      const ha = a.words![2 * i + 1] >>> 0;
      const hb = b.words![2 * j + 1] >>> 0;
      if (ha !== hb) return ha < hb ? -1 : 1;
      const la = a.words![2 * i] >>> 0;
      const lb = b.words![2 * j] >>> 0;
      return la < lb ? -1 : la > lb ? 1 : 0;
    }
    case K_BYTES: {
      const ao = a.offsets!;
      const bo = b.offsets!;
      let p = ao[i];
      const pe = ao[i + 1];
      let q = bo[j];
      const qe = bo[j + 1];
      const ab = a.bytes!;
      const bb = b.bytes!;
      const la = pe - p;
      const lb = qe - q;
      const m = la < lb ? la : lb;
      for (let k = 0; k < m; k++, p++, q++) {
        const d = ab[p] - bb[q];
        if (d !== 0) return d;
      }
      return la - lb;
    }
    case K_DEC: {
      const wa = a.words!;
      const wb = b.words!;
      const ha = wa[4 * i + 3];
      const hb = wb[4 * j + 3];
      if (ha !== hb) return ha < hb ? -1 : 1;
      for (let k = 2; k >= 0; k--) {
        const x = wa[4 * i + k] >>> 0;
        const y = wb[4 * j + k] >>> 0;
        if (x !== y) return x < y ? -1 : 1;
      }
      return 0;
    }
    default:
      return 0;
  }
}

/** Compare row `i` of key tuple `a` with row `j` of key tuple `b` (same column kinds, in PK order). */
export function compareKeyRows(a: readonly KeyColumn[], i: number, b: readonly KeyColumn[], j: number): number {
  for (let c = 0; c < a.length; c++) {
    const r = compareKeyValues(a[c], i, b[c], j);
    if (r !== 0) return r;
  }
  return 0;
}

const keyCache = new WeakMap<Data, KeyColumn>();

function cachedKey(data: Data, name: string): KeyColumn {
  let k = keyCache.get(data);
  if (k === undefined) {
    k = keyColumn(data, name);
    keyCache.set(data, k);
  }
  return k;
}

function locateChunk(v: Vector, row: number): [Data, number] {
  let r = row;
  for (const d of v.data) {
    if (r < d.length) return [d, r];
    r -= d.length;
  }
  throw new LakeSoulError('InvalidArgument', `row ${row} out of range [0, ${v.length})`);
}

/**
 * Compare the PK tuple at `rowA` of `colsA` with the one at `rowB` of `colsB` (columns in PK order,
 * same types pairwise). Total order: nulls first, strings by UTF-8 bytes, numbers numerically.
 * Convenient but per-call; hot loops should use {@link keyColumn} + {@link compareKeyRows}.
 */
export function comparePkRows(colsA: readonly Vector[], rowA: number, colsB: readonly Vector[], rowB: number): number {
  for (let c = 0; c < colsA.length; c++) {
    const [da, ia] = locateChunk(colsA[c], rowA);
    const [db, ib] = locateChunk(colsB[c], rowB);
    const ka = cachedKey(da, `#${c}`);
    const kb = cachedKey(db, `#${c}`);
    if (ka.kind !== kb.kind) {
      throw new LakeSoulError('SchemaMismatch', `primary key column #${c} compares ${da.type} with ${db.type}`);
    }
    const r = compareKeyValues(ka, ia, kb, ib);
    if (r !== 0) return r;
  }
  return 0;
}

/** Key columns of a batch for the named PK columns; a missing column is InvalidArgument. */
export function keyColumnsOf(batch: RecordBatch, pkColumns: readonly string[]): KeyColumn[] {
  const cols = batchColumns(batch);
  return pkColumns.map((name) => {
    const k = batch.schema.fields.findIndex((f) => f.name === name);
    if (k < 0) {
      throw new LakeSoulError('InvalidArgument', `primary key column '${name}' is missing`, { context: { column: name } });
    }
    return keyColumn(cols[k], name);
  });
}

/**
 * Row indices of a batch (or table, global rows) in ascending PK order. STABLE: rows with equal keys
 * keep their input order (so the last of equal keys stays last, as merge-on-read expects).
 */
export function sortIndicesByPk(input: RecordBatch | Table, pkColumns: readonly string[]): Uint32Array {
  const batches = input instanceof RecordBatch ? [input] : input.batches;
  const keys = batches.map((b) => keyColumnsOf(b, pkColumns));
  const total = batches.reduce((s, b) => s + b.numRows, 0);
  const idx = new Uint32Array(total);
  for (let i = 0; i < total; i++) idx[i] = i;
  // Single integer key: radix sort (no comparator calls).
  const radix = pkColumns.length === 1 ? integerSortKeys(keys.map((k) => k[0]), total) : null;
  if (radix !== null) return ascending(radix) ? idx : radixSortIndices(radix.lo, radix.hi, radix.nulls, idx);
  const batchOf = new Uint32Array(total);
  const rowOf = new Uint32Array(total);
  let p = 0;
  for (let b = 0; b < batches.length; b++) {
    for (let r = 0; r < batches[b].numRows; r++, p++) {
      batchOf[p] = b;
      rowOf[p] = r;
    }
  }
  const cmp = (x: number, y: number): number => {
    const r = compareKeyRows(keys[batchOf[x]], rowOf[x], keys[batchOf[y]], rowOf[y]);
    return r !== 0 ? r : x - y;
  };
  // Single numeric key (see numericKeys): compare plain numbers.
  const nums = pkColumns.length === 1 ? keys.map((k) => numericKeys(k[0])) : [];
  if (pkColumns.length === 1 && nums.every((x) => x !== null)) {
    const vals = new Float64Array(total);
    let q = 0;
    for (const x of nums) for (let r = 0; r < x!.length; r++) vals[q++] = x![r];
    // already sorted (common: input often arrives in key order): identity
    let sorted = true;
    for (let i = 1; i < total; i++) {
      if (vals[i - 1] > vals[i]) {
        sorted = false;
        break;
      }
    }
    if (sorted) return idx;
    {
      const arr = Array.from(idx);
      arr.sort((x, y) => {
        const a = vals[x];
        const b = vals[y];
        return a < b ? -1 : a > b ? 1 : x - y;
      });
      return Uint32Array.from(arr);
    }
  }
  let sorted = true;
  for (let i = 1; i < total; i++) {
    if (cmp(i - 1, i) > 0) {
      sorted = false;
      break;
    }
  }
  if (sorted) return idx;
  const arr = Array.from(idx);
  arr.sort(cmp);
  return Uint32Array.from(arr);
}

/**
 * The keys of a single-column key as plain numbers ordered exactly like {@link compareKeyValues}, or
 * null when that is not possible (strings, 64-bit values beyond ±2^53, floats with NaN, or nulls in
 * a column that may hold -Infinity). Nulls map to -Infinity (nulls first). Lets merges of numeric
 * keys compare with `<` and `===` on typed arrays.
 */
export function numericKeys(k: KeyColumn): ArrayLike<number> | null {
  const n = k.length;
  if (k.kind === K_NUM) {
    const num = k.num!;
    const isFloat = num instanceof Float32Array || num instanceof Float64Array;
    if (isFloat) {
      for (let i = 0; i < n; i++) {
        const v = num[i];
        if (v !== v && (k.valid === null || k.valid[i] === 1)) return null;
        if (k.valid !== null && v === -Infinity && k.valid[i] === 1) return null;
      }
    }
    if (k.valid === null) return num;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = k.valid[i] === 1 ? num[i] : -Infinity;
    return out;
  }
  if (k.kind === K_I64 || k.kind === K_U64) {
    const w = k.words!;
    const out = new Float64Array(n);
    const native = k.kind === K_I64 && k.valid === null && n >= 1024 ? nativeParquet() : null;
    if (native !== null) return native.i64KeysAsF64(w.length === 2 * n ? w : w.subarray(0, 2 * n), out) ? out : null;
    const unsigned = k.kind === K_U64;
    for (let i = 0; i < n; i++) {
      if (k.valid !== null && k.valid[i] === 0) {
        out[i] = -Infinity;
        continue;
      }
      const hi = unsigned ? w[2 * i + 1] >>> 0 : w[2 * i + 1];
      if (hi >= 0x200000 || hi < -0x200000) return null;
      out[i] = hi * 4294967296 + (w[2 * i] >>> 0);
    }
    return out;
  }
  return null;
}

/** Integer sort keys of one key column over all batches: unsigned 32-bit words ordered like the keys. */
interface IntegerSortKeys {
  lo: Uint32Array;
  /** High words (64-bit keys), or null when the keys fit 32 bits. */
  hi: Uint32Array | null;
  /** Rows whose key is null (they sort first), or null when there are none. */
  nulls: Uint8Array | null;
}

/**
 * The keys of a single integer key column (over the key columns of several batches) as unsigned
 * words whose unsigned order is the key order: signed values have their sign bit flipped. Null for
 * other key kinds (floats, strings, decimals, booleans).
 */
function integerSortKeys(cols: readonly KeyColumn[], total: number): IntegerSortKeys | null {
  const kind = cols[0]?.kind;
  if (kind === undefined || cols.some((c) => c.kind !== kind)) return null;
  const wide = kind === K_I64 || kind === K_U64;
  if (!wide) {
    if (kind !== K_NUM) return null;
    // 8/16/32-bit integers only (floats keep the comparator: NaN and -0.0 rules)
    for (const c of cols) {
      const num = c.num!;
      if (!(num instanceof Int8Array || num instanceof Int16Array || num instanceof Int32Array || num instanceof Uint8Array || num instanceof Uint16Array || num instanceof Uint32Array)) return null;
    }
  }
  const lo = new Uint32Array(total);
  const hi = wide ? new Uint32Array(total) : null;
  let nulls: Uint8Array | null = null;
  let p = 0;
  for (const c of cols) {
    const n = c.length;
    if (wide) {
      const w = c.words!;
      const flip = kind === K_I64 ? 0x80000000 : 0;
      for (let i = 0; i < n; i++, p++) {
        lo[p] = w[2 * i];
        hi![p] = w[2 * i + 1] ^ flip;
      }
    } else {
      const num = c.num! as Int32Array | Uint32Array;
      const flip = num instanceof Uint8Array || num instanceof Uint16Array || num instanceof Uint32Array ? 0 : 0x80000000;
      for (let i = 0; i < n; i++, p++) lo[p] = num[i] ^ flip;
    }
    if (c.valid !== null) {
      nulls ??= new Uint8Array(total);
      const base = p - n;
      for (let i = 0; i < n; i++) nulls[base + i] = c.valid[i] ^ 1;
    }
  }
  return { lo, hi, nulls };
}

/**
 * True when the keys are already in order, without nulls (input often arrives in key order: then the
 * identity order is the stable sort, found in one pass that stops at the first descent).
 */
function ascending({ lo, hi, nulls }: IntegerSortKeys): boolean {
  if (nulls !== null) return false;
  const n = lo.length;
  if (hi === null) {
    for (let i = 1; i < n; i++) if (lo[i - 1] > lo[i]) return false;
    return true;
  }
  for (let i = 1; i < n; i++) {
    const a = hi[i - 1];
    const b = hi[i];
    if (a > b || (a === b && lo[i - 1] > lo[i])) return false;
  }
  return true;
}

/**
 * Stable LSD radix sort of `idx` by (hi, lo) (16-bit digits; the histograms of all digits come from
 * one pass, and a digit that is the same for every row costs no pass, so keys of small range or
 * with a constant high word sort in one or two passes). Keys travel with the indices, so every pass
 * reads sequentially. Null rows come first, in input order.
 */
function radixSortIndices(lo: Uint32Array, hi: Uint32Array | null, nulls: Uint8Array | null, idx: Uint32Array): Uint32Array {
  let a: Uint32Array = idx;
  let ka: Uint32Array = lo;
  let kb: Uint32Array | null = hi;
  let head: Uint32Array | null = null;
  if (nulls !== null) {
    // stable partition: null rows first, the rest sorted below
    let k = 0;
    for (let i = 0; i < idx.length; i++) if (nulls[i] === 1) k++;
    head = new Uint32Array(k);
    const rest = new Uint32Array(idx.length - k);
    const rlo = new Uint32Array(rest.length);
    const rhi = hi === null ? null : new Uint32Array(rest.length);
    let x = 0;
    let y = 0;
    for (let i = 0; i < idx.length; i++) {
      if (nulls[i] === 1) head[x++] = i;
      else {
        rlo[y] = lo[i];
        if (rhi !== null) rhi[y] = hi![i];
        rest[y++] = i;
      }
    }
    a = rest;
    ka = rlo;
    kb = rhi;
  }
  const n = a.length;
  const digits = kb === null ? 2 : 4;
  const hist = new Uint32Array(digits * 65536);
  for (let i = 0; i < n; i++) {
    const l = ka[i];
    hist[l & 0xffff]++;
    hist[65536 + (l >>> 16)]++;
  }
  if (kb !== null) {
    for (let i = 0; i < n; i++) {
      const h = kb[i];
      hist[131072 + (h & 0xffff)]++;
      hist[196608 + (h >>> 16)]++;
    }
  }
  let b: Uint32Array = new Uint32Array(n);
  // the key arrays are this sort's own (built by integerSortKeys or above): reordered in place
  let la: Uint32Array = ka;
  let lb: Uint32Array = new Uint32Array(n);
  let ha: Uint32Array | null = kb;
  let hb: Uint32Array | null = kb === null ? null : new Uint32Array(n);
  for (let d = 0; d < digits && n > 0; d++) {
    const base = d * 65536;
    const shift = (d & 1) * 16;
    const fromHi = d >= 2;
    const keys = fromHi ? ha! : la;
    if (hist[base + ((keys[0] >>> shift) & 0xffff)] === n) continue;
    let sum = 0;
    for (let v = 0; v < 65536; v++) {
      const c = hist[base + v];
      hist[base + v] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const pos = hist[base + ((keys[i] >>> shift) & 0xffff)]++;
      b[pos] = a[i];
      lb[pos] = la[i];
      if (hb !== null) hb[pos] = ha![i];
    }
    [a, b] = [b, a];
    [la, lb] = [lb, la];
    if (hb !== null) [ha, hb] = [hb, ha];
  }
  if (head === null) return a;
  const out = new Uint32Array(head.length + n);
  out.set(head, 0);
  out.set(a, head.length);
  return out;
}
