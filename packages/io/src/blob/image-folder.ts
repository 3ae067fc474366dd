/**
 * Building reference tables from files: an image-folder layout and CSV/JSONL manifests.
 */
import { realpath } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { Bool, Float64, Int64, Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import type { DataType, Vector } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { ObjectMeta, ObjectStore } from '../types.js';
import type { ConfinedReader, StoreRegistry } from '../store/index.js';
import { Semaphore, confinedReaderOf, formatUri, parseUri } from '../store/index.js';

/** Default file extensions of {@link scanImageFolder} (lower case). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.gif', '.bmp', '.webp', '.tif', '.tiff'];

/** Options of {@link scanImageFolder}. */
export interface ScanImageFolderOptions {
  stores: StoreRegistry;
  /** File extensions to keep, case-insensitive (default {@link IMAGE_EXTENSIONS}). */
  extensions?: string[];
  /** `absolute` (default): full URIs; `relative`: paths relative to the folder. */
  paths?: 'absolute' | 'relative';
  /**
   * Locations not to walk (a lakehouse's warehouse, a table's path): files below one that lies below
   * the folder are not listed. A location the folder itself lies in is ignored (the folder is walked).
   * On local disk they are compared by real path too, so a folder or warehouse named through a
   * symbolic link (or macOS's /tmp and /private/tmp) is still left out.
   */
  exclude?: string[];
  signal?: AbortSignal;
}

/**
 * The blob reference of a location: a `file:` location's path percent-encoded as a `file:` URI must be
 * (RFC 8089, as `pathToFileURL` writes it: `a b.png` -> `a%20b.png`, `50%.png` -> `50%25.png`,
 * `x#bytes=1-2.png` -> `x%23bytes=1-2.png`), so a read, which decodes it, finds that very file;
 * other schemes' keys are taken as written by reads, so they are returned as they are.
 */
export function referenceOfLocation(uri: string): string {
  const p = parseUri(uri);
  if (p.scheme !== 'file') return uri;
  return pathToFileURL('/' + p.key.split('/').filter((s) => s !== '').join('/')).href;
}

/** Whether a listed path (relative to the folder) lies below an entry whose name starts with '.'. */
function hidden(rel: string): boolean {
  return rel.split('/').some((s) => s.startsWith('.'));
}

/**
 * Key prefixes (relative to the folder, with a trailing '/') of the `exclude` locations lying below the
 * folder `base`: as written, and for local folders by real path as well (a warehouse written
 * `/home/me/lake/wh` lies in the folder `/data/lake` when `/home/me/lake` is a link to it; compared as
 * text only, a copy import of that folder imported the table's own copies again on every run).
 */
async function excludedPrefixes(base: string, exclude: string[] | undefined): Promise<string[]> {
  const b = parseUri(base);
  const bSegs = b.key.split('/').filter((s) => s !== '');
  const out = new Set<string>();
  for (const e of exclude ?? []) {
    const p = parseUri(e);
    const segs = p.key.split('/').filter((s) => s !== '');
    if (p.scheme !== b.scheme || p.authority !== b.authority || segs.length <= bSegs.length) continue;
    if (bSegs.every((s, i) => segs[i] === s)) out.add(segs.slice(bSegs.length).join('/') + '/');
  }
  if (b.scheme === 'file' && b.authority === '') {
    const realBase = await realPathOf(bSegs);
    for (const e of exclude ?? []) {
      const p = parseUri(e);
      if (realBase === undefined || p.scheme !== 'file' || p.authority !== '') continue;
      const real = await realPathOf(p.key.split('/').filter((s) => s !== ''));
      const within = realBase === '/' ? '/' : realBase + '/';
      if (real !== undefined && real.startsWith(within) && real.length > within.length) out.add(real.slice(within.length) + '/');
    }
  }
  return [...out];
}

/** The real path of a local directory given by its segments; undefined when it does not exist (yet). */
async function realPathOf(segs: string[]): Promise<string | undefined> {
  try {
    return await realpath('/' + segs.join('/'));
  } catch {
    return undefined;
  }
}

/**
 * Refuses a listed key that a blob reference cannot name: one with an empty segment (`cat//d.png`),
 * which an object store (S3) keeps as written but every read resolves without it, so its row would
 * read another object's bytes (`cat/d.png`), or none. Local listings never hold such keys; `.` and `..`
 * segments are hidden entries, not listed.
 */
function checkNameable(rel: string, uri: string): void {
  if (!rel.split('/').includes('')) return;
  throw new LakeSoulError('InvalidArgument', `${uri} cannot be imported: its key holds an empty segment ('//'), which a blob reference cannot name (reads resolve the key without it, so its row would read another object or none); rename the object, or move it out of the folder`, {
    code: 'BLOB_BAD_REFERENCE',
    context: { file: uri },
  });
}

/**
 * Lists an image folder laid out as `<root>/<label>/<file>` (files deeper down take the first
 * directory as label; files directly in the root have a null label) and returns an Arrow table
 * `{ path: Utf8, label: Utf8 (nullable), size: Int64 }` sorted by path. Paths are absolute URIs by
 * default, usable as blob references of a table anywhere once the folder is an allowed root (a
 * `file:` URI percent-encoded, see `referenceOfLocation`); with `paths: 'relative'` they are the
 * file's path relative to the folder as it is (for tables whose location or relative root is the
 * folder, or for copies under the table path). `rootUri` is a location, as a table path is: taken as
 * written, not percent-decoded. Hidden entries (a file or directory whose name starts with `.`, such as
 * `.git` or a CLI home `.lakesoul`) and the `exclude` locations are not listed.
 *
 * On local disk every listed file is opened and must really lie inside the folder's real location:
 * symbolic links to files inside the folder are listed (with their target's size), links leading
 * out of it are refused, as a table's reads would refuse them (symlinked directories are not walked).
 * @throws LakeSoulError InvalidArgument (code `BLOB_BAD_REFERENCE`, context `file`) for a listed key
 *   with an empty segment (`cat//d.png`, possible in S3), which no blob reference can name.
 * @throws LakeSoulError PermissionDenied (code `BLOB_OUTSIDE_ROOTS`, context `file` and `realPath`)
 *   naming the first file (in path order) that resolves outside the folder; nothing is returned.
 */
export async function scanImageFolder(rootUri: string, options: ScanImageFolderOptions): Promise<Table> {
  const exts = (options.extensions ?? IMAGE_EXTENSIONS).map((e) => (e.startsWith('.') ? e : '.' + e).toLowerCase());
  const root = parseUri(rootUri);
  const rootKey = root.key.split('/').filter((s) => s !== '').join('/');
  const base = formatUri({ ...root, key: rootKey });
  const { store, key, baseUri } = options.stores.resolve(base);
  const prefix = key === '' ? '' : key + '/';
  const rows: { path: string; label: string | null; size: bigint }[] = [];
  const keys: string[] = [];
  const skip = await excludedPrefixes(base, options.exclude);
  const uriOf = (rel: string) => `${base.replace(/\/$/, '')}/${rel}`;
  for await (const meta of store.list(prefix, { signal: options.signal })) {
    const rel = meta.path.slice(prefix.length);
    const lower = rel.toLowerCase();
    if (!exts.some((e) => lower.endsWith(e)) || hidden(rel) || skip.some((s) => rel.startsWith(s))) continue;
    checkNameable(rel, uriOf(rel));
    const parts = rel.split('/');
    const label = parts.length >= 2 ? parts[0] : null;
    rows.push({ path: options.paths === 'relative' ? rel : referenceOfLocation(uriOf(rel)), label, size: BigInt(meta.size) });
    keys.push(meta.path);
  }
  if (root.scheme === 'file' && rows.length > 0) {
    // the listing stats through file links, so its sizes are the targets' wherever they lie: each file
    // is opened and placed inside the folder before its row (and size) is kept
    const sem = new Semaphore(16);
    const checked = await Promise.all(
      keys.map(async (k, i): Promise<{ row: (typeof rows)[number] | null; error?: unknown }> => {
        try {
          await sem.acquire(options.signal);
        } catch (e) {
          return { row: null, error: e };
        }
        try {
          const meta = await headInSource(store, k, uriOf(k.slice(prefix.length)), base, baseUri, options.signal);
          return { row: { ...rows[i], size: BigInt(meta.size) } };
        } catch (e) {
          if (LakeSoulError.is(e, 'NotFound')) return { row: null }; // deleted since it was listed
          return { row: rows[i], error: e };
        } finally {
          sem.release();
        }
      }),
    );
    // any other error first (an abort, an unreadable file), else the first refusal in path order
    const other = checked.find((c) => c.error !== undefined && !LakeSoulError.hasCode(c.error, 'BLOB_OUTSIDE_ROOTS'));
    if (other) throw other.error;
    const refused = checked.filter((c) => c.error !== undefined).sort((a, b) => (a.row!.path < b.row!.path ? -1 : a.row!.path > b.row!.path ? 1 : 0));
    if (refused.length > 0) throw refused[0].error;
    rows.length = 0;
    for (const c of checked) if (c.row !== null) rows.push(c.row);
  }
  rows.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return new Table({
    path: vectorFromArray(rows.map((r) => r.path), new Utf8()),
    label: vectorFromArray(rows.map((r) => r.label), new Utf8()),
    size: makeVector(BigInt64Array.from(rows.map((r) => r.size))),
  });
}

/** Options of {@link readManifest}. */
export interface ReadManifestOptions {
  stores: StoreRegistry;
  /** Default: from the file extension (`.csv`, `.jsonl`/`.ndjson`). */
  format?: 'csv' | 'jsonl';
  /** The column holding file references; every row must have one. */
  pathColumn: string;
  signal?: AbortSignal;
}

/**
 * Reads a manifest listing files and their attributes into an Arrow table. CSV: a header line, RFC 4180
 * quoting, every column Utf8 (empty unquoted fields are null). JSONL: one object per line; a column
 * whose values are all integers becomes Int64, all numbers Float64, all booleans Bool, otherwise Utf8
 * (objects and arrays as JSON text); missing keys are null. Column order is first appearance.
 * @throws LakeSoulError InvalidArgument naming the line for malformed input, or a path value missing or not
 *   a string (JSONL `{"file": 123}`).
 */
export async function readManifest(uri: string, options: ReadManifestOptions): Promise<Table> {
  const format = options.format ?? (/\.(jsonl|ndjson)$/i.test(uri) ? 'jsonl' : /\.csv$/i.test(uri) ? 'csv' : undefined);
  if (!format) throw new LakeSoulError('InvalidArgument', `cannot tell the manifest format of ${uri}: pass format 'csv' or 'jsonl'`, { context: { file: uri } });
  const { store, key } = options.stores.resolve(uri);
  const text = new TextDecoder('utf-8').decode(await store.get(key, { signal: options.signal }));
  const { columns, rows, lines } = format === 'csv' ? parseCsv(text, uri) : parseJsonl(text, uri);
  if (!columns.includes(options.pathColumn)) {
    throw new LakeSoulError('InvalidArgument', `manifest ${uri} has no column '${options.pathColumn}' (columns: ${columns.join(', ')})`, { context: { file: uri, column: options.pathColumn } });
  }
  rows.forEach((r, i) => {
    const v = r[options.pathColumn];
    if (v === null || v === undefined || v === '') {
      throw new LakeSoulError('InvalidArgument', `manifest ${uri} line ${lines[i]}: empty '${options.pathColumn}'`, { context: { file: uri, column: options.pathColumn, row: lines[i] } });
    }
    if (typeof v !== 'string') {
      throw new LakeSoulError('InvalidArgument', `manifest ${uri} line ${lines[i]}: '${options.pathColumn}' is ${JSON.stringify(v)}, not a string (a file's path or URI)`, { context: { file: uri, column: options.pathColumn, row: lines[i] } });
    }
  });
  const vectors: Record<string, Vector> = {};
  for (const c of columns) vectors[c] = columnVector(rows.map((r) => r[c] ?? null), format === 'csv');
  return new Table(vectors);
}

type Cell = string | number | boolean | null | object;

function columnVector(values: Cell[], allText: boolean): Vector {
  const present = values.filter((v) => v !== null);
  let type: DataType = new Utf8();
  if (!allText && present.length > 0) {
    if (present.every((v) => typeof v === 'boolean')) type = new Bool();
    else if (present.every((v) => typeof v === 'number' && Number.isSafeInteger(v))) type = new Int64();
    else if (present.every((v) => typeof v === 'number')) type = new Float64();
  }
  if (type instanceof Int64) return vectorFromArray(values.map((v) => (v === null ? null : BigInt(v as number))), new Int64());
  if (type instanceof Utf8) return vectorFromArray(values.map((v) => (v === null ? null : typeof v === 'object' ? JSON.stringify(v) : String(v))), new Utf8());
  return vectorFromArray(values as (number | boolean | null)[], type);
}

function parseJsonl(text: string, uri: string) {
  const columns: string[] = [];
  const rows: Record<string, Cell>[] = [];
  const lines: number[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new LakeSoulError('InvalidArgument', `manifest ${uri} line ${i + 1}: invalid JSON (${(e as Error).message})`, { context: { file: uri, row: i + 1 } });
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new LakeSoulError('InvalidArgument', `manifest ${uri} line ${i + 1}: expected a JSON object`, { context: { file: uri, row: i + 1 } });
    }
    for (const k of Object.keys(obj)) if (!columns.includes(k)) columns.push(k);
    rows.push(obj as Record<string, Cell>);
    lines.push(i + 1);
  });
  return { columns, rows, lines };
}

function parseCsv(text: string, uri: string) {
  const records: { fields: (string | null)[]; line: number }[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const startLine = line;
    const fields: (string | null)[] = [];
    for (;;) {
      let value = '';
      let quoted = false;
      if (text[i] === '"') {
        quoted = true;
        i++;
        for (;;) {
          if (i >= n) throw new LakeSoulError('InvalidArgument', `manifest ${uri} line ${startLine}: unterminated quoted field`, { context: { file: uri, row: startLine } });
          const ch = text[i];
          if (ch === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
            } else {
              i++;
              break;
            }
          } else {
            if (ch === '\n') line++;
            value += ch;
            i++;
          }
        }
      } else {
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') value += text[i++];
      }
      fields.push(!quoted && value === '' ? null : value);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') {
        i++;
        line++;
      } else if (i < n) {
        throw new LakeSoulError('InvalidArgument', `manifest ${uri} line ${line}: unexpected character after a quoted field`, { context: { file: uri, row: line } });
      }
      break;
    }
    if (fields.length === 1 && fields[0] === null) continue; // blank line
    records.push({ fields, line: startLine });
  }
  if (records.length === 0) throw new LakeSoulError('InvalidArgument', `manifest ${uri} is empty (expected a header line)`, { context: { file: uri } });
  const header = records[0].fields.map((h, k) => (h ?? '').trim() || `column_${k}`);
  const rows: Record<string, Cell>[] = [];
  const lines: number[] = [];
  for (const r of records.slice(1)) {
    if (r.fields.length !== header.length) {
      throw new LakeSoulError('InvalidArgument', `manifest ${uri} line ${r.line}: ${r.fields.length} fields, the header has ${header.length}`, { context: { file: uri, row: r.line } });
    }
    const obj: Record<string, Cell> = {};
    header.forEach((h, k) => (obj[h] = r.fields[k]));
    rows.push(obj);
    lines.push(r.line);
  }
  return { columns: header, rows, lines };
}

/**
 * HEAD of the local file `key` of `store` (the file `uri`), which must really lie inside the folder
 * `folderUri` (a `file:` location): the store opens it and checks where the opened file lies
 * ({@link ConfinedReader.headConfined}), so a symbolic link leading out of the folder is refused.
 * `storeBaseUri` is the location of the store's root (`StoreRegistry.resolve(uri).baseUri`): the
 * folder is confined to as a key prefix of that store, so a `LocalStore` registered for a location
 * with another root directory (`file:///lake/` served from `/data/real`) confines to the folder it
 * really serves. For {@link scanImageFolder} and `importImages`.
 * @throws LakeSoulError PermissionDenied `BLOB_OUTSIDE_ROOTS` (context `file`, `realPath`, `folder`) for a
 *   file outside the folder; `BLOB_STORE_NOT_CONFINED` when the store offers no confined read.
 */
export function headInSource(store: ObjectStore, key: string, uri: string, folderUri: string, storeBaseUri: string, signal?: AbortSignal): Promise<ObjectMeta> {
  return inSource(store, uri, folderUri, storeBaseUri, (reader, within) => reader.headConfined(key, within, { signal }));
}

/** The bytes of the local file `key` of `store`, confined to the folder `folderUri` as {@link headInSource}. */
export function getInSource(store: ObjectStore, key: string, uri: string, folderUri: string, storeBaseUri: string, signal?: AbortSignal): Promise<Uint8Array> {
  return inSource(store, uri, folderUri, storeBaseUri, (reader, within) => reader.getConfined(key, within, { signal }));
}

/**
 * Where a confined read of the store rooted at `storeBaseUri` must stay to stay inside `folderUri`: the
 * folder's key prefix in that store (`''` when the store's root lies inside the folder), or, for a
 * folder the store does not serve, the folder's path as an absolute directory.
 */
function folderConfinement(folderUri: string, storeBaseUri: string): string {
  const folder = parseUri(folderUri);
  const base = parseUri(storeBaseUri);
  const fSegs = folder.key.split('/').filter((s) => s !== '');
  const bSegs = base.key.split('/').filter((s) => s !== '');
  const common = Math.min(fSegs.length, bSegs.length);
  if (folder.scheme === base.scheme && folder.authority === base.authority && fSegs.slice(0, common).every((s, i) => bSegs[i] === s)) {
    return fSegs.slice(bSegs.length).join('/');
  }
  return '/' + fSegs.join('/');
}

async function inSource<T>(store: ObjectStore, uri: string, folderUri: string, storeBaseUri: string, use: (reader: ConfinedReader, within: string[]) => Promise<T>): Promise<T> {
  const reader = confinedReaderOf(store);
  if (!reader) {
    throw new LakeSoulError('PermissionDenied', `${uri}: the store for it (${store.description}) cannot confine reads to the folder ${folderUri} (it offers no getConfined/headConfined); register a LocalStore there, or make the wrapper forward those methods`, {
      code: 'BLOB_STORE_NOT_CONFINED',
      context: { file: uri },
    });
  }
  try {
    return await use(reader, [folderConfinement(folderUri, storeBaseUri)]);
  } catch (e) {
    if (!LakeSoulError.hasCode(e, 'PATH_OUTSIDE_ROOT')) throw e;
    const real = String((e as LakeSoulError).context.realPath ?? '');
    throw new LakeSoulError(
      'PermissionDenied',
      `${uri} refused: it resolves (through a symbolic link) to ${real || 'a location that could not be established'}, outside the folder ${folderUri} (a table's reads would refuse it too): put the file itself in the folder, or use the folder it lies in`,
      { code: 'BLOB_OUTSIDE_ROOTS', cause: e, context: { file: uri, realPath: real, folder: folderUri } },
    );
  }
}
