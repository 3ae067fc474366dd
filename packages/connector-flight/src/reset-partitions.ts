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
 * `schema` with the reset partitions of an incremental read in its custom metadata
 * ({@link RESET_PARTITIONS_METADATA_KEY}); `schema` itself when `resetPartitions` is undefined (a read
 * that is not incremental).
 */
export function withResetPartitions(schema: Schema, resetPartitions: readonly string[] | undefined): Schema {
  if (resetPartitions === undefined) return schema;
  const metadata = new Map(schema.metadata);
  metadata.set(RESET_PARTITIONS_METADATA_KEY, JSON.stringify(resetPartitions));
  return new Schema(schema.fields, metadata, schema.dictionaries, schema.metadataVersion);
}
