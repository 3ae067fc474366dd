/**
 * JSON text that keeps the sign of a negative zero: `JSON.stringify` writes `-0` as `0`, so an
 * export of `[-0, 1.5]` read back as `[0, 1.5]`. `-0` is valid JSON, and `JSON.parse` reads it as -0.
 */

/** Whether `v` is -0 or holds one (in an array or a plain object, at any depth). */
export function holdsNegativeZero(v: unknown): boolean {
  if (typeof v === 'number') return v === 0 && 1 / v < 0;
  if (Array.isArray(v)) return v.some(holdsNegativeZero);
  if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v)) return Object.values(v).some(holdsNegativeZero);
  return false;
}

/**
 * `JSON.stringify(v)` (of a JSON-safe value: no bigint, no typed array), except that a negative zero
 * anywhere in it is written `-0`. Values without one take `JSON.stringify` itself.
 */
export function jsonText(v: unknown): string {
  if (!holdsNegativeZero(v)) return JSON.stringify(v);
  if (typeof v === 'number') return '-0';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined || typeof x === 'function' ? 'null' : jsonText(x))).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined && typeof x !== 'function');
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${jsonText(x)}`).join(',')}}`;
}
