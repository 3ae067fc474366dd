import { describe, expect, it } from 'vitest';
import { Bool, DateDay, Int32, Int64, Table, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { constantColumn, formatDate, parseRangeValue, rangeValueText } from './partition-values.js';
import { rebatch } from './scan-plan.js';
import { dataFileUri, partitionDir, randomAlnum16 } from './table-context.js';

async function* batchesOf(sizes: number[]): AsyncGenerator<RecordBatch> {
  let k = 0;
  for (const n of sizes) {
    const t = new Table({ x: vectorFromArray(Array.from({ length: n }, () => k++), new Int32()) });
    yield t.batches[0];
  }
}

async function collect(it: AsyncIterable<RecordBatch>): Promise<{ sizes: number[]; values: number[] }> {
  const sizes: number[] = [];
  const values: number[] = [];
  for await (const b of it) {
    sizes.push(b.numRows);
    for (let i = 0; i < b.numRows; i++) values.push(b.getChild('x')!.get(i) as number);
  }
  return { sizes, values };
}

describe('rebatch', () => {
  it('keeps order, caps batches at batchSize and gathers small fragments', async () => {
    const r = await collect(rebatch(batchesOf([3, 2, 10, 25, 1, 1, 4]), 8));
    expect(r.values).toEqual(Array.from({ length: 46 }, (_, i) => i));
    expect(Math.max(...r.sizes)).toBeLessThanOrEqual(8);
    expect(r.sizes.slice(0, -1).every((n) => n >= 4)).toBe(true);
    expect(r.sizes.reduce((a, b) => a + b, 0)).toBe(46);
  });
  it('passes big batches through as slices', async () => {
    const r = await collect(rebatch(batchesOf([20]), 8));
    expect(r.sizes).toEqual([8, 8, 4]);
  });
});

describe('range values', () => {
  it('formats and parses per type', () => {
    expect(formatDate(Date.UTC(2024, 0, 5))).toBe('2024-01-05');
    expect(rangeValueText(Date.UTC(2024, 1, 29), new DateDay())).toBe('2024-02-29');
    expect(rangeValueText(12n, new Int64())).toBe('12');
    expect(rangeValueText(true, new Bool())).toBe('true');
    expect(rangeValueText(null, new Utf8())).toBeNull();
    expect(parseRangeValue('9007199254740993', new Int64(), 'k')).toBe(9007199254740993n);
    expect(() => parseRangeValue('x', new Int32(), 'k')).toThrow(LakeSoulError);
  });
  it('builds typed constant columns (re-injected range columns)', () => {
    const d = constantColumn(new DateDay(), '2024-03-01', 3, 'day');
    expect(d.length).toBe(3);
    expect(d.get(2)).toBe(Date.UTC(2024, 2, 1));
    const n = constantColumn(new Int64(), null, 2, 'k');
    expect(n.get(0)).toBeNull();
    expect(n.nullCount).toBe(2);
    const s = constantColumn(new Utf8(), '', 1, 's');
    expect(s.get(0)).toBe('');
  });
});

describe('file names', () => {
  it('follow <table>/<k=v>/.../part-<16 alnum>_<bucket:04>.parquet', () => {
    expect(randomAlnum16()).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(partitionDir('a=1,b=x', ['a', 'b'])).toBe('a=1/b=x');
    expect(partitionDir('-5', [])).toBe('');
    expect(dataFileUri('s3://b/t', 'a=1,b=x', ['a', 'b'], 7)).toMatch(/^s3:\/\/b\/t\/a=1\/b=x\/part-[A-Za-z0-9]{16}_0007\.parquet$/);
    expect(dataFileUri('file:///w/t', '-5', [], 0)).toMatch(/^file:\/\/\/w\/t\/part-[A-Za-z0-9]{16}_0000\.parquet$/);
  });
});
