import { describe, expect, it } from 'vitest';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { assignShards, equalizedSampleCount, shardIndex } from './shard-assign.js';

const splits = (counts: (number | null)[]) => counts.map((rowCount, i) => ({ id: `date=2024-01-0${i % 3}#${i}`, rowCount }));

describe('assignShards', () => {
  it('assigns every split to exactly one shard, independent of input order', () => {
    const s = splits([10, 3, 7, 7, 1, 12, 5]);
    const a = assignShards(s, 3);
    expect(a.flat().map((x) => x.id).sort()).toEqual(s.map((x) => x.id).sort());
    const b = assignShards([...s].reverse(), 3);
    expect(b.map((sh) => sh.map((x) => x.id))).toEqual(a.map((sh) => sh.map((x) => x.id)));
  });

  it('balances rows when counts are known (largest first to the least loaded shard)', () => {
    const a = assignShards(splits([10, 3, 7, 7, 1, 12, 5]), 3);
    const loads = a.map((sh) => sh.reduce((n, x) => n + (x.rowCount ?? 0), 0));
    // total 45: LPT gives 15/15/15 here.
    expect(loads.sort()).toEqual([15, 15, 15]);
  });

  it('falls back to round-robin in id order without counts, and tolerates more shards than splits', () => {
    const a = assignShards(splits([null, 4, null, 2]), 3);
    expect(a.map((sh) => sh.length)).toEqual([2, 1, 1]);
    const b = assignShards(splits([1, 2]), 4);
    expect(b.filter((sh) => sh.length === 0).length).toBe(2);
  });

  it('rejects duplicate ids and bad shard counts', () => {
    expect(() => assignShards([{ id: 'a', rowCount: 1 }, { id: 'a', rowCount: 2 }], 2)).toThrow(LakeSoulError);
    expect(() => assignShards(splits([1]), 0)).toThrow(/numShards/);
  });
});

describe('shardIndex', () => {
  it('is rank * workersPerRank + worker', () => {
    expect(shardIndex({ rank: 2, worldSize: 3, workersPerRank: 4, worker: 1 })).toEqual({ shard: 9, numShards: 12 });
    expect(shardIndex({ rank: 0, worldSize: 1 })).toEqual({ shard: 0, numShards: 1 });
  });
  it('never guesses: out-of-range values are InvalidArgument errors', () => {
    for (const bad of [{ rank: 3, worldSize: 3 }, { rank: -1, worldSize: 3 }, { rank: 0, worldSize: 0 }, { rank: 0, worldSize: 2, workersPerRank: 2, worker: 2 }, { rank: 0.5, worldSize: 2 }]) {
      try {
        shardIndex(bad);
        expect.unreachable();
      } catch (e) {
        expect(LakeSoulError.is(e, 'InvalidArgument')).toBe(true);
      }
    }
  });
});

describe('equalizedSampleCount', () => {
  it('pad -> max, drop -> min, none -> null', () => {
    const shards = assignShards(splits([10, 3, 7, 7, 1, 12]), 4);
    const loads = shards.map((sh) => sh.reduce((n, x) => n + (x.rowCount ?? 0), 0));
    expect(equalizedSampleCount(shards, 'pad')).toBe(Math.max(...loads));
    expect(equalizedSampleCount(shards, 'drop')).toBe(Math.min(...loads));
    expect(equalizedSampleCount(shards, 'none')).toBeNull();
  });
  it('needs row counts, and refuses an empty shard: pad has nothing to pad from, drop would drop every row', () => {
    expect(() => equalizedSampleCount(assignShards(splits([null, 3]), 2), 'drop')).toThrow(/row counts/);
    expect(() => equalizedSampleCount(assignShards(splits([4, 3]), 3), 'pad')).toThrow(/no rows to pad/);
    // 'drop' gave 0 samples to every shard (an epoch of nothing on every rank), and pad's error advised it
    expect(() => equalizedSampleCount(assignShards(splits([4, 3]), 3), 'drop')).toThrow(/equalize 'drop': shard 2 has no rows \(3 shards for 2 splits\), so every shard would drop all of its rows/);
    expect(() => equalizedSampleCount(assignShards(splits([4, 3]), 3), 'pad')).toThrow(/use fewer ranks\/workers, or 'none'/);
    expect(equalizedSampleCount(assignShards(splits([0, 0]), 2), 'drop')).toBe(0); // an empty table: nothing to drop
  });
});
