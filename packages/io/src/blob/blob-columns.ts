/**
 * Declaring file-reference (blob) columns: a table property and/or Arrow field metadata.
 */
import { DataType } from 'apache-arrow';
import type { Schema } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { allowedRootLocations } from './blob-reference.js';

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

/**
 * Whether a column of type `t` can hold blob references: a string (Utf8, LargeUtf8, or a dictionary of
 * them) or a struct whose `path` is a string.
 */
export function isBlobReferenceType(t: DataType): boolean {
  if (DataType.isUtf8(t) || DataType.isLargeUtf8(t)) return true;
  if (DataType.isDictionary(t)) return DataType.isUtf8(t.dictionary) || DataType.isLargeUtf8(t.dictionary);
  if (DataType.isStruct(t)) {
    const p = t.children.find((f) => f.name === 'path');
    return p !== undefined && (DataType.isUtf8(p.type) || DataType.isLargeUtf8(p.type));
  }
  return false;
}

const ROOT_SCHEMES = new Set(['file', 's3', 's3a', 's3n', 'memory']);

/** Whether reads take `root` for an allowed root (a location without a `..` step, once decoded as they decode it). */
function placeable(root: string): boolean {
  try {
    allowedRootLocations(root);
    return true;
  } catch (e) {
    if (LakeSoulError.is(e, 'InvalidArgument')) return false;
    throw e;
  }
}

/**
 * Checks a new table's blob declarations, as `createTable` receives them: every blob column (of
 * `lakesoul_blob_columns`, or marked `lakesoul.blob=true`) is in the schema and of a reference type
 * ({@link isBlobReferenceType}; an Int32 column was accepted, and described as a blob reference), and
 * `lakesoul_blob_roots` lists absolute URIs (`file:///abs/path`, `s3://bucket/prefix`,
 * `memory://name/prefix`), comma-separated (`images` was accepted, and every blob read of the table
 * then failed naming neither the property nor the table), each placed as reads place it
 * (`allowedRootLocations`: a `%2E%2E` segment is a folder of that name, not `..`).
 * @throws LakeSoulError SchemaMismatch for a blob column the schema lacks; InvalidArgument naming the
 *   table and the column and its type, or the property and the entry.
 */
export function checkBlobDeclarations(table: BlobTableDescription): void {
  const name = table.name ?? '';
  for (const c of blobColumnsOf(table)) {
    const f = table.schema.fields.find((x) => x.name === c)!;
    if (!isBlobReferenceType(f.type)) {
      throw new LakeSoulError('InvalidArgument', `table '${name}': blob column '${c}' has type ${String(f.type)}; a blob column holds references: a string (URI or relative path, Utf8) or a struct {path, offset, length}`, {
        context: { table: name, column: c, type: String(f.type) },
      });
    }
  }
  const roots = table.properties?.[BLOB_ROOTS_PROPERTY];
  if (roots === undefined) return;
  for (const raw of String(roots).split(',')) {
    const root = raw.trim();
    if (root === '') continue;
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*)$/.exec(root);
    const scheme = m?.[1].toLowerCase();
    const rest = m?.[2] ?? '';
    // placed as reads place it (a file: root percent-decoded, a decoded '.' or '..' kept as written):
    // a '..' refused here is one every read of the table would refuse
    const ok = scheme !== undefined && ROOT_SCHEMES.has(scheme) && (scheme === 'file' ? rest.startsWith('/') || rest.startsWith('localhost/') : /^[^/]+/.test(rest)) && placeable(root);
    if (!ok) {
      throw new LakeSoulError(
        'InvalidArgument',
        `table '${name}': property '${BLOB_ROOTS_PROPERTY}' lists '${root}', which is not an absolute URI of a readable location: it lists absolute URIs (file:///abs/path, s3://bucket/prefix, memory://name/prefix) without '..', comma-separated`,
        { context: { table: name, property: BLOB_ROOTS_PROPERTY, file: root } },
      );
    }
  }
}
