// Public API of @lakesoul-ts/ui: a local, read-only web UI over a Lakehouse.
export { startUi, DEFAULT_UI_PORT, MAX_REQUEST_HEAD_BYTES, type StartUiOptions, type UiServer } from './ui-server.js';
export { isLoopbackHost } from './loopback.js';
export {
  UiApi,
  MAX_PAGE_ROWS,
  MAX_ANALYSIS_ROWS,
  MAX_ANALYSIS_BYTES,
  DIFF_KEYS_PER_READ,
  ANALYSIS_SLOTS,
  HISTOGRAM_BINS,
  MAX_HISTORY_COMMITS,
  MAX_COUNT_VALUES,
  MAX_DETAIL_CHARS,
  BLOB_FETCH_CONCURRENCY,
  THUMBNAIL_BYTES_IN_FLIGHT,
  DOWNLOAD_BYTES_IN_FLIGHT,
  DOWNLOAD_CHUNK_BYTES,
  WHOLE_READ_BYTES,
  type TableView,
  type UiApiOptions,
  type ColumnJson,
  type RowsJson,
  type StatsJson,
  type NonFiniteCounts,
  type PartitionEntryJson,
  type CommitEntryJson,
  type BlobBytes,
  type BlobDownload,
  type UiMemoryJson,
} from './ui-api.js';
export type { ByteBudgetState } from './ui-blobs.js';
export { MAX_DIFF_LIST, type DiffJson, type DiffMethod, type RowObject } from './ui-diff.js';
export { sniffType, previewOf, previewWithoutDecode, fullImageOf, SNIFF_HEAD_BYTES, MAX_DECODE_BYTES, MAX_DECODE_PIXELS, THUMB_SIZE, FULL_VIEW_MAX_SIDE, type BlobPreview } from './ui-images.js';
export { cellJson, MAX_CELL_CHARS, type CellJson } from './ui-values.js';
