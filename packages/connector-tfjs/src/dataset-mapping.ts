/**
 * Columns to tensors: which columns become `xs` / `ys` ({@link resolveMapping}, checked against the
 * scan's schema before any data is read), and one batch of samples as tensors ({@link assembleBatch}).
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { Type, type DataType, type Field, type Schema } from 'apache-arrow';
import { LakeSoulError, NO_PARTITION_DESC, optionNames, refuseUnknownOptions } from '@lakesoul-ts/meta';
import { isBinaryType, isNumericListType, isNumericType, type Row, type RowTensor, type RowValue } from './arrow-rows.js';
import type { FeatureSpec, LabelSpec, TfjsDatasetOptions, TfjsElement, TfLike } from './tfjs-dataset.js';

/** A bad dataset option or value, as an InvalidArgument error with `code`. */
export function invalid(message: string, context: Record<string, unknown> = {}, code = 'BAD_DATASET_OPTION'): LakeSoulError {
  return new LakeSoulError('InvalidArgument', message, { code, context });
}

/**
 * A client value quoted in a message, bounded: bytes as their count and first bytes, anything else as
 * text cut to 64 characters (an inline image's bytes made a message of ~100 KB). The empty string,
 * which would leave nothing to see, is `"" (empty string)`.
 */
export function quoteValue(v: unknown): string {
  if (v === '') return '"" (empty string)';
  if (v instanceof Uint8Array) return `${v.length} bytes${v.length > 0 ? `: ${Array.from(v.subarray(0, 8), (x) => x.toString(16).padStart(2, '0')).join(' ')}${v.length > 8 ? ' ...' : ''}` : ''}`;
  const text = String(v);
  return text.length > 64 ? `${text.slice(0, 64)}... (${text.length} characters)` : text;
}

/** One output tensor: its name in `xs`, the column it comes from, its dtype. */
export interface OutputSpec {
  name: string;
  column: string;
  dtype: 'float32' | 'int32';
  /** Not a scan column: the row transform adds it (checked on each batch's first row). */
  fromTransform?: boolean;
}

/** How a batch's columns map to `xs` and `ys`. */
export interface ResolvedMapping {
  /** xs layout: 'single' (one tensor), 'concat' (numeric columns concatenated), 'dict'. */
  xsMode: 'single' | 'concat' | 'dict';
  features: OutputSpec[];
  label: (LabelSpec & { numClasses: number | null; kind: 'int' | 'float' | 'string'; fromTransform?: boolean }) | null;
}

/**
 * The scan field `column`; null for a column the row transform adds (`transformAdds`), else a
 * COLUMN_NOT_FOUND error.
 */
function fieldOf(schema: Schema, column: string, table: string, transformAdds = false): Field | null {
  const f = schema.fields.find((x) => x.name === column);
  if (f) return f;
  if (transformAdds) return null;
  throw invalid(`column ${column} is not in the scan of ${table} (columns: ${schema.fields.map((x) => x.name).join(', ')}); features and labels name scan columns, or columns a \`transform\` function adds to each row`, { table, column }, 'COLUMN_NOT_FOUND');
}

/** The names of a label spec's and a feature spec's objects (a misspelled `oneHot` or `dtype` was ignored). */
const LABEL_OPTIONS = optionNames<LabelSpec>({ column: true, oneHot: true, classes: true, dtype: true });
const FEATURE_OPTIONS = optionNames<FeatureSpec>({ column: true, dtype: true });

/**
 * The output mapping of `options` over the scan schema `schema`. Unknown columns fail here, unless
 * `rowHook` is set: a column it adds is then checked on each batch's first row ({@link assembleBatch}).
 */
export function resolveMapping(schema: Schema, options: TfjsDatasetOptions, imageColumn: string | null, table: string, rowHook = false): ResolvedMapping {
  let label: ResolvedMapping['label'] = null;
  if (options.labels !== undefined) {
    const spec: LabelSpec = typeof options.labels === 'string' ? { column: options.labels } : options.labels;
    refuseUnknownOptions(spec, LABEL_OPTIONS, 'tfjsDataset labels');
    if (spec.dtype !== undefined && spec.dtype !== 'float32' && spec.dtype !== 'int32') throw invalid(`labels.dtype must be 'float32' or 'int32', got ${String(spec.dtype)}`, { column: spec.column });
    const f = fieldOf(schema, spec.column, table, rowHook);
    if (spec.classes) checkClasses(spec.classes, spec.column, f, table);
    let kind: 'int' | 'float' | 'string';
    if (spec.classes) kind = 'string';
    else if (f === null) {
      // no column type to take the kind from: the transform's label must say what it is
      if (spec.dtype === 'float32') kind = 'float';
      else if (spec.dtype === 'int32' || spec.oneHot !== undefined) kind = 'int';
      else throw invalid(`label column ${spec.column} is not in the scan of ${table}, so the transform must add it, and its tensor type cannot be taken from a column type: give labels.dtype ('int32': class ids -> int32 [B]; 'float32' -> float32 [B, 1]), \`oneHot\`, or \`classes\` for string labels`, { table, column: spec.column }, 'LABEL_TYPE_REQUIRED');
    } else if (isNumericType(f.type)) {
      // float labels with dtype 'int32' are class ids: truncated as tf.cast does, as for int32 features
      // decimals are fractional numbers: float labels, like float columns
      kind = (String(f.type).startsWith('Float') || f.type.typeId === Type.Decimal) && spec.dtype !== 'int32' ? 'float' : 'int';
    } else if (isNumericListType(f.type)) {
      throw invalid(`label column ${spec.column} of ${table} is ${String(f.type)}: a label is one number per row (an integer or float column, or strings with \`classes\`); for a list target, leave out \`labels\` (elements are then a dict of tensors, ${spec.column} one of them as [B, n]) and build { xs, ys } in a batchTransform, e.g. ({ x, ${spec.column} }) => ({ xs: x, ys: ${spec.column} })`, { table, column: spec.column }, 'UNSUPPORTED_LABEL');
    } else throw invalid(`label column ${spec.column} of ${table} is ${String(f.type)}: give \`classes\` for string labels (a label's index in it is its class id), or pick an integer or float column`, { table, column: spec.column }, 'UNSUPPORTED_LABEL');
    let numClasses: number | null = null;
    if (spec.oneHot === true) {
      if (!spec.classes) throw invalid('labels.oneHot: true needs `classes`; or give the class count', { column: spec.column });
      numClasses = spec.classes.length;
    } else if (typeof spec.oneHot === 'number') {
      if (!Number.isInteger(spec.oneHot) || spec.oneHot < 1) throw invalid(`labels.oneHot must be a positive integer, got ${spec.oneHot}`, { column: spec.column });
      numClasses = spec.oneHot;
    }
    label = { ...spec, numClasses, kind, ...(f === null ? { fromTransform: true } : {}) };
  }
  const toSpec = (name: string, s: string | FeatureSpec): OutputSpec => {
    const spec = typeof s === 'string' ? { column: s } : s;
    refuseUnknownOptions(spec, FEATURE_OPTIONS, `tfjsDataset feature ${name}`);
    // tfjs took any other name until the first batch, and failed there with a bare "Unknown data type"
    if (spec.dtype !== undefined && spec.dtype !== 'float32' && spec.dtype !== 'int32') throw invalid(`feature ${name}: dtype must be 'float32' or 'int32', got ${JSON.stringify(spec.dtype)}`, { column: spec.column });
    const field = spec.column === imageColumn ? null : fieldOf(schema, spec.column, table, rowHook);
    const fromTransform = spec.column !== imageColumn && field === null;
    if (field !== null) refuseTemporal(field, table);
    return { name, column: spec.column, dtype: spec.dtype ?? 'float32', ...(fromTransform ? { fromTransform } : {}) };
  };
  const f = options.features;
  if (f === undefined) {
    let cols: string[];
    if (imageColumn) cols = [imageColumn];
    else {
      const skip = new Set([label?.column, ...blobColumnsDerived(schema)]);
      cols = schema.fields.filter((x) => !skip.has(x.name) && (isNumericType(x.type) || isNumericListType(x.type))).map((x) => x.name);
      if (cols.length === 0) throw invalid(`no numeric feature columns in the scan of ${table}; set \`features\``, { table });
    }
    return label ? { xsMode: cols.length === 1 ? 'single' : 'concat', features: cols.map((c) => toSpec(c, c)), label } : { xsMode: 'dict', features: cols.map((c) => toSpec(c, c)), label };
  }
  if (typeof f === 'string') return { xsMode: label ? 'single' : 'dict', features: [toSpec(f, f)], label };
  if (Array.isArray(f)) {
    if (f.length === 0) throw invalid('features: empty list');
    return { xsMode: label ? (f.length === 1 ? 'single' : 'concat') : 'dict', features: f.map((c) => toSpec(c, c)), label };
  }
  const entries = Object.entries(f);
  if (entries.length === 0) throw invalid('features: empty dict');
  return { xsMode: 'dict', features: entries.map(([k, v]) => toSpec(k, v)), label };
}

/** Utf8 and LargeUtf8, also dictionary-encoded: the columns whose values are strings. */
function isStringType(t: DataType): boolean {
  if (t.typeId === Type.Dictionary) return isStringType((t as unknown as { dictionary: DataType }).dictionary);
  return t.typeId === Type.Utf8 || t.typeId === Type.LargeUtf8;
}

/**
 * Refuses (BAD_DATASET_OPTION) `labels.classes` that name a class twice (its two indexes would be two
 * class ids for one label), or that are given for a scan column `f` of another type than string (a
 * number would be matched by its text). A column the transform adds (`f` null) is checked per value.
 */
function checkClasses(classes: readonly string[], column: string, f: Field | null, table: string): void {
  if (!Array.isArray(classes)) throw invalid(`labels.classes must be an array of strings, got ${quoteValue(classes)}`, { column });
  const seen = new Map<string, number>();
  classes.forEach((c, i) => {
    if (typeof c !== 'string') throw invalid(`labels.classes[${i}] is ${quoteValue(c)} (${typeof c}): classes are the string labels' names`, { column, index: i });
    const at = seen.get(c);
    if (at !== undefined) throw invalid(`labels.classes names ${JSON.stringify(c)}${c === '' ? ' (empty string)' : ''} twice (at ${at} and ${i}): a label's index in classes is its class id, so each name must be there once`, { column, duplicate: c, indexes: [at, i] });
    seen.set(c, i);
  });
  if (f !== null && !isStringType(f.type)) {
    throw invalid(`labels.classes is for string labels, but label column ${column} of ${table} is ${String(f.type)}: leave out \`classes\` for number labels (ints are class ids already), or have the \`transform\` put the names in a new column and name that one`, { table, column, type: String(f.type) });
  }
}

/** Date, time, timestamp, duration and interval types (also as list elements). */
function isTemporalType(t: DataType): boolean {
  const id = t.typeId;
  if (id === Type.List || id === Type.FixedSizeList || id === Type.LargeList) {
    const child = (t as unknown as { children: { type: DataType }[] }).children[0]?.type;
    return child !== undefined && isTemporalType(child);
  }
  return id === Type.Date || id === Type.Time || id === Type.Timestamp || id === Type.Duration || id === Type.Interval;
}

/**
 * Refuses a temporal feature column (UNSUPPORTED_FEATURE) when the dataset is made: its values read as
 * numbers in a unit of Arrow JS's choosing (a timestamp[us] as epoch milliseconds, its microseconds
 * dropped; a time64[us] in microseconds), which float32 then rounds to about 2 minutes in 2024.
 * Temporal labels are refused likewise (UNSUPPORTED_LABEL).
 */
function refuseTemporal(f: Field, table: string): void {
  if (!isTemporalType(f.type)) return;
  throw invalid(`feature column ${f.name} of ${table} is ${String(f.type)}: a date or time has no tensor value of its own (read as a number it is in Arrow's unit, and float32 rounds an epoch time in milliseconds to minutes); add a numeric column in a \`transform\` (e.g. days since a start date, hour of day) and name that one`, { table, column: f.name }, 'UNSUPPORTED_FEATURE');
}

function blobColumnsDerived(schema: Schema): string[] {
  return schema.fields.filter((x) => x.name.endsWith('__bytes') && isBinaryType(x.type)).map((x) => x.name);
}

/**
 * Where a sample's value sits, computed only for an error: the message's text (`table t, partition p,
 * split s, row i of the split as read, column c`) and the same facts as the error's context (`table`,
 * `partition`, `split`, `row`, `column`).
 */
type Where = () => { text: string; context: Record<string, unknown> };

/** A value error (NULL_FEATURE, INT32_OUT_OF_RANGE...) at `where`: its place in message and context. */
function valueError(where: Where, message: string, code: string): LakeSoulError {
  const place = where();
  return invalid(`${place.text}: ${message}`, place.context, code);
}

/**
 * An int64 value as a number, refused (INT64_OUT_OF_RANGE, a value error like NULL_FEATURE) outside
 * -(2^53-1)..2^53-1 (`Number.MIN_SAFE_INTEGER`..`Number.MAX_SAFE_INTEGER`), where a double no longer
 * holds every integer (2^53 + 1 reads as 2^53) and a float32 even less.
 */
function safeNumber(v: bigint, where: Where): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw valueError(where, `int64 value ${v} is outside -(2^53-1)..2^53-1, the integers a double holds exactly, and has no exact tensor value: map it to a smaller range in a transform, or filter such rows out`, 'INT64_OUT_OF_RANGE');
  }
  return Number(v);
}

/** The partition desc of a split id (`<partition_desc>#<bucket or file>`). */
function splitPartition(splitId: string): string {
  return splitId.slice(0, splitId.lastIndexOf('#'));
}

/** Where a sample's value sits, for error messages: `table t, partition p, split s` (`table t (unpartitioned), split s`). */
export function splitPlace(table: string, splitId: string): string {
  const desc = splitPartition(splitId);
  return desc === NO_PARTITION_DESC || desc === '' ? `table ${table} (unpartitioned), split ${splitId}` : `table ${table}, partition ${desc}, split ${splitId}`;
}

/** Shape and values of one row's feature value: scalars are `[1]`, lists `[n]`, tensors their shape. */
function valueParts(v: RowValue, where: Where): { shape: number[]; values: ArrayLike<number> } {
  if (typeof v === 'number') return { shape: [1], values: [v] };
  if (typeof v === 'bigint') return { shape: [1], values: [safeNumber(v, where)] };
  if (typeof v === 'boolean') return { shape: [1], values: [v ? 1 : 0] };
  if (v === null || v === undefined) throw valueError(where, 'null value cannot become a tensor (filter it or fill it in a transform)', 'NULL_FEATURE');
  if (typeof v === 'object' && 'shape' in v && 'values' in v) return v as RowTensor;
  if (v instanceof Uint8Array && !(v instanceof Uint8ClampedArray)) {
    throw valueError(where, 'binary value needs an image pipeline (images.resize(h, w).on(column) decodes a column of PNG or JPEG bytes) or a transform', 'BINARY_FEATURE');
  }
  if (v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array || v instanceof Int16Array || v instanceof Int8Array || v instanceof Uint16Array || v instanceof Uint32Array) {
    return { shape: [v.length], values: v };
  }
  if (typeof v === 'object' && 'length' in v) {
    const arr = v as ArrayLike<number | bigint>;
    const out = new Array<number>(arr.length);
    for (let i = 0; i < arr.length; i++) {
      const x = arr[i];
      if (x === null || x === undefined) throw valueError(where, 'null element in list', 'NULL_FEATURE');
      out[i] = typeof x === 'bigint' ? safeNumber(x, where) : Number(x);
    }
    return { shape: [arr.length], values: out };
  }
  throw valueError(where, `${typeof v === 'string' ? 'string' : quoteValue(v)} value cannot become a tensor (map it in a transform)`, 'UNSUPPORTED_FEATURE');
}

/** A row in the epoch stream: its values, the split it came from and its index there. */
export interface Sample {
  row: Row;
  splitId: string;
  index: number;
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The one Float32Array covering every sample's `column` value when those are RowTensors of one shape
 * whose values are consecutive slices of a single buffer, in sample order, from its start to its end.
 */
function contiguousFloat32(samples: Sample[], column: string): Float32Array | null {
  const first = samples[0]?.row[column] as RowTensor | undefined;
  if (!first || typeof first !== 'object' || !('values' in first) || !(first.values instanceof Float32Array)) return null;
  const base = first.values;
  const width = base.length;
  if (base.byteOffset !== 0) return null;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i].row[column] as RowTensor | undefined;
    const vals = v && typeof v === 'object' && 'values' in v ? v.values : null;
    if (!(vals instanceof Float32Array) || vals.buffer !== base.buffer || vals.length !== width || vals.byteOffset !== i * width * 4 || !sameShape(v!.shape, first.shape)) return null;
  }
  if (base.buffer.byteLength !== samples.length * width * 4) return null;
  return new Float32Array(base.buffer, 0, samples.length * width);
}

/** A feature whose batch tensor exists already (images decoded into a tensor's own memory). */
export interface PrebuiltFeature {
  /** The source column. */
  column: string;
  /** The tensor's shape, `[batch, ...]`. */
  shape: readonly number[];
  /** Hands the tensor over (once). */
  tensor(): tfc.Tensor;
}

/**
 * Refuses a value an int32 tensor cannot hold (Int32Array wrapped it: int64 2^31 became -2^31, a uint32
 * 2^32-1 became -1, 3e10 another number; NaN became 0). Fractions are truncated, as tf.cast does.
 */
function fitsInt32(v: number): boolean {
  return v > -2147483649 && v < 2147483648;
}

function int32Error(v: number, where: Where): LakeSoulError {
  return valueError(where, `value ${v} does not fit the int32 tensor (range -2^31..2^31-1): read the column as float32 (dtype: 'float32')`, 'INT32_OUT_OF_RANGE');
}

/**
 * False for a finite value a float32 tensor cannot hold: beyond float32's largest value
 * (3.4028234663852886e38, rounding included) it would become +-Infinity. Values that only lose
 * precision (or underflow to 0) fit, and so do NaN and +-Infinity, which are stored as they are.
 */
function fitsFloat32(v: number): boolean {
  return Number.isFinite(Math.fround(v)) || !Number.isFinite(v);
}

function float32Error(v: number, where: Where): LakeSoulError {
  return valueError(where, `value ${v} is beyond the float32 range (about +-3.4028235e38) and would become ${v < 0 ? '-' : ''}Infinity in the float32 tensor: scale it in a transform (e.g. divide it, or take its log), or filter such rows out`, 'FLOAT32_OUT_OF_RANGE');
}

/**
 * Refuses the first value of `written` (a float32 tensor's slice) that became +-Infinity from a finite
 * `source` value. One pass over the float32 values; the source is looked at only on a hit.
 */
function checkFloat32Slice(written: Float32Array, offset: number, source: ArrayLike<number>, where: Where): void {
  for (let k = 0; k < source.length; k++) {
    const f = written[offset + k];
    if ((f === Infinity || f === -Infinity) && Number.isFinite(source[k])) throw float32Error(Number(source[k]), where);
  }
}

/**
 * One batch of samples as tensors (`{ xs, ys }` or a dict); nothing leaks when a value is refused.
 * `prebuilt`, for a float32 feature of a 'single' or 'dict' layout, replaces building that tensor from
 * the rows' values.
 */
export function assembleBatch(tf: TfLike, samples: Sample[], m: ResolvedMapping, table: string, prebuilt?: PrebuiltFeature): TfjsElement {
  const b = samples.length;
  // a split's rows are counted as the scan yields them (after any filter)
  const where = (s: Sample, col: string): Where => () => ({
    text: `${splitPlace(table, s.splitId)}, row ${s.index} of the split as read, column ${col}`,
    context: { table, partition: splitPartition(s.splitId), split: s.splitId, row: s.index, column: col },
  });
  const made: tfc.Tensor[] = [];
  try {
    // A column the transform adds: checked on the batch's first row (scan columns are in every row).
    const first = samples[0];
    for (const c of [...m.features, ...(m.label ? [m.label] : [])]) {
      if (c.fromTransform && first && !(c.column in first.row)) {
        throw valueError(where(first, c.column), `column ${c.column} is neither in the scan of ${table} nor in the row the transform returned (its columns: ${Object.keys(first.row).join(', ')}); return it from the transform, or name a scan column`, 'COLUMN_NOT_FOUND');
      }
    }
    const featureTensor = (spec: OutputSpec, flat: boolean): { values: Float32Array | Int32Array; shape: number[] } => {
      // Fast path: plain numeric scalars.
      if (samples.every((x) => typeof x.row[spec.column] === 'number')) {
        const out = spec.dtype === 'int32' ? new Int32Array(b) : new Float32Array(b);
        for (let i = 0; i < b; i++) {
          const v = samples[i].row[spec.column] as number;
          if (spec.dtype === 'int32' && !fitsInt32(v)) throw int32Error(v, where(samples[i], spec.column));
          else if (spec.dtype !== 'int32' && !fitsFloat32(v)) throw float32Error(v, where(samples[i], spec.column));
          out[i] = v;
        }
        return { values: out, shape: [b, 1] };
      }
      // Fast path: float32 values already laid out back to back in one buffer (images decoded into
      // their batch slice): that buffer is the batch.
      const contiguous = contiguousFloat32(samples, spec.column);
      if (contiguous && spec.dtype === 'float32') {
        const first = samples[0].row[spec.column] as RowTensor;
        return { values: contiguous, shape: flat ? [b, contiguous.length / b] : [b, ...first.shape] };
      }
      let shape: number[] | null = null;
      let out: Float32Array | Int32Array | null = null;
      let width = 0;
      samples.forEach((s, i) => {
        const p = valueParts(s.row[spec.column], where(s, spec.column));
        if (shape === null) {
          shape = p.shape;
          width = p.values.length;
          out = spec.dtype === 'int32' ? new Int32Array(b * width) : new Float32Array(b * width);
        } else if (!sameShape(shape, p.shape)) {
          throw valueError(where(s, spec.column), `shape [${p.shape}] differs from [${shape}] of the batch's first row (resize images / pad lists)`, 'RAGGED_FEATURE');
        }
        if (spec.dtype === 'int32') {
          for (let k = 0; k < p.values.length; k++) if (!fitsInt32(Number(p.values[k]))) throw int32Error(Number(p.values[k]), where(s, spec.column));
        }
        (out as Float32Array).set(p.values as ArrayLike<number>, i * width);
        if (spec.dtype !== 'int32' && !(p.values instanceof Float32Array) && !(p.values instanceof Int32Array)) {
          checkFloat32Slice(out as unknown as Float32Array, i * width, p.values, where(s, spec.column));
        }
      });
      const sh = shape as unknown as number[];
      return { values: out as unknown as Float32Array, shape: flat ? [b, width] : [b, ...sh] };
    };
    const mk = (values: Float32Array | Int32Array, shape: number[], dtype: 'float32' | 'int32') => {
      const t = tf.tensor(values, shape, dtype);
      made.push(t);
      return t;
    };
    const tensorOf = (f: OutputSpec): tfc.Tensor => {
      if (prebuilt && f.column === prebuilt.column && f.dtype === 'float32' && prebuilt.shape[0] === b) {
        const t = prebuilt.tensor();
        made.push(t);
        prebuilt = undefined; // handed over once
        return t;
      }
      const p = featureTensor(f, false);
      return mk(p.values, p.shape, f.dtype);
    };
    let xs: tfc.Tensor | Record<string, tfc.Tensor>;
    if (m.xsMode === 'concat') {
      const parts = m.features.map((f) => featureTensor(f, true));
      const width = parts.reduce((a, p) => a + p.shape[1], 0);
      const all = new Float32Array(b * width);
      for (let i = 0; i < b; i++) {
        let off = i * width;
        for (const p of parts) {
          const w = p.shape[1];
          all.set(p.values.subarray(i * w, (i + 1) * w), off);
          off += w;
        }
      }
      xs = mk(all, [b, width], 'float32');
    } else if (m.xsMode === 'single') {
      xs = tensorOf(m.features[0]);
    } else {
      xs = {};
      for (const f of m.features) xs[f.name] = tensorOf(f);
    }
    if (!m.label) return xs as Record<string, tfc.Tensor>;
    const l = m.label;
    const ids = new Float64Array(b);
    samples.forEach((s, i) => {
      const v = s.row[l.column];
      if (v === null || v === undefined) throw valueError(where(s, l.column), 'null label', 'NULL_LABEL');
      let x: number;
      if (l.kind === 'string') {
        if (typeof v !== 'string') throw valueError(where(s, l.column), `label ${quoteValue(v)} is ${typeof v === 'object' ? 'an object' : `a ${typeof v}`}, not a string: \`classes\` names string labels (leave it out for number labels)`, 'UNSUPPORTED_LABEL');
        x = l.classes!.indexOf(v);
        if (x < 0) throw valueError(where(s, l.column), `label ${quoteValue(v)} is not one of classes [${quoteValue(l.classes!.join(', '))}]`, 'UNKNOWN_LABEL');
      } else if (typeof v === 'bigint') x = safeNumber(v, where(s, l.column));
      else if (typeof v === 'number' || typeof v === 'boolean') x = Number(v);
      else throw valueError(where(s, l.column), `label ${typeof v === 'string' ? `${v === '' ? quoteValue(v) : `'${quoteValue(v)}'`} is a string: give \`classes\`` : 'is not a number'}`, 'UNSUPPORTED_LABEL');
      if (l.numClasses !== null && !Number.isInteger(x)) {
        throw valueError(where(s, l.column), `label ${x} is not an integer: a one-hot label is a class id, 0..${l.numClasses - 1}`, 'LABEL_OUT_OF_RANGE');
      }
      if (l.numClasses !== null && (x < 0 || x >= l.numClasses)) {
        throw valueError(where(s, l.column), `label ${x} outside [0, ${l.numClasses}) for one-hot`, 'LABEL_OUT_OF_RANGE');
      }
      if (l.numClasses === null && l.kind !== 'float' && l.dtype !== 'float32' && !fitsInt32(x)) throw int32Error(x, where(s, l.column));
      if (l.numClasses === null && (l.kind === 'float' || l.dtype === 'float32') && !fitsFloat32(x)) throw float32Error(x, where(s, l.column));
      ids[i] = x;
    });
    let ys: tfc.Tensor;
    if (l.numClasses !== null) {
      const oh = new Float32Array(b * l.numClasses);
      for (let i = 0; i < b; i++) oh[i * l.numClasses + ids[i]] = 1;
      ys = mk(oh, [b, l.numClasses], l.dtype ?? 'float32');
    } else if (l.kind === 'float' || l.dtype === 'float32') {
      ys = mk(Float32Array.from(ids), [b, 1], 'float32');
    } else {
      ys = mk(Int32Array.from(ids), [b], 'int32');
    }
    return { xs, ys };
  } catch (e) {
    tf.dispose(made);
    throw e;
  }
}

/** Every tensor of an element. */
export function tensorsOf(el: TfjsElement): tfc.Tensor[] {
  const out: tfc.Tensor[] = [];
  const visit = (v: unknown) => {
    if (v === null || v === undefined) return;
    if (typeof (v as tfc.Tensor).dispose === 'function' && 'shape' in (v as object)) out.push(v as tfc.Tensor);
    else if (typeof v === 'object') for (const x of Object.values(v as object)) visit(x);
  };
  visit(el);
  return out;
}

