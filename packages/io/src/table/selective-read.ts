/**
 * Selective reading of one Parquet file (issue 15, "reads pay for what they select"): for each row
 * group kept by chunk statistics, the page index narrows the rows a filter can match; only the
 * pages of the filter columns holding such rows are fetched and decoded; the filter is evaluated on
 * them row by row; then only the pages of the other columns holding matching rows are fetched and
 * decoded, and the matching rows gathered. The result is exactly the file's rows that satisfy the
 * filter, in file order (what a full decode followed by the filter would give).
 *
 * Whether evaluating a filter on a file's rows before a merge is correct is the caller's decision
 * (see `prefilterFor` in scan-plan.ts); the one check made here is the key check: a filter that is
 * only safe when the file holds each key once is kept for a row group only when no matching row
 * shares its key with a neighbouring row (keys are sorted, so versions of a key are neighbours),
 * and otherwise replaced by its fallback.
 */
import { Schema, makeVector, type Data, type RecordBatch, type Table } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { FilterExpr } from '../types.js';
import { cellReader, concatData, makeBatch, takeRows } from '../arrow/index.js';
import { poolForSize, type ParquetPool } from '../workers/index.js';
import { compareCodePoints, evaluateFilter, filterColumns, maskPositions, rowGroupMayMatch } from '../filter/index.js';
import {
  castTableToSchema,
  decodeColumnIndex,
  decodeOffsetIndex,
  decodeParquet,
  decoderReadsPageIndex,
  columnFileOfPages,
  pageRowCounts,
  pagesOfRanges,
  pagesOfRows,
  positionsInPages,
  rowsOfPages,
  type ParquetMetaCache,
  type PageLocation,
  type ParquetColumnStats,
  type ParquetFooter,
} from '../parquet/index.js';

/** Counters of selective reads (tests, benchmarks, explain output). */
export interface SelectiveReadStats {
  /** Row groups looked at (after chunk-statistics pruning). */
  rowGroups: number;
  /** Of those, row groups whose page index showed no page can match (nothing fetched). */
  rowGroupsSkipped: number;
  /** Data pages of the needed column chunks. */
  pages: number;
  /** Pages fetched and decoded (a page decoded twice, e.g. for the key check, counts twice). */
  pagesRead: number;
  /** Rows returned. */
  rows: number;
}

/** A fresh set of zeroed counters. */
export function emptySelectiveStats(): SelectiveReadStats {
  return { rowGroups: 0, rowGroupsSkipped: 0, pages: 0, pagesRead: 0, rows: 0 };
}

type Range = { offset: number; length: number };

/** What {@link readSelective} needs. */
export interface SelectiveReadOptions {
  footer: ParquetFooter;
  /** File name for messages. */
  file: string;
  /** Row groups to read (already pruned by chunk statistics), ascending. */
  rowGroups: number[];
  /** Fields of the file columns to return, in output order (each cast to its field's type). */
  schema: Schema;
  /** The filter, evaluated on each row; its columns must be among `schema`'s. */
  filter: FilterExpr;
  /**
   * When set, `filter` holds only where the file holds each key once: row groups where a matching
   * row's key repeats use `fallback` instead (null: every row).
   */
  uniqueKey?: { column: string; fallback: FilterExpr | null };
  /** Ranged reads of the file, one result per range. */
  read(ranges: Range[]): Promise<Uint8Array[]>;
  /** Workers to decode pages on (default: the calling thread). */
  pool?: ParquetPool | null;
  /** Where decoded page indexes are kept across reads, and this file's key in it ({@link fileMetaKey}). */
  metaCache?: { cache: ParquetMetaCache; fileKey: string };
  /**
   * The file's size and its tail (the footer's bytes and what precedes them in the first read), for
   * decoding many columns' whole chunks of a row group in one call ({@link WHOLE_CHUNKS_MIN_COLUMNS}).
   */
  whole?: { size: number; tail(): Promise<{ tail: Uint8Array; tailStart: number }> };
  stats?: SelectiveReadStats;
}

/**
 * Columns whose matching rows need at least half of their chunk's rows (every page of a chunk of one
 * page, the common case of a small row group) that are decoded together, as one sparse copy of the
 * row group, rather than a one-column file each, when there are this many: a lookup of every column
 * of a 1,000-column table made 1,000 decode calls (1.7-2.6x the time of reading the whole table).
 * A column needing less of its chunk keeps its pages' own decode: a point lookup in a large row
 * group read whole read the whole file (7x the bytes).
 */
const WHOLE_CHUNKS_MIN_COLUMNS = 16;

/** True when `name` is a flat top-level column of every row group listed, with a page index. */
function hasPageIndex(footer: ParquetFooter, rowGroups: number[], name: string): boolean {
  return rowGroups.every((g) => {
    const c = footer.rowGroups[g].columns[name];
    return c !== undefined && c.path.length === 1 && c.offsetIndex !== null;
  });
}

/**
 * Whether {@link readSelective} can read `columns` of these row groups of the file: each a flat
 * column with an OffsetIndex (files written without a page index, or nested columns, are decoded
 * the usual way), and, with a unique-key filter, key ranges of the row groups that do not touch.
 */
export function canReadSelective(footer: ParquetFooter, rowGroups: number[], columns: string[], uniqueKey?: string): boolean {
  if (!columns.every((c) => hasPageIndex(footer, rowGroups, c))) return false;
  if (uniqueKey !== undefined) {
    for (let i = 1; i < footer.rowGroups.length; i++) {
      const a = footer.rowGroups[i - 1].columns[uniqueKey];
      const b = footer.rowGroups[i].columns[uniqueKey];
      if (!a || !b || compareKeys(a.max, b.min) !== -1) return false;
    }
  }
  return true;
}

/** -1/0/1 comparing two key values of one column; null when they cannot be compared. */
function compareKeys(a: unknown, b: unknown): number | null {
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return Math.sign(compareCodePoints(a, b));
  if (a instanceof Date && b instanceof Date) return Math.sign(a.getTime() - b.getTime());
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    return Math.sign(a.length - b.length);
  }
  return null;
}

/**
 * Whether two neighbouring rows may hold the same key: equal, or of a type {@link compareKeys} cannot
 * compare (a decimal's cells): then they are taken for versions of one key (a bool, binary or decimal
 * key's older version was returned by a filter that matched it and not the newest one).
 */
function mayBeSameKey(a: unknown, b: unknown): boolean {
  const c = compareKeys(a, b);
  return c === null || c === 0;
}

/** `rows` with each row's neighbours (sorted, distinct, within [0, numRows)). */
function neighbourRows(rows: Int32Array, numRows: number): Int32Array {
  const out: number[] = [];
  for (let k = 0; k < rows.length; k++) {
    for (let r = rows[k] - 1; r <= rows[k] + 1; r++) if (r >= 0 && r < numRows && (out.length === 0 || out[out.length - 1] < r)) out.push(r);
  }
  return Int32Array.from(out);
}

function conjunctsOf(f: FilterExpr): FilterExpr[] {
  return f.op === 'and' ? f.args : [f];
}

/** Sorted disjoint [start, end) row ranges. */
type Ranges = [number, number][];

function intersect(a: Ranges, b: Ranges): Ranges {
  const out: Ranges = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const s = Math.max(a[i][0], b[j][0]);
    const e = Math.min(a[i][1], b[j][1]);
    if (s < e) out.push([s, e]);
    if (a[i][1] < b[j][1]) i++;
    else j++;
  }
  return out;
}

function rowsOf(ranges: Ranges): Int32Array {
  const n = ranges.reduce((s, [a, b]) => s + b - a, 0);
  const out = new Int32Array(n);
  let p = 0;
  for (const [a, b] of ranges) for (let r = a; r < b; r++) out[p++] = r;
  return out;
}

/** Per row group: the page locations of every needed column and the page statistics of filter columns. */
interface RowGroupIndex {
  pages: Map<string, PageLocation[]>;
  pageStats: Map<string, Pick<ParquetColumnStats, 'min' | 'max' | 'nullCount'>[] | null>;
}

async function loadIndexes(o: SelectiveReadOptions, columns: string[], statColumns: string[]): Promise<Map<number, RowGroupIndex>> {
  const wanted: { g: number; column: string; kind: 'offset' | 'column'; range: Range }[] = [];
  for (const g of o.rowGroups) {
    const cols = o.footer.rowGroups[g].columns;
    for (const c of columns) wanted.push({ g, column: c, kind: 'offset', range: cols[c].offsetIndex! });
    for (const c of statColumns) if (cols[c].columnIndex) wanted.push({ g, column: c, kind: 'column', range: cols[c].columnIndex! });
  }
  // Indexes decoded by an earlier read of the file are taken from the cache; the others are fetched
  // in one batch of ranged reads.
  const mc = o.metaCache;
  const cacheKey = (w: (typeof wanted)[number]) => `${w.kind}-index:${w.g}:${w.column}:${mc!.fileKey}`;
  const decoded: unknown[] = wanted.map((w) => (mc ? mc.cache.get(cacheKey(w)) : undefined));
  const missing = wanted.map((w, k) => ({ w, k })).filter(({ k }) => decoded[k] === undefined);
  const bytes = missing.length > 0 ? await o.read(missing.map(({ w }) => w.range)) : [];
  missing.forEach(({ w, k }, i) => {
    decoded[k] = w.kind === 'offset' ? decodeOffsetIndex(bytes[i], o.file) : decodeColumnIndex(bytes[i], o.footer, w.column, o.file);
    // Decoded, an index takes a few times its encoded size (one object per page).
    mc?.cache.set(cacheKey(w), decoded[k], 256 + 6 * w.range.length);
  });
  const out = new Map<number, RowGroupIndex>();
  wanted.forEach((w, k) => {
    let idx = out.get(w.g);
    if (!idx) out.set(w.g, (idx = { pages: new Map(), pageStats: new Map() }));
    if (w.kind === 'offset') idx.pages.set(w.column, decoded[k] as PageLocation[]);
    else idx.pageStats.set(w.column, decoded[k] as ReturnType<typeof decodeColumnIndex>);
  });
  return out;
}

/**
 * The rows of the file that satisfy `o.filter`, fetched and decoded page by page (see the module
 * comment), one batch per row group with matches. Check {@link canReadSelective} first.
 */
export async function* readSelective(o: SelectiveReadOptions): AsyncGenerator<RecordBatch> {
  const columns = o.schema.fields.map((f) => f.name);
  const filterCols = [...new Set([...filterColumns(o.filter), ...(o.uniqueKey?.fallback ? filterColumns(o.uniqueKey.fallback) : [])])];
  for (const c of filterCols) {
    if (!columns.includes(c)) throw new LakeSoulError('Internal', `selective read of '${o.file}': filter column '${c}' is not read`);
  }
  const indexes = await loadIndexes(o, columns, filterCols);
  for (const g of o.rowGroups) {
    const b = await readRowGroup(o, g, indexes.get(g)!, o.filter, o.uniqueKey);
    if (b !== null && b.numRows > 0) {
      if (o.stats) o.stats.rows += b.numRows;
      yield b;
    }
  }
}

/** Fetches and decodes the selected pages of several columns of row group `g` (one batch of reads). */
async function decodePages(o: SelectiveReadOptions, g: number, idx: RowGroupIndex, want: { column: string; selected: number[] }[]): Promise<Map<string, Table>> {
  const ranges: Range[] = [];
  const parts: { column: string; selected: number[]; pages: PageLocation[]; dict: number; first: number }[] = [];
  for (const w of want) {
    const pages = idx.pages.get(w.column)!;
    const chunk = o.footer.rowGroups[g].columns[w.column];
    let dict = -1;
    if (chunk.dictionaryPageOffset !== null && pages.length > 0 && chunk.dictionaryPageOffset < pages[0].offset) {
      dict = ranges.length;
      ranges.push({ offset: chunk.dictionaryPageOffset, length: pages[0].offset - chunk.dictionaryPageOffset });
    }
    parts.push({ ...w, pages, dict, first: ranges.length });
    for (const i of w.selected) ranges.push({ offset: pages[i].offset, length: pages[i].compressedSize });
  }
  const bytes = await o.read(ranges);
  // The columns decode at the same time: on the Parquet workers when their pages are large enough
  // to be worth the trip (the one-column files are built here, so their buffers move there).
  const pool = o.pool ?? null;
  const fields = new Map(o.schema.fields.map((f) => [f.name, f]));
  const decoded = await Promise.all(parts.map(async (p) => {
    if (o.stats) o.stats.pagesRead += p.selected.length;
    const file = columnFileOfPages({
      footer: o.footer,
      rowGroup: g,
      column: p.column,
      pages: p.pages,
      selected: p.selected,
      dictionary: p.dict >= 0 ? bytes[p.dict] : null,
      pageBytes: bytes.slice(p.first, p.first + p.selected.length),
      file: o.file,
    });
    const field = fields.get(p.column)!;
    const onPool = poolForSize(pool, file.length, SELECTIVE_POOL_MIN_BYTES);
    const t = await decodeParquet(file, { file: o.file, pool: onPool, transferBytes: onPool !== null });
    return [p.column, castTableToSchema(t, new Schema([field]), { file: o.file })] as const;
  }));
  return new Map(decoded);
}

/** One-column files at least this large decode on a worker-thread pool (when the read has one; on a native pool, all). */
const SELECTIVE_POOL_MIN_BYTES = 32 * 1024;

/** The one column of `t` at `positions` (all rows when null), as a single chunk. */
function gather(t: Table, positions: Int32Array | null): Data {
  if (positions === null) return concatData(t.schema.fields[0].type, t.batches.map((b) => b.data.children[0] as Data)); // block copies
  return takeRows(t, positions).data.children[0] as Data;
}

function allPages(pages: PageLocation[]): number[] {
  return pages.map((_, i) => i);
}

/** Rows passing the filter and the filter columns' values at them. */
type FilterHits = { rows: Int32Array; columns: Data[] };

/**
 * The general case: the filter columns' values at every candidate row (`candData`, one chunk each)
 * are evaluated as one batch.
 */
function filterCandidates(schema: Schema, filter: FilterExpr, fcols: string[], candData: Data[], candRows: Int32Array): FilterHits | null {
  const cand = makeBatch(new Schema(fcols.map((c) => schema.fields.find((f) => f.name === c)!)), candData, candRows.length);
  const hit = maskPositions(evaluateFilter(filter, cand));
  if (hit === null) return null;
  const rows = new Int32Array(hit.length);
  for (let k = 0; k < hit.length; k++) rows[k] = candRows[hit[k]];
  const taken = hit.length === candRows.length ? cand : takeRows(cand, hit);
  return { rows, columns: fcols.map((_, k) => taken.data.children[k] as Data) };
}

/**
 * One filter column whose decoded pages hold exactly the candidate rows, in order: the filter runs
 * on each decoded batch as it is (no copy of the column into one chunk, no array of every candidate
 * row), and only the hits' values and rows are kept.
 */
function filterDecoded(filter: FilterExpr, column: string, decoded: Table, candidate: Ranges): FilterHits | null {
  const rows: Int32Array[] = [];
  const values: Data[] = [];
  let range = 0;
  let before = 0; // candidate rows in the ranges before `range`
  let seen = 0; // decoded rows before the current batch
  for (const b of decoded.batches) {
    const hit = maskPositions(evaluateFilter(filter, b));
    if (hit !== null) {
      const at = new Int32Array(hit.length);
      for (let k = 0; k < hit.length; k++) {
        const pos = seen + hit[k];
        while (pos - before >= candidate[range][1] - candidate[range][0]) before += candidate[range][1] - candidate[range++][0];
        at[k] = candidate[range][0] + pos - before;
      }
      rows.push(at);
      values.push((hit.length === b.numRows ? b : takeRows(b, hit)).getChild(column)!.data[0] as Data);
    }
    seen += b.numRows;
  }
  if (rows.length === 0) return null;
  const all = new Int32Array(rows.reduce((s, r) => s + r.length, 0));
  rows.reduce((p, r) => (all.set(r, p), p + r.length), 0);
  return { rows: all, columns: [concatData(decoded.schema.fields[0].type, values)] };
}

async function readRowGroup(
  o: SelectiveReadOptions,
  g: number,
  idx: RowGroupIndex,
  filter: FilterExpr | null,
  uniqueKey: SelectiveReadOptions['uniqueKey'],
): Promise<RecordBatch | null> {
  const numRows = o.footer.rowGroups[g].numRows;
  const columns = o.schema.fields.map((f) => f.name);
  if (o.stats) {
    o.stats.rowGroups++;
    for (const c of columns) o.stats.pages += idx.pages.get(c)!.length;
  }
  const conj = filter ? conjunctsOf(filter) : [];
  const fcols = filter ? filterColumns(filter) : [];
  // 1. Page statistics of each filter column narrow the candidate rows.
  let candidate: Ranges = [[0, numRows]];
  for (const c of fcols) {
    const own = conj.filter((x) => filterColumns(x).every((y) => y === c));
    const stats = idx.pageStats.get(c);
    if (own.length === 0 || !stats) continue;
    const expr: FilterExpr = own.length === 1 ? own[0] : { op: 'and', args: own };
    const pages = idx.pages.get(c)!;
    const counts = pageRowCounts(pages, numRows);
    const kept: Ranges = [];
    pages.forEach((p, i) => {
      if (stats[i] && !rowGroupMayMatch(expr, { [c]: stats[i] }, counts[i])) return;
      const last = kept[kept.length - 1];
      if (last && last[1] === p.firstRow) last[1] = p.firstRow + counts[i];
      else kept.push([p.firstRow, p.firstRow + counts[i]]);
    });
    candidate = intersect(candidate, kept);
  }
  if (candidate.length === 0) {
    if (o.stats) o.stats.rowGroupsSkipped++;
    return null;
  }
  // 2. Decode the filter columns on the pages holding candidate rows; evaluate the filter.
  const candCount = candidate.reduce((s, [a, b]) => s + b - a, 0);
  const whole = candCount === numRows;
  const firstSel = fcols.map((c) => {
    const pages = idx.pages.get(c)!;
    return { column: c, selected: whole ? allPages(pages) : pagesOfRanges(pages, candidate, numRows) };
  });
  const first = await decodePages(o, g, idx, firstSel);
  // Null (every decoded row, in order) when the selected pages hold exactly `rows`: they hold each
  // of them by construction, so equal counts mean nothing else. A single filter column's candidate
  // rows are whole pages of it, so its values are taken as decoded, without a per-row gather.
  const posOf = (column: string, selected: number[], rows: Int32Array): Int32Array | null => {
    const pages = idx.pages.get(column)!;
    return rowsOfPages(pages, selected, numRows) === rows.length ? null : positionsInPages(pages, selected, rows, numRows);
  };
  let matched: Int32Array | null = null;
  const firstData = new Map<string, Data>();
  if (filter) {
    let hits: FilterHits | null;
    if (fcols.length === 1 && rowsOfPages(idx.pages.get(fcols[0])!, firstSel[0].selected, numRows) === candCount) {
      hits = filterDecoded(filter, fcols[0], first.get(fcols[0])!, candidate);
    } else {
      const candRows = rowsOf(candidate);
      hits = filterCandidates(o.schema, filter, fcols, fcols.map((c, k) => gather(first.get(c)!, posOf(c, firstSel[k].selected, candRows))), candRows);
    }
    if (hits === null) return null;
    matched = hits.rows;
    fcols.forEach((c, k) => firstData.set(c, hits.columns[k]));
  }
  matched ??= rowsOf(candidate);
  const keyCol = uniqueKey?.column;
  if (keyCol !== undefined) {
    // Keys are sorted, so the versions of a key are neighbours: a matching row whose neighbour has
    // its key means the filter could pick an older version. Then the fallback filter is used.
    const near = neighbourRows(matched, numRows);
    const pages = idx.pages.get(keyCol)!;
    const sel = pagesOfRows(pages, near);
    const keys = gather((await decodePages(o, g, idx, [{ column: keyCol, selected: sel }])).get(keyCol)!, posOf(keyCol, sel, near));
    const key = cellReader(makeVector(keys));
    const at = new Int32Array(matched.length);
    let j = 0;
    for (let k = 0; k < matched.length; k++) {
      while (near[j] !== matched[k]) j++;
      at[k] = j;
      const x = key(j);
      if (x === null || (j > 0 && near[j - 1] === matched[k] - 1 && mayBeSameKey(key(j - 1), x)) || (j + 1 < near.length && near[j + 1] === matched[k] + 1 && mayBeSameKey(key(j + 1), x))) {
        if (o.stats) {
          o.stats.rowGroups--;
          for (const c of columns) o.stats.pages -= idx.pages.get(c)!.length;
        }
        return readRowGroup(o, g, idx, uniqueKey!.fallback, undefined);
      }
    }
    if (!firstData.has(keyCol)) firstData.set(keyCol, takeRows(makeBatch(new Schema([o.schema.fields.find((f) => f.name === keyCol)!]), [keys], keys.length), at).data.children[0] as Data);
  }
  // 3. The other columns on the pages holding matching rows; those that need every page of their
  // chunk, when there are many, decoded together.
  let restSel = columns.filter((c) => !firstData.has(c)).map((c) => ({ column: c, selected: pagesOfRows(idx.pages.get(c)!, matched) }));
  const wholeChunks = restSel.filter((x) => x.selected.length === idx.pages.get(x.column)!.length || 2 * rowsOfPages(idx.pages.get(x.column)!, x.selected, numRows) >= numRows);
  if (o.whole && wholeChunks.length >= WHOLE_CHUNKS_MIN_COLUMNS && wholeChunksPay(o, g, wholeChunks.map((x) => x.column))) {
    const decoded = await decodeWholeChunks(o, o.whole, g, wholeChunks.map((x) => x.column));
    if (o.stats) for (const x of wholeChunks) o.stats.pagesRead += idx.pages.get(x.column)!.length;
    const taken = matched.length === numRows ? null : takeRows(decoded, matched);
    wholeChunks.forEach((x, k) => firstData.set(x.column, taken ? taken.data.children[k] as Data : concatData(decoded.schema.fields[k].type, decoded.batches.map((b) => b.data.children[k] as Data))));
    restSel = restSel.filter((x) => !firstData.has(x.column));
  }
  const rest = restSel.length > 0 ? await decodePages(o, g, idx, restSel) : new Map<string, Table>();
  for (const s of restSel) firstData.set(s.column, gather(rest.get(s.column)!, posOf(s.column, s.selected, matched)));
  return makeBatch(o.schema, columns.map((c) => firstData.get(c)!), matched.length);
}

/**
 * `columns` of row group `g`, decoded in one call from a sparse copy of the file: its tail, its page
 * index (when the decoder reads it), and those columns' chunks of the group, fetched in one batch of
 * ranged reads. Cast to the read's fields.
 */
async function decodeWholeChunks(o: SelectiveReadOptions, file: NonNullable<SelectiveReadOptions['whole']>, g: number, columns: string[]): Promise<Table> {
  const chunks = columns.map((c) => o.footer.rowGroups[g].columns[c]);
  const ranges: Range[] = chunks.map((c) => ({ offset: c.offset, length: c.compressedSize }));
  const [{ tail, tailStart }, bytes, index] = await Promise.all([file.tail(), o.read(ranges), pageIndexPieces(o)]);
  const pieces = [{ offset: tailStart, bytes: tail }, ...index, ...ranges.map((r, k) => ({ offset: r.offset, bytes: bytes[k] }))];
  const size = pieces.reduce((n, p) => n + p.bytes.length, 0);
  const pool = poolForSize(o.pool ?? null, size, SELECTIVE_POOL_MIN_BYTES);
  const t = await decodeParquet({ size: file.size, pieces }, { columns, rowGroups: [g], file: o.file, footer: o.footer, pool, transferBytes: false });
  const byName = new Map(o.schema.fields.map((f) => [f.name, f])); // columns x fields compares, with 1,000s of each
  return castTableToSchema(t, new Schema(columns.map((c) => byName.get(c)!)), { file: o.file });
}

/** A file's page index ranges (every row group's ColumnIndex and OffsetIndex), none when the decoder does not read them. */
function pageIndexRanges(footer: ParquetFooter): Range[] {
  if (!decoderReadsPageIndex()) return [];
  return footer.rowGroups.flatMap((rg) => rg.chunks.flatMap((c) => [c.columnIndex, c.offsetIndex])).filter((r): r is Range => r !== null);
}

/** The page index pieces of the read's file, fetched once per read of the file (see {@link pageIndexRanges}). */
const pageIndexOf = new WeakMap<SelectiveReadOptions, Promise<{ offset: number; bytes: Uint8Array }[]>>();

function pageIndexPieces(o: SelectiveReadOptions): Promise<{ offset: number; bytes: Uint8Array }[]> {
  let p = pageIndexOf.get(o);
  if (!p) {
    const ranges = pageIndexRanges(o.footer);
    p = ranges.length === 0 ? Promise.resolve([]) : o.read(ranges).then((bytes) => ranges.map((r, k) => ({ offset: r.offset, bytes: bytes[k] })));
    pageIndexOf.set(o, p);
  }
  return p;
}

/**
 * Whether decoding `columns` of row group `g` together pays: with a decoder that reads the file's page
 * index (parquet-wasm), the sparse copy must hold all of it, which on a file of many row groups and
 * columns outweighs the chunks read: only when it is no larger than them.
 */
function wholeChunksPay(o: SelectiveReadOptions, g: number, columns: string[]): boolean {
  if (pageIndexOf.has(o)) return true; // fetched already for this file
  const index = pageIndexRanges(o.footer).reduce((n, r) => n + r.length, 0);
  if (index === 0) return true;
  return index <= columns.reduce((n, c) => n + o.footer.rowGroups[g].columns[c].compressedSize, 0);
}
