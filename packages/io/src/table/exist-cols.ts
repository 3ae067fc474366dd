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

/** Where `run` occurs as consecutive entries of `names` not `taken`, searched from `from` on; -1 when nowhere. */
function runAt(names: readonly string[], run: readonly string[], taken: boolean[], from: number): number {
  for (let at = from; at + run.length <= names.length; at++) {
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
 * it wrote: read as nulls, and written back as nulls by a compaction. When a nested column of the
 * table is not listed by name, the list is matched against the table's columns in order, each column
 * claiming its name, or a nested one not listed its leaf names as a run (from where the previous
 * column's match ended, else anywhere unclaimed), so that a leaf named like another column (`item`
 * beside a `list<int32>`, a column `a` added beside a `struct<a>`) goes to the right one. Names no
 * column claims (dropped columns) are kept at the end. A list naming every nested column (this
 * project's, LakeSoul's Java writers') is returned as it is.
 */
export function existingColumns(existCols: readonly string[], fields: readonly Field[]): string[] {
  const listed = new Set(existCols);
  if (!fields.some((f) => isNested(f) && !listed.has(f.name))) return [...existCols];
  const taken = existCols.map(() => false);
  const present: string[] = [];
  let cursor = 0;
  for (const f of fields) {
    const run = isNested(f) && !listed.has(f.name) ? leafNames(f) : [f.name];
    let at = runAt(existCols, run, taken, cursor);
    if (at < 0) at = runAt(existCols, run, taken, 0);
    if (at < 0) continue;
    for (let k = 0; k < run.length; k++) taken[at + k] = true;
    cursor = at + run.length;
    present.push(f.name);
  }
  const names = new Set(fields.map((f) => f.name));
  return present.concat(existCols.filter((c, i) => !taken[i] && !names.has(c)));
}

/**
 * How a writer lists `cols`, the columns of a new file, so that {@link existingColumns} reads exactly
 * them back: as they are, or else reversed (the leaves of a struct left out then no longer follow each
 * other in the list). Undefined when neither order does: a nested column left out whose only leaf is
 * named like a column the file holds (a `list<utf8>` with its leaf `item`, beside a column `item`).
 * Listed as they are, such a file (a partial upsert of `item`) read back as holding the list and not
 * `item`: `item`'s new values were lost and the list read as nulls, which a compaction then wrote.
 */
export function fileColumnListing(cols: readonly string[], fields: readonly Field[]): string[] | undefined {
  for (const order of [cols, [...cols].reverse()]) {
    const read = existingColumns(order, fields);
    if (read.length === cols.length && read.every((c) => cols.includes(c))) return [...order];
  }
  return undefined;
}
