import { describe, expect, it } from 'vitest';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { prefetchOrdered, type PrefetchStats, type PrefetchTask } from './ordered-prefetch.js';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((res, rej) => {
    const t = setTimeout(res, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      rej(new Error('aborted'));
    }, { once: true });
  });

function newStats(): PrefetchStats {
  return { started: 0, completed: 0, peakBytes: 0, peakRunning: 0, cancelled: false };
}

describe('prefetchOrdered', () => {
  it('yields in order even when later tasks finish first', async () => {
    const tasks: PrefetchTask<number>[] = [30, 5, 20, 1, 10].map((ms, i) => ({
      bytes: 1,
      run: async (s) => { await sleep(ms, s); return i; },
    }));
    const out: number[] = [];
    for await (const v of prefetchOrdered(tasks, { maxBytesInFlight: 100 })) out.push(v);
    expect(out).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps reserved bytes within the bound, and runs ahead while the consumer works', async () => {
    const stats = newStats();
    let running = 0;
    let maxRunning = 0;
    const tasks: PrefetchTask<number>[] = Array.from({ length: 20 }, (_, i) => ({
      bytes: 10,
      run: async (s) => { running++; maxRunning = Math.max(maxRunning, running); await sleep(5, s); running--; return i; },
    }));
    const t0 = Date.now();
    let n = 0;
    for await (const _ of prefetchOrdered(tasks, { maxBytesInFlight: 35, concurrency: 8 }, stats)) {
      await sleep(5);
      n++;
    }
    expect(n).toBe(20);
    expect(stats.peakBytes).toBeLessThanOrEqual(35);
    expect(maxRunning).toBeGreaterThanOrEqual(2);
    // serial would be 20 * (5 + 5) = 200 ms; overlapped about 100 ms
    expect(Date.now() - t0).toBeLessThan(190);
  });

  it('runs a single task larger than the bound', async () => {
    const out: string[] = [];
    for await (const v of prefetchOrdered([{ bytes: 1000, run: async () => 'big' }], { maxBytesInFlight: 10 })) out.push(v);
    expect(out).toEqual(['big']);
  });

  it('early return aborts in-flight tasks and starts no more', async () => {
    const stats = newStats();
    const aborted: number[] = [];
    const tasks: PrefetchTask<number>[] = Array.from({ length: 50 }, (_, i) => ({
      bytes: 1,
      run: async (s) => {
        try { await sleep(i === 0 ? 1 : 200, s); } catch { aborted.push(i); throw new Error('x'); }
        return i;
      },
    }));
    for await (const v of prefetchOrdered(tasks, { concurrency: 4 }, stats)) {
      expect(v).toBe(0);
      break;
    }
    await sleep(5);
    expect(stats.cancelled).toBe(true);
    expect(aborted.length).toBeGreaterThan(0);
    expect(stats.started).toBeLessThanOrEqual(5);
  });

  it('surfaces a task error at its position and an abort as Aborted', async () => {
    const tasks: PrefetchTask<number>[] = [
      { bytes: 1, run: async () => 1 },
      { bytes: 1, run: async () => { throw new LakeSoulError('Io', 'boom', { context: { file: 'f' } }); } },
    ];
    const got: number[] = [];
    await expect((async () => { for await (const v of prefetchOrdered(tasks)) got.push(v); })()).rejects.toThrow('boom');
    expect(got).toEqual([1]);

    const ac = new AbortController();
    const slow: PrefetchTask<number>[] = [{ bytes: 1, run: async (s) => { await sleep(500, s); return 1; } }];
    setTimeout(() => ac.abort(), 10);
    await expect((async () => { for await (const _ of prefetchOrdered(slow, { signal: ac.signal })) { /* */ } })())
      .rejects.toSatisfy((e: unknown) => LakeSoulError.is(e, 'Aborted'));
  });
});
