/**
 * The epoch stream of one shard, a pure function of plan, shard, seed and epoch: shard splits ->
 * seeded split permutation -> rows -> bounded seeded shuffle buffer -> equalize (truncate for 'drop',
 * replay the same stream for 'pad'), from any resume position. It carries chunks (the rows of one
 * Arrow batch), not single samples: one async step per batch keeps per-row overhead to plain loops.
 */
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { ScanPlan, Split } from '@lakesoul-ts/io';
import { batchToRows } from './arrow-rows.js';
import type { Sample } from './dataset-mapping.js';
import { SeededRandom, permute } from './seeded-random.js';
import type { EqualizeMode } from './shard-assign.js';
import { ShuffleBuffer, simulateShuffle } from './shuffle-buffer.js';

/** What an {@link EpochStream} reads, and how. */
export interface EpochStreamContext {
  plan: ScanPlan;
  shardSplits: Split[];
  shard: number;
  tableName: string;
  readColumns: string[];
  readBatchSize: number;
  shuffle: { seed: number; bufferSize: number } | null;
  bufferSize: number;
  equalize: EqualizeMode;
  /** Samples per epoch when equalizing. */
  target: number | null;
  exactCounts: boolean;
  /** Leave blob bytes unread (the image stage fetches each object itself). */
  fetchImages: boolean;
  signal?: AbortSignal;
}

/** The samples of one shard, epoch by epoch (see the file comment). */
export class EpochStream {
  constructor(private readonly c: EpochStreamContext) {}

  private splitOrder(ep: number): Split[] {
    const { shuffle, shardSplits, shard } = this.c;
    return shuffle ? permute(shardSplits, new SeededRandom(shuffle.seed, 'splits', ep, shard)) : shardSplits;
  }

  /** `list`'s rows split by split, the next split's first read started while the current one streams. */
  private async *splitsAhead(list: Split[]): AsyncGenerator<[Split, AsyncIterableIterator<Sample[]>]> {
    let ahead = list.length > 0 ? primed(this.splitRows(list[0])) : undefined;
    try {
      for (let i = 0; i < list.length; i++) {
        const cur = ahead!;
        ahead = i + 1 < list.length ? primed(this.splitRows(list[i + 1])) : undefined;
        try {
          yield [list[i], cur];
        } finally {
          await cur.return?.();
        }
      }
    } finally {
      await ahead?.return?.();
    }
  }

  private async *splitRows(split: Split): AsyncGenerator<Sample[]> {
    const { plan, readBatchSize, signal, fetchImages, readColumns } = this.c;
    let index = 0;
    for await (const batch of plan.readSplit(split, { batchSize: readBatchSize, signal, blobBytes: !fetchImages })) {
      const rows = batchToRows(batch, readColumns);
      if (rows.length > 0) yield rows.map((row) => ({ row, splitId: split.id, index: index++ }));
    }
  }

  /** The epoch's rows of this shard, shuffled, before equalization (a full pass from its start). */
  /** A full pass from its start. */
  async *onePass(ep: number): AsyncGenerator<Sample[]> {
    const { shuffle, shard, bufferSize } = this.c;
    const order = this.splitOrder(ep);
    if (!shuffle) {
      for await (const [, rows] of this.splitsAhead(order)) yield* rows;
      return;
    }
    const buffer = new ShuffleBuffer<Sample>(bufferSize, new SeededRandom(shuffle.seed, 'buffer', ep, shard));
    for await (const [, rows] of this.splitsAhead(order)) {
      for await (const chunk of rows) {
        const out: Sample[] = [];
        for (const s of chunk) {
          const r = buffer.push(s);
          if (r) out.push(r.value);
        }
        if (out.length > 0) yield out;
      }
    }
    yield* this.drain(buffer);
  }

  private *drain(buffer: ShuffleBuffer<Sample>): Generator<Sample[]> {
    const { readBatchSize } = this.c;
    let out: Sample[] = [];
    for (let r = buffer.pop(); r; r = buffer.pop()) {
      out.push(r.value);
      if (out.length === readBatchSize) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  }

  /**
   * A pass from its `skip`-th sample on, for exact split row counts (no primary key, no filter): the
   * position is computed without data, and only splits holding rows still to come (resident in the
   * shuffle buffer, or not yet read) are read.
   */
  private async *passFrom(ep: number, skip: number): AsyncGenerator<Sample[]> {
    const { shuffle, shard, tableName, bufferSize } = this.c;
    if (skip === 0) {
      yield* this.onePass(ep);
      return;
    }
    const order = this.splitOrder(ep);
    const starts: number[] = [];
    let n = 0;
    for (const sp of order) {
      starts.push(n);
      n += sp.rowCount as number;
    }
    if (skip >= n) return;
    const sim = shuffle ? simulateShuffle(n, bufferSize, new SeededRandom(shuffle.seed, 'buffer', ep, shard), skip) : { pushed: skip, slots: [] as number[], rngState: null };
    const slotOf = new Map(sim.slots.map((pos, i) => [pos, i]));
    const resident: Sample[] = new Array(sim.slots.length);
    // Built once every resident row is back (all of them precede input position `pushed`).
    let buffer: ShuffleBuffer<Sample> | null = null;
    const restored = (): ShuffleBuffer<Sample> => {
      if (buffer === null) {
        if (resident.some((r) => r === undefined)) throw new LakeSoulError('Internal', `resume of ${tableName}: a resident shuffle-buffer row was not found`, { code: 'RESUME_POSITION' });
        buffer = ShuffleBuffer.restore<Sample>(bufferSize, resident, sim.rngState!);
      }
      return buffer;
    };
    const needed = order.filter((split, i) => starts[i] + (split.rowCount as number) > sim.pushed || sim.slots.some((pos) => pos >= starts[i] && pos < starts[i] + (split.rowCount as number)));
    for await (const [split, rows] of this.splitsAhead(needed)) {
      const a = starts[order.indexOf(split)];
      const b = a + (split.rowCount as number);
      let pos = a;
      for await (const chunk of rows) {
        const out: Sample[] = [];
        for (const s of chunk) {
          if (pos >= b) break;
          if (pos < sim.pushed) {
            const slot = slotOf.get(pos);
            if (slot !== undefined) resident[slot] = s;
          } else if (sim.rngState) {
            const r = restored().push(s);
            if (r) out.push(r.value);
          } else out.push(s);
          pos++;
        }
        if (out.length > 0) yield out;
      }
      if (pos !== b) {
        throw new LakeSoulError('Internal', `split ${split.id} of ${tableName} yielded ${pos - a} rows, its footers say ${b - a}; cannot position the resumed stream`, {
          code: 'ROW_COUNT_MISMATCH',
          context: { table: tableName, partition: split.partitionDesc },
        });
      }
    }
    if (sim.rngState) yield* this.drain(restored());
  }

  /** The equalized epoch stream from its `skip`-th sample: `target` samples in all when equalizing. */
  async *stream(ep: number, skip: number): AsyncGenerator<Sample[]> {
    const { exactCounts, shardSplits, equalize, target, shard, tableName } = this.c;
    if (skip > 0 && !exactCounts) {
      // Row counts are upper bounds (merge) or unknown (filter): replay and drop the first `skip`
      // samples (no decoding, no tensors).
      let k = 0;
      for await (const chunk of this.stream(ep, 0)) {
        if (k + chunk.length <= skip) k += chunk.length;
        else {
          yield k >= skip ? chunk : chunk.slice(skip - k);
          k = skip;
        }
      }
      if (k < skip) {
        // The count was known only by reading: the position lies beyond the epoch's end.
        throw new LakeSoulError('InvalidArgument', `resumeFrom: position ${skip} (samplesConsumed) is past the end of epoch ${ep}, which held ${k} samples on shard ${shard} of ${tableName} (counted by reading: a filter or primary-key merge makes the footers' counts upper bounds); resume from a state this reader's getState() saved, or with samplesConsumed 0 and epoch ${ep + 1} for the next epoch`, {
          code: 'RESUME_PAST_END',
          context: { table: tableName, epoch: ep, samplesConsumed: skip, samples: k, shard },
        });
      }
      return;
    }
    let n = skip;
    // With 'pad', whole passes before the position are skipped by arithmetic (the pass length is known).
    const passLen = exactCounts ? shardSplits.reduce((acc, sp) => acc + (sp.rowCount as number), 0) : null;
    const passSkip = equalize === 'pad' && passLen !== null && passLen > 0 ? skip % passLen : skip;
    let inPass = passSkip;
    const limit = (chunk: Sample[]): Sample[] | null => {
      if (target === null) return chunk;
      if (n >= target) return null;
      return n + chunk.length > target ? chunk.slice(0, target - n) : chunk;
    };
    for await (const chunk of this.passFrom(ep, passSkip)) {
      const c = limit(chunk);
      if (c === null) return;
      yield c;
      n += c.length;
      inPass += c.length;
    }
    if (target === null || n >= target) return;
    if (equalize === 'drop') {
      throw new LakeSoulError('Conflict', `equalize 'drop': shard ${shard} of ${tableName} yielded ${n} rows but the metadata promised at least ${target} (a filter or primary-key merge removed rows); use equalize 'pad' (a shorter shard replays its own rows up to the count of the largest shard) or 'none' (every shard yields its own rows; ranks then step unevenly)`, {
        code: 'EQUALIZE_SHORT',
        context: { table: tableName, shard, rows: n, target },
      });
    }
    if (inPass === 0) {
      // Nothing to replay: 'pad' repeats a shard's own rows, and this one has none this epoch.
      throw new LakeSoulError('Conflict', `equalize 'pad': shard ${shard} of ${tableName} yielded no row (its ${shardSplits.length} split(s) hold rows by their metadata, but the filter or primary-key merge removed them all), so there is nothing to pad from to reach the ${target} samples every shard must yield; use equalize 'none' (each shard yields its own rows; ranks then step unevenly), fewer ranks (worldSize), a filter that leaves rows in every shard (or the filtered rows written to a table of their own), or, when primary-key deletes or upserts emptied it, compact the table (exact row counts: the shards are balanced by the rows that remain)`, {
        code: 'EQUALIZE_SHORT',
        context: { table: tableName, shard, rows: 0, target, splits: shardSplits.map((sp) => sp.id) },
      });
    }
    // 'pad': replay the same epoch stream from its start.
    while (n < target) {
      for await (const chunk of this.onePass(ep)) {
        const c = limit(chunk);
        if (c === null) return;
        yield c;
        n += c.length;
      }
    }
  }
}

/** `it` with its first `next()` already started (the read begins now; the result is kept for the caller). */
function primed<T>(it: AsyncIterator<T>): AsyncIterableIterator<T> {
  let first: Promise<IteratorResult<T>> | null = it.next();
  first.catch(() => undefined); // seen by the caller's first next()
  return {
    next: () => {
      const f = first;
      first = null;
      return f ?? it.next();
    },
    return: async (v?: unknown) => {
      first = null;
      return (await it.return?.(v as never)) ?? { done: true, value: undefined as never };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
