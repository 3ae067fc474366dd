/**
 * Misspelt option keys at the public API, as a user writes them in an options object built beforehand
 * (which TypeScript's excess-property check does not see, and plain JavaScript never checks). Each was
 * dropped silently before: `replacePartition` overwrote the whole table, `primaryKey` made a table
 * without a key, `partition` read every partition, `token` started the Flight server and the UI
 * without auth. Each is now refused naming the call and the option meant, and changes nothing.
 * PGlite catalog, local disk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dfd from 'danfojs';
import { Lakehouse, LakeSoulError, type LakeSoulTable } from '@lakesoul-ts/io';
import { Catalog, LakeSoulError as MetaError } from '@lakesoul-ts/meta';
import { createFlightServer, FlightClient } from '@lakesoul-ts/connector-flight';
import { readDataFrame, writeDataFrame } from '@lakesoul-ts/connector-danfo';
import { tfjsDataset } from '@lakesoul-ts/connector-tfjs';
import { startUi } from '@lakesoul-ts/ui';

let dir: string;
let lakehouse: Lakehouse;
let events: LakeSoulTable;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'api-options-'));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: join(dir, 'warehouse') });
  events = await lakehouse.createTable('events', [{ id: 1, day: 'd1' }, { id: 2, day: 'd1' }, { id: 3, day: 'd1' }, { id: 4, day: 'd2' }], {
    primaryKeys: ['id'], rangePartitions: ['day'],
  });
});

afterAll(async () => {
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The options object as a program holds it: typed loosely, built before the call. */
function opts<T>(o: Record<string, unknown>): T {
  return o as T;
}

async function rowsOf(t: LakeSoulTable): Promise<string[]> {
  return (await t.toArrow()).toArray().map((r) => `${r.id}:${r.day}`).sort();
}

describe('misspelt options are refused, naming the option meant, and change nothing', () => {
  it('write: replacePartition (an overwrite of the whole table before) and a mode that does not exist', async () => {
    const before = await rowsOf(events);
    const versions = (await events.history()).length;
    await expect(events.write([{ id: 5, day: 'd2' }], opts({ mode: 'overwrite', replacePartition: { day: 'd2' } }))).rejects.toMatchObject({
      code: 'UNKNOWN_OPTION',
      message: expect.stringMatching(/^write into table 'default\.events': unknown option 'replacePartition' \(did you mean 'replacePartitions'\?\)/),
    });
    await expect(events.write([{ id: 5, day: 'd2' }], opts({ mode: 'upsrt' }))).rejects.toMatchObject({
      code: 'INVALID_OPTION_VALUE', message: expect.stringMatching(/mode must be 'append', 'upsert', 'overwrite'; got 'upsrt' \(did you mean 'upsert'\?\)/),
    });
    expect(await rowsOf(events)).toEqual(before);
    expect((await events.history()).length).toBe(versions);
    // the intended call replaces d2 only
    await events.write([{ id: 5, day: 'd2' }], { mode: 'overwrite', replacePartitions: { day: 'd2' } });
    expect(await rowsOf(events)).toEqual(['1:d1', '2:d1', '3:d1', '5:d2']);
  });

  it('createTable: primaryKey (a table without a key before) creates nothing', async () => {
    const e = await lakehouse.createTable('users', [{ id: 1, name: 'a' }], opts({ primaryKey: ['id'] })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LakeSoulError);
    expect(e).toBeInstanceOf(MetaError); // the same class through either package
    expect((e as LakeSoulError).message).toMatch(/^createTable 'users': unknown option 'primaryKey' \(did you mean 'primaryKeys'\?\)/);
    expect((await lakehouse.listTables()).map((t) => t.name)).not.toContain('users');
  });

  it('scans, history, maintenance: partition, versoin, dryrun', async () => {
    await expect(events.toArrow(opts({ partition: { day: 'd1' } }))).rejects.toMatchObject({ message: expect.stringMatching(/scan of table 'default\.events': unknown option 'partition' \(did you mean 'partitions'\?\)/) });
    await expect((async () => { for await (const _ of events.read(opts({ versoin: 0 }))) { /* nothing */ } })()).rejects.toMatchObject({ message: expect.stringMatching(/'versoin' \(did you mean 'version'\?\)/) });
    await expect(events.cleanup(opts({ dryrun: false }))).rejects.toMatchObject({ message: expect.stringMatching(/cleanup of table 'default\.events': unknown option 'dryrun' \(did you mean 'dryRun'\?\)/) });
    await expect(events.history(opts({ partition: 'day=d1' }))).rejects.toMatchObject({ code: 'UNKNOWN_OPTION' });
  });

  it('times and sizes that are not ones: NaN, an invalid Date, a string, a fraction; batchSize 0 (a PostgreSQL cast error or batches of one row before)', async () => {
    for (const [options, said] of [
      [{ timestamp: NaN }, 'scan timestamp of table \'default.events\': expected epoch milliseconds (a finite number) or a valid Date, got NaN'],
      [{ timestamp: new Date('x') }, 'got an invalid Date'],
      [{ timestamp: '2024-01-01' }, "got the string '2024-01-01'"],
      [{ incremental: { start: 0, end: Infinity } }, 'scan incremental.end of table'],
      [{ batchSize: 0 }, "read of table 'default.events': batchSize must be an integer of at least 1 (got 0)"],
      [{ batchSize: 2.5 }, 'batchSize must be an integer of at least 1 (got 2.5)'],
      [{ prefetchBytes: -1 }, 'prefetchBytes must be an integer of at least 0 (got -1)'],
      [{ version: '1', partitions: { day: 'd1' } }, "invalid version '1' (a string): expected an integer from 0 to 2147483647"],
      // PostgreSQL's 'value "2147483648" is out of range for type integer' before, naming no table
      [{ version: 2 ** 31, partitions: { day: 'd1' } }, "snapshot of table 'default.events': invalid version 2147483648: expected an integer from 0 to 2147483647"],
      [{ version: 10n, partitions: { day: 'd1' } }, 'invalid version 10n (a bigint: give Number(value))'],
    ] as const) {
      const e = await events.toArrow(opts(options)).then(() => null, (x: unknown) => x);
      expect(e, JSON.stringify(options, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).toBeInstanceOf(LakeSoulError);
      expect((e as LakeSoulError).kind).toBe('InvalidArgument');
      expect((e as LakeSoulError).message).toContain(said);
    }
    await expect(events.cleanup({ retainSince: NaN })).rejects.toMatchObject({ kind: 'InvalidArgument', message: expect.stringContaining('cleanup retainSince of table') });
    // a fraction of a millisecond (arithmetic) is the same point as the commits see it
    const h = await events.history();
    const at = h[0].timestamp + 0.5;
    expect((await events.toArrow({ timestamp: at })).numRows).toBe((await events.toArrow({ timestamp: Math.ceil(at) })).numRows);
    expect((await events.toArrow({ batchSize: 1 })).numRows).toBe(4);
  });

  it('Lakehouse.open and Catalog.open: warehose, dataDr', async () => {
    await expect(Lakehouse.open(opts({ catalog: { dataDir: join(dir, 'catalog2') }, warehose: join(dir, 'w2') }))).rejects.toMatchObject({
      message: expect.stringMatching(/^Lakehouse\.open: unknown option 'warehose' \(did you mean 'warehouse'\?\)/),
    });
    await expect(Catalog.open(opts({ dataDr: join(dir, 'catalog3') }))).rejects.toMatchObject({ message: expect.stringMatching(/^Catalog\.open: unknown option 'dataDr' \(did you mean 'dataDir'\?\)/) });
  });

  it('createFlightServer and startUi: token (a server without auth before)', async () => {
    expect(() => createFlightServer(opts({ lakehouse, ticketSecret: 'x'.repeat(32), token: ['s3cret'] }))).toThrow(/^createFlightServer: unknown option 'token' \(did you mean 'tokens'\?\)/);
    await expect(startUi(opts({ lakehouse, port: 0, token: ['s3cret'] }))).rejects.toMatchObject({ message: expect.stringMatching(/^startUi: unknown option 'token' \(did you mean 'tokens'\?\)/) });
    await expect(FlightClient.connect('grpc://127.0.0.1:1', opts({ tokens: 's3cret' }))).rejects.toMatchObject({ message: expect.stringMatching(/unknown option 'tokens' \(did you mean 'token'\?\)/) });
  });

  it('an aborted Flight client call rejects with a LakeSoulError (a DOMException before)', async () => {
    const server = createFlightServer({ lakehouse, ticketSecret: 'x'.repeat(32) });
    const client = await FlightClient.connect(`grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`);
    try {
      const aborted = AbortSignal.abort(new Error('stop'));
      await expect(client.getFlightInfo({ cmd: { table: 'events' } }, { signal: aborted })).rejects.toMatchObject({ name: 'LakeSoulError', kind: 'Aborted', code: 'ABORTED' });
      await expect(client.listFlights(undefined, { signal: aborted })).rejects.toMatchObject({ name: 'LakeSoulError', kind: 'Aborted' });
      await expect(client.listFlights({ signal: aborted } as unknown as string)).rejects.toMatchObject({ kind: 'InvalidArgument', message: expect.stringMatching(/criteria must be a string or bytes, got object \(options such as \{ signal \} go second\)/) });
      await expect(client.doGet(new Uint8Array(4), { signal: aborted }).next()).rejects.toMatchObject({ name: 'LakeSoulError', kind: 'Aborted' });
    } finally {
      client.close();
      await server.close(1000);
    }
  });

  it('connectors: tfjsDataset and readDataFrame with partition, writeDataFrame with missingColumn', async () => {
    await expect(tfjsDataset(events, opts({ partition: { day: 'd1' }, features: ['id'] }))).rejects.toMatchObject({ message: expect.stringMatching(/^tfjsDataset: unknown option 'partition' \(did you mean 'partitions'\?\)/) });
    await expect(readDataFrame(events, opts({ dfd, partition: { day: 'd1' } }))).rejects.toMatchObject({ message: expect.stringMatching(/unknown option 'partition' \(did you mean 'partitions'\?\)/) });
    const df = await readDataFrame(events, { dfd, partitions: { day: 'd1' } });
    expect(df.shape[0]).toBe(3);
    await expect(writeDataFrame(df, events, opts({ missingColumn: 'null' }))).rejects.toMatchObject({ message: expect.stringMatching(/unknown option 'missingColumn' \(did you mean 'missingColumns'\?\)/) });
  });
});

describe('partition selections given as values of their column', () => {
  it('a Date or a zoned ISO time for a timestamp column, a number for a float or date column select their partition', async () => {
    const { Schema, Field, Int64, Float64, Timestamp, TimeUnit, DateDay } = await import('apache-arrow');
    const schema = new Schema([
      new Field('id', new Int64(), false), new Field('ts', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), false),
      new Field('f', new Float64(), false), new Field('d', new DateDay(), false),
    ]);
    const t = await lakehouse.createTable('typed_parts', schema, { rangePartitions: ['ts', 'f', 'd'] });
    await t.write([
      { id: 1n, ts: '2024-01-02T03:04:05.000006Z', f: 1e21, d: '2024-01-01' },
      { id: 2n, ts: '2024-01-03T00:00:00Z', f: 0.5, d: '2024-01-02' },
    ]);
    const ids = async (partitions: unknown) => (await t.toArrow({ partitions: partitions as Record<string, string> })).getChild('id')!.toArray();
    expect(await ids({ ts: new Date('2024-01-03T00:00:00Z') })).toEqual(BigInt64Array.from([2n]));
    expect(await ids({ ts: '2024-01-03T01:00:00+01:00' })).toEqual(BigInt64Array.from([2n]));
    expect(await ids({ f: 1e21 })).toEqual(BigInt64Array.from([1n]));
    expect(await ids({ d: new Date('2024-01-02T00:00:00Z') })).toEqual(BigInt64Array.from([2n]));
    // a value that is not one of the column's refuses, naming the column (it selected nothing before)
    await expect(ids({ ts: 'yesterday' })).rejects.toMatchObject({ message: expect.stringMatching(/column 'ts'/) });
    // drops what it names (it reported success and dropped nothing before)
    const dropped = await t.dropPartitions({ ts: new Date('2024-01-03T00:00:00Z') } as unknown as Record<string, string>);
    expect(dropped.versions.size).toBe(1);
    expect(await ids(undefined)).toEqual(BigInt64Array.from([1n]));
  });
});
