/**
 * A PNG or JPEG cut short (a `#bytes=` reference too short, a partial upload) fails decoding with a
 * message saying it is truncated, on the main thread, in the worker pool and through sharp (when installed).
 */
import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { images } from './image-pipeline.js';
import { createImageExecutor } from './image-executor.js';
import { imageTruncation } from './image-kernels.js';

function encodePng(w: number, h: number): Uint8Array {
  const png = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h * 4; i++) png.data[i] = (i * 37) % 256;
  return new Uint8Array(PNG.sync.write(png));
}

function encodeJpeg(w: number, h: number): Uint8Array {
  const data = Buffer.alloc(w * h * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13) % 256;
  return new Uint8Array(jpeg.encode({ width: w, height: h, data }, 90).data);
}

describe('truncated images', () => {
  const png = encodePng(16, 16);
  const jpg = encodeJpeg(16, 16);

  it('says a PNG or JPEG is truncated, however short, and decodes it whole', async () => {
    for (const ex of [await createImageExecutor({ decoder: 'js' }), await createImageExecutor({ decoder: 'js', workers: 1 }), await createImageExecutor({ decoder: 'sharp' }).catch(() => null)]) {
      if (ex === null) continue; // sharp not installed
      try {
        // `#bytes=0-3` of a PNG: "unsupported image format (not PNG or JPEG; first bytes 89 50 4e 47)"
        await expect(ex.run(images.decode(), png.slice(0, 4), 0)).rejects.toThrow(/^truncated PNG \(4 bytes, fewer than its 8-byte signature\)$/);
        await expect(ex.run(images.decode(), jpg.slice(0, 2), 0)).rejects.toThrow(/^truncated JPEG \(2 bytes, fewer than its 3-byte signature\)$/);
        // cut anywhere after the signature: the decoder's failure is said to be a truncation
        // (libvips decodes a PNG whose image data is whole though its IEND is cut: those give pixels)
        const sharp = ex.kind === 'sharp';
        for (const n of sharp ? [8, 20, png.length >> 1] : [8, 20, 40, png.length >> 1, png.length - 12, png.length - 2]) {
          await expect(ex.run(images.decode(), png.slice(0, n), 0), `png ${n}`).rejects.toThrow(new RegExp(`^truncated PNG \\(${n} bytes: `));
        }
        for (const n of sharp ? [4, 40, jpg.length >> 1] : [4, 40, jpg.length >> 1, jpg.length - 12]) {
          await expect(ex.run(images.decode(), jpg.slice(0, n), 0), `jpeg ${n}`).rejects.toThrow(new RegExp(`^truncated JPEG \\(${n} bytes: no end-of-image marker FF D9\\)`));
        }
        // other bytes keep their message; whole images decode
        await expect(ex.run(images.decode(), new Uint8Array([0x89, 0x50, 0x00]), 0)).rejects.toThrow(/unsupported image format/);
        // an empty file said "unsupported image format (not PNG or JPEG; first bytes )"
        await expect(ex.run(images.decode(), new Uint8Array(0), 0)).rejects.toThrow(/^empty image \(0 bytes\)$/);
        expect((await ex.run(images.decode(), png.slice(), 0)).width).toBe(16);
        expect((await ex.run(images.decode(), jpg.slice(), 0)).width).toBe(16);
      } finally {
        await ex.close();
      }
    }
  });

  it('imageTruncation finds no truncation in a whole file', () => {
    expect(imageTruncation(png, 'png')).toBeNull();
    expect(imageTruncation(jpg, 'jpeg')).toBeNull();
    expect(imageTruncation(png.subarray(0, png.length - 1), 'png')).toMatch(/IEND chunk runs past the end/);
  });
});
