import { describe, expect, it, vi } from 'vitest';
import { Field, Float64, Int32, Int64, RecordBatch, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import type { MergeOperator } from '../types.js';
import { mergeSortedSources, type MergeSource } from './index.js';
import { plainRows, seededRandom } from '../arrow/sample-tables.js';
import { iter, toBatches } from './merge-test-batches.js';

// counts the rows the merge copies by joining a source's remaining rows with its next batch
const joined = vi.hoisted(() => ({ rows: 0, calls: 0 }));
vi.mock('../arrow/take-rows.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../arrow/take-rows.js')>();
  return {
    ...orig,
    concatBatches: (batches: readonly RecordBatch[], schema?: Schema) => {
      joined.calls++;
      for (const b of batches) joined.rows += b.numRows;
      return orig.concatBatches(batches, schema);
    },
  };
});

type Row = Record<string, any>;

const FIELDS = [
  new Field('k', new Int64(), false),
  new Field('v_i64', new Int64(), true),
  new Field('v_f64', new Float64(), true),
  new Field('v_s', new Utf8(), true),
  // a CDC marker column: the merge treats it as any column (the scan drops 'delete' winners after it)
  new Field('op', new Utf8(), true),
];

interface Src {
  rows: Row[];
  existCols: string[];
  batchSizes: number[];
}

async function merge(sources: Src[], outFields: Field[], ops: Record<string, MergeOperator>, batchSize = 64): Promise<unknown[][]> {
  const out: unknown[][] = [];
  const merged = mergeSortedSources(
    sources.map((s): MergeSource => ({
      batches: iter(toBatches(s.rows, FIELDS.filter((f) => s.existCols.includes(f.name)), s.batchSizes)),
      existCols: s.existCols,
    })),
    { primaryKeys: ['k'], outputSchema: new Schema(outFields), mergeOperators: ops, batchSize },
  );
  for await (const b of merged) out.push(...plainRows(b));
  return out;
}

/** The documented semantics (docs/merge-on-read.md), row by row: sources oldest first, rows in arrival order. */
function reference(sources: Src[], outFields: Field[], ops: Record<string, MergeOperator>): unknown[][] {
  const keys = [...new Set(sources.flatMap((s) => s.rows.map((r) => r.k as bigint)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return keys.map((k) =>
    outFields.map((f) => {
      const op = ops[f.name] ?? 'UseLast';
      const per = sources.filter((s) => s.existCols.includes(f.name)).map((s) => s.rows.filter((r) => r.k === k).map((r) => r[f.name])).filter((v) => v.length > 0);
      const all = per.flat();
      const last = per.map((v) => v[v.length - 1]);
      if (all.length === 0) return null;
      switch (op) {
        case 'UseLast':
          return all[all.length - 1];
        case 'UseLastNotNull':
          return [...all].reverse().find((v) => v !== null) ?? null;
        case 'SumAll':
        case 'SumLast': {
          const vals = op === 'SumAll' ? all : last;
          return vals.some((v) => v === null) ? null : vals.reduce((a, b) => a + b);
        }
        default: {
          const vals = op.startsWith('JoinedAll') ? all : last;
          return vals.some((v) => v === null) ? null : vals.join(op.endsWith('Comma') ? ',' : ';');
        }
      }
    }),
  );
}

/** Batch sizes for `n` rows: mostly `size`, some of 1-3 rows. */
function sizes(rnd: () => number, n: number, size: number): number[] {
  const out: number[] = [];
  for (let left = n; left > 0; ) {
    const b = Math.min(left, rnd() < 0.3 ? 1 + Math.floor(rnd() * 3) : size);
    out.push(b);
    left -= b;
  }
  return out;
}

/**
 * A source whose key `hot` repeats `run` times (spanning many batches), between a few other keys.
 * `nulls`: the chance of a null value.
 */
function hotSource(rnd: () => number, hot: bigint, run: number, existCols: string[], batch: number, nulls: number, lastOp: string): Src {
  const rows: Row[] = [];
  const row = (k: bigint, i: number): Row => ({
    k,
    v_i64: rnd() < nulls ? null : BigInt(Math.floor(rnd() * 100)),
    v_f64: rnd() < nulls ? null : Math.floor(rnd() * 64) / 4,
    v_s: rnd() < nulls ? null : `s${i}`,
    op: i % 3 === 0 ? 'update' : 'insert',
  });
  for (let k = 0n; k < hot; k++) if (rnd() < 0.6) rows.push(row(k, -1));
  for (let i = 0; i < run; i++) rows.push(row(hot, i));
  rows[rows.length - 1].op = lastOp;
  for (let k = hot + 1n; k < hot + 6n; k++) if (rnd() < 0.6) rows.push(row(k, -1));
  return { rows, existCols, batchSizes: sizes(rnd, rows.length, batch) };
}

const OPS: Record<string, MergeOperator>[] = [
  {},
  { v_i64: 'SumAll', v_s: 'JoinedAllByComma', v_f64: 'UseLastNotNull' },
  { v_i64: 'SumLast', v_s: 'JoinedLastBySemicolon', v_f64: 'SumAll' },
  { v_s: 'UseLastNotNull', v_i64: 'UseLastNotNull', op: 'UseLast' },
  { v_s: 'JoinedAllBySemicolon', v_f64: 'SumLast' },
];

describe('merge-on-read of a key repeated across many batches of a source', () => {
  it('keeps the documented winners: every operator, partial columns, CDC markers, nulls, several sources', async () => {
    const rnd = seededRandom(9001);
    for (let trial = 0; trial < 40; trial++) {
      const ops = OPS[trial % OPS.length];
      const nulls = trial % 4 === 3 ? 0.02 : 0; // some trials: a null makes the sums and joins null
      const all = FIELDS.map((f) => f.name);
      const partial = ['k', 'v_i64', 'op'];
      const sources: Src[] = [
        hotSource(rnd, 5n, 1 + Math.floor(rnd() * 40), all, 4, nulls, 'insert'),
        hotSource(rnd, 5n, 200 + Math.floor(rnd() * 300), trial % 2 === 0 ? partial : all, 1 + Math.floor(rnd() * 9), nulls, 'update'),
        hotSource(rnd, 5n, 1 + Math.floor(rnd() * 150), all, 1 + Math.floor(rnd() * 5), nulls, trial % 3 === 0 ? 'delete' : 'update'),
      ].slice(0, 1 + (trial % 3));
      if (trial % 5 === 4) sources.push({ rows: [], existCols: ['k', 'v_s'], batchSizes: [] }); // a source without rows
      const outFields = trial % 2 === 0 ? FIELDS : FIELDS.slice(1);
      const batchSize = 1 + Math.floor(rnd() * 50);
      expect(await merge(sources, outFields, ops, batchSize), `trial ${trial} ops=${JSON.stringify(ops)}`).toEqual(reference(sources, outFields, ops));
    }
  });

  it('keeps the newest CDC marker of a long run: a delete as its last row wins, an insert after a delete wins', async () => {
    const run = (k: bigint, n: number, last: string): Row[] => Array.from({ length: n }, (_, i) => ({ k, v_i64: BigInt(i), v_f64: i, v_s: `r${i}`, op: i === n - 1 ? last : i % 2 ? 'delete' : 'insert' }));
    const src: Src = { rows: [...run(1n, 1000, 'delete'), ...run(2n, 1000, 'insert')], existCols: FIELDS.map((f) => f.name), batchSizes: Array(200).fill(10) };
    expect(await merge([src], FIELDS, {})).toEqual([
      [1n, 999n, 999, 'r999', 'delete'],
      [2n, 999n, 999, 'r999', 'insert'],
    ]);
  });

  it('leaves a run behind without copying it: the work is linear in the run, not quadratic in its batches', async () => {
    // one key, 20,000 rows in 2,000 batches of 10: joining the remaining rows with each next batch,
    // as before, copied 10 + 20 + ... + 20,000 rows (about 20 million)
    const n = 20_000;
    const rows: Row[] = Array.from({ length: n }, (_, i) => ({ k: 7, v: i }));
    const schema = new Schema([new Field('k', new Int32(), false), new Field('v', new Int32(), true)]);
    const batches = toBatches(rows, schema.fields, Array(n / 10).fill(10));
    for (const ops of [{}, { v: 'SumAll' }, { v: 'SumLast' }] as Record<string, MergeOperator>[]) {
      joined.rows = joined.calls = 0;
      const out: unknown[][] = [];
      for await (const b of mergeSortedSources([{ batches: iter(batches), existCols: ['k', 'v'] }], { primaryKeys: ['k'], outputSchema: schema, mergeOperators: ops })) {
        out.push(...plainRows(b));
      }
      const sum = ((n - 1) * n) / 2;
      expect(out).toEqual([[7, ops.v === 'SumAll' ? sum | 0 : n - 1]]);
      expect(joined.rows, JSON.stringify(ops)).toBe(0);
    }
  });

  it('still joins remaining rows of several keys with the next batch (rows of a source out of order are not dropped)', async () => {
    // keys 3, 1, 3 then 3: the remaining rows are not one run (the source is not sorted), so they
    // are joined with the next batch as before instead of being left behind as one key's rows
    const schema = new Schema([new Field('k', new Int32(), false)]);
    const batches = toBatches([{ k: 3 }, { k: 1 }, { k: 3 }, { k: 3 }], schema.fields, [3, 1]);
    joined.rows = joined.calls = 0;
    const run = async () => {
      const out: unknown[][] = [];
      for await (const b of mergeSortedSources([{ batches: iter(batches), existCols: ['k'] }], { primaryKeys: ['k'], outputSchema: schema })) out.push(...plainRows(b));
      return out;
    };
    expect(await run()).toEqual([[3], [1], [3]]);
    expect(joined.calls).toBeGreaterThan(0);
  });
});
