/**
 * Arrow record batch -> plain row objects for the loader. Values are copied out of the batch (binary
 * and list values included), so a row held in the shuffle buffer pins no Arrow buffers.
 */
import { Type, type DataType, type RecordBatch, type Vector } from 'apache-arrow';

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
      out[row++] = child.values.slice(start, end) as RowValue;
    }
  }
  return row === n ? out : null;
}

function columnValues(vec: Vector, n: number): RowValue[] | ArrayLike<number | bigint> {
  const t = vec.type as DataType;
  if ((t.typeId === Type.Int || t.typeId === Type.Float) && vec.nullCount === 0) {
    return vec.toArray() as ArrayLike<number | bigint>;
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
      if (child.nullCount > 0) out[i] = Array.from(child as Iterable<number | null>) as ArrayLike<number>; // keeps null elements (refused later)
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
