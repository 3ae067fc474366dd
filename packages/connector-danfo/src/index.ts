// Public API of @lakesoul-ts/connector-danfo: LakeSoul tables as Danfo.js DataFrames, and back.
// The type mapping is documented in docs/dataframes.md.
export { readDataFrame, streamDataFrames, toDataFrame } from './dataframe-reader.js';
export { writeDataFrame } from './dataframe-writer.js';
export { fromDataFrame, columnsToArrow, dataFrameColumns } from './arrow-encoder.js';
export type { ColumnValues } from './arrow-encoder.js';
export { arrowToColumns } from './arrow-decoder.js';
export type { DecodedColumns, DecodeContext } from './arrow-decoder.js';
export { loadDanfo } from './danfo-loader.js';
export type {
  DanfoConvertOptions,
  DanfoDataFrameLike,
  DanfoDtype,
  DanfoEncodeOptions,
  DanfoIncrementalOptions,
  DanfoModule,
  DanfoReadOptions,
  DanfoTable,
  FrameOf,
  Int64Mode,
  ReadDataFrameOptions,
  WriteDataFrameOptions,
} from './danfo-options.js';
