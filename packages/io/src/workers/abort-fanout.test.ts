import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { whenAborted } from './abort-fanout.js';

describe('whenAborted', () => {
  it('shares one listener among any number of callbacks and calls each once on abort', () => {
    const ac = new AbortController();
    const calls: number[] = [];
    for (let i = 0; i < 50; i++) whenAborted(ac.signal, () => calls.push(i));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    ac.abort();
    expect(calls).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('a released callback is not called; releasing the last removes the listener', () => {
    const ac = new AbortController();
    let a = 0;
    let b = 0;
    const stopA = whenAborted(ac.signal, () => a++);
    const stopB = whenAborted(ac.signal, () => b++);
    stopA();
    stopA(); // twice is harmless
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    stopB();
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    const stopC = whenAborted(ac.signal, () => b++); // a new listener after the old one went
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    ac.abort();
    stopC();
    expect([a, b]).toEqual([0, 1]);
  });

  it('an already aborted signal calls back in a microtask, unless released before', async () => {
    const signal = AbortSignal.abort();
    let called = 0;
    whenAborted(signal, () => called++);
    whenAborted(signal, () => called++)();
    expect(called).toBe(0);
    await Promise.resolve();
    expect(called).toBe(1);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});
