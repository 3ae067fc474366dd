/**
 * Low-level access to Arrow `Data` buffers (and the byte helpers of string columns) shared across io.
 *
 * Buffer conventions of apache-arrow 21 (relied on here): after `Data.slice`, fixed-width `values`
 * and `valueOffsets` are already sub-arrays starting at the slice, while the validity bitmap and the
 * bit-packed values of booleans are indexed with `data.offset + i`; struct and fixed-size-list
 * children are sliced along with their parent, list children are not (offsets index into them).
 */
import { Data, DataType, Field, RecordBatch, Schema, Struct, Table, Type, makeData, type Vector } from 'apache-arrow';

/** Whether row `i` of `data` is non-null (never, in a null-typed column: it has no bitmap to say so). */
export function isValidAt(data: Data, i: number): boolean {
  if (data.typeId === Type.Null) return false;
  const bitmap = data.nullBitmap;
  if (bitmap === undefined || bitmap.length === 0 || data.nullCount === 0) return true;
  const pos = data.offset + i;
  return (bitmap[pos >> 3] & (1 << (pos & 7))) !== 0;
}

/**
 * The validity of `data` as one byte per row (1 = valid), or `null` when every row is valid.
 * Handy in hot loops that would otherwise re-check the bitmap.
 */
export function validityBytes(data: Data): Uint8Array | null {
  const bitmap = data.nullBitmap;
  if (data.typeId === Type.Null) return new Uint8Array(data.length);
  if (bitmap === undefined || bitmap.length === 0 || data.nullCount === 0) return null;
  const out = new Uint8Array(data.length);
  const off = data.offset;
  for (let i = 0; i < data.length; i++) {
    const pos = off + i;
    out[i] = (bitmap[pos >> 3] >> (pos & 7)) & 1;
  }
  return out;
}

/** Boolean value of row `i` (ignoring validity). */
export function boolAt(data: Data, i: number): boolean {
  const pos = data.offset + i;
  return ((data.values as Uint8Array)[pos >> 3] & (1 << (pos & 7))) !== 0;
}

/** Byte range `[start, end)` of a variable-width (utf8/binary, large or not) value. */
export function varRange(data: Data, i: number): [number, number] {
  const offs = data.valueOffsets as Int32Array | BigInt64Array;
  if (offs instanceof BigInt64Array) return [Number(offs[i]), Number(offs[i + 1])];
  return [offs[i], offs[i + 1]];
}

/**
 * UTF-8 decoding that keeps a leading U+FEFF. TextDecoder's default drops it, and so does
 * apache-arrow's `Vector.get` of a string cell: '\ufeffx' read as 'x' made it the partition of 'x'
 * and the key 'x' (a delete of one deleted both). Everything in io that turns stored UTF-8 into a
 * string decodes with this.
 */
export const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** The string of UTF-8 bytes, a leading U+FEFF kept (see {@link utf8Decoder}). */
export function utf8Text(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

function isUtf8(type: DataType): boolean {
  return type.typeId === Type.Utf8 || type.typeId === Type.LargeUtf8;
}

/**
 * A reader of the cells of `v`: `v.get(i)`, except that strings (of Utf8 and LargeUtf8 columns, and
 * of dictionaries of them) keep a leading U+FEFF, which Arrow's getter drops.
 */
export function cellReader(v: Vector): (i: number) => unknown {
  const type = v.type;
  const dictionary = DataType.isDictionary(type);
  if (!isUtf8(dictionary ? type.dictionary : type)) return (i) => v.get(i);
  const chunks = v.data;
  const starts: number[] = [];
  let total = 0;
  for (const d of chunks) {
    starts.push(total);
    total += d.length;
  }
  const words = new Map<Vector, (i: number) => unknown>();
  let k = 0; // the chunk of the previous call: reads go mostly in order
  return (i) => {
    if (i < starts[k] || i >= starts[k] + chunks[k].length) k = lastStartAtMost(starts, chunks.length, i);
    const d = chunks[k];
    const j = i - starts[k];
    if (!isValidAt(d, j)) return null;
    if (dictionary) {
      const dict = d.dictionary!;
      let read = words.get(dict);
      if (read === undefined) words.set(dict, (read = cellReader(dict)));
      return read(Number((d.values as ArrayLike<number | bigint>)[j]));
    }
    const [a, b] = varRange(d, j);
    return utf8Text((d.values as Uint8Array).subarray(a, b));
  };
}

/** The last k < `count` with `starts[k] <= value` (0 when none), by binary search of ascending `starts`. */
export function lastStartAtMost(starts: ArrayLike<number>, count: number, value: number): number {
  let lo = 0;
  let hi = count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= value) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** True for utf8/binary and their large variants (offset + bytes layout). */
export function isVarBinary(type: DataType): boolean {
  const t = type.typeId;
  return t === Type.Utf8 || t === Type.Binary || t === Type.LargeUtf8 || t === Type.LargeBinary;
}

/** The single `Data` of every column of a batch (a RecordBatch column is never chunked). */
export function batchColumns(batch: RecordBatch): Data[] {
  return batch.data.children as Data[];
}

/**
 * Build a RecordBatch from a schema and one `Data` per field.
 *
 * The same batch as `new RecordBatch(schema, structData)`, without its cost in columns squared:
 * apache-arrow 21's constructor always runs `ensureSameLengthData`, whose `schema.assign(fields)`
 * looks each field up by name among all the fields (`findIndex`), 2.6 s of a scan of 8,000 columns.
 * When every child is there at the batch's length and the field names are distinct, that call only
 * copies the schema (each field cloned with a copy of its metadata, a copy of the schema's metadata
 * and dictionaries), which is done here in one pass; the batch is constructed empty (nothing to
 * look up) and given that schema and the struct data `ensureSameLengthData` would build. Otherwise
 * (missing or shorter children, which the constructor pads with nulls and makes nullable, or
 * repeated names, which `assign` merges) the constructor builds it.
 */
export function makeBatch(schema: Schema, children: Data[], length?: number): RecordBatch {
  const len = length ?? (children.length > 0 ? children[0].length : 0);
  const fields = schema.fields;
  if (!sameLengthsAndDistinctNames(fields, children, len)) {
    const struct = makeData({ type: new Struct(fields), length: len, nullCount: 0, children });
    return new RecordBatch(schema, struct);
  }
  const batch = new RecordBatch(EMPTY_SCHEMA, makeData({ type: new Struct([]), length: len, nullCount: 0, children: [] }));
  const copy = new Schema(
    fields.map((f) => f.clone({ metadata: new Map(f.metadata) })),
    new Map(schema.metadata),
    new Map(schema.dictionaries),
  );
  const data = makeData({ type: new Struct(fields), length: len, children: [...children] });
  Object.assign(batch as { schema: Schema; data: Data }, { schema: copy, data });
  return batch;
}

const EMPTY_SCHEMA = new Schema([]);

/** Whether there is one child per field, each `len` rows long, and no field name repeats. */
function sameLengthsAndDistinctNames(fields: readonly Field[], children: readonly Data[], len: number): boolean {
  if (children.length !== fields.length) return false;
  for (const c of children) if (!c || c.length !== len) return false;
  const names = new Set<string>();
  for (const f of fields) {
    if (names.has(f.name)) return false;
    names.add(f.name);
  }
  return true;
}

/** The batches of a table, or the batch itself. Empty-batch entries are kept. */
export function batchesOf(input: RecordBatch | Table): RecordBatch[] {
  return input instanceof RecordBatch ? [input] : input.batches;
}

/** The single Data of a column vector, combining chunks when needed. */
export function singleData(vector: Vector): Data {
  if (vector.data.length === 1) return vector.data[0];
  throw new Error('singleData: chunked vector');
}

/**
 * Per row of `v`, which of `words` it holds: `k + 1` for `words[k]`, 0 for null, 255 for any other
 * value (at most 254 words). UTF-8 columns are compared as bytes, without decoding a string per row.
 */
export function matchWords(v: Vector, words: readonly string[]): Uint8Array {
  const out = new Uint8Array(v.length);
  const encoded = words.map((w) => new TextEncoder().encode(w));
  let row = 0;
  for (const d of v.data) {
    const id = d.typeId;
    if (id !== Type.Utf8 && id !== Type.LargeUtf8) {
      for (let i = 0; i < d.length; i++, row++) {
        const x = v.get(row);
        out[row] = x === null ? 0 : words.indexOf(x as string) + 1 || 255;
      }
      continue;
    }
    const offsets = d.valueOffsets as Int32Array | BigInt64Array;
    const values = d.values as Uint8Array;
    const valid = validityBytes(d);
    for (let i = 0; i < d.length; i++, row++) {
      if (valid !== null && valid[i] === 0) continue; // 0: null
      const start = Number(offsets[i]);
      const len = Number(offsets[i + 1]) - start;
      let match = 255;
      for (let k = 0; k < encoded.length && match === 255; k++) {
        if (sameBytes(values, start, start + len, encoded[k], 0, encoded[k].length)) match = k + 1;
      }
      out[row] = match;
    }
  }
  return out;
}

/** FNV-1a hash of bytes [start, end), plus the length (a collision of different lengths is impossible). */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h >>> 0) + (end - start) * 4294967296;
}

/** Whether bytes [aStart, aEnd) of `a` equal bytes [bStart, bEnd) of `b`. */
export function sameBytes(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): boolean {
  const n = aEnd - aStart;
  if (n !== bEnd - bStart) return false;
  for (let k = 0; k < n; k++) if (a[aStart + k] !== b[bStart + k]) return false;
  return true;
}
