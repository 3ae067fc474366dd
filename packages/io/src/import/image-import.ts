/**
 * Creating a reference table from an image folder or a manifest through the `Lakehouse` API. It is a
 * use of the table API, so it lives above `table/` (which itself uses `blob/`): `blob/` stays free of
 * table imports and io has no import cycle (checked by `scripts/check-code.mjs`).
 */
import { utimes } from 'node:fs/promises';
import { Schema, Field, Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import type { Vector } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { Lakehouse, LakeSoulTable } from '../table/index.js';
import { formatUri, joinUri, parseUri } from '../store/index.js';
import { Semaphore } from '../store/index.js';
import { scanImageFolder, readManifest, headInSource, getInSource } from '../blob/image-folder.js';
import type { ObjectMeta } from '../types.js';
import { BLOB_ROOTS_PROPERTY } from '../blob/blob-columns.js';
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
   * earlier than the source last changed (tables on object storage).
   */
  copied: number;
  /** Bytes copied. */
  bytesCopied: number;
}

/**
 * Creates (or, when it exists, upserts into) table `tableName` listing the files of `source`: an image
 * folder (`<root>/<label>/<file>` -> columns `path`, `label`, `size`) or a manifest (its columns, the
 * path column renamed `path`, plus `size`). `path` is the primary key and the blob column
 * (`lakesoul_blob_columns=path`), so a later upsert of new labels for the same paths rewrites rows,
 * never the files. The whole listing is written in one commit.
 * @throws LakeSoulError PermissionDenied (code `BLOB_OUTSIDE_ROOTS`, context `file`, `realPath`) for a
 *   local source file below the folder or manifest directory that is a symbolic link leading out of it
 *   (refused before the table is created or anything is copied); InvalidArgument for an empty listing,
 *   or a manifest row (named) whose path leaves the manifest's directory: by `..`, or, in reference
 *   mode, by an absolute path or URI elsewhere (the table could not read it).
 */
export async function importImages(lakehouse: Lakehouse, tableName: string, source: ImageSource, options: ImportImagesOptions = {}): Promise<ImportImagesResult> {
  const mode = options.mode ?? 'reference';
  const stores = lakehouse.stores;
  const signal = options.signal;
  let rootUri: string;
  let listing: Table;
  if ('folder' in source) {
    rootUri = trimSlash(source.folder);
    listing = await scanImageFolder(rootUri, { stores, extensions: source.extensions, paths: 'relative', signal });
  } else {
    const m = parseUri(source.manifest);
    const segs = m.key.split('/').filter((s) => s !== '');
    rootUri = formatUri({ ...m, key: segs.slice(0, -1).join('/') });
    const raw = await readManifest(source.manifest, { stores, format: source.format, pathColumn: source.pathColumn, signal });
    listing = await withSizes(raw, source.pathColumn, rootUri, mode, lakehouse, signal);
  }
  if (listing.numRows === 0) {
    throw new LakeSoulError('InvalidArgument', `no files to import from ${'folder' in source ? source.folder : source.manifest}`, { context: { table: tableName } });
  }
  const rel = listing.getChild('path')!.toArray() as string[];
  const absolute = rel.map((p) => absoluteOf(p, rootUri));

  // path is the key; every other column may be null (later partial upserts need not carry them)
  const schema = new Schema(listing.schema.fields.map((f) => (f.name === 'path' ? new Field('path', new Utf8(), false) : new Field(f.name, f.type, true))));
  const table = await lakehouse.createTable(tableName, schema, {
    namespace: options.namespace,
    primaryKeys: ['path'],
    hashBucketNum: options.hashBucketNum ?? 4,
    blobColumns: ['path'],
    properties: mode === 'reference' ? { [BLOB_ROOTS_PROPERTY]: rootUri } : {},
    ifNotExists: true,
  });
  const tablePath = table.info.path;
  let copied = 0;
  let bytesCopied = 0;
  let done = 0;
  const report = () => options.onProgress?.({ total: listing.numRows, files: done, bytesCopied });
  report();
  let paths: string[];
  if (mode === 'copy') {
    paths = rel.map((p, i) => `${BLOB_COPY_DIR}/${copyName(p, absolute[i], rootUri)}`);
    const sem = new Semaphore(options.concurrency ?? 16);
    await Promise.all(
      paths.map(async (dst, i) => {
        await sem.acquire(signal);
        try {
          const dstUri = joinUri(tablePath, dst);
          const to = stores.resolve(dstUri);
          const local = parseUri(dstUri).scheme === 'file' ? '/' + parseUri(dstUri).key : undefined;
          const meta = await sourceHead(lakehouse, absolute[i], rootUri, signal);
          const existing = await to.store.head(to.key, { signal }).catch((e) => {
            if (LakeSoulError.is(e, 'NotFound')) return null;
            throw e;
          });
          if (existing && copyIsCurrent(existing, meta, local !== undefined)) {
            done++;
            report();
            return;
          }
          const bytes = await sourceGet(lakehouse, absolute[i], rootUri, signal);
          await to.store.put(to.key, bytes, { signal });
          // a local copy carries its source's modification time, which the next import compares
          if (local !== undefined) await utimes(local, new Date(), meta.lastModified).catch(() => undefined);
          copied++;
          bytesCopied += bytes.length;
          done++;
          report();
        } finally {
          sem.release();
        }
      }),
    );
  } else {
    paths = absolute;
  }
  const vectors: Record<string, Vector> = {};
  for (const f of listing.schema.fields) {
    vectors[f.name] = f.name === 'path' ? vectorFromArray(paths, new Utf8()) : listing.getChild(f.name)!;
  }
  await table.write(new Table(vectors), { mode: 'upsert', signal });
  done = listing.numRows;
  report();
  return { table, rows: listing.numRows, copied, bytesCopied };
}

function trimSlash(uri: string): string {
  const p = parseUri(uri);
  return formatUri({ ...p, key: p.key.split('/').filter((s) => s !== '').join('/') });
}

/**
 * Absolute URI of a listed path: relative paths are below `root`, and `..` may not leave it. With
 * `confine` (a reference import, whose table may read below `root` only) an absolute path or URI must
 * lie below `root` too; `row` (1-based, of the manifest's rows) names the row in the refusal.
 */
function absoluteOf(path: string, root: string, confine = false, row?: number): string {
  const leaves = (): LakeSoulError => {
    const where = row !== undefined ? `manifest row ${row}: path` : 'manifest path';
    const why = confine ? ` (a reference import's table reads only below that directory, its lakesoul_blob_roots; copy mode copies files from elsewhere)` : '';
    return new LakeSoulError('InvalidArgument', `${where} '${path}' leaves the manifest's directory ${root}${why}`, { context: { file: path, ...(row !== undefined ? { row } : {}) } });
  };
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(path) || path.startsWith('/')) {
    const abs = formatUri(parseUri(path));
    // lexically: `..` segments are applied as a read applies them (`/m/../x` leaves `/m`)
    if (confine) {
      const norm = lexical(abs);
      if (norm === null || !isBelow(norm, root)) throw leaves();
    }
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

/** `uri` with its `.` and `..` segments applied; null when a `..` climbs above its top (a read refuses it). */
function lexical(uri: string): string | null {
  const p = parseUri(uri);
  const segs: string[] = [];
  for (const s of p.key.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (segs.length === 0) return null;
      segs.pop();
    } else segs.push(s);
  }
  return formatUri({ ...p, key: segs.join('/') });
}

/** Name of a copy below `_blobs/`: the path relative to the source root, or `ext/<authority>/<key>`. */
function copyName(rel: string, abs: string, root: string): string {
  const r = root.endsWith('/') ? root : root + '/';
  if (abs.startsWith(r)) return abs.slice(r.length);
  const p = parseUri(abs);
  return ['ext', p.scheme, p.authority || 'local', p.key].filter((s) => s !== '').join('/');
}

/** Adds a `size` column (HEAD of every file) and renames the path column to `path`. */
async function withSizes(raw: Table, pathColumn: string, root: string, mode: 'reference' | 'copy', lakehouse: Lakehouse, signal?: AbortSignal): Promise<Table> {
  const paths = raw.getChild(pathColumn)!.toArray() as string[];
  // every row is placed before any request: the first one leaving the directory is named
  const absolute = paths.map((p, i) => absoluteOf(p, root, mode === 'reference', i + 1));
  const sem = new Semaphore(16);
  const sizes = await Promise.all(
    absolute.map(async (abs) => {
      await sem.acquire(signal);
      try {
        return BigInt((await sourceHead(lakehouse, abs, root, signal)).size);
      } finally {
        sem.release();
      }
    }),
  );
  const vectors: Record<string, Vector> = { path: raw.getChild(pathColumn)! };
  for (const f of raw.schema.fields) if (f.name !== pathColumn && f.name !== 'path' && f.name !== 'size') vectors[f.name] = raw.getChild(f.name)!;
  vectors.size = makeVector(BigInt64Array.from(sizes));
  return new Table(vectors);
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
  const { store, key } = lakehouse.stores.resolve(uri);
  if (parseUri(uri).scheme === 'file' && isBelow(uri, root)) return headInSource(store, key, uri, root, signal);
  return store.head(key, { signal });
}

/** The bytes of a source file, confined as {@link sourceHead}. */
function sourceGet(lakehouse: Lakehouse, uri: string, root: string, signal?: AbortSignal): Promise<Uint8Array> {
  const { store, key } = lakehouse.stores.resolve(uri);
  if (parseUri(uri).scheme === 'file' && isBelow(uri, root)) return getInSource(store, key, uri, root, signal);
  return store.get(key, { signal });
}
