// Object stores: backends, registry, URI helpers and wrappers.
export { LocalStore, confinedReaderOf, rangeReaderOf } from './local-store.js';
export type { LocalStoreOptions, ConfinedReader, RangeReader } from './local-store.js';
export { MemoryStore } from './memory-store.js';
export type { MemoryStoreOptions } from './memory-store.js';
export { DEFAULT_S3_IDLE_TIMEOUT_MS, S3Store, s3OptionsFromEnv } from './s3-store.js';
export { S3RetryStrategy } from './s3-retry.js';
export type { S3Credentials, S3StoreOptions } from './s3-store.js';
export { StoreRegistry } from './store-registry.js';
export type { ResolvedLocation, StoreRegistryOptions } from './store-registry.js';
export { parseUri, formatUri, joinUri, toFileUri, normalizeTablePath } from './store-uri.js';
export type { ParsedUri } from './store-uri.js';
export { withConcurrencyLimit, withLatency, Semaphore } from './store-wrappers.js';
export type { LatencyOptions } from './store-wrappers.js';
export { readRanges } from './range-reader.js';
export { batchDeleterOf, deleteGroupSize, deleteObjects, DEFAULT_DELETE_CONCURRENCY } from './batch-delete.js';
export type { BatchDeleter, DeleteObjectsOptions } from './batch-delete.js';
export type { ReadRangesOptions } from './range-reader.js';
