/**
 * `tfjsDataset`: a lakehouse table (or a planned scan) as a `tf.data.Dataset` for `model.fitDataset`,
 * sharded across ranks from catalog metadata, seeded-shuffled, resumable and with image transforms.
 *
 * Stages, each its own function or file: options checked and the scan planned (dataset-plan.ts:
 * image column, row counts, shard, column mapping, resume position) -> the shard's epoch stream
 * (epoch-stream.ts: seeded split permutation -> rows -> bounded seeded shuffle buffer -> equalize)
 * -> samples fetched, decoded and batched ahead of the consumer (batch-stream.ts) -> tensors
 * (dataset-mapping.ts) -> per-batch hook. This file holds the public types and wires the stages.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type * as tfd from '@tensorflow/tfjs-data';
import type { Schema } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { Filter, ScanOptions, ScanPlan, ScanPlanJSON, Split } from '@lakesoul-ts/io';
import type { Row, RowTensor } from './arrow-rows.js';
import { BatchStream } from './batch-stream.js';
import { tensorsOf } from './dataset-mapping.js';
import { planDataset, planFilterOf, planTableId, resumePosition, selectionOf, validateOptions } from './dataset-plan.js';
import { EpochStream } from './epoch-stream.js';
import { createImageExecutor, type ImageDecoderKind, type ImageExecutor, type ImageResizeKernel } from './image-executor.js';
import type { ImagePipeline } from './image-pipeline.js';
import type { EqualizeMode } from './shard-assign.js';

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
  /** `tf.backend()`: on the wasm backend, batch images are decoded straight into its heap. */
  backend?(): unknown;
  /** `tf.engine()`: makes the tensor over such a batch's memory. */
  engine?(): unknown;
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
  readonly info?: { name?: string; properties?: Record<string, string>; schema?: Schema };
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

/**
 * The label column (a scan column, or one a `transform` function adds): ints (or `classes` names) ->
 * int32 `[B]`, or one-hot float32 `[B, n]`; floats -> float32 `[B, 1]` (int32 `[B]` with
 * `dtype: 'int32'`). A label the transform adds needs `dtype`, `oneHot` or `classes`.
 */
export interface LabelSpec {
  column: string;
  /** One-hot encode into this many classes (`true`: `classes.length`). */
  oneHot?: number | boolean;
  /**
   * Class names for string labels; a label's index in this list is its class id. Each name once, and
   * only for a string column or one the transform adds (else BAD_DATASET_OPTION when the dataset is made).
   */
  classes?: string[];
  /**
   * Default: int32 for integer/string labels, float32 for floating-point labels and one-hot.
   * `'float32'` makes integer labels float32 `[B, 1]`: what a one-unit output (0/1 labels with
   * `binaryCrossentropy`, a regression target) is compared with; tfjs refuses `[B]` against `[B, 1]`.
   * `'int32'` makes floating-point labels int32 `[B]` class ids, fractions truncated as `tf.cast`
   * does (a value outside the int32 range, or NaN, is an `INT32_OUT_OF_RANGE` error).
   */
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

/**
 * A per-row hook: returns the row to use. It may replace scan columns' values and add columns (e.g. a
 * {@link RowTensor}); `features` and `labels` may name the added ones (checked on each batch's first
 * row: a name that is neither a scan column nor in the returned row is a `COLUMN_NOT_FOUND` error).
 */
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
  /** The shuffle buffer size (null when not shuffling); absent in states of earlier versions. */
  bufferSize?: number | null;
  /** The equalize mode; absent in states of earlier versions. */
  equalize?: EqualizeMode;
  /** The scan's selection (`partitions` and `filter`, as JSON); absent in states of earlier versions. */
  selection?: string;
  /**
   * The filter the plan applies (`ScanPlanJSON.filter`, normalized, as JSON; `"null"` for none): also
   * that of a `{ plan }` / `{ planJSON }` source, whose `filter` option is ignored. Absent in states of
   * earlier versions.
   */
  planFilter?: string;
  /**
   * The table the state was read from (`table_id`): a state resumes only that table, not another one
   * with the same partition versions (a table dropped and created again under its name is another
   * table). Absent in states of earlier versions, and of a plan with no split.
   */
  tableId?: string;
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
   * into one float32 `[B, n]` tensor), or a dict (`xs` is a dict of tensors). Names are scan columns,
   * or columns a `transform` function adds. Default: the image column when an image pipeline is
   * given, else every numeric / numeric-list scan column but the label.
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
   * Image decoding: decoder choice, worker threads for the pure-JS decoder (default 0; above 0,
   * 'auto' decodes on them instead of sharp or tfjs-node, and decoder 'sharp' or 'tfjs-node' refuses
   * them), sharp calls kept in flight (default 8), the resize kernel (default 'js', the same pixels
   * whatever the decoder; 'sharp', with decoder 'sharp' only, is libvips' own: other pixels), or an
   * `executor` from {@link createImageExecutor} shared between datasets (then owned by the caller:
   * `close()` leaves it running).
   */
  decode?: { decoder?: ImageDecoderKind; workers?: number; concurrency?: number; resize?: ImageResizeKernel; executor?: ImageExecutor };

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
// The dataset

/**
 * Opens a table scan as a `tf.data.Dataset` of batches (see {@link TfjsDatasetOptions}). Planning (and
 * row counts, when sharding or equalizing) happen here, before any data is read; each iteration of
 * the returned dataset streams this reader's shard for the next epoch.
 *
 * @throws LakeSoulError InvalidArgument for bad options or unknown columns; Conflict when `resumeFrom`
 *   was taken on other table versions or another sharding; Conflict `ITERATOR_OVERTAKEN` from an iterator asked for
 *   a batch after a newer iterator of the same dataset started.
 */
export async function tfjsDataset(source: TfjsDatasetSource, options: TfjsDatasetOptions = {}): Promise<TfjsDataset> {
  const settings = validateOptions(options);
  const tf: TfLike = options.tf ?? (await defaultTf());
  const planned = await planDataset(source, options, settings);
  let { epoch, consumed } = resumePosition(options, settings, planned);
  const { pipeline } = settings;
  const { planJSON, imageColumn } = planned;
  const ownsExecutor = options.decode?.executor === undefined;
  const executor: ImageExecutor | null = pipeline ? (options.decode?.executor ?? (await createImageExecutor({ decoder: options.decode?.decoder, workers: options.decode?.workers, concurrency: options.decode?.concurrency, resize: options.decode?.resize, tf }))) : null;
  // The image column is the plan's only blob column: its bytes are fetched per sample (batch-stream.ts).
  const fetchImages = pipeline !== undefined && imageColumn !== null && !planned.inlineImage && (planJSON.blobs?.columns.length ?? 0) === 1;
  const epochs = new EpochStream({ ...planned, ...settings, bufferSize: settings.shuffle?.bufferSize ?? 1024, fetchImages, signal: options.signal });
  const batches = new BatchStream({ tf, options, settings, planned, epochs, executor, fetchImages });
  let started = false;
  let closed = false;
  // The resume position is one per dataset: the iterator started last owns it. An older one still
  // running counted its batches into the newer one's epoch, and its end reset the position.
  let generation = 0;

  const generator = async function* (): AsyncGenerator<TfjsElement> {
    if (closed) throw new LakeSoulError('Aborted', 'tfjsDataset: iterated after close()');
    const gen = ++generation;
    const stale = (ep: number) =>
      new LakeSoulError('Conflict', `tfjsDataset over ${planned.tableName}: this iterator (epoch ${ep}) was overtaken by a newer iterator of the same dataset, which now owns the resume position (getState): iterate one iterator at a time (each new iterator is the next epoch)`, {
        code: 'ITERATOR_OVERTAKEN',
        context: { table: planned.tableName },
      });
    for (;;) {
      // Each started iteration is the next epoch; the first one continues a resumed position.
      const ep = started ? epoch + 1 : epoch;
      const skip = started ? 0 : consumed;
      started = true;
      epoch = ep;
      consumed = skip;
      const finish = () => {
        // A finished epoch: a resume continues with the next one.
        epoch = ep + 1;
        consumed = 0;
        started = false;
      };
      let delivered = 0;
      for await (const b of batches.batches(ep, skip)) {
        if (gen !== generation) {
          tf.dispose(tensorsOf(b.element));
          throw stale(ep);
        }
        if (b.last) finish();
        else consumed += b.n;
        delivered++;
        yield b.element;
        if (gen !== generation) throw stale(ep);
      }
      if (gen !== generation) throw stale(ep);
      if (started && epoch === ep) finish();
      // A resumed position at the end of its epoch (with dropRemainder, only a dropped tail was left,
      // which `getState` cannot tell where the footers' counts are upper bounds: a primary-key table)
      // delivered nothing: this iteration is the next epoch, as it is when the count is known.
      if (delivered > 0 || skip === 0) return;
    }
  };

  const ds = tf.data.generator(generator as unknown as () => AsyncGenerator<tfc.TensorContainer>) as unknown as tfd.Dataset<TfjsElement>;
  const { samplesPerEpoch } = planned;
  const extra = {
    getState: (): ResumeState => {
      // With dropRemainder, a position before a dropped tail is the end of the epoch.
      const atEnd = options.dropRemainder === true && samplesPerEpoch !== null && consumed > 0 && consumed + settings.batchSize > samplesPerEpoch;
      return {
        tableVersions: { ...planJSON.partitionVersions },
        seed: settings.shuffle?.seed ?? null,
        epoch: atEnd ? epoch + 1 : epoch,
        samplesConsumed: atEnd ? 0 : consumed,
        rank: settings.rank,
        worldSize: settings.worldSize,
        workersPerRank: settings.workersPerRank,
        worker: settings.worker,
        bufferSize: settings.shuffle?.bufferSize ?? null,
        equalize: settings.equalize,
        selection: selectionOf(options),
        planFilter: planFilterOf(planJSON),
        ...(planTableId(planJSON) !== undefined ? { tableId: planTableId(planJSON) } : {}),
      };
    },
    plan: planJSON,
    shardSplits: planned.shardSplits,
    // what an epoch delivers: with dropRemainder, the last partial batch is not delivered
    samplesPerEpoch: samplesPerEpoch !== null && options.dropRemainder === true ? samplesPerEpoch - (samplesPerEpoch % settings.batchSize) : samplesPerEpoch,
    imageDecoder: executor?.kind ?? null,
    close: async () => {
      closed = true;
      if (ownsExecutor) await executor?.close();
    },
  };
  return Object.assign(ds, extra) as TfjsDataset;
}

/**
 * The TensorFlow.js the loader uses when the caller passes none: tfjs-core and tfjs-data, when a
 * backend is registered with that tfjs-core (the application imported one); else a whole TensorFlow.js
 * that registers its own, the native `@tensorflow/tfjs-node` first, then `@tensorflow/tfjs`. tfjs-core
 * alone registers no backend: the first batch failed "No backend found in registry".
 */
async function defaultTf(): Promise<TfLike> {
  let tf: TfLike;
  try {
    const core = await import('@tensorflow/tfjs-core');
    const data = await import('@tensorflow/tfjs-data');
    tf = { ...(core as unknown as TfLike), data: data as unknown as TfLike['data'] };
  } catch (e) {
    throw new LakeSoulError('Unsupported', 'tfjsDataset needs @tensorflow/tfjs-core and @tensorflow/tfjs-data (or pass `tf`: import * as tf from "@tensorflow/tfjs" or "@tensorflow/tfjs-node")', {
      code: 'TFJS_MISSING',
      cause: e,
    });
  }
  if (hasBackend(tf)) return tf;
  for (const name of ['@tensorflow/tfjs-node', '@tensorflow/tfjs']) {
    // a name in a variable: neither is a dependency of this package, and either may be missing
    const whole = (await import(name).catch(() => null)) as TfLike | null;
    if (whole !== null && hasBackend(whole)) return whole;
  }
  throw new LakeSoulError('Unsupported', 'tfjsDataset found no TensorFlow.js backend: @tensorflow/tfjs-core registers none, and neither @tensorflow/tfjs-node nor @tensorflow/tfjs could be imported. ' +
    'Pass `tf` (import * as tf from "@tensorflow/tfjs-node" or "@tensorflow/tfjs"), or import a backend (such as "@tensorflow/tfjs-backend-cpu") before creating the dataset', { code: 'TFJS_NO_BACKEND' });
}

/** Whether `tf`'s engine has a backend registered (tfjs-core's `engine().backendNames()`). */
function hasBackend(tf: TfLike): boolean {
  const engine = (tf as { engine?: () => { backendNames?: () => string[] } }).engine?.();
  return (engine?.backendNames?.().length ?? 0) > 0;
}
