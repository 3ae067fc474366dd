import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { AFFINE_SIMD_WASM_BASE64, simdAffineU8 } from './affine-simd.js';
import { affineU8, makeSampleRandom } from './image-kernels.js';

/** Indexes where the float32 bit patterns differ (equal bits: the same values, not merely close ones). */
function differences(got: Float32Array, want: Float32Array): number[] {
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  const out: number[] = [];
  for (let i = 0; i < Math.max(a.length, b.length) && out.length < 10; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}

describe('the WebAssembly SIMD scale / normalize kernel', () => {
  it('is the assembly of affine-simd.wat, byte for byte', async () => {
    const wabt = await wabtInit();
    const source = readFileSync(new URL('./affine-simd.wat', import.meta.url), 'utf8');
    const module = wabt.parseWat('affine-simd.wat', source, { simd: true });
    const assembled = Buffer.from(module.toBinary({}).buffer);
    module.destroy();
    expect(assembled.toString('base64')).toBe(AFFINE_SIMD_WASM_BASE64);
  });

  it('gives the JavaScript kernel float32 values bit for bit, for 1, 3 and 4 channels and any length', () => {
    const simd = simdAffineU8();
    expect(simd).not.toBeNull(); // Node 20 has WebAssembly SIMD
    const random = makeSampleRandom(7);
    const cases: [number, number][] = [[3, 224 * 224 * 3], [3, 3 * 5], [3, 12 * 7 + 9], [1, 64 * 64 + 5], [4, 32 * 32 * 4], [3, 0], [4, 8]];
    for (const [channels, n] of cases) {
      const src = Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
      // ImageNet's normalization after a 1/255 scale: addends and multipliers that are not exact in float32
      const mul = Float64Array.from({ length: channels }, () => 1 / 255 / (0.2 + random() * 0.1));
      const add = Float64Array.from({ length: channels }, () => -(0.4 + random() * 0.1) / (0.2 + random() * 0.1));
      const want = new Float32Array(n);
      affineU8(src, want, channels, mul, add);
      const got = new Float32Array(n + 3).fill(-1); // longer than the image: the rest stays untouched
      simd!(src, got, channels, mul, add);
      expect(differences(got.subarray(0, n), want), `${channels} channels, ${n} values`).toEqual([]);
      expect(Array.from(got.subarray(n))).toEqual([-1, -1, -1]);
    }
  });

  it('grows its memory for a larger image after a smaller one, and falls back for 5 channels', () => {
    const simd = simdAffineU8()!;
    for (const [channels, n] of [[3, 30], [3, 1024 * 1024 * 3], [5, 5 * 100]] as const) {
      const src = Uint8Array.from({ length: n }, (_, i) => (i * 31) & 255);
      const mul = new Float64Array(channels).fill(1 / 255);
      const add = new Float64Array(channels).fill(-0.5);
      const want = new Float32Array(n);
      affineU8(src, want, channels, mul, add);
      const got = new Float32Array(n);
      simd(src, got, channels, mul, add);
      expect(differences(got, want), `${channels} channels, ${n} values`).toEqual([]);
    }
  });
});
