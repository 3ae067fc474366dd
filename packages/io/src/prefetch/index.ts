// Byte-bounded ordered prefetch used by scans (owned by the table area).
export {
  prefetchOrdered,
  DEFAULT_PREFETCH_BYTES,
  DEFAULT_PREFETCH_CONCURRENCY,
} from './ordered-prefetch.js';
export type { PrefetchTask, PrefetchOptions, PrefetchStats } from './ordered-prefetch.js';
