// Properties of the value codecs: decimals and base64 round-trip over random inputs.
import { expect, test } from 'vitest';
import { base64ToBytes, bytesToBase64, decimalToString, parseDecimal, writeDecimalWords } from './value-codec.js';

let seed = 12345;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

test('decimal128/256 words -> string -> unscaled integer is the identity', () => {
  for (let i = 0; i < 2000; i++) {
    const words = i % 2 === 0 ? 4 : 8;
    const precision = words === 4 ? 38 : 76;
    const digits = 1 + Math.floor(rand() * precision);
    let text = '';
    for (let d = 0; d < digits; d++) text += Math.floor(rand() * 10);
    const v = (rand() < 0.5 ? -1n : 1n) * BigInt(text);
    const scale = Math.floor(rand() * 12) - 2;
    const buf = new Uint32Array(words * 2);
    writeDecimalWords(v, buf, words, words);
    const s = decimalToString(buf, words, words, scale);
    if (scale > 0) expect(s).toMatch(new RegExp(`^-?\\d+\\.\\d{${scale}}$`));
    expect(parseDecimal(s, precision, scale), `${v} at scale ${scale}: ${s}`).toBe(v);
  }
});

test('base64 matches Node and inverts', () => {
  for (let i = 0; i < 500; i++) {
    const bytes = Uint8Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256));
    const b64 = bytesToBase64(bytes);
    expect(b64).toBe(Buffer.from(bytes).toString('base64'));
    expect(base64ToBytes(b64)).toEqual(bytes);
  }
  expect(base64ToBytes('not base64!')).toBeNull();
});

test('interned UTF-8 decoding returns exactly the encoded strings', async () => {
  const { Utf8Interner } = await import('./value-codec.js');
  const alphabet = ['a', 'b', 'Z', '0', ' ', 'é', '🌍', '\u0000'];
  const strings: string[] = [];
  for (let i = 0; i < 20000; i++) {
    const len = Math.floor(rand() * (i % 3 === 0 ? 40 : 6));
    let s = '';
    for (let k = 0; k < len; k++) s += alphabet[Math.floor(rand() * (i % 5 === 0 ? alphabet.length : 4))];
    strings.push(s);
  }
  const enc = new TextEncoder();
  const parts = strings.map((s) => enc.encode(s));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  const offsets = [0];
  for (const p of parts) { bytes.set(p, offsets[offsets.length - 1]); offsets.push(offsets[offsets.length - 1] + p.length); }
  const interner = new Utf8Interner();
  strings.forEach((s, i) => expect(interner.decode(bytes, offsets[i], offsets[i + 1])).toBe(s));
});
