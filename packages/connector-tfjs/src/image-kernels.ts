/**
 * Pixel kernels of the image pipeline: format sniffing, channel conversion, bilinear resize, crops,
 * flips, scaling and normalization over interleaved HWC buffers.
 *
 * Contract: every function here is self-contained (it references only its parameters, the other
 * functions listed in {@link IMAGE_KERNEL_FUNCTIONS} and JS built-ins) because the worker pool ships
 * their source text to `worker_threads` workers. Decoders are passed in (`ImageCodecs`), never imported.
 */

/** An interleaved HWC image. */
export interface RawImage {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array | Float32Array;
}

/** One step of an image pipeline (plain JSON, so it can cross to a worker). */
export type ImageOp =
  | { op: 'decode'; channels: 1 | 3 | 4 }
  | { op: 'resize'; height: number; width: number }
  | { op: 'centerCrop'; height: number; width: number }
  | { op: 'randomCrop'; height: number; width: number }
  | { op: 'flip'; probability: number }
  | { op: 'scale'; factor: number }
  | { op: 'normalize'; mean: number[]; std: number[] };

/**
 * Pixel decoders: 8-bit pixels of any channel count (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), which
 * {@link runImageOps} converts to the decode step's. `channels` is the count that step wants: a hint
 * for decoders that decode to a count asked for (tfjs-node), so that alpha, when wanted, is decoded
 * rather than filled in; decoders that always return RGBA ignore it.
 */
export interface ImageCodecs {
  /** Decodes a PNG file's bytes. */
  decodePng(bytes: Uint8Array, channels?: 1 | 3 | 4): RawImage;
  /** Decodes a JPEG file's bytes. */
  decodeJpeg(bytes: Uint8Array, channels?: 1 | 3 | 4): RawImage;
}

/** 'png', 'jpeg' or null, from the leading magic bytes. */
export function sniffImageFormat(bytes: Uint8Array): 'png' | 'jpeg' | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/**
 * The format of `bytes`; a TypeError naming the first bytes when it is neither PNG nor JPEG, or saying
 * the file is truncated when it is the start of a PNG or JPEG signature and nothing more (a
 * `#bytes=0-3` reference of a PNG was "not PNG or JPEG; first bytes 89 50 4e 47").
 */
export function requireImageFormat(bytes: Uint8Array): 'png' | 'jpeg' {
  const fmt = sniffImageFormat(bytes);
  if (fmt) return fmt;
  if (bytes.length === 0) throw new TypeError('empty image (0 bytes)');
  const signatures: [string, number[]][] = [['PNG', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]], ['JPEG', [0xff, 0xd8, 0xff]]];
  for (const [name, sig] of signatures) {
    if (bytes.length > 0 && bytes.length < sig.length && Array.from(bytes).every((b, i) => b === sig[i])) {
      throw new TypeError(`truncated ${name} (${bytes.length} byte${bytes.length === 1 ? '' : 's'}, fewer than its ${sig.length}-byte signature)`);
    }
  }
  throw new TypeError(`unsupported image format (not PNG or JPEG; first bytes ${Array.from(bytes.subarray(0, 4)).map((b) => b.toString(16).padStart(2, '0')).join(' ')})`);
}

/**
 * Why the PNG or JPEG `bytes` is cut short, or null when it looks whole: a PNG that ends before its
 * IEND chunk (or inside a chunk), a JPEG without its end-of-image marker (FF D9, which appears nowhere
 * else in a JPEG: its coded data stuffs every FF). {@link runImageOps} words a decoder's failure with it.
 */
export function imageTruncation(bytes: Uint8Array, fmt: 'png' | 'jpeg'): string | null {
  if (fmt === 'png') {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 8; ;) {
      if (at + 8 > bytes.length) return `truncated PNG (${bytes.length} bytes: it ends before its IEND chunk)`;
      const len = view.getUint32(at);
      const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
      if (at + 12 + len > bytes.length) return `truncated PNG (${bytes.length} bytes: its ${type} chunk runs past the end of the file)`;
      if (type === 'IEND') return null;
      at += 12 + len;
    }
  }
  for (let i = bytes.length - 2; i >= 2; i--) if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return null;
  return `truncated JPEG (${bytes.length} bytes: no end-of-image marker FF D9)`;
}

/**
 * Width x height of a PNG (its IHDR) or JPEG (its first start-of-frame segment), read from the header
 * without decoding; undefined when the bytes are neither or the header is cut short.
 */
export function imagePixels(bytes: Uint8Array): number | undefined {
  const fmt = sniffImageFormat(bytes);
  const u16 = (i: number) => (bytes[i]! << 8) | bytes[i + 1]!;
  if (fmt === 'png') {
    if (bytes.length < 24) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return view.getUint32(16) * view.getUint32(20);
  }
  if (fmt !== 'jpeg') return undefined;
  let i = 2;
  while (i + 9 <= bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) { i++; continue; } // fill byte
    // SOF0-SOF15 (C4, C8 and CC are other segments): precision, height, width
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return u16(i + 5) * u16(i + 7);
    if ((marker >= 0xd0 && marker <= 0xd9) || marker === 0x01) { i += 2; continue; } // no length
    i += 2 + u16(i + 2);
  }
  return undefined;
}

/** Converts between 1 (gray), 3 (RGB) and 4 (RGBA) channels; alpha is dropped, gray is luma (BT.601). */
export function convertChannels(img: RawImage, channels: number): RawImage {
  if (img.channels === channels) return img;
  const n = img.width * img.height;
  const src = img.data;
  const out = src instanceof Float32Array ? new Float32Array(n * channels) : new Uint8Array(n * channels);
  const c = img.channels;
  for (let p = 0; p < n; p++) {
    const si = p * c;
    let r: number, g: number, b: number;
    if (c >= 3) { r = src[si]; g = src[si + 1]; b = src[si + 2]; } else { r = g = b = src[si]; }
    const a = c === 4 ? src[si + 3] : c === 2 ? src[si + 1] : 255;
    const di = p * channels;
    if (channels === 1) out[di] = out instanceof Uint8Array ? Math.round(0.299 * r + 0.587 * g + 0.114 * b) : 0.299 * r + 0.587 * g + 0.114 * b;
    else {
      out[di] = r; out[di + 1] = g; out[di + 2] = b;
      if (channels === 4) out[di + 3] = a;
    }
  }
  return { width: img.width, height: img.height, channels, data: out };
}

/**
 * Bilinear resize with half-pixel centers (the convention of `tf.image.resizeBilinear(...,
 * halfPixelCenters=true)` and of PIL/OpenCV). Output is float32.
 */
export function resizeBilinear(img: RawImage, height: number, width: number): RawImage {
  const { width: sw, height: sh, channels: c, data: src } = img;
  const out = new Float32Array(height * width * c);
  const sy = sh / height;
  const sx = sw / width;
  const x0s = new Int32Array(width);
  const x1s = new Int32Array(width);
  const fxs = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    let fx = (x + 0.5) * sx - 0.5;
    if (fx < 0) fx = 0;
    let x0 = Math.floor(fx);
    if (x0 > sw - 1) x0 = sw - 1;
    x0s[x] = x0;
    x1s[x] = Math.min(x0 + 1, sw - 1);
    fxs[x] = fx - x0;
  }
  for (let y = 0; y < height; y++) {
    let fy = (y + 0.5) * sy - 0.5;
    if (fy < 0) fy = 0;
    let y0 = Math.floor(fy);
    if (y0 > sh - 1) y0 = sh - 1;
    const y1 = Math.min(y0 + 1, sh - 1);
    const wy = fy - y0;
    const r0 = y0 * sw * c;
    const r1 = y1 * sw * c;
    let o = y * width * c;
    for (let x = 0; x < width; x++) {
      const a = x0s[x] * c;
      const b = x1s[x] * c;
      const wx = fxs[x];
      for (let k = 0; k < c; k++) {
        const top = src[r0 + a + k] + (src[r0 + b + k] - src[r0 + a + k]) * wx;
        const bot = src[r1 + a + k] + (src[r1 + b + k] - src[r1 + a + k]) * wx;
        out[o++] = top + (bot - top) * wy;
      }
    }
  }
  return { width, height, channels: c, data: out };
}

/** The `height` x `width` window at (`top`, `left`); throws when it does not fit. */
export function cropImage(img: RawImage, top: number, left: number, height: number, width: number): RawImage {
  if (top < 0 || left < 0 || top + height > img.height || left + width > img.width) {
    throw new RangeError(`crop ${height}x${width} at (${top},${left}) does not fit a ${img.height}x${img.width} image`);
  }
  const c = img.channels;
  const src = img.data;
  const out = src instanceof Float32Array ? new Float32Array(height * width * c) : new Uint8Array(height * width * c);
  for (let y = 0; y < height; y++) {
    const s = ((top + y) * img.width + left) * c;
    out.set(src.subarray(s, s + width * c), y * width * c);
  }
  return { width, height, channels: c, data: out };
}

/** Mirrors the image left-right. */
export function flipHorizontal(img: RawImage): RawImage {
  const { width: w, height: h, channels: c, data: src } = img;
  const out = src instanceof Float32Array ? new Float32Array(src.length) : new Uint8Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const si = (y * w + x) * c;
      const di = (y * w + (w - 1 - x)) * c;
      for (let k = 0; k < c; k++) out[di + k] = src[si + k];
    }
  }
  return { width: w, height: h, channels: c, data: out };
}

/** A tiny seeded generator (mulberry32) for per-sample augmentation decisions. */
export function makeSampleRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `out[i] = src[i] * mul[c] + add[c]` for channel `c = i % channels`, into `out` (which may be `src`).
 * Separate loops per source type keep V8's element access monomorphic: one loop shared by Uint8Array
 * and Float32Array sources ran about 10x slower.
 */
export function affineU8(src: Uint8Array, out: Float32Array, channels: number, mul: Float64Array, add: Float64Array): void {
  const n = src.length;
  if (channels === 3) {
    const m0 = mul[0], m1 = mul[1], m2 = mul[2], a0 = add[0], a1 = add[1], a2 = add[2];
    for (let i = 0; i < n; i += 3) {
      out[i] = src[i] * m0 + a0;
      out[i + 1] = src[i + 1] * m1 + a1;
      out[i + 2] = src[i + 2] * m2 + a2;
    }
    return;
  }
  for (let i = 0; i < n; i++) out[i] = src[i] * mul[i % channels] + add[i % channels];
}

/** {@link affineU8} for float32 sources. */
export function affineF32(src: Float32Array, out: Float32Array, channels: number, mul: Float64Array, add: Float64Array): void {
  const n = src.length;
  if (channels === 3) {
    const m0 = mul[0], m1 = mul[1], m2 = mul[2], a0 = add[0], a1 = add[1], a2 = add[2];
    for (let i = 0; i < n; i += 3) {
      out[i] = src[i] * m0 + a0;
      out[i + 1] = src[i + 1] * m1 + a1;
      out[i + 2] = src[i + 2] * m2 + a2;
    }
    return;
  }
  for (let i = 0; i < n; i++) out[i] = src[i] * mul[i % channels] + add[i % channels];
}

/**
 * The run of `scale` / `normalize` steps starting at `ops[start]` as one per-channel affine map
 * `x * mul[c] + add[c]`, and the index after the run (`end === start` when there is none).
 */
export function affineRun(ops: readonly ImageOp[], start: number, channels: number): { mul: Float64Array; add: Float64Array; end: number } {
  const mul = new Float64Array(channels).fill(1);
  const add = new Float64Array(channels);
  let o = start;
  for (; o < ops.length; o++) {
    const a = ops[o];
    if (a.op === 'scale') {
      for (let k = 0; k < channels; k++) {
        mul[k] *= a.factor;
        add[k] *= a.factor;
      }
    } else if (a.op === 'normalize') {
      if (a.mean.length !== channels && a.mean.length !== 1) throw new RangeError(`normalize: ${a.mean.length} means for ${channels} channels`);
      if (a.std.length !== a.mean.length) throw new RangeError('normalize: mean and std lengths differ');
      for (let k = 0; k < channels; k++) {
        const j = a.mean.length === 1 ? 0 : k;
        mul[k] /= a.std[j];
        add[k] = (add[k] - a.mean[j]) / a.std[j];
      }
    } else break;
  }
  return { mul, add, end: o };
}

/** The minimal surfaces of pngjs, jpeg-js and zlib the codecs use. */
export interface CodecLibraries {
  PNG: { sync: { read(buffer: Buffer, options?: { skipRescale?: boolean }): { width: number; height: number; data: Uint8Array | Uint16Array } } };
  jpeg: { decode(data: Uint8Array, opts: { useTArray: true; formatAsRGBA: boolean; maxMemoryUsageInMB?: number }): { width: number; height: number; data: Uint8Array } };
  /** zlib's inflateSync, to check a PNG's image data before pngjs reads it ({@link pngDataProblem}). */
  inflateSync: (data: Uint8Array) => Uint8Array;
}

/**
 * Why a PNG cannot be decoded faithfully, or null: more pixels than 268 402 689 (sharp's default
 * `limitInputPixels`; a 116-byte file claimed 6000x6000 and became a 432 MB tensor), or image data shorter than its header's rows need. pngjs's sync
 * reader reads past the end of short data: the missing rows came out as zeros, as an error, or as
 * bytes left in the process's memory, depending on what ran before.
 */
export function pngDataProblem(bytes: Uint8Array, inflate: (data: Uint8Array) => Uint8Array): string | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  let depth = 0;
  let color = -1;
  let interlace = 0;
  const idat: Uint8Array[] = [];
  let size = 0;
  for (let at = 8; at + 8 <= bytes.length;) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    const body = at + 8;
    if (body + len > bytes.length) return `its ${type} chunk runs past the end of the file`;
    if (type === 'IHDR' && len >= 13) {
      width = view.getUint32(body);
      height = view.getUint32(body + 4);
      depth = bytes[body + 8]!;
      color = bytes[body + 9]!;
      interlace = bytes[body + 12]!;
    } else if (type === 'IDAT') {
      idat.push(bytes.subarray(body, body + len));
      size += len;
    } else if (type === 'IEND') break;
    at = body + len + 4;
  }
  if (width === 0 || height === 0) return 'it has no image header (IHDR) or an empty image';
  const maxPixels = 268_402_689; // inside the function: workers get its source text
  if (width * height > maxPixels) return `${width}x${height} exceeds the pixel limit (${maxPixels})`;
  const channels = color === 0 || color === 3 ? 1 : color === 2 ? 3 : color === 4 ? 2 : color === 6 ? 4 : 0;
  if (channels === 0) return `its color type ${color} is not one of PNG's`;
  const rowBytes = (w: number): number => 1 + Math.ceil((w * channels * depth) / 8);
  let expected = 0;
  if (interlace) {
    // Adam7: x0, y0, dx, dy of the seven passes
    for (const [x0, y0, dx, dy] of [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const) {
      const w = Math.ceil((width - x0) / dx);
      const h = Math.ceil((height - y0) / dy);
      if (w > 0 && h > 0) expected += h * rowBytes(w);
    }
  } else expected = height * rowBytes(width);
  const data = new Uint8Array(size);
  let o = 0;
  for (const c of idat) { data.set(c, o); o += c.length; }
  let raw: Uint8Array;
  try {
    raw = inflate(data);
  } catch (e) {
    return `its image data does not inflate (${(e as Error).message})`;
  }
  return raw.length < expected ? `its image data is truncated (${raw.length} of the ${expected} bytes its ${width}x${height} header needs)` : null;
}

/** The high byte of each 16-bit sample. */
function highBytes(samples: Uint16Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! >> 8;
  return out;
}

/**
 * The 8-bit colour of a greyscale or truecolour PNG's transparent pixels (its tRNS chunk), or null
 * when it has none. pngjs zeroes those pixels' colour as well as their alpha; libpng and sharp keep the
 * colour, and a pipeline that drops alpha shows it.
 */
function transparentColour(bytes: Uint8Array): [number, number, number] | null {
  const depth = bytes[24]!;
  const colourType = bytes[25]!;
  if (colourType !== 0 && colourType !== 2) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // tRNS comes before the first IDAT
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    if (type === 'IDAT' || type === 'IEND') return null;
    if (type === 'tRNS') {
      const need = colourType === 0 ? 2 : 6;
      if (length < need || at + 8 + need > bytes.length) return null;
      const to8 = (v: number): number => (depth === 16 ? v >> 8 : depth === 8 ? v : Math.round((v * 255) / (2 ** depth - 1)));
      const sample = (k: number): number => to8(view.getUint16(at + 8 + 2 * k));
      return colourType === 0 ? [sample(0), sample(0), sample(0)] : [sample(0), sample(1), sample(2)];
    }
    at += 12 + length;
  }
  return null;
}

/** Gives the transparent pixels of RGBA `data` (alpha 0) the colour `rgb` back. */
function restoreTransparentColour(data: Uint8Array, rgb: [number, number, number]): void {
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] === 0) { data[i] = rgb[0]; data[i + 1] = rgb[1]; data[i + 2] = rgb[2]; }
  }
}

/** Pure-JS codecs over pngjs and jpeg-js (passed in, see the file contract). Output RGBA 8-bit. */
export function makeJsCodecs(libs: CodecLibraries): ImageCodecs {
  return {
    decodePng(bytes) {
      const problem = pngDataProblem(bytes, libs.inflateSync);
      if (problem !== null) throw new Error(`PNG ${problem}`);
      // 16-bit samples keep their high byte, as sharp (libvips) and libpng's strip_16 make them: pngjs
      // rounds v/257, one level above that for about half the values (IHDR's bit depth is byte 24).
      const sixteen = bytes[24] === 16;
      const png = libs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), sixteen ? { skipRescale: true } : undefined);
      const data = png.data instanceof Uint16Array ? highBytes(png.data) : new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength);
      const transparent = transparentColour(bytes);
      if (transparent) restoreTransparentColour(data, transparent);
      return { width: png.width, height: png.height, channels: 4, data };
    },
    decodeJpeg(bytes) {
      const j = libs.jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 1024 });
      const channels = j.data.length / (j.width * j.height);
      return { width: j.width, height: j.height, channels, data: j.data };
    },
  };
}

/**
 * Runs a pipeline on encoded image bytes (or on pixels decoded elsewhere) and returns float32 HWC
 * pixels. `sampleSeed` drives the random ops (crop offsets, flips) so a sample's augmentation is
 * reproducible. When `out` is given and has the result's length, the result is written into it (a
 * final scale / normalize writes there directly) and returned as the image's data: a loader passes a
 * slice of its batch buffer and copies nothing afterwards. `out` may be a function returning that
 * slice: it is called once, right before the write (memory that can move, such as a WebAssembly heap,
 * is viewed only then). `scaleU8` maps 8-bit pixels to float32 (default `affineU8`, the JavaScript
 * kernel; the main thread passes the WebAssembly SIMD one of `affine-simd.ts`).
 */
export function runImageOps(
  input: Uint8Array | RawImage,
  ops: ImageOp[],
  sampleSeed: number,
  codecs: ImageCodecs | null,
  outSlot?: Float32Array | (() => Float32Array),
  scaleU8: (src: Uint8Array, out: Float32Array, channels: number, mul: Float64Array, add: Float64Array) => void = affineU8,
): RawImage {
  let resolved: Float32Array | undefined;
  const outNow = (): Float32Array | undefined => (typeof outSlot === 'function' ? (resolved ??= outSlot()) : outSlot);
  const random = makeSampleRandom(sampleSeed);
  const inputData = input instanceof Uint8Array ? input : input.data;
  let img = null as RawImage | null;
  for (let o = 0; o < ops.length; o++) {
    const step = ops[o];
    if (step.op === 'decode') {
      if (!(input instanceof Uint8Array)) {
        img = convertChannels(input, step.channels);
        continue;
      }
      const bytes = input;
      if (codecs === null) throw new TypeError('no image codecs');
      const fmt = requireImageFormat(bytes);
      try {
        img = fmt === 'png' ? codecs.decodePng(bytes, step.channels) : codecs.decodeJpeg(bytes, step.channels);
      } catch (e) {
        // a decoder's own words for a cut file ("unknown JPEG marker 0", "There are some read requests
        // waitng on finished stream") do not say it is cut
        const cut = imageTruncation(bytes, fmt);
        if (cut === null) throw e;
        throw new TypeError(`${cut}: ${(e as Error)?.message ?? String(e)}`);
      }
      img = convertChannels(img, step.channels);
      continue;
    }
    if (img === null) throw new TypeError(`image op '${step.op}' before 'decode'`);
    if (step.op === 'resize') img = resizeBilinear(img, step.height, step.width);
    else if (step.op === 'centerCrop') img = cropImage(img, Math.floor((img.height - step.height) / 2), Math.floor((img.width - step.width) / 2), step.height, step.width);
    else if (step.op === 'randomCrop') {
      const top = Math.floor(random() * (img.height - step.height + 1));
      const left = Math.floor(random() * (img.width - step.width + 1));
      img = cropImage(img, top, left, step.height, step.width);
    } else if (step.op === 'flip') {
      if (random() < step.probability) img = flipHorizontal(img);
    } else if (step.op === 'scale' || step.op === 'normalize') {
      // A run of scale / normalize steps is one per-channel affine map, applied in one pass.
      const c = img.channels;
      const { mul, add, end } = affineRun(ops, o, c);
      o = end - 1;
      // Float32 data here was allocated by an earlier step of this run: map it in place. The last step
      // writes into `out` when it fits.
      const src: Uint8Array | Float32Array = img.data;
      const last = end === ops.length;
      const out = last ? outNow() : undefined;
      const target: Float32Array = out !== undefined && out.length === src.length ? out : src instanceof Float32Array && src !== inputData ? src : new Float32Array(src.length);
      if (src instanceof Float32Array) affineF32(src, target, c, mul, add);
      else scaleU8(src, target, c, mul, add);
      img = { ...img, data: target };
    }
  }
  if (img === null) throw new TypeError('image pipeline has no decode step');
  const out = outNow();
  if (out !== undefined && out.length === img.data.length && img.data !== out) {
    out.set(img.data);
    return { ...img, data: out };
  }
  if (!(img.data instanceof Float32Array)) img = { ...img, data: new Float32Array(img.data) }; // typed copy: no iterator
  return img;
}

/** The kernels whose source the worker pool evaluates (see the contract at the top of this file). */
export const IMAGE_KERNEL_FUNCTIONS: readonly ((...args: never[]) => unknown)[] = [
  sniffImageFormat,
  requireImageFormat,
  imageTruncation,
  convertChannels,
  resizeBilinear,
  cropImage,
  flipHorizontal,
  makeSampleRandom,
  pngDataProblem,
  highBytes,
  transparentColour,
  restoreTransparentColour,
  makeJsCodecs,
  affineRun,
  affineU8,
  affineF32,
  runImageOps,
];
