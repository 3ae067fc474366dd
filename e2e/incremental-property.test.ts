/**
 * Issue 12 §8: incremental reads carry every commit op, drops included. Property: applying the
 * increments of consecutive windows [b0, b1), [b1, b2), ... to the state at b0 gives the state at
 * every later boundary, for random sequences of upserts/appends (Merge/AppendCommit), compactions
 * (CompactionCommit), deletes and overwrites (UpdateCommit) and partition drops (DeleteCommit), on
 * PK and non-PK tables, PGlite + local disk and PostgreSQL + S3. A consumer applies an increment
 * by replacing the partitions the plan lists in `resetPartitions` and adding (PK: upserting) the rest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int64, Schema, Utf8 } from 'apache-arrow';
import type { LakeSoulTable } from '@lakesoul-ts/io';
import { openTestLakehouse, prng, rowsOf, type CatalogKind, type StorageKind, type TestLakehouse } from './io-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PARTS = ['a', 'b', 'c'];

interface Row { id: number; p: string; v: string }
/** A consumer's state: rows by key (PK tables: `p/id`; others: a unique counter). */
type State = Map<string, Row>;

function keyed(rows: Row[], pk: boolean, into: State = new Map()): State {
  for (const r of rows) into.set(pk ? `${r.p}/${r.id}` : `${r.p}/${r.id}/${r.v}/${into.size}`, r);
  return into;
}

/** Comparable form of a state: sorted row texts (non-PK multisets compare by content). */
const canon = (s: State) => [...s.values()].map((r) => `${r.p}/${r.id}=${r.v}`).sort();

async function stateAt(t: LakeSoulTable, ts: number, pk: boolean): Promise<State> {
  return keyed(rowsOf(await t.toArrow({ timestamp: ts })) as unknown as Row[], pk);
}

/** Applies the increment [start, end) to `state` as a consumer would; returns what the plan said. */
async function applyIncrement(t: LakeSoulTable, state: State, start: number, end: number, pk: boolean): Promise<string[]> {
  const plan = await t.scan({ incremental: { start, end } });
  const resets = plan.toJSON().resetPartitions ?? [];
  const rows: Row[] = [];
  for await (const b of plan.read()) rows.push(...(rowsOf(b) as unknown as Row[]));
  for (const [k, r] of state) if (resets.includes(`p=${r.p}`)) state.delete(k);
  if (pk) keyed(rows, true, state);
  else for (const r of rows) state.set(`${r.p}/${r.id}/${r.v}/${state.size}/${Math.random()}`, r);
  return resets;
}

type Op = 'write' | 'compact' | 'delete' | 'drop' | 'overwrite';
const OPS: Op[] = ['write', 'write', 'compact', 'delete', 'drop', 'overwrite'];
const PREFIX: Op[] = ['write', 'compact', 'delete', 'drop', 'write', 'overwrite', 'drop', 'delete', 'compact', 'overwrite'];

async function runOp(t: LakeSoulTable, op: Op, rnd: () => number, step: number, pk: boolean): Promise<void> {
  const part = PARTS[Math.floor(rnd() * PARTS.length)];
  const rows = (n: number, p?: string) => Array.from({ length: n }, () => ({ id: Math.floor(rnd() * 12), p: p ?? PARTS[Math.floor(rnd() * PARTS.length)], v: `s${step}` }));
  switch (op) {
    case 'write': await t.write(rows(1 + Math.floor(rnd() * 5)).map((r) => ({ ...r, id: BigInt(r.id) }))); break;
    case 'compact': await t.compact(); break;
    case 'delete': {
      const id = Math.floor(rnd() * 12);
      if (pk) await t.deleteByKeys([{ id: BigInt(id), p: part }]);
      else await t.deleteWhere(`id = ${id}`);
      break;
    }
    case 'drop': await t.dropPartitions({ p: part }); break;
    case 'overwrite': await t.write(rows(1 + Math.floor(rnd() * 3), part).map((r) => ({ ...r, id: BigInt(r.id) })), { mode: 'overwrite', replacePartitions: { p: part } }); break;
  }
}

const ENVS: [CatalogKind, StorageKind][] = [['pglite', 'local'], ['pg', 's3']];

describe.each(ENVS)('incremental reads compose on %s + %s', (catalogKind, storage) => {
  let env: TestLakehouse;
  beforeAll(async () => { env = await openTestLakehouse(catalogKind, storage); });
  afterAll(async () => { await env?.close(); });

  it('the issue\'s case: write id 2, drop the partition, write id 3: the increment brings back only 3', async () => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field('p', new Utf8(), false)]);
    const t = await env.lh.createTable('inc_issue', schema, { rangePartitions: ['p'] });
    await t.write([{ id: 1n, p: 'x' }]);
    await sleep(4);
    const start = Date.now();
    await sleep(4);
    await t.write([{ id: 2n, p: 'x' }]);
    await t.dropPartitions({ p: 'x' });
    await t.write([{ id: 3n, p: 'x' }]);
    await sleep(4);
    const plan = await t.scan({ incremental: { start, end: Date.now() } });
    expect(plan.toJSON().resetPartitions).toEqual(['p=x']);
    expect(rowsOf(await t.toArrow({ incremental: { start, end: Date.now() } }))).toEqual([{ id: 3, p: 'x' }]);
  });

  for (const pk of [true, false]) {
    for (const seed of [11, 29]) {
      it(`${pk ? 'PK' : 'non-PK'} table, seed ${seed}: consecutive increments rebuild every later state`, async () => {
        const rnd = prng(seed);
        const schema = new Schema([new Field('id', new Int64(), false), new Field('p', new Utf8(), false), new Field('v', new Utf8(), true)]);
        const t = await env.lh.createTable(`inc_${pk ? 'pk' : 'np'}_${seed}`, schema, { rangePartitions: ['p'], ...(pk ? { primaryKeys: ['id'], hashBucketNum: 2 } : {}) });
        await t.write([0, 1, 2, 3].map((i) => ({ id: BigInt(i), p: PARTS[i % 3], v: 's0' })));
        await sleep(4);
        const boundaries = [Date.now()];
        const ops: Op[] = [];
        for (let step = 1; step <= 14; step++) {
          // every op at least twice, then at random
          const op = step <= PREFIX.length ? PREFIX[step - 1] : OPS[Math.floor(rnd() * OPS.length)];
          await sleep(4);
          await runOp(t, op, rnd, step, pk);
          ops.push(op);
          await sleep(4);
          boundaries.push(Date.now());
        }
        const history = await t.history();
        for (const op of ['MergeCommit', 'AppendCommit', 'CompactionCommit', 'UpdateCommit', 'DeleteCommit'] as const) {
          if (op === (pk ? 'AppendCommit' : 'MergeCommit')) continue;
          expect(history.some((h) => h.commitOp === op), `${op} in ${ops.join(',')}`).toBe(true);
        }
        const state = await stateAt(t, boundaries[0], pk);
        expect(state.size).toBeGreaterThan(0);
        let sawReset = false;
        for (let i = 1; i < boundaries.length; i++) {
          const resets = await applyIncrement(t, state, boundaries[i - 1], boundaries[i], pk);
          if (resets.length > 0) sawReset = true;
          expect(canon(state), `after window ${i} (${ops[i - 1]})`).toEqual(canon(await stateAt(t, boundaries[i], pk)));
        }
        expect(sawReset).toBe(true);
        // one window over everything composes the same way
        const once = await stateAt(t, boundaries[0], pk);
        await applyIncrement(t, once, boundaries[0], boundaries.at(-1)!, pk);
        expect(canon(once)).toEqual(canon(await stateAt(t, boundaries.at(-1)!, pk)));
      }, 120_000);
    }
  }
});
