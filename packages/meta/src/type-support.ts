/**
 * The one list of Arrow types lakesoul-ts supports, and where: write (schema JSON, Parquet, value
 * conversion), primary key, range partition, filter, bucket hash, Danfo, CLI, Flight and the web UI. Each
 * dispatch site (`switch (type.typeId)` in io's take-rows, cast-data, pk-compare, filter-eval,
 * spark-murmur3, parquet-codec, partition-values and value-codec, danfo's encoder/decoder, the
 * CLI's records-to-arrow and output-format, this package's arrow-schema-json, Flight's IPC framing,
 * the UI's ui-values)
 * decides on its own; `e2e/type-support.test.ts` exercises every site with a column of every type
 * below and fails when a site and this table disagree, and docs/types.md is generated from it.
 * Adding a type: add its row, run that test, fix the sites it names, regenerate docs/types.md.
 */
// Arrow's submodules, not its root: see arrow-schema-json.ts.
import {
  Binary, Bool, DateDay, DateMillisecond, Decimal, Dictionary, DurationMillisecond, FixedSizeBinary,
  FixedSizeList, Float16, Float32, Float64, Int16, Int32, Int64, Int8, IntervalDayTime, LargeBinary,
  LargeList, LargeUtf8, List, Map_, Null, Struct, TimeMicrosecond, TimeMillisecond, TimestampMicrosecond,
  TimestampMillisecond, TimestampNanosecond, TimestampSecond, Uint16, Uint32, Uint64, Uint8, Utf8,
} from 'apache-arrow/type';
import { Field } from 'apache-arrow/schema';
import type { DataType } from 'apache-arrow';

/** The places a column type can be used; the columns of docs/types.md. */
export type TypeCapability = 'write' | 'pk' | 'partition' | 'filter' | 'hash' | 'danfo' | 'cli' | 'flight' | 'ui';

/** The capabilities in the order docs/types.md shows them, with what each means there. */
export const TYPE_CAPABILITIES: ReadonlyArray<{ capability: TypeCapability; title: string; meaning: string }> = [
  { capability: 'write', title: 'write', meaning: 'stored in a table and read back exactly: schema JSON, Parquet, value conversion, row gathering' },
  { capability: 'pk', title: 'PK', meaning: 'ordered and compared by merge-on-read; a table\'s primary-key column also needs **hash** (its rows are bucketed by it): a key type without one is refused at create (`UNSUPPORTED_KEY_TYPE`)' },
  { capability: 'partition', title: 'partition', meaning: 'usable as a range-partition column (its value written into partition_desc and read back)' },
  { capability: 'filter', title: 'filter', meaning: "usable in a scan filter (`column = literal` selects exactly the matching rows; the literal is taken as written: a number compares with a decimal or integer column by the exact decimal it writes, not the double nearest to it (`amount = 12345678.123456789` on decimal(18, 9) selects that row and not 12345678.123456790; with more fraction digits than the scale, `amount = 1.005` on decimal(10, 2) selects nothing and `amount > 1.005` is `amount >= 1.01`, as the quoted `'1.005'` is), a float column compares with that double (a fraction at 2^53 or beyond, which no double holds, is refused naming the column); a float32 column's value is compared as the double it is, so `f32 = 0.1` matches no row holding float32 0.1 (that value is 0.10000000149011612), and a timestamp literal without a zone (`'2024-01-01 00:00:00'`) is read as UTC, also against a column with a time zone)" },
  { capability: 'hash', title: 'hash', meaning: 'hashed into a bucket by the Spark-compatible Murmur3 of hash-bucketed primary keys' },
  { capability: 'danfo', title: 'Danfo', meaning: 'converted to a Danfo.js DataFrame column and back exactly' },
  { capability: 'cli', title: 'CLI', meaning: 'printed by `scan`/`head`/`export` and imported from JSON lines by `import`, the same values' },
  { capability: 'flight', title: 'Flight', meaning: 'sent through Arrow Flight (DoGet/DoPut IPC framing) and received unchanged' },
  { capability: 'ui', title: 'UI', meaning: 'shown by `lakesoul-ts ui` with distinct values in distinct cells' },
];

/** One row of {@link ARROW_TYPE_SUPPORT}: a type, sample values, and where it is supported. */
export interface ArrowTypeSupport {
  /** The type as docs/types.md writes it, e.g. `timestamp[us, UTC]` (the CLI's `--schema` has its own spelling). */
  name: string;
  /** A type of this row. */
  type: () => DataType;
  /**
   * Three sample values in the plain form of io's value codec (numbers, bigints for 64-bit integers,
   * ISO text for dates and times, decimal text, Uint8Array, arrays, objects), the first two distinct
   * and in ascending order; the type-support test builds its columns from them.
   */
  samples: readonly unknown[];
  /** Where the type works (true) or is refused with a clear error (false). */
  supported: Readonly<Record<TypeCapability, boolean>>;
  /** Why a capability is missing, or a caveat, for docs/types.md. */
  note?: string;
}

const ALL: Record<TypeCapability, boolean> = { write: true, pk: true, partition: true, filter: true, hash: true, danfo: true, cli: true, flight: true, ui: true };
const NONE: Record<TypeCapability, boolean> = { write: false, pk: false, partition: false, filter: false, hash: false, danfo: false, cli: false, flight: false, ui: false };
const all = (except: Partial<Record<TypeCapability, boolean>> = {}): Record<TypeCapability, boolean> => ({ ...ALL, ...except });
const none = (except: Partial<Record<TypeCapability, boolean>> = {}): Record<TypeCapability, boolean> => ({ ...NONE, ...except });

/** Every Arrow type lakesoul-ts knows, with where it is supported (see the module comment). */
export const ARROW_TYPE_SUPPORT: readonly ArrowTypeSupport[] = [
  { name: 'null', type: () => new Null(), samples: [null, null, null], supported: none({ write: true, danfo: true, cli: true, flight: true, ui: true }), note: 'all values null' },
  { name: 'bool', type: () => new Bool(), samples: [false, true, true], supported: all() },
  { name: 'int8', type: () => new Int8(), samples: [-3, 1, 7], supported: all() },
  { name: 'int16', type: () => new Int16(), samples: [-3, 1, 7], supported: all() },
  { name: 'int32', type: () => new Int32(), samples: [-3, 1, 7], supported: all() },
  { name: 'int64', type: () => new Int64(), samples: [-3n, 1n, 7n], supported: all() },
  { name: 'uint8', type: () => new Uint8(), samples: [1, 2, 7], supported: all() },
  { name: 'uint16', type: () => new Uint16(), samples: [1, 2, 7], supported: all() },
  { name: 'uint32', type: () => new Uint32(), samples: [1, 2, 7], supported: all() },
  { name: 'uint64', type: () => new Uint64(), samples: [1n, 2n, 7n], supported: all() },
  { name: 'float16', type: () => new Float16(), samples: [-1.5, 0.5, 2], supported: all({ hash: false, cli: false }), note: "filters compare as float; no Spark hash, so no table key; the CLI's value codec has no half floats" },
  { name: 'float32', type: () => new Float32(), samples: [-1.5, 0.5, 2], supported: all() },
  { name: 'float64', type: () => new Float64(), samples: [-1.5, 0.5, 2], supported: all() },
  { name: 'decimal(10, 2)', type: () => new Decimal(2, 10, 128), samples: ['-1.50', '0.25', '3.00'], supported: all({ partition: false }), note: 'refused as a range partition column: the protocol fixes no text for a decimal range value (LakeSoul-Python 2.0.0 writes 12.50 as `1250`); a scale from 0 to the precision (a negative scale, `Decimal(-2, 5)`, is refused at createTable with UNSUPPORTED_COLUMN_TYPE)' },
  { name: 'utf8', type: () => new Utf8(), samples: ['a', 'b', 'c'], supported: all() },
  { name: 'large_utf8', type: () => new LargeUtf8(), samples: ['a', 'b', 'c'], supported: all() },
  { name: 'binary', type: () => new Binary(), samples: [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)], supported: all({ ui: false }), note: "Danfo: base64 text with `{ binary: 'base64' }` (without it the column is dropped with a warning); the UI shows a binary cell as its size; a partition value is lowercase hex in partition_desc and paths (`p=616263`), as LakeSoul's Rust engine writes it" },
  { name: 'large_binary', type: () => new LargeBinary(), samples: [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)], supported: all({ ui: false }), note: 'as binary' },
  { name: 'fixed_size_binary[2]', type: () => new FixedSizeBinary(2), samples: [Uint8Array.of(1, 1), Uint8Array.of(1, 2), Uint8Array.of(2, 0)], supported: all({ partition: false, filter: false, cli: false }), note: 'Danfo as binary' },
  { name: 'date32', type: () => new DateDay(), samples: ['2024-01-01', '2024-01-02', '2024-02-01'], supported: all() },
  { name: 'date64', type: () => new DateMillisecond(), samples: ['2024-01-01', '2024-01-02', '2024-02-01'], supported: all() },
  { name: 'time32[ms]', type: () => new TimeMillisecond(), samples: ['01:00:00', '01:00:00.5', '23:59:59'], supported: all({ filter: false, hash: false }) },
  { name: 'time64[us]', type: () => new TimeMicrosecond(), samples: ['01:00:00', '01:00:00.000001', '23:59:59'], supported: all({ filter: false }) },
  { name: 'timestamp[s]', type: () => new TimestampSecond(), samples: ['2024-01-01T00:00:00', '2024-01-01T00:00:01', '2024-06-01T12:00:00'], supported: all(), note: 'the Parquet file holds timestamp[ms] (Parquet has no second unit); a read casts it back, so the column reads (and travels over Flight) as timestamp[s], the same values' },
  { name: 'timestamp[ms]', type: () => new TimestampMillisecond(), samples: ['2024-01-01T00:00:00', '2024-01-01T00:00:00.001', '2024-06-01T12:00:00'], supported: all() },
  { name: 'timestamp[us]', type: () => new TimestampMicrosecond(), samples: ['2024-01-01T00:00:00', '2024-01-01T00:00:00.000001', '2024-06-01T12:00:00'], supported: ALL, note: 'partition values as LakeSoul writes them (`2024-01-01T00:00:00.000001`); the UI shows every digit of the unit (up to 2026-12-05 it kept milliseconds only)' },
  { name: 'timestamp[us, UTC]', type: () => new TimestampMicrosecond('UTC'), samples: ['2024-01-01T00:00:00Z', '2024-01-01T00:00:00.000001Z', '2024-06-01T12:00:00Z'], supported: ALL, note: 'as timestamp[us] (partition values in UTC, without a zone suffix)' },
  { name: 'timestamp[ns]', type: () => new TimestampNanosecond(), samples: ['2024-01-01T00:00:00', '2024-01-01T00:00:00.000000001', '2024-06-01T12:00:00'], supported: ALL, note: 'as timestamp[us], with 9 fraction digits' },
  { name: 'duration[ms]', type: () => new DurationMillisecond(), samples: [1n, 2n, 7n], supported: none({ pk: true, hash: true }), note: "a table column of this type (created from an Arrow schema, e.g. Flight create-table's schemaIpc) is stored and read back exactly over Flight; the — here are the value codec's: it has no duration values, so those sites are not checked" },
  { name: 'interval[day_time]', type: () => new IntervalDayTime(), samples: [null, null, null], supported: none({ write: true, flight: true, ui: true }), note: 'checked with null values only: the value codec has no interval values' },
  { name: 'list<int32>', type: () => new List(new Field('item', new Int32(), true)), samples: [[1], [1, 2], [3]], supported: all({ pk: false, partition: false, filter: false, hash: false }) },
  { name: 'large_list<int32>', type: () => new LargeList(new Field('item', new Int32(), true)), samples: [[1], [1, 2], [3]], supported: all({ write: false, pk: false, partition: false, filter: false, hash: false }), note: 'not in the LakeSoul schema JSON' },
  { name: 'fixed_size_list<float32>[2]', type: () => new FixedSizeList(2, new Field('item', new Float32(), true)), samples: [[1, 2], [1, 3], [2, 0]], supported: all({ pk: false, partition: false, filter: false, hash: false }) },
  { name: 'struct<a: int32, b: utf8>', type: () => new Struct([new Field('a', new Int32(), true), new Field('b', new Utf8(), true)]), samples: [{ a: 1, b: 'x' }, { a: 2, b: 'y' }, { a: 3, b: 'z' }], supported: all({ pk: false, partition: false, filter: false, hash: false }) },
  {
    name: 'map<utf8, int32>',
    type: () => new Map_(new Field('entries', new Struct<{ key: Utf8; value: Int32 }>([new Field('key', new Utf8(), false), new Field('value', new Int32(), true)]), false)),
    samples: [[['a', 1]], [['b', 2]], [['c', 3]]],
    supported: all({ pk: false, partition: false, filter: false, hash: false, danfo: false, cli: false }),
  },
  { name: 'dictionary<int32, utf8>', type: () => new Dictionary(new Utf8(), new Int32()), samples: ['a', 'b', 'c'], supported: all({ write: false, cli: false }), note: 'not in the LakeSoul schema JSON: a table stores its value type (Flight create-table with schemaIpc creates a utf8 column, DoPut takes dictionary batches) and reads return plain values, not dictionaries; Flight here is the IPC framing' },
];

/** The row of {@link ARROW_TYPE_SUPPORT} named `name` (as docs/types.md writes it). */
export function arrowTypeSupport(name: string): ArrowTypeSupport | undefined {
  return ARROW_TYPE_SUPPORT.find((r) => r.name === name);
}
