import { describe, expect, it } from 'vitest';
import { MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, normalizeFilter, parseFilter } from './filter-parse.js';

describe('filter limits', () => {
  it('refuses nesting deeper than MAX_FILTER_DEPTH in strings (parentheses, NOT) and ASTs, naming the limit', () => {
    const ok = `${'('.repeat(MAX_FILTER_DEPTH)}id > 1${')'.repeat(MAX_FILTER_DEPTH)}`;
    expect(parseFilter(ok)).toEqual({ op: '>', column: 'id', value: 1 });
    expect(() => parseFilter(`${'('.repeat(10_000)}id > 1${')'.repeat(10_000)}`)).toThrow(/depth 64/);
    expect(() => parseFilter(`${'not '.repeat(5000)}id > 1`)).toThrow(expect.objectContaining({ code: 'LIMIT_EXCEEDED' }));
    let ast: unknown = { op: '=', column: 'id', value: 1 };
    for (let i = 0; i < 5000; i++) ast = { op: 'not', arg: ast };
    expect(() => normalizeFilter(ast as never)).toThrow(/depth 64/);
    let and: unknown = { op: '=', column: 'id', value: 1 };
    for (let i = 0; i < 200; i++) and = { op: 'and', args: [and, { op: '=', column: 'id', value: i }] };
    expect(() => normalizeFilter(and as never)).toThrow(expect.objectContaining({ code: 'LIMIT_EXCEEDED' }));
  });

  it('refuses filters longer than MAX_FILTER_LENGTH and quotes only a prefix of bad input', () => {
    expect(() => parseFilter(`id in (${'1,'.repeat(MAX_FILTER_LENGTH)}1)`)).toThrow(/exceeds the limit of 65536 characters/);
    const junk = `id = = ${'x'.repeat(50_000)}`;
    let message = '';
    try {
      parseFilter(junk);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/syntax error/);
    expect(message.length).toBeLessThan(600);
    expect(() => normalizeFilter({ op: 'x'.repeat(100_000) } as never)).toThrow(expect.objectContaining({ message: expect.stringMatching(/^.{0,600}$/s) }));
  });
});
