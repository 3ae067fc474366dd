import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Bool, Field, Float64, Int64, Schema, Utf8 } from 'apache-arrow';
import * as thrift from '../parquet/thrift-compact.js';
import * as codec from '../parquet/parquet-codec.js';
import { Lakehouse } from './lakehouse.js';
import type { LakeSoulTable } from './lakesoul-table.js';

// A filtered read of a wide table without `columns` took 11 s for one row of a 1,000-column table
// (63 s through the CLI at 2,000 columns): the selective read builds a one-column file per column,
// and each of them decoded the whole footer again (columns × footer size). The footer is decoded
// once per file now; this test counts the decodes of the wide file's footer.
// It then still made a decode call per column (1.7-2.6x the time of a full read); the columns whose
// whole (small) chunks are needed are decoded in one call now; this test counts the decode calls.
vi.mock('../parquet/thrift-compact.js', async (original) => {
  const m = await original<typeof import('../parquet/thrift-compact.js')>();
  return { ...m, readThriftStruct: vi.fn(m.readThriftStruct) };
});
vi.mock('../parquet/parquet-codec.js', async (original) => {
  const m = await original<typeof import('../parquet/parquet-codec.js')>();
  return { ...m, decodeParquet: vi.fn(m.decodeParquet) };
});

const N = 1000;

describe(`a filtered read of a table of ${N} columns`, () => {
  let lh: Lakehouse;
  let t: LakeSoulTable;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-wide-filter-'));
    lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(dir).href });
    const fields: Field[] = [new Field('id', new Int64(), false)];
    for (let i = 0; i < N; i++) fields.push(new Field(`c${i}`, i % 2 ? new Utf8() : new Float64(), true));
    t = await lh.createTable('wide', new Schema(fields), { primaryKeys: ['id'], hashBucketNum: 1 });
    const rows = Array.from({ length: 200 }, (_, r) => Object.fromEntries([['id', r], ...Array.from({ length: N }, (_, i) => [`c${i}`, i % 2 ? `v${r}` : r])]));
    await t.write(rows);
  });
  afterAll(() => lh.close());

  it('returns the row, decoding each file\'s footer a few times and its columns in a few calls, not once per column', async () => {
    const decodes = vi.mocked(thrift.readThriftStruct);
    decodes.mockClear();
    const calls = vi.mocked(codec.decodeParquet);
    calls.mockClear();
    const got = await t.toArrow({ filter: 'id = 5' });
    expect(got.numRows).toBe(1);
    expect(got.getChild('c1')!.get(0)).toBe('v5');
    expect(got.getChild(`c${N - 2}`)!.get(0)).toBe(5);
    expect(got.schema.fields.length).toBe(N + 1);
    // the wide file's footer (the one-column files' own footers are small, one per column)
    const wholeFooter = decodes.mock.calls.filter(([buf]) => buf.length > 50_000);
    expect(wholeFooter.length).toBeGreaterThan(0);
    expect(wholeFooter.length).toBeLessThan(10);
    // the key column's pages, then the others' chunks together (a call per column before)
    expect(calls.mock.calls.length).toBeGreaterThan(0);
    expect(calls.mock.calls.length).toBeLessThan(10);
  });
});

describe('a filtered read of a 40-column table of several pages per column (the chunks most of whose rows match decoded together)', () => {
  let lh: Lakehouse;
  let t: LakeSoulTable;
  const ROWS = 50_000;
  const C = 40;
  /** Column i's value at row r: float64, utf8, bool and int64 columns in turn, with nulls. */
  const cell = (r: number, i: number): unknown => {
    if ((r * 7 + i) % 13 === 0) return null;
    switch (i % 4) {
      case 0: return ((r * 2654435761 + i) % 1000) / 1000;
      case 1: return `s${(r * 31 + i) % 5000}`;
      case 2: return (r + i) % 3 === 0;
      default: return BigInt(r * 10 + i);
    }
  };
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-wide-pages-'));
    lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(dir).href });
    const fields: Field[] = [new Field('id', new Int64(), false)];
    for (let i = 0; i < C; i++) fields.push(new Field(`c${i}`, [new Float64(), new Utf8(), new Bool(), new Int64()][i % 4]!, true));
    t = await lh.createTable('widepages', new Schema(fields), { primaryKeys: ['id'], hashBucketNum: 1 });
    await t.write(Array.from({ length: ROWS }, (_, r) => Object.fromEntries([['id', BigInt(r)], ...Array.from({ length: C }, (_, i) => [`c${i}`, cell(r, i)])])));
  }, 120_000);
  afterAll(() => lh.close());

  // `together`: the matching rows are spread over every page, so the columns decode in one call; a
  // lookup of a few rows needs a page of each chunk of three, which each column decodes alone
  for (const [filter, pred, together] of [
    ['id = 40123', (r: number) => r === 40123, false],
    // (rows on every page of some chunks, depending on the codec's page sizes: either way)
    ['id IN (3, 19999, 20000, 20001, 45678)', (r: number) => [3, 19999, 20000, 20001, 45678].includes(r), null],
    ['id >= 19990 and id < 20010', (r: number) => r >= 19990 && r < 20010, false],
    ['c0 > 0.995', (r: number) => (cell(r, 0) as number | null) !== null && (cell(r, 0) as number) > 0.995, true],
    ["c1 = 's77'", (r: number) => cell(r, 1) === 's77', true],
  ] as const) {
    it(`${filter}: the rows and values of a full read filtered here`, async () => {
      const calls = vi.mocked(codec.decodeParquet);
      calls.mockClear();
      const got = await t.toArrow({ filter });
      const want = Array.from({ length: ROWS }, (_, r) => r).filter(pred);
      expect(want.length).toBeGreaterThan(0);
      const ids = Array.from(got.getChild('id')!.toArray() as BigInt64Array, Number);
      expect(ids).toEqual(want);
      for (let k = 0; k < ids.length; k += Math.max(1, Math.floor(ids.length / 50))) {
        for (let i = 0; i < C; i++) {
          const v = got.getChild(`c${i}`)!.get(k);
          expect(v, `row ${ids[k]} column c${i}`).toEqual(cell(ids[k]!, i));
        }
      }
      if (together === true) expect(calls.mock.calls.length).toBeLessThan(C);
      if (together === false) expect(calls.mock.calls.length).toBeGreaterThan(C);
    });
  }
});
