// Public API of @lakesoul-ts/io. Each area keeps its own barrel (owned by its module); this file only
// re-exports them.
export type * from './types.js';
export { OBJECT_STORE_METHODS } from './types.js';
export * from './store/index.js';
export * from './blob/index.js';
export * from './hash/index.js';
export * from './parquet/index.js';
export { decodedRowGroupSizes, readDecodedRowGroupSizes, type DecodedRowGroupSize, type DecodedSizeOptions } from './parquet/decoded-size.js';
export * from './arrow/index.js';
export * from './filter/index.js';
export * from './merge/index.js';
export * from './table/index.js';
export * from './prefetch/index.js';
export * from './import/index.js';
export * from './workers/index.js';
export * from './native/index.js';
// The error type every call throws, so that `import { LakeSoulError } from '@lakesoul-ts/io'` works
// beside the API that throws it (it is meta's class: `instanceof` holds across both imports).
export { LakeSoulError } from '@lakesoul-ts/meta';
export type { LakeSoulErrorCode, LakeSoulErrorContext, LakeSoulErrorKind } from '@lakesoul-ts/meta';
export { loadedArrowVersion } from './arrow/foreign-arrow.js';
