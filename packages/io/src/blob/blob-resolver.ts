/**
 * Reading blob columns: appends the referenced objects' bytes to each batch, fetched ahead of the
 * consumer with bounded parallelism and a bounded number of bytes in flight, in row order.
 */
import { setMaxListeners } from 'node:events';
import { Binary, Field, makeData, RecordBatch, Schema, Struct } from 'apache-arrow';
import type { Data } from 'apache-arrow';
import { LakeSoulError, abortedError } from '@lakesoul-ts/meta';
import type { BlobReadOptions } from '../types.js';
import type { StoreRegistry } from '../store/index.js';
import { blobBytesColumnName, isBlobReferenceType } from './blob-columns.js';
import { asBlobError, BlobFetcher, blobReferenceReader, describeReference, toSafeInt, type BlobTarget } from './blob-fetch.js';

/**
 * Default number of concurrent fetches of blob bytes (HEAD or GET requests): 512, enough to hide
 * 20 ms per request at ~5000 small images per second with a HEAD and a GET each (`bench/blob-read.mjs`:
 * 256 kept 0.73-0.80 of the no-latency throughput once reads got that fast, 512 0.88-0.91).
 */
export const DEFAULT_BLOB_CONCURRENCY = 512;
/** Default bound on blob bytes fetched ahead of the consumer: 64 MiB. */
export const DEFAULT_BLOB_BYTES_IN_FLIGHT = 64 * 1024 * 1024;

/** Counters of a {@link resolveBlobs} run, for tests and benchmarks. */
export interface BlobReadStats {
  /** Objects (or ranges) fetched. */
  fetched: number;
  /** HEAD requests made to learn sizes. */
  heads: number;
  bytesFetched: number;
  /** Highest number of bytes reserved (fetching or fetched but not yet handed to the consumer). */
  peakBytesInFlight: number;
  /** Highest number of fetches running at once. */
  peakConcurrent: number;
  /** Output batches emitted. */
  batches: number;
  /** True once the run stopped before its input ended (consumer return/throw, abort, error). */
  cancelled: boolean;
}

/** Options of {@link resolveBlobs}. */
export interface ResolveBlobsOptions extends BlobReadOptions {
  /** The table's location: always an allowed root, and the base of relative references by default. */
  tablePath: string;
  /** Stores to read from; one store (one client) per bucket/root is reused for every row. */
  stores: StoreRegistry;
  /** Primary-key columns naming a row in errors (`id=42`); the row index is used when empty. */
  keyColumns: string[];
  /** Base of relative references instead of the table path (automatically an allowed root). */
  relativeRoot?: string;
  /**
   * Columns holding each blob's size in bytes, by blob column (`{ image_path: 'size' }`, as
   * {@link scanImageFolder} produces): rows with a size skip the HEAD request that otherwise learns
   * it. The size is trusted for the byte bound until the object arrives; then its real length counts.
   */
  sizeColumns?: Record<string, string>;
  signal?: AbortSignal;
  /**
   * Filled while reading. Counters the object lacks (or holds as non-numbers) start at 0 and
   * `cancelled` at false, so `stats: {}` is enough; counters already present are added to (peaks kept
   * at their maximum), so one object can sum several reads.
   */
  stats?: BlobReadStats;
}

const STAT_COUNTERS = ['fetched', 'heads', 'bytesFetched', 'peakBytesInFlight', 'peakConcurrent', 'batches'] as const;

/** The caller's stats object (or a new one) with every missing counter at 0 and `cancelled` false. */
function initStats(given: Partial<BlobReadStats> | undefined): BlobReadStats {
  const stats = (given ?? {}) as BlobReadStats;
  for (const k of STAT_COUNTERS) if (typeof stats[k] !== 'number' || Number.isNaN(stats[k])) stats[k] = 0;
  if (typeof stats.cancelled !== 'boolean') stats.cancelled = false;
  return stats;
}

interface Task {
  seq: number;
  batch: BatchState;
  row: number;
  col: number;
  ref?: BlobTarget;
  size?: number;
  done: boolean;
  result: Uint8Array | null;
  error?: LakeSoulError;
  reserved: number;
  /** Bytes were granted (the task may not be waiting yet: sizes known up front are granted early). */
  granted: boolean;
  grant?: () => void;
}

interface BatchState {
  batch: RecordBatch;
  rowOffset: number;
  tasks: Task[];
  /** Rows handed to the consumer. */
  emitted: number;
  /** Rows [0, donePrefix) have every task done. */
  donePrefix: number;
}

const MAX_BINARY_BYTES = 2 ** 31 - 1;

/**
 * Appends, for each column of `options.columns`, a nullable Binary column `<col>__bytes` holding the
 * bytes of the object the row's reference points to (null for a null reference, or for a missing
 * object with `onMissing: 'null'`).
 *
 * References (see docs/blobs.md): a string column of URIs (`s3://`, `file:///`, `memory://`) or paths
 * relative to the table (or `relativeRoot`), optionally suffixed `#bytes=START-END` (inclusive); or
 * a struct column `{ path, offset, length }` (offset/length null for the whole object). References
 * resolve only inside the table path, `allowedRoots` and `relativeRoot`; anything else (`..`
 * escapes, absolute paths elsewhere, other buckets, other schemes) is a `PermissionDenied`
 * LakeSoulError (code `BLOB_OUTSIDE_ROOTS`) naming the row's key and the reference, thrown before any
 * read. Local files are read only through the store's confined read (`ConfinedReader`), which opens
 * the file and refuses it, before reading a byte, when the opened file lies outside the roots (a
 * symlink leading out, even one swapped in during the read); a `file:` store without that capability
 * is refused (`BLOB_STORE_NOT_CONFINED`).
 *
 * Fetching: at most `concurrency` requests run at once, and the bytes of objects being fetched or
 * fetched but not yet handed to the consumer stay within `maxBytesInFlight`, except that the objects
 * of the first row not yet handed over always proceed (so one row larger than the bound still reads). Sizes come from the reference's length, else from `sizeColumns`, else from a HEAD request.
 * Fetches run ahead of the consumer across batch boundaries; batches come out in input order. When a
 * batch does not fit the byte bound, its finished leading rows are emitted as a smaller batch to make
 * room, so output batches may be slices of input batches. An early `return()` (or the signal) aborts
 * every in-flight request and drops every buffer.
 */
export async function* resolveBlobs(batches: AsyncIterable<RecordBatch>, options: ResolveBlobsOptions): AsyncGenerator<RecordBatch> {
  // Why long: one function with its own scheduler rather than a client of prefetchOrdered
  // (prefetch/ordered-prefetch.ts): that scheduler takes a synchronous list of tasks whose byte sizes
  // are known before they start, and yields one result per task. Here the tasks come from an async
  // input read while fetching; a task's size may be learned only after it starts (HEAD), so its
  // byte grant happens mid-task; the one-oversized exception is per row (all its blob columns), not
  // per task; and under byte pressure the finished leading rows of a batch are emitted early to make
  // room. Those four rules share the counters below (running, reserved, the waiters, the emit
  // frontier), which is why they stay in one closure. What each reference goes through (parse,
  // roots, confinement, HEAD, GET, error mapping) is not here: it is BlobFetcher (blob-fetch.ts),
  // which per-sample readers (connector-tfjs) call directly.
  const columns = [...options.columns];
  const stats = initStats(options.stats);
  const outer = options.signal;
  if (outer?.aborted) throw abortedError('blob read', outer.reason);
  if (columns.length === 0) {
    for await (const b of batches) {
      if (outer?.aborted) throw abortedError('blob read', outer.reason);
      yield b;
    }
    return;
  }
  const concurrency = options.concurrency ?? DEFAULT_BLOB_CONCURRENCY;
  const maxBytes = options.maxBytesInFlight ?? DEFAULT_BLOB_BYTES_IN_FLIGHT;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new LakeSoulError('InvalidArgument', `blob concurrency must be a positive integer (got ${concurrency})`);
  if (!(maxBytes > 0)) throw new LakeSoulError('InvalidArgument', `blob maxBytesInFlight must be positive (got ${maxBytes})`);
  const onMissing = options.onMissing ?? 'error';
  const fetcher = new BlobFetcher({ tablePath: options.tablePath, allowedRoots: options.allowedRoots, relativeRoot: options.relativeRoot, stores: options.stores, onMissing });
  const maxPendingBatches = concurrency + 1;

  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  const signal = ac.signal;

  const input = batches[Symbol.asyncIterator]();
  let inputDone = false;
  /** The source ended or threw by itself (else it is closed with return() at the end). */
  let inputEnded = false;
  let inputError: unknown;
  let pulling: Promise<void> | undefined;
  let rowsSeen = 0;
  let seq = 0;
  let pending: BatchState[] = [];
  /** Next task to start: index into pending[frontierBatch].tasks. */
  let frontierBatch = 0;
  let frontierTask = 0;
  let running = 0;
  let reserved = 0;
  /** Started tasks waiting for (or about to wait for) a byte grant, in row order. */
  let needBytes: Task[] = [];
  /** The last batch schema checked against the blob columns, and the number of input batches seen. */
  let checkedSchema: Schema | undefined;
  let batchesSeen = 0;

  let wake: () => void = () => undefined;
  let changed = new Promise<void>((r) => (wake = r));
  const notify = () => {
    const w = wake;
    changed = new Promise<void>((r) => (wake = r));
    w();
  };
  const onOuterAbort = () => {
    ac.abort(outer?.reason);
    notify();
  };
  outer?.addEventListener('abort', onOuterAbort, { once: true });

  const hasKeys = (b: BatchState): boolean =>
    options.keyColumns.length > 0 && options.keyColumns.every((k) => b.batch.schema.fields.some((f) => f.name === k));
  const rowName = (b: BatchState, row: number): string => {
    if (!hasKeys(b)) return `row ${b.rowOffset + row}`;
    return options.keyColumns
      .map((k) => {
        const v = b.batch.getChild(k)?.get(row);
        return `${k}=${v === null || v === undefined ? 'null' : String(v)}`;
      })
      .join(', ');
  };
  const rowKey = (b: BatchState, row: number): string | number => (hasKeys(b) ? rowName(b, row) : b.rowOffset + row);

  const taskError = (t: Task, e: LakeSoulError, reference: string): LakeSoulError => {
    const col = columns[t.col];
    return new LakeSoulError(e.kind, `blob column '${col}', ${rowName(t.batch, t.row)}: ${e.message}`, {
      code: e.code,
      retryable: e.retryable,
      cause: e,
      context: { ...e.context, column: col, row: rowKey(t.batch, t.row), reference },
    });
  };

  // Every batch's schema is checked (a stream may change it between batches: a later batch without
  // the column gave a raw TypeError, one with an Int32 column null bytes); a batch reusing the
  // schema object last checked is not checked again.
  const checkSchema = (batch: RecordBatch, n: number): void => {
    if (batch.schema === checkedSchema) return;
    const where = n > 1 ? ` in input batch ${n}` : '';
    for (const c of columns) {
      const f = batch.schema.fields.find((x) => x.name === c);
      if (!f) throw new LakeSoulError('InvalidArgument', `blob column '${c}' is not among the read columns${where} (${batch.schema.fields.map((x) => x.name).join(', ')})`, { context: { column: c, batch: n } });
      if (!isBlobReferenceType(f.type)) {
        throw new LakeSoulError('SchemaMismatch', `blob column '${c}' has type ${String(f.type)}${where}; expected a string (URI or relative path) or a struct {path, offset, length}`, { context: { column: c, batch: n } });
      }
      const out = blobBytesColumnName(c);
      if (batch.schema.fields.some((x) => x.name === out)) {
        throw new LakeSoulError('InvalidArgument', `cannot add column '${out}' for blob column '${c}': the batch${where} already has a column of that name`, { context: { column: out, batch: n } });
      }
    }
    checkedSchema = batch.schema;
  };

  const addBatch = (batch: RecordBatch): void => {
    checkSchema(batch, ++batchesSeen);
    const b: BatchState = { batch, rowOffset: rowsSeen, tasks: [], emitted: 0, donePrefix: 0 };
    rowsSeen += batch.numRows;
    const readers = columns.map((c) => blobReferenceReader(batch.getChild(c)!));
    const sizeReaders = columns.map((c) => {
      const name = options.sizeColumns?.[c];
      if (name === undefined) return undefined;
      const v = batch.getChild(name);
      if (!v) throw new LakeSoulError('InvalidArgument', `size column '${name}' of blob column '${c}' is not among the read columns`, { context: { column: name } });
      return v;
    });
    for (let row = 0; row < batch.numRows; row++) {
      for (let col = 0; col < columns.length; col++) {
        const t: Task = { seq: seq++, batch: b, row, col, done: false, result: null, reserved: 0, granted: false };
        b.tasks.push(t);
        let original = '';
        try {
          const ref = readers[col](row);
          if (ref === null) {
            t.done = true;
            continue;
          }
          original = describeReference(ref);
          t.ref = fetcher.target(ref);
          if (t.ref.length !== undefined) t.size = t.ref.length;
          else {
            const sv = sizeReaders[col]?.get(row);
            // a size past the Binary limit is learned by a HEAD rather than trusted for a refusal
            if (sv !== null && sv !== undefined) t.size = toSafeInt(sv, 'size', ref.path);
            if (t.size !== undefined && t.size > MAX_BINARY_BYTES) t.size = undefined;
          }
        } catch (e) {
          t.done = true;
          t.error = taskError(t, asBlobError(e), original || '(unreadable reference)');
        }
      }
    }
    pending.push(b);
  };

  const grantBytes = (): void => {
    while (needBytes.length > 0) {
      const t = needBytes[0];
      if (t.size === undefined) return;
      // The first row not yet handed to the consumer always proceeds (else a row whose objects
      // exceed the bound together could never complete); later rows wait for room.
      const headOfLine = pending[0] === t.batch && t.row === t.batch.emitted;
      if (!headOfLine && reserved > 0 && reserved + t.size > maxBytes) return;
      needBytes.shift();
      t.granted = true;
      reserved += t.size;
      t.reserved = t.size;
      stats.peakBytesInFlight = Math.max(stats.peakBytesInFlight, reserved);
      const g = t.grant;
      t.grant = undefined;
      g?.();
    }
  };
  const release = (t: Task): void => {
    reserved -= t.reserved;
    t.reserved = 0;
  };
  const dropWaiter = (t: Task): void => {
    const i = needBytes.indexOf(t);
    if (i >= 0) needBytes.splice(i, 1);
  };

  const runTask = async (t: Task): Promise<void> => {
    const ref = t.ref!;
    try {
      if (t.size === undefined) {
        stats.heads++;
        t.size = await fetcher.size(ref, signal);
      }
      // refused before a byte is read: the object could not be one Binary value of the batch
      if (t.size > MAX_BINARY_BYTES) throw tooLarge(ref, t.size);
      if (!t.granted) {
        await new Promise<void>((resolve) => {
          t.grant = resolve;
          grantBytes();
          // waiting for bytes may need the consumer to emit finished rows early: let it look
          if (needBytes.includes(t)) notify();
        });
      }
      if (signal.aborted) return;
      const bytes = await fetcher.get(ref, signal);
      if (bytes === null) {
        release(t); // missing, onMissing: 'null'
        return;
      }
      if (bytes.length !== t.reserved) {
        // the object changed size since HEAD: keep the accounting exact
        reserved += bytes.length - t.reserved;
        t.reserved = bytes.length;
        stats.peakBytesInFlight = Math.max(stats.peakBytesInFlight, reserved);
      }
      stats.fetched++;
      stats.bytesFetched += bytes.length;
      t.result = bytes;
    } catch (e) {
      dropWaiter(t);
      release(t);
      const le = asBlobError(e);
      // a HEAD of a missing object, onMissing: 'null'
      if (!(le.kind === 'NotFound' && onMissing === 'null' && !signal.aborted)) t.error = signal.aborted && !outer?.aborted ? undefined : taskError(t, le, ref.original);
      t.result = null;
    } finally {
      t.done = true;
      running--;
      if (!signal.aborted) {
        grantBytes();
        pump();
      }
      notify();
    }
  };

  const pull = (): void => {
    if (pulling || inputDone || signal.aborted) return;
    pulling = input.next().then(
      (r) => {
        pulling = undefined;
        if (r.done) inputDone = inputEnded = true;
        else if (!signal.aborted) {
          try {
            addBatch(r.value);
          } catch (e) {
            inputError = e;
            inputDone = true;
          }
        }
        pump();
        notify();
      },
      (e) => {
        pulling = undefined;
        inputError = e;
        inputDone = inputEnded = true;
        notify();
      },
    );
  };

  /** Starts tasks in row order while slots are free; pulls input when every buffered row is started. */
  function pump(): void {
    if (signal.aborted) return;
    while (running < concurrency) {
      const b = pending[frontierBatch];
      if (!b) break;
      if (frontierTask >= b.tasks.length) {
        frontierBatch++;
        frontierTask = 0;
        continue;
      }
      const t = b.tasks[frontierTask++];
      if (t.done) continue;
      running++;
      stats.peakConcurrent = Math.max(stats.peakConcurrent, running);
      needBytes.push(t);
      void runTask(t);
    }
    if (frontierBatch >= pending.length && running < concurrency && pending.length < maxPendingBatches) pull();
    else if (pending.length === 0) pull();
  }

  const pressure = (): boolean => {
    const t = needBytes[0];
    if (t === undefined || t.size === undefined) return false;
    const headOfLine = pending[0] === t.batch && t.row === t.batch.emitted;
    return !headOfLine && reserved > 0 && reserved + t.size > maxBytes;
  };

  /** The next output: a batch, an error to throw, 'end', or null (wait for a change). */
  const tryEmit = (): RecordBatch | { thrown: unknown } | 'end' | null => {
    const b = pending[0];
    if (!b) {
      if (inputDone) return inputError !== undefined ? { thrown: inputError } : 'end';
      return null;
    }
    while (b.donePrefix < b.batch.numRows && rowDone(b, b.donePrefix)) b.donePrefix++;
    let errRow = -1;
    for (let r = b.emitted; r < b.donePrefix && errRow < 0; r++) {
      for (let c = 0; c < columns.length; c++) if (b.tasks[r * columns.length + c].error) errRow = r;
    }
    if (errRow === b.emitted) {
      const t = b.tasks.slice(errRow * columns.length, (errRow + 1) * columns.length).find((x) => x.error)!;
      return { thrown: t.error };
    }
    const end = errRow >= 0 ? errRow : b.donePrefix;
    const complete = end === b.batch.numRows;
    if (complete || (end > b.emitted && (errRow >= 0 || pressure()))) {
      const out = emit(b, end);
      if (b.emitted === b.batch.numRows) {
        pending.shift();
        if (frontierBatch === 0) frontierTask = 0;
        else frontierBatch--;
      }
      return out;
    }
    return null;
  };

  const rowDone = (b: BatchState, row: number): boolean => {
    for (let c = 0; c < columns.length; c++) if (!b.tasks[row * columns.length + c].done) return false;
    return true;
  };

  /** Emits rows [b.emitted, end) (fewer when the binary columns would pass 2 GiB), releasing their bytes. */
  const emit = (b: BatchState, end: number): RecordBatch => {
    const start = b.emitted;
    const n = columns.length;
    let stop = start;
    const totals = new Array<number>(n).fill(0);
    while (stop < end) {
      let ok = true;
      for (let c = 0; c < n; c++) {
        const len = b.tasks[stop * n + c].result?.length ?? 0;
        if (totals[c] + len > MAX_BINARY_BYTES) ok = false;
      }
      if (!ok && stop > start) break;
      for (let c = 0; c < n; c++) totals[c] += b.tasks[stop * n + c].result?.length ?? 0;
      stop++;
    }
    const over = totals.findIndex((x) => x > MAX_BINARY_BYTES);
    if (over >= 0) {
      // an object that grew past the limit after its size was learned
      const t = b.tasks[start * n + over];
      throw taskError(t, tooLarge(t.ref!, totals[over]), t.ref!.original);
    }
    const datas: Data[] = [];
    for (let c = 0; c < n; c++) {
      const values: (Uint8Array | null)[] = [];
      for (let r = start; r < stop; r++) {
        const t = b.tasks[r * n + c];
        values.push(t.result);
        release(t);
        t.result = null;
      }
      datas.push(binaryData(values));
    }
    b.emitted = stop;
    const sliced = start === 0 && stop === b.batch.numRows ? b.batch : b.batch.slice(start, stop);
    const fields = [...sliced.schema.fields, ...columns.map((c) => new Field(blobBytesColumnName(c), new Binary(), true))];
    const schema = new Schema(fields, sliced.schema.metadata);
    const data = makeData({ type: new Struct(fields), length: stop - start, nullCount: 0, children: [...sliced.data.children, ...datas] });
    stats.batches++;
    grantBytes();
    pump();
    return new RecordBatch(schema, data);
  };

  let finished = false;
  try {
    pump();
    for (;;) {
      if (outer?.aborted) throw abortedError('blob read', outer.reason);
      const out = tryEmit();
      if (out === 'end') {
        finished = true;
        return;
      }
      if (out instanceof RecordBatch) {
        yield out;
        continue;
      }
      if (out !== null) throw out.thrown;
      await changed;
    }
  } finally {
    if (!finished) stats.cancelled = true;
    ac.abort(new LakeSoulError('Aborted', 'blob read cancelled by the consumer'));
    outer?.removeEventListener('abort', onOuterAbort);
    for (const b of pending) for (const t of b.tasks) t.result = null;
    pending = [];
    for (const t of needBytes) t.grant?.(); // waiting tasks see the abort and end
    needBytes = [];
    const closeInput = async () => {
      try {
        await input.return?.();
      } catch {
        /* the source's own cleanup failed; nothing more to free here */
      }
    };
    if (!inputEnded) {
      if (pulling) void pulling.then(closeInput);
      else await closeInput();
    }
  }
}

/** The refusal of an object too large for one Arrow Binary value (kind Unsupported). */
function tooLarge(ref: BlobTarget, size: number): LakeSoulError {
  return new LakeSoulError('Unsupported', `blob '${ref.original}' (${ref.uri}) holds ${size} bytes, more than ${MAX_BINARY_BYTES} (2 GiB - 1), the limit of an Arrow Binary value: it cannot be read into a batch`, {
    context: { file: ref.uri, reference: ref.original },
  });
}

function binaryData(values: (Uint8Array | null)[]): Data<Binary> {
  const n = values.length;
  let total = 0;
  let nulls = 0;
  for (const v of values) {
    if (v === null) nulls++;
    else total += v.length;
  }
  const offsets = new Int32Array(n + 1);
  // every byte is written below: skip the zero-fill of a fresh allocation
  const data = new Uint8Array(Buffer.allocUnsafeSlow(total).buffer, 0, total);
  const bitmap = new Uint8Array((n + 7) >> 3);
  let off = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== null) {
      data.set(v, off);
      off += v.length;
      bitmap[i >> 3] |= 1 << (i & 7);
    }
    offsets[i + 1] = off;
  }
  return makeData({ type: new Binary(), length: n, nullCount: nulls, nullBitmap: nulls > 0 ? bitmap : undefined, valueOffsets: offsets, data });
}
