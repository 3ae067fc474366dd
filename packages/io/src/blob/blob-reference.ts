/**
 * Blob references: their encodings, and their resolution inside the allowed roots.
 */
import { LakeSoulError } from '@lakesoul-ts/meta';
import { formatUri, parseUri } from '../store/index.js';
import type { ParsedUri } from '../store/index.js';

/** A reference as read from a row: a location and an optional byte range inside it. */
export interface BlobReference {
  path: string;
  offset?: number;
  length?: number;
}

/** A reference resolved inside an allowed root. */
export interface ResolvedBlobReference {
  /** Canonical absolute URI (`file:///...`, `s3://bucket/...`, `memory://name/...`). */
  uri: string;
  parsed: ParsedUri;
  /** Byte range, when the reference carries one. */
  offset?: number;
  length?: number;
}

const RANGE_MARK = '#bytes=';
const RANGE_SUFFIX = /^#bytes=(\d+)-(\d+)$/;
const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;
const READABLE_SCHEMES = new Set(['file', 's3', 'memory']);

/**
 * Splits a string reference into path and range. `path#bytes=START-END` addresses bytes START..END
 * inclusive (HTTP Range style: `#bytes=0-99` is the first 100 bytes). The range is the text from the
 * last `#bytes=` of the reference's last path segment to its end; a name that itself holds `#bytes=`
 * in its last segment is written as a struct reference (`{ path }`, never split), or, in a `file:` URI,
 * with its `#` as `%23`.
 * @throws LakeSoulError InvalidArgument (code `BLOB_BAD_REFERENCE`) naming the reference when that text
 *   is not `#bytes=START-END` with START <= END (`#bytes=5-`, `#bytes=-3`, `#bytes=abc`, `#bytes=1-2-3`).
 */
export function parseBlobReferenceString(ref: string): BlobReference {
  const at = ref.lastIndexOf(RANGE_MARK);
  if (at < 0 || ref.includes('/', at)) return { path: ref };
  const m = RANGE_SUFFIX.exec(ref.slice(at));
  const start = m ? Number(m[1]) : NaN;
  const end = m ? Number(m[2]) : NaN;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) {
    throw new LakeSoulError(
      'InvalidArgument',
      `invalid byte range in blob reference '${ref}': expected #bytes=START-END with START <= END (a name holding '#bytes=' is written as a struct reference { path }, or with %23 for '#' in a file: URI)`,
      { code: 'BLOB_BAD_REFERENCE', context: { reference: ref } },
    );
  }
  return { path: ref.slice(0, at), offset: start, length: end - start + 1 };
}

interface Root {
  parsed: ParsedUri;
  segments: string[];
  uri: string;
}

/** Where references may point, and what relative references are relative to. */
export interface BlobRootsOptions {
  /**
   * The table's location: always allowed; relative references resolve against it by default. A store
   * location (taken as written, like every location the stores read, never percent-decoded).
   */
  tablePath: string;
  /**
   * Further allowed locations, as the table property `lakesoul_blob_roots` lists them. One written as
   * a `file:` URI is percent-decoded as references are (`file:///data/my%2541dir` is the folder
   * `/data/my%41dir`), and, when that differs from the text as written, the location as written is
   * allowed too (older imports recorded a folder's name unencoded). A segment decoding to `/`, NUL,
   * `.` or `..` is kept as written (`allowedRootLocations`). Other schemes and plain paths are
   * taken as written.
   */
  allowedRoots?: string[];
  /** Base of relative references instead of the table path (itself allowed); a store location like `tablePath`. */
  relativeRoot?: string;
}

/**
 * The set of locations blob references may resolve into. Resolution is lexical (`.`/`..` segments are
 * applied, an escape above a bucket or the filesystem root is refused) followed by a containment
 * check, segment by segment, against every root. Local files are confined once more when read: the
 * store opens the file and checks where the opened descriptor really lies
 * (`ConfinedReader` of the store, with the prefixes of {@link BlobRoots.localConfinement}).
 */
export class BlobRoots {
  private readonly roots: Root[];
  private readonly base: Root;

  constructor(options: BlobRootsOptions) {
    const table = rootOf(options.tablePath, parseUri(options.tablePath).key);
    this.base = options.relativeRoot ? rootOf(options.relativeRoot, parseUri(options.relativeRoot).key) : table;
    this.roots = [table, ...(options.allowedRoots ?? []).flatMap(allowedRootsOf)];
    if (options.relativeRoot) this.roots.push(this.base);
  }

  /** Canonical URIs of the allowed roots. */
  get allowed(): string[] {
    return this.roots.map((r) => r.uri);
  }

  /**
   * Resolves a reference path to a canonical URI inside the roots.
   * @throws LakeSoulError PermissionDenied (code `BLOB_OUTSIDE_ROOTS`) when it points elsewhere or uses
   * another scheme; InvalidArgument (code `BLOB_BAD_REFERENCE`) for an empty or malformed reference,
   * one naming a root itself (`.`, `sub/..`, the table path, with or without a trailing slash), or
   * one ending in `/`, `.` or `..` (`a.png/` names a directory, never the object `a.png`).
   */
  resolve(ref: BlobReference): ResolvedBlobReference {
    const path = ref.path;
    if (path === '' || path.includes('\0')) {
      throw new LakeSoulError('InvalidArgument', `empty or malformed blob reference '${path}'`, { code: 'BLOB_BAD_REFERENCE' });
    }
    let scheme: string;
    let authority: string;
    let segments: string[];
    /** The reference's own segments, decoded, before `.`/`..` are applied. */
    let written: string[];
    const m = SCHEME.exec(path);
    if (m || path.startsWith('/')) {
      let parsed: ParsedUri;
      try {
        parsed = parseUri(path);
      } catch (e) {
        throw denied(path, `it is not a readable location (${(e as Error).message})`);
      }
      if (!READABLE_SCHEMES.has(parsed.scheme)) throw denied(path, `scheme '${parsed.scheme}' is not allowed`);
      scheme = parsed.scheme;
      authority = parsed.authority;
      // a file: URI's path is percent-encoded (RFC 8089; what pathToFileURL writes): `%20` is a space,
      // not three characters (a file literally named `a%20b` was read instead of `a b`)
      const raw = parsed.key.split('/');
      written = m && scheme === 'file' ? raw.map((s) => decodeFileUriSegment(s, path)) : raw;
      segments = normalizeSegments(written, path);
    } else {
      scheme = this.base.parsed.scheme;
      authority = this.base.parsed.authority;
      written = path.split('/');
      segments = normalizeSegments([...this.base.segments, ...written], path);
    }
    const within = (r: Root) => r.parsed.scheme === scheme && r.parsed.authority === authority && r.segments.length <= segments.length && r.segments.every((s, i) => segments[i] === s);
    const named = this.roots.find((r) => within(r) && r.segments.length === segments.length);
    if (named) {
      // the location of a root is allowed, but it is a directory (or a bucket), not an object to read
      throw new LakeSoulError('InvalidArgument', `blob reference '${path}' names the root ${named.uri} itself, not an object inside it`, { code: 'BLOB_BAD_REFERENCE', context: { reference: path } });
    }
    if (!this.roots.some(within)) throw denied(path, `it is outside the allowed roots (${this.allowed.join(', ')})`);
    // `a.png/` (or `a.png/.`) names a directory: read as `a.png` it was another object than the one
    // written (on S3 `i/a.bin/` and `i/a.bin` are two keys), so it is refused on every store alike
    const last = written[written.length - 1];
    if (last === '' || last === '.' || last === '..') {
      throw new LakeSoulError('InvalidArgument', `blob reference '${path}' ends in '/', '.' or '..': it names a directory, not an object (write it without the trailing part)`, { code: 'BLOB_BAD_REFERENCE', context: { reference: path } });
    }
    const parsed: ParsedUri = { scheme, authority, key: segments.join('/') };
    return { uri: formatUri(parsed), parsed, offset: ref.offset, length: ref.length };
  }

  /**
   * Where a local store whose root is `baseUri` (a `file://` URI, as `StoreRegistry.resolve` reports
   * it) must confine reads: the store-relative key prefixes of the local roots that overlap the store
   * (`''` when a root contains the store's whole root), and the absolute directories of the other local
   * roots (a symlink in the store may lead into them, as it may with the default `file:///` store).
   * Every reference that {@link BlobRoots.resolve} accepts into that store lies under one of the prefixes.
   */
  localConfinement(baseUri: string): string[] {
    const base = parseUri(baseUri);
    const baseSegs = base.key.split('/').filter((s) => s !== '');
    const out = new Set<string>();
    for (const r of this.roots) {
      if (r.parsed.scheme !== base.scheme || r.parsed.authority !== base.authority) continue;
      if (baseSegs.every((s, i) => i >= r.segments.length || r.segments[i] === s)) {
        out.add(r.segments.length > baseSegs.length ? r.segments.slice(baseSegs.length).join('/') : '');
      } else {
        out.add('/' + r.segments.join('/'));
      }
    }
    return [...out];
  }
}

/** The root at `uri` whose key is `key` (its `.` segments dropped); a `..` segment is refused. */
function rootOf(uri: string, key: string): Root {
  const parsed = parseUri(uri);
  const segments = key.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) {
    throw new LakeSoulError('InvalidArgument', `an allowed blob root may not contain '..': ${uri}`, { context: { file: uri } });
  }
  return { parsed: { ...parsed, key: segments.join('/') }, segments, uri: formatUri({ ...parsed, key: segments.join('/') }) };
}

/**
 * The roots an allowed root written as references are allows: a `file:` URI's path decoded as
 * {@link BlobRoots.resolve} decodes a reference's ({@link decodeRootKey}), and its text as written as
 * well when that differs; other schemes and plain paths as written.
 */
function allowedRootsOf(uri: string): Root[] {
  const key = parseUri(uri).key;
  const decoded = SCHEME.test(uri) && parseUri(uri).scheme === 'file' ? decodeRootKey(key) : key;
  return decoded === key ? [rootOf(uri, key)] : [rootOf(uri, decoded), rootOf(uri, key)];
}

/**
 * The locations (canonical URIs) an entry of `lakesoul_blob_roots` (or of a read's `allowedRoots`)
 * allows, as {@link BlobRoots} takes it: a `file:` URI percent-decoded (a segment that decodes to
 * `/`, NUL, `.` or `..`, or is no valid encoding, kept as written), then, when that differs, the
 * text as written. `createTable` validates the property through it, so it accepts exactly the roots
 * reads accept.
 * @throws LakeSoulError InvalidArgument naming the root for one that is no location or holds a `..` segment.
 */
export function allowedRootLocations(uri: string): string[] {
  return allowedRootsOf(uri).map((r) => r.uri);
}

function normalizeSegments(parts: string[], ref: string): string[] {
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (out.length === 0) throw denied(ref, "'..' escapes above the root of its location");
      out.pop();
    } else {
      out.push(p);
    }
  }
  return out;
}

/** How to widen the roots, quoted in every refusal. */
export const ALLOW_ROOT_HINT =
  "to allow a location, add it to the table property 'lakesoul_blob_roots' (an operator's decision; importImages records its source folder there) or to the read's allowedRoots";

/** The refusal of a reference outside the roots (kind PermissionDenied, code `BLOB_OUTSIDE_ROOTS`). */
export function denied(ref: string, why: string, context: Record<string, string> = {}): LakeSoulError {
  return new LakeSoulError('PermissionDenied', `blob reference '${ref}' refused: ${why}; ${ALLOW_ROOT_HINT}`, { code: 'BLOB_OUTSIDE_ROOTS', context: { reference: ref, ...context } });
}

/**
 * The key of an allowed root written as a `file:` URI, percent-decoded segment by segment as
 * {@link decodeFileUriSegment} decodes a reference's; a segment that is no valid encoding (a literal
 * `%`, as in a folder `50%off` an older import recorded unencoded) or that encodes a '/' or NUL is kept
 * as written: no reference can name it in decoded form, and refusing it would make the whole table
 * unreadable. A segment decoding to `.` or `..` (`%2E`, `%2E%2E`) is kept as written too: decoded, it
 * would be a step of the path (`file:///data/%2E` allowing all of `/data`, `sub/%2E%2E` refused and
 * every read of the table failing), not the folder an older import recorded by that name.
 */
function decodeRootKey(key: string): string {
  return key
    .split('/')
    .map((s) => {
      if (!s.includes('%')) return s;
      try {
        const d = decodeURIComponent(s);
        // a decoded '.' or '..' would be a path step (`file:///data/%2E` allowing all of /data): as written
        return d.includes('/') || d.includes('\0') || d === '.' || d === '..' ? s : d;
      } catch {
        return s;
      }
    })
    .join('/');
}

/** One percent-decoded segment of a `file:` URI's path; an encoded '/' or NUL, or a bad escape, is refused. */
function decodeFileUriSegment(segment: string, ref: string): string {
  if (!segment.includes('%')) return segment;
  let out: string;
  try {
    out = decodeURIComponent(segment);
  } catch {
    throw new LakeSoulError('InvalidArgument', `blob reference '${ref}': a file: URI is percent-encoded and '${segment}' is not (write a literal % as %25, or give a plain path)`, { code: 'BLOB_BAD_REFERENCE' });
  }
  if (out.includes('/') || out.includes('\0')) {
    throw new LakeSoulError('InvalidArgument', `blob reference '${ref}': an encoded '/' or NUL in a path segment is not a file name`, { code: 'BLOB_BAD_REFERENCE' });
  }
  return out;
}
