/**
 * A minimal reader of the Thrift compact protocol, enough to decode Parquet's `FileMetaData`
 * footer and page indexes. Structs decode to `Map<fieldId, value>`; lists to arrays; binaries to
 * `Uint8Array` (views into the input); i64 values to numbers when they are safe integers, else
 * bigint. {@link fieldSpans} and {@link CompactWriter} re-encode a footer with some fields replaced
 * and the others copied byte for byte (the decoded form loses the wire types).
 */

/** A decoded Thrift value. */
export type ThriftValue = boolean | number | bigint | Uint8Array | ThriftValue[] | ThriftStruct | Map<ThriftValue, ThriftValue>;
/** A decoded Thrift struct: field id -> value. */
export type ThriftStruct = Map<number, ThriftValue>;

const STOP = 0;
const TRUE = 1;
const FALSE = 2;
const BYTE = 3;
const I16 = 4;
/** Compact-protocol type id of i32 fields. */
export const I32 = 5;
/** Compact-protocol type id of i64 fields. */
export const I64 = 6;
const DOUBLE = 7;
/** Compact-protocol type id of binary/string fields. */
export const BINARY = 8;
/** Compact-protocol type id of list fields. */
export const LIST = 9;
const SET = 10;
const MAP = 11;
/** Compact-protocol type id of struct fields. */
export const STRUCT = 12;

/** Thrown on malformed input; callers map it to a LakeSoulError naming the file. */
export class ThriftDecodeError extends Error {}

/** Decoder state over one buffer. */
export class CompactReader {
  pos = 0;
  private depth = 0;
  constructor(private readonly buf: Uint8Array) {}

  private byte(): number {
    if (this.pos >= this.buf.length) throw new ThriftDecodeError('unexpected end of Thrift data');
    return this.buf[this.pos++];
  }

  /** Unsigned varint as number (exact below 2^53) or bigint beyond. */
  varint(): number | bigint {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        if (result <= Number.MAX_SAFE_INTEGER) return result;
        return this.bigVarintFrom(i);
      }
      mul *= 128;
    }
    throw new ThriftDecodeError('varint too long');
  }

  private bigVarintFrom(lastIndex: number): bigint {
    // re-read exactly with BigInt
    this.pos -= lastIndex + 1;
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }

  zigzag(): number | bigint {
    const v = this.varint();
    if (typeof v === 'number') {
      // (v >>> 1) ^ -(v & 1) without 32-bit truncation
      const half = Math.floor(v / 2);
      return v % 2 === 0 ? half : -half - 1;
    }
    return (v >> 1n) ^ -(v & 1n);
  }

  private binary(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw new ThriftDecodeError('binary runs past the end');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** Read one value of compact type `type`. */
  value(type: number): ThriftValue {
    switch (type) {
      case TRUE:
        return true;
      case FALSE:
        return false;
      case BYTE: {
        const b = this.byte();
        return b > 127 ? b - 256 : b;
      }
      case I16:
      case I32:
      case I64:
        return this.zigzag();
      case DOUBLE: {
        if (this.pos + 8 > this.buf.length) throw new ThriftDecodeError('double runs past the end');
        const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
        this.pos += 8;
        return v;
      }
      case BINARY:
        return this.binary();
      case LIST:
      case SET: {
        const h = this.byte();
        let size = h >> 4;
        const et = h & 0x0f;
        if (size === 15) size = Number(this.varint());
        const out: ThriftValue[] = [];
        for (let i = 0; i < size; i++) {
          if (et === TRUE || et === FALSE) out.push(this.byte() === TRUE);
          else out.push(this.value(et));
        }
        return out;
      }
      case MAP: {
        const size = Number(this.varint());
        const m = new Map<ThriftValue, ThriftValue>();
        if (size === 0) return m;
        const kv = this.byte();
        for (let i = 0; i < size; i++) {
          const k = this.value(kv >> 4);
          m.set(k, this.value(kv & 0x0f));
        }
        return m;
      }
      case STRUCT:
        return this.struct();
      default:
        throw new ThriftDecodeError(`unknown Thrift compact type ${type}`);
    }
  }

  /** Read one struct (up to its STOP). */
  struct(): ThriftStruct {
    if (++this.depth > 64) throw new ThriftDecodeError('Thrift nesting too deep');
    const out: ThriftStruct = new Map();
    let last = 0;
    for (;;) {
      const h = this.byte();
      const type = h & 0x0f;
      if (type === STOP) break;
      const delta = h >> 4;
      const id = delta !== 0 ? last + delta : Number(this.zigzag());
      last = id;
      out.set(id, this.value(type));
    }
    this.depth--;
    return out;
  }
}

/** Decode one Thrift compact struct from the start of `buf`. */
export function readThriftStruct(buf: Uint8Array): ThriftStruct {
  return new CompactReader(buf).struct();
}

/** Where one field of an encoded struct is: its id, compact type and the byte span of its value. */
export interface FieldSpan {
  id: number;
  type: number;
  /** Offset of the value (after the field header). */
  start: number;
  end: number;
}

/**
 * The fields of the struct encoded at `buf[start..]`, with the span of each value (for copying
 * values verbatim), and the offset just past the struct's STOP byte.
 */
export function fieldSpans(buf: Uint8Array, start = 0): { fields: FieldSpan[]; end: number } {
  const r = new CompactReader(buf);
  r.pos = start;
  const fields: FieldSpan[] = [];
  let last = 0;
  for (;;) {
    if (r.pos >= buf.length) throw new ThriftDecodeError('unexpected end of Thrift data');
    const h = buf[r.pos++];
    const type = h & 0x0f;
    if (type === STOP) break;
    const delta = h >> 4;
    const id = delta !== 0 ? last + delta : Number(r.zigzag());
    last = id;
    const s = r.pos;
    if (type !== TRUE && type !== FALSE) r.value(type);
    fields.push({ id, type, start: s, end: r.pos });
  }
  return { fields, end: r.pos };
}

/** The elements of the list encoded at `buf[start..]`: their compact type and byte spans. */
export function listSpans(buf: Uint8Array, start: number): { type: number; items: { start: number; end: number }[] } {
  const r = new CompactReader(buf);
  r.pos = start;
  const h = buf[r.pos++];
  let size = h >> 4;
  const type = h & 0x0f;
  if (size === 15) size = Number(r.varint());
  const items: { start: number; end: number }[] = [];
  for (let i = 0; i < size; i++) {
    const s = r.pos;
    if (type === TRUE || type === FALSE) r.pos++;
    else r.value(type);
    items.push({ start: s, end: r.pos });
  }
  return { type, items };
}

/**
 * A minimal Thrift compact-protocol writer: field headers, integers, lists and raw value copies.
 * Callers write fields of a struct in increasing id order and close each struct with
 * {@link CompactWriter.stop}.
 */
export class CompactWriter {
  private buf = new Uint8Array(256);
  private len = 0;
  private lastIds: number[] = [0];

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  private varint(v: bigint): void {
    let x = v;
    while (x >= 0x80n) {
      this.byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.byte(Number(x));
  }

  private zigzag(v: number | bigint): void {
    const x = BigInt(v);
    this.varint(x >= 0n ? x << 1n : ((-x) << 1n) - 1n);
  }

  /** A field header (id relative to the previous field of the current struct). */
  field(id: number, type: number): this {
    const last = this.lastIds[this.lastIds.length - 1];
    const delta = id - last;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.zigzag(id);
    }
    this.lastIds[this.lastIds.length - 1] = id;
    return this;
  }

  /** An i32 or i64 field. */
  int(id: number, type: typeof I32 | typeof I64, v: number | bigint): this {
    this.field(id, type);
    this.zigzag(v);
    return this;
  }

  /** A field whose value bytes are copied verbatim (from a {@link FieldSpan}). */
  raw(id: number, type: number, value: Uint8Array): this {
    this.field(id, type);
    return this.bytes(value);
  }

  /** Bytes appended as they are (list elements copied verbatim). */
  bytes(value: Uint8Array): this {
    this.ensure(value.length);
    this.buf.set(value, this.len);
    this.len += value.length;
    return this;
  }

  /** A list header: `size` elements of compact type `type` follow. */
  listHeader(size: number, type: number): this {
    if (size < 15) this.byte((size << 4) | type);
    else {
      this.byte(0xf0 | type);
      this.varint(BigInt(size));
    }
    return this;
  }

  /** Opens a struct-typed field (id `id`, or a list element when `id` is null). */
  begin(id: number | null): this {
    if (id !== null) this.field(id, STRUCT);
    this.lastIds.push(0);
    return this;
  }

  /** Ends the current struct. */
  stop(): this {
    this.byte(STOP);
    this.lastIds.pop();
    return this;
  }

  /** The bytes written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
