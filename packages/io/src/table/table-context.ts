/**
 * What table operations share: the catalog, the store registry and the table's catalog entry, plus the
 * small helpers every operation uses (resolving a file URI to its store, best-effort deletes).
 */
import { randomFillSync } from 'node:crypto';
import type { Catalog, TableInfo } from '@lakesoul-ts/meta';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { deleteObjects, type StoreRegistry } from '../store/index.js';
import { isNoAnswerError } from '../store/store-errors.js';
import type { ObjectStore, PutOptions } from '../types.js';
import { checkS3KeyLength, partitionDirName, partitionDirNameLimit } from './data-file-paths.js';

/** Internal: the catalog + stores + table entry an operation runs against. */
export interface TableContext {
  catalog: Catalog;
  stores: StoreRegistry;
  info: TableInfo;
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * Random bytes for file names, drawn from the system's generator 1 KiB at a time: `randomBytes(16)`
 * per name cost ~9 µs of the calling thread, 2 ms for a write of 200 partitions.
 */
const namePool = Buffer.alloc(1024);
let namePoolAt = namePool.length;

/** 16 random alphanumeric characters (protocol §4 file names). */
export function randomAlnum16(): string {
  if (namePoolAt + 16 > namePool.length) {
    randomFillSync(namePool);
    namePoolAt = 0;
  }
  let s = '';
  for (let i = 0; i < 16; i++) s += ALNUM[namePool[namePoolAt + i] % ALNUM.length];
  namePoolAt += 16;
  return s;
}

/**
 * Relative directory of a partition: `k=v/k2=v2`, empty for the unpartitioned `-5`. Each level is
 * URL-safe ({@link partitionDirName}: `?` is written `~3F`), so LakeSoul's native IO finds the files.
 */
export function partitionDir(partitionDesc: string, rangePartitions: string[], maxBytes?: number): string {
  if (rangePartitions.length === 0 || partitionDesc === '-5') return '';
  return partitionDesc
    .split(',')
    .map((kv) => {
      const eq = kv.indexOf('=');
      return partitionDirName(kv.slice(0, eq), kv.slice(eq + 1), maxBytes);
    })
    .join('/');
}

/**
 * File URI per protocol §4: `<table_path>/<k=v>/.../part-<16 alnum>_<bucket:04>.parquet`.
 * @throws LakeSoulError `INVALID_PARTITION_VALUE` when a directory name is too long where the table
 *   is stored ({@link partitionDirNameLimit}), `PATH_TOO_LONG` when an S3 key would be ({@link checkS3KeyLength}).
 */
export function dataFileUri(tablePath: string, partitionDesc: string, rangePartitions: string[], bucket: number): string {
  const dir = partitionDir(partitionDesc, rangePartitions, partitionDirNameLimit(tablePath));
  const name = `part-${randomAlnum16()}_${String(bucket).padStart(4, '0')}.parquet`;
  const uri = dir ? `${tablePath}/${dir}/${name}` : `${tablePath}/${name}`;
  checkS3KeyLength(uri, partitionDesc);
  return uri;
}

/** Reads one whole object (or a range) by URI. */
export async function readUri(
  stores: StoreRegistry,
  uri: string,
  signal?: AbortSignal,
  range?: { offset: number; length?: number } | { suffix: number },
): Promise<Uint8Array> {
  const { store, key } = stores.resolve(uri);
  return store.get(key, { signal, range });
}

/** Writes one object by URI. */
export async function writeUri(stores: StoreRegistry, uri: string, bytes: Uint8Array, signal?: AbortSignal, options: Pick<PutOptions, 'fresh'> = {}): Promise<void> {
  const { store, key } = stores.resolve(uri);
  await store.put(key, bytes, { signal, contentLength: bytes.byteLength, ...options });
}

/**
 * Deletes objects by URI, ignoring failures (used to undo uncommitted writes, and by purge): per store
 * in batches; after a failure the others again (an object already deleted is no error), so that an
 * object that cannot be deleted leaves only itself behind. A store is given up after
 * {@link BEST_EFFORT_FAILURES} failures (it is down). What is left is an orphan for cleanup().
 */
export async function deleteUrisBestEffort(stores: StoreRegistry, uris: string[]): Promise<void> {
  // per store: S3 deletes 1,000 keys a request, the others 10 objects at a time
  const byStore = new Map<ObjectStore, string[]>();
  for (const u of uris) {
    let resolved;
    try {
      resolved = stores.resolve(u);
    } catch {
      continue; // no store for it: nothing this process can delete
    }
    const keys = byStore.get(resolved.store) ?? [];
    keys.push(resolved.key);
    byStore.set(resolved.store, keys);
  }
  await Promise.all([...byStore].map(([store, keys]) => deleteKeysBestEffort(store, keys)));
}

/** Failures after which {@link deleteUrisBestEffort} gives a store up. */
export const BEST_EFFORT_FAILURES = 3;

async function deleteKeysBestEffort(store: ObjectStore, keys: string[]): Promise<void> {
  let remaining = keys;
  for (let failures = 0; remaining.length > 0 && failures < BEST_EFFORT_FAILURES; failures++) {
    try {
      await deleteObjects(store, remaining);
      return;
    } catch (e) {
      // a store that does not answer is given up at once (each request waits out its timeouts again)
      if (isNoAnswerError(e)) return;
      // the object the failure names (stores name it by their description and key) stays, an orphan
      // for cleanup(); the others go again
      const failed = LakeSoulError.is(e) ? e.context.file : undefined;
      remaining = remaining.filter((k) => `${store.description}${k}` !== failed);
    }
  }
}

/**
 * A commit's error about this table by its id, as the writer can say it, by name (the id alone did not
 * tell a person which table): the catalog's "table with id … not found" is the table dropped while the
 * write ran, nothing committed (`files` says what became of the files: "the write's files were
 * deleted"); a catalog lost before the table was looked up names it. Other errors are returned as they are.
 */
export function inTableTerms(e: unknown, ctx: TableContext, files: string): unknown {
  if (!(e instanceof LakeSoulError)) return e;
  const { tableId } = ctx.info;
  const qname = `${ctx.info.namespace}.${ctx.info.name}`;
  if (LakeSoulError.hasCode(e, 'TABLE_NOT_FOUND') && e.context.table === tableId) {
    return new LakeSoulError('NotFound', `table '${qname}' was dropped while this write ran: nothing was committed, and ${files}`, {
      code: 'TABLE_NOT_FOUND', context: { table: qname, tableId }, cause: e,
    });
  }
  const byId = `table with id '${tableId}'`;
  if (e.context.tableId === tableId && e.context.table === undefined && e.message.includes(byId)) {
    return new LakeSoulError(e.kind, e.message.replace(byId, `table '${qname}'`), {
      code: e.code, retryable: e.retryable, context: { ...e.context, table: qname }, cause: e,
    });
  }
  return e;
}

/**
 * Whether files may be deleted after `e` was thrown by a commit: only when the commit surely did not
 * happen (conflict, validation, abort before the transaction, or the catalog database refusing a
 * statement of the commit, whose transaction rolled back: for want of a resource (disk full, out of
 * memory, a resource limit), because it is read-only, or because the role lacks the privilege; or
 * the catalog closed, `DRIVER_CLOSED`, which every driver throws before it sends the statement: a
 * transaction whose COMMIT was not sent did not commit). Ambiguous failures
 * (connection lost mid-commit: `TRANSACTION_OUTCOME_UNKNOWN`, `COMMIT_OUTCOME_UNKNOWN`, also when a
 * close cut a statement already sent) and other catalog errors leave the files for cleanup() to
 * judge against the catalog.
 */
export function commitSurelyFailed(e: unknown): boolean {
  return (
    LakeSoulError.is(e) &&
    (e.kind === 'Conflict' || e.kind === 'InvalidArgument' || e.kind === 'SchemaMismatch' || e.kind === 'NotFound' ||
      e.kind === 'AlreadyExists' || e.kind === 'Unsupported' ||
      // a full catalog disk left every file of a write behind (orphans until a cleanup())
      LakeSoulError.hasCode(e, 'CATALOG_DISK_FULL', 'CATALOG_OUT_OF_MEMORY', 'CATALOG_RESOURCE_EXHAUSTED') ||
      // a read-only catalog database (a standby) or a role without the privilege refused a statement
      LakeSoulError.hasCode(e, 'CATALOG_READ_ONLY') || e.kind === 'PermissionDenied' ||
      // Lakehouse.close() during a write: its commit was refused before anything was sent
      LakeSoulError.hasCode(e, 'DRIVER_CLOSED'))
  );
}

/**
 * The abort check of `@lakesoul-ts/meta` under its former name, kept for table-writer.ts only (being
 * rewritten by issue 15); new code imports `throwIfAborted` from `@lakesoul-ts/meta`.
 */
export { throwIfAborted as checkAborted } from '@lakesoul-ts/meta';

/** Files of a commit checked at once, at most, before it. */
const FILE_HEADS_AT_ONCE = 16;

/**
 * Refuses to commit files that are gone: a write may take (or staged writes wait) longer than
 * `cleanup()`'s orphan safety window, which then deleted its files as orphans, and a commit naming
 * them would leave the partition unreadable (every read failing OBJECT_NOT_FOUND). One HEAD per file
 * the write added (not the files a rewrite keeps: committed ones are never orphans);
 * `STAGED_FILES_MISSING` (Conflict) naming the first one found gone. A HEAD refused for permission
 * ends the check without failing (the store lets this role write but not look); other errors fail it. `what`: the files of staged
 * writes (`commitStaged`) or of the write committing.
 */
export async function checkFilesExist(ctx: TableContext, files: readonly { path: string; partitionDesc: string }[], what: 'staged' | 'write', signal: AbortSignal | undefined): Promise<void> {
  const added = files.map((f) => ({ path: f.path, partition: f.partitionDesc }));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < added.length) {
      const f = added[next++];
      const { store, key } = ctx.stores.resolve(f.path);
      try {
        await store.head(key, { signal });
      } catch (e) {
        // credentials that may write objects but not HEAD them (a write-only ingestion role): the
        // check cannot be made, so the commit goes on as it did before there was one (small writes
        // never check) rather than failing every write that took over a second
        if (LakeSoulError.is(e, 'PermissionDenied')) { next = added.length; return; }
        if (!LakeSoulError.is(e, 'NotFound')) throw e;
        // the table was dropped with its files (a purge) meanwhile: no cleanup, and no retry helps
        const dropped = await ctx.catalog.getTableById(ctx.info.tableId, { signal }).then(() => undefined, (x: unknown) => (LakeSoulError.hasCode(x, 'TABLE_NOT_FOUND') ? x : undefined));
        if (dropped) throw inTableTerms(dropped, ctx, 'its files were deleted with it');
        const whose = what === 'staged' ? 'the staged writes' : 'the write';
        const since = what === 'staged' ? 'the write was staged' : 'the write began';
        throw new LakeSoulError('Conflict', `cannot commit ${whose} of table '${ctx.info.name}': their file ${f.path} (partition ${f.partition}) is gone, ` +
          `deleted as an orphan by a cleanup() whose orphan safety window (orphanSafetyWindowMs) was shorter than the time since ${since}. Nothing was committed; write the rows again`, {
          code: 'STAGED_FILES_MISSING',
          cause: e,
          context: { table: ctx.info.name, namespace: ctx.info.namespace, partition: f.partition, file: f.path },
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(FILE_HEADS_AT_ONCE, added.length) }, worker));
}
