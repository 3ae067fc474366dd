import { describe, expect, it } from 'vitest';
import { DateDay, Float32, Float64, Int32, TimeUnit, Timestamp, Utf8 } from 'apache-arrow';
import { bucketFromFileName, decodePartitionDesc, encodePartitionDesc, partitionDescKey, rangeValueKey } from './partition-desc.js';
import { LakeSoulError } from './errors.js';

describe('partition_desc encoding', () => {
  it('encodes like upstream', () => {
    expect(encodePartitionDesc([], {})).toBe('-5');
    expect(encodePartitionDesc(['date'], { date: '2024-01-01' })).toBe('date=2024-01-01');
    expect(encodePartitionDesc(['date', 'region'], { region: 'eu', date: new Date(Date.UTC(2024, 1, 29, 23, 0)) })).toBe('date=2024-02-29,region=eu');
    expect(encodePartitionDesc(['a', 'b', 'c'], [null, '', 42])).toBe('a=__L@KE$OUL_NULL__,b=__L@KE$OUL_EMPTY_STRING__,c=42');
    expect(encodePartitionDesc(['n'], { n: 9007199254740993n })).toBe('n=9007199254740993');
    expect(encodePartitionDesc(['n'], { n: -7 })).toBe('n=-7');
    expect(encodePartitionDesc(['n'], { n: 1e21 })).toBe('n=1000000000000000000000');
  });

  it('rejects , and = naming column and value', () => {
    for (const v of ['a,b', 'x=y']) {
      try {
        encodePartitionDesc(['region'], { region: v });
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(LakeSoulError);
        expect((e as LakeSoulError).kind).toBe('InvalidArgument');
        expect((e as LakeSoulError).message).toContain("'region'");
        expect((e as LakeSoulError).message).toContain(`'${v}'`);
      }
    }
    expect(() => encodePartitionDesc(['a', 'b'], { a: 1 })).toThrowError(/'b'/);
  });

  it('refuses values equal to the null and empty-string markers (they would read back as null or \'\')', () => {
    for (const [v, what] of [['__L@KE$OUL_NULL__', /encoding of a null range value/], ['__L@KE$OUL_EMPTY_STRING__', /encoding of an empty range value/]] as const) {
      let e: unknown;
      try { encodePartitionDesc(['region'], { region: v }); } catch (x) { e = x; }
      expect(LakeSoulError.hasCode(e, 'INVALID_PARTITION_VALUE')).toBe(true);
      expect((e as LakeSoulError).message).toMatch(what);
      expect((e as LakeSoulError).message).toContain("'region'");
    }
    // the real null and '' still encode to the markers
    expect(encodePartitionDesc(['a', 'b'], [null, ''])).toBe('a=__L@KE$OUL_NULL__,b=__L@KE$OUL_EMPTY_STRING__');
  });

  it('decodes', () => {
    expect(decodePartitionDesc('-5')).toEqual([]);
    expect(decodePartitionDesc('date=2024-01-01,b=__L@KE$OUL_EMPTY_STRING__,c=__L@KE$OUL_NULL__')).toEqual([['date', '2024-01-01'], ['b', ''], ['c', null]]);
    expect(() => decodePartitionDesc('nonsense')).toThrowError(LakeSoulError);
  });

  it('takes the bucket from the file name', () => {
    expect(bucketFromFileName('s3://b/t/date=2024-01-01/part-AbCdEfGh12345678_0003.parquet')).toBe(3);
    expect(bucketFromFileName('file:///t/part-x_0012.snappy.parquet')).toBe(12);
    expect(bucketFromFileName('file:///t/part-00000-abc.c000.parquet')).toBe(0);
    expect(bucketFromFileName('file:///t_7/data.parquet')).toBe(0);
  });
});

describe('range value keys', () => {
  const same = (type: Parameters<typeof rangeValueKey>[0], texts: string[]) => {
    const keys = texts.map((t) => rangeValueKey(type, t));
    for (const k of keys) expect(k, texts.join(' / ')).toBe(keys[0]);
  };
  it('are equal for every engine\'s text of one float or timestamp value, and differ between values', () => {
    same(new Float64(), ['1e+21', '1000000000000000000000', '1.0E21']);
    same(new Float64(), ['inf', 'Infinity', '+inf']);
    same(new Float64(), ['NaN', 'nan']);
    same(new Float32(), ['0.1', '0.10000000149011612']);
    same(new Timestamp(TimeUnit.MILLISECOND), ['2024-01-01T00:00:00.123Z', '2024-01-01T00:00:00.123', '2024-01-01 00:00:00.123', '2024-01-01T08:00:00.123+08:00']);
    same(new Timestamp(TimeUnit.SECOND), ['2024-01-01T01:02:03', '2024-01-01T01:02:03.000Z']);
    same(new Timestamp(TimeUnit.MICROSECOND, 'UTC'), ['2024-01-01T00:00:00.123450', '2024-01-01T00:00:00.12345Z']);
    // dates of years outside 0000-9999: Java's text and the one lakesoul-ts wrote before 2026-12-06
    same(new DateDay(), ['-0100-02-22', '-100-02-22']);
    same(new DateDay(), ['+10000-01-01', '10000-01-01']);
    expect(rangeValueKey(new DateDay(), '-0100-02-22')).not.toBe(rangeValueKey(new DateDay(), '0100-02-22'));
    expect(rangeValueKey(new DateDay(), '2024-01-05')).toBe('2024-01-05');
    expect(rangeValueKey(new Float64(), '-0')).not.toBe(rangeValueKey(new Float64(), '0'));
    expect(rangeValueKey(new Float64(), '0.1')).not.toBe(rangeValueKey(new Float32(), '0.1'));
    expect(rangeValueKey(new Timestamp(TimeUnit.MILLISECOND), '2024-01-01T00:00:00.123')).not.toBe(rangeValueKey(new Timestamp(TimeUnit.MILLISECOND), '2024-01-01T00:00:00.124'));
    // other types: the text itself (strings are compared exactly)
    expect(rangeValueKey(new Utf8(), ' a ')).toBe(' a ');
    expect(rangeValueKey(new Int32(), '007')).toBe('007');
    expect(rangeValueKey(new Float64(), 'abc')).toBe('abc');
    expect(rangeValueKey(new Float64(), null)).toBeNull();
  });
  it('of a whole partition_desc: equal for the same values, null apart from the empty string', () => {
    const types: Record<string, Parameters<typeof rangeValueKey>[0]> = { ts: new Timestamp(TimeUnit.MILLISECOND), s: new Utf8() };
    const key = (d: string) => partitionDescKey(d, (c) => types[c]);
    expect(key('ts=2024-01-01T00:00:00.123Z,s=a')).toBe(key('ts=2024-01-01T00:00:00.123,s=a'));
    expect(key('ts=2024-01-01T00:00:00.123,s=a')).not.toBe(key('ts=2024-01-01T00:00:00.123,s=b'));
    expect(key('ts=2024-01-01T00:00:00.123,s=__L@KE$OUL_NULL__')).not.toBe(key('ts=2024-01-01T00:00:00.123,s=__L@KE$OUL_EMPTY_STRING__'));
  });
});
