import { describe, expect, it } from 'vitest';
import { ProtoWriter, boolField, bytesField, decodeFields, stringField, stringFields, uint32Fields } from './proto-wire.js';
import { decodeCommand, encodeMetadataCommand, packAny, unpackAny } from './flight-sql-messages.js';

describe('protobuf wire codec', () => {
  it('round-trips strings, bytes, bools and varints, packed or not', () => {
    const msg = new ProtoWriter().bytes(1, 'cat').bytes(4, 'TABLE').bytes(4, 'VIEW').varint(5, true).bytes(6, Buffer.from([0, 255])).varint(7, 300).finish();
    const packed = new ProtoWriter().bytes(7, Buffer.from([0xac, 0x02, 0x01])).finish();
    const f = decodeFields(msg, 'test');
    expect(stringField(f, 1)).toBe('cat');
    expect(stringFields(f, 4)).toEqual(['TABLE', 'VIEW']);
    expect(boolField(f, 5)).toBe(true);
    expect(boolField(f, 9)).toBe(false);
    expect([...bytesField(f, 6)!]).toEqual([0, 255]);
    expect(uint32Fields(f, 7, 'test')).toEqual([300]);
    expect(uint32Fields(decodeFields(packed, 'test'), 7, 'test')).toEqual([300, 1]);
  });

  it('refuses truncated input naming the message', () => {
    expect(() => decodeFields(Buffer.from([0x0a, 0x05, 0x61]), 'CommandGetTables')).toThrow(/malformed protobuf in CommandGetTables: field 1 runs past the end/);
    expect(() => decodeFields(Buffer.from([0x08, 0xff]), 'X')).toThrow(/truncated varint/);
  });

  it('recognises Flight SQL Any messages only', () => {
    const any = packAny('CommandGetCatalogs', Buffer.alloc(0));
    expect(unpackAny(any)?.name).toBe('CommandGetCatalogs');
    expect(unpackAny(Buffer.from('{"table":"t"}'))).toBeUndefined();
    expect(unpackAny(new ProtoWriter().bytes(1, 'type.googleapis.com/other.Msg').finish())).toBeUndefined();
    const tables = { kind: 'CommandGetTables' as const, catalog: 'lakesoul', dbSchemaFilterPattern: 'd%', tableNameFilterPattern: undefined, tableTypes: ['TABLE'], includeSchema: true };
    expect(decodeCommand(encodeMetadataCommand(tables))).toEqual(tables);
  });
});
