/**
 * Merge-on-read of primary-key tables (protocol §5): a streaming k-way merge of PK-sorted sources
 * (the files of one partition/bucket, oldest first) that keeps, per key, the newest value of each
 * column among the sources that have the column, or combines values with a merge operator.
 *
 * How it stays fast: sources are consumed batch by batch in ROUNDS. A round only merges keys below
 * the smallest "last key of the current batch" over the unfinished sources, so every key it emits is
 * complete. Keys are compared on typed arrays prepared once per batch (no per-row objects); the
 * merge records, per output row, which batch and row wins, and output columns are built afterwards
 * with one gather per column. A round where a single source holds all rows and has no duplicate
 * keys passes its batch through without copying, and so does an output batch whose rows (for a
 * column) are consecutive rows of one source batch: the common case of a few upserted keys over a
 * large base, whose long runs between the upserted keys are slices of the base's columns.
 */
import { Data, DataType, Field, RecordBatch, Schema, Type, makeData } from 'apache-arrow';
import { LakeSoulError, throwIfAborted } from '@lakesoul-ts/meta';
import type { MergeOperator } from '../types.js';
import { castData } from '../arrow/cast-data.js';
import { makeBatch, utf8Text } from '../arrow/data-access.js';
import { byteKeyParts, compareKeyRows, keyColumn, numericKeys, type KeyColumn } from '../arrow/pk-compare.js';
import { concatBatches, gatherData } from '../arrow/take-rows.js';
import { nativeParquet, type NativeParquet } from '../parquet/parquet-native.js';

/** One input of a merge: a file (or any stream) sorted by PK, with the columns it physically holds. */
export interface MergeSource {
  /** Batches sorted by the PK tuple (duplicates allowed, in arrival order: the last one wins). */
  batches: AsyncIterable<RecordBatch>;
  /** Columns present in this source (file_exist_cols). Output columns not listed are "absent". */
  existCols: string[];
}

/** Options of {@link mergeSortedSources}. */
export interface MergeOptions {
  /** Primary-key columns in PK order; every source must hold them. */
  primaryKeys: string[];
  /** Fields to emit, in order (may include or omit the PK columns). */
  outputSchema: Schema;
  /** Per-column operators (default UseLast). */
  mergeOperators?: Record<string, MergeOperator>;
  /** Rows per output batch (default 8192). */
  batchSize?: number;
  signal?: AbortSignal;
  /** For messages. */
  label?: string;
}

/** Default rows per output batch. */
export const DEFAULT_MERGE_BATCH_SIZE = 8192;

const OPERATORS: readonly MergeOperator[] = [
  'UseLast', 'UseLastNotNull', 'SumAll', 'SumLast', 'JoinedLastByComma', 'JoinedLastBySemicolon', 'JoinedAllByComma', 'JoinedAllBySemicolon',
];

/** A window batch of one source, conformed to the output columns. */
interface Entry {
  /** Output column data by output column index (null when the source lacks the column). */
  cols: (Data | null)[];
  /** Index in the pending-output batch list, -1 when not referenced yet. */
  local: number;
}

/** A conformed batch of a source: its output columns and prepared key columns. */
interface Window {
  batch: RecordBatch;
  entry: Entry;
  keys: KeyColumn[];
  /** Single numeric key as plain numbers (see numericKeys), else null. */
  fk: ArrayLike<number> | null;
}

interface SourceState {
  index: number;
  iter: AsyncIterator<RecordBatch>;
  /** The iterator is finished (no batch beyond `next`). */
  done: boolean;
  entry: Entry | null;
  batch: RecordBatch | null;
  keys: KeyColumn[];
  fk: ArrayLike<number> | null;
  /** Several key columns as the addon compares them ({@link tupleKeys}), once asked for; null: not possible. */
  tuple?: TupleKeys | null;
  pos: number;
  len: number;
  /** Row bound of the current round. */
  end: number;
  has: boolean[];
  /** The following batch, read ahead: its first key bounds what the current window may hold. */
  next: Window | null;
  /**
   * With merge operators: earlier rows of the current window's first key, from batches left behind
   * ({@link KWayMerge.advance}), oldest first; the key's group takes them as ranges before its rows
   * in the window.
   */
  carry: CarriedRun[];
}

/** Rows `[start, end)` of a left-behind window batch of a source, all of one key. */
interface CarriedRun {
  entry: Entry;
  start: number;
  end: number;
}

/** Growable Int32 buffer. */
class IntBuf {
  a: Int32Array;
  n = 0;
  constructor(cap = 1024) {
    this.a = new Int32Array(cap);
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  view(): Int32Array {
    return this.a.subarray(0, this.n);
  }
}

/**
 * Merge PK-sorted sources (index 0 = oldest, last = newest) into one PK-sorted stream with unique
 * keys. For equal keys the newer source wins and, inside a source, the later row wins; each output
 * column takes its value only from sources that have it (`existCols`), and is null when none of
 * them holds the key. Operators: see docs/merge-on-read.md. Output batches hold `batchSize` rows
 * (the last one fewer; pass-through rounds may be shorter).
 */
export async function* mergeSortedSources(sources: MergeSource[], options: MergeOptions): AsyncGenerator<RecordBatch> {
  const merge = new KWayMerge(sources, options);
  const { states, out } = merge;
  const signal = options.signal;
  try {
    await Promise.all(states.map((s) => merge.readAhead(s)));
    for (;;) {
      throwIfAborted(signal, 'merge-on-read');
      const moved = states.filter((s) => merge.advance(s));
      if (moved.length > 0) {
        await Promise.all(moved.map((s) => merge.readAhead(s)));
        continue; // a joined window may again straddle into the new read-ahead
      }
      if (!merge.round()) break;
      while (out.length > 0) {
        throwIfAborted(signal, 'merge-on-read');
        yield out.shift()!;
      }
    }
    merge.flush();
    while (out.length > 0) yield out.shift()!;
  } finally {
    await Promise.allSettled(states.map((s) => (s.done ? undefined : s.iter.return?.())));
  }
}

/**
 * One merge's state and steps ({@link mergeSortedSources} drives it). A class rather than closures
 * made per call: V8 drops optimized code that inlined one merge's closure when the next split's
 * merge calls its own copy ("wrong call target"), so the heap loops ran unoptimized again at every
 * split; methods are one function for every merge.
 */
class KWayMerge {
  /** Per source: its iterator, current window and round bounds. */
  readonly states: SourceState[];
  /** Finished output batches, for the driver to yield. */
  readonly out: RecordBatch[] = [];
  private readonly fields: Field[];
  private readonly outputSchema: Schema;
  private readonly primaryKeys: string[];
  private readonly label: string;
  private readonly batchSize: number;
  private readonly ops: MergeOperator[];
  private readonly anyOperator: boolean;
  /** Provider sets: output columns grouped by which sources have them (UseLast winners are shared). */
  private readonly setOf: Int32Array;
  private readonly setHas: boolean[][];
  private readonly simpleWinners: boolean;
  private readonly placeholders: Data[];
  private readonly keyTypes: (DataType | null)[];
  // ---- pending output: per output row and provider set, the winning (local batch, row)
  private pending: Entry[] = [];
  private count = 0;
  private readonly winSrc: Int32Array[];
  private readonly winRow: Int32Array[];
  // operator support: per output row, the group's ranges (local batch, start, end, source index)
  private readonly groupOff: Int32Array;
  private readonly rLocal = new IntBuf();
  private readonly rStart = new IntBuf();
  private readonly rEnd = new IntBuf();
  private readonly rSrc = new IntBuf();
  // ---- heap of source indices ordered by (key at pos, source index)
  private readonly heap: number[] = [];
  private readonly group: number[] = [];
  private readonly groupEnd: number[];
  /** Numeric single-column keys: each source's current key. */
  private readonly curKey: Float64Array;
  private readonly sortScratch = new SortScratch();
  /** Per source index: its place in the pending output batch (filled by mergeRoundSorted). */
  private readonly localBySource: Int32Array;
  private readonly native: NativeParquet | null = nativeParquet();

  constructor(sources: MergeSource[], options: MergeOptions) {
    const { primaryKeys, outputSchema } = options;
    this.primaryKeys = primaryKeys;
    this.outputSchema = outputSchema;
    this.batchSize = Math.max(1, options.batchSize ?? DEFAULT_MERGE_BATCH_SIZE);
    const label = (this.label = options.label ? ` (${options.label})` : '');
    if (primaryKeys.length === 0) throw new LakeSoulError('InvalidArgument', `mergeSortedSources needs primary keys${label}`);
    const fields = (this.fields = outputSchema.fields);
    this.ops = fields.map((f) => {
      const op = options.mergeOperators?.[f.name] ?? 'UseLast';
      if (!OPERATORS.includes(op)) {
        throw new LakeSoulError('InvalidArgument', `unknown merge operator '${op}' for column '${f.name}' (one of ${OPERATORS.join(', ')})`, {
          context: { column: f.name },
        });
      }
      checkOperatorType(op, f);
      return op;
    });
    for (const name of Object.keys(options.mergeOperators ?? {})) {
      if (primaryKeys.includes(name) && options.mergeOperators![name] !== 'UseLast') {
        throw new LakeSoulError('InvalidArgument', `merge operator on primary key column '${name}'`, { context: { column: name } });
      }
    }
    this.anyOperator = this.ops.some((o) => o !== 'UseLast');
    const k = sources.length;
    const has = sources.map((s) => {
      const exist = new Set(s.existCols);
      return fields.map((f) => exist.has(f.name));
    });
    this.setOf = new Int32Array(fields.length);
    const setKeys = new Map<string, number>();
    this.setHas = [];
    fields.forEach((_, c) => {
      const key = has.map((h) => (h[c] ? '1' : '0')).join('');
      let p = setKeys.get(key);
      if (p === undefined) {
        setKeys.set(key, (p = this.setHas.length));
        this.setHas.push(has.map((h) => h[c]));
      }
      this.setOf[c] = p;
    });
    const sets = setKeys.size;
    this.simpleWinners = sets === 1 && !this.anyOperator;
    this.placeholders = fields.map((f) => gatherData(f.type, [], null, new Int32Array(0)));
    this.keyTypes = primaryKeys.map((pk) => fields.find((f) => f.name === pk)?.type ?? null);
    this.states = sources.map((s, index) => ({
      index,
      iter: s.batches[Symbol.asyncIterator](),
      done: false,
      next: null,
      fk: null,
      tuple: undefined,
      entry: null,
      batch: null,
      keys: [],
      pos: 0,
      len: 0,
      end: 0,
      has: has[index],
      carry: [],
    }));
    this.winSrc = Array.from({ length: sets }, () => new Int32Array(this.batchSize));
    this.winRow = Array.from({ length: sets }, () => new Int32Array(this.batchSize));
    this.groupOff = new Int32Array(this.batchSize + 1);
    this.groupEnd = new Array(k).fill(0);
    this.curKey = new Float64Array(k);
    this.localBySource = new Int32Array(k);
  }

  private localOf(e: Entry): number {
    if (e.local < 0) e.local = this.pending.push(e) - 1;
    return e.local;
  }

  /** Builds the pending output rows into a batch on {@link out}. */
  flush(): void {
    const n = this.count;
    if (n === 0) return;
    const { fields, pending, groupOff, rLocal, rStart, rEnd, rSrc } = this;
    groupOff[n] = rLocal.n;
    // per provider set: the first row when every winner is the next row of one source batch (-2: not checked yet)
    const runs = this.winSrc.map(() => -2);
    const cols: Data[] = fields.map((f, c) => {
      const op = this.ops[c];
      const datas = () => pending.map((e) => e.cols[c] ?? this.placeholders[c]);
      if (op !== 'UseLast') return applyOperator(op, f, c, datas(), n, groupOff, rLocal.a, rStart.a, rEnd.a, rSrc.a, this.states.map((s) => s.has[c]));
      const p = this.setOf[c];
      const ws = this.winSrc[p];
      const wr = this.winRow[p];
      if (runs[p] === -2) runs[p] = consecutiveRows(ws, wr, n);
      // one run of a source's rows: a slice of its column instead of a copy
      const run = runs[p] >= 0 ? pending[ws[0]].cols[c] : null;
      if (run && runs[p] + n <= run.length) return run.slice(runs[p], n);
      return gatherData(f.type, datas(), ws.subarray(0, n), wr.subarray(0, n));
    });
    this.out.push(makeBatch(this.outputSchema, cols, n));
    for (const e of pending) e.local = -1;
    this.pending = [];
    this.count = 0;
    rLocal.n = rStart.n = rEnd.n = rSrc.n = 0;
  }

  private conform(s: SourceState, batch: RecordBatch): Window {
    const { label, keyTypes } = this;
    const names = columnIndexes(batch);
    const keys: KeyColumn[] = this.primaryKeys.map((pk, i) => {
      const idx = names.get(pk) ?? -1;
      if (idx < 0) {
        throw new LakeSoulError('SchemaMismatch', `merge source ${s.index}${label} lacks primary key column '${pk}'`, { context: { column: pk } });
      }
      let d = batch.data.children[idx] as Data;
      if (keyTypes[i] === null) keyTypes[i] = d.type;
      d = castData(d, keyTypes[i]!, { column: pk });
      return keyColumn(d, pk);
    });
    const cols = this.fields.map((f, c) => {
      if (!s.has[c]) return null;
      const idx = names.get(f.name) ?? -1;
      if (idx < 0) {
        throw new LakeSoulError('SchemaMismatch', `merge source ${s.index}${label} lists column '${f.name}' in existCols but its data lacks it`, {
          context: { column: f.name },
        });
      }
      return castData(batch.data.children[idx] as Data, f.type, { column: f.name });
    });
    return { batch, entry: { cols, local: -1 }, keys, fk: keys.length === 1 ? numericKeys(keys[0]) : null };
  }

  private install(s: SourceState, w: Window): void {
    s.batch = w.batch;
    s.entry = w.entry;
    s.keys = w.keys;
    s.fk = w.fk;
    s.tuple = undefined;
    s.pos = 0;
    s.len = w.batch.numRows;
  }

  /** Read the next non-empty batch of `s` into `s.next` (or mark the source done). */
  async readAhead(s: SourceState): Promise<void> {
    s.next = null;
    while (!s.done) {
      const r = await s.iter.next();
      if (r.done) {
        s.done = true;
        return;
      }
      if (r.value.numRows > 0) {
        s.next = this.conform(s, r.value);
        return;
      }
    }
  }

  /**
   * Move `s` forward: a consumed window is replaced by the read-ahead batch. Remaining rows whose key
   * continues into the read-ahead batch (one run of that key, as the source is sorted) are left
   * behind without a copy: without merge operators every column takes the source's LAST row of a
   * key (a source has the same columns in every batch), which the read-ahead batch holds, so the
   * rows are dropped; with operators they are kept as a {@link CarriedRun} for the key's group
   * (sums and joins of all rows, the last non-null value). Joining them with the next batch, as
   * before, copied a run spanning B batches B times (quadratic). Only remaining rows that are not
   * one run (a source that is not sorted) are still joined with the next batch.
   * Returns true when a read-ahead was consumed (so a new one must be read).
   */
  advance(s: SourceState): boolean {
    if (s.next === null) return false;
    if (s.batch === null || s.pos >= s.len) {
      this.install(s, s.next);
      return true;
    }
    if (compareKeyRows(s.keys, s.pos, s.next.keys, 0) === 0) {
      if (isOneRun(s.keys, s.fk, s.pos, s.len)) {
        if (this.anyOperator) s.carry.push({ entry: s.entry!, start: s.pos, end: s.len });
        this.install(s, s.next);
        return true;
      }
      const rest = s.batch.slice(s.pos, s.len);
      this.install(s, this.conform(s, concatBatches([rest, alignTo(s.next.batch, rest.schema, s.index, this.label)])));
      return true;
    }
    return false;
  }

  /**
   * Merges one round: every key below the smallest first key of the read-ahead batches (all keys are
   * complete there). False when every source is consumed.
   */
  round(): boolean {
    const states = this.states;
    const active = states.filter((s) => s.pos < s.len);
    if (active.length === 0) return false;
    let boundSrc: SourceState | null = null;
    for (const s of states) {
      if (s.next === null) continue;
      if (boundSrc === null || compareKeyRows(s.next.keys, 0, boundSrc.next!.keys, 0) < 0) boundSrc = s;
    }
    let rows = 0;
    for (const s of active) {
      if (boundSrc === null) s.end = s.len;
      else {
        const bk = boundSrc.next!.keys;
        if (compareKeyRows(s.keys, s.len - 1, bk, 0) < 0) s.end = s.len;
        else {
          // first row >= bound
          let lo = s.pos;
          let hi = s.len;
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if (compareKeyRows(s.keys, mid, bk, 0) < 0) lo = mid + 1;
            else hi = mid;
          }
          s.end = lo;
        }
      }
      rows += s.end - s.pos;
    }
    for (const s of states) if (s.pos >= s.len) s.end = s.pos;
    if (rows === 0) {
      throw new LakeSoulError('Internal', `merge-on-read made no progress${this.label}: a source is not sorted by its primary key`);
    }
    const contributing = active.filter((s) => s.end > s.pos);
    if (!(contributing.length === 1 && this.passThrough(contributing[0]))) {
      const sortable = this.simpleWinners && contributing.length > 1;
      if (!contributing.every((s) => s.fk !== null)) {
        if (!(sortable && this.mergeRoundSorted(contributing, true))) this.mergeRound();
      } else if (!(sortable && this.mergeRoundSorted(contributing, false))) this.mergeRoundF();
    }
    if (boundSrc === null) this.flush();
    return true;
  }

  private less(a: number, b: number): boolean {
    const sa = this.states[a];
    const sb = this.states[b];
    const r = compareKeyRows(sa.keys, sa.pos, sb.keys, sb.pos);
    return r < 0 || (r === 0 && a < b);
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const m = r < n && this.less(heap[r], heap[l]) ? r : l;
      if (!this.less(heap[m], heap[i])) return;
      const t = heap[m];
      heap[m] = heap[i];
      heap[i] = t;
      i = m;
    }
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(heap[i], heap[p])) return;
      const t = heap[p];
      heap[p] = heap[i];
      heap[i] = t;
      i = p;
    }
  }

  private popTop(): number {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  /** Records the current group (sources in merge order, rows [pos, groupEnd)) as one output row. */
  private emitGroup(): void {
    const { group, groupEnd, states, winSrc, winRow, setHas } = this;
    const i = this.count;
    if (this.anyOperator) {
      this.groupOff[i] = this.rLocal.n;
      for (const si of group) {
        const s = states[si];
        if (s.carry.length > 0) {
          // the key's rows in left-behind batches (only the window's first key has any), before its rows here
          for (const c of s.carry) {
            this.rLocal.push(this.localOf(c.entry));
            this.rStart.push(c.start);
            this.rEnd.push(c.end);
            this.rSrc.push(si);
          }
          s.carry.length = 0;
        }
        this.rLocal.push(this.localOf(s.entry!));
        this.rStart.push(s.pos);
        this.rEnd.push(groupEnd[si]);
        this.rSrc.push(si);
      }
    }
    for (let p = 0; p < setHas.length; p++) {
      const hp = setHas[p];
      let w = -1;
      for (let g = group.length - 1; g >= 0; g--) {
        if (hp[group[g]]) {
          w = group[g];
          break;
        }
      }
      if (w < 0) {
        winRow[p][i] = -1;
        winSrc[p][i] = 0;
      } else {
        const s = states[w];
        winSrc[p][i] = this.localOf(s.entry!);
        winRow[p][i] = groupEnd[w] - 1;
      }
    }
    this.count++;
    if (this.count === this.batchSize) this.flush();
  }

  /** Merge rows [pos, end) of every source. */
  private mergeRound(): void {
    const { heap, group, groupEnd, states } = this;
    heap.length = 0;
    for (const s of states) if (s.pos < s.end) heap.push(s.index);
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
    while (heap.length > 0) {
      const first = this.popTop();
      group.length = 0;
      group.push(first);
      const f = states[first];
      while (heap.length > 0) {
        const t = states[heap[0]];
        if (compareKeyRows(t.keys, t.pos, f.keys, f.pos) !== 0) break;
        group.push(this.popTop());
      }
      // heap pops ties in ascending source index: group is in merge order
      for (const si of group) {
        const s = states[si];
        let r = s.pos + 1;
        while (r < s.end && compareKeyRows(s.keys, r, s.keys, s.pos) === 0) r++;
        groupEnd[si] = r;
      }
      this.emitGroup();
      for (const si of group) {
        const s = states[si];
        s.pos = groupEnd[si];
        if (s.pos < s.end) {
          heap.push(si);
          this.siftUp(heap.length - 1);
        }
      }
    }
  }

  // ---- numeric single-column keys: compare plain numbers, cache each source's current key.
  // The heap helpers below repeat the generic ones above on purpose: each set calls one `less`, so the
  // hot loop stays monomorphic (a shared heap taking `less` as a parameter measured slower).
  private lessF(a: number, b: number): boolean {
    const x = this.curKey[a];
    const y = this.curKey[b];
    return x < y || (x === y && a < b);
  }

  private siftDownF(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const m = r < n && this.lessF(heap[r], heap[l]) ? r : l;
      if (!this.lessF(heap[m], heap[i])) return;
      const t = heap[m];
      heap[m] = heap[i];
      heap[i] = t;
      i = m;
    }
  }

  private siftUpF(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.lessF(heap[i], heap[p])) return;
      const t = heap[p];
      heap[p] = heap[i];
      heap[i] = t;
      i = p;
    }
  }

  private popTopF(): number {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.siftDownF(0);
    }
    return top;
  }

  /** mergeRound for numeric keys: runs of one source below the next-best key skip the heap. */
  private mergeRoundF(): void {
    const { heap, group, groupEnd, states, curKey, setHas, winSrc, winRow, batchSize } = this;
    heap.length = 0;
    for (const s of states) {
      if (s.pos < s.end) {
        curKey[s.index] = s.fk![s.pos];
        heap.push(s.index);
      }
    }
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) this.siftDownF(i);
    while (heap.length > 0) {
      const top = heap[0];
      const key = curKey[top];
      const n = heap.length;
      const tie = (n > 1 && curKey[heap[1]] === key) || (n > 2 && curKey[heap[2]] === key);
      if (!tie) {
        const s = states[top];
        // the source alone takes every key left: a bound of Infinity stopped it before a key of
        // +Infinity (a float key may be one), and the round never ended
        const nextBest = n === 1 ? Infinity : n === 2 ? curKey[heap[1]] : Math.min(curKey[heap[1]], curKey[heap[2]]);
        const alone = n === 1;
        const fk = s.fk!;
        const end = s.end;
        let p = s.pos;
        if (this.simpleWinners) {
          // every column is UseLast and shares one provider set: write the winners directly
          const has0 = setHas[0][top];
          const ws = winSrc[0];
          const wr = winRow[0];
          let loc = has0 ? this.localOf(s.entry!) : 0;
          while (p < end) {
            const kv = fk[p];
            if (!alone && !(kv < nextBest)) break;
            let r = p + 1;
            while (r < end && fk[r] === kv) r++;
            const at = this.count;
            ws[at] = loc;
            wr[at] = has0 ? r - 1 : -1;
            this.count = at + 1;
            if (at + 1 === batchSize) {
              this.flush();
              if (has0) loc = this.localOf(s.entry!);
            }
            p = r;
          }
        } else {
          group.length = 1;
          group[0] = top;
          while (p < end && (alone || fk[p] < nextBest)) {
            const kv = fk[p];
            let r = p + 1;
            while (r < end && fk[r] === kv) r++;
            s.pos = p;
            groupEnd[top] = r;
            this.emitGroup();
            p = r;
          }
        }
        s.pos = p;
        if (p >= end) this.popTopF();
        else {
          curKey[top] = fk[p];
          this.siftDownF(0);
        }
        continue;
      }
      if (this.simpleWinners) {
        // equal keys in several sources: advance each past the key in (key, source) order; the
        // last one that has the columns wins
        let winner: SourceState | null = null;
        let winnerRow = -1;
        const has0 = setHas[0];
        while (heap.length > 0 && curKey[heap[0]] === key) {
          const si = heap[0];
          const s = states[si];
          const fk = s.fk!;
          let r = s.pos + 1;
          while (r < s.end && fk[r] === key) r++;
          if (has0[si]) {
            winner = s;
            winnerRow = r - 1;
          }
          s.pos = r;
          if (r < s.end) {
            curKey[si] = fk[r];
            this.siftDownF(0);
          } else this.popTopF();
        }
        const at = this.count;
        winSrc[0][at] = winner === null ? 0 : this.localOf(winner.entry!);
        winRow[0][at] = winnerRow;
        this.count = at + 1;
        if (at + 1 === batchSize) this.flush();
        continue;
      }
      group.length = 0;
      while (heap.length > 0 && curKey[heap[0]] === key) group.push(this.popTopF());
      for (const si of group) {
        const s = states[si];
        const fk = s.fk!;
        let r = s.pos + 1;
        while (r < s.end && fk[r] === key) r++;
        groupEnd[si] = r;
      }
      this.emitGroup();
      for (const si of group) {
        const s = states[si];
        s.pos = groupEnd[si];
        if (s.pos < s.end) {
          curKey[si] = s.fk![s.pos];
          heap.push(si);
          this.siftUpF(heap.length - 1);
        }
      }
    }
  }

  /**
   * mergeRoundF for UseLast winners: the winners come from one merge of the sources' key runs in the
   * native addon (Float64 keys, {@link nativeSortedWinners}) or one radix sort of every source's keys
   * at once ({@link sortedWinners}: int32 keys) instead of a heap step per key. False (nothing done)
   * for a small round, or a key neither can take.
   */
  private mergeRoundSorted(contributing: readonly SourceState[], byteKeys: boolean): boolean {
    const { native, sortScratch, setHas, localBySource } = this;
    const n = byteKeys
      ? (native !== null ? nativeSortedWinnersBytes(native, contributing, setHas[0], sortScratch) ?? nativeSortedWinnersTuple(native, contributing, setHas[0], sortScratch) : null) ?? -1
      : (native !== null ? nativeSortedWinners(native, contributing, setHas[0], sortScratch) : null) ?? sortedWinners(contributing, setHas[0], sortScratch);
    if (n < 0) return false;
    const ws = this.winSrc[0];
    const wr = this.winRow[0];
    const { winS, winR } = sortScratch;
    // a batch's worth of winners at a time: each contributing source's place in the pending batch is
    // taken once per output batch (a flush starts a new one), not looked up per row
    for (let i = 0; i < n;) {
      for (const st of contributing) localBySource[st.index] = this.localOf(st.entry!);
      const take = Math.min(n - i, this.batchSize - this.count);
      copyWinners(winS, winR, i, take, localBySource, ws, wr, this.count);
      i += take;
      this.count += take;
      if (this.count === this.batchSize) this.flush();
    }
    for (const st of contributing) st.pos = st.end;
    return true;
  }

  /** Single source in a round: pass the range through when it has no duplicate keys. */
  private passThrough(s: SourceState): boolean {
    if (this.anyOperator) return false;
    const fk = s.fk;
    if (fk !== null ? hasEqualNeighbours(fk, s.pos, s.end) : hasEqualKeyNeighbours(s.keys, s.pos, s.end)) return false;
    this.flush();
    const { fields, batchSize } = this;
    const cols = s.entry!.cols;
    for (let a = s.pos; a < s.end; a += batchSize) {
      const b = Math.min(s.end, a + batchSize);
      const len = b - a;
      this.out.push(
        makeBatch(
          this.outputSchema,
          cols.map((d, c) => (d === null ? gatherData(fields[c].type, [], null, new Int32Array(len).fill(-1)) : d.slice(a, len))),
          len,
        ),
      );
    }
    s.pos = s.end;
    return true;
  }
}

/**
 * The index of each column of `b` by name (the first of a name given twice, as `indexOf` found it):
 * per-column lookups in a batch of thousands of columns were quadratic.
 */
function columnIndexes(b: RecordBatch): Map<string, number> {
  const at = new Map<string, number>();
  b.schema.fields.forEach((f, i) => {
    if (!at.has(f.name)) at.set(f.name, i);
  });
  return at;
}

/** A source batch with extra/reordered columns is fine; only names matter for concatenation. */
function alignTo(b: RecordBatch, schema: Schema, index: number, label: string): RecordBatch {
  const names = columnIndexes(b);
  const children = schema.fields.map((f) => {
    const i = names.get(f.name) ?? -1;
    if (i < 0) {
      throw new LakeSoulError('SchemaMismatch', `merge source ${index}${label}: batches disagree on columns (missing '${f.name}')`, {
        context: { column: f.name },
      });
    }
    return castData(b.data.children[i] as Data, f.type, { column: f.name });
  });
  return makeBatch(schema, children, b.numRows);
}

function isNumeric(t: DataType): boolean {
  return t.typeId === Type.Int || (t.typeId === Type.Float && (t as any).precision > 0);
}

function isString(t: DataType): boolean {
  return t.typeId === Type.Utf8 || t.typeId === Type.LargeUtf8;
}

function checkOperatorType(op: MergeOperator, f: Field): void {
  if ((op === 'SumAll' || op === 'SumLast') && !isNumeric(f.type)) {
    throw new LakeSoulError('InvalidArgument', `merge operator ${op} needs a numeric column; '${f.name}' is ${f.type}`, { context: { column: f.name } });
  }
  if (op.startsWith('Joined') && !isString(f.type)) {
    throw new LakeSoulError('InvalidArgument', `merge operator ${op} needs a string column; '${f.name}' is ${f.type}`, { context: { column: f.name } });
  }
}

function validAt(d: Data, i: number): boolean {
  const bm = d.nullBitmap;
  if (d.typeId === Type.Null) return false;
  if (bm === undefined || bm.length === 0 || d.nullCount === 0) return true;
  const pos = d.offset + i;
  return (bm[pos >> 3] & (1 << (pos & 7))) !== 0;
}

/** Rounds smaller than this merge through the heap (the sort's fixed cost: three 2048-entry histograms and their prefix sums). */
const SORTED_MERGE_MIN_ROWS = 4096;

/** Buffers of {@link sortedWinners}, grown on demand and reused across a merge's rounds. */
class SortScratch {
  keys = new Uint32Array(0);
  payload = new Uint32Array(0);
  keys2 = new Uint32Array(0);
  payload2 = new Uint32Array(0);
  /** Per distinct key: the winning source's index (-1: no source has the columns) and row. */
  winS = new Int32Array(0);
  winR = new Int32Array(0);
  /** One 2048-entry histogram per 11-bit digit. */
  readonly counts = new Uint32Array(3 * 2048);

  /** Room for `m` winners only (the native sort keeps its own keys). */
  ensureWinners(m: number): void {
    if (this.winS.length >= m) return;
    const n = Math.max(m, this.winS.length * 2);
    this.winS = new Int32Array(n);
    this.winR = new Int32Array(n);
  }

  ensure(m: number): void {
    if (this.keys.length >= m) return;
    const n = Math.max(m, this.keys.length * 2);
    this.keys = new Uint32Array(n);
    this.payload = new Uint32Array(n);
    this.keys2 = new Uint32Array(n);
    this.payload2 = new Uint32Array(n);
    this.winS = new Int32Array(n);
    this.winR = new Int32Array(n);
  }
}

/**
 * Whether every key of rows `[from, to)` equals the first (numbers compared directly when the key is
 * one numeric column).
 */
function isOneRun(keys: readonly KeyColumn[], fk: ArrayLike<number> | null, from: number, to: number): boolean {
  if (fk !== null) {
    const k = fk[from];
    for (let r = from + 1; r < to; r++) if (fk[r] !== k) return false;
    return true;
  }
  for (let r = from + 1; r < to; r++) if (compareKeyRows(keys, r, keys, from) !== 0) return false;
  return true;
}

/** Whether two neighbouring keys of `[from, to)` are equal (a module function, as {@link copyWinners} explains). */
function hasEqualNeighbours(fk: ArrayLike<number>, from: number, to: number): boolean {
  for (let r = from + 1; r < to; r++) if (fk[r - 1] === fk[r]) return true;
  return false;
}

/** Whether two neighbouring key tuples of `[from, to)` are equal (strings and binaries: their bytes compared directly). */
function hasEqualKeyNeighbours(keys: readonly KeyColumn[], from: number, to: number): boolean {
  const bytes = keys.length === 1 ? byteKeyParts(keys[0]) : null;
  if (bytes === null) {
    for (let r = from + 1; r < to; r++) if (compareKeyRows(keys, r - 1, keys, r) === 0) return true;
    return false;
  }
  const { values, offsets } = bytes;
  for (let r = from + 1; r < to; r++) {
    const a = offsets[r - 1];
    const b = offsets[r];
    const len = b - a;
    if (offsets[r + 1] - b !== len) continue;
    let k = 0;
    while (k < len && values[a + k] === values[b + k]) k++;
    if (k === len) return true;
  }
  return false;
}

/**
 * Winners `[from, from + take)` of a sorted round (`winS`: source index, -1 for none; `winR`: row)
 * written to a pending batch's selectors at `at`, each source as its place `local[source]` in the
 * batch (none: source 0, row -1). A module function, not a closure of the merge: a merge's closures
 * are new functions for every split, and V8's optimized code for a loop that calls them is thrown
 * away ("wrong call target") at each new split, so this loop would run unoptimized.
 */
function copyWinners(winS: Int32Array, winR: Int32Array, from: number, take: number, local: Int32Array, ws: Int32Array, wr: Int32Array, at: number): void {
  for (let j = 0; j < take; j++) {
    const si = winS[from + j];
    ws[at + j] = si < 0 ? 0 : local[si];
    wr[at + j] = si < 0 ? -1 : winR[from + j];
  }
}

/**
 * The first row when the `n` winners are consecutive rows of one pending batch (`ws` all equal,
 * `wr` counting up from a row >= 0), else -1. A module function, as {@link copyWinners} explains.
 */
function consecutiveRows(ws: Int32Array, wr: Int32Array, n: number): number {
  const local = ws[0];
  const first = wr[0];
  if (first < 0) return -1;
  for (let i = 1; i < n; i++) if (ws[i] !== local || wr[i] !== first + i) return -1;
  return first;
}

/** Rows of one source a round may hold for {@link sortedWinners} (its row offset shares a word with the source). */
const SORTED_MERGE_MAX_SOURCE_ROWS = 1 << 24;

/**
 * The UseLast winners of one merge round whose keys are int32 values. Every source's rows
 * `[pos, end)` (sources in merge order) are sorted by key at once with a stable LSD radix sort (11-bit
 * digits, a pass skipped when all keys share its digit), carrying each row's source and row offset in
 * one word, so equal keys stay in (source, row) order and each key's winner is its last row in a source
 * that has the columns (`has[index]`), as the heap merge picks it. Returns the number of distinct keys
 * (their winners in `sc.winS` / `sc.winR`, ascending by key), or -1 (nothing that matters written)
 * when the round is small, a key is not an int32, or a source or row offset does not fit the word.
 */
function sortedWinners(sources: readonly { index: number; fk: ArrayLike<number> | null; pos: number; end: number }[], has: readonly boolean[], sc: SortScratch): number {
  let m = 0;
  for (const s of sources) {
    if (s.index > 255 || s.end - s.pos > SORTED_MERGE_MAX_SOURCE_ROWS) return -1;
    m += s.end - s.pos;
  }
  if (m < SORTED_MERGE_MIN_ROWS) return -1;
  sc.ensure(m);
  const { counts, winS, winR } = sc;
  let keys = sc.keys;
  let payload = sc.payload;
  let keys2 = sc.keys2;
  let payload2 = sc.payload2;
  counts.fill(0);
  let at = 0;
  for (const s of sources) {
    const fk = s.fk!;
    const tag = s.index << 24;
    for (let r = s.pos; r < s.end; r++) {
      const x = fk[r];
      if ((x | 0) !== x) return -1; // not an int32 (fractions, NaN, beyond 2^31)
      const u = (x + 2147483648) >>> 0;
      keys[at] = u;
      payload[at] = (tag | (r - s.pos)) >>> 0;
      counts[u & 2047]++;
      counts[2048 + ((u >>> 11) & 2047)]++;
      counts[4096 + (u >>> 22)]++;
      at++;
    }
  }
  for (let pass = 0; pass < 3; pass++) {
    const base = pass * 2048;
    const shift = pass * 11;
    let single = false;
    for (let d = 0, sum = 0; d < 2048; d++) {
      const c = counts[base + d];
      if (c === m) single = true;
      counts[base + d] = sum;
      sum += c;
    }
    if (single) continue; // every key has this digit: the order stands
    for (let i = 0; i < m; i++) {
      const u = keys[i];
      const to = counts[base + ((u >>> shift) & 2047)]++;
      keys2[to] = u;
      payload2[to] = payload[i];
    }
    [keys, keys2] = [keys2, keys];
    [payload, payload2] = [payload2, payload];
  }
  const posOf = new Int32Array(256);
  for (const s of sources) posOf[s.index] = s.pos;
  let n = 0;
  for (let i = 0; i < m; ) {
    const key = keys[i];
    let win = -1;
    do {
      const p = payload[i];
      if (has[p >>> 24]) win = p;
      i++;
    } while (i < m && keys[i] === key);
    if (win < 0) {
      winS[n] = -1;
      winR[n] = -1;
    } else {
      const si = win >>> 24;
      winS[n] = si;
      winR[n] = posOf[si] + (win & 0xffffff);
    }
    n++;
  }
  return n;
}

/**
 * The arguments every native sortedWinners call ends with: per source its rows `[pos, end)`, its
 * index and whether it has the columns; then the winner arrays.
 */
function roundArgs(sources: readonly { index: number; pos: number; end: number }[], has: readonly boolean[], sc: SortScratch): [number[], number[], number[], boolean[], Int32Array, Int32Array] {
  return [sources.map((s) => s.pos), sources.map((s) => s.end), sources.map((s) => s.index), sources.map((s) => has[s.index] === true), sc.winS, sc.winR];
}

/**
 * {@link sortedWinners} by the native addon, which takes any numeric keys and merges the sources'
 * ascending runs instead of sorting every key (about half the radix sort's time in a layered read):
 * null when a source's keys are not a Float64Array (the radix sort decides then), -1 for a small
 * round.
 */
function nativeSortedWinners(native: NativeParquet, sources: readonly { index: number; fk: ArrayLike<number> | null; pos: number; end: number }[], has: readonly boolean[], sc: SortScratch): number | null {
  let m = 0;
  for (const s of sources) {
    if (!(s.fk instanceof Float64Array)) return null;
    m += s.end - s.pos;
  }
  if (m < SORTED_MERGE_MIN_ROWS) return -1;
  sc.ensureWinners(m);
  return native.sortedWinners(
    sources.map((s) => s.fk as Float64Array),
    ...roundArgs(sources, has, sc),
  );
}

/**
 * {@link nativeSortedWinners} for a single key column of strings or binaries (32-bit offsets, no
 * nulls: {@link byteKeyParts}), merged by the addon's byte comparison instead of the heap's
 * per-key calls: null when a source's key is of another kind, -1 for a small round.
 */
function nativeSortedWinnersBytes(native: NativeParquet, sources: readonly { index: number; keys: readonly KeyColumn[]; pos: number; end: number }[], has: readonly boolean[], sc: SortScratch): number | null {
  let m = 0;
  const parts: { values: Uint8Array; offsets: Int32Array }[] = [];
  for (const s of sources) {
    const p = s.keys.length === 1 ? byteKeyParts(s.keys[0]) : null;
    if (p === null) return null;
    parts.push(p);
    m += s.end - s.pos;
  }
  if (m < SORTED_MERGE_MIN_ROWS) return -1;
  sc.ensureWinners(m);
  return native.sortedWinnersBytes(
    parts.map((p) => p.values),
    parts.map((p) => p.offsets),
    ...roundArgs(sources, has, sc),
  );
}

/** Key columns as {@link NativeParquet.sortedWinnersTuple} takes them: numbers or bytes per column. */
interface TupleKeys {
  kinds: number[];
  nums: Float64Array[];
  values: Uint8Array[];
  offsets: Int32Array[];
}

/**
 * A key of several columns as numbers (exactly ordered: {@link numericKeys}) and strings/binaries
 * ({@link byteKeyParts}), or null when a column is neither (nulls in a string key, NaN, 64-bit
 * values beyond 2^53, decimals...): the heap merges those.
 */
function tupleKeys(keys: readonly KeyColumn[]): TupleKeys | null {
  if (keys.length < 2) return null;
  const t: TupleKeys = { kinds: [], nums: [], values: [], offsets: [] };
  for (const k of keys) {
    const bytes = byteKeyParts(k);
    if (bytes !== null) {
      t.kinds.push(1);
      t.values.push(bytes.values);
      t.offsets.push(bytes.offsets);
      continue;
    }
    const num = numericKeys(k);
    if (num === null) return null;
    t.kinds.push(0);
    t.nums.push(num instanceof Float64Array ? num : Float64Array.from(num));
  }
  return t;
}

/**
 * {@link nativeSortedWinners} for a key of several columns ({@link tupleKeys}, computed once per
 * source batch): null when a source's key cannot be compared by the addon, -1 for a small round.
 */
function nativeSortedWinnersTuple(native: NativeParquet, sources: readonly { index: number; keys: readonly KeyColumn[]; tuple?: TupleKeys | null; pos: number; end: number }[], has: readonly boolean[], sc: SortScratch): number | null {
  let m = 0;
  for (const s of sources) m += s.end - s.pos;
  if (m < SORTED_MERGE_MIN_ROWS) return -1;
  const tuples: TupleKeys[] = [];
  for (const s of sources) {
    if (s.tuple === undefined) s.tuple = tupleKeys(s.keys);
    const t = s.tuple;
    if (t === null || (tuples.length > 0 && t.kinds.join() !== tuples[0].kinds.join())) return null;
    tuples.push(t);
  }
  sc.ensureWinners(m);
  return native.sortedWinnersTuple(
    tuples[0].kinds,
    tuples.flatMap((t) => t.nums),
    tuples.flatMap((t) => t.values),
    tuples.flatMap((t) => t.offsets),
    ...roundArgs(sources, has, sc),
  );
}

const encoder = new TextEncoder();

function strAt(d: Data, i: number): string {
  const o = d.valueOffsets as Int32Array | BigInt64Array;
  const a = Number(o[i]);
  const b = Number(o[i + 1]);
  return utf8Text((d.values as Uint8Array).subarray(a, b));
}

/**
 * Compute an operator column for `n` output rows from the recorded groups. Each group lists, in
 * merge order, the row ranges of the sources holding the key; only sources that have the column take
 * part. Semantics: docs/merge-on-read.md.
 */
function applyOperator(
  op: MergeOperator,
  field: Field,
  _c: number,
  datas: Data[],
  n: number,
  groupOff: Int32Array,
  rLocal: Int32Array,
  rStart: Int32Array,
  rEnd: Int32Array,
  rSrc: Int32Array,
  srcHas: boolean[],
): Data {
  if (op === 'UseLastNotNull') {
    const src = new Int32Array(n);
    const rows = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) {
      found: for (let g = groupOff[i + 1] - 1; g >= groupOff[i]; g--) {
        if (!srcHas[rSrc[g]]) continue;
        const d = datas[rLocal[g]];
        for (let r = rEnd[g] - 1; r >= rStart[g]; r--) {
          if (validAt(d, r)) {
            src[i] = rLocal[g];
            rows[i] = r;
            break found;
          }
        }
      }
    }
    return gatherData(field.type, datas, src, rows);
  }
  const all = op === 'SumAll' || op === 'JoinedAllByComma' || op === 'JoinedAllBySemicolon';
  const bitmap = new Uint8Array(((n + 63) & ~63) >> 3);
  let nulls = 0;
  if (op === 'SumAll' || op === 'SumLast') {
    const t = field.type as any;
    const big = t.typeId === Type.Int && t.bitWidth === 64;
    const out = new (t.ArrayType as any)(n);
    for (let i = 0; i < n; i++) {
      let acc: number | bigint = big ? 0n : -0; // -0 + x is x for every x, -0 included (0 + -0 was 0)
      let any = false;
      let isNull = false;
      for (let g = groupOff[i]; g < groupOff[i + 1] && !isNull; g++) {
        if (!srcHas[rSrc[g]] || (!all && sameSourceRangeFollows(rSrc, g, groupOff[i + 1]))) continue;
        const d = datas[rLocal[g]];
        const vals = d.values as any;
        const from = all ? rStart[g] : rEnd[g] - 1;
        for (let r = from; r < rEnd[g]; r++) {
          if (!validAt(d, r)) {
            isNull = true;
            break;
          }
          any = true;
          if (big) acc = (acc as bigint) + (vals[r] as bigint);
          else acc = (acc as number) + vals[r];
        }
      }
      if (isNull || !any) {
        nulls++;
        continue;
      }
      out[i] = big ? (t.isSigned ? BigInt.asIntN(64, acc as bigint) : BigInt.asUintN(64, acc as bigint)) : acc;
      bitmap[i >> 3] |= 1 << (i & 7);
    }
    return makeData({ type: field.type as any, length: n, nullCount: nulls, nullBitmap: nulls === 0 ? new Uint8Array(0) : bitmap, data: out }) as Data;
  }
  // Joined*
  const delim = op.endsWith('Comma') ? ',' : ';';
  const parts: (string | null)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const vals: string[] = [];
    let isNull = false;
    for (let g = groupOff[i]; g < groupOff[i + 1] && !isNull; g++) {
      if (!srcHas[rSrc[g]] || (!all && sameSourceRangeFollows(rSrc, g, groupOff[i + 1]))) continue;
      const d = datas[rLocal[g]];
      const from = all ? rStart[g] : rEnd[g] - 1;
      for (let r = from; r < rEnd[g]; r++) {
        if (!validAt(d, r)) {
          isNull = true;
          break;
        }
        vals.push(strAt(d, r));
      }
    }
    parts[i] = isNull || vals.length === 0 ? null : vals.join(delim);
  }
  const encoded = parts.map((s) => (s === null ? null : encoder.encode(s)));
  const total = encoded.reduce((a, b) => a + (b?.length ?? 0), 0);
  const values = new Uint8Array(total);
  const large = field.type.typeId === Type.LargeUtf8;
  const offs32 = large ? null : new Int32Array(n + 1);
  const offs64 = large ? new BigInt64Array(n + 1) : null;
  let p = 0;
  for (let i = 0; i < n; i++) {
    if (offs32) offs32[i] = p;
    else offs64![i] = BigInt(p);
    const e = encoded[i];
    if (e === null) {
      nulls++;
      continue;
    }
    values.set(e, p);
    p += e.length;
    bitmap[i >> 3] |= 1 << (i & 7);
  }
  if (offs32) offs32[n] = p;
  else offs64![n] = BigInt(p);
  return makeData({
    type: field.type as any, length: n, nullCount: nulls, nullBitmap: nulls === 0 ? new Uint8Array(0) : bitmap,
    valueOffsets: (offs32 ?? offs64) as any, data: values,
  }) as Data;
}

/**
 * Whether range `g` of a group (ranges up to `end`) is followed by another range of the same source:
 * a run carried from an earlier batch of the source, whose last row is not the source's last row of
 * the key (the `*Last` operators skip it).
 */
function sameSourceRangeFollows(rSrc: Int32Array, g: number, end: number): boolean {
  return g + 1 < end && rSrc[g + 1] === rSrc[g];
}

/** Options of {@link concatSources}. */
export interface ConcatOptions {
  outputSchema: Schema;
  batchSize?: number;
  signal?: AbortSignal;
}

/**
 * Non-PK tables (or `skip_merge_on_read`): the sources' rows one after the other, conformed to the
 * output schema (columns a source lacks are null), in batches of at most `batchSize` rows.
 */
export async function* concatSources(sources: MergeSource[], options: ConcatOptions): AsyncGenerator<RecordBatch> {
  const { outputSchema, signal } = options;
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_MERGE_BATCH_SIZE);
  for (let si = 0; si < sources.length; si++) {
    const s = sources[si];
    const exist = new Set(s.existCols);
    const it = s.batches[Symbol.asyncIterator]();
    try {
      for (;;) {
        throwIfAborted(signal, 'merge-on-read');
        const r = await it.next();
        if (r.done) break;
        const b = r.value;
        if (b.numRows === 0) continue;
        const names = columnIndexes(b);
        const cols = outputSchema.fields.map((f) => {
          const i = exist.has(f.name) ? (names.get(f.name) ?? -1) : -1;
          return i < 0 ? gatherData(f.type, [], null, new Int32Array(b.numRows).fill(-1)) : castData(b.data.children[i] as Data, f.type, { column: f.name });
        });
        for (let a = 0; a < b.numRows; a += batchSize) {
          const len = Math.min(batchSize, b.numRows - a);
          yield makeBatch(outputSchema, cols.map((d) => (a === 0 && len === b.numRows ? d : d.slice(a, len))), len);
        }
      }
    } finally {
      await it.return?.();
    }
  }
}
