/**
 * Value-level codecs shared by the decoder and the encoder: UTF-8, base64 and fixed-point decimals.
 */
import { civilFromDays } from './temporal-codec.js';

type NodeBufferInstance = Uint8Array & {
  utf8Slice?: (s: number, e: number) => string;
  latin1Slice?: (s: number, e: number) => string;
  toString(enc: string, s?: number, e?: number): string;
};
type NodeBufferLike = {
  from(buf: ArrayBufferLike, byteOffset: number, length: number): NodeBufferInstance;
  alloc(size: number): NodeBufferInstance;
};
const NodeBuffer = (globalThis as { Buffer?: NodeBufferLike }).Buffer;
const textDecoder = new TextDecoder('utf-8', { ignoreBOM: true }); // a leading U+FEFF is part of the value, as in Buffer's decoding

const bufferCache = new WeakMap<Uint8Array, ReturnType<NodeBufferLike['from']>>();

/**
 * UTF-8 decoding with interning of short ASCII strings: categorical columns repeat a few values, and
 * sharing one string per value saves an allocation per cell (and the frame's memory). Bounded.
 */
export class Utf8Interner {
  private readonly cache = new Map<number, string>();

  decode(bytes: Uint8Array, start: number, end: number): string {
    const len = end - start;
    if (len === 0) return '';
    if (len > 24) return decodeUtf8(bytes, start, end);
    let h = 0x811c9dc5 ^ len;
    for (let k = start; k < end; k++) {
      const c = bytes[k];
      if (c >= 0x80) return decodeUtf8(bytes, start, end);
      h = Math.imul(h ^ c, 0x01000193);
    }
    const hit = this.cache.get(h);
    if (hit !== undefined && hit.length === len) {
      let same = true;
      for (let k = 0; k < len; k++) if (hit.charCodeAt(k) !== bytes[start + k]) { same = false; break; }
      if (same) return hit;
    }
    const text = decodeUtf8(bytes, start, end);
    if (this.cache.size >= 4096) this.cache.clear();
    this.cache.set(h, text);
    return text;
  }
}

/** Decode `bytes[start, end)` as UTF-8 (Node's Buffer when present, else TextDecoder). */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  if (NodeBuffer) {
    let b = bufferCache.get(bytes);
    if (!b) {
      b = NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      bufferCache.set(bytes, b);
    }
    return b.utf8Slice ? b.utf8Slice(start, end) : b.toString('utf8', start, end);
  }
  return textDecoder.decode(bytes.subarray(start, end));
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

/** Standard (RFC 4648, padded) base64 of bytes. */
export function bytesToBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
  }
  if (i < bytes.length) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8);
    out += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=') + '=';
  }
  return out;
}

/** Bytes of a standard base64 string (padding optional); null when the text is not base64. */
export function base64ToBytes(text: string): Uint8Array | null {
  const s = text.replace(/=+$/, '');
  if (s.length % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let acc = 0, bits = 0, o = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c] : -1;
    if (v < 0) return null;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 255;
    }
  }
  return out;
}

// The decimal codec is io's (one exact codec for the writer, the CLI and this connector).
export { DecimalParseError, decimalToString, formatScaled, parseDecimal, writeDecimalWords } from '@lakesoul-ts/io';

/**
 * Formats ISO 8601 timestamps by writing ASCII digits into a scratch buffer and slicing one flat
 * string per value: string concatenation builds rope strings whose garbage dominates at 1M rows.
 */
export class IsoWriter {
  private readonly buf: NodeBufferInstance | Uint8Array = NodeBuffer ? NodeBuffer.alloc(48) : new Uint8Array(48);
  private lastDays = NaN;

  private num(pos: number, v: number, width: number): number {
    // Values here are < 2^31 (year, fields, fraction < 1e9): small-integer arithmetic.
    const b = this.buf;
    for (let k = width - 1; k >= 0; k--) {
      const q = (v / 10) | 0;
      b[pos + k] = 48 + (v - q * 10);
      v = q;
    }
    return pos + width;
  }

  /**
   * `local` = epoch seconds shifted to the wall clock, `frac` the sub-second count with `digits`
   * digits, `off` the offset in minutes (null: no suffix), `utc` prints `Z` for a zero offset.
   * Returns null outside years 0000-9999 (the caller falls back to the general formatter).
   */
  timestamp(local: number, frac: number, digits: number, off: number | null, utc: boolean): string | null {
    const days = Math.floor(local / 86400);
    const b = this.buf;
    if (days !== this.lastDays) {
      const [y, m, d] = civilFromDays(days);
      if (y < 0 || y > 9999) { this.lastDays = NaN; return null; }
      // The date prefix stays in the scratch buffer while consecutive values share the day.
      let q = this.num(0, y, 4);
      b[q++] = 45; q = this.num(q, m, 2);
      b[q++] = 45; q = this.num(q, d, 2);
      b[q] = 84;
      this.lastDays = days;
    }
    const sod = (local - days * 86400) | 0;
    let p = this.num(11, (sod / 3600) | 0, 2);
    b[p++] = 58; p = this.num(p, ((sod % 3600) / 60) | 0, 2);
    b[p++] = 58; p = this.num(p, sod % 60, 2);
    if (digits > 0) { b[p++] = 46; p = this.num(p, frac | 0, digits); }
    if (off !== null) {
      if (off === 0 && utc) b[p++] = 90;
      else {
        b[p++] = off < 0 ? 45 : 43;
        const a = Math.abs(off);
        p = this.num(p, (a / 60) | 0, 2);
        b[p++] = 58; p = this.num(p, a % 60, 2);
      }
    }
    const nb = b as NodeBufferInstance;
    if (nb.latin1Slice) return nb.latin1Slice(0, p);
    return String.fromCharCode.apply(null, Array.from(b.subarray(0, p)));
  }
}
