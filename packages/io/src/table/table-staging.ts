/**
 * Staged writes: write data files now, commit them later in one catalog commit together with other
 * staged writes of the same table (Flight transactions: several DoPut streams, from several clients,
 * become one commit), or discard them.
 *
 * Contract: staging uploads files and touches no catalog row, so until {@link commitStagedWrites}
 * readers see nothing of it. A staged write that is never committed leaves files that
 * {@link discardStagedWrites} deletes (or, if the process dies first, that `cleanup()` removes as
 * orphans after its safety window).
 */
import { LakeSoulError, throwIfAborted, type CommitOp, type CommitSchema, type DataFileOp, type PartitionCommit } from '@lakesoul-ts/meta';
import type { WriteInput, WriteResult } from '../types.js';
import { overwriteCommits, writeTable, type OverwritePlan, type StagedWrite, type TableWriteOptions } from './table-writer.js';
import { checkFilesExist, commitSurelyFailed, deleteUrisBestEffort, inTableTerms, type TableContext } from './table-context.js';

export type { StagedWrite, OverwritePlan } from './table-writer.js';

/** Options of `LakeSoulTable.stage`: a write's options, and optionally the overwrite plan to write under. */
export interface StageOptions extends TableWriteOptions {
  /**
   * Stage part of the overwrite `plan` (from `LakeSoulTable.planOverwrite`): rows must fall in its
   * partitions, `mode` must be absent or 'overwrite', `replacePartitions` / `replaceWhere` absent (the
   * plan holds them). Commit with `commitStaged(staged, { overwrite: plan })`.
   */
  overwrite?: OverwritePlan;
}

function checkPlan(ctx: TableContext, plan: OverwritePlan, what: string): void {
  if (plan.tableId !== ctx.info.tableId) {
    throw new LakeSoulError('InvalidArgument', `${what}: the overwrite plan is of table id ${plan.tableId}, not of table '${ctx.info.name}' (${ctx.info.tableId})`, {
      code: 'STAGED_WRONG_TABLE',
      context: { table: ctx.info.name, namespace: ctx.info.namespace },
    });
  }
}

/**
 * Validates and writes `input` like `LakeSoulTable.write`, uploads its files and returns them
 * uncommitted. A failure deletes what was written, as in a write.
 */
export async function stageWrite(ctx: TableContext, input: WriteInput, options: StageOptions = {}): Promise<StagedWrite> {
  const { overwrite: plan, ...writeOptions } = options;
  if (plan) {
    checkPlan(ctx, plan, `staging into table '${ctx.info.name}'`);
    if ((writeOptions.mode ?? 'overwrite') !== 'overwrite' || writeOptions.replacePartitions !== undefined || writeOptions.replaceWhere !== undefined) {
      throw new LakeSoulError('InvalidArgument', `staging into table '${ctx.info.name}' under an overwrite plan: give no mode (or 'overwrite'), replacePartitions or replaceWhere (the plan holds them)`, {
        context: { table: ctx.info.name, namespace: ctx.info.namespace },
      });
    }
    writeOptions.mode = 'overwrite';
  }
  let staged: StagedWrite | undefined;
  await writeTable(ctx, input, writeOptions, { stage: (s) => { staged = s; }, overwrite: plan });
  if (staged) return staged;
  // Nothing was written (empty input): an empty staged write of the op the write would have made.
  const isPk = ctx.info.primaryKeys.length > 0;
  const mode = writeOptions.mode;
  const op: CommitOp = mode === 'overwrite' ? 'UpdateCommit' : isPk && (mode ?? 'upsert') === 'upsert' ? 'MergeCommit' : 'AppendCommit';
  return { tableId: ctx.info.tableId, op, partitions: [], files: [], rows: 0, ...(plan ? { plan } : {}) };
}

/** Deletes the files of staged writes (best effort: an undeleted file is an orphan for `cleanup()`). */
export async function discardStagedWrites(ctx: TableContext, staged: StagedWrite[]): Promise<void> {
  for (const s of staged) discarded.add(s);
  await deleteUrisBestEffort(ctx.stores, staged.flatMap((s) => s.files.map((f) => f.path)));
}

/**
 * Staged writes of this process whose files were deleted (`discardStaged`, or a commit of them that
 * surely failed): committing one again is refused as such, where it failed STAGED_FILES_MISSING
 * blaming a cleanup that never ran.
 */
const discarded = new WeakSet<StagedWrite>();

/**
 * Refuses staged writes that hold one column in different types (two merge-mode writes adding `x` as
 * int8 and as int32): the commit would evolve the table to one type and find the other write's files
 * of another, a retryable SCHEMA_CHANGED blaming "another writer" that retrying could never get past.
 */
function checkStagedSchemasAgree(tableName: string, staged: StagedWrite[]): void {
  const seen = new Map<string, string>();
  for (const w of staged.flatMap((s) => s.schema?.written ?? [])) {
    for (const f of w.fields) {
      const type = String(f.type);
      const other = seen.get(f.name);
      if (other === undefined) seen.set(f.name, type);
      else if (other !== type) {
        throw new LakeSoulError('InvalidArgument', `staged writes of table '${tableName}' hold column '${f.name}' as ${other} and as ${type}: one commit writes one type per column; stage them with one type, or commit them one at a time (nothing was committed; their files are kept)`, {
          code: 'STAGED_SCHEMAS_DIFFER',
          context: { table: tableName, column: f.name },
        });
      }
    }
  }
}

/** Options of `LakeSoulTable.commitStaged`. */
export interface CommitStagedOptions {
  signal?: AbortSignal;
  /**
   * Commit the overwrite `plan`: every staged write must have been staged under it, and the one
   * UpdateCommit replaces the plan's partitions with their files (none staged: the partitions are
   * emptied).
   */
  overwrite?: OverwritePlan;
}

/**
 * Commits staged writes of one table as ONE catalog commit, their files in the order given (for an
 * upsert of the same key in two staged writes, the later one wins). Several must all be appends or
 * all upserts of this table, or all staged under the overwrite plan given; a single one may be any
 * write (an overwrite too). When the commit surely failed, the files are deleted; when its outcome
 * is unknown (connection lost mid-commit) they are kept for `cleanup()` to judge.
 */
export async function commitStagedWrites(ctx: TableContext, staged: StagedWrite[], options: CommitStagedOptions = {}): Promise<WriteResult> {
  const info = ctx.info;
  const rows = staged.reduce((n, s) => n + s.rows, 0);
  for (const s of staged) {
    if (s.tableId !== info.tableId) {
      throw new LakeSoulError('InvalidArgument', `a staged write of table id ${s.tableId} cannot be committed into table '${info.name}' (${info.tableId})`, {
        code: 'STAGED_WRONG_TABLE',
        context: { table: info.name, namespace: info.namespace },
      });
    }
  }
  for (const s of staged) {
    if (discarded.has(s)) {
      throw new LakeSoulError('InvalidArgument', `a staged write of table '${info.name}' cannot be committed: its files were deleted (by discardStaged, or by a commit of it that failed); stage the rows again`, {
        code: 'STAGED_DISCARDED',
        context: { table: info.name, namespace: info.namespace },
      });
    }
  }
  checkStagedSchemasAgree(info.name, staged);
  const plan = options.overwrite;
  if (plan) checkPlan(ctx, plan, `commit to table '${info.name}'`);
  for (const s of staged) {
    if (s.plan !== plan) {
      throw new LakeSoulError('InvalidArgument', plan
        ? `a staged write of table '${info.name}' was not staged under the overwrite plan being committed: stage it with { overwrite: plan }`
        : `a staged write of table '${info.name}' belongs to an overwrite plan: commit it with { overwrite: plan }`, {
        code: 'STAGED_OTHER_PLAN',
        context: { table: info.name, namespace: info.namespace },
      });
    }
  }
  if (plan) return commitPartitions(ctx, 'UpdateCommit', overwriteCommits(plan, staged.flatMap((s) => s.files)), staged, rows, options.signal);
  // A staged overwrite without files (empty input) still deletes: it is not empty.
  const nonEmpty = staged.filter((s) => s.partitions.length > 0);
  if (nonEmpty.length === 0) return { versions: new Map(), commitIds: new Map(), retries: 0, files: [], rows };
  const ops = [...new Set(nonEmpty.map((s) => s.op))];
  if (ops.length > 1) {
    throw new LakeSoulError('InvalidArgument', `staged writes of table '${info.name}' mix ${ops.join(' and ')}: one commit holds appends or upserts, not both`, {
      code: 'STAGED_MIXED_OPS',
      context: { table: info.name, namespace: info.namespace },
    });
  }
  const by = new Map<string, DataFileOp[]>();
  // One staged write commits exactly as its write would have (an overwrite included); several are
  // combined, which only makes sense for added files.
  const single = nonEmpty.length === 1 ? nonEmpty[0].partitions : null;
  for (const s of single ? [] : nonEmpty) {
    for (const p of s.partitions) {
      if (p.readVersion !== undefined || p.files.some((f) => f.op !== 'add')) {
        throw new LakeSoulError('InvalidArgument', `a staged ${s.op} of table '${info.name}' rewrites partition ${p.partitionDesc}: only added files can be combined into one commit`, {
          code: 'STAGED_NOT_COMBINABLE',
          context: { table: info.name, partition: p.partitionDesc },
        });
      }
      let files = by.get(p.partitionDesc);
      if (!files) by.set(p.partitionDesc, (files = []));
      files.push(...p.files);
    }
  }
  const partitions: PartitionCommit[] = single ?? [...by].map(([partitionDesc, files]) => ({ partitionDesc, files }));
  return commitPartitions(ctx, ops[0], partitions, nonEmpty, rows, options.signal);
}

/** The one catalog commit of staged writes; a commit that surely failed deletes their files. */
async function commitPartitions(ctx: TableContext, op: CommitOp, partitions: PartitionCommit[], staged: StagedWrite[], rows: number, signal: AbortSignal | undefined): Promise<WriteResult> {
  const info = ctx.info;
  if (partitions.length === 0) return { versions: new Map(), commitIds: new Map(), retries: 0, files: [], rows };
  const written = staged.flatMap((s) => s.files);
  let result;
  try {
    throwIfAborted(signal, `commit to ${info.name}`);
    await checkFilesExist(ctx, written, 'staged', signal);
    // every staged write's schema is checked (and evolved, for merge-mode writes) in the commit
    const schema: CommitSchema = {
      written: staged.flatMap((s) => s.schema?.written ?? []),
      evolve: staged.some((s) => s.schema?.evolve === true),
    };
    result = await ctx.catalog.commit({ tableId: info.tableId, op, partitions, signal, schema });
  } catch (e) {
    if (!(commitSurelyFailed(e) || LakeSoulError.is(e, 'Aborted'))) throw inTableTerms(e, ctx, 'the staged files were kept');
    await discardStagedWrites(ctx, staged);
    if (!LakeSoulError.hasCode(e, 'SCHEMA_CHANGED')) throw inTableTerms(e, ctx, "the staged writes' files were deleted");
    // the catalog's advice to run it again cannot apply to these files: they are gone
    const le = e as LakeSoulError;
    throw new LakeSoulError(le.kind, `${le.message} (staged writes: their files were deleted with this commit; stage the rows again, then commit those)`, {
      code: 'SCHEMA_CHANGED', retryable: true, cause: e, context: le.context,
    });
  }
  return {
    ...result,
    files: written.map((f) => ({ path: f.path, size: f.size, rows: f.rows, partitionDesc: f.partitionDesc, bucket: f.bucket })),
    rows,
  };
}
