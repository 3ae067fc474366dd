/**
 * Shard assignment from catalog metadata alone: every rank computes the same assignment from the same
 * plan, before reading any data. Shards are whole scan splits.
 */
import { LakeSoulError } from '@lakesoul-ts/meta';

/** The part of a split the assignment looks at. */
export interface ShardableSplit {
  id: string;
  rowCount: number | null;
}

/** How sample counts are equalized across shards so data-parallel steps stay in lock step. */
export type EqualizeMode = 'pad' | 'drop' | 'none';

/** Options of {@link shardIndex}. */
export interface ShardIndexOptions {
  rank: number;
  worldSize: number;
  /** Readers per rank (default 1). */
  workersPerRank?: number;
  /** This reader within its rank, `0 <= worker < workersPerRank` (default 0). */
  worker?: number;
}

/**
 * The global shard of a reader: `rank * workersPerRank + worker`, out of `worldSize * workersPerRank`.
 * Throws `InvalidArgument` on out-of-range or non-integer values (nothing is guessed).
 */
export function shardIndex(options: ShardIndexOptions): { shard: number; numShards: number } {
  const { rank, worldSize } = options;
  const workers = options.workersPerRank ?? 1;
  const worker = options.worker ?? 0;
  const check = (name: string, v: number, lo: number, hi: number) => {
    if (!Number.isInteger(v) || v < lo || v >= hi) {
      throw new LakeSoulError('InvalidArgument', `${name} must be an integer in [${lo}, ${hi}), got ${typeof v === 'number' ? v : JSON.stringify(v)}`, { code: 'BAD_SHARD_OPTION', context: { [name]: v } });
    }
  };
  check('worldSize', worldSize, 1, Number.MAX_SAFE_INTEGER);
  check('workersPerRank', workers, 1, Number.MAX_SAFE_INTEGER);
  check('rank', rank, 0, worldSize);
  check('worker', worker, 0, workers);
  return { shard: rank * workers + worker, numShards: worldSize * workers };
}

/**
 * Assigns whole splits to `numShards` shards, deterministically (independent of the input order).
 * When every split has a row count, splits go largest first to the least-loaded shard (ties: lower
 * shard index, then split id), which keeps shard sizes close; otherwise round-robin in split-id order.
 * Every split lands in exactly one shard.
 */
export function assignShards<S extends ShardableSplit>(splits: readonly S[], numShards: number): S[][] {
  if (!Number.isInteger(numShards) || numShards < 1) {
    throw new LakeSoulError('InvalidArgument', `numShards must be a positive integer, got ${numShards}`, { code: 'BAD_SHARD_OPTION' });
  }
  const ids = new Set<string>();
  for (const s of splits) {
    if (ids.has(s.id)) throw new LakeSoulError('InvalidArgument', `duplicate split id ${s.id} in the scan plan`, { code: 'DUPLICATE_SPLIT', context: { split: s.id } });
    ids.add(s.id);
  }
  const byId = [...splits].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const shards: S[][] = Array.from({ length: numShards }, () => []);
  if (byId.every((s) => s.rowCount !== null)) {
    const loads = new Array<number>(numShards).fill(0);
    const ordered = byId.map((s, i) => ({ s, i })).sort((a, b) => (b.s.rowCount as number) - (a.s.rowCount as number) || a.i - b.i);
    for (const { s } of ordered) {
      let best = 0;
      for (let k = 1; k < numShards; k++) if (loads[k] < loads[best]) best = k;
      shards[best].push(s);
      loads[best] += s.rowCount as number;
    }
    // Within a shard, keep split-id order (the unshuffled read order).
    for (const sh of shards) sh.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  } else {
    byId.forEach((s, i) => shards[i % numShards].push(s));
  }
  return shards;
}

/**
 * Samples each shard yields per epoch under `mode`, from the shards' metadata row counts:
 * 'pad' -> the largest shard's count, 'drop' -> the smallest, 'none' -> null (each shard its own).
 * Throws `InvalidArgument` when a count is unknown (call `ScanPlan.withRowCounts()` first), when
 * 'pad' would have to pad an empty shard, or when 'drop' would drop every row (an empty shard).
 */
export function equalizedSampleCount(shards: readonly (readonly ShardableSplit[])[], mode: EqualizeMode): number | null {
  if (mode === 'none') return null;
  const counts = shards.map((sh) =>
    sh.reduce((acc, s) => {
      if (s.rowCount === null) {
        throw new LakeSoulError('InvalidArgument', `equalize '${mode}' needs row counts; split ${s.id} has none (plan.withRowCounts() fills them)`, {
          code: 'ROW_COUNTS_REQUIRED',
          context: { split: s.id },
        });
      }
      return acc + s.rowCount;
    }, 0),
  );
  if (mode === 'pad') {
    const max = Math.max(...counts);
    const empty = counts.findIndex((c) => c === 0);
    if (max > 0 && empty >= 0) {
      throw new LakeSoulError('InvalidArgument', `equalize 'pad': shard ${empty} has no rows to pad from (${shards.length} shards for ${shards.flat().length} splits); use fewer ranks/workers, or 'none' (shards of unequal size), or more splits (more files or buckets)`, {
        code: 'EMPTY_SHARD',
        context: { shard: empty },
      });
    }
    return max;
  }
  if (mode === 'drop') {
    // an empty shard would make every shard drop everything: an epoch of nothing on every rank
    const empty = counts.findIndex((c) => c === 0);
    if (empty >= 0 && Math.max(...counts) > 0) {
      throw new LakeSoulError('InvalidArgument', `equalize 'drop': shard ${empty} has no rows (${shards.length} shards for ${shards.flat().length} splits), so every shard would drop all of its rows; use fewer ranks/workers, or 'none' (shards of unequal size), or more splits (more files or buckets)`, {
        code: 'EMPTY_SHARD',
        context: { shard: empty },
      });
    }
    return Math.min(...counts);
  }
  throw new LakeSoulError('InvalidArgument', `equalize must be 'pad', 'drop' or 'none', got ${String(mode)}`, { code: 'BAD_SHARD_OPTION' });
}
