/**
 * The one abort module of lakesoul-ts (the shape of kysely's `src/util/abort.ts`): every package
 * checks, waits on and reports cancellation through these helpers, so an aborted operation always
 * fails the same way: a {@link LakeSoulError} of kind `Aborted` (code `ABORTED`) whose message names
 * what was aborted and whose `cause` is the signal's reason (or the abort error of the library that
 * noticed it first). Define no local copy of these; `scripts/check-abort-helpers.mjs` lists any.
 */
import { LakeSoulError, type LakeSoulErrorContext } from './errors.js';

/**
 * The error of an operation cancelled through its AbortSignal.
 *
 * @param what - what was aborted, as a person reads it (`get s3://bucket/key`, `commit to table 't'`).
 * @param reason - the signal's `reason`, or the abort error that surfaced; becomes `cause`.
 * @param context - structured context (table, file, ...) to attach.
 */
export function abortedError(what: string, reason?: unknown, context?: LakeSoulErrorContext): LakeSoulError {
  return new LakeSoulError('Aborted', `${what}: aborted`, { cause: reason, context });
}

/**
 * Throws {@link abortedError} when `signal` is aborted; does nothing for an absent or live signal.
 *
 * @param signal - the caller's signal, if any.
 * @param what - what is being aborted (see {@link abortedError}).
 * @param context - structured context to attach to the error.
 */
export function throwIfAborted(signal: AbortSignal | undefined, what: string, context?: LakeSoulErrorContext): void {
  if (signal?.aborted) throw abortedError(what, signal.reason, context);
}

/**
 * True for an abort however it surfaced: a `LakeSoulError` of kind `Aborted`, a DOM/Node `AbortError`
 * (fetch, streams, timers), or an error with Node's `ABORT_ERR` code (fs, AWS SDK).
 */
export function isAbortError(e: unknown): boolean {
  if (LakeSoulError.is(e, 'Aborted')) return true;
  const name = (e as { name?: unknown } | null)?.name;
  return name === 'AbortError' || (e as { code?: unknown } | null)?.code === 'ABORT_ERR';
}

/**
 * `e` itself, unless the signal was aborted and `e` is not yet a `LakeSoulError`: then the
 * {@link abortedError} for `what`, with `e` as its cause. Use it in a `catch` around work the signal
 * was passed to, where a library may have thrown its own error type on abort.
 */
export function abortedErrorFor(e: unknown, signal: AbortSignal | undefined, what: string, context?: LakeSoulErrorContext): unknown {
  if (LakeSoulError.is(e) || !signal?.aborted) return e;
  return abortedError(what, e, context);
}

/**
 * Waits `ms` milliseconds, or rejects with {@link abortedError} for `what` as soon as `signal`
 * aborts (at once when it already is, including for `ms <= 0`). The timer and listener are
 * released either way.
 */
export function abortableSleep(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(what, signal.reason));
      return;
    }
    if (ms <= 0) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(what, signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// One 'abort' listener per signal, however many calls wait on it: a scan passes its signal to every
// decode it queues on a pool, and with a listener per queued call a read of many files went past
// Node's limit of 10 listeners per EventTarget (MaxListenersExceededWarning on the caller's signal,
// which is not ours to reconfigure).
interface Fanout {
  callbacks: Set<() => void>;
  listener: () => void;
}

const fanouts = new WeakMap<AbortSignal, Fanout>();

/**
 * Calls `onAbort` once when `signal` aborts (in a microtask when it already has), unless the returned
 * function was called first (call it when the work is settled). Every callback on one signal shares a
 * single listener.
 */
export function whenAborted(signal: AbortSignal, onAbort: () => void): () => void {
  if (signal.aborted) {
    let live = true;
    queueMicrotask(() => {
      if (live) onAbort();
    });
    return () => {
      live = false;
    };
  }
  let f = fanouts.get(signal);
  if (f === undefined) {
    const callbacks = new Set<() => void>();
    const listener = (): void => {
      fanouts.delete(signal);
      for (const cb of [...callbacks]) cb();
    };
    f = { callbacks, listener };
    fanouts.set(signal, f);
    signal.addEventListener('abort', listener, { once: true });
  }
  const entry = f;
  entry.callbacks.add(onAbort);
  return () => {
    if (!entry.callbacks.delete(onAbort) || entry.callbacks.size > 0) return;
    signal.removeEventListener('abort', entry.listener);
    if (fanouts.get(signal) === entry) fanouts.delete(signal);
  };
}
