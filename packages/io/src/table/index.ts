// Table API: Lakehouse, LakeSoulTable, scans and maintenance (owned by the table area).
export { Lakehouse } from './lakehouse.js';
export type {
  LakehouseOpenOptions,
  LakehouseCreateTableOptions,
  DropTableOptions,
  PurgeProgress,
  CatalogOpenOptions,
  TableSource,
} from './lakehouse.js';
export { LakeSoulTable } from './lakesoul-table.js';
export type { DeleteOptions, DeleteResult, UpdateResult } from './lakesoul-table.js';
export { TableScanPlan, scanPlanFromJSON, rebatch, DEFAULT_BATCH_SIZE } from './scan-plan.js';
export type { SplitReadOptions } from './scan-plan.js';
export { bucketsOfFilter } from './scan-plan.js';
export type { SelectiveReadStats } from './selective-read.js';
export { DEFAULT_TARGET_FILE_SIZE, DEFAULT_MAX_BUFFERED_BYTES, MAX_UPLOADS_IN_FLIGHT, UPLOAD_BYTES_IN_FLIGHT } from './table-writer.js';
export type { TableWriteOptions, StagedWrite, WrittenFile, OverwritePlan } from './table-writer.js';
export type { StageOptions, CommitStagedOptions } from './table-staging.js';
export { DEFAULT_RETENTION_MS, DEFAULT_ORPHAN_SAFETY_WINDOW_MS, MIN_ORPHAN_SAFETY_WINDOW_MS } from './table-maintenance.js';
export type { CompactOptions, CleanupOptions, CleanupProgress, CleanupReport, CleanupFile, RewriteResult, RewriteProgress } from './table-maintenance.js';
export { partitionDirName, partitionDirNameLimit, nativeDataFileUri, storedLocation } from './data-file-paths.js';
export { bucketRuleOf } from './bucket-rule.js';
export { SCAN_OPTIONS, WRITE_OPTIONS } from './option-names.js';
export { partitionMayMatch, rangeValueTextOfInput } from './partition-values.js';
