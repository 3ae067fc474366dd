/**
 * The diff of two commits, as pure steps over rows already read (ui-api.ts does the reading): how
 * rows before and after compare, by primary key, or as whole-row multisets for tables without one.
 * Rows are compared and keyed by their exact values ({@link DiffRow.exact}); the cells shown are cut
 * for display only (a same-length binary change, a change past the 2,000th character or in the
 * microseconds of a timestamp was "rewritten unchanged", and keys differing there were one key).
 */
import type { RecordBatch, Schema } from 'apache-arrow';
import { cellJson, exactText, plainReader, type CellJson } from './ui-values.js';

/**
 * Most changed rows a diff lists per kind (added, changed, deleted); the counts are not affected
 * (they are partial only when a read stopped at its limit: {@link DiffJson.partial}).
 */
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
  /** Lists were cut at {@link MAX_DIFF_LIST} rows per kind; the counts are not affected. */
  truncated: boolean;
  /**
   * A read stopped at its limit (rows or bytes of an analysis), so the counts cover only part of the
   * range: the partitions of {@link DiffJson.partialPartitions} were compared in part (the keys read)
   * or not at all (a partition rewritten in the range whose rows were not all read).
   */
  partial: boolean;
  /** The partitions whose rows were not all compared (see {@link DiffJson.partial}). */
  partialPartitions: string[];
}

/** A row read for a diff: its cells as shown, and the identity of each exact value (see {@link exactText}). */
export interface DiffRow {
  /** Cells as shown (cut at 2,000 characters; binary as hex). */
  cells: RowObject;
  /** Per column, the identity of its exact value: what rows are compared and keyed by. */
  exact: Record<string, string>;
}

/** Which rows {@link diffRows} keeps: those whose primary key ({@link pkText} of them) is one of `keys`. */
export interface KeySelection {
  primaryKeys: string[];
  keys: ReadonlySet<string>;
}

/**
 * Rows of batches as {@link DiffRow}s, without the `exclude`d column (the CDC column); with `only`,
 * just the rows of those keys (the others are not made into rows at all).
 */
export function diffRows(schema: Schema, batches: RecordBatch[], exclude?: string, only?: KeySelection): DiffRow[] {
  const out: DiffRow[] = [];
  const fields = schema.fields.filter((f) => f.name !== exclude);
  for (const b of batches) {
    const readers = fields.map((f) => { const v = b.getChild(f.name); return v ? plainReader(v) : () => null; });
    const keyOf = only ? keyReader(b, only.primaryKeys) : null;
    for (let r = 0; r < b.numRows; r++) {
      if (keyOf && !only!.keys.has(keyOf(r).key)) continue;
      const cells: RowObject = {};
      const exact: Record<string, string> = {};
      fields.forEach((f, c) => {
        const v = readers[c]!(r);
        cells[f.name] = cellJson(v, f.type, undefined, 'hex');
        exact[f.name] = exactText(v);
      });
      out.push({ cells, exact });
    }
  }
  return out;
}

/**
 * Reads the primary key of row `r` of `batch`: its identity (as {@link pkText} gives it) and its
 * plain values (for a filter selecting it).
 */
export function keyReader(batch: RecordBatch, primaryKeys: string[]): (r: number) => { key: string; values: unknown[] } {
  const readers = primaryKeys.map((k) => { const v = batch.getChild(k); return v ? plainReader(v) : () => null; });
  return (r) => {
    const values = readers.map((read) => read(r));
    return { key: JSON.stringify(values.map((v) => exactText(v))), values };
  };
}

/**
 * Collects a diff: lists stop at {@link MAX_DIFF_LIST} (and say so); counts are exact unless a read
 * stopped ({@link DiffBuilder.stopped}).
 */
export class DiffBuilder {
  readonly result: DiffJson;

  constructor(from: number, to: number, primaryKeys: string[], columns: string[], methods: Record<string, DiffMethod>) {
    this.result = { from, to, primaryKeys, columns, counts: { added: 0, changed: 0, deleted: 0, unchanged: 0 }, added: [], changed: [], deleted: [], partitions: methods, truncated: false, partial: false, partialPartitions: [] };
  }

  private list<T>(list: T[], v: T): void {
    if (list.length < MAX_DIFF_LIST) list.push(v);
    else this.result.truncated = true;
  }

  /** Counts (and lists) a row added. */
  added(row: DiffRow): void {
    this.result.counts.added++;
    this.list(this.result.added, row.cells);
  }

  /** Counts (and lists) a row deleted. */
  deleted(row: DiffRow): void {
    this.result.counts.deleted++;
    this.list(this.result.deleted, row.cells);
  }

  /**
   * Compares two versions of one row by their exact values; counts it changed (with the columns that
   * differ) or unchanged.
   */
  compared(key: RowObject, before: DiffRow, after: DiffRow, countUnchanged: boolean): void {
    const columns = this.result.columns.filter((c) => (before.exact[c] ?? 'null') !== (after.exact[c] ?? 'null'));
    if (columns.length > 0) {
      this.result.counts.changed++;
      this.list(this.result.changed, { key, before: before.cells, after: after.cells, columns });
    } else if (countUnchanged) {
      this.result.counts.unchanged++;
    }
  }

  /** Marks the counts partial: a read stopped at its limit, and these partitions were not (all) compared. */
  stopped(partitions: Iterable<string>): void {
    this.result.partial = true;
    const list = this.result.partialPartitions;
    for (const p of partitions) if (!list.includes(p)) list.push(p);
    list.sort();
  }
}

/**
 * Compares rows by primary key. With `keys` (the keys an incremental read returned), only those are
 * compared, and a key rewritten with equal values counts as unchanged; without, every key of either
 * side is.
 */
export function compareByKey(diff: DiffBuilder, primaryKeys: string[], before: DiffRow[], after: DiffRow[], keys: Set<string> | null): void {
  const keyOf = (o: DiffRow) => pkText(primaryKeys, o);
  const b = new Map(before.map((o) => [keyOf(o), o]));
  const a = new Map(after.map((o) => [keyOf(o), o]));
  for (const k of keys ?? new Set([...b.keys(), ...a.keys()])) {
    const x = b.get(k);
    const y = a.get(k);
    if (!x && y) diff.added(y);
    else if (x && !y) diff.deleted(x);
    else if (x && y) diff.compared(Object.fromEntries(primaryKeys.map((p) => [p, y.cells[p] ?? null])), x, y, keys !== null);
  }
}

/** Compares whole rows as multisets: a row is deleted (added) as many times as it lost (gained) copies. */
export function compareAsBags(diff: DiffBuilder, before: DiffRow[], after: DiffRow[]): void {
  const bag = new Map<string, { row: DiffRow; n: number }>();
  const columns = diff.result.columns;
  const count = (o: DiffRow, by: number) => {
    const k = JSON.stringify(columns.map((c) => o.exact[c] ?? 'null'));
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

/** The identity of a row's primary key, from its exact values. */
export function pkText(primaryKeys: string[], row: DiffRow): string {
  return JSON.stringify(primaryKeys.map((k) => row.exact[k] ?? 'null'));
}
