/**
 * Which engine's bucket rule a table's files follow. Engines agree on the bucket of a key when the
 * bucket count is a power of two; otherwise each follows its own rule, and a writer using another
 * rule than the table's files would put a key in a second bucket, where every reader (merging per
 * bucket) returns it twice.
 */
import { LakeSoulError, type TableInfo } from '@lakesoul-ts/meta';
import type { BucketRule } from '../hash/index.js';

/** Ids the Java engines and lakesoul-ts give tables (`table_<uuid>`); LakeSoul's Rust core uses a bare UUID. */
const JAVA_STYLE_ID = /^table_/;

/**
 * The bucket rule to write `info` with. Power-of-two counts: `pmod` (every engine agrees). Otherwise
 * the rule of the engine that created the table, told by its id: a bare UUID is the Rust core's (the
 * `lakesoul` wheel: `(uint32)hash % n`, checked against the wheel's own writer in
 * e2e/interop/boundary.test.ts).
 * @throws LakeSoulError Unsupported (code `BUCKET_RULE_UNKNOWN`) for a non-power-of-two count on a
 * table with a `table_` id: lakesoul-ts never creates one, and Spark's `pmod` and the native writers'
 * unsigned remainder would disagree on which engine wrote its files.
 */
export function bucketRuleOf(info: Pick<TableInfo, 'tableId' | 'name' | 'hashBucketNum'>): BucketRule {
  const n = info.hashBucketNum;
  if (n <= 0 || (n & (n - 1)) === 0) return 'pmod';
  if (!JAVA_STYLE_ID.test(info.tableId)) return 'uint32';
  throw new LakeSoulError(
    'Unsupported',
    `table '${info.name}' has ${n} hash buckets, not a power of two, and was not created by LakeSoul's Rust core (table id '${info.tableId}'): engines place keys differently in such tables (Spark: pmod(hash, ${n}); native writers: (uint32)hash % ${n}), so a write could duplicate keys; lakesoul-ts refuses to write it (reading is fine)`,
    { code: 'BUCKET_RULE_UNKNOWN', context: { table: info.name } },
  );
}
