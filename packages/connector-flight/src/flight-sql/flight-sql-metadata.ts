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
import { MAX_NAME_BYTES, type TableInfo } from '@lakesoul-ts/meta';
import { schemaToIpcMessage } from '../ipc-framing.js';
import type { FlightSqlCommand } from './flight-sql-messages.js';
import { MAX_COMMAND_BYTES, MAX_LIST_ENTRIES } from '../flight-limits.js';
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

/** A SqlInfo value, by the union member it travels in (`int32ListMap`: `int32_to_int32_list_map`). */
export type SqlInfoValue =
  | { string: string } | { bool: boolean } | { bigint: bigint } | { int32: number } | { strings: string[] }
  | { int32ListMap: ReadonlyMap<number, readonly number[]> };

/**
 * The SqlInfo ids answered (FlightSql.proto enum SqlInfo): every id of the protocol's server and
 * syntax ranges that the Arrow Flight SQL JDBC driver's `DatabaseMetaData` reads, and the rest of
 * those ranges that this server can answer truthfully. Left out: the Substrait versions (6, 7; null
 * when Substrait is not served) and SQL_NULL_ORDERING (507; without ORDER BY, rows come in no order).
 */
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
  SQL_IDENTIFIER_CASE: 503,
  SQL_IDENTIFIER_QUOTE_CHAR: 504,
  SQL_QUOTED_IDENTIFIER_CASE: 505,
  SQL_ALL_TABLES_ARE_SELECTABLE: 506,
  SQL_KEYWORDS: 508,
  SQL_NUMERIC_FUNCTIONS: 509,
  SQL_STRING_FUNCTIONS: 510,
  SQL_SYSTEM_FUNCTIONS: 511,
  SQL_DATETIME_FUNCTIONS: 512,
  SQL_SEARCH_STRING_ESCAPE: 513,
  SQL_EXTRA_NAME_CHARACTERS: 514,
  SQL_SUPPORTS_COLUMN_ALIASING: 515,
  SQL_NULL_PLUS_NULL_IS_NULL: 516,
  SQL_SUPPORTS_CONVERT: 517,
  SQL_SUPPORTS_TABLE_CORRELATION_NAMES: 518,
  SQL_SUPPORTS_DIFFERENT_TABLE_CORRELATION_NAMES: 519,
  SQL_SUPPORTS_EXPRESSIONS_IN_ORDER_BY: 520,
  SQL_SUPPORTS_ORDER_BY_UNRELATED: 521,
  SQL_SUPPORTED_GROUP_BY: 522,
  SQL_SUPPORTS_LIKE_ESCAPE_CLAUSE: 523,
  SQL_SUPPORTS_NON_NULLABLE_COLUMNS: 524,
  SQL_SUPPORTED_GRAMMAR: 525,
  SQL_ANSI92_SUPPORTED_LEVEL: 526,
  SQL_SUPPORTS_INTEGRITY_ENHANCEMENT_FACILITY: 527,
  SQL_OUTER_JOINS_SUPPORT_LEVEL: 528,
  SQL_SCHEMA_TERM: 529,
  SQL_PROCEDURE_TERM: 530,
  SQL_CATALOG_TERM: 531,
  SQL_CATALOG_AT_START: 532,
  SQL_SCHEMAS_SUPPORTED_ACTIONS: 533,
  SQL_CATALOGS_SUPPORTED_ACTIONS: 534,
  SQL_SUPPORTED_POSITIONED_COMMANDS: 535,
  SQL_SELECT_FOR_UPDATE_SUPPORTED: 536,
  SQL_STORED_PROCEDURES_SUPPORTED: 537,
  SQL_SUPPORTED_SUBQUERIES: 538,
  SQL_CORRELATED_SUBQUERIES_SUPPORTED: 539,
  SQL_SUPPORTED_UNIONS: 540,
  SQL_MAX_BINARY_LITERAL_LENGTH: 541,
  SQL_MAX_CHAR_LITERAL_LENGTH: 542,
  SQL_MAX_COLUMN_NAME_LENGTH: 543,
  SQL_MAX_COLUMNS_IN_GROUP_BY: 544,
  SQL_MAX_COLUMNS_IN_INDEX: 545,
  SQL_MAX_COLUMNS_IN_ORDER_BY: 546,
  SQL_MAX_COLUMNS_IN_SELECT: 547,
  SQL_MAX_COLUMNS_IN_TABLE: 548,
  SQL_MAX_CONNECTIONS: 549,
  SQL_MAX_CURSOR_NAME_LENGTH: 550,
  SQL_MAX_INDEX_LENGTH: 551,
  SQL_DB_SCHEMA_NAME_LENGTH: 552,
  SQL_MAX_PROCEDURE_NAME_LENGTH: 553,
  SQL_MAX_CATALOG_NAME_LENGTH: 554,
  SQL_MAX_ROW_SIZE: 555,
  SQL_MAX_ROW_SIZE_INCLUDES_BLOBS: 556,
  SQL_MAX_STATEMENT_LENGTH: 557,
  SQL_MAX_STATEMENTS: 558,
  SQL_MAX_TABLE_NAME_LENGTH: 559,
  SQL_MAX_TABLES_IN_SELECT: 560,
  SQL_MAX_USERNAME_LENGTH: 561,
  SQL_DEFAULT_TRANSACTION_ISOLATION: 562,
  SQL_TRANSACTIONS_SUPPORTED: 563,
  SQL_SUPPORTED_TRANSACTIONS_ISOLATION_LEVELS: 564,
  SQL_DATA_DEFINITION_CAUSES_TRANSACTION_COMMIT: 565,
  SQL_DATA_DEFINITIONS_IN_TRANSACTIONS_IGNORED: 566,
  SQL_SUPPORTED_RESULT_SET_TYPES: 567,
  SQL_SUPPORTED_CONCURRENCIES_FOR_RESULT_SET_UNSPECIFIED: 568,
  SQL_SUPPORTED_CONCURRENCIES_FOR_RESULT_SET_FORWARD_ONLY: 569,
  SQL_SUPPORTED_CONCURRENCIES_FOR_RESULT_SET_SCROLL_SENSITIVE: 570,
  SQL_SUPPORTED_CONCURRENCIES_FOR_RESULT_SET_SCROLL_INSENSITIVE: 571,
  SQL_BATCH_UPDATES_SUPPORTED: 572,
  SQL_SAVEPOINTS_SUPPORTED: 573,
  SQL_NAMED_PARAMETERS_SUPPORTED: 574,
  SQL_LOCATORS_UPDATE_COPY: 575,
  SQL_STORED_FUNCTIONS_USING_CALL_SYNTAX_SUPPORTED: 576,
} as const;

function packageVersions(): { server: string; arrow: string } {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  // apache-arrow is a peer dependency: the version installed, not a range
  return { server: pkg.version, arrow: loadedArrowVersion() ?? 'unknown' };
}

/** The bitmask of a set of FlightSql.proto enum ordinals (bit n stands for ordinal n). */
const bits = (...ordinals: number[]): number => ordinals.reduce((mask, o) => mask | (1 << o), 0);

/**
 * What this server says about itself. Flight SQL here is read-only (writes go through plain Flight
 * DoPut), has no Flight SQL transactions, prepared statements do not expire (handles are stateless).
 * The SQL is one shape, `SELECT * | col, ... FROM [namespace.]table [WHERE <filter>] [FOR ... AS OF
 * ...] [LIMIT n]`: no joins, subqueries, unions, GROUP BY, ORDER BY, aliases, expressions, functions,
 * CAST/CONVERT, parameters or DDL; identifiers are compared as written (quoted or not, nothing is
 * folded to upper or lower case).
 *
 * Each value travels in the union member FlightSql.proto names for its id, except
 * SQL_DEFAULT_TRANSACTION_ISOLATION: the proto's comment calls it an int32 ordinal, but Arrow's Java
 * implementation (SqlInfoBuilder on the server side, and the JDBC driver, which casts the value to
 * Long) carries it as int64, so it goes as `bigint_value` (an int32 makes the JDBC driver's
 * getDefaultTransactionIsolation throw ClassCastException).
 */
export function sqlInfoValues(): Map<number, SqlInfoValue> {
  const v = packageVersions();
  const ids = SQL_INFO_IDS;
  const noLimit = { bigint: 0n }; // SQL_MAX_*: 0 = no limit (or none known)
  return new Map<number, SqlInfoValue>([
    [ids.FLIGHT_SQL_SERVER_NAME, { string: 'lakesoul-ts' }],
    [ids.FLIGHT_SQL_SERVER_VERSION, { string: v.server }],
    [ids.FLIGHT_SQL_SERVER_ARROW_VERSION, { string: v.arrow }],
    [ids.FLIGHT_SQL_SERVER_READ_ONLY, { bool: true }],
    [ids.FLIGHT_SQL_SERVER_SQL, { bool: true }],
    [ids.FLIGHT_SQL_SERVER_SUBSTRAIT, { bool: false }],
    [ids.FLIGHT_SQL_SERVER_TRANSACTION, { int32: 0 }], // SQL_SUPPORTED_TRANSACTION_NONE
    [ids.FLIGHT_SQL_SERVER_CANCEL, { bool: false }],
    [ids.FLIGHT_SQL_SERVER_STATEMENT_TIMEOUT, { int32: 0 }],
    [ids.FLIGHT_SQL_SERVER_TRANSACTION_TIMEOUT, { int32: 0 }],
    [ids.SQL_DDL_CATALOG, { bool: false }],
    [ids.SQL_DDL_SCHEMA, { bool: false }],
    [ids.SQL_DDL_TABLE, { bool: false }],
    // SqlSupportedCaseSensitivity has no "case-sensitive" value: CASE_INSENSITIVE (1), UPPERCASE (2)
    // and LOWERCASE (3) would each say names are matched ignoring case. UNKNOWN (0) claims no folding
    // (Arrow's Flight SQL ODBC driver reads it as SQL_IC_SENSITIVE).
    [ids.SQL_IDENTIFIER_CASE, { int32: 0 }],
    [ids.SQL_IDENTIFIER_QUOTE_CHAR, { string: '"' }],
    [ids.SQL_QUOTED_IDENTIFIER_CASE, { int32: 0 }],
    [ids.SQL_ALL_TABLES_ARE_SELECTABLE, { bool: true }],
    [ids.SQL_KEYWORDS, { strings: ['AS', 'FOR', 'FROM', 'LIMIT', 'OF', 'SELECT', 'TIMESTAMP', 'VERSION', 'WHERE'] }],
    [ids.SQL_NUMERIC_FUNCTIONS, { strings: [] }],
    [ids.SQL_STRING_FUNCTIONS, { strings: [] }],
    [ids.SQL_SYSTEM_FUNCTIONS, { strings: [] }],
    [ids.SQL_DATETIME_FUNCTIONS, { strings: [] }],
    [ids.SQL_SEARCH_STRING_ESCAPE, { string: '\\' }],
    [ids.SQL_EXTRA_NAME_CHARACTERS, { string: '$' }], // unquoted names: [A-Za-z_][A-Za-z0-9_$]*
    [ids.SQL_SUPPORTS_COLUMN_ALIASING, { bool: false }],
    [ids.SQL_NULL_PLUS_NULL_IS_NULL, { bool: false }], // no concatenation
    [ids.SQL_SUPPORTS_CONVERT, { int32ListMap: new Map() }], // no CAST/CONVERT
    [ids.SQL_SUPPORTS_TABLE_CORRELATION_NAMES, { bool: false }],
    [ids.SQL_SUPPORTS_DIFFERENT_TABLE_CORRELATION_NAMES, { bool: false }],
    [ids.SQL_SUPPORTS_EXPRESSIONS_IN_ORDER_BY, { bool: false }],
    [ids.SQL_SUPPORTS_ORDER_BY_UNRELATED, { bool: false }],
    [ids.SQL_SUPPORTED_GROUP_BY, { int32: bits() }],
    [ids.SQL_SUPPORTS_LIKE_ESCAPE_CLAUSE, { bool: false }], // LIKE escapes with \, no ESCAPE clause
    [ids.SQL_SUPPORTS_NON_NULLABLE_COLUMNS, { bool: true }], // tables have non-nullable columns (not SQL DDL)
    [ids.SQL_SUPPORTED_GRAMMAR, { int32: bits() }], // not even the ODBC minimum grammar (no DDL, no INSERT)
    [ids.SQL_ANSI92_SUPPORTED_LEVEL, { int32: bits() }],
    [ids.SQL_SUPPORTS_INTEGRITY_ENHANCEMENT_FACILITY, { bool: false }],
    [ids.SQL_OUTER_JOINS_SUPPORT_LEVEL, { int32: 0 }], // SQL_JOINS_UNSUPPORTED
    [ids.SQL_SCHEMA_TERM, { string: 'namespace' }],
    [ids.SQL_PROCEDURE_TERM, { string: 'procedure' }],
    [ids.SQL_CATALOG_TERM, { string: 'catalog' }],
    [ids.SQL_CATALOG_AT_START, { bool: true }],
    [ids.SQL_SCHEMAS_SUPPORTED_ACTIONS, { int32: bits() }],
    [ids.SQL_CATALOGS_SUPPORTED_ACTIONS, { int32: bits() }],
    [ids.SQL_SUPPORTED_POSITIONED_COMMANDS, { int32: bits() }],
    [ids.SQL_SELECT_FOR_UPDATE_SUPPORTED, { bool: false }],
    [ids.SQL_STORED_PROCEDURES_SUPPORTED, { bool: false }],
    [ids.SQL_SUPPORTED_SUBQUERIES, { int32: bits() }],
    [ids.SQL_CORRELATED_SUBQUERIES_SUPPORTED, { bool: false }],
    [ids.SQL_SUPPORTED_UNIONS, { int32: bits() }],
    [ids.SQL_MAX_BINARY_LITERAL_LENGTH, noLimit],
    [ids.SQL_MAX_CHAR_LITERAL_LENGTH, noLimit],
    [ids.SQL_MAX_COLUMN_NAME_LENGTH, noLimit],
    [ids.SQL_MAX_COLUMNS_IN_GROUP_BY, noLimit],
    [ids.SQL_MAX_COLUMNS_IN_INDEX, noLimit],
    [ids.SQL_MAX_COLUMNS_IN_ORDER_BY, noLimit],
    [ids.SQL_MAX_COLUMNS_IN_SELECT, { bigint: BigInt(MAX_LIST_ENTRIES) }], // the read command's list limit (SELECT * has none)
    [ids.SQL_MAX_COLUMNS_IN_TABLE, noLimit],
    [ids.SQL_MAX_CONNECTIONS, noLimit],
    [ids.SQL_MAX_CURSOR_NAME_LENGTH, noLimit],
    [ids.SQL_MAX_INDEX_LENGTH, noLimit],
    [ids.SQL_DB_SCHEMA_NAME_LENGTH, { bigint: BigInt(MAX_NAME_BYTES) }], // namespace names: UTF-8 bytes, as many ASCII characters
    [ids.SQL_MAX_PROCEDURE_NAME_LENGTH, noLimit],
    [ids.SQL_MAX_CATALOG_NAME_LENGTH, noLimit],
    [ids.SQL_MAX_ROW_SIZE, noLimit],
    [ids.SQL_MAX_ROW_SIZE_INCLUDES_BLOBS, { bool: true }],
    [ids.SQL_MAX_STATEMENT_LENGTH, { bigint: BigInt(MAX_COMMAND_BYTES) }], // UTF-8 bytes, as many ASCII characters
    [ids.SQL_MAX_STATEMENTS, noLimit], // handles hold no server state
    [ids.SQL_MAX_TABLE_NAME_LENGTH, { bigint: BigInt(MAX_NAME_BYTES) }], // UTF-8 bytes, as many ASCII characters
    [ids.SQL_MAX_TABLES_IN_SELECT, { bigint: 1n }], // no joins
    [ids.SQL_MAX_USERNAME_LENGTH, noLimit],
    [ids.SQL_DEFAULT_TRANSACTION_ISOLATION, { bigint: 0n }], // SQL_TRANSACTION_NONE; int64, see above
    [ids.SQL_TRANSACTIONS_SUPPORTED, { bool: false }],
    [ids.SQL_SUPPORTED_TRANSACTIONS_ISOLATION_LEVELS, { int32: bits(0) }], // SQL_TRANSACTION_NONE only
    [ids.SQL_DATA_DEFINITION_CAUSES_TRANSACTION_COMMIT, { bool: false }],
    [ids.SQL_DATA_DEFINITIONS_IN_TRANSACTIONS_IGNORED, { bool: false }],
    [ids.SQL_SUPPORTED_RESULT_SET_TYPES, { int32: bits(1) }], // SQL_RESULT_SET_TYPE_FORWARD_ONLY: streamed
    [ids.SQL_SUPPORTED_CONCURRENCIES_FOR_RESULT_SET_UNSPECIFIED, { int32: bits() }],
    [ids.SQL_SUPPORTED_CONCURRENCIES_FOR_RESULT_SET_FORWARD_ONLY, { int32: bits(1) }], // SQL_RESULT_SET_CONCURRENCY_READ_ONLY
    [ids.SQL_SUPPORTED_CONCURRENCIES_FOR_RESULT_SET_SCROLL_SENSITIVE, { int32: bits() }],
    [ids.SQL_SUPPORTED_CONCURRENCIES_FOR_RESULT_SET_SCROLL_INSENSITIVE, { int32: bits() }],
    [ids.SQL_BATCH_UPDATES_SUPPORTED, { bool: false }],
    [ids.SQL_SAVEPOINTS_SUPPORTED, { bool: false }],
    [ids.SQL_NAMED_PARAMETERS_SUPPORTED, { bool: false }],
    [ids.SQL_LOCATORS_UPDATE_COPY, { bool: false }],
    [ids.SQL_STORED_FUNCTIONS_USING_CALL_SYNTAX_SUPPORTED, { bool: false }],
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
      : 'int32' in value ? [3, value.int32] : 'strings' in value ? [4, value.strings] : [5, value.int32ListMap];
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
    // a table whose schema this server cannot decode is neither described nor queried through it
    .filter((t) => t.unsupported === undefined && ns.test(t.namespace) && name.test(t.name))
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
