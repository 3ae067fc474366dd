import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { existsSync } from 'node:fs';
import { Field, Float64, Int32, Int64, List, RecordBatch, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import type { MergeOperator } from '../types.js';
import { concatSources, mergeSortedSources, type MergeSource } from './index.js';
import { plainRows, seededRandom } from '../arrow/sample-tables.js';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { nativeParquet } from '../parquet/parquet-native.js';
import { NATIVE_PARQUET_ADDON, PARQUET_CODEC_ENV } from '../native/native-addon.js';
import { iter, toBatches } from './merge-test-batches.js';

type Row = Record<string, any>;
const enc = new TextEncoder();

const VALUE_FIELDS = [
  new Field('v_i64', new Int64(), true),
  new Field('v_f64', new Float64(), true),
  new Field('v_s', new Utf8(), true),
  new Field('v_l', new List(new Field('item', new Int32(), true)), true),
];

interface KeySpec {
  fields: Field[];
  gen: (rnd: () => number) => any[];
}

const KEY_SPECS: Record<string, KeySpec> = {
  int32: { fields: [new Field('k', new Int32(), false)], gen: (r) => [Math.floor(r() * 60) - 30] },
  utf8: { fields: [new Field('k', new Utf8(), false)], gen: (r) => [['a', 'b', 'ab', 'é', 'Z', '', 'ü1', 'zz', 'x'][Math.floor(r() * 9)] + String(Math.floor(r() * 6))] },
  // infinities are keys like any other (+Infinity as a source's last key hung the merge)
  float64: { fields: [new Field('k', new Float64(), false)], gen: (r) => [[-Infinity, -1.5, 0, 2.25, 1e300, Infinity, Infinity][Math.floor(r() * 7)]] },
  composite: {
    fields: [new Field('k1', new Int64(), false), new Field('k2', new Utf8(), true)],
    gen: (r) => [BigInt(Math.floor(r() * 8)) * (r() < 0.5 ? 1n : 10n ** 15n), r() < 0.15 ? null : `s${Math.floor(r() * 4)}`],
  },
};

function cmpVal(a: any, b: any): number {
  if (a === null || b === null) return (a === null ? 0 : 1) - (b === null ? 0 : 1);
  if (typeof a === 'string') return Buffer.compare(enc.encode(a), enc.encode(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

function keyCmp(spec: KeySpec, a: Row, b: Row): number {
  for (const f of spec.fields) {
    const r = cmpVal(a[f.name], b[f.name]);
    if (r !== 0) return r;
  }
  return 0;
}

function randomSources(rnd: () => number, spec: KeySpec, k: number, full = false) {
  const src: { rows: Row[]; existCols: string[]; batchSizes: number[] }[] = [];
  for (let s = 0; s < k; s++) {
    const n = Math.floor(rnd() * (rnd() < 0.3 ? 5 : 120));
    const existCols = [...spec.fields.map((f) => f.name), ...VALUE_FIELDS.filter(() => full || rnd() < 0.7).map((f) => f.name)];
    const rows: Row[] = [];
    for (let i = 0; i < n; i++) {
      const key = spec.gen(rnd);
      const row: Row = {};
      spec.fields.forEach((f, j) => (row[f.name] = key[j]));
      row.v_i64 = rnd() < 0.1 ? null : BigInt(Math.floor(rnd() * 1000) - 500);
      row.v_f64 = rnd() < 0.1 ? null : Math.floor(rnd() * 100) / 4;
      row.v_s = rnd() < 0.1 ? null : `t${Math.floor(rnd() * 50)}`;
      row.v_l = rnd() < 0.1 ? null : Array.from({ length: Math.floor(rnd() * 3) }, () => Math.floor(rnd() * 9));
      row.__seq = i;
      rows.push(row);
    }
    rows.sort((a, b) => keyCmp(spec, a, b) || a.__seq - b.__seq); // stable: arrival order kept
    const batchSizes: number[] = [];
    let left = n;
    while (left > 0) {
      const b = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 3 : 60));
      batchSizes.push(Math.min(b, left));
      left -= b;
    }
    src.push({ rows, existCols, batchSizes });
  }
  return src;
}

/** Naive reference: group rows by key over all sources, apply the documented semantics. */
function reference(spec: KeySpec, sources: ReturnType<typeof randomSources>, outFields: Field[], ops: Record<string, MergeOperator>): unknown[][] {
  const all: { s: number; row: Row }[] = [];
  sources.forEach((src, s) => src.rows.forEach((row) => all.push({ s, row })));
  const groups: { s: number; row: Row }[][] = [];
  const sorted = [...all].sort((a, b) => keyCmp(spec, a.row, b.row) || a.s - b.s || a.row.__seq - b.row.__seq);
  for (const e of sorted) {
    const g = groups[groups.length - 1];
    if (g && keyCmp(spec, g[0].row, e.row) === 0) g.push(e);
    else groups.push([e]);
  }
  return groups.map((g) =>
    outFields.map((f) => {
      const op = ops[f.name] ?? 'UseLast';
      const having = g.filter((e) => sources[e.s].existCols.includes(f.name));
      if (having.length === 0) return null;
      const bySource = new Map<number, Row[]>();
      for (const e of having) bySource.set(e.s, [...(bySource.get(e.s) ?? []), e.row]);
      const lastPer = [...bySource.values()].map((rs) => rs[rs.length - 1][f.name]);
      const allVals = having.map((e) => e.row[f.name]);
      const norm = (v: any) => (f.name === 'v_l' && v !== null ? [...v] : v);
      switch (op) {
        case 'UseLast':
          return norm(having[having.length - 1].row[f.name]);
        case 'UseLastNotNull': {
          for (let i = having.length - 1; i >= 0; i--) if (having[i].row[f.name] !== null) return norm(having[i].row[f.name]);
          return null;
        }
        case 'SumAll':
        case 'SumLast': {
          const vals = op === 'SumAll' ? allVals : lastPer;
          if (vals.some((v) => v === null)) return null;
          return vals.reduce((a, b) => a + b);
        }
        default: {
          const vals = op.startsWith('JoinedAll') ? allVals : lastPer;
          if (vals.some((v) => v === null)) return null;
          return vals.join(op.endsWith('Comma') ? ',' : ';');
        }
      }
    }),
  );
}

async function collect(it: AsyncIterable<RecordBatch>): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe('mergeSortedSources vs a naive reference', () => {
  const opSets: Record<string, MergeOperator>[] = [
    {},
    { v_i64: 'UseLastNotNull', v_s: 'UseLastNotNull', v_l: 'UseLastNotNull' },
    { v_i64: 'SumAll', v_f64: 'SumLast', v_s: 'JoinedAllByComma' },
    { v_i64: 'SumLast', v_f64: 'SumAll', v_s: 'JoinedLastBySemicolon' },
    { v_s: 'JoinedLastByComma', v_f64: 'UseLastNotNull' },
    { v_s: 'JoinedAllBySemicolon', v_i64: 'SumAll' },
  ];
  for (const [specName, spec] of Object.entries(KEY_SPECS)) {
    it(`random sources, key ${specName}: every operator, partial columns, duplicates, batch boundaries`, async () => {
      const rnd = seededRandom(specName.length * 1000 + 17);
      for (let trial = 0; trial < 60; trial++) {
        const k = 1 + Math.floor(rnd() * 6);
        const sources = randomSources(rnd, spec, k, trial % 3 === 0); // every third trial: full-row upserts
        const ops = opSets[Math.floor(trial / 3) % opSets.length];
        const withPk = rnd() < 0.5;
        const outFields = [...(withPk ? spec.fields : []), ...VALUE_FIELDS.filter(() => rnd() < 0.85)];
        const batchSize = 1 + Math.floor(rnd() * 40);
        const merged = await collect(
          mergeSortedSources(
            sources.map((s): MergeSource => ({
              batches: iter(toBatches(s.rows, [...spec.fields, ...VALUE_FIELDS].filter((f) => s.existCols.includes(f.name)), s.batchSizes)),
              existCols: s.existCols,
            })),
            { primaryKeys: spec.fields.map((f) => f.name), outputSchema: new Schema(outFields), mergeOperators: ops, batchSize },
          ),
        );
        const got = merged.flatMap((b) => plainRows(b));
        const want = reference(spec, sources, outFields, ops);
        expect(got, `trial ${trial} k=${k} ops=${JSON.stringify(ops)}`).toEqual(want);
        for (const b of merged.slice(0, -1)) expect(b.numRows).toBeLessThanOrEqual(batchSize);
        for (const b of merged) expect(b.schema.fields.map((f) => f.name)).toEqual(outFields.map((f) => f.name));
      }
    });
  }

  // the native addon sorts rounds of Float64 keys (int64 here) and merges rounds of string keys and of
  // keys of several columns when it is built; the radix sort in JavaScript does without it (and for
  // int32 keys either way), and the others then go through the heap
  const sorts = existsSync(NATIVE_PARQUET_ADDON) ? (['native', 'wasm'] as const) : (['wasm'] as const);
  it.each(sorts)('large rounds of integer, string and several-column keys (one sort or merge per round instead of the heap) pick the same winners (%s build)', async (codec) => {
    process.env[PARQUET_CODEC_ENV] = codec;
    // the native build must take the addon's paths, not fall back to the heap
    const native = codec === 'native' ? nativeParquet() : null;
    const used = native ? [vi.spyOn(native, 'sortedWinners'), vi.spyOn(native, 'sortedWinnersBytes'), vi.spyOn(native, 'sortedWinnersTuple')] : [];
    onTestFinished(() => {
      delete process.env[PARQUET_CODEC_ENV];
      for (const spy of used) spy.mockRestore();
    });
    const rnd = seededRandom(4242);
    const specs: [string, KeySpec][] = [
      ['int32', { fields: [new Field('k', new Int32(), false)], gen: (r) => [Math.floor(r() * 40000) - 20000] }],
      ['int64', { fields: [new Field('k', new Int64(), false)], gen: (r) => [BigInt(Math.floor(r() * 30000))] }],
      // keys beyond int32 in some rounds: those rounds go through the heap
      ['int64 wide', { fields: [new Field('k', new Int64(), false)], gen: (r) => [BigInt(Math.floor(r() * 3000)) * (r() < 0.02 ? 10n ** 12n : 1n)] }],
      // strings: the addon merges their bytes (native build), the heap compares them (wasm build);
      // shared prefixes, the empty prefix and multi-byte characters test the unsigned byte order
      ['utf8', { fields: [new Field('k', new Utf8(), false)], gen: (r) => [['', 'a', 'ab', 'é', 'Z', 'ü'][Math.floor(r() * 6)] + String(Math.floor(r() * 9000))] }],
      // keys of several columns: the addon compares them column by column (native build)
      ['int32 + utf8', { fields: [new Field('k1', new Int32(), false), new Field('k2', new Utf8(), false)], gen: (r) => [Math.floor(r() * 7) - 3, ['', 'a', 'ab', 'é'][Math.floor(r() * 4)] + String(Math.floor(r() * 3000))] }],
      ['float64 with infinities', { fields: [new Field('k', new Float64(), false)], gen: (r) => [r() < 0.01 ? Infinity : r() < 0.01 ? -Infinity : Math.floor(r() * 30000) / 8] }],
      ['int64 + float64 + utf8', { fields: [new Field('k1', new Int64(), false), new Field('k2', new Float64(), false), new Field('k3', new Utf8(), false)], gen: (r) => [BigInt(Math.floor(r() * 40)), [-0, 0, 1.5, -2][Math.floor(r() * 4)], String(Math.floor(r() * 200))] }],
    ];
    for (const [name, spec] of specs) {
      for (let trial = 0; trial < 4; trial++) {
        const k = 2 + Math.floor(rnd() * 5);
        const sources = Array.from({ length: k }, (_, s) => {
          const n = 1000 + Math.floor(rnd() * 7000);
          // odd trials: some sources carry keys only (deletes of nothing, updates without values), so a
          // key's winner is the last source that has the value columns, or none
          const keysOnly = trial % 2 === 1 && s > 0 && rnd() < 0.3;
          const existCols = [...spec.fields.map((f) => f.name), ...(keysOnly ? [] : VALUE_FIELDS.map((f) => f.name))];
          const rows: Row[] = Array.from({ length: n }, (_, i) => {
            const row: Row = { __seq: i };
            spec.fields.forEach((f, j) => (row[f.name] = spec.gen(rnd)[j]));
            row.v_i64 = rnd() < 0.1 ? null : BigInt(s * 100000 + i);
            row.v_f64 = i / 4;
            row.v_s = `s${s}-${i}`;
            row.v_l = [s, i];
            return row;
          });
          rows.sort((a, b) => keyCmp(spec, a, b) || a.__seq - b.__seq);
          const batchSizes: number[] = [];
          for (let left = n; left > 0; ) {
            const b = Math.min(left, 500 + Math.floor(rnd() * 6000));
            batchSizes.push(b);
            left -= b;
          }
          return { rows, existCols, batchSizes };
        });
        // one provider set for every output column (the sorted path's condition): key columns only
        // when every source has every column
        const outFields = trial % 2 === 1 ? [...VALUE_FIELDS] : [...spec.fields, ...VALUE_FIELDS];
        const merged = await collect(
          mergeSortedSources(
            sources.map((s): MergeSource => ({
              batches: iter(toBatches(s.rows, [...spec.fields, ...VALUE_FIELDS].filter((f) => s.existCols.includes(f.name)), s.batchSizes)),
              existCols: s.existCols,
            })),
            { primaryKeys: spec.fields.map((f) => f.name), outputSchema: new Schema(outFields), batchSize: 3000 },
          ),
        );
        expect(merged.flatMap((b) => plainRows(b)), `${name} trial ${trial} k=${k}`).toEqual(reference(spec, sources, outFields, {}));
      }
    }
    for (const spy of used) expect(spy).toHaveBeenCalled();
  });

  it('single source without duplicates passes batches through (zero-copy)', async () => {
    const t = new Table({ k: vectorFromArray([1, 2, 3, 4], new Int32()), v: vectorFromArray(['a', 'b', 'c', 'd'], new Utf8()) });
    const b = t.batches[0];
    const out = await collect(mergeSortedSources([{ batches: iter([b]), existCols: ['k', 'v'] }], {
      primaryKeys: ['k'], outputSchema: t.schema, batchSize: 100,
    }));
    expect(out).toHaveLength(1);
    expect(out[0].getChildAt(1)!.data[0].values).toBe(b.getChildAt(1)!.data[0].values);
  });

  it('an output batch whose rows are one run of a source batch is a slice of it (no copy); the rest are gathered', async () => {
    // a base of 20,000 keys and an upsert of its first 3,000, one batch each: one sorted round; the
    // upsert lacks `extra`, whose rows all come from the base (a second provider set)
    const base = new Table({
      k: vectorFromArray(Array.from({ length: 20_000 }, (_, i) => i), new Int32()),
      v: vectorFromArray(Array.from({ length: 20_000 }, (_, i) => `base-${i}`), new Utf8()),
      extra: vectorFromArray(Array.from({ length: 20_000 }, (_, i) => i / 2), new Float64()),
    }).batches[0];
    const upsert = new Table({
      k: vectorFromArray(Array.from({ length: 3_000 }, (_, i) => i), new Int32()),
      v: vectorFromArray(Array.from({ length: 3_000 }, (_, i) => `new-${i}`), new Utf8()),
    }).batches[0];
    const out = await collect(mergeSortedSources([
      { batches: iter([base]), existCols: ['k', 'v', 'extra'] },
      { batches: iter([upsert]), existCols: ['k', 'v'] },
    ], { primaryKeys: ['k'], outputSchema: base.schema, batchSize: 4096 }));
    expect(out.map((b) => b.numRows)).toEqual([4096, 4096, 4096, 4096, 3616]);
    expect(out.flatMap((b) => plainRows(b))).toEqual(Array.from({ length: 20_000 }, (_, i) => [i, i < 3_000 ? `new-${i}` : `base-${i}`, i / 2]));
    const shares = (b: RecordBatch, c: number) => b.getChildAt(c)!.data[0].values.buffer === base.getChildAt(c)!.data[0].values.buffer;
    // the first batch mixes both sources in `k` and `v`: gathered; `extra` is the base's rows 0..4095
    expect([shares(out[0], 0), shares(out[0], 1), shares(out[0], 2)]).toEqual([false, false, true]);
    for (const b of out.slice(1)) expect([shares(b, 0), shares(b, 1), shares(b, 2)]).toEqual([true, true, true]);
  });

  it('stops reading and returns the sources when the consumer stops early; honours abort', async () => {
    let returned = 0;
    const src = (): AsyncIterable<RecordBatch> => ({
      [Symbol.asyncIterator]() {
        let i = 0;
        return {
          async next() {
            i++;
            const t = new Table({ k: vectorFromArray([i * 2, i * 2 + 1], new Int32()) });
            return { done: false, value: t.batches[0] };
          },
          async return() {
            returned++;
            return { done: true, value: undefined };
          },
        };
      },
    });
    const schema = new Schema([new Field('k', new Int32(), false)]);
    let n = 0;
    for await (const _ of mergeSortedSources([{ batches: src(), existCols: ['k'] }, { batches: src(), existCols: ['k'] }], { primaryKeys: ['k'], outputSchema: schema, batchSize: 3 })) {
      if (++n === 3) break;
    }
    expect(returned).toBe(2);
    const ac = new AbortController();
    ac.abort();
    await expect(collect(mergeSortedSources([{ batches: src(), existCols: ['k'] }], { primaryKeys: ['k'], outputSchema: schema, signal: ac.signal }))).rejects.toMatchObject({ kind: 'Aborted' });
  });

  it('rejects bad operators and missing key columns clearly', async () => {
    const schema = new Schema([new Field('k', new Int32(), false), new Field('v', new Utf8(), true)]);
    await expect(collect(mergeSortedSources([], { primaryKeys: ['k'], outputSchema: schema, mergeOperators: { v: 'SumAll' } }))).rejects.toThrow(/SumAll needs a numeric column; 'v'/);
    const t = new Table({ v: vectorFromArray(['a'], new Utf8()) });
    await expect(collect(mergeSortedSources([{ batches: iter(t.batches), existCols: ['v'] }], { primaryKeys: ['k'], outputSchema: schema }))).rejects.toThrow(LakeSoulError);
  });
});

describe('concatSources', () => {
  it('concatenates in order, null-filling absent columns, re-chunking', async () => {
    const a = new Table({ x: vectorFromArray([1, 2, 3], new Int32()), y: vectorFromArray(['a', 'b', 'c'], new Utf8()) });
    const b = new Table({ x: vectorFromArray([4, 5], new Int32()) });
    const schema = new Schema([new Field('y', new Utf8(), true), new Field('x', new Int64(), true)]);
    const out = await collect(concatSources([{ batches: iter(a.batches), existCols: ['x', 'y'] }, { batches: iter(b.batches), existCols: ['x'] }], { outputSchema: schema, batchSize: 2 }));
    expect(out.map((o) => o.numRows)).toEqual([2, 1, 2]);
    expect(out.flatMap((o) => plainRows(o))).toEqual([['a', 1n], ['b', 2n], ['c', 3n], [null, 4n], [null, 5n]]);
  });
});

describe('SumAll / SumLast on floats', () => {
  it('keep -0.0 as IEEE sums do (a sum started at 0 turned a lone -0.0 into 0)', async () => {
    const schema = new Schema([new Field('k', new Int64(), false), new Field('f', new Float64(), true)]);
    const batch = (keys: bigint[], fs: number[]) => new RecordBatch(schema, new Table(schema, {
      k: vectorFromArray(keys, new Int64()), f: vectorFromArray(fs, new Float64()),
    } as never).batches[0]!.data);
    const sources: MergeSource[] = [
      { batches: (async function* () { yield batch([1n, 2n, 3n], [-0, -0, 1.5]); })(), existCols: ['k', 'f'] },
      { batches: (async function* () { yield batch([2n, 3n], [-0, -1.5]); })(), existCols: ['k', 'f'] },
    ];
    const out = await collect(mergeSortedSources(sources, { primaryKeys: ['k'], outputSchema: schema, mergeOperators: { f: 'SumAll' }, batchSize: 16 }));
    const f = Array.from(out.flatMap((b) => Array.from(b.getChild('f')!.toArray() as Float64Array)));
    expect(f.map((x) => Object.is(x, -0) ? '-0' : String(x))).toEqual(['-0', '-0', '0']);
  });
});
