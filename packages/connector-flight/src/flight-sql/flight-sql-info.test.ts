/**
 * GetSqlInfo as JDBC tools read it: every SqlInfo id that the Arrow Flight SQL JDBC driver's
 * DatabaseMetaData reads is answered (a missing one is a NullPointerException in the driver), in the
 * union member FlightSql.proto gives its id (the driver casts the value), with what this read-only,
 * one-table SELECT server supports. And a query parameter is refused with what to write instead.
 * PGlite catalog, local disk, the project's Flight client sending Flight SQL commands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int64, Schema, Table, Utf8, makeVector, vectorFromArray, type DenseUnion, type Vector } from 'apache-arrow';
import type { LakeSoulError } from '@lakesoul-ts/meta';
import { startFlightFixture, type FlightFixture } from '../test-support/flight-fixture.js';
import { packAny } from './flight-sql-messages.js';
import { ProtoWriter } from './proto-wire.js';

/** The union member of each SqlInfo id, from the comments of FlightSql.proto's enum SqlInfo. */
const PROTO_MEMBER: Record<string, number[]> = {
  string_value: [0, 1, 2, 504, 513, 514, 529, 530, 531],
  bool_value: [3, 4, 5, 9, 500, 501, 502, 506, 515, 516, 518, 519, 520, 521, 523, 524, 527, 532, 536, 537, 539, 556, 563, 565, 566, 572, 573, 574, 575, 576],
  // 541-561: int64 maxima. 562 SQL_DEFAULT_TRANSACTION_ISOLATION: "int32 ordinal" in the proto's
  // comment, but int64 in Arrow's Java SqlInfoBuilder and JDBC driver (which casts it to Long).
  bigint_value: [541, 542, 543, 544, 545, 546, 547, 548, 549, 550, 551, 552, 553, 554, 555, 557, 558, 559, 560, 561, 562],
  int32_bitmask: [8, 100, 101, 503, 505, 522, 525, 526, 528, 533, 534, 535, 538, 540, 564, 567, 568, 569, 570, 571],
  string_list: [508, 509, 510, 511, 512],
  int32_to_int32_list_map: [517],
};

/**
 * The ids the JDBC driver 18.3.0 (org.apache.arrow:flight-sql-jdbc-driver) reads in
 * ArrowDatabaseMetadata (its no-argument methods and supportsConvert / supportsTransactionIsolationLevel
 * / supportsResultSetType), listed from its bytecode.
 */
const JDBC_READS = [
  0, 1, 3, 504, 508, 509, 510, 511, 512, 513, 514, 515, 516, 517, 518, 519, 520, 521, 522, 523, 524, 525, 526, 527, 528, 529, 530, 531,
  532, 533, 534, 535, 536, 537, 538, 539, 540, 541, 542, 543, 544, 545, 546, 547, 548, 549, 550, 551, 552, 553, 554, 555, 556, 557, 558,
  559, 560, 561, 562, 563, 564, 565, 566, 567, 572, 573, 574, 575, 576,
];

const schema = new Schema([new Field('id', new Int64(), false), new Field('kind', new Utf8(), true)]);
let f: FlightFixture;

beforeAll(async () => {
  f = await startFlightFixture('flight-sql-info', async (lakehouse) => {
    const t = await lakehouse.createTable('events', schema);
    await t.write(new Table(schema, { id: makeVector(BigInt64Array.from([1n, 2n])), kind: vectorFromArray(['a?', 'b'], new Utf8()) } as any));
  });
});

afterAll(async () => {
  await f?.close();
});

/** GetSqlInfo for `ids` (all when empty), as id -> [union member name, value]. */
async function sqlInfo(ids: number[] = []): Promise<Map<number, [string, unknown]>> {
  const w = new ProtoWriter();
  for (const id of ids) w.varint(1, id);
  const table = await f.client.readAll(await f.client.getFlightInfo({ cmd: packAny('CommandGetSqlInfo', w.finish()) }));
  const names = table.getChild('info_name')!;
  const values = table.getChild('value') as Vector<DenseUnion>;
  const out = new Map<number, [string, unknown]>();
  for (const data of values.data) {
    const offset = out.size;
    for (let row = 0; row < data.length; row++) {
      const member = data.type.typeIdToChildIndex[data.typeIds[row]!]!;
      out.set(names.get(offset + row) as number, [data.type.children[member]!.name, values.get(offset + row)]);
    }
  }
  return out;
}

const statement = (sql: string) => ({ cmd: packAny('CommandStatementQuery', new ProtoWriter().bytes(1, sql).finish()) });

describe('GetSqlInfo', () => {
  it('answers every id the JDBC driver reads, each in the union member FlightSql.proto gives it', async () => {
    const info = await sqlInfo();
    const missing = JDBC_READS.filter((id) => !info.has(id));
    expect(missing).toEqual([]);
    for (const [member, ids] of Object.entries(PROTO_MEMBER)) {
      for (const id of ids) expect(info.get(id)?.[0], `SqlInfo ${id}`).toBe(member);
    }
    // and nothing outside the proto's ranges of default ids
    expect([...info.keys()].filter((id) => !Object.values(PROTO_MEMBER).flat().includes(id))).toEqual([]);
  });

  it('says what this server supports: no transactions, joins, GROUP BY, ORDER BY, unions, subqueries, parameters', async () => {
    const info = await sqlInfo();
    const value = (id: number) => info.get(id)![1];
    expect(value(563)).toBe(false); // SQL_TRANSACTIONS_SUPPORTED
    expect(value(562)).toBe(0n); // SQL_DEFAULT_TRANSACTION_ISOLATION: SQL_TRANSACTION_NONE
    expect(value(564)).toBe(1); // isolation levels: bit 0, SQL_TRANSACTION_NONE
    expect(value(8)).toBe(0); // FLIGHT_SQL_SERVER_TRANSACTION: none
    for (const id of [522, 525, 526, 533, 534, 535, 538, 540]) expect(value(id), `SqlInfo ${id}`).toBe(0); // bitmasks: nothing
    expect(value(528)).toBe(0); // SQL_OUTER_JOINS_SUPPORT_LEVEL: SQL_JOINS_UNSUPPORTED
    for (const id of [515, 518, 519, 520, 521, 523, 536, 537, 539, 572, 573, 574]) expect(value(id), `SqlInfo ${id}`).toBe(false);
    expect(value(560)).toBe(1n); // SQL_MAX_TABLES_IN_SELECT: no joins
    expect(value(557)).toBe(65536n); // SQL_MAX_STATEMENT_LENGTH: MAX_COMMAND_BYTES
    expect(value(559)).toBe(255n); // SQL_MAX_TABLE_NAME_LENGTH: MAX_NAME_BYTES
    expect(value(547)).toBe(4096n); // SQL_MAX_COLUMNS_IN_SELECT: MAX_LIST_ENTRIES, the read command's list limit
    expect(value(503)).toBe(0); // SQL_IDENTIFIER_CASE: not folded (no proto value says case-sensitive)
    expect(value(505)).toBe(0); // SQL_QUOTED_IDENTIFIER_CASE
    expect(value(514)).toBe('$');
    expect((value(517) as { size: number }).size).toBe(0); // SQL_SUPPORTS_CONVERT: no conversions
    expect([...(value(509) as Iterable<string>)]).toEqual([]); // no functions
    expect(value(567)).toBe(2); // result sets: SQL_RESULT_SET_TYPE_FORWARD_ONLY
  });

  it('answers the ids asked for, leaving out unknown ones', async () => {
    const info = await sqlInfo([562, 563, 517, 508, 7, 507, 9999]);
    expect([...info.keys()]).toEqual([562, 563, 517, 508]);
    expect(info.get(508)![0]).toBe('string_list');
  });

  it('the case of unquoted names counts: nothing is folded', async () => {
    const info = await f.client.getFlightInfo(statement('SELECT id FROM events'));
    expect((await f.client.readAll(info)).numRows).toBe(2);
    await expect(f.client.getFlightInfo(statement('SELECT id FROM EVENTS'))).rejects.toMatchObject({ message: expect.stringContaining("'default.EVENTS'") });
  });
});

describe('query parameters', () => {
  const refused = async (sql: string) => f.client.getFlightInfo(statement(sql)).then(() => null, (e: unknown) => e as LakeSoulError);

  it('are refused with FLIGHT_SQL_UNSUPPORTED_STATEMENT saying to write literal values', async () => {
    for (const [sql, param] of [
      ['SELECT * FROM events WHERE id = ?', '?'],
      ['SELECT * FROM events WHERE id = $1', '$1'],
      ['SELECT * FROM events WHERE id = :id', ':id'],
    ]) {
      const e = await refused(sql!);
      expect(e, sql).toMatchObject({ kind: 'InvalidArgument', code: 'FLIGHT_SQL_UNSUPPORTED_STATEMENT' });
      expect(e!.message).toContain(`query parameters are not supported (${param} at character `);
      expect(e!.message).toContain('write the values into the statement as literals');
    }
    // a prepared statement (JDBC prepareStatement, ADBC with parameters) the same
    const body = packAny('ActionCreatePreparedStatementRequest', new ProtoWriter().bytes(1, 'SELECT * FROM events WHERE id = ?').finish());
    await expect(f.client.doAction('CreatePreparedStatement', body)).rejects.toMatchObject({ code: 'FLIGHT_SQL_UNSUPPORTED_STATEMENT', message: expect.stringContaining('query parameters are not supported (?') });
  });

  it('a ? inside a string literal or a quoted name is text', async () => {
    const info = await f.client.getFlightInfo(statement(`SELECT "id", kind FROM events WHERE kind = 'a?' OR kind = ':x' OR kind = '$1'`));
    const t = await f.client.readAll(info);
    expect(t.numRows).toBe(1);
    expect(t.getChild('kind')!.get(0)).toBe('a?');
    await expect(f.client.getFlightInfo(statement('SELECT "id?" FROM events'))).rejects.toMatchObject({ message: expect.not.stringContaining('parameters') });
  });
});
