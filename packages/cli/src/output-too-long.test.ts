/**
 * A value too large to print as text (a 403 MiB binary is 537 million characters of base64, over
 * V8's ~512 MiB string limit) failed `scan`/`export` with Node's bare "Cannot create a string longer
 * than 0x1fffffe8 characters", naming nothing. The printer names the row and the column now, and
 * says what to do instead.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Binary, Int64, RecordBatch, Table, makeData, makeVector, type Data } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/io';
import { BatchPrinter } from './output-format.js';

function binaryData(values: Uint8Array[]): Data<Binary> {
  const offsets = new Int32Array(values.length + 1);
  values.forEach((v, i) => (offsets[i + 1] = offsets[i] + v.length));
  const bytes = new Uint8Array(offsets[values.length]);
  values.forEach((v, i) => bytes.set(v, offsets[i]));
  return makeData({ type: new Binary(), length: values.length, valueOffsets: offsets, data: bytes });
}

describe('printing a value too large for a string', () => {
  it('names the row of the output and the column, in json, jsonl and csv', async () => {
    const huge = new Uint8Array(403 * 1024 * 1024).fill(65);
    const small = (n: number) => new Table({ id: makeVector(BigInt64Array.from({ length: n }, (_, i) => BigInt(i))), photo: makeVector(binaryData(Array.from({ length: n }, () => new Uint8Array(3)))) }).batches[0];
    const large = new Table({ id: makeVector(BigInt64Array.from([7n, 8n])), photo: makeVector(binaryData([new Uint8Array(2), huge])) }).batches[0] as RecordBatch;
    for (const format of ['json', 'jsonl', 'csv'] as const) {
      const sink = new Writable({ write(_chunk, _enc, done) { done(); } });
      const printer = new BatchPrinter(sink, format);
      await printer.write(small(3));
      const e = await printer.write(large).then(() => null, (x: unknown) => x);
      expect(e, format).toBeInstanceOf(LakeSoulError);
      expect((e as LakeSoulError).code).toBe('LIMIT_EXCEEDED');
      expect((e as LakeSoulError).message).toBe(
        `row 5 of the output is too large to print as ${format} text (its column 'photo' holds ${huge.length} bytes, and a JavaScript string holds at most ~512 MiB): ` +
        'leave the large column out (--columns), or export the rows as Parquet (export --format parquet), which keeps values as bytes',
      );
    }
  }, 120_000);
});
