import { describe, expect, it } from 'vitest';
import { DateDay, DateMillisecond, DurationMillisecond, Field, Float64, Int16, Int32, Int64, LargeUtf8, Schema, Table, TimeMicrosecond, TimeMillisecond, TimeSecond, TimeUnit, Timestamp, Uint32, Utf8, vectorFromArray, FixedSizeList, Float32, List } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { castTableToSchema, decodeParquet, encodeParquet, parquetWasm, readParquetFooter } from './index.js';
import { plainRows, sampleAllTypesTable } from '../arrow/sample-tables.js';
import { projectBatch } from '../arrow/index.js';

const sample = sampleAllTypesTable(2000, 5);

describe('encodeParquet / decodeParquet round trips', () => {
  const bytes = { zstd: encodeParquet(sample), snappy: encodeParquet(sample, { compression: 'snappy' }), none: encodeParquet(sample, { compression: 'none' }) };

  it.each(sample.schema.fields.map((f) => [f.name, String(f.type)]))('column %s (%s) round-trips with its exact type', async (name) => {
    for (const [codec, b] of Object.entries(bytes)) {
      const t = await decodeParquet(b, { columns: [name] });
      expect(t.schema.fields.map((f) => f.name), codec).toEqual([name]);
      const want = sample.schema.fields.find((f) => f.name === name)!;
      // Parquet has no seconds unit: timestamp[s] is stored as timestamp[ms] and cast back
      expect(String(t.schema.fields[0].type)).toBe(name === 'ts_s' ? 'Timestamp<MILLISECOND>' : String(want.type));
      const back = castTableToSchema(t, new Schema([want]));
      expect(plainRows(back)).toEqual(plainRows(new Table(projectBatch(sample.batches[0], [name]))));
    }
  });

  it('whole table, codecs, and sizes', async () => {
    expect(bytes.zstd.length).toBeLessThan(bytes.none.length);
    const t = castTableToSchema(await decodeParquet(bytes.snappy), sample.schema);
    expect(plainRows(t)).toEqual(plainRows(sample));
  });

  it('projection keeps the requested order; row groups select rows', async () => {
    const b = encodeParquet(sample, { rowGroupSize: 500 });
    const footer = await readParquetFooter(b, b.length);
    expect(footer.rowGroups.map((g) => g.numRows)).toEqual([500, 500, 500, 500]);
    const t = await decodeParquet(b, { columns: ['s', 'id'], rowGroups: [1, 3] });
    expect(t.schema.fields.map((f) => f.name)).toEqual(['s', 'id']);
    expect(t.numRows).toBe(1000);
    expect(t.getChild('id')!.get(0)).toBe(500n);
    expect(t.getChild('id')!.get(500)).toBe(1500n);
    const reversed = sample.schema.fields.map((f) => f.name).reverse();
    const all = await decodeParquet(b, { columns: reversed });
    expect(all.schema.fields.map((f) => f.name)).toEqual(reversed);
    expect(all.numRows).toBe(2000);
    expect(all.getChild('id')!.get(1999)).toBe(1999n);
    const none = await decodeParquet(b, { columns: [], rowGroups: [0] });
    expect(none.numRows).toBe(500);
    await expect(decodeParquet(b, { columns: ['nope'], file: 'x.parquet' })).rejects.toThrow(/column 'nope' is not in file 'x.parquet'/);
    await expect(decodeParquet(b, { rowGroups: [4] })).rejects.toThrow(/row group 4/);
  });

  it('empty tables', async () => {
    const empty = new Table(sample.schema, []);
    const b = encodeParquet(empty);
    const t = castTableToSchema(await decodeParquet(b), sample.schema);
    expect(t.numRows).toBe(0);
    expect(t.schema.fields.length).toBe(sample.schema.fields.length);
    expect((await readParquetFooter(b, b.length)).numRows).toBe(0);
    const projected = await decodeParquet(b, { columns: ['s', 'id'] });
    expect(projected.numRows).toBe(0);
    expect(projected.schema.fields.map((f) => f.name)).toEqual(['s', 'id']);
  });
});

describe('encodeParquet column encodings', () => {
  /** Per column: the encodings of its chunk in row group 0 (parquet-wasm's metadata reader). */
  async function encodingsOf(bytes: Uint8Array): Promise<Record<string, string[]>> {
    const pw = parquetWasm();
    const pf = await pw.ParquetFile.fromFile(new Blob([bytes as Uint8Array<ArrayBuffer>]));
    try {
      const rg = pf.metadata().rowGroup(0);
      const out: Record<string, string[]> = {};
      for (let c = 0; c < rg.numColumns(); c++) {
        const col = rg.column(c);
        out[col.columnPath().join('.')] = col.encodings().map((e) => pw.Encoding[e]);
      }
      return out;
    } finally {
      pf.free();
    }
  }
  const n = 20_000;
  const t = new Table({
    id: vectorFromArray(Array.from({ length: n }, (_, i) => BigInt(i * 3)), new Int64()),
    name: vectorFromArray(Array.from({ length: n }, (_, i) => `name-${i * 3}`), new Utf8()),
    city: vectorFromArray(Array.from({ length: n }, (_, i) => `city-${i % 20}`), new Utf8()),
    small: vectorFromArray(Array.from({ length: n }, (_, i) => i % 7), new Int32()),
    score: vectorFromArray(Array.from({ length: n }, (_, i) => i * 0.5), new Float64()),
    noise: vectorFromArray(Array.from({ length: n }, () => Math.random()), new Float64()),
  });

  it('dictionary only where values repeat; delta encodings for unique integers and strings; smaller than all-dictionary', async () => {
    const auto = encodeParquet(t);
    const always = encodeParquet(t, { dictionary: 'always' });
    const enc = await encodingsOf(auto);
    expect(enc.id).toContain('DELTA_BINARY_PACKED');
    expect(enc.id).not.toContain('RLE_DICTIONARY');
    expect(enc.name).toContain('DELTA_BYTE_ARRAY');
    expect(enc.name).not.toContain('RLE_DICTIONARY');
    expect(enc.city).toContain('RLE_DICTIONARY');
    expect(enc.small).toContain('RLE_DICTIONARY');
    expect((await encodingsOf(always)).id).toContain('RLE_DICTIONARY');
    expect(auto.length).toBeLessThan(always.length * 0.8);
    // same values back, and the statistics are still there
    expect(plainRows(castTableToSchema(await decodeParquet(auto), t.schema))).toEqual(plainRows(t));
    const footer = await readParquetFooter(auto, auto.length);
    const stats = footer.rowGroups[0].columns;
    expect(stats.id).toMatchObject({ min: 0n, max: BigInt((n - 1) * 3), nullCount: 0 });
    expect(stats.name.min).toBe('name-0');
  });

  it('compresses only the columns that gain from it: not bit-packed deltas, not high-entropy floats', async () => {
    const pw = parquetWasm();
    const codecs = async (bytes: Uint8Array): Promise<Record<string, string>> => {
      const pf = await pw.ParquetFile.fromFile(new Blob([bytes as Uint8Array<ArrayBuffer>]));
      try {
        const rg = pf.metadata().rowGroup(0);
        const out: Record<string, string> = {};
        for (let c = 0; c < rg.numColumns(); c++) out[rg.column(c).columnPath().join('.')] = pw.Compression[rg.column(c).compression()];
        return out;
      } finally {
        pf.free();
      }
    };
    const auto = encodeParquet(t);
    expect(await codecs(auto)).toEqual({ id: 'UNCOMPRESSED', name: 'ZSTD', city: 'ZSTD', small: 'ZSTD', score: 'ZSTD', noise: 'UNCOMPRESSED' });
    // the file's codec still applies to the others; explicit dictionaries keep it everywhere
    expect(Object.values(await codecs(encodeParquet(t, { compression: 'snappy' })))).toContain('SNAPPY');
    expect(new Set(Object.values(await codecs(encodeParquet(t, { dictionary: 'always' }))))).toEqual(new Set(['ZSTD']));
    expect(plainRows(castTableToSchema(await decodeParquet(auto), t.schema))).toEqual(plainRows(t));
  });
});

describe('readParquetFooter', () => {
  it('returns row groups with decoded min/max/nullCount for ints, floats, strings, bools, dates, timestamps', async () => {
    const b = encodeParquet(sample, { rowGroupSize: 1000 });
    const reads: { offset: number; length?: number }[] = [];
    const footer = await readParquetFooter(async (r) => {
      const range = r as { offset: number; length: number };
      reads.push(range);
      return b.subarray(range.offset, range.offset + range.length);
    }, b.length, { file: 'f.parquet' });
    expect(reads.length).toBeLessThanOrEqual(2);
    expect(footer.numRows).toBe(2000);
    expect(footer.columns).toEqual(sample.schema.fields.map((f) => f.name));
    expect(footer.rowGroups).toHaveLength(2);
    const part = sample.slice(1000, 2000);
    const rg = footer.rowGroups[1];
    const vals = (name: string) => [...part.getChild(name)!].filter((v) => v !== null);
    const minmax = (xs: any[]) => [xs.reduce((a, b) => (b < a ? b : a)), xs.reduce((a, b) => (b > a ? b : a))];
    for (const name of ['id', 'i8', 'i16', 'i32', 'i64', 'u8', 'u32', 'u64', 'f32', 'f64']) {
      const [min, max] = minmax(vals(name));
      expect(rg.columns[name].min, name).toBe(min);
      expect(rg.columns[name].max, name).toBe(max);
      expect(rg.columns[name].nullCount, name).toBe(1000 - vals(name).length);
    }
    const enc = new TextEncoder();
    const strs = vals('s') as string[];
    strs.sort((a, b) => Buffer.compare(enc.encode(a), enc.encode(b)));
    expect(rg.columns.s.min).toBe(strs[0]);
    expect(rg.columns.s.max).toBe(strs[strs.length - 1]);
    expect(rg.columns.b.min).toBe(false);
    expect(rg.columns.b.max).toBe(true);
    const days = vals('d') as number[]; // ms since epoch from arrow-js
    expect((rg.columns.d.min as Date).getTime()).toBe(Math.min(...days));
    const us = [...part.getChild('ts_us')!.data].flatMap((d) => Array.from(d.values as BigInt64Array).filter((_, i) => d.getValid(i)));
    const minUs = us.reduce((a, b) => (b < a ? b : a));
    const maxUs = us.reduce((a, b) => (b > a ? b : a));
    expect((rg.columns.ts_us.min as Date).getTime()).toBe(Number(minUs / 1000n));
    expect((rg.columns.ts_us.max as Date).getTime()).toBe(Number((maxUs + 999n) / 1000n));
    expect(rg.columns.dec.min).toBe(null);
    expect(rg.columns.id.compressedSize).toBeGreaterThan(0);
    expect(rg.columns.id.offset).toBeGreaterThanOrEqual(4);
  });

  it('rejects non-Parquet and Vortex files with "unsupported file format" naming the file', async () => {
    const junk = new TextEncoder().encode('VTXF this is not parquet at all VTXF');
    const err = await readParquetFooter(junk, junk.length, { file: 's3://b/t/part-x_0001.vortex' }).catch((e) => e);
    expect(err).toBeInstanceOf(LakeSoulError);
    expect(err.kind).toBe('Unsupported');
    expect(err.message).toMatch(/unsupported file format.*part-x_0001\.vortex/);
    // what fixes it for the writer (the wheel has no `file_format` setting: the format is per write)
    expect(err.message).toContain('with LakeSoul\'s Python wheel `write_arrow(..., format="parquet")`');
    expect(err.message).not.toMatch(/file_format=parquet/);
    const err2 = await decodeParquet(junk, { file: 'a.parquet' }).catch((e) => e);
    expect(err2.kind).toBe('Unsupported');
    expect(err2.message).toMatch(/unsupported file format: 'a.parquet'/);
    const b = encodeParquet(sample);
    const corrupt = b.slice();
    corrupt.fill(7, b.length - 200, b.length - 8);
    const err3 = await readParquetFooter(corrupt, corrupt.length, { file: 'c.parquet' }).catch((e) => e);
    expect(err3).toBeInstanceOf(LakeSoulError);
    expect(err3.message).toMatch(/c\.parquet/);
    const body = b.slice();
    body.fill(0, 4, 2000);
    const err4 = await decodeParquet(body, { file: 'd.parquet' }).catch((e) => e);
    expect(err4).toBeInstanceOf(LakeSoulError);
    expect(err4.message).toMatch(/d\.parquet/);
  });
});

describe('castTableToSchema', () => {
  it('converts types changed by other writers and names column + file when impossible', async () => {
    const t = new Table({
      a: vectorFromArray([1, 2, null], new Int32()),
      s: vectorFromArray(['x', 'y', 'z'], new Utf8()),
      ts: vectorFromArray([1000, 2000, 3000], new Timestamp(TimeUnit.MILLISECOND, null)),
      l: vectorFromArray([[1, 2], [3, 4], null], new List(new Field('element', new Float32(), true))),
    });
    const back = await decodeParquet(encodeParquet(t));
    const target = new Schema([
      new Field('l', new FixedSizeList(2, new Field('item', new Float32(), true)), true),
      new Field('a', new Int64(), true),
      new Field('ts', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), true),
      new Field('s', new LargeUtf8(), true),
    ]);
    const c = castTableToSchema(back, target, { file: 'f.parquet' });
    expect(c.schema.fields.map((f) => String(f.type))).toEqual(target.fields.map((f) => String(f.type)));
    expect(c.getChild('a')!.get(1)).toBe(2n);
    expect(c.getChild('ts')!.data[0].values[2]).toBe(3000000n);
    expect(c.getChild('s')!.get(2)).toBe('z');
    expect(Array.from(c.getChild('l')!.get(1)!)).toEqual([3, 4]);
    expect(() => castTableToSchema(back, new Schema([new Field('a', new Int16(), true), new Field('s', new Float64(), true)]), { file: 'f.parquet' })).toThrow(
      /column 's' of file 'f.parquet': cannot convert Utf8 to Float64/,
    );
    expect(() => castTableToSchema(back, new Schema([new Field('zz', new Int16(), true)]), { file: 'f.parquet' })).toThrow(/'zz' is missing from file 'f.parquet'/);
    expect(castTableToSchema(back, new Schema([new Field('zz', new Int16(), true)]), { missing: 'null' }).getChild('zz')!.nullCount).toBe(3);
  });

  it('bare INT64/INT32 columns take the schema\'s date64, time32 or duration type (a file whose ARROW:schema lacks them)', async () => {
    // what a selective read's page file and LakeSoul's Python wheel (its ARROW:schema says int64 /
    // int32 for date64 / time32[s]) decode to
    const day = 86_400_000;
    const bare = new Table({
      d64: vectorFromArray([BigInt(19723 * day), null, BigInt(day)], new Int64()),
      t32s: vectorFromArray([1, null, 86399], new Int32()),
      dur: vectorFromArray([5n, null, -7n], new Int64()),
      d32: vectorFromArray([19723, 1, null], new Int32()),
      t64: vectorFromArray([1n, 86_399_999_999n, null], new Int64()),
    });
    const target = new Schema([
      new Field('d64', new DateMillisecond(), true), new Field('t32s', new TimeSecond(), true), new Field('dur', new DurationMillisecond(), true),
      new Field('d32', new DateDay(), true), new Field('t64', new TimeMicrosecond(), true),
    ]);
    const c = castTableToSchema(await decodeParquet(encodeParquet(bare)), target, { file: 'f.parquet' });
    expect(c.schema.fields.map((f) => String(f.type))).toEqual(target.fields.map((f) => String(f.type)));
    const raw = (name: string) => Array.from({ length: 3 }, (_, i) => (c.getChild(name)!.isValid(i) ? c.getChild(name)!.data[0].values[i] : null));
    expect(raw('d64')).toEqual([BigInt(19723 * day), null, BigInt(day)]);
    expect(raw('t32s')).toEqual([1, null, 86399]);
    expect(raw('dur')).toEqual([5n, null, -7n]);
    expect(raw('d32')).toEqual([19723, 1, null]);
    expect(raw('t64')).toEqual([1n, 86_399_999_999n, null]);
    // only the same-width signed integer: anything else is still refused
    const other = new Table({ a: vectorFromArray([1, 2], new Int32()), b: vectorFromArray([1, 2], new Uint32()), s: vectorFromArray(['x', 'y'], new Utf8()) });
    const back = await decodeParquet(encodeParquet(other));
    expect(() => castTableToSchema(back, new Schema([new Field('a', new DateMillisecond(), true)]), { file: 'f.parquet' })).toThrow(/column 'a' of file 'f.parquet': cannot convert Int32 to Date64/);
    expect(() => castTableToSchema(back, new Schema([new Field('b', new TimeSecond(), true)]), { file: 'f.parquet' })).toThrow(/cannot convert Uint32 to Time32/);
    expect(() => castTableToSchema(back, new Schema([new Field('s', new DurationMillisecond(), true)]), { file: 'f.parquet' })).toThrow(/cannot convert Utf8 to Duration/);
  });

  it('time units convert exactly (pyarrow without ARROW:schema stores time32[s] as TIME_MILLIS)', async () => {
    const back = await decodeParquet(encodeParquet(new Table({ t: vectorFromArray([1000, null, 86_399_000], new TimeMillisecond()) })));
    const c = castTableToSchema(back, new Schema([new Field('t', new TimeSecond(), true)]));
    expect(String(c.schema.fields[0].type)).toBe('Time32<SECOND>');
    expect([0, 1, 2].map((i) => (c.getChild('t')!.isValid(i) ? c.getChild('t')!.data[0].values[i] : null))).toEqual([1, null, 86399]);
    const wide = castTableToSchema(back, new Schema([new Field('t', new TimeMicrosecond(), true)]));
    expect(wide.getChild('t')!.data[0].values[2]).toBe(86_399_000_000n);
    const u = await decodeParquet(encodeParquet(new Table({ u: vectorFromArray([1500], new TimeMillisecond()) })));
    expect(() => castTableToSchema(u, new Schema([new Field('u', new TimeSecond(), true)]), { file: 'f.parquet' })).toThrow(
      /column 'u' of file 'f.parquet': value 1500 of Time32<MILLISECOND> is not exactly representable as Time32<SECOND> \(row 0\)/,
    );
  });
});
