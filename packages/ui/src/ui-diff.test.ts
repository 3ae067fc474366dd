/** The diff's pure steps, as tables: which method each partition gets, and how rows compare. */
import { describe, expect, it } from 'vitest';
import type { CommitOp, PartitionVersion } from '@lakesoul-ts/meta';
import { DiffBuilder, MAX_DIFF_LIST, compareAsBags, compareByKey, diffMethods, pkText } from './ui-diff.js';

const v = (partitionDesc: string, timestamp: number, commitOp: CommitOp): PartitionVersion => ({ partitionDesc, version: 0, commitOp, timestamp, snapshot: [] });

describe('diffMethods', () => {
  it.each([
    ['PK: merges and compactions are incremental', true, [v('p', 2, 'MergeCommit'), v('p', 3, 'CompactionCommit')], { p: 'incremental' }],
    ['PK: an update in the range means snapshots', true, [v('p', 2, 'MergeCommit'), v('p', 3, 'UpdateCommit')], { p: 'snapshots' }],
    ['PK: a dropped partition means snapshots', true, [v('p', 2, 'DeleteCommit')], { p: 'snapshots' }],
    ['commits at or before from, or after to, do not count', true, [v('p', 1, 'UpdateCommit'), v('q', 5, 'UpdateCommit'), v('r', 4, 'MergeCommit')], { r: 'incremental' }],
    ['no PK: appends are incremental', false, [v('p', 2, 'AppendCommit')], { p: 'incremental' }],
    ['no PK: anything but appends and compactions means snapshots', false, [v('p', 2, 'AppendCommit'), v('p', 3, 'MergeCommit')], { p: 'snapshots' }],
  ] as const)('%s', (_name, pk, history, expected) => {
    expect(diffMethods([...history], 1, 4, pk)).toEqual(expected);
  });
});

describe('comparing rows', () => {
  it('by key: added, deleted, changed with the columns that differ, unchanged only for keys of an increment', () => {
    const before = [{ id: 1, v: 'a' }, { id: 2, v: 'b' }, { id: 3, v: 'c' }];
    const after = [{ id: 2, v: 'B' }, { id: 3, v: 'c' }, { id: 4, v: 'd' }];
    const all = new DiffBuilder(0, 1, ['id'], ['id', 'v'], {});
    compareByKey(all, ['id'], before, after, null);
    expect(all.result.counts).toEqual({ added: 1, changed: 1, deleted: 1, unchanged: 0 });
    expect(all.result.changed).toEqual([{ key: { id: 2 }, before: { id: 2, v: 'b' }, after: { id: 2, v: 'B' }, columns: ['v'] }]);
    const inc = new DiffBuilder(0, 1, ['id'], ['id', 'v'], {});
    compareByKey(inc, ['id'], before, after, new Set([pkText(['id'], { id: 3 })]));
    expect(inc.result.counts).toEqual({ added: 0, changed: 0, deleted: 0, unchanged: 1 });
  });

  it('as multisets: duplicates count', () => {
    const d = new DiffBuilder(0, 1, [], ['n'], {});
    compareAsBags(d, [{ n: 1 }, { n: 1 }, { n: 2 }], [{ n: 1 }, { n: 2 }, { n: 2 }, { n: 3 }]);
    expect(d.result.deleted).toEqual([{ n: 1 }]);
    expect(d.result.added).toEqual([{ n: 2 }, { n: 3 }]);
  });

  it('lists stop at the limit, counts do not', () => {
    const d = new DiffBuilder(0, 1, [], ['n'], {});
    compareAsBags(d, [], Array.from({ length: MAX_DIFF_LIST + 5 }, (_, n) => ({ n })));
    expect(d.result.counts.added).toBe(MAX_DIFF_LIST + 5);
    expect(d.result.added).toHaveLength(MAX_DIFF_LIST);
    expect(d.result.truncated).toBe(true);
  });
});
