/**
 * Arrow record batch -> plain row objects for the loader. Values are copied out of the batch (binary
 * and list values included), so a row held in the shuffle buffer pins no Arrow buffers.
 */
import { Precision, Type, type DataType, type RecordBatch, type Vector } from 'apache-arrow';

/** A ready tensor slice produced by a transform: `values` laid out row-major in `shape`. */
export interface RowTensor {
  shape: number[];
  values: Float32Array | Int32Array;
}

/** A row value handed to transforms and to batch assembly. */
export type RowValue = number | bigint | string | boolean | Date | Uint8Array | Float32Array | Float64Array | Int32Array | ArrayLike<number> | RowTensor | null | undefined;

/** One row: column name -> value. */
export type Row = Record<string, RowValue>;

/** True for Arrow types whose values are plain numbers or bigints. */
export function isNumericType(t: DataType): boolean {
  return t.typeId === Type.Int || t.typeId === Type.Float || t.typeId === Type.Bool || t.typeId === Type.Decimal;
}

/** True for list / fixed-size-list / large-list of numbers. */
export function isNumericListType(t: DataType): boolean {
  const id = t.typeId;
  if (id !== Type.List && id !== Type.FixedSizeList && id !== Type.LargeList) return false;
  const child = (t as unknown as { children: { type: DataType }[] }).children[0]?.type;
  return child !== undefined && isNumericType(child);
}

/** True for binary / large binary / fixed-size binary. */
export function isBinaryType(t: DataType): boolean {
  return t.typeId === Type.Binary || t.typeId === Type.LargeBinary || t.typeId === Type.FixedSizeBinary;
}

interface ListChunk {
  length: number;
  offset: number;
  nullCount: number;
  valueOffsets?: Int32Array | BigInt64Array;
  children: { offset: number; nullCount: number; values: ArrayLike<number> & { slice(a: number, b: number): ArrayLike<number> } }[];
}

/**
 * Numeric lists without nulls, straight from the child buffer (no per-row Vector objects). Arrow JS
 * slices keep offsets (variable lists), children (fixed-size lists) and primitive value buffers
 * already rebased, so indices are chunk-relative.
 */
function numericListValues(vec: Vector, t: DataType, n: number): RowValue[] | null {
  // children whose buffer holds no plain numbers (decimal words, half-float bits, a bitmap of bools)
  // take the per-element path; uint8 children would read as binary: they are widened
  const childType = (t as unknown as { children: { type: DataType }[] }).children[0].type;
  if (elementConverter(childType) !== null) return null;
  const widen = childType.typeId === Type.Int && (childType as unknown as { bitWidth: number; isSigned: boolean }).bitWidth === 8 && !(childType as unknown as { isSigned: boolean }).isSigned;
  const out: RowValue[] = new Array(n);
  let row = 0;
  const fixed = t.typeId === Type.FixedSizeList ? (t as unknown as { listSize: number }).listSize : 0;
  for (const chunk of vec.data as unknown as ListChunk[]) {
    const child = chunk.children[0];
    if (chunk.nullCount > 0 || !child || child.nullCount > 0 || !ArrayBuffer.isView(child.values)) return null;
    for (let i = 0; i < chunk.length; i++) {
      let start: number;
      let end: number;
      if (fixed > 0) {
        start = i * fixed;
        end = start + fixed;
      } else {
        if (!chunk.valueOffsets) return null;
        start = Number(chunk.valueOffsets[i]);
        end = Number(chunk.valueOffsets[i + 1]);
      }
      const part = child.values.slice(start, end);
      out[row++] = (widen ? Float32Array.from(part) : part) as RowValue;
    }
  }
  return row === n ? out : null;
}

/**
 * Whether `t` is a float16 column: Arrow keeps its values as raw half-float bits (a Uint16Array), so
 * `toArray()` and list children hand over bit patterns, not numbers (1.5 read as 15872).
 */
function isHalfFloat(t: DataType): boolean {
  return t.typeId === Type.Float && (t as unknown as { precision: Precision }).precision === Precision.HALF;
}

/** The number of IEEE 754 half-float bits `h`. */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * The number value of a decimal's little-endian two's-complement 32-bit words at `scale` (12.50 stored
 * as 1250 at scale 2 -> 12.5), the nearest double: digits past a double's precision are lost (and
 * more past float32's in a float32 tensor), as in a cast to float.
 */
export function decimalToNumber(words: ArrayLike<number>, scale: number): number {
  let v = 0n;
  for (let i = words.length - 1; i >= 0; i--) v = (v << 32n) | BigInt(words[i] >>> 0);
  const bits = BigInt(words.length * 32);
  if (words.length > 0 && words[words.length - 1] & 0x80000000) v -= 1n << bits;
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString();
  let text: string;
  if (scale <= 0) text = digits + '0'.repeat(-scale);
  else {
    const padded = digits.padStart(scale + 1, '0');
    text = `${padded.slice(0, padded.length - scale)}.${padded.slice(padded.length - scale)}`;
  }
  return Number(neg ? `-${text}` : text); // decimal text -> nearest double (correctly rounded)
}

/**
 * How one value of type `t` as Arrow's `get` returns it becomes a number, for types whose `get` gives
 * no plain number (decimal: its words; bool: a boolean); null for types whose values are numbers or
 * bigints already. Float16's `get` converts, but its buffer does not.
 */
function elementConverter(t: DataType): ((v: unknown) => number) | null {
  if (t.typeId === Type.Decimal) {
    const scale = (t as unknown as { scale: number }).scale;
    return (v) => decimalToNumber(v as Uint32Array, scale);
  }
  if (t.typeId === Type.Bool) return (v) => (v ? 1 : 0);
  if (isHalfFloat(t)) return (v) => Number(v);
  return null;
}

function columnValues(vec: Vector, n: number): RowValue[] | ArrayLike<number | bigint> {
  const t = vec.type as DataType;
  if ((t.typeId === Type.Int || t.typeId === Type.Float) && !isHalfFloat(t) && vec.nullCount === 0) {
    return vec.toArray() as ArrayLike<number | bigint>;
  }
  if (t.typeId === Type.Decimal) {
    const scale = (t as unknown as { scale: number }).scale;
    const out: RowValue[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const v = vec.get(i) as Uint32Array | null;
      out[i] = v === null || v === undefined ? null : decimalToNumber(v, scale);
    }
    return out;
  }
  if (isNumericListType(t)) {
    const fast = numericListValues(vec, t, n);
    if (fast) return fast;
  }
  const out: RowValue[] = new Array(n);
  const list = isNumericListType(t);
  const binary = isBinaryType(t);
  for (let i = 0; i < n; i++) {
    const v = vec.get(i) as unknown;
    if (v === null || v === undefined) out[i] = null;
    else if (list) {
      const child = v as Vector;
      const convert = elementConverter(child.type as DataType);
      if (convert !== null) {
        const arr: (number | null)[] = new Array(child.length);
        for (let k = 0; k < child.length; k++) {
          const x = child.get(k) as unknown;
          arr[k] = x === null || x === undefined ? null : convert(x); // null elements are refused later
        }
        out[i] = (arr.includes(null) ? arr : Float64Array.from(arr as number[])) as ArrayLike<number>;
      } else if (child.nullCount > 0) out[i] = Array.from(child as Iterable<number | null>) as ArrayLike<number>; // keeps null elements (refused later)
      else {
        const arr = child.toArray() as ArrayLike<number> & { slice(): ArrayLike<number> };
        out[i] = arr instanceof Float32Array || arr instanceof Float64Array || arr instanceof Int32Array ? (arr.slice() as Float32Array) : Array.from(arr);
      }
    } else if (binary) out[i] = (v as Uint8Array).slice();
    else out[i] = v as RowValue;
  }
  return out;
}

/** The rows of `batch` restricted to `columns` (all when omitted), as fresh objects. */
export function batchToRows(batch: RecordBatch, columns?: readonly string[]): Row[] {
  const names = columns ?? batch.schema.fields.map((f) => f.name);
  const n = batch.numRows;
  const cols = names.map((name) => {
    const vec = batch.getChild(name);
    return vec ? columnValues(vec as Vector, n) : null;
  });
  const rows: Row[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const row: Row = {};
    for (let c = 0; c < names.length; c++) {
      const col = cols[c];
      row[names[c]] = col === null ? undefined : (col[i] as RowValue);
    }
    rows[i] = row;
  }
  return rows;
}
