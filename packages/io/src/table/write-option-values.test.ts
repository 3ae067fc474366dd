// A write's numeric options are checked at the call: NaN or text made the writer cut files of no rows
// and commit them, every row lost; 0 or -1 wrote a file per row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { Lakehouse } from './lakehouse.js';
import type { LakeSoulTable } from './lakesoul-table.js';
import type { TableWriteOptions } from './table-writer.js';

let dir: string;
let lake: Lakehouse;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'write-option-values-'));
  lake = await Lakehouse.open({ catalog: { dataDir: ':memory:', env: {} }, warehouse: pathToFileURL(join(dir, 'warehouse')).href });
});
afterAll(async () => {
  await lake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const rows = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ id: from + i, v: `row ${from + i}` }));

async function files(t: LakeSoulTable): Promise<string[]> {
  const p = t.info.path;
  const root = p.startsWith('file:') ? fileURLToPath(p) : p;
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(join(d, e.name));
    }
  };
  await walk(root);
  return out.sort();
}

async function refused(call: () => Promise<unknown>, option: string): Promise<LakeSoulError> {
  const e = await call().then(() => null, (err: unknown) => err);
  expect(e, `${option} refused`).toBeInstanceOf(LakeSoulError);
  const err = e as LakeSoulError;
  expect(err.kind).toBe('InvalidArgument');
  expect(err.code).toBe('INVALID_OPTION_VALUE');
  expect(err.context.option).toBe(option);
  expect(err.message).toContain(option);
  return err;
}

const BAD: [keyof TableWriteOptions, unknown][] = [
  ['targetFileSize', NaN], ['targetFileSize', 'abc'], ['targetFileSize', 0], ['targetFileSize', -1], ['targetFileSize', 1.5], ['targetFileSize', Infinity],
  ['maxBufferedBytes', NaN], ['maxBufferedBytes', -1], ['maxBufferedBytes', 'x'], ['maxBufferedBytes', 0],
  ['rowGroupSize', 0], ['rowGroupSize', -1], ['rowGroupSize', 'abc'], ['rowGroupSize', NaN], ['rowGroupSize', 2 ** 32],
];

describe('numeric write options', () => {
  it.each(BAD)('%s: %s is refused naming it, nothing written', async (option, value) => {
    const t = await lake.createTable(`t_${option}_${String(value).replace(/\W/g, '_')}`, rows(3), { primaryKeys: ['id'], hashBucketNum: 1 });
    const before = await files(t);
    expect(before.some((f) => f.endsWith('.parquet'))).toBe(true);
    const err = await refused(() => t.write(rows(1000, 10), { [option]: value } as TableWriteOptions), option);
    expect(err.message).toContain(typeof value === 'string' ? `'${value}'` : String(value));
    await refused(() => t.write(rows(1000, 10), { mode: 'append', [option]: value } as TableWriteOptions), option);
    await refused(() => t.stage(rows(1000, 10), { [option]: value } as TableWriteOptions), option);
    expect(await files(t)).toEqual(before);
    expect((await t.toArrow()).numRows).toBe(3);
  });

  it('takes whole numbers from 1: targetFileSize 1 writes a file per row, every row kept', async () => {
    const t = await lake.createTable('t_small_files', rows(1), { primaryKeys: ['id'], hashBucketNum: 1 });
    const r = await t.write(rows(5, 10), { targetFileSize: 1, maxBufferedBytes: 1, rowGroupSize: 1 });
    expect(r.rows).toBe(5);
    expect(r.files.map((f) => f.rows)).toEqual([1, 1, 1, 1, 1]);
    expect((await t.toArrow()).numRows).toBe(6);
    const staged = await t.stage(rows(1000, 100), { targetFileSize: 4096 });
    const c = await t.commitStaged([staged]);
    expect(c.files.reduce((n, f) => n + f.rows, 0)).toBe(1000);
    expect((await t.toArrow()).numRows).toBe(1006);
  });

  it("schemaMode other than 'strict' or 'merge' is INVALID_OPTION_VALUE", async () => {
    const t = await lake.createTable('t_schema_mode', rows(1), { primaryKeys: ['id'] });
    await refused(() => t.write(rows(1), { schemaMode: 'x' as 'merge' }), 'schemaMode');
  });
});

describe('createTable option values', () => {
  it("refuses a value other than 'int64' or 'int32', creating nothing", async () => {
    const err = await refused(() => lake.createTable('t_int8', rows(1), { primaryKeys: ['id'], integers: 'int8' as 'int32' }), 'integers');
    expect(err.message).toContain("'int8'");
    await refused(() => lake.openOrCreate('t_int8', rows(1), { integers: 'int8' as 'int32' }), 'integers');
    expect((await lake.listTables()).map((x) => x.name)).not.toContain('t_int8');
    const t = await lake.createTable('t_int32', rows(1), { integers: 'int32' });
    expect(String(t.info.schema.fields[0].type)).toBe('Int32');
  });

  it('refuses a hashBucketNum that is no power of two from 1 to 2^30 (INVALID_OPTION_VALUE)', async () => {
    for (const n of [0, -1, 3, 2 ** 31, NaN]) {
      const err = await refused(() => lake.createTable('t_buckets', rows(1), { primaryKeys: ['id'], hashBucketNum: n }), 'hashBucketNum');
      expect(err.message).toContain(`hashBucketNum ${n} must be a power of two`);
    }
    expect((await lake.listTables()).map((x) => x.name)).not.toContain('t_buckets');
  });
});
