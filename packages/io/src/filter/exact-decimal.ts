/**
 * Exact decimal numbers of filter literals: a number literal's text (`12345678.123456789`) as the
 * decimal it denotes, compared with integer and decimal columns without the double it rounds to.
 */

/** `(neg ? -1 : 1) * digits * 10^exp`; `digits` has no leading or trailing zeros ('' is zero). */
export interface ExactDecimal {
  neg: boolean;
  digits: string;
  exp: number;
}

/** Exponents are clamped to this: far beyond any column's range, and no 10^exp is ever computed. */
const EXP_LIMIT = 1e9;

/**
 * The decimal a numeral denotes (`[+-]digits[.digits][e[+-]digits]`, `.5` and `5.` too; surrounding
 * blanks ignored), or undefined when `s` is not one.
 */
export function parseDecimal(s: string): ExactDecimal | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s.trim());
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const frac = m[3] ?? '';
  let digits = (m[2] + frac).replace(/^0+/, '');
  const e = m[4] === undefined ? 0 : Math.max(-EXP_LIMIT, Math.min(EXP_LIMIT, Number(m[4])));
  let exp = e - frac.length;
  const trimmed = digits.replace(/0+$/, '');
  exp += digits.length - trimmed.length;
  digits = trimmed;
  return digits === '' ? { neg: false, digits: '', exp: 0 } : { neg: m[1] === '-', digits, exp };
}

/** The decimal of a finite double's shortest form (`String(d)`: the shortest text that reads back as `d`). */
function shortestOf(d: number): ExactDecimal {
  return parseDecimal(String(d))!;
}

/**
 * Whether the double `d` reads as the same decimal as the numeral `text`: its shortest decimal form
 * (what `String(d)` prints, and what a decimal column compares with when no text is kept) denotes
 * the same number (`2.50` and 2.5 do; `1234567.0123456788` and the double printed
 * `1234567.0123456789` do not).
 */
export function sameDecimal(text: string, d: number): boolean {
  if (!Number.isFinite(d)) return false;
  const a = parseDecimal(text);
  const b = shortestOf(d);
  return a !== undefined && a.neg === b.neg && a.digits === b.digits && a.exp === b.exp;
}

/** An exact decimal of a bigint. */
export function decimalOfBigint(v: bigint): ExactDecimal {
  return parseDecimal(v.toString())!;
}

/** An exact decimal of a finite double: its shortest decimal form. */
export function decimalOfNumber(d: number): ExactDecimal {
  return shortestOf(d);
}

/** Decimal digits beyond which a scaled value lies beyond every 128-bit integer (2^127 < 10^39). */
const MAX_DIGITS = 40;

/**
 * `d * 10^scale` as `floor + (frac ? a fraction in (0, 1) : 0)`, or `beyond` (its sign) when it lies
 * beyond every 128-bit integer. Never computes a power of ten larger than 10^40.
 */
export type Scaled = { floor: bigint; frac: boolean; beyond?: undefined } | { beyond: -1 | 1 };

export function scaledDecimal(d: ExactDecimal, scale: number): Scaled {
  if (d.digits === '') return { floor: 0n, frac: false };
  const e = d.exp + scale;
  const intDigits = d.digits.length + e;
  if (intDigits > MAX_DIGITS) return { beyond: d.neg ? -1 : 1 };
  let mag: bigint;
  let frac: boolean;
  if (e >= 0) {
    mag = BigInt(d.digits + '0'.repeat(e));
    frac = false;
  } else {
    // digits end in a non-zero digit: a negative exponent always leaves a fraction
    mag = intDigits > 0 ? BigInt(d.digits.slice(0, intDigits)) : 0n;
    frac = true;
  }
  if (!d.neg) return { floor: mag, frac };
  return { floor: frac ? -mag - 1n : -mag, frac };
}

/**
 * Compares integers (a decimal column's unscaled values at `scale`, or an integer column's values at
 * scale 0) with the exact decimal `d`: the sign of `x - d`, never rounding `d`.
 */
export function integerComparer(d: ExactDecimal, scale: number): (x: bigint) => number {
  const s = scaledDecimal(d, scale);
  if (s.beyond !== undefined) {
    const sign = -s.beyond;
    return () => sign;
  }
  const { floor, frac } = s;
  return (x) => (x < floor ? -1 : x > floor ? 1 : frac ? -1 : 0);
}

/**
 * Like {@link integerComparer} for whole numbers held as doubles (32-bit integer columns, integral
 * statistics). Exact for every integral double; not for doubles with a fraction.
 */
export function numberComparer(d: ExactDecimal): (x: number) => number {
  const s = scaledDecimal(d, 0);
  if (s.beyond !== undefined) {
    const sign = -s.beyond;
    return () => sign;
  }
  const { floor, frac } = s;
  if (floor > BigInt(Number.MIN_SAFE_INTEGER) && floor < BigInt(Number.MAX_SAFE_INTEGER)) {
    const f = Number(floor);
    return (x) => (x < f ? -1 : x > f ? 1 : frac ? -1 : 0);
  }
  // mixed bigint/number comparisons are exact in JS
  return (x) => (x < floor ? -1 : x > floor ? 1 : frac ? -1 : 0);
}
