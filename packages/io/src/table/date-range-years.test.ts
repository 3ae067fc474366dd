/**
 * Date range-partition values of years before 1 and after 9999: partition_desc holds them as Java's
 * LocalDate.toString writes them (LakeSoul's engines): `-0100-02-22`, `0000-01-01`, `+10000-01-01`,
 * and they read back as the same days (year -100 read back as 100 before).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateDay, Field, Int32, Schema, Table, makeData, makeVector, vectorFromArray } from 'apache-arrow';
import { encodePartitionValue } from '@lakesoul-ts/meta';
import { Lakehouse, toFileUri } from '../index.js';
import { formatDate, parseRangeValue } from './partition-values.js';

const DAY = 86_400_000;
// year -100, 0, 1, 10000, -12345, 9999 and 1970
const cases: [number, string][] = [
  [-756000, '-0100-02-22'],
  [-719528, '0000-01-01'],
  [-719162, '0001-01-01'],
  [2932897, '+10000-01-01'],
  [-5228446, '-12345-01-01'],
  [2932896, '9999-12-31'],
  [0, '1970-01-01'],
];

describe('date range values outside years 1-9999', () => {
  it('formats and parses them as Java does', () => {
    for (const [days, text] of cases) {
      expect(formatDate(days * DAY), text).toBe(text);
      expect((parseRangeValue(text, new DateDay(), 'd') as Date).getTime(), text).toBe(days * DAY);
      expect(encodePartitionValue('d', new Date(days * DAY)), text).toBe(text);
    }
    // lakesoul-ts's text before (year -100 without padding) and ISO's six-digit years
    expect((parseRangeValue('-100-02-22', new DateDay(), 'd') as Date).getTime()).toBe(-756000 * DAY);
    expect((parseRangeValue('+010000-01-01', new DateDay(), 'd') as Date).getTime()).toBe(2932897 * DAY);
    expect((parseRangeValue('2024-01-05T00:00:00Z', new DateDay(), 'd') as Date).getTime()).toBe(Date.UTC(2024, 0, 5));
    for (const bad of ['-0100-02-30', '2023-02-29', '2024-13-01', '2024-00-10', 'x']) {
      expect(() => parseRangeValue(bad, new DateDay(), 'd'), bad).toThrow(/range value .* of column 'd' does not parse/);
    }
  });

  describe('in a table', () => {
    let dir: string;
    let lh: Lakehouse;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'date-years-'));
      lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(dir) });
    });
    afterAll(async () => {
      await lh?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('writes them to partition_desc as Java does and reads the same days back', async () => {
      const schema = new Schema([new Field('id', new Int32(), false), new Field('d', new DateDay(), true)]);
      const t = await lh.createTable('t', schema, { rangePartitions: ['d'], primaryKeys: ['id'], hashBucketNum: 1 });
      const days = cases.map(([d]) => d);
      await t.write(new Table({
        id: vectorFromArray(days.map((_, i) => i), new Int32()),
        d: makeVector(makeData({ type: new DateDay(), length: days.length, data: Int32Array.from(days) })),
      }));
      expect((await t.snapshot()).map((s) => s.partitionDesc).sort()).toEqual(cases.map(([, text]) => `d=${text}`).sort());
      const back = await t.toArrow();
      const got = new Map<number, number>();
      for (let i = 0; i < back.numRows; i++) got.set(back.getChild('id')!.get(i) as number, (back.getChild('d')!.get(i) as number));
      days.forEach((d, i) => expect(got.get(i), cases[i]![1]).toBe(d * DAY));
      // selected by value and by filter
      const sel = await t.toArrow({ partitions: { d: '-0100-02-22' } });
      expect(sel.getChild('id')!.toArray()).toEqual(Int32Array.from([0]));
      const f = await t.toArrow({ filter: "d < DATE '0001-01-01'" });
      expect([...f.getChild('id')!.toArray()].sort()).toEqual([0, 1, 4]);
    });

    it('finds a partition written with the text of before (-100-02-22) by its value: an upsert lands in it, a selection finds it', async () => {
      const schema = new Schema([new Field('id', new Int32(), false), new Field('d', new DateDay(), true), new Field('v', new Int32(), true)]);
      const t = await lh.createTable('old', schema, { rangePartitions: ['d'], primaryKeys: ['id'], hashBucketNum: 1 });
      const row = (v: number) => new Table({
        id: vectorFromArray([1], new Int32()),
        d: makeVector(makeData({ type: new DateDay(), length: 1, data: Int32Array.of(-756000) })),
        v: vectorFromArray([v], new Int32()),
      });
      // the partition as lakesoul-ts wrote it before: its file committed under 'd=-100-02-22'
      const staged = await t.stage(row(1), { mode: 'upsert' });
      const files = staged.partitions.flatMap((p) => p.files);
      await lh.catalog.commit({ tableId: t.info.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: 'd=-100-02-22', files }] });
      await t.write(row(2), { mode: 'upsert' });
      expect((await t.snapshot()).map((s) => s.partitionDesc)).toEqual(['d=-100-02-22']);
      const back = await t.toArrow();
      expect([...back.getChild('v')!.toArray()]).toEqual([2]);
      expect((await t.toArrow({ partitions: { d: '-0100-02-22' } })).numRows).toBe(1);
    });
  });
});
