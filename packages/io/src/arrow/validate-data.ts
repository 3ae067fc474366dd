/**
 * Structural validation of Arrow data that came from outside the process (an IPC stream a Flight
 * client sent): lengths consistent with the buffers, offsets inside their data and non-decreasing,
 * dictionary indices inside their dictionary. Arrow JS's IPC reader takes a message's lengths and
 * offsets as given, and code downstream trusts them: a batch declaring 2^31 rows over a few kilobytes
 * made the writer allocate gigabytes, string offsets of 2^31 made a hash loop run for hours, indices
 * past a missing dictionary were written as empty strings. One pass over the offsets and indices; the
 * values themselves are not looked at.
 */
import { Type, type Data, type DataType, type RecordBatch, type Schema } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';

/** Fields (nested ones counted) a schema from outside may have. */
export const MAX_SCHEMA_FIELDS = 10_000;

/**
 * Levels of nested types a column may have: each list, struct or fixed-size list level counts one,
 * a map two (its entries struct, then its key and value). `list<struct<a: list<int32>>>` has 3.
 *
 * Both Parquet codecs (the native addon and parquet-wasm, arrow-rs inside) are given the data as Arrow
 * IPC, whose schema is a FlatBuffer that arrow-rs reads with the FlatBuffers verifier's default depth
 * limit of 64 tables: the message, the schema and one field table per level take 63 at 60 levels (the
 * innermost field's type table the 64th). A column nested deeper cannot be encoded ("DepthLimitReached").
 */
export const MAX_NESTING_DEPTH = 60;

/**
 * Refuses a schema with more than {@link MAX_SCHEMA_FIELDS} fields, nested ones counted, or a column
 * nested deeper than {@link MAX_NESTING_DEPTH} levels (see {@link checkSchemaDepth}).
 * @throws LakeSoulError InvalidArgument `LIMIT_EXCEEDED`.
 */
export function checkSchemaSize(schema: Schema, where: string): void {
  let n = 0;
  const walk = (types: readonly { type: DataType }[]): void => {
    for (const f of types) {
      if (++n > MAX_SCHEMA_FIELDS) {
        throw new LakeSoulError('InvalidArgument', `${where}: the schema has more than ${MAX_SCHEMA_FIELDS} fields (nested fields counted), over the limit`, { code: 'LIMIT_EXCEEDED' });
      }
      if (f.type.children?.length) walk(f.type.children);
    }
  };
  walk(schema.fields);
  checkSchemaDepth(schema, where);
}

/**
 * Refuses a schema with a column nested deeper than {@link MAX_NESTING_DEPTH} levels of list, struct
 * or map types, which no write could encode: InvalidArgument `LIMIT_EXCEEDED` naming the column, its
 * depth and the limit (`where`: the call, as the message's start).
 * @throws LakeSoulError InvalidArgument `LIMIT_EXCEEDED`.
 */
export function checkSchemaDepth(schema: Schema, where: string): void {
  for (const f of schema.fields) {
    const depth = nestingDepth(f.type);
    if (depth > MAX_NESTING_DEPTH) {
      throw new LakeSoulError(
        'InvalidArgument',
        `${where}: column '${f.name}' nests ${depth} levels of list, struct or map types, over the limit of ${MAX_NESTING_DEPTH} (deeper columns cannot be encoded as Parquet)`,
        { code: 'LIMIT_EXCEEDED', context: { column: f.name } },
      );
    }
  }
}

/** Levels of nested types of `type` (see {@link MAX_NESTING_DEPTH}); 0 for a type without children. */
function nestingDepth(type: DataType): number {
  // iterative: a schema from outside may nest deeper than the call stack goes
  let max = 0;
  const stack: { type: DataType; depth: number }[] = [{ type, depth: 0 }];
  while (stack.length > 0) {
    const { type: t, depth } = stack.pop()!;
    if (depth > max) max = depth;
    for (const c of t.children ?? []) stack.push({ type: c.type, depth: depth + 1 });
  }
  return max;
}

/**
 * Checks every column of `batch` (see the module comment).
 * @throws LakeSoulError InvalidArgument `INVALID_ARROW_DATA` naming the column (`where`: the call).
 */
export function validateRecordBatch(batch: RecordBatch, where: string): void {
  batch.schema.fields.forEach((f, i) => {
    const child = batch.data.children[i];
    if (!child) throw invalid(where, f.name, 'the batch has no data for it');
    if (child.length !== batch.numRows) throw invalid(where, f.name, `${child.length} rows in a batch of ${batch.numRows}`);
    validateData(child, where, f.name);
  });
}

/** Checks one column's data and its children (see the module comment). */
export function validateData(data: Data, where: string, column: string): void {
  const { length, offset } = data;
  if (!Number.isSafeInteger(length) || length < 0 || !Number.isSafeInteger(offset) || offset < 0) {
    throw invalid(where, column, `length ${length} at offset ${offset}`);
  }
  const end = offset + length;
  const bitmap = data.nullBitmap;
  if (data.nullCount > 0 && bitmap && bitmap.length > 0 && bitmap.length * 8 < end) {
    throw invalid(where, column, `its validity bitmap holds ${bitmap.length * 8} rows, not ${end}`);
  }
  const type = data.type;
  switch (type.typeId) {
    case Type.Null:
      return;
    case Type.Bool:
      requireValues(data, Math.ceil(end / 8), where, column);
      return;
    case Type.Int: case Type.Float: case Type.Date: case Type.Time: case Type.Timestamp: case Type.Duration:
    case Type.Interval: case Type.Decimal: case Type.FixedSizeBinary:
      requireValues(data, end * data.stride, where, column);
      return;
    case Type.Utf8: case Type.Binary: case Type.LargeUtf8: case Type.LargeBinary:
      checkOffsets(data, data.values?.length ?? 0, where, column);
      return;
    case Type.List: case Type.LargeList: case Type.Map: {
      const child = data.children[0];
      if (!child) throw invalid(where, column, 'its list has no child data');
      checkOffsets(data, child.length, where, column);
      validateData(child, where, `${column}.${type.children[0]?.name ?? 'item'}`);
      return;
    }
    case Type.FixedSizeList: {
      const child = data.children[0];
      const size = (type as DataType & { listSize: number }).listSize;
      if (!child || child.length < end * size) throw invalid(where, column, `its child holds ${child?.length ?? 0} values, not ${end} x ${size}`);
      validateData(child, where, `${column}.${type.children[0]?.name ?? 'item'}`);
      return;
    }
    case Type.Struct:
      type.children.forEach((f: { name: string }, i: number) => {
        const child = data.children[i];
        if (!child || child.length < end) throw invalid(where, `${column}.${f.name}`, `${child?.length ?? 0} rows in a struct of ${end}`);
        validateData(child, where, `${column}.${f.name}`);
      });
      return;
    case Type.Dictionary: {
      requireValues(data, end, where, column);
      const dictionary = data.dictionary;
      const size = dictionary?.length ?? 0;
      const indices = data.values as ArrayLike<number | bigint>;
      for (let i = offset; i < end; i++) {
        if (!isValidAt(data, i)) continue;
        const k = Number(indices[i]);
        if (!(k >= 0 && k < size)) {
          throw invalid(where, column, size === 0 ? `row ${i - offset} refers to a dictionary that was never sent` : `row ${i - offset} has dictionary index ${k}, outside its ${size} values`);
        }
      }
      for (const d of dictionary?.data ?? []) validateData(d, where, `${column} (dictionary)`);
      return;
    }
    default:
      // other types (views, unions...) are left to the writer, which converts or refuses them
      return;
  }
}

function isValidAt(data: Data, i: number): boolean {
  const bitmap = data.nullBitmap;
  if (data.nullCount === 0 || !bitmap || bitmap.length === 0) return true;
  return (bitmap[i >> 3]! & (1 << (i & 7))) !== 0;
}

function requireValues(data: Data, needed: number, where: string, column: string): void {
  const have = data.values?.length ?? 0;
  if (have < needed) throw invalid(where, column, `${data.length} rows need ${needed} values, its buffer holds ${have}`);
}

/** Offsets [offset, offset + length] inside the buffer, first >= 0, non-decreasing, last <= `size`. */
function checkOffsets(data: Data, size: number, where: string, column: string): void {
  const offsets = data.valueOffsets as ArrayLike<number | bigint> | undefined;
  const { offset, length } = data;
  if (!offsets || offsets.length < offset + length + 1) throw invalid(where, column, `${length} rows need ${length + 1} offsets, the buffer holds ${offsets?.length ?? 0}`);
  let prev = Number(offsets[offset]);
  if (!(prev >= 0)) throw invalid(where, column, `offset ${prev} at row 0 is negative`);
  for (let i = offset + 1; i <= offset + length; i++) {
    const o = Number(offsets[i]);
    if (!(o >= prev)) throw invalid(where, column, `offsets go backwards at row ${i - offset - 1} (${prev} then ${o})`);
    prev = o;
  }
  if (prev > size) throw invalid(where, column, `offsets reach ${prev}, past the ${size} values held`);
}

function invalid(where: string, column: string, why: string): LakeSoulError {
  return new LakeSoulError('InvalidArgument', `${where}: column '${column}': invalid Arrow data: ${why}`, { code: 'INVALID_ARROW_DATA', context: { column } });
}
