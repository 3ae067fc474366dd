import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { images, ImagePipeline } from './image-pipeline.js';
import { AUTO_JS_MAX_PIXELS, createImageExecutor } from './image-executor.js';
// @ts-expect-error -- a plain .mjs script without type declarations
import { nativeStatus } from '../../../scripts/native-status.mjs';
import { cropImage, flipHorizontal, imagePixels, resizeBilinear, sniffImageFormat, type RawImage } from './image-kernels.js';

function gradientRgba(w: number, h: number): Uint8Array {
  const d = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      d[i] = (x * 255) / (w - 1);
      d[i + 1] = (y * 255) / (h - 1);
      d[i + 2] = (x * y) % 256;
      d[i + 3] = 255;
    }
  }
  return d;
}

function encodePng(w: number, h: number, rgba: Uint8Array): Uint8Array {
  const png = new PNG({ width: w, height: h });
  png.data = Buffer.from(rgba);
  return new Uint8Array(PNG.sync.write(png));
}

function encodeJpeg(w: number, h: number, rgba: Uint8Array): Uint8Array {
  return new Uint8Array(jpeg.encode({ data: Buffer.from(rgba), width: w, height: h }, 95).data);
}

describe('image kernels', () => {
  it('sniffs formats', () => {
    const rgba = gradientRgba(4, 4);
    expect(sniffImageFormat(encodePng(4, 4, rgba))).toBe('png');
    expect(sniffImageFormat(encodeJpeg(4, 4, rgba))).toBe('jpeg');
    expect(sniffImageFormat(new Uint8Array([1, 2, 3, 4]))).toBeNull();
  });

  it('bilinear resize matches tf.image.resizeBilinear(halfPixelCenters=true)', async () => {
    const w = 37, h = 23;
    const rgb = new Float32Array(w * h * 3).map((_, i) => (i * 7919) % 256);
    const img: RawImage = { width: w, height: h, channels: 3, data: rgb };
    for (const [oh, ow] of [[10, 16], [64, 50], [23, 37]]) {
      const ours = resizeBilinear(img, oh, ow).data;
      const theirs = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(rgb, [h, w, 3]), [oh, ow], false, true).dataSync());
      expect(ours.length).toBe(theirs.length);
      let maxDiff = 0;
      for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i] - theirs[i]));
      expect(maxDiff).toBeLessThan(1e-3);
    }
  });

  it('crop and flip move the right pixels', () => {
    const img: RawImage = { width: 3, height: 2, channels: 1, data: new Uint8Array([1, 2, 3, 4, 5, 6]) };
    expect([...cropImage(img, 1, 1, 1, 2).data]).toEqual([5, 6]);
    expect([...flipHorizontal(img).data]).toEqual([3, 2, 1, 6, 5, 4]);
    expect(() => cropImage(img, 1, 1, 2, 2)).toThrow(/does not fit/);
  });
});

describe('image pipelines', () => {
  const w = 40, h = 30;
  const rgba = gradientRgba(w, h);
  const png = encodePng(w, h, rgba);
  const jpg = encodeJpeg(w, h, rgba);

  it('decodes PNG exactly and JPEG closely, to float32 of the declared shape', async () => {
    const ex = await createImageExecutor({ decoder: 'js' });
    expect(ex.kind).toBe('js');
    const p = images.decode();
    const a = await ex.run(p, png, 0);
    expect([a.height, a.width, a.channels]).toEqual([h, w, 3]);
    expect(a.data).toBeInstanceOf(Float32Array);
    for (let i = 0; i < w * h; i++) for (let k = 0; k < 3; k++) expect(a.data[i * 3 + k]).toBe(rgba[i * 4 + k]);
    const b = await ex.run(p, jpg, 0);
    let err = 0;
    for (let i = 0; i < w * h; i++) for (let k = 0; k < 3; k++) err += Math.abs(b.data[i * 3 + k] - rgba[i * 4 + k]);
    expect(err / (w * h * 3)).toBeLessThan(6);
    const gray = await ex.run(images.decode({ channels: 1 }), png, 0);
    expect(gray.channels).toBe(1);
    expect(gray.data[w * h - 1]).toBeCloseTo(Math.round(0.299 * rgba[(w * h - 1) * 4] + 0.587 * rgba[(w * h - 1) * 4 + 1] + 0.114 * rgba[(w * h - 1) * 4 + 2]), 5);
  });

  it('composes resize, crops, flip, scale and normalize; random ops follow the sample seed', async () => {
    const ex = await createImageExecutor({ decoder: 'js' });
    const p = images.resize(24, 32).randomCrop(16, 16).flip(0.5).scale(1 / 255).normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25]);
    expect(p.outputShape()).toEqual([16, 16, 3]);
    expect(p.isRandom).toBe(true);
    const outs = await Promise.all([1, 1, 2, 3, 4, 5, 6].map((s) => ex.run(p, png, s)));
    expect([...outs[0].data]).toEqual([...outs[1].data]);
    const distinct = new Set(outs.map((o) => o.data.slice(0, 20).join(',')));
    expect(distinct.size).toBeGreaterThan(2);
    for (const o of outs) expect([o.height, o.width, o.channels]).toEqual([16, 16, 3]);
    // normalize((x/255 - .5)/.25) keeps values in [-2, 2].
    for (const v of outs[0].data) expect(v >= -2 - 1e-5 && v <= 2 + 1e-5).toBe(true);
    const center = await ex.run(images.centerCrop(10, 20), png, 0);
    // the centred 10x20 window starts at (10, 10): its first pixel is source pixel (10, 10).
    expect(center.data[0]).toBe(rgba[(10 * w + 10) * 4]);
    expect(center.data[1]).toBe(rgba[(10 * w + 10) * 4 + 1]);
  });

  it('rejects bad steps and undecodable bytes with messages', async () => {
    expect(() => images.resize(0, 3)).toThrow(RangeError);
    expect(() => images.decode().flip(2)).toThrow(RangeError);
    expect(() => images.decode().normalize([1, 2], [1])).toThrow(RangeError);
    expect(() => new ImagePipeline([{ op: 'resize', height: 1, width: 1 }])).toThrow(/starts with decode/);
    const ex = await createImageExecutor({ decoder: 'js' });
    await expect(ex.run(images.decode(), new Uint8Array([1, 2, 3, 4, 5]), 0)).rejects.toThrow(/unsupported image format/);
    await expect(ex.run(images.decode(), png.subarray(0, 60), 0)).rejects.toThrow();
  });

  it('worker threads give the same pixels as the main thread', async () => {
    const main = await createImageExecutor({ decoder: 'js' });
    const pool = await createImageExecutor({ decoder: 'js', workers: 2 });
    expect(pool.kind).toBe('js-workers');
    try {
      const p = images.resize(20, 20).randomCrop(12, 12).flip();
      for (const [bytes, seed] of [[png, 1], [jpg, 2], [png, 3]] as const) {
        const a = await main.run(p, bytes.slice(), seed);
        const b = await pool.run(p, bytes.slice(), seed);
        expect([b.height, b.width, b.channels]).toEqual([a.height, a.width, a.channels]);
        expect([...b.data]).toEqual([...a.data]);
      }
      const many = await Promise.all(Array.from({ length: 16 }, (_, i) => pool.run(images.resize(8, 8), png.slice(), i)));
      expect(many.every((m) => m.data.length === 8 * 8 * 3)).toBe(true);
      await expect(pool.run(images.decode(), new Uint8Array([9, 9, 9]), 0)).rejects.toThrow(/unsupported image format/);
    } finally {
      await pool.close();
    }
    await expect(pool.run(images.decode(), png.slice(), 0)).rejects.toThrow(/closed/);
  });

  it('worker threads start in a `node --input-type=module -e` script (whose flag would make their source ESM)', async () => {
    const dist = JSON.stringify(new URL('../dist/index.js', import.meta.url).href);
    const code = `
      const { createImageExecutor, images } = await import(${dist});
      const pool = await createImageExecutor({ decoder: 'js', workers: 1 });
      const img = await pool.run(images.resize(4, 4), new Uint8Array(Buffer.from(process.env.PNG_B64, 'base64')), 0);
      await pool.close();
      console.log(pool.kind, img.data.length);`;
    const env = { ...process.env, PNG_B64: Buffer.from(png).toString('base64') };
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], { cwd: fileURLToPath(new URL('..', import.meta.url)), env, timeout: 60_000 });
    expect(stdout.trim()).toBe(`js-workers ${4 * 4 * 3}`);
  });

  it('closing a worker pool with images in flight lets them finish before the threads end', async () => {
    // Terminating a thread inside pngjs's zlib call can abort the process (see WorkerImageExecutor.close).
    const pool = await createImageExecutor({ decoder: 'js', workers: 2 });
    const runs = Array.from({ length: 24 }, (_, i) => pool.run(images.resize(8, 8), png.slice(), i));
    await pool.close();
    const settled = await Promise.allSettled(runs);
    expect(settled.map((s) => s.status)).toEqual(runs.map(() => 'fulfilled'));
    expect(settled.every((s) => s.status === 'fulfilled' && s.value.data.length === 8 * 8 * 3)).toBe(true);
    await expect(pool.run(images.decode(), png.slice(), 0)).rejects.toThrow(/closed/);
  });

  it('a worker thread that stops takes no more images; when all have stopped, a run fails instead of hanging', async () => {
    const pool = await createImageExecutor({ decoder: 'js', workers: 2 });
    const threads = (pool as unknown as { workers: { w: { terminate(): Promise<number> } }[] }).workers;
    try {
      await threads[0].w.terminate();
      await new Promise((r) => setTimeout(r, 50)); // its exit event
      const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.run(images.resize(8, 8), png.slice(), i)));
      expect(runs.every((m) => m.data.length === 8 * 8 * 3)).toBe(true);
      await threads[1].w.terminate();
      await new Promise((r) => setTimeout(r, 50));
      await expect(pool.run(images.decode(), png.slice(), 0)).rejects.toThrow(/every image worker thread stopped/);
    } finally {
      await pool.close();
    }
  });

  it('sharp (a devDependency here) decodes to the same pixels as the pure-JS decoder, and auto prefers it', async () => {
    const rgba = gradientRgba(37, 23);
    const png = encodePng(37, 23, rgba);
    const jpg = encodeJpeg(37, 23, rgba);
    const sharp = await createImageExecutor({ decoder: 'sharp' });
    const js = await createImageExecutor({ decoder: 'js' });
    expect(sharp.kind).toBe('sharp');
    expect((await createImageExecutor({})).kind).toBe('sharp');
    for (const pipeline of [images.decode(), images.decode().centerCrop(12, 12).flip(1)]) {
      const a = await sharp.run(pipeline, png, 3);
      const b = await js.run(pipeline, png, 3);
      expect([a.width, a.height, a.channels]).toEqual([b.width, b.height, b.channels]);
      expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true); // PNG is lossless: identical
    }
    // sharp decodes, the JS kernel resizes: identical pixels; libvips' resize (by name) is another kernel
    const pipeline = images.resize(16, 12).centerCrop(12, 12).flip(1);
    const a2 = await sharp.run(pipeline, png, 3);
    const b2 = await js.run(pipeline, png, 3);
    expect([a2.width, a2.height, a2.channels]).toEqual([b2.width, b2.height, b2.channels]);
    expect(Buffer.from(a2.data.buffer, a2.data.byteOffset, a2.data.byteLength).equals(Buffer.from(b2.data.buffer, b2.data.byteOffset, b2.data.byteLength))).toBe(true);
    const vips = await createImageExecutor({ decoder: 'sharp', resize: 'sharp' });
    const c2 = await vips.run(pipeline, png, 3);
    expect([c2.width, c2.height, c2.channels]).toEqual([b2.width, b2.height, b2.channels]);
    expect(Buffer.from(c2.data.buffer, c2.data.byteOffset, c2.data.byteLength).equals(Buffer.from(b2.data.buffer, b2.data.byteOffset, b2.data.byteLength))).toBe(false);
    // JPEG decoders (libjpeg-turbo vs jpeg-js) may differ by rounding only.
    const a = await sharp.run(images.decode(), jpg, 0);
    const b = await js.run(images.decode(), jpg, 0);
    expect([a.width, a.height, a.channels]).toEqual([b.width, b.height, b.channels]);
    let maxDiff = 0;
    for (let i = 0; i < a.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.data[i]! - b.data[i]!));
    expect(maxDiff).toBeLessThanOrEqual(8);
    await expect(sharp.run(images.decode(), new Uint8Array([9, 9, 9]), 0)).rejects.toThrow();
  });

  it('auto decodes PNGs up to AUTO_JS_MAX_PIXELS in JavaScript (a sharp call costs more than such a decode), to the same pixels as sharp, and every JPEG with sharp', async () => {
    const auto = await createImageExecutor({});
    const sharp = await createImageExecutor({ decoder: 'sharp' });
    const js = await createImageExecutor({ decoder: 'js' });
    const resized = images.resize(8, 8);
    const same = (a: { data: ArrayLike<number> }, b: { data: ArrayLike<number> }) => Buffer.from(Float32Array.from(a.data).buffer).equals(Buffer.from(Float32Array.from(b.data).buffer));
    // PNG decodes losslessly and the resize is the JS kernel either way: one set of pixels
    for (const [w, h] of [[100, 100], [101, 100]]) {
      const bytes = encodePng(w, h, gradientRgba(w, h));
      const got = await auto.run(resized, bytes, 1);
      expect(same(got, await js.run(resized, bytes, 1)), `PNG ${w}x${h}`).toBe(true);
      expect(same(got, await sharp.run(resized, bytes, 1)), `PNG ${w}x${h}`).toBe(true);
    }
    // JPEG decoders differ (libjpeg-turbo vs jpeg-js): the pixels tell who decoded; small or large, sharp
    for (const [w, h] of [[16, 16], [48, 48], [49, 48]]) {
      const bytes = encodeJpeg(w, h, gradientRgba(w, h));
      const got = await auto.run(resized, bytes, 1);
      expect(same(await js.run(resized, bytes, 1), await sharp.run(resized, bytes, 1)), `JPEG ${w}x${h}: the two decoders differ`).toBe(false);
      expect(same(got, await sharp.run(resized, bytes, 1)), `JPEG ${w}x${h} decoded by sharp`).toBe(true);
    }
    expect(AUTO_JS_MAX_PIXELS).toEqual({ png: 10_000, jpeg: 0 });
  });

  it('reads an image\'s size from its header (PNG IHDR, JPEG start of frame), not from cut or foreign bytes', () => {
    expect(imagePixels(encodePng(37, 23, gradientRgba(37, 23)))).toBe(37 * 23);
    const jpg = encodeJpeg(37, 23, gradientRgba(37, 23));
    expect(imagePixels(jpg)).toBe(37 * 23);
    expect(imagePixels(jpg.subarray(0, 20))).toBeUndefined();
    expect(imagePixels(new Uint8Array([0xff, 0xd8, 0xff, 0x00, 0, 0, 0, 0, 0, 0]))).toBeUndefined();
    expect(imagePixels(new TextEncoder().encode('not an image at all'))).toBeUndefined();
  });

  it('tfjs-node, requested explicitly, decodes like the JS decoder once `pnpm setup:native` built it; without its addon it is an Unsupported error naming the fix', async () => {
    // tfjs-node is installed in the workspace without its install script; whether its addon exists
    // is decided by `pnpm setup:native` (run by .ci/run), so both outcomes are checked here.
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    if (!nativeStatus(root).ready) {
      const err = await createImageExecutor({ decoder: 'tfjs-node' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'Unsupported', code: 'TFJS_NODE_MISSING' });
      expect((err as Error).message).toMatch(/pnpm setup:native/);
      return;
    }
    const ex = await createImageExecutor({ decoder: 'tfjs-node' });
    expect(ex.kind).toBe('tfjs-node');
    const png = encodePng(9, 7, gradientRgba(9, 7));
    const js = await createImageExecutor({ decoder: 'js' });
    const [a, b] = [await ex.run(images.decode(), png, 0), await js.run(images.decode(), png, 0)];
    expect([a.width, a.height, a.channels]).toEqual([9, 7, 3]);
    expect(Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer))).toBe(true); // PNG is lossless
    await expect(ex.run(images.decode(), new Uint8Array([9, 9, 9]), 0)).rejects.toThrow(/unsupported image format/);
  });

  it("tfjs-node decodes a PNG's alpha (RGBA, gray+alpha, palette and colour-key tRNS) and its gray to the pixels of js and sharp", async () => {
    if (!nativeStatus(fileURLToPath(new URL('../../..', import.meta.url))).ready) return; // the test above checks the error
    const { crc32 } = await import('node:zlib');
    const chunk = (type: string, data: number[] | Uint8Array): Buffer => {
      const body = Buffer.concat([Buffer.from(type, 'ascii'), Buffer.from(data)]);
      const out = Buffer.alloc(body.length + 8);
      out.writeUInt32BE(body.length - 4, 0);
      body.copy(out, 4);
      out.writeUInt32BE(crc32(body) >>> 0, body.length + 4);
      return out;
    };
    // a 4x2 PNG of bit depth `depth` and colour type `colour`; `rows` are packed samples
    const makePng = (depth: number, colour: number, rows: number[][], extra: Buffer[] = []): Uint8Array => {
      const ihdr = Buffer.alloc(13);
      ihdr.writeUInt32BE(4, 0);
      ihdr.writeUInt32BE(2, 4);
      ihdr[8] = depth;
      ihdr[9] = colour;
      const idat = deflateSync(Buffer.from(rows.flatMap((r) => [0, ...r])));
      return new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), ...extra, chunk('IDAT', idat), chunk('IEND', [])]));
    };
    const plte = chunk('PLTE', [10, 20, 30, 40, 50, 60, 70, 80, 90, 200, 210, 220]);
    const pngs: Record<string, Uint8Array> = {
      rgba: makePng(8, 6, [[10, 20, 30, 0, 40, 50, 60, 128, 1, 2, 3, 255, 9, 9, 9, 7], [200, 100, 0, 0, 0, 0, 0, 1, 5, 6, 7, 128, 255, 255, 255, 0]]),
      grayAlpha: makePng(8, 4, [[0, 0, 50, 128, 100, 255, 50, 1], [200, 0, 50, 7, 255, 255, 7, 9]]),
      paletteTrns: makePng(8, 3, [[0, 1, 2, 3], [3, 2, 1, 0]], [plte, chunk('tRNS', [0, 128])]),
      palette2bitTrns: makePng(2, 3, [[0b00011011], [0b11100100]], [plte, chunk('tRNS', [0, 128, 255])]),
      palette2bit: makePng(2, 3, [[0b00011011], [0b11100100]], [plte]),
      grayKey: makePng(8, 0, [[0, 50, 100, 50], [200, 50, 255, 7]], [chunk('tRNS', [0, 50])]),
      rgbKey: makePng(8, 2, [[1, 2, 3, 9, 8, 7, 1, 2, 3, 200, 100, 0], [1, 2, 4, 1, 2, 3, 255, 255, 255, 0, 0, 0]], [chunk('tRNS', [0, 1, 0, 2, 0, 3])]),
      gray1bit: makePng(1, 0, [[0b10100000], [0b01010000]]),
      rgb: makePng(8, 2, [[1, 2, 3, 9, 8, 7, 1, 2, 3, 200, 100, 0], [1, 2, 4, 1, 2, 3, 255, 255, 255, 0, 0, 0]]),
    };
    const node = await createImageExecutor({ decoder: 'tfjs-node' });
    const others = { js: await createImageExecutor({ decoder: 'js' }), sharp: await createImageExecutor({ decoder: 'sharp' }) };
    for (const [name, png] of Object.entries(pngs)) {
      for (const channels of [1, 3, 4] as const) {
        const got = [...(await node.run(images.decode({ channels }), png, 0)).data];
        for (const [kind, ex] of Object.entries(others)) expect(got, `${name}, ${channels} channels: tfjs-node vs ${kind}`).toEqual([...(await ex.run(images.decode({ channels }), png, 0)).data]);
      }
    }
    // the alpha itself, not only agreement: 0 and 128 where the file says so
    expect([...(await node.run(images.decode({ channels: 4 }), pngs.rgba!, 0)).data].filter((_, i) => i % 4 === 3)).toEqual([0, 128, 255, 7, 0, 1, 128, 0]);
  });

  it('writes the result into a given buffer of the right length, and only then', async () => {
    const png = encodePng(6, 5, gradientRgba(6, 5));
    const js = await createImageExecutor({ decoder: 'js' });
    const want = await js.run(images.decode().scale(0.5), png, 0);
    for (const pipeline of [images.decode().scale(0.5), images.decode().scale(0.5).flip(0)]) {
      const out = new Float32Array(6 * 5 * 3);
      const got = await js.run(pipeline, png, 0, undefined, out);
      expect(got.data).toBe(out);
      expect([...out]).toEqual([...want.data]);
    }
    const small = new Float32Array(4);
    const other = await js.run(images.decode().scale(0.5), png, 0, undefined, small);
    expect(other.data).not.toBe(small);
    expect([...small]).toEqual([0, 0, 0, 0]);
  });

  it("'auto' takes sharp over tfjs-node, and tfjs-node over js only while the tensorflow backend is active", async () => {
    // `tf` is tfjs in the pure-JS project and tfjs-node in the native one (vitest.config.ts).
    expect((await createImageExecutor({ tf })).kind).toBe('sharp');
    const before = tf.getBackend();
    // workers: neither sharp nor tfjs-node is considered (tfjs-node took them and ignored `workers`)
    const withWorkers = await createImageExecutor({ tf, workers: 1 });
    expect(withWorkers.kind).toBe('js-workers');
    await withWorkers.close();
    // a native decoder named together with workers cannot honour them: refused, not ignored
    for (const decoder of ['sharp', 'tfjs-node'] as const) {
      await expect(createImageExecutor({ tf, decoder, workers: 2 })).rejects.toMatchObject({ code: 'BAD_DECODE_OPTION', message: expect.stringMatching(new RegExp(`decoder '${decoder}' .*leave out \`workers\`, or use decoder 'js' or 'auto'`)) });
    }
    await tf.setBackend('cpu');
    try {
      const onCpu = await createImageExecutor({ tf, workers: 1 });
      expect(onCpu.kind).toBe('js-workers'); // tfjs-node's decoder would refuse to run on cpu
      await onCpu.close();
    } finally {
      await tf.setBackend(before);
    }
  });
});

describe('the pure-JS PNG decoder refuses what it cannot decode faithfully', () => {
  /** A PNG of `w`x`rows` RGB pixels whose header claims `height` rows (CRCs correct). */
  async function pngClaiming(w: number, rows: number, height: number): Promise<Uint8Array> {
    const { crc32 } = await import('node:zlib');
    const png = new PNG({ width: w, height: rows, colorType: 2 });
    for (let i = 0; i < png.data.length; i++) png.data[i] = i % 4 === 3 ? 255 : 200;
    const bytes = new Uint8Array(PNG.sync.write(png, { colorType: 2 }));
    const view = new DataView(bytes.buffer);
    view.setUint32(8 + 8 + 4, height); // IHDR body starts at 16: width (4), height (4)
    view.setUint32(8 + 8 + 13, crc32(bytes.subarray(12, 8 + 8 + 13)) >>> 0);
    return bytes;
  }

  it('short image data (the missing rows were zeros or leftover memory) and headers past the pixel limit', async () => {
    const { makeJsCodecs } = await import('./image-kernels.js');
    const { inflateSync } = await import('node:zlib');
    const codecs = makeJsCodecs({ PNG, jpeg, inflateSync } as never);
    const whole = codecs.decodePng(await pngClaiming(3, 2, 2));
    expect([whole.width, whole.height, whole.data[0]]).toEqual([3, 2, 200]);
    const [short, shortTall, huge] = [await pngClaiming(3, 1, 2), await pngClaiming(3, 1, 6000), await pngClaiming(20000, 1, 20000)];
    expect(() => codecs.decodePng(short)).toThrow(/^PNG its image data is truncated \(10 of the 20 bytes its 3x2 header needs\)/);
    expect(() => codecs.decodePng(shortTall)).toThrow(/truncated/);
    expect(() => codecs.decodePng(huge)).toThrow(/20000x20000 exceeds the pixel limit \(268402689\)/);
  });

  it('in the worker pool too', async () => {
    const executor = await createImageExecutor({ decoder: 'js', workers: 1 });
    try {
      expect(executor.kind).toBe('js-workers');
      await expect(executor.run(images.decode(), await pngClaiming(3, 1, 2), 1)).rejects.toThrow(/truncated/);
    } finally {
      await executor.close();
    }
  });
});
