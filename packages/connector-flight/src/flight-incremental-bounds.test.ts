/**
 * Incremental reads over Flight: the end a command left out is reported back (the server's time of
 * the call), an end later than now is refused, sub-millisecond bounds round as the JS API rounds them,
 * and a CDC increment's schema declares its value columns nullable (its delete markers hold nulls).
 * PGlite catalog, local disk, the TS client over gRPC.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Float64, Int64, Schema, Utf8, type Table } from 'apache-arrow';
import type { LakeSoulTable } from '@lakesoul-ts/io';
import type { FlightClient, FlightInfo } from './flight-client.js';
import { INCREMENTAL_END_METADATA_KEY, RESET_PARTITIONS_METADATA_KEY } from './reset-partitions.js';
import { startFlightFixture, type FlightFixture } from './test-support/flight-fixture.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let fixture: FlightFixture;
let client: FlightClient;
let ev: LakeSoulTable;
/** Commit time of the second write of `ev` (id 2). */
let secondCommit: number;

const ids = (t: Table) => t.toArray().map((r) => Number(r.id)).sort((a, b) => a - b);
const appMetadata = (info: FlightInfo) => JSON.parse(Buffer.from(info.appMetadata).toString('utf8')) as Record<string, unknown>;

beforeAll(async () => {
  fixture = await startFlightFixture('flight-incremental-bounds', async (lakehouse) => {
    ev = await lakehouse.createTable('ev', new Schema([new Field('id', new Int64(), false), new Field('p', new Utf8(), false)]), { primaryKeys: ['id'], rangePartitions: ['p'], hashBucketNum: 2 });
    await ev.write([{ id: 1n, p: 'a' }, { id: 11n, p: 'b' }]);
    await sleep(5);
    await ev.write([{ id: 2n, p: 'a' }, { id: 12n, p: 'b' }, { id: 13n, p: 'b' }]);
    await sleep(5);
    secondCommit = Math.max(...(await ev.history()).map((h) => h.timestamp));
    const nn = await lakehouse.createTable('nn', new Schema([new Field('id', new Int64(), false), new Field('n', new Float64(), false), new Field('rowKinds', new Utf8(), true)]), { primaryKeys: ['id'], hashBucketNum: 1, cdcColumn: 'rowKinds' });
    await nn.write([{ id: 1n, n: 1.5 }]);
  });
  client = fixture.client;
});

afterAll(() => fixture?.close());

describe('incremental reads over Flight: bounds', () => {
  it('a command without end reads to the server\'s time of the call, reported in app_metadata and the schema; every endpoint reads that one plan', async () => {
    const before = Date.now();
    const start = secondCommit;
    const info = await client.getFlightInfo({ cmd: { table: 'ev', incremental: { start } } });
    const after = Date.now();
    const meta = appMetadata(info);
    const reported = (meta.incremental as { start: number; end: number }).end;
    expect(meta.incremental).toEqual({ start, end: reported });
    expect(reported).toBeGreaterThanOrEqual(before);
    expect(reported).toBeLessThanOrEqual(after);
    expect(info.schema.metadata.get(INCREMENTAL_END_METADATA_KEY)).toBe(String(reported));
    expect(info.schema.metadata.get(RESET_PARTITIONS_METADATA_KEY)).toBe('[]');
    expect(info.endpoints.length).toBeGreaterThan(1);
    // a commit after the call is in no endpoint: they all read the plan made at the reported end
    await sleep(5);
    await ev.write([{ id: 3n, p: 'a' }, { id: 14n, p: 'b' }]);
    const read = await client.readAll(info);
    expect(ids(read)).toEqual([2, 12, 13]);
    expect(ids(await ev.toArrow({ incremental: { start, end: reported } }))).toEqual([2, 12, 13]);
    // GetSchema reports the end it read to as well
    const schema = await client.getSchema({ cmd: { table: 'ev', incremental: { start } } });
    expect(Number(schema.metadata.get(INCREMENTAL_END_METADATA_KEY))).toBeGreaterThanOrEqual(after);
    // a command with an end gets that end back
    const given = await client.getFlightInfo({ cmd: { table: 'ev', incremental: { start, end: reported } } });
    expect(appMetadata(given).incremental).toEqual({ start, end: reported });
    // reads that are not incremental carry none
    expect(appMetadata(await client.getFlightInfo({ cmd: { table: 'ev' } })).incremental).toBeUndefined();
  });

  it('an end later than now is refused, saying why', async () => {
    await expect(client.getFlightInfo({ cmd: { table: 'ev', incremental: { start: 0, end: Date.now() + 60_000 } } })).rejects.toMatchObject({
      kind: 'InvalidArgument', message: expect.stringMatching(/incremental\.end .*later than now.*would be missed/),
    });
    await expect(client.getSchema({ cmd: { table: 'ev', incremental: { start: 0, end: '2999-01-01' } } })).rejects.toMatchObject({ kind: 'InvalidArgument' });
  });

  it('sub-millisecond bounds round up, as the JS API rounds them: the same rows either way', async () => {
    const T = secondCommit;
    const end = Date.now();
    const iso = new Date(T).toISOString().replace('Z', '400Z');
    for (const start of [T + 0.4, iso]) {
      const info = await client.getFlightInfo({ cmd: { table: 'ev', incremental: { start, end } } });
      // [T + 0.4, end) starts after the commit at T: the API reads none of its rows, nor does Flight
      expect([String(start), ids(await client.readAll(info))]).toEqual([String(start), ids(await ev.toArrow({ incremental: { start: T + 0.4, end } }))]);
      expect(ids(await client.readAll(info))).not.toContain(2);
    }
    for (const timestamp of [T + 0.4, iso]) {
      const info = await client.getFlightInfo({ cmd: { table: 'ev', timestamp } });
      expect(ids(await client.readAll(info))).toEqual(ids(await ev.toArrow({ timestamp: T + 0.4 })));
      expect(ids(await client.readAll(info))).toContain(2);
    }
  });

  it('a CDC increment declares its value columns nullable in FlightInfo, GetSchema and DoGet', async () => {
    const nn = await fixture.lakehouse.table('nn');
    await sleep(5);
    const start = Date.now();
    await sleep(5);
    await nn.deleteByKeys([{ id: 1n }]);
    await sleep(5);
    const cmd = { table: 'nn', incremental: { start, end: Date.now() } };
    const info = await client.getFlightInfo({ cmd });
    const nullable = (s: Schema) => Object.fromEntries(s.fields.map((f) => [f.name, f.nullable]));
    const want = { id: false, n: true, rowKinds: true };
    expect(nullable(info.schema)).toEqual(want);
    expect(nullable(await client.getSchema({ cmd }))).toEqual(want);
    const read = await client.readAll(info);
    expect(nullable(read.schema)).toEqual(want);
    expect(read.toArray().map((r) => [Number(r.id), r.n, r.rowKinds])).toEqual([[1, null, 'delete']]);
    expect(nullable(info.schema)).not.toEqual(nullable((await client.getFlightInfo({ cmd: { table: 'nn' } })).schema));
  });

  it('a ticket carries its own partition\'s reset, not every reset partition\'s (FlightInfos grew with partitions^2)', async () => {
    const many = await fixture.lakehouse.createTable('many', new Schema([new Field('id', new Int64(), false), new Field('p', new Utf8(), false)]), { rangePartitions: ['p'] });
    const parts = Array.from({ length: 200 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    await many.write(parts.map((p, i) => ({ id: BigInt(i), p })));
    await sleep(5);
    const start = Date.now();
    await sleep(5);
    await many.update(null, { id: 7n }); // rewrites every partition: all 200 reset
    await sleep(5);
    const info = await client.getFlightInfo({ cmd: { table: 'many', incremental: { start, end: Date.now() } } });
    expect(JSON.parse(info.schema.metadata.get(RESET_PARTITIONS_METADATA_KEY)!)).toHaveLength(200);
    expect(info.endpoints).toHaveLength(200);
    const sizes = info.endpoints.map((e) => e.ticket.byteLength);
    // a snapshot ticket of the same table is the yardstick: the list of 200 would add ~2.4 KB each
    const snapshot = await client.getFlightInfo({ cmd: { table: 'many' } });
    expect(Math.max(...sizes)).toBeLessThan(Math.max(...snapshot.endpoints.map((e) => e.ticket.byteLength)) + 200);
    // and each stream still says its partition is to be replaced
    const one = await client.readAll({ ...info, endpoints: [info.endpoints[5]!] });
    expect(one.schema.metadata.get(RESET_PARTITIONS_METADATA_KEY)).toBe(JSON.stringify([`p=${parts[5]}`]));
    expect(one.toArray().map((r) => [Number(r.id), r.p])).toEqual([[7, parts[5]]]);
  });
});
