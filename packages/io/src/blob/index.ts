// Blob (file reference) columns: declaration, safe resolution, prefetching reads, folder/manifest helpers.
export { blobColumnsOf, blobRootsOf, blobBytesColumnName, BLOB_COLUMNS_PROPERTY, BLOB_ROOTS_PROPERTY, BLOB_FIELD_METADATA, BLOB_BYTES_SUFFIX } from './blob-columns.js';
export type { BlobTableDescription } from './blob-columns.js';
export { BlobRoots, parseBlobReferenceString } from './blob-reference.js';
export type { BlobReference, BlobRootsOptions, ResolvedBlobReference } from './blob-reference.js';
export { BlobFetcher, blobReferenceOf, blobReferenceReader, describeReference } from './blob-fetch.js';
export type { BlobFetcherOptions, BlobTarget } from './blob-fetch.js';
export { resolveBlobs, DEFAULT_BLOB_CONCURRENCY, DEFAULT_BLOB_BYTES_IN_FLIGHT } from './blob-resolver.js';
export type { BlobReadStats, ResolveBlobsOptions } from './blob-resolver.js';
export { scanImageFolder, readManifest, IMAGE_EXTENSIONS } from './image-folder.js';
export type { ScanImageFolderOptions, ReadManifestOptions } from './image-folder.js';
