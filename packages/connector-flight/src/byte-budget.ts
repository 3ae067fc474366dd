/**
 * A server-wide byte budget shared by all streams: a stream reserves its estimated peak memory before
 * it reads anything and returns it when it ends, so the memory the streams hold at once stays under
 * the capacity however many clients connect (the stream limit bounds how many may wait).
 *
 * Contract: grants are first come, first served (a large reservation at the head of the queue is not
 * starved by small ones behind it); a reservation larger than the capacity is granted when nothing
 * else is reserved, and then runs alone; a waiter whose signal aborts or whose wait exceeds the
 * timeout leaves the queue with an error (RESOURCE_EXHAUSTED for the timeout).
 */
import { LakeSoulError } from '@lakesoul-ts/meta';

interface Waiter {
  bytes: number;
  grant: () => void;
}

/** See the module comment. */
export class ByteBudget {
  private used = 0;
  private readonly queue: Waiter[] = [];
  /** Highest number of bytes reserved at once. */
  peak = 0;

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new LakeSoulError('InvalidArgument', `the server byte budget must be positive, got ${capacity}`);
  }

  /** Bytes reserved now. */
  get reserved(): number {
    return this.used;
  }

  /** Streams waiting for a reservation. */
  get waiting(): number {
    return this.queue.length;
  }

  private fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.capacity;
  }

  private take(bytes: number): () => void {
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
      this.drain();
    };
  }

  private drain(): void {
    while (this.queue.length > 0 && this.fits(this.queue[0].bytes)) this.queue.shift()!.grant();
  }

  /**
   * Reserves `bytes` (waiting in line when the budget is spent); resolves to the release function,
   * which is idempotent. `what` names the stream in the timeout error. `front`: a stream already
   * running that needs more (it waits for released memory only, ahead of streams not yet admitted,
   * which would otherwise wait for it while it waits behind them).
   */
  acquire(bytes: number, options: { signal?: AbortSignal; timeoutMs: number; what: string; front?: boolean }): Promise<() => void> {
    const n = Math.max(0, Math.ceil(bytes));
    if ((this.queue.length === 0 || options.front) && this.fits(n)) return Promise.resolve(this.take(n));
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
      };
      const waiter: Waiter = {
        bytes: n,
        grant: () => {
          cleanup();
          resolve(this.take(n));
        },
      };
      const onAbort = () => {
        cleanup();
        reject(options.signal?.reason ?? new LakeSoulError('Aborted', `${options.what}: cancelled while waiting for server memory`));
        this.drain();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new LakeSoulError('Aborted', `${options.what}: the server's memory budget (${this.capacity} bytes) stayed in use by other streams for ${options.timeoutMs} ms: retry later`, {
          code: 'RESOURCE_EXHAUSTED',
          retryable: true,
        }));
        this.drain();
      }, options.timeoutMs);
      timer.unref?.();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.front) this.queue.unshift(waiter);
      else this.queue.push(waiter);
    });
  }
}
