/**
 * Self-describing, signed Flight tickets. A ticket carries everything needed to read one split
 * (the split and the serializable part of its scan plan), compressed, with an expiration time and an
 * HMAC-SHA256 over both. Any server holding the secret can redeem it, clients may retry it until it
 * expires, and a client cannot alter what it reads without invalidating the signature.
 *
 * Layout: `LST1` | uint64 BE expiration (epoch ms) | deflate-raw(JSON payload) | 32-byte HMAC.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { LakeSoulError } from '@lakesoul-ts/meta';

const MAGIC = Buffer.from('LST1', 'ascii');
const MAC_BYTES = 32;
const MIN_BYTES = MAGIC.length + 8 + MAC_BYTES;
/** Bytes a ticket payload may inflate to (matches flight-limits' MAX_TICKET_PAYLOAD_BYTES). */
const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/** Options of {@link HmacTicketSigner}. */
export interface TicketSignerOptions {
  /** Shared secret of all replicas (at least 16 bytes). */
  secret: string | Uint8Array;
  /** Lifetime of a ticket in ms (default 1 hour). */
  ttlMs?: number;
  /** Clock, for tests (default Date.now). */
  now?: () => number;
}

/** A ticket's verified content. */
export interface VerifiedTicket<T> {
  payload: T;
  /** Expiration, epoch ms. */
  expiresAt: number;
}

/** Signs and verifies tickets; see the module comment for the format. */
export class HmacTicketSigner {
  readonly ttlMs: number;
  private readonly key: Buffer;
  private readonly now: () => number;

  constructor(options: TicketSignerOptions) {
    if (typeof options.secret !== 'string' && !(options.secret instanceof Uint8Array)) {
      throw new LakeSoulError('InvalidArgument',
        `ticketSecret is required: a string or bytes of at least 16 bytes, the same on every replica (e.g. from an environment variable such as FLIGHT_TICKET_SECRET); got ${options.secret === undefined ? 'undefined' : typeof options.secret}`,
        { code: 'TICKET_SECRET_REQUIRED' });
    }
    const secret = typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : Buffer.from(options.secret);
    if (secret.byteLength < 16) {
      throw new LakeSoulError('InvalidArgument', `ticketSecret must be at least 16 bytes long, got ${secret.byteLength}`, { code: 'TICKET_SECRET_REQUIRED' });
    }
    // Derive a ticket-specific key so the same secret can key other things (bearer tokens).
    this.key = createHmac('sha256', secret).update('lakesoul-ts flight ticket v1').digest();
    this.ttlMs = options.ttlMs ?? 3_600_000;
    // '60000' passed `> 0` and was added to the clock as text: tickets valid for millions of years
    if (!(typeof this.ttlMs === 'number' && this.ttlMs > 0 && Number.isFinite(this.ttlMs))) {
      throw new LakeSoulError('InvalidArgument', `ticketTtlMs must be a positive number of milliseconds, got ${typeof this.ttlMs === 'string' ? `'${this.ttlMs}'` : String(this.ttlMs)}`, { code: 'INVALID_OPTION_VALUE', context: { option: 'ticketTtlMs' } });
    }
    this.now = options.now ?? Date.now;
  }

  /** Encodes and signs `payload` (any JSON value); returns the ticket bytes and their expiration. */
  sign(payload: unknown, ttlMs = this.ttlMs): { ticket: Buffer; expiresAt: number } {
    const expiresAt = this.now() + ttlMs;
    const exp = Buffer.alloc(8);
    exp.writeBigUInt64BE(BigInt(expiresAt));
    const body = deflateRawSync(Buffer.from(JSON.stringify(payload), 'utf8'));
    const signed = Buffer.concat([MAGIC, exp, body]);
    const mac = createHmac('sha256', this.key).update(signed).digest();
    return { ticket: Buffer.concat([signed, mac]), expiresAt };
  }

  /**
   * Verifies `ticket` and returns its payload. A malformed, forged or altered ticket, or one past its
   * expiration, is a `PermissionDenied` LakeSoulError saying which.
   */
  verify<T = unknown>(ticket: Uint8Array): VerifiedTicket<T> {
    const bytes = Buffer.from(ticket.buffer, ticket.byteOffset, ticket.byteLength);
    if (bytes.byteLength < MIN_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new LakeSoulError('PermissionDenied', 'invalid Flight ticket: not a ticket issued by this service', { code: 'TICKET_INVALID' });
    }
    const signed = bytes.subarray(0, bytes.byteLength - MAC_BYTES);
    const mac = bytes.subarray(bytes.byteLength - MAC_BYTES);
    const want = createHmac('sha256', this.key).update(signed).digest();
    if (!timingSafeEqual(mac, want)) {
      throw new LakeSoulError('PermissionDenied', 'invalid Flight ticket: signature mismatch (tampered, or signed with another secret)', { code: 'TICKET_INVALID' });
    }
    const expiresAt = Number(signed.readBigUInt64BE(MAGIC.length));
    if (this.now() >= expiresAt) {
      throw new LakeSoulError('PermissionDenied', `Flight ticket expired at ${new Date(expiresAt).toISOString()}; call GetFlightInfo again for fresh tickets`, { code: 'TICKET_EXPIRED' });
    }
    let payload: T;
    try {
      // Bounded: only signed tickets get here, but a bound costs nothing.
      payload = JSON.parse(inflateRawSync(signed.subarray(MAGIC.length + 8), { maxOutputLength: MAX_PAYLOAD_BYTES }).toString('utf8')) as T;
    } catch (e) {
      throw new LakeSoulError('PermissionDenied', 'invalid Flight ticket: undecodable payload', { code: 'TICKET_INVALID', cause: e });
    }
    return { payload, expiresAt };
  }
}
