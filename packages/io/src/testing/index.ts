// Test helpers of @lakesoul-ts/io (vitest suites other packages and backends run).
export { runObjectStoreConformance, patternBytes } from './store-conformance.js';
export type { ConformanceOptions } from './store-conformance.js';
