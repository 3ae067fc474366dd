/**
 * The body of the `create-table` action: `{ name, namespace?, schema, rangePartitions?, primaryKeys?,
 * hashBucketNum?, cdcColumn?, properties? }` where `schema` is Arrow-Java schema JSON (object or
 * string, as LakeSoul stores it), a list of `{ name, type, nullable? }` fields, or `schemaIpc`: the
 * base64 of an encapsulated IPC schema message (pyarrow: `schema.serialize()`).
 */
import {
  Binary, Bool, DataType, DateDay, Field, Float32, Float64, Int16, Int32, Int64, Int8, IntervalUnit, LargeBinary, LargeUtf8, List,
  Schema, TimeUnit, Timestamp, Type, Uint16, Uint32, Uint64, Uint8, Utf8, type Interval,
} from 'apache-arrow';
import { LakeSoulError, arrowSchemaFromJson, validateNamespaceName, validateTableName } from '@lakesoul-ts/meta';
import { schemaFromIpcMessage } from './ipc-framing.js';
import { DEFAULT_NAMESPACE } from './flight-command.js';
import {
  MAX_ACTION_BODY_BYTES, MAX_JSON_DEPTH, MAX_NAME_CHARS, MAX_TYPE_CHARS, MAX_TYPE_DEPTH,
  jsonDepth, limitError, parseClientJson, quote, refuseNul, refuseUnknownKeys, shownName,
} from './flight-limits.js';

/** Keys a create-table body may hold. */
export const CREATE_TABLE_KEYS = [
  'name', 'namespace', 'schema', 'schemaIpc', 'rangePartitions', 'primaryKeys', 'hashBucketNum', 'cdcColumn', 'properties', 'ifNotExists',
] as const;
/** Largest hashBucketNum (the catalog stores it as text, readers as a 32-bit integer). */
const MAX_HASH_BUCKETS = 2 ** 31 - 1;
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

/**
 * Parses a type name: the simple names above, `timestamp(us[, UTC])` / `timestamp[us, tz=UTC]`,
 * `list<T>`; at most {@link MAX_TYPE_CHARS} characters and {@link MAX_TYPE_DEPTH} nested lists.
 */
export function parseTypeName(text: string, column: string, depth = 1): DataType {
  if (text.length > MAX_TYPE_CHARS) throw limitError(`type ${quote(text)} of column ${quote(column)}`, `of ${MAX_TYPE_CHARS} characters`);
  if (depth > MAX_TYPE_DEPTH) throw limitError(`type of column ${quote(column)}`, `of ${MAX_TYPE_DEPTH} nested lists`);
  const t = text.trim();
  const lower = t.toLowerCase();
  if (SIMPLE_TYPES[lower]) return SIMPLE_TYPES[lower]();
  const ts = /^timestamp\s*[([]\s*(s|ms|us|ns)\s*(?:,\s*(?:tz\s*=\s*)?([^)\]]+?))?\s*[)\]]$/i.exec(t);
  if (ts) return new Timestamp(UNITS[ts[1].toLowerCase()], ts[2] ? ts[2].trim() : null);
  const list = /^list\s*<\s*(.+)\s*>$/i.exec(t);
  if (list) return new List(new Field('item', parseTypeName(list[1], column, depth + 1), true));
  throw bad(`unknown type ${quote(text)} for column ${quote(column)} (use ${Object.keys(SIMPLE_TYPES).join(', ')}, timestamp(us, UTC), list<T>)`, column);
}

function schemaOf(body: Record<string, unknown>, table: string): Schema {
  if (typeof body.schemaIpc === 'string') {
    try {
      return schemaFromIpcMessage(Buffer.from(body.schemaIpc, 'base64'));
    } catch (e) {
      throw bad(`"schemaIpc" of table ${table} is not the base64 of an encapsulated IPC schema message: ${LakeSoulError.is(e) ? e.message : (e as Error).message}`.slice(0, 400));
    }
  }
  const s = body.schema;
  if (Array.isArray(s)) {
    const fields = s.map((f, i) => {
      const o = f as Record<string, unknown>;
      if (!o || typeof o.name !== 'string' || typeof o.type !== 'string') throw bad(`schema field ${i} of table ${table} needs "name" and "type" strings`);
      if (o.name.length > MAX_NAME_CHARS) throw limitError(`column name ${quote(o.name)} of table ${table}`, `of ${MAX_NAME_CHARS} characters`);
      return new Field(o.name, parseTypeName(o.type, o.name), o.nullable !== false);
    });
    return new Schema(fields);
  }
  if (typeof s === 'string' || (s !== null && typeof s === 'object')) {
    const text = typeof s === 'string' ? s : JSON.stringify(s);
    // A schema given as a string was not depth-checked with the body.
    if (jsonDepth(text) > MAX_JSON_DEPTH) throw limitError(`schema of table ${table} (nesting depth ${jsonDepth(text)})`, `of depth ${MAX_JSON_DEPTH}`);
    try {
      return arrowSchemaFromJson(text);
    } catch (e) {
      if (LakeSoulError.is(e)) throw new LakeSoulError(e.kind, e.message.slice(0, 400), { code: e.code, context: e.context, cause: e });
      throw bad(`schema of table ${table} is not valid Arrow-Java schema JSON: ${(e as Error).message.slice(0, 200)}`);
    }
  }
  throw bad(`create-table for ${table} needs "schema" (Arrow-Java JSON or a field list) or "schemaIpc" (base64 IPC schema message)`);
}

function stringList(v: unknown, what: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v.split(',').map((x) => x.trim()).filter(Boolean);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
    for (const c of v as string[]) if (c.length > MAX_NAME_CHARS) throw limitError(`an entry of "${what}" ${quote(c)}`, `of ${MAX_NAME_CHARS} characters`);
    return v as string[];
  }
  throw bad(`"${what}" must be a list of column names, got ${quote(v)}`);
}

/**
 * Refuses column names (nested fields' included) holding control characters: a read command refuses
 * such a name, so the column could never be selected, and a newline or escape sequence would reach
 * every message naming the column.
 */
function refuseControlCharacters(fields: readonly Field[], table: string): void {
  for (const f of fields) {
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(f.name)) {
      throw new LakeSoulError('InvalidArgument', `column name ${quote(f.name)} of table ${table} contains control characters: column names cannot hold them (a read could never select the column)`, {
        code: 'COLUMN_NAME_INVALID',
      });
    }
    refuseControlCharacters(f.type.children ?? [], table);
  }
}

/**
 * Refuses column types (nested fields' included) a table could be created with but never written:
 * the Parquet writer has no month_day_nano interval, so every DoPut into such a table failed
 * (`NYI: Attempting to write an Arrow interval type MonthDayNano to parquet`). `Unsupported`, naming
 * the column, as the schema JSON refuses large_list or string_view.
 */
function refuseUnwritableTypes(fields: readonly Field[], table: string, path = ''): void {
  for (const f of fields) {
    const column = path ? `${path}.${f.name}` : f.name;
    if (f.type.typeId === Type.Interval && (f.type as Interval).unit === IntervalUnit.MONTH_DAY_NANO) {
      throw new LakeSoulError('Unsupported',
        `column ${quote(column)} of table ${table}: type interval[month_day_nano] cannot be stored (Parquet has no month_day_nano interval); use interval[day_time], interval[year_month], duration, or integer columns`,
        { code: 'UNSUPPORTED_COLUMN_TYPE', context: { column } });
    }
    refuseUnwritableTypes(f.type.children ?? [], table, column);
  }
}

/** Decodes the JSON body of a create-table action. */
export function parseCreateTableRequest(bodyBytes: Uint8Array): CreateTableRequest {
  const parsed = parseClientJson(bodyBytes, 'create-table body', MAX_ACTION_BODY_BYTES, '{"name": "events", "schema": [{"name": "id", "type": "int64"}]}');
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad('create-table body must be a JSON object with a non-empty "name"');
  const body = parsed as Record<string, unknown>;
  refuseUnknownKeys(body, CREATE_TABLE_KEYS, 'create-table body');
  if (typeof body.name !== 'string' || !body.name) throw bad('create-table body needs a non-empty "name"');
  const name = body.name;
  // The catalog's one name rule, before the name reaches any message or path.
  validateTableName(name);
  // names in messages are quoted short (a valid name may still have 255 characters)
  const shown = shownName(name);
  const namespace = body.namespace === undefined || body.namespace === null || body.namespace === '' ? DEFAULT_NAMESPACE : body.namespace;
  validateNamespaceName(namespace);
  // Names are checked above by the catalog's rule; every other string must be free of NUL too.
  refuseNul(body, 'create-table body');
  const req: CreateTableRequest = {
    name,
    namespace,
    schema: schemaOf(body, shown),
  };
  refuseControlCharacters(req.schema.fields, shown);
  refuseUnwritableTypes(req.schema.fields, shown);
  const rp = stringList(body.rangePartitions, 'rangePartitions');
  if (rp) req.rangePartitions = rp;
  const pk = stringList(body.primaryKeys, 'primaryKeys');
  if (pk) req.primaryKeys = pk;
  if (body.hashBucketNum !== undefined && body.hashBucketNum !== null) {
    if (!Number.isInteger(body.hashBucketNum) || (body.hashBucketNum as number) < 1 || (body.hashBucketNum as number) > MAX_HASH_BUCKETS) {
      throw bad(`"hashBucketNum" must be an integer from 1 to ${MAX_HASH_BUCKETS} (table ${shown}), got ${quote(body.hashBucketNum)}`);
    }
    req.hashBucketNum = body.hashBucketNum as number;
  }
  if (body.cdcColumn !== undefined && body.cdcColumn !== null && body.cdcColumn !== '') {
    if (typeof body.cdcColumn !== 'string' || body.cdcColumn.length > MAX_NAME_CHARS) throw bad(`"cdcColumn" must be a column name (table ${shown}), got ${quote(body.cdcColumn)}`);
    req.cdcColumn = body.cdcColumn;
  }
  if (body.properties !== undefined && body.properties !== null) {
    if (typeof body.properties !== 'object' || Array.isArray(body.properties)) throw bad(`"properties" must be an object (table ${shown})`);
    // Blob roots grant reads outside the table's location: an operator's decision, not a client's.
    if (BLOB_ROOTS_PROPERTY in body.properties) {
      throw new LakeSoulError('PermissionDenied', `property '${BLOB_ROOTS_PROPERTY}' cannot be set through Flight (table ${shown}): it widens what blob columns may read; an operator sets it`, { context: { table: name } });
    }
    for (const [k, v] of Object.entries(body.properties)) {
      if (!['string', 'number', 'boolean'].includes(typeof v) || (typeof v === 'number' && !Number.isFinite(v))) {
        throw bad(`property ${quote(k)} of table ${shown} must be a string, a number or a boolean, got ${quote(v)}`);
      }
      if (k.length > MAX_NAME_CHARS || (typeof v === 'string' && v.length > 64 * 1024)) throw limitError(`property ${quote(k)} of table ${shown}`, `of ${MAX_NAME_CHARS} characters per key and 65536 per value`);
    }
    req.properties = body.properties as Record<string, string | number | boolean>;
  }
  if (body.ifNotExists != null && typeof body.ifNotExists !== 'boolean') throw bad(`ifNotExists of table ${shown} must be true or false, got ${quote(body.ifNotExists)}`);
  if (body.ifNotExists === true) req.ifNotExists = true;
  return req;
}
