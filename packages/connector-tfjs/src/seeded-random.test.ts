import { describe, expect, it } from 'vitest';
import { SeededRandom, permutation, permute } from './seeded-random.js';
import { ShuffleBuffer, shuffleStream } from './shuffle-buffer.js';

describe('SeededRandom', () => {
  it('gives the same stream for the same seed parts and different streams otherwise', () => {
    const a = new SeededRandom(7, 'epoch', 1);
    const b = new SeededRandom(7, 'epoch', 1);
    const c = new SeededRandom(7, 'epoch', 2);
    const sa = Array.from({ length: 50 }, () => a.nextUint32());
    const sb = Array.from({ length: 50 }, () => b.nextUint32());
    const sc = Array.from({ length: 50 }, () => c.nextUint32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    // '1' (string) and 1 (number) are different seed material.
    expect(new SeededRandom('1').nextUint32()).not.toBe(new SeededRandom(1).nextUint32());
  });

  it('continues exactly from a captured state', () => {
    const a = new SeededRandom(42);
    for (let i = 0; i < 17; i++) a.nextUint32();
    const b = SeededRandom.fromState(a.getState());
    expect(Array.from({ length: 20 }, () => b.nextUint32())).toEqual(Array.from({ length: 20 }, () => a.nextUint32()));
  });

  it('int(n) is in range and roughly uniform', () => {
    const r = new SeededRandom(3);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 20000; i++) counts[r.int(10)]++;
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(200);
    expect(() => r.int(0)).toThrow(RangeError);
    expect(() => r.int(1.5)).toThrow(RangeError);
    for (let i = 0; i < 1000; i++) {
      const f = r.next();
      expect(f >= 0 && f < 1).toBe(true);
    }
  });
});

describe('permutation', () => {
  it('is a permutation, deterministic per seed, different across seeds', () => {
    const p = permutation(100, new SeededRandom(1));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(permutation(100, new SeededRandom(1))).toEqual(p);
    expect(permutation(100, new SeededRandom(2))).not.toEqual(p);
    expect(p).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(permute(['a', 'b', 'c'], new SeededRandom(5)).sort()).toEqual(['a', 'b', 'c']);
  });

  it('puts every element in every position about equally often', () => {
    const rng = new SeededRandom(11);
    const pos = Array.from({ length: 4 }, () => new Array(4).fill(0));
    for (let t = 0; t < 8000; t++) permutation(4, rng).forEach((v, i) => pos[v][i]++);
    for (const row of pos) for (const c of row) expect(Math.abs(c - 2000)).toBeLessThan(200);
  });
});

describe('ShuffleBuffer', () => {
  it('emits every item exactly once, deterministically, and only mixes within its window', async () => {
    const input = Array.from({ length: 1000 }, (_, i) => i);
    const run = async (seed: number, cap: number) => {
      const out: number[] = [];
      for await (const x of shuffleStream(input, cap, new SeededRandom(seed))) out.push(x);
      return out;
    };
    const a = await run(1, 16);
    expect([...a].sort((x, y) => x - y)).toEqual(input);
    expect(await run(1, 16)).toEqual(a);
    expect(await run(2, 16)).not.toEqual(a);
    expect(a).not.toEqual(input);
    // Output position k holds an item that entered at most k + capacity - 1.
    a.forEach((x, k) => expect(x).toBeLessThanOrEqual(k + 15));
    // Capacity 1 is the identity.
    expect(await run(1, 1)).toEqual(input);
  });

  it('rejects a bad capacity', () => {
    expect(() => new ShuffleBuffer(0, new SeededRandom(1))).toThrow(RangeError);
    expect(() => new ShuffleBuffer(2.5, new SeededRandom(1))).toThrow(RangeError);
  });
});

describe('simulateShuffle', () => {
  it('positions a restored buffer exactly where the real stream stood', async () => {
    const { simulateShuffle } = await import('./shuffle-buffer.js');
    const n = 57;
    const cap = 8;
    const full: number[] = [];
    for await (const x of shuffleStream(Array.from({ length: n }, (_, i) => i), cap, new SeededRandom(3))) full.push(x);
    for (const emitted of [0, 1, 7, 8, 20, 49, 50, 56, 57]) {
      const sim = simulateShuffle(n, cap, new SeededRandom(3), emitted);
      const buf = ShuffleBuffer.restore(cap, [...sim.slots], sim.rngState);
      const rest: number[] = [];
      for (let p = sim.pushed; p < n; p++) {
        const out = buf.push(p);
        if (out) rest.push(out.value);
      }
      for (let out = buf.pop(); out; out = buf.pop()) rest.push(out.value);
      expect(rest).toEqual(full.slice(emitted));
      // Resident slots are exactly the pushed-but-not-emitted positions.
      expect([...sim.slots].sort((a, b) => a - b)).toEqual(Array.from({ length: sim.pushed }, (_, i) => i).filter((p) => !full.slice(0, emitted).includes(p)));
    }
  });
});
