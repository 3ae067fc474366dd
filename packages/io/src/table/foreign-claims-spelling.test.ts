// Cleanup of a table keeps the files of another table whose path another engine spelled with `//`,
// `.` or `..` segments: the catalog's pre-filter compared the text of paths, so `file:///w//a/sub`
// (the same directory as `/w/a/sub`) was never found under `/w/a`, and its files were deleted as
// orphans of the table at `/w/a`.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { Field, Int64, Schema, Table, vectorFromArray } from 'apache-arrow';
import { Lakehouse } from './lakehouse.js';

const dir = mkdtempSync(join(tmpdir(), 'lakesoul-claims-spelling-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const schema = new Schema([new Field('id', new Int64(), false)]);

for (const spelling of ['//a/sub', '/./a/sub', '/x/../a/sub', '/a//sub/.']) {
  it(`cleanup keeps the files of another table stored at file://<dir>${spelling}`, async () => {
    const base = join(dir, `c${spelling.replace(/[^a-z]/g, '')}${Math.random().toString(36).slice(2, 8)}`);
    const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(join(base, 'wh')).href });
    try {
      const a = await lh.createTable('a', schema, { path: pathToFileURL(join(base, 'a')).href });
      await a.write(new Table({ id: vectorFromArray([1n], new Int64()) }));
      // another engine's table, its path stored as that engine spelled it (createTable refuses such paths)
      const other = await lh.catalog.createTable({ name: 'other', path: pathToFileURL(join(base, 'elsewhere')).href, schema });
      await lh.catalog.driver.query('UPDATE table_info SET table_path = $1 WHERE table_id = $2', [`file://${base}${spelling}`, other.tableId]);
      mkdirSync(join(base, 'a', 'sub'), { recursive: true });
      const theirs = join(base, 'a', 'sub', 'part-x.parquet');
      writeFileSync(theirs, 'another table\'s data file');
      const report = await a.cleanup({ dryRun: false, orphanSafetyWindowMs: 0, assumeNoWritesInFlight: true });
      expect(report.files.map((f) => f.path)).toEqual([]);
      expect(existsSync(theirs)).toBe(true);
    } finally {
      await lh.close();
    }
  });
}
