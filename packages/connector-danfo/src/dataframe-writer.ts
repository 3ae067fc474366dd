/**
 * Danfo DataFrames -> tables. The frame is converted and validated in full against the table schema
 * before the single `table.write` call, so a bad cell commits nothing.
 */
import { DataType } from 'apache-arrow';
import type { WriteResult } from '@lakesoul-ts/io';
import { LakeSoulError, refuseUnknownOptions, throwIfAborted } from '@lakesoul-ts/meta';
import { WRITE_OPTIONS } from '@lakesoul-ts/io';
import { fromDataFrame } from './arrow-encoder.js';
import { readWithNanNulls } from './dataframe-reader.js';
import type { DanfoDataFrameLike, DanfoTable, WriteDataFrameOptions } from './danfo-options.js';

/**
 * Write a DataFrame to a table as an append or an upsert (`mode`; default: upsert for primary-key
 * tables, append otherwise, as `table.write`). Columns are matched by name; types are restored from
 * the table schema (see docs/dataframes.md). A missing, unknown or mistyped column fails with a
 * `LakeSoulError` of kind `SchemaMismatch` naming the column (and row) before anything is written.
 */
export async function writeDataFrame(df: DanfoDataFrameLike, table: DanfoTable, options: WriteDataFrameOptions = {}): Promise<WriteResult> {
  const { name, namespace, schema } = table.info;
  refuseUnknownOptions(options, [...WRITE_OPTIONS, 'missingColumns', 'extraColumns', 'nan', 'onWarning'], `writing a DataFrame to table "${name}"`);
  const { missingColumns, extraColumns, nan, onWarning, ...write } = options;
  throwIfAborted(write.signal, `writing a DataFrame to table "${name}"`, { table: name, namespace });
  // checked before the frame's columns are read below (a plain object or an array threw a TypeError)
  if (df === null || typeof df !== 'object' || !Array.isArray((df as { columns?: unknown }).columns)) {
    const got = df === null ? 'null' : Array.isArray(df) ? 'an array' : typeof df === 'object' ? 'an object without a `columns` array' : typeof df;
    throw new LakeSoulError('InvalidArgument', `writing a DataFrame to table "${name}": expected a Danfo DataFrame (an object with \`columns\` and \`values\`), got ${got}`, {
      code: 'INVALID_INPUT', context: { table: name, namespace },
    });
  }
  if (nan === undefined && readWithNanNulls(df)) {
    // Its float columns' nulls were read as NaN: written as they are, they would stay NaN (not null).
    const floats = schema.fields.filter((f) => f.nullable && DataType.isFloat(f.type) && df.columns.includes(f.name)).map((f) => f.name);
    if (floats.length > 0) {
      const message = `writing a DataFrame to table "${name}": the frame was read with numericNulls: 'nan', so nulls of its float columns (${floats.join(', ')}) are NaN, and NaN in a float column is written as NaN, not null; pass nan: 'null' to write them back as nulls, or nan: 'value' to keep NaN (either silences this warning)`;
      if (onWarning) onWarning(message);
      else process.emitWarning(message, { code: 'LAKESOUL_DANFO_NAN_NULLS' });
    }
  }
  const missing = schema.fields.filter((f) => !df.columns.includes(f.name)).map((f) => f.name);
  if (missingColumns === 'partial' && missing.length > 0 && (table.info.primaryKeys?.length ?? 0) === 0) {
    // A partial write keeps the stored values of the columns it leaves out only as an upsert: on a
    // table without a key it appended each row again, the left-out columns null.
    throw new LakeSoulError('InvalidArgument', `writing a DataFrame to table "${name}": missingColumns 'partial' is a partial upsert, and the table has no primary key, so its rows would be appended again with ${missing.map((c) => `"${c}"`).join(', ')} null; give every column, or pass missingColumns 'null' to append rows with those columns null`, {
      code: 'INVALID_ARGUMENT', context: { table: name, namespace, option: 'missingColumns' },
    });
  }
  const arrow = fromDataFrame(df, schema, { missingColumns, extraColumns, nan, table: name, namespace });
  return table.write(arrow, write);
}
