/**
 * Gathering rows: `take` from one or many sources into a single new `Data`, and the batch helpers
 * built on it (takeRows, concatBatches, sliceBatch, projectBatch, nullColumn). Work is done on the
 * buffers directly, one pass per column; no per-row objects are created.
 */
import {
  Data,
  DataType,
  Dictionary,
  Field,
  FixedSizeList,
  RecordBatch,
  Schema,
  Table,
  Type,
  makeData,
  makeVector,
  type Vector,
} from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { batchColumns, batchesOf, lastStartAtMost, makeBatch } from './data-access.js';
import { nativeParquet } from '../parquet/parquet-native.js';

/** Row selectors of {@link gatherData}: an optional source index per output row and a row index (-1 = null). */
export type SourceIndex = Uint8Array | Uint16Array | Uint32Array | Int32Array | null;

function buildValidity(
  sources: readonly Data[],
  src: SourceIndex,
  rows: Int32Array | Uint32Array,
): { bitmap: Uint8Array; nullCount: number } {
  const n = rows.length;
  let bitmap = new Uint8Array(0);
  let nulls = 0;
  // Pre-compute per-source bitmap access (null when the source has no nulls).
  const bms: (Uint8Array | null)[] = new Array(sources.length);
  const offs = new Int32Array(sources.length);
  for (let s = 0; s < sources.length; s++) {
    const d = sources[s];
    if (d.typeId === Type.Null) {
      bms[s] = new Uint8Array(((d.length + 7) >> 3) + 1); // all null
      offs[s] = 0;
    } else {
      const bm = d.nullBitmap;
      bms[s] = bm !== undefined && bm.length > 0 && d.nullCount > 0 ? bm : null;
      offs[s] = d.offset;
    }
  }
  if (bms.every((b) => b === null)) {
    // no source has nulls: only selectors < 0 are null
    let neg = 0;
    for (let i = 0; i < n; i++) if ((rows[i] as number) < 0) neg++;
    if (neg === 0) return { bitmap, nullCount: 0 };
  }
  bitmap = new Uint8Array(((n + 63) & ~63) >> 3);
  for (let i = 0; i < n; i++) {
    const r = rows[i] as number;
    if (r < 0) {
      nulls++;
      continue;
    }
    const s = src === null ? 0 : src[i];
    const bm = bms[s];
    if (bm !== null) {
      const pos = offs[s] + r;
      if ((bm[pos >> 3] & (1 << (pos & 7))) === 0) {
        nulls++;
        continue;
      }
    }
    bitmap[i >> 3] |= 1 << (i & 7);
  }
  return { bitmap, nullCount: nulls };
}

function unsupported(type: DataType, what: string): LakeSoulError {
  return new LakeSoulError('Unsupported', `${what}: Arrow type ${type} is not supported`);
}

/**
 * Gather rows from one or more `Data` of the same type into a new `Data` of `type`.
 * Output row `i` is row `rows[i]` of `sources[src ? src[i] : 0]`, or null when `rows[i] < 0`.
 * Works for null, bool, all fixed-width types, (large) utf8/binary, list, map, fixed-size list,
 * struct and dictionaries that share one dictionary vector.
 */
export function gatherData(type: DataType, sources: readonly Data[], src: SourceIndex, rows: Int32Array | Uint32Array): Data {
  const n = rows.length;
  const typeId = type.typeId;
  if (typeId === Type.Null) return makeData({ type: type as any, length: n }) as Data;
  const { bitmap, nullCount } = buildValidity(sources, src, rows);
  const nullBitmap = nullCount === 0 ? new Uint8Array(0) : bitmap;
  const single = src === null;

  switch (typeId) {
    case Type.Bool: {
      const out = new Uint8Array(((n + 63) & ~63) >> 3);
      for (let i = 0; i < n; i++) {
        const r = rows[i] as number;
        if (r < 0) continue;
        const d = sources[single ? 0 : src[i]];
        const pos = d.offset + r;
        if (((d.values as Uint8Array)[pos >> 3] & (1 << (pos & 7))) !== 0) out[i >> 3] |= 1 << (i & 7);
      }
      return makeData({ type: type as any, length: n, nullCount, nullBitmap, data: out }) as Data;
    }
    case Type.Int:
    case Type.Float:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
    case Type.Duration:
    case Type.Interval:
    case Type.Decimal:
    case Type.FixedSizeBinary: {
      let stride = strideOf(type);
      const Ctor = (sources.length > 0 ? (sources[0].values as any).constructor : type.ArrayType) as any;
      const big = Ctor === BigInt64Array || Ctor === BigUint64Array;
      // 64-bit integers are copied as pairs of 32-bit words: reading a BigInt64Array allocates.
      const view = (v: any): any => (big ? new Int32Array(v.buffer, v.byteOffset, v.length * 2) : v);
      const outWords = big ? new Int32Array(n * stride * 2) : new Ctor(n * stride);
      if (big) stride *= 2;
      const out: any = outWords;
      const vals = sources.map((d) => view(d.values));
      if (n >= NATIVE_GATHER_MIN_ROWS && vals.length > 0 && nativeGatherFixed(vals, out.BYTES_PER_ELEMENT * stride, src, rows, out)) {
        // done by the addon
      } else if (stride === 1 && out instanceof Float64Array) gatherF64(out, vals as Float64Array[], src, rows);
      else if (stride === 1 && out instanceof Int32Array) gatherI32(out, vals as Int32Array[], src, rows);
      else if (stride === 2 && out instanceof Int32Array) gatherI32x2(out, vals as Int32Array[], src, rows);
      else if (stride === 1) {
        for (let i = 0; i < n; i++) {
          const r = rows[i] as number;
          if (r >= 0) out[i] = vals[single ? 0 : src[i]][r];
        }
      } else {
        for (let i = 0; i < n; i++) {
          const r = rows[i] as number;
          if (r < 0) continue;
          const v = vals[single ? 0 : src[i]];
          const a = r * stride;
          const b = i * stride;
          for (let k = 0; k < stride; k++) out[b + k] = v[a + k];
        }
      }
      const data = big ? new Ctor(outWords.buffer, 0, n * (stride / 2)) : outWords;
      return makeData({ type: type as any, length: n, nullCount, nullBitmap, data }) as Data;
    }
    case Type.Utf8:
    case Type.Binary:
    case Type.LargeUtf8:
    case Type.LargeBinary: {
      const large = typeId === Type.LargeUtf8 || typeId === Type.LargeBinary;
      const anyBig = sources.some((d) => d.valueOffsets instanceof BigInt64Array);
      if (!large && !anyBig) {
        const offs = sources.map((d) => d.valueOffsets as Int32Array);
        const { data, valueOffsets } = gatherBytes32(sources.map((d) => d.values as Uint8Array), offs.length > 0 ? offs : [new Int32Array(1)], src, rows, type);
        return makeData({ type: type as any, length: n, nullCount, nullBitmap, valueOffsets, data }) as Data;
      }
      // Large types (64-bit offsets, BigInt64Array from apache-arrow) and sources mixing offset widths.
      const starts = new Float64Array(n);
      const lens = new Int32Array(n);
      let total = 0;
      const offArrays = sources.map((d) => d.valueOffsets as Int32Array | BigInt64Array);
      for (let i = 0; i < n; i++) {
        const r = rows[i] as number;
        if (r < 0) continue;
        const o = offArrays[single ? 0 : src[i]];
        const a = Number(o[r]);
        const b = Number(o[r + 1]);
        starts[i] = a;
        lens[i] = b - a;
        total += b - a;
      }
      if (!large && total > 0x7fffffff) {
        throw new LakeSoulError('Unsupported', `gathered ${type} column exceeds 2 GiB of values; use smaller batches`);
      }
      const out = new Uint8Array(total);
      const vals = sources.map((d) => d.values as Uint8Array);
      const offsets32 = large ? null : new Int32Array(n + 1);
      const offsets64 = large ? new BigInt64Array(n + 1) : null;
      let pos = 0;
      // copy contiguous byte ranges of consecutive rows of one source at once
      let segSrc = -1;
      let segStart = 0;
      let segEnd = 0;
      let segPos = 0;
      const copySeg = (): void => {
        const len = segEnd - segStart;
        if (len <= 0) return;
        const v = vals[segSrc];
        if (len < 32) for (let k = 0; k < len; k++) out[segPos + k] = v[segStart + k];
        else out.set(v.subarray(segStart, segEnd), segPos);
      };
      for (let i = 0; i < n; i++) {
        if (offsets32 !== null) offsets32[i] = pos;
        else offsets64![i] = BigInt(pos);
        const len = lens[i];
        if (len === 0) continue;
        const s = single ? 0 : src![i];
        const a = starts[i];
        if (s === segSrc && a === segEnd) {
          segEnd += len;
        } else {
          copySeg();
          segSrc = s;
          segStart = a;
          segEnd = a + len;
          segPos = pos;
        }
        pos += len;
      }
      copySeg();
      if (offsets32 !== null) offsets32[n] = pos;
      else offsets64![n] = BigInt(pos);
      return makeData({
        type: type as any,
        length: n,
        nullCount,
        nullBitmap,
        valueOffsets: (offsets32 ?? offsets64) as any,
        data: out,
      }) as Data;
    }
    case Type.List:
    case Type.Map: {
      const offsets = new Int32Array(n + 1);
      const offArrays = sources.map((d) => d.valueOffsets as Int32Array);
      let total = 0;
      for (let i = 0; i < n; i++) {
        offsets[i] = total;
        const r = rows[i] as number;
        if (r >= 0) {
          const o = offArrays[single ? 0 : src[i]];
          total += o[r + 1] - o[r];
        }
      }
      offsets[n] = total;
      const childRows = new Int32Array(total);
      const childSrc = single ? null : sources.length <= 256 ? new Uint8Array(total) : new Uint32Array(total);
      let p = 0;
      for (let i = 0; i < n; i++) {
        const r = rows[i] as number;
        if (r < 0) continue;
        const s = single ? 0 : src[i];
        const o = offArrays[s];
        for (let k = o[r]; k < o[r + 1]; k++) {
          childRows[p] = k;
          if (childSrc !== null) childSrc[p] = s;
          p++;
        }
      }
      const childType = type.children[0].type;
      const child = gatherData(childType, sources.map((d) => d.children[0]), childSrc, childRows);
      return makeData({ type: type as any, length: n, nullCount, nullBitmap, valueOffsets: offsets, child }) as Data;
    }
    case Type.FixedSizeList: {
      const size = (type as FixedSizeList).listSize;
      const childRows = new Int32Array(n * size);
      const childSrc = single ? null : sources.length <= 256 ? new Uint8Array(n * size) : new Uint32Array(n * size);
      for (let i = 0; i < n; i++) {
        const r = rows[i] as number;
        const b = i * size;
        if (r < 0) {
          for (let k = 0; k < size; k++) childRows[b + k] = -1;
        } else {
          const a = r * size;
          for (let k = 0; k < size; k++) childRows[b + k] = a + k;
        }
        if (childSrc !== null) childSrc.fill(src![i], b, b + size);
      }
      const child = gatherData(type.children[0].type, sources.map((d) => d.children[0]), childSrc, childRows);
      return makeData({ type: type as any, length: n, nullCount, nullBitmap, child }) as Data;
    }
    case Type.Struct: {
      const children = type.children.map((f: Field, k: number) =>
        gatherData(f.type, sources.map((d) => d.children[k]), src, rows),
      );
      return makeData({ type: type as any, length: n, nullCount, nullBitmap, children }) as Data;
    }
    case Type.Dictionary: {
      const dict = sources.length > 0 ? sources[0].dictionary : undefined;
      if (sources.some((d) => d.dictionary !== dict)) {
        throw unsupported(type, 'gathering dictionary columns with different dictionaries');
      }
      const indexType = (type as Dictionary).indices;
      const idx = gatherData(indexType, sources.map((d) => d.clone(indexType as any)), src, rows);
      return makeData({
        type: type as any,
        length: n,
        nullCount,
        nullBitmap,
        data: idx.values,
        dictionary: dict ?? makeVector(makeData({ type: (type as Dictionary).dictionary as any, length: 0 }) as Data),
      }) as Data;
    }
    default:
      throw unsupported(type, 'gathering rows');
  }
}

/** Gathers of fewer rows stay in JavaScript (a native call costs a few microseconds). */
const NATIVE_GATHER_MIN_ROWS = 256;

/**
 * {@link gatherBytes32} by the native addon (3-5x faster on random rows, where the JavaScript loops
 * wait on memory), or null to do it here: no addon, a source index of 8 or 16 bits, or input the
 * addon refuses (the loops below then report it their way).
 */
function nativeGather(vals: Uint8Array[], offs: Int32Array[], src: SourceIndex, rows: Int32Array | Uint32Array, type: DataType): { data: Uint8Array; valueOffsets: Int32Array } | null {
  const native = nativeParquet();
  if (native === null || !(src === null || src instanceof Uint32Array || src instanceof Int32Array)) return null;
  const r32 = rows instanceof Int32Array ? rows : new Int32Array(rows.buffer, rows.byteOffset, rows.length);
  const s32 = src === null || src instanceof Uint32Array ? src : new Uint32Array(src.buffer, src.byteOffset, src.length);
  const valueOffsets = new Int32Array(rows.length + 1);
  try {
    return { data: native.gatherBytes(vals, offs, s32, r32, valueOffsets), valueOffsets };
  } catch (e) {
    if (e instanceof Error && e.message.includes('2 GiB')) throw new LakeSoulError('Unsupported', `gathered ${type} column exceeds 2 GiB of values; use smaller batches`);
    return null;
  }
}

/**
 * Fixed-width values gathered by the native addon (a memory-bound loop of random reads: 2-4x the
 * JavaScript loops). False, with nothing done, when it is not there or the source index is not 32-bit.
 */
function nativeGatherFixed(vals: ArrayBufferView[], width: number, src: SourceIndex, rows: Int32Array | Uint32Array, out: ArrayBufferView): boolean {
  const native = nativeParquet();
  if (native === null || !(src === null || src instanceof Uint32Array || src instanceof Int32Array)) return false;
  const bytes = (v: ArrayBufferView): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const r32 = rows instanceof Int32Array ? rows : new Int32Array(rows.buffer, rows.byteOffset, rows.length);
  const s32 = src === null || src instanceof Uint32Array ? src : new Uint32Array(src.buffer, src.byteOffset, src.length);
  native.gatherFixed(vals.map(bytes), width, s32, r32, bytes(out));
  return true;
}

/**
 * Variable-width values with 32-bit offsets: the output offsets first (one pass over the lengths),
 * then the bytes, a run of consecutive rows of one source copied as one range. Everything the loops
 * touch is a local (a closure over the run's bounds kept them in a heap context: 3-4x slower on
 * random rows).
 */
function gatherBytes32(vals: Uint8Array[], offs: Int32Array[], src: SourceIndex, rows: Int32Array | Uint32Array, type: DataType): { data: Uint8Array; valueOffsets: Int32Array } {
  const n = rows.length;
  const native = n >= NATIVE_GATHER_MIN_ROWS ? nativeGather(vals, offs, src, rows, type) : null;
  if (native !== null) return native;
  const valueOffsets = new Int32Array(n + 1);
  let total = 0;
  if (src === null) {
    const o = offs[0];
    for (let i = 0; i < n; i++) {
      valueOffsets[i] = total;
      const r = rows[i];
      if (r >= 0) total += o[r + 1] - o[r];
    }
  } else {
    for (let i = 0; i < n; i++) {
      valueOffsets[i] = total;
      const r = rows[i];
      if (r >= 0) {
        const o = offs[src[i]];
        total += o[r + 1] - o[r];
      }
    }
  }
  if (total > 0x7fffffff) throw new LakeSoulError('Unsupported', `gathered ${type} column exceeds 2 GiB of values; use smaller batches`);
  valueOffsets[n] = total;
  const data = new Uint8Array(total);
  let i = 0;
  while (i < n) {
    const r = rows[i] as number;
    if (r < 0) {
      i++;
      continue;
    }
    const s = src === null ? 0 : src[i];
    let last = r;
    let j = i + 1;
    while (j < n && rows[j] === last + 1 && (src === null || src[j] === s)) {
      last++;
      j++;
    }
    const o = offs[s];
    const v = vals[s];
    const a = o[r];
    const len = o[last + 1] - a;
    const at = valueOffsets[i];
    if (len < 64) for (let k = 0; k < len; k++) data[at + k] = v[a + k];
    else data.set(v.subarray(a, a + len), at);
    i = j;
  }
  return { data, valueOffsets };
}

// Monomorphic gathers for the common value layouts (each loop sees one typed-array kind).
function gatherF64(out: Float64Array, vals: Float64Array[], src: SourceIndex, rows: Int32Array | Uint32Array): void {
  const n = rows.length;
  if (src === null) {
    const v = vals[0];
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      if (r >= 0) out[i] = v[r];
    }
  } else {
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      if (r >= 0) out[i] = vals[src[i]][r];
    }
  }
}

function gatherI32(out: Int32Array, vals: Int32Array[], src: SourceIndex, rows: Int32Array | Uint32Array): void {
  const n = rows.length;
  if (src === null) {
    const v = vals[0];
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      if (r >= 0) out[i] = v[r];
    }
  } else {
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      if (r >= 0) out[i] = vals[src[i]][r];
    }
  }
}

function gatherI32x2(out: Int32Array, vals: Int32Array[], src: SourceIndex, rows: Int32Array | Uint32Array): void {
  const n = rows.length;
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (r < 0) continue;
    const v = vals[src === null ? 0 : src[i]];
    out[2 * i] = v[2 * r];
    out[2 * i + 1] = v[2 * r + 1];
  }
}

function strideOf(type: DataType): number {
  switch (type.typeId) {
    case Type.Decimal:
      return (type as any).bitWidth / 32;
    case Type.FixedSizeBinary:
      return (type as any).byteWidth;
    case Type.Interval: {
      const unit = (type as any).unit as number;
      return unit === 2 ? 4 : 1 + unit;
    }
    default:
      return 1;
  }
}

/** Map global row indices of a multi-batch input to (batch, row) selectors. */
function locate(batches: RecordBatch[], indices: ArrayLike<number>): { src: Uint32Array | null; rows: Int32Array } {
  const n = indices.length;
  const rows = new Int32Array(n);
  if (batches.length === 1) {
    const len = batches[0].numRows;
    for (let i = 0; i < n; i++) {
      const r = indices[i];
      if (!(r >= 0 && r < len)) throw new LakeSoulError('InvalidArgument', `row index ${r} out of range [0, ${len})`);
      rows[i] = r;
    }
    return { src: null, rows };
  }
  const starts = new Float64Array(batches.length + 1);
  for (let b = 0; b < batches.length; b++) starts[b + 1] = starts[b] + batches[b].numRows;
  const total = starts[batches.length];
  const src = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const r = indices[i];
    if (!(r >= 0 && r < total)) throw new LakeSoulError('InvalidArgument', `row index ${r} out of range [0, ${total})`);
    let lo = lastStartAtMost(starts, batches.length, r);
    // skip empty batches ending at the same start
    while (batches[lo].numRows === 0 || starts[lo + 1] <= r) lo++;
    src[i] = lo;
    rows[i] = r - starts[lo];
  }
  return { src, rows };
}

/**
 * Rows `indices` of a batch or table (global row numbers for a table), in that order, as one batch
 * with the input's schema. Indices may repeat. Throws InvalidArgument for an out-of-range index.
 */
export function takeRows(input: RecordBatch | Table, indices: ArrayLike<number>): RecordBatch {
  const batches = batchesOf(input);
  const schema = input.schema;
  if (batches.length === 0) {
    if (indices.length > 0) throw new LakeSoulError('InvalidArgument', 'takeRows: indices into an empty table');
    return makeBatch(schema, schema.fields.map((f) => nullColumn(f, 0).data[0]), 0);
  }
  const { src, rows } = locate(batches, indices);
  const cols = schema.fields.map((f, k) =>
    gatherData(f.type, batches.map((b) => batchColumns(b)[k]), src, rows),
  );
  return makeBatch(schema, cols, indices.length);
}

/**
 * Concatenate batches of one schema (field names and types must match the first batch's) into a
 * single batch. An empty list needs `schema`.
 */
export function concatBatches(batches: readonly RecordBatch[], schema?: Schema): RecordBatch {
  const sch = schema ?? batches[0]?.schema;
  if (sch === undefined) throw new LakeSoulError('InvalidArgument', 'concatBatches: no batches and no schema');
  const nonEmpty = batches.filter((b) => b.numRows > 0);
  if (nonEmpty.length === 1 && nonEmpty[0].schema === sch) return nonEmpty[0];
  let total = 0;
  for (const b of nonEmpty) {
    if (b.numCols !== sch.fields.length) {
      throw new LakeSoulError('SchemaMismatch', `concatBatches: batch has ${b.numCols} columns, expected ${sch.fields.length}`);
    }
    total += b.numRows;
  }
  const cols = sch.fields.map((f, k) => {
    const datas = nonEmpty.map((b) => batchColumns(b)[k]);
    for (const d of datas) {
      if (d.typeId !== f.type.typeId) {
        throw new LakeSoulError('SchemaMismatch', `concatBatches: column '${f.name}' has type ${d.type}, expected ${f.type}`, {
          context: { column: f.name },
        });
      }
    }
    return concatData(f.type, datas);
  });
  return makeBatch(sch, cols, total);
}

/** Validity of the concatenation (empty when nothing is null). */
function concatValidity(datas: readonly Data[], total: number): { nullBitmap: Uint8Array; nullCount: number } {
  let nullCount = 0;
  for (const d of datas) nullCount += d.typeId === Type.Null ? d.length : d.nullCount;
  if (nullCount === 0) return { nullBitmap: new Uint8Array(0), nullCount: 0 };
  const out = new Uint8Array(((total + 63) & ~63) >> 3);
  let pos = 0;
  for (const d of datas) {
    const bm = d.nullBitmap;
    if (d.nullCount === 0 || bm === undefined || bm.length === 0) {
      if (d.typeId !== Type.Null) for (let i = 0; i < d.length; i++, pos++) out[pos >> 3] |= 1 << (pos & 7);
      else pos += d.length;
      continue;
    }
    const off = d.offset;
    for (let i = 0; i < d.length; i++, pos++) {
      const p = off + i;
      if ((bm[p >> 3] & (1 << (p & 7))) !== 0) out[pos >> 3] |= 1 << (pos & 7);
    }
  }
  return { nullBitmap: out, nullCount };
}

/**
 * Concatenate `Data` of one type into one, copying whole value blocks (typed-array `set`) rather
 * than row by row; types without a block layout fall back to {@link gatherData}.
 */
export function concatData(type: DataType, datas: readonly Data[]): Data {
  let total = 0;
  for (const d of datas) total += d.length;
  if (datas.length === 1 && datas[0].offset === 0) return datas[0];
  const typeId = type.typeId;
  if (typeId === Type.Null) return makeData({ type: type as any, length: total }) as Data;
  const fallback = (): Data => {
    const src = datas.length <= 256 ? new Uint8Array(total) : new Uint32Array(total);
    const rows = new Int32Array(total);
    let p = 0;
    datas.forEach((d, b) => {
      src.fill(b, p, p + d.length);
      for (let r = 0; r < d.length; r++) rows[p + r] = r;
      p += d.length;
    });
    return gatherData(type, datas, src, rows);
  };
  switch (typeId) {
    case Type.Int:
    case Type.Float:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
    case Type.Duration:
    case Type.Interval:
    case Type.Decimal:
    case Type.FixedSizeBinary: {
      const stride = strideOf(type);
      const Ctor = (datas.length > 0 ? (datas[0].values as any).constructor : type.ArrayType) as any;
      const out = new Ctor(total * stride);
      let pos = 0;
      for (const d of datas) {
        out.set((d.values as any).subarray(0, d.length * stride), pos * stride);
        pos += d.length;
      }
      const { nullBitmap, nullCount } = concatValidity(datas, total);
      return makeData({ type: type as any, length: total, nullCount, nullBitmap, data: out }) as Data;
    }
    case Type.Utf8:
    case Type.Binary:
    case Type.LargeUtf8:
    case Type.LargeBinary: {
      const large = typeId === Type.LargeUtf8 || typeId === Type.LargeBinary;
      let bytes = 0;
      for (const d of datas) {
        const o = d.valueOffsets as Int32Array | BigInt64Array;
        bytes += Number(o[d.length]) - Number(o[0]);
      }
      if (!large && bytes > 0x7fffffff) return fallback();
      const values = new Uint8Array(bytes);
      const offsets: Int32Array | BigInt64Array = large ? new BigInt64Array(total + 1) : new Int32Array(total + 1);
      let pos = 0;
      let bpos = 0;
      for (const d of datas) {
        const o = d.valueOffsets as Int32Array | BigInt64Array;
        const base = Number(o[0]);
        const end = Number(o[d.length]);
        values.set((d.values as Uint8Array).subarray(base, end), bpos);
        if (o instanceof Int32Array && offsets instanceof Int32Array) {
          const shift = bpos - base;
          for (let i = 0; i < d.length; i++) offsets[pos + i] = o[i] + shift;
        } else {
          for (let i = 0; i < d.length; i++) {
            const v = Number(o[i]) - base + bpos;
            if (offsets instanceof BigInt64Array) offsets[pos + i] = BigInt(v);
            else offsets[pos + i] = v;
          }
        }
        pos += d.length;
        bpos += end - base;
      }
      if (offsets instanceof BigInt64Array) offsets[total] = BigInt(bpos);
      else offsets[total] = bpos;
      const { nullBitmap, nullCount } = concatValidity(datas, total);
      return makeData({ type: type as any, length: total, nullCount, nullBitmap, valueOffsets: offsets as any, data: values }) as Data;
    }
    case Type.List: {
      const offsets = new Int32Array(total + 1);
      const children: Data[] = [];
      let pos = 0;
      let cpos = 0;
      for (const d of datas) {
        const o = d.valueOffsets as Int32Array;
        const base = o[0];
        const end = o[d.length];
        children.push(d.children[0].slice(base, end - base));
        for (let i = 0; i < d.length; i++) offsets[pos + i] = o[i] - base + cpos;
        pos += d.length;
        cpos += end - base;
      }
      offsets[total] = cpos;
      const child = concatData(type.children[0].type, children);
      const { nullBitmap, nullCount } = concatValidity(datas, total);
      return makeData({ type: type as any, length: total, nullCount, nullBitmap, valueOffsets: offsets, child }) as Data;
    }
    case Type.FixedSizeList: {
      const size = (type as FixedSizeList).listSize;
      const child = concatData(
        type.children[0].type,
        datas.map((d) => d.children[0].slice(0, d.length * size)),
      );
      const { nullBitmap, nullCount } = concatValidity(datas, total);
      return makeData({ type: type as any, length: total, nullCount, nullBitmap, child }) as Data;
    }
    case Type.Struct: {
      const children = type.children.map((f: Field, k: number) =>
        concatData(f.type, datas.map((d) => (d.children[k].length === d.length ? d.children[k] : d.children[k].slice(0, d.length)))),
      );
      const { nullBitmap, nullCount } = concatValidity(datas, total);
      return makeData({ type: type as any, length: total, nullCount, nullBitmap, children }) as Data;
    }
    default:
      return fallback();
  }
}

/** Rows `[offset, offset + length)` of a batch, zero-copy. */
export function sliceBatch(batch: RecordBatch, offset: number, length: number): RecordBatch {
  const start = Math.max(0, Math.min(offset, batch.numRows));
  const end = Math.max(start, Math.min(start + length, batch.numRows));
  return batch.slice(start, end);
}

/**
 * The given columns of a batch, in the given order, zero-copy. A missing column is an
 * InvalidArgument naming it.
 */
export function projectBatch(batch: RecordBatch, columns: readonly string[]): RecordBatch {
  const fields: Field[] = [];
  const datas: Data[] = [];
  const cols = batchColumns(batch);
  for (const name of columns) {
    const k = batch.schema.fields.findIndex((f) => f.name === name);
    if (k < 0) {
      throw new LakeSoulError('InvalidArgument', `no column '${name}' (columns: ${batch.schema.fields.map((f) => f.name).join(', ')})`, {
        context: { column: name },
      });
    }
    fields.push(batch.schema.fields[k]);
    datas.push(cols[k]);
  }
  return makeBatch(new Schema(fields, batch.schema.metadata), datas, batch.numRows);
}

/** An all-null column of `field`'s type (any type gatherData supports, nested included). */
export function nullColumn(field: Field, length: number): Vector {
  const rows = new Int32Array(length).fill(-1);
  return makeVector(gatherData(field.type, [], null, rows));
}

/** Decode a dictionary-encoded `Data` to plain values of its value type (other data is returned as is). */
export function decodeDictionary(data: Data): Data {
  if (data.typeId !== Type.Dictionary) return data;
  const type = data.type as Dictionary;
  const dict = data.dictionary;
  const n = data.length;
  const rows = new Int32Array(n);
  const idx = data.values as any;
  const bm = data.nullBitmap;
  const hasNulls = bm !== undefined && bm.length > 0 && data.nullCount > 0;
  for (let i = 0; i < n; i++) {
    if (hasNulls) {
      const pos = data.offset + i;
      if ((bm![pos >> 3] & (1 << (pos & 7))) === 0) {
        rows[i] = -1;
        continue;
      }
    }
    rows[i] = Number(idx[i]);
  }
  if (dict === undefined || dict.data.length === 0) return gatherData(type.dictionary, [], null, rows.fill(-1));
  if (dict.data.length === 1) return gatherData(type.dictionary, [dict.data[0]], null, rows);
  // chunked dictionary: map global index -> (chunk, row)
  const starts: number[] = [];
  let acc = 0;
  for (const d of dict.data) {
    starts.push(acc);
    acc += d.length;
  }
  const src = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (r < 0) continue;
    let c = starts.length - 1;
    while (starts[c] > r) c--;
    src[i] = c;
    rows[i] = r - starts[c];
  }
  return gatherData(type.dictionary, dict.data, src, rows);
}
