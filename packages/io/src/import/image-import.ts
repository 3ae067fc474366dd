/**
 * Creating a reference table from an image folder or a manifest through the `Lakehouse` API. It is a
 * use of the table API, so it lives above `table/` (which itself uses `blob/`): `blob/` stays free of
 * table imports and io has no import cycle (checked by `scripts/check-code.mjs`).
 */
import { randomUUID } from 'node:crypto';
import { utimes } from 'node:fs/promises';
import { Schema, Field, Table, Type, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import type { Vector } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { Lakehouse, LakeSoulTable } from '../table/index.js';
import { formatUri, joinUri, parseUri } from '../store/index.js';
import type { ParsedUri } from '../store/index.js';
import { Semaphore } from '../store/index.js';
import { scanImageFolder, readManifest, headInSource, getInSource, referenceOfLocation } from '../blob/image-folder.js';
import type { ObjectMeta } from '../types.js';
import { BLOB_ROOTS_PROPERTY, blobRootsOf } from '../blob/blob-columns.js';
import { BlobRoots, allowedRootLocations, parseBlobReferenceString } from '../blob/blob-reference.js';
import { BLOB_COPY_DIR } from '../table/table-maintenance.js';

/** Where the files come from. */
export type ImageSource =
  | { folder: string; extensions?: string[] }
  | { manifest: string; format?: 'csv' | 'jsonl'; pathColumn: string };

/** Options of {@link importImages}. */
export interface ImportImagesOptions {
  /**
   * `reference` (default): rows point at the files where they are (absolute URIs; the source root is
   * recorded in the `lakesoul_blob_roots` property and must be an allowed root when reading).
   * `copy`: files are copied under `<table_path>/_blobs/` and rows hold paths relative to the table.
   */
  mode?: 'reference' | 'copy';
  namespace?: string;
  /** Hash buckets of the table (the path is its primary key); default 4. */
  hashBucketNum?: number;
  /** Concurrent copies in copy mode (default 16). */
  concurrency?: number;
  signal?: AbortSignal;
  /**
   * Called once the source is listed (`files` 0), after each file copied or found current (copy
   * mode), and when the rows are committed (`files` = `total`).
   */
  onProgress?: (progress: ImportImagesProgress) => void;
}

/** What {@link ImportImagesOptions.onProgress} reports. */
export interface ImportImagesProgress {
  /** Files listed in the source. */
  total: number;
  /** Files done: copied or found current in copy mode; all of them once the rows are committed. */
  files: number;
  /** Bytes copied so far. */
  bytesCopied: number;
}

/** Result of {@link importImages}. */
export interface ImportImagesResult {
  table: LakeSoulTable;
  rows: number;
  /**
   * Files copied (copy mode). A copy already present is kept when it has its source's size and
   * modification time (local tables, whose copies are given their source's time) or was written no
   * earlier than the source last changed (tables on object storage), and, in a table other sources
   * were imported into, a row of the table holds its name (else it may be another source's copy).
   */
  copied: number;
  /** Bytes copied. */
  bytesCopied: number;
}

/** Table property recording the mode of the imports into a table (`reference` or `copy`). */
export const IMPORT_MODE_PROPERTY = 'lakesoul_import_mode';
/** Table property recording the sources imported into a table: a JSON array of their locations. */
export const IMPORT_SOURCES_PROPERTY = 'lakesoul_import_sources';
/**
 * Table property marking the copy imports under way: a JSON object from each source location to the
 * id of its import running (set when the import is recorded, removed when it ends; a process killed
 * meanwhile leaves it, and the next import of that source clears it).
 */
export const IMPORT_RUNNING_PROPERTY = 'lakesoul_import_running';
/** Table property counting the copy imports recorded into a table (a collision check is valid while it stays). */
export const IMPORT_RUNS_PROPERTY = 'lakesoul_import_runs';

/**
 * Creates (or, when it exists, upserts into) table `tableName` listing the files of `source`: an image
 * folder (`<root>/<label>/<file>` -> columns `path`, `label`, `size`) or a manifest (its columns, the
 * path column renamed `path`, plus `size`). `path` is the primary key and the blob column
 * (`lakesoul_blob_columns=path`), so a later upsert of new labels for the same paths rewrites rows,
 * never the files. The whole listing is written in one commit.
 *
 * The table records its mode (`lakesoul_import_mode`) and sources (`lakesoul_import_sources`; a copy
 * import also marks itself running in `lakesoul_import_running` until it ends, and counts itself in
 * `lakesoul_import_runs`); in
 * reference mode each source root is added to `lakesoul_blob_roots` (an existing table's too), before
 * the rows are committed. The rows are checked against an existing table's schema (and staged) before
 * any file is copied or property changed.
 * @throws LakeSoulError InvalidArgument (code `INVALID_OPTION_VALUE`) for a bad `mode`, `concurrency`
 *   or `hashBucketNum` (before anything is created); InvalidArgument for an import into a table
 *   imported in the other mode (naming the table and its mode), an empty listing, a manifest row
 *   (named) whose path leaves the manifest's directory (by `..`, or, in reference mode, by an absolute
 *   path or URI elsewhere), names the same file as another row, or a manifest column `size` (or `path`
 *   besides the path column) the import would replace, and, in copy mode, two source files that would
 *   be copied to one name (naming both), or a file whose copy name another recorded source holds the
 *   same relative path for while a row of the table holds that name or that source's import runs
 *   (naming both files, and how to get past it); PermissionDenied (code `BLOB_OUTSIDE_ROOTS`, context `file`,
 *   `realPath`) for a local source file below the folder or manifest directory that is a symbolic link
 *   leading out of it (refused before the table is created or anything is copied); NotFound naming
 *   the manifest row of a missing file; SchemaMismatch when an existing table cannot hold the rows.
 */
export async function importImages(lakehouse: Lakehouse, tableName: string, source: ImageSource, options: ImportImagesOptions = {}): Promise<ImportImagesResult> {
  const mode = checkImportOptions(tableName, options);
  const signal = options.signal;
  const namespace = options.namespace ?? 'default';
  const existing = await lakehouse.table(tableName, namespace, { signal }).catch((e: unknown) => {
    if (LakeSoulError.is(e, 'NotFound')) return undefined;
    throw e;
  });
  if (existing) await checkImportMode(existing, mode, signal);
  // the lakehouse's own files (and the table's copies) are never images of the folder
  const exclude = [lakehouse.warehouse, ...(existing ? [existing.info.path] : [])];
  const { rootUri, listing, locations } = await listSource(lakehouse, source, mode, exclude, signal);
  if (listing.numRows === 0) {
    throw new LakeSoulError('InvalidArgument', `no files to import from ${'folder' in source ? source.folder : source.manifest}`, { context: { table: tableName } });
  }
  let paths = mode === 'copy' ? copyNames(locations, rootUri) : locations.map((l) => referenceOf(l, tableName));
  // an existing table's rows keep their spelling: path is the key, and another spelling of one file is another row
  if (mode === 'reference' && existing) paths = await storedSpellings(existing, rootUri, paths, signal);
  const vectors: Record<string, Vector> = {};
  for (const f of listing.schema.fields) vectors[f.name] = f.name === 'path' ? vectorFromArray(paths, new Utf8()) : listing.getChild(f.name)!;
  const rows = new Table(vectors);

  // path is the key; every other column may be null (later partial upserts need not carry them)
  const schema = new Schema(listing.schema.fields.map((f) => (f.name === 'path' ? new Field('path', new Utf8(), false) : new Field(f.name, f.type, true))));
  const table = existing ?? await lakehouse.createTable(tableName, schema, {
    namespace,
    primaryKeys: ['path'],
    hashBucketNum: options.hashBucketNum ?? 4,
    blobColumns: ['path'],
    // a copy import's source is recorded (and marked running) only once checked, by recordImport
    properties: mode === 'copy' ? { [IMPORT_MODE_PROPERTY]: mode } : importProperties({}, mode, rootUri),
    ifNotExists: true,
    signal,
  });
  // created by another import meanwhile: its mode rules
  if (!existing) await checkImportMode(table, mode, signal);
  // the rows are checked against the table's schema (and written, uncommitted) before any file is copied
  const staged = await table.stage(rows, { mode: 'upsert', signal });
  let copied = 0;
  let bytesCopied = 0;
  let run: string | undefined;
  try {
    run = await recordImport(lakehouse, table, mode, rootUri, locations, signal);
    let done = 0;
    const report = () => options.onProgress?.({ total: listing.numRows, files: done, bytesCopied });
    report();
    if (mode === 'copy') {
      const trusted = await trustedCopyNames(table, rootUri, signal);
      const sem = new Semaphore(options.concurrency ?? 16);
      await Promise.all(
        paths.map(async (dst, i) => {
          await sem.acquire(signal);
          try {
            const n = await copyOne(lakehouse, locations[i], rootUri, joinUri(table.info.path, dst), trusted === undefined || trusted.has(dst), signal);
            if (n !== null) {
              copied++;
              bytesCopied += n;
            }
            done++;
            report();
          } finally {
            sem.release();
          }
        }),
      );
    }
  } catch (e) {
    await table.discardStaged([staged]).catch(() => undefined);
    if (run !== undefined) await endImport(table, rootUri, run);
    throw e;
  }
  // a commit that surely failed deletes the staged files itself (one whose outcome is unknown keeps them)
  try {
    await table.commitStaged([staged], { signal });
  } finally {
    if (run !== undefined) await endImport(table, rootUri, run);
  }
  options.onProgress?.({ total: listing.numRows, files: listing.numRows, bytesCopied });
  return { table, rows: listing.numRows, copied, bytesCopied };
}

/** The import's mode, once its options are checked (before anything is read or created). */
function checkImportOptions(tableName: string, options: ImportImagesOptions): 'reference' | 'copy' {
  const mode = options.mode ?? 'reference';
  const bad = (option: string, value: unknown, want: string) =>
    new LakeSoulError('InvalidArgument', `import into table '${tableName}': option ${option} is ${typeof value === 'string' ? `'${value}'` : String(value)}, expected ${want}`, {
      code: 'INVALID_OPTION_VALUE',
      context: { table: tableName, option },
    });
  if (mode !== 'reference' && mode !== 'copy') throw bad('mode', mode, "'reference' or 'copy'");
  for (const option of ['concurrency', 'hashBucketNum'] as const) {
    const v = options[option];
    if (v !== undefined && !(typeof v === 'number' && Number.isSafeInteger(v) && v >= 1)) throw bad(option, v, 'a whole number of at least 1');
  }
  return mode;
}

/**
 * Refuses an import into a table imported in the other mode: a reference import of a folder already
 * copied (or the reverse) would list every image a second time under another path. The mode is the
 * table's `lakesoul_import_mode`; tables imported before it was recorded are read for it (a `_blobs/`
 * path is a copy, an absolute URI a reference).
 */
async function checkImportMode(table: LakeSoulTable, mode: 'reference' | 'copy', signal?: AbortSignal): Promise<void> {
  let recorded = table.info.properties[IMPORT_MODE_PROPERTY];
  if (recorded === undefined && table.info.schema.fields.some((f) => f.name === 'path' && f.typeId === Type.Utf8)) {
    const paths = (await table.toArrow({ columns: ['path'], signal })).getChild('path')!.toArray() as (string | null)[];
    if (paths.some((p) => p?.startsWith(`${BLOB_COPY_DIR}/`))) recorded = 'copy';
    else if (paths.some((p) => p !== null && (p.startsWith('/') || URI_SCHEME.test(p)))) recorded = 'reference';
  }
  if (recorded !== undefined && recorded !== mode) throw importModeClash(table, recorded, mode);
}

/** The refusal of an import in `mode` into a table of images imported in the `recorded` mode. */
function importModeClash(table: LakeSoulTable, recorded: string, mode: 'reference' | 'copy'): LakeSoulError {
  const qname = `${table.info.namespace}.${table.info.name}`;
  return new LakeSoulError(
    'InvalidArgument',
    `table '${qname}' holds images imported in ${recorded} mode (${recorded === 'copy' ? 'copied under its _blobs/' : 'referenced in place'}): a ${mode} import into it would list images a second time under other paths; import in ${recorded} mode (the CLI: ${recorded === 'copy' ? 'with' : 'without'} --copy), or into another table`,
    { context: { table: qname, option: 'mode', property: IMPORT_MODE_PROPERTY } },
  );
}

const URI_SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

/** The sources recorded in a table's `lakesoul_import_sources`. */
function importSources(properties: Record<string, string>): string[] {
  const v = properties[IMPORT_SOURCES_PROPERTY];
  if (v === undefined) return [];
  try {
    const a = JSON.parse(v) as unknown;
    if (Array.isArray(a) && a.every((s) => typeof s === 'string')) return a as string[];
  } catch {
    // fall through
  }
  throw new LakeSoulError('InvalidArgument', `table property ${IMPORT_SOURCES_PROPERTY} is not a JSON array of locations: ${v}`, { context: { property: IMPORT_SOURCES_PROPERTY } });
}

/**
 * The property changes recording an import of `rootUri` in `mode` over `properties`: the mode, the
 * source, (reference mode) the root as an allowed blob root, and (a copy import's `run`) the import
 * as running and one more run counted; only what changes.
 */
function importProperties(properties: Record<string, string>, mode: 'reference' | 'copy', rootUri: string, run?: string): Record<string, string> {
  const patch: Record<string, string> = {};
  if (properties[IMPORT_MODE_PROPERTY] !== mode) patch[IMPORT_MODE_PROPERTY] = mode;
  const sources = importSources(properties);
  if (!sources.includes(rootUri)) patch[IMPORT_SOURCES_PROPERTY] = JSON.stringify([...sources, rootUri]);
  if (mode === 'reference') {
    const root = rootReference(rootUri);
    const roots = blobRootsOf({ properties });
    if (!rootListed(root, roots)) patch[BLOB_ROOTS_PROPERTY] = [...roots, root].join(',');
  }
  if (run !== undefined) {
    patch[IMPORT_RUNNING_PROPERTY] = JSON.stringify({ ...runningImports(properties), [rootUri]: run });
    patch[IMPORT_RUNS_PROPERTY] = String(importRuns(properties) + 1);
  }
  return patch;
}

/** The copy imports a table's `lakesoul_import_running` marks as running: source -> run id (unreadable: none). */
function runningImports(properties: Record<string, string>): Record<string, string> {
  try {
    const o = JSON.parse(properties[IMPORT_RUNNING_PROPERTY] ?? '{}') as unknown;
    if (o !== null && typeof o === 'object' && !Array.isArray(o)) {
      return Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => typeof e[1] === 'string'));
    }
  } catch {
    // fall through
  }
  return {};
}

/** The copy imports recorded into a table (`lakesoul_import_runs`, 0 when absent). */
function importRuns(properties: Record<string, string>): number {
  const n = Number(properties[IMPORT_RUNS_PROPERTY] ?? '0');
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/**
 * Whether `root` is listed in `roots` already, in any spelling reads take for its location: an older
 * import recorded `file:///d/My Images`, which is the location of `file:///d/My%20Images`.
 */
function rootListed(root: string, roots: string[]): boolean {
  const placed = (r: string): string[] => {
    try {
      return allowedRootLocations(r);
    } catch {
      return [];
    }
  };
  const want = placed(root)[0];
  return roots.some((r) => r === root || (want !== undefined && placed(r).includes(want)));
}

/**
 * The references of a reference import into an existing table, each as the table already spells it
 * when one of its rows names the same file: imports before references were percent-encoded wrote
 * `file:///d/My Images/cat/a.png` (and `café.png`, `x#1.png`, `q?.png` unencoded), and the encoded
 * spelling, a different primary key, added a second row for each such file. Two spellings name the
 * same file when reads resolve them to one location below the source root; a stored spelling reads
 * take for another file (an older import's `a%41.png`, read as `aA.png`, or its `50%.png`, no valid
 * escape) is not that file's, and is left as it is.
 */
async function storedSpellings(table: LakeSoulTable, rootUri: string, refs: string[], signal?: AbortSignal): Promise<string[]> {
  if (parseUri(rootUri).scheme !== 'file' || !table.info.schema.fields.some((f) => f.name === 'path' && f.typeId === Type.Utf8)) return refs;
  const stored = (await table.toArrow({ columns: ['path'], signal })).getChild('path')!.toArray() as (string | null)[];
  const present = new Set(stored);
  if (refs.every((r) => present.has(r))) return refs;
  const roots = new BlobRoots({ tablePath: table.info.path, allowedRoots: [referenceOfLocation(rootUri)] });
  const fileOf = (ref: string): string | undefined => {
    try {
      const r = parseBlobReferenceString(ref);
      return r.offset === undefined ? roots.resolve(r).uri : undefined;
    } catch {
      return undefined; // elsewhere, or not readable: no file of this import
    }
  };
  const byFile = new Map<string, string>();
  for (const p of stored) {
    if (p === null || !p.startsWith('file:')) continue;
    const f = fileOf(p);
    if (f !== undefined && !byFile.has(f)) byFile.set(f, p);
  }
  return refs.map((r) => (present.has(r) ? r : byFile.get(fileOf(r) ?? '') ?? r));
}

/** The root as listed in `lakesoul_blob_roots` (comma-separated): a `file:` URI percent-encoded, its commas too. */
function rootReference(rootUri: string): string {
  const ref = referenceOfLocation(rootUri);
  if (!ref.includes(',')) return ref;
  if (ref.startsWith('file:')) return ref.replace(/,/g, '%2C');
  throw new LakeSoulError('InvalidArgument', `${rootUri} holds a ',', so it cannot be listed in the comma-separated table property ${BLOB_ROOTS_PROPERTY}: import it in copy mode, or from a location without one`, { context: { file: rootUri, property: BLOB_ROOTS_PROPERTY } });
}

/** The source's root, its listing (`path` and the other columns) and each row's location (a store URI, not decoded). */
async function listSource(lakehouse: Lakehouse, source: ImageSource, mode: 'reference' | 'copy', exclude: string[], signal?: AbortSignal): Promise<{ rootUri: string; listing: Table; locations: string[] }> {
  const stores = lakehouse.stores;
  if ('folder' in source) {
    const rootUri = trimSlash(source.folder);
    const listing = await scanImageFolder(rootUri, { stores, extensions: source.extensions, paths: 'relative', exclude, signal });
    const rel = listing.getChild('path')!.toArray() as string[];
    return { rootUri, listing, locations: rel.map((r) => joinUri(rootUri, r)) };
  }
  const m = parseUri(source.manifest);
  const segs = m.key.split('/').filter((s) => s !== '');
  const rootUri = formatUri({ ...m, key: segs.slice(0, -1).join('/') });
  const raw = await readManifest(source.manifest, { stores, format: source.format, pathColumn: source.pathColumn, signal });
  return { rootUri, ...(await withSizes(raw, source.manifest, source.pathColumn, rootUri, mode, lakehouse, signal)) };
}

/**
 * The blob reference a reference import writes for a location: a `file:` URI percent-encoded. A key of
 * another scheme is written as it is, which a read takes as written, except that its last segment may
 * not hold `#bytes=` (a read takes it for a byte range, and such keys have no escape).
 */
function referenceOf(location: string, tableName: string): string {
  const ref = referenceOfLocation(location);
  const last = ref.slice(ref.lastIndexOf('/') + 1);
  if (last.includes('#bytes=')) {
    throw new LakeSoulError('InvalidArgument', `import into table '${tableName}': ${location} cannot be referenced in place: a reference reads the '#bytes=' of its name as a byte range, and a ${parseUri(location).scheme}:// key has no escape for it; import in copy mode (the copy's name writes the '#' as %23), or rename the file`, {
      code: 'BLOB_BAD_REFERENCE',
      context: { table: tableName, file: location },
    });
  }
  return ref;
}

/**
 * Names of the copies (below `_blobs/`): the path relative to the source root, or `ext/<scheme>/<authority>/<key>`
 * for a manifest's file elsewhere; a `#` of a last segment holding `#bytes=` is written `%23` (a
 * relative reference is taken as written, and `#bytes=` there would be read as a byte range). Two
 * files copied to one name are refused, naming both.
 */
function copyNames(locations: string[], rootUri: string): string[] {
  const names = locations.map((l) => {
    const name = copyName(l, rootUri);
    const at = name.lastIndexOf('/') + 1;
    const last = name.slice(at);
    return `${BLOB_COPY_DIR}/${name.slice(0, at)}${last.includes('#bytes=') ? last.replace(/#/g, '%23') : last}`;
  });
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    const j = seen.get(n);
    if (j !== undefined) {
      throw new LakeSoulError('InvalidArgument', `${locations[j]} and ${locations[i]} would both be copied to ${n}: rename one of them`, { context: { file: locations[i], path: n } });
    }
    seen.set(n, i);
  });
  return names;
}

/**
 * Records the import in the table's properties (mode, source, and in reference mode the root) before
 * any file is copied, over the properties as they are in the update's transaction (the table row
 * locked): imports at once each add their root, and one of another mode that recorded its own
 * meanwhile refuses this one. A copy import is recorded only once it is checked
 * ({@link checkCopyCollisions}) against the properties and rows as they were after the last copy
 * import recorded (`lakesoul_import_runs` unchanged since the check; else it is checked again,
 * outside the transaction, since the check reads the stores); it is then marked running
 * (`lakesoul_import_running`) until {@link endImport}. Of two copy imports at once the one recorded
 * second therefore sees the first running, and is refused before it copies anything when both hold
 * a relative path. Returns the copy import's run id.
 */
async function recordImport(lakehouse: Lakehouse, table: LakeSoulTable, mode: 'reference' | 'copy', rootUri: string, locations: string[], signal?: AbortSignal): Promise<string | undefined> {
  const run = mode === 'copy' ? randomUUID() : undefined;
  let checkedAt: number | undefined;
  for (;;) {
    let seen: Record<string, string> | undefined;
    table.info = await table.catalog.updateTableProperties(table.info.tableId, (current) => {
      const recorded = current[IMPORT_MODE_PROPERTY];
      if (recorded !== undefined && recorded !== mode) throw importModeClash(table, recorded, mode);
      if (mode === 'copy' && importRuns(current) !== checkedAt) {
        seen = { ...current };
        return {};
      }
      return importProperties(current, mode, rootUri, run);
    }, { signal });
    if (seen === undefined) return run;
    await checkCopyCollisions(lakehouse, table, rootUri, locations, seen, signal);
    checkedAt = importRuns(seen);
  }
}

/** Ends the copy import `run` of `rootUri`: its mark in `lakesoul_import_running` goes (best effort). */
async function endImport(table: LakeSoulTable, rootUri: string, run: string): Promise<void> {
  await table.catalog.updateTableProperties(table.info.tableId, (current): Record<string, string | null> => {
    const running = runningImports(current);
    if (running[rootUri] !== run) return {};
    delete running[rootUri];
    return { [IMPORT_RUNNING_PROPERTY]: Object.keys(running).length === 0 ? null : JSON.stringify(running) };
  }).then((info) => { table.info = info; }, () => undefined);
}

/**
 * A copy import keeps each file's path below its folder, so files of two folders with the same
 * relative path would be copied to one name, the later overwriting the earlier. Refused, naming both
 * files: a file this import copies to a name another source (recorded in `lakesoul_import_sources`
 * of `properties`) holds the same relative path for, when that name is the table's now (a row holds
 * it) or that source's import is running (marked in `lakesoul_import_running`; its rows are not
 * committed yet). A name whose row was deleted is free again. Only those names are looked up in the
 * other sources, by one listing of each (or a HEAD of each name, when they are few): nothing for
 * sources whose names the table does not hold, so the cost grows with the files imported, not with
 * the sources recorded.
 */
async function checkCopyCollisions(lakehouse: Lakehouse, table: LakeSoulTable, rootUri: string, locations: string[], properties: Record<string, string>, signal?: AbortSignal): Promise<void> {
  const others = importSources(properties).filter((src) => src !== rootUri);
  if (others.length === 0) return;
  const root = rootUri.endsWith('/') ? rootUri : rootUri + '/';
  const below = locations.filter((loc) => loc.startsWith(root));
  if (below.length === 0) return;
  const running = runningImports(properties);
  let held: Set<string> | undefined;
  const qname = `${table.info.namespace}.${table.info.name}`;
  for (const other of others) {
    let candidates = below;
    if (running[other] === undefined) {
      held ??= await tableNames(table, signal);
      candidates = below.filter((loc) => held!.has(copyNames([loc], rootUri)[0]));
    }
    if (candidates.length === 0) continue;
    const rel = await firstHeld(lakehouse, other, candidates.map((loc) => loc.slice(root.length)), signal);
    if (rel === undefined) continue;
    const loc = joinUri(rootUri, rel);
    const name = copyNames([loc], rootUri)[0];
    const how = running[other] !== undefined
      ? `an import of ${other} is marked running in the table property ${IMPORT_RUNNING_PROPERTY}: wait for it; if none runs (one was killed), importing ${other} again clears the mark`
      : `delete the table's row of ${name} (deleteWhere) if it is no longer wanted`;
    throw new LakeSoulError(
      'InvalidArgument',
      `copy import into table '${qname}': ${loc} would overwrite ${name}, the copy of ${joinUri(other, rel)} (of ${other}; copies keep the path below their folder): rename one of them, import the folders into different tables, or ${how}`,
      { context: { table: qname, file: loc, path: name } },
    );
  }
}

/** The `path` values of the table's rows now (a table without a `path` text column: none). */
async function tableNames(table: LakeSoulTable, signal?: AbortSignal): Promise<Set<string>> {
  if (!table.info.schema.fields.some((f) => f.name === 'path' && f.typeId === Type.Utf8)) return new Set();
  const paths = (await table.toArrow({ columns: ['path'], signal })).getChild('path')!.toArray() as (string | null)[];
  return new Set(paths.filter((p): p is string => p !== null));
}

/** Names above which one listing of a source replaces a HEAD of each name. */
const LIST_ABOVE = 16;

/**
 * The first of `rels` (paths relative to `source`) that `source` holds: one listing of it, given up
 * (for a HEAD of each name) once it has listed 1,000 entries a name, as many requests as the HEADs.
 */
async function firstHeld(lakehouse: Lakehouse, source: string, rels: string[], signal?: AbortSignal): Promise<string | undefined> {
  if (rels.length > LIST_ABOVE) {
    const { store, key } = lakehouse.stores.resolve(source);
    const prefix = key === '' ? '' : `${key.replace(/\/+$/, '')}/`;
    const want = new Set(rels);
    let listed = 0;
    let complete = true;
    for await (const m of store.list(prefix, { signal })) {
      const rel = m.path.slice(prefix.length);
      if (want.has(rel)) return rel;
      if (++listed > rels.length * 1000) {
        complete = false;
        break;
      }
    }
    if (complete) return undefined;
  }
  const sem = new Semaphore(16);
  const found = await Promise.all(rels.map(async (rel) => {
    await sem.acquire(signal);
    try {
      const { store, key } = lakehouse.stores.resolve(joinUri(source, rel));
      return await store.head(key, { signal }).then(() => true, (e: unknown) => {
        if (LakeSoulError.is(e, 'NotFound')) return false;
        throw e;
      });
    } finally {
      sem.release();
    }
  }));
  return rels.find((_, i) => found[i]);
}

/**
 * The copy names whose present copies may be kept when current (`copyIsCurrent`): undefined (all) when
 * no other source was imported into the table, else the names its rows hold, which no other source
 * holds (`checkCopyCollisions`). A copy under another name may be another source's: a copy carries no
 * record of its source, so one left by a source whose row was deleted, of the same size and time as
 * this import's file, was kept, and the row read the other source's bytes. Those are copied again.
 */
async function trustedCopyNames(table: LakeSoulTable, rootUri: string, signal?: AbortSignal): Promise<Set<string> | undefined> {
  if (!importSources(table.info.properties).some((src) => src !== rootUri)) return undefined;
  return tableNames(table, signal);
}

/**
 * Copies one source file to `dstUri` unless the copy there is current (and `keepCurrent`: it may be
 * this source's); the bytes copied, or null when it was kept.
 */
async function copyOne(lakehouse: Lakehouse, src: string, rootUri: string, dstUri: string, keepCurrent: boolean, signal?: AbortSignal): Promise<number | null> {
  const to = lakehouse.stores.resolve(dstUri);
  const dst = parseUri(dstUri);
  const local = dst.scheme === 'file' ? '/' + dst.key : undefined;
  const meta = await sourceHead(lakehouse, src, rootUri, signal);
  const existing = await to.store.head(to.key, { signal }).catch((e) => {
    if (LakeSoulError.is(e, 'NotFound')) return null;
    throw e;
  });
  if (existing && keepCurrent && copyIsCurrent(existing, meta, local !== undefined)) return null;
  const bytes = await sourceGet(lakehouse, src, rootUri, signal);
  await to.store.put(to.key, bytes, { signal });
  // a local copy carries its source's modification time, which the next import compares
  if (local !== undefined) await utimes(local, new Date(), meta.lastModified).catch(() => undefined);
  return bytes.length;
}

function trimSlash(uri: string): string {
  const p = parseUri(uri);
  return formatUri({ ...p, key: p.key.split('/').filter((s) => s !== '').join('/') });
}

/**
 * Location of a manifest's path (a store URI, not percent-decoded): relative paths are below `root`,
 * and `..` may not leave it; a `file:` URI is percent-decoded (RFC 8089: `file:///m/a%20b.png` is the
 * file `a b.png`), plain paths and other URIs are taken as written; `.` and `..` segments are applied
 * as a read applies them. With `confine` (a reference import, whose table may read below `root` only)
 * an absolute path or URI must lie below `root` too. `row` (1-based, of the manifest's rows) names the row.
 */
function locationOf(path: string, root: string, confine: boolean, row: number): string {
  const refuse = (why: string): LakeSoulError =>
    new LakeSoulError('InvalidArgument', `manifest row ${row}: path '${path}' ${why}`, { context: { file: path, row } });
  const leaves = (): LakeSoulError =>
    refuse(`leaves the manifest's directory ${root}${confine ? ` (a reference import's table reads only below that directory, its lakesoul_blob_roots; copy mode copies files from elsewhere)` : ''}`);
  const scheme = URI_SCHEME.exec(path);
  if (scheme || path.startsWith('/')) {
    let p: ParsedUri;
    try {
      p = parseUri(path);
    } catch (e) {
      throw refuse(`is not a location (${(e as Error).message})`);
    }
    let raw = p.key.split('/');
    if (scheme && p.scheme === 'file') raw = raw.map((s) => decodeSegment(s, refuse));
    const segs: string[] = [];
    for (const s of raw) {
      if (s === '' || s === '.') continue;
      if (s === '..') {
        if (segs.length === 0) throw refuse('climbs above the top of its location');
        segs.pop();
      } else segs.push(s);
    }
    const abs = formatUri({ ...p, key: segs.join('/') });
    if (confine && !isBelow(abs, root)) throw leaves();
    return abs;
  }
  const segs: string[] = [];
  for (const s of path.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (segs.length === 0) throw leaves();
      segs.pop();
    } else segs.push(s);
  }
  return joinUri(root, ...segs);
}

/** One percent-decoded segment of a manifest's `file:` URI; a bad escape, or an encoded '/' or NUL, refused. */
function decodeSegment(segment: string, refuse: (why: string) => LakeSoulError): string {
  if (!segment.includes('%')) return segment;
  let out: string;
  try {
    out = decodeURIComponent(segment);
  } catch {
    throw refuse(`is a file: URI, which is percent-encoded, and '${segment}' is not (write a literal % as %25, or give a plain path)`);
  }
  if (out.includes('/') || out.includes('\0')) throw refuse(`holds an encoded '/' or NUL in '${segment}', which is no file name`);
  return out;
}

/** Name of a copy below `_blobs/`: the path relative to the source root, or `ext/<scheme>/<authority>/<key>`. */
function copyName(abs: string, root: string): string {
  const r = root.endsWith('/') ? root : root + '/';
  if (abs.startsWith(r)) return abs.slice(r.length);
  const p = parseUri(abs);
  return ['ext', p.scheme, p.authority || 'local', p.key].filter((s) => s !== '').join('/');
}

/**
 * Places every manifest row (its location), refuses duplicates and columns the import replaces, and
 * adds a `size` column (HEAD of every file); the path column becomes `path`.
 */
async function withSizes(raw: Table, manifest: string, pathColumn: string, root: string, mode: 'reference' | 'copy', lakehouse: Lakehouse, signal?: AbortSignal): Promise<{ listing: Table; locations: string[] }> {
  for (const name of ['path', 'size']) {
    if (name !== pathColumn && raw.schema.fields.some((f) => f.name === name)) {
      throw new LakeSoulError('InvalidArgument', `manifest ${manifest} has a column '${name}', which the import would replace by ${name === 'size' ? "each file's size" : `the path column '${pathColumn}'`}: rename it`, { context: { file: manifest, column: name } });
    }
  }
  const paths = raw.getChild(pathColumn)!.toArray() as string[];
  // every row is placed before any request: the first one leaving the directory is named
  const locations = paths.map((p, i) => locationOf(p, root, mode === 'reference', i + 1));
  const first = new Map<string, number>();
  locations.forEach((l, i) => {
    const j = first.get(l);
    if (j !== undefined) {
      throw new LakeSoulError('InvalidArgument', `manifest ${manifest}: rows ${j + 1} and ${i + 1} both name ${l} (the table holds one row per file)`, { context: { file: l, row: i + 1 } });
    }
    first.set(l, i);
  });
  const sem = new Semaphore(16);
  const sizes = await Promise.all(
    locations.map(async (loc, i) => {
      await sem.acquire(signal);
      try {
        return BigInt((await sourceHead(lakehouse, loc, root, signal)).size);
      } catch (e) {
        if (!LakeSoulError.is(e, 'NotFound')) throw e;
        throw new LakeSoulError('NotFound', `manifest ${manifest} row ${i + 1}: file ${loc} not found`, { cause: e, context: { file: loc, row: i + 1 } });
      } finally {
        sem.release();
      }
    }),
  );
  const vectors: Record<string, Vector> = { path: raw.getChild(pathColumn)! };
  for (const f of raw.schema.fields) if (f.name !== pathColumn) vectors[f.name] = raw.getChild(f.name)!;
  vectors.size = makeVector(BigInt64Array.from(sizes));
  return { listing: new Table(vectors), locations };
}

/**
 * Whether the copy `existing` still holds the source `source`: the same size, and on local disk (where
 * each copy is given its source's modification time) the same modification time, as rsync decides;
 * elsewhere (an S3 copy's time is its upload's) a copy written no earlier than the source's last
 * modification. A source rewritten with the same size was kept stale when only sizes were compared.
 */
function copyIsCurrent(existing: ObjectMeta, source: ObjectMeta, local: boolean): boolean {
  if (existing.size !== source.size) return false;
  const copied = existing.lastModified.getTime();
  const modified = source.lastModified.getTime();
  if (Number.isNaN(copied) || Number.isNaN(modified)) return false;
  // 1 ms of slack: a time set through utimes may read back a fraction of a millisecond off
  return local ? Math.abs(copied - modified) <= 1 : copied >= modified;
}

/** Whether `uri` lies lexically below the source root `root`. */
function isBelow(uri: string, root: string): boolean {
  return uri.startsWith(root.endsWith('/') ? root : root + '/');
}

/**
 * HEAD of a source file. A local file below the source root is opened and must really lie inside it
 * (a symbolic link leading out is refused, `BLOB_OUTSIDE_ROOTS`); files a manifest names elsewhere are
 * read where they are.
 */
function sourceHead(lakehouse: Lakehouse, uri: string, root: string, signal?: AbortSignal): Promise<ObjectMeta> {
  const { store, key, baseUri } = lakehouse.stores.resolve(uri);
  if (parseUri(uri).scheme === 'file' && isBelow(uri, root)) return headInSource(store, key, uri, root, baseUri, signal);
  return store.head(key, { signal });
}

/** The bytes of a source file, confined as {@link sourceHead}. */
function sourceGet(lakehouse: Lakehouse, uri: string, root: string, signal?: AbortSignal): Promise<Uint8Array> {
  const { store, key, baseUri } = lakehouse.stores.resolve(uri);
  if (parseUri(uri).scheme === 'file' && isBelow(uri, root)) return getInSource(store, key, uri, root, baseUri, signal);
  return store.get(key, { signal });
}
