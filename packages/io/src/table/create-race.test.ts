// Two calls creating the same table with `ifNotExists`, each then writing to it (two importImages
// into a new table): B found no table, A created it and staged files in its directory, B's create
// got A's table from the catalog, took A's staged files for files left by a dropped table
// (TABLE_PATH_NOT_EMPTY) and dropped the table it had not created, A's commit then failing "not
// found: it was dropped". Only the call that created the catalog row checks the path and undoes.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Field, Int64, Schema, tableFromArrays } from 'apache-arrow';
import { Catalog, PgDriver } from '@lakesoul-ts/meta';
import { Lakehouse } from './lakehouse.js';

const schema = new Schema([new Field('id', new Int64(), false)]);
const rows = (...ids: number[]) => tableFromArrays({ id: BigInt64Array.from(ids.map(BigInt)) });
const pgUrl = process.env.LAKESOUL_TEST_PG_URL;
const pgSchema = `create_race_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

describe(`createTable with ifNotExists racing a create-then-write (${pgUrl ? 'PostgreSQL' : 'PGlite'})`, () => {
  let dir: string;
  let shared: Catalog | undefined;
  let a: Lakehouse;
  let b: Lakehouse;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'create-race-'));
    const warehouse = `file://${dir}/wh`;
    if (pgUrl) {
      // two lakehouses, two connection pools: as two processes
      a = await Lakehouse.open({ catalog: { url: pgUrl, schema: pgSchema }, warehouse });
      b = await Lakehouse.open({ catalog: { url: pgUrl, schema: pgSchema }, warehouse });
    } else {
      shared = await Catalog.open({ dataDir: ':memory:' });
      a = await Lakehouse.open({ catalog: shared, warehouse });
      b = await Lakehouse.open({ catalog: shared, warehouse });
    }
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    if (pgUrl) {
      const c = await PgDriver.connect({ url: pgUrl });
      await c.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`);
      await c.close();
    }
    await shared?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ids = async (lh: Lakehouse, name: string) => {
    const t = await (await lh.table(name)).toArrow();
    return [...t.getChild('id')!].map(Number).sort((x, y) => x - y);
  };

  it('B looked for the table before A created it, and reaches the catalog while A has files staged: both succeed', async () => {
    for (let round = 0; round < 3; round++) {
      const name = `staged_${round}`;
      const tableDir = join(dir, 'wh', 'default', name);
      // B's catalog create waits until A has created the table and staged a file in it
      let staged!: () => void;
      const gate = new Promise<void>((r) => { staged = r; });
      const create = b.catalog.createTable.bind(b.catalog);
      const spy = vi.spyOn(b.catalog, 'createTable').mockImplementationOnce(async (o) => { await gate; return create(o); });
      const bCreate = b.createTable(name, schema, { ifNotExists: true });
      while (spy.mock.calls.length === 0) await new Promise((r) => setTimeout(r, 5));
      const t = await a.createTable(name, schema, { ifNotExists: true });
      let bId: string | undefined;
      async function* data() {
        yield rows(1);
        for (let i = 0; i < 400 && !(existsSync(tableDir) && readdirSync(tableDir).length > 0); i++) await new Promise((r) => setTimeout(r, 10));
        expect(readdirSync(tableDir).length).toBeGreaterThan(0);
        staged();
        bId = (await bCreate).info.tableId;
        yield rows(2);
      }
      await t.write(data(), { targetFileSize: 1, maxBufferedBytes: 1 });
      spy.mockRestore();
      expect(bId).toBe(t.info.tableId);
      expect(await ids(a, name)).toEqual([1, 2]);
    }
  });

  it('two create-then-write calls at once into a new table: both succeed and both writes land, many rounds', async () => {
    const createThenWrite = async (lh: Lakehouse, name: string, id: number) => {
      const t = await lh.createTable(name, schema, { ifNotExists: true });
      await t.write(rows(id), { targetFileSize: 1, maxBufferedBytes: 1 });
      return t.info.tableId;
    };
    for (let round = 0; round < 12; round++) {
      const name = `both_${round}`;
      // staggered by a few milliseconds so that the second create meets the first one's files
      const results = await Promise.allSettled([
        createThenWrite(a, name, 1),
        new Promise((r) => setTimeout(r, round % 4)).then(() => createThenWrite(b, name, 2)),
      ]);
      expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : String((r.reason as Error).message))), `round ${round}`).toEqual(['ok', 'ok']);
      const [x, y] = results.map((r) => (r as PromiseFulfilledResult<string>).value);
      expect(x).toBe(y);
      expect(await ids(b, name), `round ${round}`).toEqual([1, 2]);
    }
  });

  it('a create that finds files at the path still refuses and drops only its own row', async () => {
    const name = 'leftover';
    const t = await a.createTable(name, schema);
    await t.write(rows(7));
    await a.dropTable(name); // without purge: its files stay at the default path
    await expect(b.createTable(name, schema, { ifNotExists: true })).rejects.toMatchObject({ code: 'TABLE_PATH_NOT_EMPTY' });
    expect((await a.listTables()).map((x) => x.name)).not.toContain(name);
  });
});
