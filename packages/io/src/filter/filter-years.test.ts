// Years before 1 and after 9999 as Java's LocalDate writes them (`-0100-02-22`, `+10000-01-01`),
// which is how date range partitions are stored: the value codec refused `-0100-02-22` for a date
// column ("not a valid date"), DATE/TIMESTAMP literals took 4-digit years only, and a date column
// compared with such text by Date.parse, which reads `-0100-02-22` as the year 100.
import { describe, expect, it } from 'vitest';
import { DateDay, DateMillisecond, Field, Schema, Table, makeData, makeVector, type RecordBatch } from 'apache-arrow';
import { encodeColumn, plainValues } from '../arrow/value-codec.js';
import { daysFromCivil } from '../arrow/temporal-codec.js';
import { evaluateFilter, parseFilter, rowGroupMayMatch } from './index.js';
import type { FilterExpr } from '../types.js';

const DAY = 86_400_000;
const days = [daysFromCivil(-100, 2, 22), daysFromCivil(100, 2, 22), daysFromCivil(2024, 1, 1), daysFromCivil(10000, 1, 1)];

function batchOf(): RecordBatch {
  const d = makeVector(makeData({ type: new DateDay(), length: days.length, data: Int32Array.from(days) }));
  const ms = makeVector(makeData({ type: new DateMillisecond(), length: days.length, data: BigInt64Array.from(days.map((x) => BigInt(x * DAY))) }));
  return new Table(new Schema([new Field('d', d.type, true), new Field('dm', ms.type, true)]), { d: d.data[0], dm: ms.data[0] } as never).batches[0];
}
const rows = (filter: string | FilterExpr): number[] =>
  Array.from(evaluateFilter(typeof filter === 'string' ? parseFilter(filter) : filter, batchOf())).flatMap((x, i) => (x === 1 ? [i] : []));

describe("years in Java's LocalDate form", () => {
  it('are written to date columns and read back', () => {
    const values = ['-0100-02-22', '+10000-01-01', '-000100-02-22', '0100-02-22'];
    expect(plainValues(encodeColumn(values, new DateDay(), { column: 'd' }))).toEqual(['-000100-02-22', '+010000-01-01', '-000100-02-22', '0100-02-22']);
  });

  it('are DATE and TIMESTAMP literals', () => {
    expect(rows("d = DATE '-0100-02-22'")).toEqual([0]);
    expect(rows("d = DATE '0100-02-22'")).toEqual([1]);
    expect(rows("d >= DATE '+10000-01-01'")).toEqual([3]);
    expect(rows("dm = TIMESTAMP '-0100-02-22T00:00:00Z'")).toEqual([0]);
    expect(rows("d < DATE '-000099-01-01'")).toEqual([0]);
  });

  it('are text compared with date columns exactly, never as another year', () => {
    expect(rows({ op: '=', column: 'd', value: '-0100-02-22' })).toEqual([0]);
    expect(rows({ op: '=', column: 'dm', value: '-0100-02-22' })).toEqual([0]);
    expect(rows({ op: '=', column: 'd', value: '+10000-01-01' })).toEqual([3]);
    expect(rows({ op: '<', column: 'd', value: '0001-01-01' })).toEqual([0]);
  });

  it('beyond the years a Date holds: refused as a DATE, compared exactly as a TIMESTAMP', () => {
    expect(() => parseFilter("d = DATE '+300000-01-01'")).toThrow(/beyond the years a filter date holds/);
    // an invalid Date used to compare equal with every row (NaN is neither below nor above)
    expect(() => rows({ op: '=', column: 'd', value: new Date(NaN) })).toThrow(/d/);
    expect(rows("dm < TIMESTAMP '+300000-01-01T00:00:00Z'")).toEqual([0, 1, 2, 3]);
    expect(rows("dm > TIMESTAMP '+300000-01-01T00:00:00Z'")).toEqual([]);
  });

  it('prune by statistics the way rows compare', () => {
    const stats = { d: { min: new Date(days[0] * DAY), max: new Date(days[0] * DAY), nullCount: 0 } };
    expect(rowGroupMayMatch(parseFilter("d = DATE '-0100-02-22'"), stats, 1)).toBe(true);
    expect(rowGroupMayMatch(parseFilter("d = DATE '0100-02-22'"), stats, 1)).toBe(false);
  });
});
