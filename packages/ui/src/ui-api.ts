/**
 * What the UI's JSON API answers, computed with the table API only (`Lakehouse`, `LakeSoulTable`,
 * scans): catalog listings, snapshots, history, scans with filters, projections, time travel and
 * incremental reads, and blob bytes from scans with `blobs` (so references are confined to the blob
 * roots exactly as for every other reader). Nothing here reads a path or queries the catalog itself.
 */
import { Type, type DataType, type RecordBatch, type Schema } from 'apache-arrow';
import { LakeSoulError, abortableSleep, decodePartitionDesc, optionNames, refuseUnknownOptions, type PartitionVersion } from '@lakesoul-ts/meta';
import { blobColumnsOf, scanPlanFromJSON, type BlobValueFetcher, type FilterExpr, type FilterValue, type Lakehouse, type LakeSoulTable, type ScanOptions } from '@lakesoul-ts/io';
import { batchRowsJson, cellJson, exactText, isNumericType, numericValue, plainReader, type CellJson } from './ui-values.js';
import { MAX_DECODE_BYTES, SNIFF_HEAD_BYTES, fullImageOf, isBrowserImage, previewOf, previewWithoutDecode, sniffType, type BlobPreview } from './ui-images.js';
import { ByteBudget, blobChunks, inMemoryBlob, openBlob, type ByteBudgetState, type OpenedBlob } from './ui-blobs.js';
import { DiffBuilder, compareAsBags, compareByKey, diffRows, keyReader, type DiffJson, type DiffMethod, type DiffRow } from './ui-diff.js';

/** Most rows one page may ask for. */
export const MAX_PAGE_ROWS = 200;
/** Blob references of one request read at once (each distinct one once). */
export const BLOB_FETCH_CONCURRENCY = 8;
/**
 * Bytes of blobs the thumbnails (and converted full views) of all requests hold at once: a blob is
 * read whole for decoding only once its size fits (an object over {@link MAX_DECODE_BYTES} is never
 * read), and dropped when its thumbnail is made. (Every blob of a page was read whole and held until
 * the page was answered: 25 rows naming 60 MB PNGs took the server to 1.3 GB for one page, 4.8 GB
 * for four at once.)
 */
export const THUMBNAIL_BYTES_IN_FLIGHT = 64 * 2 ** 20;
/**
 * Bytes of blob downloads all requests hold at once: a download reads its object in chunks of
 * {@link DOWNLOAD_CHUNK_BYTES} and holds one until the client's connection has taken it. (Each
 * download held its whole object: 50 slow downloads of one 30 MB blob held 1.5 GB.)
 */
export const DOWNLOAD_BYTES_IN_FLIGHT = 64 * 2 ** 20;
/** Bytes of one ranged read of a download. */
export const DOWNLOAD_CHUNK_BYTES = 2 ** 20;
/**
 * Blobs up to this size are read whole at once for a thumbnail; the first bytes of larger ones are read
 * first, and the rest only when they are an image small enough to decode.
 */
export const WHOLE_READ_BYTES = 2 ** 20;

/** A key equal for equal references (a string, or a struct's path, offset and length); null for a null cell. */
function referenceKey(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return `s${v}`;
  const r = v as { path?: unknown; offset?: unknown; length?: unknown };
  return `r${JSON.stringify([String(r.path), String(r.offset ?? ''), String(r.length ?? '')])}`;
}
/** Most rows a diff or a statistic reads from one snapshot before it stops and says so. */
export const MAX_ANALYSIS_ROWS = 200_000;
/**
 * Most bytes of Arrow data a diff or a statistic holds before it stops and says so: rows alone did
 * not bound it (200,000 rows of 4 KB strings took the server to 1 GB for one request, three at once
 * to 2.6 GB).
 */
export const MAX_ANALYSIS_BYTES = 256 * 2 ** 20;
/**
 * Keys of a diff read from each snapshot by one filtered scan (`key IN (...)`, the filter's object
 * form, which has no length limit): a range changing more keys reads them in several scans.
 */
export const DIFF_KEYS_PER_READ = 5_000;
/** Key column types whose plain values a filter compares exactly (integers, strings, booleans). */
const FILTER_EXACT_KEY_TYPES = new Set<Type>([Type.Int, Type.Utf8, Type.LargeUtf8, Type.Bool]);
/** Diffs and statistics computed at once; further requests wait for a slot (or their client leaving). */
export const ANALYSIS_SLOTS = 2;
/**
 * Commits the history view lists, newest first: every version lists all commits in force, so a
 * 10,000-commit table's whole history took 166 s and 4 GB to read.
 */
export const MAX_HISTORY_COMMITS = 500;
/** Bins of a histogram. */
export const HISTOGRAM_BINS = 20;
/** Values a value count lists (the rest are summed as "others"). */
export const MAX_COUNT_VALUES = 30;
/**
 * Longest cell text of the row detail view: longer text is cut (its answer names the columns cut,
 * and the page gives the CLI command printing the whole value). A value is not bounded otherwise: a
 * string of hundreds of megabytes would go to the browser whole.
 */
export const MAX_DETAIL_CHARS = 100_000;

/** Which table, and which state of it, a request looks at. */
export interface TableView {
  namespace: string;
  table: string;
  /** A commit time (epoch ms): read the table as of that commit (scan `timestamp` = at + 1). Latest when absent. */
  at?: number;
  /** Only this partition (its partition_desc). */
  partition?: string;
  /** A row filter in the filter grammar. */
  filter?: string;
  /** Output columns (default all). */
  columns?: string[];
}

/** A column as the UI describes it. */
export interface ColumnJson {
  name: string;
  type: string;
  nullable: boolean;
  primaryKey: boolean;
  rangePartition: boolean;
  /** A file-reference column: its previews come from a scan with `blobs`. */
  blob: boolean;
  /** A binary column holding the bytes themselves: previewed from the values read. */
  binary: boolean;
  cdc: boolean;
  numeric: boolean;
}

/** One entry of a per-partition history. */
export interface PartitionEntryJson {
  partition: string;
  version: number;
  op: string;
  timestamp: number;
  /** Commits making up this version's snapshot. */
  commits: number;
}

/** One commit across partitions: the partition versions it made. */
export interface CommitEntryJson {
  timestamp: number;
  partitions: Array<{ partition: string; version: number; op: string }>;
}

/** A page of rows. */
export interface RowsJson {
  columns: ColumnJson[];
  offset: number;
  rows: CellJson[][];
  /** Whether rows follow this page. */
  more: boolean;
  /** Per blob column among `columns`: one preview per row of the page. */
  previews: Record<string, BlobPreview[]>;
  /**
   * The commit time the page was read at: the view's `at`, or for a view of the latest state the
   * newest commit of its partitions when the page was read (null: the table has none). Requests
   * about this page's rows (a row, a blob, the next page) pass it as `at`, so they read the rows it
   * listed whatever was committed since: positions are positions in one snapshot.
   */
  at: number | null;
}

/** Values of a float column a histogram has no bin for: counted apart (neither nulls nor in the bins). */
export interface NonFiniteCounts {
  nan: number;
  infinity: number;
  negativeInfinity: number;
}

/**
 * A histogram or value counts of one column. A histogram's bins, `min` and `max` cover the finite
 * values; NaN and ±Infinity are counted in `nonFinite`. Value counts count whole exact values (every
 * character, byte and digit); each is shown cut at `MAX_CELL_CHARS`, binary as hex.
 */
export type StatsJson =
  | { kind: 'histogram'; column: string; count: number; nulls: number; nonFinite: NonFiniteCounts; min: number | null; max: number | null; bins: Array<{ lo: number; hi: number; count: number }>; truncated: boolean }
  | { kind: 'counts'; column: string; count: number; nulls: number; distinct: number; values: Array<{ value: CellJson; count: number }>; others: number; truncated: boolean };

/** Bytes of one blob for the browser. */
export interface BlobBytes {
  bytes: Uint8Array;
  type: string;
  /** Name for a download. */
  fileName: string;
}

/** One blob for the browser, read as it is sent (see {@link UiApi.blobStream}). */
export interface BlobDownload {
  /** Media type of the bytes. */
  type: string;
  /** Bytes `body` yields in all. */
  size: number;
  /** Name for a download. */
  fileName: string;
  /**
   * The bytes, chunk by chunk: each chunk is read when asked for and counted against the download
   * budget until the next one is asked for (or the iteration stops), so write each one out before
   * asking for the next, and end the iteration (break, return) when giving up early.
   */
  body: AsyncIterable<Uint8Array>;
}

/** Bytes the blob reads of a {@link UiApi} hold at once, per budget (see {@link UiApi.memory}). */
export interface UiMemoryJson {
  /** Blobs read for thumbnails and converted full views ({@link THUMBNAIL_BYTES_IN_FLIGHT}). */
  thumbnails: ByteBudgetState;
  /** Chunks of downloads being sent ({@link DOWNLOAD_BYTES_IN_FLIGHT}). */
  downloads: ByteBudgetState;
}

/** Where a blob of a row lies, opened (its size known, none of its bytes read yet). */
interface LocatedBlob {
  blob: OpenedBlob;
  /** The bytes, when they are a binary column's value (already in memory). */
  inline: Uint8Array | null;
  fileName: string;
  /** `row N, column 'c' of table 'ns.t'`, for messages. */
  where: string;
  context: Record<string, unknown>;
}

/** The error for a blob asked for as an image that is none (or too big to convert). */
function notAnImage(b: LocatedBlob, type: string): LakeSoulError {
  return new LakeSoulError('Unsupported', `blob of ${b.where} is not an image (${type}, ${b.blob.size} bytes)`, { code: 'UI_NOT_IMAGE', context: b.context });
}

/** `bytes` as a one-chunk body. */
async function* oneChunk(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** Runs `work` on every item, at most `limit` at once; the first failure rejects (after the running ones settle). */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function isBinaryType(t: DataType): boolean {
  return t.typeId === Type.Binary || t.typeId === Type.LargeBinary;
}

/** Previews of the values of a binary column (bytes held in the table itself). */
function inlinePreviews(batches: RecordBatch[], column: string): Promise<BlobPreview[]> {
  const values: Array<Uint8Array | null> = [];
  for (const b of batches) for (let r = 0; r < b.numRows; r++) values.push((b.getChild(column)?.get(r) as Uint8Array | null) ?? null);
  return Promise.all(values.map((v) => (v === null ? ({ kind: 'missing' } as BlobPreview) : previewOf(v))));
}

/**
 * The column `name` names: itself when the table has a column spelled so (names may begin or end
 * with spaces), else itself trimmed when the table has that (`a, b` typed by hand), else itself (the
 * scan refuses it by name).
 */
function columnAsSpelled(columns: ColumnJson[], name: string): string {
  if (columns.some((c) => c.name === name)) return name;
  const trimmed = name.trim();
  return columns.some((c) => c.name === trimmed) ? trimmed : name;
}

function describeType(t: DataType): string {
  return String(t);
}

function invalid(message: string, code: string, context: Record<string, unknown> = {}): LakeSoulError {
  return new LakeSoulError('InvalidArgument', message, { code, context });
}

/** Limits of {@link UiApi}'s diffs and statistics. */
export interface UiApiOptions {
  /** Bytes of Arrow data one diff or statistic holds at most (default {@link MAX_ANALYSIS_BYTES}). */
  analysisBytes?: number;
  /** Diffs and statistics computed at once (default {@link ANALYSIS_SLOTS}). */
  analysisSlots?: number;
  /** Commits the history lists, newest first (default {@link MAX_HISTORY_COMMITS}). */
  historyCommits?: number;
  /** Bytes of blobs thumbnails hold at once, across requests (default {@link THUMBNAIL_BYTES_IN_FLIGHT}). */
  thumbnailBytes?: number;
  /** Bytes of downloads held at once, across requests (default {@link DOWNLOAD_BYTES_IN_FLIGHT}). */
  downloadBytes?: number;
  /** Bytes of one read of a download (default {@link DOWNLOAD_CHUNK_BYTES}). */
  downloadChunkBytes?: number;
}

/** The names of {@link UiApiOptions}, checked complete by the compiler. */
const UI_API_OPTIONS = optionNames<UiApiOptions>({ analysisBytes: true, analysisSlots: true, historyCommits: true, thumbnailBytes: true, downloadBytes: true, downloadChunkBytes: true });

/** How far ahead of this process's clock a commit a diff ends at may be stamped and still be waited for. */
const MAX_CLOCK_AHEAD_MS = 5_000;

/** The read-only operations behind the UI's JSON API. */
export class UiApi {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly analysisBytes: number;
  private readonly analysisSlots: number;
  private readonly historyCommits: number;
  private readonly thumbnailBudget: ByteBudget;
  private readonly downloadBudget: ByteBudget;
  private readonly downloadChunkBytes: number;

  constructor(private readonly lakehouse: Lakehouse, options: UiApiOptions = {}) {
    // a misspelt limit would leave its default in force unnoticed
    refuseUnknownOptions(options, UI_API_OPTIONS, 'UiApi');
    this.analysisBytes = options.analysisBytes ?? MAX_ANALYSIS_BYTES;
    this.analysisSlots = options.analysisSlots ?? ANALYSIS_SLOTS;
    this.historyCommits = options.historyCommits ?? MAX_HISTORY_COMMITS;
    this.thumbnailBudget = new ByteBudget(options.thumbnailBytes ?? THUMBNAIL_BYTES_IN_FLIGHT);
    this.downloadBudget = new ByteBudget(options.downloadBytes ?? DOWNLOAD_BYTES_IN_FLIGHT);
    this.downloadChunkBytes = options.downloadChunkBytes ?? DOWNLOAD_CHUNK_BYTES;
    // analysisSlots 0 made every stats and diff request wait forever; NaN turned the bounds off
    for (const [name, v] of [['downloadChunkBytes', this.downloadChunkBytes], ['analysisBytes', this.analysisBytes], ['analysisSlots', this.analysisSlots], ['historyCommits', this.historyCommits]] as const) {
      if (!Number.isSafeInteger(v) || (v as number) < 1) throw invalid(`${name} must be a positive integer (got ${typeof v === 'string' ? `'${v}'` : String(v)})`, 'UI_BAD_BUDGET');
    }
  }

  /** Bytes the blob reads hold now, at most, and at their peak: for monitoring and tests. */
  memory(): UiMemoryJson {
    return { thumbnails: this.thumbnailBudget.state, downloads: this.downloadBudget.state };
  }

  /** Runs a diff or a statistic in one of {@link ANALYSIS_SLOTS} slots, waiting for one first. */
  private async inSlot<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    while (this.running >= this.analysisSlots) {
      signal?.throwIfAborted();
      await new Promise<void>((res) => {
        // a request that leaves while waiting takes itself out of the queue: woken, it would take a
        // release that the next waiter needs
        const wake = () => { signal?.removeEventListener('abort', leave); res(); };
        const leave = () => {
          const at = this.waiting.indexOf(wake);
          if (at >= 0) this.waiting.splice(at, 1);
          res();
        };
        this.waiting.push(wake);
        signal?.addEventListener('abort', leave, { once: true });
      });
    }
    signal?.throwIfAborted();
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private async open(view: TableView, signal?: AbortSignal): Promise<LakeSoulTable> {
    return this.lakehouse.table(view.table, view.namespace, { signal });
  }

  private columnsOf(t: LakeSoulTable): ColumnJson[] {
    const info = t.info;
    const blobs = new Set(blobColumnsOf(info));
    return info.schema.fields.map((f) => ({
      name: f.name,
      type: describeType(f.type),
      nullable: f.nullable,
      primaryKey: info.primaryKeys.includes(f.name),
      rangePartition: info.rangePartitions.includes(f.name),
      blob: blobs.has(f.name),
      binary: !blobs.has(f.name) && isBinaryType(f.type),
      cdc: info.cdcColumn === f.name,
      numeric: isNumericType(f.type),
    }));
  }

  /** Snapshot settings of a view (time travel and partition), without filter or columns. */
  private snapshotOptions(view: TableView): ScanOptions {
    const o: ScanOptions = {};
    if (view.at !== undefined) o.timestamp = view.at + 1;
    if (view.partition !== undefined) o.partitions = [view.partition];
    return o;
  }

  private scanOptions(view: TableView, signal?: AbortSignal): ScanOptions {
    const o = this.snapshotOptions(view);
    if (view.filter !== undefined && view.filter.trim() !== '') o.filter = view.filter;
    if (view.columns !== undefined) o.columns = view.columns;
    if (signal) o.signal = signal;
    return o;
  }

  /** Namespaces with their tables. */
  async namespaces(signal?: AbortSignal): Promise<Array<{ name: string; comment: string; tables: Array<{ name: string; primaryKeys: string[]; rangePartitions: string[]; blobColumns: string[]; unsupported: string | null }> }>> {
    const namespaces = await this.lakehouse.catalog.listNamespaces({ signal });
    const tables = await this.lakehouse.listTables(undefined, { signal });
    return namespaces.map((ns) => ({
      name: ns.name,
      comment: ns.comment,
      tables: tables.filter((t) => t.namespace === ns.name).map((t) => {
        let blobs: string[] = [];
        try { blobs = blobColumnsOf(t); } catch { /* a bad declaration shows on the table's page */ }
        // a table this version cannot read is listed with why (its page would only show the error)
        return { name: t.name, primaryKeys: t.primaryKeys, rangePartitions: t.rangePartitions, blobColumns: blobs, unsupported: t.unsupported ?? null };
      }),
    }));
  }

  /** A table's schema, properties and partitions (with files, sizes and buckets) as of the view. */
  async table(view: TableView, signal?: AbortSignal) {
    const t = await this.open(view, signal);
    const info = t.info;
    const snapshot = await t.snapshot({ ...this.snapshotOptions(view) as { timestamp?: number; partitions?: string[] }, signal });
    const partitions = snapshot.map((p) => {
      const buckets = new Map<number, { files: number; bytes: number }>();
      let bytes = 0;
      for (const f of p.files) {
        const b = buckets.get(f.bucket) ?? { files: 0, bytes: 0 };
        b.files++;
        b.bytes += Number(f.size);
        bytes += Number(f.size);
        buckets.set(f.bucket, b);
      }
      return {
        partition: p.partitionDesc,
        values: Object.fromEntries(decodePartitionDesc(p.partitionDesc)),
        version: p.version,
        op: p.commitOp,
        timestamp: p.timestamp,
        files: p.files.length,
        bytes,
        buckets: [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([bucket, v]) => ({ bucket, ...v })),
      };
    });
    return {
      namespace: info.namespace,
      name: info.name,
      path: info.path,
      columns: this.columnsOf(t),
      primaryKeys: info.primaryKeys,
      rangePartitions: info.rangePartitions,
      hashBucketNum: info.hashBucketNum,
      cdcColumn: info.cdcColumn ?? null,
      properties: info.properties,
      partitions,
    };
  }

  /**
   * The commit history: per partition (newest first) and across partitions (one entry per commit,
   * newest first), of the newest {@link UiApiOptions.historyCommits} commits; `total` counts them all.
   */
  async history(view: TableView, signal?: AbortSignal): Promise<{ partitions: Record<string, PartitionEntryJson[]>; commits: CommitEntryJson[]; total: number }> {
    const t = await this.open(view, signal);
    const scope = view.partition !== undefined ? { partitionDesc: view.partition } : {};
    const versions: PartitionVersion[] = await t.history({ signal, ...scope, commits: this.historyCommits });
    const partitions: Record<string, PartitionEntryJson[]> = {};
    // A commit stamps one timestamp on every partition version it makes, so equal timestamps are one commit.
    const commits = new Map<number, CommitEntryJson>();
    for (const v of versions) {
      (partitions[v.partitionDesc] ??= []).push({ partition: v.partitionDesc, version: v.version, op: v.commitOp, timestamp: v.timestamp, commits: v.snapshot.length });
      let c = commits.get(v.timestamp);
      if (!c) commits.set(v.timestamp, (c = { timestamp: v.timestamp, partitions: [] }));
      c.partitions.push({ partition: v.partitionDesc, version: v.version, op: v.commitOp });
    }
    for (const list of Object.values(partitions)) list.sort((a, b) => b.version - a.version);
    const total = commits.size < this.historyCommits ? commits.size : await this.lakehouse.catalog.commitCount(t.info.tableId, { ...scope, signal });
    return { partitions, commits: [...commits.values()].sort((a, b) => b.timestamp - a.timestamp), total };
  }

  /** Reads rows `offset .. offset + limit` of the view, stopping the scan as soon as the page is full. */
  private async readPage(t: LakeSoulTable, view: TableView, offset: number, limit: number, signal?: AbortSignal): Promise<{ schema: Schema; batches: RecordBatch[]; more: boolean }> {
    let plan = await t.scan(this.scanOptions(view, signal));
    let skip = offset;
    // Without primary keys (no merge) and without a filter, every row of a file is a row of the scan:
    // the files' footers tell how many rows each holds, so a deep page skips whole files unread.
    if (skip > 0 && t.info.primaryKeys.length === 0 && !view.filter?.trim()) {
      const counted = await plan.withRowCounts({ signal });
      let first = 0;
      for (const s of counted.splits) {
        if (s.rowCount === null || s.rowCount > skip) break;
        skip -= s.rowCount;
        first++;
      }
      if (first > 0) plan = scanPlanFromJSON({ ...counted.toJSON(), splits: counted.splits.slice(first) }, t.stores);
    }
    const batches: RecordBatch[] = [];
    let need = limit;
    let more = false;
    for await (const b of plan.read({ signal })) {
      let start = 0;
      if (skip > 0) {
        const s = Math.min(skip, b.numRows);
        skip -= s;
        start = s;
      }
      if (start >= b.numRows) continue;
      if (need === 0) {
        more = true;
        break;
      }
      const take = Math.min(need, b.numRows - start);
      batches.push(b.slice(start, start + take));
      need -= take;
      if (start + take < b.numRows) {
        more = true;
        break;
      }
    }
    return { schema: plan.schema, batches, more };
  }

  /**
   * The view pinned to a commit: itself when it names one (`at`), else the view as of the newest
   * commit of its partitions now (a dropped partition's drop counts), which is what a read of the
   * latest state reads; unchanged for a table without commits.
   */
  private async pinned(t: LakeSoulTable, view: TableView, signal?: AbortSignal): Promise<TableView> {
    if (view.at !== undefined) return view;
    const versions = await this.lakehouse.catalog.listPartitions(t.info.tableId, view.partition !== undefined ? [view.partition] : undefined, { signal });
    if (versions.length === 0) return view;
    return { ...view, at: Math.max(...versions.map((v) => v.timestamp)) };
  }

  /**
   * A page of rows with previews of its blob columns, read at the view's `at`, or for the latest
   * state at its newest commit (returned as `at`: see {@link RowsJson.at}).
   */
  async rows(view: TableView, offset: number, limit: number, signal?: AbortSignal): Promise<RowsJson> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw invalid(`offset must be a non-negative integer (got ${offset})`, 'UI_BAD_OFFSET');
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_ROWS) throw invalid(`limit must be 1..${MAX_PAGE_ROWS} (got ${limit})`, 'UI_BAD_LIMIT');
    const t = await this.open(view, signal);
    view = await this.pinned(t, view, signal);
    const all = this.columnsOf(t);
    if (view.columns) view = { ...view, columns: view.columns.map((c) => columnAsSpelled(all, c)) };
    const page = await this.readPage(t, view, offset, limit, signal);
    const columns = page.schema.fields.map((f) => all.find((c) => c.name === f.name)!);
    const rows: CellJson[][] = page.batches.flatMap((b) => batchRowsJson(b, page.schema));
    const previews: Record<string, BlobPreview[]> = {};
    for (const c of columns) {
      if (c.blob) previews[c.name] = await this.previews(t, view, c.name, page.batches, signal);
      else if (c.binary) previews[c.name] = await inlinePreviews(page.batches, c.name);
    }
    return { columns, offset, rows, more: page.more, previews, at: view.at ?? null };
  }

  /**
   * Previews of the blobs of column `column` in `batches` (a page of the view). Each distinct
   * reference of the page is previewed once, {@link BLOB_FETCH_CONCURRENCY} at a time, and equal
   * references share the preview (3,000 rows naming one 20 MB file had taken the server to 24 GB
   * when read through a scan with `blobs`, a copy per row). A reference that cannot be read (outside
   * the blob roots, malformed) shows as such without hiding the others. See
   * {@link previewOfReference} for what is read.
   */
  private async previews(t: LakeSoulTable, view: TableView, column: string, batches: RecordBatch[], signal?: AbortSignal): Promise<BlobPreview[]> {
    const refs: unknown[] = [];
    for (const b of batches) {
      const vec = b.getChild(column);
      for (let r = 0; r < b.numRows; r++) refs.push(vec?.isValid(r) ? vec.get(r) : null);
    }
    const keys = refs.map(referenceKey);
    const distinct = [...new Set(keys.filter((k): k is string => k !== null))];
    const made = new Map<string | null, BlobPreview>([[null, { kind: 'missing' }]]);
    if (distinct.length > 0) {
      const fetcher = await this.fetcherOf(t, view, column, signal);
      const valueOf = new Map(keys.map((k, i) => [k, refs[i]]));
      await eachLimited(distinct, BLOB_FETCH_CONCURRENCY, async (key) => {
        made.set(key, await this.previewOfReference(fetcher, valueOf.get(key), signal));
      });
    }
    return keys.map((k) => made.get(k)!);
  }

  /**
   * The blob fetcher a scan of the view's snapshot would use for column `column` (the same roots and
   * confinement; a missing object is null); null when the snapshot has no files.
   */
  private async fetcherOf(t: LakeSoulTable, view: TableView, column: string, signal?: AbortSignal): Promise<BlobValueFetcher | null> {
    const plan = await t.scan({ ...this.snapshotOptions(view), columns: [column], blobs: { columns: [column], onMissing: 'null' }, signal });
    return plan.splits[0] ? plan.blobFetcher(plan.splits[0]) : null;
  }

  /**
   * The preview of the blob reference cell `value`: its size first (HEAD), then for a blob over
   * {@link WHOLE_READ_BYTES} its first bytes, which tell whether it is an image small enough to
   * decode; only such a blob is read whole, once {@link THUMBNAIL_BYTES_IN_FLIGHT} has room for it,
   * and dropped once its thumbnail is made. A missing object is `missing`; a reference that cannot be
   * read is `refused` or `error`. Cancellation throws.
   */
  private async previewOfReference(fetcher: BlobValueFetcher | null, value: unknown, signal?: AbortSignal): Promise<BlobPreview> {
    try {
      const blob = fetcher ? await openBlob(fetcher, value, signal) : null;
      if (blob === null) return { kind: 'missing' };
      if (blob.size > WHOLE_READ_BYTES) {
        const known = previewWithoutDecode(await blob.read(0, SNIFF_HEAD_BYTES, signal), blob.size);
        if (known) return known;
      }
      const release = await this.thumbnailBudget.acquire(blob.size, signal);
      try {
        return await previewOf(await blob.read(0, blob.size, signal));
      } finally {
        release();
      }
    } catch (e) {
      if (!(e instanceof LakeSoulError) || e.kind === 'Aborted') throw e;
      return { kind: e.kind === 'PermissionDenied' ? 'refused' : 'error', code: e.code, message: e.message };
    }
  }

  /**
   * One row of the view (row `index` of its scan) with previews of its blobs; text longer than
   * {@link MAX_DETAIL_CHARS} is cut, and `truncated` names the columns cut. Read at the view's `at`,
   * or for the latest state at its newest commit, returned as `at` (pass it for the row's blobs).
   */
  async row(view: TableView, index: number, signal?: AbortSignal) {
    if (!Number.isSafeInteger(index) || index < 0) throw invalid(`row must be a non-negative integer (got ${index})`, 'UI_BAD_ROW');
    const t = await this.open(view, signal);
    view = await this.pinned(t, view, signal);
    const full: TableView = { ...view, columns: undefined };
    const page = await this.readPage(t, full, index, 1, signal);
    const b = page.batches[0];
    if (!b) throw new LakeSoulError('NotFound', `table '${view.namespace}.${view.table}' has no row ${index} in this view`, { code: 'UI_NO_ROW', context: { table: view.table, namespace: view.namespace, row: index } });
    const columns = this.columnsOf(t);
    const values = batchRowsJson(b, page.schema, MAX_DETAIL_CHARS)[0]!;
    const previews: Record<string, BlobPreview> = {};
    for (const c of columns) {
      if (c.blob) previews[c.name] = (await this.previews(t, full, c.name, [b], signal))[0]!;
      else if (c.binary) previews[c.name] = (await inlinePreviews([b], c.name))[0]!;
    }
    const truncated = page.schema.fields.filter((_f, i) => typeof values[i] === 'string' && (values[i] as string).length > MAX_DETAIL_CHARS).map((f) => f.name);
    return { columns, index, values, truncated, previews, at: view.at ?? null };
  }

  /**
   * The blob of column `column` (a blob column or a binary column) of row `index` of the view,
   * opened: its size known (a HEAD), none of its bytes read yet.
   * @throws LakeSoulError PermissionDenied when the reference lies outside the blob roots, NotFound when missing.
   */
  private async locateBlob(view: TableView, index: number, column: string, signal?: AbortSignal): Promise<LocatedBlob> {
    if (!Number.isSafeInteger(index) || index < 0) throw invalid(`row must be a non-negative integer (got ${index})`, 'UI_BAD_ROW');
    const t = await this.open(view, signal);
    const name = `${view.namespace}.${view.table}`;
    const field = t.info.schema.fields.find((f) => f.name === column);
    const inline = field !== undefined && isBinaryType(field.type) && !blobColumnsOf(t.info).includes(column);
    if (!field || (!inline && !blobColumnsOf(t.info).includes(column))) {
      throw invalid(`column '${column}' of table '${name}' is neither a blob column nor a binary column`, 'UI_NOT_BLOB_COLUMN', { table: name, column });
    }
    const full: TableView = { ...view, columns: undefined };
    const page = await this.readPage(t, full, index, 1, signal);
    const b = page.batches[0];
    if (!b) throw new LakeSoulError('NotFound', `table '${name}' has no row ${index} in this view`, { code: 'UI_NO_ROW', context: { table: name, row: index } });
    const ref = b.getChild(column)?.get(0) ?? null;
    if (ref === null) throw new LakeSoulError('NotFound', `row ${index} of table '${name}' has no ${column}`, { code: 'UI_NO_BLOB', context: { table: name, column, row: index } });
    let blob: OpenedBlob | null;
    if (inline) {
      blob = inMemoryBlob(ref as Uint8Array);
    } else {
      // a missing object is null (NotFound below); a refusal is thrown as it is
      const fetcher = await this.fetcherOf(t, view, column, signal);
      blob = fetcher ? await openBlob(fetcher, ref, signal) : null;
    }
    if (blob === null) throw new LakeSoulError('NotFound', `blob of row ${index}, column '${column}' of table '${name}' is missing: ${typeof ref === 'string' ? ref : cellJson(ref, field.type)}`, { code: 'OBJECT_NOT_FOUND', context: { table: name, column, row: index } });
    const refText = inline ? `${column}-${index + 1}` : typeof ref === 'string' ? ref : String((ref as { path?: unknown }).path ?? 'blob');
    const fileName = refText.replace(/#.*$/, '').split('/').pop() || 'blob';
    return { blob, inline: inline ? (ref as Uint8Array) : null, fileName, where: `row ${index}, column '${column}' of table '${name}'`, context: { table: name, column, row: index } };
  }

  /**
   * The bytes of blob column `column` (or of binary column `column`) of row `index` of the view:
   * for `full`, an image a browser shows (the original, or a PNG made from formats browsers lack);
   * otherwise the original bytes. The whole object is read and returned in one buffer, outside the
   * UI's byte budgets: the server sends blobs with {@link UiApi.blobStream}.
   * @throws LakeSoulError PermissionDenied when the reference lies outside the blob roots, NotFound when missing.
   */
  async blob(view: TableView, index: number, column: string, mode: 'full' | 'original', signal?: AbortSignal): Promise<BlobBytes> {
    const b = await this.locateBlob(view, index, column, signal);
    const bytes = await b.blob.read(0, b.blob.size, signal);
    if (mode === 'full') {
      const img = await fullImageOf(bytes);
      if (!img) throw notAnImage(b, sniffType(bytes));
      return { bytes: img.bytes, type: img.type, fileName: b.fileName };
    }
    return { bytes, type: sniffType(bytes), fileName: b.fileName };
  }

  /**
   * {@link UiApi.blob} read as it is sent: the type comes from the object's first bytes, and the
   * original's bytes (for `full`, when browsers show its format as it is) are read in ranged reads of
   * {@link DOWNLOAD_CHUNK_BYTES}, each counted against {@link DOWNLOAD_BYTES_IN_FLIGHT} until the
   * next is asked for: a slow client holds one chunk, not the object. An image converted for `full`
   * (TIFF, AVIF: at most {@link MAX_DECODE_BYTES}) is read whole under the thumbnail budget.
   * @throws LakeSoulError PermissionDenied when the reference lies outside the blob roots, NotFound
   *   when missing, Unsupported (`UI_NOT_IMAGE`) for `full` of a blob that is no image browsers show
   *   or sharp converts; errors of later reads come from `body`, among them Io (`UI_BLOB_CHANGED`)
   *   when the object changed since it was opened (`body` never ends after bytes of two versions).
   */
  async blobStream(view: TableView, index: number, column: string, mode: 'full' | 'original', signal?: AbortSignal): Promise<BlobDownload> {
    const b = await this.locateBlob(view, index, column, signal);
    const { blob, fileName } = b;
    const type = sniffType(await blob.read(0, Math.min(SNIFF_HEAD_BYTES, blob.size), signal));
    if (mode === 'full' && !isBrowserImage(type)) {
      if (!type.startsWith('image/') || blob.size > MAX_DECODE_BYTES) throw notAnImage(b, type);
      const release = await this.thumbnailBudget.acquire(blob.size, signal);
      let img: Awaited<ReturnType<typeof fullImageOf>>;
      try {
        img = await fullImageOf(await blob.read(0, blob.size, signal));
      } finally {
        release();
      }
      if (!img) throw notAnImage(b, type);
      return { type: img.type, size: img.bytes.length, fileName, body: oneChunk(img.bytes) };
    }
    // a binary column's value is in memory already (the row read holds it)
    const body = b.inline ? oneChunk(b.inline) : blobChunks(blob, this.downloadBudget, this.downloadChunkBytes, signal);
    return { type, size: blob.size, fileName, body };
  }

  /** Reads every row of a snapshot of some partitions (at most {@link MAX_ANALYSIS_ROWS}). */
  private async readAll(t: LakeSoulTable, options: ScanOptions, signal?: AbortSignal): Promise<{ schema: Schema; batches: RecordBatch[]; truncated: boolean }> {
    const plan = await t.scan({ ...options, signal });
    const batches: RecordBatch[] = [];
    let n = 0;
    let bytes = 0;
    for await (const b of plan.read({ signal })) {
      // past the byte limit with more to read (a read that ends there is whole)
      if (bytes > this.analysisBytes) return { schema: plan.schema, batches, truncated: true };
      if (n + b.numRows > MAX_ANALYSIS_ROWS) {
        batches.push(b.slice(0, MAX_ANALYSIS_ROWS - n));
        return { schema: plan.schema, batches, truncated: true };
      }
      batches.push(b);
      n += b.numRows;
      bytes += b.data.byteLength;
    }
    return { schema: plan.schema, batches, truncated: false };
  }

  /**
   * Rows added, changed and deleted between the commits at `from` and `to` (from < to), from one
   * incremental read of (from, to]. For a partition it lists as reset (rewritten or dropped in the
   * range) it holds the whole partition as of `to`, compared with the partition as of `from`. For the
   * others it holds what was added: in PK tables the keys that changed (CDC deletes included), whose
   * values before and after come from the snapshots at `from` and `to` (an increment may hold only
   * some columns of a row); in tables without primary keys, the added rows themselves.
   */
  async diff(view: TableView, from: number, to: number, signal?: AbortSignal): Promise<DiffJson> {
    // the read is of (from, to], asked as [from + 1, to + 1): both must stay exact
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to + 1) || from >= to) throw invalid(`diff needs two commit times with from < to (got ${from}, ${to})`, 'UI_BAD_DIFF_RANGE');
    return this.inSlot(signal, () => this.diffIn(view, from, to, signal));
  }

  private async diffIn(view: TableView, from: number, to: number, signal?: AbortSignal): Promise<DiffJson> {
    const t = await this.open(view, signal);
    const { primaryKeys: pks, cdcColumn: cdc } = t.info;
    const columns = t.info.schema.fields.map((f) => f.name).filter((c) => c !== cdc);
    // a commit stamped by a writer whose clock runs a little ahead of this process's: an end after
    // now is refused (INCREMENTAL_END_IN_FUTURE), so the read waits until now has reached it
    const ahead = to + 1 - Date.now();
    if (ahead > 0 && ahead <= MAX_CLOCK_AHEAD_MS) await abortableSleep(ahead, signal, `diff of table '${t.info.namespace}.${t.info.name}'`);
    const plan = await t.scan({ incremental: { start: from + 1, end: to + 1 }, ...(view.partition !== undefined ? { partitions: [view.partition] } : {}), signal });
    const reset = new Set(plan.toJSON().resetPartitions ?? []);
    const methods: Record<string, DiffMethod> = {};
    for (const p of reset) methods[p] = 'reset';
    for (const s of plan.splits) methods[s.partitionDesc] ??= 'incremental';
    const diff = new DiffBuilder(from, to, pks, columns, methods);
    const parts = (m: DiffMethod) => Object.keys(methods).filter((p) => methods[p] === m);
    const incremental = new Set(parts('incremental'));
    // The increment, by partition: a reset partition's rows (its whole state as of `to`), a table
    // without primary keys' added rows; of the other partitions of a PK table only the keys changed
    // (with their values, for the filter that reads them).
    const increment = new Map<string, DiffRow[]>();
    const changedKeys = new Map<string, unknown[]>();
    // partitions whose increment was not read whole (the read stopped in or before them)
    const unread = new Set<string>();
    let rows = 0;
    let bytes = 0;
    let at = 0;
    read: for (; at < plan.splits.length; at++) {
      const split = plan.splits[at]!;
      const keysOnly = pks.length > 0 && incremental.has(split.partitionDesc);
      for await (const b of plan.readSplit(split, { signal })) {
        // past the limit with more to read: this split (and the rest) is not read whole
        if (rows > MAX_ANALYSIS_ROWS || bytes > this.analysisBytes) break read;
        if (keysOnly) {
          const keyOf = keyReader(b, pks);
          for (let r = 0; r < b.numRows; r++) { const k = keyOf(r); changedKeys.set(k.key, k.values); }
        } else {
          const list = increment.get(split.partitionDesc) ?? [];
          increment.set(split.partitionDesc, list);
          list.push(...diffRows(plan.schema, [b], cdc));
        }
        rows += b.numRows;
        bytes += b.data.byteLength;
      }
    }
    for (const s of plan.splits.slice(at)) unread.add(s.partitionDesc);
    if (unread.size > 0) diff.stopped(unread);
    if (pks.length > 0) {
      // only the keys the increment names, read from the two snapshots (filtered to them where their
      // types allow): a commit changing 2 rows of a 250,000-row table reads 2 rows of each
      if (changedKeys.size > 0) {
        const inc = [...incremental];
        const before = await this.keyedRows(t, from, inc, changedKeys, diff, signal);
        const after = await this.keyedRows(t, to, inc, changedKeys, diff, signal);
        compareByKey(diff, pks, before, after, new Set(changedKeys.keys()));
      }
    } else {
      for (const p of incremental) for (const o of increment.get(p) ?? []) diff.added(o);
    }
    for (const p of parts('reset')) {
      // a partition whose rows as of `to` were not all read is not compared: its missing rows would
      // come out as deleted
      if (unread.has(p)) continue;
      const r = await this.readAll(t, { timestamp: from + 1, partitions: [p] }, signal);
      if (r.truncated) {
        diff.stopped([p]);
        continue;
      }
      const before = diffRows(r.schema, r.batches, cdc);
      const after = increment.get(p) ?? [];
      if (pks.length > 0) compareByKey(diff, pks, before, after, null);
      else compareAsBags(diff, before, after);
    }
    return diff.result;
  }

  /**
   * The rows of the snapshot at commit `ts` of `partitions` whose primary key is one of `keys` (its
   * identity, {@link keyReader}, to its values): read with a filter naming them,
   * {@link DIFF_KEYS_PER_READ} at a time, when the key columns' types compare exactly with filter
   * values (integers, strings, booleans); else by reading the partitions and keeping those rows (up
   * to {@link MAX_ANALYSIS_ROWS} rows read, beyond which the counts are marked partial).
   */
  private async keyedRows(t: LakeSoulTable, ts: number, partitions: string[], keys: Map<string, unknown[]>, diff: DiffBuilder, signal?: AbortSignal): Promise<DiffRow[]> {
    const pks = t.info.primaryKeys;
    const cdc = t.info.cdcColumn;
    const types = pks.map((k) => t.info.schema.fields.find((f) => f.name === k)?.type);
    const filterable = types.every((ty) => ty !== undefined && FILTER_EXACT_KEY_TYPES.has(ty.typeId));
    const out: DiffRow[] = [];
    const all = [...keys.entries()];
    const chunks = filterable ? Math.ceil(all.length / DIFF_KEYS_PER_READ) : 1;
    for (let c = 0; c < chunks; c++) {
      const chunk = filterable ? all.slice(c * DIFF_KEYS_PER_READ, (c + 1) * DIFF_KEYS_PER_READ) : all;
      const wanted = new Set(chunk.map(([k]) => k));
      const options: ScanOptions = { timestamp: ts + 1, partitions, signal };
      if (filterable) {
        // one IN per key column (for a composite key, a superset of the keys: the rows are kept by key)
        const ins: FilterExpr[] = pks.map((column, i) => {
          const seen = new Map<string, unknown>();
          for (const [, values] of chunk) seen.set(exactText(values[i]), values[i]);
          return { op: 'in', column, values: [...seen.values()] as FilterValue[] };
        });
        options.filter = ins.length === 1 ? ins[0]! : { op: 'and', args: ins };
      }
      const plan = await t.scan(options);
      let read = 0;
      let bytes = 0;
      for await (const b of plan.read({ signal })) {
        // past the limit with more to read (a read without a filter, or rows of many versions)
        if (read > MAX_ANALYSIS_ROWS || bytes > this.analysisBytes) {
          diff.stopped(partitions);
          break;
        }
        out.push(...diffRows(plan.schema, [b], cdc, { primaryKeys: pks, keys: wanted }));
        read += b.numRows;
        bytes += b.data.byteLength;
      }
    }
    return out;
  }

  /** A histogram (numeric column) or value counts (any other column) over the view's rows. */
  async stats(view: TableView, column: string, signal?: AbortSignal): Promise<StatsJson> {
    return this.inSlot(signal, () => this.statsIn(view, column, signal));
  }

  private async statsIn(view: TableView, column: string, signal?: AbortSignal): Promise<StatsJson> {
    const t = await this.open(view, signal);
    const field = t.info.schema.fields.find((f) => f.name === column);
    if (!field) throw invalid(`column '${column}' is not in the schema of table '${view.namespace}.${view.table}'`, 'UNKNOWN_COLUMN', { table: view.table, column });
    const read = await this.readAll(t, this.scanOptions({ ...view, columns: [column] }), signal);
    let nulls = 0;
    let count = 0;
    if (isNumericType(field.type)) {
      const values: number[] = [];
      // NaN and infinities have no bin: counted apart (they were counted as nulls)
      const nonFinite: NonFiniteCounts = { nan: 0, infinity: 0, negativeInfinity: 0 };
      for (const b of read.batches) {
        const cell = plainReader(b.getChild(column)!);
        for (let r = 0; r < b.numRows; r++) {
          count++;
          const n = numericValue(cell(r), field.type);
          if (n === null) nulls++;
          else if (Number.isNaN(n)) nonFinite.nan++;
          else if (n === Infinity) nonFinite.infinity++;
          else if (n === -Infinity) nonFinite.negativeInfinity++;
          else values.push(n);
        }
      }
      let min = Infinity;
      let max = -Infinity;
      for (const x of values) { if (x < min) min = x; if (x > max) max = x; }
      if (values.length === 0) return { kind: 'histogram', column, count, nulls, nonFinite, min: null, max: null, bins: [], truncated: read.truncated };
      const integral = field.type.typeId === Type.Int;
      const span = max - min;
      // Integer columns with few distinct values get one bin per value, so no bin straddles two integers.
      const nBins = span === 0 ? 1 : integral && span < HISTOGRAM_BINS ? span + 1 : HISTOGRAM_BINS;
      const lo0 = integral && span < HISTOGRAM_BINS ? min - 0.5 : min;
      let bins: Array<{ lo: number; hi: number; count: number }>;
      if (Number.isFinite(span)) {
        const width = span === 0 ? 1 : integral && span < HISTOGRAM_BINS ? 1 : span / nBins;
        bins = Array.from({ length: nBins }, (_, i) => ({ lo: lo0 + i * width, hi: lo0 + (i + 1) * width, count: 0 }));
        for (const x of values) bins[Math.min(nBins - 1, Math.floor((x - lo0) / width))]!.count++;
      } else {
        // finite values whose span overflows (-1e308 .. 1e308): worked out in halves, which do not
        // (max - min was Infinity, each bin index NaN, and the answer a 500)
        const half = max / 2 - min / 2;
        const edge = (i: number) => (i === nBins ? max : (min / 2 + half * (i / nBins)) * 2);
        bins = Array.from({ length: nBins }, (_, i) => ({ lo: edge(i), hi: edge(i + 1), count: 0 }));
        for (const x of values) bins[Math.min(nBins - 1, Math.floor(((x / 2 - min / 2) / half) * nBins))]!.count++;
      }
      return { kind: 'histogram', column, count, nulls, nonFinite, min, max, bins, truncated: read.truncated };
    }
    // counted by the exact value, not the text shown (cut at MAX_CELL_CHARS; binary had been its
    // size, timestamps their milliseconds: distinct values were counted as one)
    const counts = new Map<string, { value: CellJson; count: number }>();
    for (const b of read.batches) {
      const cell = plainReader(b.getChild(column)!);
      for (let r = 0; r < b.numRows; r++) {
        count++;
        const raw = cell(r);
        if (raw === null || raw === undefined) { nulls++; continue; }
        const k = exactText(raw);
        const e = counts.get(k);
        if (e) e.count++;
        else counts.set(k, { value: cellJson(raw, field.type, undefined, 'hex'), count: 1 });
      }
    }
    // ties by value, numbers numerically and the rest by code units: not localeCompare, which made
    // the values shown (and those counted as others) depend on the server's LANG
    const sorted = [...counts.values()].sort((a, b) => b.count - a.count || compareCells(a.value, b.value));
    const shown = sorted.slice(0, MAX_COUNT_VALUES);
    const others = sorted.slice(MAX_COUNT_VALUES).reduce((s, e) => s + e.count, 0);
    return { kind: 'counts', column, count, nulls, distinct: counts.size, values: shown, others, truncated: read.truncated };
  }
}

/** Orders two cells' values the same on every machine: numbers by value, other values by the code units of their text. */
function compareCells(a: CellJson, b: CellJson): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = typeof a === 'string' ? a : JSON.stringify(a);
  const y = typeof b === 'string' ? b : JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
