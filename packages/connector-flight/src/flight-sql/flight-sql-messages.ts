/**
 * The Flight SQL messages this server reads and writes (Arrow `format/FlightSql.proto`, package
 * `arrow.flight.protocol.sql`), each travelling inside a `google.protobuf.Any` (type_url = 1,
 * value = 2) whose type_url is `type.googleapis.com/arrow.flight.protocol.sql.<Message>`. Commands
 * arrive as FlightDescriptor.cmd (GetFlightInfo, GetSchema, DoPut) and action bodies (DoAction).
 */
import { LakeSoulError } from '@lakesoul-ts/meta';
import { MAX_PATTERN_CHARS, limitError, quote } from '../flight-limits.js';
import { ProtoWriter, boolField, bytesField, decodeFields, stringField, stringFields, uint32Fields } from './proto-wire.js';

/** Prefix of every Flight SQL type_url. */
export const FLIGHT_SQL_TYPE_PREFIX = 'type.googleapis.com/arrow.flight.protocol.sql.';

/** A decoded Flight SQL command (the messages this server answers). */
export type FlightSqlCommand =
  | { kind: 'CommandGetSqlInfo'; info: number[] }
  | { kind: 'CommandGetCatalogs' }
  | { kind: 'CommandGetDbSchemas'; catalog?: string; dbSchemaFilterPattern?: string }
  | { kind: 'CommandGetTables'; catalog?: string; dbSchemaFilterPattern?: string; tableNameFilterPattern?: string; tableTypes: string[]; includeSchema: boolean }
  | { kind: 'CommandGetTableTypes' }
  | { kind: 'CommandGetPrimaryKeys'; catalog?: string; dbSchema?: string; table: string }
  | { kind: 'CommandStatementQuery'; query: string; transactionId?: Buffer }
  | { kind: 'CommandPreparedStatementQuery'; handle: Buffer }
  | { kind: 'other'; name: string };

/** The metadata commands: answered by a ticket that is the command itself, on any replica. */
export const METADATA_COMMANDS = ['CommandGetSqlInfo', 'CommandGetCatalogs', 'CommandGetDbSchemas', 'CommandGetTables', 'CommandGetTableTypes', 'CommandGetPrimaryKeys'] as const;

/** The commands answered, for error messages. */
export const SUPPORTED_COMMANDS = [...METADATA_COMMANDS, 'CommandStatementQuery', 'CommandPreparedStatementQuery'] as const;

/** Wraps an encoded message in a `google.protobuf.Any` with the Flight SQL type_url of `name`. */
export function packAny(name: string, value: Buffer): Buffer {
  return new ProtoWriter().bytes(1, FLIGHT_SQL_TYPE_PREFIX + name).bytes(2, value).finish();
}

/**
 * The Flight SQL message name and value inside `bytes` when they are a `google.protobuf.Any` with a
 * Flight SQL type_url; otherwise undefined (e.g. this server's JSON commands, signed tickets).
 */
export function unpackAny(bytes: Uint8Array | null | undefined): { name: string; value: Buffer } | undefined {
  // An Any starts with field 1 (type_url), length-delimited: tag byte 0x0a.
  if (!bytes || bytes.byteLength < 2 || bytes[0] !== 0x0a) return undefined;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fields;
  try {
    fields = decodeFields(buf, 'google.protobuf.Any');
  } catch {
    return undefined;
  }
  const typeUrl = stringField(fields, 1);
  if (!typeUrl?.startsWith(FLIGHT_SQL_TYPE_PREFIX)) return undefined;
  return { name: typeUrl.slice(FLIGHT_SQL_TYPE_PREFIX.length), value: bytesField(fields, 2) ?? Buffer.alloc(0) };
}

/** A filter pattern field of a metadata command, within {@link MAX_PATTERN_CHARS}. */
function pattern(f: ReturnType<typeof decodeFields>, n: number, command: string, field: string): string | undefined {
  const v = stringField(f, n);
  if (v !== undefined && v.length > MAX_PATTERN_CHARS) throw limitError(`${command}.${field} ${quote(v)}`, `of ${MAX_PATTERN_CHARS} characters`);
  return v;
}

/** Decodes the Flight SQL command in `bytes` (an Any), or undefined when it is not one. */
export function decodeCommand(bytes: Uint8Array | null | undefined): FlightSqlCommand | undefined {
  const any = unpackAny(bytes);
  if (!any) return undefined;
  const f = decodeFields(any.value, any.name);
  switch (any.name) {
    case 'CommandGetSqlInfo':
      return { kind: any.name, info: uint32Fields(f, 1, any.name) };
    case 'CommandGetCatalogs':
    case 'CommandGetTableTypes':
      return { kind: any.name };
    case 'CommandGetDbSchemas':
      return { kind: any.name, catalog: stringField(f, 1), dbSchemaFilterPattern: pattern(f, 2, any.name, 'db_schema_filter_pattern') };
    case 'CommandGetTables':
      return {
        kind: any.name, catalog: stringField(f, 1), dbSchemaFilterPattern: pattern(f, 2, any.name, 'db_schema_filter_pattern'), tableNameFilterPattern: pattern(f, 3, any.name, 'table_name_filter_pattern'),
        tableTypes: stringFields(f, 4), includeSchema: boolField(f, 5),
      };
    case 'CommandGetPrimaryKeys':
      return { kind: any.name, catalog: stringField(f, 1), dbSchema: stringField(f, 2), table: stringField(f, 3) ?? '' };
    case 'CommandStatementQuery':
      return { kind: any.name, query: stringField(f, 1) ?? '', transactionId: bytesField(f, 2) };
    case 'CommandPreparedStatementQuery':
      return { kind: any.name, handle: bytesField(f, 1) ?? Buffer.alloc(0) };
    default:
      return { kind: 'other', name: any.name };
  }
}

/** The Any-wrapped encoding of a metadata command (used as its ticket). */
export function encodeMetadataCommand(cmd: FlightSqlCommand): Buffer {
  const w = new ProtoWriter();
  switch (cmd.kind) {
    case 'CommandGetSqlInfo':
      for (const id of cmd.info) w.varint(1, id);
      break;
    case 'CommandGetDbSchemas':
      if (cmd.catalog !== undefined) w.bytes(1, cmd.catalog);
      if (cmd.dbSchemaFilterPattern !== undefined) w.bytes(2, cmd.dbSchemaFilterPattern);
      break;
    case 'CommandGetTables':
      if (cmd.catalog !== undefined) w.bytes(1, cmd.catalog);
      if (cmd.dbSchemaFilterPattern !== undefined) w.bytes(2, cmd.dbSchemaFilterPattern);
      if (cmd.tableNameFilterPattern !== undefined) w.bytes(3, cmd.tableNameFilterPattern);
      for (const t of cmd.tableTypes) w.bytes(4, t);
      if (cmd.includeSchema) w.varint(5, true);
      break;
    case 'CommandGetPrimaryKeys':
      if (cmd.catalog !== undefined) w.bytes(1, cmd.catalog);
      if (cmd.dbSchema !== undefined) w.bytes(2, cmd.dbSchema);
      w.bytes(3, cmd.table);
      break;
    case 'CommandGetCatalogs':
    case 'CommandGetTableTypes':
      break;
    default:
      throw new LakeSoulError('Internal', `${cmd.kind} is not a metadata command`);
  }
  return packAny(cmd.kind, w.finish());
}

/** ActionCreatePreparedStatementRequest: query = 1, transaction_id = 2. */
export function decodeCreatePreparedStatement(body: Uint8Array): { query: string; transactionId?: Buffer } {
  const any = unpackAny(body);
  if (!any || any.name !== 'ActionCreatePreparedStatementRequest') {
    throw new LakeSoulError('InvalidArgument', 'action CreatePreparedStatement: the body must be a google.protobuf.Any holding an arrow.flight.protocol.sql.ActionCreatePreparedStatementRequest');
  }
  const f = decodeFields(any.value, any.name);
  return { query: stringField(f, 1) ?? '', transactionId: bytesField(f, 2) };
}

/** ActionClosePreparedStatementRequest: prepared_statement_handle = 1. */
export function decodeClosePreparedStatement(body: Uint8Array): Buffer {
  const any = unpackAny(body);
  if (!any || any.name !== 'ActionClosePreparedStatementRequest') {
    throw new LakeSoulError('InvalidArgument', 'action ClosePreparedStatement: the body must be a google.protobuf.Any holding an arrow.flight.protocol.sql.ActionClosePreparedStatementRequest');
  }
  return bytesField(decodeFields(any.value, any.name), 1) ?? Buffer.alloc(0);
}

/** Any(ActionCreatePreparedStatementResult): handle = 1, dataset_schema = 2, parameter_schema = 3. */
export function encodeCreatePreparedStatementResult(handle: Buffer, datasetSchema: Uint8Array, parameterSchema: Uint8Array): Buffer {
  const w = new ProtoWriter().bytes(1, handle).bytes(2, datasetSchema).bytes(3, parameterSchema);
  return packAny('ActionCreatePreparedStatementResult', w.finish());
}
