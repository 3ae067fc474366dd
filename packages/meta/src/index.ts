export { LakeSoulError, inputText } from './errors.js';
export type { LakeSoulErrorKind, LakeSoulErrorCode, LakeSoulErrorContext, LakeSoulErrorOptions } from './errors.js';
export { FailedLoginLimiter, FAILED_LOGIN_BURST, FAILED_LOGIN_REFILL_MS, MIN_UNGUESSABLE_TOKEN_CHARS } from './failed-logins.js';
export type { FailedLoginLimiterOptions } from './failed-logins.js';
export { optionNames, refuseNonBooleanOptions, refuseOptionValue, refuseUnknownOptions } from './options.js';
export type { OptionNames } from './options.js';
export type * from './types.js';
export { mapSqlError, mapConnectError, PARTITION_VERSION_CONSTRAINT } from './sql-driver.js';
export { abortedError, abortedErrorFor, abortableSleep, isAbortError, throwIfAborted, whenAborted } from './abort.js';
export type { SqlDriver, SqlDriverCapabilities, SqlExecutor, SqlQueryOptions, SqlQueryResult, SqlErrorContext } from './sql-driver.js';
export { DEFAULT_QUERY_TIMEOUT_MS, PgDriver, quoteIdent, SERVER_TIMEOUT_MARGIN_MS } from './pg-driver.js';
export type { PgDriverOptions } from './pg-driver.js';
export { PGliteDriver, PGLITE_LOCK_FILE, PGLITE_CATALOG_SETTINGS, PGLITE_DURABILITY_SETTINGS, PGLITE_WAL_SEGMENT_MB } from './pglite-driver.js';
export type { PGliteDriverOptions } from './pglite-driver.js';
export {
  CATALOG_SERVER_FILE, CATALOG_SERVER_STARTING_FILE, claimCatalogServer, clearCatalogServerStarting, markCatalogServerStarting, openEmbeddedDriver,
  readCatalogServerInfo, serveCatalog, shareCatalogDirectory, SocketDriver, startingCatalogServer,
} from './catalog-server.js';
export { resolveEmbeddedDriver } from './catalog-server.js';
export { catalogServerAlive, catalogServerDirectory, catalogServerForeignUid, foreignCatalogServerError } from './catalog-server.js';
export type { ResolveEmbeddedOptions, ResolvedEmbeddedDriver } from './catalog-server.js';
export { ServedCatalogDriver } from './served-driver.js';
export type { ServedCatalogDriverOptions } from './served-driver.js';
export { ownProcessStart, processAlive, processStartTime } from './process-alive.js';
export { flushDirectorySync, flushDirectoryTreeSync, madeDirectoryEntries, makeDirectory, makeDirectorySync } from './directories.js';
export type { CatalogServer, CatalogServerClaim, CatalogServerInfo, ServeCatalogOptions, ShareCatalogOptions } from './catalog-server.js';
export { TRANSACTION_IDLE_MS } from './catalog-server.js';
export { resolveCatalogConfig, refuseEmptyUrl, toPostgresUrl, parseProperties, readLakeSoulHome, DEFAULT_PGLITE_DIR, embeddedCatalogDir } from './catalog-config.js';
export type { CatalogConfig, PgCatalogConfig, PGliteCatalogConfig, ResolveCatalogConfigOptions } from './catalog-config.js';
export { bootstrapCatalogSchema, catalogSchemaComplete, CATALOG_SCHEMA_STATEMENTS, COMPACTION_NOTIFY_CHANNEL, COMPACTION_NOTIFY_THRESHOLD } from './catalog-schema.js';
export { arrowSchemaToJson, arrowSchemaFromJson } from './arrow-schema-json.js';
export type { ArrowJavaSchemaJson, ArrowJavaFieldJson, ArrowJavaTypeJson } from './arrow-schema-json.js';
export {
  encodePartitionDesc, decodePartitionDesc, encodePartitionValue, decodePartitionValue, bucketFromFileName,
  rangePartitionTypeProblem, checkRangePartitionType, hasRangeTextVariants, isNullRangeText, rangeValueKey, partitionDescKey, parseFloatRangeText, localDateText,
  NO_PARTITION_DESC, NULL_PARTITION_VALUE, EMPTY_PARTITION_VALUE,
} from './partition-desc.js';
export type { PartitionValueInput } from './partition-desc.js';
export { Catalog, catalogLockWaitMs, DEFAULT_CATALOG_LOCK_WAIT_MS, DEFAULT_COMMIT_RETRIES, PARTITION_LOCKS_PER_COMMIT, normalizeTablePath } from './catalog.js';
export {
  validateName, validateTableName, validateNamespaceName, nameProblem, quoteInput, NAME_RULE, MAX_NAME_BYTES, MAX_QUOTED_INPUT,
} from './table-names.js';
export type { NameKind } from './table-names.js';
export type { CatalogOptions, CatalogOpenOptions, PartitionFilter, TableFileSets } from './catalog.js';
export type { RelocateTablesOptions, RelocateTablesResult } from './relocate.js';
export { checkCommit, formSnapshot, COMMIT_RULES, COMMIT_OPS } from './commit-rules.js';
export type { CommitVerdict, CommitConflict, CommittedVersion, CommitCheck, CommitRule, CommitRuleInput, SnapshotForm } from './commit-rules.js';
export { checkSchemaEvolution, columnNameProblem, mergeSchemas, nestedEvolutionProblem } from './schema-evolution.js';
export { ARROW_TYPE_SUPPORT, TYPE_CAPABILITIES, arrowTypeSupport } from './type-support.js';
export type { ArrowTypeSupport, TypeCapability } from './type-support.js';
export { locationKey, nativeDataFileUri, pathWithin, percentDecode, storedLocation } from './native-location.js';
export { holdsNegativeZero, jsonText } from './json-text.js';
