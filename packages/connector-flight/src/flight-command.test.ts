import { describe, expect, it } from 'vitest';
import { parseBeginCommand, parseReadCommand, parseWriteCommand, scanOptionsOf } from './flight-command.js';
import type { FlightDescriptorMessage } from './flight-proto.js';

const cmd = (o: unknown): FlightDescriptorMessage => ({ type: 'CMD', cmd: Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)), path: [] });
const path = (...p: string[]): FlightDescriptorMessage => ({ type: 'PATH', cmd: Buffer.alloc(0), path: p });

describe('descriptor commands', () => {
  it('reads paths [table] and [namespace, table]', () => {
    expect(parseReadCommand(path('t'))).toEqual({ table: 't', namespace: 'default' });
    expect(parseReadCommand(path('ml', 't'))).toEqual({ table: 't', namespace: 'ml' });
    expect(() => parseReadCommand(path('a', 'b', 'c'))).toThrow(/\[namespace, table\]/);
  });

  it('reads JSON commands with time travel', () => {
    const c = parseReadCommand(cmd({ table: 't', namespace: 'ml', columns: ['a'], filter: 'a > 1', partitions: { date: '2024-01-01' }, timestamp: '2024-01-02T00:00:00Z' }));
    expect(c).toEqual({ table: 't', namespace: 'ml', columns: ['a'], filter: 'a > 1', partitions: { date: '2024-01-01' }, timestamp: Date.parse('2024-01-02T00:00:00Z') });
    expect(scanOptionsOf(parseReadCommand(cmd({ table: 't', version: 3 })))).toMatchObject({ version: 3 });
    expect(parseReadCommand(cmd({ table: 't', incremental: { start: 5, end: 10 } })).incremental).toEqual({ start: 5, end: 10 });
  });

  it("reads times the way filters do, whatever the server's zone", () => {
    // Date.parse read an offset-less time in the server's zone (TZ=Asia/Tokyo: 9 h earlier) and
    // rolled impossible days over; a string of digits stays epoch ms
    const at = (timestamp: unknown) => parseReadCommand(cmd({ table: 't', timestamp })).timestamp;
    const utc = Date.UTC(2026, 11, 6, 6, 17, 19, 73);
    for (const t of ['2026-12-06T06:17:19.073Z', '2026-12-06T06:17:19.073', '2026-12-06 06:17:19.073', '2026-12-06T15:17:19.073+09:00', '2026-12-06T06:17:19.0730000Z']) expect(at(t), t).toBe(utc);
    // a fraction of a millisecond rounds up, as the JS API rounds bounds (compared as `commit time < t`)
    expect(at('2026-12-06T06:17:19.0725Z')).toBe(utc);
    expect(at('2026-12-06T06:17:19.073000001Z')).toBe(utc + 1);
    expect(at('2026-12-06')).toBe(Date.UTC(2026, 11, 6));
    expect(at('1764999999999')).toBe(1764999999999);
    expect(at(1764999999999)).toBe(1764999999999);
    expect(at('1969-12-31T23:59:59.9995Z')).toBe(0);
    expect(at('1969-12-31T23:59:59.9985Z')).toBe(-1);
    expect(() => at('2026-02-30T00:00:00Z')).toThrow(/"timestamp" must be .* got '2026-02-30T00:00:00Z': .*not a valid date-time/);
    expect(() => at('December 17, 2099')).toThrow(/"timestamp" must be epoch milliseconds or an ISO-8601 date-time/);
    expect(() => parseReadCommand(cmd({ table: 't', incremental: { start: '2026-13-01', end: 5 } }))).toThrow(/"incremental.start"/);
  });

  it('refuses bad commands with a clear message', () => {
    expect(() => parseReadCommand(cmd('not json'))).toThrow(/not JSON/);
    expect(() => parseReadCommand(cmd({ namespace: 'x' }))).toThrow(/"table"/);
    expect(() => parseReadCommand(cmd({ table: 't', version: 1, timestamp: 5 }))).toThrow(/at most one of/);
    expect(() => parseReadCommand(cmd({ table: 't', version: -1 }))).toThrow(/non-negative integer/);
    expect(() => parseReadCommand(cmd({ table: 't', timestamp: 'yesterday' }))).toThrow(/epoch milliseconds or an ISO-8601/);
    expect(() => parseReadCommand(cmd({ table: 't', columns: 'a' }))).toThrow(/list of column names/);
    // docs/flight.md: descriptions in a list, or one object of range values; a list of objects says so
    expect(parseReadCommand(cmd({ table: 't', partitions: ['date=2024-01-01'] })).partitions).toEqual(['date=2024-01-01']);
    expect(() => parseReadCommand(cmd({ table: 't', partitions: [{ date: '2024-01-01' }] }))).toThrow(/or one object of range-column values .* got a list holding an object '\{"date":"2024-01-01"\}': give one object, or the partitions' descriptions/);
  });

  it('reads DoPut commands', () => {
    expect(parseWriteCommand(cmd({ table: 't', mode: 'upsert' }))).toEqual({ table: 't', namespace: 'default', mode: 'upsert' });
    expect(parseWriteCommand(path('ns', 't'))).toEqual({ table: 't', namespace: 'ns' });
    expect(() => parseWriteCommand(cmd({ table: 't', mode: 'overwrite' }))).toThrow(/"append" or "upsert"/);
    expect(() => parseWriteCommand(null)).toThrow(/descriptor/);
  });

  it('reads begin bodies: a mode, and the partitions an overwrite replaces', () => {
    expect(parseBeginCommand({ table: 't' })).toEqual({ table: 't', namespace: 'default' });
    expect(parseBeginCommand({ table: 't', namespace: 'ml', mode: 'overwrite', replaceWhere: "date = '2024-01-01'" }))
      .toEqual({ table: 't', namespace: 'ml', mode: 'overwrite', replaceWhere: "date = '2024-01-01'" });
    expect(parseBeginCommand({ table: 't', mode: 'overwrite', replacePartitions: ['date=2024-01-01'] }).replacePartitions).toEqual(['date=2024-01-01']);
    expect(() => parseBeginCommand({ table: 't', mode: 'replace' })).toThrow(/"append", "upsert" or "overwrite"/);
    expect(() => parseBeginCommand({ table: 't', mode: 'append', replaceWhere: 'x = 1' })).toThrow(/need "mode": "overwrite"/);
    expect(() => parseBeginCommand({ table: 't', mode: 'overwrite', replacePartitions: 5 })).toThrow(/list of partition descriptions/);
    expect(() => parseBeginCommand({ table: 't', mode: 'overwrite', replaceWhere: [1] })).toThrow(/filter expression/);
  });
});
