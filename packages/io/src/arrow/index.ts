// Arrow utilities: row gathering, PK ordering, casting and schema validation.
export { isValidAt, validityBytes, makeBatch, batchColumns, matchWords, cellReader, utf8Text, utf8Decoder } from './data-access.js';
export {
  gatherData,
  takeRows,
  concatBatches,
  concatData,
  sliceBatch,
  projectBatch,
  nullColumn,
  decodeDictionary,
  type SourceIndex,
} from './take-rows.js';
export {
  comparePkRows,
  sortIndicesByPk,
  keyColumn,
  keyColumnsOf,
  compareKeyRows,
  compareKeyValues,
  numericKeys,
  type KeyColumn,
} from './pk-compare.js';
export { castData, sameType, type CastContext } from './cast-data.js';
export { withKnownNullCounts, batchWithKnownNullCounts } from './null-counts.js';
export { validateAgainstSchema, type ValidateOptions } from './schema-validate.js';
export {
  encodeColumn,
  recordsToBatch,
  plainValueAt,
  plainValues,
  convertData,
  codecConverts,
  jsonSafe,
  plainText,
  parseJsonExact,
  inferSchema,
  ExactNumber,
  ValueConversionError,
  type ValueContext,
  type RecordsToBatchOptions,
  type InferSchemaOptions,
} from './value-codec.js';
export { DecimalParseError, decimalToString, formatScaled, parseDecimal, writeDecimalWords } from './decimal-codec.js';
export {
  FRACTION_DIGITS,
  TemporalParseError,
  UNITS_PER_SECOND,
  ZoneOffsets,
  civilFromDays,
  daysFromCivil,
  formatDate,
  formatTime,
  formatTimestamp,
  parseDateDays,
  parseTime,
  parseTimestamp,
  resolveZone,
  type Zone,
} from './temporal-codec.js';
export { MAX_NESTING_DEPTH, MAX_SCHEMA_FIELDS, checkSchemaDepth, checkSchemaSize, validateData, validateRecordBatch } from './validate-data.js';
