// Arrow utilities: row gathering, PK ordering, casting and schema validation.
export { isValidAt, validityBytes, makeBatch, batchColumns } from './data-access.js';
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
export { validateAgainstSchema, type ValidateOptions } from './schema-validate.js';
