/**
 * The LakeSoul catalog schema (lakesoul-protocol.md §1), created idempotently. Every statement is
 * `IF NOT EXISTS` or guarded by a catalog lookup, so bootstrapping a database that upstream LakeSoul
 * (script/meta_init.sql) created first changes nothing, and nothing is ever dropped.
 */
import { LakeSoulError } from './errors.js';
import type { SqlDriver } from './sql-driver.js';
import { abortableSleep } from './abort.js';
import { mapSqlError } from './sql-driver.js';

/** NOTIFY channel of the compaction trigger (upstream's compaction service listens on it). */
export const COMPACTION_NOTIFY_CHANNEL = 'lakesoul_compaction_notify';

/** Versions since the last CompactionCommit from which the trigger notifies. */
export const COMPACTION_NOTIFY_THRESHOLD = 10;

/** Advisory lock key serializing concurrent bootstraps (arbitrary constant, 'LSBOOT'). */
const BOOTSTRAP_LOCK = 0x4c53424f4f54;

const EPOCH_MS_DEFAULT = `((date_part('epoch'::text, now()) * (1000)::double precision))::bigint`;

/** The bootstrap statements, in order; each is one statement (no parameters). */
export const CATALOG_SCHEMA_STATEMENTS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS namespace (
     namespace  text,
     properties json,
     comment    text,
     domain     text DEFAULT 'public',
     PRIMARY KEY (namespace))`,
  `INSERT INTO namespace (namespace, properties, comment) VALUES ('default', '{}', '') ON CONFLICT DO NOTHING`,
  `CREATE TABLE IF NOT EXISTS table_info (
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
     PRIMARY KEY (table_id))`,
  // Catalogs LakeSoul 2.4-2.6 created lack these two (LakeSoul's own current script adds them so).
  `ALTER TABLE table_info ADD COLUMN IF NOT EXISTS table_schema_arrow_ipc bytea`,
  `ALTER TABLE table_info ADD COLUMN IF NOT EXISTS table_schema_arrow_ipc_json_hash text`,
  `CREATE INDEX IF NOT EXISTS table_info_name_index ON table_info (table_namespace, table_name)`,
  `CREATE INDEX IF NOT EXISTS table_info_path_index ON table_info (table_path)`,
  `CREATE TABLE IF NOT EXISTS table_name_id (
     table_name      text,
     table_id        text,
     table_namespace text DEFAULT 'default',
     domain          text DEFAULT 'public',
     PRIMARY KEY (table_name, table_namespace))`,
  `CREATE TABLE IF NOT EXISTS table_path_id (
     table_path      text,
     table_id        text,
     table_namespace text DEFAULT 'default',
     domain          text DEFAULT 'public',
     PRIMARY KEY (table_path))`,
  `DO $bootstrap$
   BEGIN
     IF NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                    WHERE t.typname = 'data_file_op' AND n.nspname = current_schema()) THEN
       CREATE TYPE data_file_op AS (path text, file_op text, size bigint, file_exist_cols text);
     END IF;
   END
   $bootstrap$`,
  `CREATE TABLE IF NOT EXISTS data_commit_info (
     table_id       text,
     partition_desc text,
     commit_id      uuid,
     file_ops       data_file_op[],
     commit_op      text,
     committed      boolean DEFAULT false,
     timestamp      bigint,
     domain         text DEFAULT 'public',
     PRIMARY KEY (table_id, partition_desc, commit_id))`,
  `CREATE INDEX IF NOT EXISTS data_commit_info_commit_id ON data_commit_info (commit_id)`,
  `CREATE TABLE IF NOT EXISTS partition_info (
     table_id       text,
     partition_desc text,
     version        int,
     commit_op      text,
     timestamp      bigint DEFAULT ${EPOCH_MS_DEFAULT},
     snapshot       uuid[],
     expression     text,
     domain         text DEFAULT 'public',
     PRIMARY KEY (table_id, partition_desc, version))`,
  `CREATE INDEX IF NOT EXISTS partition_info_timestamp ON partition_info (timestamp)`,
  `CREATE INDEX IF NOT EXISTS partition_info_desc_gin_tsvector_index ON partition_info USING GIN (to_tsvector('english', partition_desc))`,
  `CREATE TABLE IF NOT EXISTS global_config (
     key   text,
     value text,
     PRIMARY KEY (key))`,
  `CREATE TABLE IF NOT EXISTS discard_compressed_file_info (
     file_path      text,
     table_path     text,
     partition_desc text,
     timestamp      bigint DEFAULT ${EPOCH_MS_DEFAULT},
     t_date         date,
     PRIMARY KEY (file_path))`,
  // The compaction notification: after each non-compaction version, when the partition has
  // COMPACTION_NOTIFY_THRESHOLD or more versions since its last CompactionCommit (or since version 0),
  // notify with {"table_path", "table_partition_desc", "table_namespace"}. Function and trigger are
  // created only when absent (an upstream-created pair is left as it is).
  `DO $bootstrap$
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
     IF NOT EXISTS (SELECT 1 FROM pg_trigger
                    WHERE tgrelid = to_regclass('partition_info') AND tgname = 'partition_table_change') THEN
       CREATE TRIGGER partition_table_change AFTER INSERT ON partition_info
         FOR EACH ROW EXECUTE PROCEDURE partition_insert();
     END IF;
   END
   $bootstrap$`,
];

/** Relations (tables and indexes) the bootstrap creates; all present means no DDL is needed. */
const CATALOG_RELATIONS = [
  'namespace', 'table_info', 'table_info_name_index', 'table_info_path_index', 'table_name_id', 'table_path_id',
  'data_commit_info', 'data_commit_info_commit_id', 'partition_info', 'partition_info_timestamp',
  'partition_info_desc_gin_tsvector_index', 'global_config', 'discard_compressed_file_info',
];

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

/**
 * Refuses, before any DDL, a catalog whose existing tables lack columns this version needs (one an
 * older LakeSoul created: its engines of that release keep their schema, so nothing is added here):
 * `CATALOG_SCHEMA_OUTDATED`, naming the columns.
 */
async function checkRequiredColumns(driver: SqlDriver, signal?: AbortSignal): Promise<void> {
  const r = await driver.query<{ rel: string; col: string }>(
    `SELECT c.relname AS rel, a.attname AS col FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      WHERE c.oid = ANY (SELECT to_regclass(t) FROM unnest($1::text[]) AS t) AND a.attnum > 0 AND NOT a.attisdropped`,
    [Object.keys(REQUIRED_COLUMNS)], { signal });
  const present = new Map<string, Set<string>>();
  for (const { rel, col } of r.rows) (present.get(rel) ?? present.set(rel, new Set()).get(rel)!).add(col);
  const missing: string[] = [];
  for (const [table, columns] of Object.entries(REQUIRED_COLUMNS)) {
    const have = present.get(table);
    if (have === undefined) continue; // created by the bootstrap
    for (const c of columns) if (!have.has(c)) missing.push(`${table}.${c}`);
  }
  if (missing.length === 0) return;
  throw new LakeSoulError('Unsupported',
    `the catalog's schema is older than this version reads: it lacks ${missing.join(', ')} (LakeSoul before 2.4 created it). `
    + "Upgrade it with LakeSoul's own migration (its script/meta_init.sql of 2.4 or later: for example ALTER TABLE <table> ADD COLUMN domain text DEFAULT 'public' for each table named), or use a new database; nothing was changed", {
      code: 'CATALOG_SCHEMA_OUTDATED', context: { missing },
    });
}

/**
 * True when every object the bootstrap creates exists in the current schema and the `default`
 * namespace row is there. Reads the system catalogs only (`to_regclass` takes no lock), so it never
 * waits on, nor blocks, a commit.
 */
export async function catalogSchemaComplete(driver: SqlDriver, signal?: AbortSignal): Promise<boolean> {
  const r = await driver.query<{ relations: number; type: boolean; fn: boolean; trigger: boolean; ipc: boolean }>(
    `SELECT (SELECT count(*)::int FROM unnest($1::text[]) AS r(name) WHERE to_regclass(r.name) IS NOT NULL) AS relations,
            EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                     WHERE t.typname = 'data_file_op' AND n.nspname = current_schema()) AS type,
            EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE p.proname = 'partition_insert' AND n.nspname = current_schema()) AS fn,
            EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass('partition_info') AND tgname = 'partition_table_change') AS trigger,
            EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('table_info')
                     AND attname = 'table_schema_arrow_ipc_json_hash' AND NOT attisdropped) AS ipc`,
    [CATALOG_RELATIONS], { signal });
  const row = r.rows[0];
  if (!row || row.relations !== CATALOG_RELATIONS.length || !row.type || !row.fn || !row.trigger || !row.ipc) return false;
  const d = await driver.query('SELECT 1 FROM namespace WHERE namespace = $1', ['default'], { signal });
  return d.rowCount > 0;
}

/** Attempts of a bootstrap the database aborted (deadlock, serialization failure) before giving up. */
const BOOTSTRAP_ATTEMPTS = 5;

/**
 * Creates the catalog schema in the driver's current schema when anything is missing, in one
 * transaction serialized by an advisory lock (concurrent bootstraps from several processes are
 * safe). Idempotent. On a complete schema it runs no DDL at all ({@link catalogSchemaComplete}):
 * `CREATE INDEX IF NOT EXISTS` locks its table even when the index exists, and on a shared server
 * that lock deadlocked with commits (issue 12 §8). A DDL transaction the database aborts
 * (`TRANSACTION_CONFLICT`) is retried.
 */
export async function bootstrapCatalogSchema(driver: SqlDriver, signal?: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (await catalogSchemaComplete(driver, signal)) return;
      await checkRequiredColumns(driver, signal);
      await driver.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK], { signal });
        for (const sql of CATALOG_SCHEMA_STATEMENTS) await tx.query(sql, [], { signal });
      }, { signal });
      return;
    } catch (e) {
      const le = mapSqlError(e, { operation: 'catalog schema bootstrap' });
      if (!LakeSoulError.hasCode(le, 'TRANSACTION_CONFLICT') || attempt >= BOOTSTRAP_ATTEMPTS) throw le;
      await abortableSleep(Math.random() * 50 * 2 ** attempt, signal, 'catalog schema bootstrap');
    }
  }
}
