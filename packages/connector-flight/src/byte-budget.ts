/**
 * A server-wide byte budget shared by all streams: a stream reserves its estimated memory before it
 * reads anything and returns it when it ends, so the memory the streams hold at once stays under the
 * capacity however many clients connect (the stream limit bounds how many may wait).
 *
 * A reservation may grow while its stream runs (a DoPut reserves as its data arrives) up to the
 * `claim` it declared when it was admitted: the most it will ever hold. Growth is where streams could
 * deadlock (each holding part of the budget and waiting for more that only the others can free), so
 * the budget keeps this invariant, checked before every grant (the banker's algorithm, one resource):
 *
 *   **safe state**: the holders can be ordered so that each one's remaining claim (claim - held,
 *   counting a claim as at most the capacity) fits in what is free plus what the holders before it
 *   hold. The first of that order can therefore always grow to its claim without waiting for anyone,
 *   end, and give its memory to the next: some running stream can always progress.
 *
 * Grants keep the state safe: a new stream is admitted, and a stream grows, only when it fits in the
 * free memory and the state stays safe afterwards; otherwise it waits. Growth requests wait ahead of
 * streams not yet admitted and are all looked at on every release (not only the first, which may be
 * one that must wait for another's end); new streams are served first come, first served (a large
 * reservation at the head of the line is not starved by small ones behind it). A stream never waits
 * on itself: the only holder is granted whatever it asks, even beyond the capacity (a reservation
 * larger than the capacity then runs alone). A waiter whose signal aborts or whose wait exceeds the
 * timeout leaves the line with an error (RESOURCE_EXHAUSTED for the timeout).
 */
import { LakeSoulError } from '@lakesoul-ts/meta';

/** One stream's part of a {@link ByteBudget}: what it holds and the most it may hold. */
interface Holder {
  held: number;
  claim: number;
}

interface Waiter {
  bytes: number;
  holder: Holder;
  /** A running stream's growth (waits ahead of streams not yet admitted). */
  front: boolean;
  grant: () => void;
}

/** Options of {@link ByteBudget.reserve} and {@link BudgetReservation.grow}. */
export interface ReserveOptions {
  /** Stops the wait (the reservation is not made). */
  signal?: AbortSignal;
  /** Longest wait before a retryable RESOURCE_EXHAUSTED error. */
  timeoutMs: number;
  /** Names the stream in errors. */
  what: string;
}

/** A stream's reservation in a {@link ByteBudget}, made by {@link ByteBudget.reserve}. */
export interface BudgetReservation {
  /** Bytes held now. */
  readonly held: number;
  /** The most this reservation may hold (declared when it was made). */
  readonly claim: number;
  /**
   * Reserves `bytes` more (at most up to the claim; what is beyond it is not reserved), waiting while
   * the budget cannot grant them safely.
   */
  grow(bytes: number, options: ReserveOptions): Promise<void>;
  /** Returns everything held; idempotent. */
  release(): void;
}

/** See the module comment. */
export class ByteBudget {
  private used = 0;
  private readonly queue: Waiter[] = [];
  private readonly holders = new Set<Holder>();
  /** Highest number of bytes reserved at once. */
  peak = 0;

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new LakeSoulError('InvalidArgument', `the server byte budget must be positive, got ${capacity}`);
  }

  /** Bytes reserved now. */
  get reserved(): number {
    return this.used;
  }

  /** Streams waiting for a reservation (or for more of it). */
  get waiting(): number {
    return this.queue.length;
  }

  /** True when granting `bytes` to `holder` fits and leaves the state safe (module comment). */
  private grantable(holder: Holder, bytes: number): boolean {
    // the only holder never waits on itself
    if (this.used - holder.held === 0) return true;
    if (this.used + bytes > this.capacity) return false;
    const after = [...this.holders].map((h) => (h === holder ? { held: h.held + bytes, claim: h.claim } : h));
    if (!this.holders.has(holder)) after.push({ held: holder.held + bytes, claim: holder.claim });
    const need = (h: Holder) => Math.max(0, Math.min(h.claim, this.capacity) - h.held);
    after.sort((a, b) => need(a) - need(b));
    let free = this.capacity - this.used - bytes;
    for (const h of after) {
      if (need(h) > free) return false;
      free += h.held;
    }
    return true;
  }

  private grant(holder: Holder, bytes: number): void {
    holder.held += bytes;
    if (holder.claim < holder.held) holder.claim = holder.held;
    this.holders.add(holder);
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
  }

  private releaseHolder(holder: Holder): void {
    if (!this.holders.delete(holder)) return;
    this.used -= holder.held;
    holder.held = 0;
    this.drain();
  }

  /** Grants what can be granted: any growth that is safe, then new streams from the head of the line. */
  private drain(): void {
    for (let i = 0; i < this.queue.length;) {
      const w = this.queue[i];
      if (this.grantable(w.holder, w.bytes)) {
        this.queue.splice(i, 1);
        w.grant();
        i = 0; // a grant changes what is safe for the waiters looked at before
        continue;
      }
      if (!w.front) return; // first come, first served among streams not yet admitted
      i++;
    }
  }

  private wait(holder: Holder, bytes: number, front: boolean, options: ReserveOptions): Promise<void> {
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
      };
      const waiter: Waiter = {
        bytes,
        holder,
        front,
        grant: () => {
          cleanup();
          this.grant(holder, bytes);
          resolve();
        },
      };
      const onAbort = () => {
        cleanup();
        reject(options.signal?.reason ?? new LakeSoulError('Aborted', `${options.what}: cancelled while waiting for server memory`));
        this.drain();
      };
      const timer = setTimeout(() => {
        cleanup();
        const others = this.holders.size - (this.holders.has(holder) ? 1 : 0);
        const otherBytes = this.used - holder.held;
        const mine = holder.held > 0 ? `; this stream holds ${holder.held} bytes of it and needed ${bytes} more` : `; this stream needed ${bytes} bytes`;
        reject(new LakeSoulError('Aborted', `${options.what}: the server's memory budget (${this.capacity} bytes) stayed in use by ${others} other stream${others === 1 ? '' : 's'} (${otherBytes} bytes) for ${options.timeoutMs} ms${mine}: retry later`, {
          code: 'RESOURCE_EXHAUSTED',
          retryable: true,
        }));
        this.drain();
      }, options.timeoutMs);
      timer.unref?.();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (front) this.queue.unshift(waiter);
      else this.queue.push(waiter);
    });
  }

  /**
   * Reserves `bytes` for a new stream that may grow to `claim` bytes (default `bytes`), waiting in line
   * while the budget cannot grant them safely; resolves to the reservation.
   */
  async reserve(bytes: number, options: ReserveOptions & { claim?: number }): Promise<BudgetReservation> {
    const n = Math.max(0, Math.ceil(bytes));
    const holder: Holder = { held: 0, claim: Math.max(n, Math.ceil(options.claim ?? n)) };
    if (this.queue.length === 0 && this.grantable(holder, n)) this.grant(holder, n);
    else await this.wait(holder, n, false, options);
    let released = false;
    return {
      get held() {
        return holder.held;
      },
      get claim() {
        return holder.claim;
      },
      grow: async (more: number, growOptions: ReserveOptions) => {
        if (released) throw new LakeSoulError('Internal', `${growOptions.what}: grows a released memory reservation`);
        const m = Math.min(Math.max(0, Math.ceil(more)), holder.claim - holder.held);
        if (m <= 0) return;
        if (this.grantable(holder, m)) this.grant(holder, m);
        else await this.wait(holder, m, true, growOptions);
      },
      release: () => {
        if (released) return;
        released = true;
        this.releaseHolder(holder);
      },
    };
  }

  /**
   * Reserves `bytes` (waiting in line when the budget is spent); resolves to the release function,
   * which is idempotent. A fixed reservation: its claim is `bytes` (see {@link reserve} for one that grows).
   */
  async acquire(bytes: number, options: ReserveOptions): Promise<() => void> {
    const r = await this.reserve(bytes, options);
    return () => r.release();
  }
}
