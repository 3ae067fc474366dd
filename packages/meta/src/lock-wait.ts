/** How long a process waits for another process's embedded catalog (used by the catalog and the served driver). */

/** Default of `CatalogOpenOptions.lockWaitMs`, in ms. */
export const DEFAULT_CATALOG_LOCK_WAIT_MS = 60_000;

/**
 * How long to wait for another process's embedded catalog: `LAKESOUL_CATALOG_WAIT` (seconds) when it
 * holds a number ≥ 0, else {@link DEFAULT_CATALOG_LOCK_WAIT_MS}.
 */
export function catalogLockWaitMs(env: Record<string, string | undefined> = process.env): number {
  const raw = env.LAKESOUL_CATALOG_WAIT;
  const s = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
  return Number.isFinite(s) && s >= 0 ? s * 1000 : DEFAULT_CATALOG_LOCK_WAIT_MS;
}
