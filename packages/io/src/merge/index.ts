// Merge-on-read of PK tables and concatenation of non-PK tables (protocol §5).
export {
  mergeSortedSources,
  concatSources,
  DEFAULT_MERGE_BATCH_SIZE,
  type MergeSource,
  type MergeOptions,
  type ConcatOptions,
} from './merge-on-read.js';
