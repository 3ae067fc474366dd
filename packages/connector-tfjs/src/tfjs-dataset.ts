/**
 * `tfjsDataset`: a lakehouse table (or a planned scan) as a `tf.data.Dataset` for `model.fitDataset`,
 * sharded across ranks from catalog metadata, seeded-shuffled, resumable and with image transforms.
 *
 * Stream of one shard for one epoch (a pure function of plan, shard, seed and epoch):
 *   shard splits (assignShards) -> seeded split permutation -> rows -> bounded seeded shuffle buffer
 *   -> equalize (truncate for 'drop', replay the same stream for 'pad') -> skip resumed samples
 *   -> per-row transforms (image pipeline, user hook) -> batches -> tensors -> per-batch hook.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type * as tfd from '@tensorflow/tfjs-data';
import type { Field, Schema } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { Filter, ScanOptions, ScanPlan, ScanPlanJSON, Split } from '@lakesoul-ts/io';
import { batchToRows, isBinaryType, isNumericListType, isNumericType, type Row, type RowTensor, type RowValue } from './arrow-rows.js';
import { createImageExecutor, type ImageDecoderKind, type ImageExecutor } from './image-executor.js';
import { ImagePipeline } from './image-pipeline.js';
import { SeededRandom, permute } from './seeded-random.js';
import { assignShards, equalizedSampleCount, shardIndex, type EqualizeMode } from './shard-assign.js';
import { ShuffleBuffer, shuffleStream, simulateShuffle } from './shuffle-buffer.js';

// ------------------------------------------------------------------------------------------------
// Types

/**
 * The tf surface the loader uses: satisfied by `import * as tf from '@tensorflow/tfjs'` and by
 * `@tensorflow/tfjs-node`. Pass it as `options.tf` so the dataset and your model share one instance.
 */
export interface TfLike {
  /** `tf.tensor`: builds the feature and label tensors. */
  tensor: typeof tfc.tensor;
  /** `tf.tidy`: frees the intermediates of a batch. */
  tidy: typeof tfc.tidy;
  /** `tf.dispose`: frees tensors the dataset no longer hands out. */
  dispose: typeof tfc.dispose;
  /** `tf.data`, of which only the generator dataset is used. */
  data: {
    /** `tf.data.generator`: wraps the batch iterator as a `tf.data.Dataset`. */
    generator: typeof tfd.generator;
  };
  /** The active backend: the tfjs-node decoder is picked automatically only while it is `tensorflow`. */
  getBackend?(): string;
  /** Present in tfjs-node: used to decode images natively (when sharp is not installed). */
  node?: {
    /** Decodes PNG/JPEG bytes into an image tensor of `channels` channels. */
    decodeImage(contents: Uint8Array, channels?: number): {
      shape: number[];
      /** The pixel values, row-major. */
      dataSync(): ArrayLike<number>;
      /** Frees the tensor. */
      dispose(): void;
    };
  };
}

/** A table handle as `@lakesoul-ts/io` provides it (`LakeSoulTable`): only `scan` is used. */
export interface ScannableTable {
  /** Plans a scan of the table. */
  scan(options: ScanOptions): ScanPlan | Promise<ScanPlan>;
  readonly info?: { name?: string; properties?: Record<string, string> };
}

/** Something that opens tables by name (`Lakehouse` of `@lakesoul-ts/io`). */
export interface TableOpener {
  /** Opens the table `name` of `namespace` (default `default`). */
  table(name: string, namespace?: string): ScannableTable | Promise<ScannableTable>;
}

/**
 * What to read: a table, a `{ lakehouse, table }` pair, an already planned scan, or a plan received as
 * JSON from another process (`{ planJSON, open }`, where `open` is `(json) => scanPlanFromJSON(json,
 * stores)` of `@lakesoul-ts/io`; a child process needs no catalog).
 */
export type TfjsDatasetSource =
  | ScannableTable
  | { lakehouse: TableOpener; table: string; namespace?: string }
  | { plan: ScanPlan }
  | {
    planJSON: ScanPlanJSON;
    /** Turns the plan's JSON back into a plan, e.g. `(json) => scanPlanFromJSON(json, lakehouse)`. */
    open: (json: ScanPlanJSON) => ScanPlan | Promise<ScanPlan>;
  };

/** A feature column and the tensor dtype it becomes (default float32). */
export interface FeatureSpec {
  column: string;
  dtype?: 'float32' | 'int32';
}

/** The label column: ints (or `classes` names) -> int32 `[B]`, or one-hot float32 `[B, n]`; floats -> `[B, 1]`. */
export interface LabelSpec {
  column: string;
  /** One-hot encode into this many classes (`true`: `classes.length`). */
  oneHot?: number | boolean;
  /** Class names for string labels; a label's index in this list is its class id. */
  classes?: string[];
  /** Default: int32 for integer/string labels, float32 for floating-point labels and one-hot. */
  dtype?: 'float32' | 'int32';
}

/** Context given to the transform hooks. */
export interface TransformContext {
  epoch: number;
  /** Index of the sample in this shard's epoch stream (0-based, counting padding). */
  sampleIndex: number;
  /** The split the row came from (for rows; the first row's split for batches). */
  splitId: string;
}

/** A per-row hook: returns the row to use (may add columns, e.g. a {@link RowTensor}). */
export type RowTransform = (row: Row, ctx: TransformContext) => Row | Promise<Row>;

/** An output element: `{ xs, ys }` with labels, or a dict of tensors without. */
export type TfjsElement = { xs: tfc.Tensor | Record<string, tfc.Tensor>; ys: tfc.Tensor } | Record<string, tfc.Tensor>;

/**
 * A per-batch hook on the tensors (augmentation, reshaping). Runs inside `tf.tidy`: intermediates are
 * freed; input tensors not present in the result are disposed.
 */
export type BatchTransform = (element: TfjsElement, ctx: { epoch: number; batchIndex: number }) => TfjsElement;

/** Resume state of one reader (one rank, or one worker of a rank). JSON-safe. */
export interface ResumeState {
  /** Per partition_desc, the table version the plan read (`ScanPlanJSON.partitionVersions`). */
  tableVersions: Record<string, number>;
  /** The shuffle seed (null when not shuffling). */
  seed: number | null;
  /** The epoch to continue. */
  epoch: number;
  /** Samples of that epoch already delivered to the consumer by this reader. */
  samplesConsumed: number;
  rank: number;
  worldSize: number;
  workersPerRank: number;
  worker: number;
}

/** Options of {@link tfjsDataset}. */
export interface TfjsDatasetOptions {
  // What to scan (ignored for `{ plan }` / `{ planJSON }` sources, which are already planned).
  partitions?: ScanOptions['partitions'];
  columns?: string[];
  filter?: Filter;
  /** Read a fixed table version (per partition) or the state as of a time, for reproducible training. */
  snapshot?: { version: number } | { timestamp: number | Date };
  /** Target rows per Arrow batch read from storage (default 1024). */
  readBatchSize?: number;

  /** Samples per element (default 32). The last batch of an epoch may be smaller unless `dropRemainder`. */
  batchSize?: number;
  /** Drop a final partial batch. */
  dropRemainder?: boolean;
  /**
   * Feature columns: one name (its tensor is `xs`), several names (numeric columns are concatenated
   * into one float32 `[B, n]` tensor), or a dict (`xs` is a dict of tensors). Default: the image
   * column when an image pipeline is given, else every numeric / numeric-list column but the label.
   */
  features?: string | string[] | Record<string, string | FeatureSpec>;
  /** Label column: elements become `{ xs, ys }`. Without it, elements are a dict of feature tensors. */
  labels?: string | LabelSpec;
  /** Image pipeline for a reference column (its bytes are read with the scan; the column becomes the image). */
  image?: ImagePipeline;
  /** A per-row hook, or an image pipeline (same as `image`). Runs after the image pipeline. */
  transform?: ImagePipeline | RowTransform;
  /** A per-batch hook on tensors. */
  batchTransform?: BatchTransform;
  /**
   * Image decoding: decoder choice, worker threads for the pure-JS decoder (default 0), sharp calls
   * kept in flight (default 8), or an `executor` from {@link createImageExecutor} shared between
   * datasets (then owned by the caller: `close()` leaves it running).
   */
  decode?: { decoder?: ImageDecoderKind; workers?: number; concurrency?: number; executor?: ImageExecutor };

  /** The tf namespace to build tensors with (default: `@tensorflow/tfjs-core` + `@tensorflow/tfjs-data`). */
  tf?: TfLike;

  /** This process's rank; required together with `worldSize` when sharding (never guessed). */
  rank?: number;
  worldSize?: number;
  /** Readers per rank (default 1); this reader is `worker` (global shard = rank * workersPerRank + worker). */
  workersPerRank?: number;
  worker?: number;
  /** Equalize samples per shard so ranks step in lock step (default 'none'). Uses metadata row counts. */
  equalize?: EqualizeMode;

  /** Seeded shuffle: split order per epoch, then a bounded buffer (default 1024 rows). */
  shuffle?: { seed: number; bufferSize?: number };
  /** The first epoch (default 0). Each new iteration of the dataset (each fitDataset epoch) advances it. */
  epoch?: number;
  /** Continue exactly where a previous reader stopped (see {@link TfjsDataset.getState}). */
  resumeFrom?: ResumeState;
  signal?: AbortSignal;
}

/** The dataset returned by {@link tfjsDataset}: a `tf.data.Dataset` plus loader state. */
export type TfjsDataset = tfd.Dataset<TfjsElement> & {
  /** Where the stream stands: pass to `resumeFrom` to continue exactly from here. */
  getState(): ResumeState;
  /** The plan this reader reads (JSON; `partitionVersions` pins the table versions). */
  readonly plan: ScanPlanJSON;
  /** The splits of this reader's shard, in unshuffled order. */
  readonly shardSplits: readonly Split[];
  /** Samples this reader yields per epoch when known (equalized, or all row counts known and no filter). */
  readonly samplesPerEpoch: number | null;
  /** The image decoder in use (`null` without an image pipeline). */
  readonly imageDecoder: string | null;
  /** Stops image worker threads; the dataset cannot be iterated afterwards. */
  close(): Promise<void>;
};

// ------------------------------------------------------------------------------------------------
// Planning

function isScannable(s: unknown): s is ScannableTable {
  return typeof (s as ScannableTable)?.scan === 'function';
}

async function resolvePlan(source: TfjsDatasetSource, scan: ScanOptions): Promise<ScanPlan> {
  if ('plan' in source && source.plan) return source.plan;
  if ('planJSON' in source) return source.open(source.planJSON);
  let table: ScannableTable;
  if (isScannable(source)) table = source;
  else if ('lakehouse' in source) table = await source.lakehouse.table(source.table, source.namespace);
  else throw new LakeSoulError('InvalidArgument', 'tfjsDataset: source must be a table, { lakehouse, table }, { plan } or { planJSON, open }');
  return table.scan(scan);
}

function blobColumnsOf(plan: ScanPlanJSON): string[] {
  return plan.blobs?.columns ?? [];
}

function invalid(message: string, context: Record<string, unknown> = {}, code = 'BAD_DATASET_OPTION'): LakeSoulError {
  return new LakeSoulError('InvalidArgument', message, { code, context });
}

// ------------------------------------------------------------------------------------------------
// Output mapping

interface OutputSpec {
  name: string;
  column: string;
  dtype: 'float32' | 'int32';
}

interface ResolvedMapping {
  /** xs layout: 'single' (one tensor), 'concat' (numeric columns concatenated), 'dict'. */
  xsMode: 'single' | 'concat' | 'dict';
  features: OutputSpec[];
  label: (LabelSpec & { numClasses: number | null; kind: 'int' | 'float' | 'string' }) | null;
}

function fieldOf(schema: Schema, column: string, table: string): Field {
  const f = schema.fields.find((x) => x.name === column);
  if (!f) throw invalid(`column ${column} is not in the scan of ${table} (columns: ${schema.fields.map((x) => x.name).join(', ')})`, { table, column }, 'COLUMN_NOT_FOUND');
  return f;
}

function resolveMapping(schema: Schema, options: TfjsDatasetOptions, imageColumn: string | null, table: string): ResolvedMapping {
  let label: ResolvedMapping['label'] = null;
  if (options.labels !== undefined) {
    const spec: LabelSpec = typeof options.labels === 'string' ? { column: options.labels } : options.labels;
    const f = fieldOf(schema, spec.column, table);
    let kind: 'int' | 'float' | 'string';
    if (spec.classes) kind = 'string';
    else if (isNumericType(f.type)) kind = String(f.type).startsWith('Float') ? 'float' : 'int';
    else throw invalid(`label column ${spec.column} of ${table} is ${String(f.type)}: give \`classes\` for string labels`, { table, column: spec.column });
    let numClasses: number | null = null;
    if (spec.oneHot === true) {
      if (!spec.classes) throw invalid('labels.oneHot: true needs `classes`; or give the class count', { column: spec.column });
      numClasses = spec.classes.length;
    } else if (typeof spec.oneHot === 'number') {
      if (!Number.isInteger(spec.oneHot) || spec.oneHot < 1) throw invalid(`labels.oneHot must be a positive integer, got ${spec.oneHot}`, { column: spec.column });
      numClasses = spec.oneHot;
    }
    label = { ...spec, numClasses, kind };
  }
  const toSpec = (name: string, s: string | FeatureSpec): OutputSpec => {
    const spec = typeof s === 'string' ? { column: s } : s;
    if (spec.column !== imageColumn) fieldOf(schema, spec.column, table);
    return { name, column: spec.column, dtype: spec.dtype ?? 'float32' };
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

function blobColumnsDerived(schema: Schema): string[] {
  return schema.fields.filter((x) => x.name.endsWith('__bytes') && isBinaryType(x.type)).map((x) => x.name);
}

/** Shape and values of one row's feature value: scalars are `[1]`, lists `[n]`, tensors their shape. */
function valueParts(v: RowValue, where: () => string): { shape: number[]; values: ArrayLike<number> } {
  if (typeof v === 'number') return { shape: [1], values: [v] };
  if (typeof v === 'bigint') {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw invalid(`${where()}: int64 value ${v} does not fit a tensor number`);
    return { shape: [1], values: [Number(v)] };
  }
  if (typeof v === 'boolean') return { shape: [1], values: [v ? 1 : 0] };
  if (v === null || v === undefined) throw invalid(`${where()}: null value cannot become a tensor (filter it or fill it in a transform)`, {}, 'NULL_FEATURE');
  if (typeof v === 'object' && 'shape' in v && 'values' in v) return v as RowTensor;
  if (v instanceof Uint8Array && !(v instanceof Uint8ClampedArray)) {
    throw invalid(`${where()}: binary value needs an image pipeline or a transform`, {}, 'BINARY_FEATURE');
  }
  if (v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array || v instanceof Int16Array || v instanceof Int8Array || v instanceof Uint16Array || v instanceof Uint32Array) {
    return { shape: [v.length], values: v };
  }
  if (typeof v === 'object' && 'length' in v) {
    const arr = v as ArrayLike<number | bigint>;
    const out = new Array<number>(arr.length);
    for (let i = 0; i < arr.length; i++) {
      const x = arr[i];
      if (x === null || x === undefined) throw invalid(`${where()}: null element in list`, {}, 'NULL_FEATURE');
      out[i] = Number(x);
    }
    return { shape: [arr.length], values: out };
  }
  throw invalid(`${where()}: ${typeof v === 'string' ? 'string' : String(v)} value cannot become a tensor (map it in a transform)`, {}, 'UNSUPPORTED_FEATURE');
}

interface Sample {
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

function assembleBatch(tf: TfLike, samples: Sample[], m: ResolvedMapping, table: string): TfjsElement {
  const b = samples.length;
  const where = (s: Sample, col: string) => () => `table ${table}, split ${s.splitId}, row ${s.index}, column ${col}`;
  const made: tfc.Tensor[] = [];
  try {
    const featureTensor = (spec: OutputSpec, flat: boolean): { values: Float32Array | Int32Array; shape: number[] } => {
      // Fast path: plain numeric scalars.
      if (samples.every((x) => typeof x.row[spec.column] === 'number')) {
        const out = spec.dtype === 'int32' ? new Int32Array(b) : new Float32Array(b);
        for (let i = 0; i < b; i++) out[i] = samples[i].row[spec.column] as number;
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
          throw invalid(`${where(s, spec.column)()}: shape [${p.shape}] differs from [${shape}] of the batch's first row (resize images / pad lists)`, {}, 'RAGGED_FEATURE');
        }
        (out as Float32Array).set(p.values as ArrayLike<number>, i * width);
      });
      const sh = shape as unknown as number[];
      return { values: out as unknown as Float32Array, shape: flat ? [b, width] : [b, ...sh] };
    };
    const mk = (values: Float32Array | Int32Array, shape: number[], dtype: 'float32' | 'int32') => {
      const t = tf.tensor(values, shape, dtype);
      made.push(t);
      return t;
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
      const f = m.features[0];
      const p = featureTensor(f, false);
      xs = mk(p.values, p.shape, f.dtype);
    } else {
      xs = {};
      for (const f of m.features) {
        const p = featureTensor(f, false);
        xs[f.name] = mk(p.values, p.shape, f.dtype);
      }
    }
    if (!m.label) return xs as Record<string, tfc.Tensor>;
    const l = m.label;
    const ids = new Float64Array(b);
    samples.forEach((s, i) => {
      const v = s.row[l.column];
      if (v === null || v === undefined) throw invalid(`${where(s, l.column)()}: null label`, {}, 'NULL_LABEL');
      let x: number;
      if (l.kind === 'string') {
        x = l.classes!.indexOf(String(v));
        if (x < 0) throw invalid(`${where(s, l.column)()}: label ${String(v)} is not one of classes [${l.classes!.join(', ')}]`, {}, 'UNKNOWN_LABEL');
      } else x = typeof v === 'bigint' ? Number(v) : typeof v === 'boolean' ? Number(v) : (v as number);
      if (l.numClasses !== null && (!Number.isInteger(x) || x < 0 || x >= l.numClasses)) {
        throw invalid(`${where(s, l.column)()}: label ${x} outside [0, ${l.numClasses}) for one-hot`, {}, 'LABEL_OUT_OF_RANGE');
      }
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

function tensorsOf(el: TfjsElement): tfc.Tensor[] {
  const out: tfc.Tensor[] = [];
  const visit = (v: unknown) => {
    if (v === null || v === undefined) return;
    if (typeof (v as tfc.Tensor).dispose === 'function' && 'shape' in (v as object)) out.push(v as tfc.Tensor);
    else if (typeof v === 'object') for (const x of Object.values(v as object)) visit(x);
  };
  visit(el);
  return out;
}

// ------------------------------------------------------------------------------------------------
// The dataset

/**
 * Opens a table scan as a `tf.data.Dataset` of batches (see {@link TfjsDatasetOptions}). Planning (and
 * row counts, when sharding or equalizing) happen here, before any data is read; each iteration of
 * the returned dataset streams this reader's shard for the next epoch.
 *
 * @throws LakeSoulError InvalidArgument for bad options or unknown columns; Conflict when `resumeFrom`
 *   was taken on other table versions or another sharding.
 */
export async function tfjsDataset(source: TfjsDatasetSource, options: TfjsDatasetOptions = {}): Promise<TfjsDataset> {
  const tf: TfLike = options.tf ?? (await defaultTf());
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw invalid(`batchSize must be a positive integer, got ${batchSize}`);
  const readBatchSize = options.readBatchSize ?? 1024;
  const equalize: EqualizeMode = options.equalize ?? 'none';
  if (!['pad', 'drop', 'none'].includes(equalize)) throw invalid(`equalize must be 'pad', 'drop' or 'none', got ${String(equalize)}`);
  if ((options.rank === undefined) !== (options.worldSize === undefined)) {
    throw invalid('rank and worldSize go together: give both (sharded) or neither (one reader)', { rank: options.rank, worldSize: options.worldSize }, 'BAD_SHARD_OPTION');
  }
  if ((options.workersPerRank !== undefined || options.worker !== undefined) && options.rank === undefined) {
    throw invalid('workersPerRank/worker need rank and worldSize', {}, 'BAD_SHARD_OPTION');
  }
  const rank = options.rank ?? 0;
  const worldSize = options.worldSize ?? 1;
  const workersPerRank = options.workersPerRank ?? 1;
  const worker = options.worker ?? 0;
  const { shard, numShards } = shardIndex({ rank, worldSize, workersPerRank, worker });
  const shuffle = options.shuffle;
  if (shuffle) {
    if (!Number.isInteger(shuffle.seed)) throw invalid(`shuffle.seed must be an integer, got ${shuffle.seed}`);
    if (shuffle.bufferSize !== undefined && (!Number.isInteger(shuffle.bufferSize) || shuffle.bufferSize < 1)) throw invalid(`shuffle.bufferSize must be a positive integer, got ${shuffle.bufferSize}`);
  }
  const pipeline = options.image ?? (options.transform instanceof ImagePipeline ? options.transform : undefined);
  const rowHook = typeof options.transform === 'function' ? options.transform : undefined;

  // Plan.
  const scanOptions: ScanOptions = { batchSize: readBatchSize, signal: options.signal };
  if (options.partitions !== undefined) scanOptions.partitions = options.partitions;
  if (options.filter !== undefined) scanOptions.filter = options.filter;
  if (options.snapshot) {
    if ('version' in options.snapshot) scanOptions.version = options.snapshot.version;
    else scanOptions.timestamp = options.snapshot.timestamp;
  }
  let source2 = source;
  let imageColumn: string | null = pipeline?.column ?? null;
  if (pipeline && imageColumn === null && isScannable(source)) imageColumn = blobColumnFromProperties(source.info?.properties);
  if (pipeline && imageColumn === null && 'lakehouse' in source) {
    const table = await source.lakehouse.table(source.table, source.namespace);
    imageColumn = blobColumnFromProperties(table.info?.properties);
    source2 = table;
  }
  if (pipeline && imageColumn !== null) scanOptions.blobs = [imageColumn];
  if (options.columns !== undefined) {
    const want = new Set(options.columns);
    const addCol = (c: string | undefined) => c !== undefined && want.add(c);
    if (imageColumn) addCol(imageColumn);
    if (typeof options.labels === 'string') addCol(options.labels);
    else if (options.labels) addCol(options.labels.column);
    const feats = options.features;
    if (typeof feats === 'string') addCol(feats);
    else if (Array.isArray(feats)) feats.forEach(addCol);
    else if (feats) Object.values(feats).forEach((v) => addCol(typeof v === 'string' ? v : v.column));
    scanOptions.columns = [...want];
  }
  let plan = await resolvePlan(source2, scanOptions);
  let planJSON = plan.toJSON();
  if (pipeline && imageColumn === null) {
    const blobs = blobColumnsOf(planJSON);
    if (blobs.length !== 1) throw invalid(`image pipeline: say which reference column to decode with images....on('<column>') (plan blob columns: [${blobs.join(', ')}])`, {}, 'IMAGE_COLUMN_REQUIRED');
    imageColumn = blobs[0];
  }
  if (pipeline && imageColumn !== null && !blobColumnsOf(planJSON).includes(imageColumn)) {
    throw invalid(`image column ${imageColumn} is not read as bytes by the plan (plan blob columns: [${blobColumnsOf(planJSON).join(', ')}]); plan with blobs: ['${imageColumn}']`, { column: imageColumn }, 'IMAGE_COLUMN_NOT_READ');
  }
  const tableName = planJSON.splits[0]?.tableName ?? (isScannable(source2) ? source2.info?.name : undefined) ?? ('table' in source && typeof source.table === 'string' ? source.table : '(plan)');
  // Row counts come from Parquet footers (ranged reads, no data pages): they balance the shards and
  // tell samplesPerEpoch before any data is read.
  if (planJSON.splits.some((s) => s.rowCount === null)) {
    plan = await plan.withRowCounts({ signal: options.signal });
    planJSON = plan.toJSON();
  }
  const shards = assignShards(plan.splits, numShards);
  const shardSplits = shards[shard];
  const target = equalizedSampleCount(shards, equalize);
  const exactCounts = planJSON.primaryKeys.length === 0 && planJSON.filter === null && shardSplits.every((s) => s.rowCount !== null);
  const samplesPerEpoch = target ?? (exactCounts ? shardSplits.reduce((a, s) => a + (s.rowCount as number), 0) : null);
  const mapping = resolveMapping(plan.schema, options, imageColumn, tableName);
  // Without a row hook only the mapped columns are materialized per row; a hook sees every column.
  const readColumns = rowHook
    ? plan.schema.fields.map((f) => f.name)
    : [...new Set([...mapping.features.map((f) => f.column), ...(mapping.label ? [mapping.label.column] : []), ...(imageColumn ? [imageColumn, `${imageColumn}__bytes`] : [])])];

  // Resume.
  let epoch = options.epoch ?? 0;
  let consumed = 0;
  if (!Number.isInteger(epoch) || epoch < 0) throw invalid(`epoch must be a non-negative integer, got ${epoch}`);
  const r = options.resumeFrom;
  if (r) {
    const mismatch = (what: string, was: unknown, now: unknown) =>
      new LakeSoulError('Conflict', `resumeFrom: ${what} was ${JSON.stringify(was)}, this reader has ${JSON.stringify(now)}; resume with the same ${what}`, { code: 'RESUME_MISMATCH', context: { table: tableName } });
    if (r.rank !== rank || r.worldSize !== worldSize || r.workersPerRank !== workersPerRank || r.worker !== worker) {
      throw mismatch('sharding', [r.rank, r.worldSize, r.workersPerRank, r.worker], [rank, worldSize, workersPerRank, worker]);
    }
    if ((r.seed ?? null) !== (shuffle?.seed ?? null)) throw mismatch('shuffle seed', r.seed, shuffle?.seed ?? null);
    const now = planJSON.partitionVersions;
    for (const k of new Set([...Object.keys(now), ...Object.keys(r.tableVersions)])) {
      if (now[k] !== r.tableVersions[k]) {
        throw new LakeSoulError('Conflict', `resumeFrom: partition ${k} of ${tableName} was read at version ${r.tableVersions[k] ?? 'none'}, the plan now has ${now[k] ?? 'none'}; pass snapshot: { version } or the same plan`, {
          code: 'RESUME_VERSION_MISMATCH',
          context: { table: tableName, partition: k },
        });
      }
    }
    if (!Number.isInteger(r.epoch) || r.epoch < 0 || !Number.isInteger(r.samplesConsumed) || r.samplesConsumed < 0) throw invalid('resumeFrom: bad epoch/samplesConsumed');
    epoch = r.epoch;
    consumed = r.samplesConsumed;
  }
  let started = false;
  let closed = false;

  const ownsExecutor = options.decode?.executor === undefined;
  const executor: ImageExecutor | null = pipeline ? (options.decode?.executor ?? (await createImageExecutor({ decoder: options.decode?.decoder, workers: options.decode?.workers, concurrency: options.decode?.concurrency, tf }))) : null;

  const fixedShape = pipeline?.outputShape() ?? null;
  /** Floats per decoded image when the pipeline fixes the shape (0: unknown until decoded). */
  const imageSize = fixedShape ? fixedShape[0] * fixedShape[1] * fixedShape[2] : 0;
  const bufferSize = shuffle?.bufferSize ?? 1024;
  const splitOrder = (ep: number) => (shuffle ? permute(shardSplits, new SeededRandom(shuffle.seed, 'splits', ep, shard)) : shardSplits);

  // Streams below carry chunks (the rows of one Arrow batch), not single samples: one async step per
  // batch keeps per-row overhead to plain loops.

  async function* splitRows(split: Split): AsyncGenerator<Sample[]> {
    let index = 0;
    for await (const batch of plan.readSplit(split, { batchSize: readBatchSize, signal: options.signal })) {
      const rows = batchToRows(batch, readColumns);
      if (rows.length > 0) yield rows.map((row) => ({ row, splitId: split.id, index: index++ }));
    }
  }

  /** The epoch's rows of this shard, shuffled, before equalization (a full pass from its start). */
  async function* onePass(ep: number): AsyncGenerator<Sample[]> {
    const order = splitOrder(ep);
    if (!shuffle) {
      for (const split of order) yield* splitRows(split);
      return;
    }
    const buffer = new ShuffleBuffer<Sample>(bufferSize, new SeededRandom(shuffle.seed, 'buffer', ep, shard));
    for (const split of order) {
      for await (const chunk of splitRows(split)) {
        const out: Sample[] = [];
        for (const s of chunk) {
          const r = buffer.push(s);
          if (r) out.push(r.value);
        }
        if (out.length > 0) yield out;
      }
    }
    yield* drain(buffer);
  }

  function* drain(buffer: ShuffleBuffer<Sample>): Generator<Sample[]> {
    let out: Sample[] = [];
    for (let r = buffer.pop(); r; r = buffer.pop()) {
      out.push(r.value);
      if (out.length === readBatchSize) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  }

  /**
   * A pass from its `skip`-th sample on, for exact split row counts (no primary key, no filter): the
   * position is computed without data, and only splits holding rows still to come (resident in the
   * shuffle buffer, or not yet read) are read.
   */
  async function* passFrom(ep: number, skip: number): AsyncGenerator<Sample[]> {
    if (skip === 0) {
      yield* onePass(ep);
      return;
    }
    const order = splitOrder(ep);
    const starts: number[] = [];
    let n = 0;
    for (const sp of order) {
      starts.push(n);
      n += sp.rowCount as number;
    }
    if (skip >= n) return;
    const sim = shuffle ? simulateShuffle(n, bufferSize, new SeededRandom(shuffle.seed, 'buffer', ep, shard), skip) : { pushed: skip, slots: [] as number[], rngState: null };
    const slotOf = new Map(sim.slots.map((pos, i) => [pos, i]));
    const resident: Sample[] = new Array(sim.slots.length);
    // Built once every resident row is back (all of them precede input position `pushed`).
    let buffer: ShuffleBuffer<Sample> | null = null;
    const restored = (): ShuffleBuffer<Sample> => {
      if (buffer === null) {
        if (resident.some((r) => r === undefined)) throw new LakeSoulError('Internal', `resume of ${tableName}: a resident shuffle-buffer row was not found`, { code: 'RESUME_POSITION' });
        buffer = ShuffleBuffer.restore<Sample>(bufferSize, resident, sim.rngState!);
      }
      return buffer;
    };
    for (let i = 0; i < order.length; i++) {
      const split = order[i];
      const a = starts[i];
      const b = a + (split.rowCount as number);
      if (b <= sim.pushed && !sim.slots.some((pos) => pos >= a && pos < b)) continue;
      let pos = a;
      for await (const chunk of splitRows(split)) {
        const out: Sample[] = [];
        for (const s of chunk) {
          if (pos >= b) break;
          if (pos < sim.pushed) {
            const slot = slotOf.get(pos);
            if (slot !== undefined) resident[slot] = s;
          } else if (sim.rngState) {
            const r = restored().push(s);
            if (r) out.push(r.value);
          } else out.push(s);
          pos++;
        }
        if (out.length > 0) yield out;
      }
      if (pos !== b) {
        throw new LakeSoulError('Internal', `split ${split.id} of ${tableName} yielded ${pos - a} rows, its footers say ${b - a}; cannot position the resumed stream`, {
          code: 'ROW_COUNT_MISMATCH',
          context: { table: tableName, partition: split.partitionDesc },
        });
      }
    }
    if (sim.rngState) yield* drain(restored());
  }

  /** The equalized epoch stream from its `skip`-th sample: `target` samples in all when equalizing. */
  async function* epochStream(ep: number, skip: number): AsyncGenerator<Sample[]> {
    if (skip > 0 && !exactCounts) {
      // Row counts are upper bounds (merge) or unknown (filter): replay and drop the first `skip`
      // samples (no decoding, no tensors).
      let k = 0;
      for await (const chunk of epochStream(ep, 0)) {
        if (k + chunk.length <= skip) k += chunk.length;
        else {
          yield k >= skip ? chunk : chunk.slice(skip - k);
          k = skip;
        }
      }
      return;
    }
    let n = skip;
    // With 'pad', whole passes before the position are skipped by arithmetic (the pass length is known).
    const passLen = exactCounts ? shardSplits.reduce((acc, sp) => acc + (sp.rowCount as number), 0) : null;
    const passSkip = equalize === 'pad' && passLen !== null && passLen > 0 ? skip % passLen : skip;
    let inPass = passSkip;
    const limit = (chunk: Sample[]): Sample[] | null => {
      if (target === null) return chunk;
      if (n >= target) return null;
      return n + chunk.length > target ? chunk.slice(0, target - n) : chunk;
    };
    for await (const chunk of passFrom(ep, passSkip)) {
      const c = limit(chunk);
      if (c === null) return;
      yield c;
      n += c.length;
      inPass += c.length;
    }
    if (target === null || n >= target) return;
    if (equalize === 'drop' || inPass === 0) {
      throw new LakeSoulError('Conflict', `equalize '${equalize}': shard ${shard} of ${tableName} yielded ${inPass} rows but the metadata promised at least ${target} (a filter or primary-key merge removed rows); use 'pad'`, {
        code: 'EQUALIZE_SHORT',
        context: { table: tableName, shard },
      });
    }
    // 'pad': replay the same epoch stream from its start.
    while (n < target) {
      for await (const chunk of onePass(ep)) {
        const c = limit(chunk);
        if (c === null) return;
        yield c;
        n += c.length;
      }
    }
  }

  async function prepare(s: Sample, ep: number, sampleIndex: number, out?: Float32Array): Promise<Sample> {
    let row = s.row;
    const ctx: TransformContext = { epoch: ep, sampleIndex, splitId: s.splitId };
    if (pipeline && executor && imageColumn) {
      const bytes = row[`${imageColumn}__bytes`];
      if (!(bytes instanceof Uint8Array)) {
        throw invalid(`table ${tableName}, split ${s.splitId}, row ${s.index}, column ${imageColumn}: no image bytes (reference ${String(row[imageColumn])})`, { table: tableName, column: imageColumn, row: s.index }, 'IMAGE_MISSING');
      }
      const seed = pipeline.isRandom ? new SeededRandom(shuffle?.seed ?? 0, 'augment', ep, shard, sampleIndex).nextUint32() : 0;
      let img;
      try {
        img = await executor.run(pipeline, bytes, seed, options.signal, out);
      } catch (e) {
        throw new LakeSoulError('InvalidArgument', `table ${tableName}, split ${s.splitId}, row ${s.index}, column ${imageColumn} (${String(row[imageColumn])}): cannot transform image: ${(e as Error).message}`, {
          code: 'IMAGE_DECODE',
          context: { table: tableName, column: imageColumn, row: s.index, file: String(row[imageColumn]) },
          cause: e,
        });
      }
      row = { ...row, [imageColumn]: { shape: [img.height, img.width, img.channels], values: img.data as Float32Array }, [`${imageColumn}__bytes`]: undefined };
    }
    if (rowHook) row = await rowHook(row, ctx);
    return { ...s, row };
  }

  /** The epoch's samples after the resume position, grouped into batches; `last` marks the final one. */
  async function* groups(ep: number, skip: number): AsyncGenerator<{ samples: Sample[]; first: number; last: boolean }> {
    const it = epochStream(ep, skip)[Symbol.asyncIterator]();
    let sampleIndex = skip;
    let pending: Sample[] = [];
    try {
      let cur = await it.next();
      while (!cur.done) {
        // One chunk of lookahead tells whether a batch is the epoch's last.
        const next = await it.next();
        const chunk = cur.value;
        for (let i = 0; i < chunk.length; i++) {
          pending.push(chunk[i]);
          sampleIndex++;
          const last = next.done === true && i === chunk.length - 1;
          if (pending.length === batchSize || (last && !options.dropRemainder)) {
            yield { samples: pending, first: sampleIndex - pending.length, last };
            pending = [];
          }
        }
        cur = next;
      }
    } finally {
      await it.return?.(undefined);
    }
  }

  // Batches started before the one awaited: with a decoder that overlaps calls (sharp, workers), at
  // least `concurrency` images keep decoding while a finished batch is assembled and trained on, so
  // batch boundaries are no barrier. Decoders on the calling thread gain nothing from it.
  const decodeAhead = executor && executor.concurrency > 1 ? Math.max(1, Math.ceil(executor.concurrency / batchSize)) : 0;

  const generator = async function* (): AsyncGenerator<TfjsElement> {
    if (closed) throw new LakeSoulError('Aborted', 'tfjsDataset: iterated after close()');
    // Each started iteration is the next epoch; the first one continues a resumed position.
    const ep = started ? epoch + 1 : epoch;
    const skip = started ? 0 : consumed;
    started = true;
    epoch = ep;
    consumed = skip;
    let batchIndex = 0;
    const finish = () => {
      // A finished epoch: a resume continues with the next one.
      epoch = ep + 1;
      consumed = 0;
      started = false;
    };
    const queue: { n: number; last: boolean; ready: Promise<Sample[]> }[] = [];
    const toElement = async (q: { n: number; last: boolean; ready: Promise<Sample[]> }): Promise<TfjsElement> => {
      const ready = await q.ready;
      let el = assembleBatch(tf, ready, mapping, tableName);
      if (options.batchTransform) {
        const input = el;
        const hook = options.batchTransform;
        const bi = batchIndex;
        try {
          el = tf.tidy(() => hook(input, { epoch: ep, batchIndex: bi }) as never) as TfjsElement;
        } catch (e) {
          tf.dispose(tensorsOf(input));
          throw e;
        }
        const keep = new Set(tensorsOf(el));
        tf.dispose(tensorsOf(input).filter((t) => !keep.has(t)));
      }
      return el;
    };
    for await (const g of groups(ep, skip)) {
      // With a fixed image shape the batch's pixel buffer exists up front: each image is written into
      // its slice as it is decoded, and assembleBatch finds them contiguous and copies nothing.
      const perImage = imageSize;
      const batchPixels = perImage > 0 ? new Float32Array(g.samples.length * perImage) : null;
      const ready = pipeline || rowHook
        ? Promise.all(g.samples.map((s, i) => prepare(s, ep, g.first + i, batchPixels?.subarray(i * perImage, (i + 1) * perImage))))
        : Promise.resolve(g.samples);
      ready.catch(() => {}); // awaited below; this only marks it handled while it waits in the queue
      queue.push({ n: g.samples.length, last: g.last, ready });
      if (queue.length > decodeAhead) {
        const q = queue.shift()!;
        const el = await toElement(q);
        if (q.last) finish();
        else consumed += q.n;
        batchIndex++;
        yield el;
      }
    }
    while (queue.length > 0) {
      const q = queue.shift()!;
      const el = await toElement(q);
      if (q.last) finish();
      else consumed += q.n;
      batchIndex++;
      yield el;
    }
    if (started && epoch === ep) finish();
  };

  const ds = tf.data.generator(generator as unknown as () => AsyncGenerator<tfc.TensorContainer>) as unknown as tfd.Dataset<TfjsElement>;
  const extra = {
    getState: (): ResumeState => {
      // With dropRemainder, a position before a dropped tail is the end of the epoch.
      const atEnd = options.dropRemainder === true && samplesPerEpoch !== null && consumed > 0 && consumed + batchSize > samplesPerEpoch;
      return {
      tableVersions: { ...planJSON.partitionVersions },
      seed: shuffle?.seed ?? null,
      epoch: atEnd ? epoch + 1 : epoch,
      samplesConsumed: atEnd ? 0 : consumed,
      rank,
      worldSize,
      workersPerRank,
      worker,
      };
    },
    plan: planJSON,
    shardSplits,
    samplesPerEpoch,
    imageDecoder: executor?.kind ?? null,
    close: async () => {
      closed = true;
      if (ownsExecutor) await executor?.close();
    },
  };
  return Object.assign(ds, extra) as TfjsDataset;
}

function blobColumnFromProperties(props: Record<string, string> | undefined): string | null {
  const v = props?.lakesoul_blob_columns;
  if (!v) return null;
  const cols = v.split(',').map((s) => s.trim()).filter(Boolean);
  return cols.length === 1 ? cols[0] : null;
}

async function defaultTf(): Promise<TfLike> {
  try {
    const core = await import('@tensorflow/tfjs-core');
    const data = await import('@tensorflow/tfjs-data');
    return { ...(core as unknown as TfLike), data: data as unknown as TfLike['data'] };
  } catch (e) {
    throw new LakeSoulError('Unsupported', 'tfjsDataset needs @tensorflow/tfjs-core and @tensorflow/tfjs-data (or pass `tf`: import * as tf from "@tensorflow/tfjs" or "@tensorflow/tfjs-node")', {
      code: 'TFJS_MISSING',
      cause: e,
    });
  }
}
