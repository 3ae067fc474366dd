/**
 * Wrappers adding cross-cutting behaviour to any {@link ObjectStore}: a bound on concurrent calls,
 * and injected latency (for tests and prefetch benchmarks).
 */
import { abortableSleep, abortedError, LakeSoulError } from '@lakesoul-ts/meta';
import type { GetOptions, ObjectMeta, ObjectStore, PutOptions, StoreCallOptions } from '../types.js';
import { confinedReaderOf } from './local-store.js';
import type { ConfinedReader } from './local-store.js';

/** A FIFO counting semaphore whose waits honour an AbortSignal. */
export class Semaphore {
  private available: number;
  private readonly waiters: { resolve: () => void; reject: (e: unknown) => void; signal?: AbortSignal; what: string }[] = [];
  /**
   * One abort listener per signal with waiters: a listener per waiter put 11+ on a scan's signal
   * while its footer reads waited (Node's MaxListenersExceededWarning, "possible memory leak").
   */
  private readonly watched = new Map<AbortSignal, { waiting: number; onAbort: () => void }>();

  constructor(readonly permits: number) {
    if (!Number.isInteger(permits) || permits < 1) {
      throw new LakeSoulError('InvalidArgument', `a concurrency limit must be a positive integer (got ${permits})`);
    }
    this.available = permits;
  }

  /** Waits for a permit; rejects with `Aborted` when `signal` fires first. */
  acquire(signal?: AbortSignal, what = 'wait for a store slot'): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortedError(what, signal.reason));
    if (this.available > 0) {
      this.available--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject, signal, what });
      if (signal) this.watch(signal);
    });
  }

  /** Returns a permit, waking the oldest waiter. */
  release(): void {
    const w = this.waiters.shift();
    if (w) {
      if (w.signal) this.unwatch(w.signal);
      w.resolve();
    } else {
      this.available++;
    }
  }

  private watch(signal: AbortSignal): void {
    const entry = this.watched.get(signal);
    if (entry) {
      entry.waiting++;
      return;
    }
    const onAbort = () => {
      this.watched.delete(signal);
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        const w = this.waiters[i];
        if (w.signal !== signal) continue;
        this.waiters.splice(i, 1);
        w.reject(abortedError(w.what, signal.reason));
      }
    };
    this.watched.set(signal, { waiting: 1, onAbort });
    signal.addEventListener('abort', onAbort, { once: true });
  }

  private unwatch(signal: AbortSignal): void {
    const entry = this.watched.get(signal);
    if (!entry || --entry.waiting > 0) return;
    this.watched.delete(signal);
    signal.removeEventListener('abort', entry.onAbort);
  }
}

/**
 * A store whose calls run at most `limit` at a time (FIFO); waiting calls honour their AbortSignal.
 * `list` takes a slot for each page it pulls from the underlying store, not for the whole iteration.
 */
export function withConcurrencyLimit(store: ObjectStore, limit: number): ObjectStore {
  const sem = new Semaphore(limit);
  const run = async <T>(signal: AbortSignal | undefined, what: string, fn: () => Promise<T>): Promise<T> => {
    await sem.acquire(signal, what);
    try {
      return await fn();
    } finally {
      sem.release();
    }
  };
  const confined = confinedReaderOf(store);
  const wrapped: ObjectStore = {
    description: store.description,
    get: (path, options?: GetOptions) => run(options?.signal, `get ${store.description}${path}`, () => store.get(path, options)),
    put: (path, data, options?: PutOptions) => run(options?.signal, `put ${store.description}${path}`, () => store.put(path, data, options)),
    head: (path, options?: StoreCallOptions) => run(options?.signal, `head ${store.description}${path}`, () => store.head(path, options)),
    delete: (path, options?: StoreCallOptions) => run(options?.signal, `delete ${store.description}${path}`, () => store.delete(path, options)),
    list(prefix, options?: StoreCallOptions): AsyncIterable<ObjectMeta> {
      return {
        [Symbol.asyncIterator]() {
          const it = store.list(prefix, options)[Symbol.asyncIterator]();
          return {
            next: () => run(options?.signal, `list ${store.description}${prefix}`, () => it.next()),
            return: async (v?: unknown) => (await it.return?.(v)) ?? { done: true as const, value: undefined },
          };
        },
      };
    },
  };
  if (!confined) return wrapped;
  // a wrapper keeps the capabilities of what it wraps: a limited local store still confines reads
  return Object.assign(wrapped, {
    headConfined: (path, within, options?: StoreCallOptions) => run(options?.signal, `head ${store.description}${path}`, () => confined.headConfined(path, within, options)),
    getConfined: (path, within, options?: GetOptions) => run(options?.signal, `get ${store.description}${path}`, () => confined.getConfined(path, within, options)),
  } satisfies ConfinedReader);
}

/** Options of {@link withLatency}. */
export interface LatencyOptions {
  /** Delay added to every request (and to every 1000 listed objects, like a listing page). */
  perRequestMs: number;
  /** When set, transfers additionally take `bytes / bytesPerSecond` seconds (per request). */
  bytesPerSecond?: number;
}

/**
 * A store that delays every request by `perRequestMs` (plus a transfer time when `bytesPerSecond` is
 * set) before answering, like a remote object store's first-byte latency. Delays honour AbortSignals.
 * Delays run concurrently: n parallel calls take about one delay, not n.
 */
export function withLatency(store: ObjectStore, options: LatencyOptions): ObjectStore {
  const { perRequestMs, bytesPerSecond } = options;
  if (!(perRequestMs >= 0) || (bytesPerSecond !== undefined && !(bytesPerSecond > 0))) {
    throw new LakeSoulError('InvalidArgument', `invalid latency options ${JSON.stringify(options)}`);
  }
  const transferMs = (n: number) => (bytesPerSecond ? (n / bytesPerSecond) * 1000 : 0);
  const confined = confinedReaderOf(store);
  const wrapped: ObjectStore = {
    description: store.description,
    async get(path, opts?: GetOptions) {
      await abortableSleep(perRequestMs, opts?.signal, `get ${store.description}${path}`);
      const bytes = await store.get(path, opts);
      await abortableSleep(transferMs(bytes.length), opts?.signal, `get ${store.description}${path}`);
      return bytes;
    },
    async put(path, data, opts?: PutOptions) {
      await abortableSleep(perRequestMs, opts?.signal, `put ${store.description}${path}`);
      if (data instanceof Uint8Array) await abortableSleep(transferMs(data.length), opts?.signal, `put ${store.description}${path}`);
      return store.put(path, data, opts);
    },
    async head(path, opts?: StoreCallOptions) {
      await abortableSleep(perRequestMs, opts?.signal, `head ${store.description}${path}`);
      return store.head(path, opts);
    },
    async delete(path, opts?: StoreCallOptions) {
      await abortableSleep(perRequestMs, opts?.signal, `delete ${store.description}${path}`);
      return store.delete(path, opts);
    },
    async *list(prefix, opts?: StoreCallOptions) {
      let n = 0;
      await abortableSleep(perRequestMs, opts?.signal, `list ${store.description}${prefix}`);
      for await (const meta of store.list(prefix, opts)) {
        if (++n % 1000 === 0) await abortableSleep(perRequestMs, opts?.signal, `list ${store.description}${prefix}`);
        yield meta;
      }
    },
  };
  if (!confined) return wrapped;
  return Object.assign(wrapped, {
    async headConfined(path, within, opts?: StoreCallOptions) {
      await abortableSleep(perRequestMs, opts?.signal, `head ${store.description}${path}`);
      return confined.headConfined(path, within, opts);
    },
    async getConfined(path, within, opts?: GetOptions) {
      await abortableSleep(perRequestMs, opts?.signal, `get ${store.description}${path}`);
      const bytes = await confined.getConfined(path, within, opts);
      await abortableSleep(transferMs(bytes.length), opts?.signal, `get ${store.description}${path}`);
      return bytes;
    },
  } satisfies ConfinedReader);
}
