/**
 * The LakeSoul catalog schema (lakesoul-protocol.md §1), created idempotently. Every statement is
 * `IF NOT EXISTS` or guarded by a catalog lookup, so bootstrapping a database that upstream LakeSoul
 * (script/meta_init.sql) created first changes nothing, and nothing is ever dropped.
 *
 * The catalog is the one the search path finds: the schema holding `table_info` (else, for a new
 * catalog, `current_schema()`). Only what that schema lacks is created, and only there: an empty
 * schema named after the login role (`CREATE SCHEMA AUTHORIZATION app`, first in the default
 * `"$user", public` path) once got a second, empty catalog that hid the one in `public`. Statements
 * the role may not run are not sent (PostgreSQL checks CREATE before existence, so an `IF NOT EXISTS`
 * for an object that exists failed "permission denied" for a DML-only role): what the catalog can do
 * without (indexes, the compaction trigger, the `default` namespace row) is noted once, anything else
 * fails naming it and saying that the catalog's owner must run the upgrade.
 */
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { LakeSoulError } from './errors.js';
import type { SqlDriver, SqlExecutor } from './sql-driver.js';
import { abortableSleep } from './abort.js';
import { makeDirectorySync } from './directories.js';
import { mapSqlError } from './sql-driver.js';

/** NOTIFY channel of the compaction trigger (upstream's compaction service listens on it). */
export const COMPACTION_NOTIFY_CHANNEL = 'lakesoul_compaction_notify';

/** Versions since the last CompactionCommit from which the trigger notifies. */
export const COMPACTION_NOTIFY_THRESHOLD = 10;

/** Advisory lock key serializing concurrent bootstraps (arbitrary constant, 'LSBOOT'). */
const BOOTSTRAP_LOCK = 0x4c53424f4f54;

const EPOCH_MS_DEFAULT = `((date_part('epoch'::text, now()) * (1000)::double precision))::bigint`;

/**
 * What the bootstrap finds of the catalog, from the system catalogs only ({@link inspectCatalog}).
 * `schema` is the catalog's schema: the one holding the `table_info` the search path finds, else
 * `current_schema()` (null when the search path names no existing schema).
 */
interface CatalogState {
  schema: string | null;
  /** Tables and indexes of the bootstrap present in `schema`. */
  relations: Set<string>;
  /** `table.column` of the catalog's tables in `schema`. */
  columns: Set<string>;
  /** Tables in `schema` the role owns (may alter and index). */
  owned: Set<string>;
  type: boolean;
  fn: boolean;
  trigger: boolean;
  defaultNamespace: boolean;
  canCreate: boolean;
  canTrigger: boolean;
  canInsertNamespace: boolean;
  /** UPDATE on `table_info`: a role without it never writes the Arrow IPC columns (a schema change clears them). */
  canUpdateTableInfo: boolean;
  user: string;
  database: string;
  server: string;
  searchPath: string;
  /** The role owning `table_info` (else the schema): who can upgrade the catalog. */
  owner: string;
}

/** One object of the catalog schema and the statement creating it. */
interface SchemaStep {
  /** One statement, no parameters; guarded (`IF NOT EXISTS`, a lookup) against a concurrent bootstrap. */
  sql: string;
  /** The object in messages: `table namespace`, `column table_info.table_schema_arrow_ipc`. */
  object: string;
  missing(s: CatalogState): boolean;
  /** Whether the role may create it (CREATE on the schema, ownership of the table...). */
  allowed(s: CatalogState): boolean;
  /** Set when the catalog is usable without it (for this role): what lacking it costs. Otherwise it is needed. */
  optional?: string | ((s: CatalogState) => string | undefined);
}

/** What lacking `step` costs when the catalog is usable without it, else undefined (it is needed). */
function costOf(step: SchemaStep, s: CatalogState): string | undefined {
  return typeof step.optional === 'function' ? step.optional(s) : step.optional;
}

const COMPACTION_COST = "LakeSoul's compaction service is not notified of partitions due for compaction";
const INDEX_COST = 'catalog lookups are slower without them';

function tableStep(name: string, sql: string): SchemaStep {
  return { sql, object: `table ${name}`, missing: (s) => !s.relations.has(name), allowed: (s) => s.canCreate };
}

function indexStep(name: string, table: string, sql: string): SchemaStep {
  return {
    sql, object: `index ${name}`, optional: INDEX_COST, missing: (s) => !s.relations.has(name),
    // CREATE INDEX needs the table's ownership and CREATE on its schema
    allowed: (s) => s.canCreate && (!s.relations.has(table) || s.owned.has(table)),
  };
}

function columnStep(table: string, column: string, sql: string): SchemaStep {
  return {
    sql, object: `column ${table}.${column}`,
    missing: (s) => s.relations.has(table) && !s.columns.has(`${table}.${column}`),
    allowed: (s) => s.owned.has(table),
    // only a schema change writes them (it clears them): a role that may not update table_info reads without them
    optional: (s) => (s.canUpdateTableInfo ? undefined : 'this role, which may not update table_info, does not need them'),
  };
}

const TRIGGER_FUNCTION = `DO $bootstrap$
   BEGIN
     IF NOT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE p.proname = 'partition_insert' AND n.nspname = current_schema()) THEN
       EXECUTE $ddl$
         CREATE FUNCTION partition_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
         DECLARE
           last_compaction integer;
           t record;
         BEGIN
           IF NEW.commit_op = 'CompactionCommit' THEN
             RETURN NULL;
           END IF;
           SELECT max(version) INTO last_compaction FROM partition_info
            WHERE table_id = NEW.table_id AND partition_desc = NEW.partition_desc
              AND commit_op = 'CompactionCommit' AND version < NEW.version;
           IF NEW.version - coalesce(last_compaction, 0) >= ${COMPACTION_NOTIFY_THRESHOLD} THEN
             SELECT table_path, table_namespace INTO t FROM table_info WHERE table_id = NEW.table_id;
             PERFORM pg_notify('${COMPACTION_NOTIFY_CHANNEL}', json_build_object(
               'table_path', t.table_path,
               'table_partition_desc', NEW.partition_desc,
               'table_namespace', t.table_namespace)::text);
           END IF;
           RETURN NULL;
         END
         $fn$
       $ddl$;
     END IF;
   END
   $bootstrap$`;

/**
 * The catalog schema, in order. The compaction notification: after each non-compaction version, when
 * the partition has COMPACTION_NOTIFY_THRESHOLD or more versions since its last CompactionCommit (or
 * since version 0), notify with {"table_path", "table_partition_desc", "table_namespace"}. Function
 * and trigger are created only when absent (an upstream-created pair is left as it is).
 */
const CATALOG_STEPS: readonly SchemaStep[] = [
  tableStep('namespace', `CREATE TABLE IF NOT EXISTS namespace (
     namespace  text,
     properties json,
     comment    text,
     domain     text DEFAULT 'public',
     PRIMARY KEY (namespace))`),
  {
    sql: `INSERT INTO namespace (namespace, properties, comment) VALUES ('default', '{}', '') ON CONFLICT DO NOTHING`,
    object: "namespace 'default' (its row in table namespace)", optional: "the namespace 'default' cannot be used",
    missing: (s) => !s.defaultNamespace,
    allowed: (s) => (s.relations.has('namespace') ? s.canInsertNamespace : s.canCreate),
  },
  tableStep('table_info', `CREATE TABLE IF NOT EXISTS table_info (
     table_id                         text,
     table_namespace                  text DEFAULT 'default',
     table_name                       text,
     table_path                       text,
     table_schema                     text,
     table_schema_arrow_ipc           bytea,
     table_schema_arrow_ipc_json_hash text,
     properties                       json,
     partitions                       text,
     domain                           text DEFAULT 'public',
     PRIMARY KEY (table_id))`),
  // Catalogs LakeSoul 2.4-2.6 created lack these two (LakeSoul's own current script adds them so).
  columnStep('table_info', 'table_schema_arrow_ipc', `ALTER TABLE table_info ADD COLUMN IF NOT EXISTS table_schema_arrow_ipc bytea`),
  columnStep('table_info', 'table_schema_arrow_ipc_json_hash', `ALTER TABLE table_info ADD COLUMN IF NOT EXISTS table_schema_arrow_ipc_json_hash text`),
  indexStep('table_info_name_index', 'table_info', `CREATE INDEX IF NOT EXISTS table_info_name_index ON table_info (table_namespace, table_name)`),
  indexStep('table_info_path_index', 'table_info', `CREATE INDEX IF NOT EXISTS table_info_path_index ON table_info (table_path)`),
  tableStep('table_name_id', `CREATE TABLE IF NOT EXISTS table_name_id (
     table_name      text,
     table_id        text,
     table_namespace text DEFAULT 'default',
     domain          text DEFAULT 'public',
     PRIMARY KEY (table_name, table_namespace))`),
  tableStep('table_path_id', `CREATE TABLE IF NOT EXISTS table_path_id (
     table_path      text,
     table_id        text,
     table_namespace text DEFAULT 'default',
     domain          text DEFAULT 'public',
     PRIMARY KEY (table_path))`),
  {
    sql: `DO $bootstrap$
   BEGIN
     IF NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                    WHERE t.typname = 'data_file_op' AND n.nspname = current_schema()) THEN
       CREATE TYPE data_file_op AS (path text, file_op text, size bigint, file_exist_cols text);
     END IF;
   END
   $bootstrap$`,
    object: 'type data_file_op', missing: (s) => !s.type, allowed: (s) => s.canCreate,
  },
  tableStep('data_commit_info', `CREATE TABLE IF NOT EXISTS data_commit_info (
     table_id       text,
     partition_desc text,
     commit_id      uuid,
     file_ops       data_file_op[],
     commit_op      text,
     committed      boolean DEFAULT false,
     timestamp      bigint,
     domain         text DEFAULT 'public',
     PRIMARY KEY (table_id, partition_desc, commit_id))`),
  indexStep('data_commit_info_commit_id', 'data_commit_info', `CREATE INDEX IF NOT EXISTS data_commit_info_commit_id ON data_commit_info (commit_id)`),
  tableStep('partition_info', `CREATE TABLE IF NOT EXISTS partition_info (
     table_id       text,
     partition_desc text,
     version        int,
     commit_op      text,
     timestamp      bigint DEFAULT ${EPOCH_MS_DEFAULT},
     snapshot       uuid[],
     expression     text,
     domain         text DEFAULT 'public',
     PRIMARY KEY (table_id, partition_desc, version))`),
  indexStep('partition_info_timestamp', 'partition_info', `CREATE INDEX IF NOT EXISTS partition_info_timestamp ON partition_info (timestamp)`),
  indexStep('partition_info_desc_gin_tsvector_index', 'partition_info',
    `CREATE INDEX IF NOT EXISTS partition_info_desc_gin_tsvector_index ON partition_info USING GIN (to_tsvector('english', partition_desc))`),
  tableStep('global_config', `CREATE TABLE IF NOT EXISTS global_config (
     key   text,
     value text,
     PRIMARY KEY (key))`),
  tableStep('discard_compressed_file_info', `CREATE TABLE IF NOT EXISTS discard_compressed_file_info (
     file_path      text,
     table_path     text,
     partition_desc text,
     timestamp      bigint DEFAULT ${EPOCH_MS_DEFAULT},
     t_date         date,
     PRIMARY KEY (file_path))`),
  {
    sql: TRIGGER_FUNCTION, object: 'function partition_insert()', optional: COMPACTION_COST,
    missing: (s) => !s.fn, allowed: (s) => s.canCreate,
  },
  {
    sql: `DO $bootstrap$
   BEGIN
     IF NOT EXISTS (SELECT 1 FROM pg_trigger
                    WHERE tgrelid = to_regclass('partition_info') AND tgname = 'partition_table_change') THEN
       CREATE TRIGGER partition_table_change AFTER INSERT ON partition_info
         FOR EACH ROW EXECUTE PROCEDURE partition_insert();
     END IF;
   END
   $bootstrap$`,
    object: 'trigger partition_table_change', optional: COMPACTION_COST,
    missing: (s) => !s.trigger,
    allowed: (s) => (s.fn || s.canCreate) && (s.relations.has('partition_info') ? s.canTrigger : s.canCreate),
  },
];

/** The bootstrap statements, in order; each is one statement (no parameters). */
export const CATALOG_SCHEMA_STATEMENTS: readonly string[] = CATALOG_STEPS.map((s) => s.sql);

/** Tables and indexes the bootstrap creates. */
const CATALOG_RELATIONS = [
  'namespace', 'table_info', 'table_info_name_index', 'table_info_path_index', 'table_name_id', 'table_path_id',
  'data_commit_info', 'data_commit_info_commit_id', 'partition_info', 'partition_info_timestamp',
  'partition_info_desc_gin_tsvector_index', 'global_config', 'discard_compressed_file_info',
];

/** The catalog's tables. */
const CATALOG_TABLES = ['namespace', 'table_info', 'table_name_id', 'table_path_id', 'data_commit_info', 'partition_info', 'global_config', 'discard_compressed_file_info'];

/**
 * Columns this catalog reads and writes that catalogs of older LakeSoul releases lack and the bootstrap
 * does not add (it adds only what LakeSoul's own script adds to an existing catalog): `domain`
 * (LakeSoul 2.4) and `partition_info.timestamp`.
 */
const REQUIRED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  namespace: ['namespace', 'properties', 'comment', 'domain'],
  table_info: ['table_id', 'table_namespace', 'table_name', 'table_path', 'table_schema', 'properties', 'partitions', 'domain'],
  table_name_id: ['table_name', 'table_id', 'table_namespace', 'domain'],
  table_path_id: ['table_path', 'table_id', 'table_namespace', 'domain'],
  data_commit_info: ['table_id', 'partition_desc', 'commit_id', 'file_ops', 'commit_op', 'committed', 'timestamp', 'domain'],
  partition_info: ['table_id', 'partition_desc', 'version', 'commit_op', 'timestamp', 'snapshot', 'expression', 'domain'],
};

/** `name` as a PostgreSQL identifier. */
function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Reads {@link CatalogState} from the system catalogs (no lock taken, no table read but `namespace`). */
async function inspectCatalog(db: SqlExecutor, signal?: AbortSignal): Promise<CatalogState> {
  type Row = {
    schema: string | null; relations: string[]; columns: string[]; owned: string[]; type: boolean; fn: boolean; trigger: boolean;
    can_create: boolean; can_trigger: boolean; can_insert_ns: boolean; can_update_ti: boolean; user: string; database: string; server: string; search_path: string; owner: string | null;
  };
  const r = await db.query<Row>(
    `WITH s AS (SELECT coalesce((SELECT relnamespace FROM pg_class WHERE oid = to_regclass('table_info')),
                                (SELECT oid FROM pg_namespace WHERE nspname = current_schema())) AS oid),
          t AS (SELECT c.* FROM pg_class c, s WHERE c.relnamespace = s.oid AND c.relname = ANY ($2::text[]) AND c.relkind IN ('r', 'p'))
     SELECT n.nspname::text AS schema,
            coalesce((SELECT array_agg(c.relname::text) FROM pg_class c WHERE c.relnamespace = s.oid AND c.relname = ANY ($1::text[])), '{}') AS relations,
            coalesce((SELECT array_agg(t.relname::text || '.' || a.attname::text) FROM t JOIN pg_attribute a ON a.attrelid = t.oid
                       WHERE a.attnum > 0 AND NOT a.attisdropped), '{}') AS columns,
            coalesce((SELECT array_agg(t.relname::text) FROM t WHERE pg_has_role(t.relowner, 'USAGE')), '{}') AS owned,
            EXISTS (SELECT 1 FROM pg_type y WHERE y.typname = 'data_file_op' AND y.typnamespace = s.oid) AS type,
            EXISTS (SELECT 1 FROM pg_proc p WHERE p.proname = 'partition_insert' AND p.pronamespace = s.oid) AS fn,
            EXISTS (SELECT 1 FROM pg_trigger g JOIN t ON t.oid = g.tgrelid WHERE t.relname = 'partition_info' AND g.tgname = 'partition_table_change') AS trigger,
            coalesce(has_schema_privilege(s.oid, 'CREATE'), false) AS can_create,
            coalesce((SELECT has_table_privilege(t.oid, 'TRIGGER') FROM t WHERE t.relname = 'partition_info'), false) AS can_trigger,
            coalesce((SELECT has_table_privilege(t.oid, 'INSERT') FROM t WHERE t.relname = 'namespace'), false) AS can_insert_ns,
            coalesce((SELECT has_table_privilege(t.oid, 'UPDATE') FROM t WHERE t.relname = 'table_info'), true) AS can_update_ti,
            current_user::text AS user, current_database()::text AS database,
            coalesce(host(inet_server_addr()), 'local') || ':' || coalesce(inet_server_port()::text, '') AS server,
            current_setting('search_path') AS search_path,
            coalesce((SELECT pg_get_userbyid(t.relowner)::text FROM t WHERE t.relname = 'table_info'), pg_get_userbyid(n.nspowner)::text) AS owner
       FROM s LEFT JOIN pg_namespace n ON n.oid = s.oid`,
    [CATALOG_RELATIONS, CATALOG_TABLES], { signal });
  const row = r.rows[0]!;
  const relations = new Set(row.relations);
  let defaultNamespace = false;
  if (row.schema !== null && relations.has('namespace')) {
    const d = await db.query(`SELECT 1 FROM ${quoteIdent(row.schema)}.namespace WHERE namespace = $1`, ['default'], { signal });
    defaultNamespace = d.rowCount > 0;
  }
  return {
    schema: row.schema, relations, columns: new Set(row.columns), owned: new Set(row.owned), type: row.type, fn: row.fn,
    trigger: row.trigger, defaultNamespace, canCreate: row.can_create, canTrigger: row.can_trigger, canInsertNamespace: row.can_insert_ns,
    canUpdateTableInfo: row.can_update_ti,
    user: row.user, database: row.database, server: row.server, searchPath: row.search_path, owner: row.owner ?? '',
  };
}

/**
 * Refuses, before any DDL, a catalog whose existing tables lack columns this version needs (one an
 * older LakeSoul created: its engines of that release keep their schema, so nothing is added here):
 * `CATALOG_SCHEMA_OUTDATED`, naming the columns.
 */
function checkRequiredColumns(s: CatalogState): void {
  const missing: string[] = [];
  for (const [table, columns] of Object.entries(REQUIRED_COLUMNS)) {
    if (!s.relations.has(table)) continue; // created by the bootstrap
    for (const c of columns) if (!s.columns.has(`${table}.${c}`)) missing.push(`${table}.${c}`);
  }
  if (missing.length === 0) return;
  throw new LakeSoulError('Unsupported',
    `the catalog's schema (schema "${s.schema}" of database ${s.database}) is older than this version reads: it lacks ${missing.join(', ')} (LakeSoul before 2.4 created it). `
    + "Upgrade it with LakeSoul's own migration (its script/meta_init.sql of 2.4 or later: for example ALTER TABLE <table> ADD COLUMN domain text DEFAULT 'public' for each table named), or use a new database; nothing was changed", {
      code: 'CATALOG_SCHEMA_OUTDATED', context: { missing, schema: s.schema ?? undefined },
    });
}

/** The catalog's schema, or `CATALOG_SCHEMA` when the search path names no existing schema (nowhere to create it). */
function catalogSchemaName(s: CatalogState): string {
  if (s.schema !== null) return s.schema;
  throw new LakeSoulError('Catalog',
    `no catalog found and no schema to create it in: the search_path of role "${s.user}" in database ${s.database} (${s.searchPath}) names no existing schema. `
    + 'Create that schema, or fix the search_path (ALTER ROLE ... SET search_path), or open with Catalog.open({ schema }) naming a schema', {
      code: 'CATALOG_SCHEMA', context: { database: s.database, searchPath: s.searchPath },
    });
}

/**
 * The missing steps the role may run; throws `PermissionDenied` naming the needed ones it may not
 * (nothing is run then), and returns the skipped optional ones. `nothingAllowed`: after the server
 * refused one of them for privilege.
 */
function planSteps(s: CatalogState, nothingAllowed = false, cause?: unknown): { run: SchemaStep[]; skipped: SchemaStep[] } {
  const schema = catalogSchemaName(s);
  const missing = CATALOG_STEPS.filter((st) => st.missing(s));
  const run = nothingAllowed ? [] : missing.filter((st) => st.allowed(s));
  const skipped = missing.filter((st) => !run.includes(st));
  const needed = skipped.filter((st) => costOf(st, s) === undefined);
  if (needed.length === 0) return { run, skipped };
  const objects = needed.map((st) => st.object);
  const columns = needed.filter((st) => st.object.startsWith('column ')).map((st) => st.sql.replace('ALTER TABLE table_info', `ALTER TABLE ${quoteIdent(schema)}.table_info`));
  throw new LakeSoulError('PermissionDenied',
    `the catalog in schema "${schema}" of database ${s.database} lacks ${objects.join(', ')}, which this version needs, `
    + `and role "${s.user}" may not create ${needed.length === 1 ? 'it' : 'them'} (it needs CREATE on the schema, and to own the tables to alter or index them). `
    + `The catalog's owner (role "${s.owner}") must upgrade it once: run \`lakesoul-ts init\` connected as that role (or Catalog.open() / catalog.bootstrap() in a program connected as it), which adds only what is missing`
    + (columns.length > 0 && columns.length === needed.length ? ` (here: ${columns.join('; ')})` : '')
    + '; nothing was changed', {
      code: 'PERMISSION_DENIED', cause, context: { missing: objects, schema, database: s.database, user: s.user, owner: s.owner },
    });
}

/** Keys of the catalogs whose missing optional objects this process noted already. */
const noted = new Set<string>();

/** `$XDG_CACHE_HOME/lakesoul-ts/notices` (else `~/.cache/...`): markers of notes given once per user. */
function noticeDirectory(): string | undefined {
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'lakesoul-ts', 'notices');
  try {
    const home = homedir();
    return home ? join(home, '.cache', 'lakesoul-ts', 'notices') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Says once (a process warning `LAKESOUL_CATALOG_INCOMPLETE`) what the catalog lacks and the role may
 * not create, and what that costs. Once per catalog, role and what is lacking: per process, and across
 * processes (each CLI command is one) through a marker file in {@link noticeDirectory}.
 */
function noteSkipped(s: CatalogState, skipped: readonly SchemaStep[]): void {
  if (skipped.length === 0) return;
  const objects = skipped.map((st) => st.object);
  const key = [s.server, s.database, s.schema, s.user, ...objects].join('\n');
  if (noted.has(key)) return;
  noted.add(key);
  const dir = noticeDirectory();
  if (dir !== undefined) {
    const marker = join(dir, createHash('sha256').update(key).digest('hex').slice(0, 32));
    try {
      if (existsSync(marker)) return;
      makeDirectorySync(dir);
      writeFileSync(marker, `${key}\n`);
    } catch {
      // no marker: the note is given once per process
    }
  }
  const costs = [...new Set(skipped.map((st) => costOf(st, s)!))];
  const them = objects.length === 1 ? 'it' : 'them';
  process.emitWarning(
    `the catalog in schema "${s.schema}" of database ${s.database} lacks ${objects.join(', ')}, and role "${s.user}" may not create ${them}; `
    + `it is used without ${them} (${costs.join('; ')}). Its owner (role "${s.owner}") adds ${them} by running \`lakesoul-ts init\` connected as that role `
    + `(or Catalog.open() in a program). This note is given once${dir !== undefined ? ` (marker in ${dir})` : ''}.`,
    { code: 'LAKESOUL_CATALOG_INCOMPLETE' });
}

/**
 * True when every object the bootstrap creates exists in the catalog's schema (the one holding the
 * `table_info` the search path finds) and the `default` namespace row is there. Reads the system
 * catalogs only (no lock is taken), so it never waits on, nor blocks, a commit.
 */
export async function catalogSchemaComplete(driver: SqlDriver, signal?: AbortSignal): Promise<boolean> {
  const s = await inspectCatalog(driver, signal);
  return s.schema !== null && CATALOG_STEPS.every((st) => !st.missing(s));
}

/** Attempts of a bootstrap the database aborted (deadlock, serialization failure) before giving up. */
const BOOTSTRAP_ATTEMPTS = 5;

/**
 * Creates what the catalog lacks, in the catalog's schema (the one holding the `table_info` the search
 * path finds; for a new catalog `current_schema()`), in one transaction serialized by an advisory lock
 * (concurrent bootstraps from several processes are safe). Idempotent. Only the statements of missing
 * objects are run: on a complete schema no DDL at all ({@link catalogSchemaComplete}): `CREATE INDEX
 * IF NOT EXISTS` locks its table even when the index exists, and on a shared server that lock
 * deadlocked with commits (issue 12 §8); PostgreSQL checks CREATE privilege before existence, so a
 * DML-only role failed on objects that existed. What the role may not create is skipped when the
 * catalog works without it (noted once: a process warning), else `PermissionDenied` names it and says
 * that the owner must upgrade the catalog. A DDL transaction the database aborts
 * (`TRANSACTION_CONFLICT`) or whose COMMIT's answer was lost (`TRANSACTION_OUTCOME_UNKNOWN`) is retried.
 */
export async function bootstrapCatalogSchema(driver: SqlDriver, signal?: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const state = await inspectCatalog(driver, signal);
      if (state.schema !== null && CATALOG_STEPS.every((st) => !st.missing(state))) return;
      checkRequiredColumns(state);
      const plan = planSteps(state);
      if (plan.run.length === 0) return noteSkipped(state, plan.skipped);
      try {
        const done = await driver.transaction(async (tx) => {
          await tx.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK], { signal });
          // again under the lock: another process may have created some of it meanwhile
          const now = await inspectCatalog(tx, signal);
          checkRequiredColumns(now);
          const p = planSteps(now);
          await tx.query(`SET LOCAL search_path TO ${quoteIdent(catalogSchemaName(now))}`, [], { signal });
          for (const st of p.run) await tx.query(st.sql, [], { signal });
          return { now, skipped: p.skipped };
        }, { signal });
        noteSkipped(done.now, done.skipped);
      } catch (e) {
        // a privilege the checks above did not foresee: what the catalog can do without is skipped
        if (!LakeSoulError.hasCode(e, 'PERMISSION_DENIED') || e.context.owner !== undefined) throw e;
        const now = await inspectCatalog(driver, signal);
        noteSkipped(now, planSteps(now, true, e).skipped);
      }
      return;
    } catch (e) {
      const le = mapSqlError(e, { operation: 'catalog schema bootstrap' });
      // A COMMIT whose answer was lost (a reset connection, a failover) may or may not have landed:
      // the next attempt inspects the catalog again and runs only what is still missing.
      const again = LakeSoulError.hasCode(le, 'TRANSACTION_CONFLICT', 'TRANSACTION_OUTCOME_UNKNOWN');
      if (!again || attempt >= BOOTSTRAP_ATTEMPTS) throw le;
      await abortableSleep(Math.random() * 50 * 2 ** attempt, signal, 'catalog schema bootstrap');
    }
  }
}
