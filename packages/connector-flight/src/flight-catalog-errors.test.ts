/**
 * A catalog failure that names the catalog database (its address and user) reaches a Flight client
 * as a generic message of the same retryable status; the server's log gets the whole message.
 * PGlite catalog whose listing is made to fail as a lost PostgreSQL does, the project's client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { Field, Int64, Schema } from 'apache-arrow';
import { Lakehouse } from '@lakesoul-ts/io';
import { LakeSoulError, mapConnectError } from '@lakesoul-ts/meta';
import { FlightClient } from './flight-client.js';
import { createFlightServer, type FlightServer } from './flight-server.js';
import { toGrpcStatus } from './grpc-status.js';

const DATABASE = 'postgres://lakesoul:***@127.0.0.1:35295/lakesoul_test';

let dir: string;
let lakehouse: Lakehouse;
let server: FlightServer;
let url: string;
const logged: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flight-catalog-errors-'));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
  await lakehouse.createTable('events', new Schema([new Field('id', new Int64(), false)]));
  server = createFlightServer({ lakehouse, ticketSecret: 'catalog-errors-secret-0123456789', doGetThreads: 0, log: (m) => logged.push(m) });
  url = `grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
});

afterAll(async () => {
  await server?.close(1000);
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('catalog failures over Flight', () => {
  it('a lost catalog database is UNAVAILABLE "the catalog is unavailable (retry later)", its address only in the server log', async () => {
    const catalog = lakehouse.catalog as unknown as { listTables: (...a: unknown[]) => Promise<unknown> };
    const listTables = catalog.listTables;
    catalog.listTables = async () => {
      throw mapConnectError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:35295'), { code: 'ECONNREFUSED' }), DATABASE);
    };
    const client = await FlightClient.connect(url);
    try {
      const e = await client.listFlights().then(() => null, (err: unknown) => err as LakeSoulError);
      expect(e).toMatchObject({ kind: 'Catalog', code: 'CATALOG_UNAVAILABLE', retryable: true, context: { grpcCode: status.UNAVAILABLE } });
      expect(e!.message).toContain('the catalog is unavailable (retry later)');
      expect(e!.message).not.toMatch(/postgres|lakesoul_test|127\.0\.0\.1|ECONNREFUSED/);
      expect(logged.some((m) => m.includes(`cannot connect to the catalog database at ${DATABASE}: connect ECONNREFUSED`))).toBe(true);
    } finally {
      catalog.listTables = listTables;
      client.close();
    }
  });

  it('other catalog messages naming the database are generic too; those that do not keep their message', () => {
    const timeout = new LakeSoulError('Catalog', `catalog statement 'SELECT 1' on ${DATABASE} got no answer within 30000 ms`, { code: 'CATALOG_TIMEOUT', retryable: true, context: { database: DATABASE, table: 'events' } });
    expect(toGrpcStatus(timeout)).toMatchObject({ code: status.UNAVAILABLE, details: 'table events: the catalog is unavailable (retry later)' });
    const outcome = new LakeSoulError('Catalog', `the catalog database at ${DATABASE} lost the connection while its transaction committed: it may or may not have committed`, { code: 'TRANSACTION_OUTCOME_UNKNOWN', context: { database: DATABASE } });
    const s = toGrpcStatus(outcome);
    expect(s.code).toBe(status.INTERNAL);
    expect(s.details).toMatch(/may or may not have taken effect/);
    expect(s.details).not.toContain('127.0.0.1');
    const full = new LakeSoulError('Catalog', 'catalog database disk full (SQLSTATE 53100): could not extend file', { code: 'CATALOG_DISK_FULL' });
    expect(toGrpcStatus(full)).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: 'catalog database disk full (SQLSTATE 53100): could not extend file' });
  });
});
