/**
 * Rows of the interop tables, their Arrow form, and the merge model both readers must agree with:
 * per (range partition, primary key) the last written row wins; a partial upsert replaces only the
 * columns it carries; non-PK tables keep every row.
 */
import {
  Bool, DateDay, Field, Float64, Int32, Int64, RecordBatch, Schema, Struct, Table, TimeUnit, Timestamp, Utf8, makeData, makeVector, vectorFromArray,
  type DataType, type Vector,
} from 'apache-arrow';
import { rng } from './hash-rows.js';

/** One row of the PK test table. */
export interface Row {
  id: bigint;
  region: string;
  name: string | null;
  score: number | null;
  qty: number | null;
  flag: boolean | null;
  /** days since the epoch */
  day: number | null;
  /** microseconds since the epoch, UTC */
  ts: bigint | null;
}

/** Columns of the PK test table, with the type names lakesoul_py.py understands. */
export const PK_COLUMNS: [keyof Row, string, DataType][] = [
  ['id', 'int64', new Int64()],
  ['region', 'string', new Utf8()],
  ['name', 'string', new Utf8()],
  ['score', 'float64', new Float64()],
  ['qty', 'int32', new Int32()],
  ['flag', 'bool', new Bool()],
  ['day', 'date32', new DateDay()],
  ['ts', 'timestamp_us_utc', new Timestamp(TimeUnit.MICROSECOND, 'UTC')],
];

/** Schema spec for lakesoul_py.py `create`. */
export const PK_SCHEMA_SPEC = PK_COLUMNS.map(([n, t]) => [n, t]);

/** The PK test table's Arrow schema (id is the non-nullable key, as LakeSoul-Python makes it). */
export function pkSchema(): Schema {
  return new Schema(PK_COLUMNS.map(([n, , t]) => new Field(n, t, n !== 'id')));
}

function column(name: keyof Row, type: DataType, values: unknown[]): Vector {
  const n = values.length;
  const valid = values.map((v) => v !== null && v !== undefined);
  const nullBitmap = valid.every(Boolean) ? undefined : packBits(valid);
  const nullCount = valid.filter((v) => !v).length;
  switch (name) {
    case 'id':
      return makeVector(makeData({ type: new Int64(), length: n, nullCount, nullBitmap, data: BigInt64Array.from(values, (v) => (v as bigint) ?? 0n) }));
    case 'qty':
      return makeVector(makeData({ type: new Int32(), length: n, nullCount, nullBitmap, data: Int32Array.from(values, (v) => (v as number) ?? 0) }));
    case 'score':
      return makeVector(makeData({ type: new Float64(), length: n, nullCount, nullBitmap, data: Float64Array.from(values, (v) => (v as number) ?? 0) }));
    case 'day':
      return makeVector(makeData({ type: new DateDay(), length: n, nullCount, nullBitmap, data: Int32Array.from(values, (v) => (v as number) ?? 0) }));
    case 'ts':
      return makeVector(makeData({ type: new Timestamp(TimeUnit.MICROSECOND, 'UTC'), length: n, nullCount, nullBitmap, data: BigInt64Array.from(values, (v) => (v as bigint) ?? 0n) }));
    default:
      return vectorFromArray(values as never[], type);
  }
}

function packBits(bits: boolean[]): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((b, i) => {
    if (b) out[i >> 3] |= 1 << (i & 7);
  });
  return out;
}

/** Arrow table of `rows` over `columns` (default: all, in schema order). */
export function rowsToArrow(rows: Partial<Row>[], columns: (keyof Row)[] = PK_COLUMNS.map(([n]) => n)): Table {
  const fields: Field[] = [];
  const vectors: Vector[] = [];
  for (const [n, , t] of PK_COLUMNS) {
    if (!columns.includes(n)) continue;
    fields.push(new Field(n, t, n !== 'id'));
    vectors.push(column(n, t, rows.map((r) => r[n] ?? null)));
  }
  const schema = new Schema(fields);
  const length = rows.length;
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length, nullCount: 0, children: vectors.map((v) => v.data[0]) }));
  return new Table([batch]);
}

/** Deterministic rows: ids from `ids`, regions cycling through `regions`, values from `seed`. */
export function makeRows(ids: number[], regions: string[], seed: number, tag: string): Row[] {
  const r = rng(seed);
  return ids.map((id, i) => ({
    id: BigInt(id),
    region: regions[i % regions.length],
    name: r() < 0.1 ? null : `${tag}-${id}-${Math.floor(r() * 1000)}`,
    score: r() < 0.1 ? null : Math.round(r() * 1e6) / 100,
    qty: r() < 0.1 ? null : Math.floor(r() * 2 ** 31) - 2 ** 30,
    flag: r() < 0.1 ? null : r() < 0.5,
    day: r() < 0.1 ? null : Math.floor(r() * 40000) - 5000,
    ts: r() < 0.1 ? null : BigInt(Math.floor(r() * 2e15)) - 10n ** 14n,
  }));
}

/** The merge model of a PK table: key = region + id; later writes win, per column for partial ones. */
export class MergeModel {
  private readonly rows = new Map<string, Row>();

  /** Applies a write of `rows` carrying `columns` (all by default). */
  upsert(rows: Partial<Row>[], columns?: (keyof Row)[]): this {
    for (const row of rows) {
      const key = `${row.region}\u0000${row.id}`;
      const prev = this.rows.get(key);
      const base: Row = prev ?? { id: row.id!, region: row.region!, name: null, score: null, qty: null, flag: null, day: null, ts: null };
      const next: Row = { ...base };
      for (const c of columns ?? (Object.keys(row) as (keyof Row)[])) (next as any)[c] = row[c] ?? null;
      this.rows.set(key, next);
    }
    return this;
  }

  /** The merged rows. */
  toRows(): Row[] {
    return [...this.rows.values()].map((r) => ({ ...r }));
  }

  /** A frozen copy. */
  clone(): MergeModel {
    const m = new MergeModel();
    for (const [k, v] of this.rows) m.rows.set(k, { ...v });
    return m;
  }
}
