// Number literals with a fraction compare with decimal and integer columns as written, not as the
// double they round to: `amount = 12345678.123456789` on decimal(18,9) returned the row
// ...123456790 (String of the double is "12345678.12345679"), and a fraction at 2^53 or beyond was
// refused with a clipped message.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal, Field, Float32, Float64, Int32, Int64, Schema, Table, makeData, makeVector, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { Lakehouse } from '../table/lakehouse.js';
import type { LakeSoulTable } from '../table/lakesoul-table.js';
import type { FilterExpr } from '../types.js';
import { evaluateFilter, normalizeFilter, parseFilter, rowGroupMayMatch } from './index.js';

/** A decimal128 column of unscaled values. */
function decimals(scale: number, precision: number, unscaled: bigint[]) {
  const words = new Uint32Array(4 * unscaled.length);
  unscaled.forEach((v, i) => {
    let u = BigInt.asUintN(128, v);
    for (let w = 0; w < 4; w++, u >>= 32n) words[4 * i + w] = Number(u & 0xffffffffn);
  });
  return makeVector(makeData({ type: new Decimal(scale, precision, 128), length: unscaled.length, data: words }));
}

const rows = (batch: RecordBatch, filter: string | FilterExpr): number[] =>
  Array.from(evaluateFilter(typeof filter === 'string' ? parseFilter(filter) : filter, batch)).flatMap((x, i) => (x === 1 ? [i] : []));

describe('number literals keep their text where the double is another decimal', () => {
  it('parses', () => {
    expect(parseFilter('amount = 12345678.123456789')).toEqual({ op: '=', column: 'amount', value: 12345678.123456789, text: '12345678.123456789' });
    expect(parseFilter('d < -1234567.0123456788')).toEqual({ op: '<', column: 'd', value: -1234567.0123456788, text: '-1234567.0123456788' });
    expect(parseFilter('1234567.0123456788 < d')).toEqual({ op: '>', column: 'd', value: 1234567.0123456788, text: '1234567.0123456788' });
    // exact as a double's shortest form: no text
    expect(parseFilter('x = 0.5 or x = 2.50 or x = 123.45')).toEqual({ op: 'or', args: [0.5, 2.5, 123.45].map((value) => ({ op: '=', column: 'x', value })) });
    expect(parseFilter('d in (1, 1234567.0123456788, 0.5)')).toEqual({ op: 'in', column: 'd', values: [1, 1234567.0123456788, 0.5], texts: [null, '1234567.0123456788', null] });
    expect(parseFilter('d between 1.00000000000000001 and 2')).toEqual({
      op: 'and',
      args: [{ op: '>=', column: 'd', value: 1, text: '1.00000000000000001' }, { op: '<=', column: 'd', value: 2 }],
    });
    // at 2^53 and beyond: no longer refused by the parser (the column decides)
    expect(parseFilter('d > 1234567890123456789012345678.01234567')).toMatchObject({ op: '>', text: '1234567890123456789012345678.01234567' });
  });

  it('normalizeFilter keeps texts (also through JSON) and refuses one that is not the value', () => {
    const f = normalizeFilter('d = 1234567.0123456788 and d in (1234567.0123456788, 2)');
    expect(f).toEqual({
      op: 'and',
      args: [
        { op: '=', column: 'd', value: 1234567.0123456788, text: '1234567.0123456788' },
        { op: 'in', column: 'd', values: [1234567.0123456788, 2], texts: ['1234567.0123456788', null] },
      ],
    });
    expect(normalizeFilter(JSON.parse(JSON.stringify(f)))).toEqual(f);
    expect(() => normalizeFilter({ op: '=', column: 'd', value: 1, text: '2.5' } as never)).toThrow(/text that is not a numeral of its value/);
    expect(() => normalizeFilter({ op: '=', column: 'd', value: 'x', text: '1' } as never)).toThrow(/text that is not a numeral/);
    expect(() => normalizeFilter({ op: 'in', column: 'd', values: [1, 2], texts: ['1.00000000000000001'] } as never)).toThrow(/texts that are not one numeral or null for each value/);
  });

  it('normalizeFilter with a schema drops from an integer IN list the kept literals no integer equals', () => {
    // a scan cuts a key IN list per bucket by values alone: 1.00000000000000001 (the double 1) selected row 1 there
    const schema = new Schema([new Field('id', new Int64(), false), new Field('f', new Float64(), true)]);
    expect(normalizeFilter('id in (1.00000000000000001, 2, 9007199254740992.5)', schema)).toEqual({ op: 'in', column: 'id', values: [2] });
    expect(normalizeFilter({ op: 'in', column: 'id', values: [5, 1], texts: ['5.0', '1.00000000000000001'] } as never, schema)).toEqual({ op: 'in', column: 'id', values: [5] });
    // only such literals: the first stays, alone (one bucket), compared as written
    expect(normalizeFilter('id in (1.00000000000000001, 9007199254740992.5)', schema)).toEqual({ op: 'in', column: 'id', values: [1], texts: ['1.00000000000000001'] });
    // a float column compares with the doubles: unchanged
    expect(normalizeFilter('f in (1.00000000000000001, 2)', schema)).toEqual({ op: 'in', column: 'f', values: [1, 2], texts: ['1.00000000000000001', null] });
  });

  it('decimal columns compare exactly: =, !=, <, <=, >, >=, IN (short and long), BETWEEN, NOT', () => {
    // decimal(18,9): 12345678.123456789, 12345678.123456790
    const amt = new Table({ amount: decimals(9, 18, [12345678123456789n, 12345678123456790n]) }).batches[0];
    expect(rows(amt, 'amount = 12345678.123456789')).toEqual([0]);
    expect(rows(amt, "amount = '12345678.123456789'")).toEqual([0]);
    expect(rows(amt, 'amount = 12345678.12345679')).toEqual([1]);
    // decimal(20,10): 1234567.0123456789, 1234567.0123456788
    const b = new Table({ d: decimals(10, 20, [12345670123456789n, 12345670123456788n]) }).batches[0];
    const cases: [string, number[]][] = [
      ['d = 1234567.0123456788', [1]],
      ['d = 1234567.0123456789', [0]],
      ['d != 1234567.0123456788', [0]],
      ['d > 1234567.0123456788', [0]],
      ['d >= 1234567.0123456789', [0]],
      ['d < 1234567.0123456789', [1]],
      ['d <= 1234567.0123456788', [1]],
      ['1234567.0123456788 = d', [1]],
      ['1234567.0123456789 > d', [1]],
      ['d in (1234567.0123456788)', [1]],
      ['d not in (1234567.0123456788)', [0]],
      ['d in (1, 2, 3, 4, 5, 6, 7, 8, 9, 1234567.0123456788)', [1]],
      ['d between 1234567.0123456788 and 1234567.0123456788', [1]],
      ['d not between 1234567.0123456789 and 1234567.0123456789', [1]],
      ['not (d = -1234567.0123456788)', [0, 1]],
      ['d > 1234567.01234567885', [0]],
      ['d < 1234567.01234567885', [1]],
    ];
    for (const [f, want] of cases) expect(rows(b, f), f).toEqual(want);
    // a fraction beyond 2^53 on decimal(38,10): 1234567890123456789012345678.0123456789 and .0123456700
    const big = new Table({ d: decimals(10, 38, [12345678901234567890123456780123456789n, 12345678901234567890123456780123456700n]) }).batches[0];
    expect(rows(big, 'd > 1234567890123456789012345678.01234567')).toEqual([0]);
    expect(rows(big, 'd = 1234567890123456789012345678.01234567')).toEqual([1]);
    expect(rows(big, 'd < -1234567890123456789012345678.01234567')).toEqual([]);
  });

  it('more fraction digits than the scale: exact, as quoted text is', () => {
    // decimal(10,2): 1.00, 1.01, -1.01
    const b = new Table({ amount: decimals(2, 10, [100n, 101n, -101n]) }).batches[0];
    for (const q of ['', "'"]) {
      const lit = (s: string) => `${q}${s}${q}`;
      expect(rows(b, `amount = ${lit('1.005')}`)).toEqual([]);
      expect(rows(b, `amount != ${lit('1.005')}`)).toEqual([0, 1, 2]);
      expect(rows(b, `amount > ${lit('1.005')}`)).toEqual([1]);
      expect(rows(b, `amount >= ${lit('1.005')}`)).toEqual([1]);
      expect(rows(b, `amount < ${lit('1.005')}`)).toEqual([0, 2]);
      expect(rows(b, `amount < ${lit('-1.005')}`)).toEqual([2]);
      expect(rows(b, `amount > ${lit('-1.005')}`)).toEqual([0, 1]);
      expect(rows(b, `amount = ${lit('1.0100')}`)).toEqual([1]);
    }
    // exponents far beyond any scale are decided without computing their power of ten
    const t0 = Date.now();
    expect(rows(b, 'amount > 1e-999999999')).toEqual([0, 1]);
    expect(rows(b, "amount < '1e999999999'")).toEqual([0, 1, 2]);
    expect(rows(b, "amount > '-1e999999999'")).toEqual([0, 1, 2]);
    expect(rows(b, "amount = '0.00000000000000000000000000000000000000000000000000000001e56'")).toEqual([0]);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('integer columns compare with the literal as written', () => {
    const b = new Table({
      i: vectorFromArray([0, 1, 2], new Int32()),
      l: vectorFromArray([1n, 9007199254740992n, 9007199254740993n], new Int64()),
    }).batches[0];
    expect(rows(b, 'i = 1.00000000000000001')).toEqual([]);
    expect(rows(b, 'i != 1.00000000000000001')).toEqual([0, 1, 2]);
    expect(rows(b, 'i > 1.00000000000000001')).toEqual([2]);
    expect(rows(b, 'i <= 1.00000000000000001')).toEqual([0, 1]);
    expect(rows(b, 'i > 0.99999999999999999')).toEqual([1, 2]);
    expect(rows(b, 'i in (1.00000000000000001, 2)')).toEqual([2]);
    expect(rows(b, 'i in (1.00000000000000001, 2, 3, 4, 5, 6, 7, 8, 9, 10)')).toEqual([2]);
    expect(rows(b, 'l = 9007199254740992.5')).toEqual([]);
    expect(rows(b, 'l > 9007199254740992.5')).toEqual([2]);
    expect(rows(b, 'l < 9007199254740992.5')).toEqual([0, 1]);
    expect(rows(b, 'l in (9007199254740992.5, 1.00000000000000001)')).toEqual([]);
    expect(rows(b, 'l in (9007199254740992.5, 1.00000000000000001, 3, 4, 5, 6, 7, 8, 9, 10)')).toEqual([]);
    expect(rows(b, 'l between 1.00000000000000001 and 9007199254740993.5')).toEqual([1, 2]);
  });

  it('float columns keep double semantics; a fraction no double holds is refused, naming the column, in full', () => {
    const b = new Table({ f: vectorFromArray([1, 0.1, 2 ** 53], new Float64()), g: vectorFromArray([0.1, 0, 0], new Float32()) }).batches[0];
    expect(rows(b, 'f = 1.00000000000000001')).toEqual([0]); // the double 1
    expect(rows(b, 'f in (1.00000000000000001, 2, 3, 4, 5, 6, 7, 8, 9, 10)')).toEqual([0]);
    expect(rows(b, 'f = 0.1')).toEqual([1]);
    for (const f of ['f > 9007199254740992.5', 'f in (9007199254740992.5)', 'f in (9007199254740992.5, 1, 2, 3, 4, 5, 6, 7, 8, 9)', 'g = 1234567890123456789012345678.01234567']) {
      let message = '';
      try {
        evaluateFilter(parseFilter(f), b);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, f).toMatch(/^filter compares float column '[fg]' \((Float64|Float32)\) with (9007199254740992\.5|1234567890123456789012345678\.01234567), a number with a fraction no double can hold \(at 2\^53 and beyond doubles are whole numbers\): compare with a whole number$/);
    }
    // a type error shows the literal as written
    expect(() => evaluateFilter(parseFilter('s = 1234567.0123456788'), new Table({ s: vectorFromArray(['x']) }).batches[0])).toThrow(/with 1234567\.0123456788 of another type/);
  });

  it('statistics prune by the exact value, or not at all', () => {
    const may = (f: string, min: unknown, max: unknown) => rowGroupMayMatch(normalizeFilter(f), { c: { min, max, nullCount: 0 } }, 1);
    // bigint statistics (an int64 column, whose rows compare exactly, or a date64 one, whose rows compare
    // with the double) and number statistics (a 32-bit integer or a float column): pruned only where the
    // exact value and the double agree
    expect(may('c = 9007199254740992.5', 9007199254740992n, 9007199254740992n)).toBe(true);
    expect(may('c != 9007199254740992.5', 9007199254740992n, 9007199254740992n)).toBe(true);
    expect(may('c > 9007199254740992.5', 1n, 9007199254740991n)).toBe(false);
    expect(may('c > 9007199254740992.5', 1n, 9007199254740993n)).toBe(true);
    expect(may('c <= 9007199254740992.5', 9007199254740994n, 9007199254740999n)).toBe(false);
    expect(may('c in (9007199254740992.5, 1.00000000000000001)', 5n, 9n)).toBe(false);
    expect(may('c in (9007199254740992.5, 1.00000000000000001)', 9007199254740992n, 9007199254740992n)).toBe(true);
    expect(may('c != 1.00000000000000001', 1, 1)).toBe(true);
    expect(may('c = 1.00000000000000001', 1, 1)).toBe(true);
    expect(may('c < 1.00000000000000001', 1, 1)).toBe(true);
    expect(may('c > 1.00000000000000001', 2, 3)).toBe(true);
    expect(may('c > 1.00000000000000001', -3, 0)).toBe(false);
    expect(may('c > 9007199254740992.5', 0, 1)).toBe(true); // the rows decide (a float column refuses it)
  });
});

describe('a table scan with exact decimal literals', () => {
  let lh: Lakehouse;
  let t: LakeSoulTable;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-exact-decimal-'));
    lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(dir).href });
    t = await lh.createTable('amt', new Schema([new Field('id', new Int64(), false), new Field('amount', new Decimal(9, 18, 128), true), new Field('d', new Decimal(10, 20, 128), true)]), {
      primaryKeys: ['id'],
      hashBucketNum: 2,
    });
    await t.write(new Table({
      id: vectorFromArray([1n, 2n, 3n], new Int64()),
      amount: decimals(9, 18, [12345678123456789n, 12345678123456790n, 100n]),
      d: decimals(10, 20, [12345670123456789n, 12345670123456788n, 0n]),
    }));
  });
  afterAll(() => lh.close());

  const ids = async (filter: string) => {
    const got = await t.toArrow({ filter });
    return Array.from(got.getChild('id')!.toArray() as BigInt64Array, Number).sort((a, b) => a - b);
  };

  it('selects exactly the matching rows', async () => {
    expect(await ids('amount = 12345678.123456789')).toEqual([1]);
    expect(await ids("amount = '12345678.123456789'")).toEqual([1]);
    expect(await ids('d = 1234567.0123456788')).toEqual([2]);
    expect(await ids('d > 1234567.0123456788')).toEqual([1]);
    expect(await ids('d < 1234567.0123456789')).toEqual([2, 3]);
    expect(await ids('d in (1234567.0123456788, 0.00000000001)')).toEqual([2]);
    expect(await ids('amount >= 0.0000001 and amount < 12345678.123456790')).toEqual([1, 3]);
    expect(await ids('amount > 0.0000001 and amount < 12345678.123456790')).toEqual([1]);
    // on the key column too (its conjuncts prune files and pages)
    expect(await ids('id > 1.00000000000000001 and id < 3')).toEqual([2]);
    expect(await ids('id in (1.00000000000000001, 2, 3.5)')).toEqual([2]);
  });
});
