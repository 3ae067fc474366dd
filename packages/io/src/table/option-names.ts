/**
 * The option names of the table API's calls, checked complete against their interfaces by the compiler
 * (meta's `optionNames`), for the run-time check of misspelt keys (`refuseUnknownOptions`). Those of
 * options declared in lakehouse.ts and lakesoul-table.ts are kept there (no import cycle).
 */
import { optionNames, type HistoryOptions, type SnapshotOptions } from '@lakesoul-ts/meta';
import type { ScanOptions } from '../types.js';
import type { TableWriteOptions } from './table-writer.js';
import type { CommitStagedOptions, StageOptions } from './table-staging.js';
import type { CleanupOptions, CompactOptions } from './table-maintenance.js';

/** Options of `LakeSoulTable.write`. */
export const WRITE_OPTIONS = optionNames<TableWriteOptions>({
  maxBufferedBytes: true, schemaMode: true, rowGroupSize: true, mode: true, replacePartitions: true, replaceWhere: true,
  targetFileSize: true, signal: true,
});

/** Options of `LakeSoulTable.stage`. */
export const STAGE_OPTIONS = optionNames<StageOptions>({
  overwrite: true, maxBufferedBytes: true, schemaMode: true, rowGroupSize: true, mode: true, replacePartitions: true,
  replaceWhere: true, targetFileSize: true, signal: true,
});

/** Options of `LakeSoulTable.planOverwrite`. */
export const PLAN_OVERWRITE_OPTIONS = optionNames<Pick<TableWriteOptions, 'replacePartitions' | 'replaceWhere' | 'signal'>>({
  replacePartitions: true, replaceWhere: true, signal: true,
});

/** Options of `LakeSoulTable.commitStaged`. */
export const COMMIT_STAGED_OPTIONS = optionNames<CommitStagedOptions>({ signal: true, overwrite: true });

/** Options of `LakeSoulTable.scan`, `read` and `toArrow`. */
export const SCAN_OPTIONS = optionNames<ScanOptions>({
  partitions: true, columns: true, filter: true, version: true, timestamp: true, incremental: true, batchSize: true,
  mergeOperators: true, blobs: true, prefetchBytes: true, signal: true,
});

/** Options of `LakeSoulTable.history`. */
export const HISTORY_OPTIONS = optionNames<HistoryOptions>({ partitionDesc: true, commits: true, signal: true });

/** Options of `LakeSoulTable.snapshot`. */
export const SNAPSHOT_OPTIONS = optionNames<SnapshotOptions>({ version: true, timestamp: true, incremental: true, partitions: true, partitionMatch: true, signal: true, onTableInfo: true });

/** Options of `LakeSoulTable.compact`. */
export const COMPACT_OPTIONS = optionNames<CompactOptions>({ partitions: true, bucket: true, signal: true, onProgress: true });

/** Options of `LakeSoulTable.cleanup`. */
export const CLEANUP_OPTIONS = optionNames<CleanupOptions>({ retainSince: true, orphanSafetyWindowMs: true, assumeNoWritesInFlight: true, dryRun: true, signal: true, onProgress: true });

/** The values of `write`'s `mode`. */
export const WRITE_MODES = ['append', 'upsert', 'overwrite'] as const;
