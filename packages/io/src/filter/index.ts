// Row filters: SQL-like parsing, normalization, evaluation on batches, row-group pruning.
export { parseFilter, normalizeFilter, filterColumns, isPkOnly, MAX_FILTER_LENGTH, MAX_FILTER_DEPTH } from './filter-parse.js';
export { checkFilter, evaluateFilter, filterBatch, maskPositions, rowGroupMayMatch, compareCodePoints, type ColumnStatsLike } from './filter-eval.js';
export { likeMatcher, type LikeMatcher } from './like.js';
