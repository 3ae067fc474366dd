/**
 * The body of the `create-table` action: `{ name, namespace?, schema, rangePartitions?, primaryKeys?,
 * hashBucketNum?, cdcColumn?, properties? }` where `schema` is Arrow-Java schema JSON (object or
 * string, as LakeSoul stores it), a list of `{ name, type, nullable? }` fields, or `schemaIpc`: the
 * base64 of an encapsulated IPC schema message (pyarrow: `schema.serialize()`).
 */
import {
  Binary, Bool, DataType, DateDay, Field, Float32, Float64, Int16, Int32, Int64, Int8, LargeBinary, LargeUtf8, List,
  Schema, TimeUnit, Timestamp, Uint16, Uint32, Uint64, Uint8, Utf8,
} from 'apache-arrow';
import { LakeSoulError, arrowSchemaFromJson, validateNamespaceName, validateTableName } from '@lakesoul-ts/meta';
import { schemaFromIpcMessage } from './ipc-framing.js';
import { DEFAULT_NAMESPACE } from './flight-command.js';
import { BLOB_ROOTS_PROPERTY } from '@lakesoul-ts/io';

/** A decoded create-table request. */
export interface CreateTableRequest {
  name: string;
  namespace: string;
  schema: Schema;
  rangePartitions?: string[];
  primaryKeys?: string[];
  hashBucketNum?: number;
  cdcColumn?: string;
  properties?: Record<string, string | number | boolean>;
  ifNotExists?: boolean;
}

const SIMPLE_TYPES: Record<string, () => DataType> = {
  bool: () => new Bool(), boolean: () => new Bool(),
  int8: () => new Int8(), int16: () => new Int16(), int32: () => new Int32(), int64: () => new Int64(),
  uint8: () => new Uint8(), uint16: () => new Uint16(), uint32: () => new Uint32(), uint64: () => new Uint64(),
  float32: () => new Float32(), float: () => new Float32(), float64: () => new Float64(), double: () => new Float64(),
  utf8: () => new Utf8(), string: () => new Utf8(), large_utf8: () => new LargeUtf8(), large_string: () => new LargeUtf8(),
  binary: () => new Binary(), large_binary: () => new LargeBinary(),
  date32: () => new DateDay(),
};
const UNITS: Record<string, TimeUnit> = { s: TimeUnit.SECOND, ms: TimeUnit.MILLISECOND, us: TimeUnit.MICROSECOND, ns: TimeUnit.NANOSECOND };

function bad(message: string, column?: string): LakeSoulError {
  return new LakeSoulError('InvalidArgument', message, { context: column ? { column } : {} });
}

/** Parses a type name: the simple names above, `timestamp(us[, UTC])` / `timestamp[us, tz=UTC]`, `list<T>`. */
export function parseTypeName(text: string, column: string): DataType {
  const t = text.trim();
  const lower = t.toLowerCase();
  if (SIMPLE_TYPES[lower]) return SIMPLE_TYPES[lower]();
  const ts = /^timestamp\s*[([]\s*(s|ms|us|ns)\s*(?:,\s*(?:tz\s*=\s*)?([^)\]]+?))?\s*[)\]]$/i.exec(t);
  if (ts) return new Timestamp(UNITS[ts[1].toLowerCase()], ts[2] ? ts[2].trim() : null);
  const list = /^list\s*<\s*(.+)\s*>$/i.exec(t);
  if (list) return new List(new Field('item', parseTypeName(list[1], column), true));
  throw bad(`unknown type '${text}' for column '${column}' (use ${Object.keys(SIMPLE_TYPES).join(', ')}, timestamp(us, UTC), list<T>)`, column);
}

function schemaOf(body: Record<string, unknown>, table: string): Schema {
  if (typeof body.schemaIpc === 'string') return schemaFromIpcMessage(Buffer.from(body.schemaIpc, 'base64'));
  const s = body.schema;
  if (Array.isArray(s)) {
    const fields = s.map((f, i) => {
      const o = f as Record<string, unknown>;
      if (!o || typeof o.name !== 'string' || typeof o.type !== 'string') throw bad(`schema field ${i} of table ${table} needs "name" and "type" strings`);
      return new Field(o.name, parseTypeName(o.type, o.name), o.nullable !== false);
    });
    return new Schema(fields);
  }
  if (typeof s === 'string' || (s !== null && typeof s === 'object')) {
    try {
      return arrowSchemaFromJson(typeof s === 'string' ? s : JSON.stringify(s));
    } catch (e) {
      if (LakeSoulError.is(e)) throw e;
      throw bad(`schema of table ${table} is not valid Arrow-Java schema JSON: ${(e as Error).message}`);
    }
  }
  throw bad(`create-table for ${table} needs "schema" (Arrow-Java JSON or a field list) or "schemaIpc" (base64 IPC schema message)`);
}

function stringList(v: unknown, what: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v.split(',').map((x) => x.trim()).filter(Boolean);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw bad(`"${what}" must be a list of column names`);
}

/** Decodes the JSON body of a create-table action. */
export function parseCreateTableRequest(bodyBytes: Uint8Array): CreateTableRequest {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(Buffer.from(bodyBytes).toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    throw bad(`create-table body is not JSON: ${(e as Error).message}`);
  }
  if (!body || typeof body !== 'object' || typeof body.name !== 'string' || !body.name) throw bad('create-table body needs a non-empty "name"');
  const name = body.name;
  // The catalog's one name rule, before the name reaches any message or path.
  validateTableName(name);
  const namespace = body.namespace === undefined || body.namespace === null || body.namespace === '' ? DEFAULT_NAMESPACE : body.namespace;
  validateNamespaceName(namespace);
  const req: CreateTableRequest = {
    name,
    namespace,
    schema: schemaOf(body, name),
  };
  const rp = stringList(body.rangePartitions, 'rangePartitions');
  if (rp) req.rangePartitions = rp;
  const pk = stringList(body.primaryKeys, 'primaryKeys');
  if (pk) req.primaryKeys = pk;
  if (body.hashBucketNum !== undefined && body.hashBucketNum !== null) {
    if (!Number.isInteger(body.hashBucketNum)) throw bad(`"hashBucketNum" must be an integer (table ${name})`);
    req.hashBucketNum = body.hashBucketNum as number;
  }
  if (typeof body.cdcColumn === 'string' && body.cdcColumn) req.cdcColumn = body.cdcColumn;
  if (body.properties !== undefined && body.properties !== null) {
    if (typeof body.properties !== 'object' || Array.isArray(body.properties)) throw bad(`"properties" must be an object (table ${name})`);
    // Blob roots grant reads outside the table's location: an operator's decision, not a client's.
    if (BLOB_ROOTS_PROPERTY in body.properties) {
      throw new LakeSoulError('PermissionDenied', `property '${BLOB_ROOTS_PROPERTY}' cannot be set through Flight (table ${name}): it widens what blob columns may read; an operator sets it`, { context: { table: name } });
    }
    req.properties = body.properties as Record<string, string | number | boolean>;
  }
  if (body.ifNotExists === true) req.ifNotExists = true;
  return req;
}
