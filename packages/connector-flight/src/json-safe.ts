/** Conversion of results (Maps, bigints, dates, bytes) to plain JSON for action results and put results. */

/** A JSON-serializable copy of `value`: Map -> object, bigint -> number when safe else string, Date -> ISO, bytes -> base64. */
export function toJsonSafe(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[String(k)] = toJsonSafe(v);
    return out;
  }
  if (value instanceof Set) return [...value].map(toJsonSafe);
  if (Array.isArray(value)) return value.map(toJsonSafe);
  if (typeof value === 'object') {
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return toJsonSafe((value as { toJSON(): unknown }).toJSON());
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (typeof v === 'function') continue;
      out[k] = toJsonSafe(v);
    }
    return out;
  }
  return value;
}

/** UTF-8 JSON bytes of {@link toJsonSafe}(value). */
export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(toJsonSafe(value)), 'utf8');
}
