/**
 * FlightClient calls aborted through their signal fail with kind `Aborted` (code ABORTED), the
 * signal's reason as cause, however the abort surfaced: a DoPut aborted while its source is being
 * sent was reported as INTERNAL "Flight DoPut failed (20)" (the encoder's DOMException AbortError has
 * the legacy `.code` 20, taken for a gRPC status), and with a custom reason as Internal.
 * fromGrpcError takes only gRPC errors for statuses. And DoPut of batches whose dictionary columns
 * were built separately is written (their dictionaries went out under ids the schema did not declare).
 * PGlite catalog, local disk, a real server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Float64, Int64, RecordBatch, Schema, Table, Utf8, makeVector, tableFromArrays, vectorFromArray } from 'apache-arrow';
import type { Lakehouse } from '@lakesoul-ts/io';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { FlightClient } from './flight-client.js';
import { startFlightFixture, type FlightFixture } from './test-support/flight-fixture.js';
import { fromGrpcError } from './grpc-status.js';

const schema = new Schema([new Field('id', new Int64(), false), new Field('date', new Utf8(), false), new Field('score', new Float64(), true), new Field('s', new Utf8(), true)]);

let fixture: FlightFixture;
let lakehouse: Lakehouse;
let client: FlightClient;

beforeAll(async () => {
  fixture = await startFlightFixture('flight-client-abort', async (lh) => {
    await lh.createTable('events', schema, { rangePartitions: ['date'], primaryKeys: ['id'], hashBucketNum: 2 });
    await (await lh.table('events')).write(plain(0, 1000));
  });
  ({ lakehouse, client } = fixture);
});

afterAll(() => fixture?.close());

/** Rows `from`.. as a table of plain Utf8 columns. */
function plain(from: number, n: number) {
  return new Table({
    id: makeVector(new BigInt64Array(n).map((_, j) => BigInt(from + j))),
    date: vectorFromArray(Array(n).fill('2024-01-09'), new Utf8()),
    score: makeVector(new Float64Array(n)),
    s: vectorFromArray(Array(n).fill('zz'), new Utf8()),
  });
}

async function failure(p: Promise<unknown>): Promise<LakeSoulError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(LakeSoulError.is(e), `not a LakeSoulError: ${String(e)}`).toBe(true);
  return e as LakeSoulError;
}

describe('FlightClient aborts', () => {
  for (const [what, reason] of [['the default reason', undefined], ['a custom reason', new Error('stop')]] as const) {
    it(`a DoPut aborted while its source is sent is Aborted, with ${what} as cause`, async () => {
      const ac = new AbortController();
      const src = (async function* (): AsyncGenerator<RecordBatch> {
        yield* plain(20_000_000, 1000).batches;
        ac.abort(reason);
        yield* plain(20_001_000, 1000).batches;
      })();
      const e = await failure(client.doPut({ cmd: { table: 'events', mode: 'upsert' } }, src, { signal: ac.signal }));
      expect(e).toMatchObject({ kind: 'Aborted', code: 'ABORTED' });
      expect(e.cause).toBe(ac.signal.reason);
      expect(e.context.grpcCode).toBeUndefined();
    });
  }

  it('a DoPut aborted while its source waits, a DoGet and a unary call aborted in flight are Aborted', async () => {
    const ac = new AbortController();
    const slow = (async function* (): AsyncGenerator<RecordBatch> {
      yield* plain(30_000_000, 500).batches;
      setTimeout(() => ac.abort(new Error('stop')), 5);
      await new Promise((r) => setTimeout(r, 200));
      yield* plain(30_000_500, 500).batches;
    })();
    const put = await failure(client.doPut({ cmd: { table: 'events', mode: 'upsert' } }, slow, { signal: ac.signal }));
    expect(put).toMatchObject({ kind: 'Aborted', code: 'ABORTED', cause: ac.signal.reason });

    const info = await client.getFlightInfo({ path: ['default', 'events'] });
    const get = new AbortController();
    const read = (async () => {
      const batches = client.doGet(info.endpoints[0], { signal: get.signal });
      const first = batches.next(); // the call starts, then the signal aborts before its batches came
      get.abort(new Error('enough'));
      await first;
      for await (const _ of batches);
    })();
    expect(await failure(read)).toMatchObject({ kind: 'Aborted', code: 'ABORTED', cause: get.signal.reason });

    const unary = new AbortController();
    const pending = client.getFlightInfo({ path: ['default', 'events'] }, { signal: unary.signal });
    unary.abort(new Error('never mind'));
    expect(await failure(pending)).toMatchObject({ kind: 'Aborted', code: 'ABORTED', cause: unary.signal.reason });
  });

  it('fromGrpcError takes only gRPC errors for statuses: an AbortError is Aborted', () => {
    const abort = new DOMException('This operation was aborted', 'AbortError');
    expect(abort.code).toBe(20);
    const e = fromGrpcError(abort, 'DoPut');
    expect(e).toMatchObject({ kind: 'Aborted', code: 'ABORTED', cause: abort });
    expect(e.context.grpcCode).toBeUndefined();
    const other = fromGrpcError(Object.assign(new Error('odd'), { code: 3 }), 'DoPut');
    expect(other).toMatchObject({ kind: 'Internal', message: 'Flight DoPut failed: odd' });
  });
});

describe('FlightClient DoPut of dictionary columns', () => {
  it('writes batches whose dictionaries were built separately', async () => {
    const mk = (k: number, v: number) => {
      const n = 3;
      return tableFromArrays({ id: new BigInt64Array(n).map((_, j) => BigInt(40_000_000 + k * n + j)), date: Array(n).fill(`2024-01-0${v}`), score: new Float64Array(n), s: Array(n).fill(`s${k}`) });
    };
    const a = mk(0, 7);
    const b = mk(1, 8);
    expect(String(a.schema.fields[1].type)).toMatch(/Dictionary/);
    await client.doPut({ cmd: { table: 'events', mode: 'upsert' } }, (async function* () { yield* a.batches; yield* b.batches; })());
    await client.doPut({ cmd: { table: 'events', mode: 'upsert' } }, [...mk(2, 7).batches, ...mk(3, 8).batches]);
    const t = await lakehouse.table('events');
    const rows = (await t.toArrow({ filter: 'id >= 40000000' })).toArray().map((r) => `${r.id} ${r.date} ${r.s}`).sort();
    expect(rows).toEqual([
      '40000000 2024-01-07 s0', '40000001 2024-01-07 s0', '40000002 2024-01-07 s0',
      '40000003 2024-01-08 s1', '40000004 2024-01-08 s1', '40000005 2024-01-08 s1',
      '40000006 2024-01-07 s2', '40000007 2024-01-07 s2', '40000008 2024-01-07 s2',
      '40000009 2024-01-08 s3', '40000010 2024-01-08 s3', '40000011 2024-01-08 s3',
    ]);
  });
});
