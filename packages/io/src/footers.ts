/**
 * `@lakesoul-ts/io/footers`: object stores and row counts from Parquet footers, without the rest of the
 * package (Arrow, Parquet decoding, merge, blobs, workers). For tools that only look at files, such as
 * the CLI's `history`, whose start-up is dominated by loading modules.
 */
export { StoreRegistry } from './store/store-registry.js';
export type { StoreRegistryOptions } from './store/store-registry.js';
export { countFileRows, fileRowCount } from './table/row-counts.js';
export type { CountedFile } from './table/row-counts.js';
