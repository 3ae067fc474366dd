/**
 * Deleting many objects: in batches where the store can (S3's DeleteObjects takes 1,000 keys a
 * request), else a bounded number of single deletes at a time. Cleanup and `dropTable` with `purge`
 * delete through {@link deleteObjects}.
 */
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { ObjectStore, StoreCallOptions } from '../types.js';

/**
 * Capability of stores that delete many objects per request ({@link S3Store}: DeleteObjects). Find it
 * with {@link batchDeleterOf}; {@link deleteObjects} uses it when a store has it. Wrappers that must
 * see each request (latency, counting) do not offer it.
 */
export interface BatchDeleter {
  /**
   * Deletes the objects at `paths`; a missing object is not an error. A failure starts no further
   * request and is thrown once those in flight ended: a LakeSoulError naming the first object that
   * failed (`context.file`) and how many of `paths` were deleted before (`context.deleted`).
   * @throws LakeSoulError `InvalidArgument` (key), `Aborted`, `PermissionDenied`, `Io`.
   */
  deleteMany(paths: readonly string[], options?: StoreCallOptions): Promise<void>;
}

/** The store's {@link BatchDeleter} capability, or undefined when it has none. */
export function batchDeleterOf(store: ObjectStore): (ObjectStore & BatchDeleter) | undefined {
  return typeof (store as Partial<BatchDeleter>).deleteMany === 'function' ? (store as ObjectStore & BatchDeleter) : undefined;
}

/** Options of {@link deleteObjects}. */
export interface DeleteObjectsOptions extends StoreCallOptions {
  /** Single deletes in flight at once where the store deletes one object per request (default 10). */
  concurrency?: number;
}

/** Default of {@link DeleteObjectsOptions.concurrency}. */
export const DEFAULT_DELETE_CONCURRENCY = 10;

/**
 * How many objects to hand {@link deleteObjects} at once when reporting progress between calls: a
 * store with a {@link BatchDeleter} gets 4,000 (S3: its 4 requests of 1,000 keys in flight), the
 * others 500 (10 single deletes at a time keep going within a group).
 */
export function deleteGroupSize(store: ObjectStore): number {
  return batchDeleterOf(store) ? 4000 : 500;
}

/**
 * Deletes the objects at `paths` of `store`: through its {@link BatchDeleter} when it has one, else
 * `concurrency` single deletes at a time. Same contract as {@link BatchDeleter.deleteMany}: the first
 * failure starts nothing more and is thrown once what is in flight ended, with `context.file` (the
 * object) and `context.deleted` (how many were deleted before).
 * @throws LakeSoulError `InvalidArgument` (a key, or `concurrency` not a positive integer), and as {@link BatchDeleter.deleteMany}.
 */
export async function deleteObjects(store: ObjectStore, paths: readonly string[], options: DeleteObjectsOptions = {}): Promise<void> {
  const { concurrency = DEFAULT_DELETE_CONCURRENCY, ...callOptions } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new LakeSoulError('InvalidArgument', `deleteObjects: concurrency must be a positive integer (got ${concurrency})`);
  }
  const batch = batchDeleterOf(store);
  if (batch) return batch.deleteMany(paths, callOptions);
  await runUntilFailure(paths, concurrency, (path) => store.delete(path, callOptions), (path) => `${store.description}${path}`);
}

/**
 * Runs `task` on every item, `concurrency` at a time; the first failure starts no more and is thrown
 * once those in flight ended, with `context.deleted` (items done) and `context.file` (`name(item)`,
 * unless the error names a file already). For {@link deleteObjects} and stores' batch deletes.
 */
export async function runUntilFailure<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<unknown>, name: (item: T) => string, count: (item: T) => number = () => 1): Promise<void> {
  let next = 0;
  let done = 0;
  let failure: { error: unknown; item: T } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++];
      try {
        await task(item);
      } catch (error) {
        failure ??= { error, item };
        return;
      }
      done += count(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (failure === undefined) return;
  const e = failure.error;
  const le = LakeSoulError.is(e) ? e : new LakeSoulError('Io', String((e as Error)?.message ?? e), { cause: e });
  throw new LakeSoulError(le.kind, le.message, {
    code: le.code, retryable: le.retryable, cause: e, context: { file: name(failure.item), ...le.context, deleted: done + ((le.context.deleted as number | undefined) ?? 0) },
  });
}
