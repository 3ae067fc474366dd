/**
 * The marker of a table whose first write (`Lakehouse.createTable`/`openOrCreate` from data) runs.
 *
 * Creating a table from data takes two steps: the catalog row, then the write of the data as the
 * first commit. A process killed between them left an empty table that looked finished: a second
 * `openOrCreate(name, data)` returned it without writing the data (lost without an error), and
 * `createTable` failed TABLE_EXISTS. The create therefore stores a table property naming the
 * creating process ({@link CREATING_PROPERTY}, in the same catalog statement as the row) and removes
 * it right after the first commit. A later create meeting a table that still carries it and has no
 * commit asks whether that process still runs: when it does (or runs on another host, where this one
 * cannot tell), the create is refused with a retryable Conflict; when it is gone, the creation was
 * abandoned: the caller lists the files its write left (while its row stands), creates the table
 * again in its place in one catalog transaction (the old row dropped only while it still has no
 * commit; the new one marked by the caller), deletes the listed files, and writes. Other creates
 * meanwhile meet a table being created (retryable), never an empty name beside a path still holding
 * the abandoned files, and a writer into the old table fails at its commit (its table is gone).
 *
 * Other engines ignore table properties they do not know (as they do `lakesoul_blob_columns`), and a
 * scan of a marked table reads it as it is (empty).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { LakeSoulError, ownProcessStart, processAlive, type Catalog, type TableInfo } from '@lakesoul-ts/meta';
import type { StoreRegistry } from '../store/index.js';
import { deleteUrisBestEffort } from './table-context.js';
import { ownedFileFilter, removeEmptyTableDirectories, tableListings, writtenByTables } from './table-maintenance.js';

/** Table property naming the process writing a table's first data: JSON `{ pid, host, started, start }`. */
export const CREATING_PROPERTY = 'lakesoul_ts_creating';

/** What {@link CREATING_PROPERTY} holds. */
export interface CreatingMarker {
  pid: number;
  host: string;
  /** When the create began (ms since the epoch). */
  started: number;
  /** The process's start (`processStartTime`), where the system tells it: a pid taken again since is not the creator. */
  start?: string;
  /** The create call, among this process's (random). */
  call?: string;
}

/** The markers of the creates from data this process runs right now (from before their catalog row exists). */
const inFlight = new Set<string>();

/** The marker value of a create this process begins. */
export function creatingMarker(): string {
  const marker: CreatingMarker = { pid: process.pid, host: hostname(), started: Date.now(), start: ownProcessStart(), call: randomUUID() };
  return JSON.stringify(marker);
}

/** The marker of a table, or undefined when it has none (or one this version cannot read). */
export function markerOf(info: TableInfo): CreatingMarker | undefined {
  const raw = info.properties[CREATING_PROPERTY];
  if (raw === undefined) return undefined;
  try {
    const m = JSON.parse(raw) as Partial<CreatingMarker>;
    if (typeof m.pid !== 'number' || typeof m.host !== 'string') return undefined;
    return { pid: m.pid, host: m.host, started: typeof m.started === 'number' ? m.started : 0, start: typeof m.start === 'string' ? m.start : undefined };
  } catch {
    return undefined;
  }
}

/** Marks the create of `marker` ({@link creatingMarker}) as running in this process (until {@link endCreating}). */
export function beginCreating(marker: string): void {
  inFlight.add(marker);
}

/** Ends {@link beginCreating}. */
export function endCreating(marker: string): void {
  inFlight.delete(marker);
}

/** Whether the creating process of a marker may still run: on another host this one cannot tell, so yes. */
function creatorRuns(raw: string, m: CreatingMarker): boolean {
  if (m.host !== hostname()) return true;
  if (m.pid === process.pid && (m.start === undefined || m.start === ownProcessStart())) return inFlight.has(raw);
  return processAlive(m.pid, m.start);
}

/**
 * What a create from data meets at its name: 'table' when it is a table to take as it is (no
 * marker, or data committed already); 'abandoned' when its creation was abandoned (the creating
 * process is gone, nothing committed): the caller creates it again in its place
 * (`replaceEmptyTable`, after listing its files with {@link abandonedFiles}); 'gone' when it
 * vanished meanwhile.
 * @throws LakeSoulError Conflict `TABLE_BEING_CREATED` (retryable) while its creating process runs.
 */
export async function inspectCreating(catalog: Catalog, info: TableInfo, signal?: AbortSignal): Promise<'table' | 'abandoned' | 'gone'> {
  const m = markerOf(info);
  if (!m) return 'table';
  const qname = `${info.namespace}.${info.name}`;
  let commits: number;
  try {
    commits = await catalog.commitCount(info.tableId, { signal });
  } catch (e) {
    if (LakeSoulError.is(e, 'NotFound')) return 'gone';
    throw e;
  }
  if (commits > 0) return 'table'; // the first commit is in; only the marker's removal was missed
  if (creatorRuns(info.properties[CREATING_PROPERTY]!, m)) {
    const since = m.started ? ` since ${new Date(m.started).toISOString()}` : '';
    const other = m.host !== hostname() ? ' (on another host, so whether it still runs cannot be told from here: if it is gone, drop the table, which holds no data, and create it again)' : '';
    throw new LakeSoulError('Conflict', `table '${qname}' is being created with its first data by process ${m.pid} on host ${m.host}${since}; retry when it finished${other}`, {
      code: 'TABLE_BEING_CREATED', retryable: true, context: { table: qname, namespace: info.namespace, pid: m.pid, host: m.host, started: m.started },
    });
  }
  return 'abandoned';
}

/**
 * The files the killed (or failed) first write of a table left under its path: its data files and
 * the local store's temp files (a create from data begins on an empty path, so these are the
 * write's), none of another table's. Listed while the table's row stands, so that no other table can
 * be at the path yet: files that appear later are not listed.
 */
export async function abandonedFiles(catalog: Catalog, stores: StoreRegistry, info: TableInfo, signal?: AbortSignal): Promise<string[]> {
  return (await listAbandoned(catalog, stores, info, signal)).uris;
}

async function listAbandoned(catalog: Catalog, stores: StoreRegistry, info: TableInfo, signal?: AbortSignal) {
  const owned = await ownedFileFilter(catalog, info, signal);
  const { store, key: prefix } = stores.resolve(info.path);
  const uris: string[] = [];
  if (!prefix) return { uris, owned, store, prefix };
  for (const { metas, temporary } of tableListings(store, prefix, signal)) {
    for await (const meta of metas) {
      const rel = meta.path.slice(prefix.length + 1);
      const uri = `${info.path}/${rel}`;
      if (writtenByTables(rel, temporary) && owned(uri)) uris.push(uri);
    }
  }
  return { uris, owned, store, prefix };
}

/**
 * Deletes, best effort, the files the killed (or failed) first write of a dropped table left under its path: its
 * data files and the local store's temp files (a create from data begins on an empty path, so these
 * are the write's), none of another table's; then, on local disk, the directories left empty.
 */
export async function deleteAbandonedFiles(catalog: Catalog, stores: StoreRegistry, info: TableInfo, signal?: AbortSignal): Promise<void> {
  try {
    const { uris, owned, store, prefix } = await listAbandoned(catalog, stores, info, signal);
    if (!prefix) return;
    // A create from data running beside this one (it found the table gone) may have made a new table
    // at the path meanwhile and be writing its first files there: the listing may hold them, and its
    // commit would then name deleted files. Its row exists before its files do, so a table found at the
    // path now means the listed files are left (its cleanup takes the dropped table's as orphans).
    if (await tableAt(catalog, info.path, signal)) return;
    await deleteUrisBestEffort(stores, uris);
    await removeEmptyTableDirectories(store, info.path, prefix, owned, signal);
  } catch (e) {
    if (LakeSoulError.is(e, 'Aborted')) throw e;
    // best effort: what is left makes the create again refuse the path (TABLE_PATH_NOT_EMPTY), naming a file
  }
}

/** Whether a table is at `path` (an undecodable one too); false only when the catalog says none is. */
async function tableAt(catalog: Catalog, path: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await catalog.getTableByPath(path, { signal });
    return true;
  } catch (e) {
    return !LakeSoulError.is(e, 'NotFound');
  }
}
