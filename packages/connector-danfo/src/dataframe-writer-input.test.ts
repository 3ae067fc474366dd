// writeDataFrame of something that is no DataFrame is INVALID_INPUT (docs/errors.md), checked before
// the frame's columns are read (a plain object, a string or an array of rows threw a raw TypeError).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Lakehouse, type LakeSoulTable } from '@lakesoul-ts/io';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { writeDataFrame } from './index.js';
import type { DanfoDataFrameLike } from './index.js';

let dir: string;
let lake: Lakehouse;
let t: LakeSoulTable;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'danfo-writer-input-'));
  lake = await Lakehouse.open({ catalog: { dataDir: ':memory:', env: {} }, warehouse: pathToFileURL(join(dir, 'warehouse')).href });
  t = await lake.createTable('t', [{ id: 1, v: 'a' }], { primaryKeys: ['id'] });
});
afterAll(async () => {
  await lake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('writeDataFrame input', () => {
  it.each([
    ['a plain object', { foo: 1 }],
    ['a string', 'x'],
    ['an array of rows', [{ id: 2, v: 'b' }]],
    ['null', null],
    ['a number', 7],
  ])('%s is INVALID_INPUT, nothing written', async (_, input) => {
    const e = await writeDataFrame(input as unknown as DanfoDataFrameLike, t).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(LakeSoulError);
    expect((e as LakeSoulError).kind).toBe('InvalidArgument');
    expect((e as LakeSoulError).code).toBe('INVALID_INPUT');
    expect((e as LakeSoulError).message).toMatch(/expected a Danfo DataFrame/);
    expect((await t.toArrow()).numRows).toBe(1);
  });
});
