// A plan's JSON (Flight tickets, DoGet workers, tfjs workers) keeps every filter literal: JSON turned
// the Date of a DATE/TIMESTAMP literal into its ISO text, so `s = DATE '2024-01-01'` on a text column
// matched that text over Flight (a read in process refuses it) and `ds IN (DATE '2024-01-01', ...)` on
// a date column missed the row; `1e400` became null, so `score < 1e400` matched nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateDay, Field, Float64, Int64, Schema, Utf8 } from 'apache-arrow';
import { Lakehouse } from './lakehouse.js';
import { scanPlanFromJSON } from './scan-plan.js';
import type { LakeSoulTable } from './lakesoul-table.js';
import type { ScanPlan } from '../types.js';

let dir: string;
let lh: Lakehouse;
let t: LakeSoulTable;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lakesoul-plan-json-'));
  lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(dir).href });
  const schema = new Schema([new Field('id', new Int64(), false), new Field('s', new Utf8(), true), new Field('d', new DateDay(), true), new Field('score', new Float64(), true)]);
  t = await lh.createTable('j', schema);
  await t.write([
    { id: 1n, s: '2024-01-01T00:00:00.000Z', d: '2024-01-01', score: 0.5 },
    { id: 2n, s: 'x', d: '2024-01-02', score: Infinity },
    { id: 3n, s: 'y', d: null, score: -1 },
  ]);
});

afterAll(async () => {
  await lh?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The ids a plan reads. */
async function ids(plan: ScanPlan): Promise<number[]> {
  const out: number[] = [];
  for await (const b of plan.read()) for (let i = 0; i < b.numRows; i++) out.push(Number(b.getChild('id')!.get(i)));
  return out.sort((a, b) => a - b);
}

/** The plan as another process rebuilds it from its JSON text. */
const remote = (plan: ScanPlan) => scanPlanFromJSON(JSON.parse(JSON.stringify(plan.toJSON())), lh.stores);

describe('a plan rebuilt from its JSON', () => {
  it.each([
    ["d = DATE '2024-01-01'", [1]],
    ["d IN (DATE '2024-01-01', DATE '2024-01-02')", [1, 2]],
    ["d > TIMESTAMP '2024-01-01T12:00:00Z'", [2]],
    ['score < 1e400', [1, 3]],
    ['score > -1e400', [1, 2, 3]],
    ['score <> 1e400', [1, 3]],
    ['score NOT IN (1e400)', [1, 3]],
    ['id < 9007199254740993', [1, 2, 3]],
  ] as const)('reads what the plan reads: %s', async (filter, expected) => {
    const plan = await t.scan({ filter });
    expect(await ids(plan)).toEqual(expected);
    expect(await ids(remote(plan))).toEqual(expected);
    // and again through a plan that read its row counts
    expect(await ids(remote(await plan.withRowCounts()))).toEqual(expected);
  });

  it('keeps filter: null for an unfiltered plan (the tfjs loader counts rows exactly only then)', async () => {
    const json = (await t.scan()).toJSON();
    expect(json.filter).toBeNull();
    expect('filter' in JSON.parse(JSON.stringify(json))).toBe(true);
  });

  it('refuses a DATE literal against a text column as the plan does', async () => {
    // refused when planned (before any row is read), and by a plan rebuilt from JSON that holds it
    await expect(t.scan({ filter: "s = DATE '2024-01-01'" })).rejects.toThrow(/column 's'/);
    const json = JSON.stringify((await t.scan({ filter: "d = DATE '2024-01-01'" })).toJSON());
    expect(json).toContain('"column":"d"');
    const onText = scanPlanFromJSON(JSON.parse(json.replace('"column":"d"', '"column":"s"')), lh.stores);
    await expect(ids(onText)).rejects.toThrow(/column 's'/);
  });
});
