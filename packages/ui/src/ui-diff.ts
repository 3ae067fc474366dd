/**
 * The diff of two commits, as pure steps over rows already read (ui-api.ts does the reading): how
 * rows before and after compare, by primary key, or as whole-row multisets for tables without one.
 */
import type { RecordBatch, Schema } from 'apache-arrow';
import { cellJson, type CellJson } from './ui-values.js';

/** Most changed rows a diff lists per kind (added, changed, deleted); the counts are always complete. */
export const MAX_DIFF_LIST = 200;

/** Cells of a diff entry, keyed by column. */
export type RowObject = Record<string, CellJson>;

/**
 * How a partition was compared: `incremental` (its increment holds only what was added: the keys that
 * changed, or for tables without primary keys the added rows) or `reset` (rewritten or dropped in
 * the range: the incremental read returned it whole as of the end, compared with its state at the
 * start).
 */
export type DiffMethod = 'incremental' | 'reset';

/** A diff of two commits. */
export interface DiffJson {
  from: number;
  to: number;
  primaryKeys: string[];
  columns: string[];
  counts: { added: number; changed: number; deleted: number; unchanged: number };
  added: RowObject[];
  changed: Array<{ key: RowObject; before: RowObject; after: RowObject; columns: string[] }>;
  deleted: RowObject[];
  /** How each partition the range touched was compared. */
  partitions: Record<string, DiffMethod>;
  truncated: boolean;
}

/** Rows of batches as objects of their cells, without the `exclude`d column (the CDC column). */
export function rowObjects(schema: Schema, batches: RecordBatch[], exclude?: string): RowObject[] {
  const out: RowObject[] = [];
  for (const b of batches) {
    for (let r = 0; r < b.numRows; r++) {
      const o: RowObject = {};
      for (const f of schema.fields) if (f.name !== exclude) o[f.name] = cellJson(b.getChild(f.name)?.get(r), f.type);
      out.push(o);
    }
  }
  return out;
}

/** Collects a diff: counts are exact, lists stop at {@link MAX_DIFF_LIST} (and say so). */
export class DiffBuilder {
  readonly result: DiffJson;

  constructor(from: number, to: number, primaryKeys: string[], columns: string[], methods: Record<string, DiffMethod>) {
    this.result = { from, to, primaryKeys, columns, counts: { added: 0, changed: 0, deleted: 0, unchanged: 0 }, added: [], changed: [], deleted: [], partitions: methods, truncated: false };
  }

  private list<T>(list: T[], v: T): void {
    if (list.length < MAX_DIFF_LIST) list.push(v);
    else this.result.truncated = true;
  }

  added(row: RowObject): void {
    this.result.counts.added++;
    this.list(this.result.added, row);
  }

  deleted(row: RowObject): void {
    this.result.counts.deleted++;
    this.list(this.result.deleted, row);
  }

  /** Compares two versions of one row; counts it changed (with the columns that differ) or unchanged. */
  compared(key: RowObject, before: RowObject, after: RowObject, countUnchanged: boolean): void {
    const columns = this.result.columns.filter((c) => JSON.stringify(before[c]) !== JSON.stringify(after[c]));
    if (columns.length > 0) {
      this.result.counts.changed++;
      this.list(this.result.changed, { key, before, after, columns });
    } else if (countUnchanged) {
      this.result.counts.unchanged++;
    }
  }

  /** Marks the diff incomplete (a read stopped at its row limit). */
  truncate(): void {
    this.result.truncated = true;
  }
}

/**
 * Compares rows by primary key. With `keys` (the keys an incremental read returned), only those are
 * compared, and a key rewritten with equal values counts as unchanged; without, every key of either
 * side is.
 */
export function compareByKey(diff: DiffBuilder, primaryKeys: string[], before: RowObject[], after: RowObject[], keys: Set<string> | null): void {
  const keyOf = (o: RowObject) => pkText(primaryKeys, o);
  const b = new Map(before.map((o) => [keyOf(o), o]));
  const a = new Map(after.map((o) => [keyOf(o), o]));
  for (const k of keys ?? new Set([...b.keys(), ...a.keys()])) {
    const x = b.get(k);
    const y = a.get(k);
    if (!x && y) diff.added(y);
    else if (x && !y) diff.deleted(x);
    else if (x && y) diff.compared(Object.fromEntries(primaryKeys.map((p) => [p, y[p] ?? null])), x, y, keys !== null);
  }
}

/** Compares whole rows as multisets: a row is deleted (added) as many times as it lost (gained) copies. */
export function compareAsBags(diff: DiffBuilder, before: RowObject[], after: RowObject[]): void {
  const bag = new Map<string, { row: RowObject; n: number }>();
  const count = (o: RowObject, by: number) => {
    const k = JSON.stringify(o);
    const e = bag.get(k) ?? { row: o, n: 0 };
    e.n += by;
    bag.set(k, e);
  };
  for (const o of before) count(o, 1);
  for (const o of after) count(o, -1);
  for (const { row, n } of bag.values()) {
    for (let i = 0; i < n; i++) diff.deleted(row);
    for (let i = 0; i < -n; i++) diff.added(row);
  }
}

/** The text identity of a row's primary key. */
export function pkText(primaryKeys: string[], row: RowObject): string {
  return JSON.stringify(primaryKeys.map((k) => row[k] ?? null));
}
