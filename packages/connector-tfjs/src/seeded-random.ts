/**
 * Seeded, deterministic pseudo-random numbers for shuffling and augmentation. The generator is
 * xoshiro128** (32-bit arithmetic only, so the same seed gives the same stream on every platform and
 * Node version); seeds are derived from any list of numbers/strings by hashing, so that
 * `(seed, epoch, shard)` tuples give independent streams.
 */

/** Hash parts (numbers, bigints, strings) into one 32-bit value (FNV-1a over a canonical text). */
function hashParts(parts: readonly (string | number | bigint)[]): number {
  let h = 0x811c9dc5;
  const text = parts.map((p) => `${typeof p}:${String(p)}`).join('\u0000');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** splitmix32 step: expands one 32-bit seed into well-mixed state words. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) >>> 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Serializable generator state (four unsigned 32-bit words). */
export type SeededRandomState = [number, number, number, number];

/**
 * A deterministic PRNG (xoshiro128**). Construct it from seed parts, e.g.
 * `new SeededRandom(seed, 'epoch', epoch, 'shard', shard)`: equal parts give equal streams.
 */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** @param parts Seed material; any mix of numbers, bigints and strings. */
  constructor(...parts: (string | number | bigint)[]) {
    const st = { s: hashParts(parts) };
    this.s0 = splitmix32(st);
    this.s1 = splitmix32(st);
    this.s2 = splitmix32(st);
    this.s3 = splitmix32(st);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator continuing from a state captured with {@link SeededRandom.getState}. */
  static fromState(state: SeededRandomState): SeededRandom {
    const r = new SeededRandom(0);
    [r.s0, r.s1, r.s2, r.s3] = state.map((x) => x >>> 0) as SeededRandomState;
    return r;
  }

  /** The current state, to continue the exact stream later. */
  getState(): SeededRandomState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n), without modulo bias. `n` must be a positive integer <= 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) throw new RangeError(`SeededRandom.int: bad bound ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A uniformly random permutation of `0..n-1` (Fisher-Yates driven by `rng`). */
export function permutation(n: number, rng: SeededRandom): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

/** `items` reordered by a seeded permutation; the input is not modified. */
export function permute<T>(items: readonly T[], rng: SeededRandom): T[] {
  return permutation(items.length, rng).map((i) => items[i]);
}
