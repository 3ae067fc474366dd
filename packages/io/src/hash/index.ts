// Spark-compatible Murmur3 bucket hashing (protocol §4).
export {
  murmur3Int32,
  murmur3Int64,
  murmur3Int64Words,
  murmur3Bytes,
  murmur3Float32,
  murmur3Float64,
  pmod,
  foldColumnHash,
  hashPkRow,
  computeBuckets,
} from './spark-murmur3.js';
export type { BucketRule } from './spark-murmur3.js';
