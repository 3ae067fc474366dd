/**
 * The partitions an incremental read's client must replace, as Flight carries them: an incremental
 * read lists the partitions rewritten (UpdateCommit: update, delete, overwrite) or dropped within its
 * range, which it reads whole as of its end (a dropped one has no rows); a client applying the
 * increment replaces what it holds for them and adds (primary-key tables: upserts) the other rows.
 */
import { Schema } from 'apache-arrow';

/**
 * Custom metadata key of the schema of an incremental read (GetFlightInfo, GetSchema and every DoGet
 * stream): a JSON array of the partition descriptions to replace (`["date=2024-01-02"]`, `[]` when
 * none). Absent on reads that are not incremental.
 */
export const RESET_PARTITIONS_METADATA_KEY = 'lakesoul.reset_partitions';

/**
 * Custom metadata key of the schema of an incremental read in GetFlightInfo's and GetSchema's answers:
 * the range's end the server read to, epoch milliseconds as decimal text. A command without `end` reads
 * to the server's time of that call, which the client learns here (and in FlightInfo's `app_metadata`
 * as `incremental.end`), to start its next range there.
 */
export const INCREMENTAL_END_METADATA_KEY = 'lakesoul.incremental_end';

/**
 * `schema` with the reset partitions of an incremental read in its custom metadata
 * ({@link RESET_PARTITIONS_METADATA_KEY}), and the range's `end` when given
 * ({@link INCREMENTAL_END_METADATA_KEY}); `schema` itself when `resetPartitions` is undefined (a read
 * that is not incremental).
 */
export function withResetPartitions(schema: Schema, resetPartitions: readonly string[] | undefined, end?: number): Schema {
  if (resetPartitions === undefined) return schema;
  const metadata = new Map(schema.metadata);
  metadata.set(RESET_PARTITIONS_METADATA_KEY, JSON.stringify(resetPartitions));
  if (end !== undefined) metadata.set(INCREMENTAL_END_METADATA_KEY, String(end));
  return new Schema(schema.fields, metadata, schema.dictionaries, schema.metadataVersion);
}
