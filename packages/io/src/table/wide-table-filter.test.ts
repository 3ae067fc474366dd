import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Field, Float64, Int64, Schema, Utf8 } from 'apache-arrow';
import * as thrift from '../parquet/thrift-compact.js';
import { Lakehouse } from './lakehouse.js';
import type { LakeSoulTable } from './lakesoul-table.js';

// A filtered read of a wide table without `columns` took 11 s for one row of a 1,000-column table
// (63 s through the CLI at 2,000 columns): the selective read builds a one-column file per column,
// and each of them decoded the whole footer again (columns × footer size). The footer is decoded
// once per file now; this test counts the decodes of the wide file's footer.
vi.mock('../parquet/thrift-compact.js', async (original) => {
  const m = await original<typeof import('../parquet/thrift-compact.js')>();
  return { ...m, readThriftStruct: vi.fn(m.readThriftStruct) };
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

  it('returns the row, decoding each file\'s footer a few times, not once per column', async () => {
    const decodes = vi.mocked(thrift.readThriftStruct);
    decodes.mockClear();
    const got = await t.toArrow({ filter: 'id = 5' });
    expect(got.numRows).toBe(1);
    expect(got.getChild('c1')!.get(0)).toBe('v5');
    expect(got.getChild(`c${N - 2}`)!.get(0)).toBe(5);
    expect(got.schema.fields.length).toBe(N + 1);
    // the wide file's footer (the one-column files' own footers are small, one per column)
    const wholeFooter = decodes.mock.calls.filter(([buf]) => buf.length > 50_000);
    expect(decodes.mock.calls.length).toBeGreaterThan(N); // the one-column files: the count can tell
    expect(wholeFooter.length).toBeGreaterThan(0);
    expect(wholeFooter.length).toBeLessThan(10);
  });
});
