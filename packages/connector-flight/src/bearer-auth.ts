/**
 * Authentication of Flight calls: operator-configured bearer tokens, and HTTP Basic credentials
 * exchanged in `Handshake` for a signed, expiring bearer token (what `pyarrow.flight`'s
 * `authenticate_basic_token` does). Issued tokens are HMAC-signed with the ticket secret and bound
 * to the user's configured password, so every replica sharing the secret and the user accepts them,
 * and no server accepts one for a user it does not have (a removed user, a changed password). A
 * server with auth off signs nothing: its Handshake answers {@link AUTH_OFF_TOKEN}, which no server
 * accepts.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { LakeSoulError, MIN_UNGUESSABLE_TOKEN_CHARS } from '@lakesoul-ts/meta';
import { shownName } from './flight-limits.js';

/** Options of {@link BearerAuth}. */
export interface BearerAuthOptions {
  /** Static bearer tokens accepted on every call. */
  tokens?: string[];
  /** Basic credentials (user -> password) accepted by Handshake. */
  users?: Record<string, string>;
  /** Key for issued tokens (the server's ticket secret). */
  secret: string | Uint8Array;
  /** Lifetime of tokens issued by Handshake (default 12 hours). */
  tokenTtlMs?: number;
  /** The clock, in ms since the epoch (default `Date.now`; tests set it to expire tokens). */
  now?: () => number;
}

/**
 * The token a server with auth off answers every Handshake with (so clients that always
 * authenticate work unchanged). It is not signed, and a server with auth on refuses it: replicas
 * share the ticket secret, and a signed token from a server that checks no password would otherwise
 * open every replica that does.
 */
export const AUTH_OFF_TOKEN = 'lakesoul-ts-auth-off';


/** Who made a call. */
export interface Principal {
  user: string;
  via: 'token' | 'basic' | 'anonymous';
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.byteLength === y.byteLength && timingSafeEqual(x, y);
}

/** Checks `authorization` headers and issues tokens for Basic credentials. */
export class BearerAuth {
  /** True when at least one token or user is configured: calls then need credentials. */
  readonly enabled: boolean;
  private readonly tokens: string[];
  /** Principal names of the configured tokens of at least {@link MIN_UNGUESSABLE_TOKEN_CHARS} characters. */
  private readonly longTokens: Set<string>;
  private readonly users: Record<string, string>;
  private readonly key: Buffer;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: BearerAuthOptions) {
    // a string was spread into its characters: each became a token ('c' read every table), the whole one was refused
    if (options.tokens !== undefined && !Array.isArray(options.tokens)) {
      throw new LakeSoulError('InvalidArgument', `tokens must be an array of strings, got ${typeof options.tokens === 'string' ? 'a string (each of its characters would have been a token): give [token]' : typeof options.tokens}`, { code: 'INVALID_OPTION_VALUE', context: { option: 'tokens' } });
    }
    if (options.users !== undefined && (options.users === null || typeof options.users !== 'object' || Array.isArray(options.users))) {
      throw new LakeSoulError('InvalidArgument', `users must be an object of user names to passwords, got ${Array.isArray(options.users) ? 'an array' : String(options.users)}`, { code: 'INVALID_OPTION_VALUE', context: { option: 'users' } });
    }
    // an empty list (a variable split on ',' when unset) started a server without auth, saying nothing
    const noCredential = !options.tokens?.length && Object.keys(options.users ?? {}).length === 0;
    if (noCredential && (options.tokens !== undefined || options.users !== undefined)) {
      throw new LakeSoulError('InvalidArgument', `${options.tokens?.length === 0 ? 'tokens is an empty list' : 'users is an empty object'}, which would turn authentication off: give at least one, or leave tokens and users out to serve without auth`, { code: 'EMPTY_CREDENTIAL' });
    }
    this.tokens = [...(options.tokens ?? [])];
    // An empty secret was dropped, and with no other credential the server ran without auth (`--token
    // "$UNSET_VARIABLE"` on 0.0.0.0 served every table to anyone, saying "auth: bearer token").
    if (this.tokens.some((t) => typeof t !== 'string' || t.length === 0)) {
      throw new LakeSoulError('InvalidArgument', 'an empty bearer token would accept any caller: give a non-empty token (is the variable passed to --token, or LAKESOUL_FLIGHT_TOKENS, set?)', { code: 'EMPTY_CREDENTIAL' });
    }
    // HTTP drops white space around a header value: such a token could never be presented
    if (this.tokens.some((t) => t.trim() !== t)) {
      throw new LakeSoulError('InvalidArgument', 'a bearer token begins or ends with white space, which no client can send (headers drop it): remove it', { code: 'EMPTY_CREDENTIAL' });
    }
    this.longTokens = new Set(this.tokens.flatMap((t, i) => (t.length >= MIN_UNGUESSABLE_TOKEN_CHARS ? [`token ${i + 1}`] : [])));
    this.users = options.users ?? {};
    for (const [user, password] of Object.entries(this.users)) {
      if (user.length === 0 || typeof password !== 'string' || password.length === 0) {
        throw new LakeSoulError('InvalidArgument', `user '${user}' has an empty ${user.length === 0 ? 'name' : 'password'}: give both (--user name:password)`, { code: 'EMPTY_CREDENTIAL', context: { user } });
      }
    }
    this.enabled = this.tokens.length > 0 || Object.keys(this.users).length > 0;
    const secret = typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : Buffer.from(options.secret);
    this.key = createHmac('sha256', secret).update('lakesoul-ts flight bearer v1').digest();
    this.ttlMs = options.tokenTtlMs ?? 12 * 3_600_000;
    // '3600000' was added to the clock as text: every token issued was then refused as invalid
    if (!(typeof this.ttlMs === 'number' && this.ttlMs > 0 && Number.isFinite(this.ttlMs))) {
      throw new LakeSoulError('InvalidArgument', `tokenTtlMs must be a positive number of milliseconds, got ${typeof this.ttlMs === 'string' ? `'${this.ttlMs}'` : String(this.ttlMs)}`, { code: 'INVALID_OPTION_VALUE', context: { option: 'tokenTtlMs' } });
    }
    this.now = options.now ?? Date.now;
  }

  /** Checks Basic credentials (`Basic base64(user:password)`); returns the user. */
  checkBasic(header: string): string {
    const m = /^Basic\s+(\S+)$/i.exec(header.trim());
    if (!m) throw new LakeSoulError('Unauthenticated', 'expected an "authorization: Basic ..." header');
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    const want = Object.prototype.hasOwnProperty.call(this.users, user) ? this.users[user] : undefined;
    // compare even for unknown users, so timing does not reveal which users exist
    const ok = safeEqual(password, want ?? '\u0000invalid') && want !== undefined;
    if (!ok) {
      // the name is the client's input: quoted short, control characters escaped (docs/flight.md)
      const shown = shownName(user);
      throw new LakeSoulError('Unauthenticated', `invalid user name or password for ${shown === user ? `'${user}'` : shown}`, { code: 'BAD_CREDENTIALS' });
    }
    return user;
  }

  /**
   * Issues a signed bearer token for `user`, one of the configured users (see {@link checkBasic}).
   * The signature covers the user's password: the token is valid where that user has that password
   * (and the secret is the same), until it expires.
   */
  issueToken(user: string): string {
    const password = this.passwordOf(user);
    if (password === undefined) {
      throw new LakeSoulError('InvalidArgument', `cannot issue a bearer token for '${user}': not a user of this server${this.enabled ? '' : ' (auth is off: no users are configured)'}`, { code: 'TOKEN_USER_UNKNOWN' });
    }
    const body = Buffer.from(JSON.stringify({ u: user, e: this.now() + this.ttlMs }), 'utf8').toString('base64url');
    return `lst1.${body}.${this.mac(body, password)}`;
  }

  private passwordOf(user: string): string | undefined {
    return Object.prototype.hasOwnProperty.call(this.users, user) ? this.users[user] : undefined;
  }

  /** The signature of a token's body for a user with `password` (the NUL cannot occur in base64url). */
  private mac(body: string, password: string): string {
    return createHmac('sha256', this.key).update(body).update('\u0000').update(password, 'utf8').digest('base64url');
  }

  private checkIssued(token: string): Principal | null {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== 'lst1') return null;
    let claims: { u?: unknown; e?: unknown };
    try {
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { u?: unknown; e?: unknown };
    } catch {
      return null;
    }
    const { u, e } = claims ?? {};
    if (typeof u !== 'string' || typeof e !== 'number') return null;
    // only a user configured here, with the password the token was issued for: a token of a removed
    // user, or issued before a password change, is refused like a forged one (nothing tells which users exist)
    const password = this.passwordOf(u);
    if (!safeEqual(parts[2], this.mac(parts[1], password ?? '\u0000unknown user')) || password === undefined) return null;
    if (this.now() >= e) throw new LakeSoulError('Unauthenticated', `bearer token of '${u}' expired at ${new Date(e).toISOString()}; authenticate again`);
    return { user: u, via: 'basic' };
  }

  /**
   * True when `principal` authenticated with a credential no guessing finds: a token issued by
   * Handshake (signed), or a configured token of at least {@link MIN_UNGUESSABLE_TOKEN_CHARS}
   * characters. The Flight server accepts these even from a client host that other clients' failed
   * logins have locked; a password or a shorter token from such a host is refused, right or wrong,
   * so that guessing them stays bounded.
   */
  unguessable(principal: Principal): boolean {
    return principal.via === 'basic' || (principal.via === 'token' && this.longTokens.has(principal.user));
  }

  /**
   * Authenticates a call from its `authorization` header values. With auth off every call passes as
   * anonymous. Throws an `Unauthenticated` LakeSoulError otherwise.
   */
  authenticate(headers: string[]): Principal {
    if (!this.enabled) return { user: 'anonymous', via: 'anonymous' };
    const header = headers.find((h) => /^Bearer\s/i.test(h.trim()));
    if (!header) {
      throw new LakeSoulError('Unauthenticated', headers.length
        ? 'expected an "authorization: Bearer <token>" header (use Handshake to exchange Basic credentials for a token)'
        : 'authentication required: send "authorization: Bearer <token>"');
    }
    const token = header.trim().replace(/^Bearer\s+/i, '');
    // each static token is its own caller (per-caller bounds), named by its position, never by its value
    for (let i = 0; i < this.tokens.length; i++) if (safeEqual(token, this.tokens[i])) return { user: `token ${i + 1}`, via: 'token' };
    const issued = this.checkIssued(token);
    if (issued) return issued;
    if (token === AUTH_OFF_TOKEN) {
      throw new LakeSoulError('Unauthenticated', 'invalid bearer token: it was answered by a Flight server with auth off, which signs no token; authenticate with this server (Handshake with a user it has, or one of its tokens)');
    }
    throw new LakeSoulError('Unauthenticated', 'invalid bearer token (a token from Handshake is valid only where its user has the same password and the ticket secret is the same, until it expires): authenticate again', { code: 'BAD_CREDENTIALS' });
  }
}
