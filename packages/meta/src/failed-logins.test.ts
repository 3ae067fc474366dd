import { describe, expect, it } from 'vitest';
import { FailedLoginLimiter } from './failed-logins.js';
import { LakeSoulError } from './errors.js';

function refusal(f: () => void): LakeSoulError | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return e as LakeSoulError;
  }
}

describe('FailedLoginLimiter', () => {
  it('lets a host fail `burst` times, then once per refill interval, each host apart', () => {
    let now = 0;
    const limiter = new FailedLoginLimiter({ burst: 3, refillMs: 1_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      limiter.check('10.0.0.1', 'login');
      limiter.fail('10.0.0.1');
    }
    const e = refusal(() => limiter.check('10.0.0.1', 'login'));
    expect(e).toMatchObject({ kind: 'Aborted', code: 'RESOURCE_EXHAUSTED', retryable: true, context: { host: '10.0.0.1', retryAfterMs: 1_000 } });
    expect(e!.message).toBe('login: too many failed logins from host 10.0.0.1; retry in 1 s with the right credentials');
    limiter.check('10.0.0.2', 'login');
    now = 400;
    expect(refusal(() => limiter.check('10.0.0.1', 'login'))?.context.retryAfterMs).toBe(600);
    now = 1_000;
    limiter.check('10.0.0.1', 'login');
    limiter.fail('10.0.0.1');
    expect(refusal(() => limiter.check('10.0.0.1', 'login'))).toBeDefined();
    // refilled to the burst, never beyond it
    now = 100_000;
    for (let i = 0; i < 3; i++) limiter.fail('10.0.0.1');
    expect(refusal(() => limiter.check('10.0.0.1', 'login'))).toBeDefined();
  });

  it('tracks at most maxHosts hosts: refilled ones are forgotten, the rest share one allowance', () => {
    let now = 0;
    const limiter = new FailedLoginLimiter({ burst: 2, refillMs: 1_000, maxHosts: 2, now: () => now });
    limiter.fail('a');
    limiter.fail('b');
    // a third host while both are still limited shares the overflow allowance
    limiter.fail('c');
    limiter.fail('d');
    expect(limiter.trackedHosts).toBe(3);
    expect(refusal(() => limiter.check('e', 'login'))).toBeDefined();
    limiter.check('a', 'login');
    now = 10_000;
    limiter.fail('f');
    expect(limiter.trackedHosts).toBe(1);
    limiter.check('c', 'login');
  });

  it('refuses settings that would disable it', () => {
    expect(() => new FailedLoginLimiter({ burst: 0 })).toThrow(/burst must be a number >= 1, got 0/);
    expect(() => new FailedLoginLimiter({ refillMs: Number.NaN })).toThrow(/refillMs/);
  });
});
