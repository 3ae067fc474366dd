// Incremental reads into DataFrames: partitions rewritten or dropped within the range come whole (their
// state at the range's end), which a frame cannot say; the reader hands their list over or refuses.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as A from 'apache-arrow';
import * as danfo from 'danfojs';
import { Lakehouse, type LakeSoulTable } from '@lakesoul-ts/io';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { readDataFrame, streamDataFrames } from './index.js';
import type { DanfoModule } from './index.js';

const dfd = danfo as unknown as DanfoModule;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let lake: Lakehouse;
let table: LakeSoulTable;
let start: number;
let end: number;
let quietStart: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'danfo-incremental-'));
  lake = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog'), env: {} }, warehouse: pathToFileURL(join(dir, 'warehouse')).href });
  table = await lake.createTable('d', new A.Schema([
    new A.Field('id', new A.Int64(), false), new A.Field('p', new A.Utf8(), false), new A.Field('v', new A.Utf8(), true),
  ]), { rangePartitions: ['p'], primaryKeys: ['id'], hashBucketNum: 1 });
  await table.write([{ id: 1n, p: 'a', v: 'x' }, { id: 2n, p: 'a', v: 'y' }, { id: 3n, p: 'b', v: 'z' }]);
  await sleep(5);
  start = Date.now();
  await sleep(5);
  await table.deleteByKeys([{ id: 1n, p: 'a' }]); // an UpdateCommit: partition a comes whole
  await table.dropPartitions({ p: 'b' }); // a DeleteCommit: partition b is gone
  await table.write([{ id: 4n, p: 'c', v: 'w' }]); // an upsert elsewhere: a change
  await sleep(5);
  quietStart = Date.now();
  await sleep(5);
  await table.write([{ id: 5n, p: 'c', v: 'u' }]);
  await sleep(5);
  end = Date.now();
});
afterAll(async () => {
  await lake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function refusal(p: Promise<unknown>): Promise<LakeSoulError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof LakeSoulError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('incremental reads into DataFrames and reset partitions', () => {
  test('readDataFrame refuses a range that rewrote or dropped partitions, naming them, unless onResetPartitions takes the list', async () => {
    const e = await refusal(readDataFrame(table, { dfd, incremental: { start, end } }));
    expect(e.code).toBe('RESET_PARTITIONS_NOT_ACKNOWLEDGED');
    expect(e.kind).toBe('InvalidArgument');
    expect(e.message).toMatch(/rewrote .* or dropped 2 partitions p=a, p=b/);
    expect(e.message).toMatch(/onResetPartitions/);
    expect(e.context.partitions).toEqual(['p=a', 'p=b']);

    const seen: string[][] = [];
    const df = await readDataFrame(table, { dfd, incremental: { start, end }, onResetPartitions: (parts) => { seen.push(parts); } });
    expect(seen).toEqual([['p=a', 'p=b']]);
    const rows = (df.values as unknown[][]).map((r) => r.join(':')).sort();
    expect(rows).toEqual(['2:a:y', '4:c:w', '5:c:u']);
  });

  test('streamDataFrames: the same, the list before the first frame (an async callback is awaited)', async () => {
    const e = await refusal((async () => { for await (const _ of streamDataFrames(table, { dfd, incremental: { start, end } })) { /* none */ } })());
    expect(e.code).toBe('RESET_PARTITIONS_NOT_ACKNOWLEDGED');
    const order: string[] = [];
    for await (const df of streamDataFrames(table, {
      dfd, incremental: { start, end },
      onResetPartitions: async (parts) => { await sleep(1); order.push(`reset ${parts.join(',')}`); },
    })) order.push(`frame ${(df as unknown as { shape: number[] }).shape[0]}`);
    expect(order[0]).toBe('reset p=a,p=b');
    expect(order.length).toBeGreaterThan(1);
  });

  test('a range that rewrote and dropped nothing reads as before; the callback gets []', async () => {
    const df = await readDataFrame(table, { dfd, incremental: { start: quietStart, end } });
    expect((df.values as unknown[][]).map((r) => r.join(':'))).toEqual(['5:c:u']);
    const seen: string[][] = [];
    await readDataFrame(table, { dfd, incremental: { start: quietStart, end }, onResetPartitions: (p) => { seen.push(p); } });
    expect(seen).toEqual([[]]);
  });

  test('snapshot reads never call it; a callback that is no function is refused', async () => {
    let called = false;
    await readDataFrame(table, { dfd, onResetPartitions: () => { called = true; } });
    expect(called).toBe(false);
    const e = await refusal(readDataFrame(table, { dfd, incremental: { start, end }, onResetPartitions: true as never }));
    expect(e.code).toBe('INVALID_OPTION_VALUE');
  });
});
