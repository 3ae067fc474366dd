/**
 * A DoGet's reservation (doget-memory.ts): the decoded size of row groups estimated from Parquet
 * footers (io's `decodedRowGroupSizes`) against what decoding them really gives, what a split's read
 * holds at once, and the fallback when a footer cannot be read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Binary, Bool, Field, Float64, Int32, Int64, List, Schema, Table, Utf8, makeVector, vectorFromArray, type Data } from 'apache-arrow';
import { StoreRegistry, decodeParquet, decodedRowGroupSizes, encodeParquet, readParquetFooter, type DecodedRowGroupSize, type ScanPlanJSON, type Split } from '@lakesoul-ts/io';
import { DOGET_BYTES_PER_FILE_BYTE, decodedColumns, doGetReservation, splitDataBytes } from './doget-memory.js';

const MiB = 1024 * 1024;

/** Bytes of the Arrow buffers of `data` and its children. */
function arrowBytes(data: Data): number {
  let n = 0;
  for (const b of [data.values, data.valueOffsets, data.nullBitmap] as (ArrayBufferView | undefined)[]) n += b?.byteLength ?? 0;
  for (const c of data.children) n += arrowBytes(c);
  return n;
}

/** Arrow bytes of each row group of `file` decoded. */
async function decodedSizes(file: Uint8Array, groups: number): Promise<number[]> {
  const out: number[] = [];
  for (let g = 0; g < groups; g++) out.push((await decodeParquet(file, { rowGroups: [g] })).batches.reduce((n, b) => n + arrowBytes(b.data), 0));
  return out;
}

const N = 40_000;
const labels = Array.from({ length: 50 }, (_, i) => `value-${i}-${'y'.repeat(60 + i)}`);
const wide = new Table({
  id: makeVector(BigInt64Array.from({ length: N }, (_, i) => BigInt(i))),
  n: vectorFromArray(Array.from({ length: N }, (_, i) => (i % 5 === 0 ? null : i)), new Int32()),
  x: vectorFromArray(Array.from({ length: N }, (_, i) => i / 7), new Float64()),
  flag: vectorFromArray(Array.from({ length: N }, (_, i) => i % 3 === 0), new Bool()),
  // few distinct values: dictionary-encoded, a small fraction of their Arrow size in the file
  label: vectorFromArray(Array.from({ length: N }, (_, i) => labels[i % labels.length]), new Utf8()),
  // distinct values, some null
  text: vectorFromArray(Array.from({ length: N }, (_, i) => (i % 11 === 0 ? null : `row ${i} ${'z'.repeat(i % 40)}`)), new Utf8()),
  bin: vectorFromArray(Array.from({ length: N }, (_, i) => new Uint8Array(i % 17).fill(i % 251)), new Binary()),
  list: vectorFromArray(Array.from({ length: N }, (_, i) => Array.from({ length: i % 4 }, (_, k) => i + k)), new List(new Field('item', new Int32(), true))),
});

let dir: string;
let fileBytes: Uint8Array;
let filePath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'doget-memory-'));
  fileBytes = encodeParquet(wide, { rowGroupSize: 16_000 });
  filePath = join(dir, 'part-0.parquet');
  writeFileSync(filePath, fileBytes);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function planOf(split: Split, over: Partial<ScanPlanJSON> = {}): ScanPlanJSON {
  return {
    tableSchemaJson: '{}', primaryKeys: [], rangePartitions: [], cdcColumn: null, columns: wide.schema.fields.map((f) => f.name), filter: null,
    mergeOperators: {}, mode: 'snapshot', skipMergeOnRead: false, blobs: null, partitionVersions: {}, splits: [split], ...over,
  };
}

function splitOf(files: { path: string; size: number }[]): Split {
  return {
    id: 's', tableId: 't', tableName: 'wide', namespace: 'default', tablePath: pathToFileURL(dir).href, partitionDesc: '-5', partitionValues: {}, bucket: null, rowCount: null,
    files: files.map((f) => ({ path: f.path, size: String(f.size), existCols: wide.schema.fields.map((x) => x.name) })),
  };
}

describe('DoGet reservation', () => {
  it('estimates each row group\'s decoded Arrow size from the footer: at least it, within 10%, whatever the column types', async () => {
    const footer = await readParquetFooter(fileBytes, fileBytes.length);
    expect(footer.rowGroups.length).toBe(3);
    const estimated = decodedRowGroupSizes(footer);
    const actual = await decodedSizes(fileBytes, footer.rowGroups.length);
    for (let g = 0; g < actual.length; g++) {
      expect(estimated[g].rows).toBe(footer.rowGroups[g].numRows);
      expect(estimated[g].decodedBytes).toBeGreaterThanOrEqual(actual[g]);
      expect(estimated[g].decodedBytes).toBeLessThan(actual[g] * 1.1);
      expect(estimated[g].compressedBytes).toBe(footer.rowGroups[g].compressedSize);
    }
    // the file is far smaller than its data decoded: what 3 x the file's bytes missed
    expect(actual.reduce((a, b) => a + b, 0)).toBeGreaterThan(2 * fileBytes.length);
    // a projection counts its columns only
    const ids = decodedRowGroupSizes(footer, ['id']);
    expect(ids[0].decodedBytes).toBeGreaterThanOrEqual(8 * footer.rowGroups[0].numRows);
    expect(ids[0].decodedBytes).toBeLessThan(estimated[0].decodedBytes / 5);
  });

  it('holds two consecutive row groups of a file, all files of a merge, one file after another otherwise', () => {
    const g = (decodedBytes: number, rows = 1000, compressedBytes = 0): DecodedRowGroupSize => ({ rows, decodedBytes, compressedBytes });
    const plan = planOf(splitOf([]));
    // rows under the decoder's batch: the batch being built is a whole row group more (the first's,
    // then the next one's while the current one is consumed)
    expect(splitDataBytes(plan, [[g(10)]])).toBe(10 + 10);
    expect(splitDataBytes(plan, [[g(10), g(30), g(5)]])).toBe(Math.max(10 + 30 + 30, 30 + 5 + 5) + 10);
    // rows over it: a quarter of a row group of 4 x 64 Ki rows
    expect(splitDataBytes(plan, [[g(40, 4 * 65536)]])).toBe(40 + 10);
    expect(splitDataBytes(plan, [[g(10, 1000, 3), g(30, 1000, 4)]])).toBe(10 + 3 + 30 + 4 + 30 + 10);
    // one file after another: the largest, plus the next file's first row group starting
    expect(splitDataBytes(plan, [[g(10)], [g(20)]])).toBe(20 + 20 + 20);
    // a merge: every file at once, plus two output batches (batchSize rows at the widest file's bytes per row)
    const pk = planOf(splitOf([]), { primaryKeys: ['id'] });
    expect(splitDataBytes(pk, [[g(10)], [g(20)]], 100)).toBe(20 + 40 + 2 * 100 * (20 / 1000));
    expect(splitDataBytes(planOf(splitOf([]), { primaryKeys: ['id'], skipMergeOnRead: true }), [[g(10)], [g(20)]])).toBe(60);
  });

  it('decodes the output, key, CDC, filter and blob columns, not range partitions', () => {
    const plan = planOf(splitOf([]), {
      columns: ['a', 'date'], primaryKeys: ['k'], cdcColumn: 'op', rangePartitions: ['date'],
      filter: { op: 'and', args: [{ op: '>', column: 'f', value: 1 }, { op: 'compare', left: 'a', cmp: '<', right: 'g' }] },
      blobs: { columns: ['ref'] },
    });
    expect(decodedColumns(plan).sort()).toEqual(['a', 'f', 'g', 'k', 'op', 'ref']);
  });

  it('reserves the split data plus the message buffers from the footers, at least 3 x the files, and that when a footer cannot be read', async () => {
    const stores = new StoreRegistry();
    const bounds = { maxBufferedBytes: 8 * MiB, maxMessageBytes: 4 * MiB, aheadBytes: 8 * MiB };
    const split = splitOf([{ path: pathToFileURL(filePath).href, size: fileBytes.length }]);
    const r = await doGetReservation(planOf(split), undefined, stores, bounds, new AbortController().signal);
    expect(r.fromFooters).toBe(true);
    const footer = await readParquetFooter(fileBytes, fileBytes.length);
    const estimated = splitDataBytes(planOf(split), [decodedRowGroupSizes(footer, decodedColumns(planOf(split)))]);
    // this file's data decodes to more than 3 x its bytes: the footers' estimate is what counts
    expect(estimated).toBeGreaterThan(DOGET_BYTES_PER_FILE_BYTE * fileBytes.length);
    expect(r.dataBytes).toBe(Math.ceil(estimated));
    expect(r.bytes).toBe(r.dataBytes + 20 * MiB);
    // never less than 3 x the files' bytes (the estimate up to 2026-12-05)
    const projected = await doGetReservation({ ...planOf(split), columns: ['flag'] }, undefined, stores, bounds, new AbortController().signal);
    expect(projected.dataBytes).toBe(DOGET_BYTES_PER_FILE_BYTE * fileBytes.length);
    // a file that is not there: the read will say so; the reservation is the old estimate
    const gone = splitOf([{ path: pathToFileURL(join(dir, 'gone.parquet')).href, size: 1000 }]);
    const fallback = await doGetReservation(planOf(gone), undefined, stores, bounds, new AbortController().signal);
    expect(fallback).toEqual({ fromFooters: false, dataBytes: DOGET_BYTES_PER_FILE_BYTE * 1000, bytes: DOGET_BYTES_PER_FILE_BYTE * 1000 + 20 * MiB });
    // LIMIT over splits: the two largest count
    const limited = await doGetReservation({ ...planOf(split), splits: [split, gone, split] }, 10, stores, bounds, new AbortController().signal);
    expect(limited.dataBytes).toBe(2 * r.dataBytes);
    // a cancelled DoGet does not reserve
    const aborted = new AbortController();
    aborted.abort(new Error('client went away'));
    await expect(doGetReservation(planOf(gone), undefined, stores, bounds, aborted.signal)).rejects.toThrow(/went away/);
  });
});
