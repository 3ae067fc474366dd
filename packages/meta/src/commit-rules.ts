/**
 * The commit rules of LakeSoul (lakesoul-protocol.md §2), with no SQL: given the op being committed
 * to one partition, the versions committed to that partition since the writer read it, and the
 * version it read, decide whether the commit goes in (and how its snapshot is formed), is dropped
 * for that partition, or conflicts. The catalog only executes the verdict.
 *
 * Shaped like delta-rs's `conflict_checker.rs`: each op has a list of named checks; the first that
 * objects decides. Adding an op (or changing what one may be rebased over) is one entry in
 * {@link COMMIT_RULES}, and `commit-rules.test.ts` tests every pair of ops.
 */
import type { CommitOp } from './types.js';

/** A version committed to the partition since the writer's read. */
export interface CommittedVersion {
  version: number;
  op: CommitOp;
}

/**
 * How the new version's snapshot is formed from the current one:
 * - `append`: current snapshot followed by the new commit (Append, Merge);
 * - `replace-read`: the new commit first, then what was committed since the read version
 *   (current minus the read snapshot), for rewrites of what was read (Compaction, Update);
 * - `empty`: nothing (Delete drops the partition's data).
 */
export type SnapshotForm = 'append' | 'replace-read' | 'empty';

/** A conflict: which check objected, over which committed version, and what the writer should do. */
export interface CommitConflict {
  /** Name of the check (stable; appears in messages and tests). */
  check: string;
  op: CommitOp;
  /** The version committed since the read that the commit cannot be rebased over. */
  other: CommittedVersion;
  readVersion: number;
  /** What the writer should do, for the message. */
  hint: string;
}

/** The decision for one partition of a commit. */
export type CommitVerdict =
  /** Commit a new version whose snapshot is formed as `snapshot` says. */
  | { action: 'commit'; snapshot: SnapshotForm }
  /** Leave this partition out of the commit (a compaction overtaken by a rewrite); not an error. */
  | { action: 'drop'; check: string; because: CommittedVersion }
  /** Refuse the commit (non-retryable: the writer must re-read and redo its work). */
  | { action: 'conflict'; conflict: CommitConflict }
  /** The request itself is wrong (InvalidArgument). */
  | { action: 'invalid'; check: string; message: string };

/** What a check sees. */
export interface CommitRuleInput {
  op: CommitOp;
  /** Versions committed since `readVersion`, in version order (empty when nothing happened). */
  since: readonly CommittedVersion[];
  /** The version the writer read (-1: the partition did not exist). */
  readVersion: number;
}

/** A named check: returns a verdict to stop at, or undefined to pass. */
export interface CommitCheck {
  /** The check's name, quoted in the conflict it returns. */
  name: string;
  /** The verdict refusing (or rebasing) the commit, or undefined when this check lets it through. */
  check(input: CommitRuleInput): Exclude<CommitVerdict, { action: 'commit' }> | undefined;
}

/** What one op may do: its snapshot form and the checks run before it. */
export interface CommitRule {
  snapshot: SnapshotForm;
  checks: readonly CommitCheck[];
}

/** A check refusing the commit when any version since the read has one of `ops`. */
function conflictsWith(name: string, ops: readonly CommitOp[] | 'any', hint: string): CommitCheck {
  return {
    name,
    check: ({ op, since, readVersion }) => {
      const other = since.find((s) => ops === 'any' || ops.includes(s.op));
      return other ? { action: 'conflict', conflict: { check: name, op, other, readVersion, hint } } : undefined;
    },
  };
}

/** A check refusing the commit when a version since the read has an op NOT in `ops`. */
function rebasesOnlyOver(name: string, ops: readonly CommitOp[]): CommitCheck {
  return {
    name,
    check: ({ op, since, readVersion }) => {
      const other = since.find((s) => !ops.includes(s.op));
      return other ? { action: 'conflict', conflict: { check: name, op, other, readVersion, hint: `${op} cannot be rebased over ${other.op}` } } : undefined;
    },
  };
}

/** A check dropping the partition from the commit when any version since the read has one of `ops`. */
function droppedAfter(name: string, ops: readonly CommitOp[]): CommitCheck {
  return {
    name,
    check: ({ since }) => {
      const other = since.find((s) => ops.includes(s.op));
      return other ? { action: 'drop', check: name, because: other } : undefined;
    },
  };
}

const needsRead: CommitCheck = {
  name: 'compaction-needs-data',
  check: ({ readVersion }) => (readVersion < 0 ? { action: 'invalid', check: 'compaction-needs-data', message: `nothing to compact (readVersion ${readVersion})` } : undefined),
};

/** Ops that rewrite what they read: a commit based on data they replaced would resurrect rows. */
const REWRITES: readonly CommitOp[] = ['UpdateCommit', 'CompactionCommit', 'DeleteCommit'];

/**
 * The rules, per op. Append and Merge rebase over the ops listed (their rows stay valid on top of
 * them); a Compaction is dropped when a rewrite overtook its read (its output would restore replaced
 * files) but goes in over appends and merges (they stay after it); an Update conflicts with a
 * rewrite since its read (stricter than upstream for Compaction and Delete: rebasing would resurrect
 * rows it replaced); a Delete conflicts with anything since its read.
 */
export const COMMIT_RULES: Readonly<Record<CommitOp, CommitRule>> = {
  AppendCommit: { snapshot: 'append', checks: [rebasesOnlyOver('append-rebases-over-append-compaction-update', ['CompactionCommit', 'AppendCommit', 'UpdateCommit'])] },
  MergeCommit: { snapshot: 'append', checks: [rebasesOnlyOver('merge-rebases-over-merge-compaction-update', ['CompactionCommit', 'UpdateCommit', 'MergeCommit'])] },
  CompactionCommit: { snapshot: 'replace-read', checks: [needsRead, droppedAfter('compaction-overtaken-by-rewrite', REWRITES)] },
  UpdateCommit: { snapshot: 'replace-read', checks: [conflictsWith('update-after-rewrite', REWRITES, 're-read the partition and redo the update')] },
  DeleteCommit: { snapshot: 'empty', checks: [conflictsWith('delete-after-any', 'any', 're-read the partition and redo the delete')] },
};

/** The commit ops the catalog accepts. */
export const COMMIT_OPS: readonly CommitOp[] = Object.keys(COMMIT_RULES) as CommitOp[];

/**
 * Decides one partition of a commit: `op` committed by a writer that read `readVersion`, with
 * `opsSince` committed to the partition since (in version order). Pure.
 */
export function checkCommit(op: CommitOp, opsSince: readonly CommittedVersion[], readVersion: number): CommitVerdict {
  const rule = COMMIT_RULES[op];
  if (!rule) return { action: 'invalid', check: 'known-op', message: `unknown commit op '${String(op)}'` };
  const input: CommitRuleInput = { op, since: opsSince, readVersion };
  for (const c of rule.checks) {
    const v = c.check(input);
    if (v) return v;
  }
  return { action: 'commit', snapshot: rule.snapshot };
}

/**
 * The new snapshot (commit ids in merge order) a `commit` verdict forms: `current` is the current
 * version's snapshot, `read` the read version's, `id` the new commit's.
 */
export function formSnapshot(form: SnapshotForm, current: readonly string[], read: readonly string[], id: string): string[] {
  switch (form) {
    case 'append': return [...current, id];
    case 'replace-read': {
      const r = new Set(read);
      return [id, ...current.filter((c) => !r.has(c))];
    }
    case 'empty': return [];
  }
}
