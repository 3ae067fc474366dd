/**
 * Streaming Parquet export: batches are encoded as they arrive (parquet-wasm's streaming writer, one
 * row group per {@link EXPORT_ROW_GROUP_ROWS} rows) and written to the file, so memory holds about a
 * row group, not the table.
 */
import { Writable } from 'node:stream';
import { Table, tableToIPC, type RecordBatch, type Schema } from 'apache-arrow';
import { batchWithKnownNullCounts, makeBatch, nullColumn, parquetWasm } from '@lakesoul-ts/io';
import { LakeSoulError } from '@lakesoul-ts/meta';

/** Rows per row group of an exported file (the bound on what the writer buffers). */
export const EXPORT_ROW_GROUP_ROWS = 128 * 1024;

/**
 * Writes `batches` (all of `schema`) as a zstd-compressed Parquet file to `sink` (left open: the caller
 * ends it), `name` naming it in errors; an empty input gives a file with the schema and no rows.
 * Returns the bytes written.
 */
export async function writeParquetStream(batches: AsyncIterable<RecordBatch>, schema: Schema, sink: NodeJS.WritableStream, name: string): Promise<number> {
  const pw = parquetWasm();
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.ZSTD)
    .setStatisticsEnabled(pw.EnabledStatistics.Chunk)
    .setMaxRowGroupSize(EXPORT_ROW_GROUP_ROWS)
    .setCreatedBy('lakesoul-ts export (parquet-wasm 0.8.0)')
    .build();
  const iterator = batches[Symbol.asyncIterator]();
  let sawRows = false;
  let done = false;
  // What the read failed with: parquet-wasm's stream ends the file as if the input had ended when its
  // source errors, so a read failing halfway (a missing data file, Ctrl-C) wrote a valid file of the
  // rows read so far, and the export said it had them all
  let readError: { error: unknown } | null = null;
  const toWasm = (t: Table) => pw.Table.fromIPCStream(tableToIPC(new Table(t.schema, t.batches.map(batchWithKnownNullCounts)), 'stream')).recordBatches();
  const source = new ReadableStream({
    async pull(controller) {
      if (done) return;
      let next: IteratorResult<RecordBatch>;
      try {
        next = await iterator.next();
      } catch (e) {
        readError = { error: e };
        done = true;
        controller.error(e);
        return;
      }
      if (next.done) {
        done = true;
        // parquet-wasm needs at least one batch to learn the schema; nullColumn builds the child data
        // a list or struct column needs even with no rows (a bare makeData has none: 'Dyn casting error').
        if (!sawRows) for (const b of toWasm(new Table([makeBatch(schema, schema.fields.map((f) => nullColumn(f, 0).data[0]), 0)]))) controller.enqueue(b);
        controller.close();
        return;
      }
      if (next.value.numRows === 0) return;
      sawRows = true;
      for (const b of toWasm(new Table(schema, [next.value]))) controller.enqueue(b);
    },
    async cancel() { await iterator.return?.(); },
  }, { highWaterMark: 1 });
  let bytes = 0;
  const counting = new TransformStream<Uint8Array, Uint8Array>({ transform(chunk, c) { bytes += chunk.byteLength; c.enqueue(chunk); } });
  try {
    const encoded = await pw.transformParquetStream(source, props);
    await encoded.pipeThrough(counting).pipeTo(Writable.toWeb(sink as Writable), { preventClose: true });
  } catch (e) {
    const failed = readError as { error: unknown } | null; // (set in pull: TypeScript sees only the null)
    if (failed) throw failed.error;
    if (e instanceof LakeSoulError) throw e;
    throw new LakeSoulError('Internal', `could not write Parquet file ${name}: ${(e as Error)?.message ?? e}`, { context: { file: name }, cause: e });
  }
  const failed = readError as { error: unknown } | null;
  if (failed) throw failed.error;
  return bytes;
}
