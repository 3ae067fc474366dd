/**
 * Arrow schema <-> the JSON that LakeSoul stores in `table_info.table_schema`: the shape of Arrow
 * Java's `Schema.toJson()` (`{"fields":[{"name","nullable","type":{"name":...},"children":[...],
 * "metadata":[{"key","value"}]}]}`), which Spark, Flink and LakeSoul's Rust/Python readers parse.
 */
// Arrow's type, enum and schema modules, not the package root: the root loads all of Arrow JS
// (~0.1-0.15 s), which a metadata command on the catalog never uses. Same classes either way.
import {
  Binary, Bool, DataType, DateDay, DateMillisecond, Decimal, Duration, FixedSizeBinary, FixedSizeList,
  Float16, Float32, Float64, Int16, Int32, Int64, Int8, Interval, LargeBinary, LargeUtf8, List, Map_, Null,
  Struct, Time, Timestamp, Uint16, Uint32, Uint64, Uint8, Utf8,
} from 'apache-arrow/type';
import { Type, TimeUnit, IntervalUnit, Precision, DateUnit } from 'apache-arrow/enum';
import { Field, Schema } from 'apache-arrow/schema';
import { LakeSoulError } from './errors.js';

/** Arrow-Java JSON of one type (the `type` member of a field). */
export type ArrowJavaTypeJson = { name: string } & Record<string, unknown>;

/** Arrow-Java JSON of one field. */
export interface ArrowJavaFieldJson {
  name: string;
  nullable: boolean;
  type: ArrowJavaTypeJson;
  children: ArrowJavaFieldJson[];
  metadata?: Array<{ key: string; value: string }>;
}

/** Arrow-Java JSON of a schema. */
export interface ArrowJavaSchemaJson {
  fields: ArrowJavaFieldJson[];
  metadata?: Array<{ key: string; value: string }>;
}

const TIME_UNITS = ['SECOND', 'MILLISECOND', 'MICROSECOND', 'NANOSECOND'] as const;
const PRECISIONS = ['HALF', 'SINGLE', 'DOUBLE'] as const;
const INTERVAL_UNITS = ['YEAR_MONTH', 'DAY_TIME', 'MONTH_DAY_NANO'] as const;

function unsupported(column: string, what: string): LakeSoulError {
  return new LakeSoulError('Unsupported', `column '${column}': ${what} is not supported in the LakeSoul schema JSON`, { context: { column } });
}

function typeToJson(t: DataType, column: string): ArrowJavaTypeJson {
  switch (t.typeId) {
    case Type.Null: return { name: 'null' };
    case Type.Bool: return { name: 'bool' };
    case Type.Int: {
      const i = t as unknown as { bitWidth: number; isSigned: boolean };
      return { name: 'int', bitWidth: i.bitWidth, isSigned: i.isSigned };
    }
    case Type.Float: return { name: 'floatingpoint', precision: PRECISIONS[(t as Float32).precision] };
    case Type.Utf8: return { name: 'utf8' };
    case Type.LargeUtf8: return { name: 'largeutf8' };
    case Type.Binary: return { name: 'binary' };
    case Type.LargeBinary: return { name: 'largebinary' };
    case Type.FixedSizeBinary: return { name: 'fixedsizebinary', byteWidth: (t as FixedSizeBinary).byteWidth };
    case Type.Decimal: {
      const d = t as Decimal;
      return { name: 'decimal', precision: d.precision, scale: d.scale, bitWidth: d.bitWidth };
    }
    case Type.Date: return { name: 'date', unit: (t as DateDay).unit === DateUnit.DAY ? 'DAY' : 'MILLISECOND' };
    case Type.Time: {
      const x = t as Time;
      return { name: 'time', unit: TIME_UNITS[x.unit], bitWidth: x.bitWidth };
    }
    case Type.Timestamp: {
      const x = t as Timestamp;
      return { name: 'timestamp', unit: TIME_UNITS[x.unit], timezone: x.timezone ?? null };
    }
    case Type.Duration: return { name: 'duration', unit: TIME_UNITS[(t as Duration).unit] };
    case Type.Interval: return { name: 'interval', unit: INTERVAL_UNITS[(t as Interval).unit] };
    case Type.List: return { name: 'list' };
    case Type.Struct: return { name: 'struct' };
    case Type.FixedSizeList: return { name: 'fixedsizelist', listSize: (t as FixedSizeList).listSize };
    case Type.Map: return { name: 'map', keysSorted: (t as Map_).keysSorted };
    case Type.Dictionary: throw unsupported(column, 'a dictionary-encoded type');
    default: throw unsupported(column, `type ${String(t)}`);
  }
}

function metadataToJson(m: Map<string, string> | undefined): Array<{ key: string; value: string }> {
  return [...(m ?? new Map<string, string>()).entries()].map(([key, value]) => ({ key, value }));
}

function fieldToJson(f: Field, path: string): ArrowJavaFieldJson {
  const column = path ? `${path}.${f.name}` : f.name;
  const type = typeToJson(f.type, column);
  const children = (f.type.children ?? []).map((c: Field) => fieldToJson(c, column));
  return { name: f.name, nullable: f.nullable, type, children, metadata: metadataToJson(f.metadata) };
}

/**
 * Serializes an Arrow schema to the Arrow-Java JSON stored in `table_info.table_schema`. Field metadata
 * (e.g. `lakesoul.blob`) is kept as `[{"key","value"}]`; schema-level metadata only when non-empty.
 * Dictionary and union types are `Unsupported` (naming the column).
 */
export function arrowSchemaToJson(schema: Schema): string {
  const out: ArrowJavaSchemaJson = { fields: schema.fields.map((f) => fieldToJson(f, '')) };
  if (schema.metadata && schema.metadata.size > 0) out.metadata = metadataToJson(schema.metadata);
  return JSON.stringify(out);
}

function bad(column: string, what: string): LakeSoulError {
  return new LakeSoulError('SchemaMismatch', `invalid table schema JSON at column '${column}': ${what}`, { code: 'INVALID_SCHEMA_JSON', context: { column } });
}

function timeUnit(v: unknown, column: string): TimeUnit {
  const i = TIME_UNITS.indexOf(String(v).toUpperCase() as (typeof TIME_UNITS)[number]);
  if (i < 0) throw bad(column, `unknown time unit ${JSON.stringify(v)}`);
  return i as TimeUnit;
}

function intType(bitWidth: number, signed: boolean, column: string): DataType {
  switch (`${signed ? 'i' : 'u'}${bitWidth}`) {
    case 'i8': return new Int8();
    case 'i16': return new Int16();
    case 'i32': return new Int32();
    case 'i64': return new Int64();
    case 'u8': return new Uint8();
    case 'u16': return new Uint16();
    case 'u32': return new Uint32();
    case 'u64': return new Uint64();
    default: throw bad(column, `int bitWidth ${bitWidth}`);
  }
}

function metadataFromJson(m: unknown, column: string): Map<string, string> {
  const out = new Map<string, string>();
  if (m == null) return out;
  if (Array.isArray(m)) {
    for (const e of m) {
      if (!e || typeof e !== 'object') throw bad(column, 'metadata entries must be {"key","value"} objects');
      const { key, value } = e as { key: unknown; value: unknown };
      out.set(String(key), value == null ? '' : String(value));
    }
    return out;
  }
  if (typeof m === 'object') {
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) out.set(k, v == null ? '' : String(v));
    return out;
  }
  throw bad(column, 'metadata must be an array');
}

function fieldFromJson(j: unknown, path: string): Field {
  if (!j || typeof j !== 'object') throw bad(path || '<root>', 'a field must be an object');
  const o = j as Record<string, unknown>;
  const name = typeof o.name === 'string' ? o.name : o.name == null ? '' : String(o.name);
  const column = path ? `${path}.${name}` : name;
  const t = o.type as Record<string, unknown> | undefined;
  if (!t || typeof t !== 'object' || typeof t.name !== 'string') throw bad(column, 'missing "type"');
  if (o.dictionary != null) throw unsupported(column, 'a dictionary-encoded type');
  const children = Array.isArray(o.children) ? o.children.map((c) => fieldFromJson(c, column)) : [];
  const one = (): Field => {
    if (children.length !== 1) throw bad(column, `${t.name} needs exactly one child`);
    return children[0];
  };
  let type: DataType;
  switch (t.name.toLowerCase()) {
    case 'null': type = new Null(); break;
    case 'bool': type = new Bool(); break;
    case 'int': type = intType(Number(t.bitWidth), t.isSigned !== false, column); break;
    case 'floatingpoint': {
      const p = String(t.precision).toUpperCase();
      type = p === 'HALF' ? new Float16() : p === 'SINGLE' ? new Float32() : p === 'DOUBLE' ? new Float64() : (() => { throw bad(column, `precision ${p}`); })();
      break;
    }
    case 'utf8': type = new Utf8(); break;
    case 'largeutf8': type = new LargeUtf8(); break;
    case 'binary': type = new Binary(); break;
    case 'largebinary': type = new LargeBinary(); break;
    case 'fixedsizebinary': type = new FixedSizeBinary(Number(t.byteWidth ?? t.bitWidth)); break;
    case 'decimal': {
      const bw = t.bitWidth == null ? 128 : Number(t.bitWidth);
      type = new Decimal(Number(t.scale), Number(t.precision), bw);
      break;
    }
    case 'date': type = String(t.unit).toUpperCase() === 'MILLISECOND' ? new DateMillisecond() : new DateDay(); break;
    case 'time': type = new Time(timeUnit(t.unit, column) as never, Number(t.bitWidth ?? 32) as never); break;
    case 'timestamp': type = new Timestamp(timeUnit(t.unit, column), t.timezone == null ? null : String(t.timezone)); break;
    case 'duration': type = new Duration(timeUnit(t.unit ?? 'MICROSECOND', column)); break;
    case 'interval': {
      const i = INTERVAL_UNITS.indexOf(String(t.unit ?? 'YEAR_MONTH').toUpperCase() as (typeof INTERVAL_UNITS)[number]);
      if (i < 0) throw bad(column, `interval unit ${String(t.unit)}`);
      type = new Interval(i as IntervalUnit);
      break;
    }
    case 'list': type = new List(one()); break;
    case 'struct': type = new Struct(children); break;
    case 'fixedsizelist': type = new FixedSizeList(Number(t.listSize), one()); break;
    case 'map': type = new Map_(one() as Field<Struct>, t.keysSorted === true); break;
    default: throw unsupported(column, `type "${t.name}"`);
  }
  return new Field(name, type, o.nullable !== false, metadataFromJson(o.metadata, column));
}

const SPARK_SIMPLE: Record<string, () => DataType> = {
  boolean: () => new Bool(), byte: () => new Int8(), short: () => new Int16(), integer: () => new Int32(),
  long: () => new Int64(), float: () => new Float32(), double: () => new Float64(), string: () => new Utf8(),
  binary: () => new Binary(), date: () => new DateDay(), timestamp: () => new Timestamp(TimeUnit.MICROSECOND, 'UTC'),
  timestamp_ntz: () => new Timestamp(TimeUnit.MICROSECOND, null), null: () => new Null(),
};

function sparkTypeFromJson(t: unknown, column: string): DataType {
  if (typeof t === 'string') {
    const simple = SPARK_SIMPLE[t];
    if (simple) return simple();
    const d = /^decimal\((\d+),\s*(\d+)\)$/.exec(t);
    if (d) return new Decimal(Number(d[2]), Number(d[1]), 128);
    throw unsupported(column, `Spark type "${t}"`);
  }
  const o = (t ?? {}) as Record<string, unknown>;
  if (o.type === 'struct') return new Struct(sparkFieldsFromJson(o.fields, column));
  if (o.type === 'array') return new List(new Field('element', sparkTypeFromJson(o.elementType, column), o.containsNull !== false));
  throw unsupported(column, `Spark type ${JSON.stringify(t)}`);
}

function sparkFieldsFromJson(fields: unknown, path: string): Field[] {
  if (!Array.isArray(fields)) throw bad(path || '<root>', '"fields" must be an array');
  return fields.map((f) => {
    const o = f as Record<string, unknown>;
    const column = path ? `${path}.${String(o.name)}` : String(o.name);
    return new Field(String(o.name), sparkTypeFromJson(o.type, column), o.nullable !== false);
  });
}

/**
 * Parses `table_info.table_schema` into an Arrow schema equal to the one serialized by
 * {@link arrowSchemaToJson} (types, nullability, field and schema metadata). Also reads the Spark
 * StructType JSON (`{"type":"struct","fields":[...]}`) that older upstream versions stored.
 * Malformed JSON is a `SchemaMismatch` error; unknown types are `Unsupported`, naming the column.
 */
export function arrowSchemaFromJson(json: string): Schema {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    throw new LakeSoulError('SchemaMismatch', `table schema is not valid JSON: ${(e as Error).message}`, { code: 'INVALID_SCHEMA_JSON', cause: e });
  }
  const o = (parsed ?? {}) as Record<string, unknown>;
  if (!Array.isArray(o.fields)) throw bad('<root>', 'missing "fields" array');
  if (o.type === 'struct') return new Schema(sparkFieldsFromJson(o.fields, ''));
  const fields = o.fields.map((f) => fieldFromJson(f, ''));
  return new Schema(fields, metadataFromJson(o.metadata, '<schema>'));
}
