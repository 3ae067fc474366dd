/** How long a process waits for another process's embedded catalog (used by the catalog and the served driver). */
import { LakeSoulError } from './errors.js';

/** Default of `CatalogOpenOptions.lockWaitMs`, in ms. */
export const DEFAULT_CATALOG_LOCK_WAIT_MS = 60_000;

/**
 * How long to wait for another process's embedded catalog: `LAKESOUL_CATALOG_WAIT` (seconds, a number
 * ≥ 0) when set, else {@link DEFAULT_CATALOG_LOCK_WAIT_MS}.
 * @throws LakeSoulError `InvalidArgument` naming the variable when it holds no such number (`abc`,
 *   `-1`: it was taken as the default without a word).
 */
export function catalogLockWaitMs(env: Record<string, string | undefined> = process.env): number {
  const raw = env.LAKESOUL_CATALOG_WAIT;
  if (raw === undefined || raw.trim() === '') return DEFAULT_CATALOG_LOCK_WAIT_MS;
  const s = /^\s*\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(s)) {
    throw new LakeSoulError('InvalidArgument', `LAKESOUL_CATALOG_WAIT=${JSON.stringify(raw.slice(0, 40))} is not a number of seconds: set it to how long to wait for another process's embedded catalog (e.g. 60, or 0 not to wait), or unset it for the default (${DEFAULT_CATALOG_LOCK_WAIT_MS / 1000} s)`, {
      context: { option: 'LAKESOUL_CATALOG_WAIT', value: raw.slice(0, 40) },
    });
  }
  return s * 1000;
}
