/**
 * Where the catalog lives: a PostgreSQL server or an embedded PGlite directory, resolved from explicit
 * options, LakeSoul's environment variables, a LakeSoul properties file, or the embedded default.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LakeSoulError } from './errors.js';

/** Default embedded catalog directory (relative to the working directory). */
export const DEFAULT_PGLITE_DIR = './.lakesoul/catalog';

/** A resolved PostgreSQL server configuration. */
export interface PgCatalogConfig {
  kind: 'pg';
  /**
   * `postgres://user:password@host:port/db` with the credentials folded in (URL-encoded); a URL with no
   * host (a unix socket as `postgres:///db?host=/run/postgresql`) holds them as `?user=`/`?password=`.
   */
  url: string;
  /**
   * Schema holding the catalog tables (search_path): `options.schema`, else a JDBC URL's
   * `currentSchema`; absent = the server default (`public`).
   */
  schema?: string;
  /** Where the setting came from: `options`, `env`, `lakesoul_home`. */
  source: 'options' | 'env' | 'lakesoul_home';
}

/** A resolved embedded configuration. */
export interface PGliteCatalogConfig {
  kind: 'pglite';
  /** Absolute data directory, or undefined for an in-memory catalog. */
  dataDir: string | undefined;
  source: 'options' | 'default';
}

/** Result of {@link resolveCatalogConfig}. */
export type CatalogConfig = PgCatalogConfig | PGliteCatalogConfig;

/** Explicit catalog settings; each one beats every environment source. */
export interface ResolveCatalogConfigOptions {
  /** `postgres://...`/`postgresql://...` URL, or a LakeSoul `jdbc:postgresql://host:port/db` URL. */
  url?: string;
  /** User for a jdbc URL (or overriding the one in a postgres URL). */
  username?: string;
  /** Password for a jdbc URL (or overriding the one in a postgres URL). */
  password?: string;
  /** PostgreSQL schema for the catalog tables (server only). */
  schema?: string;
  /** Embedded catalog directory; `':memory:'` (or `memory://`) for an in-memory catalog. */
  dataDir?: string;
  /** Embedded directory used when nothing else is configured (default `./.lakesoul/catalog`). */
  defaultDataDir?: string;
}

/**
 * Parses `jdbc:postgresql://host[:port]/db[?params]` and folds in user/password, giving a
 * `postgres://` URL. See `parseCatalogUrl`, which also gives a JDBC `currentSchema`.
 * @throws LakeSoulError `InvalidArgument` `INVALID_CATALOG_URL` naming the part or parameter at fault.
 */
export function toPostgresUrl(url: string, username?: string, password?: string): string {
  return parseCatalogUrl(url, username, password).url;
}

/** Result of `parseCatalogUrl`. */
export interface ParsedCatalogUrl {
  /**
   * `postgres://user:password@host:port/db[?params]`, credentials URL-encoded in the userinfo only —
   * but for a URL with no host (`postgres:///db?host=/run/postgresql`), whose userinfo a URL cannot
   * hold, as its `user` and `password` query parameters.
   */
  url: string;
  /** The schema a JDBC URL's `currentSchema` names, if any. */
  schema?: string;
}

/** JDBC parameters naming SSL files or the key's passphrase, kept as libpq spells them. */
const JDBC_SSL_KEPT = new Set(['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'sslpassword']);

/** The empty host of libpq's `postgres://user@/db` and `postgres://user@:5433/db`, which a WHATWG URL refuses. */
const EMPTY_HOST = /^([a-z][\w+.-]*:\/\/(?:[^/?#@]*@)?)(?=[:/?#]|$)/i;

/** Stands in for an empty host while a URL is parsed (`.invalid` never resolves). */
const NO_HOST = 'lakesoul-no-host.invalid';

/** Result of {@link parsePostgresUrl}. */
export interface ParsedPostgresUrl {
  /** The URL as parsed (its host a stand-in when `host` is empty: read `host`, not `u.host`). */
  u: URL;
  /** The authority's host and port as written (`h:5432`); '' for none (a unix socket given as `?host=`). */
  host: string;
  /** The authority's host name, still percent-encoded; '' for none. */
  hostname: string;
}

/**
 * Parses a `postgres://` URL as WHATWG URLs are parsed, also in libpq's forms with an empty host and
 * credentials or a port (`postgres://user@/db?host=/run/postgresql`, `postgres://user@:5433/db`),
 * which that parser refuses. `postgres:///db?host=...` parses either way, with an empty `host`.
 * @throws TypeError (from `new URL`) when the URL does not parse.
 */
export function parsePostgresUrl(raw: string): ParsedPostgresUrl {
  try {
    const u = new URL(raw);
    return { u, host: u.host, hostname: u.hostname };
  } catch (e) {
    if (!EMPTY_HOST.test(raw)) throw e;
    return { u: new URL(raw.replace(EMPTY_HOST, `$1${NO_HOST}`)), host: '', hostname: '' };
  }
}

/**
 * The SSL mode an `ssl` URL parameter stands for: `true`/`1`/`on`/`yes` is `verify-full` (pgJDBC's
 * meaning), `false`/`0`/`off`/`no` is `disable`, `no-verify` (node-postgres's) encrypts without
 * verifying; undefined for another value.
 */
export function sslFlagMode(value: string): 'verify-full' | 'disable' | 'no-verify' | undefined {
  if (/^(true|1|on|yes)$/i.test(value)) return 'verify-full';
  if (/^(false|0|off|no)$/i.test(value)) return 'disable';
  return /^no-verify$/i.test(value) ? 'no-verify' : undefined;
}

/**
 * Whether the value of an SSL file parameter (`sslkey`, `sslcert`, `sslrootcert`) can be a file name,
 * rather than the key or certificate itself pasted in (PEM text, base64). A value that cannot is never
 * shown: not in a URL shown ({@link redactCatalogUrl}), not in an error.
 */
export function plausibleFilePath(value: string): boolean {
  if (value.length > 4096 || /[\x00-\x1f\x7f]|-----/.test(value)) return false;
  if (value.length > 255 && /^[A-Za-z0-9+/= ]+$/.test(value)) return false; // base64: a key without its PEM lines
  return value.split('/').every((part) => Buffer.byteLength(part) <= 255);
}

/**
 * Parses a catalog URL: `postgres://`/`postgresql://` or LakeSoul's `jdbc:postgresql://host[:port]/db`.
 *
 * - Credentials: `username`/`password` (explicit settings) win over the URL's `?user=`/`?password=`
 *   query parameters, which win over its userinfo (as node-postgres and libpq read them). They are moved
 *   into the userinfo of the result: no credential stays in its query — except in a URL with no host
 *   (a unix socket as `postgres:///db?host=/run/postgresql`, or libpq's `postgres://user@/db?host=...`),
 *   which cannot hold a userinfo: there they are its `user` and `password` query parameters (and a port
 *   written `postgres://user@:5433/db` its `port`).
 * - `ssl=true`/`ssl=false` (JDBC, and node-postgres's `ssl=1`/`ssl=0`) become `sslmode=verify-full`
 *   (pgJDBC's meaning of `ssl=true`) / `sslmode=disable`, and node-postgres's `ssl=no-verify`
 *   `sslmode=no-verify`, unless `sslmode` is given; `sslmode`,
 *   `sslrootcert`, `sslcert`, `sslkey` and `sslpassword` are kept. Another `ssl…` parameter of a JDBC
 *   URL (`sslfactory`...) is refused: an SSL setting is never dropped.
 * - A JDBC `currentSchema` gives {@link ParsedCatalogUrl.schema} (one schema name; a list is refused);
 *   the other JDBC parameters (e.g. upstream's `stringtype=unspecified`) are dropped. A postgres URL's
 *   other parameters are kept.
 * @throws LakeSoulError `InvalidArgument` `INVALID_CATALOG_URL` for a URL that does not parse, another
 *   scheme, a malformed percent escape (naming the part: user name, password, database), an unknown
 *   `ssl` value or SSL parameter, or a `currentSchema` list; the URL is shown with its secrets masked.
 */
export function parseCatalogUrl(url: string, username?: string, password?: string): ParsedCatalogUrl {
  const raw = url.trim();
  const jdbc = /^jdbc:(postgres(?:ql)?):\/\/(.*)$/i.exec(raw);
  const bad = (why: string, context: Record<string, string> = {}, cause?: unknown) => new LakeSoulError('InvalidArgument',
    `invalid catalog URL '${redactCatalogUrl(raw)}': ${why}`, { code: 'INVALID_CATALOG_URL', context, cause });
  let parsed: ParsedPostgresUrl;
  try {
    parsed = parsePostgresUrl(jdbc ? `postgres://${jdbc[2]}` : raw);
  } catch (e) {
    throw bad('expected postgres://host:port/db or jdbc:postgresql://host:port/db', {}, e);
  }
  const { u, host } = parsed;
  if (!/^postgres(ql)?:$/.test(u.protocol)) {
    throw bad(`unsupported scheme '${u.protocol}' (expected postgres:// or jdbc:postgresql://)`);
  }
  const decode = (s: string, part: string): string => {
    try {
      return decodeURIComponent(s);
    } catch (e) {
      throw bad(`its ${part} has a '%' not followed by two hex digits (write a '%' in it as %25)`, { part }, e);
    }
  };
  decode(u.pathname, 'database name');
  const out = new URL(`postgres://${host}${u.pathname}`);
  const q = u.searchParams;
  const user = username ?? q.get('user') ?? (u.username ? decode(u.username, 'user name') : '');
  const pass = password ?? q.get('password') ?? (u.password ? decode(u.password, 'password') : '');
  // (a URL with no host has no userinfo: its setters do nothing there, and the credentials were lost)
  if (user && host) out.username = encodeURIComponent(user);
  if (pass && host) out.password = encodeURIComponent(pass);
  if (!host && u.port && !q.has('port')) out.searchParams.set('port', u.port);
  let schema: string | undefined;
  for (const [k, v] of q) {
    if (k === 'user' || k === 'password') continue;
    if (k === 'ssl') continue;
    if (jdbc && k === 'currentSchema') {
      if (v.includes(',')) throw bad(`currentSchema '${v}' names several schemas: give the one schema of the catalog tables`, { parameter: k });
      if (v.trim()) schema = v.trim();
      continue;
    }
    if (jdbc && !JDBC_SSL_KEPT.has(k)) {
      if (/^ssl/i.test(k)) throw bad(`the SSL parameter '${k}' is not supported (use sslmode, sslrootcert, sslcert, sslkey, sslpassword)`, { parameter: k });
      continue;
    }
    out.searchParams.append(k, v);
  }
  const ssl = q.get('ssl');
  if (ssl !== null && !q.has('sslmode')) {
    const mode = sslFlagMode(ssl);
    if (!mode) throw bad(`ssl must be true, false or no-verify, not '${ssl}'`, { parameter: 'ssl' });
    out.searchParams.set('sslmode', mode);
  }
  if (!host && user) out.searchParams.set('user', user);
  if (!host && pass) out.searchParams.set('password', pass);
  return schema === undefined ? { url: out.toString() } : { url: out.toString(), schema };
}

/** The user name a URL of `parseCatalogUrl` holds: its userinfo's, or (no host) its `?user=`; '' for none. */
function catalogUrlUser(url: string): string {
  const u = new URL(url);
  return u.username || (u.host ? '' : u.searchParams.get('user') ?? '');
}

/** Query parameters whose value is a secret: shown as `***`. */
const SECRET_PARAM = /^(?:[\w.-]*(?:password|secret|token)[\w.-]*)$/i;

/**
 * A catalog URL with its secrets masked, for messages and logs: the userinfo's password, the query's
 * `password`, `sslpassword` (and any parameter named like a password, secret or token) and an `sslkey`,
 * `sslcert` or `sslrootcert` that holds a key or certificate rather than a file name
 * ({@link plausibleFilePath}) are shown as `***`. Works on strings no URL parser takes.
 */
export function redactCatalogUrl(url: string): string {
  const userinfo = /^([a-z][\w+.-]*:(?:[a-z][\w+.-]*:)?\/\/[^:/?#@]*):[^/?#]*@/i;
  let masked = url.replace(userinfo, '$1:***@');
  if (masked === url) masked = url.replace(/^([a-z][\w+.-]*:(?:[a-z][\w+.-]*:)?\/\/[^:/?#@]*):(?!\d*(?:[/?#]|$)).*@/i, '$1:***@');
  return masked.replace(/([?&;])([^=&;#]*)=([^&;#]*)/g, (all, sep: string, name: string, value: string) => {
    let key = name;
    try { key = decodeURIComponent(name.replace(/\+/g, ' ')); } catch { /* shown as written */ }
    if (SECRET_PARAM.test(key)) return `${sep}${name}=***`;
    if (/^ssl(?:key|cert|rootcert)$/i.test(key) && (/-----|%0A|\n|%2D%2D/i.test(value) || !plausibleFilePath(decodeParam(value)))) return `${sep}${name}=***`;
    return all;
  });
}

/** A query parameter's value as written, decoded (`+` is a space); as written when it does not decode. */
function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

/**
 * The properties of the LakeSoul properties file `path` (env `lakesoul_home`), which must name
 * `lakesoul.pg.url`.
 * @throws LakeSoulError InvalidArgument naming the file when it cannot be read or has no URL.
 */
export function readLakeSoulHome(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LakeSoulError('InvalidArgument', `cannot read the LakeSoul properties file '${path}' named by env lakesoul_home: ${(e as Error).message}`, {
      context: { file: path }, cause: e,
    });
  }
  const props = parseProperties(text);
  if (!props['lakesoul.pg.url']) {
    throw new LakeSoulError('InvalidArgument', `the LakeSoul properties file '${path}' (env lakesoul_home) has no lakesoul.pg.url`, { context: { file: path } });
  }
  return props;
}

/** Parses a Java-style properties file (`key=value` or `key: value`, `#`/`!` comments). */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/\\\r?\n\s*/g, '').split(/\r?\n/);
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^((?:\\.|[^=:\s\\])+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (!m) { out[line] = ''; continue; }
    out[m[1].replace(/\\(.)/g, '$1')] = m[2].replace(/\\(.)/g, '$1');
  }
  return out;
}

const MEMORY = new Set([':memory:', 'memory://', 'memory']);

/**
 * Refuses a catalog URL that is set but empty (a CI secret that did not resolve): it fell through to
 * a new embedded catalog in the working directory, and writes went there instead of the shared one.
 */
export function refuseEmptyUrl(url: string | undefined, what: string): void {
  if (url !== undefined && url.trim() === '') {
    throw new LakeSoulError('InvalidArgument', `${what} is set but empty: give the PostgreSQL URL, or unset it for the embedded catalog`, { code: 'INVALID_CATALOG_URL' });
  }
}

/**
 * Resolves where the catalog lives. Precedence (first match wins):
 *
 * 1. `options.url` (postgres:// or jdbc:postgresql://, with `options.username` / `options.password`);
 * 2. `options.dataDir` (embedded PGlite; `':memory:'` for in-memory);
 * 3. env `LAKESOUL_PG_URL` (jdbc or postgres URL) with `LAKESOUL_PG_USERNAME` / `LAKESOUL_PG_PASSWORD`;
 * 4. the properties file named by env `lakesoul_home` (`lakesoul.pg.url`, `lakesoul.pg.username`,
 *    `lakesoul.pg.password`), as upstream LakeSoul reads it;
 * 5. embedded PGlite in `options.defaultDataDir` or `./.lakesoul/catalog`.
 *
 * Explicit `options.username`/`password` also override the credentials of sources 3 and 4 (and a
 * URL's `?user=`/`?password=`, which `parseCatalogUrl` moves into the userinfo when the URL has a host); a
 * `options.url` without credentials takes them from `LAKESOUL_PG_USERNAME`/`LAKESOUL_PG_PASSWORD`. An
 * unreadable `lakesoul_home` file or a malformed URL is an `InvalidArgument` error (never silently
 * ignored).
 */
export function resolveCatalogConfig(options: ResolveCatalogConfigOptions = {}, env: Record<string, string | undefined> = process.env): CatalogConfig {
  const schema = options.schema;
  if (options.url) {
    // A URL without credentials (LakeSoul's `jdbc:postgresql://host/db`) takes them from the same
    // environment LakeSoul reads: `{ url: process.env.LAKESOUL_PG_URL }` works as the env alone does.
    const bare = catalogUrlUser(toPostgresUrl(options.url)) === '';
    const username = options.username ?? (bare ? env.LAKESOUL_PG_USERNAME : undefined);
    const password = options.password ?? (bare ? env.LAKESOUL_PG_PASSWORD : undefined);
    return pgConfig(parseCatalogUrl(options.url, username, password), 'options', schema);
  }
  if (options.dataDir) {
    return { kind: 'pglite', dataDir: embeddedCatalogDir(options.dataDir, 'dataDir'), source: 'options' };
  }
  const envUrl = env.LAKESOUL_PG_URL;
  refuseEmptyUrl(options.url, 'the catalog url option');
  refuseEmptyUrl(envUrl, 'LAKESOUL_PG_URL');
  if (envUrl) {
    return pgConfig(parseCatalogUrl(envUrl, options.username ?? env.LAKESOUL_PG_USERNAME, options.password ?? env.LAKESOUL_PG_PASSWORD), 'env', schema);
  }
  const home = env.lakesoul_home;
  if (home) {
    const props = readLakeSoulHome(home);
    const url = props['lakesoul.pg.url']!;
    return pgConfig(parseCatalogUrl(url, options.username ?? props['lakesoul.pg.username'], options.password ?? props['lakesoul.pg.password']), 'lakesoul_home', schema);
  }
  const dir = options.defaultDataDir ?? DEFAULT_PGLITE_DIR;
  return { kind: 'pglite', dataDir: embeddedCatalogDir(dir, 'defaultDataDir'), source: 'default' };
}

/**
 * The absolute directory of an embedded catalog (undefined: in memory), relative paths resolved against
 * `cwd`. A `file://` URL is its path; another URL (a typo such as `postgress://`, or `jdbc:mysql://`) or
 * a leading `~` is an error, not a directory made under that literal name in the working directory
 * (Node expands no `~`, and `rm -rf ~` is how one would clean that up). `option` names the setting in
 * the error; `serverHint` says how a PostgreSQL catalog is given instead.
 */
export function embeddedCatalogDir(dir: string, option: string, options: { cwd?: string; serverHint?: string } = {}): string | undefined {
  if (MEMORY.has(dir)) return undefined;
  if (dir.startsWith('file://')) return fileURLToPath(dir);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(dir)?.[1];
  if ((scheme && scheme.length > 1) || dir.startsWith('~')) {
    const server = options.serverHint ?? 'a PostgreSQL catalog is given as `url`';
    const hint = dir.startsWith('~') ? ' (~ is not expanded: write the home directory out)'
      : /^(postgres|postgresql|jdbc)$/i.test(scheme!) ? `: ${server}` : `: give a directory or a file:// URL (${server})`;
    const shown = dir.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@'); // a password in a mistyped URL is not repeated
    throw new LakeSoulError('InvalidArgument', `${option} '${shown}' is not a directory for the embedded catalog${hint}`, { code: 'INVALID_CATALOG_DIR', context: { dataDir: shown } });
  }
  return options.cwd === undefined ? resolve(dir) : resolve(options.cwd, dir);
}

/** The server configuration: an explicit `schema` wins over a JDBC URL's `currentSchema`. */
function pgConfig(parsed: ParsedCatalogUrl, source: PgCatalogConfig['source'], schema: string | undefined): PgCatalogConfig {
  const s = schema ?? parsed.schema;
  const c: PgCatalogConfig = { kind: 'pg', url: parsed.url, source };
  return s === undefined ? c : { ...c, schema: s };
}
