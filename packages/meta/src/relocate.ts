/**
 * Moving tables in the catalog after their files were moved. The catalog keeps absolute locations (as
 * LakeSoul does): each table's path (`table_info`, `table_path_id`), each committed file's path
 * (`data_commit_info.file_ops`) and the discarded files of compactions (`discard_compressed_file_info`).
 * A home or warehouse moved (or copied to another machine, or to S3) left every table behind; this
 * rewrites the prefix of all of them in one transaction, so LakeSoul's engines read the moved tables too.
 */
import { LakeSoulError } from './errors.js';
import type { SqlDriver, SqlExecutor } from './sql-driver.js';

/** Options of `Catalog.relocateTables`. */
export interface RelocateTablesOptions {
  /** Count what would change, change nothing. */
  dryRun?: boolean;
  signal?: AbortSignal;
}

/** What `Catalog.relocateTables` changed (or, with `dryRun`, would change). */
export interface RelocateTablesResult {
  /** The tables moved: qualified name, old path, new path. */
  tables: { name: string; from: string; to: string }[];
  /** Commit rows whose file paths were rewritten. */
  commits: number;
  /** Data file paths rewritten. */
  files: number;
}

// `$1` is the old prefix, `$2` the new one: a path is under $1 when it is $1 or continues with a slash.
const UNDER = (col: string) => `(${col} = $1 OR left(${col}, length($1) + 1) = $1 || '/')`;
const MOVED = (col: string) => `$2 || substr(${col}, length($1) + 1)`;

/**
 * Rewrites every table whose path is `from` or below it to the same place below `to`: the tables'
 * paths, their committed files' paths and their discarded files', in one transaction (commits wait
 * for it, then see the new paths). `from` and `to` are table paths as `normalizeTablePath` makes them
 * (`Catalog.relocateTables` passes them so). Paths outside `from` are left as they are (a file another
 * table's write placed elsewhere). Move the files first: nothing is moved on storage.
 *
 * @throws LakeSoulError `InvalidArgument` for the same location twice; `AlreadyExists` when a moved
 *   table would land on another table's path; `NotFound` when no table is under `from`.
 */
export async function relocateTables(driver: SqlDriver, from: string, to: string, options: RelocateTablesOptions = {}): Promise<RelocateTablesResult> {
  if (from === to) throw new LakeSoulError('InvalidArgument', `relocate: ${from} and ${to} are the same location`, { context: { from, to } });
  return driver.transaction(async (tx) => {
    const tables = await tx.query<{ table_id: string; table_namespace: string; table_name: string; table_path: string }>(
      `SELECT table_id, table_namespace, table_name, table_path FROM table_info WHERE ${UNDER('table_path')} ORDER BY table_path FOR UPDATE`, [from]);
    if (tables.rows.length === 0) {
      throw new LakeSoulError('NotFound', `relocate: no table has its path at or below ${from}`, { context: { from } });
    }
    const ids = tables.rows.map((t) => t.table_id);
    const moved = tables.rows.map((t) => ({ name: `${t.table_namespace}.${t.table_name}`, from: t.table_path, to: to + t.table_path.slice(from.length) }));
    await refuseCollisions(tx, moved, ids);
    const files = await tx.query<{ commits: string | number; files: string | number }>(
      `SELECT count(DISTINCT (d.table_id, d.partition_desc, d.commit_id)) AS commits, count(*) AS files
         FROM data_commit_info d CROSS JOIN LATERAL unnest(d.file_ops) AS o
        WHERE d.table_id = ANY($2::text[]) AND ${UNDER('o.path')}`, [from, ids]);
    const result = { tables: moved, commits: Number(files.rows[0]?.commits ?? 0), files: Number(files.rows[0]?.files ?? 0) };
    if (options.dryRun) return result;
    await tx.query(`UPDATE table_info SET table_path = ${MOVED('table_path')} WHERE table_id = ANY($3::text[])`, [from, to, ids]);
    await tx.query(`UPDATE table_path_id SET table_path = ${MOVED('table_path')} WHERE table_id = ANY($3::text[]) AND ${UNDER('table_path')}`, [from, to, ids]);
    await tx.query(
      `UPDATE data_commit_info d SET file_ops = ARRAY(
         SELECT ROW(CASE WHEN ${UNDER('u.path')} THEN ${MOVED('u.path')} ELSE u.path END, u.file_op, u.size, u.file_exist_cols)::data_file_op
           FROM unnest(d.file_ops) WITH ORDINALITY AS u(path, file_op, size, file_exist_cols, n) ORDER BY u.n)
        WHERE d.table_id = ANY($3::text[])
          AND EXISTS (SELECT 1 FROM unnest(d.file_ops) AS o WHERE ${UNDER('o.path')})`, [from, to, ids]);
    await tx.query(
      `UPDATE discard_compressed_file_info SET table_path = ${MOVED('table_path')},
              file_path = CASE WHEN ${UNDER('file_path')} THEN ${MOVED('file_path')} ELSE file_path END
        WHERE ${UNDER('table_path')}`, [from, to]);
    return result;
  }, { signal: options.signal });
}

/** A moved table must not land on the path of a table that stays. */
async function refuseCollisions(tx: SqlExecutor, moved: RelocateTablesResult['tables'], ids: string[]): Promise<void> {
  const taken = await tx.query<{ table_path: string }>(
    'SELECT table_path FROM table_path_id WHERE table_path = ANY($1::text[]) AND NOT (table_id = ANY($2::text[]))', [moved.map((m) => m.to), ids]);
  if (taken.rows.length > 0) {
    const path = taken.rows[0]!.table_path;
    const table = moved.find((m) => m.to === path)!.name;
    throw new LakeSoulError('AlreadyExists', `relocate: table '${table}' would move to ${path}, which another table has: nothing was changed`, { context: { table, path } });
  }
}
