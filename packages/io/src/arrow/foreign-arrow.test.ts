/**
 * Arrow objects of an apache-arrow copy before 21.2.0 (whose classes `instanceof` cannot tell from
 * ours: 21.2.0's accept the marked objects of any copy from 21.2.0 on) are refused as what they are,
 * `FOREIGN_ARROW_OBJECT` naming both versions, by createTable and write; they were "createTable takes
 * a Schema, an Arrow Table or RecordBatch" and "write input items must be Arrow Tables or
 * RecordBatches". The other copy is a real apache-arrow 21.1.0 (io's devDependency
 * `apache-arrow-21.1.0`), the app's when the working directory resolves `apache-arrow` to it. The same
 * 21.2.0 loaded through `require()` (its CommonJS build) is another copy too: its objects pass
 * `instanceof` (21.2.0's marks) but its types are not ours (they failed with "Unrecognized type 'NONE'").
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ours from 'apache-arrow';
import * as old from 'apache-arrow-21.1.0';
import { Catalog, LakeSoulError } from '@lakesoul-ts/meta';
import { StoreRegistry, toFileUri } from '../store/index.js';
import { Lakehouse } from '../table/index.js';
import { foreignArrowClass, foreignArrowError } from './foreign-arrow.js';

const twice = createRequire(import.meta.url)('apache-arrow') as typeof ours;
const TWICE = /is an Arrow (Table|RecordBatch|Schema) from another copy of apache-arrow \(both 21\.2\.0, loaded twice: e\.g\. the app's require\('apache-arrow'\) loads its CommonJS build, lakesoul-ts imports its ES module\): install one apache-arrow version/;
const FOREIGN = /is an Arrow (Table|RecordBatch|Schema) from another copy of apache-arrow \(the app's 21\.1\.0 vs lakesoul-ts's 21\.2\.0\): install one apache-arrow version \(lakesoul-ts takes \^21\.2\.0\) and make the \1 with it/;

describe('Arrow objects of another apache-arrow copy', () => {
  const theirs = old.tableFromArrays({ id: BigInt64Array.from([1n, 2n]), score: Float64Array.from([0.4, 0.9]) });
  // an app directory whose apache-arrow is 21.1.0, as the working directory
  const app = mkdtempSync(join(tmpdir(), 'lakesoul-foreign-arrow-app-'));
  const oldDir = dirname(createRequire(import.meta.url).resolve('apache-arrow-21.1.0'));
  const cwd = process.cwd();
  beforeAll(() => {
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(oldDir, join(app, 'node_modules', 'apache-arrow'), 'dir');
    process.chdir(app);
  });
  afterAll(() => {
    process.chdir(cwd);
    rmSync(app, { recursive: true, force: true });
  });

  it('are told from ours and from other objects', () => {
    expect(theirs instanceof ours.Table).toBe(false); // the premise: a copy instanceof cannot tell
    expect(foreignArrowClass(theirs)).toBe('Table');
    expect(foreignArrowClass(theirs.batches[0])).toBe('RecordBatch');
    expect(foreignArrowClass(theirs.schema)).toBe('Schema');
    const mine = ours.tableFromArrays({ id: [1] });
    for (const x of [mine, mine.batches[0], mine.schema, null, 1, 'Table', [], {}, { schema: { fields: [] }, batches: [] }]) expect(foreignArrowClass(x)).toBeUndefined();
    // another library's class of the same name is not one
    class RecordBatch { rows = 3; }
    class Schema { fields = 'a,b'; }
    expect(foreignArrowClass(new RecordBatch())).toBeUndefined();
    expect(foreignArrowClass(new Schema())).toBeUndefined();
    expect(foreignArrowError(theirs.schema, 'x')?.message).toMatch(FOREIGN);
    // the CommonJS build of the same version: passes instanceof, still another copy
    const cjs = twice.tableFromArrays({ id: [1] });
    expect(cjs instanceof ours.Table && cjs.schema.fields[0]!.type instanceof ours.Float64).toBe(false);
    expect([foreignArrowClass(cjs), foreignArrowClass(cjs.batches[0]), foreignArrowClass(cjs.schema)]).toEqual(['Table', 'RecordBatch', 'Schema']);
    expect(foreignArrowError(cjs, 'x')?.message).toMatch(TWICE);
    // where the working directory finds no older copy, the message still says what the other one is
    process.chdir(cwd);
    try {
      expect(foreignArrowError(theirs, 'x')?.message).toMatch(/^x is an Arrow Table from another copy of apache-arrow \(one older than 21\.2\.0 vs lakesoul-ts's 21\.2\.0\): install one apache-arrow version/);
    } finally {
      process.chdir(app);
    }
  });

  describe('through a Lakehouse', () => {
    let catalog: Catalog;
    let lh: Lakehouse;
    let dir: string;
    beforeAll(async () => {
      catalog = await Catalog.open({ dataDir: ':memory:' });
      dir = mkdtempSync(join(tmpdir(), 'lakesoul-foreign-arrow-'));
      lh = await Lakehouse.open({ catalog, stores: new StoreRegistry(), warehouse: toFileUri(dir) });
    });
    afterAll(async () => {
      await catalog?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('createTable refuses their Schema, Table and RecordBatch naming the copy, and creates nothing', async () => {
      const cjs = twice.tableFromArrays({ id: BigInt64Array.from([1n, 2n]), score: Float64Array.from([0.4, 0.9]) });
      const sources = [theirs.schema, theirs, theirs.batches[0], cjs.schema, cjs, cjs.batches[0]];
      for (const [i, source] of sources.entries()) {
        const e = await lh.createTable(`c${i}`, source as never, { primaryKeys: ['id'] }).catch((x: unknown) => x);
        expect(LakeSoulError.hasCode(e, 'FOREIGN_ARROW_OBJECT'), String(e)).toBe(true);
        expect((e as LakeSoulError).kind).toBe('InvalidArgument');
        expect((e as Error).message).toMatch(i < 3 ? FOREIGN : TWICE);
        expect((e as Error).message).toContain(`table 'c${i}'`);
        expect((e as LakeSoulError).context).toMatchObject({ table: `c${i}`, arrowVersion: '21.2.0' });
      }
      expect(await lh.listTables()).toEqual([]);
    });

    it('write refuses their Table and RecordBatch, alone, in an array or in an iterable, and commits nothing', async () => {
      const t = await lh.createTable('w', ours.tableFromArrays({ id: BigInt64Array.from([0n]), score: Float64Array.from([0]) }), { primaryKeys: ['id'] });
      for (const [data, message] of [[theirs, FOREIGN], [twice.tableFromArrays({ id: BigInt64Array.from([1n]), score: Float64Array.from([1]) }), TWICE]] as const) {
        const batch = data.batches[0]!;
        const inputs: unknown[] = [data, batch, [data], [batch], (function* () { yield batch; })(), (async function* () { yield data; })()];
        for (const input of inputs) {
          const e = await t.write(input as never).catch((x: unknown) => x);
          expect(LakeSoulError.hasCode(e, 'FOREIGN_ARROW_OBJECT'), String(e)).toBe(true);
          expect((e as Error).message).toMatch(message);
          expect((e as Error).message).toContain("for table 'w'");
        }
      }
      expect((await t.toArrow()).numRows).toBe(1);
    });

    it('the same version loaded twice (a CommonJS library): the message names the IPC round trip, which writes', async () => {
      const t = await lh.createTable('ipc', ours.tableFromArrays({ id: BigInt64Array.from([0n]), score: Float64Array.from([0]) }), { primaryKeys: ['id'] });
      const cjs = twice.tableFromArrays({ id: BigInt64Array.from([1n, 2n]), score: Float64Array.from([1, 2]) });
      const e = await t.write(cjs as never).catch((x: unknown) => x);
      expect((e as Error).message).toContain("pass the data through Arrow IPC: `tableFromIPC(require('apache-arrow').tableToIPC(x))`");
      expect((await t.write(ours.tableFromIPC(twice.tableToIPC(cjs)))).rows).toBe(2);
      expect((await t.toArrow()).numRows).toBe(3);
      // an older copy: one install is the way (no IPC advice)
      expect(foreignArrowError(theirs, 'x')?.message).not.toContain('IPC');
    });
  });
});
