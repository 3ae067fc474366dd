// A table whose schema this project cannot decode (the wheel's pa.large_list: "largelist") could not
// be dropped through the Lakehouse or the CLI (`table drop`): dropTable looked the table up with its
// schema. It takes the catalog entry as listTables gives it now, with or without purge.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { Lakehouse } from './lakehouse.js';

const dir = mkdtempSync(join(tmpdir(), 'lakesoul-drop-undecodable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LARGE_LIST = JSON.stringify({ fields: [{ name: 'l', nullable: true, type: { name: 'largelist' }, children: [{ name: 'item', nullable: true, type: { name: 'int', bitWidth: 32, isSigned: true }, children: [] }] }] });

it('drops a table whose schema cannot be decoded, with and without purge', async () => {
  const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(join(dir, 'wh')).href });
  try {
    for (const name of ['plain', 'purged']) {
      const t = await lh.createTable(name, [{ id: 1n }]);
      await lh.catalog.driver.query('UPDATE table_info SET table_schema = $1 WHERE table_id = $2', [LARGE_LIST, t.info.tableId]);
    }
    await expect(lh.table('plain')).rejects.toThrow(/largelist/);
    const purgedPath = fileURLToPath((await lh.catalog.getTableEntry('purged')).path);
    expect(readdirSync(purgedPath, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.parquet')).length).toBe(1);
    await lh.dropTable('plain');
    await lh.dropTable('purged', { purge: true });
    expect(await lh.listTables()).toEqual([]);
    // its data file went with the purge
    expect(existsSync(purgedPath) ? readdirSync(purgedPath, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.parquet')) : []).toEqual([]);
  } finally {
    await lh.close();
  }
});
