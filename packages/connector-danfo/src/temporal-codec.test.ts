// Exhaustive-ish properties of the temporal codec: civil-date arithmetic against Date, the fast
// (double) timestamp path against the exact bigint path, and parse(format(v)) === v in every unit
// and zone kind.
import { describe, expect, test } from 'vitest';
import * as A from 'apache-arrow';
import { arrowToColumns } from './index.js';
import { ZoneOffsets, civilFromDays, daysFromCivil, formatTimestamp, parseTimestamp, resolveZone } from './temporal-codec.js';

// Deterministic PRNG (xorshift) so failures reproduce.
let seed = 0x9e3779b9;
const rand = (): number => {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 2 ** 32;
};
const randBig = (bits: number): bigint => {
  let v = 0n;
  for (let b = 0; b < bits; b += 16) v = (v << 16n) | BigInt(Math.floor(rand() * 65536));
  v &= (1n << BigInt(bits)) - 1n;
  return rand() < 0.5 ? -v : v;
};

describe('temporal codec', () => {
  test('civil dates agree with Date over +-100,000 days and invert', () => {
    for (let d = -100_000; d <= 100_000; d += 37) {
      const [y, m, day] = civilFromDays(d);
      const js = new Date(d * 86_400_000);
      expect([y, m, day]).toEqual([js.getUTCFullYear(), js.getUTCMonth() + 1, js.getUTCDate()]);
      expect(daysFromCivil(y, m, day)).toBe(d);
    }
  });

  const zones = ['UTC', '+05:45', '-03:30', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', null];
  for (const unit of [0, 1, 2, 3]) {
    test(`unit ${['s', 'ms', 'us', 'ns'][unit]}: decoder fast path equals the exact path, and parse(format(v)) === v`, () => {
      const values: bigint[] = [0n, -1n, 1n, (1n << 63n) - 1n, -(1n << 63n), 9007199254740991n, -9007199254740991n];
      for (let i = 0; i < 400; i++) values.push(randBig(i % 2 === 0 ? 53 : unit === 3 ? 63 : 50));
      // Values next to second boundaries, where a rounded quotient would be off by one.
      const per = [1n, 1000n, 1000000n, 1000000000n][unit];
      for (let i = 0; i < 50; i++) {
        const s = BigInt(Math.floor(rand() * 2 ** 52)) / per;
        values.push(s * per - 1n, s * per, -s * per - 1n);
      }
      const inRange = values.filter((v) => v >= -(1n << 63n) && v < 1n << 63n);
      for (const tz of zones) {
        const type = new A.Timestamp(unit as A.TimeUnit, tz);
        const data = A.makeData({ type, length: inRange.length, nullCount: 0, data: BigInt64Array.from(inRange) });
        const decoded = arrowToColumns(new A.Table({ t: A.makeVector(data) })).columns[0] as string[];
        const zone = tz ? resolveZone(tz)! : null;
        const offsets = zone ? new ZoneOffsets(zone) : null;
        const utc = zone?.kind === 'fixed' && zone.utc;
        inRange.forEach((v, i) => {
          // Intl cannot place instants beyond +-8.64e15 ms: only check parse there for fixed zones.
          const exact = formatTimestamp(v, unit, offsets, utc);
          expect(decoded[i], `${tz} ${v}`).toBe(exact);
          expect(parseTimestamp(exact, unit, !!tz), `${tz} ${exact}`).toBe(v);
        });
      }
    });
  }

  test('formatted offsets match Intl for IANA zones', () => {
    const zone = new ZoneOffsets(resolveZone('America/New_York')!);
    for (let i = 0; i < 500; i++) {
      const secs = Math.floor((rand() - 0.3) * 4e9);
      const ms = secs * 1000;
      const name = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', timeZoneName: 'longOffset' })
        .formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')!.value; // GMT-05:00
      const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
      const expected = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
      expect(zone.at(secs), new Date(ms).toISOString()).toBe(expected);
    }
  });

  test('unknown zones are refused naming the column', () => {
    const type = new A.Timestamp(A.TimeUnit.SECOND, 'Mars/Olympus_Mons');
    const data = A.makeData({ type, length: 1, nullCount: 0, data: new BigInt64Array([0n]) });
    expect(() => arrowToColumns(new A.Table({ when: A.makeVector(data) }))).toThrow(/column "when": unknown time zone "Mars\/Olympus_Mons"/);
  });
});

test("timestamps: 'date' refuses instants beyond the JS Date range, naming column and row", () => {
  const type = new A.Timestamp(A.TimeUnit.SECOND, 'UTC');
  const data = A.makeData({ type, length: 2, nullCount: 0, data: new BigInt64Array([0n, 9_000_000_000_000n]) });
  expect(() => arrowToColumns(new A.Table({ at: A.makeVector(data) }), { timestamps: 'date' })).toThrow(/column "at" row 1: timestamp 9000000000000 is beyond the range of a JS Date/);
});

test("dates: 'date' refuses days beyond the JS Date range, naming column and row (it gave an Invalid Date)", () => {
  const d32 = A.makeData({ type: new A.DateDay(), length: 2, nullCount: 0, data: new Int32Array([0, 2_147_483_647]) });
  expect(() => arrowToColumns(new A.Table({ day: A.makeVector(d32) }), { dates: 'date' })).toThrow(/column "day" row 1: date \+5881580-07-11 is beyond the range of a JS Date/);
  const d64 = A.makeData({ type: new A.DateMillisecond(), length: 1, nullCount: 0, data: new BigInt64Array([8_640_000_000_000_001n]) });
  expect(() => arrowToColumns(new A.Table({ day: A.makeVector(d64) }), { dates: 'date' })).toThrow(/column "day" row 0: date64 8640000000000001 ms is beyond the range of a JS Date/);
  // as strings (the default) they read as written
  expect(arrowToColumns(new A.Table({ day: A.makeVector(d32) })).columns[0]).toEqual(['1970-01-01', '+5881580-07-11']);
});

test('times of day outside the day (other writers store them) read as one signed value, not a sign per part', () => {
  const t = A.makeData({ type: new A.TimeSecond(), length: 4, nullCount: 0, data: new Int32Array([-1, 86_399, 86_400, 90_000]) });
  expect(arrowToColumns(new A.Table({ t: A.makeVector(t) })).columns[0]).toEqual(['-00:00:01', '23:59:59', '24:00:00', '25:00:00']);
  const ms = A.makeData({ type: new A.TimeMillisecond(), length: 1, nullCount: 0, data: new Int32Array([-1]) });
  expect(arrowToColumns(new A.Table({ t: A.makeVector(ms) })).columns[0]).toEqual(['-00:00:00.001']);
});
