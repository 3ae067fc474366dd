/**
 * Column types a table can be created with: checked at create, because a type the writer, the Parquet
 * codec or the bucket hash cannot handle would otherwise be found by the first write (or, for a time
 * zone, by every read after the rows went in), with the table already there.
 */
import { DataType, IntervalUnit, makeData, Type, type Field, type Interval, type Schema } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { resolveZone } from '../arrow/temporal-codec.js';
import { checkSchemaDepth } from '../arrow/validate-data.js';
import { foldColumnHash } from '../hash/spark-murmur3.js';

/** Whether values of `type` have Spark's hash (what a primary key's bucket is computed from). */
export function hasSparkHash(type: DataType): boolean {
  try {
    foldColumnHash(makeData({ type, length: 0, nullCount: 0 } as never), new Int32Array(0));
    return true;
  } catch {
    return false;
  }
}

/** Why a column of `type` cannot be stored, or undefined; nested types are checked inside. */
function typeProblem(type: DataType): string | undefined {
  const t = type as DataType & { precision?: number; scale?: number; bitWidth?: number; timezone?: string | null; children?: Field[] };
  if (type.typeId === Type.Decimal) {
    const max = t.bitWidth === 256 ? 76 : 38;
    if (!(t.precision! >= 1 && t.precision! <= max)) return `decimal precision ${t.precision} is outside 1..${max}`;
    if (!(t.scale! >= 0 && t.scale! <= t.precision!)) return `decimal scale ${t.scale} is outside 0..${t.precision} (the precision)`;
  }
  if (type.typeId === Type.Interval && (type as Interval).unit === IntervalUnit.MONTH_DAY_NANO) {
    return 'Parquet has no month_day_nano interval, so no row could be written: use interval[day_time], interval[year_month], duration, or integer columns';
  }
  if (type.typeId === Type.Timestamp && t.timezone && resolveZone(t.timezone) === null) {
    return `time zone '${t.timezone}' is unknown (an IANA name such as 'Europe/Paris', 'UTC', or an offset such as '+02:00')`;
  }
  for (const c of t.children ?? []) {
    const inner = typeProblem(c.type);
    if (inner) return `${inner} (in its field '${c.name}')`;
  }
  return undefined;
}

/**
 * Refuses a schema with a type the table could not write or read back, and primary-key columns
 * without a Spark hash (float16, time32, nested types...): InvalidArgument naming table and column; a
 * column nested deeper than the Parquet codecs take: InvalidArgument `LIMIT_EXCEEDED`.
 */
export function checkColumnTypes(table: string, schema: Schema, primaryKeys: readonly string[] = []): void {
  checkSchemaDepth(schema, `create table '${table}'`);
  for (const f of schema.fields) {
    const problem = typeProblem(f.type);
    if (problem) {
      throw new LakeSoulError('InvalidArgument', `create table '${table}': column '${f.name}' (${f.type}): ${problem}`, { code: 'UNSUPPORTED_COLUMN_TYPE', context: { table, column: f.name } });
    }
    if (f.type.typeId === Type.Null && !f.nullable) {
      throw new LakeSoulError('InvalidArgument', `create table '${table}': column '${f.name}' has type null (only nulls) but is not nullable, so no row could be written (an all-null Arrow vector has type null: give the column its type)`, {
        code: 'UNSUPPORTED_COLUMN_TYPE', context: { table, column: f.name },
      });
    }
    if (primaryKeys.includes(f.name) && !hasSparkHash(f.type)) {
      throw new LakeSoulError('InvalidArgument', `create table '${table}': primary key column '${f.name}' has type ${f.type}, which has no Spark hash to bucket rows by (use an integer, string, binary, date, timestamp, decimal, boolean, float32 or float64 key)`, {
        code: 'UNSUPPORTED_KEY_TYPE', context: { table, column: f.name },
      });
    }
  }
}
