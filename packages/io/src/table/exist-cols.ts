import { DataType, type Field } from 'apache-arrow';

/**
 * The names a nested column's leaf fields have in a Parquet file, in order: a `list<int32>` is
 * `item`, a `struct<a, b>` is `a, b`, a `map<utf8, int32>` is `key, value`, nested types recursively.
 * A column that is not nested has no leaves of its own (its own name is its leaf).
 */
function leafNames(field: Field): string[] {
  const t = field.type;
  if (DataType.isStruct(t)) return t.children.flatMap((c) => leafNames(c));
  if (DataType.isList(t) || DataType.isFixedSizeList(t)) return leafNames(t.children[0]);
  if (DataType.isMap(t)) return (t.children[0].type as DataType).children.flatMap((c) => leafNames(c));
  return [field.name];
}

function isNested(field: Field): boolean {
  const t = field.type;
  return DataType.isStruct(t) || DataType.isList(t) || DataType.isFixedSizeList(t) || DataType.isMap(t);
}

/** Where `run` occurs as consecutive entries of `names` among the entries not `taken`, or -1. */
function runAt(names: readonly string[], run: readonly string[], taken: boolean[]): number {
  for (let at = 0; at + run.length <= names.length; at++) {
    if (run.every((n, k) => !taken[at + k] && names[at + k] === n)) return at;
  }
  return -1;
}

/**
 * The columns of `fields` a data file holds, from its catalog entry's `file_exist_cols`.
 *
 * The protocol lists a file's columns by name. LakeSoul's Rust writer (the `lakesoul` 2.0 wheel)
 * lists a nested column by its leaf fields' names instead (`list<int32>` as `item`, `struct<a, b>` as
 * `a, b`, `map` as `key, value`), so read by name its nested columns would be absent from every file
 * it wrote: read as nulls, and written back as nulls by a compaction. A nested column missing from
 * the list whose leaf names appear there as a run is taken as present (the file's footer has it
 * under the column's name); those leaf names are not taken for columns of their own. A list of
 * column names (this project's, LakeSoul's Java writers') is returned as it is.
 */
export function existingColumns(existCols: readonly string[], fields: readonly Field[]): string[] {
  const names = new Set(fields.map((f) => f.name));
  if (existCols.every((c) => names.has(c))) return [...existCols];
  const taken = existCols.map(() => false);
  const nestedPresent = new Set<string>();
  for (const f of fields) {
    if (!isNested(f) || existCols.includes(f.name)) continue;
    const run = leafNames(f);
    const at = runAt(existCols, run, taken);
    if (at < 0) continue;
    for (let k = 0; k < run.length; k++) taken[at + k] = true;
    nestedPresent.add(f.name);
  }
  if (nestedPresent.size === 0) return [...existCols];
  const rest = existCols.filter((_, i) => !taken[i]);
  return fields.filter((f) => nestedPresent.has(f.name) || rest.includes(f.name)).map((f) => f.name).concat(rest.filter((c) => !names.has(c)));
}
