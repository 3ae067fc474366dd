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
// The same for several old prefixes at once (`$1` a text array).
const UNDER_ANY = (col: string) => `EXISTS (SELECT 1 FROM unnest($1::text[]) AS f(p) WHERE ${col} = f.p OR left(${col}, length(f.p) + 1) = f.p || '/')`;

/**
 * The spellings a location may be stored in, each with the new location in the same spelling: other
 * engines store a local path as Hadoop's `Path` prints it (`file:/a`, LakeSoul's Spark and Flink) or
 * as `file://localhost/a`, and S3 as `s3a://` or `s3n://`. A table is moved in the spelling it was
 * stored in; moving to another scheme (local to S3) gives every spelling `to` itself.
 */
function spellings(location: string, to: string): [from: string, to: string][] {
  const local = /^file:\/\/(\/.*)$/.exec(location);
  // (the root's other spellings, `file:/` and `file://localhost/`, are prefixes of every file URI)
  if (local && local[1] !== '/') {
    const toLocal = /^file:\/\/(\/.*)$/.exec(to)?.[1];
    return [
      [location, to],
      [`file:${local[1]}`, toLocal === undefined ? to : `file:${toLocal}`],
      [`file://localhost${local[1]}`, toLocal === undefined ? to : `file://localhost${toLocal}`],
    ];
  }
  const s3 = /^s3:\/\/(.*)$/i.exec(location);
  if (s3) {
    const toS3 = /^s3:\/\/(.*)$/i.exec(to)?.[1];
    return [[location, to], ...['s3a', 's3n'].map((scheme): [string, string] => [`${scheme}://${s3[1]}`, toS3 === undefined ? to : `${scheme}://${toS3}`])];
  }
  return [[location, to]];
}

/**
 * Rewrites every table whose path is `from` or below it to the same place below `to`: the tables'
 * paths, their committed files' paths and their discarded files', in one transaction (commits wait
 * for it, then see the new paths). `from` and `to` are table paths as `normalizeTablePath` makes them
 * (`Catalog.relocateTables` passes them so); a table or file stored in another engine's spelling of
 * `from` (`file:/a` for `file:///a`, `s3a://` for `s3://`) is moved too, keeping its spelling. Paths
 * outside `from` are left as they are (a file another table's write placed elsewhere). Move the files
 * first: nothing is moved on storage.
 *
 * @throws LakeSoulError `InvalidArgument` for the same location twice; `AlreadyExists` when a moved
 *   table would land on another table's path; `NotFound` when no table is under `from`.
 */
export async function relocateTables(driver: SqlDriver, from: string, to: string, options: RelocateTablesOptions = {}): Promise<RelocateTablesResult> {
  // a root (`file:///`) keeps its slash when normalized: paths below it continue with their own
  const pairs = spellings(from, to.endsWith('/') ? to.slice(0, -1) : to);
  if (pairs.some(([f]) => f === to)) throw new LakeSoulError('InvalidArgument', `relocate: ${from} and ${to} are the same location`, { context: { from, to } });
  return driver.transaction(async (tx) => {
    const moved: (RelocateTablesResult['tables'][number] & { id: string })[] = [];
    for (const [f, t] of pairs) {
      const tables = await tx.query<{ table_id: string; table_namespace: string; table_name: string; table_path: string }>(
        `SELECT table_id, table_namespace, table_name, table_path FROM table_info WHERE ${UNDER('table_path')} FOR UPDATE`, [f]);
      for (const r of tables.rows) moved.push({ id: r.table_id, name: `${r.table_namespace}.${r.table_name}`, from: r.table_path, to: t + r.table_path.slice(f.length) });
    }
    if (moved.length === 0) {
      throw new LakeSoulError('NotFound', `relocate: no table has its path at or below ${from}`, { context: { from } });
    }
    moved.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
    const ids = moved.map((m) => m.id);
    await refuseCollisions(tx, moved, ids);
    const froms = pairs.map(([f]) => f);
    const files = await tx.query<{ commits: string | number; files: string | number }>(
      `SELECT count(DISTINCT (d.table_id, d.partition_desc, d.commit_id)) AS commits, count(*) AS files
         FROM data_commit_info d CROSS JOIN LATERAL unnest(d.file_ops) AS o
        WHERE d.table_id = ANY($2::text[]) AND ${UNDER_ANY('o.path')}`, [froms, ids]);
    const result = { tables: moved.map(({ name, from: f, to: t }) => ({ name, from: f, to: t })), commits: Number(files.rows[0]?.commits ?? 0), files: Number(files.rows[0]?.files ?? 0) };
    if (options.dryRun) return result;
    const oldPaths = moved.map((m) => m.from);
    for (const [f, t] of pairs) {
      await tx.query(`UPDATE table_info SET table_path = ${MOVED('table_path')} WHERE table_id = ANY($3::text[]) AND ${UNDER('table_path')}`, [f, t, ids]);
      await tx.query(`UPDATE table_path_id SET table_path = ${MOVED('table_path')} WHERE table_id = ANY($3::text[]) AND ${UNDER('table_path')}`, [f, t, ids]);
      await tx.query(
        `UPDATE data_commit_info d SET file_ops = ARRAY(
           SELECT ROW(CASE WHEN ${UNDER('u.path')} THEN ${MOVED('u.path')} ELSE u.path END, u.file_op, u.size, u.file_exist_cols)::data_file_op
             FROM unnest(d.file_ops) WITH ORDINALITY AS u(path, file_op, size, file_exist_cols, n) ORDER BY u.n)
          WHERE d.table_id = ANY($3::text[])
            AND EXISTS (SELECT 1 FROM unnest(d.file_ops) AS o WHERE ${UNDER('o.path')})`, [f, t, ids]);
      // a discarded file's row names its table by path: the moved tables' old paths (rewritten last)
      await tx.query(
        `UPDATE discard_compressed_file_info SET file_path = ${MOVED('file_path')}
          WHERE table_path = ANY($3::text[]) AND ${UNDER('file_path')}`, [f, t, oldPaths]);
    }
    for (const [f, t] of pairs) {
      await tx.query(`UPDATE discard_compressed_file_info SET table_path = ${MOVED('table_path')} WHERE ${UNDER('table_path')}`, [f, t]);
    }
    return result;
  }, { signal: options.signal });
}

/** A moved table must not land on the path of a table that stays (in any spelling of that path). */
async function refuseCollisions(tx: SqlExecutor, moved: RelocateTablesResult['tables'], ids: string[]): Promise<void> {
  const spelled = new Map(moved.flatMap((m) => spellings(m.to, m.to).map(([s]): [string, typeof m] => [s, m])));
  const taken = await tx.query<{ table_path: string }>(
    'SELECT table_path FROM table_path_id WHERE table_path = ANY($1::text[]) AND NOT (table_id = ANY($2::text[]))', [[...spelled.keys()], ids]);
  if (taken.rows.length > 0) {
    const path = taken.rows[0]!.table_path;
    const { name: table, to } = spelled.get(path)!;
    const stored = path === to ? '' : ` (stored as ${path})`;
    throw new LakeSoulError('AlreadyExists', `relocate: table '${table}' would move to ${to}, which another table has${stored}: nothing was changed`, { context: { table, path } });
  }
}
