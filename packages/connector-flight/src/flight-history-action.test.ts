/**
 * The `history` action lists versions without their snapshots unless asked, and then only for a
 * bounded number of commits: every version's snapshot lists every commit in force, so one call on a
 * long uncompacted history made the server build a reply quadratic in its commits (4,801 commits:
 * 11.5 million ids). PGlite catalog, local disk, the TS client over gRPC.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int64, Schema, Utf8 } from 'apache-arrow';
import type { FlightClient } from './flight-client.js';
import { startFlightFixture, type FlightFixture } from './test-support/flight-fixture.js';

let fixture: FlightFixture;
let client: FlightClient;

interface Entry { partitionDesc: string; version: number; commitOp: string; timestamp: number; snapshot?: string[] }

beforeAll(async () => {
  fixture = await startFlightFixture('flight-history-action', async (lakehouse) => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field('p', new Utf8(), false)]);
    const t = await lakehouse.createTable('h', schema, { primaryKeys: ['id'], rangePartitions: ['p'], hashBucketNum: 1 });
    for (let i = 0; i < 4; i++) await t.write([{ id: BigInt(i), p: 'a' }]);
    await t.write([{ id: 9n, p: 'b' }]);
  });
  client = fixture.client;
});

afterAll(() => fixture?.close());

describe('the history action', () => {
  it('lists every version without snapshots by default', async () => {
    const all = await client.doActionJson<Entry[]>('history', { table: 'h' });
    expect(all.map((e) => `${e.partitionDesc}@${e.version}`)).toEqual(['p=a@0', 'p=a@1', 'p=a@2', 'p=a@3', 'p=b@0']);
    expect(all.every((e) => !('snapshot' in e) && e.commitOp === 'MergeCommit' && e.timestamp > 0)).toBe(true);
  });

  it('keeps one partition and the newest commits', async () => {
    expect((await client.doActionJson<Entry[]>('history', { table: 'h', partition: 'p=a' })).map((e) => e.version)).toEqual([0, 1, 2, 3]);
    expect((await client.doActionJson<Entry[]>('history', { table: 'h', commits: 2 })).map((e) => `${e.partitionDesc}@${e.version}`)).toEqual(['p=a@3', 'p=b@0']);
  });

  it('gives snapshots for a bounded number of commits', async () => {
    const two = await client.doActionJson<Entry[]>('history', { table: 'h', partition: 'p=a', commits: 2, snapshots: true });
    expect(two.map((e) => e.snapshot?.length)).toEqual([3, 4]);
    // the reply's size is counted in the catalog before it is read (bounded at 1,000,000 ids)
    const t = await fixture.lakehouse.table('h');
    expect(await t.catalog.historySnapshotLength(t.info.tableId, { partitionDesc: 'p=a', commits: 2 })).toBe(7);
    const all = await t.history();
    expect(await t.catalog.historySnapshotLength(t.info.tableId)).toBe(all.reduce((n, v) => n + v.snapshot.length, 0));
    await expect(client.doActionJson('history', { table: 'h', snapshots: true })).rejects.toMatchObject({
      kind: 'InvalidArgument', message: expect.stringMatching(/"snapshots": true .* needs "commits" of at most 1000/),
    });
    await expect(client.doActionJson('history', { table: 'h', snapshots: true, commits: 1001 })).rejects.toMatchObject({ kind: 'InvalidArgument', message: expect.stringContaining('got 1001') });
  });

  it('refuses options of the wrong type, naming them', async () => {
    await expect(client.doActionJson('history', { table: 'h', commits: 0 })).rejects.toMatchObject({ kind: 'InvalidArgument', message: expect.stringContaining('"commits" must be a positive integer') });
    await expect(client.doActionJson('history', { table: 'h', partition: 3 })).rejects.toMatchObject({ kind: 'InvalidArgument', message: expect.stringContaining('"partition" must be a partition description') });
    await expect(client.doActionJson('history', { table: 'h', snapshots: 'yes' })).rejects.toMatchObject({ kind: 'InvalidArgument', message: expect.stringContaining('"snapshots" must be true or false') });
    await expect(client.doActionJson('history', { table: 'h', partition: 'q=1' })).rejects.toMatchObject({ kind: 'InvalidArgument' });
    await expect(client.doActionJson('history', { table: 'h', limit: 3 })).rejects.toMatchObject({ kind: 'InvalidArgument', message: expect.stringContaining('limit') });
  });
});
