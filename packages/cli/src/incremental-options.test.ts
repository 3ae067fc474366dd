/**
 * `--incremental A..B` of scan and export: one range only, no end later than now, sub-millisecond
 * times rounded as the JS API and Flight round them, and a CDC increment (delete markers: nulls in
 * non-nullable value columns) exported to Parquet. Commands run in-process on a fresh home.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Float64, Int64, Schema, Utf8 } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeParquet, Lakehouse, type LakeSoulTable } from '@lakesoul-ts/io';
import { cliInProcess as cli } from './test-support/run-in-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ids = (out: string) => out.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: number }).id).sort((a, b) => a - b);

let dir: string;
let lakehouse: Lakehouse;
let t: LakeSoulTable;
/** Commit time of the write of id 2. */
let T: number;
/** A time before the delete and upsert of table `nn`, after its first write. */
let nnStart: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-incremental-'));
  expect((await cli(dir, ['table', 'create', 'frac', '--schema', 'id:int64!,v:utf8', '--primary-key', 'id'])).code).toBe(0);
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'home', 'catalog') }, warehouse: join(dir, 'home', 'warehouse') });
  t = await lakehouse.table('frac');
  await t.write([{ id: 1n, v: 'a' }]);
  await sleep(5);
  await t.write([{ id: 2n, v: 'b' }]);
  T = Math.max(...(await t.history()).map((h) => h.timestamp));
  await sleep(5);
  const nn = await lakehouse.createTable('nn', new Schema([new Field('id', new Int64(), false), new Field('n', new Float64(), false), new Field('rowKinds', new Utf8(), true)]), { primaryKeys: ['id'], hashBucketNum: 1, cdcColumn: 'rowKinds' });
  await nn.write([{ id: 1n, n: 1.5 }, { id: 2n, n: 2.5 }]);
  await sleep(5);
  nnStart = Date.now();
  await sleep(5);
  await nn.deleteByKeys([{ id: 1n }]);
  await nn.write([{ id: 3n, n: 3.5 }]);
  await sleep(5);
}, 60_000);
afterAll(async () => {
  await lakehouse?.close();
});

describe('--incremental', () => {
  it('a..b..c is refused, not read as a..b', async () => {
    const r = await cli(dir, ['scan', 'frac', '--incremental', `0..${T}..${Date.now()}`, '--format', 'jsonl']);
    expect([r.code, r.out]).toEqual([4, '']);
    expect(r.err).toMatch(/--incremental '0\.\.\d+\.\.\d+': expected start\.\.end .*'\.\.' appears 2 times/);
  });

  it('an end later than now is refused, saying the commits until then would be missed (scan and export)', async () => {
    for (const args of [['scan', 'frac', '--incremental', '1970-01-01..2999-01-01'], ['export', 'frac', 'out.jsonl', '--incremental', `0..${Date.now() + 60_000}`]]) {
      const r = await cli(dir, args);
      expect(r.code, args.join(' ')).toBe(4);
      expect(r.err).toMatch(/--incremental '.*': the end .* is later than now .*Commits made from now until then would be missed/);
    }
  });

  it('a sub-millisecond start rounds up, as the JS API rounds it: [T + 0.4 µs.., end) leaves out the commit at T', async () => {
    const end = Date.now();
    const iso = new Date(T).toISOString().replace('Z', '400Z');
    const r = await cli(dir, ['scan', 'frac', '--incremental', `${iso}..${end}`, '--format', 'jsonl']);
    expect(r.code, r.err).toBe(0);
    const api = (await t.toArrow({ incremental: { start: T + 0.4, end } })).numRows;
    expect([ids(r.out), api]).toEqual([[], 0]);
    // whole milliseconds and a zero fraction are as before
    const at = await cli(dir, ['scan', 'frac', '--incremental', `${new Date(T).toISOString().replace('Z', '000Z')}..${end}`, '--format', 'jsonl']);
    expect(ids(at.out)).toEqual([2]);
    // --timestamp rounds up too: as of T + 0.4 sees the commit at T, as the API does
    const asOf = await cli(dir, ['scan', 'frac', '--timestamp', iso, '--format', 'jsonl']);
    expect(ids(asOf.out)).toEqual([1, 2]);
  });

  it('a CDC increment with delete markers exports to Parquet; its value columns are declared nullable there', async () => {
    const range = `${nnStart}..${Date.now()}`;
    const r = await cli(dir, ['export', 'nn', 'inc.parquet', '--incremental', range]);
    expect(r.code, r.err).toBe(0);
    const table = await decodeParquet(new Uint8Array(readFileSync(join(dir, 'inc.parquet'))));
    expect(Object.fromEntries(table.schema.fields.map((f) => [f.name, f.nullable]))).toEqual({ id: false, n: true, rowKinds: true });
    expect(table.toArray().map((row) => [Number(row.id), row.n, row.rowKinds])).toEqual([[1, null, 'delete'], [3, 3.5, 'insert']]);
  });
});
