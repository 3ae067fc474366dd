/**
 * A table whose schema this server cannot decode (the wheel's pa.large_list) is listed by the catalog
 * with `unsupported` and an empty schema: ListFlights and Flight SQL's GetTables leave it out (they
 * described it as a table of no columns, or failed the whole listing opening it), the other tables
 * as before.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Field, Int64, Schema } from 'apache-arrow';
import { metadataBatch } from './flight-sql/flight-sql-metadata.js';
import { startFlightFixture, type FlightFixture } from './test-support/flight-fixture.js';

const LARGE_LIST = JSON.stringify({ fields: [{ name: 'l', nullable: true, type: { name: 'largelist' }, children: [{ name: 'item', nullable: true, type: { name: 'int', bitWidth: 32, isSigned: true }, children: [] }] }] });

let fixture: FlightFixture;
beforeAll(async () => {
  fixture = await startFlightFixture('flight-undecodable', async (lh) => {
    const schema = new Schema([new Field('id', new Int64(), false)]);
    await lh.createTable('ok', schema);
    await lh.createTable('keyed', schema, { primaryKeys: ['id'] });
    for (const name of ['bad', 'bad_keyed']) {
      const t = await lh.createTable(name, schema, name === 'bad_keyed' ? { primaryKeys: ['id'] } : {});
      await lh.catalog.driver.query('UPDATE table_info SET table_schema = $1 WHERE table_id = $2', [LARGE_LIST, t.info.tableId]);
    }
  });
});
afterAll(() => fixture?.close());

it('ListFlights and GetTables leave out tables whose schema cannot be decoded', async () => {
  const flights = await fixture.client.listFlights();
  expect(flights.map((f) => f.descriptor?.path?.join('.')).sort()).toEqual(['default.keyed', 'default.ok']);
  const batch = await metadataBatch({ kind: 'CommandGetTables', tableTypes: [], includeSchema: true } as never, fixture.lakehouse, new AbortController().signal);
  expect(Array.from({ length: batch.numRows }, (_, i) => batch.getChild('table_name')!.get(i))).toEqual(['keyed', 'ok']);
});
