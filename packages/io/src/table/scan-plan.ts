/**
 * Scans (DESIGN "Read path"): a plan of JSON-serializable splits, and the reading of each split:
 * bounded async prefetch of its files -> Parquet decode with projection and row-group pruning ->
 * merge-on-read (PK tables) or concatenation -> CDC delete filter -> range columns re-injected ->
 * non-PK filters (after the merge) -> blobs -> projection -> re-batching.
 *
 * Only planning touches the catalog: {@link scanPlanFromJSON} rebuilds a readable plan from its JSON
 * in any process holding the stores.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Binary, DataType, Field, Int, RecordBatch, Schema, Struct, Table, makeData, vectorFromArray, type Vector } from 'apache-arrow';
import {
  LakeSoulError,
  optionNames,
  refuseUnknownOptions,
  quoteInput,
  abortedError,
  NO_PARTITION_DESC,
  arrowSchemaFromJson,
  throwIfAborted,
  isAbortError,
  decodePartitionDesc,
  type PartitionSnapshot,
  type TableInfo,
} from '@lakesoul-ts/meta';
import type {
  BlobReadOptions,
  FilterExpr,
  MergeOperator,
  ObjectStore,
  ReadOptions,
  RowCountOptions,
  ScanOptions,
  ScanPlan,
  ScanPlanJSON,
  Split,
  SplitFile,
  FilterValue,
} from '../types.js';
import { readRanges, Semaphore, type StoreRegistry } from '../store/index.js';
import { concatBatches, sliceBatch, nullColumn, takeRows, matchWords } from '../arrow/index.js';
import { checkFilter, filterBatch, filterColumns, normalizeFilter, rowGroupMayMatch, isPkOnly } from '../filter/index.js';
import { decodeParquet, decoderReadsPageIndex, readParquetFooter, castTableToSchema, fileMetaKey, sharedParquetMetaCache, unsupportedFormat, type ParquetColumnStats, type ParquetFooter, type ParquetMetaCache } from '../parquet/index.js';
import { mergeSortedSources, concatSources, type MergeSource } from '../merge/index.js';
import { blobRootsOf, resolveBlobs } from '../blob/index.js';
import { BlobFetcher } from '../blob/blob-fetch.js';
import { BLOB_ROOTS_PROPERTY } from '../blob/blob-columns.js';
import { NativeParquetPool, sharedParquetPool, poolForSize, PARQUET_POOL_MIN_BYTES, type ParquetPool } from '../workers/index.js';
import { prefetchOrdered, DEFAULT_PREFETCH_BYTES, type PrefetchStats, type PrefetchTask } from '../prefetch/index.js';
import { existingColumns } from './exist-cols.js';
import { constantColumn, partitionMayMatch } from './partition-values.js';
import { locateDataFile } from './data-file-paths.js';
import { countFileRows, withFile } from './row-counts.js';
import { bucketRuleOf } from './bucket-rule.js';
import { computeBuckets } from '../hash/index.js';
import { canReadSelective, readSelective, type SelectiveReadOptions, type SelectiveReadStats } from './selective-read.js';
import { growHeapForTableWork } from '../heap-growth.js';

/** Default rows per output batch. */
export const DEFAULT_BATCH_SIZE = 8192;

/** Bytes read from a file's end to get its footer (and, for small files, everything). */
const TAIL_READ = 64 * 1024;

/**
 * A file up to this size that a read needs whole (every column, no row group pruned) is fetched with
 * one request and decoded whole, not its footer first and then its column chunks: on object storage
 * each request is a round trip, and a file over TAIL_READ took two in a row. A smaller file came in
 * one request either way; for it the gain is the main-thread work skipped (the footer parsed here and
 * the sparse copy), which under latency runs for every file at once, in front of the first decode:
 * `io-prefetch` (40 files of 32-41 KB, 20 ms requests) left 13-17 ms unhidden against 27-35 ms footer
 * first, and 21-31 ms fetched whole but decoded row group by row group (docs/benchmarks.md).
 */
const WHOLE_FILE_READ = 1024 * 1024;

/**
 * Files at least this large with several row groups are decoded one row group at a time: all of them,
 * so decoded memory depends on the row-group size and the files per split, not on the table size.
 */
const STREAM_DECODE_MIN_BYTES = 0;
/** The reader yields to the event loop when it has run this long without doing so. */
const YIELD_EVERY_MS = 2;
/** Column chunks closer than this are fetched in one request. */
const COALESCE_GAP = 8 * 1024;

/** Resolved, validated scan settings (shared by planning and JSON restore). */
interface PlanSettings {
  tableSchema: Schema;
  json: Omit<ScanPlanJSON, 'splits' | 'partitionVersions'>;
}

/** Per schema, the index of its field of each name (the first of a name): built once, not searched per column. */
const indexesByName = new WeakMap<Schema, Map<string, number>>();

function indexMap(schema: Schema): Map<string, number> {
  let m = indexesByName.get(schema);
  if (!m) {
    m = new Map();
    schema.fields.forEach((f, i) => m!.has(f.name) || m!.set(f.name, i));
    indexesByName.set(schema, m);
  }
  return m;
}

/** The field of `schema` named `name` (the first), or undefined. */
function fieldNamed(schema: Schema, name: string): Field | undefined {
  const i = indexMap(schema).get(name);
  return i === undefined ? undefined : schema.fields[i];
}

/**
 * Whether `chunk` belongs to one of `columns` (parquet-footer.ts's `chunkReadWith` with a Set): its top-level
 * name, or a dotted prefix of its path. The same answer, without a pass over the columns per chunk
 * (a file of 10,000 columns read whole: 10^8 comparisons).
 */
function chunkIn(chunk: ParquetColumnStats, columns: ReadonlySet<string>): boolean {
  if (columns.has(chunk.path[0])) return true;
  const dotted = chunk.path.join('.');
  for (let i = dotted.indexOf('.'); i >= 0; i = dotted.indexOf('.', i + 1)) if (columns.has(dotted.slice(0, i))) return true;
  return columns.has(dotted);
}

function fieldOf(schema: Schema, name: string, table: string): Field {
  const f = fieldNamed(schema, name);
  if (!f) {
    throw new LakeSoulError('InvalidArgument', `column ${quoteInput(name, 64)} is not in the schema of table '${table}'`, {
      code: 'UNKNOWN_COLUMN',
      context: { table, column: name },
    });
  }
  return f;
}

/**
 * The schema an incremental read of a CDC table reads with: its delete markers hold nulls in every
 * column but the primary key, range and CDC columns (`deleteByKeys` writes only the key), so those
 * columns are declared nullable, whatever the table says. A non-nullable column declared as such
 * held nulls: a Parquet export of the increment failed ('Dyn casting error') and consumers that trust
 * the schema broke. Other reads return no delete marker and keep the table's schema.
 */
function incrementalCdcSchema(schema: Schema, json: ScanPlanJSON): Schema {
  if (json.mode !== 'incremental' || !json.cdcColumn) return schema;
  const kept = new Set([...json.primaryKeys, ...json.rangePartitions, json.cdcColumn]);
  if (schema.fields.every((f) => f.nullable || kept.has(f.name))) return schema;
  // (the same type objects: batches are compared with the plan's schema by type identity)
  const fields = schema.fields.map((f) => (f.nullable || kept.has(f.name) ? f : new Field(f.name, f.type, true, f.metadata)));
  return new Schema(fields, schema.metadata, schema.dictionaries, schema.metadataVersion);
}

/** The schema of the batches a plan yields. */
function outputSchemaOf(tableSchema: Schema, columns: string[], blobs: BlobReadOptions | null, table: string): Schema {
  const fields = columns.map((c) => fieldOf(tableSchema, c, table));
  for (const b of blobs?.columns ?? []) fields.push(new Field(`${b}__bytes`, new Binary(), true));
  return new Schema(fields);
}

const BLOB_READ_OPTIONS = optionNames<BlobReadOptions>({ columns: true, allowedRoots: true, onMissing: true, concurrency: true, maxBytesInFlight: true });

/**
 * Blob options of a scan. Besides the table path and the caller's `allowedRoots`, references may point
 * into the roots the table declares in `lakesoul_blob_roots` (set by an operator, e.g. by
 * `importImages` in reference mode).
 */
function normalizeBlobs(info: TableInfo, blobs: ScanOptions['blobs']): BlobReadOptions | null {
  if (!blobs) return null;
  // `blobs: true`, `{ columnz }` or `allowedRoots: 'file://…'` failed with bare TypeErrors, and a
  // misspelled `onMissing: 'Null'` was dropped
  const where = `scan of table '${info.namespace}.${info.name}' blobs`;
  if (!Array.isArray(blobs)) {
    if (typeof blobs !== 'object') throw new LakeSoulError('InvalidArgument', `${where}: give the blob columns as an array, or { columns, allowedRoots, onMissing, ... }; got ${JSON.stringify(blobs)}`, { code: 'INVALID_OPTION_VALUE', context: { option: 'blobs' } });
    refuseUnknownOptions(blobs, BLOB_READ_OPTIONS, where);
    for (const k of ['columns', 'allowedRoots'] as const) {
      const v: unknown = blobs[k];
      if ((v !== undefined || k === 'columns') && !(Array.isArray(v) && v.every((c) => typeof c === 'string'))) {
        throw new LakeSoulError('InvalidArgument', `${where}: ${k} must be an array of strings, got ${JSON.stringify(v)}`, { code: 'INVALID_OPTION_VALUE', context: { option: k } });
      }
    }
    if (blobs.onMissing !== undefined && blobs.onMissing !== 'error' && blobs.onMissing !== 'null') {
      throw new LakeSoulError('InvalidArgument', `${where}: onMissing must be 'error' or 'null', got ${JSON.stringify(blobs.onMissing)}`, { code: 'INVALID_OPTION_VALUE', context: { option: 'onMissing' } });
    }
  }
  const opts: BlobReadOptions = Array.isArray(blobs) ? { columns: [...blobs] } : { ...blobs, columns: [...blobs.columns] };
  if (opts.columns.length === 0) return null;
  const declared = blobRootsOf(info);
  // A relative entry (set after the create, by Catalog.updateTableProperties or another engine) failed
  // every read naming neither the table nor the property. Only that: reads take more than createTable
  // lets a new table declare (`file:/abs`, schemas of registered stores).
  for (const root of declared) {
    if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(root)) {
      const table = `${info.namespace}.${info.name}`;
      throw new LakeSoulError('InvalidArgument', `table '${table}': property '${BLOB_ROOTS_PROPERTY}' lists '${root}', a relative location: it lists absolute URIs (file:///abs/path, s3://bucket/prefix), comma-separated`, {
        context: { table, property: BLOB_ROOTS_PROPERTY, file: root },
      });
    }
  }
  if (declared.length > 0) opts.allowedRoots = [...new Set([...(opts.allowedRoots ?? []), ...declared])];
  return opts;
}

/** Validates scan options against a table and fixes every setting a reader needs. */
function settingsFor(info: TableInfo, options: ScanOptions, mode: 'snapshot' | 'incremental'): PlanSettings {
  const schema = info.schema;
  const columns = options.columns ? [...options.columns] : schema.fields.map((f) => f.name);
  for (const c of columns) fieldOf(schema, c, info.name);
  const filter = options.filter === undefined || options.filter === null ? null : normalizeFilter(options.filter, schema);
  if (filter !== null) checkFilter(filter, schema); // also when no row is read: partitions pruned, an empty table
  const mergeOperators: Record<string, MergeOperator> = { ...(options.mergeOperators ?? {}) };
  for (const c of Object.keys(mergeOperators)) fieldOf(schema, c, info.name);
  const blobs = normalizeBlobs(info, options.blobs);
  for (const c of blobs?.columns ?? []) fieldOf(schema, c, info.name);
  return {
    tableSchema: schema,
    json: {
      tableSchemaJson: info.schemaJson,
      primaryKeys: [...info.primaryKeys],
      rangePartitions: [...info.rangePartitions],
      cdcColumn: info.cdcColumn ?? null,
      columns,
      filter,
      mergeOperators,
      mode,
      skipMergeOnRead: info.properties['skip_merge_on_read'] === 'true',
      blobs,
    },
  };
}

/**
 * An error reading a data file a plan names (with the file in its context). A file that no longer
 * exists is said to be one: a plan keeps naming the files of the versions it was made at, and a
 * `cleanup()` whose retention passed them since (after a compaction or an overwrite) deletes them.
 * For an incremental plan (`mode`) planning again does not help: its start is older than what cleanup
 * kept, and the consumer resyncs from a snapshot.
 */
function plannedFileError(e: unknown, path: string, split: Split, mode: ScanPlanJSON['mode']): unknown {
  const err = withFile(e, path);
  if (!LakeSoulError.hasCode(err, 'OBJECT_NOT_FOUND') || (err as LakeSoulError).message.startsWith(`data file ${path} `)) return err;
  const table = `${split.namespace}.${split.tableName}`;
  // `(partition -5)` named the catalog's marker of a table without range partitions
  const where = split.partitionDesc === NO_PARTITION_DESC ? 'unpartitioned' : `partition ${split.partitionDesc}`;
  if (localDirectoryMissing(split.tablePath)) {
    // the whole table is gone from where the catalog says it is: moved, not cleaned up
    return new LakeSoulError('NotFound', `data file ${path} of table '${table}' (${where}) no longer exists, nor does the table's directory ${split.tablePath}: ` +
      'its files were moved or deleted. A table dropped with its files (a purge) while this read ran leaves nothing to read; otherwise ' +
      'the catalog keeps absolute paths (as LakeSoul does), so a home or warehouse moved after the table was created leaves its tables behind: ' +
      'move the directory back, or point the catalog at the new place (`catalog.relocateTables(oldLocation, newLocation)`; CLI: `relocate <old> <new>`)', {
      code: 'OBJECT_NOT_FOUND',
      cause: e,
      context: { file: path, table, partition: split.partitionDesc },
    });
  }
  if (mode === 'incremental') {
    // planning the same range again names the same files: the position is older than what cleanup kept
    return new LakeSoulError('NotFound', `data file ${path} of table '${table}' (${where}) no longer exists: the incremental read's start is older than what cleanup() kept ` +
      '(its retainSince passed the versions this range starts from, and deleted the files that later versions replaced, e.g. by a compaction or an overwrite). ' +
      'Planning the same range again fails the same way: resync the consumer from a snapshot read (scan() without incremental, or as of a time T) and continue with increments from there (start: T); ' +
      'to keep increments possible, keep cleanup\'s retainSince before the oldest position a consumer may resume from', {
      code: 'OBJECT_NOT_FOUND',
      cause: e,
      context: { file: path, table, partition: split.partitionDesc },
    });
  }
  return new LakeSoulError('NotFound', `data file ${path} of table '${table}' (${where}) no longer exists. A scan plan names the files of the versions it was made at, and cleanup() deletes those that newer versions replaced once its retention (retainSince) has passed them: plan the read again (a resumed loader: from a later snapshot), or keep retainSince before the oldest plan you keep. If the plan is of the latest versions, the file was deleted by something else`, {
    code: 'OBJECT_NOT_FOUND',
    cause: e,
    context: { file: path, table, partition: split.partitionDesc },
  });
}

/** Whether `uri` is a local (file://) directory that does not exist; false for other stores (not checked). */
function localDirectoryMissing(uri: string): boolean {
  if (!uri.startsWith('file:')) return false;
  try {
    return !existsSync(fileURLToPath(uri));
  } catch {
    return false;
  }
}

/**
 * An abort of a read (the caller's signal, a timeout) names the table and partition the read stopped
 * in: the layers under it (prefetch, merge, the Parquet threads) know only that "read" was aborted.
 */
function abortedReadError(e: unknown, signal: AbortSignal | undefined, split: Split | undefined): unknown {
  if (!split || !signal?.aborted || !LakeSoulError.hasCode(e, 'ABORTED')) return e;
  const table = `${split.namespace}.${split.tableName}`;
  if (split.partitionDesc === NO_PARTITION_DESC) return abortedError(`read of table '${table}'`, signal.reason, { table });
  return abortedError(`read of table '${table}' (partition ${split.partitionDesc})`, signal.reason, { table, partition: split.partitionDesc });
}

/** Footers {@link TableScanPlan.withRowCounts} reads at once. */
const ROW_COUNT_CONCURRENCY = 32;

/** Splits of a snapshot: PK tables one per partition x bucket, others one per file. */
export function splitsOf(info: TableInfo, snapshot: PartitionSnapshot[]): Split[] {
  const splits: Split[] = [];
  const isPk = info.primaryKeys.length > 0;
  for (const p of snapshot) {
    const partitionValues = partitionValuesOf(p.partitionDesc, info.rangePartitions);
    const base = {
      tableId: info.tableId,
      tableName: info.name,
      namespace: info.namespace,
      tablePath: info.path,
      partitionDesc: p.partitionDesc,
      partitionValues,
      rowCount: null,
    };
    const toFile = (f: PartitionSnapshot['files'][number]): SplitFile => ({ path: f.path, size: f.size.toString(), existCols: existingColumns(f.existCols, info.schema.fields) });
    if (isPk) {
      const byBucket = new Map<number, SplitFile[]>();
      for (const f of p.files) {
        let l = byBucket.get(f.bucket);
        if (!l) byBucket.set(f.bucket, (l = []));
        l.push(toFile(f));
      }
      for (const b of [...byBucket.keys()].sort((x, y) => x - y)) {
        splits.push({ id: `${p.partitionDesc}#${b}`, bucket: b, files: byBucket.get(b)!, ...base });
      }
    } else {
      p.files.forEach((f, i) => splits.push({ id: `${p.partitionDesc}#f${i}`, bucket: null, files: [toFile(f)], ...base }));
    }
  }
  return splits;
}

function partitionValuesOf(desc: string, rangePartitions: string[]): Record<string, string | null> {
  if (rangePartitions.length === 0) return {};
  const decoded = decodePartitionDesc(desc) as Record<string, string | null> | [string, string | null][];
  const out: Record<string, string | null> = {};
  if (Array.isArray(decoded)) for (const [k, v] of decoded) out[k] = v;
  else Object.assign(out, decoded);
  return out;
}

/** Conjuncts of `f` that can prune row groups of a single file (before any merge). */
function prunableFilter(f: FilterExpr | null, s: ScanPlanJSON | PlanSettings['json']): FilterExpr | null {
  if (!f) return null;
  const conj = f.op === 'and' ? f.args : [f];
  const isPk = s.primaryKeys.length > 0 && !s.skipMergeOnRead;
  const ok = conj.filter((c) => {
    const cols = filterColumns(c);
    if (cols.some((x) => s.rangePartitions.includes(x))) return false;
    if (s.cdcColumn && cols.includes(s.cdcColumn)) return false;
    // In a merge, a predicate on non-key columns may hold for an old version and not the newest one:
    // only PK-only predicates prune. Without a merge every row stands alone.
    return isPk ? isPkOnly(c, s.primaryKeys) : true;
  });
  if (ok.length === 0) return null;
  return ok.length === 1 ? ok[0] : { op: 'and', args: ok };
}

/**
 * The filter a file's rows may be filtered by before the merge, read page by page
 * (selective-read.ts). Without a merge every row stands alone: every conjunct but those on range
 * or CDC columns. In a merge, PK-only conjuncts keep every version of each key they select. Other
 * conjuncts only where the split has one file holding each key once (checked on the key column as
 * it is read) and no merge operator combines versions: then each key has a single version, and
 * dropping it or not is the filter's answer on it; elsewhere the PK-only part is the fallback.
 */
function prefilterFor(split: Split, s: ScanPlanJSON): { filter: FilterExpr; uniqueKey?: { column: string; fallback: FilterExpr | null } } | null {
  const merge = s.primaryKeys.length > 0 && !s.skipMergeOnRead;
  const keyOnly = prunableFilter(s.filter, s);
  if (!merge) return keyOnly ? { filter: keyOnly } : null;
  if (split.files.length === 1 && s.primaryKeys.length === 1 && Object.keys(s.mergeOperators).length === 0) {
    const all = prunableFilter(s.filter, { ...s, primaryKeys: [] });
    const count = (f: FilterExpr | null) => (f === null ? 0 : f.op === 'and' ? f.args.length : 1);
    if (all && count(all) > count(keyOnly)) return { filter: all, uniqueKey: { column: s.primaryKeys[0], fallback: keyOnly } };
  }
  return keyOnly ? { filter: keyOnly } : null;
}

/** A data file's end: its parsed footer and the bytes of its tail (see {@link openFileEnd}). */
interface FileEnd {
  footer: ParquetFooter;
  /** The bytes at [offset, offset + length) when the tail read so far holds them, else null. */
  fromTail(offset: number, length: number): Uint8Array | null;
  /** The tail's bytes and where they start in the file (read now when the footer came from the cache). */
  tail(): Promise<{ tail: Uint8Array; tailStart: number }>;
  cache: ParquetMetaCache;
  /** The file's key in `cache`. */
  fileKey: string;
}

/**
 * Reads the last {@link TAIL_READ} bytes of a file (its footer, and all of a small file) and parses
 * the footer. The footer of a file larger than that is kept in the process's metadata cache
 * (meta-cache.ts): a later read of the file gets it from there and reads the tail only if it needs
 * its bytes (a sparse copy for the decoder holds the footer's bytes; a selective read does not).
 */
async function openFileEnd(store: ObjectStore, key: string, size: number, path: string, signal: AbortSignal | undefined): Promise<FileEnd> {
  const cache = sharedParquetMetaCache();
  const fileKey = fileMetaKey(`${store.description}${key}`, size);
  const cached = size > TAIL_READ ? cache.get<ParquetFooter>(`footer:${fileKey}`) : undefined;
  let tail: Uint8Array = new Uint8Array(0);
  let tailStart = size;
  const readTail = async () => {
    if (tailStart < size || size === 0) return;
    let start = Math.max(0, size - TAIL_READ);
    try {
      tail = await store.get(key, { range: { offset: start, length: size - start }, signal });
      // The tail holds the whole footer: sparse copies for the decoder take their footer from it, and
      // a wide table's footer (~180 bytes a column) outgrows one read (a 360-column file was unreadable).
      const footerEnd = tail.length >= 8 ? new DataView(tail.buffer, tail.byteOffset + tail.length - 8, 4).getUint32(0, true) + 8 : 0;
      if (footerEnd > tail.length && footerEnd <= size) {
        const head = await store.get(key, { range: { offset: size - footerEnd, length: start - (size - footerEnd) }, signal });
        const whole = new Uint8Array(footerEnd);
        whole.set(head, 0);
        whole.set(tail, head.length);
        tail = whole;
        start = size - footerEnd;
      }
    } catch (e) {
      throw withFile(e, path);
    }
    tailStart = start;
  };
  const fromTail = (offset: number, length: number) => (offset >= tailStart && offset + length <= size ? tail.subarray(offset - tailStart, offset - tailStart + length) : null);
  if (cached) return { footer: cached, fromTail, tail: async () => (await readTail(), { tail, tailStart }), cache, fileKey };
  await readTail();
  const footer = await readParquetFooter(
    async (r) => {
      const o = 'offset' in r ? r.offset : size - r.suffix;
      const l = 'offset' in r ? (r.length ?? size - o) : r.suffix;
      return fromTail(o, l) ?? store.get(key, { range: r, signal });
    },
    size,
    { file: path, signal },
  );
  if (size > TAIL_READ && tail.length >= 8) {
    // Parsed, a footer takes a few times its encoded length (the 4 bytes before the magic).
    const footerLength = new DataView(tail.buffer, tail.byteOffset + tail.length - 8, 4).getUint32(0, true);
    cache.set(`footer:${fileKey}`, footer, 1024 + 6 * footerLength);
  }
  return { footer, fromTail, tail: async () => ({ tail, tailStart }), cache, fileKey };
}

/**
 * Selective reads of one scan started before the merge reaches their file: their matching rows (of
 * one row group each) wait in memory, so this bounds how many can (the prefetch budget counts file
 * bytes).
 */
const SELECTIVE_READS_AHEAD = 4;

/** Every batch of `it`, collected; a failure is kept for whoever awaits the result (none may). */
function collectBatches(it: AsyncIterable<RecordBatch>): Promise<RecordBatch[]> {
  const p = (async () => {
    const out: RecordBatch[] = [];
    for await (const b of it) out.push(b);
    return out;
  })();
  p.catch(() => {}); // handled where awaited; a read stopped early never awaits it
  return p;
}

/** A file fetched for a split (bytes, or nothing when pruning removed every row group). */
interface FetchedFile {
  file: SplitFile;
  bytes: Uint8Array | null;
  /** `bytes` is a buffer this reader allocated (a sparse copy): it may move to a decode worker. */
  owned?: boolean;
  /** The file's footer, when the fetch decoded it (a sparse copy's): not decoded again. */
  footer?: ParquetFooter;
  rowGroups: number[] | undefined;
  /**
   * A large file read one row group at a time: its tail (footer) is here, and each row group's
   * column chunks are fetched when the merge reaches it, so a split holds one row group per file.
   */
  lazy?: LazyFile;
  /** A file to read page by page through its page index, keeping only rows its prefilter selects. */
  selective?: SelectiveReadOptions;
  /**
   * Such a file (of one row group) whose read is under way: its batches, matching rows only; `done`
   * is called once they are handed on.
   */
  selectiveBatches?: { batches: Promise<RecordBatch[]>; done(): void };
}

/** What decoding a file row group by row group needs (see {@link FetchedFile.lazy}). */
interface LazyFile {
  size: number;
  tail: Uint8Array;
  tailStart: number;
  /** The file's footer, decoded once for every row group's decode. */
  footer: ParquetFooter;
  /** Columns of the file to decode. */
  columns: string[];
  /** Per row group to read: its index and the byte ranges of its chunks not in the tail. */
  groups: { index: number; ranges: { offset: number; length: number }[] }[];
  /**
   * The file's page index ranges not in the tail, when the decoder reads them (`decoderReadsPageIndex`):
   * fetched once, part of every row group's copy.
   */
  pageIndex: { offset: number; length: number }[];
  fetch(ranges: { offset: number; length: number }[], signal?: AbortSignal): Promise<Uint8Array[]>;
}

/** Options of reading, with the scan-level extras. */
export interface SplitReadOptions extends ReadOptions {
  /** Counters of the prefetch run (tests, benchmarks). */
  prefetchStats?: PrefetchStats;
  /** Counters of row groups and pages read and skipped by filters (see {@link SelectiveReadStats}). */
  selectiveStats?: SelectiveReadStats;
  /**
   * Files at least this large (bytes) with several row groups are fetched and decoded one row group
   * at a time while the merge consumes them, the next row group decoding on a worker meanwhile, so a
   * split holds about two row groups per file (compressed and decoded) rather than whole files.
   * Default 0: every multi-row-group file is read this way, which bounds a scan's memory whatever the
   * table's size. A larger value trades memory for fewer, larger requests.
   */
  streamDecodeMinBytes?: number;
}

/** A plan built by {@link LakeSoulTable.scan} or restored by {@link scanPlanFromJSON}. */
export class TableScanPlan implements ScanPlan {
  readonly schema: Schema;
  private readonly tableSchema: Schema;
  private readonly physicalSchema: Schema;
  private readonly readColumns: string[];
  /** {@link readColumns} as a Set: a file's columns are looked up in it, not searched per column. */
  private readonly readColumnSet: Set<string>;
  /** Per file_exist_cols list (one per file): the read columns it holds and their schema. */
  private readonly fileColumnsCache = new WeakMap<string[], { cols: string[]; schema: Schema }>();
  private readonly pruneFilter: FilterExpr | null;

  constructor(
    private readonly json: ScanPlanJSON,
    private readonly stores: StoreRegistry,
    tableSchema?: Schema,
    private readonly defaults: { batchSize?: number; prefetchBytes?: number; signal?: AbortSignal } = {},
  ) {
    this.tableSchema = incrementalCdcSchema(tableSchema ?? arrowSchemaFromJson(json.tableSchemaJson), json);
    const table = json.splits[0]?.tableName ?? 'table';
    this.schema = outputSchemaOf(this.tableSchema, json.columns, json.blobs, table);
    const need = new Set<string>(json.columns);
    for (const k of json.primaryKeys) need.add(k);
    if (json.cdcColumn) need.add(json.cdcColumn);
    if (json.filter) for (const c of filterColumns(json.filter)) need.add(c);
    for (const c of json.blobs?.columns ?? []) need.add(c);
    this.readColumns = this.tableSchema.fields.map((f) => f.name).filter((c) => need.has(c) && !json.rangePartitions.includes(c));
    this.readColumnSet = new Set(this.readColumns);
    this.physicalSchema = new Schema(this.readColumns.map((c) => fieldOf(this.tableSchema, c, table)));
    this.pruneFilter = prunableFilter(json.filter, json);
  }

  /** The plan's splits (JSON-safe), in read order. */
  get splits(): Split[] {
    return this.json.splits;
  }

  /**
   * The read columns a file holds (`existCols`: its file_exist_cols), in the table's order, and their
   * schema: computed once per file, with Set and Map lookups (a pass over one list per column of the
   * other made a file of 10,000 columns cost 10^8 comparisons, several times per read).
   */
  private fileColumns(existCols: string[]): { cols: string[]; schema: Schema } {
    let r = this.fileColumnsCache.get(existCols);
    if (!r) {
      const exist = new Set(existCols);
      const cols = this.readColumns.filter((c) => exist.has(c));
      r = { cols, schema: new Schema(cols.map((c) => fieldNamed(this.physicalSchema, c)!)) };
      this.fileColumnsCache.set(existCols, r);
    }
    return r;
  }

  /** A deep copy of the plan as plain JSON (see {@link scanPlanFromJSON}). */
  toJSON(): ScanPlanJSON {
    const { filter, ...rest } = this.json;
    const out = JSON.parse(JSON.stringify(rest)) as ScanPlanJSON;
    // `filter: null` stays (readers of plan JSON, the tfjs loader among them, test it for "unfiltered")
    if (filter !== undefined) out.filter = filter === null ? null : JSON.parse(JSON.stringify(filter, tagFilterLiteral)) as FilterExpr;
    return out;
  }

  /** Every split in order, with prefetch across split boundaries. */
  read(options: SplitReadOptions = {}): AsyncIterable<RecordBatch> {
    return { [Symbol.asyncIterator]: () => this.readSplits(this.json.splits, options) };
  }

  /** One split (of this plan or of its JSON in another process). */
  readSplit(split: Split, options: SplitReadOptions = {}): AsyncIterable<RecordBatch> {
    return { [Symbol.asyncIterator]: () => this.readSplits([split], options) };
  }

  /** A copy of the plan whose splits carry row counts read from the Parquet footers. */
  async withRowCounts(options: RowCountOptions = {}): Promise<ScanPlan> {
    const signal = options.signal ?? this.defaults.signal;
    const known = options.rowCounts ?? new Map<string, number>();
    // a bounded number of footer reads at once: a table of 8,000 files queued 8,000 requests behind the
    // store's sockets, which timed out (a Flight GetFlightInfo or a UI page failed every time)
    const slots = new Semaphore(ROW_COUNT_CONCURRENCY);
    const splits = await Promise.all(
      this.json.splits.map(async (s) => {
        await slots.acquire(signal, 'wait to read a footer');
        try {
          return { ...s, rowCount: await countFileRows(this.stores, s.files, known, signal) };
        } finally {
          slots.release();
        }
      }),
    );
    return new TableScanPlan({ ...this.json, splits }, this.stores, this.tableSchema, this.defaults);
  }

  /** Prefetch tasks of every file of `splits`, in read order. */
  private *tasks(splits: Split[], streamMin: number, stats?: SelectiveReadStats): Generator<PrefetchTask<FetchedFile>> {
    const selectiveAhead = { n: 0 }; // selective reads started early and not yet consumed
    for (const split of splits) {
      const filter = filterForSplit(this.json.filter, split, this.json.primaryKeys);
      const pre = prefilterFor(split, filter === this.json.filter ? this.json : { ...this.json, filter });
      const pruneFilter = filter === this.json.filter ? this.pruneFilter : prunableFilter(filter, this.json);
      for (const file of split.files) {
        yield {
          bytes: Number(file.size),
          run: (signal) => this.fetchFile(file, split, { pre, pruneFilter, streamMin, selectiveAhead, stats }, signal).catch((e: unknown) => {
            throw plannedFileError(e, file.path, split, this.json.mode);
          }),
        };
      }
    }
  }

  /** One prefetch task of {@link tasks}: the file's bytes, or how to read the parts of it the read needs. */
  private async fetchFile(
    file: SplitFile,
    split: Split,
    how: { pre: ReturnType<typeof prefilterFor>; pruneFilter: FilterExpr | null; streamMin: number; selectiveAhead: { n: number }; stats: SelectiveReadStats | undefined },
    signal: AbortSignal | undefined,
  ): Promise<FetchedFile> {
    const { pre, pruneFilter, streamMin, selectiveAhead, stats } = how;
    if (/\.vortex$/i.test(file.path)) {
      // the footer reader's message, which says what fixes it for the writer
      const e = unsupportedFormat(file.path, 'a Vortex file');
      throw new LakeSoulError(e.kind, e.message, { code: e.code, context: { file: file.path, partition: split.partitionDesc } });
    }
    let loc: { store: ObjectStore; key: string };
    try {
      loc = await locateDataFile(this.stores, file.path, signal);
    } catch (e) {
      throw plannedFileError(e, file.path, split, this.json.mode);
    }
    const { store, key } = loc;
    const size = Number(file.size);
    const { cols: wanted, schema: wantedSchema } = this.fileColumns(file.existCols);
    const wantedSet = new Set(wanted);
    const projects = file.existCols.some((c) => !wantedSet.has(c));
    if (!pruneFilter && !pre && !projects && (size < streamMin || size <= WHOLE_FILE_READ)) {
      try {
        return { file, bytes: await store.get(key, { signal }), rowGroups: undefined };
      } catch (e) {
        throw plannedFileError(e, file.path, split, this.json.mode);
      }
    }
    // Footer first (one read of the file's tail, which small files fit in whole): prune row
    // groups, then fetch only the needed column chunks into a sparse copy of the file (the
    // decoder reads nothing else).
    const end = await openFileEnd(store, key, size, file.path, signal);
    const { footer, fromTail } = end;
    let keep = footer.rowGroups.map((_, i) => i);
    if (pruneFilter) keep = keep.filter((i) => rowGroupMayMatch(pruneFilter, footer.rowGroups[i].columns, footer.rowGroups[i].numRows));
    if (keep.length === 0) return { file, bytes: null, rowGroups: [] };
    const rowGroups = keep.length < footer.rowGroups.length ? keep : undefined;
    const inFile = new Set(footer.columns);
    const present = wanted.filter((c) => inFile.has(c));
    const presentSet = new Set(present);
    // A file written before a filter column was added (schema evolution) reads it as null:
    // only the whole-file path fills it in, so such a file is not read selectively.
    const preCols = pre ? [...filterColumns(pre.filter), ...(pre.uniqueKey?.fallback ? filterColumns(pre.uniqueKey.fallback) : [])] : [];
    if (pre && present.length === wanted.length && preCols.every((c) => presentSet.has(c)) && canReadSelective(footer, keep, present, pre.uniqueKey?.column)) {
      const fromTailOrStore = async (rs: { offset: number; length: number }[]) => {
        const out: Uint8Array[] = rs.map((r) => fromTail(r.offset, r.length) ?? new Uint8Array(0));
        const missing = rs.map((r, k) => ({ r, k })).filter(({ r }) => fromTail(r.offset, r.length) === null);
        if (missing.length > 0) {
          try {
            const parts = await readRanges(store, key, missing.map((m) => m.r), { signal, coalesceGap: COALESCE_GAP });
            missing.forEach((m, i) => (out[m.k] = parts[i]));
          } catch (e) {
            throw plannedFileError(e, file.path, split, this.json.mode);
          }
        }
        return out;
      };
      const schema = present.length === wanted.length ? wantedSchema : new Schema(present.map((c) => fieldNamed(this.physicalSchema, c)!));
      const selective: SelectiveReadOptions = { footer, file: file.path, rowGroups: keep, schema, filter: pre.filter, uniqueKey: pre.uniqueKey, read: fromTailOrStore, stats, pool: sharedParquetPool(), metaCache: { cache: end.cache, fileKey: end.fileKey }, whole: { size, tail: () => end.tail() } };
      // A file with one row group to read starts now, ahead of the merge (as the prefetch
      // fetches bytes ahead), up to SELECTIVE_READS_AHEAD files at once: the files of later
      // splits then fetch and decode pages while earlier ones are consumed. Other files
      // stream row group by row group when the merge reaches them (bounded memory).
      if (keep.length !== 1 || selectiveAhead.n >= SELECTIVE_READS_AHEAD) return { file, bytes: null, rowGroups: keep, selective };
      selectiveAhead.n++;
      const batches = collectBatches(readSelective(selective));
      return { file, bytes: null, rowGroups: keep, selectiveBatches: { batches, done: () => void selectiveAhead.n-- } };
    }
    // The decoder reads the footer's bytes, which a cached footer came without.
    const { tail, tailStart } = await end.tail();
    // A sparse copy of the file must also hold its page index (ColumnIndex/OffsetIndex, written
    // before the footer) for parquet-wasm, which reads it whenever the footer points at it; the
    // native codec does not (a 32M-row table's files carry 350-470 KB of it each).
    const pageIndex = !decoderReadsPageIndex()
      ? []
      : footer.rowGroups
          .flatMap((rg) => rg.chunks.flatMap((c) => [c.columnIndex, c.offsetIndex]))
          .filter((r): r is { offset: number; length: number } => r !== null && fromTail(r.offset, r.length) === null);
    if (size >= streamMin && keep.length > 1) {
      const groups = keep.map((i) => ({
        index: i,
        ranges: footer.rowGroups[i].chunks
          .filter((chunk) => chunkIn(chunk, presentSet))
          .map((chunk) => ({ offset: chunk.offset, length: chunk.compressedSize }))
          .filter((r) => fromTail(r.offset, r.length) === null),
      }));
      const fetch = async (rs: { offset: number; length: number }[], sig?: AbortSignal) => {
        try {
          return rs.length === 0 ? [] : await readRanges(store, key, rs, { signal: sig, coalesceGap: COALESCE_GAP });
        } catch (e) {
          throw plannedFileError(e, file.path, split, this.json.mode);
        }
      };
      return { file, bytes: null, rowGroups: keep, lazy: { size, tail, tailStart, footer, columns: present, groups, pageIndex, fetch } };
    }
    const ranges: { offset: number; length: number }[] = [];
    for (const i of keep) {
      for (const chunk of footer.rowGroups[i].chunks) {
        if (chunkIn(chunk, presentSet)) ranges.push({ offset: chunk.offset, length: chunk.compressedSize });
      }
    }
    ranges.push(...pageIndex);
    const bytes = new Uint8Array(size);
    bytes.set(tail, tailStart);
    bytes.set([0x50, 0x41, 0x52, 0x31], 0); // leading magic
    const missing = ranges.filter((r) => fromTail(r.offset, r.length) === null);
    try {
      if (missing.length > 0) {
        const parts = await readRanges(store, key, missing, { signal, coalesceGap: COALESCE_GAP });
        missing.forEach((r, k) => bytes.set(parts[k], r.offset));
      }
    } catch (e) {
      throw plannedFileError(e, file.path, split, this.json.mode);
    }
    return { file, bytes, owned: true, rowGroups, footer };
  }

  private async *readSplits(splits: Split[], options: SplitReadOptions): AsyncGenerator<RecordBatch> {
    growHeapForTableWork();
    const signal = options.signal ?? this.defaults.signal;
    const batchSize = options.batchSize ?? this.defaults.batchSize ?? DEFAULT_BATCH_SIZE;
    const prefetchBytes = options.prefetchBytes ?? this.defaults.prefetchBytes ?? DEFAULT_PREFETCH_BYTES;
    // 0, -1 or NaN read as batches of one row, silently
    for (const [option, value, min] of [['batchSize', batchSize, 1], ['prefetchBytes', prefetchBytes, 0]] as const) {
      if (!Number.isSafeInteger(value) || value < min) {
        const s0 = this.json.splits[0];
        const table = s0 ? `${s0.namespace}.${s0.tableName}` : undefined;
        throw new LakeSoulError('InvalidArgument', `read${table ? ` of table '${table}'` : ''}: ${option} must be an integer of at least ${min} (got ${String(value)})`, {
          code: 'INVALID_OPTION_VALUE', context: { table, option },
        });
      }
    }
    const streamMin = options.streamDecodeMinBytes ?? STREAM_DECODE_MIN_BYTES;
    const fetched = prefetchOrdered(this.tasks(splits, streamMin, options.selectiveStats), { maxBytesInFlight: prefetchBytes, signal }, options.prefetchStats);
    // A split's files are taken from the prefetch in order and start decoding at once; the next split's
    // are taken and started while this one is merged and consumed, so its decoding (on the Parquet
    // pool's other threads) overlaps this split's merge instead of following it. At most two splits'
    // first decoded row groups are held.
    const merge = this.mergesOnRead;
    const open = async (split: Split): Promise<MergeSource[]> => {
      const files: FetchedFile[] = [];
      for (let i = 0; i < split.files.length; i++) {
        const r = await fetched.next();
        if (r.done) throw new LakeSoulError('Internal', `prefetch ended early in split ${split.id}`);
        files.push(r.value);
      }
      // A merge pulls from every file at once; a concatenation reads them one after another, so only
      // its first starts early.
      return files.map((f, i) => {
        const batches = this.decode(f, streamMin, signal);
        return { batches: merge || i === 0 ? started(batches) : batches, existCols: f.file.existCols.filter((c) => this.readColumnSet.has(c)) };
      });
    };
    let lastYield = performance.now();
    let next: Promise<MergeSource[]> | null = splits.length > 0 ? open(splits[0]) : null;
    let k = 0;
    try {
      for (; k < splits.length; k++) {
        const split = splits[k];
        const sources = await next!;
        next = k + 1 < splits.length ? open(splits[k + 1]) : null;
        next?.catch(() => undefined); // awaited on the next turn; not an unhandled rejection if we stop first
        let out = this.processSplit(split, sources, batchSize, signal);
        if (this.json.blobs && options.blobBytes !== false) out = this.withBlobs(split, out, signal);
        for await (const b of rebatch(this.project(out), batchSize)) {
          yield b;
          // Let I/O callbacks run: while results are ready the consumer advances on microtasks
          // alone, and the fetches in flight (macrotasks) would otherwise wait for it.
          if (performance.now() - lastYield > YIELD_EVERY_MS) {
            await yieldToEventLoop();
            lastYield = performance.now();
          }
        }
      }
    } catch (e) {
      throw abortedReadError(e, signal, splits[Math.min(k, splits.length - 1)]);
    } finally {
      await fetched.return?.(undefined);
    }
  }

  /** Fetches and decodes a lazy file's row groups one at a time (a sparse copy of the file per group). */
  private async *decodeLazy(f: FetchedFile, lazy: LazyFile, signal?: AbortSignal): AsyncGenerator<RecordBatch> {
    const file = f.file.path;
    f.lazy = undefined;
    const { cols, schema: fileSchema } = this.fileColumns(f.file.existCols);
    // The page index is fetched once, by the first load, and goes with every row group's copy.
    let index: Promise<Uint8Array[]> | undefined;
    const load = async (g: LazyFile['groups'][number]): Promise<RecordBatch[]> => {
      index ??= lazy.fetch(lazy.pageIndex, signal);
      const [parts, indexParts] = await Promise.all([lazy.fetch(g.ranges, signal), index]);
      // Only the tail, the page index and this row group's chunks travel; the decoder reads nothing
      // else of the file. The tail and the page index are kept for the next group: copies go to a
      // pool of worker threads (moved there; a Uint8Array's copy: a Node Buffer's `slice()` is a
      // view, which moving would detach); the native codec and this thread read them in place.
      const kept = [{ offset: lazy.tailStart, bytes: lazy.tail }, ...lazy.pageIndex.map((r, k) => ({ offset: r.offset, bytes: indexParts[k] }))];
      const size = kept.reduce((n, p) => n + p.bytes.length, 0) + parts.reduce((n, p) => n + p.length, 0);
      const pool = poolFor(size);
      const moved = pool !== null && !(pool instanceof NativeParquetPool);
      const pieces = [...kept.map((p) => ({ offset: p.offset, bytes: moved ? new Uint8Array(p.bytes) : p.bytes })), ...g.ranges.map((r, k) => ({ offset: r.offset, bytes: parts[k] }))];
      await yieldToEventLoop();
      try {
        const t = await decodeParquet({ size: lazy.size, pieces }, { columns: lazy.columns, rowGroups: [g.index], file, footer: lazy.footer, pool, transferBytes: true, signal });
        return castTableToSchema(t, fileSchema, { file, missing: 'null' }).batches;
      } catch (e) {
        throw withFile(e, file);
      }
    };
    for await (const batches of oneAhead(lazy.groups, load)) yield* batches;
  }

  /**
   * Decodes a fetched file when the merge first pulls from it, on the shared Parquet pool (several
   * files of a split decode at once). Multi-row-group files at least `streamMin` bytes decode one row
   * group at a time, one ahead of the merge.
   */
  private async *decode(f: FetchedFile, streamMin: number, signal?: AbortSignal): AsyncGenerator<RecordBatch> {
    if (f.selectiveBatches) {
      const sel = f.selectiveBatches;
      f.selectiveBatches = undefined;
      let batches: RecordBatch[];
      try {
        batches = await sel.batches;
      } catch (e) {
        throw withFile(e, f.file.path);
      } finally {
        sel.done();
      }
      throwIfAborted(signal, `read of ${f.file.path}`);
      yield* batches;
      return;
    }
    if (f.selective) {
      const sel = f.selective;
      f.selective = undefined;
      try {
        for await (const b of readSelective(sel)) {
          throwIfAborted(signal, `read of ${f.file.path}`);
          yield b;
        }
      } catch (e) {
        throw withFile(e, f.file.path);
      }
      return;
    }
    if (f.lazy) {
      yield* this.decodeLazy(f, f.lazy, signal);
      return;
    }
    const bytes = f.bytes;
    if (!bytes) return;
    const owned = f.owned === true;
    f.bytes = null;
    const file = f.file.path;
    const { cols, schema: fileSchema } = this.fileColumns(f.file.existCols);
    let footer = f.footer;
    const readFooter = async () => {
      try {
        return (footer ??= await readParquetFooter(bytes, bytes.length, { file }));
      } catch (e) {
        throw withFile(e, file);
      }
    };
    const decodeGroups = async (rowGroups: number[] | undefined, whole: boolean, last: boolean): Promise<RecordBatch[]> => {
      // Decoding is one long synchronous call: let the I/O of fetches in flight run first.
      await yieldToEventLoop();
      // A file written elsewhere may lack a column its file_exist_cols lists: it reads as null.
      const inFile = whole || footer === undefined ? undefined : new Set(footer.columns);
      const projected = whole ? undefined : inFile === undefined ? cols : cols.filter((c) => inFile.has(c));
      try {
        const t = await decodeParquet(bytes, { columns: projected, rowGroups, file, footer, pool: poolFor(bytes.length), transferBytes: owned && last, signal });
        return castTableToSchema(t, fileSchema, { file, missing: 'null' }).batches;
      } catch (e) {
        throw withFile(e, file);
      }
    };
    const whole = f.rowGroups === undefined && cols.length === f.file.existCols.length;
    let groups = f.rowGroups;
    if (bytes.length >= streamMin || !whole) {
      const ft = await readFooter();
      groups ??= ft.rowGroups.map((_, i) => i);
      if (bytes.length >= streamMin && groups.length > 1) {
        const gs = groups;
        for await (const batches of oneAhead(gs, (g, k) => decodeGroups([g], false, k === gs.length - 1))) yield* batches;
        return;
      }
    }
    // Without projection or pruning, the decoder takes its fast whole-file path.
    yield* await decodeGroups(f.rowGroups, whole, true);
  }

  /** Whether a split's files are merged by primary key (else concatenated). */
  private get mergesOnRead(): boolean {
    return this.json.primaryKeys.length > 0 && !this.json.skipMergeOnRead;
  }

  private async *processSplit(split: Split, sources: MergeSource[], batchSize: number, signal?: AbortSignal): AsyncGenerator<RecordBatch> {
    const j = this.json;
    const filter = filterForSplit(j.filter, split, j.primaryKeys);
    const merged = this.mergesOnRead
      ? mergeSortedSources(sources, {
          primaryKeys: j.primaryKeys,
          outputSchema: this.physicalSchema,
          mergeOperators: j.mergeOperators,
          batchSize,
          signal,
          label: `${split.tableName} ${split.id}`,
        })
      : concatSources(sources, { outputSchema: this.physicalSchema, batchSize, signal });
    // The split's range columns, built once per batch length and shared by its batches (Arrow data is
    // immutable): one per batch cost ~0.25 ms a batch of 8k rows, ~9% of a partitioned split's read.
    const constants = new Map<string, Vector>();
    // An incremental read keeps CDC delete rows, except in a partition it reads whole as of the
    // range's end (rewritten or dropped in the range): those rows are the partition's state, which a
    // reader puts in place of what it held (a delete row there was taken for a live row).
    const cdc = j.cdcColumn;
    const dropDeletes = Boolean(cdc) && (j.mode === 'snapshot' || (j.resetPartitions?.includes(split.partitionDesc) ?? false));
    for await (const b of merged) {
      throwIfAborted(signal, `scan of ${split.tableName}`);
      let batch = b;
      if (dropDeletes) batch = dropCdcDeletes(batch, cdc!);
      if (batch.numRows === 0) continue;
      batch = this.injectRange(split, batch, constants);
      if (filter) batch = filterBatch(batch, filter);
      if (batch.numRows > 0) yield batch;
    }
  }

  /** `batch` with the split's range columns added; `constants` keeps the last column built per name, reused at the same length. */
  private injectRange(split: Split, batch: RecordBatch, constants: Map<string, Vector>): RecordBatch {
    const rp = this.json.rangePartitions;
    if (rp.length === 0) return batch;
    const vectors: Record<string, Vector> = {};
    const fields: Field[] = [];
    const batchIndex = indexMap(batch.schema);
    for (const f of this.tableSchema.fields) {
      if (rp.includes(f.name)) {
        let column = constants.get(f.name);
        if (column?.length !== batch.numRows) {
          column = constantColumn(f.type, split.partitionValues[f.name] ?? null, batch.numRows, f.name);
          constants.set(f.name, column);
        }
        vectors[f.name] = column;
        fields.push(f);
      } else {
        // (RecordBatch.getChild searches the schema by name: a column's index is looked up instead)
        const i = batchIndex.get(f.name);
        if (i !== undefined) {
          vectors[f.name] = batch.getChildAt(i)!;
          fields.push(batch.schema.fields[i]);
        }
      }
    }
    return batchFromVectors(new Schema(fields), vectors, batch.numRows);
  }

  /** See {@link ScanPlan.blobFetcher}. */
  blobFetcher(split: Split): BlobFetcher | null {
    const b = this.json.blobs;
    return b ? new BlobFetcher({ tablePath: split.tablePath, allowedRoots: b.allowedRoots, stores: this.stores, onMissing: b.onMissing }) : null;
  }

  private async *withBlobs(split: Split, input: AsyncIterable<RecordBatch>, signal?: AbortSignal): AsyncGenerator<RecordBatch> {
    const b = this.json.blobs!;
    yield* resolveBlobs(input, {
      ...b,
      tablePath: split.tablePath,
      stores: this.stores,
      keyColumns: this.json.primaryKeys,
      signal,
    }) as AsyncIterable<RecordBatch>;
  }

  private async *project(input: AsyncIterable<RecordBatch>): AsyncGenerator<RecordBatch> {
    for await (const b of input) {
      // Already the plan's columns (a read of every column): yielded as it is. Each RecordBatch built
      // costs apache-arrow a search of its schema per field (Schema.assign), ~0.15 s at 10,000 columns.
      if (sameFields(b.schema, this.schema)) {
        yield b;
        continue;
      }
      // (RecordBatch.getChild searches the schema by name: the batch's columns are looked up by index)
      const at = indexMap(b.schema);
      const vectors: Record<string, Vector> = {};
      for (const f of this.schema.fields) {
        const i = at.get(f.name);
        vectors[f.name] = (i === undefined ? null : b.getChildAt(i)) ?? nullColumn(f, b.numRows);
      }
      yield batchFromVectors(this.schema, vectors, b.numRows);
    }
  }
}

/**
 * `load(item)` for each item in order, the next one started while the consumer handles the current
 * (so a row group decodes on a worker while the merge consumes the previous one): at most two results
 * are held. A failure surfaces when its result is reached; stopping early leaves at most one load
 * running to completion, its result dropped.
 */
async function* oneAhead<T, R>(items: readonly T[], load: (item: T, index: number) => Promise<R>): AsyncGenerator<R> {
  let next: Promise<R> | null = items.length > 0 ? load(items[0], 0) : null;
  for (let k = 0; next !== null; k++) {
    const current = next;
    next = k + 1 < items.length ? load(items[k + 1], k + 1) : null;
    next?.catch(() => undefined); // awaited on the next turn; not an unhandled rejection if we stop first
    yield await current;
  }
}

/**
 * `it`, started now: its first result is on its way before anyone asks (a decode posted to a worker).
 * A failure surfaces when that result is reached. Returning the wrapper returns `it`.
 */
function started<T>(it: AsyncGenerator<T>): AsyncGenerator<T> {
  const first = it.next();
  first.catch(() => undefined);
  return (async function* () {
    try {
      const r = await first;
      if (r.done) return;
      yield r.value;
      yield* it;
    } finally {
      await it.return(undefined);
    }
  })();
}

/** The shared Parquet pool for an input of `bytes` compressed bytes, or null to decode it here. */
function poolFor(bytes: number): ParquetPool | null {
  return poolForSize(sharedParquetPool(), bytes, PARQUET_POOL_MIN_BYTES);
}

/** Resolves after pending I/O callbacks have run (one turn of the event loop). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Builds a batch of `schema` from one single-chunk vector per field. */
/** Whether two schemas have the same fields: names, types (the same objects), nullability, no field metadata. */
function sameFields(a: Schema, b: Schema): boolean {
  if (a === b) return true;
  if (a.fields.length !== b.fields.length) return false;
  return a.fields.every((f, i) => {
    const g = b.fields[i];
    return f.name === g.name && f.type === g.type && f.nullable === g.nullable && f.metadata.size === 0 && g.metadata.size === 0;
  });
}

function batchFromVectors(schema: Schema, vectors: Record<string, Vector>, numRows: number): RecordBatch {
  const children = schema.fields.map((f) => {
    const v = vectors[f.name];
    if (v.data.length !== 1) throw new LakeSoulError('Internal', `column '${f.name}' has ${v.data.length} chunks where one is expected`);
    return v.data[0];
  });
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: numRows, nullCount: 0, children }));
}

function dropCdcDeletes(batch: RecordBatch, cdc: string): RecordBatch {
  const v = batch.getChild(cdc);
  if (!v) return batch;
  const kinds = matchWords(v, ['delete']);
  let deletes = 0;
  for (let i = 0; i < kinds.length; i++) deletes += kinds[i] === 1 ? 1 : 0;
  if (deletes === 0) return batch;
  const keep = new Int32Array(batch.numRows - deletes);
  for (let i = 0, k = 0; i < kinds.length; i++) if (kinds[i] !== 1) keep[k++] = i;
  return takeRows(batch, keep);
}

/**
 * Re-batches a stream to batches of at most `batchSize` rows. Batches of at least half that size pass
 * through without a copy (larger ones are sliced); smaller fragments (the tail of a split, a filtered
 * batch) are gathered until they reach `batchSize`. Every batch but the last has at least
 * `batchSize / 2` rows.
 *
 * When the input fails, the rows gathered so far are delivered first (one batch), then the error: a
 * stage under it that throws at a row's position (a missing blob, docs/blobs.md) delivers every row
 * before that row, and dropping the small slice it emits ahead of its error would lose them. An abort
 * is thrown at once (nothing more is delivered), and an early `return()` at that last batch ends the
 * read without the error.
 */
export async function* rebatch(input: AsyncIterable<RecordBatch>, batchSize: number): AsyncGenerator<RecordBatch> {
  const half = Math.max(1, Math.floor(batchSize / 2));
  let pending: RecordBatch[] = [];
  let rows = 0;
  const flush = (): RecordBatch => {
    const out = pending.length === 1 ? pending[0] : concatBatches(pending);
    pending = [];
    rows = 0;
    return out;
  };
  // Errors of the consumer's side (thrown into this generator at a yield) are not the input's.
  const iterator = input[Symbol.asyncIterator]();
  let closed = false;
  try {
    for (;;) {
      let r: IteratorResult<RecordBatch>;
      try {
        r = await iterator.next();
      } catch (e) {
        closed = true; // the input ended by failing
        if (rows > 0 && !isAbortError(e)) yield flush();
        throw e;
      }
      if (r.done) {
        closed = true;
        break;
      }
      const b = r.value;
      if (b.numRows === 0) continue;
      let off = 0;
      if (rows === 0 && b.numRows >= half) {
        // Zero-copy: whole slices of at most batchSize; a small remainder goes to pending.
        while (b.numRows - off >= half) {
          const take = Math.min(batchSize, b.numRows - off);
          yield off === 0 && take === b.numRows ? b : sliceBatch(b, off, take);
          off += take;
        }
        if (off === b.numRows) continue;
      }
      while (off < b.numRows) {
        const take = Math.min(batchSize - rows, b.numRows - off);
        pending.push(off === 0 && take === b.numRows ? b : sliceBatch(b, off, take));
        rows += take;
        off += take;
        if (rows === batchSize) yield flush();
      }
    }
  } finally {
    // an early return() (or an error) while the input is open closes it, as for await would
    if (!closed) await iterator.return?.();
  }
  if (rows > 0) yield flush();
}

/** A key literal as a value of the key column's type; undefined when no key of that type equals it. */
function keyValueOf(v: FilterValue, type: DataType): number | bigint | string | undefined {
  if (DataType.isInt(type)) {
    const t = type as Int;
    if (typeof v !== 'number' && typeof v !== 'bigint') return undefined;
    if (typeof v === 'number' && !Number.isInteger(v)) return undefined;
    const b = BigInt(v);
    const lo = t.isSigned ? -(1n << BigInt(t.bitWidth - 1)) : 0n;
    const hi = t.isSigned ? (1n << BigInt(t.bitWidth - 1)) - 1n : (1n << BigInt(t.bitWidth)) - 1n;
    if (b < lo || b > hi) return undefined;
    return t.bitWidth === 64 ? b : Number(b);
  }
  return typeof v === 'string' ? v : undefined;
}

/**
 * The position among `filter`'s top-level conjuncts of the one that selects primary-key buckets: the
 * first `pk = v` or `pk IN (...)` on a one-column key (-1 when there is none).
 */
function keyConjunctIndex(filter: FilterExpr, pk: string): number {
  const conj = filter.op === 'and' ? filter.args : [filter];
  return conj.findIndex((c) => (c.op === '=' || c.op === 'in') && c.column === pk);
}

/**
 * The hash bucket of each literal of the key conjunct of `filter` (see {@link keyConjunctIndex}),
 * in the conjunct's order: null for a literal no row can equal (null, out of the key type's range).
 * Null when buckets cannot be told: no such conjunct, a composite key, a key type other than integers
 * and strings, a literal of another type (the evaluator's error to report), or an unknown bucket rule.
 */
function literalBuckets(info: TableInfo, filter: FilterExpr | null): { conjunct: number; buckets: (number | null)[] } | null {
  if (!filter || info.primaryKeys.length !== 1 || !(info.hashBucketNum > 0)) return null;
  const pk = info.primaryKeys[0];
  const field = info.schema.fields.find((f) => f.name === pk);
  if (!field || !(DataType.isInt(field.type) || DataType.isUtf8(field.type))) return null;
  const conjunct = keyConjunctIndex(filter, pk);
  if (conjunct < 0) return null;
  const c = (filter.op === 'and' ? filter.args : [filter])[conjunct] as { op: '=' | 'in'; value?: FilterValue; values?: FilterValue[] };
  const literals = c.op === 'in' ? c.values! : [c.value!];
  const isInt = DataType.isInt(field.type);
  if (literals.some((v) => v !== null && (isInt ? typeof v !== 'number' && typeof v !== 'bigint' : typeof v !== 'string'))) return null;
  const keys = literals.map((v) => (v === null ? undefined : keyValueOf(v, field.type)));
  const present = keys.filter((v) => v !== undefined);
  if (present.length === 0) return { conjunct, buckets: keys.map(() => null) };
  try {
    const rule = bucketRuleOf(info);
    const batch = new RecordBatch({ [pk]: vectorFromArray(present as never[], field.type).data[0] });
    const hashed = computeBuckets(batch, [pk], info.hashBucketNum, rule);
    let k = 0;
    return { conjunct, buckets: keys.map((v) => (v === undefined ? null : hashed[k++])) };
  } catch {
    return null; // e.g. a table whose bucket rule is unknown: read every bucket
  }
}

/**
 * The buckets that can hold rows of `filter` on a table with a one-column primary key: the hash
 * buckets of the literals of a `pk = v` or `pk IN (...)` conjunct (protocol §4). Null when every
 * bucket can (no such conjunct, a composite key, a key type other than integers and strings, or an
 * unknown bucket rule).
 */
export function bucketsOfFilter(info: TableInfo, filter: FilterExpr | null): Set<number> | null {
  const lb = literalBuckets(info, filter);
  return lb === null ? null : new Set(lb.buckets.filter((b): b is number => b !== null));
}

/**
 * The filter `split` is read with: the plan's, with its primary-key `IN` list cut down to the
 * literals of the split's bucket ({@link Split.keyLiterals}). The positions only ever select from
 * the plan's own list, so a split cannot widen what the plan's filter selects.
 */
function filterForSplit(filter: FilterExpr | null, split: Split, primaryKeys: readonly string[]): FilterExpr | null {
  const at = split.keyLiterals;
  if (!filter || !Array.isArray(at) || primaryKeys.length !== 1) return filter;
  const i = keyConjunctIndex(filter, primaryKeys[0]);
  const conj = filter.op === 'and' ? filter.args : [filter];
  const c = conj[i];
  if (i < 0 || c.op !== 'in') return filter;
  const values = [...new Set(at)].filter((k) => Number.isInteger(k) && k >= 0 && k < c.values.length).sort((a, b) => a - b).map((k) => c.values[k]);
  const narrowed: FilterExpr = { op: 'in', column: c.column, values };
  return filter.op === 'and' ? { op: 'and', args: conj.map((x, k) => (k === i ? narrowed : x)) } : narrowed;
}

/** Builds a plan for `info` from scan options and a resolved snapshot. */
export function buildScanPlan(
  info: TableInfo,
  snapshot: PartitionSnapshot[],
  options: ScanOptions,
  stores: StoreRegistry,
): TableScanPlan {
  const mode = options.incremental ? 'incremental' : 'snapshot';
  const s = settingsFor(info, options, mode);
  const partitionVersions: Record<string, number> = {};
  for (const p of snapshot) partitionVersions[p.partitionDesc] = p.version;
  // Key equality selects buckets: the splits of the others hold no matching row. A key IN list is
  // cut down per bucket, so that each split's page statistics are tested against its own keys only.
  const lb = literalBuckets(info, s.json.filter);
  const buckets = lb === null ? null : new Set(lb.buckets.filter((b): b is number => b !== null));
  // Range values decide the filter for whole partitions: those that cannot match get no split.
  const filter = s.json.filter;
  const candidates = filter !== null && info.rangePartitions.length > 0 ? snapshot.filter((p) => partitionMayMatch(filter, p.partitionDesc, info.schema)) : snapshot;
  const splits = splitsOf(info, candidates).filter((sp) => buckets === null || sp.bucket === null || buckets.has(sp.bucket));
  const keyConj = lb === null ? null : (s.json.filter!.op === 'and' ? s.json.filter!.args : [s.json.filter!])[lb.conjunct];
  if (lb !== null && keyConj?.op === 'in' && buckets!.size > 1) {
    for (const sp of splits) {
      if (sp.bucket === null) continue;
      sp.keyLiterals = lb.buckets.flatMap((b, k) => (b === sp.bucket ? [k] : []));
    }
  }
  const json: ScanPlanJSON = { ...s.json, partitionVersions, splits };
  if (mode === 'incremental') json.resetPartitions = snapshot.filter((p) => p.reset).map((p) => p.partitionDesc);
  return new TableScanPlan(json, stores, info.schema, {
    batchSize: options.batchSize,
    prefetchBytes: options.prefetchBytes,
    signal: options.signal,
  });
}

/**
 * Rebuilds a readable plan from its JSON (another process, a Flight replica): reads need only the
 * stores, never the catalog.
 */
export function scanPlanFromJSON(json: ScanPlanJSON, stores: StoreRegistry): ScanPlan {
  if (!json || !Array.isArray(json.splits) || typeof json.tableSchemaJson !== 'string') {
    throw new LakeSoulError('InvalidArgument', 'not a scan plan JSON (splits and tableSchemaJson are required)');
  }
  return new TableScanPlan(json.filter ? { ...json, filter: restoreFilterLiterals(json.filter) as FilterExpr } : json, stores);
}

// Filter literals JSON has no form for, tagged in plan JSON (see TableScanPlan.toJSON): a bigint
// (beyond ±2^53) as `{ "$bigint": "<decimal>" }`, a Date (DATE/TIMESTAMP literals) as
// `{ "$date": <epoch ms> }`, a non-finite number as `{ "$number": "Infinity" }`. Untagged, JSON
// turned a Date into its ISO text (`s = DATE '2024-01-01'` on a text column matched that text over
// Flight where a read in process refuses it) and `1e400` into null (`score < 1e400` matched nothing).
const BIGINT_TAG = '$bigint';
const DATE_TAG = '$date';
const NUMBER_TAG = '$number';

/** JSON.stringify replacer of a filter (`this` holds the value before Date's own toJSON ran). */
function tagFilterLiteral(this: Record<string, unknown>, key: string, v: unknown): unknown {
  const raw = this[key];
  if (raw instanceof Date) return { [DATE_TAG]: raw.getTime() };
  if (typeof v === 'bigint') return { [BIGINT_TAG]: v.toString() };
  if (typeof v === 'number' && !Number.isFinite(v)) return { [NUMBER_TAG]: String(v) };
  return v;
}

/** A filter of plan JSON with its tagged literals (see {@link tagFilterLiteral}) turned back into values. */
function restoreFilterLiterals(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(restoreFilterLiterals);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const t = o[keys[0]];
    if (keys[0] === BIGINT_TAG && typeof t === 'string' && /^-?\d+$/.test(t)) return BigInt(t);
    if (keys[0] === DATE_TAG && (typeof t === 'number' || t === null)) return new Date(t ?? NaN);
    if (keys[0] === NUMBER_TAG && (t === 'Infinity' || t === '-Infinity' || t === 'NaN')) return Number(t);
  }
  return Object.fromEntries(keys.map((k) => [k, restoreFilterLiterals(o[k])]));
}
