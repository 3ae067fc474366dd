/**
 * The image pipeline's 8-bit to float32 scale / normalize step in WebAssembly SIMD, on the thread
 * that runs the sharp, tfjs-node and main-thread decoders. For 224x224 RGB images it costs about a
 * quarter of the JavaScript loop's time (0.1 against 0.3-0.5 ms per image, the copies in and out
 * included), with the same float32 values bit for bit: both multiply and add in float64 and round
 * once. Where WebAssembly SIMD is missing, {@link simdAffineU8} returns null and the JavaScript kernel
 * runs.
 */
import { affineU8 } from './image-kernels.js';

/** The signature of {@link affineU8}: `out[i] = src[i] * mul[c] + add[c]`, `c = i % channels`. */
export type AffineU8 = (src: Uint8Array, out: Float32Array, channels: number, mul: Float64Array, add: Float64Array) => void;

/** `affine-simd.wat` assembled (wabt 1.0.36, no name section); `affine-simd.test.ts` checks it. */
export const AFFINE_SIMD_WASM_BASE64 =
  'AGFzbQEAAAABBwFgA39/fwADAgEABQMBAAEHFQIGbWVtb3J5AgAIYWZmaW5lMTIAAAqeAwGbAwEPe0EA/QAEACEDQQD9AAQQIQRBAP0ABCAhBUEA/QAEMCEGQQD9AARAIQdBAP0ABFAhCEEA/QAEYCEJQQD9AARwIQpBAP0ABIABIQtBAP0ABJABIQxBAP0ABKABIQ1BAP0ABLABIQ4CQANAIAJFDQEgAP0ABAAhDyAP/YkBIRAgEP2pASERIAEgEf3/ASAD/fIBIAn98AH9XiARIBH9DQgJCgsMDQ4PCAkKCwwNDg/9/wEgBP3yASAK/fAB/V79DQABAgMEBQYHEBESExQVFhf9CwQAIBD9qgEhESABIBH9/wEgBf3yASAL/fAB/V4gESAR/Q0ICQoLDA0ODwgJCgsMDQ4P/f8BIAb98gEgDP3wAf1e/Q0AAQIDBAUGBxAREhMUFRYX/QsEECAP/YoB/akBIREgASAR/f8BIAf98gEgDf3wAf1eIBEgEf0NCAkKCwwNDg8ICQoLDA0OD/3/ASAI/fIBIA798AH9Xv0NAAECAwQFBgcQERITFBUWF/0LBCAgAEEMaiEAIAFBMGohASACQQFrIQIMAAsLCw==';

/** Elements per iteration of the kernel: a period of the channel pattern for 1, 3 and 4 channels. */
const GROUP = 12;
/** Bytes of the multiplier and addend tables at the start of the memory. */
const TABLE_BYTES = 2 * GROUP * 8;
const PAGE = 65536;
/** Elements per kernel call at most (a multiple of GROUP): about 5 MiB of scratch memory. */
const MAX_SLICE = GROUP * 87_381;

let cached: AffineU8 | null | undefined;

/**
 * The SIMD kernel as a drop-in for {@link affineU8}, or null where WebAssembly SIMD is unavailable.
 * One instance per thread (its memory is scratch space, reused by every call; calls are synchronous).
 */
export function simdAffineU8(): AffineU8 | null {
  if (cached === undefined) cached = instantiate();
  return cached;
}

/** The part of the WebAssembly JavaScript API used here (not in this project's TypeScript libs). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

function instantiate(): AffineU8 | null {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  const bytes = Buffer.from(AFFINE_SIMD_WASM_BASE64, 'base64');
  if (!wasm || !wasm.validate(bytes)) return null;
  const { exports } = new wasm.Instance(new wasm.Module(bytes));
  const memory = exports.memory as WasmMemory;
  const affine12 = exports.affine12 as (src: number, dst: number, groups: number) => void;
  return (src, out, channels, mul, add) => {
    const n = src.length;
    const groups = Math.floor(n / GROUP);
    if (GROUP % channels !== 0 || groups === 0 || out.length < n) {
      affineU8(src, out, channels, mul, add);
      return;
    }
    // Large images go through in slices, so the scratch memory (never given back) stays small.
    const done = groups * GROUP;
    const slice = Math.min(done, MAX_SLICE);
    const srcAt = TABLE_BYTES;
    const dstAt = Math.ceil((srcAt + slice + 16) / 16) * 16;
    const need = dstAt + 4 * slice;
    if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
    const heap = memory.buffer;
    const table = new Float64Array(heap, 0, 2 * GROUP);
    for (let k = 0; k < GROUP; k++) {
      table[k] = mul[k % channels];
      table[GROUP + k] = add[k % channels];
    }
    const input = new Uint8Array(heap, srcAt, slice);
    const output = new Float32Array(heap, dstAt, slice);
    for (let at = 0; at < done; at += slice) {
      const len = Math.min(slice, done - at); // a multiple of GROUP: the channel pattern stays aligned
      input.set(src.subarray(at, at + len));
      affine12(srcAt, dstAt, len / GROUP);
      out.set(len === slice ? output : output.subarray(0, len), at);
    }
    for (let i = done; i < n; i++) out[i] = src[i] * mul[i % channels] + add[i % channels];
  };
}
