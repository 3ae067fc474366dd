/**
 * Reading blobs for the UI with bounded memory: an object's size comes first (a HEAD through the
 * scan's blob fetcher, inside the same roots and confinement), then only the bytes needed: none for
 * a blob too big to decode, its first bytes for its type, and the rest in ranged reads. The bytes
 * held at once are counted against process-wide {@link ByteBudget}s (one for thumbnails, one for
 * downloads), so neither a page of big blobs nor many slow downloads hold whole objects at once.
 */
import { LakeSoulError, abortedError, throwIfAborted, whenAborted } from '@lakesoul-ts/meta';
import { blobReferenceOf, type BlobFetcher, type BlobTarget, type BlobValueFetcher, type ObjectMeta } from '@lakesoul-ts/io';

/** What a UI byte budget (thumbnails, downloads) holds: for monitoring and tests. */
export interface ByteBudgetState {
  /** Most bytes held at once. */
  limit: number;
  /** Bytes held now. */
  held: number;
  /** Most bytes held at once since the budget was made. */
  peak: number;
  /** Requests waiting for bytes. */
  waiting: number;
}

interface Waiter {
  bytes: number;
  grant: () => void;
}

/**
 * A count of bytes held at once, at most `limit`: {@link ByteBudget.acquire} waits (first come, first
 * served) until the bytes asked for fit. A request for more than the whole limit is granted when
 * nothing else is held, so it waits instead of failing or deadlocking.
 */
export class ByteBudget {
  private held = 0;
  private peak = 0;
  private readonly queue: Waiter[] = [];

  /** @param limit Most bytes held at once (a positive integer). */
  constructor(readonly limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new LakeSoulError('InvalidArgument', `a byte budget must be a positive integer (got ${limit})`, { code: 'UI_BAD_BUDGET' });
  }

  /** The budget's state now. */
  get state(): ByteBudgetState {
    return { limit: this.limit, held: this.held, peak: this.peak, waiting: this.queue.length };
  }

  private fits(bytes: number): boolean {
    return this.held === 0 || this.held + bytes <= this.limit;
  }

  private take(bytes: number): () => void {
    this.held += bytes;
    this.peak = Math.max(this.peak, this.held);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held -= bytes;
      this.grantWaiters();
    };
  }

  private grantWaiters(): void {
    while (this.queue.length > 0 && this.fits(this.queue[0]!.bytes)) this.queue.shift()!.grant();
  }

  /**
   * Holds `bytes` of the budget once they fit; resolves to the function that gives them back
   * (idempotent). Waiting requests are served in order.
   * @throws LakeSoulError Aborted when `signal` aborts first (the request leaves the queue).
   */
  acquire(bytes: number, signal?: AbortSignal): Promise<() => void> {
    throwIfAborted(signal, 'wait for blob memory');
    if (this.queue.length === 0 && this.fits(bytes)) return Promise.resolve(this.take(bytes));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        grant: () => {
          stop();
          resolve(this.take(bytes));
        },
      };
      const stop = signal
        ? whenAborted(signal, () => {
            const at = this.queue.indexOf(waiter);
            if (at >= 0) this.queue.splice(at, 1);
            // the head of the queue may fit now that this request left it
            this.grantWaiters();
            reject(abortedError('wait for blob memory', signal.reason));
          })
        : () => {};
      this.queue.push(waiter);
    });
  }
}

/** A blob whose size is known and whose bytes are read on demand. */
export interface OpenedBlob {
  /** Bytes the blob holds. */
  readonly size: number;
  /**
   * Bytes `offset .. offset + length` of the blob (within {@link OpenedBlob.size}), read from the store
   * (a ranged read), or a view of bytes already in memory.
   * @throws LakeSoulError as the store read (NotFound when the object went away since it was opened).
   */
  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
  /**
   * Checks that the object is still the version opened (a HEAD: the same size, modification time and
   * ETag), so that bytes read from it in several reads are all of one version. Absent for bytes
   * held in memory, which cannot change.
   * @throws LakeSoulError Io (`UI_BLOB_CHANGED`) when the object changed or went away since it was
   *   opened, Aborted, or the store's error.
   */
  verify?(signal?: AbortSignal): Promise<void>;
  /**
   * How many chunks {@link blobChunks} reads between two {@link OpenedBlob.verify} calls before the
   * last chunk: 1 where a check is cheap (a local file's stat), more where it is a request (S3).
   */
  readonly verifyEvery?: number;
}

/**
 * Chunks {@link blobChunks} reads between two checks of a remote object's version (one HEAD per
 * 16 ranged reads); a local file is checked before every chunk, and every object before its last.
 */
export const REMOTE_VERIFY_EVERY = 16;

/** A blob held in memory (a binary column's value), as an {@link OpenedBlob}. */
export function inMemoryBlob(bytes: Uint8Array): OpenedBlob {
  return { size: bytes.length, read: async (offset, length) => bytes.subarray(offset, offset + length) };
}

/** The fetcher's HEAD and ranged reads, when it is io's `BlobFetcher` (what `ScanPlan.blobFetcher` returns). */
function sizedFetcherOf(f: BlobValueFetcher): BlobFetcher | null {
  const s = f as Partial<BlobFetcher>;
  return typeof s.target === 'function' && typeof s.size === 'function' && typeof s.get === 'function' && typeof s.checkRange === 'function' ? (f as BlobFetcher) : null;
}

/** What identifies one version of an object: the HEAD's size, modification time and ETag. */
function versionOf(meta: ObjectMeta): string {
  return JSON.stringify([meta.size, meta.lastModified.getTime(), meta.etag ?? null]);
}

/**
 * The HEAD of the object `t` names (a local file's through its confined reader, as the fetcher's
 * own HEAD): its size, modification time and ETag, which {@link BlobFetcher.size} does not return.
 * A failure is thrown as the fetcher words it (a link out of the roots is `BLOB_OUTSIDE_ROOTS`).
 */
async function headOf(f: BlobFetcher, t: BlobTarget, signal?: AbortSignal): Promise<ObjectMeta> {
  try {
    return t.confined ? await t.confined.reader.headConfined(t.key, t.confined.within, { signal }) : await t.store.head(t.key, { signal });
  } catch (e) {
    if (!signal?.aborted) await f.size(t, signal);
    throw e;
  }
}

/** `bytes` ranged read of `t`, relative to the start of the range `t` names. */
function rangeOf(t: BlobTarget, offset: number, length: number): BlobTarget {
  return { ...t, offset: (t.offset ?? 0) + offset, length };
}

/**
 * Opens the blob that reference cell `value` names, through `fetcher` (a scan's, so inside its roots
 * and confinement): a HEAD gives its size, no byte is read. Null for a null reference or a missing
 * object. A fetcher other than io's `BlobFetcher` (which has no HEAD) reads the object whole here.
 * @throws LakeSoulError PermissionDenied (outside the roots, before any I/O), InvalidArgument (a
 *   malformed reference, `BLOB_RANGE_OUT_OF_BOUNDS` for a range past the object's end), Aborted, or the
 *   store's error.
 */
export async function openBlob(fetcher: BlobValueFetcher, value: unknown, signal?: AbortSignal): Promise<OpenedBlob | null> {
  const f = sizedFetcherOf(fetcher);
  if (!f) {
    const bytes = await fetcher.fetch(value, signal);
    return bytes === null ? null : inMemoryBlob(bytes);
  }
  const ref = blobReferenceOf(value);
  if (ref === null) return null;
  const t = f.target(ref);
  let meta: ObjectMeta;
  try {
    meta = await headOf(f, t, signal);
  } catch (e) {
    // the UI's scans read with onMissing 'null': a missing object is no error
    if (LakeSoulError.is(e, 'NotFound') && !signal?.aborted) return null;
    throw e;
  }
  // an offset past the end, or a length reaching past it, is refused as the table read refuses it
  // (an offset past the end opened an empty blob)
  f.checkRange(t, meta.size);
  const size = t.length ?? meta.size - (t.offset ?? 0);
  const version = versionOf(meta);
  return {
    size,
    verifyEvery: t.confined ? 1 : REMOTE_VERIFY_EVERY,
    verify: async (s) => {
      let now: ObjectMeta | null;
      try {
        now = await headOf(f, t, s);
      } catch (e) {
        if (!LakeSoulError.is(e, 'NotFound') || s?.aborted) throw e;
        now = null;
      }
      if (now === null || versionOf(now) !== version) {
        const was = `${meta.size} bytes, modified ${meta.lastModified.toISOString()}${meta.etag ? `, ETag ${meta.etag}` : ''}`;
        const is = now ? `${now.size} bytes, modified ${now.lastModified.toISOString()}${now.etag ? `, ETag ${now.etag}` : ''}` : 'gone';
        throw new LakeSoulError('Io', `blob ${t.original} changed while it was read (opened: ${was}; now: ${is})`, { code: 'UI_BLOB_CHANGED', context: { file: t.uri } });
      }
    },
    read: async (offset, length, s) => {
      if (length === 0) return new Uint8Array(0);
      const bytes = await f.get(rangeOf(t, offset, length), s);
      if (bytes === null) throw new LakeSoulError('NotFound', `blob ${t.original} went away while it was read`, { code: 'OBJECT_NOT_FOUND', context: { file: t.uri } });
      return bytes;
    },
  };
}

/**
 * The bytes of `blob` in chunks of at most `chunkBytes`, each read when the consumer asks for it and
 * counted against `budget` until the consumer asks for the next one (or stops): a consumer that
 * writes each chunk out before asking for the next holds one chunk at a time.
 *
 * The chunks are all of the version of the object `blob` opened, or the iteration fails
 * (`UI_BLOB_CHANGED`): the last chunk is handed out only once {@link OpenedBlob.verify} found the
 * object unchanged since it was opened, and earlier ones are checked every
 * {@link OpenedBlob.verifyEvery} chunks. A consumer that has sent some chunks when it fails must
 * make the failure visible (the server ends the connection: the client sees a short body).
 *
 * An iterator object rather than an async generator: a generator suspended while it waits for the
 * budget kept the chunk it had yielded before in its saved registers (V8 saves them whole), so each
 * download waiting for its turn held one more chunk than the budget counted. Here each `next()` is a
 * fresh call that holds no chunk while it waits.
 */
export function blobChunks(blob: OpenedBlob, budget: ByteBudget, chunkBytes: number, signal?: AbortSignal): AsyncIterableIterator<Uint8Array> {
  return new BlobChunks(blob, budget, chunkBytes, signal);
}

class BlobChunks implements AsyncIterableIterator<Uint8Array> {
  private at = 0;
  private chunksRead = 0;
  private release: (() => void) | null = null;

  constructor(private readonly blob: OpenedBlob, private readonly budget: ByteBudget, private readonly chunkBytes: number, private readonly signal?: AbortSignal) {}

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this;
  }

  private giveBack(): void {
    this.release?.();
    this.release = null;
  }

  /**
   * Whether the chunk just read is held until the object's version is checked: the last one of a
   * download read in several reads always (so a body of two versions never ends complete), the
   * others every {@link OpenedBlob.verifyEvery} chunks (an early failure).
   */
  private verifyNow(last: boolean): boolean {
    const every = this.blob.verifyEvery ?? REMOTE_VERIFY_EVERY;
    if (!this.blob.verify) return false;
    return last ? this.chunksRead > 1 || every === 1 : this.chunksRead % every === 0;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    this.giveBack();
    if (this.at >= this.blob.size) return { done: true, value: undefined };
    const at = this.at;
    const n = Math.min(this.chunkBytes, this.blob.size - at);
    // ends the iteration should this read fail: a later next() reads nothing
    this.at = this.blob.size;
    this.release = await this.budget.acquire(n, this.signal);
    try {
      const chunk = await this.blob.read(at, n, this.signal);
      if (chunk.length !== n) throw new LakeSoulError('Io', `a blob changed while it was read: ${n} bytes expected at ${at}, got ${chunk.length}`, { code: 'UI_BLOB_CHANGED' });
      this.chunksRead++;
      if (this.verifyNow(at + n >= this.blob.size)) await this.blob.verify!(this.signal);
      this.at = at + n;
      return { done: false, value: chunk };
    } catch (e) {
      this.giveBack();
      throw e;
    }
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    this.giveBack();
    this.at = this.blob.size;
    return { done: true, value: undefined };
  }
}
