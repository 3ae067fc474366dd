/**
 * Composable image transforms for referenced image bytes: `images.resize(224, 224).flip().scale(1/255)`.
 * A pipeline is plain data (a list of {@link ImageOp}); executing it is the job of an
 * {@link ImageExecutor} (main thread, worker threads, sharp or tfjs-node decoding).
 */
import { optionNames, refuseUnknownOptions } from '@lakesoul-ts/meta';
import type { ImageOp } from './image-kernels.js';

/** Options of {@link images.decode}. */
export interface DecodeOptions {
  /** Output channels: 1 (gray), 3 (RGB, default) or 4 (RGBA). */
  channels?: 1 | 3 | 4;
}

/**
 * An immutable image pipeline. Every method returns a new pipeline with one more step; the first step
 * is always a decode. The result is a float32 tensor slice of shape `[height, width, channels]`.
 */
export class ImagePipeline {
  /**
   * @param ops The steps, starting with `decode`.
   * @param column The reference column whose bytes to transform (default: the plan's only blob column).
   */
  constructor(
    readonly ops: readonly ImageOp[],
    readonly column?: string,
  ) {
    if (ops.length === 0 || ops[0].op !== 'decode') throw new TypeError('an image pipeline starts with decode');
  }

  private then(op: ImageOp): ImagePipeline {
    return new ImagePipeline([...this.ops, op], this.column);
  }

  /** The same steps applied to the reference column `column` (its `<column>__bytes` values). */
  on(column: string): ImagePipeline {
    return new ImagePipeline(this.ops, column);
  }

  /** Bilinear resize (half-pixel centers) to exactly `height` x `width`. */
  resize(height: number, width: number): ImagePipeline {
    checkSize('resize', height, width);
    return this.then({ op: 'resize', height, width });
  }

  /** The centred `height` x `width` window (the image must be at least that large). */
  centerCrop(height: number, width: number): ImagePipeline {
    checkSize('centerCrop', height, width);
    return this.then({ op: 'centerCrop', height, width });
  }

  /** A `height` x `width` window at a seeded random offset (reproducible per seed/epoch/sample). */
  randomCrop(height: number, width: number): ImagePipeline {
    checkSize('randomCrop', height, width);
    return this.then({ op: 'randomCrop', height, width });
  }

  /** Mirrors left-right with probability `probability` (seeded; default 0.5). */
  flip(probability = 0.5): ImagePipeline {
    if (!(probability >= 0 && probability <= 1)) throw new RangeError(`flip: probability must be in [0, 1], got ${probability}`);
    return this.then({ op: 'flip', probability });
  }

  /** Multiplies every value by `factor` (e.g. `1 / 255`). */
  scale(factor: number): ImagePipeline {
    if (!Number.isFinite(factor)) throw new RangeError(`scale: factor must be finite, got ${factor}`);
    return this.then({ op: 'scale', factor });
  }

  /** `(x - mean[c]) / std[c]` per channel (one value applies to all channels). */
  normalize(mean: number | number[], std: number | number[]): ImagePipeline {
    const m = Array.isArray(mean) ? mean : [mean];
    const s = Array.isArray(std) ? std : [std];
    if (m.length !== s.length) throw new RangeError('normalize: mean and std need the same length');
    if (s.some((x) => x === 0 || !Number.isFinite(x))) throw new RangeError('normalize: std values must be finite and non-zero');
    return this.then({ op: 'normalize', mean: m, std: s });
  }

  /** True when some step draws random numbers (random crop, flip). */
  get isRandom(): boolean {
    return this.ops.some((o) => o.op === 'randomCrop' || o.op === 'flip');
  }

  /**
   * The output shape `[height, width, channels]` when the steps fix it (a resize or crop), else
   * `null` (then every image of a batch must happen to have the same size).
   */
  outputShape(): [number, number, number] | null {
    let hw: [number, number] | null = null;
    let channels = 3;
    for (const o of this.ops) {
      if (o.op === 'decode') channels = o.channels;
      else if (o.op === 'resize' || o.op === 'centerCrop' || o.op === 'randomCrop') hw = [o.height, o.width];
    }
    return hw === null ? null : [hw[0], hw[1], channels];
  }
}

function checkSize(op: string, height: number, width: number): void {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new RangeError(`${op}: height and width must be positive integers, got ${height}x${width}`);
  }
}

const DECODE_OPTIONS = optionNames<DecodeOptions>({ channels: true });

/**
 * Entry points of image pipelines: `images.resize(224, 224)` decodes (RGB) and resizes;
 * `images.decode({ channels: 1 })` starts from a grayscale decode.
 */
export const images = {
  /** Decode PNG/JPEG bytes to `channels` channels (default 3). */
  decode(options: DecodeOptions = {}): ImagePipeline {
    // `{ channel: 1 }` or `decode('gray')` decoded RGB without a word
    if (typeof options !== 'object' || options === null) throw new RangeError(`decode: options must be an object such as { channels: 1 }, got ${JSON.stringify(options)}`);
    refuseUnknownOptions(options, DECODE_OPTIONS, 'images.decode');
    const channels = options.channels ?? 3;
    if (channels !== 1 && channels !== 3 && channels !== 4) throw new RangeError(`decode: channels must be 1, 3 or 4, got ${String(channels)}`);
    return new ImagePipeline([{ op: 'decode', channels }]);
  },
  /** Decode (RGB unless `options.channels`) then bilinear resize to `height` x `width`. */
  resize(height: number, width: number, options: DecodeOptions = {}): ImagePipeline {
    return images.decode(options).resize(height, width);
  },
  /** Decode then take the centred `height` x `width` window. */
  centerCrop(height: number, width: number, options: DecodeOptions = {}): ImagePipeline {
    return images.decode(options).centerCrop(height, width);
  },
  /** Decode then take a seeded random `height` x `width` window. */
  randomCrop(height: number, width: number, options: DecodeOptions = {}): ImagePipeline {
    return images.decode(options).randomCrop(height, width);
  },
};
