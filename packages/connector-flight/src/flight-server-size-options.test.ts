/**
 * createFlightServer's byte and count options are checked when the server is made: a
 * `putBufferBytes` of NaN made every DoPut cut files of no rows and commit none of its rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { Lakehouse } from '@lakesoul-ts/io';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { FlightClient } from './flight-client.js';
import { createFlightServer, type CreateFlightServerOptions } from './flight-server.js';

const secret = 'flight-size-options-secret-0123456789';
let dir: string;
let lakehouse: Lakehouse;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flight-size-options-'));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: ':memory:', env: {} }, warehouse: `file://${join(dir, 'warehouse')}` });
});
afterAll(async () => {
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('createFlightServer size options', () => {
  it.each([
    ['putBufferBytes', NaN], ['putBufferBytes', 'abc'], ['putBufferBytes', 0], ['putBufferBytes', -1], ['putBufferBytes', 1.5],
    ['maxMessageBytes', 0], ['maxReceiveMessageBytes', NaN], ['maxBufferedBytes', -1], ['memoryBudgetBytes', Infinity],
    ['batchSize', 0], ['prefetchBytes', -5], ['maxConcurrentStreams', NaN],
  ] as [keyof CreateFlightServerOptions, unknown][])('%s: %s is INVALID_OPTION_VALUE', (option, value) => {
    let e: unknown;
    try {
      createFlightServer({ lakehouse, ticketSecret: secret, doGetThreads: 0, [option]: value });
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(LakeSoulError);
    expect((e as LakeSoulError).kind).toBe('InvalidArgument');
    expect((e as LakeSoulError).code).toBe('INVALID_OPTION_VALUE');
    expect((e as LakeSoulError).message).toContain(option);
    expect((e as LakeSoulError).context.option).toBe(option);
  });

  it('a ticketSecret too short is TICKET_SECRET_REQUIRED, as a missing one (docs/errors.md)', () => {
    for (const ticketSecret of ['short', new Uint8Array(15), undefined as unknown as string]) {
      let e: unknown;
      try {
        createFlightServer({ lakehouse, ticketSecret, doGetThreads: 0 });
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(LakeSoulError);
      expect((e as LakeSoulError).code).toBe('TICKET_SECRET_REQUIRED');
      expect((e as LakeSoulError).kind).toBe('InvalidArgument');
    }
  });

  it('a DoPut through a small putBufferBytes stores every row', async () => {
    await lakehouse.createTable('p', [{ id: 0, v: 'a' }], { primaryKeys: ['id'], hashBucketNum: 1 });
    const server = createFlightServer({ lakehouse, ticketSecret: secret, doGetThreads: 0, putBufferBytes: 4096, log: () => {} });
    const port = await server.listen(0, '127.0.0.1');
    const client = await FlightClient.connect(`grpc://127.0.0.1:${port}`);
    try {
      const n = 500;
      await client.doPut({ cmd: { table: 'p', expectedRows: n } }, tableFromArrays({ id: BigInt64Array.from({ length: n }, (_, i) => BigInt(i + 1)), v: Array.from({ length: n }, () => 'x') }));
      expect((await (await lakehouse.table('p')).toArrow()).numRows).toBe(n + 1);
    } finally {
      client.close();
      await server.close(2000);
    }
  });
});
