/**
 * What a DoGet streams, as a function of its ticket's plan: the split (or, for a LIMIT ticket, the
 * first rows of its splits) read and serialized to FlightData. Runs on the server's thread or on a
 * DoGet worker (`doget-worker.ts`) alike, so both give the same bytes.
 */
import type { RecordBatch } from 'apache-arrow';
import { scanPlanFromJSON, type ScanPlanJSON, type SplitReadOptions, type StoreRegistry } from '@lakesoul-ts/io';
import { recordBatchesToFlightFrames } from './ipc-framing.js';
import type { FrameAllocator } from './frame-buffers.js';
import { withResetPartitions } from './reset-partitions.js';

/** One DoGet's read: plain data, so it can be posted to a worker thread. */
export interface DoGetRead {
  /** The ticket's plan: one split, or several with `limit`. */
  plan: ScanPlanJSON;
  /** LIMIT of the ticket: the plan's splits are read in order until this many rows are out. */
  limit?: number;
  /** Rows per batch read from storage (default: the reader's). */
  batchSize?: number;
  /** Read-ahead bound of the split reader in bytes (default: the reader's). */
  prefetchBytes?: number;
  /** Bound of one FlightData message in bytes. */
  maxMessageBytes: number;
  /** Bound of a message holding one row over maxMessageBytes (see `EncodeOptions.maxRowMessageBytes`). */
  maxRowMessageBytes?: number;
  /** What to raise when a single row is over that bound (see `EncodeOptions.rowBoundHint`). */
  rowBoundHint?: string;
}

/**
 * The serialized FlightData messages of `read` (schema first), reading through `stores`; messages are
 * written into memory from `buffers` when given. The schema of an incremental read carries its reset
 * partitions (`reset-partitions.ts`), as the FlightInfo's does.
 */
export function doGetFrames(read: DoGetRead, stores: StoreRegistry, signal: AbortSignal, buffers?: FrameAllocator): AsyncGenerator<Buffer> {
  const plan = scanPlanFromJSON(read.plan, stores);
  // One row group at a time per file (streamDecodeMinBytes 0): what the server's reservation assumes.
  const options: SplitReadOptions = { signal, batchSize: read.batchSize, prefetchBytes: read.prefetchBytes, streamDecodeMinBytes: 0 };
  const batches = read.limit === undefined ? plan.readSplit(plan.splits[0]!, options) : firstRows(plan.read(options), read.limit);
  return recordBatchesToFlightFrames(withResetPartitions(plan.schema, read.plan.resetPartitions), batches, { maxMessageBytes: read.maxMessageBytes, maxRowMessageBytes: read.maxRowMessageBytes, rowBoundHint: read.rowBoundHint, signal, buffers });
}

/** The first `limit` rows of `batches`; stops reading (and releases the source) once they are out. */
async function* firstRows(batches: AsyncIterable<RecordBatch>, limit: number): AsyncGenerator<RecordBatch> {
  let left = limit;
  if (left <= 0) return;
  for await (const b of batches) {
    if (b.numRows >= left) {
      yield b.numRows === left ? b : b.slice(0, left);
      return;
    }
    left -= b.numRows;
    yield b;
  }
}
