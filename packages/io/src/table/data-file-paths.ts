/**
 * Data-file locations at the LakeSoul boundary: directory names this project writes, and how a path
 * stored in `file_ops` is turned into an object location the way LakeSoul's native IO (the Rust core of
 * the `lakesoul` wheel, Spark's and Flink's native readers) does it.
 *
 * LakeSoul's native IO parses every stored path as a URL (WHATWG rules, as the Rust `url` crate
 * applies them) and percent-decodes the URL's path. So a stored path is not read where its raw text
 * points when it holds a tab, newline or carriage return (removed), `?` or `#` (the rest becomes a query
 * or fragment), `%XX` (decoded), a backslash in a `file:` URL (a path separator), or `.`/`..`
 * segments (applied). The wheel itself writes to that parsed location while storing the raw text.
 */
import type { ObjectStore } from '../types.js';
import type { StoreRegistry } from '../store/index.js';
import { posix } from 'node:path';
import { LakeSoulError, percentDecode } from '@lakesoul-ts/meta';

/**
 * Characters escaped in partition directory names: those that URL parsing changes or drops (`%`, `?`,
 * `#`, `\`, `/`, and the control characters, which include tab, newline and carriage return), and `~`,
 * the escape character itself. Everything else (spaces, non-ASCII letters, other punctuation)
 * survives URL parsing and percent-decoding unchanged.
 */
const UNSAFE_IN_DIR = /[\u0000-\u001f\u007f%?#\\/~]/gu;

/**
 * One `column=value` directory name of a partition, as this project writes it: characters URL parsing
 * would change are written `~HH` (uppercase hex of each UTF-8 byte; `?` is `~3F`, `~` is `~7E`), so the
 * name reads back unchanged through LakeSoul's native IO, and distinct values get distinct names. The
 * value itself lives in `partition_desc`; readers never parse it from the path.
 */
export function partitionDirName(column: string, value: string): string {
  const name = `${escapeDirText(column)}=${escapeDirText(value)}`;
  const bytes = Buffer.byteLength(name);
  if (bytes > MAX_DIR_NAME_BYTES) {
    const short = (text: string) => `${text.slice(0, 60)}${text.length > 60 ? '…' : ''}`;
    const columnBytes = Buffer.byteLength(`${escapeDirText(column)}=`);
    const what = columnBytes > MAX_DIR_NAME_BYTES / 2
      ? `range partition column name '${short(column)}' is too long for a directory: '<name>=' takes ${columnBytes} bytes`
      : `range partition column '${column}' value '${short(value)}' is too long for a directory: '${column}=<value>' takes ${bytes} bytes`;
    throw new LakeSoulError('InvalidArgument', `${what} (at most ${MAX_DIR_NAME_BYTES} bytes, one directory of the table path; ` +
      'characters URL parsing changes, such as ? # % / \\ and control characters, are written as 3 bytes ~HH each)', {
      code: 'INVALID_PARTITION_VALUE', context: { column, bytes },
    });
  }
  return name;
}

/** The longest directory name file systems take (ext4, xfs, HDFS's default): one partition level. */
export const MAX_DIR_NAME_BYTES = 255;

function escapeDirText(text: string): string {
  return text.replace(UNSAFE_IN_DIR, (c) => [...Buffer.from(c, 'utf8')].map((b) => `~${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
}

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;
/** Schemes the WHATWG URL standard calls special: a backslash in their path is a separator. */
const SPECIAL = new Set(['file', 'http', 'https', 'ws', 'wss', 'ftp']);

/**
 * The location LakeSoul's native IO reads for a path stored in `file_ops`, as a URI in this project's
 * raw (not percent-encoded) form: tabs and newlines removed, the query and fragment cut, backslashes
 * of `file:` URLs turned into `/`, dot segments applied, and the path percent-decoded (a `%` not
 * followed by two hex digits stays). Paths without a scheme are returned unchanged.
 */
export function nativeDataFileUri(stored: string): string {
  // The URL parser trims leading and trailing C0 controls and spaces, and drops every tab and newline.
  let s = stored.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '').replace(/[\t\n\r]/g, '');
  const m = SCHEME.exec(s);
  if (!m) return stored;
  const scheme = m[1].toLowerCase();
  const cut = s.search(/[?#]/);
  if (cut >= 0) s = s.slice(0, cut);
  let rest = s.slice(m[0].length);
  if (SPECIAL.has(scheme)) rest = rest.replace(/\\/g, '/');
  // `file:tmp/x` is `file:///tmp/x` to a URL parser; `my:lake`, `s3:bucket/x` are opaque, not locations
  if (!rest.startsWith('/')) {
    if (!SPECIAL.has(scheme)) return stored;
    rest = '/' + rest;
  }
  let authority = '';
  let path = rest;
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    path = slash < 0 ? '' : rest.slice(slash);
  }
  const segments: string[] = [];
  const parts = path.split('/').slice(1);
  parts.forEach((p, i) => {
    const low = p.toLowerCase();
    const last = i === parts.length - 1;
    if (low === '.' || low === '%2e') {
      if (last) segments.push('');
    } else if (low === '..' || low === '.%2e' || low === '%2e.' || low === '%2e%2e') {
      segments.pop();
      if (last) segments.push('');
    } else {
      segments.push(p);
    }
  });
  const decoded = percentDecode('/' + segments.join('/'));
  return `${m[1]}://${authority}${decoded}`;
}

/**
 * A warehouse root or table path as it is stored: the location it names to LakeSoul's native IO
 * (see {@link nativeDataFileUri}), so that this project's stores, which take the text as it is, and
 * the other engines, which parse it as a URL, use the same directory. A `file:` URL with `%XX`
 * escapes (`pathToFileURL(dir).href`: `my%20lake`) becomes its raw form (`my lake`; before, the
 * tables went to a directory literally named `my%20lake`, which LakeSoul's engines never read).
 * @throws LakeSoulError (InvalidArgument, `code`) for a location URL parsing would cut or alter: `?`,
 * `#`, tabs and newlines, a `\` in a `file:` URL, or a `%XX` left after decoding (a directory named
 * `a%41` is `aA` to LakeSoul's engines), or an empty, `.` or `..` segment (as table paths, which are
 * made from a warehouse). `what` names the setting in the message.
 *
 * A plain absolute path (`/x/my lake`) names its directory as written: it is stored as `file://` and
 * the path (`//`, `.` and `..` applied, as the file system does), and refused (same code, naming the
 * path) where that stored text would be read as another directory: a `?`, `#`, tab, newline or `\`,
 * a `%XX` escape (the directory `x%41` is `xA` to LakeSoul's engines; `%` without two hex digits is
 * kept), or a space or control character at its start or end (trimmed by URL parsing). Spaces and
 * non-ASCII letters inside are kept as they are. A relative path (no leading `/`) is returned as it is.
 */
export function storedLocation(uri: string, what: string, code: 'INVALID_WAREHOUSE' | 'INVALID_TABLE_PATH'): string {
  const refuse = (why: string) => new LakeSoulError('InvalidArgument',
    `${what} '${uri}' ${why}: LakeSoul's engines read stored paths as URLs, so they would read another location than this project writes. Choose a directory without it`,
    { code, context: { path: uri } });
  const m = SCHEME.exec(uri);
  if (!m) return plainLocation(uri, refuse);
  // `my:lake`, `s3:bucket/x`, `C:\\lake`: a URL parser reads no location in them (they were stored
  // as `my:///`, refused later as "invalid URI 'my:///'", a text the person never wrote)
  if (!SPECIAL.has(m[1].toLowerCase()) && !uri.startsWith('//', m[0].length)) {
    throw new LakeSoulError('InvalidArgument',
      `${what} '${uri}' is not a location URL (no '//' after '${m[0]}'): give a fully qualified URI (file:///abs/path, s3://bucket/prefix)`,
      { code, context: { path: uri } });
  }
  const bad = /[?#\t\n\r]/.exec(uri) ?? (SPECIAL.has(m[1].toLowerCase()) ? /\\/.exec(uri) : null);
  if (bad) throw refuse(`holds ${JSON.stringify(bad[0])}`);
  const located = nativeDataFileUri(uri);
  if (nativeDataFileUri(located) !== located) {
    // a '?' or '#' (or a tab, a newline, a '\\') the path spelled as an escape (`a#b` made a URL is
    // `a%23b`) is named as the person typed it: the message blamed a '%' they never wrote
    const decoded = (SPECIAL.has(m[1].toLowerCase()) ? /[?#\t\n\r\\]/ : /[?#\t\n\r]/).exec(located.slice(m[0].length));
    throw refuse(decoded ? `holds ${JSON.stringify(decoded[0])} (escaped as %${decoded[0].charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')} in the URL)`
      : `holds a '%' escape once decoded (${JSON.stringify(located)}${m[1].toLowerCase() === 'file' ? `: the directory '${localPart(located)}', which, read as a URL, is '${percentDecode(localPart(located))}'` : ''})`);
  }
  // `s3://b//x`, `s3://b/a/./b`: the table paths made from it would be refused at every create
  const path = located.slice(m[0].length).replace(/^\/\/[^/]*/, '').replace(/\/+$/, '');
  if (path.split('/').slice(1).some((x) => x === '' || x === '.' || x === '..')) throw refuse("has an empty, '.' or '..' segment");
  return located;
}

/** The path of a `file:` URI in this project's raw form (`file:///x` and `file:/x` are `/x`). */
function localPart(uri: string): string {
  return uri.replace(/^file:(\/\/[^/]*)?/i, '');
}

/**
 * {@link storedLocation} of a path without a scheme: an absolute one as its `file://` location, when
 * its text, stored, is read as that directory by LakeSoul's engines (see there).
 */
function plainLocation(path: string, refuse: (why: string) => LakeSoulError): string {
  if (!path.startsWith('/')) return path;
  const bad = /[?#\t\n\r\\]/.exec(path);
  if (bad) throw refuse(`holds ${JSON.stringify(bad[0])}`);
  const escape = /%[0-9A-Fa-f]{2}/.exec(path);
  if (escape) throw refuse(`holds ${JSON.stringify(escape[0])}, a URL escape (read as a URL, '${path}' is '${percentDecode(path)}')`);
  if (/^[\u0000-\u0020]|[\u0000-\u0020]$/.test(path)) throw refuse('begins or ends with a space or control character, which they drop');
  const normalized = posix.normalize(path).replace(/\/+$/, '');
  return `file://${normalized === '' ? '/' : normalized}`;
}

/**
 * The store and key of a data file whose path is stored in `file_ops`. Where LakeSoul's native IO
 * would read another location than the raw text names ({@link nativeDataFileUri}), that location is
 * used when it exists (files the wheel wrote live there); otherwise the raw spelling (files written
 * by lakesoul-ts before its directory names were made URL-safe live there).
 * @throws LakeSoulError from the store's `head` other than NotFound.
 */
export async function locateDataFile(stores: StoreRegistry, stored: string, signal?: AbortSignal): Promise<{ store: ObjectStore; key: string }> {
  const native = nativeDataFileUri(stored);
  const raw = stores.resolve(stored);
  if (native === stored) return raw;
  const loc = stores.resolve(native);
  if (loc.store === raw.store && loc.key === raw.key) return raw;
  try {
    await loc.store.head(loc.key, { signal });
    return loc;
  } catch (e) {
    if (e instanceof LakeSoulError && e.kind === 'NotFound') return raw;
    throw e;
  }
}
