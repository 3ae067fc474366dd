/**
 * One 'abort' listener per signal, however many calls wait on it: a scan passes its signal to every
 * decode it queues on a pool, and with a listener per queued call a read of many files went past
 * Node's limit of 10 listeners per EventTarget (MaxListenersExceededWarning on the caller's signal,
 * which is not ours to reconfigure).
 */

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
