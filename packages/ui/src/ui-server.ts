/**
 * The UI's HTTP server (node:http): the bundled front end, and a read-only JSON API over a
 * {@link Lakehouse} (see ui-api.ts). Loopback by default; with tokens set, every API call needs
 * `authorization: Bearer <token>` (as `lakesoul-ts serve`). Only GET and HEAD are served.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { timingSafeEqual, createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { FailedLoginLimiter, LakeSoulError, MIN_UNGUESSABLE_TOKEN_CHARS, abortedError, optionNames, whenAborted, refuseUnknownOptions, type FailedLoginLimiterOptions, type LakeSoulErrorKind } from '@lakesoul-ts/meta';
import type { Lakehouse } from '@lakesoul-ts/io';
import { UiApi, MAX_PAGE_ROWS, type BlobDownload, type TableView, type UiApiOptions } from './ui-api.js';
import { isLoopbackHost } from './loopback.js';

/** Default port of `lakesoul-ts ui`. */
export const DEFAULT_UI_PORT = 8816;

/**
 * Bytes of a request's line and headers the server reads (node's `maxHeaderSize`, 16 KiB by
 * default): a filter is at most 65,536 characters, which percent-encoded in the address takes up to
 * about 200 KB (a 3,000-value IN list, 19 KB, was refused with a bare 431). Longer requests are
 * answered 431 with a message saying what to shorten.
 */
export const MAX_REQUEST_HEAD_BYTES = 256 * 1024;

/** Options of {@link startUi}. */
export interface StartUiOptions {
  /** The lakehouse to show (stays open: its owner closes it after {@link UiServer.close}). */
  lakehouse: Lakehouse;
  /** Address to bind (default `127.0.0.1`: only this machine). */
  host?: string;
  /** Port (default {@link DEFAULT_UI_PORT}; 0 = any free port). */
  port?: number;
  /** Bearer tokens; when any is set, every API call must carry one. */
  tokens?: string[];
  /**
   * Bound on token guessing (default: 10 wrong tokens in a row per client address, then one per 6 s):
   * an address past it gets 429 before its token is checked.
   */
  failedLogins?: FailedLoginLimiterOptions;
  /** Directory of the built front end (default: the package's `dist/web`). */
  assetsDir?: string;
  /** Limits of the API: analysis reads, history length, bytes of blobs held at once (see {@link UiApiOptions}). */
  limits?: UiApiOptions;
  /**
   * How the CLI commands the pages show begin (default `lakesoul-ts`): `lakesoul-ts ui` gives its own
   * spelling with the options that select its lakehouse (`--home`, `--catalog` with any password
   * masked), so that a command copied from a page reads the same tables. Served by `/api/info`.
   */
  command?: string;
}

/** A running UI server. */
export interface UiServer {
  /** Base URL, e.g. `http://127.0.0.1:8816/`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Stops accepting connections, ends open ones, and resolves when the server is closed. Idempotent. */
  close(): Promise<void>;
  /** {@link UiServer.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** HTTP status of each error kind (exhaustive: a new kind fails to compile until it has one). */
const STATUS: Record<LakeSoulErrorKind, number> = {
  NotFound: 404,
  AlreadyExists: 409,
  InvalidArgument: 400,
  SchemaMismatch: 400,
  Conflict: 409,
  Unsupported: 415,
  Io: 502,
  Catalog: 502,
  PermissionDenied: 403,
  Unauthenticated: 401,
  Aborted: 499,
  Internal: 500,
};

/** The front end's files: a fixed list, so no request path ever reaches the file system. */
const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/**
 * Headers of every response. The CSP lets the page run only its own script and style, show images
 * only from itself, `data:` thumbnails and `blob:` URLs it made, and talk only to this server: even
 * a rendering bug could not run script from table data.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};


function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function tokenMatches(given: string, tokens: string[]): boolean {
  const g = digest(given);
  let ok = false;
  for (const t of tokens) if (timingSafeEqual(g, digest(t))) ok = true;
  return ok;
}

function send(res: ServerResponse, status: number, type: string, body: Uint8Array | string, extra: Record<string, string> = {}): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': String(bytes.length), ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

/** Resolves once `chunk` has been handed to the connection (its write callback), rejects when the request is gone. */
function written(res: ServerResponse, chunk: Uint8Array, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const stop = whenAborted(signal, () => reject(abortedError('send a blob', signal.reason)));
    res.write(chunk, (err) => {
      stop();
      if (err) reject(err);
      else resolve();
    });
  });
}

/** Sends the next chunk of `body`; false once it has none. */
async function sendNextChunk(res: ServerResponse, body: AsyncIterator<Uint8Array>, signal: AbortSignal): Promise<boolean> {
  const r = await body.next();
  if (r.done) return false;
  await written(res, r.value, signal);
  return true;
}

/**
 * Sends a blob as it is read: the headers (with its length) at once, then each chunk of its body,
 * asking for the next one only once the connection took the previous one, so a slow client holds
 * one chunk. Each chunk is sent by its own call ({@link sendNextChunk}): a loop here would keep the
 * chunk sent last in its suspended frame while it waits for the next. An error after the headers
 * ends the connection (the client sees a short body).
 */
async function sendBlob(res: ServerResponse, type: string, b: BlobDownload, extra: Record<string, string>, signal: AbortSignal): Promise<void> {
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': String(b.size), ...extra });
  const body = b.body[Symbol.asyncIterator]();
  try {
    if (res.req.method !== 'HEAD') while (await sendNextChunk(res, body, signal));
    res.end();
  } finally {
    await body.return?.();
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
}

function sendError(res: ServerResponse, e: unknown): void {
  const err = e instanceof LakeSoulError ? e : new LakeSoulError('Internal', `internal error: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  const extra: Record<string, string> = err.kind === 'Unauthenticated' ? { 'www-authenticate': 'Bearer' } : {};
  // a limit reached (too many failed logins): 429, and when to come back
  const limited = err.code === 'RESOURCE_EXHAUSTED';
  if (limited && typeof err.context.retryAfterMs === 'number') extra['retry-after'] = String(Math.ceil(err.context.retryAfterMs / 1000));
  if (res.headersSent) { res.destroy(); return; }
  const body = JSON.stringify({ error: { kind: err.kind, code: err.code, message: err.message, context: err.context } }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  send(res, limited ? 429 : (STATUS[err.kind] ?? 500), 'application/json; charset=utf-8', body, extra);
}

function intParam(q: URLSearchParams, name: string, fallback?: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return fallback;
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new LakeSoulError('InvalidArgument', `query parameter '${name}' must be an integer of at most 2^53 - 1 (got '${v}')`, { code: 'UI_BAD_PARAMETER' });
  }
  return Number(v);
}

function requiredParam(q: URLSearchParams, name: string): string {
  const v = q.get(name);
  if (v === null || v === '') throw new LakeSoulError('InvalidArgument', `query parameter '${name}' is required`, { code: 'UI_BAD_PARAMETER' });
  return v;
}

function viewOf(q: URLSearchParams): TableView {
  const view: TableView = { namespace: q.get('ns') || 'default', table: requiredParam(q, 'table') };
  const at = intParam(q, 'at');
  if (at !== undefined) view.at = at;
  const partition = q.get('partition');
  if (partition) view.partition = partition;
  const filter = q.get('filter');
  if (filter) view.filter = filter;
  const columns = q.get('columns');
  // not trimmed here: a column name may begin or end with spaces (UiApi takes a name as spelled
  // when the table has it, else trimmed)
  if (columns) view.columns = columns.split(',').filter((s) => s.trim() !== '');
  return view;
}

/** An ASCII-only file name for Content-Disposition (the full name goes in `filename*`). */
function dispositionOf(name: string): string {
  const ascii = name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'blob';
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** The names of {@link StartUiOptions}, checked complete by the compiler. */
const START_UI_OPTIONS = optionNames<StartUiOptions>({ lakehouse: true, host: true, port: true, tokens: true, failedLogins: true, assetsDir: true, limits: true, command: true });

/**
 * Starts the UI on `host:port` and resolves once it listens.
 * @throws LakeSoulError InvalidArgument when a token is empty; the listen error (EADDRINUSE, ...) otherwise.
 */
export async function startUi(options: StartUiOptions): Promise<UiServer> {
  // a misspelt `tokens` would start the UI without auth
  refuseUnknownOptions(options, START_UI_OPTIONS, 'startUi');
  const host = options.host ?? '127.0.0.1';
  // a string was taken as its characters, each a token; an empty list (an unset variable split on ',') turned auth off silently
  if (options.tokens !== undefined && !(Array.isArray(options.tokens) && options.tokens.every((t) => typeof t === 'string'))) {
    throw new LakeSoulError('InvalidArgument', `startUi: tokens must be an array of strings, got ${typeof options.tokens === 'string' ? 'a string (each of its characters would have been a token): give [token]' : JSON.stringify(options.tokens)}`, { code: 'UI_EMPTY_TOKEN' });
  }
  if (options.tokens?.length === 0) throw new LakeSoulError('InvalidArgument', 'startUi: tokens is an empty list, which would turn authentication off: give at least one, or leave tokens out', { code: 'UI_EMPTY_TOKEN' });
  const tokens = options.tokens ?? [];
  if (tokens.some((t) => t.length === 0)) throw new LakeSoulError('InvalidArgument', 'an empty UI token would accept any caller', { code: 'UI_EMPTY_TOKEN' });
  if (tokens.some((t) => t.trim() !== t)) throw new LakeSoulError('InvalidArgument', 'a UI token begins or ends with white space, which no client can send: remove it', { code: 'UI_EMPTY_TOKEN' });
  const assetsDir = options.assetsDir ?? fileURLToPath(new URL('../dist/web/', import.meta.url));
  const api = new UiApi(options.lakehouse, options.limits);
  const logins = new FailedLoginLimiter(options.failedLogins);
  const loopbackOnly = isLoopbackHost(host);
  const command = options.command ?? 'lakesoul-ts';

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'application/json; charset=utf-8', JSON.stringify({ error: { kind: 'Unsupported', code: 'UI_READ_ONLY', message: `the UI is read-only: ${req.method} is not allowed` } }), { allow: 'GET, HEAD' });
      return;
    }
    // On loopback, a request naming another host comes through DNS rebinding from some web page: refuse it.
    const hostHeader = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    if (loopbackOnly && !isLoopbackHost(hostHeader) && isIP(hostHeader.replace(/^\[(.*)\]$/, '$1')) === 0) {
      throw new LakeSoulError('PermissionDenied', `host '${hostHeader}' refused: the UI listens on loopback and answers only to localhost names`, { code: 'UI_HOST_REFUSED' });
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://ui.invalid');
    } catch (e) {
      // an absolute-form target with a malformed host (`GET http://[bad/api/...`): the client's error
      throw new LakeSoulError('InvalidArgument', `request target is not a valid URL: ${JSON.stringify(req.url)}`, { code: 'UI_BAD_PARAMETER', cause: e });
    }
    // the browser asks for an icon: none (the page declares an empty one), and no 404 in its console
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204, SECURITY_HEADERS);
      res.end();
      return;
    }
    const asset = ASSETS[url.pathname];
    if (asset) {
      let body: Buffer;
      try {
        body = await readFile(join(assetsDir, asset.file));
      } catch (e) {
        throw new LakeSoulError('Internal', `the UI's front end is not built (${join(assetsDir, asset.file)} is missing): run 'pnpm turbo run build'`, { code: 'UI_NOT_BUILT', cause: e });
      }
      send(res, 200, asset.type, body);
      return;
    }
    if (!url.pathname.startsWith('/api/')) throw new LakeSoulError('NotFound', `no such page: ${url.pathname}`, { code: 'UI_NO_ROUTE' });
    if (tokens.length > 0) {
      const header = req.headers.authorization ?? '';
      const m = /^Bearer\s+(.+)$/i.exec(header.trim());
      if (!m) throw new LakeSoulError('Unauthenticated', 'authentication required: send "authorization: Bearer <token>"', { code: 'UI_AUTH_REQUIRED' });
      const client = req.socket.remoteAddress ?? 'unknown';
      // A host past its failed logins still gets in with a token no guessing finds (a long one), so
      // one client's stale token does not lock out the others behind its address; a shorter token is
      // refused there right or wrong (a guess learns nothing). The same wrong token counts once.
      const refusal = logins.refusal(client, 'UI');
      const valid = tokenMatches(m[1]!, tokens);
      if (refusal && !(valid && m[1]!.length >= MIN_UNGUESSABLE_TOKEN_CHARS)) throw refusal;
      if (!valid) {
        logins.fail(client, m[1]!);
        throw new LakeSoulError('Unauthenticated', 'invalid bearer token', { code: 'UI_BAD_TOKEN' });
      }
    }
    const abort = new AbortController();
    res.on('close', () => { if (!res.writableFinished) abort.abort(); });
    const signal = abort.signal;
    const q = url.searchParams;
    switch (url.pathname) {
      case '/api/namespaces':
        return sendJson(res, 200, await api.namespaces(signal));
      case '/api/table':
        return sendJson(res, 200, await api.table(viewOf(q), signal));
      case '/api/history':
        return sendJson(res, 200, await api.history(viewOf(q), signal));
      case '/api/rows':
        return sendJson(res, 200, await api.rows(viewOf(q), intParam(q, 'offset', 0)!, intParam(q, 'limit', 50)!, signal));
      case '/api/row':
        return sendJson(res, 200, await api.row(viewOf(q), intParam(q, 'row', 0)!, signal));
      case '/api/blob': {
        const mode = q.get('mode') === 'full' ? 'full' : 'original';
        const b = await api.blobStream(viewOf(q), intParam(q, 'row', 0)!, requiredParam(q, 'column'), mode, signal);
        // Originals go out as opaque downloads; only images a browser shows are served as images.
        if (mode === 'full') return sendBlob(res, b.type, b, { 'content-disposition': 'inline' }, signal);
        return sendBlob(res, 'application/octet-stream', b, { 'content-disposition': dispositionOf(b.fileName), 'x-blob-type': b.type }, signal);
      }
      case '/api/diff':
        return sendJson(res, 200, await api.diff(viewOf(q), intParam(q, 'from')!, intParam(q, 'to')!, signal));
      case '/api/stats':
        return sendJson(res, 200, await api.stats(viewOf(q), requiredParam(q, 'column'), signal));
      case '/api/limits':
        return sendJson(res, 200, { maxPageRows: MAX_PAGE_ROWS });
      case '/api/info':
        return sendJson(res, 200, { command });
      default:
        throw new LakeSoulError('NotFound', `no such API call: ${url.pathname}`, { code: 'UI_NO_ROUTE' });
    }
  };

  const server: Server = createServer({ maxHeaderSize: MAX_REQUEST_HEAD_BYTES }, (req, res) => {
    handle(req, res).catch((e) => sendError(res, e));
  });
  // a request whose line and headers exceed MAX_REQUEST_HEAD_BYTES: node answers a bare 431; say
  // what is too long and what to do instead (the page shows the message)
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // the others as node answers them without a listener
    if (err.code === 'ECONNRESET' || !socket.writable) { socket.destroy(); return; }
    if (err.code !== 'HPE_HEADER_OVERFLOW') {
      const timeout = err.code === 'HPE_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
      socket.end(`HTTP/1.1 ${timeout ? '408 Request Timeout' : '400 Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const body = JSON.stringify({ error: {
      kind: 'InvalidArgument', code: 'LIMIT_EXCEEDED',
      message: `the request is longer than the UI accepts (its address and headers over ${MAX_REQUEST_HEAD_BYTES / 1024} KiB): shorten the filter (a long IN list: select by a range instead, or read with the CLI or the table API)`,
      context: { limitBytes: MAX_REQUEST_HEAD_BYTES },
    } });
    const head = { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), connection: 'close' };
    socket.end(`HTTP/1.1 431 Request Header Fields Too Large\r\n${Object.entries(head).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_UI_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? DEFAULT_UI_PORT);
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  return { url: `http://${urlHost}:${port}/`, host, port, close, [Symbol.asyncDispose]: close };
}
