/**
 * Exact fixed-point decimals: unscaled integers held as little-endian two's-complement 32-bit words
 * (Arrow's decimal128/256 layout) and their decimal text. No floating point anywhere, so every value
 * of every precision and scale round-trips.
 */

/** Decimal string of a two's-complement little-endian integer of `words` 32-bit words, at `scale`. */
export function decimalToString(values: Uint32Array, start: number, words: number, scale: number): string {
  let v = 0n;
  for (let k = words - 1; k >= 0; k--) v = (v << 32n) | BigInt(values[start + k]);
  const bits = BigInt(words * 32);
  if (values[start + words - 1] & 0x80000000) v -= 1n << bits;
  return formatScaled(v, scale);
}

/** Format an unscaled integer at a scale (`12345`, 2 -> `123.45`; negative scales multiply). */
export function formatScaled(v: bigint, scale: number): string {
  if (scale <= 0) return (v * 10n ** BigInt(-scale)).toString();
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
  return (neg ? '-' : '') + digits.slice(0, -scale) + '.' + digits.slice(-scale);
}

/** Why a decimal was refused (the caller adds column and row). */
export class DecimalParseError extends Error {}

/**
 * Unscaled integer of a decimal string at `scale` with at most `precision` digits. Digits beyond the
 * scale must be zeros (no silent rounding); exponents (`1.5e3`) are accepted.
 */
export function parseDecimal(text: string, precision: number, scale: number): bigint {
  const m = /^\s*([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new DecimalParseError(`"${text}" is not a decimal number`);
  let intPart = m[2] || '0';
  let frac = m[3] ?? '';
  const exp = m[4] ? Number(m[4]) : 0;
  if (exp > 0) {
    const take = frac.slice(0, exp).padEnd(exp, '0');
    intPart += take;
    frac = frac.slice(exp);
  } else if (exp < 0) {
    const k = -exp;
    const padded = intPart.padStart(k + 1, '0');
    frac = padded.slice(-k) + frac;
    intPart = padded.slice(0, -k);
  }
  let unscaled: bigint;
  if (scale >= 0) {
    if (frac.length > scale && /[1-9]/.test(frac.slice(scale))) {
      throw new DecimalParseError(`"${text}" has more than ${scale} fraction digits (the column's scale)`);
    }
    unscaled = BigInt(intPart + frac.slice(0, scale).padEnd(scale, '0'));
  } else {
    const div = 10n ** BigInt(-scale);
    const whole = BigInt(intPart);
    if (/[1-9]/.test(frac) || whole % div !== 0n) throw new DecimalParseError(`"${text}" is not a multiple of 10^${-scale} (the column's scale)`);
    unscaled = whole / div;
  }
  if (m[1] === '-') unscaled = -unscaled;
  const abs = unscaled < 0n ? -unscaled : unscaled;
  if (abs.toString().length > precision && abs !== 0n) {
    throw new DecimalParseError(`"${text}" has more than ${precision} significant digits (the column's precision)`);
  }
  return unscaled;
}

/** Write an unscaled integer as `words` little-endian two's-complement 32-bit words. */
export function writeDecimalWords(v: bigint, out: Uint32Array, start: number, words: number): void {
  const bits = BigInt(words * 32);
  let u = v < 0n ? (1n << bits) + v : v;
  for (let k = 0; k < words; k++) {
    out[start + k] = Number(u & 0xffffffffn);
    u >>= 32n;
  }
}

