import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Float64, Int64, Schema, Utf8, type RecordBatch } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { Lakehouse } from './lakehouse.js';
import { scanPlanFromJSON } from './scan-plan.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nullable = (s: Schema) => Object.fromEntries(s.fields.map((f) => [f.name, f.nullable]));

/** The code and message of what `p` rejects with. */
async function refusal(p: Promise<unknown>): Promise<{ kind: string; code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof LakeSoulError)) throw e;
    return { kind: e.kind, code: e.code, message: e.message };
  }
  throw new Error('expected a refusal');
}

// Edges of incremental reads a streaming consumer meets (hunt of incremental reads under churn).
describe('incremental reads: schema, bounds and input checks', () => {
  let lh: Lakehouse;
  beforeAll(async () => {
    lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(mkdtempSync(join(tmpdir(), 'lakesoul-inc-edges-'))).href });
  });
  afterAll(() => lh.close());

  it('an incremental read of a CDC table declares its value columns nullable (delete markers hold nulls there); key, range and CDC columns keep theirs', async () => {
    const t = await lh.createTable('nn', new Schema([
      new Field('id', new Int64(), false), new Field('p', new Utf8(), false), new Field('n', new Float64(), false), new Field('rowKinds', new Utf8(), false),
    ]), { primaryKeys: ['id'], rangePartitions: ['p'], hashBucketNum: 1, cdcColumn: 'rowKinds' });
    await t.write([{ id: 1n, p: 'a', n: 1.5, rowKinds: 'insert' }, { id: 2n, p: 'a', n: 2.5, rowKinds: 'insert' }]);
    await sleep(5);
    const start = Date.now();
    await sleep(5);
    await t.deleteByKeys([{ id: 1n, p: 'a' }]);
    await sleep(5);
    const end = Date.now();
    const plan = await t.scan({ incremental: { start, end } });
    const want = { id: false, p: false, n: true, rowKinds: false };
    expect(nullable(plan.schema)).toEqual(want);
    const batches: RecordBatch[] = [];
    for await (const b of plan.read()) batches.push(b);
    expect(batches.map((b) => [nullable(b.schema), b.getChild('n')!.nullCount])).toEqual([[want, 1]]);
    // a plan rebuilt from its JSON (a Flight ticket, another process) says the same
    expect(nullable(scanPlanFromJSON(plan.toJSON(), t.stores).schema)).toEqual(want);
    // reads without delete markers keep the table's schema
    expect(nullable((await t.scan()).schema)).toEqual({ id: false, p: false, n: false, rowKinds: false });
    expect(nullable((await t.scan({ timestamp: end })).schema).n).toBe(false);
  });

  it('an incremental end later than now is refused, saying the commits until then would be missed', async () => {
    const t = await lh.createTable('fut', new Schema([new Field('id', new Int64(), false)]), { primaryKeys: ['id'], hashBucketNum: 1 });
    await t.write([{ id: 1n }]);
    const r = await refusal(t.scan({ incremental: { start: 0, end: Date.now() + 1500 } }));
    expect(r).toMatchObject({ kind: 'InvalidArgument', code: 'INCREMENTAL_END_IN_FUTURE' });
    expect(r.message).toMatch(/incremental\.end of table 'default\.fut'.*later than now.*would be missed/);
    expect((await refusal(t.toArrow({ incremental: { start: 0, end: new Date(Date.now() + 60_000) } }))).code).toBe('INCREMENTAL_END_IN_FUTURE');
    // a fraction of a millisecond past now rounds up past it
    const now = Date.now();
    expect((await refusal(t.scan({ incremental: { start: 0, end: now + 0.5 + 5 } }))).code).toBe('INCREMENTAL_END_IN_FUTURE');
    // now and earlier are read
    expect((await t.toArrow({ incremental: { start: 0, end: Date.now() } })).numRows).toBe(1);
  });

  it('an incremental option that is not { start, end } is refused, not read as a snapshot', async () => {
    const t = await lh.createTable('opt', new Schema([new Field('id', new Int64(), false)]), { primaryKeys: ['id'], hashBucketNum: 1 });
    await t.write([{ id: 1n }]);
    const end = Date.now();
    for (const inc of [null, false, 0, 'x', [0, end]]) {
      const r = await refusal(t.scan({ incremental: inc as never }));
      expect(r.kind).toBe('InvalidArgument');
      expect(r.message).toMatch(/scan incremental of table 'default\.opt': expected \{ start, end \}/);
    }
    const typo = await refusal(t.scan({ incremental: { start: 0, end, strat: 5 } as never }));
    expect(typo).toMatchObject({ code: 'UNKNOWN_OPTION' });
    expect(typo.message).toMatch(/unknown option 'strat' \(did you mean 'start'\?\)/);
    const big = await refusal(t.scan({ incremental: { start: 0n, end: BigInt(end) } as never }));
    expect(big.message).toMatch(/incremental\.start .*got the bigint 0n/);
    // a reversed range says so, with its times readable (it gave two epoch numbers and no reason)
    const reversed = await refusal(t.scan({ incremental: { start: end, end: end - 86_400_000 } }));
    expect(reversed.message).toContain(`invalid incremental range [${end} (${new Date(end).toISOString()}), ${end - 86_400_000} (${new Date(end - 86_400_000).toISOString()})): its start is after its end`);
  });

  it('a file cleanup removed under an incremental start: the error says to resync from a snapshot, not to plan again', async () => {
    const t = await lh.createTable('gone', new Schema([new Field('id', new Int64(), false), new Field('v', new Utf8(), true)]), { primaryKeys: ['id'], hashBucketNum: 1 });
    await t.write([{ id: 1n, v: 'x1' }]);
    await sleep(5);
    const pos = Date.now();
    await sleep(5);
    await t.write([{ id: 2n, v: 'x2' }]);
    await sleep(5);
    await t.compact();
    await sleep(5);
    await t.write([{ id: 3n, v: 'x3' }]);
    await sleep(5);
    await t.cleanup({ retainSince: Date.now(), dryRun: false, orphanSafetyWindowMs: 0, assumeNoWritesInFlight: true });
    const r = await refusal(t.toArrow({ incremental: { start: pos, end: Date.now() } }));
    expect(r.code).toBe('OBJECT_NOT_FOUND');
    expect(r.message).toMatch(/incremental read's start is older than what cleanup\(\) kept/);
    expect(r.message).toMatch(/resync the consumer from a snapshot read/);
    expect(r.message).not.toMatch(/plan the read again/);
  });
});
