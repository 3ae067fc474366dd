/**
 * The exact temporal codec lives in `@lakesoul-ts/io` (one codec for the writer, the CLI and this
 * connector); re-exported here so the decoder, encoder and their tests keep one import path.
 */
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
} from '@lakesoul-ts/io';
