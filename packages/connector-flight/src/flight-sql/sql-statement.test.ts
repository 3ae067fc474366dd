import { describe, expect, it } from 'vitest';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { parseSqlSelect } from './sql-statement.js';

function refusal(sql: string): LakeSoulError {
  try {
    parseSqlSelect(sql);
  } catch (e) {
    if (LakeSoulError.is(e)) return e;
    throw e;
  }
  throw new Error(`${sql} was accepted`);
}

describe('parseSqlSelect', () => {
  it('maps the supported shape onto a read command', () => {
    expect(parseSqlSelect('SELECT id, score FROM default.events WHERE score > 0.5')).toEqual({
      read: { table: 'events', namespace: 'default', columns: ['id', 'score'], filter: 'score > 0.5' },
    });
    expect(parseSqlSelect('select * from events')).toEqual({ read: { table: 'events', namespace: 'default' } });
    expect(parseSqlSelect('SELECT "my col", b FROM lakesoul."ns x".t LIMIT 10;')).toEqual({
      read: { table: 't', namespace: 'ns x', columns: ['my col', 'b'] }, limit: 10,
    });
    expect(parseSqlSelect('SELECT a FROM t FOR VERSION AS OF 3 WHERE a = 1').read).toMatchObject({ version: 3, filter: 'a = 1' });
    expect(parseSqlSelect("SELECT a FROM t WHERE a = 1 FOR TIMESTAMP AS OF '2024-01-02T00:00:00Z' LIMIT 5")).toEqual({
      read: { table: 't', namespace: 'default', columns: ['a'], filter: 'a = 1', timestamp: Date.parse('2024-01-02T00:00:00Z') }, limit: 5,
    });
  });

  it('takes words with no space next to *, quotes and parentheses, as SQL does (SELECT*FROM t was refused)', () => {
    expect(parseSqlSelect('SELECT*FROM t')).toEqual({ read: { table: 't', namespace: 'default' } });
    expect(parseSqlSelect('select "a b"from"t"where(a = 1)limit 2')).toEqual({
      read: { table: 't', namespace: 'default', columns: ['a b'], filter: '(a = 1)' }, limit: 2,
    });
    expect(parseSqlSelect("SELECT * FROM t WHERE v = 'v2'LIMIT 1")).toEqual({ read: { table: 't', namespace: 'default', filter: "v = 'v2'" }, limit: 1 });
    expect(parseSqlSelect("SELECT * FROM t WHERE (id = 1)FOR VERSION AS OF 2")).toEqual({ read: { table: 't', namespace: 'default', filter: '(id = 1)', version: 2 } });
    // a word glued to another is one word: these are not SELECT a / FROM t / WHERE / LIMIT
    for (const sql of ['SELECTa FROM t', 'SELECT a FROMt', 'SELECT * FROM t WHEREa = 1']) {
      expect(() => parseSqlSelect(sql), sql).toThrow(LakeSoulError);
    }
    // a number glued to LIMIT stays in the filter, whose parse refuses it
    expect(parseSqlSelect('SELECT * FROM t WHERE a = 1LIMIT 2')).toEqual({ read: { table: 't', namespace: 'default', filter: 'a = 1LIMIT 2' } });
  });

  it('takes every statement under its own limit, however long its read command would be as JSON', () => {
    // 3,000 columns named by 12 backslashes: 45 KB of SQL, ~81 KB as a JSON read command
    const name = '\\'.repeat(12);
    const sql = `SELECT ${Array.from({ length: 3000 }, (_, i) => `"${name}${i}"`).join(',')} FROM t`;
    expect(Buffer.byteLength(sql)).toBeLessThan(65_536);
    expect(Buffer.byteLength(JSON.stringify(parseSqlSelect(sql).read))).toBeGreaterThan(65_536);
    expect(parseSqlSelect(sql).read.columns).toHaveLength(3000);
    expect(refusal(`SELECT ${Array(33_000).fill('id').join(',')} FROM t`).message).toMatch(/Flight SQL statement \(\d+ bytes\) exceeds the limit of 65536 bytes/);
    expect(refusal(`SELECT ${Array(5000).fill('id').join(',')} FROM t`).message)
      .toBe('the column list of a Flight SQL statement (5000 columns) exceeds the limit of 4096 columns (SQL_MAX_COLUMNS_IN_SELECT; SELECT * reads every column)');
  });

  it('keeps keywords inside string literals and quoted names in the filter', () => {
    const r = parseSqlSelect("SELECT a FROM t WHERE label = 'x LIMIT 3 FOR VERSION AS OF 2' AND \"LIMIT\" = 'it''s'");
    expect(r.read.filter).toBe("label = 'x LIMIT 3 FOR VERSION AS OF 2' AND \"LIMIT\" = 'it''s'");
    expect(r.limit).toBeUndefined();
    expect(r.read.version).toBeUndefined();
  });

  it('refuses everything else with INVALID_ARGUMENT naming the supported subset', () => {
    for (const sql of ['DELETE FROM t', 'SELECT a + 1 FROM t', 'SELECT a FROM t JOIN u ON t.a = u.a', 'SELECT a FROM t ORDER BY a', 'SELECT a FROM t LIMIT -1', "SELECT a FROM t WHERE b = 'open"]) {
      const e = refusal(sql);
      expect(e.kind, sql).toBe('InvalidArgument');
      expect(e.message, sql).toContain('SELECT * | col, ... FROM [namespace.]table [WHERE <filter>]');
    }
    expect(refusal('UPDATE t SET a = 1').message).toContain('UPDATE statements are not served');
    expect(refusal('SELECT a FROM t FOR VERSION AS OF 1 WHERE a = 1 FOR VERSION AS OF 2').message).toContain('more than one FOR ... AS OF');
    // quoted as written (it was shown rounded: 100000000000000000000)
    expect(refusal('SELECT a FROM t FOR VERSION AS OF 99999999999999999999').message).toContain('FOR VERSION AS OF 99999999999999999999 is out of range');
    expect(refusal('SELECT a FROM other.ns.t').kind).toBe('NotFound');
    expect(refusal("SELECT a FROM t FOR TIMESTAMP AS OF 'not a date'").message).toMatch(/"timestamp" must be epoch milliseconds or an ISO-8601/);
    for (const sql of ['SELECT a FROM t WHERE', 'SELECT a FROM t WHERE   ', 'SELECT a FROM tWHERE a = 1']) {
      expect(refusal(sql).kind, sql).toBe('InvalidArgument');
    }
  });

  it('takes clauses apart around any whitespace, in time linear in the statement', () => {
    expect(parseSqlSelect('  select a\nfrom t\twhere a = 1\n\nfor version as of 2\r\n limit\t7 ;\n ')).toEqual({
      read: { table: 't', namespace: 'default', columns: ['a'], filter: 'a = 1', version: 2 }, limit: 7,
    });
    expect(parseSqlSelect('SELECT a FROM t ;').read).toEqual({ table: 't', namespace: 'default', columns: ['a'] });
    expect(parseSqlSelect('SELECT a FROM t WHERE format = 1 FOR VERSION AS OF 3').read).toMatchObject({ filter: 'format = 1', version: 3 });
    expect(parseSqlSelect('SELECT a FROM t WHERE a = 1 FOR VERSION AS OF 3 AND b = 2').read.filter).toBe('a = 1 FOR VERSION AS OF 3 AND b = 2');
    // a regular expression with a lazy filter group took 45 s on 7,000 spaces (cubic in the run)
    const t0 = performance.now();
    for (const ws of [' ', '\t', '\n']) {
      expect(refusal(`SELECT * FROM images WHERE id = 1${ws.repeat(60_000)}x`).kind).toBe('InvalidArgument');
      expect(refusal(`SELECT * FROM images${ws.repeat(60_000)}x`).kind).toBe('InvalidArgument');
      expect(parseSqlSelect(`SELECT * FROM images WHERE id = 1${ws.repeat(60_000)}LIMIT 3`).limit).toBe(3);
    }
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('refuses query parameters (?, $1, :name) outside quotes, saying to write literal values', () => {
    for (const [sql, param, at] of [
      ['SELECT * FROM events WHERE id = ?', '?', 33],
      ["SELECT a FROM t WHERE b = 'x' AND c = $12", '$12', 39],
      ['SELECT a FROM t WHERE a = :name LIMIT 3', ':name', 27],
      ['SELECT a FROM t LIMIT ?', '?', 23],
    ] as const) {
      const e = refusal(sql);
      expect(e, sql).toMatchObject({ kind: 'InvalidArgument', code: 'FLIGHT_SQL_UNSUPPORTED_STATEMENT' });
      expect(e.message, sql).toContain(`query parameters are not supported (${param} at character ${at}): write the values into the statement as literals`);
      expect(e.message, sql).toContain('SELECT * | col, ... FROM [namespace.]table');
    }
  });

  it('reads ?, $1 and :name inside string literals and quoted names, and $ inside a name, as text', () => {
    expect(parseSqlSelect(`SELECT "a?", "b:c" FROM "t$1" WHERE x = 'why? $1 :name' AND "?" = 'it''s?'`)).toEqual({
      read: { table: 't$1', namespace: 'default', columns: ['a?', 'b:c'], filter: `x = 'why? $1 :name' AND "?" = 'it''s?'` },
    });
    expect(parseSqlSelect('SELECT a$1 FROM t WHERE a$1 = 2').read).toMatchObject({ columns: ['a$1'], filter: 'a$1 = 2' });
    // '::' is no parameter: the filter's own parser refuses it when the read is planned
    expect(parseSqlSelect('SELECT a FROM t WHERE a::int = 1').read.filter).toBe('a::int = 1');
  });
});
