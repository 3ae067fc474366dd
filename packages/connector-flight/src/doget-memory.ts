/**
 * What a DoGet reserves from the server's memory budget: an estimate of the most its read holds at
 * once, made before it reads, from the Parquet footers of its split's files (docs/flight.md "Memory").
 *
 * The read (io's split reader with `streamDecodeMinBytes: 0`) fetches and decodes each file one row
 * group at a time, the next row group decoding while the current one is consumed: a file holds at most
 * two consecutive row groups decoded, each as one Arrow buffer that lives until its last batch is
 * serialized, with their compressed column chunks, and the native decoder's batch under construction
 * (64 Ki rows) of the one decoding. A primary-key split merges all its files at once (their holdings
 * add up, plus the merged output batches); other splits read their files one after another. The
 * serialized messages the client has not taken are bounded by `maxBufferedBytes`, one message more
 * is being written, and a stream on a DoGet worker has up to `maxBufferedBytes` more in transit
 * between the threads.
 *
 * The decoded size of a row group comes from io's {@link decodedRowGroupSizes} (values at their Arrow
 * width, strings by the footer's SizeStatistics): the compressed size is no measure of it (strings of
 * 75 characters with a hundred distinct values take 2.6 MB in Parquet and 29 MB decoded). A split
 * counts at least {@link DOGET_BYTES_PER_FILE_BYTE} x its files' bytes, the estimate up to 2026-12-05.
 */
import { DEFAULT_DECODE_BATCH_SIZE, DEFAULT_BATCH_SIZE, filterColumns, readDecodedRowGroupSizes, type DecodedRowGroupSize, type ScanPlanJSON, type Split, type StoreRegistry } from '@lakesoul-ts/io';

/**
 * The least a DoGet reserves per byte of its split's files, and all it reserves for a split whose
 * footers cannot be read (the read then reports why): the estimate of every DoGet up to 2026-12-05.
 * For data that compresses little it is the larger (a file of 1 MiB row groups of random bytes holds
 * about its own size decoded at once), and it kept the server's RSS where `e2e/flight-memory.test.ts`
 * holds it: the decoded estimate alone let a second stream start on a DoGet worker there, whose
 * thread's own garbage took the RSS 20-50 MiB higher.
 */
export const DOGET_BYTES_PER_FILE_BYTE = 3;

/** What a DoGet holds besides its split's data (see {@link doGetReservation}). */
export interface DoGetStreamBounds {
  /** Serialized messages not yet taken by the client (the server's `maxBufferedBytes`). */
  maxBufferedBytes: number;
  /** Bound of one message (the one being written). */
  maxMessageBytes: number;
  /** Bytes a DoGet worker may be ahead of the server's thread (0 when the stream reads on it). */
  aheadBytes: number;
  /** Rows per output batch of a merge (the server's `batchSize`; default io's). */
  batchSize?: number;
}

/** A DoGet's reservation and how it was made. */
export interface DoGetReservation {
  /** Bytes to reserve. */
  bytes: number;
  /** Of those, the split data held at once (decoded row groups, their chunks, merged output). */
  dataBytes: number;
  /** False when a footer could not be read (that split then counted 3 x its files' bytes alone). */
  fromFooters: boolean;
}

/** Top-level columns the read of `plan` decodes: the output, keys, CDC, filter and blob columns. */
export function decodedColumns(plan: ScanPlanJSON): string[] {
  const need = new Set<string>(plan.columns);
  for (const k of plan.primaryKeys) need.add(k);
  if (plan.cdcColumn) need.add(plan.cdcColumn);
  if (plan.filter) for (const c of filterColumns(plan.filter)) need.add(c);
  for (const c of plan.blobs?.columns ?? []) need.add(c);
  for (const c of plan.rangePartitions) need.delete(c);
  return [...need];
}

/** What one file of a split holds at once while it is read, from its row groups' estimates. */
function fileHolding(groups: readonly DecodedRowGroupSize[]): { held: number; first: number; rowBytes: number } {
  let held = 0;
  let rows = 0;
  let decoded = 0;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    const next = groups[i + 1];
    // this row group and the next (decoding meanwhile), with their chunks and the decoder's batch
    const building = next ? next.decodedBytes * Math.min(1, DEFAULT_DECODE_BATCH_SIZE / Math.max(1, next.rows)) : 0;
    held = Math.max(held, g.decodedBytes + g.compressedBytes + (next ? next.decodedBytes + next.compressedBytes : 0) + building);
    rows += g.rows;
    decoded += g.decodedBytes;
  }
  const g0 = groups[0];
  // the first row group's decode has its own batch under construction too
  const firstBuilding = g0 ? g0.decodedBytes * Math.min(1, DEFAULT_DECODE_BATCH_SIZE / Math.max(1, g0.rows)) : 0;
  return { held: held + firstBuilding, first: g0 ? g0.decodedBytes + g0.compressedBytes : 0, rowBytes: rows > 0 ? decoded / rows : 0 };
}

/** The split data a read of `split` holds at once, given its files' row groups (in the split's order). */
export function splitDataBytes(plan: ScanPlanJSON, files: readonly (readonly DecodedRowGroupSize[])[], batchSize = DEFAULT_BATCH_SIZE): number {
  const held = files.map(fileHolding);
  if (held.length === 0) return 0;
  const merges = plan.primaryKeys.length > 0 && !plan.skipMergeOnRead;
  if (merges) {
    // every file at once, and the merged batch being gathered beside the one being serialized
    const rowBytes = Math.max(...held.map((h) => h.rowBytes));
    return held.reduce((n, h) => n + h.held, 0) + 2 * batchSize * rowBytes;
  }
  // one file after another: the largest, and the next file's first row group starting meanwhile
  const next = held.length > 1 ? Math.max(...held.slice(1).map((h) => h.first)) : 0;
  return Math.max(...held.map((h) => h.held)) + next;
}

/** Bytes of a split's files as the catalog lists them. */
function fileBytes(split: Split): number {
  return (split.files ?? []).reduce((n, f) => n + Number(f.size), 0);
}

/** Splits of a LIMIT ticket whose footers are read (the largest by bytes): see {@link doGetReservation}. */
export const LIMIT_SPLITS_ESTIMATED = 4;
/** Footers read at once for one split's files. */
const FOOTER_READS_AT_ONCE = 16;

/** The split data a read of `split` holds at once, from its footers (null when one cannot be read). */
async function estimateSplit(plan: ScanPlanJSON, split: Split, columns: string[], stores: StoreRegistry, batchSize: number | undefined, signal: AbortSignal): Promise<number | null> {
  const files: DecodedRowGroupSize[][] = [];
  try {
    for (let i = 0; i < split.files.length; i += FOOTER_READS_AT_ONCE) {
      files.push(...await Promise.all(split.files.slice(i, i + FOOTER_READS_AT_ONCE).map((f) => readDecodedRowGroupSizes(stores, f, { columns, signal }))));
    }
  } catch {
    signal.throwIfAborted();
    return null;
  }
  return splitDataBytes(plan, files, batchSize);
}

/**
 * The reservation of a DoGet of `plan`: one split, or with `limit` several read in order, prefetching
 * across one boundary (the two largest count; of a LIMIT ticket's splits, the
 * {@link LIMIT_SPLITS_ESTIMATED} largest by bytes are estimated, so that a LIMIT over thousands of
 * splits does not read thousands of footers first). The footers of the files are read through `stores`
 * and kept in the process's metadata cache for the read that follows. A split counts at least
 * {@link DOGET_BYTES_PER_FILE_BYTE} x its files' bytes, and that alone when a footer cannot be read
 * (the read itself then fails with the reason). Aborts with `signal`.
 */
export async function doGetReservation(plan: ScanPlanJSON, limit: number | undefined, stores: StoreRegistry, bounds: DoGetStreamBounds, signal: AbortSignal): Promise<DoGetReservation> {
  const splits = limit === undefined ? plan.splits.slice(0, 1) : [...plan.splits].sort((a, b) => fileBytes(b) - fileBytes(a)).slice(0, LIMIT_SPLITS_ESTIMATED);
  const columns = decodedColumns(plan);
  let fromFooters = true;
  const perSplit: number[] = [];
  for (const split of splits) {
    const estimated = await estimateSplit(plan, split, columns, stores, bounds.batchSize, signal);
    if (estimated === null) fromFooters = false;
    perSplit.push(Math.max(estimated ?? 0, DOGET_BYTES_PER_FILE_BYTE * fileBytes(split)));
  }
  perSplit.sort((a, b) => b - a);
  const dataBytes = Math.ceil((perSplit[0] ?? 0) + (limit === undefined ? 0 : perSplit[1] ?? 0));
  return { bytes: dataBytes + bounds.maxBufferedBytes + bounds.maxMessageBytes + bounds.aheadBytes, dataBytes, fromFooters };
}
