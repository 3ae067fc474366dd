import { describe, expect, it } from 'vitest';
import { Bool, DateDay, Field, Float64, Int32, Int64, Schema, Table, TimeUnit, Timestamp, Utf8, vectorFromArray } from 'apache-arrow';
import { castTableToSchema, columnFileOfPages, decodeColumnIndex, decodeOffsetIndex, decodeParquet, encodeParquet, pagesOfRanges, pagesOfRows, positionsInPages, readParquetFooter, rowsOfPages } from './index.js';
import { prng } from '@lakesoul-ts/meta/testing/prng';

describe('selected pages of a column chunk (page index)', () => {
  const n = 30_000;
  const rnd = prng(9);
  const schema = new Schema([
    new Field('id', new Int64(), false),
    new Field('s', new Utf8(), true),
    new Field('x', new Float64(), true),
    new Field('k', new Int32(), true),
    new Field('b', new Bool(), true),
    new Field('d', new DateDay(), true),
    new Field('ts', new Timestamp(TimeUnit.MILLISECOND, 'UTC'), true),
  ]);
  const table = new Table(schema, {
    id: vectorFromArray(Array.from({ length: n }, (_, i) => BigInt(i * 3)), new Int64()),
    s: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 11 === 0 ? null : `v${Math.floor(rnd() * 1000)}-${i}`)), new Utf8()),
    x: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 13 === 0 ? null : rnd())), new Float64()),
    k: vectorFromArray(Array.from({ length: n }, () => Math.floor(rnd() * 50)), new Int32()),
    b: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : rnd() < 0.5)), new Bool()),
    d: vectorFromArray(Array.from({ length: n }, (_, i) => new Date(Date.UTC(2020, 0, 1 + (i % 400)))), new DateDay()),
    ts: vectorFromArray(Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i * 1_003), new Timestamp(TimeUnit.MILLISECOND, 'UTC')),
  });

  it('written files carry a page index; a file of some pages decodes to exactly their rows, for every column type', async () => {
    const bytes = encodeParquet(table, { rowGroupSize: 12_000 });
    const footer = await readParquetFooter(bytes, bytes.length);
    expect(footer.rowGroups.length).toBe(3);
    const full = castTableToSchema(await decodeParquet(bytes), schema);
    for (let g = 0; g < footer.rowGroups.length; g++) {
      const base = footer.rowGroups.slice(0, g).reduce((s, r) => s + r.numRows, 0);
      for (const f of schema.fields) {
        const chunk = footer.rowGroups[g].columns[f.name];
        expect(chunk.offsetIndex, f.name).not.toBeNull();
        expect(chunk.columnIndex, f.name).not.toBeNull();
        const pages = decodeOffsetIndex(bytes.subarray(chunk.offsetIndex!.offset, chunk.offsetIndex!.offset + chunk.offsetIndex!.length));
        expect(pages[0].firstRow).toBe(0);
        const stats = decodeColumnIndex(bytes.subarray(chunk.columnIndex!.offset, chunk.columnIndex!.offset + chunk.columnIndex!.length), footer, f.name);
        expect(stats?.length).toBe(pages.length);
        // random rows, their pages, a file of those pages
        const rows = Int32Array.from([...new Set(Array.from({ length: 7 }, () => Math.floor(rnd() * footer.rowGroups[g].numRows)))].sort((a, b) => a - b));
        const selected = pagesOfRows(pages, rows);
        const dict = chunk.dictionaryPageOffset !== null && chunk.dictionaryPageOffset < pages[0].offset ? bytes.subarray(chunk.dictionaryPageOffset, pages[0].offset) : null;
        const file = columnFileOfPages({
          footer,
          rowGroup: g,
          column: f.name,
          pages,
          selected,
          dictionary: dict,
          pageBytes: selected.map((i) => bytes.subarray(pages[i].offset, pages[i].offset + pages[i].compressedSize)),
        });
        const part = castTableToSchema(await decodeParquet(file), new Schema([f]));
        const pos = positionsInPages(pages, selected, rows, footer.rowGroups[g].numRows);
        const got = Array.from(pos, (p) => part.getChild(f.name)!.get(p));
        const want = Array.from(rows, (r) => full.getChild(f.name)!.get(base + r));
        expect(got, `${f.name} row group ${g}`).toEqual(want);
        // page statistics bound the page's values
        if (f.name === 'id') {
          for (const i of selected) {
            const first = full.getChild('id')!.get(base + pages[i].firstRow) as bigint;
            expect(stats![i].min).toBe(first);
          }
        }
      }
    }
  });
});

describe('pages of row ranges', () => {
  it('pagesOfRanges equals pagesOfRows of every row of the ranges; rowsOfPages counts their rows', () => {
    const rnd = prng(21);
    for (let trial = 0; trial < 300; trial++) {
      const numRows = 1 + Math.floor(rnd() * 500);
      const starts = [0, ...new Set(Array.from({ length: Math.floor(rnd() * 12) }, () => 1 + Math.floor(rnd() * (numRows - 1))).filter((x) => x < numRows))].sort((a, b) => a - b);
      const pages = starts.map((firstRow) => ({ offset: 0, compressedSize: 0, firstRow }));
      const ranges: [number, number][] = [];
      for (let r = 0; r < numRows; ) {
        const len = 1 + Math.floor(rnd() * 40);
        if (rnd() < 0.5) ranges.push([r, Math.min(numRows, r + len)]);
        r += len + Math.floor(rnd() * 30);
      }
      const rows = ranges.flatMap(([a, b]) => Array.from({ length: b - a }, (_, k) => a + k));
      const sel = pagesOfRanges(pages, ranges, numRows);
      expect(sel).toEqual(pagesOfRows(pages, rows));
      const held = sel.reduce((n, i) => n + (i + 1 < pages.length ? pages[i + 1].firstRow : numRows) - pages[i].firstRow, 0);
      expect(rowsOfPages(pages, sel, numRows)).toBe(held);
      expect(held).toBeGreaterThanOrEqual(rows.length);
    }
  });
});
