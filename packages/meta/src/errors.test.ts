import { describe, expect, it } from 'vitest';
import { LakeSoulError } from './errors.js';

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
});
