/**
 * Batch tensors whose memory is allocated in tfjs-backend-wasm's heap before their images are decoded:
 * each image is scaled straight into its slice, and the finished batch becomes a tensor without the
 * copy `tf.tensor(values)` makes (about 0.2 ms of the main thread per 224x224 RGB image).
 *
 * The heap is a WebAssembly memory that grows while other tensors are made; growing it detaches every
 * view of the old buffer (writes through a detached view are silently lost). So a slot's view is made
 * at the moment it is written ({@link ResidentBatch.slot}, called synchronously by the decoder), and
 * rows keep that view only to prove, at assembly, which values are still in the heap.
 *
 * Only the backend's documented-by-use surface is touched: `makeOutput` (the allocation its own kernels
 * use), the `dataIdMap` entry's `memoryOffset`, `disposeData`, and the engine's
 * `makeTensorFromTensorInfo`. Anything else (another backend, another tfjs version without those) gets
 * `null` from {@link residentBatchAllocator} and the loader builds tensors from JavaScript arrays.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { LakeSoulError } from '@lakesoul-ts/meta';

interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: 'float32';
}

/** The parts of tfjs-backend-wasm's `BackendWasm` used here. */
interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  disposeData(dataId: object, force?: boolean): boolean;
}

/** The tfjs surface needed: the active backend's name and instance, and the engine. */
export interface ResidentTf {
  getBackend?(): string;
  backend?(): unknown;
  engine?(): unknown;
}

/**
 * One batch's pixels in the wasm heap, `count` images of `perImage` floats each. It ends exactly once:
 * as a tensor ({@link tensor}) or freed ({@link free}); free it only when no decode can still write.
 */
export class ResidentBatch {
  /** Images in the batch. */
  readonly count: number;
  /** Floats per image. */
  readonly perImage: number;
  private readonly views: (Float32Array | undefined)[];
  private state: 'open' | 'taken' | 'freed' = 'open';

  constructor(
    private readonly backend: WasmBackendLike,
    private readonly makeTensor: (info: TensorInfo, backend: unknown) => tfc.Tensor,
    private readonly info: TensorInfo,
    private readonly offset: number,
  ) {
    this.count = info.shape[0];
    this.perImage = info.shape.slice(1).reduce((a, b) => a * b, 1);
    this.views = new Array<Float32Array | undefined>(this.count);
  }

  /** A view of image `i`'s slice, valid until the heap next grows: write through it at once. */
  slot(i: number): Float32Array {
    if (this.state !== 'open') throw new LakeSoulError('Internal', `batch memory already ${this.state === 'taken' ? 'handed to a tensor' : 'freed'}`);
    if (!(i >= 0 && i < this.count)) throw new RangeError(`image slot ${i} outside a batch of ${this.count}`);
    const v = new Float32Array(this.backend.wasm.HEAPU8.buffer, this.offset + i * this.perImage * 4, this.perImage);
    this.views[i] = v;
    return v;
  }

  /** True when `values` is the view last handed out for slot `i` (the image was written there). */
  holds(i: number, values: unknown): boolean {
    return this.views[i] !== undefined && this.views[i] === values;
  }

  /** A JavaScript copy of slot `i`'s current values (for a batch that cannot become the tensor). */
  copyOf(i: number): Float32Array {
    if (this.state !== 'open') throw new LakeSoulError('Internal', 'batch memory is no longer owned by the loader');
    return new Float32Array(this.backend.wasm.HEAPU8.buffer, this.offset + i * this.perImage * 4, this.perImage).slice();
  }

  /** The batch's shape: `[count, ...image shape]`. */
  get shape(): readonly number[] {
    return this.info.shape;
  }

  /** The batch as a tensor; the tensor then owns the memory. */
  tensor(): tfc.Tensor {
    if (this.state !== 'open') throw new LakeSoulError('Internal', 'batch memory is no longer owned by the loader');
    this.state = 'taken';
    return this.makeTensor(this.info, this.backend);
  }

  /** Frees the memory unless a tensor took it (idempotent). */
  free(): void {
    if (this.state !== 'open') return;
    this.state = 'freed';
    this.backend.disposeData(this.info.dataId, true);
  }

  /** True once {@link tensor} or {@link free} ended it. */
  get ended(): boolean {
    return this.state !== 'open';
  }
}

/**
 * A function allocating {@link ResidentBatch}es on the active backend when it is tfjs-backend-wasm
 * with the surface this module uses, else `null`.
 */
export function residentBatchAllocator(tf: ResidentTf): ((count: number, image: readonly number[]) => ResidentBatch) | null {
  if (tf.getBackend?.() !== 'wasm' || typeof tf.backend !== 'function' || typeof tf.engine !== 'function') return null;
  const backend = tf.backend() as Partial<WasmBackendLike> | null;
  const engine = tf.engine() as { makeTensorFromTensorInfo?: (info: TensorInfo, backend: unknown) => tfc.Tensor } | null;
  if (!backend || !(backend.wasm?.HEAPU8 instanceof Uint8Array)) return null;
  if (typeof backend.makeOutput !== 'function' || typeof backend.disposeData !== 'function' || typeof backend.dataIdMap?.get !== 'function') return null;
  if (typeof engine?.makeTensorFromTensorInfo !== 'function') return null;
  const b = backend as WasmBackendLike;
  const makeTensor = engine.makeTensorFromTensorInfo.bind(engine);
  return (count, image) => {
    const info = b.makeOutput([count, ...image], 'float32');
    const offset = b.dataIdMap.get(info.dataId)?.memoryOffset;
    if (typeof offset !== 'number') {
      b.disposeData(info.dataId, true);
      throw new LakeSoulError('Internal', 'tfjs-backend-wasm allocated a tensor without a heap offset');
    }
    return new ResidentBatch(b, makeTensor, info, offset);
  };
}
