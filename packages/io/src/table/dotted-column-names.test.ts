/**
 * Columns whose names hold a '.' (`a.b`, a struct field `x.y`) read with a column selection from
 * files large enough that only the selected columns' chunks are fetched (ranged reads, row group by
 * row group or in one sparse copy): each chunk belongs to the top-level column its leaf path starts
 * with, not to the text before the first '.' of a dotted key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Float64, Int32, Int64, Schema, Struct, Table, Utf8, vectorFromArray, makeData, makeVector } from 'apache-arrow';
import { Lakehouse, decodedRowGroupSizes, encodeParquet, readParquetFooter, toFileUri, type LakeSoulTable } from '../index.js';

const N = 60_000;
const text = (i: number) => `val-${i}-${'z'.repeat(i % 50)}`;
const nested = (i: number) => `n-${i}-${'y'.repeat(i % 40)}`;

const inner = new Struct([new Field('x.y', new Utf8(), true), new Field('z', new Int32(), true)]);
const schema = new Schema([
  new Field('id', new Int64(), false),
  new Field('a.b', new Utf8(), true),
  new Field('a', new Int32(), true),
  new Field('s', inner, true),
  // named as the struct's leaf s -> x.y would be, joined with '.'
  new Field('s.x.y', new Int32(), true),
  new Field('x', new Float64(), true),
]);

function data(from: number, n: number): Table {
  const ids = Array.from({ length: n }, (_, k) => from + k);
  const xy = vectorFromArray(ids.map(nested), new Utf8());
  const z = vectorFromArray(ids.map((i) => i * 2), new Int32());
  const s = makeVector(makeData({ type: inner, length: n, nullCount: 0, children: [xy.data[0], z.data[0]] }));
  return new Table({
    id: vectorFromArray(ids.map((i) => BigInt(i)), new Int64()),
    'a.b': vectorFromArray(ids.map(text), new Utf8()),
    a: vectorFromArray(ids.map((i) => i * 3), new Int32()),
    s,
    's.x.y': vectorFromArray(ids.map((i) => -i), new Int32()),
    x: vectorFromArray(ids.map((i) => i / 7), new Float64()),
  });
}

type Row = Record<string, unknown>;
const rows = (t: Table): Row[] => t.toArray().map((r) => r.toJSON() as Row).sort((p, q) => Number(p.id) - Number(q.id));

describe('columns named with a dot, read by ranges', () => {
  let dir: string;
  let lh: Lakehouse;
  const tables: { label: string; t: LakeSoulTable }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dotted-cols-'));
    lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(dir) });
    // one row group per file (one sparse copy), and many (row group by row group)
    for (const [label, rowGroupSize] of [['one row group', undefined], ['row groups of 8192', 8192]] as const) {
      for (const pk of [false, true]) {
        const t = await lh.createTable(`t_${tables.length}`, schema, pk ? { primaryKeys: ['id'], hashBucketNum: 1 } : {});
        await t.write(data(0, N), rowGroupSize === undefined ? {} : { rowGroupSize });
        tables.push({ label: `${label}, ${pk ? 'PK' : 'no PK'}`, t });
      }
    }
  });

  afterAll(async () => {
    await lh?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the data files are over the size read whole with the footer', async () => {
    for (const { t } of tables) {
      const files = (await t.snapshot()).flatMap((p) => p.files);
      expect(files.length).toBe(1);
      expect(Number(files[0].size)).toBeGreaterThan(300_000);
    }
  });

  it("reads a top-level column named 'a.b' with a column selection", async () => {
    for (const { label, t } of tables) {
      const got = rows(await t.toArrow({ columns: ['id', 'a.b'] }));
      expect(got.length, label).toBe(N);
      expect(got.every((r) => r['a.b'] === text(Number(r.id))), label).toBe(true);
      const only = (await t.toArrow({ columns: ['a.b'] })).getChild('a.b')!.toArray() as string[];
      expect(only.length, label).toBe(N);
      expect(new Set(only).size, label).toBe(N);
      const filtered = rows(await t.toArrow({ columns: ['id', 'a.b'], filter: 'x > 8000' }));
      expect(filtered.length, label).toBe(N - 56_001);
      expect(filtered.every((r) => r['a.b'] === text(Number(r.id))), label).toBe(true);
    }
  });

  it("reads a struct whose field is named 'x.y', and a column named like its dotted leaf path", async () => {
    for (const { label, t } of tables) {
      const got = rows(await t.toArrow({ columns: ['id', 's'] }));
      expect(got.length, label).toBe(N);
      expect(got.every((r) => (r.s as Row)['x.y'] === nested(Number(r.id)) && (r.s as Row).z === Number(r.id) * 2), label).toBe(true);
      const flat = rows(await t.toArrow({ columns: ['id', 's.x.y'] }));
      expect(flat.every((r) => r['s.x.y'] === -Number(r.id)), label).toBe(true);
      // statistics pruning on 's.x.y' uses that column's, not the struct leaf's (strings)
      const few = rows(await t.toArrow({ columns: ['id', 's.x.y', 's'], filter: '"s.x.y" > -10' }));
      expect(few.map((r) => Number(r.id)), label).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(few.every((r) => (r.s as Row)['x.y'] === nested(Number(r.id))), label).toBe(true);
    }
  });

  it('gives every footer chunk its leaf path as an array', async () => {
    const bytes = await encodeParquet(data(0, 100), { compression: 'zstd' });
    const footer = await readParquetFooter(bytes, bytes.length);
    expect(footer.columns).toEqual(['id', 'a.b', 'a', 's', 's.x.y', 'x']);
    const rg = footer.rowGroups[0];
    expect(rg.chunks.map((c) => c.path)).toEqual([['id'], ['a.b'], ['a'], ['s', 'x.y'], ['s', 'z'], ['s.x.y'], ['x']]);
    // by name: the top-level column 's.x.y' (INT32), never the struct's leaf s -> x.y (BYTE_ARRAY)
    expect(rg.columns['s.x.y'].path).toEqual(['s.x.y']);
    expect(rg.columns['s.x.y'].min).toBe(-99);
    expect(rg.columns['a.b'].path).toEqual(['a.b']);
    expect(rg.columns['s.z'].path).toEqual(['s', 'z']);
    // decoded-size estimates: 'a.b' counts its own chunk only
    const all = decodedRowGroupSizes(footer)[0].compressedBytes;
    const ab = decodedRowGroupSizes(footer, ['a.b'])[0].compressedBytes;
    const a = decodedRowGroupSizes(footer, ['a'])[0].compressedBytes;
    expect(ab).toBe(rg.columns['a.b'].compressedSize);
    expect(a).toBe(rg.columns.a.compressedSize);
    expect(decodedRowGroupSizes(footer, ['s'])[0].compressedBytes).toBe(rg.chunks[3].compressedSize + rg.chunks[4].compressedSize);
    expect(all).toBe(rg.chunks.reduce((n, c) => n + c.compressedSize, 0));
  });
});
