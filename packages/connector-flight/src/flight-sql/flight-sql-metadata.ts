/**
 * Answers of the Flight SQL metadata commands, as Arrow record batches with the result schemas that
 * FlightSql.proto fixes for each command (column names, types and nullability are part of the
 * protocol: clients read them by position and type).
 */
import { readFileSync } from 'node:fs';
import {
  Binary, Bool, DenseUnion, Field, Int32, Int64, List, Map_, RecordBatch, Schema, Struct, Uint32, Utf8,
  makeData, vectorFromArray, type Data, type DataType,
} from 'apache-arrow';
import { likeMatcher, loadedArrowVersion, type Lakehouse, type LikeMatcher } from '@lakesoul-ts/io';
import type { TableInfo } from '@lakesoul-ts/meta';
import { schemaToIpcMessage } from '../ipc-framing.js';
import type { FlightSqlCommand } from './flight-sql-messages.js';
import { FLIGHT_SQL_CATALOG } from './sql-statement.js';

/** The one table type of a lakehouse. */
export const TABLE_TYPE = 'TABLE';

const utf8 = (name: string, nullable: boolean) => new Field(name, new Utf8(), nullable);

/** CommandGetCatalogs: `catalog_name: utf8 not null`. */
export const CATALOGS_SCHEMA = new Schema([utf8('catalog_name', false)]);
/** CommandGetDbSchemas: `catalog_name: utf8, db_schema_name: utf8 not null`. */
export const DB_SCHEMAS_SCHEMA = new Schema([utf8('catalog_name', true), utf8('db_schema_name', false)]);
/** CommandGetTableTypes: `table_type: utf8 not null`. */
export const TABLE_TYPES_SCHEMA = new Schema([utf8('table_type', false)]);
const TABLES_FIELDS = [utf8('catalog_name', true), utf8('db_schema_name', true), utf8('table_name', false), utf8('table_type', false)];
/** CommandGetTables without include_schema. */
export const TABLES_SCHEMA = new Schema(TABLES_FIELDS);
/** CommandGetTables with include_schema: `table_schema: binary not null` (an encapsulated IPC schema message). */
export const TABLES_WITH_SCHEMA_SCHEMA = new Schema([...TABLES_FIELDS, new Field('table_schema', new Binary(), false)]);
/** CommandGetPrimaryKeys. */
export const PRIMARY_KEYS_SCHEMA = new Schema([
  utf8('catalog_name', true), utf8('db_schema_name', true), utf8('table_name', false), utf8('column_name', false),
  utf8('key_name', true), new Field('key_sequence', new Int32(), false),
]);

const INT32_LIST = new List(new Field('item', new Int32(), true));
const SQL_INFO_MEMBERS = [
  new Field('string_value', new Utf8(), true),
  new Field('bool_value', new Bool(), true),
  new Field('bigint_value', new Int64(), true),
  new Field('int32_bitmask', new Int32(), true),
  new Field('string_list', new List(new Field('item', new Utf8(), true)), true),
  new Field('int32_to_int32_list_map', new Map_(new Field('entries', new Struct<any>([new Field('key', new Int32(), false), new Field('value', INT32_LIST, true)]), false)), true),
];
const SQL_INFO_UNION = new DenseUnion([0, 1, 2, 3, 4, 5], SQL_INFO_MEMBERS);
/** CommandGetSqlInfo: `info_name: uint32 not null, value: dense_union<string_value, bool_value, bigint_value, int32_bitmask, string_list, int32_to_int32_list_map>`. */
export const SQL_INFO_SCHEMA = new Schema([new Field('info_name', new Uint32(), false), new Field('value', SQL_INFO_UNION, false)]);

/** A SqlInfo value, by the union member it travels in. */
export type SqlInfoValue = { string: string } | { bool: boolean } | { bigint: bigint } | { int32: number } | { strings: string[] };

/** The SqlInfo ids answered (FlightSql.proto enum SqlInfo). */
export const SQL_INFO_IDS = {
  FLIGHT_SQL_SERVER_NAME: 0,
  FLIGHT_SQL_SERVER_VERSION: 1,
  FLIGHT_SQL_SERVER_ARROW_VERSION: 2,
  FLIGHT_SQL_SERVER_READ_ONLY: 3,
  FLIGHT_SQL_SERVER_SQL: 4,
  FLIGHT_SQL_SERVER_SUBSTRAIT: 5,
  FLIGHT_SQL_SERVER_TRANSACTION: 8,
  FLIGHT_SQL_SERVER_CANCEL: 9,
  FLIGHT_SQL_SERVER_STATEMENT_TIMEOUT: 100,
  FLIGHT_SQL_SERVER_TRANSACTION_TIMEOUT: 101,
  SQL_DDL_CATALOG: 500,
  SQL_DDL_SCHEMA: 501,
  SQL_DDL_TABLE: 502,
  SQL_IDENTIFIER_QUOTE_CHAR: 504,
  SQL_ALL_TABLES_ARE_SELECTABLE: 506,
  SQL_KEYWORDS: 508,
  SQL_SEARCH_STRING_ESCAPE: 513,
  SQL_SCHEMA_TERM: 529,
  SQL_CATALOG_TERM: 531,
  SQL_CATALOG_AT_START: 532,
} as const;

function packageVersions(): { server: string; arrow: string } {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  // apache-arrow is a peer dependency: the version installed, not a range
  return { server: pkg.version, arrow: loadedArrowVersion() ?? 'unknown' };
}

/**
 * What this server says about itself. Flight SQL here is read-only (writes go through plain Flight
 * DoPut), has no Flight SQL transactions, prepared statements do not expire (handles are stateless).
 */
export function sqlInfoValues(): Map<number, SqlInfoValue> {
  const v = packageVersions();
  const ids = SQL_INFO_IDS;
  return new Map<number, SqlInfoValue>([
    [ids.FLIGHT_SQL_SERVER_NAME, { string: 'lakesoul-ts' }],
    [ids.FLIGHT_SQL_SERVER_VERSION, { string: v.server }],
    [ids.FLIGHT_SQL_SERVER_ARROW_VERSION, { string: v.arrow }],
    [ids.FLIGHT_SQL_SERVER_READ_ONLY, { bool: true }],
    [ids.FLIGHT_SQL_SERVER_SQL, { bool: true }],
    [ids.FLIGHT_SQL_SERVER_SUBSTRAIT, { bool: false }],
    [ids.FLIGHT_SQL_SERVER_TRANSACTION, { int32: 0 }],
    [ids.FLIGHT_SQL_SERVER_CANCEL, { bool: false }],
    [ids.FLIGHT_SQL_SERVER_STATEMENT_TIMEOUT, { int32: 0 }],
    [ids.FLIGHT_SQL_SERVER_TRANSACTION_TIMEOUT, { int32: 0 }],
    [ids.SQL_DDL_CATALOG, { bool: false }],
    [ids.SQL_DDL_SCHEMA, { bool: false }],
    [ids.SQL_DDL_TABLE, { bool: false }],
    [ids.SQL_IDENTIFIER_QUOTE_CHAR, { string: '"' }],
    [ids.SQL_ALL_TABLES_ARE_SELECTABLE, { bool: true }],
    [ids.SQL_KEYWORDS, { strings: ['AS', 'FOR', 'FROM', 'LIMIT', 'OF', 'SELECT', 'TIMESTAMP', 'VERSION', 'WHERE'] }],
    [ids.SQL_SEARCH_STRING_ESCAPE, { string: '\\' }],
    [ids.SQL_SCHEMA_TERM, { string: 'namespace' }],
    [ids.SQL_CATALOG_TERM, { string: 'catalog' }],
    [ids.SQL_CATALOG_AT_START, { bool: true }],
  ]);
}

function column<T extends DataType>(values: unknown[], type: T): Data<T> {
  return vectorFromArray(values as never[], type).data[0] as Data<T>;
}

function batchOf(schema: Schema, columns: Data[]): RecordBatch {
  const length = columns[0]?.length ?? 0;
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children: columns }));
}

/** The CommandGetSqlInfo batch for `ids` (every known id when empty; unknown ids are left out). */
export function sqlInfoBatch(ids: number[]): RecordBatch {
  const known = sqlInfoValues();
  const wanted = ids.length ? [...new Set(ids)].filter((id) => known.has(id)) : [...known.keys()];
  const members: unknown[][] = [[], [], [], [], [], []];
  const typeIds = new Int8Array(wanted.length);
  const offsets = new Int32Array(wanted.length);
  wanted.forEach((id, row) => {
    const value = known.get(id)!;
    const [member, v] = 'string' in value ? [0, value.string] : 'bool' in value ? [1, value.bool] : 'bigint' in value ? [2, value.bigint]
      : 'int32' in value ? [3, value.int32] : [4, value.strings];
    typeIds[row] = member;
    offsets[row] = members[member]!.length;
    members[member]!.push(v);
  });
  const children = SQL_INFO_MEMBERS.map((f, i) => column(members[i]!, f.type));
  const union = makeData({ type: SQL_INFO_UNION, length: wanted.length, nullCount: 0, typeIds, valueOffsets: offsets, children });
  return batchOf(SQL_INFO_SCHEMA, [column(wanted, new Uint32()), union]);
}

/**
 * A Flight SQL filter pattern (SQL LIKE: `%` any run, `_` one character, `\` escapes the next one),
 * matched in linear time ({@link likeMatcher}); no pattern matches everything.
 */
export function likePattern(pattern: string | undefined): LikeMatcher {
  return likeMatcher(pattern ?? '%');
}

/** True when a command's catalog filter admits the one catalog (absent: any; "": catalog-less only). */
function catalogMatches(catalog: string | undefined): boolean {
  return catalog === undefined || catalog === FLIGHT_SQL_CATALOG;
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function matchingTables(lakehouse: Lakehouse, catalog: string | undefined, schemaPattern: string | undefined, tablePattern: string | undefined, signal: AbortSignal): Promise<TableInfo[]> {
  if (!catalogMatches(catalog)) return [];
  const ns = likePattern(schemaPattern);
  const name = likePattern(tablePattern);
  const tables = await lakehouse.catalog.listTables(undefined, { signal });
  return tables
    .filter((t) => ns.test(t.namespace) && name.test(t.name))
    .sort((a, b) => byName(a.namespace, b.namespace) || byName(a.name, b.name));
}

/** The result schema of a metadata command. */
export function metadataSchema(cmd: FlightSqlCommand): Schema {
  switch (cmd.kind) {
    case 'CommandGetSqlInfo': return SQL_INFO_SCHEMA;
    case 'CommandGetCatalogs': return CATALOGS_SCHEMA;
    case 'CommandGetDbSchemas': return DB_SCHEMAS_SCHEMA;
    case 'CommandGetTables': return cmd.includeSchema ? TABLES_WITH_SCHEMA_SCHEMA : TABLES_SCHEMA;
    case 'CommandGetTableTypes': return TABLE_TYPES_SCHEMA;
    case 'CommandGetPrimaryKeys': return PRIMARY_KEYS_SCHEMA;
    default: throw new Error(`${cmd.kind} is not a metadata command`);
  }
}

/** Runs a metadata command against the catalog; one batch (metadata results are small). */
export async function metadataBatch(cmd: FlightSqlCommand, lakehouse: Lakehouse, signal: AbortSignal): Promise<RecordBatch> {
  switch (cmd.kind) {
    case 'CommandGetSqlInfo':
      return sqlInfoBatch(cmd.info);
    case 'CommandGetCatalogs':
      return batchOf(CATALOGS_SCHEMA, [column([FLIGHT_SQL_CATALOG], new Utf8())]);
    case 'CommandGetTableTypes':
      return batchOf(TABLE_TYPES_SCHEMA, [column([TABLE_TYPE], new Utf8())]);
    case 'CommandGetDbSchemas': {
      const pattern = likePattern(cmd.dbSchemaFilterPattern);
      const names = catalogMatches(cmd.catalog)
        ? (await lakehouse.catalog.listNamespaces({ signal })).map((n) => n.name).filter((n) => pattern.test(n)).sort(byName)
        : [];
      return batchOf(DB_SCHEMAS_SCHEMA, [column(names.map(() => FLIGHT_SQL_CATALOG), new Utf8()), column(names, new Utf8())]);
    }
    case 'CommandGetTables': {
      const wantsTables = cmd.tableTypes.length === 0 || cmd.tableTypes.some((t) => t.toUpperCase() === TABLE_TYPE);
      const tables = wantsTables ? await matchingTables(lakehouse, cmd.catalog, cmd.dbSchemaFilterPattern, cmd.tableNameFilterPattern, signal) : [];
      const columns: Data[] = [
        column(tables.map(() => FLIGHT_SQL_CATALOG), new Utf8()),
        column(tables.map((t) => t.namespace), new Utf8()),
        column(tables.map((t) => t.name), new Utf8()),
        column(tables.map(() => TABLE_TYPE), new Utf8()),
      ];
      if (cmd.includeSchema) columns.push(column(tables.map((t) => schemaToIpcMessage(t.schema)), new Binary()));
      return batchOf(metadataSchema(cmd), columns);
    }
    case 'CommandGetPrimaryKeys': {
      const tables = (await matchingTables(lakehouse, cmd.catalog, undefined, undefined, signal))
        .filter((t) => t.name === cmd.table && (cmd.dbSchema === undefined || t.namespace === cmd.dbSchema));
      const rows = tables.flatMap((t) => t.primaryKeys.map((k, i) => ({ ns: t.namespace, table: t.name, column: k, seq: i + 1 })));
      return batchOf(PRIMARY_KEYS_SCHEMA, [
        column(rows.map(() => FLIGHT_SQL_CATALOG), new Utf8()),
        column(rows.map((r) => r.ns), new Utf8()),
        column(rows.map((r) => r.table), new Utf8()),
        column(rows.map((r) => r.column), new Utf8()),
        column(rows.map(() => null), new Utf8()),
        column(rows.map((r) => r.seq), new Int32()),
      ]);
    }
    default:
      throw new Error(`${cmd.kind} is not a metadata command`);
  }
}
