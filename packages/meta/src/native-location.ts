/**
 * Where LakeSoul's native IO (the Rust core of the `lakesoul` wheel, Spark's and Flink's native
 * readers) puts a local path: it parses a stored `file:` location as a URL and percent-decodes its
 * path, so the wheel stores `file:///w/my%20lake` for the directory `/w/my lake`. Comparing table
 * locations by their raw text would let two tables share one directory (issue H1: one table's
 * cleanup then deleted the other's live files). The same rule, for data file paths, is
 * {@link nativeDataFileUri}; {@link storedLocation} checks a location this project stores (a
 * warehouse, a table path, a relocation's target).
 */
import { posix } from 'node:path';
import { LakeSoulError } from './errors.js';

/**
 * Decodes `%XX` escapes (as UTF-8 bytes; a `%` not followed by two hex digits stays, an invalid
 * byte sequence becomes U+FFFD, as the native IO's lossy decoding does).
 */
export function percentDecode(text: string): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < text.length;) {
    if (text[i] === '%' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      const ch = String.fromCodePoint(text.codePointAt(i)!);
      bytes.push(...enc.encode(ch));
      i += ch.length;
    }
  }
  return new TextDecoder('utf-8').decode(Uint8Array.from(bytes));
}

/**
 * The local directory or file a `file:` location's path (`/a/b%20c`, the part after the scheme and
 * authority) names to LakeSoul's native IO: tabs and newlines removed, query and fragment cut,
 * backslashes as `/`, percent-decoded, then `.` and `..` segments applied (as the URL parser, or the
 * file system for a decoded `a%2F..`, applies them) and empty segments dropped.
 */
export function nativeLocalPath(path: string): string {
  let p = path.replace(/[\t\n\r]/g, '');
  const cut = p.search(/[?#]/);
  if (cut >= 0) p = p.slice(0, cut);
  const segments: string[] = [];
  for (const s of percentDecode(p.replace(/\\/g, '/')).split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') segments.pop();
    else segments.push(s);
  }
  return `/${segments.join('/')}`;
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
 * The location a path names (the `file:` scheme and trailing slashes dropped), for comparing
 * paths that other engines may spell differently (`file:///a`, `file:/a`, `file://localhost/a` and `/a`
 * are one directory, as are `s3a://b/a` and `s3://b/a`; a trailing slash changes nothing). This is
 * the raw spelling; `nativeLocationKey` is where LakeSoul's native IO puts it.
 */
export function locationKey(path: string): string {
  // s3a:// and s3n:// (Hadoop's spellings, used by Spark-created tables) name the same objects as s3://.
  let p = path.replace(/^s3[an]:\/\//i, 's3://');
  // file:///a, file:/a (Hadoop's Path.toString(), in Spark-created tables) and file://localhost/a are /a
  const local = /^file:(?:\/\/(?:localhost)?)?(\/.*)?$/i.exec(p);
  if (local !== null) p = local[1] ?? '/';
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

/**
 * The location LakeSoul's native IO reads for a path ({@link locationKey}'s form): a `file:` URI's
 * path is percent-decoded, with its `.` and `..` segments applied (`file:///w/my%20lake` is the
 * directory `/w/my lake`, where the wheel writes a table it stores so). Other schemes (`s3://`) and
 * paths without a scheme are kept as {@link locationKey} gives them.
 */
export function nativeLocationKey(path: string): string {
  const local = /^file:(?:\/\/(?:localhost)?)?(\/.*)?$/i.exec(path.trim());
  return local === null ? locationKey(path) : nativeLocalPath(local[1] ?? '/');
}

function keyWithin(i: string, o: string): boolean {
  return i === o || i.startsWith(o.endsWith('/') ? o : `${o}/`);
}

/**
 * True when `inner` equals `outer` or lies inside it (by path segments), in any pairing of the
 * spelling as written ({@link locationKey}: where a store that takes the path literally puts files)
 * and where LakeSoul's native IO puts them (`nativeLocationKey`): `file:///w/my lake/x.parquet`
 * lies inside `file:///w/my%20lake`, and so does `file:///w/my%2520lake` (the native IO's
 * `/w/my%20lake` is the literal directory of the other).
 */
export function pathWithin(inner: string, outer: string): boolean {
  return keysWithin(locationKeys(inner), locationKeys(outer));
}

/** A path's two spellings: as written ({@link locationKey}) and as LakeSoul's native IO reads it. */
export type LocationKeys = readonly [written: string, native: string];

export function locationKeys(path: string): LocationKeys {
  return [locationKey(path), nativeLocationKey(path)];
}

/** {@link pathWithin} of paths whose keys are made already. */
export function keysWithin([wi, ni]: LocationKeys, [wo, no]: LocationKeys): boolean {
  return keyWithin(wi, wo) || keyWithin(ni, no) || keyWithin(wi, no) || keyWithin(ni, wo);
}
