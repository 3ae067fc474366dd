/**
 * Declaring file-reference (blob) columns: a table property and/or Arrow field metadata.
 */
import type { Schema } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';

/** Table property listing blob columns, comma-separated: `lakesoul_blob_columns=image_path,audio`. */
export const BLOB_COLUMNS_PROPERTY = 'lakesoul_blob_columns';

/**
 * Table property listing extra roots blob references of the table may point into, comma-separated
 * (set by `importImages` in reference mode). Readers add them to `allowedRoots`.
 */
export const BLOB_ROOTS_PROPERTY = 'lakesoul_blob_roots';

/** Arrow field metadata key marking a blob column (value `true`). */
export const BLOB_FIELD_METADATA = 'lakesoul.blob';

/** Suffix of the binary column a read adds for each blob column: `<col>__bytes`. */
export const BLOB_BYTES_SUFFIX = '__bytes';

/** Name of the bytes column added for blob column `column` (`image_path` -> `image_path__bytes`). */
export function blobBytesColumnName(column: string): string {
  return column + BLOB_BYTES_SUFFIX;
}

/** The parts of a table's description that declare blob columns (a `TableInfo` fits). */
export interface BlobTableDescription {
  schema: Schema;
  properties?: Record<string, string>;
  /** Used in error messages. */
  name?: string;
}

/**
 * The blob columns of a table: those listed in the `lakesoul_blob_columns` property (in that order),
 * then fields whose metadata has `lakesoul.blob=true` (in schema order), without duplicates.
 * @throws LakeSoulError SchemaMismatch when the property names a column the schema lacks.
 */
export function blobColumnsOf(table: BlobTableDescription): string[] {
  const out: string[] = [];
  const names = new Set(table.schema.fields.map((f) => f.name));
  const prop = table.properties?.[BLOB_COLUMNS_PROPERTY];
  if (prop !== undefined) {
    for (const raw of prop.split(',')) {
      const col = raw.trim();
      if (col === '' || out.includes(col)) continue;
      if (!names.has(col)) {
        throw new LakeSoulError('SchemaMismatch', `table ${table.name ?? ''} declares blob column '${col}' (property ${BLOB_COLUMNS_PROPERTY}) that is not in its schema`.replace('table  ', 'table '), {
          context: { table: table.name, column: col },
        });
      }
      out.push(col);
    }
  }
  for (const f of table.schema.fields) {
    const v = f.metadata?.get(BLOB_FIELD_METADATA);
    if (v !== undefined && v.toLowerCase() === 'true' && !out.includes(f.name)) out.push(f.name);
  }
  return out;
}

/** The extra allowed roots a table declares in its `lakesoul_blob_roots` property (empty when none). */
export function blobRootsOf(table: { properties?: Record<string, string> }): string[] {
  const v = table.properties?.[BLOB_ROOTS_PROPERTY];
  return v === undefined ? [] : v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}
