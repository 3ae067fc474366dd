/**
 * Schema evolution rules (LakeSoul-compatible): which changes of a table schema keep every file
 * already written readable by this project and by LakeSoul's own readers. SQL-free; the catalog
 * applies the verdict in one transaction.
 *
 * Allowed: new columns appended at the end, nullable (old files read them as null); widening an
 * integer column to a wider signed integer (int8/16/32 -> int16/32/64) and float32 -> float64 (old
 * files are cast on read, exactly). Everything else (dropping, renaming, reordering, narrowing,
 * changing nullability of existing columns, new non-nullable columns) is refused.
 */
// Arrow's submodules, not its root: see arrow-schema-json.ts.
import { DataType } from 'apache-arrow/type';
import { Type } from 'apache-arrow/enum';
import { Field, Schema } from 'apache-arrow/schema';
import { LakeSoulError } from './errors.js';

/** Whether `to` widens `from` in a way LakeSoul's readers cast exactly (wider signed int, float32 -> float64). */
function widening(from: DataType, to: DataType): boolean {
  if (from.typeId === Type.Int && to.typeId === Type.Int) {
    const a = from as unknown as { bitWidth: number; isSigned: boolean };
    const b = to as unknown as { bitWidth: number; isSigned: boolean };
    return a.isSigned && b.isSigned && b.bitWidth > a.bitWidth;
  }
  if (from.typeId === Type.Float && to.typeId === Type.Float) {
    return (from as unknown as { precision: number }).precision === 1 && (to as unknown as { precision: number }).precision === 2;
  }
  return false;
}

/**
 * Why a column name cannot be stored, or undefined. A data file's columns are recorded in the catalog
 * joined by commas (`file_exist_cols`, as LakeSoul reads them), so a name with a comma, or an empty
 * one, would be read back as other columns or none: its values would read as null.
 */
export function columnNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty (a column needs a name)';
  if (name.includes(',')) return "contains ',' (the catalog lists a file's columns separated by commas)";
  if (name.includes('\u0000')) return 'contains U+0000 (the catalog, PostgreSQL text, cannot store it)';
  // the CLI's and Flight's reads refuse them in column lists and filters: the column could never be selected there
  if (/[\u0001-\u001f\u007f]/.test(name)) return 'contains control characters (a line break, tab or escape: reads through the CLI and Flight could never select the column)';
  return undefined;
}

/**
 * Checks that `next` is an allowed evolution of `current` (see the module comment) and returns a
 * description of the change (empty when the schemas are equal).
 * @throws LakeSoulError SchemaMismatch `SCHEMA_EVOLUTION_REFUSED` naming the table and the column.
 */
export function checkSchemaEvolution(table: string, current: Schema, next: Schema): { added: Field[]; widened: Field[] } {
  const refuse = (column: string, why: string) =>
    new LakeSoulError('SchemaMismatch', `schema change of table '${table}' refused: column '${column}' ${why}`, {
      code: 'SCHEMA_EVOLUTION_REFUSED',
      context: { table, column },
    });
  const added: Field[] = [];
  const widened: Field[] = [];
  current.fields.forEach((f, i) => {
    const g = next.fields[i];
    if (!g) throw refuse(f.name, 'would be dropped (columns can only be added)');
    if (g.name !== f.name) throw refuse(f.name, `would become '${g.name}' (columns cannot be renamed or reordered; new columns go at the end)`);
    if (g.nullable !== f.nullable) throw refuse(f.name, 'would change nullability');
    if (String(g.type) !== String(f.type)) {
      if (!widening(f.type, g.type)) throw refuse(f.name, `cannot change type from ${f.type} to ${g.type} (allowed: wider signed integers, float32 -> float64)`);
      widened.push(g);
    }
  });
  const names = new Set(current.fields.map((f) => f.name));
  for (const g of next.fields.slice(current.fields.length)) {
    if (names.has(g.name)) throw refuse(g.name, 'appears twice');
    const problem = columnNameProblem(g.name);
    if (problem) throw refuse(g.name, problem);
    if (!g.nullable) throw refuse(g.name, 'is new and must be nullable (old files have no values for it)');
    names.add(g.name);
    added.push(g);
  }
  return { added, widened };
}

/** `type`, or its values' type when it is dictionary-encoded (LakeSoul stores the values' type). */
function valueType(type: DataType): DataType {
  return DataType.isDictionary(type) ? (type as unknown as { dictionary: DataType }).dictionary : type;
}

/**
 * The table schema `current` extended by the columns of data of schema `incoming`: columns it lacks
 * appended as nullable (dictionaries decoded), and columns the data holds in a wider type widened,
 * except the `fixed` ones (primary-key and range columns: the bucket hash and partition_desc depend on
 * their types). Other type differences are left to the value conversion (which refuses what is lossy).
 */
export function mergeSchemas(current: Schema, incoming: Schema, fixed: readonly string[] = []): Schema {
  const fields = current.fields.map((f) => {
    if (fixed.includes(f.name)) return f;
    const g = incoming.fields.find((x) => x.name === f.name);
    const t = g && valueType(g.type);
    return t && widening(f.type, t) ? f.clone({ type: t }) : f;
  });
  for (const g of incoming.fields) {
    if (current.fields.some((f) => f.name === g.name)) continue;
    fields.push(new Field(g.name, valueType(g.type), true, g.metadata));
  }
  return new Schema(fields, current.metadata);
}

/** The children of a list, struct or map type (a map's entries struct), or none. */
function nestedChildren(type: DataType): readonly Field[] | null {
  switch (type.typeId) {
    case Type.List: case Type.LargeList: case Type.FixedSizeList: case Type.Struct: case Type.Map:
      return type.children as Field[];
    default:
      return null;
  }
}

/** The kind of a nested type as the value conversion sees it: the list types convert into each other. */
function nestedKind(type: DataType): Type {
  return type.typeId === Type.LargeList || type.typeId === Type.FixedSizeList ? Type.List : type.typeId;
}

/** A float in a wider type than the table's (float64 into float32: rounded by the conversion). */
function floatWidening(from: DataType, to: DataType): boolean {
  return from.typeId === Type.Float && widening(from, to);
}

/**
 * A change inside a nested column that a `schemaMode: 'merge'` write's data asks for and schema
 * evolution does not make, or null: a struct field the table's column lacks, or a float in a wider
 * type than the table's (a float64 in a `list<float32>` or a `struct<x: float32>`). Evolution widens
 * and adds top-level columns only; inside a nested column the wider floats would be rounded to the
 * narrower type and a new field refused as an unknown one, so the write is refused as the evolution it
 * asks for. Other differences (item names, list, large list and fixed-size list into each other,
 * integers, which the conversion refuses when they do not fit, dictionaries) are left to the value
 * conversion. `column` is the path, e.g. `st.b` or `v.item`.
 */
export function nestedEvolutionProblem(current: Schema, incoming: Schema): { column: string; why: string } | null {
  const walk = (path: string, from: DataType, to: DataType): { column: string; why: string } | null => {
    to = valueType(to);
    const a = nestedChildren(from);
    const b = nestedChildren(to);
    if (a === null || b === null || nestedKind(from) !== nestedKind(to)) return null;
    for (let i = 0; i < b.length; i++) {
      const g = b[i]!;
      const f = from.typeId === Type.Struct ? a.find((x) => x.name === g.name) : a[i];
      // (a struct's field by name, a list's item, a map's entries by position)
      const at = `${path}.${g.name}`;
      if (!f) return { column: at, why: `is not a field of the table's ${from} (schema evolution adds top-level columns only)` };
      if (floatWidening(f.type, valueType(g.type))) {
        return { column: at, why: `is ${valueType(g.type)} in the data but ${f.type} in the table (schema evolution widens top-level columns only; inside a nested column the values would be rounded to ${f.type})` };
      }
      const inner = walk(at, f.type, g.type);
      if (inner) return inner;
    }
    return null;
  };
  for (const g of incoming.fields) {
    const f = current.fields.find((x) => x.name === g.name);
    const problem = f && walk(f.name, f.type, g.type);
    if (problem) return problem;
  }
  return null;
}

/**
 * Why files written under the table schema `written` do not hold what the table's schema `current`
 * says, or null: a column they hold is missing from `current`, or has there another type (another
 * writer added the column with another type, or widened it: values converted to the narrower type
 * were rounded, float64 0.1 stored as float32 0.10000000149011612, though older files of that type
 * read exactly).
 */
export function writtenSchemaProblem(current: Schema, written: Schema): string | null {
  for (const w of written.fields) {
    const c = current.fields.find((f) => f.name === w.name);
    if (!c) return `column '${w.name}' is not in the table's schema`;
    const t = valueType(w.type);
    if (String(c.type) !== String(t)) return `column '${w.name}' was written as ${t} but is ${c.type} in the table's schema`;
  }
  return null;
}

/**
 * What differs between the columns of `before` and `after` (added, gone, type or nullability
 * changed), for messages; '' when they have the same columns.
 */
export function schemaChangeText(before: Schema, after: Schema): string {
  const changes: string[] = [];
  for (const a of after.fields) {
    const b = before.fields.find((f) => f.name === a.name);
    if (!b) changes.push(`column '${a.name}' added`);
    else if (String(b.type) !== String(a.type)) changes.push(`column '${a.name}' changed from ${b.type} to ${a.type}`);
    else if (b.nullable !== a.nullable) changes.push(`column '${a.name}' became ${a.nullable ? 'nullable' : 'non-nullable'}`);
  }
  for (const b of before.fields) if (!after.fields.some((f) => f.name === b.name)) changes.push(`column '${b.name}' gone`);
  return changes.join(', ');
}
