import { describe, expect, it } from 'vitest';
import { BearerAuth } from './bearer-auth.js';

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('BearerAuth', () => {
  it('lets everything through when no token or user is configured', () => {
    const a = new BearerAuth({ secret: 'x'.repeat(16) });
    expect(a.enabled).toBe(false);
    expect(a.authenticate([]).via).toBe('anonymous');
  });

  it('accepts configured bearer tokens and refuses others', () => {
    const a = new BearerAuth({ secret: 'x'.repeat(16), tokens: ['t0ken'] });
    expect(a.enabled).toBe(true);
    expect(a.authenticate(['Bearer t0ken']).via).toBe('token');
    expect(() => a.authenticate(['Bearer wrong'])).toThrow(/invalid bearer token/);
    expect(() => a.authenticate([])).toThrow(/authentication required/);
    // each token is its own caller, named by its position
    expect(new BearerAuth({ secret: 'x'.repeat(16), tokens: ['a', 'b'] }).authenticate(['Bearer b'])).toEqual({ user: 'token 2', via: 'token' });
  });

  it('refuses an empty token or password instead of turning auth off', () => {
    // `--token "$UNSET"` on 0.0.0.0 served every table to anyone
    for (const tokens of [[''], ['ok', '']]) expect(() => new BearerAuth({ secret: 'x'.repeat(16), tokens })).toThrow(/an empty bearer token would accept any caller/);
    expect(() => new BearerAuth({ secret: 'x'.repeat(16), tokens: [' tok'] })).toThrow(/begins or ends with white space/);
    expect(() => new BearerAuth({ secret: 'x'.repeat(16), users: { alice: '' } })).toThrow(/user 'alice' has an empty password/);
    expect(() => new BearerAuth({ secret: 'x'.repeat(16), users: { '': 'pw' } })).toThrow(/has an empty name/);
  });

  it('issues signed tokens for Basic credentials, valid on another replica, until they expire', () => {
    let now = 0;
    const a = new BearerAuth({ secret: 'x'.repeat(16), users: { alice: 'pw' }, tokenTtlMs: 1000, now: () => now });
    expect(() => a.checkBasic(basic('alice', 'nope'))).toThrow(/invalid user name or password/);
    expect(() => a.checkBasic(basic('bob', 'pw'))).toThrow(/invalid user name or password/);
    const token = a.issueToken(a.checkBasic(basic('alice', 'pw')));
    const replica = new BearerAuth({ secret: 'x'.repeat(16), users: { alice: 'pw' }, now: () => now });
    expect(replica.authenticate([`Bearer ${token}`]).user).toBe('alice');
    const other = new BearerAuth({ secret: 'y'.repeat(16), users: { alice: 'pw' }, now: () => now });
    expect(() => other.authenticate([`Bearer ${token}`])).toThrow(/invalid bearer token/);
    now = 1000;
    expect(() => a.authenticate([`Bearer ${token}`])).toThrow(/expired/);
  });

  it('quotes at most 64 characters of a refused user name, control characters escaped', () => {
    const a = new BearerAuth({ secret: 'x'.repeat(16), users: { alice: 'pw' } });
    const refusal = (header: string) => {
      try {
        a.checkBasic(header);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('not refused');
    };
    const long = refusal(basic(`\u001b[31m${'u'.repeat(3000)}`, 'x'));
    expect(long).not.toContain('\u001b');
    expect(long).toContain("'\\u001b[31muuu");
    expect(long).toMatch(/\.\.\. \(3005 characters\)$/);
    expect(long.length).toBeLessThan(160);
    expect(refusal(basic('bob', 'x'))).toBe("invalid user name or password for 'bob'");
  });
});
