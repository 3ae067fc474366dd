/**
 * Parsed Parquet metadata (footers, page indexes) of data files, kept across the reads of a process.
 * LakeSoul data files are immutable once committed (every write, compaction or upsert creates files of
 * new names), so a file's metadata is keyed by its location and size. A read of a table that was
 * just read again (point lookups, a training epoch, a dashboard refresh) then skips the footer and
 * page-index requests and their decoding: on object storage each is a round trip.
 */
import { LakeSoulError } from '@lakesoul-ts/meta';

/** Environment variable: the shared cache's budget in bytes (0 disables it; default {@link DEFAULT_META_CACHE_BYTES}). */
export const META_CACHE_BYTES_ENV = 'LAKESOUL_PARQUET_META_CACHE_BYTES';

/** Default budget of the shared cache: 32 MiB of (estimated) parsed metadata. */
export const DEFAULT_META_CACHE_BYTES = 32 * 1024 * 1024;

/**
 * A least-recently-used map from keys to parsed metadata, bounded by the sum of the entries' weights
 * (an estimate of each entry's memory, given by the caller). An entry heavier than the whole budget
 * is not kept.
 */
export class ParquetMetaCache {
  private readonly entries = new Map<string, { value: unknown; weight: number }>();
  private used = 0;

  /** @param maxBytes Budget: the sum of the kept entries' weights stays at most this. */
  constructor(readonly maxBytes: number) {
    if (!(maxBytes >= 0) || !Number.isFinite(maxBytes)) throw new LakeSoulError('InvalidArgument', `Parquet metadata cache budget must be a non-negative number of bytes, got ${maxBytes}`);
  }

  /** The value kept under `key` (now the most recently used), or undefined. */
  get<T>(key: string): T | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value as T;
  }

  /** Keeps `value` under `key`, evicting the least recently used entries beyond the budget. */
  set(key: string, value: unknown, weight: number): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.used -= old.weight;
    }
    if (!(weight <= this.maxBytes)) return;
    this.entries.set(key, { value, weight });
    this.used += weight;
    for (const [k, e] of this.entries) {
      if (this.used <= this.maxBytes) break;
      this.entries.delete(k);
      this.used -= e.weight;
    }
  }

  /** Entries kept and the sum of their weights. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.used };
  }

  /** Drops every entry. */
  clear(): void {
    this.entries.clear();
    this.used = 0;
  }
}

let shared: ParquetMetaCache | undefined;

/**
 * The process's cache (budget from {@link META_CACHE_BYTES_ENV} when it is first used; 0 keeps
 * nothing).
 * @throws LakeSoulError InvalidArgument when the variable is not a non-negative integer.
 */
export function sharedParquetMetaCache(): ParquetMetaCache {
  if (shared === undefined) {
    const env = process.env[META_CACHE_BYTES_ENV];
    const bytes = env === undefined || env === '' ? DEFAULT_META_CACHE_BYTES : Number(env);
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new LakeSoulError('InvalidArgument', `${META_CACHE_BYTES_ENV} must be a non-negative integer number of bytes, got '${env}'`);
    shared = new ParquetMetaCache(bytes);
  }
  return shared;
}

/** The cache key of a data file: where it lies and its size (files are never rewritten in place). */
export function fileMetaKey(location: string, size: number): string {
  return `${size}:${location}`;
}
