import { describe, expect, it } from 'vitest';
import { LakeSoulError, inputText } from './errors.js';

describe('LakeSoulError', () => {
  it('derives a stable code from the kind and keeps context and cause', () => {
    const cause = new Error('boom');
    const e = new LakeSoulError('NotFound', "table 'x' not found", { context: { table: 'x' }, cause });
    expect(e.code).toBe('NOT_FOUND');
    expect(e.context.table).toBe('x');
    expect(e.cause).toBe(cause);
    expect(LakeSoulError.is(e, 'NotFound')).toBe(true);
    expect(LakeSoulError.is(e, 'Conflict')).toBe(false);
  });

  it('branches on typed codes: hasCode matches only the listed codes, and a misspelt code does not compile', () => {
    const e = new LakeSoulError('Conflict', 'x', { code: 'TRANSACTION_CONFLICT', retryable: true });
    expect(LakeSoulError.hasCode(e, 'COMMIT_CONFLICT', 'TRANSACTION_CONFLICT')).toBe(true);
    expect(LakeSoulError.hasCode(e, 'COMMIT_CONFLICT')).toBe(false);
    expect(LakeSoulError.hasCode(new Error('TRANSACTION_CONFLICT'), 'TRANSACTION_CONFLICT')).toBe(false);
    // @ts-expect-error 'COMIT_CONFLICT' is not a LakeSoulErrorCode (checked by `pnpm lint`: tsc over the tests)
    expect(LakeSoulError.hasCode(e, 'COMIT_CONFLICT')).toBe(false);
  });
});

describe('mapConnectError', () => {
  it('says to give a user name when the URL has none and the server refused the OS user', async () => {
    const { mapConnectError } = await import('./sql-driver.js');
    const refused = Object.assign(new Error('role "root" does not exist'), { code: '28000' });
    const e = mapConnectError(refused, 'postgres://db:5432/lakesoul');
    expect(e.message).toMatch(/role "root" does not exist; no user name was given for postgres:\/\/db:5432\/lakesoul: set LAKESOUL_PG_USERNAME/);
    // a user was given: the server's own words are enough
    expect(mapConnectError(refused, 'postgres://ls:***@db:5432/lakesoul').message).not.toMatch(/LAKESOUL_PG_USERNAME/);
  });
});

describe('inputText', () => {
  it('shows bigints as 10n and never throws (a bigint made JSON.stringify throw a TypeError in place of the error)', () => {
    expect(inputText({ p: 10n, q: 'a', r: [1, -2n] })).toBe('{"p":10n,"q":"a","r":[1,-2n]}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(inputText(cyclic)).toBe('[object Object]');
    expect(inputText(undefined)).toBe('undefined');
    expect(inputText(5n)).toBe('5n');
    // a string that reads like a bigint stays a string
    expect(inputText({ p: '10n' })).toBe('{"p":"10n"}');
  });
});
