/**
 * A minimal reader of the Thrift compact protocol, enough to decode Parquet's `FileMetaData`
 * footer. Structs decode to `Map<fieldId, value>`; lists to arrays; binaries to `Uint8Array`
 * (views into the input); i64 values to numbers when they are safe integers, else bigint.
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
const I32 = 5;
const I64 = 6;
const DOUBLE = 7;
const BINARY = 8;
const LIST = 9;
const SET = 10;
const MAP = 11;
const STRUCT = 12;

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

  private value(type: number): ThriftValue {
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
