// Quoted identifiers in the text filter: a column whose name holds a space, a dot, a quote, a
// keyword or letters beyond ASCII is written in double quotes ("" for a quote inside), as SQL and
// the Flight SQL statements of connector-flight write them. The object form could always name such
// columns; the docs did not say how the text form does, an empty "" named the column '', and an
// unknown left-hand column carried no code of its own (FILTER_UNKNOWN_COLUMN, as docs/errors.md says).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Field, Int32, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { evaluateFilter, normalizeFilter, parseFilter } from './index.js';
import { Lakehouse } from '../table/lakehouse.js';

const NAMES = ['id', 'a b', 'a.b', '"q"', 'and', '名前', 'date', ' pad '];
const schema = new Schema(NAMES.map((n) => new Field(n, n === 'id' ? new Int32() : new Utf8(), true)));
const batch = new Table(Object.fromEntries(NAMES.map((n) => [n, n === 'id' ? vectorFromArray([1, 2, 3], new Int32()) : vectorFromArray([`${n}1`, `${n}2`, null], new Utf8())]))).batches[0];

/** The error a filter's parse throws. */
const failure = (text: string, s?: Schema): LakeSoulError => {
  try {
    parseFilter(text, s);
  } catch (e) {
    expect(e).toBeInstanceOf(LakeSoulError);
    return e as LakeSoulError;
  }
  throw new Error(`no error for ${text}`);
};

describe('quoted identifiers in the text filter', () => {
  it('name columns with a space, a dot, a quote, a keyword, unicode or spaces at the ends', () => {
    expect(parseFilter(`"a b" = 'a b1'`, schema)).toEqual({ op: '=', column: 'a b', value: 'a b1' });
    expect(parseFilter(`"a.b" = 'x'`, schema)).toEqual({ op: '=', column: 'a.b', value: 'x' });
    expect(parseFilter(`a.b = 'x'`, schema)).toEqual({ op: '=', column: 'a.b', value: 'x' });
    expect(parseFilter(`"""q""" is null`, schema)).toEqual({ op: 'isNull', column: '"q"' });
    expect(parseFilter(`"and" = 'x' and "AND" is null`)).toEqual({ op: 'and', args: [{ op: '=', column: 'and', value: 'x' }, { op: 'isNull', column: 'AND' }] });
    expect(parseFilter(`"名前" in ('名前1', 'x')`, schema)).toEqual({ op: 'in', column: '名前', values: ['名前1', 'x'] });
    expect(parseFilter(`"date" = DATE '2024-01-01'`)).toEqual({ op: '=', column: 'date', value: new Date('2024-01-01T00:00:00Z') });
    expect(parseFilter(`" pad " like ' pad %'`, schema)).toEqual({ op: 'like', column: ' pad ', pattern: ' pad %' });
    // on either side of a comparison, and both sides
    expect(parseFilter(`'x' < "a b"`, schema)).toEqual({ op: '>', column: 'a b', value: 'x' });
    expect(parseFilter(`"a b" != "名前"`, schema)).toEqual({ op: 'compare', left: 'a b', cmp: '!=', right: '名前' });
    expect(parseFilter(`not "a.b" between 'a' and 'b'`, schema)).toEqual({ op: 'not', arg: { op: 'and', args: [{ op: '>=', column: 'a.b', value: 'a' }, { op: '<=', column: 'a.b', value: 'b' }] } });
    // the same as the object form
    expect(normalizeFilter(`"a b" = 'a b1'`, schema)).toEqual(normalizeFilter({ op: '=', column: 'a b', value: 'a b1' }, schema));
  });

  it('select the rows of those columns', () => {
    const rows = (text: string) => Array.from(evaluateFilter(parseFilter(text, schema), batch));
    expect(rows(`"a b" = 'a b2'`)).toEqual([0, 1, 0]);
    expect(rows(`"a.b" = 'a.b1' or """q""" = '"q"2'`)).toEqual([1, 1, 0]);
    expect(rows(`"and" is null and id = 3`)).toEqual([0, 0, 1]);
    expect(rows(`"名前" like '名前%'`)).toEqual([1, 1, 0]);
    expect(rows(`"date" = 'date1'`)).toEqual([1, 0, 0]);
  });

  it('refuse an unterminated quote or an empty name, naming the position', () => {
    const open = failure(`id = 1 and "a b = 'x'`);
    expect(open).toMatchObject({ kind: 'InvalidArgument', code: 'FILTER_SYNTAX', context: { position: 11 } });
    expect(open.message).toMatch(/^filter syntax error at position 11: unterminated quoted identifier: the " at position 11 has no closing "; a " inside a column name is written "" \(in: /);
    // a quote doubled inside is no end
    expect(failure(`"a""b = 1`).message).toMatch(/position 0: unterminated quoted identifier/);
    expect(failure(`"a b" = 'x`).message).toMatch(/position 8: unterminated string: the ' at position 8 has no closing '/);
    expect(failure(`"" = 1`)).toMatchObject({ code: 'FILTER_SYNTAX', message: expect.stringMatching(/position 0: empty quoted identifier ""/) });
    // an unquoted name with a space or letters beyond ASCII says how to write it
    expect(failure(`a b = 'x'`).message).toMatch(/position 2: expected a comparison, IN, BETWEEN, LIKE or IS after column 'a', found 'b'; a column name with spaces is written in double quotes: "a b"/);
    expect(failure(`名前 = 'x'`).message).toMatch(/position 0: unexpected character '名'; a column name with characters other than A-Z, a-z, 0-9, _, \$ and \. is written in double quotes/);
    expect(failure(`"a b" "c" = 1`).message).toMatch(/position 6: expected a comparison, IN, BETWEEN, LIKE or IS after column 'a b', found "c" \(in:/);
  });

  it('an unknown column is FILTER_UNKNOWN_COLUMN, listing the columns as a filter writes them', () => {
    const e = failure(`"a  b" = 1`, schema);
    expect(e).toMatchObject({ kind: 'InvalidArgument', code: 'FILTER_UNKNOWN_COLUMN', context: { column: 'a  b' } });
    expect(e.message).toBe(`filter names unknown column 'a  b' (columns: id, "a b", a.b, """q""", "and", "名前", "date", " pad ")`);
    expect(LakeSoulError.hasCode(e, 'FILTER_UNKNOWN_COLUMN')).toBe(true);
    expect(failure('x = y', schema)).toMatchObject({ code: 'FILTER_UNKNOWN_COLUMN', context: { column: 'x' } });
  });
});

describe('quoted identifiers through a table scan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-filter-quoted-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a scan filters on such columns', async () => {
    const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(dir).href });
    try {
      const t = await lh.createTable('odd_names', schema);
      await t.write(batch);
      const ids = async (filter: string) => {
        const read = await t.toArrow({ filter });
        return Array.from(read.getChild('id')!.toArray() as Int32Array).sort();
      };
      expect(await ids(`"a b" = 'a b2'`)).toEqual([2]);
      expect(await ids(`"""q""" in ('"q"1', '"q"2') and "名前" is not null`)).toEqual([1, 2]);
      expect(await ids(`"and" is null`)).toEqual([3]);
      await expect(t.toArrow({ filter: `"a b = 1` })).rejects.toMatchObject({ code: 'FILTER_SYNTAX', context: { position: 0 } });
    } finally {
      await lh.close();
    }
  });
});
