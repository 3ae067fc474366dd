/**
 * S3 backend of {@link ObjectStore} (`@aws-sdk/client-s3`), for AWS and S3-compatible servers.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as ClientS3 from '@aws-sdk/client-s3';
import type { CompletedPart, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { isAbortError, LakeSoulError, optionNames, refuseNonBooleanOptions, refuseUnknownOptions, throwIfAborted, whenAborted } from '@lakesoul-ts/meta';
import type { GetOptions, ObjectMeta, ObjectStore, PutOptions, StoreCallOptions } from '../types.js';
import { DEFAULT_DELETE_CONCURRENCY, runUntilFailure, type BatchDeleter } from './batch-delete.js';
import { S3RetryStrategy } from './s3-retry.js';
import { checkKey, checkPrefix, mapS3Error, validateRange, type S3ErrorContext } from './store-errors.js';

/**
 * The AWS SDK, loaded when the first S3 store is made: importing it costs 0.2-0.4 s, which a process
 * on local disk only (most CLI commands, `Lakehouse.open` on a local warehouse) never needs. The
 * package is CommonJS only, so `require` returns the same module instance an `import` would.
 */
const requireSdk = createRequire(import.meta.url);
let clientS3: typeof ClientS3 | undefined;
const s3Sdk = (): typeof ClientS3 => (clientS3 ??= requireSdk('@aws-sdk/client-s3') as typeof ClientS3);

/** Static credentials of an {@link S3Store}. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The names of {@link S3StoreOptions} and {@link S3Credentials}: a misspelled `endpoint` sent the data to the environment's server, or to AWS. */
export const S3_STORE_OPTIONS = optionNames<S3StoreOptions>({
  bucket: true, endpoint: true, region: true, forcePathStyle: true, credentials: true, multipartThreshold: true, partSize: true,
  uploadConcurrency: true, listPageSize: true, maxAttempts: true, maxSockets: true, idleTimeoutMs: true, client: true,
});
const S3_CREDENTIALS = optionNames<S3Credentials>({ accessKeyId: true, secretAccessKey: true, sessionToken: true });

/**
 * Refuses a size or count of `options` that is not a positive integer: NaN (a size read from an unset
 * variable) passed the store's clamps, and every put then went out as one empty part (a write
 * committed files of 0 bytes).
 * @throws LakeSoulError InvalidArgument `INVALID_OPTION_VALUE` naming the option.
 */
export function checkS3Sizes(options: Partial<S3StoreOptions>, where: string): void {
  for (const k of ['partSize', 'multipartThreshold', 'uploadConcurrency', 'listPageSize', 'maxSockets'] as const) {
    const v = options[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isSafeInteger(v) && v >= 1)) {
      throw new LakeSoulError('InvalidArgument', `${where} ${k} must be a positive integer, got ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`, { code: 'INVALID_OPTION_VALUE', context: { option: k } });
    }
  }
}

/** Options of the {@link S3Store} constructor. */
export interface S3StoreOptions {
  bucket: string;
  /** Endpoint of an S3-compatible server, e.g. `http://127.0.0.1:9000`. */
  endpoint?: string;
  /** Default `us-east-1`. */
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`). Default: true when `endpoint` is set, else false. */
  forcePathStyle?: boolean;
  /** Static credentials; default: the AWS SDK's provider chain (environment, profile, instance role). */
  credentials?: S3Credentials;
  /** Byte arrays of at least this size are uploaded with multipart upload (default 16 MiB). */
  multipartThreshold?: number;
  /** Multipart part size (default 8 MiB, minimum 5 MiB as S3 requires; raised where the data, or a stream's `contentLength`, would make more than 10,000 parts). */
  partSize?: number;
  /** Parts uploaded concurrently by one multipart upload (default 4). */
  uploadConcurrency?: number;
  /** Keys per ListObjectsV2 page (default 1000, the S3 maximum). */
  listPageSize?: number;
  /**
   * Attempts per request, including retries of throttling, HTTP 500/502/503/504, timeouts and
   * connection resets (default 3, a positive integer). Every request has them all: there is no
   * client-wide retry quota (see {@link S3RetryStrategy}).
   */
  maxAttempts?: number;
  /**
   * Sockets per client (default 256, the SDK's own default is 50). Parallel readers such as blob
   * prefetch issue many small requests at once; beyond this count they queue in the client.
   */
  maxSockets?: number;
  /**
   * A request whose server sends nothing for this long (ms) fails and is retried: no answer to a
   * request, or a response body that stops (default {@link DEFAULT_S3_IDLE_TIMEOUT_MS}). Without it,
   * one request a server never answers held a scan, a write or a Flight stream for ever.
   */
  idleTimeoutMs?: number;
  /** Use an existing client instead of creating one (endpoint/region/credentials are then ignored). */
  client?: S3Client;
}

/** Default of {@link S3StoreOptions.idleTimeoutMs}: 30 s. */
export const DEFAULT_S3_IDLE_TIMEOUT_MS = 30_000;

/**
 * Attempts of a GET whose response broke after its headers (cut short, a reset, a stalled body):
 * the SDK retries only failures before the headers.
 */
const GET_BODY_ATTEMPTS = 3;

const MIB = 1024 * 1024;

/**
 * Runs one SDK call with a signal of its own, aborted when the caller's `outer` signal aborts.
 *
 * The SDK adds 'abort' listeners to the signal of every request (its HTTP handler, and its retry
 * middleware while it acquires a retry token and while it waits before a retry). A caller that
 * passes one signal to many concurrent store calls (a scan, a write of many files) put dozens of
 * listeners on it at once, past Node's limit of 10 per EventTarget: MaxListenersExceededWarning,
 * most under S3 faults, where many requests sit in their retry waits. The signal is the caller's,
 * not ours to reconfigure; so the SDK gets a child signal used by this call only (its few listeners
 * stay below the limit), and the caller's signal carries a single listener however many calls share
 * it ({@link whenAborted}), released when the call settles.
 */
async function withRequestSignal<T>(outer: AbortSignal | undefined, call: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  if (outer === undefined) return call(undefined);
  const child = new AbortController();
  if (outer.aborted) child.abort(outer.reason);
  const release = whenAborted(outer, () => child.abort(outer.reason));
  try {
    return await call(child.signal);
  } finally {
    release();
  }
}

/**
 * A response body's bytes; a body that sends nothing for `idleMs` fails (retryable `Io`,
 * `S3_RESPONSE_STALLED`), one that breaks off (the connection closed or reset before its end: Node's
 * bare "aborted") fails as cut short (retryable `Io`, `S3_RESPONSE_LENGTH`, with the bytes received
 * of the `due` ones).
 */
async function readBody(body: AsyncIterable<Uint8Array> & { destroy?: (e?: Error) => void }, idleMs: number, uri: string, due: number | undefined): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: NodeJS.Timeout | undefined;
  const stalled = () => new LakeSoulError('Io', `get ${uri} failed: the response stopped for ${idleMs / 1000} s`, { code: 'S3_RESPONSE_STALLED', retryable: true, context: { file: uri } });
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => body.destroy?.(stalled()), idleMs);
  };
  try {
    arm();
    for await (const chunk of body) {
      arm();
      chunks.push(chunk);
      total += chunk.length;
    }
  } catch (e) {
    if (e instanceof LakeSoulError || isAbortError(e)) throw e;
    const why = (e as Error | null)?.message ?? String(e);
    throw new LakeSoulError('Io', `get ${uri} failed: the response broke off after ${total}${due === undefined ? '' : ` of ${due}`} bytes (${why}): cut short on the way`, { code: 'S3_RESPONSE_LENGTH', retryable: true, cause: e, context: { file: uri } });
  } finally {
    clearTimeout(timer);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The bytes `range` asks of a whole object. */
function sliceRange(whole: Uint8Array, range: NonNullable<GetOptions['range']>): Uint8Array {
  if ('suffix' in range) return whole.subarray(Math.max(0, whole.length - range.suffix));
  return whole.subarray(Math.min(whole.length, range.offset), range.length === undefined ? whole.length : Math.min(whole.length, range.offset + range.length));
}

/**
 * Refuses a body shorter or longer than its response said, or a range other than the one asked: a
 * response cut short by a proxy or a broken connection would otherwise be decoded as data (the
 * missing bytes of a column chunk read as zeros: wrong rows, no error). Retryable `Io`.
 */
function checkBodyLength(got: number, range: GetOptions['range'], contentLength: number | undefined, contentRange: string | undefined, uri: string): void {
  const bad = (what: string) => new LakeSoulError('Io', `get ${uri} failed: ${what} (cut short or altered on the way)`, { code: 'S3_RESPONSE_LENGTH', retryable: true, context: { file: uri } });
  let want = contentLength;
  const m = contentRange === undefined ? null : /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange.trim());
  if (m !== null) {
    const [start, end] = [Number(m[1]), Number(m[2])];
    want = end - start + 1;
    if (range && m[3] !== '*') {
      // the part of the object the range asks for, clamped to the object
      const total = Number(m[3]);
      const from = 'suffix' in range ? Math.max(0, total - range.suffix) : range.offset;
      const to = 'suffix' in range || range.length === undefined ? total : Math.min(total, range.offset + range.length);
      if (start !== from || want !== to - from) throw bad(`the response holds bytes ${start}-${end} of ${total} where ${from}-${to - 1} were asked`);
    }
  }
  if (want !== undefined && got !== want) throw bad(`the response carried ${got} bytes where ${want} were due`);
}

/**
 * Accepts a 206 (Partial Content) answer without a `Content-Range` header only when it carries
 * exactly the bytes asked for: a bounded range's length, or a suffix's. Without the header nothing
 * says which bytes of the object the body holds (re-sliced as if it were the whole object, such a
 * body gave shifted or empty bytes, silently). Retryable `Io`, `S3_RESPONSE_LENGTH`.
 */
function checkUnplacedPart(got: number, range: NonNullable<GetOptions['range']>, rangeHeader: string, uri: string): void {
  const asked = 'suffix' in range ? range.suffix : range.length;
  if (asked !== undefined && got === asked) return;
  throw new LakeSoulError('Io', `get ${uri} failed: the server answered 206 Partial Content without a Content-Range header, with ${got} bytes for the range ${rangeHeader}${asked === undefined ? ' (of a length only the object\'s size tells)' : ` (${asked} bytes)`}: which bytes of the object they are is not known (a proxy that drops the header, or a server that does not follow HTTP ranges)`, {
    code: 'S3_RESPONSE_LENGTH',
    retryable: true,
    context: { file: uri },
  });
}

/**
 * The ETag S3 gives an object made by a multipart upload of `parts`: the MD5 of the parts' binary
 * MD5s, then `-` and the part count. Undefined when a part's ETag is not a plain MD5 (encrypted
 * objects, some S3-compatible servers), where nothing can be computed.
 */
function multipartEtag(parts: readonly CompletedPart[]): string | undefined {
  const hash = createHash('md5');
  for (const p of parts) {
    const md5 = /^"?([0-9a-f]{32})"?$/i.exec(p.ETag ?? '')?.[1];
    if (md5 === undefined) return undefined;
    hash.update(Buffer.from(md5, 'hex'));
  }
  return `${hash.digest('hex')}-${parts.length}`;
}

/**
 * For how long (ms) an HTTP answer from a store's endpoint makes a connection closed without an answer
 * ("socket hang up", a reset) count as a dropped connection rather than as no server answering
 * (see {@link S3ErrorContext}): a minute, well past a retry's wait (at most 20 s), so a failure
 * after a store's requests were answered is not taken for an endpoint that is not there.
 */
const RECENT_ANSWER_MS = 60_000;

/** When each client last received an HTTP answer (of any status), shared by the stores of a client. */
const lastAnswers = new WeakMap<S3Client, { at: number }>();

/**
 * The record of when `client` last received an HTTP answer, kept by a middleware added to the client
 * once: at the end of the deserialize step, next to the HTTP handler, it sees every attempt's raw
 * response (an error status as well) before the SDK parses it.
 */
function answerRecord(client: S3Client): { at: number } {
  let record = lastAnswers.get(client);
  if (record === undefined) {
    const r = { at: 0 };
    record = r;
    lastAnswers.set(client, r);
    type Next = (args: unknown) => Promise<unknown>;
    const middleware = (next: Next) => async (args: unknown) => {
      const out = await next(args);
      r.at = Date.now();
      return out;
    };
    try {
      (client.middlewareStack as unknown as { add(m: (next: Next) => Next, o: object): void }).add(middleware, { step: 'deserialize', priority: 'low', name: 'lakesoulAnswerRecord' });
    } catch {
      // the name is taken (a client given to another copy of this module, which records for its stores):
      // without a record here, a connection closed without an answer stays a "no answer" failure
    }
  }
  return record;
}

/**
 * Objects in one S3 bucket. Puts below `multipartThreshold` are a single PutObject; larger byte arrays
 * and every streamed put (`AsyncIterable`) use multipart upload with `partSize` parts, which S3 makes
 * visible atomically on completion (a failed or aborted upload is aborted and leaves no object).
 * Ranged gets send a `Range` header (`bytes=a-b`, `bytes=a-`, `bytes=-n`); ranges are clamped to the
 * object, and a range starting at or past its end reads zero bytes. Errors: 404/NoSuchKey ->
 * `NotFound` naming `s3://bucket/key`; 5xx and throttling -> `Io` with `retryable: true`.
 */
export class S3Store implements ObjectStore, BatchDeleter {
  readonly description: string;
  readonly bucket: string;
  /** The client, shared by every call of this store. */
  readonly client: S3Client;
  /** `@aws-sdk/client-s3`, loaded by the first store made. */
  private readonly sdk = s3Sdk();
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly uploadConcurrency: number;
  private readonly listPageSize: number;
  private readonly idleTimeoutMs: number;
  /** Set once the server answered a DeleteObjects request with HTTP status 501: deleteMany then deletes one object per request. */
  private batchDeleteUnsupported = false;
  /** When the client last received an HTTP answer ({@link answerRecord}). */
  private readonly answers: { at: number };

  constructor(options: S3StoreOptions) {
    if (!options || typeof options.bucket !== 'string' || options.bucket === '' || options.bucket.includes('/')) {
      throw new LakeSoulError('InvalidArgument', `S3Store needs a bucket name (got '${String(options?.bucket)}')`);
    }
    refuseUnknownOptions(options, S3_STORE_OPTIONS, `S3Store of bucket '${options.bucket}'`);
    refuseUnknownOptions(options.credentials, S3_CREDENTIALS, `S3Store of bucket '${options.bucket}' credentials`);
    checkS3Sizes(options, 'S3Store');
    refuseNonBooleanOptions(options, ['forcePathStyle'], `S3Store of bucket '${options.bucket}'`);
    this.bucket = options.bucket;
    this.description = `s3://${options.bucket}/`;
    this.partSize = Math.max(5 * MIB, options.partSize ?? 8 * MIB);
    this.multipartThreshold = Math.max(this.partSize, options.multipartThreshold ?? 16 * MIB);
    this.uploadConcurrency = Math.max(1, options.uploadConcurrency ?? 4);
    this.listPageSize = Math.min(1000, Math.max(1, options.listPageSize ?? 1000));
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_S3_IDLE_TIMEOUT_MS;
    const maxAttempts = options.maxAttempts ?? 3;
    if (!(Number.isInteger(maxAttempts) && maxAttempts >= 1)) throw new LakeSoulError('InvalidArgument', `S3Store maxAttempts must be a positive integer, got ${String(options.maxAttempts)}`);
    if (!(this.idleTimeoutMs > 0 && Number.isFinite(this.idleTimeoutMs))) throw new LakeSoulError('InvalidArgument', `S3Store idleTimeoutMs must be a positive number of milliseconds, got ${String(options.idleTimeoutMs)}`);
    if (options.client) {
      this.client = options.client;
    } else {
      const config: S3ClientConfig = {
        region: options.region ?? 'us-east-1',
        forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
        maxAttempts,
        // every request gets its maxAttempts: the SDK's standard strategy has a client-wide retry
        // quota, empty after a burst of errors (then a 503 was tried once)
        retryStrategy: new S3RetryStrategy(maxAttempts),
        requestHandler: {
          httpAgent: { keepAlive: true, maxSockets: options.maxSockets ?? 256 },
          httpsAgent: { keepAlive: true, maxSockets: options.maxSockets ?? 256 },
          // a socket idle this long fails the request (retried by the SDK before the headers, by get()
          // after). `socketTimeout` is the inactivity timeout; the SDK's `requestTimeout` bounds the
          // whole request and, without throwOnRequestTimeout, only logs: a request the server took and
          // never answered waited for ever.
          socketTimeout: this.idleTimeoutMs,
          connectionTimeout: Math.min(this.idleTimeoutMs, 10_000),
        },
      };
      if (options.endpoint !== undefined) {
        config.endpoint = checkEndpoint(options.endpoint, options.bucket);
        // S3-compatible servers differ in their support of the newer default checksums.
        config.requestChecksumCalculation = 'WHEN_REQUIRED';
        config.responseChecksumValidation = 'WHEN_REQUIRED';
      }
      if (options.credentials) config.credentials = { ...options.credentials };
      this.client = new this.sdk.S3Client(config);
    }
    this.answers = answerRecord(this.client);
  }

  /**
   * {@link mapS3Error} with what the store knows of its endpoint: whether it answered a request
   * within {@link RECENT_ANSWER_MS}, so a connection closed without an answer is not taken for a
   * server that is not there (`noAnswer`, which makes a failed write leave its files to cleanup()).
   */
  private mapError(e: unknown, uri: string, op: string): LakeSoulError {
    const known: S3ErrorContext = { endpointAnswered: Date.now() - this.answers.at < RECENT_ANSWER_MS };
    return mapS3Error(e, uri, op, known);
  }

  /**
   * A store configured like upstream LakeSoul from environment variables: AWS_ACCESS_KEY_ID,
   * AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), AWS_REGION, AWS_ENDPOINT (else AWS_ENDPOINT_URL_S3,
   * else AWS_ENDPOINT_URL: see {@link s3OptionsFromEnv}). `overrides` win.
   */
  static fromEnv(bucket: string, env: Record<string, string | undefined> = process.env, overrides: Partial<S3StoreOptions> = {}): S3Store {
    return new S3Store({ ...s3OptionsFromEnv(env), ...overrides, bucket });
  }

  private uri(key: string): string {
    return this.description + key;
  }

  async get(path: string, options: GetOptions = {}): Promise<Uint8Array> {
    checkKey(path, this.description);
    const uri = this.uri(path);
    throwIfAborted(options.signal, `get ${uri}`);
    // A whole object is asked for as the range `bytes=0-`: its answer's Content-Range carries the
    // object's size, so a body cut short with a matching Content-Length is still found out.
    let rangeHeader = 'bytes=0-';
    const r = options.range ?? { offset: 0 };
    if (options.range) {
      validateRange(r, uri);
      const empty = 'suffix' in r ? r.suffix === 0 : r.length === 0;
      if (empty) {
        await this.head(path, options); // existence check: NotFound for a missing object
        return new Uint8Array(0);
      }
      rangeHeader = 'suffix' in r ? `bytes=-${r.suffix}` : r.length === undefined ? `bytes=${r.offset}-` : `bytes=${r.offset}-${r.offset + r.length - 1}`;
    }
    return withRequestSignal(options.signal, (signal) => this.getAttempts(path, uri, rangeHeader, r, options.signal, signal));
  }

  /**
   * The attempts of a get: the SDK retries failures before a response's headers, this loop a
   * response that broke after them. `signal` is the caller's, `requestSignal` the SDK's.
   */
  private async getAttempts(path: string, uri: string, rangeHeader: string, r: NonNullable<GetOptions['range']>, signal: AbortSignal | undefined, requestSignal: AbortSignal | undefined): Promise<Uint8Array> {
    for (let attempt = 1; ; attempt++) {
      let res;
      try {
        res = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: path, Range: rangeHeader }), { abortSignal: requestSignal });
      } catch (e) {
        const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 416 || (e as { name?: string }).name === 'InvalidRange') return new Uint8Array(0);
        throw this.mapError(e, uri, 'get');
      }
      try {
        const bytes = res.Body ? await readBody(res.Body as unknown as AsyncIterable<Uint8Array>, this.idleTimeoutMs, uri, res.ContentLength) : new Uint8Array(0);
        throwIfAborted(signal, `get ${uri}`);
        checkBodyLength(bytes.length, r, res.ContentLength, res.ContentRange, uri);
        if (res.ContentRange === undefined) {
          // a server that ignores Range answers the whole object (200): take the range from it
          if (res.$metadata.httpStatusCode !== 206) return sliceRange(bytes, r);
          checkUnplacedPart(bytes.length, r, rangeHeader, uri);
        }
        return bytes;
      } catch (e) {
        // the response broke after its headers: cut short, reset or stalled (never retried by the SDK)
        if (signal?.aborted || attempt >= GET_BODY_ATTEMPTS) {
          const le = this.mapError(e, uri, 'get');
          throw attempt > 1 && !signal?.aborted ? new LakeSoulError(le.kind, `${le.message} (after ${attempt} attempts)`, { code: le.code, retryable: le.retryable, cause: e, context: le.context }) : le;
        }
      }
    }
  }

  async put(path: string, data: Uint8Array | AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<void> {
    checkKey(path, this.description);
    const uri = this.uri(path);
    throwIfAborted(options.signal, `put ${uri}`);
    if (data instanceof Uint8Array && data.length < this.multipartThreshold) return this.putObject(path, uri, data, options.signal);
    return this.putMultipart(path, uri, data, options);
  }

  /** One PutObject request. */
  private async putObject(path: string, uri: string, data: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
    try {
      await withRequestSignal(signal, (s) => this.client.send(new this.sdk.PutObjectCommand({ Bucket: this.bucket, Key: path, Body: data, ContentLength: data.length }), { abortSignal: s }));
    } catch (e) {
      throw this.mapError(e, uri, 'put');
    }
  }

  /**
   * A put in parts: CreateMultipartUpload, `uploadConcurrency` UploadPart requests in flight, then
   * CompleteMultipartUpload (data that makes one part at most is one PutObject). It settles only once
   * the upload has: after a failure or an abort, parts in flight are cancelled, a source that never
   * yields again is left waiting, and the upload is aborted (AbortMultipartUpload, bounded by
   * {@link SETTLE_MS}) before the call rejects; an abort while CompleteMultipartUpload was on its way
   * waits for its answer (bounded alike), and an object it made is deleted. What could not be cleaned
   * up is said in the error. (`@aws-sdk/lib-storage`'s Upload, used before, rejected at once on an
   * abort and cleaned up in the background: a process that exited then left the upload behind, and a
   * completion already sent made the object after the put had rejected.)
   *
   * A completion whose answer leaves it open whether the object was made (NoSuchUpload to a retried
   * CompleteMultipartUpload whose first answer was lost, or HTTP 200 without an ETag) is checked with
   * HeadObject ({@link findUploaded}): the put succeeds when the object is there as this upload makes
   * it, else it fails with a retryable `Io` error saying what was found. A CreateMultipartUpload the SDK
   * retried after its first answer was lost may have opened an upload this store never learns of: it
   * holds no parts (no bytes stored) and is left to the bucket's lifecycle rule for incomplete uploads
   * (`AbortIncompleteMultipartUpload`); looking such uploads up could not tell them from another
   * writer's upload of the same key.
   */
  private async putMultipart(path: string, uri: string, data: Uint8Array | AsyncIterable<Uint8Array>, options: PutOptions): Promise<void> {
    const outer = options.signal;
    const what = `put ${uri}`;
    const hint = data instanceof Uint8Array ? data.length : options.contentLength;
    const partSize = hint !== undefined && Number.isFinite(hint) && hint > 0 ? Math.max(this.partSize, Math.ceil(hint / MAX_PARTS)) : this.partSize;
    const source = (data instanceof Uint8Array ? sliceParts(data, partSize) : streamParts(data, partSize))[Symbol.asyncIterator]();
    // aborted by the caller's signal or by the first failure: stops the reads of the source and cancels the part requests
    const stop = new AbortController();
    // the requests whose answer is needed (create, complete) are cancelled only SETTLE_MS after the caller's abort
    const settle = new AbortController();
    let settleTimer: NodeJS.Timeout | undefined;
    const releaseOuter = outer
      ? whenAborted(outer, () => {
          stop.abort(outer.reason);
          settleTimer ??= setTimeout(() => settle.abort(outer.reason), SETTLE_MS);
        })
      : () => undefined;
    let failure: { error: unknown } | undefined;
    const fail = (e: unknown) => {
      failure ??= { error: e };
      stop.abort(e);
    };
    /** What could not be cleaned up, for the error. */
    const notes: string[] = [];
    const read = async (): Promise<Uint8Array | undefined> => {
      const r = await untilAborted(source.next(), stop.signal);
      if (r.done) sourceDone = true;
      return r.done ? undefined : r.value;
    };
    let sourceDone = false;
    try {
      let body: Uint8Array | undefined;
      let lookahead: Uint8Array | undefined;
      try {
        body = await read();
        lookahead = body === undefined ? undefined : await read();
      } catch (e) {
        if (!stop.signal.aborted) fail(e);
      }
      if (!stop.signal.aborted && lookahead === undefined) {
        // at most one part: one PutObject
        return await this.putObject(path, uri, body ?? new Uint8Array(0), outer);
      }
      let uploadId: string | undefined;
      if (!stop.signal.aborted) {
        try {
          const checksums = (await this.client.config.requestChecksumCalculation?.()) === 'WHEN_SUPPORTED';
          // as lib-storage's Upload: a CRC32 checksum where the client sends checksums
          const input = { Bucket: this.bucket, Key: path, ...(checksums ? { ChecksumAlgorithm: 'CRC32' as const } : {}) };
          uploadId = (await withRequestSignal(settle.signal, (signal) => this.client.send(new this.sdk.CreateMultipartUploadCommand(input), { abortSignal: signal }))).UploadId;
          if (uploadId === undefined) fail(new LakeSoulError('Io', `${what} failed: CreateMultipartUpload answered no UploadId`, { context: { file: uri } }));
        } catch (e) {
          if (settle.signal.aborted) notes.push(`the request opening its multipart upload got no answer within ${SETTLE_MS / 1000} s of the abort: ${LEFT_PARTS}`);
          else if (!outer?.aborted) fail(e);
        }
      }
      const parts: CompletedPart[] = [];
      const inFlight = new Set<Promise<void>>();
      let partNumber = 0;
      /** The bytes of the parts sent: the size of the object the upload makes. */
      let size = 0;
      while (uploadId !== undefined && body !== undefined && !stop.signal.aborted) {
        if (partNumber >= MAX_PARTS) {
          fail(new LakeSoulError('InvalidArgument', `${what}: the data makes more than ${MAX_PARTS} parts of ${partSize} bytes, the S3 maximum: give the store a larger partSize, or the put the size as contentLength`, { context: { file: uri } }));
          break;
        }
        size += body.length;
        const p: Promise<void> = this.uploadPart(path, uri, uploadId, ++partNumber, body, stop.signal)
          .then((part) => void parts.push(part), fail)
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (lookahead !== undefined) {
          body = lookahead;
          lookahead = undefined;
        } else {
          try {
            body = await read();
          } catch (e) {
            if (!stop.signal.aborted) fail(e);
            break;
          }
        }
        while (inFlight.size >= this.uploadConcurrency && !stop.signal.aborted) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      if (uploadId !== undefined && (failure !== undefined || outer?.aborted)) {
        const note = await this.abortUpload(path, uri, uploadId);
        if (note) notes.push(note);
      }
      if (uploadId === undefined || failure !== undefined || outer?.aborted) throw this.putError(what, uri, outer, failure, notes);
      // every part is in: complete (an abort from now on waits for the answer, SETTLE_MS at most)
      parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
      const complete = new this.sdk.CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: path, UploadId: uploadId, MultipartUpload: { Parts: parts } });
      /** Why the completion's answer leaves it open whether the object was made. */
      let doubt: string | undefined;
      try {
        const res = await withRequestSignal(settle.signal, (signal) => this.client.send(complete, { abortSignal: signal }));
        // S3 may answer 200 with an error; one without a result made no object (the SDK turns one with an <Error> body into an error)
        if (!res.ETag) doubt = 'CompleteMultipartUpload answered HTTP 200 without an ETag (no result: the completion may have failed)';
      } catch (e) {
        if ((e as { name?: string } | null)?.name === 'NoSuchUpload' && !settle.signal.aborted) {
          // the SDK retried a completion whose answer was lost; the first attempt may have completed the upload (MinIO answers so)
          doubt = 'CompleteMultipartUpload answered NoSuchUpload: the upload is gone (completed by an earlier attempt of the request whose answer was lost, or aborted)';
        } else {
          if (settle.signal.aborted) notes.push(`the request completing its multipart upload got no answer within ${SETTLE_MS / 1000} s of the abort: the object may have been written`);
          const note = await this.abortUpload(path, uri, uploadId);
          if (note) notes.push(note);
          throw this.putError(what, uri, outer, outer?.aborted ? undefined : { error: e }, notes);
        }
      }
      if (doubt !== undefined) {
        const missing = await this.findUploaded(path, uri, size, parts, settle.signal);
        if (missing !== undefined) {
          const note = await this.abortUpload(path, uri, uploadId);
          if (note) notes.push(note);
          if (outer?.aborted) throw this.putError(what, uri, outer, undefined, notes);
          const tail = notes.length > 0 ? `; ${notes.join('; ')}` : '';
          throw new LakeSoulError('Io', `${what} failed: ${doubt}, and ${missing}: put it again${tail}`, { retryable: true, context: { file: uri } });
        }
      }
      if (outer?.aborted) {
        // the abort came while the completion was on its way, and it went through: the object is taken back
        const note = await this.deleteAfterAbort(path, uri);
        if (note) notes.push(note);
        throw this.putError(what, uri, outer, undefined, notes);
      }
    } finally {
      releaseOuter();
      clearTimeout(settleTimer);
      // a source still being read (stalled, or stopped by a failure) is asked to stop, not waited for
      if (!sourceDone) void Promise.resolve().then(() => source.return?.(undefined)).catch(() => undefined);
    }
  }

  /**
   * Whether the object a multipart upload of `parts` (`size` bytes) makes is in the bucket, looked up
   * with HeadObject when the completion's answer left it open: its size must be `size`, and an ETag of
   * the multipart form (`<md5>-<count>`) must be the one these parts make ({@link multipartEtag}), or
   * at least have their count. Undefined when it is there, else what was found, for the error.
   */
  private async findUploaded(path: string, uri: string, size: number, parts: readonly CompletedPart[], signal: AbortSignal): Promise<string | undefined> {
    let res;
    try {
      res = await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: path }), { abortSignal: signal });
    } catch (e) {
      const le = this.mapError(e, uri, 'head');
      return LakeSoulError.hasCode(le, 'OBJECT_NOT_FOUND') ? `no object ${uri} is there` : `whether the object is there could not be looked up (${le.message})`;
    }
    if (res.ContentLength !== size) return `the object there has ${res.ContentLength ?? 'an unknown number of'} bytes where this put wrote ${size} (another write of the key?)`;
    const etag = /^"?([0-9a-f]{32}-(\d+))"?$/i.exec(res.ETag ?? '');
    if (etag !== null) {
      const want = multipartEtag(parts);
      const wrong = want === undefined ? Number(etag[2]) !== parts.length : etag[1]!.toLowerCase() !== want;
      if (wrong) return `the object there has the ETag ${res.ETag} where this upload of ${parts.length} parts makes ${want === undefined ? `one ending -${parts.length}` : `"${want}"`} (another write of the key?)`;
    }
    return undefined;
  }

  /** One UploadPart request: the part's number, ETag and checksums (as CompleteMultipartUpload wants them). */
  private async uploadPart(path: string, uri: string, uploadId: string, partNumber: number, body: Uint8Array, stop: AbortSignal): Promise<CompletedPart> {
    let res;
    try {
      res = await withRequestSignal(stop, (signal) =>
        this.client.send(new this.sdk.UploadPartCommand({ Bucket: this.bucket, Key: path, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length }), { abortSignal: signal }),
      );
    } catch (e) {
      throw this.mapError(e, uri, 'put');
    }
    if (!res.ETag) throw new LakeSoulError('Io', `put ${uri} failed: the server answered part ${partNumber} without an ETag`, { context: { file: uri } });
    return {
      PartNumber: partNumber,
      ETag: res.ETag,
      ...(res.ChecksumCRC32 && { ChecksumCRC32: res.ChecksumCRC32 }),
      ...(res.ChecksumCRC32C && { ChecksumCRC32C: res.ChecksumCRC32C }),
      ...(res.ChecksumCRC64NVME && { ChecksumCRC64NVME: res.ChecksumCRC64NVME }),
      ...(res.ChecksumSHA1 && { ChecksumSHA1: res.ChecksumSHA1 }),
      ...(res.ChecksumSHA256 && { ChecksumSHA256: res.ChecksumSHA256 }),
    };
  }

  /**
   * Aborts a multipart upload, waiting {@link SETTLE_MS} at most. A part request cancelled on its way
   * may still land after an abort (S3's documentation says so), so the upload is looked up after it
   * (ListParts) and aborted once more if it is still there. Undefined when it is gone, else what
   * stayed, for the error.
   */
  private async abortUpload(path: string, uri: string, uploadId: string): Promise<string | undefined> {
    const signal = AbortSignal.timeout(SETTLE_MS);
    const gone = (e: unknown) => (e as { name?: string })?.name === 'NoSuchUpload' || (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 404;
    try {
      for (let round = 0; round < 2; round++) {
        try {
          await this.client.send(new this.sdk.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: path, UploadId: uploadId }), { abortSignal: signal });
          await this.client.send(new this.sdk.ListPartsCommand({ Bucket: this.bucket, Key: path, UploadId: uploadId, MaxParts: 1 }), { abortSignal: signal });
        } catch (e) {
          if (gone(e)) return undefined;
          throw e;
        }
      }
      return `its multipart upload ${uploadId} was still listed after two aborts: ${LEFT_PARTS}`;
    } catch (e) {
      const why = signal.aborted ? `no answer within ${SETTLE_MS / 1000} s` : this.mapError(e, uri, 'abort the multipart upload of').message;
      return `its multipart upload ${uploadId} could not be aborted (${why}): ${LEFT_PARTS}`;
    }
  }

  /** Deletes the object of a put aborted while its completion was on its way ({@link SETTLE_MS} at most); what stayed, for the error. */
  private async deleteAfterAbort(path: string, uri: string): Promise<string | undefined> {
    const signal = AbortSignal.timeout(SETTLE_MS);
    try {
      await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: path }), { abortSignal: signal });
      return undefined;
    } catch (e) {
      const why = signal.aborted ? `no answer within ${SETTLE_MS / 1000} s` : this.mapError(e, uri, 'delete').message;
      return `its completion was on its way when the abort came and went through, and the object it made could not be deleted (${why}): delete ${uri}`;
    }
  }

  /** The error of a put that did not complete: Aborted when the caller aborted, else its failure; with what stayed behind. */
  private putError(what: string, uri: string, outer: AbortSignal | undefined, failure: { error: unknown } | undefined, notes: string[]): LakeSoulError {
    const tail = notes.length > 0 ? `; ${notes.join('; ')}` : '';
    if (outer?.aborted || failure === undefined) {
      return new LakeSoulError('Aborted', `${what}: aborted${tail}`, { cause: outer?.reason, context: { file: uri } });
    }
    const le = this.mapError(failure.error, uri, 'put');
    if (tail === '') return le;
    return new LakeSoulError(le.kind, `${le.message}${tail}`, { code: le.code, retryable: le.retryable, cause: le.cause, context: le.context });
  }

  async head(path: string, options: StoreCallOptions = {}): Promise<ObjectMeta> {
    checkKey(path, this.description);
    const uri = this.uri(path);
    throwIfAborted(options.signal, `head ${uri}`);
    try {
      const res = await withRequestSignal(options.signal, (signal) => this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: path }), { abortSignal: signal }));
      if (res.ContentLength === undefined) {
        throw new LakeSoulError('Io', `head ${uri} failed: the server answered without a Content-Length header, so the object's size is not known (a proxy that drops the header?)`, { context: { file: uri } });
      }
      // no Last-Modified: the time of the answer (an object dated 1970 was taken for an old orphan by cleanup())
      return { path, size: Number(res.ContentLength), lastModified: res.LastModified ?? new Date(), etag: res.ETag };
    } catch (e) {
      throw this.mapError(e, uri, 'head');
    }
  }

  async delete(path: string, options: StoreCallOptions = {}): Promise<void> {
    checkKey(path, this.description);
    const uri = this.uri(path);
    throwIfAborted(options.signal, `delete ${uri}`);
    try {
      await withRequestSignal(options.signal, (signal) => this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: path }), { abortSignal: signal }));
    } catch (e) {
      const mapped = this.mapError(e, uri, 'delete');
      if (LakeSoulError.hasCode(mapped, 'OBJECT_NOT_FOUND')) return;
      throw mapped;
    }
  }

  /**
   * Deletes the objects in DeleteObjects requests of up to 1,000 keys, 4 in flight
   * ({@link BatchDeleter}); a missing object is not an error. A server without DeleteObjects (it
   * answers HTTP status 501, as some S3-compatible servers do) gets single deletes, 10 at a time,
   * from then on (tested against a proxy that answers so).
   */
  async deleteMany(paths: readonly string[], options: StoreCallOptions = {}): Promise<void> {
    for (const p of paths) checkKey(p, this.description);
    throwIfAborted(options.signal, `delete ${paths.length} objects under ${this.description}`);
    const single = (path: string) => this.delete(path, options);
    if (this.batchDeleteUnsupported) return runUntilFailure(paths, DEFAULT_DELETE_CONCURRENCY, single, (p) => this.uri(p));
    const batches: string[][] = [];
    for (let i = 0; i < paths.length; i += DELETE_BATCH_KEYS) batches.push(paths.slice(i, i + DELETE_BATCH_KEYS));
    await runUntilFailure(batches, DELETE_BATCHES_IN_FLIGHT, async (keys) => {
      if (this.batchDeleteUnsupported) return runUntilFailure(keys, DEFAULT_DELETE_CONCURRENCY, single, (p) => this.uri(p));
      let res;
      try {
        const command = new this.sdk.DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } });
        res = await withRequestSignal(options.signal, (signal) => this.client.send(command, { abortSignal: signal }));
      } catch (e) {
        if ((e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 501) {
          this.batchDeleteUnsupported = true;
          return runUntilFailure(keys, DEFAULT_DELETE_CONCURRENCY, single, (p) => this.uri(p));
        }
        throw this.mapError(e, this.uri(keys[0]), 'delete');
      }
      // Quiet: only the keys that failed are listed (a missing key is deleted, not an error)
      const failed = (res.Errors ?? []).filter((x) => x.Code !== 'NoSuchKey');
      if (failed.length === 0) return;
      const first = failed[0];
      const uri = this.uri(first.Key ?? keys[0]);
      const detail = `${first.Code ?? 'Error'}: ${first.Message ?? 'no message'}${failed.length > 1 ? ` (and ${failed.length - 1} more of the ${keys.length} keys of the request)` : ''}`;
      const denied = first.Code === 'AccessDenied';
      throw new LakeSoulError(denied ? 'PermissionDenied' : 'Io', `delete ${uri}: ${detail}`, {
        retryable: !denied && /SlowDown|InternalError|ServiceUnavailable/.test(first.Code ?? ''),
        context: { file: uri, deleted: keys.length - failed.length },
      });
    }, (keys) => this.uri(keys[0]), (keys) => keys.length);
  }

  async *list(prefix: string, options: StoreCallOptions = {}): AsyncIterable<ObjectMeta> {
    checkPrefix(prefix, this.description);
    const uri = this.uri(prefix);
    let token: string | undefined;
    do {
      throwIfAborted(options.signal, `list ${uri}`);
      let res;
      try {
        const page = new this.sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix === '' ? undefined : prefix, ContinuationToken: token, MaxKeys: this.listPageSize });
        res = await withRequestSignal(options.signal, (signal) => this.client.send(page, { abortSignal: signal }));
      } catch (e) {
        throw this.mapError(e, uri, 'list');
      }
      // an entry without a date is dated when it was listed: new, so cleanup() keeps it (dated 1970, a
      // file just written was taken for an old orphan and deleted)
      const listedAt = new Date();
      for (const o of res.Contents ?? []) {
        if (o.Key === undefined) continue;
        if (o.Size === undefined) {
          throw new LakeSoulError('Io', `list ${uri} failed: the listing names ${this.uri(o.Key)} without its size (a ListObjectsV2 entry without Size)`, { context: { file: this.uri(o.Key) } });
        }
        yield { path: o.Key, size: Number(o.Size), lastModified: o.LastModified ?? listedAt, etag: o.ETag };
      }
      if (res.IsTruncated && !res.NextContinuationToken) {
        // ending here returned some of the keys as if they were all (a purge left files, a scan of an image folder missed images)
        throw new LakeSoulError('Io', `list ${uri} failed: the listing of bucket '${this.bucket}' under the prefix '${prefix}' was truncated without a continuation token (IsTruncated with no NextContinuationToken): the rest of the keys cannot be asked for`, { context: { file: uri } });
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  }

  /** Releases the client's sockets. */
  destroy(): void {
    this.client.destroy();
  }
}

/** Keys per DeleteObjects request (the S3 maximum). */
const DELETE_BATCH_KEYS = 1000;
/** DeleteObjects requests of one deleteMany in flight at once. */
const DELETE_BATCHES_IN_FLIGHT = 4;

/**
 * The endpoint of an S3-compatible server, checked: `http(s)://host[:port]` (an extra base path is
 * kept, for servers behind a proxy). Its usual mistakes are named: no scheme (the SDK's bare "Invalid
 * URL"), and the bucket appended (`http://host:9000/lake`: every key then missed, "object not found").
 */
function checkEndpoint(endpoint: string, bucket: string): string {
  const what = `S3 endpoint '${endpoint}' (AWS_ENDPOINT, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, or the store's endpoint option)`;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new LakeSoulError('InvalidArgument', `${what} is not a URL: give the server as http://host:port (or https://...)`, { code: 'INVALID_S3_ENDPOINT' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new LakeSoulError('InvalidArgument', `${what}: the scheme must be http or https (got '${url.protocol}'), e.g. http://host:port`, { code: 'INVALID_S3_ENDPOINT' });
  }
  const last = url.pathname.split('/').filter(Boolean).at(-1);
  if (last === bucket) {
    throw new LakeSoulError('InvalidArgument', `${what} ends with the bucket '${bucket}': give the server only (${url.origin}); the bucket is named by the s3://${bucket}/... URI`, { code: 'INVALID_S3_ENDPOINT' });
  }
  return endpoint;
}

/**
 * S3 options from upstream LakeSoul's environment variables (see {@link S3Store.fromEnv}).
 *
 * The endpoint is the first set of `AWS_ENDPOINT` (upstream LakeSoul's), `AWS_ENDPOINT_URL_S3` and
 * `AWS_ENDPOINT_URL` (the AWS SDKs' and CLI's), the latter two unless
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`. Read here, they get what an endpoint gets (path-style
 * addressing, the check of the URL); left to the SDK, which reads them itself, they were used with
 * virtual-host addressing (`bucket.host`: "getaddrinfo ENOTFOUND bucket.localhost").
 */
export function s3OptionsFromEnv(env: Record<string, string | undefined>): Partial<S3StoreOptions> {
  const out: Partial<S3StoreOptions> = {};
  const sdkUrls = env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.trim().toLowerCase() === 'true' ? undefined : env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  const endpoint = env.AWS_ENDPOINT || sdkUrls;
  if (endpoint) out.endpoint = endpoint;
  if (env.AWS_REGION) out.region = env.AWS_REGION;
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    out.credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
    if (env.AWS_SESSION_TOKEN) out.credentials.sessionToken = env.AWS_SESSION_TOKEN;
  }
  return out;
}

/** Parts per multipart upload, the S3 maximum. */
const MAX_PARTS = 10_000;

/**
 * How long a put that failed or was aborted waits for the requests that settle its upload: the
 * answer of a CreateMultipartUpload or CompleteMultipartUpload on its way when the abort came, an
 * AbortMultipartUpload, the DeleteObject of an object a completion made after all.
 */
const SETTLE_MS = 10_000;

/** What an upload that could not be aborted leaves. */
const LEFT_PARTS = 'its parts stay in the bucket, invisible to list and cleanup(), until an S3 lifecycle rule (AbortIncompleteMultipartUpload) removes them';

/** `promise`, or a rejection with the signal's reason as soon as it aborts (the promise is then left to settle unobserved). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const release = whenAborted(signal, () => {
      promise.catch(() => undefined);
      reject(signal.reason);
    });
    promise.then(
      (v) => {
        release();
        resolve(v);
      },
      (e: unknown) => {
        release();
        reject(e);
      },
    );
  });
}

/** The parts of a byte array: views of `partSize` bytes, the last one shorter. */
async function* sliceParts(data: Uint8Array, partSize: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += partSize) yield data.subarray(at, Math.min(data.length, at + partSize));
}

/**
 * The parts of a stream: copies of `partSize` bytes, the last one shorter; none for an empty stream.
 * Each chunk's bytes are copied into the part as it arrives: the source may reuse its buffer once it
 * yields the next chunk (kept by reference until the part was full, such chunks were stored with the
 * bytes of a later one).
 */
async function* streamParts(data: AsyncIterable<Uint8Array>, partSize: number): AsyncGenerator<Uint8Array> {
  let part: Uint8Array | undefined;
  let size = 0;
  for await (const c of data) {
    let chunk = c;
    while (chunk.length > 0) {
      part ??= Buffer.allocUnsafe(partSize);
      const take = Math.min(partSize - size, chunk.length);
      part.set(chunk.subarray(0, take), size);
      size += take;
      chunk = chunk.subarray(take);
      if (size === partSize) {
        yield part;
        part = undefined;
        size = 0;
      }
    }
  }
  if (part && size > 0) yield part.subarray(0, size);
}
