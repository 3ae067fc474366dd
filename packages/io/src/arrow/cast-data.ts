/**
 * Casting column data to a target Arrow type. Only LOSSLESS conversions are performed, and values are
 * checked: a value that does not fit (an int out of range, a timestamp not representable in a coarser
 * unit, a list of the wrong length for a fixed-size list) is a SchemaMismatch error naming the column,
 * the file or table when known, and the row.
 *
 * Supported: identical types (relabelled to the target's field names), dictionary -> its value type
 * and onwards, null -> any type (all null), int <-> int of any width/sign (range-checked), int/float
 * -> float (exactness-checked), utf8 <-> large_utf8, binary <-> large_binary, utf8 -> binary,
 * timestamp unit/timezone changes (exactness-checked), date32 <-> date64, decimal precision widening
 * at equal scale, list / large_list / fixed_size_list between each other (lengths checked), struct
 * by field name (missing nullable children become null), map, time unit changes (exactness-checked).
 * Data decoded from Parquet ({@link CastContext.parquetStorage}) may also be a plain signed integer
 * standing for a temporal type of the same storage (date64 as INT64, time32[s] as INT32, duration).
 */
import {
  Data, DataType, Decimal, Field, FixedSizeList, Int, Struct, Timestamp, TimeUnit, Type, makeData,
} from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { decodeDictionary, gatherData } from './take-rows.js';
import { codecConverts, convertData } from './value-codec.js';

/** Where the data comes from, for error messages. */
export interface CastContext {
  column: string;
  file?: string;
  table?: string;
  /**
   * Also convert through the exact value codec when no direct conversion exists (float -> int when
   * integral, text -> temporal/decimal, numbers -> decimal, ...): the writer's input path. Readers
   * leave it off, so a file of an unexpected type fails instead of being reinterpreted.
   */
  convertValues?: boolean;
  /**
   * The data was decoded from a Parquet file: a plain signed integer of the target's storage width is
   * that temporal type's storage (Int32 -> date32/time32, Int64 -> date64/time64/duration, values in
   * the target's unit). Parquet has no annotation for date64, time32[s] or duration, so they are
   * written as bare INT64/INT32 and only the file's ARROW:schema restores their type: a file whose
   * ARROW:schema lacks it (a selective read's one-column page file, LakeSoul's Python wheel, which
   * declares date64/time32[s] as int64/int32 there, or a writer storing none) decodes to the integers,
   * and the table's type decides.
   */
  parquetStorage?: boolean;
}

function where(ctx: CastContext): string {
  return `column '${ctx.column}'${ctx.file ? ` of file '${ctx.file}'` : ''}${ctx.table ? ` of table '${ctx.table}'` : ''}`;
}

function mismatch(ctx: CastContext, msg: string, row?: number): LakeSoulError {
  return new LakeSoulError('SchemaMismatch', `${where(ctx)}: ${msg}${row !== undefined ? ` (row ${row})` : ''}`, {
    context: { column: ctx.column, file: ctx.file, table: ctx.table, ...(row !== undefined ? { row } : {}) },
  });
}

/** Structural type equality (ignores list child field names and nullability). */
export function sameType(a: DataType, b: DataType): boolean {
  if (a.typeId !== b.typeId) return false;
  if (a.children?.length || b.children?.length) {
    const ac = a.children ?? [];
    const bc = b.children ?? [];
    if (ac.length !== bc.length) return false;
    const named = a.typeId === Type.Struct;
    for (let k = 0; k < ac.length; k++) {
      if (named && ac[k].name !== bc[k].name) return false;
      if (!sameType(ac[k].type, bc[k].type)) return false;
    }
    if (a.typeId === Type.FixedSizeList) return (a as FixedSizeList).listSize === (b as FixedSizeList).listSize;
    return a.typeId !== Type.Map || (a as any).keysSorted === (b as any).keysSorted;
  }
  return String(a) === String(b);
}

function relabel(data: Data, target: DataType): Data {
  if (data.type === target) return data;
  if (data.length === 0) return gatherData(target, [], null, new Int32Array(0));
  if (target.typeId === Type.Struct) {
    return data.clone(target as any, data.offset, data.length, (data as any)._nullCount, data as any,
      data.children.map((c, k) => relabel(c, target.children[k].type)));
  }
  if (target.children?.length) {
    return data.clone(target as any, data.offset, data.length, (data as any)._nullCount, data as any,
      data.children.map((c) => relabel(c, target.children[0].type)));
  }
  return data.clone(target as any);
}

function validBitmap(data: Data): { bm: Uint8Array | null; off: number } {
  const bm = data.nullBitmap;
  return { bm: bm !== undefined && bm.length > 0 && data.nullCount > 0 ? bm : null, off: data.offset };
}

function isValid(v: { bm: Uint8Array | null; off: number }, i: number): boolean {
  if (v.bm === null) return true;
  const pos = v.off + i;
  return (v.bm[pos >> 3] & (1 << (pos & 7))) !== 0;
}

/** A copy of the validity of `data` re-based to offset 0. */
function rebasedBitmap(data: Data): Uint8Array {
  const v = validBitmap(data);
  if (v.bm === null) return new Uint8Array(0);
  if (data.offset === 0) return v.bm;
  const out = new Uint8Array(((data.length + 63) & ~63) >> 3);
  for (let i = 0; i < data.length; i++) if (isValid(v, i)) out[i >> 3] |= 1 << (i & 7);
  return out;
}

const INT_RANGES: Record<string, [bigint, bigint]> = {
  '8s': [-128n, 127n], '16s': [-32768n, 32767n], '32s': [-2147483648n, 2147483647n],
  '64s': [-(1n << 63n), (1n << 63n) - 1n], '8u': [0n, 255n], '16u': [0n, 65535n], '32u': [0n, 4294967295n],
  '64u': [0n, (1n << 64n) - 1n],
};

function castInt(data: Data, from: Int, to: Int, ctx: CastContext): Data {
  const n = data.length;
  const v = validBitmap(data);
  const src = data.values as any;
  const out = new (to.ArrayType as any)(n);
  const [lo, hi] = INT_RANGES[`${to.bitWidth}${to.isSigned ? 's' : 'u'}`];
  if (from.bitWidth < 64 && to.bitWidth < 64) {
    const l = Number(lo);
    const h = Number(hi);
    for (let i = 0; i < n; i++) {
      const x = src[i];
      if (x < l || x > h) {
        if (!isValid(v, i)) continue;
        throw mismatch(ctx, `value ${x} does not fit ${to}`, i);
      }
      out[i] = x;
    }
  } else if (from.bitWidth < 64 && to.bitWidth === 64 && to.isSigned) {
    // widening to int64 without BigInt allocation: write sign-extended word pairs
    const w = new Int32Array(out.buffer);
    for (let i = 0; i < n; i++) {
      const x = src[i];
      w[2 * i] = x | 0;
      w[2 * i + 1] = x < 0 ? -1 : 0;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const x = BigInt(src[i]);
      if (x < lo || x > hi) {
        if (!isValid(v, i)) continue;
        throw mismatch(ctx, `value ${x} does not fit ${to}`, i);
      }
      out[i] = to.bitWidth === 64 ? x : Number(x);
    }
  }
  return makeData({ type: to as any, length: n, nullCount: data.nullCount, nullBitmap: rebasedBitmap(data), data: out }) as Data;
}

function castToFloat(data: Data, to: DataType, ctx: CastContext): Data {
  const n = data.length;
  const v = validBitmap(data);
  const src = data.values as any;
  const precision = (to as any).precision as number;
  if (precision === 0) throw mismatch(ctx, `cannot convert ${data.type} to ${to}`);
  const out = precision === 1 ? new Float32Array(n) : new Float64Array(n);
  const fromHalf = data.typeId === Type.Float && (data.type as any).precision === 0;
  // integers must be exact in the float type; floats go to the nearest float32 (as pyarrow's and
  // Spark's casts do), a finite one beyond its range refused
  const fromInt = data.typeId === Type.Int;
  for (let i = 0; i < n; i++) {
    if (!isValid(v, i)) continue;
    let x: number;
    if (typeof src[i] === 'bigint') {
      x = Number(src[i]);
      if (BigInt(x) !== src[i]) throw mismatch(ctx, `value ${src[i]} is not exactly representable as ${to}`, i);
    } else if (fromHalf) {
      x = halfToFloat(src[i]);
    } else x = src[i];
    if (precision === 1) {
      const f = Math.fround(x);
      if (f !== x && x === x) {
        if (fromInt) throw mismatch(ctx, `value ${src[i]} is not exactly representable as ${to}`, i);
        if (!Number.isFinite(f) && Number.isFinite(x)) throw mismatch(ctx, `value ${x} is beyond the range of ${to}`, i);
      }
    }
    out[i] = x;
  }
  return makeData({ type: to as any, length: n, nullCount: data.nullCount, nullBitmap: rebasedBitmap(data), data: out }) as Data;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function castVarBinary(data: Data, to: DataType): Data {
  const n = data.length;
  const large = to.typeId === Type.LargeUtf8 || to.typeId === Type.LargeBinary;
  const offs = data.valueOffsets as Int32Array | BigInt64Array;
  let valueOffsets: Int32Array | BigInt64Array;
  if (large) {
    valueOffsets = offs instanceof BigInt64Array ? offs : BigInt64Array.from(offs, (x) => BigInt(x));
  } else if (offs instanceof BigInt64Array) {
    if (Number(offs[n]) > 0x7fffffff) {
      return gatherData(to, [data.clone(data.type)], null, Int32Array.from({ length: n }, (_, i) => i));
    }
    valueOffsets = Int32Array.from(offs, (x) => Number(x));
  } else valueOffsets = offs;
  return makeData({
    type: to as any, length: n, nullCount: data.nullCount, nullBitmap: rebasedBitmap(data), valueOffsets: valueOffsets as any,
    data: data.values as Uint8Array,
  }) as Data;
}

const UNIT_SCALE = [1n, 1000n, 1000000n, 1000000000n]; // per TimeUnit: SECOND, MILLISECOND, MICROSECOND, NANOSECOND

function rescale64(data: Data, to: DataType, mul: bigint, div: bigint, ctx: CastContext): Data {
  const n = data.length;
  const src = data.values as BigInt64Array;
  if (mul === 1n && div === 1n) {
    return makeData({ type: to as any, length: n, nullCount: data.nullCount, nullBitmap: rebasedBitmap(data), data: src }) as Data;
  }
  const v = validBitmap(data);
  const out = new BigInt64Array(n);
  const max = (1n << 63n) - 1n;
  for (let i = 0; i < n; i++) {
    if (!isValid(v, i)) continue;
    const x = src[i];
    if (div !== 1n) {
      if (x % div !== 0n) throw mismatch(ctx, `value ${x} of ${data.type} is not exactly representable as ${to}`, i);
      out[i] = x / div;
    } else {
      const y = x * mul;
      if (y > max || y < -max - 1n) throw mismatch(ctx, `value ${x} of ${data.type} overflows ${to}`, i);
      out[i] = y;
    }
  }
  return makeData({ type: to as any, length: n, nullCount: data.nullCount, nullBitmap: rebasedBitmap(data), data: out }) as Data;
}

function listSizes(data: Data): { starts: Float64Array; lens: Float64Array } {
  const n = data.length;
  const offs = data.valueOffsets as Int32Array | BigInt64Array | undefined;
  const starts = new Float64Array(n);
  const lens = new Float64Array(n);
  if (data.typeId === Type.FixedSizeList) {
    const size = (data.type as FixedSizeList).listSize;
    for (let i = 0; i < n; i++) {
      starts[i] = i * size;
      lens[i] = size;
    }
  } else {
    for (let i = 0; i < n; i++) {
      starts[i] = Number(offs![i]);
      lens[i] = Number(offs![i + 1]) - starts[i];
    }
  }
  return { starts, lens };
}

function castList(data: Data, to: DataType, ctx: CastContext): Data {
  const n = data.length;
  const v = validBitmap(data);
  const { starts, lens } = listSizes(data);
  const childCtx = { ...ctx, column: `${ctx.column}.${to.children[0].name}` };
  const childType = to.children[0].type;
  if (to.typeId === Type.FixedSizeList) {
    const size = (to as FixedSizeList).listSize;
    const rows = new Int32Array(n * size);
    for (let i = 0; i < n; i++) {
      const valid = isValid(v, i);
      if (valid && lens[i] !== size) throw mismatch(ctx, `list of length ${lens[i]} does not fit ${to}`, i);
      for (let k = 0; k < size; k++) rows[i * size + k] = valid ? starts[i] + k : -1;
    }
    const child = castData(gatherData(data.children[0].type, [data.children[0]], null, rows), childType, childCtx);
    return makeData({ type: to as any, length: n, nullCount: data.nullCount, nullBitmap: rebasedBitmap(data), child }) as Data;
  }
  if (to.typeId === Type.List) {
    if (data.typeId === Type.List) {
      const child = castData(data.children[0], childType, childCtx);
      return makeData({
        type: to as any, length: n, nullCount: data.nullCount, nullBitmap: rebasedBitmap(data),
        valueOffsets: data.valueOffsets as Int32Array, child,
      }) as Data;
    }
    // fixed_size_list / large_list -> list: compact the child
    let total = 0;
    for (let i = 0; i < n; i++) if (isValid(v, i)) total += lens[i];
    const rows = new Int32Array(total);
    const offsets = new Int32Array(n + 1);
    let p = 0;
    for (let i = 0; i < n; i++) {
      offsets[i] = p;
      if (!isValid(v, i)) continue;
      for (let k = 0; k < lens[i]; k++) rows[p++] = starts[i] + k;
    }
    offsets[n] = p;
    const child = castData(gatherData(data.children[0].type, [data.children[0]], null, rows), childType, childCtx);
    return makeData({ type: to as any, length: n, nullCount: data.nullCount, nullBitmap: rebasedBitmap(data), valueOffsets: offsets, child }) as Data;
  }
  throw mismatch(ctx, `cannot convert ${data.type} to ${to}`);
}

function castStruct(data: Data, to: Struct, ctx: CastContext): Data {
  const fromFields = (data.type as Struct).children;
  for (const f of fromFields) {
    if (!to.children.some((t: Field) => t.name === f.name)) throw mismatch(ctx, `field '${f.name}' is not in ${to}`);
  }
  const children = to.children.map((t: Field) => {
    const k = fromFields.findIndex((f: Field) => f.name === t.name);
    const childCtx = { ...ctx, column: `${ctx.column}.${t.name}` };
    if (k < 0) {
      if (!t.nullable) throw mismatch(childCtx, 'missing non-nullable struct field');
      return gatherData(t.type, [], null, new Int32Array(data.length).fill(-1));
    }
    let c = data.children[k];
    if (c.offset !== data.offset || c.length !== data.length) c = c.slice(0, data.length);
    return castData(c, t.type, childCtx);
  });
  return makeData({ type: to as any, length: data.length, nullCount: data.nullCount, nullBitmap: rebasedBitmap(data), children }) as Data;
}

/**
 * Convert `data` to `target` losslessly (see the module comment for the supported conversions).
 * Identical types are returned relabelled, without copying.
 */
export function castData(data: Data, target: DataType, ctx: CastContext): Data {
  if (sameType(data.type, target)) return relabel(data, target);
  const from = data.type;
  if (from.typeId === Type.Dictionary) return castData(decodeDictionary(data), target, ctx);
  if (from.typeId === Type.Null) return gatherData(target, [], null, new Int32Array(data.length).fill(-1));
  if (ctx.convertValues) {
    try {
      return castDirect(data, target, ctx);
    } catch (e) {
      if (!(e instanceof CannotCast) || !codecConverts(data.type, target)) throw e;
      return convertData(data, target, ctx);
    }
  }
  return castDirect(data, target, ctx);
}

/** No direct conversion exists between the two types. */
class CannotCast extends LakeSoulError {}

/** Whether `target` is a temporal type stored as the same-width signed integer `from` (see {@link CastContext.parquetStorage}). */
function integerStorageOf(from: DataType, target: DataType): boolean {
  if (from.typeId !== Type.Int || !(from as Int).isSigned) return false;
  const width = (from as Int).bitWidth;
  switch (target.typeId) {
    case Type.Date:
      return width === ((target as any).unit === 0 ? 32 : 64);
    case Type.Time:
      return width === (target as any).bitWidth;
    case Type.Duration:
      return width === 64;
    default:
      return false;
  }
}

/** time32/time64 of one unit to another: exact (a value not a whole number of the coarser unit is refused). */
function castTime(data: Data, target: DataType, ctx: CastContext): Data {
  const n = data.length;
  const v = validBitmap(data);
  const a = UNIT_SCALE[(data.type as any).unit as TimeUnit];
  const b = UNIT_SCALE[(target as any).unit as TimeUnit];
  const src = data.values as Int32Array | BigInt64Array;
  const wide = (target as any).bitWidth === 64;
  const out = wide ? new BigInt64Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (!isValid(v, i)) continue;
    const x = BigInt(src[i]);
    let y: bigint;
    if (a <= b) y = x * (b / a);
    else {
      if (x % (a / b) !== 0n) throw mismatch(ctx, `value ${x} of ${data.type} is not exactly representable as ${target}`, i);
      y = x / (a / b);
    }
    if (!wide && (y > 2147483647n || y < -2147483648n)) throw mismatch(ctx, `value ${x} of ${data.type} overflows ${target}`, i);
    out[i] = (wide ? y : Number(y)) as never;
  }
  return makeData({ type: target as any, length: n, nullCount: data.nullCount, nullBitmap: rebasedBitmap(data), data: out }) as Data;
}

function castDirect(data: Data, target: DataType, ctx: CastContext): Data {
  const from = data.type;
  const cannot = () => new CannotCast('SchemaMismatch', `${where(ctx)}: cannot convert ${from} to ${target}`, {
    context: { column: ctx.column, file: ctx.file, table: ctx.table },
  });
  if (ctx.parquetStorage && integerStorageOf(from, target)) {
    return makeData({ type: target as any, length: data.length, nullCount: data.nullCount, nullBitmap: rebasedBitmap(data), data: data.values }) as Data;
  }
  switch (target.typeId) {
    case Type.Int:
      if (from.typeId === Type.Int) return castInt(data, from as Int, target as Int, ctx);
      throw cannot();
    case Type.Float:
      if (from.typeId === Type.Int || from.typeId === Type.Float) return castToFloat(data, target, ctx);
      throw cannot();
    case Type.Utf8:
    case Type.LargeUtf8:
      if (from.typeId === Type.Utf8 || from.typeId === Type.LargeUtf8) return castVarBinary(data, target);
      throw cannot();
    case Type.Binary:
    case Type.LargeBinary:
      if (from.typeId === Type.Utf8 || from.typeId === Type.LargeUtf8 || from.typeId === Type.Binary || from.typeId === Type.LargeBinary) {
        return castVarBinary(data, target);
      }
      throw cannot();
    case Type.Timestamp: {
      if (from.typeId !== Type.Timestamp) throw cannot();
      const a = UNIT_SCALE[(from as Timestamp).unit as TimeUnit];
      const b = UNIT_SCALE[(target as Timestamp).unit as TimeUnit];
      return a <= b ? rescale64(data, target, b / a, 1n, ctx) : rescale64(data, target, 1n, a / b, ctx);
    }
    case Type.Date: {
      if (from.typeId !== Type.Date) throw cannot();
      const n = data.length;
      const v = validBitmap(data);
      const toDay = (target as any).unit === 0;
      if (toDay) {
        const src = data.values as BigInt64Array;
        const out = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          if (!isValid(v, i)) continue;
          if (src[i] % 86400000n !== 0n) throw mismatch(ctx, `value ${src[i]} ms is not a whole day`, i);
          out[i] = Number(src[i] / 86400000n);
        }
        return makeData({ type: target as any, length: n, nullCount: data.nullCount, nullBitmap: rebasedBitmap(data), data: out }) as Data;
      }
      const src = data.values as Int32Array;
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(src[i]) * 86400000n;
      return makeData({ type: target as any, length: n, nullCount: data.nullCount, nullBitmap: rebasedBitmap(data), data: out }) as Data;
    }
    case Type.Time:
      if (from.typeId === Type.Time) return castTime(data, target, ctx);
      throw cannot();
    case Type.Decimal: {
      const f = from as Decimal;
      const t = target as Decimal;
      if (from.typeId === Type.Decimal && f.scale === t.scale && f.bitWidth === t.bitWidth && f.precision <= t.precision) {
        return data.clone(target as any);
      }
      throw cannot();
    }
    case Type.List:
    case Type.FixedSizeList:
      if (from.typeId === Type.List || from.typeId === Type.FixedSizeList || from.typeId === Type.LargeList) {
        return castList(data, target, ctx);
      }
      throw cannot();
    case Type.Struct:
      if (from.typeId === Type.Struct) return castStruct(data, target as Struct, ctx);
      throw cannot();
    case Type.Map:
      if (from.typeId === Type.Map) {
        const child = castData(data.children[0], target.children[0].type, { ...ctx, column: `${ctx.column}.entries` });
        return makeData({
          type: target as any, length: data.length, nullCount: data.nullCount, nullBitmap: rebasedBitmap(data),
          valueOffsets: data.valueOffsets as Int32Array, child,
        }) as Data;
      }
      throw cannot();
    default:
      throw cannot();
  }
}

