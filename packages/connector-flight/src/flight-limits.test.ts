import { describe, expect, it } from 'vitest';
import { MAX_COMMAND_BYTES, MAX_JSON_DEPTH, clientName, jsonDepth, parseClientJson, quote, refuseNul, refuseUnknownKeys } from './flight-limits.js';
import { parseReadCommand, parseWriteCommand } from './flight-command.js';
import { parseCreateTableRequest } from './create-table-request.js';

const cmd = (v: unknown) => ({ type: 'CMD' as const, cmd: Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)), path: [] });

describe('Flight input limits', () => {
  it('measures JSON depth without parsing, ignoring brackets in strings', () => {
    expect(jsonDepth('{"a": [1, {"b": "[[[["}]}')).toBe(3);
    expect(jsonDepth(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toBe(100_000);
    expect(jsonDepth('"\\"[["')).toBe(0);
  });

  it('quotes at most a short prefix, escaping control characters', () => {
    expect(quote('x'.repeat(1 << 20))).toMatch(/^'x{64}'\.\.\. \(1048576 characters\)$/);
    expect(quote('a\u0000b')).toBe("'a\\u0000b'");
  });

  it('refuses oversized, too deep, non-UTF-8 and malformed JSON with the limit named', () => {
    expect(() => parseClientJson(Buffer.alloc(MAX_COMMAND_BYTES + 1, 32), 'cmd', MAX_COMMAND_BYTES, '{}')).toThrow(/exceeds the limit of 65536 bytes/);
    expect(() => parseClientJson(Buffer.from(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`), 'cmd', 1e6, '{}')).toThrow(/limit of depth 32/);
    expect(() => parseClientJson(Buffer.from([0x7b, 0xff, 0x7d]), 'cmd', 1e6, '{}')).toThrow(/not valid UTF-8/);
    expect(() => parseClientJson(Buffer.from('{"a": '), 'cmd', 1e6, '{}')).toThrow(/not JSON/);
  });

  it('checks names, NULs and unknown keys', () => {
    expect(() => clientName('x'.repeat(600), 'table')).toThrow(/limit of 512 characters/);
    expect(() => clientName('ev\u0000ents', 'table')).toThrow(/control characters/);
    expect(() => clientName('\uD800', 'table')).toThrow(/surrogate/);
    expect(() => refuseNul({ a: ['b\u0000'] }, 'body')).toThrow(/NUL/);
    expect(() => refuseUnknownKeys({ table: 't', filter: 'x' }, ['table'], 'DoPut command')).toThrow(/unknown key 'filter' \(allowed: table\)/);
  });

  it('checks command values before they reach SQL and refuses unknown keys', () => {
    expect(() => parseReadCommand(cmd({ table: 't', version: 1e300 }))).toThrow(/at most 2147483647/);
    expect(() => parseReadCommand(cmd({ table: 't', timestamp: 1e300 }))).toThrow(/timestamp/);
    expect(() => parseReadCommand(cmd({ table: 'a\u0000b' }))).toThrow(/NUL/);
    expect(() => parseReadCommand(cmd({ table: 't', mode: 'append' }))).toThrow(/unknown key 'mode'/);
    expect(() => parseWriteCommand(cmd({ table: 't', filter: 'id > 1', expectedRows: 1 }))).toThrow(/unknown key 'filter'/);
    expect(() => parseReadCommand(cmd({ table: 't', filter: 'x'.repeat(20_000) }))).toThrow(/limit of 16384 characters/);
    expect(() => parseReadCommand({ type: 'PATH', cmd: Buffer.alloc(0), path: ['a', 'b', 'c'] })).toThrow(/limit of 2 elements/);
    expect(() => parseReadCommand({ type: 'PATH', cmd: Buffer.alloc(0), path: ['x'.repeat(1 << 20)] })).toThrow(/^.{0,300}$/s);
  });

  it('bounds create-table type strings and bodies', () => {
    const body = (type: string) => Buffer.from(JSON.stringify({ name: 't', schema: [{ name: 'c', type }] }));
    expect(parseCreateTableRequest(body('list<list<int64>>')).schema.fields[0].type.toString()).toMatch(/List/);
    expect(() => parseCreateTableRequest(body(`${'list<'.repeat(5000)}int64${'>'.repeat(5000)}`))).toThrow(/LIMIT|limit of 256 characters/);
    expect(() => parseCreateTableRequest(body(`${'list<'.repeat(17)}int64${'>'.repeat(17)}`))).toThrow(/limit of 16 nested lists/);
    expect(() => parseCreateTableRequest(Buffer.from(JSON.stringify({ name: 't', schema: [{ name: 'c', type: 'int64' }], hashBucketNum: 1e300 })))).toThrow(/hashBucketNum/);
    expect(() => parseCreateTableRequest(Buffer.from(JSON.stringify({ name: 't', schema: [{ name: 'c', type: 'int64' }], filter: 1 })))).toThrow(/unknown key 'filter'/);
  });
});
