/**
 * Executes image pipelines: decode with sharp when it is installed (libvips decodes off the main
 * thread, several calls at once), else with tfjs-node (`tf.node.decodeImage`) when the injected tf has
 * it and its `tensorflow` backend is active, else pure JS (pngjs / jpeg-js); the JS path can run on a
 * pool of `worker_threads` workers when decoding is the bottleneck. Whatever decodes, the steps after
 * the decode (resize, crops, flips, scale) run the JS kernels of image-kernels.ts, so the decoder never
 * changes a resize's pixels; libvips' own resize (another kernel) runs only when asked for by name
 * (`resize: 'sharp'`).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { inflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { LakeSoulError, optionNames, refuseUnknownOptions } from '@lakesoul-ts/meta';
import { Semaphore, importHidingArgv, workerExecArgv } from '@lakesoul-ts/io';
import { simdAffineU8 } from './affine-simd.js';
import { IMAGE_KERNEL_FUNCTIONS, affineU8, imagePixels, imageTruncation, makeJsCodecs, requireImageFormat, runImageOps, type CodecLibraries, type ImageCodecs, type RawImage } from './image-kernels.js';
import type { ImagePipeline } from './image-pipeline.js';

/**
 * Which decoder runs the `decode` step. 'auto' picks sharp, then tfjs-node (only while the
 * `tensorflow` backend is active: its decoder refuses to run on another), then js. Sharp comes first
 * because it decodes on libuv's threads: 1.5x tfjs-node's main-thread decode with 8 calls in flight
 * (224x224 PNGs, 2 cores). With sharp, 'auto' still decodes small PNGs in JavaScript (see
 * {@link AUTO_JS_MAX_PIXELS}): a sharp call costs about half a millisecond whatever the image, and a
 * PNG decodes to the same pixels either way. JPEGs all go to sharp: libjpeg-turbo and jpeg-js decode
 * the same file to pixels up to 13/255 apart, and one dataset must not mix them.
 */
export type ImageDecoderKind = 'auto' | 'js' | 'sharp' | 'tfjs-node';

/** The {@link ImageDecoderKind}s, in the order errors list them. */
const IMAGE_DECODERS: readonly ImageDecoderKind[] = ['auto', 'js', 'sharp', 'tfjs-node'];

/** The part of a tfjs-node namespace used for decoding. */
export interface TfNodeLike {
  /** The active backend (`tensorflow` when tfjs-node's own backend is in use). */
  getBackend?(): string;
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

/**
 * Sharp calls a loader keeps in flight by default. Sharp runs each call on one of libuv's 4 threads
 * (UV_THREADPOOL_SIZE) and, on glibc without jemalloc, gives libvips one thread per image, so parallelism
 * comes from calls in flight: 8 keeps the 4 threads fed while the main thread scales and batches
 * finished images (the sharp limit the benchmark compares against is measured with 8 too).
 */
export const DEFAULT_SHARP_CONCURRENCY = 8;

/**
 * The largest images (width x height, per format) that decoder 'auto' decodes in JavaScript on the
 * calling thread even when sharp is installed. Measured on 2 cores with sharp at 8 calls in flight
 * (decodes per second, sharp / JS): PNG 16x16 0.12x, 64x64 0.68x, 96x96 0.87x, 128x128 1.30x,
 * 224x224 3.2x; JPEG 16x16 0.26x, 32x32 0.55x, 64x64 1.67x, 224x224 8.8x. PNG decoding is lossless,
 * so the switch changes no pixel. JPEG's is 0 (every JPEG goes to sharp): jpeg-js and libjpeg-turbo
 * decode one file to different pixels (IDCT and chroma upsampling), and a dataset whose small JPEGs
 * went through one and large ones through the other mixed two decoders.
 */
export const AUTO_JS_MAX_PIXELS: Readonly<Record<'png' | 'jpeg', number>> = { png: 100 * 100, jpeg: 0 };

/**
 * Which kernel runs a resize that directly follows the decode. 'js' (default): the half-pixel-centre
 * bilinear of image-kernels.ts, whatever the decoder (tfjs-node's `resizeBilinear(halfPixelCenters)`
 * gives the same values). 'sharp' (only with decoder 'sharp'): libvips' own resize, another kernel
 * (it reduces with antialiasing, and its bilinear samples elsewhere): pixels up to 118/255 from
 * the JS kernel's on a downsample. Faster for large JPEGs only (libjpeg's shrink-on-load): 1.46x the
 * images/s at 1024x768 -> 224x224, about the same for PNGs, slower for small images.
 */
export type ImageResizeKernel = 'js' | 'sharp';

/** Options of {@link createImageExecutor}. */
export interface CreateImageExecutorOptions {
  /** Default 'auto'. */
  decoder?: ImageDecoderKind;
  /**
   * Worker threads for the pure-JS path (0 = decode on the calling thread; default 0). Above 0,
   * 'auto' decodes on them (neither sharp nor tfjs-node is considered); with decoder 'sharp' or
   * 'tfjs-node' it is an InvalidArgument error.
   */
  workers?: number;
  /** Sharp calls worth keeping in flight (default {@link DEFAULT_SHARP_CONCURRENCY}). */
  concurrency?: number;
  /** The resize kernel (default 'js'; 'sharp' only with decoder 'sharp'): see {@link ImageResizeKernel}. */
  resize?: ImageResizeKernel;
  /** The tf namespace (its `node.decodeImage` is used when present). */
  tf?: TfNodeLike;
}

/**
 * Where an executor writes a decoded image: an array, or a function returning one that the executor
 * calls once, synchronously, right before writing (for memory that can move between the call and the
 * write, such as a WebAssembly heap that grows).
 */
export type PixelTarget = Float32Array | (() => Float32Array);

/** Runs one pipeline on one image's bytes. */
export interface ImageExecutor {
  /** The decoder actually in use. */
  readonly kind: 'js' | 'js-workers' | 'sharp' | 'tfjs-node';
  /**
   * How many `run` calls can usefully overlap: 1 for decoders that run on the calling thread, more for
   * sharp and worker pools. A loader keeps at least this many images decoding ahead of its consumer.
   */
  readonly concurrency: number;
  /**
   * `out`, when given, receives the result if it has the result's length (then `data === out`);
   * executors that cannot write there (worker threads) return their own buffer.
   */
  run(pipeline: ImagePipeline, bytes: Uint8Array, sampleSeed: number, signal?: AbortSignal, out?: PixelTarget): Promise<RawImage>;
  /** Stops worker threads (idempotent). */
  close(): Promise<void>;
}

const jsCodecs: ImageCodecs = makeJsCodecs({ PNG, jpeg, inflateSync } as unknown as CodecLibraries);

interface SharpImage {
  resize(width: number, height: number, options: { fit: 'fill'; kernel: 'linear' }): SharpImage;
  raw(): { toBuffer(o: { resolveWithObject: true }): Promise<{ data: Uint8Array; info: { width: number; height: number; channels: number } }> };
}
type SharpFn = (input: Uint8Array) => SharpImage;

async function loadSharp(): Promise<SharpFn | null> {
  try {
    // Optional peer: absent on most CI machines (it downloads libvips).
    const mod = (await import(/* @vite-ignore */ 'sharp' as string)) as { default?: SharpFn };
    return typeof mod.default === 'function' ? mod.default : null;
  } catch {
    return null;
  }
}

/**
 * Only when 'tfjs-node' is asked for explicitly: importing it registers and activates its backend,
 * a side effect 'auto' must not have on a process training with plain tfjs.
 */
async function loadTfNode(): Promise<{ node: TfNodeLike['node']; failure?: unknown }> {
  try {
    // loaded with the command line hidden: its addon locator would take the program's options for its own
    const mod = (await importHidingArgv('@tensorflow/tfjs-node', import.meta.url)) as TfNodeLike & { default?: TfNodeLike };
    const node = mod.node ?? mod.default?.node;
    return node ? { node } : { node, failure: new Error('the module has no `node` namespace') };
  } catch (e) {
    return { node: undefined, failure: e };
  }
}

const EXECUTOR_OPTIONS = optionNames<CreateImageExecutorOptions>({ decoder: true, workers: true, concurrency: true, resize: true, tf: true });

/** Creates an executor; see {@link CreateImageExecutorOptions}. */
export async function createImageExecutor(options: CreateImageExecutorOptions = {}): Promise<ImageExecutor> {
  // `{ decodr: 'js' }` gave sharp, `{ worker: 2 }` no workers, without a word
  refuseUnknownOptions(options, EXECUTOR_OPTIONS, 'createImageExecutor');
  const want = options.decoder ?? 'auto';
  // a misspelled name fell through to the pure-JS decoder, up to 7x slower than sharp, without a word
  if (!(IMAGE_DECODERS as readonly string[]).includes(want)) {
    throw new LakeSoulError('InvalidArgument', `image decoder must be ${IMAGE_DECODERS.map((d) => `'${d}'`).join(', ')}, got ${JSON.stringify(want)}`, { code: 'BAD_DECODE_OPTION', context: { decoder: want } });
  }
  const workers = options.workers ?? 0;
  if (!Number.isInteger(workers) || workers < 0) throw new LakeSoulError('InvalidArgument', `image workers must be a non-negative integer, got ${workers}`);
  const concurrency = options.concurrency ?? DEFAULT_SHARP_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new LakeSoulError('InvalidArgument', `image decode concurrency must be a positive integer, got ${concurrency}`);
  const resizeKernel = options.resize ?? 'js';
  if (resizeKernel !== 'js' && resizeKernel !== 'sharp') {
    throw new LakeSoulError('InvalidArgument', `image resize kernel must be 'js' or 'sharp', got ${JSON.stringify(resizeKernel)}`, { code: 'BAD_DECODE_OPTION', context: { resize: resizeKernel } });
  }
  // libvips' resize is another kernel: only by name, with the decoder named too, so that no dataset gets
  // it by default or mixes it with the JS kernel ('auto' decodes small PNGs in JavaScript).
  if (resizeKernel === 'sharp' && want !== 'sharp') {
    throw new LakeSoulError('InvalidArgument', `resize 'sharp' (libvips' resize kernel) needs decoder 'sharp', got decoder '${want}'`, { code: 'BAD_DECODE_OPTION', context: { decoder: want, resize: resizeKernel } });
  }
  // `workers` runs the pure-JS decoder on worker threads: 'auto' then considers neither sharp nor
  // tfjs-node, and a native decoder asked for by name cannot honour it.
  if (workers > 0 && (want === 'sharp' || want === 'tfjs-node')) {
    throw new LakeSoulError('InvalidArgument', `image workers (${workers}) run the pure-JS decoder on worker threads; decoder '${want}' decodes ${want === 'sharp' ? "on libuv's threads" : 'on the main thread'} and cannot use them: leave out \`workers\`, or use decoder 'js' or 'auto'`, { code: 'BAD_DECODE_OPTION', context: { decoder: want, workers } });
  }
  const sharp = want === 'sharp' || (want === 'auto' && workers === 0) ? await loadSharp() : null;
  // Decoders on this thread scale 8-bit pixels to float32 with the WebAssembly SIMD kernel.
  const scaleU8 = simdAffineU8() ?? affineU8;
  let tfNode = options.tf?.node?.decodeImage ? options.tf.node : undefined;
  let tfNodeFailure: unknown;
  if (want === 'tfjs-node' && !tfNode) ({ node: tfNode, failure: tfNodeFailure } = await loadTfNode());
  const tfNodeActive = tfNode !== undefined && options.tf?.getBackend?.() === 'tensorflow';
  if (want === 'tfjs-node' || (want === 'auto' && workers === 0 && !sharp && tfNodeActive)) {
    if (!tfNode) {
      throw new LakeSoulError('Unsupported', `decoder 'tfjs-node' requested but @tensorflow/tfjs-node does not load (not installed, or its addon not built: in this workspace \`pnpm setup:native\`; or pass its namespace as \`tf\`): ${String((tfNodeFailure as Error)?.message ?? tfNodeFailure).split('\n')[0]}`, { code: 'TFJS_NODE_MISSING', cause: tfNodeFailure });
    }
    const node = tfNode;
    const codecs: ImageCodecs = {
      decodePng: (b, channels) => decodeWithTfNode(node, b, channels === 4 && pngHasAlpha(b) ? 4 : 3),
      decodeJpeg: (b) => decodeWithTfNode(node, b, 3),
    };
    return { kind: 'tfjs-node', concurrency: 1, run: async (p, bytes, seed, _signal, out) => runImageOps(bytes, [...p.ops], seed, codecs, out, scaleU8), close: async () => {} };
  }
  if (want === 'sharp' || (want === 'auto' && workers === 0)) {
    if (sharp) {
      // At most `concurrency` calls are inside libvips: the rest wait here, not in libuv's queue, where
      // they would hold up the blob and Parquet file reads that share its threads.
      const gate = new Semaphore(concurrency);
      return {
        kind: 'sharp',
        concurrency,
        // The float conversion (scale / normalize, one fused pass) runs as each image's continuation
        // while the others are still in libvips: the loader keeps `concurrency` calls in flight, so no
        // batch waits for another's stragglers. (It stays out of libvips, in the WebAssembly SIMD kernel:
        // sharp's `linear` rounds back to 8 bits, and its float-preserving `recomb` runs before the
        // resize, whose output is 8-bit again.)
        run: async (p, bytes, seed, signal, out) => {
          const format = requireImageFormat(bytes); // the same formats and message as the other decoders
          if (want === 'auto' && (imagePixels(bytes) ?? Infinity) <= AUTO_JS_MAX_PIXELS[format]) {
            return runImageOps(bytes, [...p.ops], seed, jsCodecs, out, scaleU8);
          }
          // Sharp decodes; the resize and the rest run the JS kernels (the same pixels as the other
          // decoders), unless libvips' resize was asked for by name (another kernel, other pixels).
          const ops = [...p.ops];
          let img = sharp(bytes);
          let next = 1;
          if (resizeKernel === 'sharp' && ops[1]?.op === 'resize') {
            img = img.resize(ops[1].width, ops[1].height, { fit: 'fill', kernel: 'linear' });
            next = 2;
          }
          ops.splice(1, next - 1);
          await gate.acquire(signal, 'wait for an image decode slot');
          let decoded;
          try {
            decoded = await img.raw().toBuffer({ resolveWithObject: true });
          } catch (e) {
            // libvips' words for a cut file do not always say it is cut: as the other decoders say it
            const cut = imageTruncation(bytes, format);
            if (cut === null) throw e;
            throw new TypeError(`${cut}: ${(e as Error)?.message ?? String(e)}`);
          } finally {
            gate.release();
          }
          const { data, info } = decoded;
          const raw: RawImage = { width: info.width, height: info.height, channels: info.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
          return runImageOps(raw, ops, seed, null, out, scaleU8);
        },
        close: async () => {},
      };
    }
    if (want === 'sharp') throw new LakeSoulError('Unsupported', "decoder 'sharp' requested but the sharp package is not installed", { code: 'SHARP_MISSING' });
  }
  if (workers > 0) return new WorkerImageExecutor(workers);
  return { kind: 'js', concurrency: 1, run: async (p, bytes, seed, _signal, out) => runImageOps(bytes, [...p.ops], seed, jsCodecs, out, scaleU8), close: async () => {} };
}

/**
 * Decodes with `tf.node.decodeImage` to `channels` channels; runImageOps converts them to the decode
 * step's. TensorFlow's conversions differ from the other decoders' in two places, so only 3 and 4 are
 * asked for, 4 only for a PNG with alpha: its gray (`channels` 1) of a colour PNG is libpng's
 * rgb_to_gray, off by one from the BT.601 luma of `convertChannels` for some pixels; and asked for 4 on
 * a PNG without alpha it fills alpha with the source bit depth's maximum (1 for a 1-bit gray PNG, 3 for a
 * 2-bit palette one) instead of 255. A PNG with alpha (gray+alpha, RGBA, or a tRNS chunk:
 * palette or colour-key transparency) decodes to the alpha of js and sharp. JPEGs are decoded to RGB
 * (3) whatever the step wants, as before (JPEG has no alpha; its gray is `convertChannels`' luma).
 */
function decodeWithTfNode(node: NonNullable<TfNodeLike['node']>, bytes: Uint8Array, channels: 3 | 4): RawImage {
  const t = node.decodeImage(bytes, channels);
  try {
    const [height, width, decoded] = t.shape;
    return { width, height, channels: decoded, data: Uint8Array.from(t.dataSync()) };
  } finally {
    t.dispose();
  }
}

/**
 * Whether a PNG has alpha: colour type 4 (gray+alpha) or 6 (RGBA), or a tRNS chunk before its image
 * data (a palette's alpha table or a gray/RGB colour key).
 */
function pngHasAlpha(bytes: Uint8Array): boolean {
  if (bytes.length < 26) return false;
  const colourType = bytes[25]!;
  if (colourType === 4 || colourType === 6) return true;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 8 <= bytes.length;) {
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    if (type === 'tRNS') return true;
    if (type === 'IDAT' || type === 'IEND') return false;
    at += 12 + view.getUint32(at);
  }
  return false;
}

function workerSource(): string {
  const fns = IMAGE_KERNEL_FUNCTIONS.map((f) => f.toString()).join('\n\n');
  return `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
var __name = (f) => f;
${fns}
const codecs = makeJsCodecs({ PNG: require(workerData.pngjs).PNG, jpeg: require(workerData.jpeg), inflateSync: require('node:zlib').inflateSync });
parentPort.on('message', (m) => {
  try {
    const img = runImageOps(m.bytes, m.ops, m.seed, codecs);
    parentPort.postMessage({ id: m.id, ok: true, width: img.width, height: img.height, channels: img.channels, data: img.data }, [img.data.buffer]);
  } catch (e) {
    parentPort.postMessage({ id: m.id, ok: false, message: String(e && e.message || e) });
  }
});`;
}

interface Pending {
  resolve(img: RawImage): void;
  reject(e: unknown): void;
}

interface WorkerSlot {
  w: Worker;
  busy: number;
  pending: Map<number, Pending>;
  /** Set by `close` while the worker is busy: called when its last image is back (or it failed). */
  onIdle?: () => void;
  /** Why the thread stopped (an uncaught error or its exit); no image goes to it after. */
  lost?: Error;
}

/** The pure-JS pipeline on a small pool of worker threads (least-busy dispatch). */
class WorkerImageExecutor implements ImageExecutor {
  readonly kind = 'js-workers' as const;
  /** Two per worker: one decoding, one queued behind it so the worker never waits for a message. */
  readonly concurrency: number;
  private readonly workers: WorkerSlot[] = [];
  private nextId = 0;
  private closed = false;

  constructor(count: number) {
    this.concurrency = 2 * count;
    const require = createRequire(import.meta.url);
    const workerData = { pngjs: require.resolve('pngjs'), jpeg: require.resolve('jpeg-js') };
    const src = workerSource();
    for (let i = 0; i < count; i++) {
      const w = new Worker(src, { eval: true, workerData, execArgv: workerExecArgv() });
      const slot: WorkerSlot = { w, busy: 0, pending: new Map<number, Pending>() };
      w.unref();
      w.on('message', (m: { id: number; ok: boolean; width: number; height: number; channels: number; data: Float32Array; message?: string }) => {
        const p = slot.pending.get(m.id);
        if (!p) return;
        slot.pending.delete(m.id);
        if (--slot.busy === 0) {
          w.unref();
          slot.onIdle?.();
        }
        if (m.ok) p.resolve({ width: m.width, height: m.height, channels: m.channels, data: m.data });
        else p.reject(new TypeError(m.message));
      });
      const fail = (e: Error) => {
        slot.lost ??= e;
        for (const p of slot.pending.values()) p.reject(e);
        slot.pending.clear();
        slot.busy = 0;
        slot.onIdle?.();
      };
      w.on('error', fail);
      w.on('exit', (code) => fail(new Error(`an image worker thread exited (code ${code})`)));
      this.workers.push(slot);
    }
  }

  run(pipeline: ImagePipeline, bytes: Uint8Array, sampleSeed: number): Promise<RawImage> {
    if (this.closed) return Promise.reject(new LakeSoulError('Aborted', 'image worker pool is closed'));
    let slot: WorkerSlot | undefined;
    for (const s of this.workers) if (!s.lost && (slot === undefined || s.busy < slot.busy)) slot = s;
    if (slot === undefined) return Promise.reject(new LakeSoulError('Internal', `every image worker thread stopped: ${this.workers[0]?.lost?.message}`));
    const id = this.nextId++;
    const to = slot;
    return new Promise<RawImage>((resolve, reject) => {
      to.pending.set(id, { resolve, reject });
      if (to.busy++ === 0) to.w.ref();
      const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      const msg = { id, ops: pipeline.ops, seed: sampleSeed, bytes: own ? bytes : bytes.slice() };
      to.w.postMessage(msg, [msg.bytes.buffer as ArrayBuffer]);
    });
  }

  /**
   * Lets every image already sent finish (their `run` calls resolve as usual), then ends the workers.
   * A worker is never terminated in the middle of an image: pngjs inflates with node:zlib, and
   * terminating a thread between a zlib handle's creation and its init aborts the whole process
   * (Node 20: `Assertion failed: init_done_ && "close before init"`, node_zlib.cc).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.workers.map(async (s) => {
        if (s.busy > 0) await new Promise<void>((resolve) => (s.onIdle = resolve));
        await s.w.terminate();
      }),
    );
  }
}
