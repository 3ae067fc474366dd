/**
 * The protobuf wire format, just as far as Flight SQL's messages need it: varints (uint32, bool,
 * int64), length-delimited fields (string, bytes, embedded messages, packed repeated varints).
 * Written from the protobuf encoding documentation; unknown fields are skipped, as proto3 requires.
 */
import { LakeSoulError } from '@lakesoul-ts/meta';

/** One decoded field: its number and its raw value (varint as bigint, length-delimited as bytes). */
export interface WireField {
  field: number;
  wireType: 0 | 1 | 2 | 5;
  varint?: bigint;
  bytes?: Buffer;
}

function malformed(what: string, detail: string): LakeSoulError {
  return new LakeSoulError('InvalidArgument', `malformed protobuf in ${what}: ${detail}`, { code: 'FLIGHT_SQL_PROTOBUF' });
}

function readVarint(buf: Buffer, pos: number, what: string): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.byteLength) throw malformed(what, `truncated varint at byte ${pos}`);
    const b = buf[pos++]!;
    value |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [value, pos];
    shift += 7n;
  }
  throw malformed(what, `varint longer than 10 bytes at byte ${pos}`);
}

/** Decodes the fields of one message (`what` names it in errors). */
export function decodeFields(buf: Buffer, what: string): WireField[] {
  const out: WireField[] = [];
  let pos = 0;
  while (pos < buf.byteLength) {
    const [key, afterKey] = readVarint(buf, pos, what);
    pos = afterKey;
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (field === 0) throw malformed(what, 'field number 0');
    if (wireType === 0) {
      const [v, next] = readVarint(buf, pos, what);
      out.push({ field, wireType, varint: v });
      pos = next;
    } else if (wireType === 2) {
      const [len, next] = readVarint(buf, pos, what);
      const end = next + Number(len);
      if (len > BigInt(buf.byteLength) || end > buf.byteLength) throw malformed(what, `field ${field} runs past the end of the message`);
      out.push({ field, wireType, bytes: buf.subarray(next, end) });
      pos = end;
    } else if (wireType === 1 || wireType === 5) {
      const size = wireType === 1 ? 8 : 4;
      if (pos + size > buf.byteLength) throw malformed(what, `field ${field} runs past the end of the message`);
      out.push({ field, wireType, bytes: buf.subarray(pos, pos + size) });
      pos += size;
    } else {
      throw malformed(what, `unsupported wire type ${wireType} of field ${field}`);
    }
  }
  return out;
}

/** The last value of a string field (proto3: last one wins), or undefined when absent. */
export function stringField(fields: WireField[], n: number): string | undefined {
  const f = fields.filter((x) => x.field === n && x.wireType === 2).at(-1);
  return f ? f.bytes!.toString('utf8') : undefined;
}

/** Every value of a repeated string field. */
export function stringFields(fields: WireField[], n: number): string[] {
  return fields.filter((x) => x.field === n && x.wireType === 2).map((x) => x.bytes!.toString('utf8'));
}

/** The last value of a bytes field, or undefined when absent. */
export function bytesField(fields: WireField[], n: number): Buffer | undefined {
  return fields.filter((x) => x.field === n && x.wireType === 2).at(-1)?.bytes;
}

/** The last value of a bool field (false when absent). */
export function boolField(fields: WireField[], n: number): boolean {
  const f = fields.filter((x) => x.field === n && x.wireType === 0).at(-1);
  return f !== undefined && f.varint !== 0n;
}

/** Every value of a repeated uint32 field, packed or not. */
export function uint32Fields(fields: WireField[], n: number, what: string): number[] {
  const out: number[] = [];
  for (const f of fields) {
    if (f.field !== n) continue;
    if (f.wireType === 0) out.push(Number(f.varint! & 0xffffffffn));
    else if (f.wireType === 2) {
      let pos = 0;
      while (pos < f.bytes!.byteLength) {
        const [v, next] = readVarint(f.bytes!, pos, what);
        out.push(Number(v & 0xffffffffn));
        pos = next;
      }
    }
  }
  return out;
}

function varintBytes(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return out;
}

/** Builds one message field by field (proto3: fields equal to their default may be left out by the caller). */
export class ProtoWriter {
  private readonly parts: Buffer[] = [];

  /** Appends a length-delimited field (string as UTF-8, bytes, or an encoded message). */
  bytes(field: number, value: Uint8Array | string): this {
    const data = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    this.parts.push(Buffer.from([...varintBytes(BigInt((field << 3) | 2)), ...varintBytes(BigInt(data.byteLength))]), data);
    return this;
  }

  /** Appends a varint field (uint32, int64, bool, enum). */
  varint(field: number, value: number | bigint | boolean): this {
    const v = typeof value === 'boolean' ? (value ? 1n : 0n) : BigInt(value);
    this.parts.push(Buffer.from([...varintBytes(BigInt(field << 3)), ...varintBytes(v)]));
    return this;
  }

  /** The encoded message. */
  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}
