/**
 * A small Arrow Flight client (for tests, the CLI and JS users). It speaks standard Flight, so it
 * also works against other Flight servers for the calls those implement.
 */
import { createHash } from 'node:crypto';
import { Metadata, credentials, status, type Client, type ClientDuplexStream, type ClientReadableStream, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { RecordBatch, Schema, Table } from 'apache-arrow';
import { LakeSoulError, abortedError, optionNames, refuseUnknownOptions, throwIfAborted } from '@lakesoul-ts/meta';
import {
  loadFlightProtocol,
  type ActionTypeMessage, type FlightDataMessage, type FlightDescriptorMessage, type FlightEndpointMessage, type FlightInfoMessage,
  type HandshakeMessage, type PutResultMessage, type ResultMessage, type SchemaResultMessage,
} from './flight-proto.js';
import { DEFAULT_MAX_MESSAGE_BYTES, decodeFlightData, recordBatchesToFlightData, schemaFromIpcMessage } from './ipc-framing.js';
import { fromGrpcError } from './grpc-status.js';

/** A descriptor as given by callers: a path, or a command (JSON object, string or bytes). */
export type FlightDescriptorInput =
  | { path: string[] }
  | { cmd: string | Uint8Array | Record<string, unknown> };

/** Options of {@link FlightClient.connect}. */
export interface ConnectOptions {
  /** Bearer token sent on every call. */
  token?: string;
  /** Basic credentials exchanged for a bearer token by Handshake at connect time. */
  basic?: { username: string; password: string };
  /** Max size of a received message (default 64 MiB). */
  maxReceiveMessageBytes?: number;
  /** Bound of one sent FlightData message (default 4 MiB, the servers' usual default). */
  maxMessageBytes?: number;
  /** Time to wait for the connection (default 10 s). */
  connectTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Options of single calls. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** A decoded endpoint. */
export interface FlightEndpoint {
  ticket: Uint8Array;
  locations: string[];
  /** When the ticket stops being redeemable (null = single use, no expiry given). */
  expiresAt: Date | null;
  appMetadata: Uint8Array;
}

/** A decoded FlightInfo. */
export interface FlightInfo {
  schema: Schema;
  descriptor: FlightDescriptorMessage | null;
  endpoints: FlightEndpoint[];
  /** -1n when unknown. */
  totalRecords: bigint;
  /** -1n when unknown. */
  totalBytes: bigint;
  ordered: boolean;
  appMetadata: Uint8Array;
}

/** Result of {@link FlightClient.doPut}. */
export interface FlightPutResult {
  /** app_metadata of each PutResult. */
  messages: Uint8Array[];
  /** The first PutResult's app_metadata parsed as JSON, when it is JSON. */
  json: unknown;
}

/** Options of {@link FlightClient.doGet}. */
export interface DoGetOptions extends CallOptions {
  /**
   * Time the read waits for the server's next message before it cancels the call and fails (`Io`,
   * retryable, naming the ticket). Default: no bound, as pyarrow's. A connection that stalls without
   * closing (a half-dead peer, a proxy that stops forwarding, in the middle of a message or between
   * two) otherwise holds the read until the operating system gives up on it, which can take hours; a
   * closed or reset connection fails at once anyway (`UNAVAILABLE`). Only the wait for the network
   * counts, not the time the caller takes between batches.
   */
  idleTimeoutMs?: number;
}

/** Options of {@link FlightClient.readAll}. */
export interface ReadAllOptions extends DoGetOptions {
  /** Endpoints read at once (default 4). */
  concurrency?: number;
}

/** Refuses what is not a {@link FlightDescriptorInput} (a JavaScript caller's `{ table: 'events' }` failed with "Cannot read properties of undefined"). */
function checkDescriptor(input: FlightDescriptorInput): void {
  const i = input as unknown as Record<string, unknown> | null;
  const ok = i !== null && typeof i === 'object' && (Array.isArray(i.path) || (i.cmd !== undefined && i.cmd !== null));
  if (!ok) {
    throw new LakeSoulError('InvalidArgument', `a Flight descriptor is { path: ['namespace', 'table'] } or { cmd: { table: 'events', ... } }, got ${JSON.stringify(input) ?? String(input)}`, { code: 'BAD_DESCRIPTOR' });
  }
}

/** Builds the wire descriptor of a {@link FlightDescriptorInput}. */
export function toDescriptor(input: FlightDescriptorInput): FlightDescriptorMessage {
  checkDescriptor(input);
  if ('path' in input) return { type: 'PATH', cmd: Buffer.alloc(0), path: input.path };
  const cmd = input.cmd;
  const bytes = typeof cmd === 'string' ? Buffer.from(cmd, 'utf8')
    : cmd instanceof Uint8Array ? Buffer.from(cmd)
      : Buffer.from(JSON.stringify(cmd), 'utf8');
  return { type: 'CMD', cmd: bytes, path: [] };
}

function parseUrl(url: string): string {
  const m = /^(?:grpc(?:\+tcp)?:\/\/)?([^/]+)\/?$/.exec(url.trim());
  if (!m) throw new LakeSoulError('InvalidArgument', `unsupported Flight URL '${url}': use grpc://host:port (TLS is not supported by this client)`);
  return m[1];
}

function decodeInfo(m: FlightInfoMessage): FlightInfo {
  return {
    schema: m.schema?.byteLength ? schemaFromIpcMessage(m.schema) : new Schema([]),
    descriptor: m.flight_descriptor,
    endpoints: (m.endpoint ?? []).map((e: FlightEndpointMessage) => ({
      ticket: e.ticket?.ticket ?? Buffer.alloc(0),
      locations: (e.location ?? []).map((l) => l.uri),
      expiresAt: e.expiration_time ? new Date(Number(e.expiration_time.seconds) * 1000 + Math.floor(e.expiration_time.nanos / 1e6)) : null,
      appMetadata: e.app_metadata ?? Buffer.alloc(0),
    })),
    totalRecords: BigInt(m.total_records ?? '-1'),
    totalBytes: BigInt(m.total_bytes ?? '-1'),
    ordered: !!m.ordered,
    appMetadata: m.app_metadata ?? Buffer.alloc(0),
  };
}

/**
 * How long a DoGet whose stream could not be decoded waits for the call's status (the server's error,
 * when it ended the call with one, explains the cut stream better than the decoding error).
 */
const DOGET_STATUS_WAIT_MS = 2000;

/** The outcome of a streaming call, known once its status comes. */
interface CallOutcome {
  /** The call's error (null: it ended OK); undefined when its status has not come within `ms`. */
  within(ms: number): Promise<ServiceError | null | undefined>;
}

/**
 * Watches `call` for its status. grpc-js ends a call's stream before it emits the error of a non-OK
 * status, so a reader may see the stream end, or fail to decode it, before it learns of that status.
 */
function watchOutcome(call: ClientReadableStream<unknown>): CallOutcome {
  let error: ServiceError | null = null;
  let outcome: ServiceError | null | undefined;
  const came = new Promise<void>((resolve) => {
    call.on('error', (e: ServiceError) => { error = e; });
    call.on('status', (s: StatusObject) => {
      outcome = s.code === status.OK ? null
        : error ?? Object.assign(new Error(`${s.code} ${status[s.code]}: ${s.details}`), { code: s.code, details: s.details, metadata: s.metadata });
      resolve();
    });
  });
  return {
    async within(ms) {
      if (outcome !== undefined) return outcome;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([came, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); })]);
      clearTimeout(timer);
      return outcome;
    },
  };
}

/**
 * A ticket as errors name it: its text when it is short printable ASCII, else its size and a
 * fingerprint (a lakesoul-ts ticket is binary, and lets whoever holds it read its split).
 */
function describeTicket(ticket: Uint8Array): string {
  const b = Buffer.from(ticket.buffer, ticket.byteOffset, ticket.byteLength);
  if (b.byteLength > 0 && b.byteLength <= 64 && b.every((c) => c >= 0x20 && c < 0x7f)) return `ticket '${b.toString('latin1')}'`;
  return `ticket of ${b.byteLength} bytes (sha256 ${createHash('sha256').update(b).digest('hex').slice(0, 12)})`;
}

/** The error of a read whose server sent nothing for `idleTimeoutMs`. */
class IdleError extends LakeSoulError {}

/**
 * `messages`, failing with an {@link IdleError} when the next one does not come within `ms` of being
 * asked for (the caller cancels the call). The timer runs only while a message is awaited.
 */
async function* idleLimited<T>(messages: AsyncIterable<T>, ms: number, where: string): AsyncGenerator<T> {
  const it = messages[Symbol.asyncIterator]();
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new IdleError('Io', `${where}: no message from the server for ${ms} ms (idleTimeoutMs): the connection or the server stalled, the call was cancelled`, {
        retryable: true,
        context: { idleTimeoutMs: ms },
      })), ms);
    });
    let next: IteratorResult<T>;
    try {
      next = await Promise.race([it.next(), idle]);
    } finally {
      clearTimeout(timer);
    }
    if (next.done) return;
    yield next.value;
  }
}

/** Cancels a call whose outcome nobody awaits any more, keeping its CANCELLED error from going unhandled. */
function cancelQuietly(call: { cancel(): void; on(event: 'error', fn: (e: unknown) => void): unknown }): void {
  call.on('error', () => undefined);
  call.cancel();
}

function tryJson(bytes: Uint8Array | undefined): unknown {
  if (!bytes?.byteLength) return null;
  try { return JSON.parse(Buffer.from(bytes).toString('utf8')); } catch { return null; }
}

/** The JSON command object of a descriptor (PATH -> {table, namespace}); null when it is not one. */
function commandOf(input: FlightDescriptorInput): Record<string, unknown> & { table?: unknown } | null {
  checkDescriptor(input);
  if ('path' in input) {
    const p = input.path;
    return p.length === 2 ? { namespace: p[0], table: p[1] } : p.length === 1 ? { table: p[0] } : null;
  }
  const cmd = input.cmd;
  if (typeof cmd === 'string' || cmd instanceof Uint8Array) {
    const parsed = tryJson(typeof cmd === 'string' ? Buffer.from(cmd, 'utf8') : cmd);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  }
  return cmd;
}

/** The names of {@link ConnectOptions}, checked complete by the compiler. */
const CONNECT_OPTIONS = optionNames<ConnectOptions>({ token: true, basic: true, maxReceiveMessageBytes: true, maxMessageBytes: true, connectTimeoutMs: true, signal: true });

/**
 * The error of a failed call: `Aborted` (the signal's reason its cause) when the caller's `signal`
 * aborted, however the abort surfaced (the call's CANCELLED status, the encoder's abort, the reason
 * itself); otherwise a LakeSoulError as it is, or the gRPC status' error ({@link fromGrpcError}).
 */
function callError(e: unknown, method: string, signal: AbortSignal | undefined): LakeSoulError {
  if (signal?.aborted && !(LakeSoulError.is(e, 'Aborted') && e.cause === signal.reason)) return abortedError(`Flight ${method}`, signal.reason);
  return fromGrpcError(e, method);
}

/** Arrow Flight client over gRPC (insecure transport). */
export class FlightClient {
  private token: string | undefined;

  private constructor(private readonly client: Client & Record<string, any>, private readonly maxMessageBytes: number, token?: string) {
    this.token = token;
  }

  /** Connects to `url` (`grpc://host:port`), optionally authenticating with Basic credentials. */
  static async connect(url: string, options: ConnectOptions = {}): Promise<FlightClient> {
    refuseUnknownOptions(options, CONNECT_OPTIONS, `FlightClient.connect to ${url}`);
    const { client: Ctor } = loadFlightProtocol();
    const raw = new Ctor(parseUrl(url), credentials.createInsecure(), {
      'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 64 * 1024 * 1024,
      'grpc.max_send_message_length': 256 * 1024 * 1024,
    }) as Client & Record<string, any>;
    const fc = new FlightClient(raw, options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, options.token);
    await new Promise<void>((resolve, reject) => {
      raw.waitForReady(Date.now() + (options.connectTimeoutMs ?? 10_000), (err) => {
        if (err) reject(new LakeSoulError('Io', `cannot connect to the Flight server at ${url}: ${err.message}`, { cause: err }));
        else resolve();
      });
    }).catch((e) => { raw.close(); throw e; });
    if (options.basic) {
      try {
        await fc.handshake(options.basic.username, options.basic.password, { signal: options.signal });
      } catch (e) {
        raw.close();
        throw e;
      }
    }
    return fc;
  }

  /** The bearer token in use (from `connect` or a handshake). */
  get bearerToken(): string | undefined {
    return this.token;
  }

  /** Closes the channel. */
  close(): void {
    this.client.close();
  }

  private metadata(extra?: Record<string, string>): Metadata {
    const md = new Metadata();
    if (this.token) md.set('authorization', `Bearer ${this.token}`);
    for (const [k, v] of Object.entries(extra ?? {})) md.set(k, v);
    return md;
  }

  private unary<Req, Res>(method: string, request: Req, options: CallOptions = {}): Promise<Res> {
    throwIfAborted(options.signal, `Flight ${method}`);
    return new Promise<Res>((resolve, reject) => {
      const call = this.client[method](request, this.metadata(), (err: ServiceError | null, res: Res) => {
        options.signal?.removeEventListener('abort', onAbort);
        if (err) reject(callError(err, method, options.signal));
        else resolve(res);
      });
      const onAbort = () => call.cancel();
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async collect<Res>(call: ClientReadableStream<Res>, method: string, signal?: AbortSignal): Promise<Res[]> {
    if (signal?.aborted) {
      // started already: a signal aborted before the call never fires its listener
      cancelQuietly(call);
      throwIfAborted(signal, `Flight ${method}`);
    }
    const onAbort = () => call.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    const out: Res[] = [];
    try {
      for await (const m of call as AsyncIterable<Res>) out.push(m);
    } catch (e) {
      throw callError(e, method, signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return out;
  }

  /**
   * Exchanges Basic credentials for a bearer token (the way pyarrow's `authenticate_basic_token`
   * does: `authorization: Basic ...` on Handshake, token in the `authorization` response header).
   * The token is then used for every call.
   */
  async handshake(username: string, password: string, options: CallOptions = {}): Promise<string | undefined> {
    const md = new Metadata();
    md.set('authorization', `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`);
    const call = this.client.Handshake(md) as ClientDuplexStream<HandshakeMessage, HandshakeMessage>;
    let header: string | undefined;
    call.on('metadata', (m: Metadata) => {
      const v = m.get('authorization')[0];
      if (v !== undefined) header = String(v);
    });
    call.write({ protocol_version: '0', payload: Buffer.alloc(0) });
    call.end();
    await this.collect(call, 'Handshake', options.signal);
    const m = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
    if (m) this.token = m[1];
    return this.token;
  }

  /** All flights (tables) the server lists; `criteria` is passed as the Criteria expression (a namespace here). */
  async listFlights(criteria?: string | Uint8Array, options: CallOptions = {}): Promise<FlightInfo[]> {
    if (criteria !== undefined && typeof criteria !== 'string' && !(criteria instanceof Uint8Array)) {
      throw new LakeSoulError('InvalidArgument', `listFlights(criteria, options): criteria must be a string or bytes, got ${criteria === null ? 'null' : typeof criteria} (options such as { signal } go second)`);
    }
    const expression = criteria === undefined ? Buffer.alloc(0) : Buffer.from(typeof criteria === 'string' ? Buffer.from(criteria, 'utf8') : criteria);
    const call = this.client.ListFlights({ expression }, this.metadata());
    return (await this.collect<FlightInfoMessage>(call, 'ListFlights', options.signal)).map(decodeInfo);
  }

  /** FlightInfo of a descriptor: schema, endpoints (one per split on lakesoul-ts servers), totals. */
  async getFlightInfo(descriptor: FlightDescriptorInput, options: CallOptions = {}): Promise<FlightInfo> {
    return decodeInfo(await this.unary<FlightDescriptorMessage, FlightInfoMessage>('GetFlightInfo', toDescriptor(descriptor), options));
  }

  /**
   * PollFlightInfo (long-running queries). lakesoul-ts servers answer UNIMPLEMENTED (an
   * `Unsupported` LakeSoulError): their FlightInfo is ready at once. Returns the FlightInfo a server
   * supporting it reports (null while none is available yet).
   */
  async pollFlightInfo(descriptor: FlightDescriptorInput, options: CallOptions = {}): Promise<FlightInfo | null> {
    const r = await this.unary<FlightDescriptorMessage, { info: FlightInfoMessage | null }>('PollFlightInfo', toDescriptor(descriptor), options);
    return r.info ? decodeInfo(r.info) : null;
  }

  /** Schema of a descriptor. */
  async getSchema(descriptor: FlightDescriptorInput, options: CallOptions = {}): Promise<Schema> {
    const r = await this.unary<FlightDescriptorMessage, SchemaResultMessage>('GetSchema', toDescriptor(descriptor), options);
    return schemaFromIpcMessage(r.schema);
  }

  /**
   * Reads one endpoint's stream. The returned iterable yields each batch as soon as its message
   * arrived (also the last one of a stream the server keeps open); stopping early cancels the call.
   * A message whose body is shorter than its header declares (cut by the server or the connection)
   * fails the read at once, naming the ticket and both lengths, rather than waiting for bytes that
   * never come. A call the server ends with an error status fails with that status' error, also when
   * its stream could not be decoded (a stream cut short): the decoding error is reported only for a
   * call the server ended OK, or whose status does not come within 2 s. A connection that stalls
   * without closing holds the read unless `idleTimeoutMs` bounds the wait for each message.
   */
  async *doGet(ticket: Uint8Array | FlightEndpoint, options: DoGetOptions = {}): AsyncGenerator<RecordBatch> {
    const bytes = ticket instanceof Uint8Array ? ticket : ticket.ticket;
    throwIfAborted(options.signal, 'Flight doGet');
    const idleMs = options.idleTimeoutMs;
    if (idleMs !== undefined && !(typeof idleMs === 'number' && idleMs > 0 && Number.isFinite(idleMs))) {
      throw new LakeSoulError('InvalidArgument', `doGet: idleTimeoutMs must be a positive number of milliseconds, got ${String(idleMs)}`);
    }
    const where = `Flight DoGet of ${describeTicket(bytes)}`;
    const call = this.client.DoGet({ ticket: Buffer.from(bytes) }, this.metadata()) as ClientReadableStream<FlightDataMessage>;
    const outcome = watchOutcome(call);
    const onAbort = () => call.cancel();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let finished = false;
    try {
      let failed = false;
      let failure: unknown;
      try {
        // not destroyed when the decoder gives up on it: its status still has to come (below)
        const messages = call.iterator({ destroyOnReturn: false }) as AsyncIterable<FlightDataMessage>;
        const decoded = await decodeFlightData(idleMs === undefined ? messages : idleLimited(messages, idleMs, where), where);
        for await (const batch of decoded.batches) yield batch;
      } catch (e) {
        failed = true;
        failure = e;
      }
      if (!failed) {
        // the stream's end: a call ended with an error status ends its stream too
        const error = await outcome.within(DOGET_STATUS_WAIT_MS);
        if (error) throw error;
        finished = error === null; // no status yet: the call is cancelled below
        return;
      }
      // the call's own error (its status, e.g. before the schema came); a stalled call has no status to wait for
      if (typeof (failure as Partial<ServiceError>)?.code === 'number' || failure instanceof IdleError) throw failure;
      // a decoding error: the server may have ended the call (its last message cut), with a status
      // that tells why; messages still buffered are dropped so that the status can come
      call.on('data', () => undefined);
      call.resume();
      throw (await outcome.within(DOGET_STATUS_WAIT_MS)) ?? failure;
    } catch (e) {
      throw callError(e, 'DoGet', options.signal);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      if (!finished) cancelQuietly(call);
    }
  }

  /**
   * Low level: the raw DoGet stream of FlightData messages (a Node Readable in object mode), for
   * callers that manage flow control themselves (`pause()`/`resume()`) or forward IPC messages as
   * they are. Decode it with `decodeFlightData`. Errors are gRPC errors (see `fromGrpcError`).
   */
  doGetMessages(ticket: Uint8Array | FlightEndpoint): ClientReadableStream<FlightDataMessage> {
    const bytes = ticket instanceof Uint8Array ? ticket : ticket.ticket;
    return this.client.DoGet({ ticket: Buffer.from(bytes) }, this.metadata()) as ClientReadableStream<FlightDataMessage>;
  }

  /** Reads every endpoint of `info` (in parallel, up to `concurrency`) into one Table. */
  async readAll(info: FlightInfo, options: ReadAllOptions = {}): Promise<Table> {
    const results: RecordBatch[][] = new Array(info.endpoints.length);
    let next = 0;
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= info.endpoints.length) return;
        const out: RecordBatch[] = [];
        for await (const b of this.doGet(info.endpoints[i], options)) out.push(b);
        results[i] = out;
      }
    };
    const concurrency = options.concurrency ?? 4;
    // NaN started no reader: the read returned an empty table
    if (!(Number.isSafeInteger(concurrency) && concurrency >= 1)) {
      throw new LakeSoulError('InvalidArgument', `readAll concurrency must be a positive integer, got ${typeof concurrency === 'string' ? `'${concurrency}'` : String(concurrency)}`, { code: 'INVALID_OPTION_VALUE', context: { option: 'concurrency' } });
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, info.endpoints.length) }, worker));
    const batches = results.flat();
    return batches.length ? new Table(batches) : new Table(info.schema);
  }

  /**
   * Writes `data` under `descriptor` (lakesoul-ts: CMD `{table, namespace?, mode}` or PATH) with
   * backpressure, and returns the server's PutResults. The stream's end is always declared, so a
   * failure commits nothing: a Table, a RecordBatch or an array of batches is sent with its row count
   * (`expectedRows`); any other iterable is written in a transaction (begin, DoPut, commit; rolled back
   * when the iterable throws or the call fails), whose commit result is returned. A descriptor that
   * already names a `transaction` or `expectedRows` is sent as given. Aborting cancels the stream.
   */
  async doPut(
    descriptor: FlightDescriptorInput,
    data: Table | RecordBatch | AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
    options: CallOptions & { schema?: Schema } = {},
  ): Promise<FlightPutResult> {
    throwIfAborted(options.signal, 'Flight doPut');
    const cmd = commandOf(descriptor);
    if (cmd === null || cmd.transaction !== undefined || cmd.expectedRows !== undefined) return this.putStream(toDescriptor(descriptor), data, options);
    const counted = data instanceof Table ? data.numRows : data instanceof RecordBatch ? data.numRows
      : Array.isArray(data) ? (data as RecordBatch[]).reduce((n, b) => n + b.numRows, 0) : undefined;
    // A command the server will refuse anyway (too deep to re-encode here) goes as given, for the server to answer.
    const extended = (extra: Record<string, unknown>): FlightDescriptorMessage | null => {
      try {
        return toDescriptor({ cmd: { ...cmd, ...extra } });
      } catch {
        return null;
      }
    };
    if (extended({}) === null) return this.putStream(toDescriptor(descriptor), data, options);
    if (counted !== undefined) return this.putStream(extended({ expectedRows: counted })!, data, options);
    const begun = await this.doActionJson<{ transaction: string }>('begin', { table: cmd.table, ...(cmd.namespace !== undefined ? { namespace: cmd.namespace } : {}) }, options);
    try {
      await this.putStream(extended({ transaction: begun.transaction })!, data, options);
      const committed = await this.doAction('commit', { transaction: begun.transaction }, options);
      return { messages: committed, json: tryJson(committed[0]) };
    } catch (e) {
      // Best effort: a transaction that is not rolled back expires on the server anyway.
      await this.doAction('rollback', { transaction: begun.transaction }).catch(() => undefined);
      throw e;
    }
  }

  /** One DoPut stream of `data` under `descriptor`, sent as given. */
  private async putStream(
    descriptor: FlightDescriptorMessage,
    data: Table | RecordBatch | AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
    options: CallOptions & { schema?: Schema },
  ): Promise<FlightPutResult> {
    throwIfAborted(options.signal, 'Flight doPut');
    let schema = options.schema;
    let batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>;
    if (data instanceof Table) { schema ??= data.schema; batches = data.batches; }
    else if (data instanceof RecordBatch) { schema ??= data.schema; batches = [data]; }
    else batches = data;
    if (!schema) {
      // peek the first batch for the schema
      const it = (Symbol.asyncIterator in batches ? (batches as AsyncIterable<RecordBatch>)[Symbol.asyncIterator]() : (batches as Iterable<RecordBatch>)[Symbol.iterator]()) as AsyncIterator<RecordBatch> | Iterator<RecordBatch>;
      const first = await it.next();
      if (first.done) throw new LakeSoulError('InvalidArgument', 'doPut of an empty stream needs options.schema');
      schema = first.value.schema;
      batches = (async function* () {
        yield first.value;
        for (;;) { const n = await it.next(); if (n.done) return; yield n.value; }
      })();
    }
    const call = this.client.DoPut(this.metadata()) as ClientDuplexStream<FlightDataMessage, PutResultMessage>;
    const onAbort = () => call.cancel();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const responses: Promise<PutResultMessage[]> = this.collect(call, 'DoPut');
    // keep the rejection observed while writing; it is awaited below
    responses.catch(() => undefined);
    // The server may end the call while `data` has nothing to give (a stalled producer is ended after
    // its idle time): its answer, an error, must not wait for the next batch.
    const ended = responses.then(() => new Promise<never>(() => {}));
    ended.catch(() => undefined);
    try {
      const messages = recordBatchesToFlightData(schema, batches, { descriptor, maxMessageBytes: this.maxMessageBytes, signal: options.signal })[Symbol.asyncIterator]();
      for (;;) {
        const next = await Promise.race([messages.next(), ended]);
        if (next.done) break;
        const msg = next.value;
        if (!call.write(msg)) {
          await new Promise<void>((resolve, reject) => {
            const done = () => { call.off('drain', done); call.off('error', fail); resolve(); };
            const fail = (e: unknown) => { call.off('drain', done); reject(e); };
            call.once('drain', done);
            call.once('error', fail);
          });
        }
      }
      call.end();
    } catch (e) {
      cancelQuietly(call);
      await responses.catch(() => undefined);
      throw callError(e, 'DoPut', options.signal);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    const messages = (await responses).map((r) => r.app_metadata ?? Buffer.alloc(0));
    return { messages, json: tryJson(messages[0]) };
  }

  /** Runs an action; returns each Result body. */
  async doAction(type: string, body: Uint8Array | string | Record<string, unknown> = {}, options: CallOptions = {}): Promise<Uint8Array[]> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body instanceof Uint8Array ? Buffer.from(body) : Buffer.from(JSON.stringify(body), 'utf8');
    const call = this.client.DoAction({ type, body: bytes }, this.metadata());
    return (await this.collect<ResultMessage>(call, `DoAction(${type.length > 64 ? `${type.slice(0, 64)}...` : type})`, options.signal)).map((r) => r.body);
  }

  /** Runs an action whose single result is JSON, and parses it. */
  async doActionJson<T = unknown>(type: string, body: Uint8Array | string | Record<string, unknown> = {}, options: CallOptions = {}): Promise<T> {
    const results = await this.doAction(type, body, options);
    return tryJson(results[0]) as T;
  }

  /** The actions the server offers. */
  async listActions(options: CallOptions = {}): Promise<ActionTypeMessage[]> {
    const call = this.client.ListActions({}, this.metadata());
    return this.collect<ActionTypeMessage>(call, 'ListActions', options.signal);
  }
}
