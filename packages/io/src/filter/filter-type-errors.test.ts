// A filter that parses but compares values of types that do not compare is FILTER_INVALID
// (docs/errors.md), kind InvalidArgument: it was INVALID_ARGUMENT, the kind's own code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { Lakehouse } from '../table/lakehouse.js';
import type { LakeSoulTable } from '../table/lakesoul-table.js';

let dir: string;
let lake: Lakehouse;
let t: LakeSoulTable;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'filter-type-errors-'));
  lake = await Lakehouse.open({ catalog: { dataDir: ':memory:', env: {} }, warehouse: pathToFileURL(join(dir, 'warehouse')).href });
  t = await lake.createTable('t', [{ id: 1, kind: 'a', score: 0.5, at: new Date('2024-01-01T00:00:00Z') }, { id: 2, kind: 'b', score: 1.5, at: new Date('2024-01-02T00:00:00Z') }], { primaryKeys: ['id'] });
});
afterAll(async () => {
  await lake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('filters whose types do not compare', () => {
  it.each([
    "score > 'abc'",
    'kind < score',
    'kind IN (1, 2)',
    "score LIKE 'a%'",
    "score BETWEEN 'a' AND 'b'",
    "at > 'not a time'",
    'score = 9007199254740992.5',
  ])('%s is FILTER_INVALID', async (filter) => {
    const e = await t.toArrow({ filter }).then(() => null, (err: unknown) => err);
    expect(e, filter).toBeInstanceOf(LakeSoulError);
    expect((e as LakeSoulError).kind).toBe('InvalidArgument');
    expect((e as LakeSoulError).code).toBe('FILTER_INVALID');
  });

  it('a filter that compares is still answered', async () => {
    expect((await t.toArrow({ filter: "score > 1 AND kind = 'b'" })).numRows).toBe(1);
  });
});
