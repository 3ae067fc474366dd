/**
 * A bound on credential guessing: each client host may fail authentication a few times in a row,
 * then once per interval. A host past its allowance is refused whatever credentials it sends, so
 * guessing a password or a token from one host runs at {@link FailedLoginLimiterOptions.refillMs}
 * per guess, however fast the client asks. Used by the Flight server (Handshake's Basic credentials,
 * bearer tokens on every call) and the web UI (its bearer tokens).
 *
 * A failure names the wrong credential it sent (`fail(host, credential)`): the same wrong credential
 * sent again from the host is no new guess and spends nothing, so a client retrying a stale token
 * does not lock out the other clients behind its address (a NAT, a load balancer). Only a keyed hash
 * of it is kept, the last {@link SEEN_PER_HOST} per host.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { LakeSoulError } from './errors.js';

/** Options of {@link FailedLoginLimiter}. */
export interface FailedLoginLimiterOptions {
  /** Failures a host may have in a row before it is slowed down (default 10). */
  burst?: number;
  /** One more failure allowed per this many ms once the burst is spent (default 6,000: 10 a minute). */
  refillMs?: number;
  /** Hosts tracked at once (default 10,000); further hosts share one allowance until entries refill. */
  maxHosts?: number;
  /** The clock in ms (default `Date.now`; tests move it). */
  now?: () => number;
}

/** Default of {@link FailedLoginLimiterOptions.burst}. */
export const FAILED_LOGIN_BURST = 10;
/** Default of {@link FailedLoginLimiterOptions.refillMs}. */
export const FAILED_LOGIN_REFILL_MS = 6_000;

/**
 * Characters from which a configured bearer token counts as one no guessing finds (`openssl rand
 * -hex 16` gives 32): such a token, like a token issued by Handshake (an HMAC-SHA256), is accepted
 * even from a client host locked for failed logins (the Flight server's `BearerAuth.unguessable`, the web UI's token check). A shorter
 * token, and a password, could be guessed: from a locked host they are refused like wrong ones.
 */
export const MIN_UNGUESSABLE_TOKEN_CHARS = 32;

/** Key of the allowance shared by hosts beyond `maxHosts`. */
const OVERFLOW = '\u0000other hosts';

/** Wrong credentials remembered per host (their keyed hashes), so that sending one again spends nothing. */
const SEEN_PER_HOST = 16;

interface Allowance {
  /** Failures the host may still have (fractional: refilled with time). */
  left: number;
  /** When `left` was last brought up to date. */
  at: number;
  /** Hashes of the wrong credentials the host spent failures on, oldest first. */
  seen?: string[];
}

/** Token buckets of failed logins per client host. */
export class FailedLoginLimiter {
  private readonly burst: number;
  private readonly refillMs: number;
  private readonly maxHosts: number;
  private readonly now: () => number;
  private readonly hosts = new Map<string, Allowance>();
  /** Key of the hashes of wrong credentials (never stored as sent). */
  private readonly hashKey = randomBytes(32);

  constructor(options: FailedLoginLimiterOptions = {}) {
    this.burst = options.burst ?? FAILED_LOGIN_BURST;
    this.refillMs = options.refillMs ?? FAILED_LOGIN_REFILL_MS;
    this.maxHosts = options.maxHosts ?? 10_000;
    this.now = options.now ?? Date.now;
    for (const [name, v] of [['burst', this.burst], ['refillMs', this.refillMs], ['maxHosts', this.maxHosts]] as const) {
      if (!(Number.isFinite(v) && v >= 1)) throw new LakeSoulError('InvalidArgument', `FailedLoginLimiter ${name} must be a number >= 1, got ${String(v)}`);
    }
  }

  /**
   * Throws RESOURCE_EXHAUSTED (kind `Aborted`, retryable, `context.retryAfterMs`) when `host` has no
   * failure left to spend: call it before checking the credentials of a request from `host`.
   */
  check(host: string, what: string): void {
    const refusal = this.refusal(host, what);
    if (refusal) throw refusal;
  }

  /**
   * The error {@link check} throws, or undefined when `host` may still fail. For a caller that checks
   * the credentials anyway and still accepts those no guessing can find (the Flight server's signed
   * tokens): it must refuse everything else with this error, right credentials or wrong, so that a
   * locked host learns nothing from a guess.
   */
  refusal(host: string, what: string): LakeSoulError | undefined {
    const a = this.current(this.keyOf(host));
    if (a === undefined || a.left >= 1) return undefined;
    const retryAfterMs = Math.ceil((1 - a.left) * this.refillMs);
    return new LakeSoulError('Aborted', `${what}: too many failed logins from host ${host}; retry in ${Math.ceil(retryAfterMs / 1000)} s with the right credentials`, {
      code: 'RESOURCE_EXHAUSTED', retryable: true, context: { host, retryAfterMs },
    });
  }

  /**
   * Spends one of `host`'s failures (its credentials were wrong). With `credential` (what the host
   * sent, e.g. the `authorization` header), a wrong credential the host already spent a failure on
   * spends nothing again: it is no new guess (a client retrying a stale token).
   */
  fail(host: string, credential?: string): void {
    if (!this.hosts.has(host) && this.hosts.size >= this.maxHosts) this.forgetRefilled();
    const key = this.keyOf(host);
    const a = this.current(key) ?? { left: this.burst, at: this.now() };
    if (credential !== undefined) {
      const hash = createHmac('sha256', this.hashKey).update(credential, 'utf8').digest('base64url').slice(0, 22);
      if (a.seen?.includes(hash)) return;
      a.seen = [...(a.seen ?? []).slice(-(SEEN_PER_HOST - 1)), hash];
    }
    a.left = Math.max(0, a.left - 1);
    this.hosts.set(key, a);
  }

  /** Hosts with failures not yet refilled (for tests and stats). */
  get trackedHosts(): number {
    return this.hosts.size;
  }

  /** The host's own key, or the shared one when `maxHosts` others are tracked (the shared one not counted). */
  private keyOf(host: string): string {
    return this.hosts.has(host) || this.hosts.size - (this.hosts.has(OVERFLOW) ? 1 : 0) < this.maxHosts ? host : OVERFLOW;
  }

  /** The host's allowance brought up to now, or undefined when it has none recorded. */
  private current(key: string): Allowance | undefined {
    const a = this.hosts.get(key);
    if (a === undefined) return undefined;
    const t = this.now();
    a.left = Math.min(this.burst, a.left + Math.max(0, t - a.at) / this.refillMs);
    a.at = t;
    return a;
  }

  private forgetRefilled(): void {
    for (const key of [...this.hosts.keys()]) {
      if ((this.current(key)?.left ?? this.burst) >= this.burst) this.hosts.delete(key);
    }
  }
}
