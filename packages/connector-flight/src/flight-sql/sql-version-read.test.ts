/**
 * FOR VERSION AS OF on a range-partitioned table whose read selects several partitions is refused
 * with what works in SQL (FOR TIMESTAMP AS OF, or a plain Flight command naming the partition), not
 * with the `partitions` option and `--partition` flag a statement cannot give.
 * PGlite catalog, local disk, the project's Flight client sending Flight SQL commands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Int64, Schema, Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { Lakehouse } from '@lakesoul-ts/io';
import type { LakeSoulError } from '@lakesoul-ts/meta';
import { FlightClient } from '../flight-client.js';
import { createFlightServer, type FlightServer } from '../flight-server.js';
import { packAny } from './flight-sql-messages.js';
import { ProtoWriter } from './proto-wire.js';

const schema = new Schema([new Field('id', new Int64(), false), new Field('d', new Utf8(), false)]);

let dir: string;
let lakehouse: Lakehouse;
let server: FlightServer;
let client: FlightClient;

const statement = (sql: string) => {
  const w = new ProtoWriter();
  w.bytes(1, sql);
  return { cmd: packAny('CommandStatementQuery', w.finish()) };
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flight-sql-version-'));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
  const ev = await lakehouse.createTable('ev', schema, { rangePartitions: ['d'] });
  await ev.write(new Table(schema, { id: makeVector(BigInt64Array.from([1n, 2n])), d: vectorFromArray(['a', 'b'], new Utf8()) } as any));
  server = createFlightServer({ lakehouse, ticketSecret: 'sql-version-read-secret-0123456789', doGetThreads: 0 });
  client = await FlightClient.connect(`grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`);
});

afterAll(async () => {
  client?.close();
  await server?.close(1000);
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Flight SQL FOR VERSION AS OF on a range-partitioned table', () => {
  it('says what works in SQL, not the partitions option nor --partition', async () => {
    const e = await client.getFlightInfo(statement("SELECT * FROM ev WHERE d = 'a' FOR VERSION AS OF 0")).then(() => null, (err: unknown) => err as LakeSoulError);
    expect(e).toMatchObject({ kind: 'InvalidArgument', code: 'VERSION_NEEDS_PARTITION' });
    expect(e!.message).toMatch(/FOR VERSION AS OF 0 on table 'default\.ev': versions are numbered per partition and this table has 2 partitions \(e\.g\. d=a, d=b\)/);
    expect(e!.message).toContain("FOR TIMESTAMP AS OF '<ISO-8601>'");
    expect(e!.message).toContain('{"table": "ev", "namespace": "default", "partitions": {"d": "..."}, "version": 0}');
    expect(e!.message).not.toMatch(/--partition|partitions: \{ d/);
    // GetSchema says the same
    await expect(client.getSchema(statement('SELECT id FROM ev FOR VERSION AS OF 0'))).rejects.toMatchObject({ message: expect.stringContaining('SQL cannot name the partition') });
  });
});
