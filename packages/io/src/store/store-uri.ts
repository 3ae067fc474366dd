/**
 * URI helpers for table and object locations. URIs are raw strings (no percent-decoding), as LakeSoul
 * stores them: `file:///abs/path`, `s3://bucket/key` (`s3a://` and `s3n://` are read as `s3://`),
 * `memory://name/key`.
 */
import { isAbsolute, resolve as resolvePath, sep } from 'node:path';
import { LakeSoulError } from '@lakesoul-ts/meta';

/** A parsed location: scheme, authority (bucket or memory store name; `''` for files) and key. */
export interface ParsedUri {
  /** `file`, `s3` (also for s3a/s3n), `memory`, or another lower-case scheme. */
  scheme: string;
  /** Bucket for s3, store name for memory, `''` for file. */
  authority: string;
  /** Key inside the authority, without leading slash; `''` for the root. Trailing slash kept. */
  key: string;
}

const SCHEME_RE = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;

/**
 * Parses a location. Accepts `file:///abs`, `file:/abs` (Hadoop style), `file://localhost/abs`, plain
 * absolute local paths, `s3://bucket/key`, `s3a://`, `s3n://`, `memory://name/key`, and other
 * `scheme://authority/key` URIs (returned as is for the caller to refuse).
 * @throws LakeSoulError InvalidArgument for relative paths and malformed URIs.
 */
export function parseUri(uri: string): ParsedUri {
  if (typeof uri !== 'string' || uri === '') {
    throw new LakeSoulError('InvalidArgument', `invalid location '${String(uri)}': expected a URI such as file:///abs/path or s3://bucket/key`);
  }
  const m = SCHEME_RE.exec(uri);
  if (!m) {
    if (uri.startsWith('/')) return { scheme: 'file', authority: '', key: uri.replace(/^\/+/, '') };
    throw new LakeSoulError('InvalidArgument', `relative location '${uri}': expected an absolute URI such as file:///abs/path or s3://bucket/key`, { context: { file: uri } });
  }
  let scheme = m[1].toLowerCase();
  const rest = uri.slice(m[0].length);
  if (scheme === 'file') {
    if (rest.startsWith('///')) return { scheme, authority: '', key: rest.replace(/^\/+/, '') };
    if (rest.startsWith('//localhost/')) return { scheme, authority: '', key: rest.slice('//localhost/'.length).replace(/^\/+/, '') };
    if (rest.startsWith('/') && !rest.startsWith('//')) return { scheme, authority: '', key: rest.replace(/^\/+/, '') };
    throw new LakeSoulError('InvalidArgument', `invalid file URI '${uri}': expected file:///absolute/path`, { context: { file: uri } });
  }
  if (!rest.startsWith('//')) {
    throw new LakeSoulError('InvalidArgument', `invalid URI '${uri}': expected ${scheme}://authority/path`, { context: { file: uri } });
  }
  if (scheme === 's3a' || scheme === 's3n') scheme = 's3';
  const after = rest.slice(2);
  const slash = after.indexOf('/');
  const authority = slash < 0 ? after : after.slice(0, slash);
  const key = slash < 0 ? '' : after.slice(slash + 1).replace(/^\/+/, '');
  if (authority === '') {
    throw new LakeSoulError('InvalidArgument', `invalid URI '${uri}': missing ${scheme === 's3' ? 'bucket' : 'authority'}`, { context: { file: uri } });
  }
  return { scheme, authority, key };
}

/** Formats a parsed location back to a URI (`file:///key`, `s3://bucket/key`, ...). */
export function formatUri(p: ParsedUri): string {
  if (p.scheme === 'file') return `file:///${p.key}`;
  return `${p.scheme}://${p.authority}/${p.key}`;
}

/**
 * Canonical form of a table location: scheme normalized (`s3a://` -> `s3://`, `/abs` and `file:/abs` ->
 * `file:///abs`), duplicate slashes collapsed, no trailing slash.
 */
export function normalizeTablePath(uri: string): string {
  const p = parseUri(uri);
  const key = p.key.split('/').filter((s) => s !== '').join('/');
  const out = formatUri({ ...p, key });
  return out.endsWith('/') && !(p.scheme === 'file' && key === '') ? out.replace(/\/+$/, '') : out;
}

/** Joins a base URI and path parts with single slashes (`joinUri('s3://b/t/', 'a', 'x.parquet')`). */
export function joinUri(base: string, ...parts: string[]): string {
  let out = base.replace(/\/+$/, '');
  if (/^file:\/*$/.test(base) || base === '/') out = 'file://';
  for (const part of parts) {
    const trimmed = part.replace(/^\/+|\/+$/g, '');
    if (trimmed !== '') out += '/' + trimmed;
  }
  return out;
}

/**
 * `file:///...` URI of a local path (resolved against the working directory when relative), in this
 * project's raw form: `file://` and the path as written, nothing percent-encoded (`/x/my lake` is
 * `file:///x/my lake`; `%`, `?` and `#` are kept as they are). It is not a URL for `new URL()`; as a
 * warehouse or table path, give the local path itself, which `storedLocation` (table area) checks as the
 * directory it names (this URI's `%41` would be read as an escape).
 */
export function toFileUri(localPath: string): string {
  const abs = isAbsolute(localPath) ? resolvePath(localPath) : resolvePath(process.cwd(), localPath);
  const posix = sep === '/' ? abs : abs.split(sep).join('/');
  return `file://${posix.startsWith('/') ? '' : '/'}${posix}`;
}
