import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int64, Schema, Table, tableFromArrays, type RecordBatch } from 'apache-arrow';
import { castTableToSchema } from '../parquet/parquet-codec.js';
import { Lakehouse } from './lakehouse.js';
import { scanPlanFromJSON } from './scan-plan.js';
import type { LakeSoulTable } from './lakesoul-table.js';

// A read of a table of 10,001 columns took 8-12 s for 5 rows: per column of a file, a search of the
// file's column list (`readColumns.filter(c => existCols.includes(c))`, per file and again per decode)
// and of the decoded table's schema (castTableToSchema's findIndex), 10^8 comparisons each. These
// tests count the element reads of those lists, which grew with the square of the columns.

const N = 2000;
const names = Array.from({ length: N }, (_, i) => `c${i}`);

/** `list`, counting each read of one of its elements in `reads.n`. */
function counting<T>(list: T[], reads: { n: number }): T[] {
  return new Proxy(list, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads.n++;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
}

describe(`a table of ${N} columns`, () => {
  let lh: Lakehouse;
  let t: LakeSoulTable;
  const row = (id: number) => Object.fromEntries([['id', id], ...names.map((c, i) => [c, id * N + i])]);

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-wide-'));
    lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(dir).href });
    t = await lh.createTable('wide', new Schema([new Field('id', new Int64(), false), ...names.map((c) => new Field(c, new Int64(), true))]), {
      primaryKeys: ['id'], hashBucketNum: 1,
    });
    await t.write([row(1), row(2)]);
    await t.write([row(2), row(3)]);
  });
  afterAll(() => lh.close());

  it('a scan reads each file\'s column list a few times over, not once per column', async () => {
    const json = (await t.scan()).toJSON();
    const reads = { n: 0 };
    let files = 0;
    for (const s of json.splits) {
      for (const f of s.files) {
        f.existCols = counting(f.existCols, reads);
        files++;
      }
    }
    expect(files).toBe(2);
    const batches: RecordBatch[] = [];
    for await (const b of scanPlanFromJSON(json, lh.stores).read()) batches.push(b);
    const got = new Table(batches);
    expect(got.numRows).toBe(3);
    expect(got.numCols).toBe(N + 1);
    const ids = [...got.getChild('id')!.toArray()].map(Number);
    expect(ids.sort()).toEqual([1, 2, 3]);
    for (let r = 0; r < got.numRows; r++) {
      const id = Number(got.getChild('id')!.get(r));
      expect(Number(got.getChild(`c${N - 1}`)!.get(r))).toBe(id * N + N - 1);
    }
    // each list of N names read a handful of times per file (was ~N^2/2 = 2,000,000 reads per pass)
    expect(reads.n).toBeLessThan(files * 10 * N);
  });

  it('castTableToSchema looks each column up once', () => {
    const table = tableFromArrays(Object.fromEntries(names.map((c, i) => [c, Int32Array.of(i)])));
    const reads = { n: 0 };
    // the decoded table's schema, whose fields were searched once per field of the target schema
    const fake = { schema: new Schema(counting([...table.schema.fields], reads)), batches: table.batches } as unknown as Table;
    reads.n = 0;
    const target = new Schema([...table.schema.fields].reverse());
    const out = castTableToSchema(fake, target);
    expect(out.schema.fields.map((f) => f.name)).toEqual([...names].reverse());
    expect(out.getChild(`c${N - 1}`)!.get(0)).toBe(N - 1);
    expect(reads.n).toBeLessThan(10 * N);
  });
});
