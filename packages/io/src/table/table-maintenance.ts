/**
 * Rewrites of committed data: deletes that rewrite files (UpdateCommit), compaction
 * (CompactionCommit) and cleanup of unreferenced files.
 *
 * A rewrite reads each affected unit (PK: partition x bucket; otherwise files) merged at the
 * partition version it planned from, writes the kept rows to new files, and commits per partition
 * `surviving files + new files (+ 'del' of the replaced ones for UpdateCommit)` with `readVersion`,
 * so the catalog forms `[new] ++ (current - read)` and applies the §2 conflict rules.
 */
import type { RecordBatch } from 'apache-arrow';
import { LakeSoulError, throwIfAborted, locationKey, pathWithin, type Catalog, type TableInfo, type CommitOp, type CommitResult, type DataFileOp, type PartitionCommit, type PartitionSnapshot } from '@lakesoul-ts/meta';
import type { ObjectMeta, ObjectStore, Split } from '../types.js';
import type { LocalStore } from '../store/index.js';
import { concatBatches, projectBatch } from '../arrow/index.js';
import { FileSink, commitFiles } from './table-writer.js';
import { sharedParquetPool } from '../workers/index.js';
import { DEFAULT_ROW_GROUP_SIZE } from '../parquet/index.js';
import { buildScanPlan, splitsOf, type TableScanPlan } from './scan-plan.js';
import { deleteUrisBestEffort, type TableContext } from './table-context.js';
import { nativeDataFileUri } from './data-file-paths.js';

/** A unit of a rewrite: the files read together and rewritten together. */
export interface RewriteUnit {
  split: Split;
}

/** What a rewrite does with one unit. */
export interface RewritePolicy {
  /** Units of a partition (default: the scan splits; PK tables per bucket). */
  units?(p: PartitionSnapshot, splits: Split[]): { split: Split; rewrite: boolean }[];
  /** Rows of a unit to keep (default: all). Called per merged batch (range columns included). */
  keep?(batch: RecordBatch, split: Split): RecordBatch;
  /**
   * Rows of a unit rewritten in place (update): the new batch (same rows, same order) and how many
   * rows it changed. Applied after keep().
   */
  update?(batch: RecordBatch, split: Split): { batch: RecordBatch; changed: number };
  /** Rewrite a unit even when keep() removed nothing and update() changed nothing (compaction). */
  always: boolean;
}

/** Result of a rewrite. */
export interface RewriteResult extends CommitResult {
  /** Files added. */
  added: string[];
  /** Files replaced (no longer in the new snapshot). */
  removed: string[];
  /** Rows removed by keep(). */
  rowsRemoved: number;
  /** Rows changed by update(). */
  rowsChanged: number;
  /**
   * Partitions a compaction rewrote but did not commit: another writer updated, compacted or dropped
   * them meanwhile, and a CompactionCommit gives way (protocol §2); compacting again takes them.
   */
  dropped: string[];
}

/**
 * How far a rewrite is, reported to {@link CompactOptions.onProgress}: first before anything is read
 * (the totals are known from the plan), then after every batch read and every unit written.
 */
export interface RewriteProgress {
  /** Input files of every unit the rewrite reads. */
  filesTotal: number;
  /** Their size in bytes (as committed). */
  bytesTotal: number;
  /** Input files of the units written so far. */
  filesDone: number;
  /** Their size in bytes. */
  bytesDone: number;
  /** Rows read so far. */
  rowsRead: number;
}

/**
 * Rewrites the units the policy selects in every partition of `snapshot` and commits them with `op`
 * (UpdateCommit or CompactionCommit), one commit for all touched partitions.
 */
export async function rewritePartitions(
  ctx: TableContext,
  op: Extract<CommitOp, 'UpdateCommit' | 'CompactionCommit'>,
  snapshot: PartitionSnapshot[],
  policy: RewritePolicy,
  signal?: AbortSignal,
  onProgress?: (progress: RewriteProgress) => void,
): Promise<RewriteResult> {
  // A rewrite of a PK table merges whatever `skip_merge_on_read` says of reads: its files must hold
  // one row per key, sorted (protocol §4), and concatenating the files wrote both versions of a key,
  // unsorted, into one file (LakeSoul's engines, which merge, then read the stale one).
  const info = ctx.info.properties['skip_merge_on_read'] === 'true'
    ? { ...ctx.info, properties: { ...ctx.info.properties, skip_merge_on_read: 'false' } }
    : ctx.info;
  const allColumns = info.schema.fields.map((f) => f.name);
  const fileCols = allColumns.filter((c) => !info.rangePartitions.includes(c));
  // Units encode on the Parquet worker pool (as a write's buckets do) while the next unit is read and
  // merged; each partition's commit is assembled once every file is encoded and its size known.
  const sink = new FileSink(ctx, signal, DEFAULT_ROW_GROUP_SIZE, sharedParquetPool());
  const pending: { p: PartitionSnapshot; replaced: Set<string>; newFiles: number[] }[] = [];
  const partitions: PartitionCommit[] = [];
  const added: string[] = [];
  const removedBy = new Map<string, string[]>();
  let rowsRemoved = 0;
  let rowsChanged = 0;
  // Plan every partition's units first, so that the progress has its totals before the first read.
  const planned = snapshot.map((p) => {
    const splits = splitsOf(info, [p]);
    return { p, units: (policy.units ? policy.units(p, splits) : splits.map((split) => ({ split, rewrite: true }))).filter((u) => u.rewrite) };
  });
  const unitFiles = planned.flatMap((x) => x.units.flatMap((u) => u.split.files));
  const progress: RewriteProgress = {
    filesTotal: unitFiles.length, bytesTotal: unitFiles.reduce((n, f) => n + Number(f.size), 0), filesDone: 0, bytesDone: 0, rowsRead: 0,
  };
  const report = () => onProgress?.({ ...progress });
  report();
  try {
    for (const { p, units } of planned) {
      throwIfAborted(signal, `rewrite of ${info.name}`);
      const plan: TableScanPlan = buildScanPlan(info, [p], { columns: allColumns }, ctx.stores);
      const replaced = new Set<string>();
      const newFiles: number[] = []; // indexes into sink.files
      for (const u of units) {
        const kept: RecordBatch[] = [];
        let before = 0;
        let after = 0;
        let changed = 0;
        for await (const b of plan.readSplit(u.split, { signal })) {
          before += b.numRows;
          progress.rowsRead += b.numRows;
          report();
          let k = policy.keep ? policy.keep(b, u.split) : b;
          if (policy.update && k.numRows > 0) {
            const r = policy.update(k, u.split);
            k = r.batch;
            changed += r.changed;
          }
          after += k.numRows;
          if (k.numRows > 0) kept.push(projectBatch(k, fileCols));
        }
        const unitDone = () => {
          progress.filesDone += u.split.files.length;
          progress.bytesDone += u.split.files.reduce((n, f) => n + Number(f.size), 0);
          report();
        };
        if (!policy.always && before === after && changed === 0) { unitDone(); continue; }
        rowsRemoved += before - after;
        rowsChanged += changed;
        for (const f of u.split.files) replaced.add(f.path);
        if (after > 0) {
          newFiles.push(sink.files.length); // the slot enqueue reserves
          await sink.enqueue(concatBatches(kept), p.partitionDesc, u.split.bucket ?? (info.primaryKeys.length > 0 ? 0 : null), fileCols);
        }
        unitDone();
      }
      if (replaced.size > 0) pending.push({ p, replaced, newFiles });
    }
    await sink.settle();
    for (const { p, replaced, newFiles } of pending) {
      const newOps: DataFileOp[] = newFiles.map((i) => {
        const f = sink.files[i];
        added.push(f.path);
        return { path: f.path, op: 'add', size: f.size, existCols: f.existCols };
      });
      const surviving: DataFileOp[] = p.files
        .filter((f) => !replaced.has(f.path))
        .map((f) => ({ path: f.path, op: 'add', size: f.size, existCols: [...f.existCols] }));
      const dels: DataFileOp[] =
        op === 'UpdateCommit'
          ? p.files.filter((f) => replaced.has(f.path)).map((f) => ({ path: f.path, op: 'del', size: f.size, existCols: [...f.existCols] }))
          : [];
      removedBy.set(p.partitionDesc, [...replaced]);
      partitions.push({ partitionDesc: p.partitionDesc, files: [...surviving, ...newOps, ...dels], readVersion: p.version });
    }
  } catch (e) {
    await sink.discard();
    throw e;
  }
  if (partitions.length === 0) return { versions: new Map(), commitIds: new Map(), retries: 0, added: [], removed: [], rowsRemoved: 0, rowsChanged: 0, dropped: [] };
  // the rows were read under this schema: a column added (or widened) since would be left out (or narrowed)
  const result = await commitFiles(ctx, sink, op, partitions, signal, { readWith: info.schema });
  // A CompactionCommit drops partitions updated or compacted concurrently: their new files were
  // never committed; remove them now rather than leaving orphans for cleanup().
  const droppedFiles = sink.files.filter((f) => !result.versions.has(f.partitionDesc)).map((f) => f.path);
  if (droppedFiles.length > 0) await deleteUrisBestEffort(ctx.stores, droppedFiles);
  const dropped = new Set(droppedFiles);
  return {
    ...result,
    added: added.filter((f) => !dropped.has(f)),
    removed: [...removedBy].filter(([desc]) => result.versions.has(desc)).flatMap(([, files]) => files),
    rowsRemoved,
    rowsChanged,
    dropped: partitions.map((p) => p.partitionDesc).filter((desc) => !result.versions.has(desc)),
  };
}

/** Options of {@link LakeSoulTable.compact}. */
export interface CompactOptions {
  /** partition_desc strings or range values (default: every partition). */
  partitions?: string[] | Record<string, string | number | null>;
  /** Only this bucket (PK tables). */
  bucket?: number;
  signal?: AbortSignal;
  /** Called with the compaction's progress: once with the totals, then after every batch read and every unit handed to the encoder. */
  onProgress?: (progress: RewriteProgress) => void;
}

/**
 * Compaction policy: PK tables one sorted file per bucket (buckets with several files or with a
 * partial-column file); other tables one file per partition.
 */
export function compactionPolicy(ctx: TableContext, options: CompactOptions): RewritePolicy {
  const info = ctx.info;
  const fileCols = info.schema.fields.map((f) => f.name).filter((c) => !info.rangePartitions.includes(c));
  const isPk = info.primaryKeys.length > 0;
  if (options.bucket !== undefined && (!isPk || !Number.isInteger(options.bucket) || options.bucket < 0 || options.bucket >= info.hashBucketNum)) {
    throw new LakeSoulError('InvalidArgument', `bucket ${options.bucket} is not a bucket of table '${info.name}'`, {
      context: { table: info.name },
    });
  }
  return {
    always: true,
    units(p, splits) {
      if (isPk) {
        return splits.map((split) => ({
          split,
          rewrite:
            (options.bucket === undefined || split.bucket === options.bucket) &&
            (split.files.length > 1 || split.files.some((f) => fileCols.some((c) => !f.existCols.includes(c)))),
        }));
      }
      if (p.files.length <= 1) return [];
      const all: Split = { ...splits[0], id: `${p.partitionDesc}#all`, files: splits.flatMap((s) => s.files) };
      return [{ split: all, rewrite: true }];
    },
  };
}

/** Options of {@link LakeSoulTable.cleanup}. */
export interface CleanupOptions {
  /**
   * Retention point (epoch ms or Date): files referenced by any version valid at or after it are
   * kept. Default: 7 days ago.
   */
  retainSince?: number | Date;
  /**
   * Orphan files (never committed) younger than this are kept: they may belong to a write in flight.
   * The same window spares abandoned commit rows ({@link CleanupReport.abandonedCommits}). Default 24 h.
   */
  orphanSafetyWindowMs?: number;
  /**
   * Says no write to this table is running, anywhere: only then does a cleanup that deletes
   * (`dryRun: false`) take an `orphanSafetyWindowMs` under {@link MIN_ORPHAN_SAFETY_WINDOW_MS} (one
   * minute). A shorter window deletes the files of writes in flight: one that ran over a second
   * fails its commit (`STAGED_FILES_MISSING`), a shorter one is not checked and commits files that
   * are gone, so every read of its version fails. Dry runs take any window. Default false (as
   * LanceDB's `delete_unverified` and delta-rs' `enforce_retention_duration`).
   */
  assumeNoWritesInFlight?: boolean;
  /** Report only (default true). */
  dryRun?: boolean;
  signal?: AbortSignal;
  /**
   * Called as the work goes on: every 1,000 objects listed, once the listing ended (with the files
   * to delete known), and after each group of deletes (4,000 objects on S3, 500 elsewhere).
   */
  onProgress?: (progress: CleanupProgress) => void;
}

/** What a {@link LakeSoulTable.cleanup} has done so far ({@link CleanupOptions.onProgress}). */
export interface CleanupProgress {
  /** Objects listed under the table's path. */
  filesListed: number;
  /** Whether the listing ended (the files to delete are known from then on). */
  listed: boolean;
  /** Files to delete (0 until the listing ended; in a dry run, those that would be). */
  filesToDelete: number;
  /** Their bytes. */
  bytesToDelete: number;
  /** Files deleted so far (0 in a dry run). */
  filesDeleted: number;
  /** Their bytes. */
  bytesDeleted: number;
}

/** One file cleanup removes (or would remove). */
export interface CleanupFile {
  path: string;
  size: number;
  reason: 'expired' | 'orphan';
}

/** Result of {@link LakeSoulTable.cleanup}. */
export interface CleanupReport {
  dryRun: boolean;
  retainSince: number;
  files: CleanupFile[];
  /** Sum of sizes. */
  bytes: number;
  /** Files actually deleted (0 in a dry run). */
  deleted: number;
  /**
   * Abandoned commit rows deleted from the catalog (in a dry run: that would be): uncommitted
   * `data_commit_info` rows no version names, older than the orphan safety window, which a writer
   * killed mid-write or cut off from the catalog mid-commit leaves ({@link Catalog.purgeAbandonedCommits}).
   */
  abandonedCommits: number;
}

/** Default retention of {@link CleanupOptions.retainSince}: 7 days. */
export const DEFAULT_RETENTION_MS = 7 * 86_400_000;
/** Default {@link CleanupOptions.orphanSafetyWindowMs}: 24 hours. */
export const DEFAULT_ORPHAN_SAFETY_WINDOW_MS = 86_400_000;
/**
 * The shortest {@link CleanupOptions.orphanSafetyWindowMs} a deleting cleanup takes without
 * {@link CleanupOptions.assumeNoWritesInFlight}: one minute. A write checks its files before its
 * commit only when it ran over a second, so a window under that lets a cleanup delete the files of
 * a short write in flight unseen.
 */
export const MIN_ORPHAN_SAFETY_WINDOW_MS = 60_000;

/**
 * The locations of the paths ({@link locationKey}: `file:/a` and `file:///a` are one), each also as
 * LakeSoul's native IO resolves it ({@link nativeDataFileUri}).
 */
export function withNativeSpellings(paths: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const p of paths) out.add(locationKey(p)).add(locationKey(nativeDataFileUri(p)));
  return out;
}

/**
 * Names (relative to a table's path) of the files engines write in a table's directory besides
 * those its commits name: data files (Parquet, Vortex) with Hadoop's checksum files, and job
 * markers (`_SUCCESS`).
 */
export const TABLE_FILE_NAME = /(^|\/)(_SUCCESS|[^/]*\.(parquet|vortex)(\.crc)?)$/i;

/** Directory under a table's path where `importImages` in copy mode puts the files (`_blobs/...`). */
export const BLOB_COPY_DIR = '_blobs';

/**
 * Whether an object of a table's directory (`rel`: its name relative to the table's path;
 * `temporary`: a local store's temp file) is one engines write there besides the files the table's
 * commits name: data files, checksums, job markers, copied blobs, temp files of puts.
 */
export function writtenByTables(rel: string, temporary: boolean): boolean {
  return temporary || TABLE_FILE_NAME.test(rel) || rel.startsWith(`${BLOB_COPY_DIR}/`);
}

/**
 * On local disk, removes the directories under a table's path (`prefix` in `store`) left empty,
 * the table's own included and none of another table's (`owned` false), best effort: a table
 * created again at the path starts from nothing. Other stores have no directories.
 */
export async function removeEmptyTableDirectories(store: ObjectStore, path: string, prefix: string, owned: (uri: string) => boolean, signal?: AbortSignal): Promise<void> {
  const tidy = (store as Partial<Pick<LocalStore, 'removeEmptyDirectories'>>).removeEmptyDirectories;
  if (!tidy || !prefix) return;
  const uriOf = (key: string) => `${path}${key.slice(prefix.length)}`;
  await tidy.call(store, prefix, (key) => key !== prefix && !owned(uriOf(key)), { signal }).catch(() => 0);
}

/** One listing of a table's directory, and whether it lists temp files. */
export interface TableListing {
  metas: AsyncIterable<ObjectMeta>;
  /** True for the local store's temp files of puts a killed process left (never committed, never listed by `list`). */
  temporary: boolean;
}

/**
 * The listings of the table directory at `prefix` in `store`: its objects, and on a local store
 * the temp files of puts a killed process left. Cleanup and a drop's purge both read these.
 */
export function tableListings(store: ObjectStore, prefix: string, signal?: AbortSignal): TableListing[] {
  const key = prefix ? `${prefix}/` : '';
  const temporary = (store as Partial<Pick<LocalStore, 'listTemporary'>>).listTemporary;
  return [
    { metas: store.list(key, { signal }), temporary: false },
    ...(temporary ? [{ metas: temporary.call(store, key, { signal }), temporary: true }] : []),
  ];
}

/**
 * The files cleanup and purge of a table may delete: a predicate true only for a URI under the
 * table's own path that lies under no other table's path and that no commit of another table names
 * (issue 12 §2: one table's maintenance never reaches another's files, even in a catalog where paths
 * nest because another engine, or an older version of this one, created them so).
 */
export async function ownedFileFilter(catalog: Catalog, info: TableInfo, signal?: AbortSignal): Promise<(uri: string) => boolean> {
  const claims = await catalog.foreignClaimsUnder(info.path, { exceptTableId: info.tableId, signal });
  // another table's files as written and where LakeSoul's native IO reads them (where the wheel wrote them)
  const foreignFiles = withNativeSpellings(claims.files);
  return (uri) => pathWithin(uri, info.path) && locationKey(uri) !== locationKey(info.path) &&
    !foreignFiles.has(locationKey(uri)) && !claims.tablePaths.some((p) => pathWithin(uri, p));
}
