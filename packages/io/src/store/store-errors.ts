/**
 * Error helpers shared by the store backends: the mapping of Node and S3 failures to
 * {@link LakeSoulError}. Internal to the store area (re-exported helpers are documented in index.ts).
 */
import { abortedError, isAbortError, LakeSoulError } from '@lakesoul-ts/meta';
import { STATUS_CODES } from 'node:http';

/**
 * The error of a missing object, naming its URI. A local path holding something other than a regular
 * file (a directory, a FIFO) is no object either, and the message says what is there.
 */
export function notFoundError(uri: string, cause?: unknown): LakeSoulError {
  const what = (cause as { notRegular?: string } | null)?.notRegular;
  const message = what ? `object not found: ${uri} is ${what}, not a regular file` : `object not found: ${uri}`;
  return new LakeSoulError('NotFound', message, { code: 'OBJECT_NOT_FOUND', cause, context: { file: uri } });
}

const RETRYABLE_NODE_CODES = new Set(['EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE']);

/** Maps a Node fs error on `uri` to a LakeSoulError. */
export function mapFsError(e: unknown, uri: string, op: string): LakeSoulError {
  if (e instanceof LakeSoulError) return e;
  if (isAbortError(e)) return abortedError(`${op} ${uri}`, e, { file: uri });
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return notFoundError(uri, e);
  if (code === 'EACCES' || code === 'EPERM') {
    return new LakeSoulError('PermissionDenied', `${op} ${uri}: permission denied`, { cause: e, context: { file: uri } });
  }
  if (code === 'ENAMETOOLONG') {
    // the message names the path once, shortened (Node's repeats it whole: ~10,000 characters for a deep partition)
    const shown = uri.length > 200 ? `${uri.slice(0, 100)}…${uri.slice(-80)}` : uri;
    return new LakeSoulError('InvalidArgument', `${op} ${shown}: the path is too long for this file system (${Buffer.byteLength(uri)} bytes; local disks take 4,096 bytes in all and 255 a directory): use fewer or shorter range partition values, or object storage`, {
      code: 'PATH_TOO_LONG', cause: e, context: { file: uri },
    });
  }
  const msg = (e as Error | null)?.message ?? String(e);
  return new LakeSoulError('Io', `${op} ${uri} failed: ${msg}`, {
    cause: e,
    retryable: code !== undefined && RETRYABLE_NODE_CODES.has(code),
    context: { file: uri },
  });
}

const THROTTLING = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestTimeout', 'RequestTimeTooSkewed', 'TooManyRequests', 'InternalError', 'ServiceUnavailable']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'TimeoutError']);

/** What the caller of {@link mapS3Error} knows of the endpoint beyond the error itself. */
export interface S3ErrorContext {
  /**
   * The endpoint sent an HTTP answer (of any status) to a request of the same client a short while
   * ago: a connection closed without an answer ("socket hang up", a reset) is then a dropped
   * connection, not a server that is not there, and is not marked `noAnswer`.
   */
  endpointAnswered?: boolean;
}

/** Maps an AWS SDK error of an S3 call on `uri` to a LakeSoulError. */
export function mapS3Error(e: unknown, uri: string, op: string, known: S3ErrorContext = {}): LakeSoulError {
  if (e instanceof LakeSoulError) return e;
  if (isAbortError(e)) return abortedError(`${op} ${uri}`, e, { file: uri });
  const err = e as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } } | null;
  const status = err?.$metadata?.httpStatusCode;
  const name = err?.name ?? '';
  // before the 404 of a missing object: a missing bucket is a 404 too
  if (name === 'NoSuchBucket') {
    const bucket = /^s3:\/\/([^/]+)/.exec(uri)?.[1] ?? uri;
    return new LakeSoulError('NotFound', `bucket '${bucket}' does not exist (${op} ${uri}): create it, or check the bucket name, the endpoint and the region`, { code: 'BUCKET_NOT_FOUND', cause: e, context: { file: uri } });
  }
  // a bucket of another region: AWS answers 301 PermanentRedirect (a HEAD without a body) or 400
  // AuthorizationHeaderMalformed, with the bucket's region in a header (or the error body)
  const bucketRegion = regionOfRedirect(e, status, name);
  if (bucketRegion !== undefined) {
    const bucket = /^s3:\/\/([^/]+)/.exec(uri)?.[1] ?? uri;
    return new LakeSoulError('Io', `${op} ${uri} failed: bucket '${bucket}' is in ${bucketRegion}: set AWS_REGION=${bucketRegion} (or the store's region option) (HTTP ${status ?? '?'}${name && name !== 'Unknown' ? ` ${name}` : ''})`, { cause: e, context: { file: uri } });
  }
  if (status === 404 || name === 'NoSuchKey' || name === 'NotFound') return notFoundError(uri, e);
  if (name === 'CredentialsProviderError') {
    return new LakeSoulError('Unauthenticated', `${op} ${uri}: no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or an AWS profile) (${err?.message ?? name})`, { cause: e, context: { file: uri } });
  }
  let detail = `${name || 'Error'}${status ? ` (HTTP ${status})` : ''}: ${err?.message ?? String(e)}`;
  // an error answer without a body (every HEAD: the SDK can only say "Unknown: UnknownError")
  if (status !== undefined && (name === 'Unknown' || name === '') && /^(UnknownError)?$/.test(err?.message ?? '')) {
    detail = `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''} (an answer without an error body)`;
  }
  // no HTTP answer at all: the server named by the endpoint was not reached (or does not speak S3/TLS)
  const network = `${err?.code ?? ''} ${err?.message ?? ''}`;
  let noAnswer = true;
  if (status === undefined && known.endpointAnswered === true && /socket hang up|ECONNRESET|EPIPE/i.test(network)) {
    // the server was there a moment ago: this connection dropped (an idle keep-alive socket the server
    // closed, a proxy, a restart); a next request is likely answered, so it is no "no answer" failure
    detail += ' (the connection was closed before a whole answer came, though the endpoint answered this store shortly before: a dropped connection, not a missing server)';
    noAnswer = false;
  } else if (status === undefined && /ENOTFOUND|ECONNREFUSED|EAI_AGAIN|EHOSTUNREACH|socket hang up|wrong version number|EPROTO|ERR_SSL|certificate/i.test(network)) {
    detail += ' (no S3 server answered: check the endpoint (AWS_ENDPOINT, http:// or https://, host and port) and that the server runs)';
  } else if (status === undefined && (name === 'TimeoutError' || /timed out|ETIMEDOUT/i.test(network))) {
    // a server that takes the connection and never answers (a wrong port of another service, a hung server)
    detail += " (the endpoint took the connection but sent nothing back in time: check the endpoint (AWS_ENDPOINT) and that the S3 server there is healthy; the wait is the store's idleTimeoutMs, each attempt)";
  } else {
    noAnswer = false;
  }
  if (status === 403 || name === 'AccessDenied') {
    return new LakeSoulError('PermissionDenied', `${op} ${uri}: ${detail}`, { cause: e, context: { file: uri } });
  }
  if (status === 401) {
    return new LakeSoulError('Unauthenticated', `${op} ${uri}: ${detail}`, { cause: e, context: { file: uri } });
  }
  const retryable =
    (status !== undefined && (status >= 500 || status === 429)) ||
    THROTTLING.has(name) ||
    (status === undefined && (NETWORK_CODES.has(err?.code ?? '') || NETWORK_CODES.has(name)));
  return new LakeSoulError('Io', `${op} ${uri} failed: ${detail}`, { cause: e, retryable, context: { file: uri, ...(noAnswer ? { noAnswer: true } : {}) } });
}

/**
 * The region an S3 error says the bucket is in, when the error is a wrong-region answer: a 301
 * (PermanentRedirect) or a 400 (AuthorizationHeaderMalformed), whose `x-amz-bucket-region` header
 * (the SDK error's `$response`) or `Region` field names it.
 */
function regionOfRedirect(e: unknown, status: number | undefined, name: string): string | undefined {
  const redirect = status === 301 || name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed';
  if (!redirect) return undefined;
  const headers = (e as { $response?: { headers?: Record<string, string | undefined> } } | null)?.$response?.headers ?? {};
  const fromHeader = Object.entries(headers).find(([k]) => k.toLowerCase() === 'x-amz-bucket-region')?.[1];
  const region = fromHeader ?? (e as { Region?: unknown } | null)?.Region;
  return typeof region === 'string' && /^[a-z0-9-]+$/.test(region.trim()) ? region.trim() : undefined;
}

/**
 * Whether `e` (or an error it wraps) is a store request that got no answer at all: no server reached,
 * or one that took the connection and sent nothing back in time (context `noAnswer`, after the SDK's
 * attempts). A connection closed without an answer by an endpoint that answered the store shortly
 * before is a dropped connection, not this ({@link S3ErrorContext}). More requests to that store would wait as long again, so best-effort work after such a
 * failure (deleting what a failed write left) is not attempted: cleanup() takes those files later.
 */
export function isNoAnswerError(e: unknown): boolean {
  for (let at = e, depth = 0; at !== undefined && at !== null && depth < 8; depth++) {
    if (at instanceof LakeSoulError && at.context.noAnswer === true) return true;
    at = (at as { cause?: unknown }).cause;
  }
  return false;
}

/** Validates a byte range and returns `[start, endExclusive]` for an object of `size` bytes (clamped). */
export function resolveRange(range: import('../types.js').ByteRange, size: number, uri: string): [number, number] {
  if ('suffix' in range) {
    checkNonNegInt(range.suffix, 'suffix', uri);
    return [Math.max(0, size - range.suffix), size];
  }
  checkNonNegInt(range.offset, 'offset', uri);
  if (range.length !== undefined) checkNonNegInt(range.length, 'length', uri);
  const start = Math.min(range.offset, size);
  const end = range.length === undefined ? size : Math.min(size, range.offset + range.length);
  return [start, Math.max(start, end)];
}

/** Throws InvalidArgument unless the range fields are non-negative safe integers. */
export function validateRange(range: import('../types.js').ByteRange, uri: string): void {
  if ('suffix' in range) checkNonNegInt(range.suffix, 'suffix', uri);
  else {
    checkNonNegInt(range.offset, 'offset', uri);
    if (range.length !== undefined) checkNonNegInt(range.length, 'length', uri);
  }
}

function checkNonNegInt(v: number, what: string, uri: string): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new LakeSoulError('InvalidArgument', `invalid byte range ${what} ${v} for ${uri}`, { context: { file: uri } });
  }
}

/**
 * The URI of `key` in the store `description` (`s3://bucket/`, `file:///`), for an error's
 * `context.file`: one `/` between them (a description ends with one already; `s3://b/` + `a//b` gave
 * `s3://b//a//b`). The key itself is kept as given, a bad one with its own slashes.
 */
function joinDescription(description: string, key: string): string {
  return description.endsWith('/') ? `${description}${key}` : `${description}/${key}`;
}

/** Validates an object key: relative, `/`-separated, without empty, `.` or `..` segments. */
export function checkKey(key: string, description: string): void {
  const bad =
    typeof key !== 'string' ||
    key === '' ||
    key.includes('\0') ||
    key.split('/').some((s) => s === '' || s === '.' || s === '..');
  if (bad) {
    throw new LakeSoulError('InvalidArgument', `invalid object key '${String(key)}' for ${description}: keys are relative, '/'-separated, without '.', '..' or empty segments`, {
      context: { file: joinDescription(description, String(key)) },
    });
  }
}

/** Validates a list prefix: empty, or relative without `.`/`..` segments (a trailing `/` is allowed). */
export function checkPrefix(prefix: string, description: string): void {
  const segs = prefix.split('/');
  const bad =
    typeof prefix !== 'string' ||
    prefix.startsWith('/') ||
    prefix.includes('\0') ||
    segs.some((s, i) => s === '.' || s === '..' || (s === '' && i !== segs.length - 1));
  if (bad) {
    throw new LakeSoulError('InvalidArgument', `invalid list prefix '${String(prefix)}' for ${description}`, { context: { file: joinDescription(description, String(prefix)) } });
  }
}
