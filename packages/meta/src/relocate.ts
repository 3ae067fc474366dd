/**
 * Moving tables in the catalog after their files were moved. The catalog keeps absolute locations (as
 * LakeSoul does): each table's path (`table_info`, `table_path_id`), each committed file's path
 * (`data_commit_info.file_ops`) and the discarded files of compactions (`discard_compressed_file_info`).
 * A home or warehouse moved (or copied to another machine, or to S3) left every table behind; this
 * rewrites the prefix of all of them in one transaction, so LakeSoul's engines read the moved tables too.
 */
import { LakeSoulError } from './errors.js';
import type { SqlDriver, SqlExecutor } from './sql-driver.js';
import { keysWithin, locationKeys } from './native-location.js';

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

// The moves as arrays: `$1` the old locations, `$2` the same ending in a slash (a root's has one),
// `$3` the new locations, `$4` likewise. A path is under an old location when it is that location or
// begins with its slashed form; each path is moved by the one pair it is under, in one statement
// (pass after pass, a path moved into another spelling of the target matched a later pass's old
// location when the target lay inside it, and was moved twice).
const UNDER_ANY = (col: string) => `EXISTS (SELECT 1 FROM unnest($1::text[], $2::text[]) AS p(f, fs) WHERE ${col} = p.f OR left(${col}, length(p.fs)) = p.fs)`;
const MOVED_ANY = (col: string) => `COALESCE((SELECT CASE WHEN ${col} = p.f THEN p.t ELSE p.ts || substr(${col}, length(p.fs) + 1) END
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS p(f, fs, t, ts)
  WHERE ${col} = p.f OR left(${col}, length(p.fs)) = p.fs LIMIT 1), ${col})`;

/** `location` ending in exactly one slash. */
const slashed = (location: string): string => (location.endsWith('/') ? location : `${location}/`);

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
 * (`Catalog.relocateTables` passes them so; `also` are other spellings of the move, `from`
 * percent-decoded or percent-encoded as other engines store it, each with `to` spelled alike); a
 * table or file stored in another engine's spelling of `from` (`file:/a` for `file:///a`, `s3a://`
 * for `s3://`) is moved too, keeping its spelling. Paths outside `from` are left
 * as they are (a file another table's write placed elsewhere). Move the files first: nothing is moved
 * on storage.
 *
 * @throws LakeSoulError `InvalidArgument` for the same location twice; `AlreadyExists` when a moved
 *   table would land on, inside or around another table's path; `NotFound` when no table is under `from`.
 */
export async function relocateTables(driver: SqlDriver, from: string, to: string, options: RelocateTablesOptions = {}, also: readonly (readonly [string, string])[] = []): Promise<RelocateTablesResult> {
  const unslashed = (l: string) => (l.length > 1 && l.endsWith('/') && !/^[a-z][a-z0-9+.-]*:\/\/\/?$/i.test(l) ? l.slice(0, -1) : l);
  const target = unslashed(to);
  // (the first spelling of a location wins: the one given before another engine's)
  const pairs = [...new Map([[from, target] as const, ...also.map(([f, t]) => [f, unslashed(t)] as const)].flatMap(([f, t]) => spellings(f, t)).reverse()).entries()].reverse();
  if (pairs.some(([f]) => f === target)) throw new LakeSoulError('InvalidArgument', `relocate: ${from} and ${to} are the same location`, { context: { from, to } });
  const moves = [pairs.map(([f]) => f), pairs.map(([f]) => slashed(f)), pairs.map(([, t]) => t), pairs.map(([, t]) => slashed(t))];
  return driver.transaction(async (tx) => {
    const tables = await tx.query<{ table_id: string; table_namespace: string; table_name: string; table_path: string }>(
      `SELECT table_id, table_namespace, table_name, table_path FROM table_info WHERE ${UNDER_ANY('table_path')} FOR UPDATE`, moves.slice(0, 2));
    const moved = tables.rows.map((r) => {
      const [f, t] = pairs.find(([f]) => r.table_path === f || r.table_path.startsWith(slashed(f)))!;
      return { id: r.table_id, name: `${r.table_namespace}.${r.table_name}`, from: r.table_path, to: r.table_path === f ? t : slashed(t) + r.table_path.slice(slashed(f).length) };
    });
    if (moved.length === 0) {
      throw new LakeSoulError('NotFound', `relocate: no table has its path at or below ${from}`, { context: { from } });
    }
    moved.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
    const ids = moved.map((m) => m.id);
    await refuseOverlaps(tx, moved, ids);
    const files = await tx.query<{ commits: string | number; files: string | number }>(
      `SELECT count(DISTINCT (d.table_id, d.partition_desc, d.commit_id)) AS commits, count(*) AS files
         FROM data_commit_info d CROSS JOIN LATERAL unnest(d.file_ops) AS o
        WHERE d.table_id = ANY($3::text[]) AND ${UNDER_ANY('o.path')}`, [...moves.slice(0, 2), ids]);
    const result = { tables: moved.map(({ name, from: f, to: t }) => ({ name, from: f, to: t })), commits: Number(files.rows[0]?.commits ?? 0), files: Number(files.rows[0]?.files ?? 0) };
    if (options.dryRun) return result;
    const oldPaths = moved.map((m) => m.from);
    await tx.query(`UPDATE table_info SET table_path = ${MOVED_ANY('table_path')} WHERE table_id = ANY($5::text[]) AND ${UNDER_ANY('table_path')}`, [...moves, ids]);
    await tx.query(`UPDATE table_path_id SET table_path = ${MOVED_ANY('table_path')} WHERE table_id = ANY($5::text[]) AND ${UNDER_ANY('table_path')}`, [...moves, ids]);
    await tx.query(
      `UPDATE data_commit_info d SET file_ops = ARRAY(
         SELECT ROW(${MOVED_ANY('u.path')}, u.file_op, u.size, u.file_exist_cols)::data_file_op
           FROM unnest(d.file_ops) WITH ORDINALITY AS u(path, file_op, size, file_exist_cols, n) ORDER BY u.n)
        WHERE d.table_id = ANY($5::text[])
          AND EXISTS (SELECT 1 FROM unnest(d.file_ops) AS o WHERE ${UNDER_ANY('o.path')})`, [...moves, ids]);
    // a discarded file's row names its table by path: the moved tables' old paths (rewritten last)
    await tx.query(
      `UPDATE discard_compressed_file_info SET file_path = ${MOVED_ANY('file_path')}
        WHERE table_path = ANY($5::text[]) AND ${UNDER_ANY('file_path')}`, [...moves, oldPaths]);
    await tx.query(`UPDATE discard_compressed_file_info SET table_path = ${MOVED_ANY('table_path')} WHERE ${UNDER_ANY('table_path')}`, moves);
    return result;
  }, { signal: options.signal });
}

/**
 * A moved table must not land on, inside or around the path of a table that stays, in any spelling
 * of either ({@link keysWithin}, as `createTable` checks): that table's cleanup or purge would reach
 * the other's files, and every create at a default path under it was refused.
 */
async function refuseOverlaps(tx: SqlExecutor, moved: RelocateTablesResult['tables'], ids: string[]): Promise<void> {
  const staying = await tx.query<{ name: string; table_path: string }>(
    `SELECT coalesce(i.table_namespace || '.' || i.table_name, p.table_id) AS name, p.table_path
       FROM table_path_id p LEFT JOIN table_info i ON i.table_id = p.table_id WHERE NOT (p.table_id = ANY($1::text[]))
     UNION SELECT table_namespace || '.' || coalesce(table_name, ''), table_path FROM table_info WHERE NOT (table_id = ANY($1::text[]))`, [ids]);
  const others = staying.rows.map((r) => ({ ...r, keys: locationKeys(r.table_path) }));
  for (const m of moved) {
    const mine = locationKeys(m.to);
    for (const r of others) {
      const how = keysWithin(r.keys, mine) ? (keysWithin(mine, r.keys) ? 'is the path of' : 'contains the path of')
        : keysWithin(mine, r.keys) ? 'lies inside the path of' : undefined;
      if (how === undefined) continue;
      throw new LakeSoulError('AlreadyExists', `relocate: table '${m.name}' would move to ${m.to}, which ${how} table '${r.name}' (${r.table_path}); a table's files must not mix with another's: nothing was changed`, {
        code: how === 'is the path of' ? 'TABLE_PATH_EXISTS' : 'TABLE_PATH_OVERLAP', context: { table: m.name, path: m.to, otherTable: r.name, otherPath: r.table_path },
      });
    }
  }
}
