/**
 * A table's hash-bucket count, decoded from its `hashBucketNum` property (LakeSoul stores it as text).
 * A primary-key table's rows are placed in buckets by the hash of their key, so its count must be one:
 * a value that is not (`'abc'` from a hand-edited catalog, a missing property) read as -1 before, and a
 * write failed with "hash bucket count ... got -1", naming no table.
 */
import { LakeSoulError } from './errors.js';
import { quoteInput } from './table-names.js';

/** Largest hash-bucket count: LakeSoul's engines read it as a 32-bit signed integer. */
export const MAX_HASH_BUCKET_NUM = 2 ** 31 - 1;

/** A decoded bucket count: the count (-1: none), and for a primary-key table whose property is no count, why. */
export interface DecodedHashBucketNum {
  /** The count; -1 for a table without a primary key, and for one whose property is invalid. */
  value: number;
  /** Set when the table has a primary key and its `hashBucketNum` property is missing or no count. */
  error?: LakeSoulError;
}

/**
 * Decodes `hashBucketNum` (the property's text, or undefined when missing) of the table `qname`
 * (`namespace.name`). A table without a primary key has no buckets: any value other than a number reads
 * as -1, as before. A primary-key table's value must be a decimal integer from 1 to
 * {@link MAX_HASH_BUCKET_NUM} (as Java's `Integer.parseInt` reads it, an optional `+` allowed);
 * otherwise `error` is a `Catalog` error (code `CATALOG_INCONSISTENT`) naming the table and the value.
 */
export function decodeHashBucketNum(qname: string, value: string | undefined, primaryKey: boolean): DecodedHashBucketNum {
  if (!primaryKey) {
    const n = value === undefined ? -1 : Number(value);
    return { value: Number.isFinite(n) ? n : -1 };
  }
  const n = value !== undefined && /^\+?\d{1,10}$/.test(value) ? Number(value) : NaN;
  if (n >= 1 && n <= MAX_HASH_BUCKET_NUM) return { value: n };
  const stored = value === undefined ? 'has no hashBucketNum property' : `has hashBucketNum ${quoteInput(value)}`;
  return {
    value: -1,
    error: new LakeSoulError('Catalog',
      `table '${qname}' ${stored}, not a bucket count (an integer from 1 to ${MAX_HASH_BUCKET_NUM}): a primary-key table's rows are placed in buckets by the hash of their key, ` +
      `so it is not read or written until the property holds the bucket count its files were written with (in table_info.properties of the catalog); it can still be listed and dropped`,
      { code: 'CATALOG_INCONSISTENT', context: { table: qname, property: 'hashBucketNum', value: value ?? null } }),
  };
}
