import { describe, expect, it } from 'vitest';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { HmacTicketSigner } from './hmac-ticket-signer.js';

const payload = { v: 1, plan: { splits: [{ id: 'date=2024-01-01#3', files: [{ path: 's3://b/t/f_3.parquet', size: '123' }] }] } };

describe('HmacTicketSigner', () => {
  it('round-trips a payload and reports its expiration', () => {
    let now = 1_000_000;
    const s = new HmacTicketSigner({ secret: 'a-secret-of-16+chars', ttlMs: 5000, now: () => now });
    const { ticket, expiresAt } = s.sign(payload);
    expect(expiresAt).toBe(1_005_000);
    expect(s.verify(ticket)).toEqual({ payload, expiresAt });
    // another replica with the same secret accepts it
    expect(new HmacTicketSigner({ secret: 'a-secret-of-16+chars', now: () => now }).verify(ticket).payload).toEqual(payload);
  });

  it('refuses altered bytes anywhere in the ticket', () => {
    const s = new HmacTicketSigner({ secret: 'a-secret-of-16+chars' });
    const { ticket } = s.sign(payload);
    for (const pos of [5, 12, ticket.byteLength - 40, ticket.byteLength - 1]) {
      const bad = Buffer.from(ticket);
      bad[pos] ^= 0x01;
      expect(() => s.verify(bad)).toThrow(/invalid Flight ticket/);
    }
  });

  it('refuses a forged expiration (extending the ticket) and one signed with another secret', () => {
    const s = new HmacTicketSigner({ secret: 'a-secret-of-16+chars' });
    const { ticket } = s.sign(payload);
    const forged = Buffer.from(ticket);
    forged.writeBigUInt64BE(BigInt(Date.now() + 1e12), 4);
    expect(() => s.verify(forged)).toThrow(/signature mismatch/);
    const other = new HmacTicketSigner({ secret: 'another-secret-16chars' }).sign(payload).ticket;
    try {
      s.verify(other);
      expect.unreachable();
    } catch (e) {
      expect(LakeSoulError.is(e, 'PermissionDenied')).toBe(true);
    }
  });

  it('refuses an expired ticket with the expiration time in the message', () => {
    let now = 0;
    const s = new HmacTicketSigner({ secret: 'a-secret-of-16+chars', ttlMs: 1000, now: () => now });
    const { ticket } = s.sign(payload);
    now = 999;
    expect(s.verify(ticket).payload).toEqual(payload);
    now = 1000;
    expect(() => s.verify(ticket)).toThrow(/expired at 1970-01-01T00:00:01.000Z/);
  });

  it('refuses garbage and short secrets', () => {
    const s = new HmacTicketSigner({ secret: 'a-secret-of-16+chars' });
    expect(() => s.verify(Buffer.from('hello'))).toThrow(/not a ticket issued by this service/);
    expect(() => new HmacTicketSigner({ secret: 'short' })).toThrow(/at least 16 bytes/);
  });

  it('a missing secret (an unset environment variable) is a clear InvalidArgument, not a TypeError', () => {
    const env: Record<string, string | undefined> = {};
    try {
      new HmacTicketSigner({ secret: env.FLIGHT_TICKET_SECRET! });
      expect.unreachable();
    } catch (e) {
      expect(LakeSoulError.is(e, 'InvalidArgument')).toBe(true);
      expect((e as LakeSoulError).code).toBe('TICKET_SECRET_REQUIRED');
      expect((e as Error).message).toMatch(/ticketSecret is required: .*got undefined/);
    }
  });
});
