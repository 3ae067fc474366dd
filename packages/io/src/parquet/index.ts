// Parquet: encode/decode through the native codec or parquet-wasm, footer + statistics reader, casts after round trips.
export {
  encodeParquet,
  encodeParquetInPool,
  encodeRowsInPool,
  type RowSelection,
  RowSource,
  decodeParquet,
  decoderReadsPageIndex,
  castTableToSchema,
  parquetWasm,
  DEFAULT_ROW_GROUP_SIZE,
  DEFAULT_DECODE_BATCH_SIZE,
  type EncodeParquetOptions,
  type DecodeParquetOptions,
  type SparseParquetFile,
  type RawDecodeRequest,
  type RawEncodeRequest,
  type PreparedRowSource,
  type CastTableOptions,
} from './parquet-codec.js';
export {
  readParquetFooter,
  decodeFileMetaData,
  decodeOffsetIndex,
  decodeColumnIndex,
  type PageLocation,
  assertParquetMagic,
  unsupportedFormat,
  type ParquetFooter,
  type ParquetRowGroupInfo,
  type ParquetColumnStats,
  type StatValue,
  type ReadFooterOptions,
} from './parquet-footer.js';
export { columnFileOfPages, pageRowCounts, pagesOfRanges, pagesOfRows, positionsInPages, rowsOfPages, type ColumnFileOptions } from './page-select.js';
export { ParquetMetaCache, sharedParquetMetaCache, fileMetaKey, META_CACHE_BYTES_ENV, DEFAULT_META_CACHE_BYTES } from './meta-cache.js';
export { nativeParquet, type NativeParquet } from './parquet-native.js';
