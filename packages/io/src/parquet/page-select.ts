/**
 * Reading selected data pages of one column chunk. parquet-wasm decodes whole column chunks, so the
 * pages a row selection needs (found through the chunk's OffsetIndex) are copied into a small
 * Parquet file of their own: one column (its schema element copied), one row group whose chunk
 * describes only those pages (dictionary page kept). Pages are self-contained (levels and values of
 * whole rows), so the decoder reads them as it would the full chunk. The file has no ARROW:schema:
 * callers cast the decoded column to the table's type (castTableToSchema: a date64, time32[s] or
 * duration column, stored as bare INT64/INT32, decodes to those integers).
 */
import { LakeSoulError } from '@lakesoul-ts/meta';
import { CompactWriter, fieldSpans, listSpans, readThriftStruct, I32, I64, LIST, STRUCT, type FieldSpan, type ThriftStruct } from './thrift-compact.js';
import type { PageLocation, ParquetFooter } from './parquet-footer.js';
import { utf8Text } from '../arrow/data-access.js';


/** Rows of each page of a chunk: `pages[i].firstRow` up to the next page's (or the row group's end). */
export function pageRowCounts(pages: PageLocation[], rowGroupRows: number): number[] {
  return pages.map((p, i) => (i + 1 < pages.length ? pages[i + 1].firstRow : rowGroupRows) - p.firstRow);
}

/**
 * Indices of the pages holding at least one of `rows` (sorted ascending row indices within the row
 * group).
 */
export function pagesOfRows(pages: PageLocation[], rows: ArrayLike<number>): number[] {
  const out: number[] = [];
  let p = 0;
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    while (p + 1 < pages.length && pages[p + 1].firstRow <= r) p++;
    if (out[out.length - 1] !== p) out.push(p);
  }
  return out;
}

/**
 * Indices of the pages overlapping at least one of `ranges` (sorted, disjoint [start, end) row
 * ranges within the row group): {@link pagesOfRows} of every row of the ranges, without listing them.
 */
export function pagesOfRanges(pages: PageLocation[], ranges: readonly (readonly [number, number])[], rowGroupRows: number): number[] {
  const out: number[] = [];
  let p = 0;
  for (const [start, end] of ranges) {
    if (end <= start) continue;
    while (p + 1 < pages.length && pages[p + 1].firstRow <= start) p++;
    for (let q = p; q < pages.length && pages[q].firstRow < end && pages[q].firstRow < rowGroupRows; q++) {
      if (out[out.length - 1] !== q) out.push(q);
      p = q;
    }
  }
  return out;
}

/** Rows held by the pages `selected` of a chunk (see {@link pageRowCounts}). */
export function rowsOfPages(pages: PageLocation[], selected: readonly number[], rowGroupRows: number): number {
  let n = 0;
  for (const i of selected) n += (i + 1 < pages.length ? pages[i + 1].firstRow : rowGroupRows) - pages[i].firstRow;
  return n;
}

/**
 * Positions of `rows` (sorted row indices within the row group) in the decoded concatenation of the
 * pages `selected` (sorted page indices that together hold every row of `rows`).
 */
export function positionsInPages(pages: PageLocation[], selected: number[], rows: ArrayLike<number>, rowGroupRows: number): Int32Array {
  const counts = pageRowCounts(pages, rowGroupRows);
  const out = new Int32Array(rows.length);
  let s = 0;
  let base = 0;
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    while (s < selected.length && r >= pages[selected[s]].firstRow + counts[selected[s]]) {
      base += counts[selected[s]];
      s++;
    }
    if (s >= selected.length || r < pages[selected[s]].firstRow) throw new LakeSoulError('Internal', `row ${r} is not in the selected pages`);
    out[k] = base + (r - pages[selected[s]].firstRow);
  }
  return out;
}

function spanBytes(buf: Uint8Array, f: FieldSpan): Uint8Array {
  return buf.subarray(f.start, f.end);
}

/** Options of {@link columnFileOfPages}. */
export interface ColumnFileOptions {
  footer: ParquetFooter;
  rowGroup: number;
  /** Top-level name of a flat (non-nested) column. */
  column: string;
  /** The chunk's page locations (its OffsetIndex). */
  pages: PageLocation[];
  /** Indices of the pages to keep, ascending. */
  selected: number[];
  /** The chunk's dictionary page, if it has one (bytes from the dictionary page offset to the first data page). */
  dictionary: Uint8Array | null;
  /** The bytes of each selected page, in `selected` order. */
  pageBytes: Uint8Array[];
  /** File name for messages. */
  file?: string;
}

/**
 * Where a footer's parts are, found once per footer: a selective read of a wide table builds a
 * column file for each of its columns, and finding them again per column cost columns × footer size
 * (11 s for a 1-row read of a 1,000-column table).
 */
interface FooterLayout {
  /** The FileMetaData's fields. */
  top: FieldSpan[];
  /** Every schema element's span (the root first). */
  elements: { start: number; end: number }[];
  /** The root element's fields. */
  rootFields: FieldSpan[];
  /** Flat top-level columns: their schema element and their position among the leaves. */
  flat: Map<string, { element: number; leaf: number }>;
  /** The column orders (field 7), if the footer has them. */
  orders: { type: number; items: { start: number; end: number }[] } | null;
  /** Per row group, found when first asked for: its fields, and its column chunks' spans. */
  rowGroups: Map<number, { fields: FieldSpan[]; chunks: { start: number; end: number }[] }>;
}

const layouts = new WeakMap<ParquetFooter, FooterLayout>();

function footerLayout(footer: ParquetFooter): FooterLayout {
  let layout = layouts.get(footer);
  if (layout) return layout;
  const meta = footer.metadata;
  const top = fieldSpans(meta).fields;
  const schemaField = top.find((f) => f.id === 2);
  const elements = schemaField ? listSpans(meta, schemaField.start).items : [];
  const decoded = (readThriftStruct(meta).get(2) as ThriftStruct[] | undefined) ?? [];
  const flat = new Map<string, { element: number; leaf: number }>();
  let i = 1;
  let leaves = 0;
  const skip = (): void => {
    const e = decoded[i++];
    const kids = e.has(1) ? 0 : Number(e.get(5) ?? 0);
    if (kids === 0) leaves++;
    for (let k = 0; k < kids; k++) skip();
  };
  const roots = Number(decoded[0]?.get(5) ?? 0);
  for (let k = 0; k < roots && i < decoded.length; k++) {
    const e = decoded[i];
    const name = utf8Text(e.get(4) as Uint8Array);
    if (e.has(1) && !flat.has(name)) flat.set(name, { element: i, leaf: leaves });
    skip();
  }
  const orders = top.find((f) => f.id === 7);
  layout = { top, elements, orders: orders ? listSpans(meta, orders.start) : null, rootFields: elements.length ? fieldSpans(meta, elements[0].start).fields : [], flat, rowGroups: new Map() };
  layouts.set(footer, layout);
  return layout;
}

function rowGroupLayout(meta: Uint8Array, layout: FooterLayout, rowGroup: number): { fields: FieldSpan[]; chunks: { start: number; end: number }[] } {
  let rg = layout.rowGroups.get(rowGroup);
  if (rg) return rg;
  const list = layout.top.find((f) => f.id === 4);
  const span = list ? listSpans(meta, list.start).items[rowGroup] : undefined;
  const fields = span ? fieldSpans(meta, span.start).fields : [];
  const chunkList = fields.find((f) => f.id === 1);
  rg = { fields, chunks: chunkList ? listSpans(meta, chunkList.start).items : [] };
  layout.rowGroups.set(rowGroup, rg);
  return rg;
}

/**
 * A Parquet file holding only the selected pages of one flat column chunk (see the module comment):
 * decoded, it yields the selected pages' rows in order.
 */
export function columnFileOfPages(o: ColumnFileOptions): Uint8Array {
  const { footer, column, pages, selected } = o;
  const rg = footer.rowGroups[o.rowGroup];
  const counts = pageRowCounts(pages, rg.numRows);
  const rows = selected.reduce((s, i) => s + counts[i], 0);
  const dictLen = o.dictionary?.length ?? 0;
  const bodyLen = dictLen + o.pageBytes.reduce((s, b) => s + b.length, 0);
  const meta = footer.metadata;
  const layout = footerLayout(footer);
  const position = layout.flat.get(column);
  if (!position) throw new LakeSoulError('Internal', `column '${column}' is not a flat column of '${o.file ?? '<bytes>'}'`);
  const { element, leaf } = position;
  const w = new CompactWriter();
  for (const f of layout.top) {
    if (f.id === 2) {
      // the root, with one child, and the column's element
      w.field(2, LIST).listHeader(2, STRUCT).begin(null);
      for (const rf of layout.rootFields) {
        if (rf.id === 5) w.int(5, I32, 1);
        else w.raw(rf.id, rf.type, spanBytes(meta, rf));
      }
      w.stop().bytes(meta.subarray(layout.elements[element].start, layout.elements[element].end));
    } else if (f.id === 3) w.int(3, I64, rows);
    else if (f.id === 4) {
      const group = rowGroupLayout(meta, layout, o.rowGroup);
      w.field(4, LIST).listHeader(1, STRUCT).begin(null);
      for (const rf of group.fields) {
        if (rf.id === 1) {
          w.field(1, LIST).listHeader(1, STRUCT);
          writeChunk(w, meta, group.chunks[leaf].start, { rows, dictLen, bodyLen });
        } else if (rf.id === 3) w.int(3, I64, rows);
        else if (rf.id === 2 || rf.id === 7) w.raw(rf.id, rf.type, spanBytes(meta, rf));
      }
      w.stop();
    } else if (f.id === 7) {
      const it = layout.orders?.items[leaf];
      if (it) w.field(7, LIST).listHeader(1, layout.orders!.type).bytes(meta.subarray(it.start, it.end));
    } else if (f.id !== 5) w.raw(f.id, f.type, spanBytes(meta, f));
    // key/value metadata (5) is left out: its ARROW:schema describes every column
  }
  w.stop();
  const thrift = w.finish();
  const out = new Uint8Array(4 + bodyLen + thrift.length + 8);
  out.set([0x50, 0x41, 0x52, 0x31], 0);
  let p = 4;
  if (o.dictionary) {
    out.set(o.dictionary, p);
    p += dictLen;
  }
  for (const b of o.pageBytes) {
    out.set(b, p);
    p += b.length;
  }
  out.set(thrift, p);
  p += thrift.length;
  new DataView(out.buffer).setUint32(p, thrift.length, true);
  out.set([0x50, 0x41, 0x52, 0x31], p + 4);
  return out;
}


/** Writes the column's ColumnChunk, rewritten to describe the copied pages. */
function writeChunk(w: CompactWriter, meta: Uint8Array, start: number, sel: { rows: number; dictLen: number; bodyLen: number }): void {
  const cc = fieldSpans(meta, start).fields;
  w.begin(null);
  for (const f of cc) {
    // page index locations (4-7) and encryption (8, 9) refer to the original file: left out
    if (f.id === 2) w.int(2, I64, 4);
    else if (f.id === 1) w.raw(f.id, f.type, spanBytes(meta, f));
    else if (f.id === 3) {
      const md = fieldSpans(meta, f.start).fields;
      w.begin(3);
      for (const m of md) {
        if (m.id === 5) w.int(5, I64, sel.rows);
        else if (m.id === 7) w.int(7, I64, sel.bodyLen);
        else if (m.id === 9) w.int(9, I64, 4 + sel.dictLen);
        else if (m.id === 11) {
          if (sel.dictLen > 0) w.int(11, I64, 4);
        } else if (m.id === 1 || m.id === 2 || m.id === 3 || m.id === 4 || m.id === 6 || m.id === 8) w.raw(m.id, m.type, spanBytes(meta, m));
        // statistics, encoding stats, bloom filter and size statistics describe the whole chunk: dropped
      }
      w.stop();
    }
  }
  w.stop();
}
