import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { abortableSleep, abortedError, abortedErrorFor, isAbortError, throwIfAborted, whenAborted } from './abort.js';
import { LakeSoulError } from './errors.js';

describe('abort module', () => {
  it('throwIfAborted names what was aborted, keeps the reason as cause and the context', () => {
    const ac = new AbortController();
    expect(() => throwIfAborted(ac.signal, 'scan of t')).not.toThrow();
    expect(() => throwIfAborted(undefined, 'scan of t')).not.toThrow();
    ac.abort('user');
    let caught: unknown;
    try { throwIfAborted(ac.signal, 'scan of t', { table: 't' }); } catch (e) { caught = e; }
    expect(caught).toBeInstanceOf(LakeSoulError);
    expect(caught).toMatchObject({ kind: 'Aborted', code: 'ABORTED', message: 'scan of t: aborted', cause: 'user', context: { table: 't' } });
  });

  it('isAbortError recognises LakeSoul, DOM/Node and ABORT_ERR aborts and nothing else', () => {
    expect(isAbortError(abortedError('x'))).toBe(true);
    expect(isAbortError(Object.assign(new Error('x'), { name: 'AbortError' }))).toBe(true);
    expect(isAbortError(Object.assign(new Error('x'), { code: 'ABORT_ERR' }))).toBe(true);
    expect(isAbortError(new LakeSoulError('Io', 'x'))).toBe(false);
    expect(isAbortError(new Error('aborted'))).toBe(false);
    expect(isAbortError(null)).toBe(false);
  });

  it('abortedErrorFor wraps a foreign error only when the signal was aborted', () => {
    const ac = new AbortController();
    const foreign = new TypeError('stream closed');
    expect(abortedErrorFor(foreign, ac.signal, 'read')).toBe(foreign);
    ac.abort();
    const wrapped = abortedErrorFor(foreign, ac.signal, 'read', { table: 't' });
    expect(wrapped).toMatchObject({ kind: 'Aborted', message: 'read: aborted', cause: foreign, context: { table: 't' } });
    const own = new LakeSoulError('Io', 'disk');
    expect(abortedErrorFor(own, ac.signal, 'read')).toBe(own);
  });

  it('abortableSleep waits, rejects at once on an aborted signal and early when it aborts', async () => {
    const t0 = performance.now();
    await abortableSleep(30, undefined, 'backoff');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    await expect(abortableSleep(0, AbortSignal.abort('r'), 'backoff')).rejects.toMatchObject({ kind: 'Aborted', message: 'backoff: aborted', cause: 'r' });
    const ac = new AbortController();
    const slept = abortableSleep(60_000, ac.signal, 'backoff');
    setTimeout(() => ac.abort('stop'), 10);
    const t1 = performance.now();
    await expect(slept).rejects.toMatchObject({ kind: 'Aborted', cause: 'stop' });
    expect(performance.now() - t1).toBeLessThan(30_000);
  });
});

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
