/**
 * The catalog schema bootstrap as operators deploy a PostgreSQL catalog: a login role with a schema of
 * its own name (first in the default `"$user", public` search path), and roles that are not the
 * catalog's owner (a DML-only writer, a read-only reader) opening a catalog the bootstrap would
 * complete (upstream's layout without three indexes; LakeSoul 2.4-2.6 without the Arrow IPC columns).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { Catalog } from './catalog.js';
import { LakeSoulError } from './errors.js';

const adminUrl = process.env.LAKESOUL_TEST_PG_URL;
const id = randomUUID().replace(/-/g, '').slice(0, 10);
const OWNER = `g2o_${id}`;
const DB = `g2db_${id}`;
const PASSWORD = 'g2-pass';
const roles = [OWNER];

/** The test server's URL for `role` on the test database. */
function urlOf(role: string): string {
  const u = new URL(adminUrl!);
  u.username = role;
  u.password = PASSWORD;
  u.pathname = `/${DB}`;
  return u.toString();
}

/** Runs `sql` as `role` (the superuser when undefined) on the test database (`onDb` false: the server's default one). */
async function run(role: string | undefined, sql: string, onDb = true): Promise<pg.QueryResult> {
  const u = new URL(role ? urlOf(role) : adminUrl!);
  if (!role && onDb) u.pathname = `/${DB}`;
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A new login role with `search_path` set to `schema` in the test database. */
async function role(prefix: string, schema?: string): Promise<string> {
  const name = `${prefix}_${id}`;
  roles.push(name);
  await run(undefined, `CREATE ROLE ${name} LOGIN PASSWORD '${PASSWORD}'`, false);
  if (schema) await run(undefined, `ALTER ROLE ${name} IN DATABASE ${DB} SET search_path = ${schema}`, false);
  return name;
}

const relationsOf = async (schema: string): Promise<string[]> =>
  (await run(undefined, `SELECT relname FROM pg_class WHERE relnamespace = '${schema}'::regnamespace ORDER BY relname`)).rows.map((r) => r.relname as string);

let cacheDir: string;
let savedCache: string | undefined;

beforeAll(async () => {
  if (!adminUrl) throw new Error('LAKESOUL_TEST_PG_URL is not set: run via node scripts/test-env.mjs -- vitest run ... to get a PostgreSQL server');
  await run(undefined, `CREATE ROLE ${OWNER} LOGIN PASSWORD '${PASSWORD}'`, false);
  await run(undefined, `CREATE DATABASE ${DB} OWNER ${OWNER}`, false);
  savedCache = process.env.XDG_CACHE_HOME;
  cacheDir = mkdtempSync(join(tmpdir(), 'g2-cache-'));
  process.env.XDG_CACHE_HOME = cacheDir;
});

afterAll(async () => {
  if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = savedCache;
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  if (!adminUrl) return;
  await run(undefined, `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`, false);
  for (const r of roles) await run(undefined, `DROP ROLE IF EXISTS ${r}`, false);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('catalog schema bootstrap on PostgreSQL', () => {
  it("uses the catalog the search path finds: a schema named after the role gets no second, empty catalog", async () => {
    const c1 = await Catalog.open({ url: urlOf(OWNER) });
    await c1.createNamespace('ns_g2');
    await c1.close();
    // PostgreSQL's per-user schema pattern, first in the default search path "$user", public
    await run(OWNER, `CREATE SCHEMA AUTHORIZATION ${OWNER}`);
    const c2 = await Catalog.open({ url: urlOf(OWNER) });
    try {
      expect((await c2.listNamespaces()).map((n) => n.name).sort()).toEqual(['default', 'ns_g2']);
    } finally {
      await c2.close();
    }
    expect(await relationsOf(OWNER)).toEqual([]);
    const other = await run(undefined, `SELECT (SELECT count(*)::int FROM pg_type WHERE typnamespace = '${OWNER}'::regnamespace) AS types,
      (SELECT count(*)::int FROM pg_proc WHERE pronamespace = '${OWNER}'::regnamespace) AS fns`);
    expect(other.rows[0]).toEqual({ types: 0, fns: 0 });
    await run(OWNER, `DROP SCHEMA ${OWNER}`);
  });

  it('opens, for a writer and a reader that are not its owner, a catalog lacking indexes; says so once; the owner adds them', async () => {
    const schema = `up_idx_${id}`;
    await run(OWNER, `CREATE SCHEMA ${schema}`);
    const c = await Catalog.open({ url: urlOf(OWNER), schema });
    await c.createNamespace('ns_idx');
    await c.close();
    // upstream's meta_init.sql layout lacks these three
    await run(OWNER, `DROP INDEX ${schema}.data_commit_info_commit_id, ${schema}.partition_info_timestamp, ${schema}.partition_info_desc_gin_tsvector_index`);
    const writer = await role('g2w', schema);
    const reader = await role('g2r', schema);
    await run(OWNER, `GRANT USAGE ON SCHEMA ${schema} TO ${writer}, ${reader};
      GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${writer};
      GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${reader}`);
    const before = await relationsOf(schema);
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});

    for (let i = 0; i < 2; i++) {
      const w = await Catalog.open({ url: urlOf(writer) });
      try {
        await w.createNamespace(`w${i}`);
        expect((await w.listNamespaces()).map((n) => n.name)).toContain('ns_idx');
      } finally {
        await w.close();
      }
      const r = await Catalog.open({ url: urlOf(reader) });
      try {
        expect((await r.listNamespaces()).map((n) => n.name)).toContain(`w${i}`);
      } finally {
        await r.close();
      }
    }
    expect(await relationsOf(schema)).toEqual(before);
    // once per role, not per open
    const notes = warn.mock.calls.map((args) => String(args[0]));
    expect(notes).toHaveLength(2);
    for (const [n, who] of [[notes[0], writer], [notes[1], reader]] as const) {
      expect(n).toContain(`role "${who}" may not create them`);
      expect(n).toContain('index data_commit_info_commit_id, index partition_info_timestamp, index partition_info_desc_gin_tsvector_index');
      expect(n).toContain(`owner (role "${OWNER}")`);
      expect(n).toContain('lakesoul-ts init');
    }
    // markers: across processes (each CLI command is one) the note is not repeated
    expect(readdirSync(join(cacheDir, 'lakesoul-ts', 'notices'))).toHaveLength(2);

    const o = await Catalog.open({ url: urlOf(OWNER), schema });
    await o.close();
    expect(await relationsOf(schema)).toEqual(expect.arrayContaining(['data_commit_info_commit_id', 'partition_info_timestamp', 'partition_info_desc_gin_tsvector_index']));
  });

  it("refuses, for a writer that is not its owner, a LakeSoul 2.4-2.6 catalog (no Arrow IPC columns), saying the owner must upgrade it; a reader opens it", async () => {
    const schema = `up_ipc_${id}`;
    await run(OWNER, `CREATE SCHEMA ${schema}`);
    const c = await Catalog.open({ url: urlOf(OWNER), schema });
    await c.close();
    await run(OWNER, `ALTER TABLE ${schema}.table_info DROP COLUMN table_schema_arrow_ipc, DROP COLUMN table_schema_arrow_ipc_json_hash`);
    const writer = await role('g2v', schema);
    const reader = await role('g2q', schema);
    await run(OWNER, `GRANT USAGE ON SCHEMA ${schema} TO ${writer}, ${reader}; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${writer};
      GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${reader}`);
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    // a reader never writes those columns (only a schema change does): it reads the catalog as it is
    const r = await Catalog.open({ url: urlOf(reader) });
    try {
      expect((await r.listNamespaces()).map((n) => n.name)).toEqual(['default']);
    } finally {
      await r.close();
    }
    expect(warn.mock.calls.map((args) => String(args[0]))).toEqual([expect.stringContaining(`column table_info.table_schema_arrow_ipc, column table_info.table_schema_arrow_ipc_json_hash, and role "${reader}" may not create them`)]);

    const e = await Catalog.open({ url: urlOf(writer) }).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(LakeSoulError);
    const le = e as LakeSoulError;
    expect([le.kind, le.code]).toEqual(['PermissionDenied', 'PERMISSION_DENIED']);
    expect(le.message).toContain('column table_info.table_schema_arrow_ipc, column table_info.table_schema_arrow_ipc_json_hash');
    expect(le.message).toContain(`role "${OWNER}"`);
    expect(le.message).toContain('lakesoul-ts init');
    expect(le.message).toContain(`ALTER TABLE "${schema}".table_info ADD COLUMN IF NOT EXISTS table_schema_arrow_ipc bytea`);
    expect(le.context).toMatchObject({ schema, user: writer, owner: OWNER });

    // the owner upgrades it; then the writer opens it
    const o = await Catalog.open({ url: urlOf(OWNER), schema });
    await o.close();
    const w = await Catalog.open({ url: urlOf(writer) });
    try {
      expect((await w.listNamespaces()).map((n) => n.name)).toEqual(['default']);
    } finally {
      await w.close();
    }
  });

  it('names the search path when it names no existing schema and no catalog is found', async () => {
    const lost = await role('g2s', `nosuch_${id}`);
    const e = await Catalog.open({ url: urlOf(lost) }).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(LakeSoulError);
    expect([(e as LakeSoulError).kind, (e as LakeSoulError).code]).toEqual(['Catalog', 'CATALOG_SCHEMA']);
    expect((e as LakeSoulError).message).toContain(`nosuch_${id}`);
  });

  it('takes serverTimeouts: false (PgBouncer in transaction mode) and sets no server-side timeout then', async () => {
    const setting = async (c: Catalog) => (await c.driver.query<{ s: string }>('SELECT current_setting(\'statement_timeout\') AS s')).rows[0]!.s;
    const off = await Catalog.open({ url: urlOf(OWNER), serverTimeouts: false });
    try {
      expect(await setting(off)).toBe('0');
    } finally {
      await off.close();
    }
    const on = await Catalog.open({ url: urlOf(OWNER) });
    try {
      expect(await setting(on)).not.toBe('0');
    } finally {
      await on.close();
    }
    // the environment's way (the CLI has no option object): LAKESOUL_PG_SERVER_TIMEOUTS=off
    const byEnv = await Catalog.open({ url: urlOf(OWNER), env: { LAKESOUL_PG_SERVER_TIMEOUTS: 'off' } });
    try {
      expect(await setting(byEnv)).toBe('0');
    } finally {
      await byEnv.close();
    }
    await expect(Catalog.open({ url: urlOf(OWNER), env: { LAKESOUL_PG_SERVER_TIMEOUTS: 'maybe' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('LAKESOUL_PG_SERVER_TIMEOUTS') });
  });
});
