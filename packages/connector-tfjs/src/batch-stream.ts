/**
 * Samples to tensors, batch by batch: each image's bytes fetched and decoded (into its slot of the
 * batch's pixel buffer) ahead of the consumer across batch boundaries, then the batch assembled and
 * handed to the per-batch hook.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { BlobValueFetcher } from '@lakesoul-ts/io';
import type { RowTensor, RowValue } from './arrow-rows.js';
import { assembleBatch, invalid, quoteValue, splitPlace, tensorsOf, type PrebuiltFeature, type Sample } from './dataset-mapping.js';
import type { DatasetSettings, PlannedDataset } from './dataset-plan.js';
import type { EpochStream } from './epoch-stream.js';
import type { ImageExecutor, PixelTarget } from './image-executor.js';
import { SeededRandom } from './seeded-random.js';
import type { TfjsDatasetOptions, TfjsElement, TfLike, TransformContext } from './tfjs-dataset.js';
import { residentBatchAllocator, type ResidentBatch } from './wasm-resident.js';

/** What a {@link BatchStream} needs: the dataset's settings, plan, epoch stream and decoder. */
export interface BatchStreamContext {
  tf: TfLike;
  options: TfjsDatasetOptions;
  settings: DatasetSettings;
  planned: PlannedDataset;
  epochs: EpochStream;
  executor: ImageExecutor | null;
  /** Image bytes are fetched per sample (the plan's only blob column is the image column). */
  fetchImages: boolean;
}

/** One batch ready for the consumer. */
export interface MadeBatch {
  element: TfjsElement;
  /** Samples in it. */
  n: number;
  /** The epoch's final batch. */
  last: boolean;
}

/** A batch whose samples are being prepared. */
interface PendingBatch {
  n: number;
  last: boolean;
  ready: Promise<Sample[]>;
  /** Settles once no decode of the batch can still write into its pixels. */
  settled: Promise<unknown>;
  pixels: Float32Array | null;
  /** The batch's pixels when they live in the wasm backend's heap (then `pixels` is null). */
  resident: ResidentBatch | null;
}

/** Batches of tensors for an epoch (see the file comment). */
export class BatchStream {
  private readonly fetchers = new Map<string, BlobValueFetcher | null>();
  private readonly pixelPool: PixelBufferPool;
  /** Buffers local image files are read into, back in the pool once their decode is done. */
  private readonly bytePool: ByteBufferPool | null;
  /** Floats per decoded image when the pipeline fixes the shape (0: unknown until decoded). */
  private readonly imageSize: number;
  /**
   * Batches started before the one awaited: with a decoder that overlaps calls (sharp, workers), at
   * least `concurrency` images keep decoding while a finished batch is assembled and trained on, so
   * batch boundaries are no barrier. Decoders on the calling thread gain nothing from it.
   */
  private readonly decodeAhead: number;
  /** The pipeline's fixed output shape, or null. */
  private readonly imageShape: readonly number[] | null;
  /** Allocates batch pixels in the wasm backend's heap, where that works (see {@link residentFor}). */
  private readonly allocResident: ((count: number, image: readonly number[]) => ResidentBatch) | null;

  constructor(private readonly c: BatchStreamContext) {
    const shape = c.settings.pipeline?.outputShape() ?? null;
    this.imageShape = shape;
    this.imageSize = shape ? shape[0] * shape[1] * shape[2] : 0;
    const ex = c.executor;
    this.decodeAhead = ex && ex.concurrency > 1 ? Math.max(1, Math.ceil(ex.concurrency / c.settings.batchSize)) : 0;
    this.pixelPool = new PixelBufferPool(c.tf.getBackend?.() === 'wasm');
    this.allocResident = this.residentFor();
    // Worker threads take their input by transfer, so only decoders on this process's memory (sharp,
    // tfjs-node, JS on this thread) read from recycled buffers. Enough are kept for every image that
    // can be fetched and waiting at once.
    this.bytePool = c.fetchImages && ex && ex.kind !== 'js-workers' ? new ByteBufferPool((this.decodeAhead + 1) * c.settings.batchSize + ex.concurrency) : null;
  }

  /**
   * Batch pixels go straight into tfjs-backend-wasm's heap (no copy when the tensor is made) when the
   * backend allows it, the decoder writes into the slots it is given (not worker threads), no row hook
   * can see the pixels (a view of a heap that grew in between reads as empty), and exactly one float32
   * feature of a 'single' or 'dict' layout takes the image column.
   */
  private residentFor(): ((count: number, image: readonly number[]) => ResidentBatch) | null {
    const { executor, settings, planned } = this.c;
    if (!this.imageShape || !executor || executor.kind === 'js-workers' || settings.rowHook) return null;
    const m = planned.mapping;
    const uses = m.features.filter((f) => f.column === planned.imageColumn);
    if (m.xsMode === 'concat' || uses.length !== 1 || uses[0].dtype !== 'float32' || m.label?.column === planned.imageColumn) return null;
    return residentBatchAllocator(this.c.tf);
  }

  /** The batches of epoch `ep` after its first `skip` samples, in order. */
  async *batches(ep: number, skip: number): AsyncGenerator<MadeBatch> {
    const queue: PendingBatch[] = [];
    let batchIndex = 0;
    // tf.data drops an iterator it stops using without ending it: this generator then stays suspended
    // until collected, and its started batches' wasm memory (not the garbage collector's) is freed then.
    const alive = {};
    if (this.allocResident) abandonedQueues.register(alive, queue, alive);
    try {
      for await (const g of this.groups(ep, skip)) {
        queue.push(this.start(g.samples, g.first, g.last, ep));
        if (queue.length > this.decodeAhead) {
          const q = queue.shift()!;
          yield { element: await this.element(q, ep, batchIndex++), n: q.n, last: q.last };
        }
      }
      while (queue.length > 0) {
        const q = queue.shift()!;
        yield { element: await this.element(q, ep, batchIndex++), n: q.n, last: q.last };
      }
    } finally {
      abandonedQueues.unregister(alive);
      freeWhenSettled(queue);
    }
  }

  /** Starts preparing a batch's samples (fetch, decode, row hook). */
  private start(samples: Sample[], first: number, last: boolean, ep: number): PendingBatch {
    const { pipeline, rowHook } = this.c.settings;
    // With a fixed image shape the batch's pixel buffer exists up front: each image is written into
    // its slice as it is decoded, and assembleBatch finds them contiguous and copies nothing.
    const perImage = this.imageSize;
    const resident = perImage > 0 && this.allocResident ? this.allocResident(samples.length, this.imageShape!) : null;
    const pixels = perImage > 0 && !resident ? this.pixelPool.take(samples.length * perImage) : null;
    const slot = (i: number) => (resident ? () => resident.slot(i) : pixels?.subarray(i * perImage, (i + 1) * perImage));
    const prepared = pipeline || rowHook ? samples.map((s, i) => this.prepare(s, ep, first + i, slot(i))) : null;
    const ready = prepared ? Promise.all(prepared) : Promise.resolve(samples);
    ready.catch(() => {}); // awaited in element(); this only marks it handled while it waits in the queue
    const settled = prepared ? Promise.allSettled(prepared) : ready;
    return { n: samples.length, last, ready, settled, pixels, resident };
  }

  /** A started batch as tensors, after the per-batch hook. */
  private async element(q: PendingBatch, ep: number, batchIndex: number): Promise<TfjsElement> {
    const { tf, options, planned } = this.c;
    let ready: Sample[];
    try {
      ready = await q.ready;
    } catch (e) {
      freeWhenSettled([q]);
      throw e;
    } finally {
      if (q.pixels && !this.pixelPool.reusable) q.pixels = null;
    }
    let el: TfjsElement;
    let prebuilt: PrebuiltFeature | undefined;
    if (q.resident) [ready, prebuilt] = residentFeature(q.resident, ready, planned.imageColumn!);
    try {
      el = assembleBatch(tf, ready, planned.mapping, planned.tableName, prebuilt);
    } finally {
      q.resident?.free(); // nothing when the batch's tensor took the memory
    }
    if (q.pixels) this.pixelPool.release(q.pixels); // the backend copied it into its own memory
    if (options.batchTransform) {
      const input = el;
      const hook = options.batchTransform;
      try {
        el = tf.tidy(() => hook(input, { epoch: ep, batchIndex }) as never) as TfjsElement;
      } catch (e) {
        tf.dispose(tensorsOf(input));
        throw e;
      }
      const keep = new Set<tfc.Tensor>(tensorsOf(el));
      tf.dispose(tensorsOf(input).filter((t) => !keep.has(t)));
    }
    return el;
  }

  /** The epoch's samples after the resume position, grouped into batches; `last` marks the final one. */
  private async *groups(ep: number, skip: number): AsyncGenerator<{ samples: Sample[]; first: number; last: boolean }> {
    const { batchSize } = this.c.settings;
    const it = this.c.epochs.stream(ep, skip)[Symbol.asyncIterator]();
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
          if (pending.length === batchSize || (last && !this.c.options.dropRemainder)) {
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

  /** One sample through the image pipeline (into `out` when given) and the row hook. */
  private async prepare(s: Sample, ep: number, sampleIndex: number, out?: PixelTarget): Promise<Sample> {
    const { settings, executor, options } = this.c;
    const { pipeline, rowHook, shuffle, shard } = settings;
    const { imageColumn, tableName } = this.c.planned;
    let row = s.row;
    const ctx: TransformContext = { epoch: ep, sampleIndex, splitId: s.splitId };
    if (pipeline && executor && imageColumn) {
      const bytes = await this.imageBytes(s, imageColumn);
      if (!(bytes instanceof Uint8Array)) {
        throw invalid(`${splitPlace(tableName, s.splitId)}, row ${s.index}, column ${imageColumn}: no image bytes (${this.c.planned.inlineImage ? 'null value' : `reference ${quoteValue(row[imageColumn])}`})`, { table: tableName, column: imageColumn, row: s.index }, 'IMAGE_MISSING');
      }
      const seed = pipeline.isRandom ? new SeededRandom(shuffle?.seed ?? 0, 'augment', ep, shard, sampleIndex).nextUint32() : 0;
      let img;
      try {
        img = await executor.run(pipeline, bytes, seed, options.signal, out);
      } catch (e) {
        this.bytePool?.release(bytes);
        throw new LakeSoulError('InvalidArgument', `${splitPlace(tableName, s.splitId)}, row ${s.index}, column ${imageColumn} (${this.c.planned.inlineImage ? `inline, ${quoteValue(bytes)}` : quoteValue(row[imageColumn])}): cannot transform image: ${(e as Error).message}`, {
          code: 'IMAGE_DECODE',
          context: { table: tableName, column: imageColumn, row: s.index, ...(this.c.planned.inlineImage ? {} : { file: String(row[imageColumn]) }) },
          cause: e,
        });
      }
      this.bytePool?.release(bytes); // the decoder is done with it
      row = { ...row, [imageColumn]: { shape: [img.height, img.width, img.channels], values: img.data as Float32Array }, [`${imageColumn}__bytes`]: undefined };
    }
    if (rowHook) {
      const out = await rowHook(row, ctx);
      // a transform that forgot its `return` failed later as "Cannot read properties of undefined"
      if (out === null || typeof out !== 'object' || Array.isArray(out)) {
        throw new LakeSoulError('InvalidArgument', `${splitPlace(tableName, s.splitId)}, row ${s.index}: the transform returned ${out === null ? 'null' : Array.isArray(out) ? 'an array' : typeof out}, not a row (an object of column values; did it miss a \`return\`?)`, {
          code: 'BAD_DATASET_OPTION',
          context: { table: tableName, row: s.index },
        });
      }
      row = out;
    }
    return { ...s, row };
  }

  /**
   * The image bytes of a sample. When the image column is the plan's only blob column they are
   * fetched here, right before the decode (each object's own buffer handed to the decoder), not into
   * the scan's Arrow batches (a copy into one Binary column, and another out of it into the row).
   */
  private async imageBytes(s: Sample, column: string): Promise<RowValue> {
    // an inline image column holds the bytes themselves
    if (this.c.planned.inlineImage) return s.row[column];
    if (!this.c.fetchImages) return s.row[`${column}__bytes`];
    const { plan, shardSplits, tableName } = this.c.planned;
    let fetcher = this.fetchers.get(s.splitId);
    if (fetcher === undefined) this.fetchers.set(s.splitId, (fetcher = plan.blobFetcher(shardSplits.find((x) => x.id === s.splitId)!)));
    if (fetcher === null) return null;
    try {
      return await fetcher.fetch(s.row[column], this.c.options.signal, this.bytePool?.take);
    } catch (e) {
      const le = e as LakeSoulError;
      throw new LakeSoulError(le.kind ?? 'Internal', `${splitPlace(tableName, s.splitId)}, row ${s.index}, column ${column}: ${le.message}`, {
        code: le.code,
        context: { ...le.context, table: tableName, column, row: s.index },
        cause: e,
      });
    }
  }
}

/**
 * Frees the wasm memory of batches started but never handed out (the consumer stopped, or one failed)
 * once their decodes have stopped writing.
 */
function freeWhenSettled(queue: readonly PendingBatch[]): void {
  for (const q of queue) if (q.resident) void q.settled.then(() => q.resident!.free());
}

/** Queues of batch generators collected while suspended (see {@link BatchStream.batches}). */
const abandonedQueues = new FinalizationRegistry<PendingBatch[]>(freeWhenSettled);

/**
 * The image feature of a batch whose pixels are `resident`: the memory itself when every sample's
 * image was written into its slot with the batch's image shape; otherwise the samples with JavaScript
 * copies of whatever slots they hold (the caller then frees the memory).
 */
function residentFeature(resident: ResidentBatch, samples: Sample[], column: string): [Sample[], PrebuiltFeature | undefined] {
  const image = resident.shape.slice(1);
  const inSlot = samples.map((s, i) => {
    const v = s.row[column] as RowTensor | undefined;
    return typeof v === 'object' && v !== null && resident.holds(i, v.values) && v.shape.length === image.length && v.shape.every((d, k) => d === image[k]);
  });
  if (samples.length === resident.count && inSlot.every(Boolean)) return [samples, { column, shape: resident.shape, tensor: () => resident.tensor() }];
  const copied = samples.map((s, i) => {
    const v = s.row[column] as RowTensor | undefined;
    if (!resident.holds(i, v?.values)) return s;
    return { ...s, row: { ...s.row, [column]: { shape: v!.shape, values: resident.copyOf(i) } } };
  });
  return [copied, undefined];
}

/**
 * Batch pixel buffers, recycled when the backend copies a tensor's values into its own memory as the
 * tensor is made (tfjs-backend-wasm does; the cpu backend keeps the array and tfjs-node keeps it until
 * the tensor's first use, so there every batch gets a fresh buffer). Recycling spares the garbage
 * collector 600 KB per 224x224 RGB image: fresh buffers made it the loader's largest cost.
 */
class PixelBufferPool {
  private readonly free: Float32Array[] = [];

  constructor(readonly reusable: boolean) {}

  /** A buffer of `n` floats (not zeroed: every slot is decoded into before use). */
  take(n: number): Float32Array {
    const i = this.free.findIndex((b) => b.length === n);
    return i >= 0 ? this.free.splice(i, 1)[0] : uninitializedFloat32(n);
  }

  /** Hands `b` back once the tensor made from it holds its own copy. */
  release(b: Float32Array): void {
    if (this.reusable && this.free.length < 4) this.free.push(b);
  }
}

/** Objects larger than this are read into buffers of their own, not kept for reuse. */
const MAX_POOLED_BYTES = 4 * 1024 * 1024;

/**
 * Buffers that image files are read into (`GetOptions.into` of io), recycled once the decoder is done
 * with the bytes. A fresh buffer per image (about as large as the decoded 8-bit image) was, through
 * the garbage collector's external-memory accounting, the largest cost left on the sharp path: about
 * 0.6 ms of CPU per image in mark-compact collections.
 */
class ByteBufferPool {
  private readonly free: Uint8Array[] = [];
  /** Buffers handed out: only those come back (a store that ignores `into` returns its own). */
  private readonly lent = new WeakSet<ArrayBufferLike>();

  /** @param keep Free buffers kept at most. */
  constructor(private readonly keep: number) {}

  /** A buffer of at least `size` bytes: the smallest free one that fits, else a new one. */
  readonly take = (size: number): Uint8Array => {
    if (size > MAX_POOLED_BYTES) return new Uint8Array(size);
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      if (this.free[i].length >= size && (best < 0 || this.free[i].length < this.free[best].length)) best = i;
    }
    // New buffers are rounded up to 64 KiB so that images of similar sizes share them.
    const b = best >= 0 ? this.free.splice(best, 1)[0] : new Uint8Array(Buffer.allocUnsafeSlow(Math.max(65536, Math.ceil(size / 65536) * 65536)).buffer);
    this.lent.add(b.buffer);
    return b;
  };

  /** Takes back the buffer under `bytes` if this pool lent it (once). */
  release(bytes: Uint8Array): void {
    if (!this.lent.delete(bytes.buffer)) return;
    if (this.free.length < this.keep) this.free.push(new Uint8Array(bytes.buffer));
  }
}

/**
 * A Float32Array of `n` values whose memory is not zeroed: only for a batch buffer every slot of which
 * an image is decoded into (a batch whose images did not all land in their slots is copied into a
 * fresh array instead). Skipping calloc's fresh zero pages saves a page fault per 4 KiB written.
 */
function uninitializedFloat32(n: number): Float32Array {
  return new Float32Array(Buffer.allocUnsafeSlow(n * 4).buffer, 0, n);
}
