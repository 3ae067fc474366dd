/**
 * Catalog findings of hunter "g" (H1-H3, M2, L1-L3, L5), on PGlite and on the real PostgreSQL server.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Field, Int64, Schema } from 'apache-arrow';
import { Catalog } from './catalog.js';
import { pathWithin } from './native-location.js';
import { LakeSoulError } from './errors.js';
import { PGliteDriver } from './pglite-driver.js';
import { PgDriver } from './pg-driver.js';
import type { SqlDriver } from './sql-driver.js';

const schema = new Schema([new Field('id', new Int64(), false)]);
const uniq = () => randomUUID().slice(0, 8);

async function failure(p: Promise<unknown>): Promise<LakeSoulError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(LakeSoulError);
    return e as LakeSoulError;
  }
  throw new Error('expected a LakeSoulError');
}

const pgSchema = `hunt_g_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const backends: Array<[string, () => Promise<SqlDriver>]> = [
  ['PGlite', () => PGliteDriver.open()],
  ['PostgreSQL', () => PgDriver.connect({ url: process.env.LAKESOUL_TEST_PG_URL!, schema: pgSchema })],
];

afterAll(async () => {
  if (!process.env.LAKESOUL_TEST_PG_URL) return;
  const c = new pg.Client({ connectionString: process.env.LAKESOUL_TEST_PG_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`);
  await c.end();
});

describe('pathWithin compares file: paths as the native IO reads them (H1)', () => {
  it('decodes percent escapes of file: paths, not of s3 keys', () => {
    expect(pathWithin('file:///w/my lake', 'file:///w/my%20lake')).toBe(true);
    expect(pathWithin('file:///w/my%20lake/x.parquet', 'file:///w/my lake')).toBe(true);
    expect(pathWithin('file:///w/caf%C3%A9/a', 'file:///w/café')).toBe(true);
    expect(pathWithin('file:///w/q%2Fr/a', 'file:///w/q')).toBe(true);
    expect(pathWithin('file:///w/a%2E%2E/b', 'file:///w/a')).toBe(false);
    expect(pathWithin('file:///w/x/%2E%2E/b', 'file:///w/b')).toBe(true);
    expect(pathWithin('file:///w/my lake2', 'file:///w/my%20lake')).toBe(false);
    expect(pathWithin('s3://b/my lake', 's3://b/my%20lake')).toBe(false);
  });
});

for (const [label, open] of backends) {
  // PostgreSQL only where a server is given: scripts/test-env.mjs (the test command, CI) always starts one
  describe.skipIf(label === 'PostgreSQL' && !process.env.LAKESOUL_TEST_PG_URL)(`catalog (hunt g) on ${label}`, () => {
    let catalog: Catalog;
    beforeAll(async () => {
      catalog = new Catalog(await open());
      await catalog.bootstrap();
    }, 60_000);
    afterAll(async () => { await catalog?.close(); });

    it('H1: a path equal to or inside another table\'s decoded path is refused', async () => {
      const base = `file:///tmp/hunt-g-${uniq()}`;
      await catalog.createTable({ name: `wl_${uniq()}`, path: `${base}/my%20lake`, schema });
      const same = await failure(catalog.createTable({ name: `tsl_${uniq()}`, path: `${base}/my lake`, schema }));
      expect(same.code).toBe('TABLE_PATH_EXISTS');
      const inside = await failure(catalog.createTable({ name: `in_${uniq()}`, path: `${base}/my lake/sub`, schema }));
      expect(inside.code).toBe('TABLE_PATH_OVERLAP');
      await catalog.createTable({ name: `caf_${uniq()}`, path: `${base}/café`, schema });
      expect((await failure(catalog.createTable({ name: `caf2_${uniq()}`, path: `${base}/caf%C3%A9`, schema }))).code).toBe('TABLE_PATH_EXISTS');
      // s3 keys are compared as written
      await catalog.createTable({ name: `s1_${uniq()}`, path: `s3://b-${uniq()}/q%20r`, schema });
    });

    it('H1: foreignClaimsUnder finds a table and files stored in another spelling', async () => {
      const base = `file:///tmp/hunt-g-${uniq()}`;
      const wheel = await catalog.createTable({ name: `wl_${uniq()}`, path: `${base}/my%20lake`, schema });
      await catalog.commit({
        tableId: wheel.tableId, op: 'AppendCommit',
        partitions: [{ partitionDesc: '-5', files: [{ path: `${base}/my%20lake/part-a_0000.parquet`, op: 'add', size: 10n, existCols: ['id'] }] }],
      });
      const claims = await catalog.foreignClaimsUnder(`${base}/my lake`, { exceptTableId: 'none' });
      expect(claims.tablePaths).toEqual([`${base}/my%20lake`]);
      expect(claims.files).toEqual([`${base}/my%20lake/part-a_0000.parquet`]);
      const fromParent = await catalog.foreignClaimsUnder(`${base}`, { exceptTableId: 'none' });
      expect(fromParent.tablePaths).toEqual([`${base}/my%20lake`]);
    });

    /** A table as the wheel stores one with a pa.large_list column ("largelist": not decoded here). */
    async function undecodable(namespace: string, name: string): Promise<string> {
      const t = await catalog.createTable({ namespace, name, path: `file:///tmp/hunt-g-${uniq()}/${name}`, schema });
      const json = JSON.stringify({ fields: [{ name: 'l', nullable: true, type: { name: 'largelist' }, children: [{ name: 'item', nullable: true, type: { name: 'int', bitWidth: 32, isSigned: true }, children: [] }] }] });
      await catalog.driver.query('UPDATE table_info SET table_schema = $1 WHERE table_id = $2', [json, t.tableId]);
      return t.tableId;
    }

    it('H2: a table whose schema cannot be decoded is listed with `unsupported`, the others as usual', async () => {
      const ns = `ns_${uniq()}`;
      await catalog.createNamespace(ns);
      const ok = await catalog.createTable({ namespace: ns, name: 'a_ok', path: `file:///tmp/hunt-g-${uniq()}/a`, schema });
      const bad = await undecodable(ns, 'm_llist');
      for (const listed of [await catalog.listTables(ns), (await catalog.listTables()).filter((t) => t.namespace === ns)]) {
        expect(listed.map((t) => t.name)).toEqual(['a_ok', 'm_llist']);
        expect(listed[0]!.unsupported).toBeUndefined();
        expect(listed[0]!.schema.fields.map((f) => f.name)).toEqual(['id']);
        expect(listed[1]!.tableId).toBe(bad);
        expect(listed[1]!.unsupported).toMatch(/m_llist.*largelist/);
        expect(listed[1]!.schema.fields).toEqual([]);
      }
      // a single-table lookup still refuses it; getTableEntry gives the listing's entry
      expect((await failure(catalog.getTableById(bad))).kind).toBe('Unsupported');
      expect((await failure(catalog.getTable('m_llist', ns))).kind).toBe('Unsupported');
      const entry = await catalog.getTableEntry('m_llist', ns);
      expect(entry.tableId).toBe(bad);
      expect(entry.unsupported).toMatch(/largelist/);
      expect((await catalog.getTableEntry('a_ok', ns)).unsupported).toBeUndefined();
      expect(ok.unsupported).toBeUndefined();
    });

    it('H3: such a table can be dropped, and dropNamespace(cascade) drops it with the others', async () => {
      const ns = `ns_${uniq()}`;
      await catalog.createNamespace(ns);
      const bad = await undecodable(ns, 'ty_llist');
      await catalog.dropTable(bad);
      expect(await catalog.listTables(ns)).toEqual([]);
      for (const n of ['a_ok', 'b_ok']) await catalog.createTable({ namespace: ns, name: n, path: `file:///tmp/hunt-g-${uniq()}/${n}`, schema });
      await undecodable(ns, 'm_llist');
      await catalog.createTable({ namespace: ns, name: 'z_ok', path: `file:///tmp/hunt-g-${uniq()}/z`, schema });
      await catalog.dropNamespace(ns, { cascade: true });
      expect((await catalog.listTables()).filter((t) => t.namespace === ns)).toEqual([]);
      expect((await catalog.listNamespaces()).map((n) => n.name)).not.toContain(ns);
    });

    it('H3: a failing cascade drops nothing', async () => {
      const ns = `ns_${uniq()}`;
      await catalog.createNamespace(ns, { comment: 'kept' });
      for (const n of ['a_ok', 'b_ok']) await catalog.createTable({ namespace: ns, name: n, path: `file:///tmp/hunt-g-${uniq()}/${n}`, schema });
      const ac = new AbortController();
      // the drop fails mid-way: an invalid statement after the first table (forced through a failing query)
      const realQuery = catalog.driver.transaction.bind(catalog.driver);
      let deletes = 0;
      (catalog.driver as { transaction: SqlDriver['transaction'] }).transaction = (fn, opts) => realQuery(async (tx) => fn({
        query: async (sql: string, params?: unknown[]) => {
          if (sql.startsWith('DELETE FROM table_info') && ++deletes === 2) throw new LakeSoulError('Catalog', 'injected failure');
          return tx.query(sql, params as unknown[]);
        },
      } as typeof tx), opts);
      try {
        const e = await failure(catalog.dropNamespace(ns, { cascade: true, signal: ac.signal }));
        expect(e.message).toMatch(/nothing was dropped.*injected failure/);
      } finally {
        (catalog.driver as { transaction: SqlDriver['transaction'] }).transaction = realQuery;
      }
      expect((await catalog.listTables(ns)).map((t) => t.name)).toEqual(['a_ok', 'b_ok']);
      expect((await catalog.getNamespace(ns)).comment).toBe('kept');
    });

    it('M2: dropNamespace(cascade) racing createTable leaves neither the namespace nor a table', async () => {
      const ns = `ns_${uniq()}`;
      await catalog.createNamespace(ns);
      const other = label === 'PGlite' ? catalog : new Catalog(await open());
      let stop = false;
      let created = 0;
      const creator = (async () => {
        for (let i = 0; !stop && i < 200; i++) {
          try {
            await other.createTable({ namespace: ns, name: `t${i}`, path: `file:///tmp/hunt-g-${uniq()}/t${i}`, schema });
            created++;
          } catch (e) {
            if (LakeSoulError.hasCode(e, 'NAMESPACE_NOT_FOUND')) return;
            throw e;
          }
        }
      })();
      while (created < 3) await new Promise((r) => setTimeout(r, 5));
      await catalog.dropNamespace(ns, { cascade: true });
      stop = true;
      await creator;
      expect((await catalog.listTables()).filter((t) => t.namespace === ns)).toEqual([]);
      expect((await failure(catalog.getNamespace(ns))).code).toBe('NAMESPACE_NOT_FOUND');
      if (other !== catalog) await other.close();
    });
  });
}

describe('argument checks (hunt g L1-L3, L5)', () => {
  let catalog: Catalog;
  beforeAll(async () => {
    catalog = new Catalog(await PGliteDriver.open());
    await catalog.bootstrap();
  }, 60_000);
  afterAll(async () => { await catalog?.close(); });

  it('L1: a NUL in an id or comment is InvalidArgument naming the argument; dropNamespace ifExists does nothing', async () => {
    for (const call of [
      () => catalog.getTableById('table_\0x'), () => catalog.dropTable('table_\0x'), () => catalog.history('table_\0x'),
      () => catalog.updateTableProperties('table_\0x', { a: 'b' }),
    ]) {
      const e = await failure(call());
      expect(e.kind).toBe('InvalidArgument');
      expect(e.message).toMatch(/^table id .*NUL/);
    }
    const c = await failure(catalog.createNamespace(`n_${uniq()}`, { comment: 'c\0' }));
    expect(c.message).toMatch(/create namespace 'n_.*': comment .*NUL/);
    expect((await failure(catalog.getTableByPath(5 as never))).message).toBe('table path must be a string, not number');
    expect(await catalog.dropNamespace('a\0b', { ifExists: true })).toEqual({ files: [] });
    expect((await failure(catalog.dropNamespace('a\0b'))).code).toBe('NAMESPACE_NOT_FOUND');
  });

  it('L2: a name that is not a string is INVALID_NAME', async () => {
    for (const call of [
      () => catalog.getTable(5 as never), () => catalog.getTable('t', null as never), () => catalog.listTables(5 as never),
      () => catalog.dropNamespace(undefined as never), () => catalog.getNamespace({} as never),
    ]) {
      const e = await failure(call());
      expect(e.code).toBe('INVALID_NAME');
      expect(e.message).toMatch(/must be a string/);
    }
    const e = await failure(catalog.dropTable(null as never));
    expect(e.message).toMatch(/table id must be a string, not null/);
  });

  it('L3: property values other than strings, numbers and booleans are refused; null and undefined are absent; __proto__ is stored', async () => {
    const path = () => `file:///tmp/hunt-g-${uniq()}/t`;
    const bad = await failure(catalog.createTable({ name: `t_${uniq()}`, path: path(), schema, properties: { a: {} as never } }));
    expect(bad.message).toMatch(/property 'a' must be a string, number or boolean, not object/);
    const props = JSON.parse('{"owner": null, "note": null, "n": 3, "__proto__": "p"}');
    props.gone = undefined;
    const t = await catalog.createTable({ name: `t_${uniq()}`, path: path(), schema, properties: props });
    const stored = (await catalog.getTableById(t.tableId)).properties;
    expect(Object.keys(stored).sort()).toEqual(['__proto__', 'file_format', 'hashBucketNum', 'n']);
    expect(stored.__proto__).toBe('p');
    const u = await catalog.updateTableProperties(t.tableId, { owner2: undefined as never, n: null });
    expect(Object.keys(u.properties).sort()).toEqual(['__proto__', 'file_format', 'hashBucketNum']);
    expect((await failure(catalog.updateTableProperties(t.tableId, { x: [] as never }))).message).toMatch(/property 'x' must be a string/);
  });

  it('L5: a commit to a table dropped after it was looked up names the table', async () => {
    const t = await catalog.createTable({ name: `held_${uniq()}`, path: `file:///tmp/hunt-g-${uniq()}/h`, schema });
    // the table is found, then dropped before the commit's transaction locks it
    const real = catalog.driver.transaction.bind(catalog.driver);
    (catalog.driver as { transaction: SqlDriver['transaction'] }).transaction = async (fn, opts) => {
      (catalog.driver as { transaction: SqlDriver['transaction'] }).transaction = real;
      await catalog.dropTable(t.tableId);
      return real(fn, opts);
    };
    const e = await failure(catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [{ path: `${t.path}/part-a_0000.parquet`, op: 'add', size: 1n, existCols: ['id'] }] }] }));
    expect(e.code).toBe('TABLE_NOT_FOUND');
    expect(e.message).toContain(`table 'default.${t.name}'`);
  });
});
