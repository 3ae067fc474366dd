/**
 * The statements of a commit, each one round trip for all of its partitions: a commit of 200
 * partitions ran ~1,200 statements (0.2 ms each on a local server or PGlite, 250 ms in all), one
 * per partition and step; these run 6-8 whatever the number of partitions. Rows go in as multi-row
 * VALUES of at most {@link MAX_PARAMS_PER_STATEMENT} parameters (PostgreSQL's protocol allows
 * 65,535), lookups by `unnest` of parameter arrays.
 */
import { LakeSoulError } from './errors.js';
import type { SnapshotForm } from './commit-rules.js';
import type { SqlExecutor } from './sql-driver.js';

/** Parameters of one multi-row INSERT at most (the protocol's limit is 65,535). */
export const MAX_PARAMS_PER_STATEMENT = 30_000;

/** One file op of a commit row, as data_commit_info's `data_file_op` composite holds it. */
export interface CommitFileOp {
  path: string;
  op: string;
  size: bigint | number | string;
  existCols: readonly string[];
}

/** A data_commit_info row to insert (uncommitted). */
export interface CommitRowInsert {
  partitionDesc: string;
  commitId: string;
  files: readonly CommitFileOp[];
}

/** A partition_info row as the commit reads it. */
export interface PartitionVersionRow {
  partition_desc: string;
  version: number;
  commit_op: string;
  timestamp: string | number;
  snapshot: string[] | null;
}

/** A partition_info row as the commit reads it before its new version: no snapshot. */
export type LatestVersionRow = Omit<PartitionVersionRow, 'snapshot'>;

/** A partition_info row to insert; its snapshot is formed from the stored ones ({@link insertVersions}). */
export interface PartitionVersionInsert {
  partitionDesc: string;
  version: number;
  /** How the snapshot is formed from version `version - 1`'s (commit-rules.ts's `formSnapshot`). */
  form: SnapshotForm;
  /** The commit's id in this partition. */
  commitId: string;
  /** For `replace-read`: the version the writer read (-1: none), whose commits leave the snapshot. */
  readVersion: number;
  /** Epoch milliseconds, as text (bigint). */
  timestamp: string;
}

/**
 * Runs `INSERT ... VALUES` of `items` in as few statements as the parameter bound allows: `row`
 * pushes an item's parameters after the `shared` ones (numbered from 1) and returns its VALUES tuple.
 */
async function insertRows<T>(tx: SqlExecutor, head: string, shared: readonly unknown[], items: readonly T[], row: (item: T, params: unknown[]) => string): Promise<void> {
  let i = 0;
  while (i < items.length) {
    const params: unknown[] = [...shared];
    const tuples: string[] = [];
    // at least one row per statement, however many parameters it has
    while (i < items.length && (tuples.length === 0 || params.length < MAX_PARAMS_PER_STATEMENT)) tuples.push(row(items[i++]!, params));
    await tx.query(`${head} VALUES ${tuples.join(', ')}`, params);
  }
}

/** Inserts the commit's data_commit_info rows, not yet committed (phase 1 of a commit). */
export async function insertCommitRows(tx: SqlExecutor, table: { tableId: string; domain: string }, op: string, timestamp: number, rows: readonly CommitRowInsert[]): Promise<void> {
  await insertRows(tx,
    'INSERT INTO data_commit_info (table_id, partition_desc, commit_id, file_ops, commit_op, committed, timestamp, domain)',
    [table.tableId, op, timestamp, table.domain], rows, (r, params) => {
      params.push(r.partitionDesc, r.commitId);
      const desc = params.length - 1;
      const ops = r.files.map((f) => {
        params.push(f.path, f.op, BigInt(f.size).toString(), f.existCols.join(','));
        const n = params.length;
        return `ROW($${n - 3}::text, $${n - 2}::text, $${n - 1}::bigint, $${n}::text)::data_file_op`;
      });
      const array = ops.length ? `ARRAY[${ops.join(', ')}]` : `'{}'::data_file_op[]`;
      return `($1, $${desc}, $${desc + 1}::uuid, ${array}, $2, false, $3, $4)`;
    });
}

/**
 * Takes the advisory lock of each partition (`descs` sorted: every writer locks in the same order,
 * so two commits sharing partitions cannot deadlock on them).
 */
export async function lockPartitions(tx: SqlExecutor, tableId: string, descs: readonly string[]): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext(d)) FROM unnest($2::text[]) WITH ORDINALITY AS u(d, o) ORDER BY o', [tableId, descs]);
}

/**
 * The newest version row of each of `descs` that has one (an index lookup per partition), without
 * its snapshot: {@link insertVersions} forms the new snapshots from the stored ones in the server.
 */
export async function latestVersions(tx: SqlExecutor, tableId: string, descs: readonly string[], signal?: AbortSignal): Promise<Map<string, LatestVersionRow>> {
  const r = await tx.query<LatestVersionRow>(
    `SELECT c.partition_desc, c.version, c.commit_op, c.timestamp FROM unnest($2::text[]) AS u(d)
       CROSS JOIN LATERAL (SELECT partition_desc, version, commit_op, timestamp FROM partition_info
                            WHERE table_id = $1 AND partition_desc = u.d ORDER BY version DESC LIMIT 1) c`, [tableId, descs], { signal });
  return new Map(r.rows.map((row) => [row.partition_desc, row]));
}

/** Per partition of `after` (partition -> version), the versions committed after that one, in order. */
export async function versionsAfter(tx: SqlExecutor, tableId: string, after: ReadonlyMap<string, number>): Promise<Map<string, { version: number; op: string }[]>> {
  const out = new Map<string, { version: number; op: string }[]>();
  if (after.size === 0) return out;
  const r = await tx.query<{ partition_desc: string; version: number; commit_op: string }>(
    `SELECT p.partition_desc, p.version, p.commit_op FROM unnest($2::text[], $3::int[]) AS b(d, v)
       JOIN partition_info p ON p.table_id = $1 AND p.partition_desc = b.d AND p.version > b.v
      ORDER BY p.partition_desc COLLATE "C", p.version`, [tableId, [...after.keys()], [...after.values()]]);
  for (const row of r.rows) {
    let list = out.get(row.partition_desc);
    if (!list) out.set(row.partition_desc, (list = []));
    list.push({ version: Number(row.version), op: row.commit_op });
  }
  return out;
}

/** The partitions of `at` (partition -> version) whose version exists. */
export async function versionsExisting(tx: SqlExecutor, tableId: string, at: ReadonlyMap<string, number>): Promise<Set<string>> {
  if (at.size === 0) return new Set();
  const r = await tx.query<{ partition_desc: string }>(
    `SELECT p.partition_desc FROM unnest($2::text[], $3::int[]) AS b(d, v)
       JOIN partition_info p ON p.table_id = $1 AND p.partition_desc = b.d AND p.version = b.v`, [tableId, [...at.keys()], [...at.values()]]);
  return new Set(r.rows.map((row) => row.partition_desc));
}

/**
 * Inserts the commit's partition_info versions (a version taken meanwhile fails on the primary key),
 * each snapshot formed in the server from the stored ones by the rule of commit-rules.ts's `formSnapshot`: version
 * `v`'s from version `v - 1`'s and, for `replace-read`, the read version's. A snapshot lists every
 * commit since the partition's last compaction, so shipping them to the client and back cost a
 * commit of 150 partitions 45,000 ids both ways after 300 appends (59 -> 461 ms per commit). The
 * stored versions are looked up by subqueries, by their primary key one by one: as joins, a planner
 * whose statistics undercount the table's versions hashed all of them.
 */
export async function insertVersions(tx: SqlExecutor, table: { tableId: string; domain: string }, op: string, rows: readonly PartitionVersionInsert[]): Promise<void> {
  if (rows.length === 0) return;
  const column = <K extends keyof PartitionVersionInsert>(k: K) => rows.map((r) => r[k]);
  await tx.query(
    `INSERT INTO partition_info (table_id, partition_desc, version, commit_op, snapshot, expression, domain, timestamp)
     SELECT $1, u.d, u.v, $2,
            CASE u.form
              WHEN 'append' THEN coalesce((SELECT p.snapshot FROM partition_info p WHERE p.table_id = $1 AND p.partition_desc = u.d AND p.version = u.v - 1), '{}'::uuid[]) || u.id
              WHEN 'replace-read' THEN ARRAY[u.id] || ARRAY(
                SELECT s.c FROM (SELECT coalesce((SELECT r.snapshot FROM partition_info r WHERE r.table_id = $1 AND r.partition_desc = u.d AND r.version = u.rv), '{}'::uuid[]) AS ids) rd,
                                partition_info p, unnest(p.snapshot) WITH ORDINALITY AS s(c, o)
                 WHERE p.table_id = $1 AND p.partition_desc = u.d AND p.version = u.v - 1 AND s.c <> ALL (rd.ids) ORDER BY s.o)
              ELSE '{}'::uuid[]
            END, '', $3, u.ts
       FROM unnest($4::text[], $5::int[], $6::text[], $7::uuid[], $8::int[], $9::bigint[]) WITH ORDINALITY AS u(d, v, form, id, rv, ts, o)
      ORDER BY u.o`,
    [table.tableId, op, table.domain, column('partitionDesc'), column('version'), column('form'), column('commitId'), column('readVersion'), column('timestamp')]);
}

/**
 * Marks the commit rows (partition -> commit id) committed. Throws (so the transaction rolls back and
 * nothing is committed) when some of them are gone: removed since phase 1 by a tool that deletes
 * uncommitted rows, the versions about to be inserted would name commits no reader can find.
 * @throws LakeSoulError Conflict `COMMIT_ROWS_MISSING` (retryable: the write run again commits anew).
 */
export async function markCommitted(tx: SqlExecutor, table: { tableId: string; qname: string; op: string }, ids: ReadonlyMap<string, string>): Promise<void> {
  if (ids.size === 0) return;
  const r = await tx.query(
    `UPDATE data_commit_info d SET committed = true FROM unnest($2::text[], $3::uuid[]) AS u(p, c)
      WHERE d.table_id = $1 AND d.partition_desc = u.p AND d.commit_id = u.c`, [table.tableId, [...ids.keys()], [...ids.values()]]);
  if (r.rowCount !== ids.size) {
    throw new LakeSoulError('Conflict',
      `commit ${table.op} to table '${table.qname}': ${ids.size - r.rowCount} of its ${ids.size} commit rows (data_commit_info) were deleted before it was applied ` +
      '(by a cleanup of uncommitted commits?): nothing was committed; run the write again', {
        code: 'COMMIT_ROWS_MISSING', retryable: true, context: { table: table.qname, op: table.op, commitIds: [...ids.values()].join(',') },
      });
  }
}

/**
 * The partition named by a unique violation of partition_info's primary key, from the error's
 * detail (`Key (table_id, partition_desc, version)=(t, desc, 3) already exists.`; `mapSqlError`
 * keeps it in the error's context as `detail`), if it says.
 */
export function partitionOfVersionConflict(detail: unknown, tableId: string): string | undefined {
  if (typeof detail !== 'string') return undefined;
  const m = /=\((.*)\) already exists/s.exec(detail);
  if (!m || !m[1]!.startsWith(`${tableId}, `)) return undefined;
  const inner = m[1]!.slice(tableId.length + 2);
  const cut = inner.lastIndexOf(', ');
  return cut >= 0 ? inner.slice(0, cut) : undefined;
}
