/**
 * Conforming writer input to a table schema (the writer's validation step, issue 3).
 */
import { Data, Field, RecordBatch, Schema } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { batchColumns, makeBatch } from './data-access.js';
import { castData } from './cast-data.js';
import { gatherData } from './take-rows.js';

/** Options of {@link validateAgainstSchema}. */
export interface ValidateOptions {
  /** Primary-key columns: must be present and never null. */
  primaryKeys?: readonly string[];
  /**
   * Allow nullable table columns to be absent from the batch (partial-column upserts). Absent
   * columns are left out of the result (the writer records the present ones as file_exist_cols),
   * unless `fillMissing` is set.
   */
  allowMissingNullable?: boolean;
  /** With `allowMissingNullable`, add absent nullable columns as all-null instead of leaving them out. */
  fillMissing?: boolean;
  /** For messages. */
  tableName?: string;
}

/**
 * Check `batch` against the table schema and return it conformed: columns in the table's field order,
 * with the table's exact types and field definitions. Lossless conversions are applied and checked
 * value by value (int widening/narrowing in range, float widening, utf8 <-> large_utf8,
 * binary <-> large_binary, dictionary -> values, timestamp unit/timezone, date32 <-> date64, list
 * <-> fixed_size_list of the right length, struct by field name; see cast-data.ts).
 *
 * Errors (nothing is written): SchemaMismatch for a column the table does not have, a missing
 * non-nullable column, a type that cannot be converted or a value that does not fit; InvalidArgument
 * for a null in a primary-key or non-nullable column, naming the column and the first offending row.
 */
export function validateAgainstSchema(batch: RecordBatch, tableSchema: Schema, options: ValidateOptions = {}): RecordBatch {
  const table = options.tableName;
  const pks = new Set(options.primaryKeys ?? []);
  const cols = batchColumns(batch);
  const names = batch.schema.fields.map((f) => f.name);
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      throw new LakeSoulError('SchemaMismatch', `column '${name}' appears twice in the data${table ? ` for table '${table}'` : ''}`, {
        context: { column: name, table },
      });
    }
    seen.add(name);
    if (!tableSchema.fields.some((f) => f.name === name)) {
      throw new LakeSoulError(
        'SchemaMismatch',
        `column '${name}' is not in the schema of table${table ? ` '${table}'` : ''} (columns: ${tableSchema.fields.map((f) => f.name).join(', ')})`,
        { context: { column: name, table } },
      );
    }
  }
  const outFields: Field[] = [];
  const outData: Data[] = [];
  for (const field of tableSchema.fields) {
    const k = names.indexOf(field.name);
    if (k < 0) {
      const allowed = options.allowMissingNullable === true && field.nullable && !pks.has(field.name);
      if (!allowed) {
        const what = pks.has(field.name) ? 'primary key' : field.nullable ? 'nullable' : 'non-nullable';
        throw new LakeSoulError('SchemaMismatch', `missing ${what} column '${field.name}'${table ? ` of table '${table}'` : ''}`, {
          context: { column: field.name, table },
        });
      }
      if (options.fillMissing === true) {
        outFields.push(field);
        outData.push(gatherData(field.type, [], null, new Int32Array(batch.numRows).fill(-1)));
      }
      continue;
    }
    const data = castData(cols[k], field.type, { column: field.name, table, convertValues: true });
    if ((pks.has(field.name) || !field.nullable) && data.nullCount > 0) {
      let row = 0;
      const bm = data.nullBitmap!;
      for (; row < data.length; row++) {
        const pos = data.offset + row;
        if ((bm[pos >> 3] & (1 << (pos & 7))) === 0) break;
      }
      const what = pks.has(field.name) ? 'primary key' : 'non-nullable';
      throw new LakeSoulError('InvalidArgument', `null in ${what} column '${field.name}'${table ? ` of table '${table}'` : ''} at row ${row}`, {
        context: { column: field.name, table, row },
      });
    }
    outFields.push(field);
    outData.push(data);
  }
  return makeBatch(new Schema(outFields, tableSchema.metadata), outData, batch.numRows);
}
