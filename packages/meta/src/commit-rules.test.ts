/**
 * The commit rules as a table: every op committed over every op committed since its read (and over
 * nothing), with the expected verdict written out, so a change to a rule shows up here as a diff.
 */
import { describe, expect, it } from 'vitest';
import { checkCommit, COMMIT_OPS, formSnapshot, type CommitVerdict } from './commit-rules.js';
import type { CommitOp } from './types.js';

const A = 'AppendCommit', M = 'MergeCommit', C = 'CompactionCommit', U = 'UpdateCommit', D = 'DeleteCommit';
type Expect = 'commit' | 'drop' | 'conflict';

/** [op being committed][op committed since the read] -> verdict. */
const TABLE: Record<CommitOp, Record<CommitOp, Expect>> = {
  [A]: { [A]: 'commit', [M]: 'conflict', [C]: 'commit', [U]: 'commit', [D]: 'conflict' },
  [M]: { [A]: 'conflict', [M]: 'commit', [C]: 'commit', [U]: 'commit', [D]: 'conflict' },
  [C]: { [A]: 'commit', [M]: 'commit', [C]: 'drop', [U]: 'drop', [D]: 'drop' },
  [U]: { [A]: 'commit', [M]: 'commit', [C]: 'conflict', [U]: 'conflict', [D]: 'conflict' },
  [D]: { [A]: 'conflict', [M]: 'conflict', [C]: 'conflict', [U]: 'conflict', [D]: 'conflict' },
};

const SNAPSHOT: Record<CommitOp, string> = { [A]: 'append', [M]: 'append', [C]: 'replace-read', [U]: 'replace-read', [D]: 'empty' };

describe('commit rules', () => {
  it('covers every LakeSoul commit op', () => {
    expect([...COMMIT_OPS].sort()).toEqual(Object.keys(TABLE).sort());
  });

  for (const op of COMMIT_OPS) {
    it(`${op} with nothing committed since its read commits (${SNAPSHOT[op]})`, () => {
      expect(checkCommit(op, [], 3)).toEqual({ action: 'commit', snapshot: SNAPSHOT[op] });
    });
    for (const other of COMMIT_OPS) {
      it(`${op} over ${other}: ${TABLE[op][other]}`, () => {
        const since = [{ version: 4, op: other }];
        const v = checkCommit(op, since, 3);
        expect(v.action).toBe(TABLE[op][other]);
        if (v.action === 'commit') expect(v.snapshot).toBe(SNAPSHOT[op]);
        if (v.action === 'drop') expect(v.because).toEqual(since[0]);
        if (v.action === 'conflict') {
          expect(v.conflict).toMatchObject({ op, other: since[0], readVersion: 3 });
          expect(v.conflict.check).toMatch(/^[a-z-]+$/);
          expect(v.conflict.hint.length).toBeGreaterThan(0);
        }
      });
    }
  }

  it('decides on the first objecting version of several', () => {
    const v = checkCommit(A, [{ version: 1, op: C }, { version: 2, op: U }, { version: 3, op: M }, { version: 4, op: D }], 0) as Extract<CommitVerdict, { action: 'conflict' }>;
    expect(v.conflict.other).toEqual({ version: 3, op: M });
    expect(checkCommit(C, [{ version: 1, op: A }, { version: 2, op: U }], 0)).toMatchObject({ action: 'drop', because: { version: 2, op: U } });
  });

  it('refuses a compaction of a partition never read, and unknown ops', () => {
    expect(checkCommit(C, [], -1)).toMatchObject({ action: 'invalid', message: expect.stringMatching(/nothing to compact/) });
    expect(checkCommit('OverwriteCommit' as CommitOp, [], 0)).toMatchObject({ action: 'invalid', message: expect.stringMatching(/unknown commit op 'OverwriteCommit'/) });
  });

  it('forms snapshots: append, rewrite of what was read (keeping what came since), empty', () => {
    expect(formSnapshot('append', ['a', 'b'], [], 'n')).toEqual(['a', 'b', 'n']);
    expect(formSnapshot('replace-read', ['a', 'b', 'c'], ['a', 'b'], 'n')).toEqual(['n', 'c']);
    expect(formSnapshot('replace-read', ['c2', 'x'], ['a'], 'n')).toEqual(['n', 'c2', 'x']);
    expect(formSnapshot('empty', ['a'], ['a'], 'n')).toEqual([]);
  });
});
