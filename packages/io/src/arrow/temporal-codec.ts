/**
 * Exact conversions between Arrow temporal values (integers in a unit) and ISO 8601 strings. Civil
 * dates are computed with integer arithmetic (no `Date`), so every int64 timestamp of any unit formats
 * and parses back to the same integer. Zones: fixed offsets (`+08:00`), UTC aliases, or IANA names
 * (offset at each instant from `Intl`).
 */

/** Units of Arrow time types, as bigint counts per second. */
export const UNITS_PER_SECOND = [1n, 1_000n, 1_000_000n, 1_000_000_000n] as const;
/** Fraction digits printed per unit (second, milli, micro, nano). */
export const FRACTION_DIGITS = [0, 3, 6, 9] as const;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Proleptic Gregorian [year, month, day] of a day count since 1970-01-01. */
export function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [era * 400 + yoe + (m <= 2 ? 1 : 0), m, d];
}

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;

function formatYear(y: number): string {
  if (y >= 0 && y <= 9999) return String(y).padStart(4, '0');
  return (y < 0 ? '-' : '+') + String(Math.abs(y)).padStart(6, '0');
}

/** `YYYY-MM-DD` of a day count since the epoch. */
export function formatDate(days: number): string {
  const [y, m, d] = civilFromDays(days);
  return `${formatYear(y)}-${pad2(m)}-${pad2(d)}`;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function validDate(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= (m === 2 && isLeap(y) ? 29 : MONTH_DAYS[m - 1]);
}

// ------------------------------------------------------------------------------------------------
// Zones

/** A resolved zone: a fixed offset in minutes, or an IANA name resolved per instant. */
export type Zone = { kind: 'fixed'; minutes: number; utc: boolean } | { kind: 'iana'; name: string };

const FIXED = /^([+-])(\d{2}):?(\d{2})$/;

/**
 * Resolve an Arrow timezone string. Returns null when it is neither a fixed offset nor a zone `Intl`
 * knows; the caller reports that with the column name.
 */
export function resolveZone(tz: string): Zone | null {
  const t = tz.trim();
  if (/^(utc|z|gmt|etc\/utc|etc\/gmt|etc\/zulu|zulu|universal|etc\/universal)$/i.test(t)) return { kind: 'fixed', minutes: 0, utc: true };
  const m = FIXED.exec(t);
  if (m) {
    const minutes = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
    return { kind: 'fixed', minutes, utc: false };
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: t });
  } catch {
    return null;
  }
  return { kind: 'iana', name: t };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Offset in minutes of an IANA zone at an instant (epoch seconds). */
function ianaOffsetMinutes(name: string, epochSeconds: number): number {
  let f = formatters.get(name);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: name, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short',
    });
    formatters.set(name, f);
  }
  // Intl works on Date (+-8.64e15 ms); clamp far instants to the range edge (offsets are constant there).
  const ms = Math.max(-8.64e15, Math.min(8.64e15, epochSeconds * 1000));
  const parts = f.formatToParts(new Date(ms));
  let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, bc = false;
  for (const p of parts) {
    switch (p.type) {
      case 'year': y = Number(p.value); break;
      case 'month': mo = Number(p.value); break;
      case 'day': d = Number(p.value); break;
      case 'hour': h = Number(p.value); break;
      case 'minute': mi = Number(p.value); break;
      case 'second': s = Number(p.value); break;
      case 'era': bc = /^b/i.test(p.value); break;
    }
  }
  if (bc) y = 1 - y;
  const local = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  const whole = Math.floor(ms / 1000);
  return Math.round((local - whole) / 60);
}

/** Offset lookup with a per-hour cache: offsets are constant within an hour unless a transition falls in it. */
export class ZoneOffsets {
  private readonly cache = new Map<number, number>();
  constructor(private readonly zone: Zone) {}

  /** Offset in minutes at an instant (epoch seconds). */
  at(epochSeconds: number): number {
    const z = this.zone;
    if (z.kind === 'fixed') return z.minutes;
    const hour = Math.floor(epochSeconds / 3600);
    const hit = this.cache.get(hour);
    if (hit !== undefined) return hit;
    const a = ianaOffsetMinutes(z.name, hour * 3600);
    const b = ianaOffsetMinutes(z.name, hour * 3600 + 3599);
    if (a === b) {
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(hour, a);
      return a;
    }
    return ianaOffsetMinutes(z.name, epochSeconds);
  }
}

function formatOffset(minutes: number, utc: boolean): string {
  if (minutes === 0 && utc) return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`;
}

/**
 * Format a timestamp (integer count of `unit` since the epoch) as ISO 8601 with the unit's full
 * fraction digits. With a zone: the local time there plus its offset (`Z` for UTC zones); without:
 * the wall time and no offset.
 */
export function formatTimestamp(value: bigint, unit: number, offsets: ZoneOffsets | null, utcZone: boolean): string {
  const per = UNITS_PER_SECOND[unit];
  let secs = value / per;
  let frac = value % per;
  if (frac < 0n) { frac += per; secs -= 1n; }
  // Seconds of an int64 in seconds exceed 2^53: split into days in bigint first.
  const off = offsets ? offsets.at(Number(secs)) : 0;
  const local = secs + BigInt(off * 60);
  let bigDays = local / 86400n;
  if (local % 86400n < 0n) bigDays -= 1n;
  const days = Number(bigDays);
  const sod = Number(local - bigDays * 86400n);
  const h = Math.floor(sod / 3600), mi = Math.floor((sod % 3600) / 60), s = sod % 60;
  let out = `${formatDate(days)}T${pad2(h)}:${pad2(mi)}:${pad2(s)}`;
  const digits = FRACTION_DIGITS[unit];
  if (digits > 0) out += '.' + frac.toString().padStart(digits, '0');
  if (offsets) out += formatOffset(off, utcZone);
  return out;
}

/** Why a timestamp string was refused (the caller adds column and row). */
export class TemporalParseError extends Error {}

const TS_RE = /^([+-]\d{4,}|\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const DATE_RE = /^([+-]\d{4,}|\d{4})-(\d{2})-(\d{2})$/;

/**
 * Parse an ISO 8601 timestamp string to an integer count of `unit`. A zoned column needs an offset
 * (or `Z`) in the string; a zone-less column takes a wall time, optionally with `Z`. More fraction
 * digits than the unit holds are refused unless they are zeros (no silent truncation). A count beyond
 * int64 is refused unless `int64Range` is false (a filter literal compared exactly, not stored).
 */
export function parseTimestamp(text: string, unit: number, zoned: boolean, int64Range = true): bigint {
  const m = TS_RE.exec(text.trim());
  if (!m) throw new TemporalParseError(`"${text}" is not an ISO 8601 timestamp (YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH:MM])`);
  const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
  const h = Number(m[4]), mi = Number(m[5]), s = m[6] ? Number(m[6]) : 0;
  if (!validDate(y, mo, d) || h > 23 || mi > 59 || s > 59) throw new TemporalParseError(`"${text}" is not a valid date-time`);
  const fracText = m[7] ?? '';
  const digits = FRACTION_DIGITS[unit];
  if (fracText.length > digits && /[1-9]/.test(fracText.slice(digits))) {
    throw new TemporalParseError(`"${text}" has more precision than the column's unit (${digits} fraction digits)`);
  }
  const frac = digits === 0 ? 0n : BigInt((fracText.slice(0, digits) || '0').padEnd(digits, '0'));
  let offsetMinutes = 0;
  const offText = m[8];
  if (offText === undefined) {
    if (zoned) throw new TemporalParseError(`"${text}" has no UTC offset; the column has a time zone, so write e.g. "${text}Z" or "${text}+08:00"`);
  } else if (offText !== 'Z' && offText !== 'z') {
    const om = /^([+-])(\d{2}):?(\d{2})?$/.exec(offText)!;
    if (Number(om[2]) > 23 || Number(om[3] ?? '0') > 59) {
      throw new TemporalParseError(`"${text}" has an impossible UTC offset ${offText} (hours 00-23, minutes 00-59, e.g. +08:00 or -05:30)`);
    }
    offsetMinutes = (om[1] === '-' ? -1 : 1) * (Number(om[2]) * 60 + Number(om[3] ?? '0'));
    if (!zoned && offsetMinutes !== 0) {
      throw new TemporalParseError(`"${text}" has an offset but the column is a timestamp without time zone (write the wall time, or Z)`);
    }
  }
  const secs = BigInt(daysFromCivil(y, mo, d)) * 86400n + BigInt(h * 3600 + mi * 60 + s - offsetMinutes * 60);
  const v = secs * UNITS_PER_SECOND[unit] + frac;
  if (int64Range && (v < INT64_MIN || v > INT64_MAX)) throw new TemporalParseError(`"${text}" is out of the int64 range of the column's unit`);
  return v;
}

/** Parse `YYYY-MM-DD` (or a date-time at midnight UTC) to days since the epoch. */
export function parseDateDays(text: string): number {
  const t = text.trim();
  const m = DATE_RE.exec(t);
  if (m) {
    const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
    if (!validDate(y, mo, d)) throw new TemporalParseError(`"${text}" is not a valid date`);
    return daysFromCivil(y, mo, d);
  }
  let ms: bigint;
  try {
    ms = parseTimestamp(t, 1, true);
  } catch {
    throw new TemporalParseError(`"${text}" is not a date (YYYY-MM-DD)`);
  }
  if (ms % 86_400_000n !== 0n) throw new TemporalParseError(`"${text}" is not at midnight UTC, so it is not a date`);
  return Number(ms / 86_400_000n);
}

/**
 * `HH:MM:SS[.fff]` of a time-of-day count of `unit`. A count outside the day (invalid Arrow data,
 * which other writers can store) is written as it is, `-00:00:01` or `25:00:00`: each part of a
 * negative one was signed (`0-1:0-1:0-1`).
 */
export function formatTime(value: bigint, unit: number): string {
  if (value < 0n) return `-${formatTime(-value, unit)}`;
  const per = UNITS_PER_SECOND[unit];
  const secs = Number(value / per);
  const frac = value % per;
  let out = `${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor((secs % 3600) / 60))}:${pad2(secs % 60)}`;
  const digits = FRACTION_DIGITS[unit];
  if (digits > 0) out += '.' + frac.toString().padStart(digits, '0');
  return out;
}

/** Parse `HH:MM[:SS[.fff]]` to a count of `unit` since midnight. */
export function parseTime(text: string, unit: number): bigint {
  const m = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/.exec(text.trim());
  if (!m) throw new TemporalParseError(`"${text}" is not a time of day (HH:MM:SS[.fff])`);
  const h = Number(m[1]), mi = Number(m[2]), s = m[3] ? Number(m[3]) : 0;
  if (h > 23 || mi > 59 || s > 59) throw new TemporalParseError(`"${text}" is not a valid time of day`);
  const fracText = m[4] ?? '';
  const digits = FRACTION_DIGITS[unit];
  if (fracText.length > digits && /[1-9]/.test(fracText.slice(digits))) {
    throw new TemporalParseError(`"${text}" has more precision than the column's unit (${digits} fraction digits)`);
  }
  const frac = digits === 0 ? 0n : BigInt((fracText.slice(0, digits) || '0').padEnd(digits, '0'));
  return BigInt(h * 3600 + mi * 60 + s) * UNITS_PER_SECOND[unit] + frac;
}
