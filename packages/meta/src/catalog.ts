/**
 * The LakeSoul catalog: namespaces, tables, the two-phase commit protocol and snapshot resolution
 * (lakesoul-protocol.md §1-3), over any {@link SqlDriver}. Every statement is parameterized.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { realpathSync, statSync } from 'node:fs';
// Arrow's submodules, not its root: see arrow-schema-json.ts.
import { Type } from 'apache-arrow/enum';
import { Schema as ArrowSchema } from 'apache-arrow/schema';
import type { Schema } from 'apache-arrow';
import { arrowSchemaFromJson, arrowSchemaToJson } from './arrow-schema-json.js';
import { bootstrapCatalogSchema } from './catalog-schema.js';
import { resolveCatalogConfig, type CatalogConfig, type ResolveCatalogConfigOptions } from './catalog-config.js';
import { LakeSoulError, inputText } from './errors.js';
import { MAX_QUOTED_INPUT, quoteInput, validateNamespaceName, validateTableName } from './table-names.js';
import { bucketFromFileName, checkRangePartitionType, decodePartitionDesc, decodePartitionValue, encodePartitionValue, hasRangeTextVariants, isNullRangeText, NO_PARTITION_DESC, rangeValueKey, type PartitionValueInput } from './partition-desc.js';
import { PgDriver } from './pg-driver.js';
import { PGliteDriver } from './pglite-driver.js';
import { resolveEmbeddedDriver, shareCatalogDirectory, SocketDriver, type CatalogServer } from './catalog-server.js';
import { ServedCatalogDriver } from './served-driver.js';
import { relocateTables, type RelocateTablesOptions, type RelocateTablesResult } from './relocate.js';
import { abortableSleep, throwIfAborted } from './abort.js';
import { mapSqlError, type SqlDriver, type SqlExecutor } from './sql-driver.js';
import { checkSchemaEvolution, columnNameProblem, mergeSchemas, schemaChangeText, writtenSchemaProblem } from './schema-evolution.js';
import { checkCommit, COMMIT_OPS, type COMMIT_RULES, type CommittedVersion, type SnapshotForm } from './commit-rules.js';
import { insertCommitRows, insertVersions, latestVersions, lockPartitions, markCommitted, partitionOfVersionConflict, versionsAfter, versionsExisting, type PartitionVersionInsert, type PartitionVersionRow } from './commit-statements.js';
import type {
  CatalogCallOptions, CommitOp, CommitSchema, CommitRequest, CommitResult, CreateNamespaceOptions, CreateTableOptions, DataFileOp,
  DropNamespaceOptions, DropResult, HistoryOptions, NamespaceInfo, PartitionCommit, PartitionSnapshot, PartitionVersion,
  PartitionVersionSummary, SnapshotFile, SnapshotOptions, TableInfo,
} from './types.js';
import { optionNames, refuseNonBooleanOptions, refuseUnknownOptions } from './options.js';
import { keysWithin, locationKey, locationKeys, nativeDataFileUri, nativeLocationKey, nativeLocalPath, pathWithin, percentDecode, storedLocation } from './native-location.js';

/** Advisory lock key serializing table creation (arbitrary constant, 'LSCRT'). */
const CREATE_TABLE_LOCK = 0x4c53435254;

/** Default conflict retries of {@link Catalog.commit} (upstream LakeSoul allows 5). */
export const DEFAULT_COMMIT_RETRIES = 5;

/**
 * Partitions a commit locks one by one (an advisory lock each, serializing writers of a partition);
 * a commit of more takes its table's commit gate exclusively instead (one lock).
 */
export const PARTITION_LOCKS_PER_COMMIT = 1000;

/** The partitions of a commit for a message: the first five and how many there are (a commit may have thousands). */
function partitionList(descs: readonly string[]): string {
  return descs.slice(0, 5).join(' | ') + (descs.length > 5 ? ` | ... (${descs.length} partitions)` : '');
}

/**
 * How long a commit whose connection was lost while it committed keeps asking the catalog whether it
 * landed (a restarting PostgreSQL answers again within seconds) before it says the outcome is unknown.
 */
const OUTCOME_CHECK_MS = 30_000;

/** NotFound for a namespace, quoting at most a short prefix of the (untrusted) name. */
function namespaceNotFound(name: string): LakeSoulError {
  return new LakeSoulError('NotFound', `namespace ${quoteInput(name)} not found`, { code: 'NAMESPACE_NOT_FOUND', context: { namespace: name.slice(0, MAX_QUOTED_INPUT) } });
}

/** Jittered exponential backoff before retry `attempt` (1-based) of a commit: up to 20 ms, 40 ms, ... 1 s. */
function commitBackoffMs(attempt: number): number {
  return Math.random() * Math.min(1000, 10 * 2 ** attempt);
}

/**
 * Runs `fn` (one whole transaction) again, up to `retries` times, when the database aborted it
 * (`TRANSACTION_CONFLICT`: deadlock or serialization failure), after which it wrote nothing.
 */
async function retryAbortedTransaction<T>(what: string, retries: number, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const le = mapSqlError(e);
      if (!LakeSoulError.hasCode(le, 'TRANSACTION_CONFLICT') || attempt >= retries) throw le;
      await abortableSleep(commitBackoffMs(attempt + 1), signal, what);
    }
  }
}

/** Options of the {@link Catalog} constructor. */
export interface CatalogOptions {
  /**
   * Serialize this library's own commits to one partition with a transaction-scoped advisory lock
   * (default true). Conflicts with other writers (upstream engines) are still detected through
   * partition_info's primary key; the lock only avoids retry storms between our own writers.
   * Conflict semantics do not depend on it: a commit is checked against every version committed
   * since the writer first read the partition.
   */
  commitLock?: boolean;
  /** Default of {@link CommitRequest.maxRetries}. */
  maxRetries?: number;
}

/** Options of {@link Catalog.open}. */
export interface CatalogOpenOptions extends ResolveCatalogConfigOptions, CatalogOptions {
  /** Environment to resolve from (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Create the catalog schema when missing (default true). */
  bootstrap?: boolean;
  /** Pool size for a PostgreSQL server (default 10). */
  maxConnections?: number;
  /**
   * PostgreSQL server only: how long (ms) one catalog statement may wait for its answer before it is
   * cancelled and fails with `Catalog` `CATALOG_TIMEOUT` (default `LAKESOUL_PG_QUERY_TIMEOUT` seconds from `env`, else 120000: see
   * `DEFAULT_QUERY_TIMEOUT_MS` for why; `PgDriverOptions.queryTimeoutMillis`).
   */
  queryTimeoutMs?: number;
  /**
   * PostgreSQL server only: set the server-side guards `statement_timeout` and
   * `idle_in_transaction_session_timeout` on each new connection (default true); `false` behind a
   * pooler that must not see session settings (PgBouncer in transaction mode). See
   * `PgDriverOptions.serverTimeouts`.
   */
  serverTimeouts?: boolean;
  /**
   * An embedded catalog directory opened here is served, while this catalog is open, to the other
   * processes that open it (the CLI, other programs), as the CLI's own commands do (see
   * {@link serveCatalog}); without it they are refused with `CATALOG_LOCKED` until this one closes.
   * Several catalogs of this process on the directory: it is served while any opened with `share` is open.
   * Nothing changes for PostgreSQL, an in-memory catalog, or a directory another process serves already.
   */
  share?: boolean;
  /**
   * An embedded catalog directory that another process has open without serving it (a CLI command
   * started with the background catalog server off, a program without `share`) is waited for, up to
   * this many ms, until that process closes it or starts serving it; then `Catalog` `CATALOG_LOCKED`
   * (retryable) names the process. Default: `LAKESOUL_CATALOG_WAIT` seconds from `env`, else 60 s; 0 fails at once.
   */
  lockWaitMs?: number;
  /**
   * Called once when the open starts waiting for such a process, to say so (the wait can be long);
   * without it a process warning (`LAKESOUL_CATALOG_WAIT`) says so.
   */
  onLockWait?: (wait: { pid: number; dataDir: string; waitMs: number }) => void;
  /** Ends a wait for the directory (and the schema's bootstrap) with `Aborted`. */
  signal?: AbortSignal;
}

/**
 * `LAKESOUL_PG_QUERY_TIMEOUT` (seconds) as ms: the default of {@link CatalogOpenOptions.queryTimeoutMs}
 * for programs and the CLI alike; undefined when unset (the driver's own default then applies).
 */
function pgQueryTimeoutMs(env: Record<string, string | undefined>): number | undefined {
  const raw = env.LAKESOUL_PG_QUERY_TIMEOUT;
  if (raw === undefined || raw.trim() === '') return undefined;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0) {
    throw new LakeSoulError('InvalidArgument', `LAKESOUL_PG_QUERY_TIMEOUT must be a number of seconds greater than 0 (how long one catalog statement may wait for PostgreSQL's answer), not '${raw}'`,
      { code: 'INVALID_ARGUMENT', context: { variable: 'LAKESOUL_PG_QUERY_TIMEOUT' } });
  }
  return Math.max(1, Math.round(s * 1000));
}

/**
 * `LAKESOUL_PG_SERVER_TIMEOUTS` (`off`/`false`/`0` or `on`/`true`/`1`): the default of
 * {@link CatalogOpenOptions.serverTimeouts}, so the CLI and other programs can turn the server-side
 * guards off behind a pooler in transaction mode; undefined when unset.
 */
function pgServerTimeouts(env: Record<string, string | undefined>): boolean | undefined {
  const raw = env.LAKESOUL_PG_SERVER_TIMEOUTS;
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = raw.trim().toLowerCase();
  if (v === 'off' || v === 'false' || v === '0') return false;
  if (v === 'on' || v === 'true' || v === '1') return true;
  throw new LakeSoulError('InvalidArgument', `LAKESOUL_PG_SERVER_TIMEOUTS must be off or on (whether each catalog connection sets statement_timeout and idle_in_transaction_session_timeout; off behind PgBouncer in transaction mode), not '${raw}'`,
    { code: 'INVALID_ARGUMENT', context: { variable: 'LAKESOUL_PG_SERVER_TIMEOUTS' } });
}

export { catalogLockWaitMs, DEFAULT_CATALOG_LOCK_WAIT_MS } from './lock-wait.js';
import { catalogLockWaitMs } from './lock-wait.js';
import { MAX_HASH_BUCKET_NUM, decodeHashBucketNum } from './hash-buckets.js';

/**
 * Partition filter of {@link Catalog.listPartitions} and {@link SnapshotOptions.partitions}: partition
 * descriptions, or range values by column (null selects the null partition; undefined is refused).
 */
export type PartitionFilter = string[] | Record<string, PartitionValueInput>;

interface TableInfoRow {
  table_id: string;
  table_namespace: string;
  table_name: string | null;
  table_path: string;
  table_schema: string;
  properties: unknown;
  partitions: string | null;
  domain: string | null;
}

/** A partition_info row as the catalog reads it. */
type PartitionRow = PartitionVersionRow;
/** Which partitions a catalog read keeps: `descs` narrows the statement, `keep` decides. */
interface PartitionSelection {
  table: string;
  /** Only these descriptions. */
  descs?: string[];
  /** Only descriptions holding each of these `column=text` parts. */
  parts?: string[];
  keep: (desc: string) => boolean;
}

interface FileOpRow {
  commit_id: string;
  partition_desc: string;
  path: string;
  file_op: string;
  size: string;
  file_exist_cols: string | null;
  ord: string | number;
}

/** Adds file-op rows to `out` by commit (a commit without ops gets an empty list; rows unsorted). */
function groupFileOps(rows: FileOpRow[], out = new Map<string, FileOpRow[]>()): Map<string, FileOpRow[]> {
  for (const row of rows) {
    let arr = out.get(row.commit_id);
    if (!arr) out.set(row.commit_id, (arr = []));
    if (row.path !== null) arr.push(row);
  }
  return out;
}

/**
 * SQL condition: the commit row `d` of table `$1` is named by a `partition_info` version of its
 * partition. Every commit enters the snapshots as the first (Compaction, Update) or the last (Append,
 * Merge) commit of the version it makes, so the snapshots' ends decide almost every row at the cost
 * of one lookup in a hashed set; the search of whole snapshots remains for the rows they do not
 * decide (abandoned rows, or another engine's version naming several new commits). The whole search
 * for every row took 10.8 s on a table of 2,000 uncompacted commits of LakeSoul-Python (which leaves
 * its rows `committed=false`): each row scanned every snapshot, whose length grows with the history.
 */
const NAMED_BY_A_VERSION = `((d.partition_desc, d.commit_id) IN (
      SELECT partition_desc, snapshot[1] FROM partition_info WHERE table_id = $1 AND cardinality(snapshot) > 0
      UNION ALL
      SELECT partition_desc, snapshot[cardinality(snapshot)] FROM partition_info WHERE table_id = $1 AND cardinality(snapshot) > 0)
    OR EXISTS (SELECT 1 FROM partition_info p WHERE p.table_id = $1 AND p.partition_desc = d.partition_desc AND d.commit_id = ANY (p.snapshot)))`;

/** The two sets of a table's file paths a cleanup tells apart ({@link Catalog.tableFileSets}). */
export interface TableFileSets {
  /** Every path named ('add' or 'del') by a committed commit of the table, sorted. */
  committed: string[];
  /** The paths of files live in a version in force at or after the instant asked for, sorted. */
  referenced: string[];
}

/** Stored properties as an object without a prototype (a `__proto__` key is a property like any other). */
function properties(v: unknown): Record<string, string> {
  let o = v;
  if (typeof v === 'string') {
    try { o = JSON.parse(v); } catch { o = {}; }
  }
  const out = Object.create(null) as Record<string, string>;
  if (o && typeof o === 'object') for (const [k, x] of Object.entries(o as Record<string, unknown>)) out[k] = x == null ? '' : String(x);
  return out;
}

/**
 * Properties given to `createTable` / `createNamespace` as stored strings, in an object without a
 * prototype (a `__proto__` key is stored like any other). Strings, numbers and booleans are taken;
 * `null` and `undefined` mean the property is absent; any other value is InvalidArgument naming the
 * property (`where` names the table or namespace).
 */
function stringifyProps(p: Record<string, string | number | boolean> | undefined, where: string): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  if (p === undefined || p === null) return out;
  if (typeof p !== 'object' || Array.isArray(p)) {
    throw new LakeSoulError('InvalidArgument', `${where}: properties must be an object of strings, not ${Array.isArray(p) ? 'an array' : typeof p}`, { context: { argument: 'properties' } });
  }
  for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
    if (v === null || v === undefined) continue;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new LakeSoulError('InvalidArgument', `${where}: property ${quoteInput(k)} must be a string, number or boolean, not ${Array.isArray(v) ? 'an array' : typeof v}`, {
        context: { property: k.slice(0, MAX_QUOTED_INPUT) },
      });
    }
    const text = String(v);
    checkNoNul(text, `${where}: property ${quoteInput(k)}`);
    checkNoNul(k, `${where}: property name`);
    out[k] = text;
  }
  return out;
}

/**
 * Normalizes a table location: absolute local paths become `file://` URIs; trailing slashes are
 * removed. A location with a `.`, `..` or empty segment, or a control character, is refused
 * (InvalidArgument `INVALID_TABLE_PATH`): two spellings of one directory would defeat the rule that
 * no table's path contains another's.
 */
export function normalizeTablePath(path: string): string {
  if (typeof path !== 'string') {
    throw new LakeSoulError('InvalidArgument', `table path must be a string, not ${path === null ? 'null' : typeof path}`, { code: 'INVALID_TABLE_PATH' });
  }
  let p = path.trim();
  if (p.startsWith('/')) p = `file://${p}`;
  const bad = (why: string) => new LakeSoulError('InvalidArgument', `table path ${quoteInput(path, 200)} ${why}`, { code: 'INVALID_TABLE_PATH', context: { path: path.slice(0, 200) } });
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.exec(p);
  if (!scheme) throw bad('must be a fully qualified URI (file:///abs/path, s3://bucket/prefix)');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(p)) throw bad('contains a control character');
  while (p.endsWith('/') && !/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/\/?$/.test(p)) p = p.slice(0, -1);
  const rest = p.slice(scheme[0].length);
  const segments = (rest.startsWith('/') ? rest.slice(1) : rest).split('/');
  if (rest !== '' && rest !== '/' && segments.some((x) => x === '' || x === '.' || x === '..')) throw bad("has an empty, '.' or '..' segment");
  return p;
}

/** What `String.prototype.trim` and the URL parser trim off a path (C0 controls, spaces, Unicode spaces). */
const CLAIM_TRIM = '\\x01-\\x20\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\uFEFF';
const CLAIM_TRIM_RE = new RegExp(`^[${CLAIM_TRIM}]+|[${CLAIM_TRIM}]+$`, 'g');

/**
 * A location's segments for {@link Catalog.foreignClaimsUnder}: `head` (`file` for local paths, the
 * scheme otherwise, `s3a`/`s3n` as `s3`), and the authority (if any) and path segments, as written
 * (`raw`) and percent-decoded after cutting a query or fragment and taking `\` as `/` (`decoded`),
 * each with empty and `.` segments dropped and `..` segments applied.
 */
function claimSpellings(path: string): { head: string; raw: string[]; decoded: string[] } {
  const s = path.replace(CLAIM_TRIM_RE, '');
  let head = 'file';
  let rest = s;
  const local = /^file:(?:\/\/(?:localhost)?)?/i.exec(s);
  if (local) rest = s.slice(local[0].length);
  else {
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(s);
    if (scheme) {
      head = scheme[1]!.toLowerCase().replace(/^s3[an]$/, 's3');
      rest = s.slice(scheme[0].length);
    }
  }
  const segments = (text: string): string[] => {
    const out: string[] = [];
    for (const seg of text.split('/')) {
      if (seg === '' || seg === '.') continue;
      if (seg === '..') out.pop();
      else out.push(seg);
    }
    return out;
  };
  const cut = rest.replace(/[\t\n\r]/g, '');
  const q = cut.search(/[?#]/);
  return { head, raw: segments(rest), decoded: segments(percentDecode((q < 0 ? cut : cut.slice(0, q)).replace(/\\/g, '/'))) };
}

/** Characters of a location that {@link claimPattern} spells out (the rest is matched by its start). */
const CLAIM_PATTERN_CHARS = 200;

/**
 * A regular expression (PostgreSQL's) matching every spelling of a location at or under `key` (and
 * more): after blanks and a scheme (`file:`, `file://localhost`, `s3://`), the segments of `key` as
 * written or percent-decoded, each character as written or as `%XX` escapes of its UTF-8 bytes
 * (either case), separated by runs of `/`, `\\`, `%2F` and `.`; and any path holding a `..` segment
 * (`.` or `%2E` twice) or a tab or newline, whose location the caller decides.
 */
function claimPattern(key: ReturnType<typeof claimSpellings>): string {
  const char = (c: string): string => {
    const hex = [...new TextEncoder().encode(c)].map((b) => `%${[...b.toString(16).padStart(2, '0')].map((h) => (/[a-f]/.test(h) ? `[${h}${h.toUpperCase()}]` : h)).join('')}`).join('');
    const literal = /[a-zA-Z0-9]/.test(c) || c.codePointAt(0)! > 0x7f ? c : `\\${c}`;
    return `(?:${literal}|${hex})`;
  };
  const sep = '(?:[/\\\\.]|%2[fFeE])';
  // the first CLAIM_PATTERN_CHARS characters of the path only: a pattern of a path's start matches
  // every path under the whole one too (a superset, decided in JavaScript), and PGlite's regular
  // expressions of a ~1,500-character path (each character ~20 in the pattern) hung its next query
  const segments = (segs: string[]) => {
    const kept: string[] = [];
    let room = CLAIM_PATTERN_CHARS;
    for (const seg of segs) {
      if (room <= 0) break;
      const chars = [...seg].slice(0, room);
      room -= chars.length + 1;
      kept.push(chars.map(char).join(''));
    }
    return kept.join(`${sep}+`);
  };
  return `^[${CLAIM_TRIM}]*(?:[a-zA-Z][a-zA-Z0-9+.-]*:(?://localhost)?)?${sep}*(?:${segments(key.raw)}|${segments(key.decoded)})|(?:\\.|%2[eE]){2}|[\\t\\n\\r]`;
}

/** The segments below `outer` of each spelling of `inner` that lies at or under a spelling of `outer`. */
function claimRelatives(inner: ReturnType<typeof claimSpellings>, outer: ReturnType<typeof claimSpellings>): string[][] {
  if (inner.head !== outer.head) return [];
  const out: string[][] = [];
  for (const i of [inner.raw, inner.decoded]) {
    for (const o of [outer.raw, outer.decoded]) {
      if (i.length >= o.length && o.every((seg, k) => i[k] === seg) && !out.some((rel) => rel.join('/') === i.slice(o.length).join('/'))) out.push(i.slice(o.length));
    }
  }
  return out;
}

/**
 * Whether cleanup's check of named files ({@link locationKey} of the stored path, and of where the
 * native IO reads it) already finds the stored file path `stored` under the spelling `listed`; only
 * the plain case is taken for granted (no empty, `.` or `..` segment, query, fragment or `\`).
 */
function fileSpelledAs(stored: string, listed: string): boolean {
  if (locationKey(listed) === locationKey(stored)) return true;
  const plain = !/[?#\\\t\n\r]/.test(stored) && !/\/\.{0,2}(\/|$)/.test(stored.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//, '').replace(/^\/+/, ''));
  return plain && locationKey(listed) === nativeLocationKey(stored);
}

function splitCols(s: string | null | undefined): string[] {
  return s ? s.split(',').filter((x) => x.length > 0) : [];
}

/**
 * A commit's error as it leaves `commit`: the database refusing a statement of the commit, whose
 * transaction then rolled back (SQLSTATE class 53: disk full, out of memory, a resource limit; 25006:
 * a read-only database; 42501: a role without the privilege), says that nothing was committed and
 * names the table; any other error is returned as is.
 */
function statementRefusal(e: unknown, qname: string, op: CommitOp): unknown {
  const refused = LakeSoulError.hasCode(e, 'CATALOG_DISK_FULL', 'CATALOG_OUT_OF_MEMORY', 'CATALOG_RESOURCE_EXHAUSTED', 'CATALOG_READ_ONLY') ||
    LakeSoulError.is(e, 'PermissionDenied');
  if (!refused) return e;
  return new LakeSoulError(e.kind, `commit ${op} to table '${qname}' failed, nothing was committed: ${e.message}`, {
    code: e.code, retryable: e.retryable, context: { ...e.context, table: qname, op }, cause: e,
  });
}

/**
 * A commit's error when the catalog could not be reached (`CATALOG_UNAVAILABLE`, `CATALOG_TIMEOUT`)
 * at a point where nothing was committed: it names the commit and the table (by name, `context.table`,
 * or before the table was looked up by its id, `context.tableId`) and says so ("lost the connection
 * to the catalog server" alone did not say what failed, nor whether running it again would add the
 * rows twice). Any other error is returned as is.
 */
function commitUnreached(e: unknown, table: { qname: string } | { tableId: string }, op: CommitOp): unknown {
  if (!LakeSoulError.hasCode(e, 'CATALOG_UNAVAILABLE', 'CATALOG_TIMEOUT') || e.message.startsWith(`commit ${op} to table`)) return e;
  const [named, context] = 'qname' in table ? [`'${table.qname}'`, { table: table.qname }] : [`with id '${table.tableId}'`, { tableId: table.tableId }];
  return new LakeSoulError(e.kind, `commit ${op} to table ${named}: ${e.message}; nothing was committed`, {
    code: e.code, retryable: e.retryable, context: { ...e.context, ...context, op }, cause: e,
  });
}

/** A bucket count the engines take: a power of two within a 32-bit signed integer (1 to 2^30). */
function isBucketCount(n: number): boolean {
  // the range first: bitwise operators cut to 32 bits, so alone they took 2^31 and 3 * 2^32 for powers of two
  return Number.isInteger(n) && n >= 1 && n <= MAX_HASH_BUCKET_NUM && (n & (n - 1)) === 0;
}

/**
 * Locks the table's row for the rest of `tx`: `UPDATE` for a drop, `SHARE` for a commit. A commit
 * holds it shared from its first statement to its end, so a drop waits for the commits under way and
 * then removes the versions they added, and a commit that waited on a drop finds the table gone
 * (locked last, the drop left the rows a commit inserted after its first delete, or the two
 * deadlocked on each other's rows).
 * @throws LakeSoulError NotFound `TABLE_NOT_FOUND` when the table is gone.
 */
async function lockTableRow(tx: SqlExecutor, tableId: string, mode: 'UPDATE' | 'SHARE', qname?: string): Promise<void> {
  const r = await tx.query(`SELECT 1 FROM table_info WHERE table_id = $1 FOR ${mode}`, [tableId]);
  if (r.rows.length === 0) throw tableIdNotFound(tableId, qname);
}

/**
 * Drops, inside a create's transaction, the table it replaces ({@link CreateTableOptions.replaceEmptyTable}):
 * only while that table is still at the create's name and path and has no partition version.
 */
async function dropReplacedTable(tx: SqlExecutor, tableId: string, qname: string, namespace: string, name: string, path: string): Promise<void> {
  checkNoNul(tableId, 'table id');
  const r = await tx.query<{ table_namespace: string; table_name: string | null; table_path: string }>(
    'SELECT table_namespace, table_name, table_path FROM table_info WHERE table_id = $1 FOR UPDATE', [tableId]);
  const row = r.rows[0];
  if (!row || row.table_namespace !== namespace || row.table_name !== name || normalizeTablePath(row.table_path) !== path) {
    throw new LakeSoulError('NotFound', `create table '${qname}': the table it was to replace (id '${tableId}') is no longer at that name and path`, {
      code: 'REPLACED_TABLE_GONE', context: { table: qname, namespace, tableId },
    });
  }
  if ((await tx.query('SELECT 1 FROM partition_info WHERE table_id = $1 LIMIT 1', [tableId])).rows.length > 0) {
    throw new LakeSoulError('AlreadyExists', `table '${qname}' already exists`, { code: 'TABLE_EXISTS', context: { table: qname, namespace } });
  }
  await dropTableRows(tx, tableId);
}

/**
 * NotFound for a table id: the id is all the catalog still knows of a dropped table; `qname`, the
 * name it had, where the caller knows it (a commit that found the table before it was dropped).
 */
function tableIdNotFound(tableId: string, qname?: string): LakeSoulError {
  return qname === undefined
    ? new LakeSoulError('NotFound', `table with id ${quoteInput(tableId)} not found: it was dropped, or is not in this catalog`, { code: 'TABLE_NOT_FOUND', context: { table: tableId.slice(0, MAX_QUOTED_INPUT) } })
    : new LakeSoulError('NotFound', `table '${qname}' (id '${tableId}') not found: it was dropped`, { code: 'TABLE_NOT_FOUND', context: { table: qname, tableId } });
}

/**
 * Removes every catalog row of a table in `tx` (its row locked first, as {@link lockTableRow} does
 * for a drop) and returns every data file path its commits named, sorted. Reads only the table's
 * path: a table whose schema this version cannot decode is dropped like any other.
 * @throws LakeSoulError NotFound `TABLE_NOT_FOUND` when the table is gone.
 */
async function dropTableRows(tx: SqlExecutor, tableId: string): Promise<string[]> {
  const row = await tx.query<{ table_path: string }>('SELECT table_path FROM table_info WHERE table_id = $1 FOR UPDATE', [tableId]);
  if (row.rows.length === 0) throw tableIdNotFound(tableId);
  const files = await tx.query<{ path: string }>(
    `SELECT DISTINCT o.path FROM data_commit_info d CROSS JOIN LATERAL unnest(d.file_ops) AS o
      WHERE d.table_id = $1 ORDER BY o.path`, [tableId]);
  await tx.query('DELETE FROM partition_info WHERE table_id = $1', [tableId]);
  await tx.query('DELETE FROM data_commit_info WHERE table_id = $1', [tableId]);
  await tx.query('DELETE FROM discard_compressed_file_info WHERE table_path = $1', [row.rows[0]!.table_path]);
  await tx.query('DELETE FROM table_name_id WHERE table_id = $1', [tableId]);
  await tx.query('DELETE FROM table_path_id WHERE table_id = $1', [tableId]);
  await tx.query('DELETE FROM table_info WHERE table_id = $1', [tableId]);
  return files.rows.map((x) => x.path);
}

/**
 * Refuses a NUL character (PostgreSQL text cannot hold one; its own error named nothing):
 * InvalidArgument naming the argument.
 */
function checkNoNul(value: string, what: string): void {
  if (typeof value !== 'string') {
    throw new LakeSoulError('InvalidArgument', `${what} must be a string, not ${value === null ? 'null' : typeof value}`, { context: { argument: what } });
  }
  if (value.includes('\u0000')) {
    throw new LakeSoulError('InvalidArgument', `${what} ${quoteInput(value)} contains a NUL character (U+0000), which the catalog cannot store`, {
      context: { argument: what },
    });
  }
}

/** InvalidArgument `INVALID_NAME` for a namespace argument that is not a string (a TypeError was raw). */
function validateNamespaceArgument(name: unknown): asserts name is string {
  if (typeof name !== 'string') validateNamespaceName(name);
}

/** Options of {@link Catalog.open}, checked by name (see options.ts). */
const CATALOG_OPEN_OPTIONS = optionNames<CatalogOpenOptions>({
  env: true, bootstrap: true, maxConnections: true, queryTimeoutMs: true, serverTimeouts: true, share: true, lockWaitMs: true, onLockWait: true, signal: true, url: true, username: true, password: true, schema: true,
  dataDir: true, defaultDataDir: true, commitLock: true, maxRetries: true,
});

/**
 * The other spellings a relocation from `source` to `target` moves (`Catalog.relocateTables`), each
 * with `target` spelled the same way. A `source` with `%XX` escapes is a URL: the directory it names
 * is its percent-decoded form, where this project stores tables (`file:///w/my lake` for
 * `file:///w/my%20lake` given). One without is the directory as written, which LakeSoul's Python
 * wheel stores percent-encoded (`file:///w/my%20lake`, as a WHATWG URL or Python's `quote` writes
 * it). Never both: encoding `file:///w/my%20lake` again named another directory (`my%2520lake`), whose
 * tables moved with the others. A spelling no table can have is left out.
 */
function otherSpellings(source: string, target: string): [string, string][] {
  const out: [string, string][] = [];
  const add = (f: () => string, t: () => string) => {
    try {
      const pair: [string, string] = [normalizeTablePath(f()), normalizeTablePath(t())];
      if (pair[0] !== source) out.push(pair);
    } catch {
      // a spelling that is no table path: no table is stored under it
    }
  };
  if (/%[0-9A-Fa-f]{2}/.test(source)) {
    add(() => nativeDataFileUri(source), () => nativeDataFileUri(target));
    return out;
  }
  const local = /^file:\/\/(\/.*)$/.exec(source)?.[1];
  const localTarget = /^file:\/\/(\/.*)$/.exec(target)?.[1];
  if (local !== undefined) {
    // WHATWG's path escapes (Node's pathToFileURL) and Python's quote (every byte but letters, digits and _.-~/)
    const whatwg = (p: string) => pathToFileURL(p).href;
    const python = (p: string) => `file://${p.split('/').map((seg) => encodeURIComponent(seg).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/')}`;
    for (const encode of [whatwg, python]) add(() => encode(local), () => (localTarget === undefined ? target : encode(localTarget)));
  }
  return out;
}

/** Options of {@link Catalog.relocateTables}, checked by name. */
const RELOCATE_OPTIONS = optionNames<RelocateTablesOptions>({ dryRun: true, signal: true });

/** A read bound older than this (ms before now) has no commit in flight dated before it. */
const SETTLED_AFTER_MS = 60_000;

/** The longest pause between two looks at the commits in flight that a read waits for (`settleCommits`). */
const SETTLE_POLL_MAX_MS = 20;

/** The role a program that shares its embedded catalog (`Catalog.open` with `share`) has in messages. */
const SHARE_ROLE = 'a program (Catalog.open with share)';

/**
 * Refuses an embedded catalog location that is a file, or lies under one (InvalidArgument
 * `INVALID_CATALOG_DIR`, as the CLI refuses it): PGlite's failure to make its directory there was
 * `CATALOG_UNAVAILABLE`, which says to retry later. A path that does not exist yet passes (it is made).
 */
function refuseNonDirectory(dataDir: string): void {
  let problem: string | undefined;
  try {
    const s = statSync(dataDir, { throwIfNoEntry: false });
    if (s !== undefined && !s.isDirectory()) problem = 'is a file, not a directory';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') problem = 'lies under a file, not a directory';
  }
  if (problem === undefined) return;
  throw new LakeSoulError('InvalidArgument', `the embedded catalog's dataDir ${dataDir} ${problem}: give a directory (made when it does not exist)`, {
    code: 'INVALID_CATALOG_DIR', context: { dataDir },
  });
}

/**
 * The driver of an embedded catalog directory: the directory opened here, or the process serving it
 * followed across that process's end ({@link ServedCatalogDriver}).
 */
async function openEmbeddedCatalog(dataDir: string, options: CatalogOpenOptions): Promise<SqlDriver> {
  refuseNonDirectory(dataDir);
  const openDirect = () => PGliteDriver.open({ dataDir });
  const waitMs = options.lockWaitMs ?? catalogLockWaitMs(options.env ?? process.env);
  const until = Date.now() + waitMs;
  let told = false;
  for (;;) {
    throwIfAborted(options.signal, `opening the catalog ${dataDir}`);
    try {
      const { driver, server } = await resolveEmbeddedDriver(dataDir, openDirect, { waitMs: 15_000 });
      if (!(driver instanceof SocketDriver && server)) return driver;
      const served = new ServedCatalogDriver(driver, { dataDir, openDirect, server, lockWaitMs: waitMs });
      // the caller's report of a wait also hears the waits after the server went away
      served.onLockWait = options.onLockWait;
      return served;
    } catch (e) {
      // held by a live process that does not serve it: wait for it to close the directory or serve it
      const pid = LakeSoulError.hasCode(e, 'CATALOG_LOCKED') ? Number(e.context.pid) : NaN;
      if (!Number.isInteger(pid)) throw e;
      if (Date.now() >= until) {
        // retryable, as a ServedCatalogDriver's call says it: the holder may close the directory or serve it later
        const waited = told ? ` (waited ${+(waitMs / 1000).toFixed(1)} s for it: LAKESOUL_CATALOG_WAIT or lockWaitMs sets how long)` : '';
        throw new LakeSoulError('Catalog', `${(e as Error).message}${waited}`,
          { code: 'CATALOG_LOCKED', retryable: true, context: (e as LakeSoulError).context, cause: e });
      }
      if (!told) (options.onLockWait ?? warnOfLockWait)({ pid, dataDir, waitMs });
      told = true;
      await abortableSleep(LOCK_POLL_MS, options.signal, `opening the catalog ${dataDir}`);
    }
  }
}

/**
 * Says that `Catalog.open` waits for another process (as a process warning, which Node prints once on
 * stderr unless `--no-warnings`): without a word, a program looked hung for up to a minute.
 */
function warnOfLockWait({ pid, dataDir, waitMs }: { pid: number; dataDir: string; waitMs: number }): void {
  process.emitWarning(`waiting for process ${pid}, which has the embedded catalog ${dataDir} open, for up to ${+(waitMs / 1000).toFixed(1)} s ` +
    '(lockWaitMs or LAKESOUL_CATALOG_WAIT sets how long; onLockWait replaces this warning)', { code: 'LAKESOUL_CATALOG_WAIT' });
}

/** The serving of a directory by this process (`share`): its server and the driver it serves, and the catalogs using it. */
interface DirectorySharing {
  /** Open catalogs of this process that asked for `share` on the directory (and have not closed). */
  users: number;
  /** The server, on its own driver (one more user of the process's PGlite); undefined when another part of this process serves it. */
  started: Promise<{ server: CatalogServer; driver: SqlDriver } | undefined>;
}

/**
 * The directories this process serves for `Catalog.open` with `share`, by real path. Counted like the
 * PGlite the catalogs share: until 2026-12-06 the serving belonged to the first catalog opened with
 * `share` (a second one's `shareCatalogDirectory` found this process's claim and got nothing), so
 * closing the first stopped serving while the second still held the directory, and every other
 * process waited out its lock wait and failed `CATALOG_LOCKED`.
 */
const sharedHere = new Map<string, DirectorySharing>();
/** Directories whose last sharing catalog is stopping the server: a new one starts after that. */
const unsharingHere = new Map<string, Promise<void>>();

/**
 * Serves `dataDir`, which this process has open, to other processes while a catalog using it is open;
 * returns that catalog's release (the last release stops the server), or null when this process serves
 * it through something else (a {@link ServedCatalogDriver} that took the directory over, `serveCatalog`).
 */
async function shareDirectoryHere(dataDir: string): Promise<(() => Promise<void>) | null> {
  const key = realpathSync(dataDir);
  let entry = sharedHere.get(key);
  if (!entry) {
    const previous = unsharingHere.get(key);
    const started = (async () => {
      await previous?.catch(() => {});
      // the server's own use of the PGlite: it serves on after the catalog that started it closes
      const driver = await PGliteDriver.open({ dataDir });
      try {
        const server = await shareCatalogDirectory(driver, dataDir, SHARE_ROLE);
        if (!server) { await driver.close(); return undefined; }
        return { server, driver };
      } catch (e) {
        await driver.close().catch(() => {});
        throw e;
      }
    })();
    entry = { users: 0, started };
    sharedHere.set(key, entry);
  }
  const mine = entry;
  mine.users++;
  let started: Awaited<DirectorySharing['started']>;
  try {
    started = await mine.started;
  } catch (e) {
    if (--mine.users === 0 && sharedHere.get(key) === mine) sharedHere.delete(key);
    throw e;
  }
  if (!started) {
    // served by other means: a later open tries again
    if (--mine.users === 0 && sharedHere.get(key) === mine) sharedHere.delete(key);
    return null;
  }
  const { server, driver } = started;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    if (--mine.users > 0) return;
    if (sharedHere.get(key) === mine) sharedHere.delete(key);
    const stopping = (async () => {
      try {
        await server.close();
      } finally {
        await driver.close();
      }
    })();
    unsharingHere.set(key, stopping);
    try {
      await stopping;
    } finally {
      if (unsharingHere.get(key) === stopping) unsharingHere.delete(key);
    }
  };
}

/** Bootstraps an open runs through a served catalog whose server goes away during it (each reaches the catalog anew). */
const OPEN_ATTEMPTS_ON_SERVER_LOSS = 3;

/** How often a wait for another process's embedded catalog tries again, in ms. */
const LOCK_POLL_MS = 150;

/** `n` when it is a count of retries (a whole number, 0 or more); NaN never reached a bound, so a conflicting commit retried forever. */
function checkRetries(n: number, what: string): number {
  if (!(Number.isSafeInteger(n) && n >= 0)) {
    throw new LakeSoulError('InvalidArgument', `${what} must be a whole number of retries (0 or more), got ${typeof n === 'string' ? `'${n}'` : String(n)}`, { code: 'INVALID_OPTION_VALUE', context: { option: 'maxRetries' } });
  }
  return n;
}

/**
 * The catalog. Obtain one with {@link Catalog.open} (configuration resolved, driver opened, schema
 * bootstrapped) or wrap a driver with `new Catalog(driver)`.
 */
export class Catalog {
  /** The SQL driver (owned: {@link Catalog.close} closes it). */
  readonly driver: SqlDriver;
  private readonly commitLock: boolean;
  private readonly defaultRetries: number;
  /**
   * This catalog's use of the serving of its directory to other processes (`share`), let go of on
   * close: the serving ends when the last catalog of this process that asked for it closes.
   */
  private sharing: (() => Promise<void>) | null = null;

  /** Wraps a driver; call {@link Catalog.bootstrap} unless the schema exists. */
  constructor(driver: SqlDriver, options: CatalogOptions = {}) {
    this.driver = driver;
    this.commitLock = options.commitLock ?? true;
    this.defaultRetries = checkRetries(options.maxRetries ?? DEFAULT_COMMIT_RETRIES, 'Catalog maxRetries');
  }

  /**
   * Resolves the configuration ({@link resolveCatalogConfig}), opens a {@link PgDriver} or
   * {@link PGliteDriver}, and bootstraps the schema (unless `bootstrap: false`). An embedded catalog
   * directory that another process serves (`lakesoul-ts serve`, the CLI's catalog server: see
   * {@link serveCatalog}) is used through that process ({@link SocketDriver}).
   */
  static async open(options: CatalogOpenOptions = {}): Promise<Catalog> {
    refuseUnknownOptions(options, CATALOG_OPEN_OPTIONS, 'Catalog.open');
    refuseNonBooleanOptions(options, ['bootstrap', 'commitLock', 'serverTimeouts', 'share'], 'Catalog.open');
    if (options.maxRetries !== undefined) checkRetries(options.maxRetries, 'Catalog maxRetries'); // before a driver is opened
    const config: CatalogConfig = resolveCatalogConfig(options, options.env ?? process.env);
    const driver: SqlDriver = config.kind === 'pg'
      ? await PgDriver.connect({
        url: config.url, schema: config.schema, max: options.maxConnections,
        queryTimeoutMillis: options.queryTimeoutMs ?? pgQueryTimeoutMs(options.env ?? process.env),
        serverTimeouts: options.serverTimeouts ?? pgServerTimeouts(options.env ?? process.env),
      }, options.signal)
      : config.dataDir
        ? await openEmbeddedCatalog(config.dataDir, options)
        : await PGliteDriver.open({});
    const catalog = new Catalog(driver, options);
    try {
      // served by another process: should that one end (during this open too), this one takes the
      // directory over and shares it
      if (options.share && driver instanceof ServedCatalogDriver) driver.shareOnTakeover(SHARE_ROLE);
      if (options.bootstrap !== false) {
        for (let attempt = 1; ; attempt++) {
          try {
            await catalog.bootstrap(options.signal);
            break;
          } catch (e) {
            // The serving process ended during the open (killed, stopped): its connection is lost, and
            // the driver reaches the catalog again on the next call. The bootstrap is idempotent: run it
            // again rather than fail the open (a program's top-level await of it died of this). A server
            // that hangs (no answer to pings) is not waited for again.
            const lost = driver instanceof ServedCatalogDriver && LakeSoulError.hasCode(e, 'CATALOG_UNAVAILABLE') && !e.context.serverUnresponsive;
            if (!lost || attempt >= OPEN_ATTEMPTS_ON_SERVER_LOSS) throw e;
          }
        }
      }
      if (options.share && config.kind !== 'pg' && config.dataDir && driver instanceof PGliteDriver) {
        // null: serving is in other hands (a ServedCatalogDriver of this process that took the directory over)
        catalog.sharing = await shareDirectoryHere(config.dataDir);
      }
    } catch (e) {
      await driver.close().catch(() => {});
      throw e;
    }
    return catalog;
  }

  /** Creates the LakeSoul catalog schema when missing (idempotent; see catalog-schema.ts). */
  async bootstrap(signal?: AbortSignal): Promise<void> {
    await bootstrapCatalogSchema(this.driver, signal);
  }

  /** Stops sharing the directory (`share`), then closes the driver. */
  async close(): Promise<void> {
    const sharing = this.sharing;
    this.sharing = null;
    if (sharing) await sharing();
    await this.driver.close();
  }

  /** `await using catalog = await Catalog.open()` closes it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---------------------------------------------------------------------------------------------
  // Namespaces

  /** Creates a namespace. AlreadyExists (naming it) unless `ifNotExists`. */
  async createNamespace(name: string, options: CreateNamespaceOptions = {}): Promise<NamespaceInfo> {
    validateNamespaceName(name);
    refuseNonBooleanOptions(options, ['ifNotExists'], `create namespace '${name}'`);
    const props = stringifyProps(options.properties, `create namespace '${name}'`);
    if (options.comment !== undefined && options.comment !== null && typeof options.comment !== 'string') {
      throw new LakeSoulError('InvalidArgument', `create namespace '${name}': comment must be a string, not ${typeof options.comment}`, { context: { namespace: name, argument: 'comment' } });
    }
    checkNoNul(options.comment ?? '', `create namespace '${name}': comment`);
    try {
      await this.driver.query(
        'INSERT INTO namespace (namespace, properties, comment, domain) VALUES ($1, $2::json, $3, $4)',
        [name, JSON.stringify(props), options.comment ?? '', 'public'], { signal: options.signal });
    } catch (e) {
      if (LakeSoulError.is(e, 'AlreadyExists')) {
        if (options.ifNotExists) return this.getNamespace(name, { signal: options.signal });
        throw new LakeSoulError('AlreadyExists', `namespace '${name}' already exists`, { context: { namespace: name }, cause: e });
      }
      throw e;
    }
    return { name, properties: props, comment: options.comment ?? '', domain: 'public' };
  }

  /**
   * All namespaces, by name: those of the namespace table, and those only tables name (LakeSoul's
   * Python package writes tables into namespaces it never registers; they were missing from the list
   * and every call on them said "not found").
   */
  async listNamespaces(options: CatalogCallOptions = {}): Promise<NamespaceInfo[]> {
    const r = await this.driver.query<{ namespace: string; properties: unknown; comment: string | null; domain: string | null }>(
      `SELECT * FROM (SELECT namespace, properties, comment, domain FROM namespace
       UNION ALL
       SELECT x.ns, NULL::json, NULL::text, NULL::text FROM (SELECT DISTINCT t.table_namespace AS ns FROM table_info t
        WHERE NOT EXISTS (SELECT 1 FROM namespace n WHERE n.namespace = t.table_namespace)) x) u
       ORDER BY namespace COLLATE "C"`, [], { signal: options.signal });
    return r.rows.map((x) => ({ name: x.namespace, properties: properties(x.properties), comment: x.comment ?? '', domain: x.domain ?? 'public' }));
  }

  /** One namespace (registered, or named by a table only: see {@link listNamespaces}); NotFound naming it. */
  async getNamespace(name: string, options: CatalogCallOptions = {}): Promise<NamespaceInfo> {
    validateNamespaceArgument(name);
    if (name.includes('\u0000')) throw namespaceNotFound(name); // PostgreSQL text cannot hold NUL
    const r = await this.driver.query<{ namespace: string; properties: unknown; comment: string | null; domain: string | null }>(
      `SELECT namespace, properties, comment, domain FROM namespace WHERE namespace = $1
       UNION ALL
       SELECT table_namespace, NULL::json, NULL::text, NULL::text FROM table_info
        WHERE table_namespace = $1 AND NOT EXISTS (SELECT 1 FROM namespace WHERE namespace = $1)
       LIMIT 1`, [name], { signal: options.signal });
    const x = r.rows[0];
    if (!x) throw namespaceNotFound(name);
    return { name: x.namespace, properties: properties(x.properties), comment: x.comment ?? '', domain: x.domain ?? 'public' };
  }

  /**
   * Drops a namespace. A namespace holding tables is refused (InvalidArgument naming it and its
   * table count) unless `cascade`, which drops the tables too and returns their data file paths.
   * The `default` namespace cannot be dropped. It is one transaction, holding the lock
   * {@link createTable} takes: the namespace and all its tables go, or (on any error) nothing does,
   * and a table created meanwhile is either dropped with it or refused (the namespace is gone).
   */
  async dropNamespace(name: string, options: DropNamespaceOptions = {}): Promise<DropResult> {
    validateNamespaceArgument(name);
    // `cascade: 'false'` dropped every table of the namespace
    refuseNonBooleanOptions(options, ['cascade', 'ifExists'], `drop namespace '${name}'`);
    if (name === 'default') throw new LakeSoulError('InvalidArgument', "the 'default' namespace cannot be dropped", { context: { namespace: name } });
    // PostgreSQL text cannot hold NUL: no namespace has such a name
    if (name.includes('\u0000')) {
      if (options.ifExists) return { files: [] };
      throw namespaceNotFound(name);
    }
    return this.driver.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [CREATE_TABLE_LOCK]);
      const exists = await tx.query('SELECT 1 FROM namespace WHERE namespace = $1 UNION ALL SELECT 1 FROM table_info WHERE table_namespace = $1 LIMIT 1', [name]);
      if (exists.rows.length === 0) {
        if (options.ifExists) return { files: [] };
        throw namespaceNotFound(name);
      }
      const tables = await tx.query<{ table_id: string; table_name: string }>(
        'SELECT table_id, table_name FROM table_info WHERE table_namespace = $1 ORDER BY table_name COLLATE "C"', [name]);
      if (tables.rows.length > 0 && !options.cascade) {
        throw new LakeSoulError('InvalidArgument',
          `namespace '${name}' is not empty (${tables.rows.length} table(s): ${tables.rows.slice(0, 5).map((t) => t.table_name).join(', ')}); drop them first or pass cascade`,
          { code: 'NAMESPACE_NOT_EMPTY', context: { namespace: name } });
      }
      const files = new Set<string>();
      for (const t of tables.rows) {
        try {
          for (const f of await dropTableRows(tx, t.table_id)) files.add(f);
        } catch (e) {
          if (!LakeSoulError.is(e)) throw e;
          throw new LakeSoulError(e.kind, `drop namespace '${name}': dropping its table '${name}.${t.table_name}' failed, nothing was dropped: ${e.message}`, {
            code: e.code, retryable: e.retryable, context: { ...e.context, namespace: name, table: `${name}.${t.table_name}` }, cause: e,
          });
        }
      }
      await tx.query('DELETE FROM namespace WHERE namespace = $1', [name]);
      return { files: [...files] };
    }, { signal: options.signal });
  }

  // ---------------------------------------------------------------------------------------------
  // Tables

  /**
   * Creates a table: validates the options against the schema, then writes table_info, table_name_id
   * and table_path_id in one transaction. AlreadyExists names the table (or the path's table).
   */
  async createTable(options: CreateTableOptions & { signal?: AbortSignal }): Promise<TableInfo> {
    const namespace = options.namespace ?? 'default';
    const name = options.name;
    validateNamespaceName(namespace);
    validateTableName(name);
    const qname = `${namespace}.${name}`;
    const signal = options.signal;
    refuseNonBooleanOptions(options, ['ifNotExists'], `create table '${qname}'`);
    const invalid = (msg: string, column?: string) => new LakeSoulError('InvalidArgument', `create table '${qname}': ${msg}`,
      { context: { table: qname, namespace, column } });
    const path = normalizeTablePath(options.path);
    const schema = options.schema;
    const names = schema.fields.map((f) => f.name);
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n)) throw invalid(`duplicate column '${n}'`, n);
      const problem = columnNameProblem(n);
      if (problem) throw invalid(`column name ${/[\u0000-\u001f\u007f]/.test(n) ? JSON.stringify(n) : `'${n}'`} ${problem}`, n);
      seen.add(n);
    }
    const range = options.rangePartitions ?? [];
    const pks = options.primaryKeys ?? [];
    for (const c of range) {
      if (!seen.has(c)) throw invalid(`range partition column '${c}' is not in the schema`, c);
      if (c.includes(',') || c.includes(';') || c.includes('=')) throw invalid(`column name '${c}' cannot be a partition column (contains , ; or =)`, c);
      checkRangePartitionType(qname, c, schema.fields.find((f) => f.name === c)!.type);
    }
    for (const c of pks) {
      if (!seen.has(c)) throw invalid(`primary key column '${c}' is not in the schema`, c);
      if (c.includes(',') || c.includes(';')) throw invalid(`column name '${c}' cannot be a primary key column (contains , or ;)`, c);
      if (range.includes(c)) throw invalid(`column '${c}' cannot be both a range partition column and a primary key`, c);
    }
    if (new Set(range).size !== range.length) throw invalid('range partition columns repeat');
    // range values live in the partition, not in the files: a file of no column holds no row count,
    // and every row written was committed and then read as none (Spark refuses such a table too)
    if (range.length > 0 && range.length === schema.fields.length) {
      throw invalid(`every column (${range.join(', ')}) is a range partition column: rows would store no column in the data files, and none could be read back; add a column that is not a partition column`);
    }
    if (new Set(pks).size !== pks.length) throw invalid('primary key columns repeat');
    let buckets = -1;
    // a bucket count without keys was dropped silently (stored -1): buckets hash the primary key
    if (pks.length === 0 && options.hashBucketNum !== undefined && options.hashBucketNum !== -1) {
      throw invalid(`hashBucketNum ${options.hashBucketNum} needs primaryKeys: rows are put into buckets by the hash of their primary key (a table without keys has none)`);
    }
    if (pks.length > 0) {
      buckets = options.hashBucketNum ?? 4;
      if (!isBucketCount(buckets)) {
        throw new LakeSoulError('InvalidArgument', `create table '${qname}': hashBucketNum ${buckets} must be a power of two from 1 to 2^30 (1, 2, 4, 8, ..., 1073741824)`, {
          code: 'INVALID_OPTION_VALUE', context: { table: qname, namespace, option: 'hashBucketNum' },
        });
      }
    }
    if (options.cdcColumn !== undefined) {
      const f = schema.fields.find((x) => x.name === options.cdcColumn);
      if (!f) throw invalid(`CDC column '${options.cdcColumn}' is not in the schema`, options.cdcColumn);
      if (f.type.typeId !== Type.Utf8 && f.type.typeId !== Type.LargeUtf8) throw invalid(`CDC column '${options.cdcColumn}' must be utf8, not ${String(f.type)}`, options.cdcColumn);
      if (range.includes(options.cdcColumn) || pks.includes(options.cdcColumn)) throw invalid(`CDC column '${options.cdcColumn}' cannot be a partition or primary key column`, options.cdcColumn);
      // a 'delete' row deletes the row of its key: without keys it deleted nothing (only itself)
      if (pks.length === 0) throw invalid(`CDC column '${options.cdcColumn}' needs primaryKeys: a 'delete' row deletes the row of its primary key, and a table without keys has none`, options.cdcColumn);
    }
    const schemaJson = arrowSchemaToJson(schema);
    const props = Object.assign(Object.create(null) as Record<string, string>, { hashBucketNum: String(buckets), file_format: 'parquet' });
    if (options.cdcColumn !== undefined) props.lakesoul_cdc_change_column = options.cdcColumn;
    for (const [k, v] of Object.entries(stringifyProps(options.properties, `create table '${qname}'`))) {
      if (k === 'hashBucketNum' && v !== props.hashBucketNum) throw invalid(`property hashBucketNum '${v}' contradicts the bucket count ${props.hashBucketNum}`);
      if (k === 'file_format' && v !== 'parquet') throw invalid(`file_format '${v}' is not supported (parquet only)`);
      if (k === 'lakesoul_cdc_change_column' && v !== props.lakesoul_cdc_change_column) throw invalid(`property lakesoul_cdc_change_column must be set through cdcColumn`);
      props[k] = v;
    }
    const partitions = `${range.join(',')};${pks.join(',')}`;
    const tableId = `table_${randomUUID()}`;

    // the table gets its namespace's domain, as LakeSoul's engines give it (their access control filters by it)
    const domain = (await this.getNamespace(namespace, { signal })).domain ?? 'public';
    if (options.ifNotExists) {
      const existing = await this.findTable(name, namespace, signal);
      if (existing) return existing;
    }
    try {
      await this.driver.transaction(async (tx) => {
        // Serializes creates so that the overlap check below and the inserts act as one step
        // (two concurrent creates of `a` and `a/b` cannot both pass).
        await tx.query('SELECT pg_advisory_xact_lock($1)', [CREATE_TABLE_LOCK]);
        // the namespace may have been dropped since it was looked up (dropNamespace holds this lock)
        const ns = await tx.query('SELECT 1 FROM namespace WHERE namespace = $1 UNION ALL SELECT 1 FROM table_info WHERE table_namespace = $1 LIMIT 1', [namespace]);
        if (ns.rows.length === 0) throw namespaceNotFound(namespace);
        if (options.replaceEmptyTable !== undefined) await dropReplacedTable(tx, options.replaceEmptyTable, qname, namespace, name, path);
        const taken = await tx.query<{ table_id: string; live: boolean }>(
          'SELECT n.table_id, EXISTS (SELECT 1 FROM table_info i WHERE i.table_id = n.table_id) AS live FROM table_name_id n WHERE n.table_name = $1 AND n.table_namespace = $2',
          [name, namespace]);
        if (taken.rows.some((r) => r.live)) throw new LakeSoulError('AlreadyExists', `table '${qname}' already exists`, { code: 'TABLE_EXISTS', context: { table: qname, namespace } });
        // A name whose table is gone (a drop another engine did not finish): the entries are stale, the name is free.
        for (const r of taken.rows) {
          await tx.query('DELETE FROM table_name_id WHERE table_name = $1 AND table_namespace = $2 AND table_id = $3', [name, namespace, r.table_id]);
          await tx.query('DELETE FROM table_path_id WHERE table_id = $1', [r.table_id]);
        }
        await this.checkPathOverlap(tx, qname, namespace, path);
        await tx.query('INSERT INTO table_name_id (table_name, table_id, table_namespace, domain) VALUES ($1, $2, $3, $4)',
          [name, tableId, namespace, domain]);
        await tx.query('INSERT INTO table_path_id (table_path, table_id, table_namespace, domain) VALUES ($1, $2, $3, $4)',
          [path, tableId, namespace, domain]);
        await tx.query(
          `INSERT INTO table_info (table_id, table_namespace, table_name, table_path, table_schema, properties, partitions, domain)
           VALUES ($1, $2, $3, $4, $5, $6::json, $7, $8)`,
          [tableId, namespace, name, path, schemaJson, JSON.stringify(props), partitions, domain]);
      }, { signal });
    } catch (e) {
      if (LakeSoulError.is(e, 'AlreadyExists')) {
        if (LakeSoulError.hasCode(e, 'TABLE_PATH_EXISTS', 'TABLE_PATH_OVERLAP')) throw e;
        if (e.context.constraint === 'table_path_id_pkey') {
          const other = await this.getTableByPath(path, { signal }).catch(() => undefined);
          throw new LakeSoulError('AlreadyExists', `create table '${qname}': path '${path}' is already used by table '${other ? `${other.namespace}.${other.name}` : '?'}'`,
            { code: 'TABLE_PATH_EXISTS', context: { table: qname, namespace, path }, cause: e });
        }
        if (options.ifNotExists) {
          const existing = await this.findTable(name, namespace, signal);
          if (existing) return existing;
        }
        throw new LakeSoulError('AlreadyExists', `table '${qname}' already exists`, { code: 'TABLE_EXISTS', context: { table: qname, namespace }, cause: e });
      }
      throw e;
    }
    return {
      tableId, namespace, name, path, schema, schemaJson, rangePartitions: [...range], primaryKeys: [...pks], hashBucketNum: buckets,
      ...(options.cdcColumn !== undefined ? { cdcColumn: options.cdcColumn } : {}), properties: props, domain,
    };
  }

  /**
   * Refuses a location that equals, contains or lies inside another table's (whatever engine
   * created it): such a table's cleanup or purge would reach the other table's files.
   */
  private async checkPathOverlap(tx: SqlExecutor, qname: string, namespace: string, path: string): Promise<void> {
    const rows = await tx.query<{ table_namespace: string; table_name: string | null; table_path: string }>(
      'SELECT table_namespace, table_name, table_path FROM table_info');
    // each path's keys made once (they were made four times per table, in the create lock: 90 ms a
    // create at 3,000 tables)
    const mine = locationKeys(path);
    for (const r of rows.rows) {
      const theirs = locationKeys(r.table_path);
      const how = keysWithin(theirs, mine) ? (keysWithin(mine, theirs) ? 'is the path of' : 'contains the path of')
        : keysWithin(mine, theirs) ? 'lies inside the path of' : undefined;
      if (how === undefined) continue;
      const other = `${r.table_namespace}.${r.table_name ?? ''}`;
      const same = how === 'is the path of';
      throw new LakeSoulError('AlreadyExists', `create table '${qname}': path '${path}' ${how} table '${other}' ('${r.table_path}'); a table's files must not mix with another's`,
        { code: same ? 'TABLE_PATH_EXISTS' : 'TABLE_PATH_OVERLAP', context: { table: qname, namespace, path, otherTable: other, otherPath: r.table_path } });
    }
  }

  /**
   * A table_info row as a {@link TableInfo}. A schema this version cannot decode throws, naming the
   * table, unless `listed`: a listing's entry then has an empty schema and says why in `unsupported`.
   */
  private decodeTable(r: TableInfoRow, listed = false): TableInfo {
    const qname = `${r.table_namespace}.${r.table_name ?? ''}`;
    let schema: Schema;
    let unsupported: string | undefined;
    try {
      schema = arrowSchemaFromJson(r.table_schema);
    } catch (e) {
      const le = e as LakeSoulError;
      const error = new LakeSoulError(le.kind ?? 'SchemaMismatch', `table '${qname}' (${r.table_id}): ${le.message}`, { context: { ...le.context, table: qname }, cause: e });
      if (!listed) throw error;
      schema = new ArrowSchema([]);
      unsupported = error.message;
    }
    const props = properties(r.properties);
    const [rangePart, pkPart] = (r.partitions ?? ';').split(';');
    const cdc = props.lakesoul_cdc_change_column;
    const primaryKeys = splitCols(pkPart);
    // a primary-key table whose hashBucketNum is no count (a hand-edited catalog's 'abc'): refused by
    // name where it is read or written, listed (and so droppable) with `unsupported` saying why
    const buckets = decodeHashBucketNum(qname, props.hashBucketNum, primaryKeys.length > 0);
    if (buckets.error) {
      if (!listed) throw buckets.error;
      unsupported ??= buckets.error.message;
    }
    return {
      tableId: r.table_id, namespace: r.table_namespace, name: r.table_name ?? '', path: r.table_path, schema, schemaJson: r.table_schema,
      rangePartitions: splitCols(rangePart), primaryKeys, hashBucketNum: buckets.value,
      ...(cdc ? { cdcColumn: cdc } : {}), properties: props, domain: r.domain ?? 'public', ...(unsupported !== undefined ? { unsupported } : {}),
    };
  }

  private static readonly TABLE_COLS = 'table_id, table_namespace, table_name, table_path, table_schema, properties, partitions, domain';

  private async findTable(name: string, namespace: string, signal?: AbortSignal, listed = false): Promise<TableInfo | undefined> {
    if (typeof name !== 'string') validateTableName(name);
    if (typeof namespace !== 'string') validateNamespaceName(namespace);
    // PostgreSQL text cannot hold NUL (its error would name neither table nor namespace): no such table.
    if (name.includes('\u0000') || namespace.includes('\u0000')) return undefined;
    const r = await this.driver.query<TableInfoRow>(
      `SELECT ${Catalog.TABLE_COLS.split(', ').map((c) => `t.${c}`).join(', ')}
         FROM table_name_id n JOIN table_info t ON t.table_id = n.table_id
        WHERE n.table_name = $1 AND n.table_namespace = $2`, [name, namespace], { signal });
    return r.rows[0] ? this.decodeTable(r.rows[0], listed) : undefined;
  }

  /** A table by name; NotFound naming `namespace.name`. */
  async getTable(name: string, namespace = 'default', options: CatalogCallOptions = {}): Promise<TableInfo> {
    return this.tableNamed(name, namespace, options, false);
  }

  /**
   * A table by name as {@link listTables} gives it: a table whose schema this version cannot decode
   * comes with {@link TableInfo.unsupported} set and an empty schema instead of an error, so that it
   * can be dropped or described by name (use it where the schema is not needed); NotFound naming
   * `namespace.name`.
   */
  async getTableEntry(name: string, namespace = 'default', options: CatalogCallOptions = {}): Promise<TableInfo> {
    return this.tableNamed(name, namespace, options, true);
  }

  private async tableNamed(name: string, namespace: string, options: CatalogCallOptions, listed: boolean): Promise<TableInfo> {
    const t = await this.findTable(name, namespace, options.signal, listed);
    if (!t) {
      throw new LakeSoulError('NotFound', `table ${quoteInput(`${namespace}.${name}`)} not found`, {
        code: 'TABLE_NOT_FOUND', context: { table: `${namespace}.${name}`.slice(0, MAX_QUOTED_INPUT), namespace: namespace.slice(0, MAX_QUOTED_INPUT) },
      });
    }
    return t;
  }

  /** A table by `table_id`; NotFound naming the id. */
  async getTableById(tableId: string, options: CatalogCallOptions = {}): Promise<TableInfo> {
    return this.tableWithId(tableId, options, false);
  }

  /** A table by `table_id`, as {@link Catalog.listTables} gives it when `listed` (see {@link Catalog.getTableEntry}). */
  private async tableWithId(tableId: string, options: CatalogCallOptions, listed: boolean): Promise<TableInfo> {
    checkNoNul(tableId, 'table id');
    const r = await this.driver.query<TableInfoRow>(`SELECT ${Catalog.TABLE_COLS} FROM table_info WHERE table_id = $1`, [tableId], { signal: options.signal });
    if (!r.rows[0]) throw tableIdNotFound(tableId);
    return this.decodeTable(r.rows[0], listed);
  }

  /** A table by its location (normalized: no trailing slash); NotFound naming the path. */
  async getTableByPath(path: string, options: CatalogCallOptions = {}): Promise<TableInfo> {
    const p = normalizeTablePath(path);
    const r = await this.driver.query<TableInfoRow>(`SELECT ${Catalog.TABLE_COLS} FROM table_info WHERE table_path = $1`, [p], { signal: options.signal });
    if (!r.rows[0]) throw new LakeSoulError('NotFound', `no table at path '${p}'`, { code: 'TABLE_NOT_FOUND', context: { path: p } });
    return this.decodeTable(r.rows[0]);
  }

  /**
   * Tables of one namespace (NotFound when it does not exist), or of all namespaces; by namespace and
   * name. A table whose schema this version cannot decode is listed all the same, with
   * {@link TableInfo.unsupported} saying why and an empty schema, so that one such table (another
   * engine's type) neither hides the others nor itself: it can still be dropped.
   */
  async listTables(namespace?: string, options: CatalogCallOptions = {}): Promise<TableInfo[]> {
    if (namespace !== undefined) await this.getNamespace(namespace, options);
    const r = namespace === undefined
      ? await this.driver.query<TableInfoRow>(`SELECT ${Catalog.TABLE_COLS} FROM table_info ORDER BY table_namespace COLLATE "C", table_name COLLATE "C"`, [], { signal: options.signal })
      : await this.driver.query<TableInfoRow>(`SELECT ${Catalog.TABLE_COLS} FROM table_info WHERE table_namespace = $1 ORDER BY table_name COLLATE "C"`, [namespace], { signal: options.signal });
    return r.rows.map((x) => this.decodeTable(x, true));
  }

  /**
   * Removes every catalog row of the table (table_info, name/path ids, partition_info,
   * data_commit_info, discard_compressed_file_info) in one transaction and returns every data file
   * path its commits referenced, committed or not, so the io layer can delete the data on request.
   */
  async dropTable(tableId: string, options: CatalogCallOptions = {}): Promise<DropResult> {
    // (no schema decoded: a table of a type this version does not read can be dropped)
    checkNoNul(tableId, 'table id');
    return this.driver.transaction(async (tx) => ({ files: await dropTableRows(tx, tableId) }), { signal: options.signal });
  }

  /**
   * After the files of tables were moved (a home or warehouse moved, copied to another machine or to
   * S3): rewrites every table at or below `from` to the same place below `to` (their paths, their
   * committed and discarded files' paths), in one transaction. Locations are spelled as table paths
   * are stored ({@link normalizeTablePath}: `file:///dir` or `/dir`, `s3://bucket/prefix`; a trailing
   * slash changes nothing; Hadoop's `file:/dir` is taken as `file:///dir`). Tables and files another
   * engine stored in another spelling of `from` (`file:/dir`, `s3a://`) move too, keeping their
   * spelling, as do those at the percent-decoded form of `from` (`from` `file:///w/my%20lake` moves
   * the tables stored at `file:///w/my lake`). `to` is stored as a table path is ({@link storedLocation}: a `file:` URL's
   * `%XX` escapes decoded; `?`, `#`, `\\` and escapes that LakeSoul's engines would read as another
   * place refused). Move the files first; table objects opened before keep the old paths.
   *
   * @throws LakeSoulError `InvalidArgument` for a location that is not one, or the same location twice,
   *   or an unknown option; `AlreadyExists` when a moved table would land on, inside or around another
   *   table's path (`TABLE_PATH_EXISTS`, `TABLE_PATH_OVERLAP`); `NotFound` when no table is under `from`.
   */
  async relocateTables(from: string, to: string, options: RelocateTablesOptions = {}): Promise<RelocateTablesResult> {
    // `{ dryrun: true }` relocated for real
    refuseUnknownOptions(options, RELOCATE_OPTIONS, 'relocateTables');
    refuseNonBooleanOptions(options, ['dryRun'], 'relocateTables');
    const location = (p: string) => normalizeTablePath(p.trim().replace(/^file:\/(?!\/)/i, 'file:///'));
    // (normalizeTablePath's refusals say "table path"; these are the command's arguments)
    const named = <T>(what: string, f: () => T): T => {
      try {
        return f();
      } catch (e) {
        if (!LakeSoulError.hasCode(e, 'INVALID_TABLE_PATH') || !e.message.startsWith('table path ')) throw e;
        throw new LakeSoulError(e.kind, `relocate: ${what} ${e.message.slice('table path '.length)}`, { code: e.code, context: e.context, cause: e });
      }
    };
    const source = named('the old location', () => location(from));
    const target = named('the new location', () => location(storedLocation(typeof to === 'string' ? to.trim().replace(/(.)\/+$/, '$1') : to, 'relocate: the new location', 'INVALID_TABLE_PATH')));
    return relocateTables(this.driver, source, target, options, otherSpellings(source, target));
  }

  /**
   * Removes the catalog rows of a table that has no partition version yet (no commit: created, then
   * nothing written), in one transaction; false, removing nothing, when it has one. For undoing a
   * create whose first write failed without dropping what another writer committed meanwhile.
   */
  async dropTableIfEmpty(tableId: string, options: CatalogCallOptions = {}): Promise<boolean> {
    checkNoNul(tableId, 'table id');
    return this.driver.transaction(async (tx) => {
      await lockTableRow(tx, tableId, 'UPDATE');
      if ((await tx.query('SELECT 1 FROM partition_info WHERE table_id = $1 LIMIT 1', [tableId])).rows.length > 0) return false;
      await dropTableRows(tx, tableId);
      return true;
    }, { signal: options.signal });
  }

  /**
   * Sets (string value) or removes (null) table properties, atomically. `hashBucketNum`,
   * `file_format` and `lakesoul_cdc_change_column` describe the data already written and cannot be
   * changed here (InvalidArgument), except that a non-PK table's `hashBucketNum: "-1"` may be removed.
   * `patch` may be a function of the properties as they are in the update's transaction (the table's
   * row locked): a value that extends another (a list in one property) then loses no concurrent
   * update; what it throws ends the update with nothing changed.
   */
  async updateTableProperties(
    tableId: string,
    patch: Record<string, string | null> | ((current: Readonly<Record<string, string>>) => Record<string, string | null>),
    options: CatalogCallOptions = {},
  ): Promise<TableInfo> {
    checkNoNul(tableId, 'table id');
    const fixed = new Set(['hashBucketNum', 'file_format', 'lakesoul_cdc_change_column']);
    const row = await this.driver.transaction(async (tx) => {
      const r = await tx.query<TableInfoRow>(`SELECT ${Catalog.TABLE_COLS} FROM table_info WHERE table_id = $1 FOR UPDATE`, [tableId]);
      if (!r.rows[0]) throw tableIdNotFound(tableId);
      const cur = properties(r.rows[0].properties);
      const qname = `${r.rows[0].table_namespace}.${r.rows[0].table_name}`;
      // a table refused for its bucket count is refused here too, before anything changes (the update
      // committed, and then decoding the updated row threw)
      const buckets = decodeHashBucketNum(qname, cur.hashBucketNum, splitCols((r.rows[0].partitions ?? ';').split(';')[1]).length > 0);
      if (buckets.error) throw buckets.error;
      const changes = typeof patch === 'function' ? patch(Object.assign(Object.create(null) as Record<string, string>, cur)) : patch;
      if (changes === null || typeof changes !== 'object' || Array.isArray(changes)) {
        throw new LakeSoulError('InvalidArgument', `table '${qname}': the properties to update must be an object of strings (null removes one), not ${changes === null ? 'null' : Array.isArray(changes) ? 'an array' : typeof changes}`, { context: { table: qname } });
      }
      for (const [k, v] of Object.entries(changes)) {
        // undefined: no change (it was stored as the text "undefined"); null removes
        if (v === undefined) continue;
        if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
          throw new LakeSoulError('InvalidArgument', `table '${qname}': property ${quoteInput(k)} must be a string (or null to remove it), not ${Array.isArray(v) ? 'an array' : typeof v}`, {
            context: { table: qname, property: k.slice(0, MAX_QUOTED_INPUT) },
          });
        }
        if (v !== null) checkNoNul(String(v), `table '${qname}' property ${quoteInput(k)}`);
        checkNoNul(k, `table '${qname}' property name`);
        // Removing a non-PK table's hashBucketNum "-1" changes nothing (missing reads as -1) and lets
        // writers that refuse "-1" (the lakesoul 2.0 Python wheel, docs/interop.md) write the table.
        const harmless = k === 'hashBucketNum' && v === null && cur[k] === '-1';
        if (fixed.has(k) && !harmless && (v === null ? k in cur : cur[k] !== String(v))) {
          throw new LakeSoulError('InvalidArgument', `table '${qname}': property '${k}' cannot be changed`, { context: { table: qname, property: k } });
        }
        if (v === null) delete cur[k];
        else cur[k] = String(v);
      }
      await tx.query('UPDATE table_info SET properties = $2::json WHERE table_id = $1', [tableId, JSON.stringify(cur)]);
      return { ...r.rows[0], properties: cur };
    }, { signal: options.signal });
    return this.decodeTable(row);
  }

  /**
   * Replaces a table's schema with an evolution of it (schema-evolution.ts: nullable columns appended,
   * integer and float widening), atomically. `table_schema_arrow_ipc` and its hash are cleared so no
   * reader sees the old schema there. Concurrent evolutions serialize on the table row; each is checked
   * against the schema current at that moment. Range, primary-key and CDC columns never change.
   * @throws LakeSoulError SchemaMismatch `SCHEMA_EVOLUTION_REFUSED`; NotFound.
   */
  async evolveTableSchema(tableId: string, evolve: (current: Schema) => Schema, options: CatalogCallOptions = {}): Promise<TableInfo> {
    checkNoNul(tableId, 'table id');
    const row = await this.driver.transaction(async (tx) => {
      const r = await tx.query<TableInfoRow>(`SELECT ${Catalog.TABLE_COLS} FROM table_info WHERE table_id = $1 FOR UPDATE`, [tableId]);
      if (!r.rows[0]) throw tableIdNotFound(tableId);
      return this.storeEvolvedSchema(tx, r.rows[0], evolve(this.decodeTable(r.rows[0]).schema));
    }, { signal: options.signal });
    return this.decodeTable(row);
  }

  /**
   * Checks `next` as an evolution of the schema of the locked table row `row` and stores it (no
   * write when equal); returns the row as it now is.
   */
  private async storeEvolvedSchema(tx: SqlExecutor, row: TableInfoRow, next: Schema): Promise<TableInfoRow> {
    const info = this.decodeTable(row);
    const { widened } = checkSchemaEvolution(`${info.namespace}.${info.name}`, info.schema, next);
    for (const f of widened) {
      // The bucket hash and partition_desc depend on the key and range types: they never change.
      if (info.primaryKeys.includes(f.name) || info.rangePartitions.includes(f.name)) {
        throw new LakeSoulError('SchemaMismatch', `schema change of table '${info.namespace}.${info.name}' refused: column '${f.name}' is a ${info.primaryKeys.includes(f.name) ? 'primary-key' : 'range-partition'} column; its type cannot change`, {
          code: 'SCHEMA_EVOLUTION_REFUSED', context: { table: `${info.namespace}.${info.name}`, column: f.name },
        });
      }
    }
    const json = arrowSchemaToJson(next);
    if (json === row.table_schema) return row;
    await tx.query('UPDATE table_info SET table_schema = $2, table_schema_arrow_ipc = NULL, table_schema_arrow_ipc_json_hash = NULL WHERE table_id = $1', [row.table_id, json]);
    return { ...row, table_schema: json };
  }

  /**
   * The schema step of a commit, in its transaction ({@link CommitSchema}): holds the table row
   * against concurrent schema changes until the commit ends, evolves the schema when asked, and
   * refuses files made under a schema the table no longer has.
   */
  private async commitSchema(tx: SqlExecutor, table: TableInfo, qname: string, op: CommitOp, schema: CommitSchema): Promise<void> {
    const r = await tx.query<TableInfoRow>(`SELECT ${Catalog.TABLE_COLS} FROM table_info WHERE table_id = $1 FOR ${schema.evolve ? 'UPDATE' : 'SHARE'}`, [table.tableId]);
    if (!r.rows[0]) throw tableIdNotFound(table.tableId, qname);
    const before = this.decodeTable(r.rows[0]).schema;
    const changed = (why: string) => new LakeSoulError('Conflict',
      `${op} to table '${qname}': ${why}; nothing was committed. Run it again: the table's schema is read anew`,
      { code: 'SCHEMA_CHANGED', retryable: true, context: { table: qname, op } });
    // by columns, not by text: another engine's JSON of one schema differs from ours
    if (schema.readWith && schemaChangeText(schema.readWith, before) !== '') {
      throw changed(`the table's schema changed after this ${op === 'CompactionCommit' ? 'compaction' : 'rewrite'} read its rows (${schemaChangeText(schema.readWith, before)}): its files would leave out or narrow what changed`);
    }
    let current = before;
    if (schema.evolve) {
      const fixed = [...table.primaryKeys, ...table.rangePartitions];
      const next = (schema.written ?? []).reduce((cur, w) => mergeSchemas(cur, w, fixed), before);
      current = this.decodeTable(await this.storeEvolvedSchema(tx, r.rows[0], next)).schema;
    }
    for (const w of schema.written ?? []) {
      const problem = writtenSchemaProblem(current, w);
      if (problem) throw changed(`${problem} (another writer changed the schema after this write read it)`);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Commits

  /**
   * Commits data files (lakesoul-protocol.md §2): one `data_commit_info` row per partition
   * (committed=false), then ONE transaction inserting the new `partition_info` versions and marking
   * the commit rows committed. Every partition is checked against all versions committed to it
   * since the writer's read (`readVersion`, else the version current when the commit started) by
   * the rules of commit-rules.ts ({@link COMMIT_RULES}): Append and Merge rebase over the ops they
   * may, a Compaction overtaken by a rewrite leaves that partition out, anything else is a
   * non-retryable Conflict `COMMIT_REBASE_FAILED`. When another writer took the version
   * (`COMMIT_CONFLICT`, by partition_info's primary key) or the database aborted the transaction
   * (`TRANSACTION_CONFLICT`: deadlock, serialization failure), the attempt wrote nothing: it re-reads
   * and retries with jittered backoff, up to `maxRetries`; then a retryable Conflict naming table
   * and partition. A failed commit leaves no committed rows.
   */
  async commit(req: CommitRequest): Promise<CommitResult> {
    const { signal } = req;
    // before phase 2 nothing can have been committed: a lost catalog says so, naming the table
    const table = await this.getTableById(req.tableId, { signal }).catch((e: unknown) => { throw commitUnreached(e, { tableId: req.tableId }, req.op); });
    const qname = `${table.namespace}.${table.name}`;
    if (!COMMIT_OPS.includes(req.op)) {
      throw new LakeSoulError('InvalidArgument', `table '${qname}': unknown commit op '${String(req.op)}'`, { context: { table: qname } });
    }
    if (req.partitions.length === 0) throw new LakeSoulError('InvalidArgument', `table '${qname}': a commit needs at least one partition`, { context: { table: qname } });
    const descs = new Set<string>();
    for (const p of req.partitions) {
      this.validatePartitionCommit(table, qname, req.op, p);
      if (descs.has(p.partitionDesc)) {
        throw new LakeSoulError('InvalidArgument', `table '${qname}': partition '${p.partitionDesc}' appears twice in one commit`, { context: { table: qname, partition: p.partitionDesc } });
      }
      descs.add(p.partitionDesc);
    }
    const parts = [...req.partitions].sort((a, b) => (a.partitionDesc < b.partitionDesc ? -1 : a.partitionDesc > b.partitionDesc ? 1 : 0));
    const maxRetries = req.maxRetries === undefined ? this.defaultRetries : checkRetries(req.maxRetries, `commit to table '${qname}': maxRetries`);
    const timestamp = req.timestamp ?? Date.now();

    // The writer's read point: the version each partition is at now (unless it says what it read),
    // an index lookup per partition (max(version) read every version: 100 ms at 300 per partition)
    const current = await latestVersions(this.driver, table.tableId, parts.map((p) => p.partitionDesc), signal)
      .catch((e: unknown) => { throw commitUnreached(e, { qname }, req.op); });
    const base = new Map<string, number>();
    for (const p of parts) base.set(p.partitionDesc, Number(current.get(p.partitionDesc)?.version ?? -1));
    for (const p of parts) if (p.readVersion !== undefined) base.set(p.partitionDesc, p.readVersion);

    // Phase 1: the commit rows, not yet committed.
    const commitIds = new Map<string, string>();
    for (const p of parts) commitIds.set(p.partitionDesc, randomUUID());
    // A transaction the database aborted (deadlock, serialization failure) wrote nothing: run it again.
    await retryAbortedTransaction(`commit to table '${qname}'`, maxRetries, signal, () => this.driver.transaction(async (tx) => {
      await insertCommitRows(tx, table, req.op, timestamp, parts.map((p) => ({ partitionDesc: p.partitionDesc, commitId: commitIds.get(p.partitionDesc)!, files: p.files })));
    }, { signal })).catch((e: unknown) => {
      // phase 1 writes only uncommitted rows: whatever became of its transaction, the commit did not land
      if (!LakeSoulError.hasCode(e, 'TRANSACTION_OUTCOME_UNKNOWN')) throw statementRefusal(commitUnreached(e, { qname }, req.op), qname, req.op);
      throw new LakeSoulError('Catalog', `commit ${req.op} to table '${qname}': the catalog connection was lost (or its COMMIT got no answer) before the commit was applied; nothing was committed (${e.message})`, {
        code: 'CATALOG_UNAVAILABLE', retryable: true, context: { table: qname, op: req.op }, cause: e,
      });
    });

    // Phase 2: versions, with conflict retries.
    let attempt = 0;
    let outcomeLost = false; // an attempt's COMMIT went unanswered: later attempts check it did not land
    try {
      for (;;) {
        throwIfAborted(signal, `commit to table '${qname}'`);
        try {
          const versions = await this.driver.transaction(async (tx) => {
            if (req.schema) await this.commitSchema(tx, table, qname, req.op, req.schema);
            else await lockTableRow(tx, table.tableId, 'SHARE', qname);
            return this.commitPhase2(tx, table, qname, req.op, parts, base, commitIds, outcomeLost);
          }, { signal });
          const ids = new Map<string, string>();
          for (const d of versions.keys()) ids.set(d, commitIds.get(d)!);
          const dropped = parts.filter((p) => !versions.has(p.partitionDesc)).map((p) => commitIds.get(p.partitionDesc)!);
          // best effort: the commit landed, a failure here must not report it failed (its writer would
          // delete the committed files); rows left uncommitted are ignored by readers
          if (dropped.length) await this.deleteUncommitted(table.tableId, dropped).catch(() => {});
          return { versions, commitIds: ids, retries: attempt };
        } catch (e) {
          const le = mapSqlError(e);
          if (LakeSoulError.hasCode(le, 'TRANSACTION_OUTCOME_UNKNOWN') || le.code === 'COMMIT_ALREADY_LANDED') {
            // The connection died while the transaction committed: ask the catalog what happened. A
            // commit that landed is this call's success (a retry would write the data twice).
            outcomeLost = true;
            const landed = await this.committedOutcome(table, qname, req.op, parts, base, commitIds, le, signal);
            if (landed) return { ...landed, retries: attempt };
          } else if (!LakeSoulError.hasCode(le, 'COMMIT_CONFLICT', 'TRANSACTION_CONFLICT')) {
            throw le;
          }
          // Another writer took the version, the database aborted the transaction, or it did not
          // commit: nothing of this attempt was written; re-read and try again. Anything else is final.
          if (attempt >= maxRetries) {
            const partition = String(le.context.partition ?? partitionList(parts.map((p) => p.partitionDesc)));
            throw new LakeSoulError('Conflict',
              `commit ${req.op} to table '${qname}' partition '${partition}' still conflicted after ${maxRetries} retries; retry the write`,
              { code: 'COMMIT_CONFLICT', retryable: true, context: { table: qname, partition, op: req.op, retries: attempt }, cause: le });
          }
          attempt++;
          await abortableSleep(commitBackoffMs(attempt), signal, `commit to table '${qname}'`);
        }
      }
    } catch (e) {
      await this.deleteUncommitted(table.tableId, [...commitIds.values()]).catch(() => {});
      throw statementRefusal(commitUnreached(e, { qname }, req.op), qname, req.op);
    }
  }

  /**
   * After a commit transaction's outcome was lost with its connection: whether it committed, read from
   * its commit rows (phase 2 marks them committed in the same transaction). Returns the commit's result
   * when it landed, null when it did not (the caller retries). While the catalog cannot be reached it
   * asks again for {@link OUTCOME_CHECK_MS}; then it throws `COMMIT_OUTCOME_UNKNOWN`.
   */
  private async committedOutcome(table: TableInfo, qname: string, op: CommitOp, parts: PartitionCommit[], base: Map<string, number>,
    commitIds: Map<string, string>, lost: LakeSoulError, signal: AbortSignal | undefined): Promise<Omit<CommitResult, 'retries'> | null> {
    const ids = [...commitIds.values()];
    const deadline = Date.now() + OUTCOME_CHECK_MS;
    const unknown = (e: unknown) => new LakeSoulError('Catalog',
      `commit ${op} to table '${qname}' (partitions ${partitionList(parts.map((p) => p.partitionDesc))}): the catalog connection was lost while the commit was applied, ` +
      `and the catalog could not be asked whether it landed (${(e as Error).message}). Check the table's history (commit ids ${ids.join(', ')}) before writing again: ` +
      'a write repeated after a commit that did land is written twice. Its data files are kept.',
      { code: 'COMMIT_OUTCOME_UNKNOWN', retryable: false, context: { table: qname, op, commitIds: ids.join(',') }, cause: lost });
    for (let attempt = 1; ; attempt++) {
      try {
        // FOR SHARE waits for the lost attempt's transaction to end, if its backend still runs it (a
        // COMMIT delayed on the way): read before that, "not committed" could be followed by its commit
        const rows = (await this.driver.transaction((tx) => tx.query<{ partition_desc: string; committed: boolean }>(
          'SELECT partition_desc, committed FROM data_commit_info WHERE table_id = $1 AND commit_id = ANY($2::uuid[]) FOR SHARE', [table.tableId, ids]), { signal })).rows;
        if (!rows.some((r) => r.committed)) return null;
        const versions = new Map<string, number>();
        const landed = new Map<string, string>();
        for (const r of rows.filter((x) => x.committed)) {
          const id = commitIds.get(r.partition_desc)!;
          // the first version holding the commit (a DeleteCommit's snapshot is empty: the first Delete after the read)
          const v = await this.driver.query<{ version: number | null }>(
            `SELECT min(version)::int AS version FROM partition_info WHERE table_id = $1 AND partition_desc = $2 AND version > $3
               AND ($4::uuid = ANY(snapshot) OR (commit_op = 'DeleteCommit' AND $5))`,
            [table.tableId, r.partition_desc, base.get(r.partition_desc) ?? -1, id, op === 'DeleteCommit'], { signal });
          if (v.rows[0]?.version === null || v.rows[0]?.version === undefined) continue;
          versions.set(r.partition_desc, Number(v.rows[0].version));
          landed.set(r.partition_desc, id);
        }
        const dropped = parts.filter((p) => !versions.has(p.partitionDesc)).map((p) => commitIds.get(p.partitionDesc)!);
        if (dropped.length) await this.deleteUncommitted(table.tableId, dropped).catch(() => {}); // best effort, as after a commit
        return { versions, commitIds: landed };
      } catch (e) {
        // a timeout too: the FOR SHARE may wait on the lost transaction until the server ends it
        if (!LakeSoulError.hasCode(e, 'CATALOG_UNAVAILABLE', 'CATALOG_TIMEOUT', 'TRANSACTION_OUTCOME_UNKNOWN') || Date.now() >= deadline) throw unknown(e);
      }
      // an abort while waiting to ask again leaves the outcome unknown too: as an `Aborted`, the
      // writer took the commit for failed and deleted the files of one that had landed
      await abortableSleep(Math.min(2000, 100 * 2 ** attempt), signal, `commit to table '${qname}'`).catch((e: unknown) => { throw unknown(e); });
    }
  }

  private validatePartitionCommit(table: TableInfo, qname: string, op: CommitOp, p: PartitionCommit): void {
    const ctx = { table: qname, partition: p.partitionDesc };
    const cols = table.rangePartitions;
    if (cols.length === 0) {
      if (p.partitionDesc !== NO_PARTITION_DESC) {
        throw new LakeSoulError('InvalidArgument', `table '${qname}' has no range partitions: partition_desc must be '-5', not '${p.partitionDesc}'`, { context: ctx });
      }
    } else {
      const got = decodePartitionDesc(p.partitionDesc).map(([c]) => c);
      if (got.join(',') !== cols.join(',')) {
        throw new LakeSoulError('InvalidArgument', `table '${qname}': partition_desc '${p.partitionDesc}' does not match the range columns (${cols.join(', ')})`, { context: ctx });
      }
    }
    if (op === 'DeleteCommit' && p.files.length > 0) {
      throw new LakeSoulError('InvalidArgument', `table '${qname}' partition '${p.partitionDesc}': a DeleteCommit carries no files`, { context: ctx });
    }
    if (op === 'CompactionCommit' && p.readVersion === undefined) {
      throw new LakeSoulError('InvalidArgument', `table '${qname}' partition '${p.partitionDesc}': a CompactionCommit needs readVersion`, { context: ctx });
    }
    for (const f of p.files as DataFileOp[]) {
      const fctx = { ...ctx, file: f?.path };
      if (!f || typeof f.path !== 'string' || f.path === '') throw new LakeSoulError('InvalidArgument', `table '${qname}' partition '${p.partitionDesc}': a file op has no path`, { context: fctx });
      if (f.op !== 'add' && f.op !== 'del') throw new LakeSoulError('InvalidArgument', `table '${qname}' file '${f.path}': op must be 'add' or 'del', not '${String(f.op)}'`, { context: fctx });
      if (f.op === 'del' && op !== 'UpdateCommit') throw new LakeSoulError('InvalidArgument', `table '${qname}' file '${f.path}': only an UpdateCommit may delete files`, { context: fctx });
      let size: bigint;
      try { size = BigInt(f.size); } catch { size = -1n; }
      if (size < 0n) throw new LakeSoulError('InvalidArgument', `table '${qname}' file '${f.path}': invalid size ${String(f.size)}`, { context: fctx });
      if (!Array.isArray(f.existCols)) throw new LakeSoulError('InvalidArgument', `table '${qname}' file '${f.path}': existCols must be an array`, { context: fctx });
      for (const c of f.existCols) {
        if (table.rangePartitions.includes(c)) throw new LakeSoulError('InvalidArgument', `table '${qname}' file '${f.path}': range column '${c}' must not be stored in data files`, { context: { ...fctx, column: c } });
      }
    }
  }

  /**
   * Phase 2 for every partition, in one transaction: reads what was committed since the writer's
   * read, asks {@link checkCommit} for a verdict, and executes it (insert the new version and mark
   * the commit row committed, leave the partition out, or throw). Returns partition -> new version.
   */
  private async commitPhase2(tx: SqlExecutor, table: TableInfo, qname: string, op: CommitOp, parts: PartitionCommit[],
    base: Map<string, number>, commitIds: Map<string, string>, checkLanded = false): Promise<Map<string, number>> {
    const versions = new Map<string, number>();
    if (this.commitLock && parts.length > PARTITION_LOCKS_PER_COMMIT) {
      // A lock per partition fills PostgreSQL's lock table (an embedded catalog refused a commit of
      // 20,000 partitions: "out of shared memory"): the gate taken exclusively excludes every other
      // writer of the table, and so every writer of these partitions, with one lock.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1)::bigint)', [table.tableId]);
    } else if (this.commitLock) {
      // the table's commit gate, shared by writers: a reader that waits for its holders of a moment has
      // seen every commit dated before that moment (settleCommits)
      await tx.query('SELECT pg_advisory_xact_lock_shared(hashtext($1)::bigint)', [table.tableId]);
      await lockPartitions(tx, table.tableId, parts.map((p) => p.partitionDesc));
    }
    if (checkLanded) {
      // After an attempt whose outcome was lost: that attempt's transaction may still be alive and
      // commit (its COMMIT delayed on the way). Its commit rows are locked until it ends; once it has,
      // rows marked committed mean it landed, and this attempt must not commit the files again.
      const own = await tx.query<{ committed: boolean }>(
        'SELECT committed FROM data_commit_info WHERE table_id = $1 AND commit_id = ANY($2::uuid[]) FOR UPDATE', [table.tableId, [...commitIds.values()]]);
      if (own.rows.some((r) => r.committed)) throw new LakeSoulError('Conflict', `commit ${op} to table '${qname}' landed in an earlier attempt`, { code: 'COMMIT_ALREADY_LANDED' });
    }
    // One time for the commit's versions (history groups a commit's partitions by it), taken after the
    // locks: the transaction's start let a version that waited on a lock be dated before one committed
    // while it waited.
    const now = String((await tx.query<{ ms: string }>(`SELECT ((date_part('epoch', clock_timestamp()) * 1000)::bigint)::text AS ms`)).rows[0]!.ms);
    // every partition's state in one read each (commit-statements.ts), then the rules per partition
    const latest = await latestVersions(tx, table.tableId, parts.map((p) => p.partitionDesc));
    const curVersion = (desc: string) => Number(latest.get(desc)?.version ?? -1);
    for (const p of parts) {
      const b = base.get(p.partitionDesc)!;
      if (b > curVersion(p.partitionDesc)) {
        throw new LakeSoulError('InvalidArgument', `table '${qname}' partition '${p.partitionDesc}': readVersion ${b} is newer than the current version ${curVersion(p.partitionDesc)}`,
          { context: { table: qname, partition: p.partitionDesc, op } });
      }
    }
    const behind = new Map(parts.filter((p) => curVersion(p.partitionDesc) > base.get(p.partitionDesc)!).map((p) => [p.partitionDesc, base.get(p.partitionDesc)!]));
    const sinceRead = await versionsAfter(tx, table.tableId, behind);
    const forms = new Map<string, SnapshotForm>(); // the partitions that get a version, and how its snapshot is formed
    for (const p of parts) {
      const desc = p.partitionDesc;
      const ctx = { table: qname, partition: desc, op };
      const b = base.get(desc)!;
      const since: CommittedVersion[] = (sinceRead.get(desc) ?? []).map((v) => ({ version: v.version, op: v.op as CommitOp }));
      const verdict = checkCommit(op, since, b);
      if (verdict.action === 'drop') continue;
      if (verdict.action === 'invalid') throw new LakeSoulError('InvalidArgument', `table '${qname}' partition '${desc}': ${verdict.message}`, { context: ctx });
      if (verdict.action === 'conflict') {
        const c = verdict.conflict;
        throw new LakeSoulError('Conflict',
          `${op} to table '${qname}' partition '${desc}' conflicts with ${c.other.op} version ${c.other.version} committed since this writer read version ${b}: ${c.hint}`,
          { code: 'COMMIT_REBASE_FAILED', retryable: false, context: { ...ctx, check: c.check, conflictingOp: c.other.op, conflictingVersion: c.other.version, readVersion: b } });
      }
      forms.set(desc, verdict.snapshot);
    }
    const replaceRead = new Map<string, number>();
    for (const [desc, form] of forms) if (form === 'replace-read' && base.get(desc)! >= 0) replaceRead.set(desc, base.get(desc)!);
    const readExisting = await versionsExisting(tx, table.tableId, replaceRead);
    const rows: PartitionVersionInsert[] = [];
    const landed = new Map<string, string>();
    // dated `now`, and after every one of its partitions' previous versions: one time for all of them
    // (a clock stepped back made one commit two times a day apart, and a read as of a time between
    // them saw half of it)
    let at = BigInt(now);
    for (const desc of forms.keys()) {
      const cur = latest.get(desc);
      if (cur && BigInt(cur.timestamp) + 1n > at) at = BigInt(cur.timestamp) + 1n;
    }
    for (const [desc, form] of forms) {
      if (replaceRead.has(desc) && !readExisting.has(desc)) throw new LakeSoulError('InvalidArgument', `table '${qname}' partition '${desc}': readVersion ${replaceRead.get(desc)} does not exist`, { context: { table: qname, partition: desc, op } });
      const version = curVersion(desc) + 1;
      rows.push({ partitionDesc: desc, version, form, commitId: commitIds.get(desc)!, readVersion: replaceRead.get(desc) ?? -1, timestamp: String(at) });
      landed.set(desc, commitIds.get(desc)!);
      versions.set(desc, version);
    }
    try {
      await insertVersions(tx, table, op, rows);
    } catch (e) {
      const le = mapSqlError(e);
      if (LakeSoulError.hasCode(le, 'COMMIT_CONFLICT')) {
        // another engine, which takes no advisory lock, took a version meanwhile
        const desc = partitionOfVersionConflict(le.context.detail, table.tableId);
        const version = desc === undefined ? undefined : versions.get(desc);
        // the detail did not say which (a server that leaves it out): name the commit's partitions
        const listed = partitionList(rows.map((r) => r.partitionDesc));
        const which = desc === undefined ? `one of partitions ${listed}` : `partition '${desc}'`;
        throw new LakeSoulError('Conflict', `${op} to table '${qname}' ${which}: ${version === undefined ? 'a version' : `version ${version}`} was taken by another writer`,
          { code: 'COMMIT_CONFLICT', retryable: true, context: { table: qname, partition: desc ?? listed, op, ...(version === undefined ? {} : { version }) }, cause: le });
      }
      throw le;
    }
    await markCommitted(tx, { tableId: table.tableId, qname, op }, landed);
    return versions;
  }

  private async deleteUncommitted(tableId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.driver.query('DELETE FROM data_commit_info WHERE table_id = $1 AND commit_id = ANY($2::uuid[]) AND NOT committed', [tableId, ids]);
  }

  // ---------------------------------------------------------------------------------------------
  // Snapshots and history

  /**
   * Waits until every commit of this catalog dated before now is visible: waits for the transactions
   * holding the table's commit gate now to end (writers hold it shared from their locks to their
   * commit, and date their versions inside: those that take it later date theirs later). A read
   * bounded by a time close to now (`incremental.end`, `timestamp`) then cannot miss a commit dated
   * before its bound that becomes visible after it: consecutive increments ending "now" lost such
   * commits. The holders are watched in `pg_locks` rather than waited for by asking for the gate
   * exclusively: a waiting exclusive request queues every writer that comes after it, so a writer
   * stalled inside its commit stopped all the table's writers for as long as a reader waited behind
   * it (up to `idle_in_transaction_session_timeout`). Bounds older than {@link SETTLED_AFTER_MS} are
   * settled already. Writers without the gate (`commitLock: false`, other engines) are not waited for.
   */
  private async settleCommits(tableId: string, bound: number, signal?: AbortSignal): Promise<void> {
    if (!this.commitLock || bound < Date.now() - SETTLED_AFTER_MS) return;
    // pg_advisory_xact_lock(bigint) shows as classid = the key's high 32 bits, objid = its low ones
    const holders = (only: string[] | null) => this.driver.query<{ v: string[] }>(
      `SELECT coalesce(array_agg(l.virtualtransaction), '{}') AS v FROM pg_locks l, (SELECT hashtext($1)::bigint AS k) g
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = ((g.k >> 32) & 4294967295)::oid AND l.objid = (g.k & 4294967295)::oid
          AND ($2::text[] IS NULL OR l.virtualtransaction = ANY($2::text[]))`, [tableId, only], { signal }).then((r) => r.rows[0]?.v ?? []);
    let waiting = await holders(null);
    for (let pause = 1; waiting.length > 0; pause = Math.min(2 * pause, SETTLE_POLL_MAX_MS)) {
      await abortableSleep(pause, signal, 'waiting for the commits in flight');
      waiting = await holders(waiting);
    }
  }

  private matchFilter(table: TableInfo, filter: PartitionFilter | undefined): (desc: string) => boolean {
    if (filter === undefined) return () => true;
    const qname = `${table.namespace}.${table.name}`;
    if (Array.isArray(filter)) {
      // descriptions only: anything else (an object, a bare value) would silently match nothing
      const columns = table.rangePartitions;
      for (const d of filter as unknown[]) {
        const ok = typeof d === 'string' && !d.includes('\u0000') && (columns.length === 0
          ? d === NO_PARTITION_DESC
          : d.split(',').length === columns.length && d.split(',').every((part, i) => part.startsWith(`${columns[i]}=`)));
        if (!ok) {
          const example = columns.length === 0 ? `'${NO_PARTITION_DESC}' (the table has no range partitions)` : `'${columns.map((c) => `${c}=<value>`).join(',')}'`;
          throw new LakeSoulError('InvalidArgument', `table '${qname}': partition ${typeof d === 'string' ? `'${d}'` : inputText(d)} is not a partition description of this table: expected ${example}, or range values as one object ({ ${columns[0] ?? 'column'}: value })`,
            { code: 'INVALID_PARTITION', context: { table: qname } });
        }
      }
      const set = new Set(filter);
      return (d) => set.has(d);
    }
    if (typeof filter !== 'object' || filter === null) {
      throw new LakeSoulError('InvalidArgument', `table '${qname}': partitions must be a list of partition descriptions or an object of range values, not ${inputText(filter)}`, { code: 'INVALID_PARTITION', context: { table: qname } });
    }
    const want = Object.entries(filter).map(([c, v]) => {
      if (!table.rangePartitions.includes(c)) {
        throw new LakeSoulError('InvalidArgument', `table '${table.namespace}.${table.name}': '${c}' is not a range partition column (${table.rangePartitions.join(', ') || 'none'})`,
          { context: { table: `${table.namespace}.${table.name}`, column: c } });
      }
      if (v === undefined) {
        // a missing property ({ day: row.day } of a row without one) must not select the null partition
        throw new LakeSoulError('InvalidArgument', `table '${qname}': range partition column '${c}' is given as undefined: use null for the null partition`,
          { code: 'INVALID_PARTITION', context: { table: qname, column: c } });
      }
      const encoded = encodePartitionValue(c, v);
      // floats and timestamps: any text of the same value (another engine's, an earlier version's)
      const type = table.schema.fields.find((f) => f.name === c)?.type;
      // a null of a column that is not text: also the wheel's `NULL` (isNullRangeText)
      const key = type !== undefined && (hasRangeTextVariants(type) || (v === null && isNullRangeText(type, 'NULL'))) ? rangeValueKey(type, decodePartitionValue(encoded)) : undefined;
      return [c, encoded, type, key] as const;
    });
    return (d) => {
      if (d === NO_PARTITION_DESC) return want.length === 0;
      const got = new Map<string, string>();
      for (const part of d.split(',')) {
        const eq = part.indexOf('=');
        got.set(part.slice(0, eq), part.slice(eq + 1));
      }
      return want.every(([c, v, type, key]) => {
        const text = got.get(c);
        if (text === v) return true;
        return key !== undefined && text !== undefined && rangeValueKey(type!, decodePartitionValue(text)) === key;
      });
    };
  }

  private toVersion(r: PartitionRow): PartitionVersion {
    return { partitionDesc: r.partition_desc, version: Number(r.version), commitOp: r.commit_op as CommitOp, timestamp: Number(r.timestamp), snapshot: r.snapshot ?? [] };
  }

  /**
   * Rows of partition_info matching `where` (on its own columns): every one, or (`latestOnly`) the
   * highest version of each partition. The latest rows are picked by version alone and only they are
   * read whole: a snapshot lists every commit in force, so version k of a table never compacted holds
   * k + 1 ids, and reading every row's snapshot (DISTINCT ON did) made planning a 10,000-commit table
   * take 27 s and its incremental reads 4 GB.
   */
  private async partitionRows(tableId: string, where: string, params: unknown[], latestOnly: boolean, signal?: AbortSignal, selection?: PartitionSelection): Promise<PartitionRow[]> {
    if (selection?.descs) {
      params = [...params, selection.descs];
      where = `${where} AND partition_desc = ANY($${params.length + 1}::text[])`;
    }
    for (const part of selection?.parts ?? []) {
      params = [...params, `,${part},`];
      where = `${where} AND strpos(',' || partition_desc || ',', $${params.length + 1}) > 0`;
    }
    // With a selection, the versions are read without their snapshots, and the snapshots of the kept
    // ones by key after: a read of one partition of 6,000 read every partition's snapshot before.
    // The versions (immutable once written) come from the first statement: one read point.
    const snapshot = selection ? '' : ', p.snapshot::text[] AS snapshot';
    const sql = latestOnly
      ? `SELECT p.partition_desc, p.version, p.commit_op, p.timestamp${snapshot}
           FROM (SELECT partition_desc, max(version) AS version FROM partition_info WHERE table_id = $1 ${where} GROUP BY partition_desc) m
           JOIN partition_info p ON p.table_id = $1 AND p.partition_desc = m.partition_desc AND p.version = m.version
          ORDER BY p.partition_desc COLLATE "C"`
      : `SELECT p.partition_desc, p.version, p.commit_op, p.timestamp${snapshot}
           FROM partition_info p WHERE table_id = $1 ${where} ORDER BY partition_desc COLLATE "C", version`;
    const rows = (await this.driver.query<PartitionRow>(sql, [tableId, ...params], { signal })).rows;
    if (!selection) return rows;
    const kept = rows.filter((r) => selection.keep(r.partition_desc));
    if (kept.length === 0) return kept;
    const snaps = await this.driver.query<{ partition_desc: string; version: number; snapshot: string[] | null }>(
      `SELECT p.partition_desc, p.version, p.snapshot::text[] AS snapshot
         FROM unnest($2::text[], $3::int[]) AS k(partition_desc, version)
         JOIN partition_info p ON p.table_id = $1 AND p.partition_desc = k.partition_desc AND p.version = k.version`,
      [tableId, kept.map((r) => r.partition_desc), kept.map((r) => r.version)], { signal });
    const byKey = new Map(snaps.rows.map((r) => [`${Number(r.version)}\u0000${r.partition_desc}`, r.snapshot]));
    for (const r of kept) {
      const snap = byKey.get(`${Number(r.version)}\u0000${r.partition_desc}`);
      if (snap === undefined) {
        // versions are never rewritten; a cleanup may delete old ones between the two reads
        throw new LakeSoulError('NotFound', `table '${selection.table}' partition '${r.partition_desc}': version ${r.version} was deleted while it was read (a cleanup of old versions or a drop of the table ran meanwhile): read again`,
          { code: 'VERSION_CLEANED_UP', context: { table: selection.table, partition: r.partition_desc, version: Number(r.version) } });
      }
      r.snapshot = snap;
    }
    return kept;
  }

  /**
   * What {@link partitionRows} keeps of a partition filter (a list of descriptions, range values) and
   * a predicate of the caller's: undefined when both are absent (every partition).
   */
  private partitionSelection(table: TableInfo, filter: PartitionFilter | undefined, predicate?: (desc: string) => boolean): PartitionSelection | undefined {
    if (filter === undefined && predicate === undefined) return undefined;
    const match = this.matchFilter(table, filter);
    // Range values of types one text per value (strings, integers...) narrow the statement to the
    // descriptions holding `column=text`; floats, dates and timestamps have other engines' texts too.
    const parts = filter === undefined || Array.isArray(filter) ? undefined : Object.entries(filter).flatMap(([c, v]) => {
      const type = table.schema.fields.find((f) => f.name === c)?.type;
      return type === undefined || hasRangeTextVariants(type) || (v === null && isNullRangeText(type, 'NULL')) ? [] : [`${c}=${encodePartitionValue(c, v)}`];
    });
    return {
      table: `${table.namespace}.${table.name}`,
      descs: Array.isArray(filter) ? [...new Set(filter as string[])] : undefined,
      parts,
      keep: predicate === undefined ? match : (d) => match(d) && predicate(d),
    };
  }

  /** Loads file ops of the given commits: commit id -> ops in stored order (ids without a row are absent). */
  private async loadFileOps(tableId: string, ids: Iterable<string>, signal?: AbortSignal): Promise<Map<string, FileOpRow[]>> {
    const list = [...new Set(ids)];
    const out = new Map<string, FileOpRow[]>();
    const CHUNK = 5000;
    for (let i = 0; i < list.length; i += CHUNK) {
      const r = await this.driver.query<FileOpRow>(
        `SELECT d.commit_id::text AS commit_id, d.partition_desc, o.path, o.file_op, o.size::text AS size, o.file_exist_cols, o.ord
           FROM data_commit_info d
           LEFT JOIN LATERAL unnest(d.file_ops) WITH ORDINALITY AS o(path, file_op, size, file_exist_cols, ord) ON true
          WHERE d.table_id = $1 AND d.commit_id = ANY($2::uuid[])`, [tableId, list.slice(i, i + CHUNK)], { signal });
      groupFileOps(r.rows, out);
    }
    for (const arr of out.values()) arr.sort((a, b) => Number(a.ord) - Number(b.ord));
    return out;
  }

  /** Resolves an ordered list of commit ids to the live files (adds not deleted later), in merge order. */
  private resolveFiles(qname: string, desc: string, ids: string[], ops: Map<string, FileOpRow[]>, made?: Map<FileOpRow, SnapshotFile>): SnapshotFile[] {
    const flat: FileOpRow[] = [];
    for (const id of ids) {
      const o = ops.get(id);
      if (!o) {
        throw new LakeSoulError('Catalog', `table '${qname}' partition '${desc}': snapshot references commit ${id}, which has no data_commit_info row`,
          { code: 'CATALOG_INCONSISTENT', context: { table: qname, partition: desc, commitId: id } });
      }
      flat.push(...o);
    }
    const deleted = new Set<string>();
    const kept = new Set<string>();
    const out: SnapshotFile[] = [];
    for (let i = flat.length - 1; i >= 0; i--) {
      const f = flat[i];
      if (f.file_op === 'del') { deleted.add(f.path); continue; }
      if (deleted.has(f.path) || kept.has(f.path)) continue;
      kept.add(f.path);
      let file = made?.get(f);
      if (!file) {
        file = { path: f.path, size: BigInt(f.size), existCols: splitCols(f.file_exist_cols), bucket: bucketFromFileName(f.path), commitId: f.commit_id };
        made?.set(f, file);
      }
      out.push(file);
    }
    return out.reverse();
  }

  /**
   * Resolves a snapshot (lakesoul-protocol.md §3): per selected partition its live files in merge
   * order. Latest by default; `version` (partitions lacking it are left out); `timestamp` T =
   * per partition `max(version) where timestamp < T` (strict, as upstream's native reader);
   * `incremental` [start, end) = the commits added after the version in force before `start` up to
   * `end` (a partition with nothing before `start` is read whole as of `end`; a CompactionCommit
   * contributes its snapshot minus its first (compacted) commit). A partition with an UpdateCommit
   * or DeleteCommit inside the range comes whole as of `end` (no files when dropped) with
   * `reset: true`: it replaces what the reader had. So applying the increments of consecutive ranges
   * to the state at the first start gives the state at the last end. Partitions with nothing new
   * are left out.
   */
  async getSnapshot(tableId: string, options: SnapshotOptions = {}): Promise<PartitionSnapshot[]> {
    const { signal } = options;
    const modes = [options.version !== undefined, options.timestamp !== undefined, options.incremental !== undefined].filter(Boolean).length;
    const table = await this.getTableById(tableId, { signal });
    options.onTableInfo?.(table);
    const qname = `${table.namespace}.${table.name}`;
    if (modes > 1) throw new LakeSoulError('InvalidArgument', `snapshot of table '${qname}': give at most one of version, timestamp, incremental`, { context: { table: qname } });
    const match = this.matchFilter(table, options.partitions);
    const sel = this.partitionSelection(table, options.partitions, options.partitionMatch);
    const selected: Array<{ row: PartitionRow; ids: string[]; reset?: boolean }> = [];
    if (options.incremental) {
      const { start, end } = options.incremental;
      if (!(Number.isFinite(start) && Number.isFinite(end)) || start > end) {
        const shown = (ms: number) => (Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? `${ms} (${new Date(ms).toISOString()})` : String(ms));
        const why = Number.isFinite(start) && Number.isFinite(end) ? ': its start is after its end' : ': start and end must be epoch milliseconds';
        throw new LakeSoulError('InvalidArgument', `snapshot of table '${qname}': invalid incremental range [${shown(start)}, ${shown(end)})${why}`, { context: { table: qname } });
      }
      await this.settleCommits(table.tableId, end, signal);
      // per partition: its version in force before `start` (the baseline), then the versions of the range
      const baselines = await this.partitionRows(table.tableId, 'AND timestamp < $2', [start], true, signal, sel);
      const inRange = await this.partitionRows(table.tableId, 'AND timestamp >= $2 AND timestamp < $3', [start, end], false, signal, sel);
      const rows = [...baselines, ...inRange].filter((r) => match(r.partition_desc));
      const byPart = new Map<string, PartitionRow[]>();
      for (const r of rows) {
        const a = byPart.get(r.partition_desc) ?? [];
        a.push(r);
        byPart.set(r.partition_desc, a);
      }
      for (const prs of byPart.values()) {
        let pre = -1;
        for (let i = 0; i < prs.length; i++) if (Number(prs[i].timestamp) < start) pre = i;
        const last = prs[prs.length - 1];
        if (pre < 0) {
          selected.push({ row: last, ids: last.snapshot ?? [] });
          continue;
        }
        const after = prs.slice(pre + 1);
        if (after.length === 0) continue;
        // A rewrite (UpdateCommit) or drop (DeleteCommit) in the range removed rows an increment of
        // added files cannot express: the partition's whole content as of `end`, flagged `reset`.
        if (after.some((r) => r.commit_op === 'UpdateCommit' || r.commit_op === 'DeleteCommit')) {
          selected.push({ row: last, ids: last.snapshot ?? [], reset: true });
          continue;
        }
        const seen = new Set(prs[pre].snapshot ?? []);
        const ids: string[] = [];
        for (const r of after) {
          let snap = r.snapshot ?? [];
          if (r.commit_op === 'CompactionCommit' && snap.length > 0) {
            seen.add(snap[0]); // the compacted rewrite of data already counted (or before the baseline)
            snap = snap.slice(1);
          }
          for (const id of snap) {
            if (seen.has(id)) continue;
            seen.add(id);
            ids.push(id);
          }
        }
        selected.push({ row: last, ids });
      }
    } else {
      let rows: PartitionRow[];
      if (options.version !== undefined) {
        // (above 2^31 - 1, PostgreSQL's integer refused it in its own words, naming no table)
        if (!Number.isInteger(options.version) || options.version < 0 || options.version > 2_147_483_647) {
          const v: unknown = options.version;
          const shown = typeof v === 'string' ? `'${v.slice(0, 64)}' (a string)` : typeof v === 'bigint' ? `${v}n (a bigint: give Number(value))` : String(v);
          throw new LakeSoulError('InvalidArgument', `snapshot of table '${qname}': invalid version ${shown}: expected an integer from 0 to 2147483647`, {
            code: 'INVALID_OPTION_VALUE', context: { table: qname, option: 'version' },
          });
        }
        rows = await this.partitionRows(table.tableId, 'AND version = $2', [options.version], false, signal, sel);
      } else if (options.timestamp !== undefined) {
        if (typeof options.timestamp !== 'number' || !Number.isFinite(options.timestamp)) {
          throw new LakeSoulError('InvalidArgument', `snapshot of table '${qname}': invalid timestamp ${String(options.timestamp).slice(0, 64)}: expected epoch milliseconds`, { context: { table: qname } });
        }
        await this.settleCommits(table.tableId, options.timestamp, signal);
        rows = await this.partitionRows(table.tableId, 'AND timestamp < $2', [options.timestamp], true, signal, sel);
      } else {
        rows = await this.partitionRows(table.tableId, '', [], true, signal, sel);
      }
      rows = rows.filter((r) => match(r.partition_desc));
      // a caller's predicate may leave out every partition that has the version (a filter on range
      // columns): then there is nothing to read, not "no such version"
      const given = options.partitionMatch === undefined ? sel : this.partitionSelection(table, options.partitions);
      if (options.version !== undefined && rows.length === 0 && given !== sel) {
        const at = await this.driver.query<{ partition_desc: string }>('SELECT partition_desc FROM partition_info WHERE table_id = $1 AND version = $2', [table.tableId, options.version], { signal });
        if (at.rows.some((r) => match(r.partition_desc))) return [];
      }
      if (options.version !== undefined && rows.length === 0) {
        // versions count per partition: say which ones there are
        const latest = (await this.partitionRows(table.tableId, '', [], true, signal, given)).filter((r) => match(r.partition_desc));
        const shown = latest.slice(0, 5).map((r) => (r.partition_desc === NO_PARTITION_DESC ? `${r.version}` : `${r.partition_desc}: ${r.version}`));
        const known = latest.length === 0 ? 'it has no version yet'
          : latest.length === 1 && latest[0]!.partition_desc === NO_PARTITION_DESC ? `its latest version is ${shown[0]}`
            : `versions count per partition; the latest: ${shown.join(', ')}${latest.length > shown.length ? `, and ${latest.length - shown.length} more partitions` : ''}`;
        throw new LakeSoulError('NotFound', `table '${qname}' has no partition at version ${options.version}: ${known}`, { code: 'VERSION_NOT_FOUND', context: { table: qname, namespace: table.namespace, version: options.version } });
      }
      for (const r of rows) selected.push({ row: r, ids: r.snapshot ?? [] });
    }
    const ops = await this.loadFileOps(table.tableId, selected.flatMap((s) => s.ids), signal);
    if (options.onTableInfo) await this.tableInfoAfterSnapshot(table, options.onTableInfo, signal);
    return selected.map(({ row, ids, reset }) => ({
      partitionDesc: row.partition_desc,
      version: Number(row.version),
      commitOp: row.commit_op as CommitOp,
      timestamp: Number(row.timestamp),
      files: this.resolveFiles(`${table.namespace}.${table.name}`, row.partition_desc, ids, ops),
      ...(reset ? { reset: true } : {}),
    }));
  }

  /**
   * Gives `onTableInfo` the table's entry again when its schema changed while a snapshot was read. A
   * merge write widens or adds columns in the transaction of its commit, so a snapshot read after the
   * entry can hold files written under a newer schema (a reader then met an int16 value in a column it
   * took for int8, and failed SCHEMA_MISMATCH on a healthy file). Schemas only grow: the entry read
   * after the snapshot covers every file in it.
   */
  private async tableInfoAfterSnapshot(table: TableInfo, onTableInfo: (t: TableInfo) => void, signal?: AbortSignal): Promise<void> {
    const r = await this.driver.query<{ table_schema: string }>('SELECT table_schema FROM table_info WHERE table_id = $1', [table.tableId], { signal });
    if (r.rows[0] === undefined || r.rows[0].table_schema === table.schemaJson) return;
    onTableInfo(await this.getTableById(table.tableId, { signal }));
  }

  /**
   * Latest version of each partition (optionally filtered by partition_desc list or range values), by
   * partition_desc. Without a filter, also of a table {@link TableInfo.unsupported} lists (described
   * by name, its partitions are shown); range values need the table's schema.
   */
  async listPartitions(tableId: string, filter?: PartitionFilter, options: CatalogCallOptions = {}): Promise<PartitionVersion[]> {
    const table = await this.tableWithId(tableId, options, filter === undefined);
    const rows = await this.partitionRows(table.tableId, '', [], true, options.signal, this.partitionSelection(table, filter));
    return rows.map((r) => this.toVersion(r));
  }

  /**
   * Every version of every (or one) partition, ordered by partition_desc then version, each with its
   * snapshot: every commit id in force at that version, so the whole history of a table never
   * compacted is quadratic in its commits (4,801 commits: 11.5 million ids). A commit log needs
   * {@link Catalog.historySummary}, the files of some versions {@link Catalog.versionSnapshots}.
   */
  async history(tableId: string, options: HistoryOptions = {}): Promise<PartitionVersion[]> {
    const { table, where, params } = await this.historyScope(tableId, options);
    const rows = await this.partitionRows(table.tableId, where, params, false, options.signal);
    return rows.map((r) => this.toVersion(r));
  }

  /**
   * {@link Catalog.history} without the snapshots: partition, version, operation and time of each
   * version (same order, same options). Linear in the versions where `history` is quadratic: the
   * CLI's `history --limit 0` of 4,801 one-row commits took 71 s and 2.9 GB with the snapshots read,
   * and through a catalog server failed (its reply over the 256 MB frame limit).
   */
  async historySummary(tableId: string, options: HistoryOptions = {}): Promise<PartitionVersionSummary[]> {
    const { table, where, params } = await this.historyScope(tableId, options);
    const r = await this.driver.query<Omit<PartitionRow, 'snapshot'>>(
      `SELECT partition_desc, version, commit_op, timestamp FROM partition_info WHERE table_id = $1 ${where} ORDER BY partition_desc COLLATE "C", version`,
      [table.tableId, ...params], { signal: options.signal });
    return r.rows.map((row) => ({ partitionDesc: row.partition_desc, version: Number(row.version), commitOp: row.commit_op as CommitOp, timestamp: Number(row.timestamp) }));
  }

  /**
   * How many commit ids the snapshots of {@link Catalog.history} with these options hold in all (the
   * size of its reply, which grows with the square of an uncompacted history), counted in the
   * catalog without reading them.
   */
  async historySnapshotLength(tableId: string, options: HistoryOptions = {}): Promise<number> {
    const { table, where, params } = await this.historyScope(tableId, options);
    const r = await this.driver.query<{ n: string | number | null }>(
      `SELECT sum(cardinality(snapshot)) AS n FROM partition_info WHERE table_id = $1 ${where}`,
      [table.tableId, ...params], { signal: options.signal });
    return Number(r.rows[0]?.n ?? 0);
  }

  /** The table and the conditions (on partition_info, after `table_id = $1`) of a history's options. */
  private async historyScope(tableId: string, options: HistoryOptions): Promise<{ table: TableInfo; where: string; params: unknown[] }> {
    const table = await this.getTableById(tableId, options);
    if (options.partitionDesc !== undefined) this.matchFilter(table, [options.partitionDesc]); // a description of this table, or INVALID_PARTITION
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.partitionDesc !== undefined) {
      params.push(options.partitionDesc);
      where.push(`AND partition_desc = $${params.length + 1}`);
    }
    if (options.commits !== undefined) {
      if (!Number.isSafeInteger(options.commits) || options.commits < 0) {
        throw new LakeSoulError('InvalidArgument', `history of table '${table.namespace}.${table.name}': commits must be a whole number >= 0, not ${options.commits}`, { code: 'INVALID_OPTION_VALUE', context: { option: 'commits' } });
      }
      // the time of the oldest commit kept (one time per commit): the n-th newest distinct timestamp
      params.push(options.commits);
      const n = params.length + 1;
      where.push(`AND timestamp >= (SELECT coalesce(min(t), 9223372036854775807) FROM (SELECT DISTINCT timestamp AS t FROM partition_info
        WHERE table_id = $1 ${options.partitionDesc !== undefined ? 'AND partition_desc = $2' : ''} ORDER BY t DESC LIMIT $${n}) newest)`);
    }
    return { table, where: where.join(' '), params };
  }

  /** How many commits (distinct version times) the table, or one partition of it, has. */
  async commitCount(tableId: string, options: Pick<HistoryOptions, 'partitionDesc' | 'signal'> = {}): Promise<number> {
    const table = await this.getTableById(tableId, options);
    if (options.partitionDesc !== undefined) this.matchFilter(table, [options.partitionDesc]);
    const r = await this.driver.query<{ n: string }>(
      `SELECT count(DISTINCT timestamp)::text AS n FROM partition_info WHERE table_id = $1 ${options.partitionDesc !== undefined ? 'AND partition_desc = $2' : ''}`,
      options.partitionDesc !== undefined ? [table.tableId, options.partitionDesc] : [table.tableId], { signal: options.signal });
    return Number(r.rows[0]!.n);
  }

  /**
   * The files of each of the given partition versions (in the order given), as {@link getSnapshot}
   * resolves one: the commits of all of them are loaded once (consecutive versions share most), so
   * listing the files of many versions costs one catalog read, not one per version. A file in force
   * in several of the versions is one object in all their `files` (100 versions of 4,800 files each
   * made 480,000 objects, most of the time such a read took).
   */
  async versionSnapshots(tableId: string, versions: ReadonlyArray<{ partitionDesc: string; version: number }>, options: CatalogCallOptions = {}): Promise<PartitionSnapshot[]> {
    const table = await this.getTableById(tableId, options);
    if (versions.length === 0) return [];
    // A version's snapshot usually starts with the whole snapshot of the partition's version before
    // it (appends and upserts add their commit at the end): such a version comes as the number of ids
    // it shares with the previous version asked for (`shared`) and the rest (`snapshot`), so each id
    // crosses once, not once per version (as text, 480,000 ids for 100 versions of 4,800 commits).
    const r = await this.driver.query<PartitionRow & { shared: number }>(
      `SELECT partition_desc, version, commit_op, timestamp, shared, snapshot[shared + 1:]::text[] AS snapshot
         FROM (SELECT *, CASE WHEN prev IS NOT NULL AND cardinality(snapshot) >= cardinality(prev) AND snapshot[1:cardinality(prev)] = prev
                              THEN cardinality(prev) ELSE 0 END AS shared
                 FROM (SELECT p.partition_desc, p.version, p.commit_op, p.timestamp, p.snapshot,
                              lag(p.snapshot) OVER (PARTITION BY p.partition_desc ORDER BY p.version) AS prev
                         FROM partition_info p JOIN (SELECT DISTINCT * FROM unnest($2::text[], $3::int[]) AS u(partition_desc, version)) w
                           ON p.partition_desc = w.partition_desc AND p.version = w.version
                        WHERE p.table_id = $1) v) s
        ORDER BY partition_desc COLLATE "C", version`,
      [table.tableId, versions.map((v) => v.partitionDesc), versions.map((v) => v.version)], { signal: options.signal });
    let before: PartitionRow | undefined;
    for (const row of r.rows) {
      const tail = row.snapshot ?? [];
      const shared = Number(row.shared);
      row.snapshot = shared > 0 && before?.partition_desc === row.partition_desc ? before.snapshot!.slice(0, shared).concat(tail) : tail;
      before = row;
    }
    const byKey = new Map(r.rows.map((row) => [`${row.version}\u0000${row.partition_desc}`, row]));
    const rows = versions.map((v) => {
      const row = byKey.get(`${v.version}\u0000${v.partitionDesc}`);
      if (!row) {
        throw new LakeSoulError('NotFound', `table '${table.namespace}.${table.name}' has no version ${v.version} of partition '${v.partitionDesc}'`, {
          code: 'VERSION_NOT_FOUND', context: { table: `${table.namespace}.${table.name}`, namespace: table.namespace, partition: v.partitionDesc, version: v.version },
        });
      }
      return row;
    });
    const ops = await this.loadFileOps(table.tableId, new Set(r.rows.flatMap((row) => row.snapshot!.slice(row.shared))), options.signal);
    const made = new Map<FileOpRow, SnapshotFile>();
    return rows.map((row) => ({
      partitionDesc: row.partition_desc,
      version: Number(row.version),
      commitOp: row.commit_op as CommitOp,
      timestamp: Number(row.timestamp),
      files: this.resolveFiles(`${table.namespace}.${table.name}`, row.partition_desc, row.snapshot ?? [], ops, made),
    }));
  }

  /**
   * Paths of the files live in any version in force at or after `epochMs` (per partition: the
   * version a read at that instant resolves, i.e. the last with timestamp < epochMs as reads take
   * it, and every one stamped at or after it), sorted. Cleanup keeps these; the io layer deletes
   * the rest. See {@link Catalog.tableFileSets}.
   */
  async filesReferencedSince(tableId: string, epochMs: number, options: CatalogCallOptions = {}): Promise<string[]> {
    return (await this.tableFileSets(tableId, epochMs, options)).referenced;
  }

  /**
   * What cleanup tells apart, read in one statement, so from one snapshot of the catalog: the paths
   * committed commits of the table name (`committed`, as {@link Catalog.allCommittedFilePaths}) and
   * the files live in a version in force at or after `epochMs` (`referenced`, as
   * {@link Catalog.filesReferencedSince}). Read in two statements, a commit landing between them
   * could make its new file look committed but unreferenced (unless the committed paths were read
   * first), and each read cost a round trip or two; one statement sees a commit whole or not at all.
   * NotFound when the table does not exist.
   */
  async tableFileSets(tableId: string, epochMs: number, options: CatalogCallOptions = {}): Promise<TableFileSets> {
    checkNoNul(tableId, 'table id');
    // One row per table name ('t'), committed path ('c'), commit of a kept version ('w'), kept
    // version resolved whole ('v') and file op of a commit a kept version references ('o'). Kept:
    // per partition the version a read at epochMs resolves (the highest with timestamp < epochMs: reads
    // are strict, as upstream's native reader) and every one stamped at or after it. With `<=` here a
    // commit stamped exactly epochMs (a time copied from `history`) left the version a read at that
    // time resolves unkept: its files were deleted and the read refused as cleaned up. A version's
    // live files are its commits' adds less those a later commit of the version deletes. Deleting
    // commits (Update) enter snapshots first, where nothing after them is theirs to delete, so only
    // a version holding one further on (another engine's form) is resolved whole; of the others,
    // each distinct commit once (its adds less its own deletes).
    // Resolving every kept version (each snapshot as long as the history before a compaction) took
    // 3.7 s for a table of 2,000 commits kept whole; 0.38 s this way (docs/benchmarks.md).
    const r = await this.driver.query<FileOpRow & { kind: 't' | 'c' | 'w' | 'v' | 'o'; version: number | null; snapshot: string[] | null }>(
      `WITH kept AS (
         SELECT p.partition_desc, p.version, p.snapshot FROM partition_info p
          WHERE p.table_id = $1
            AND (p.timestamp >= $2
                 OR (p.partition_desc, p.version) IN (SELECT partition_desc, max(version) FROM partition_info
                                                        WHERE table_id = $1 AND timestamp < $2 GROUP BY partition_desc))),
       kept_commits AS (SELECT DISTINCT partition_desc, unnest(snapshot) AS commit_id FROM kept),
       deleting AS (SELECT ARRAY(SELECT d.commit_id FROM data_commit_info d
                                  WHERE d.table_id = $1 AND (d.partition_desc, d.commit_id) IN (SELECT partition_desc, commit_id FROM kept_commits)
                                    AND EXISTS (SELECT 1 FROM unnest(d.file_ops) AS o WHERE o.file_op = 'del')) AS ids),
       whole AS (SELECT k.* FROM kept k, deleting WHERE cardinality(deleting.ids) > 0 AND k.snapshot[2:] && deleting.ids)
       SELECT 't' AS kind, table_namespace || '.' || table_name AS partition_desc, NULL::int AS version, NULL::text[] AS snapshot,
              NULL::text AS commit_id, NULL::text AS path, NULL::text AS file_op, NULL::text AS size, NULL::text AS file_exist_cols, NULL::bigint AS ord
         FROM table_info WHERE table_id = $1
       UNION ALL
       SELECT DISTINCT 'c', NULL::text, NULL::int, NULL::text[], NULL::text, o.path, NULL::text, NULL::text, NULL::text, NULL::bigint
         FROM data_commit_info d CROSS JOIN LATERAL unnest(d.file_ops) AS o
        WHERE d.table_id = $1
          AND (d.committed OR ${NAMED_BY_A_VERSION})
       UNION ALL
       SELECT 'w', partition_desc, NULL::int, NULL::text[], commit_id::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::bigint
         FROM kept_commits WHERE NOT EXISTS (SELECT 1 FROM whole)
       UNION ALL
       SELECT 'w', partition_desc, NULL::int, NULL::text[], commit_id::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::bigint
         FROM (SELECT DISTINCT k.partition_desc, c.commit_id FROM kept k, unnest(k.snapshot) AS c(commit_id)
                WHERE EXISTS (SELECT 1 FROM whole) AND (k.partition_desc, k.version) NOT IN (SELECT partition_desc, version FROM whole)) AS partly
       UNION ALL
       SELECT 'v', partition_desc, version, snapshot::text[], NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::bigint FROM whole
       UNION ALL
       SELECT 'o', d.partition_desc, NULL, NULL, d.commit_id::text, o.path, o.file_op, o.size::text, o.file_exist_cols, o.ord
         FROM data_commit_info d
         LEFT JOIN LATERAL unnest(d.file_ops) WITH ORDINALITY AS o(path, file_op, size, file_exist_cols, ord) ON true
        WHERE d.table_id = $1 AND d.commit_id IN (SELECT commit_id FROM kept_commits)`,
      [tableId, epochMs], { signal: options.signal });
    const qname = r.rows.find((x) => x.kind === 't')?.partition_desc;
    if (qname === undefined) throw tableIdNotFound(tableId);
    const committed = new Set<string>();
    const ops = groupFileOps(r.rows.filter((x) => x.kind === 'o'));
    for (const arr of ops.values()) arr.sort((a, b) => Number(a.ord) - Number(b.ord));
    const referenced = new Set<string>();
    const live = (desc: string, ids: string[]) => { for (const f of this.resolveFiles(qname, desc, ids, ops)) referenced.add(f.path); };
    for (const x of r.rows) {
      if (x.kind === 'c') committed.add(x.path);
      else if (x.kind === 'w') live(x.partition_desc, [x.commit_id]); // its adds less its own deletes
      else if (x.kind === 'v') live(x.partition_desc, x.snapshot ?? []);
    }
    return { committed: [...committed].sort(), referenced: [...referenced].sort() };
  }

  /**
   * What other tables claim under a location: the paths of tables (other than `exceptTableId`)
   * equal to or inside `path`, and every data file path at or under `path` that a commit of another
   * table names (committed or not, 'add' or 'del'). Cleanup and purge of the table at `path` leave
   * both alone, so even a catalog holding nested tables (made before nesting was refused, or by
   * another engine) never loses one table's files to another's maintenance.
   *
   * A claim counts in any spelling of its location: as written ({@link pathWithin}'s pairings), and
   * with its empty and `.` segments dropped and `..` segments applied, as written or percent-decoded,
   * which is how file systems, Hadoop and the native IO read `file:///w//a/sub` or `s3://b/x/./t`.
   * Each claim is listed as stored and, when a listing of `path` would not find it under that
   * spelling, also as `path` joined with its part below `path` (`file:///w/a/sub` for the stored
   * `file:///w/x/../a/sub`), so that a predicate comparing with {@link pathWithin} and
   * {@link locationKey} keeps it. The statement compares segment arrays, so only paths under `path`
   * (and the rare ones with a `..` segment) leave the database.
   */
  async foreignClaimsUnder(path: string, options: CatalogCallOptions & { exceptTableId?: string } = {}): Promise<{ tablePaths: string[]; files: string[] }> {
    const except = options.exceptTableId ?? '';
    const key = claimSpellings(path);
    // one regular expression a row, which every spelling under `path` matches (a superset, decided
    // below): after a scheme, the stored path starts with the segments of `path`, each character as
    // written or percent-escaped, separators `/`, `\\` or `%2F` with `.` segments between; paths with
    // a `..` segment or a tab or newline match too. (Decoding each path in SQL took 20 s for 100,000
    // paths on PGlite; stripping the scheme with regexp_replace, 1 s; this, 0.3 s.)
    const r = await this.driver.query<{ table_path: boolean; path: string }>(
      `SELECT true AS table_path, table_path AS path FROM table_info WHERE table_id <> $1 AND table_path ~ $2
       UNION ALL
       SELECT DISTINCT false, o.path FROM data_commit_info d CROSS JOIN LATERAL unnest(d.file_ops) AS o WHERE d.table_id <> $1 AND o.path ~ $2`,
      [except, claimPattern(key)], { signal: options.signal });
    const tablePaths = new Set<string>();
    const files = new Set<string>();
    for (const x of r.rows) {
      const rels = claimRelatives(claimSpellings(x.path), key);
      if (rels.length === 0 && !pathWithin(x.path, path)) continue;
      const out = x.table_path ? tablePaths : files;
      out.add(x.path);
      for (const rel of rels) {
        const rebased = rel.length === 0 ? path.replace(/\/+$/, '') : `${path.replace(/\/+$/, '')}/${rel.join('/')}`;
        if (x.table_path ? !pathWithin(rebased, x.path) : !fileSpelledAs(x.path, rebased)) out.add(rebased);
      }
    }
    return { tablePaths: [...tablePaths].sort(), files: [...files].sort() };
  }

  /**
   * Every data file path named ('add' or 'del') by a committed commit of the table, sorted. A commit
   * counts as committed when its `committed` flag is set OR some partition_info version's snapshot
   * references it: LakeSoul-Python 2.0 never sets the flag on its commits (docs/interop.md), and
   * their files must not look like orphans to a cleanup. See {@link Catalog.tableFileSets}.
   */
  async allCommittedFilePaths(tableId: string, options: CatalogCallOptions = {}): Promise<string[]> {
    return (await this.tableFileSets(tableId, Number.MAX_SAFE_INTEGER, options)).committed;
  }

  /**
   * Deletes the table's abandoned commit rows and returns how many there were (with `dryRun`, only
   * counts them): `data_commit_info` rows still `committed=false`, stamped before `before` (epoch
   * ms), that no `partition_info` version names. A writer killed between its two phases, or one
   * that lost the catalog mid-commit, leaves them; readers never see them (no version names them),
   * but nothing else removes them. Rows a version names stay whatever their flag says
   * (LakeSoul-Python never sets it). A commit still in flight whose rows this deletes fails its
   * phase 2 with the retryable `COMMIT_ROWS_MISSING` and commits nothing, so `before` should leave
   * writes in flight alone (cleanup passes its orphan safety window).
   */
  async purgeAbandonedCommits(tableId: string, before: number, options: CatalogCallOptions & { dryRun?: boolean } = {}): Promise<number> {
    const where = `d.table_id = $1 AND NOT d.committed AND d.timestamp < $2 AND NOT ${NAMED_BY_A_VERSION}`;
    if (options.dryRun) {
      const r = await this.driver.query<{ n: string | number }>(`SELECT count(*) AS n FROM data_commit_info d WHERE ${where}`, [tableId, before], { signal: options.signal });
      return Number(r.rows[0]?.n ?? 0);
    }
    const r = await this.driver.query(`DELETE FROM data_commit_info d WHERE ${where}`, [tableId, before], { signal: options.signal });
    return r.rowCount;
  }
}
