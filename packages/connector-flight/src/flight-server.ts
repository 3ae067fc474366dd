/**
 * An Arrow Flight server over a lakehouse: tables are flights, splits are endpoints, tickets are
 * signed splits. See docs/flight.md for the protocol details and the descriptor commands.
 */
import {
  Metadata, Server, ServerCredentials, ServerInterceptingCall,
  type sendUnaryData, type ServerInterceptor, type ServerDuplexStream, type ServerUnaryCall, type ServerWritableStream, type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Readable } from 'node:stream';
import { availableParallelism } from 'node:os';
import type { RecordBatch, Schema } from 'apache-arrow';
import { FailedLoginLimiter, LakeSoulError, optionNames, refuseUnknownOptions } from '@lakesoul-ts/meta';
import type { FailedLoginLimiterOptions, TableInfo } from '@lakesoul-ts/meta';
import { type Lakehouse, type LakeSoulTable, type ScanPlan, type ScanPlanJSON, type Split, type StoreRegistry } from '@lakesoul-ts/io';
import {
  loadFlightProtocol,
  withPreEncodedFlightData,
  type ActionMessage, type ActionTypeMessage, type CriteriaMessage, type FlightDataMessage, type FlightDescriptorMessage,
  type FlightEndpointMessage, type FlightInfoMessage, type HandshakeMessage, type PutResultMessage, type ResultMessage,
  type SchemaResultMessage, type TicketMessage,
} from './flight-proto.js';
import { DEFAULT_MAX_MESSAGE_BYTES, decodeFlightData, recordBatchesToFlightFrames, schemaToIpcMessage } from './ipc-framing.js';
import { doGetFrames, type DoGetRead } from './doget-read.js';
import { withResetPartitions } from './reset-partitions.js';
import { DoGetWorkers, doGetWorkerScript } from './doget-workers.js';
import { FrameBuffers } from './frame-buffers.js';
import { sendMessagesInPlace } from './grpc-send.js';
import { HmacTicketSigner } from './hmac-ticket-signer.js';
import { AUTH_OFF_TOKEN, BearerAuth, type Principal } from './bearer-auth.js';
import { limitReceivedMessages } from './grpc-receive-limit.js';
import { limitConnections } from './grpc-connection-limit.js';
import { toGrpcStatus } from './grpc-status.js';
import { BEGIN_COMMAND_KEYS, DEFAULT_NAMESPACE, parseBeginCommand, parseReadCommand, parseWriteCommand, scanOptionsOf, streamName, type FlightReadCommand, type FlightWriteCommand } from './flight-command.js';
import { parseCreateTableRequest } from './create-table-request.js';
import { jsonBytes, toJsonSafe } from './json-safe.js';
import { FlightTransactions } from './flight-transactions.js';
import { ByteBudget, type BudgetReservation } from './byte-budget.js';
import { doGetReservation } from './doget-memory.js';
import { FLIGHT_SQL_ACTIONS, FlightSqlService } from './flight-sql/flight-sql-service.js';
import {
  MAX_ACTION_BODY_BYTES, MAX_ACTION_TYPE_CHARS, MAX_COMMAND_BYTES, MAX_TICKET_BYTES, clientName, limitError, parseClientJson, quote, refuseUnknownKeys,
} from './flight-limits.js';

/** Options of {@link createFlightServer}. */
export interface CreateFlightServerOptions {
  /** The lakehouse whose tables are served. */
  lakehouse: Lakehouse;
  /** Stores to read splits from (default: the lakehouse's). */
  stores?: StoreRegistry;
  /** Secret signing tickets (and issued bearer tokens); the same on every replica. At least 16 bytes. */
  ticketSecret: string | Uint8Array;
  /** Ticket lifetime in ms (default 1 hour); endpoints carry the expiration time. */
  ticketTtlMs?: number;
  /** Bearer tokens accepted on every call. Auth is on when tokens or users are configured. */
  tokens?: string[];
  /** Basic credentials (user -> password) exchanged for a bearer token by Handshake. */
  users?: Record<string, string>;
  /** Lifetime of tokens issued by Handshake (default 12 hours). */
  tokenTtlMs?: number;
  /**
   * Bound on credential guessing (default: 10 failed logins in a row per client host, then one per
   * 6 s; the same wrong credential sent again counts once): a host past it gets RESOURCE_EXHAUSTED
   * for passwords and for configured tokens shorter than `MIN_UNGUESSABLE_TOKEN_CHARS` (32), right
   * or wrong; tokens issued by Handshake and longer configured tokens are still accepted from it
   * (docs/security.md "Failed logins").
   */
  failedLogins?: FailedLoginLimiterOptions;
  /** Location URI put on endpoints (e.g. `grpc://host:port` of a load balancer); default none = "this service". */
  location?: string;
  /**
   * Where the server writes what its clients are not told (default: a line on stderr): a catalog
   * failure naming the catalog database, whose client gets only "the catalog is unavailable (retry
   * later)" (docs/flight.md "Errors"). The same line is written at most once per 10 s.
   */
  log?: (message: string) => void;
  /** Bound of one outgoing FlightData message (default 4 MiB, the gRPC clients' default receive limit). */
  maxMessageBytes?: number;
  /** Bound of one incoming message (default 64 MiB). */
  maxReceiveMessageBytes?: number;
  /** Bytes a DoGet may have written but not yet flushed to the client before it stops reading (default 2 x maxMessageBytes). */
  maxBufferedBytes?: number;
  /** Rows per batch read from storage (default: the reader's). */
  batchSize?: number;
  /** Read-ahead bound of the split reader in bytes (default: the reader's). */
  prefetchBytes?: number;
  /** Time `close()` lets running calls finish before cancelling them (default 10 s). */
  shutdownTimeoutMs?: number;
  /** Idle time after which an open write transaction is rolled back and its staged files deleted (default 10 min). */
  transactionTtlMs?: number;
  /** Write transactions open at once (default 256); `begin` beyond it is RESOURCE_EXHAUSTED. */
  maxOpenTransactions?: number;
  /**
   * Write transactions one caller holds open at once (default 64): a caller is the authenticated user
   * (or static token), or without auth the client's host. `begin` beyond it is RESOURCE_EXHAUSTED.
   */
  maxOpenTransactionsPerCaller?: number;
  /**
   * DoGet and DoPut streams running or waiting for memory at once (default 64); one more is answered
   * RESOURCE_EXHAUSTED at once.
   */
  maxConcurrentStreams?: number;
  /**
   * Server-wide byte budget shared by all DoGet and DoPut streams (default 1 GiB): each stream reserves
   * its estimated peak memory before it reads (a DoGet: its data decoded, estimated from the Parquet
   * footers) and waits in line while the budget is spent. The process holds more than the budget (V8's
   * garbage and the C allocator's free memory per thread): see docs/flight.md "Memory" for the
   * estimate and the margin measured.
   */
  memoryBudgetBytes?: number;
  /** How long a stream waits for its reservation before RESOURCE_EXHAUSTED (default 60 s). */
  memoryWaitMs?: number;
  /**
   * Arrow bytes a DoPut buffers before writing a file (default 32 MiB; files roll at this size). At
   * most a quarter of the writers' share of `memoryBudgetBytes` is used (no less than
   * {@link MIN_PUT_BUFFER_BYTES}), so that a writer's peak fits its share.
   */
  putBufferBytes?: number;
  /**
   * How long a DoPut may go without a message before it fails with nothing committed (default 30 s):
   * a stalled producer would otherwise keep its reservation, and its stream, for as long as it likes.
   */
  putIdleMs?: number;
  /**
   * A DoGet whose client has taken no message for this long (ms) while other streams wait for the
   * memory budget is ended with a retryable RESOURCE_EXHAUSTED, giving its reservation back (default
   * {@link DEFAULT_GET_IDLE_MS}, or a third of `memoryWaitMs` when that is shorter: the waiting streams
   * must get the memory before they give up). So is one idle this long when a stream would be refused
   * for `maxConcurrentStreams` (the longest idle first; the new stream takes its slot). A paused
   * reader nobody waits behind keeps its stream.
   */
  getIdleMs?: number;
  /**
   * Worker threads DoGet streams are read, merged and serialized on (default: the available
   * parallelism; 0 = on the server's thread). A stream whose files the workers cannot reach (a
   * `memory://` store, a registered store or a `wrap` of the registry) runs on the server's thread.
   */
  doGetThreads?: number;
  /**
   * DoGet streams that read on the server's thread at once before further ones go to the workers
   * (default 1: a lone stream gets the server's thread and the Parquet pool, the lowest latency;
   * 0 = every stream the workers can reach goes to them).
   */
  maxDoGetsOnServerThread?: number;
  /**
   * Start the DoGet worker threads when the server starts listening instead of when streams first
   * need them (default false). A worker takes ~0.15 s to load its modules: from a fresh server, a
   * client reading 8 endpoints at once waited 0.41-0.44 s for its first read against 0.12 s later,
   * 0.19-0.21 s with the workers started at listen. Idle workers hold ~25 MiB each and never keep
   * the process alive. `lakesoul-ts serve` starts them.
   */
  startDoGetWorkersAtListen?: boolean;
  /**
   * Connections one client host holds open at once (default {@link DEFAULT_MAX_CONNECTIONS_PER_HOST});
   * one more is closed as it is accepted. Without a bound, one client holding connections open (even
   * without sending a byte) took the server to its open-file limit, and every other client was refused.
   */
  maxConnectionsPerHost?: number;
  /** Connections all clients hold open at once (default {@link DEFAULT_MAX_CONNECTIONS}); one more is closed as it is accepted. */
  maxConnections?: number;
  /**
   * A connection with no call running for this long (ms) is closed (default
   * {@link DEFAULT_CONNECTION_IDLE_MS}), counted from its start for one that never makes a call. gRPC
   * clients (pyarrow's, this package's) connect again for their next call.
   */
  connectionIdleMs?: number;
}

/** Default of {@link CreateFlightServerOptions.maxConnectionsPerHost}. */
export const DEFAULT_MAX_CONNECTIONS_PER_HOST = 256;
/** Default of {@link CreateFlightServerOptions.maxConnections}. */
export const DEFAULT_MAX_CONNECTIONS = 4096;
/** Default of {@link CreateFlightServerOptions.connectionIdleMs}: 60 s. */
export const DEFAULT_CONNECTION_IDLE_MS = 60_000;

/** Default of {@link CreateFlightServerOptions.maxConcurrentStreams}. */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 64;
/** Default of {@link CreateFlightServerOptions.memoryBudgetBytes}: 1 GiB. */
export const DEFAULT_MEMORY_BUDGET_BYTES = 1024 * 1024 * 1024;
/** Default of {@link CreateFlightServerOptions.putBufferBytes}: 32 MiB. */
export const DEFAULT_PUT_BUFFER_BYTES = 32 * 1024 * 1024;
/** How long a stream that ended an idle DoGet for its slot waits for the slot to be given back. */
const SLOT_HANDOVER_MS = 2_000;

/** What a DoGet's writes track of its client (see `writeBounded`). */
interface WriteState {
  /** Bytes written and not yet taken by the socket. */
  pending: number;
  /** Called when the socket takes a message. */
  wake: (() => void) | null;
  /** The stream, as errors name it. */
  what: string;
  /** True for a stream holding a stream slot. */
  holdsSlot: boolean;
  /** Why the stream was ended from outside (its slot given to a refused stream). */
  ended: LakeSoulError | null;
}

/** A DoGet whose client takes nothing now. */
interface StalledGet {
  /** Since when (ms since the epoch). */
  since: number;
  what: string;
  /** Ends the stream with `e`. */
  end: (e: LakeSoulError) => void;
}

/** The same line is logged at most once per this many ms (see {@link CreateFlightServerOptions.log}). */
const LOG_REPEAT_MS = 10_000;
/** Default of {@link CreateFlightServerOptions.getIdleMs}: 20 s. */
export const DEFAULT_GET_IDLE_MS = 20_000;
/** What a DoPut reserves when it starts (1 MiB); it reserves more as its data arrives. */
export const PUT_FIRST_RESERVATION_BYTES = 1024 * 1024;
/** Smallest file buffer of a DoPut when a small memory budget shrinks `putBufferBytes` (64 KiB). */
export const MIN_PUT_BUFFER_BYTES = 64 * 1024;
/** Default of {@link CreateFlightServerOptions.putIdleMs}: 30 s. */
export const DEFAULT_PUT_IDLE_MS = 30_000;
/**
 * Share of the memory budget DoPut streams may hold together: the rest is always left to reads, so
 * producers that stall (or many writers) cannot lock every reader out.
 */
export const PUT_BUDGET_SHARE = 0.5;
/**
 * Handshakes without valid credentials in their headers (auth off, or a token only in the payload)
 * running at once, server-wide; one more is RESOURCE_EXHAUSTED. Handshakes whose headers carry valid
 * credentials never wait behind them (see {@link MAX_CONCURRENT_AUTHENTICATED_HANDSHAKES}).
 */
export const MAX_CONCURRENT_HANDSHAKES = 8;
/** Of the {@link MAX_CONCURRENT_HANDSHAKES}, how many may come from one client host. */
export const MAX_HANDSHAKES_PER_HOST = 4;
/** Time a Handshake without valid credentials in its headers has to complete (pyarrow's takes milliseconds). */
export const UNAUTHENTICATED_HANDSHAKE_TIMEOUT_MS = 3_000;
/**
 * Handshakes whose `authorization` header carried valid credentials (checked before the stream is
 * read) running at once; one more is RESOURCE_EXHAUSTED.
 */
export const MAX_CONCURRENT_AUTHENTICATED_HANDSHAKES = 64;
/** Largest Handshake payload accepted: it carries a token. */
export const MAX_HANDSHAKE_PAYLOAD_BYTES = 64 * 1024;
/** Time a Handshake with valid credentials in its headers has to complete. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/**
 * Bytes of one request message of each Flight method but DoPut and DoExchange (which take
 * `maxReceiveMessageBytes`): a message over it is refused from its length prefix, before any of it is
 * received (INVALID_ARGUMENT, code `LIMIT_EXCEEDED`). Each is the largest input the method accepts
 * (a CMD, a ticket, an action body, a handshake payload) with room for the message around it, so
 * inputs a little over their own limit still get that limit's error.
 */
export const MAX_REQUEST_MESSAGE_BYTES: Readonly<Record<string, number>> = {
  Handshake: MAX_HANDSHAKE_PAYLOAD_BYTES + 64 * 1024,
  ListFlights: 64 * 1024,
  GetFlightInfo: 4 * MAX_COMMAND_BYTES,
  PollFlightInfo: 4 * MAX_COMMAND_BYTES,
  GetSchema: 4 * MAX_COMMAND_BYTES,
  DoGet: MAX_TICKET_BYTES + 64 * 1024,
  DoAction: MAX_ACTION_BODY_BYTES + 64 * 1024,
  ListActions: 64 * 1024,
};
/** What each method's request holds, for the message refusing one over {@link MAX_REQUEST_MESSAGE_BYTES}. */
const REQUEST_CONTENT: Readonly<Record<string, string>> = {
  Handshake: `a handshake carries a token (at most ${MAX_HANDSHAKE_PAYLOAD_BYTES} bytes)`,
  ListFlights: 'its criteria name a namespace',
  GetFlightInfo: `a descriptor's CMD holds at most ${MAX_COMMAND_BYTES} bytes`,
  PollFlightInfo: `a descriptor's CMD holds at most ${MAX_COMMAND_BYTES} bytes`,
  GetSchema: `a descriptor's CMD holds at most ${MAX_COMMAND_BYTES} bytes`,
  DoGet: `a ticket holds at most ${MAX_TICKET_BYTES} bytes`,
  DoAction: `an action body holds at most ${MAX_ACTION_BODY_BYTES} bytes`,
  ListActions: 'it takes no argument',
};

/** The most commits a `history` action lists snapshots for. */
const MAX_HISTORY_SNAPSHOT_COMMITS = 1000;

/** The most commit ids the snapshots of one `history` action's reply list in all. */
const MAX_HISTORY_SNAPSHOT_IDS = 1_000_000;

/** What a DoGet of a row over the single-row message bound tells the operator to raise. */
const ROW_BOUND_HINT = "raise the server's maxReceiveMessageBytes or maxMessageBytes (createFlightServer options; `lakesoul-ts serve --max-message-size <MiB>`), the largest single row a DoGet sends";

/** Counters of a running server (for tests and monitoring). */
export interface FlightServerStats {
  doGetCalls: number;
  /** DoGet streams read on the DoGet worker threads (the others ran on the server's thread). */
  doGetOnWorkers: number;
  doPutCalls: number;
  /** Highest number of bytes any DoGet had written but not yet flushed. */
  peakBufferedBytes: number;
  /** Messages produced by DoGet calls. */
  messagesSent: number;
  /**
   * Message buffers used again: handed back, once gRPC had sent their message, to this thread's
   * serialization or to the DoGet worker that wrote them.
   */
  messageBuffersReused: number;
  /** DoGet and DoPut streams running or waiting for memory now. */
  activeStreams: number;
  /** Of those, the streams waiting for their memory reservation now (holding no data). */
  waitingStreams: number;
  /** DoGet streams ended because their client took nothing for `getIdleMs` while others waited for memory or a stream slot. */
  doGetsEndedIdle: number;
  /** Streams refused with RESOURCE_EXHAUSTED (stream limit or memory wait). */
  streamsRefused: number;
  /** Highest number of bytes reserved from the memory budget at once. */
  peakReservedBytes: number;
  /** Largest reservation of a single DoGet (its estimated peak: docs/flight.md "Memory"). */
  peakDoGetReservationBytes: number;
  /** Connections closed as they were accepted, for `maxConnectionsPerHost` or `maxConnections`. */
  connectionsRefused: number;
}

/**
 * The signed content of a ticket: the plan restricted to one split, or (a Flight SQL statement with
 * LIMIT) several splits read in order until `limit` rows.
 */
interface TicketPayload {
  v: 1;
  plan: ScanPlanJSON;
  limit?: number;
}

/** Action types served by DoAction. */
export const FLIGHT_ACTIONS: readonly ActionTypeMessage[] = [
  {
    type: 'create-table',
    description: 'Create a table. Body: JSON {name, namespace?, schema (Arrow-Java JSON or [{name,type,nullable}]) | schemaIpc (base64), rangePartitions?, primaryKeys?, hashBucketNum?, cdcColumn?, properties?}. Result: JSON {tableId, namespace, name, path}.',
  },
  { type: 'compact', description: 'Compact a table. Body: JSON {table, namespace?}. Result: JSON of the compaction outcome.' },
  {
    type: 'history',
    description: `Commit history of a table. Body: JSON {table, namespace?, partition?, commits?, snapshots?}. Result: JSON list of partition versions {partitionDesc, version, commitOp, timestamp}; with "snapshots": true each also lists the commit ids in force (at most the newest ${MAX_HISTORY_SNAPSHOT_COMMITS} commits: "commits" is required then).`,
  },
  {
    type: 'begin',
    description: 'Begin a write transaction on a table. Body: JSON {table, namespace?, mode? ("append" | "upsert" | "overwrite"), replacePartitions?, replaceWhere? (overwrite only)}. Result: JSON {transaction, expiresAt, ttlMs, mode?, replaces?}. DoPut streams with CMD {table, transaction} stage into it; nothing is visible before commit, which for mode overwrite replaces the table (or the chosen partitions) with what was staged.',
  },
  {
    type: 'commit',
    description: 'Commit a write transaction as one catalog commit. Body: JSON {transaction, expectedRows?, streams?}. Result: JSON {versions, rows, files, streams}. Refused (and rolled back) when one of its DoPut streams failed or expectedRows differs. streams: the names of the DoPut streams taken (a DoPut\'s "stream"); other named streams are dropped.',
  },
  { type: 'rollback', description: 'Roll back a write transaction, deleting what it staged. Body: JSON {transaction}. Result: JSON {streams, rows}.' },
];

/** Keys each JSON action body may hold (create-table is checked by its own parser). */
const ACTION_KEYS: Record<string, readonly string[]> = {
  compact: ['table', 'namespace'],
  history: ['table', 'namespace', 'partition', 'commits', 'snapshots'],
  begin: BEGIN_COMMAND_KEYS,
  commit: ['transaction', 'expectedRows', 'streams'],
  rollback: ['transaction'],
};

type Handler = UntypedServiceImplementation[string];


/**
 * Who a call comes from, for per-caller bounds: the authenticated user (or static token, by its
 * position: `static token 2`), or without
 * auth the client's host (grpc-js's peer `10.0.0.5:51234`, `::1:51234` or `::ffff:10.0.0.5:51234`
 * -> `host 10.0.0.5`, `host ::1`).
 */
function callerOf(principal: Principal, peer: string): string {
  // a static token is named apart from users: a Basic user called 'token 1' is another caller
  if (principal.via === 'token') return `static ${principal.user}`;
  if (principal.via === 'basic') return `user '${principal.user}'`;
  return `host ${hostOfPeer(peer)}`;
}

/** The host of a grpc-js peer (`10.0.0.5:51234`, `::1:51234`, `::ffff:10.0.0.5:51234` -> `10.0.0.5`, `::1`). */
function hostOfPeer(peer: string): string {
  return peer.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
}

/** The names of {@link CreateFlightServerOptions}, checked complete by the compiler. */
const SERVER_OPTIONS = optionNames<CreateFlightServerOptions>({
  lakehouse: true, stores: true, ticketSecret: true, ticketTtlMs: true, tokens: true, users: true, tokenTtlMs: true, failedLogins: true, location: true, log: true,
  maxMessageBytes: true, maxReceiveMessageBytes: true, maxBufferedBytes: true, batchSize: true, prefetchBytes: true,
  shutdownTimeoutMs: true, transactionTtlMs: true, maxOpenTransactions: true, maxOpenTransactionsPerCaller: true,
  maxConcurrentStreams: true, memoryBudgetBytes: true, memoryWaitMs: true, putBufferBytes: true, putIdleMs: true, getIdleMs: true, doGetThreads: true,
  maxDoGetsOnServerThread: true, startDoGetWorkersAtListen: true, maxConnectionsPerHost: true, maxConnections: true, connectionIdleMs: true,
});

/** The numeric options of {@link CreateFlightServerOptions} checked at creation, with their smallest values. */
const SIZE_OPTIONS = [
  ['maxMessageBytes', 1], ['maxReceiveMessageBytes', 1], ['maxBufferedBytes', 1], ['memoryBudgetBytes', 1], ['putBufferBytes', 1],
  ['batchSize', 1], ['prefetchBytes', 0], ['maxConcurrentStreams', 1], ['maxConnectionsPerHost', 1], ['maxConnections', 1], ['connectionIdleMs', 1],
] as const;

/**
 * The partitions an incremental read of `cmd` must have its client replace (read whole as of its
 * end; see `reset-partitions.ts`); undefined for other reads (the plan is copied only for these).
 */
function resetPartitionsOf(cmd: FlightReadCommand, plan: ScanPlan): string[] | undefined {
  return cmd.incremental === undefined ? undefined : plan.toJSON().resetPartitions ?? [];
}

function isPkTable(info: TableInfo): boolean {
  return info.primaryKeys.length > 0;
}

function parseJsonBody(body: Uint8Array, action: string): Record<string, unknown> {
  const example = action === 'commit' || action === 'rollback' ? '{"transaction": "..."}' : '{"table": "...", "namespace": "..."}';
  const v = body.byteLength === 0 ? {} : parseClientJson(body, `action ${action} body`, MAX_ACTION_BODY_BYTES, example);
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new LakeSoulError('InvalidArgument', `action ${action}: body must be a JSON object like ${example}`);
  refuseUnknownKeys(v as Record<string, unknown>, ACTION_KEYS[action] ?? [], `action ${action} body`);
  return v as Record<string, unknown>;
}

/** `partition` and `commits` of a history action's body (`snapshots` needs `commits`, bounded). */
function parseHistoryOptions(b: Record<string, unknown>): { partitionDesc?: string; commits?: number } {
  const out: { partitionDesc?: string; commits?: number } = {};
  if (b.partition !== undefined && b.partition !== null) {
    if (typeof b.partition !== 'string') throw new LakeSoulError('InvalidArgument', `action history: "partition" must be a partition description like "date=2024-01-01", got ${quote(b.partition)}`);
    out.partitionDesc = b.partition;
  }
  if (b.commits !== undefined && b.commits !== null) {
    if (!Number.isSafeInteger(b.commits) || (b.commits as number) < 1) throw new LakeSoulError('InvalidArgument', `action history: "commits" must be a positive integer (the newest commits to list), got ${quote(b.commits)}`);
    out.commits = b.commits as number;
  }
  if (b.snapshots !== undefined && b.snapshots !== null && typeof b.snapshots !== 'boolean') {
    throw new LakeSoulError('InvalidArgument', `action history: "snapshots" must be true or false, got ${quote(b.snapshots)}`);
  }
  if (b.snapshots === true && !(out.commits !== undefined && out.commits <= MAX_HISTORY_SNAPSHOT_COMMITS)) {
    throw new LakeSoulError('InvalidArgument', `action history: "snapshots": true lists every commit id in force at each version, so it needs "commits" of at most ${MAX_HISTORY_SNAPSHOT_COMMITS} (the newest commits to list)${out.commits === undefined ? '' : `, got ${out.commits}`}`, { code: 'LIMIT_EXCEEDED' });
  }
  return out;
}

/**
 * Arrow Flight server; create it with {@link createFlightServer}, then `listen()`. Tickets are
 * self-contained, so several servers with the same `ticketSecret` are interchangeable replicas.
 */
export class FlightServer {
  /** Counters; see {@link FlightServerStats}. */
  readonly stats: FlightServerStats = { doGetCalls: 0, doGetOnWorkers: 0, doPutCalls: 0, peakBufferedBytes: 0, messagesSent: 0, messageBuffersReused: 0, activeStreams: 0, waitingStreams: 0, doGetsEndedIdle: 0, streamsRefused: 0, peakReservedBytes: 0, peakDoGetReservationBytes: 0, connectionsRefused: 0 };
  private readonly server: Server;
  private readonly signer: HmacTicketSigner;
  private readonly auth: BearerAuth;
  /** Failed logins per client host (wrong passwords and tokens). */
  private readonly logins: FailedLoginLimiter;
  private readonly lakehouse: Lakehouse;
  private readonly stores: StoreRegistry;
  private readonly maxMessageBytes: number;
  /** Bound of a message holding a single row over maxMessageBytes (see the constructor). */
  private readonly maxRowMessageBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly options: CreateFlightServerOptions;
  private readonly transactions: FlightTransactions;
  private readonly budget: ByteBudget;
  /** The part of {@link budget} DoPut streams may hold together ({@link PUT_BUDGET_SHARE}). */
  private readonly putBudget: ByteBudget;
  /** Handshakes without valid credentials in their headers running now, in all and per client host. */
  private handshakes = 0;
  private readonly handshakesByHost = new Map<string, number>();
  /** Handshakes whose headers carried valid credentials running now. */
  private authenticatedHandshakes = 0;
  private readonly maxReceive: number;
  private readonly maxStreams: number;
  private readonly sql: FlightSqlService;
  private readonly doGetWorkers: DoGetWorkers | null;
  /** Buffers of messages serialized on this thread, used again once gRPC has sent them. */
  private readonly frameBuffers = new FrameBuffers();
  /** DoGet streams reading on this thread now, and how many may (see `maxDoGetsOnServerThread`). */
  private doGetsHere = 0;
  private readonly maxDoGetsHere: number;
  /** DoGets in slots whose client is not taking messages now (see {@link endIdleGetForSlot}). */
  private readonly stalledGets = new Set<StalledGet>();
  /** Streams refused a slot waiting for the one an ended idle DoGet gives back. */
  private readonly slotWaiters = new Set<() => void>();
  private port: number | null = null;
  private host = '127.0.0.1';
  private closing: Promise<void> | null = null;
  /** Messages logged lately, and when (see {@link log}). */
  private readonly logged = new Map<string, number>();

  constructor(options: CreateFlightServerOptions) {
    // a misspelt `tokens` or `users` would start a server without auth
    refuseUnknownOptions(options, SERVER_OPTIONS, 'createFlightServer');
    if (!options.lakehouse) throw new LakeSoulError('InvalidArgument', 'createFlightServer needs a lakehouse');
    // NaN or text here made a DoPut cut files of no rows and commit none of its rows
    for (const [key, min] of SIZE_OPTIONS) {
      const v: unknown = options[key];
      if (v !== undefined && !(Number.isSafeInteger(v) && (v as number) >= min)) {
        throw new LakeSoulError('InvalidArgument', `createFlightServer: ${key} must be a whole number of at least ${min}, got ${typeof v === 'string' ? `'${v}'` : String(v)}`, {
          code: 'INVALID_OPTION_VALUE', context: { option: key },
        });
      }
    }
    this.options = options;
    this.lakehouse = options.lakehouse;
    const stores = options.stores ?? (options.lakehouse as unknown as { stores?: StoreRegistry }).stores;
    if (!stores) throw new LakeSoulError('InvalidArgument', 'createFlightServer needs stores (the lakehouse exposes none)');
    this.stores = stores;
    this.signer = new HmacTicketSigner({ secret: options.ticketSecret, ttlMs: options.ticketTtlMs });
    this.auth = new BearerAuth({ secret: options.ticketSecret, tokens: options.tokens, users: options.users, tokenTtlMs: options.tokenTtlMs });
    this.logins = new FailedLoginLimiter(options.failedLogins);
    this.transactions = new FlightTransactions({ ttlMs: options.transactionTtlMs, maxOpen: options.maxOpenTransactions, maxOpenPerCaller: options.maxOpenTransactionsPerCaller });
    this.budget = new ByteBudget(options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES);
    this.putBudget = new ByteBudget(this.budget.capacity * PUT_BUDGET_SHARE);
    this.maxStreams = options.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 2 * this.maxMessageBytes;
    const maxReceive = options.maxReceiveMessageBytes ?? 64 * 1024 * 1024;
    this.maxReceive = maxReceive;
    // A single row over maxMessageBytes is sent in one message of its own, up to the largest message
    // the server receives: a row a DoPut could write is read back (pyarrow's client, like this
    // package's, receives such messages; a client with a 4 MiB receive limit needs it raised).
    this.maxRowMessageBytes = Math.max(this.maxMessageBytes, maxReceive);
    this.server = new Server({
      'grpc.max_connection_idle_ms': options.connectionIdleMs ?? DEFAULT_CONNECTION_IDLE_MS,
      'grpc.max_receive_message_length': maxReceive,
      'grpc.max_send_message_length': Math.max(this.maxRowMessageBytes + 1024 * 1024, 4 * 1024 * 1024),
      interceptors: [this.admission],
    });
    this.sql = new FlightSqlService({
      lakehouse: this.lakehouse,
      location: options.location,
      readInfo: async (read, limit, descriptor, signal) => this.readInfo(read, descriptor, signal, limit),
      readSchema: async (read, signal) => (await this.plan(read, signal)).plan.schema,
    });
    for (const key of ['getIdleMs', 'putIdleMs', 'memoryWaitMs'] as const) {
      const v = options[key];
      if (v !== undefined && !(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw new LakeSoulError('InvalidArgument', `${key} must be a positive number of milliseconds, got ${String(v)}`);
    }
    if (options.startDoGetWorkersAtListen !== undefined && typeof options.startDoGetWorkersAtListen !== 'boolean') {
      throw new LakeSoulError('InvalidArgument', `startDoGetWorkersAtListen must be true or false, got ${String(options.startDoGetWorkersAtListen)}`);
    }
    const threads = options.doGetThreads ?? availableParallelism();
    if (!(Number.isInteger(threads) && threads >= 0)) throw new LakeSoulError('InvalidArgument', `doGetThreads must be a whole number of threads (0 = none), got ${threads}`);
    const script = threads > 0 ? doGetWorkerScript() : null;
    this.doGetWorkers = script ? new DoGetWorkers(script, threads) : null;
    this.maxDoGetsHere = options.maxDoGetsOnServerThread ?? 1;
    if (!(Number.isInteger(this.maxDoGetsHere) && this.maxDoGetsHere >= 0)) throw new LakeSoulError('InvalidArgument', `maxDoGetsOnServerThread must be a whole number of streams (0 = none), got ${this.maxDoGetsHere}`);
    const { service } = loadFlightProtocol();
    sendMessagesInPlace(); // DoGet's pooled messages go out without grpc-js's copy
    this.server.addService(withPreEncodedFlightData(service), this.implementation());
  }

  /** True when calls need a bearer token. */
  get authEnabled(): boolean {
    return this.auth.enabled;
  }

  /** `grpc://host:port` once listening. */
  get url(): string {
    if (this.port === null) throw new LakeSoulError('InvalidArgument', 'the Flight server is not listening yet');
    return `grpc://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** Binds `host:port` (port 0 = any free port) and starts serving; resolves to the bound port. */
  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, ServerCredentials.createInsecure(), (err, bound) => {
        if (err) {
          reject(new LakeSoulError('Io', `Flight server cannot listen on ${host}:${port}: ${err.message}`, { cause: err }));
          return;
        }
        limitConnections(this.server, {
          perHost: this.options.maxConnectionsPerHost ?? DEFAULT_MAX_CONNECTIONS_PER_HOST,
          total: this.options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
          onRefused: (client, limit) => this.connectionRefused(client, limit),
        });
        this.port = bound;
        this.host = host;
        if (this.options.startDoGetWorkersAtListen) this.doGetWorkers?.startAll();
        resolve(bound);
      });
    });
  }

  /**
   * Graceful shutdown: stops accepting calls, lets running ones finish for `timeoutMs` (default the
   * `shutdownTimeoutMs` option), then cancels what is left, and rolls back the write transactions
   * still open (their staged files are deleted). Idempotent.
   */
  close(timeoutMs = this.options.shutdownTimeoutMs ?? 10_000): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, timeoutMs);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    }).then(() => Promise.all([this.transactions.close(), this.doGetWorkers?.close()])).then(() => undefined);
    return this.closing;
  }

  /** `await using server = createFlightServer(...)` closes it (see {@link close}) at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ----------------------------------------------------------------------------------------------

  /** The status of an error sent to a client; what the client is not told goes to the log. */
  private grpcError(e: unknown): any {
    return toGrpcStatus(e, (message) => this.log(message));
  }

  /** Counts a connection closed for a limit, and logs it (once per host and limit per {@link LOG_REPEAT_MS}). */
  private connectionRefused(host: string, limit: 'perHost' | 'total'): void {
    this.stats.connectionsRefused++;
    this.log(limit === 'perHost'
      ? `closed connections of host ${host}: it holds ${this.options.maxConnectionsPerHost ?? DEFAULT_MAX_CONNECTIONS_PER_HOST} open, the limit of one host (maxConnectionsPerHost)`
      : `closed a connection of host ${host}: ${this.options.maxConnections ?? DEFAULT_MAX_CONNECTIONS} connections are open, the server's limit (maxConnections)`);
  }

  /** Writes `message` to the `log` option, the same message at most once per {@link LOG_REPEAT_MS}. */
  private log(message: string): void {
    const now = Date.now();
    const last = this.logged.get(message);
    if (last !== undefined && now - last < LOG_REPEAT_MS) return;
    if (this.logged.size >= 256) this.logged.clear();
    this.logged.set(message, now);
    try {
      (this.options.log ?? ((m: string) => process.stderr.write(`lakesoul-ts flight: ${m}\n`)))(message);
    } catch {
      // a failing log must not fail the call
    }
  }

  private authenticate(metadata: Metadata): Principal {
    return this.auth.authenticate(metadata.get('authorization').map((v) => String(v)));
  }

  /**
   * Runs a credential check of a call from `host` (`credential`: what it sent). Wrong credentials
   * spend one of the host's failed logins, unless the host already spent one on the same credential
   * (a client retrying a stale token is no guesser). While the host is past its failed logins, the
   * check still runs (it is cheap: a constant-time compare or an HMAC) but only credentials no
   * guessing finds pass (`unguessable`: signed tokens, long configured tokens); everything else is
   * refused RESOURCE_EXHAUSTED, right or wrong, so a guess learns nothing. Clients that hold such a
   * credential are thus never refused because another client behind the same address failed.
   */
  private counted<T>(host: string, what: string, credential: string, check: () => T, unguessable: (result: T) => boolean = () => false): T {
    const refusal = this.logins.refusal(host, what);
    let result: T;
    try {
      result = check();
    } catch (e) {
      if (refusal) throw refusal;
      if (LakeSoulError.hasCode(e, 'BAD_CREDENTIALS')) this.logins.fail(host, credential);
      throw e;
    }
    if (refusal && !unguessable(result)) throw refusal;
    return result;
  }

  /** The `authorization` header values of a call. */
  private static authorization(metadata: Metadata): string[] {
    return metadata.get('authorization').map((v) => String(v));
  }

  /**
   * Runs on every call before its first message is read: bounds each request message to its method's
   * {@link MAX_REQUEST_MESSAGE_BYTES} (refused from the length prefix, nothing buffered), and with auth
   * on refuses a call without valid credentials (Handshake excepted) from its headers alone, so an
   * unauthenticated client cannot make the server receive a message at all. The handlers check the
   * credentials again.
   */
  private readonly admission: ServerInterceptor = (method, call) => {
    const name = method.path.slice(method.path.lastIndexOf('/') + 1);
    const limit = MAX_REQUEST_MESSAGE_BYTES[name];
    if (limit !== undefined && limit < this.maxReceive) {
      limitReceivedMessages(call, limit, ({ bytes, compressed }) => this.grpcError(limitError(
        compressed ? `${name} request message (${bytes} bytes sent ${compressed}-compressed, over ${limit} bytes once inflated)` : `${name} request message (${bytes} bytes)`,
        `of ${limit} bytes of ${name}`,
        `${REQUEST_CONTENT[name]}; only DoPut takes larger messages. ${compressed ? `It was inflated no further than the limit` : 'Nothing of it was read'}`)));
    }
    if (name === 'Handshake' || !this.auth.enabled) return new ServerInterceptingCall(call);
    return new ServerInterceptingCall(call, {
      start: (next) => next({
        onReceiveMetadata: (metadata, pass) => {
          try {
            const headers = FlightServer.authorization(metadata);
            this.counted(hostOfPeer(call.getPeer()), name, headers.join('\n'), () => this.auth.authenticate(headers), (p) => this.auth.unguessable(p));
          } catch (e) {
            call.sendStatus(this.grpcError(e));
            return;
          }
          pass(metadata);
        },
      }),
    });
  };

  private unary<Req, Res>(fn: (request: Req, call: ServerUnaryCall<Req, Res>, signal: AbortSignal) => Promise<Res>): Handler {
    return ((call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const controller = new AbortController();
      call.on('cancelled', () => controller.abort(new LakeSoulError('Aborted', 'call cancelled by the client')));
      Promise.resolve()
        .then(() => {
          this.authenticate(call.metadata);
          return fn(call.request, call, controller.signal);
        })
        .then((res) => callback(null, res), (e) => callback(this.grpcError(e)));
    }) as Handler;
  }

  private serverStream<Req, Res>(fn: (request: Req, call: ServerWritableStream<Req, Res>, signal: AbortSignal, principal: Principal) => Promise<void>): Handler {
    return ((call: ServerWritableStream<Req, Res>) => {
      const controller = new AbortController();
      call.on('cancelled', () => controller.abort(new LakeSoulError('Aborted', 'call cancelled by the client')));
      Promise.resolve()
        .then(() => {
          const principal = this.authenticate(call.metadata);
          return fn(call.request, call, controller.signal, principal);
        })
        .then(
          () => { if (!call.cancelled) call.end(); },
          (e) => { if (!call.cancelled) call.emit('error', this.grpcError(e)); },
        );
    }) as Handler;
  }

  /**
   * Admits one DoGet/DoPut stream under the stream limit, then reserves `bytes()` from the memory
   * budget (waiting in line); runs `fn` and releases both however it ends. `fn` may reserve more as
   * its data arrives (`grow`, up to `cap` in all: the claim the budget keeps satisfiable, so growing
   * streams never deadlock; see byte-budget.ts), ahead of streams not yet admitted.
   */
  private async withStream<T>(what: string, signal: AbortSignal, bytes: () => Promise<number> | number, fn: (grow: (bytes: number) => Promise<void>) => Promise<T>, share?: ByteBudget, cap?: number): Promise<T> {
    if (this.stats.activeStreams >= this.maxStreams) await this.endIdleGetForSlot();
    if (this.stats.activeStreams >= this.maxStreams) {
      this.stats.streamsRefused++;
      throw new LakeSoulError('Aborted', `${what}: the server runs its limit of ${this.maxStreams} concurrent streams: retry later`, { code: 'RESOURCE_EXHAUSTED', retryable: true });
    }
    this.stats.activeStreams++;
    try {
      const need = await bytes();
      const claim = Math.max(need, cap ?? need);
      const wait = { signal, timeoutMs: this.options.memoryWaitMs ?? 60_000, what };
      const reservations: BudgetReservation[] = [];
      this.stats.waitingStreams++;
      try {
        // a stream's share first (DoPut), so that one waiting for it does not hold any of the whole
        for (const budget of share ? [share, this.budget] : [this.budget]) reservations.push(await budget.reserve(need, { ...wait, claim }));
      } catch (e) {
        for (const r of reservations) r.release();
        if (LakeSoulError.is(e) && e.code === 'RESOURCE_EXHAUSTED') this.stats.streamsRefused++;
        throw e;
      } finally {
        this.stats.waitingStreams--;
      }
      this.stats.peakReservedBytes = Math.max(this.stats.peakReservedBytes, this.budget.peak);
      const grow = async (more: number): Promise<void> => {
        try {
          for (const r of reservations) await r.grow(more, wait);
        } catch (e) {
          if (LakeSoulError.is(e) && e.code === 'RESOURCE_EXHAUSTED') this.stats.streamsRefused++;
          throw e;
        }
        this.stats.peakReservedBytes = Math.max(this.stats.peakReservedBytes, this.budget.peak);
      };
      try {
        return await fn(grow);
      } finally {
        for (const r of reservations) r.release();
      }
    } finally {
      this.stats.activeStreams--;
      const waiter = this.slotWaiters.values().next();
      if (!waiter.done) {
        this.slotWaiters.delete(waiter.value);
        waiter.value();
      }
    }
  }

  private async openTable(table: string, namespace: string, signal?: AbortSignal): Promise<LakeSoulTable> {
    signal?.throwIfAborted();
    return await this.lakehouse.table(table, namespace);
  }

  private async plan(cmd: FlightReadCommand, signal: AbortSignal): Promise<{ table: LakeSoulTable; plan: ScanPlan }> {
    const table = await this.openTable(cmd.table, cmd.namespace, signal);
    const plan = await table.scan(scanOptionsOf(cmd, signal));
    return { table, plan };
  }

  /** Exact row count when the plan's splits give it (non-PK, non-CDC, unfiltered); else -1. */
  private async totalRecords(info: TableInfo, plan: ScanPlan, filtered: boolean, signal: AbortSignal): Promise<{ plan: ScanPlan; total: string }> {
    if (isPkTable(info) || info.cdcColumn || filtered) return { plan, total: '-1' };
    const counted = await plan.withRowCounts({ signal });
    let total = 0;
    for (const s of counted.splits) {
      if (s.rowCount === null) return { plan: counted, total: '-1' };
      total += s.rowCount;
    }
    return { plan: counted, total: String(total) };
  }

  /**
   * A FlightInfo; `resetPartitions` (an incremental read's, see `reset-partitions.ts`) go in the
   * schema's metadata and in `app_metadata`, as does the incremental range read (`incremental`: its end
   * is the server's time of parsing when the command gave none; every endpoint reads that one plan).
   */
  private flightInfo(info: TableInfo, schema: Schema, descriptor: FlightDescriptorMessage, endpoints: FlightEndpointMessage[], total: string, resetPartitions?: string[], incremental?: { start: number; end: number }): FlightInfoMessage {
    return {
      schema: Buffer.from(schemaToIpcMessage(withResetPartitions(schema, resetPartitions, incremental?.end))),
      flight_descriptor: descriptor,
      endpoint: endpoints,
      total_records: total,
      total_bytes: '-1',
      ordered: false,
      app_metadata: jsonBytes({
        tableId: info.tableId, namespace: info.namespace, name: info.name, path: info.path,
        primaryKeys: info.primaryKeys, rangePartitions: info.rangePartitions, hashBucketNum: info.hashBucketNum,
        cdcColumn: info.cdcColumn ?? null,
        ...(resetPartitions === undefined ? {} : { resetPartitions }),
        ...(incremental === undefined ? {} : { incremental: { start: incremental.start, end: incremental.end } }),
      }),
    };
  }

  /** FlightInfo of a read; see {@link FlightSqlHost.readInfo} for `limit`. */
  private async readInfo(cmd: FlightReadCommand, descriptor: FlightDescriptorMessage, signal: AbortSignal, limit?: number): Promise<FlightInfoMessage> {
    const { table, plan } = await this.plan(cmd, signal);
    const { plan: counted, total } = await this.totalRecords(table.info, plan, cmd.filter !== undefined, signal);
    const endpoints = limit === undefined ? this.endpoints(counted) : this.limitEndpoint(counted, limit);
    const records = limit === undefined || total === '-1' ? total : String(Math.min(limit, Number(total)));
    return this.flightInfo(table.info, counted.schema, descriptor, endpoints, records, resetPartitionsOf(cmd, counted), cmd.incremental);
  }

  private endpoint(payload: TicketPayload, appMetadata: Record<string, unknown>): FlightEndpointMessage {
    const { ticket, expiresAt } = this.signer.sign(payload);
    return {
      ticket: { ticket },
      location: this.options.location ? [{ uri: this.options.location }] : [],
      expiration_time: { seconds: String(Math.floor(expiresAt / 1000)), nanos: (expiresAt % 1000) * 1_000_000 },
      app_metadata: jsonBytes(appMetadata),
    };
  }

  /** One endpoint reading every split of `plan` in order, stopping after `limit` rows. */
  private limitEndpoint(plan: ScanPlan, limit: number): FlightEndpointMessage[] {
    if (limit === 0 || plan.splits.length === 0) return [];
    return [this.endpoint({ v: 1, plan: plan.toJSON(), limit }, { splits: plan.splits.length, limit })];
  }

  private endpoints(plan: ScanPlan): FlightEndpointMessage[] {
    const json = plan.toJSON();
    // A ticket carries what its split needs: its partition's version and whether that partition is
    // reset (the whole list is in the FlightInfo). Every ticket carried the whole list: FlightInfos
    // grew with partitions^2 (10 MB at 2,000 reset partitions, over gRPC's limit at 6,000).
    const resets = json.resetPartitions === undefined ? undefined : new Set(json.resetPartitions);
    return plan.splits.map((split: Split) => {
      const partitionVersions: Record<string, number> = {};
      if (split.partitionDesc in json.partitionVersions) partitionVersions[split.partitionDesc] = json.partitionVersions[split.partitionDesc];
      const own = resets === undefined ? {} : { resetPartitions: resets.has(split.partitionDesc) ? [split.partitionDesc] : [] };
      const payload: TicketPayload = { v: 1, plan: { ...json, partitionVersions, ...own, splits: [split] } };
      return this.endpoint(payload, { split: split.id, partition: split.partitionDesc, bucket: split.bucket, rowCount: split.rowCount, files: split.files.length });
    });
  }

  private async writeBounded(call: ServerWritableStream<unknown, Buffer>, msg: Buffer, state: WriteState, signal: AbortSignal): Promise<void> {
    const size = msg.byteLength;
    state.pending += size;
    if (state.pending > this.stats.peakBufferedBytes) this.stats.peakBufferedBytes = state.pending;
    this.stats.messagesSent++;
    call.write(msg, () => {
      // the socket has taken the message's bytes (grpc-js calls back after the write): its memory serves the next ones
      if (this.doGetWorkers?.recycle(msg) === true || this.frameBuffers.release(msg)) this.stats.messageBuffersReused++;
      state.pending -= size;
      const wake = state.wake;
      state.wake = null;
      wake?.();
    });
    // Wait until what is in flight fits the budget again (one message may always be in flight). A
    // client that takes nothing for getIdleMs while other streams wait for memory loses the stream,
    // and so does one holding a stream slot while streams are refused for the stream limit (the
    // longest idle first, see withStream): paused readers would otherwise keep the budget, or every
    // slot, from every other reader and writer.
    const idleMs = this.getIdleMs;
    let stall: StalledGet | undefined;
    try {
      while (state.pending > 0 && state.pending + this.maxMessageBytes > this.maxBufferedBytes) {
        signal.throwIfAborted();
        if (state.holdsSlot && stall === undefined) {
          stall = { since: Date.now(), what: state.what, end: (e) => { state.ended ??= e; state.wake?.(); } };
          this.stalledGets.add(stall);
        }
        const taken = await new Promise<boolean>((resolve) => {
          const done = (v: boolean) => {
            clearTimeout(timer);
            signal.removeEventListener('abort', onAbort);
            state.wake = null;
            resolve(v);
          };
          const onAbort = () => done(true);
          const timer = setTimeout(() => done(false), idleMs);
          signal.addEventListener('abort', onAbort, { once: true });
          state.wake = () => done(true);
        });
        if (state.ended) {
          this.stats.doGetsEndedIdle++;
          throw state.ended;
        }
        if (taken && stall) stall.since = Date.now();
        if (!taken && this.budget.waiting > 0) {
          this.stats.doGetsEndedIdle++;
          throw new LakeSoulError('Aborted', `${state.what}: the client took nothing for ${idleMs / 1000} s while other streams waited for the server's memory: the stream was ended to give its memory back; read the endpoint again`, {
            code: 'RESOURCE_EXHAUSTED', retryable: true,
          });
        }
      }
    } finally {
      if (stall) this.stalledGets.delete(stall);
    }
  }

  /** See {@link CreateFlightServerOptions.getIdleMs}. */
  private get getIdleMs(): number {
    return this.options.getIdleMs ?? Math.min(DEFAULT_GET_IDLE_MS, (this.options.memoryWaitMs ?? 60_000) / 3);
  }

  /**
   * With every stream slot taken: ends the DoGet whose client has taken nothing for the longest, when
   * that is at least getIdleMs, and waits (up to {@link SLOT_HANDOVER_MS}) for its slot to be given
   * back (the caller looks again whether one is free).
   */
  private async endIdleGetForSlot(): Promise<void> {
    const idleMs = this.getIdleMs;
    const now = Date.now();
    let longest: StalledGet | undefined;
    for (const g of this.stalledGets) if (now - g.since >= idleMs && (longest === undefined || g.since < longest.since)) longest = g;
    if (longest === undefined) return;
    this.stalledGets.delete(longest);
    longest.end(new LakeSoulError('Aborted', `${longest.what}: the client took nothing for ${Math.round((now - longest.since) / 100) / 10} s while other streams were refused for the server's limit of ${this.maxStreams} concurrent streams: the stream was ended to give its slot back; read the endpoint again`, {
      code: 'RESOURCE_EXHAUSTED', retryable: true,
    }));
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.slotWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, SLOT_HANDOVER_MS);
      this.slotWaiters.add(done);
    });
  }

  /** Streams `batches` as FlightData, never more than the buffer bound ahead of the client. */
  private async writeStream(call: ServerWritableStream<unknown, Buffer>, schema: Schema, batches: AsyncIterable<RecordBatch>, signal: AbortSignal, what: string): Promise<void> {
    await this.writeFrames(call, recordBatchesToFlightFrames(schema, batches, { maxMessageBytes: this.maxMessageBytes, maxRowMessageBytes: this.maxRowMessageBytes, rowBoundHint: ROW_BOUND_HINT, signal, buffers: this.frameBuffers }), signal, what);
  }

  /**
   * Writes serialized FlightData messages, never more than the buffer bound ahead of the client
   * (`what`: the stream, as errors name it; `holdsSlot`: it holds a stream slot, which a client
   * pausing while streams are refused for the limit loses).
   */
  private async writeFrames(call: ServerWritableStream<unknown, Buffer>, frames: AsyncIterable<Buffer>, signal: AbortSignal, what: string, holdsSlot = false): Promise<void> {
    const state: WriteState = { pending: 0, wake: null, what, holdsSlot, ended: null };
    for await (const msg of frames) await this.writeBounded(call, msg, state, signal);
  }

  private implementation(): UntypedServiceImplementation {
    return {
      Handshake: ((call: ServerDuplexStream<HandshakeMessage, HandshakeMessage>) => {
        void this.handshake(call).catch((e) => { if (!call.cancelled) call.emit('error', this.grpcError(e)); });
      }) as Handler,

      ListFlights: this.serverStream<CriteriaMessage, FlightInfoMessage>(async (req, call, signal) => {
        const namespace = req.expression?.byteLength ? clientName(Buffer.from(req.expression).toString('utf8'), 'ListFlights criteria (a namespace)') : undefined;
        // no criteria: every namespace
        const listed = await this.lakehouse.catalog.listTables(namespace, { signal });
        for (const info of listed) {
          signal.throwIfAborted();
          // a table whose schema this server cannot decode cannot be read through it either
          if (info.unsupported !== undefined) continue;
          let total = '-1';
          if (!isPkTable(info) && !info.cdcColumn) {
            const table = await this.openTable(info.name, info.namespace, signal);
            total = (await this.totalRecords(info, await table.scan({ signal }), false, signal)).total;
          }
          const descriptor: FlightDescriptorMessage = { type: 'PATH', cmd: Buffer.alloc(0), path: [info.namespace, info.name] };
          call.write(this.flightInfo(info, info.schema, descriptor, [], total));
        }
      }),

      GetFlightInfo: this.unary<FlightDescriptorMessage, FlightInfoMessage>(async (req, _call, signal) => {
        const sql = FlightSqlService.command(req);
        if (sql) return this.sql.getFlightInfo(sql, req, signal);
        return this.readInfo(parseReadCommand(req), req, signal);
      }),

      PollFlightInfo: this.unary<FlightDescriptorMessage, never>(async () => {
        throw new LakeSoulError('Unsupported', 'PollFlightInfo is not offered: FlightInfo is computed synchronously, use GetFlightInfo');
      }),

      GetSchema: this.unary<FlightDescriptorMessage, SchemaResultMessage>(async (req, _call, signal) => {
        const sql = FlightSqlService.command(req);
        if (sql) return { schema: await this.sql.getSchema(sql, signal) };
        const cmd = parseReadCommand(req);
        const { plan } = await this.plan(cmd, signal);
        return { schema: Buffer.from(schemaToIpcMessage(withResetPartitions(plan.schema, resetPartitionsOf(cmd, plan), cmd.incremental?.end))) };
      }),

      // responses are serialized FlightData (withPreEncodedFlightData)
      DoGet: this.serverStream<TicketMessage, Buffer>(async (req, call, signal) => {
        this.stats.doGetCalls++;
        const ticket = req.ticket ?? Buffer.alloc(0);
        if (ticket.byteLength > MAX_TICKET_BYTES) throw limitError(`ticket (${ticket.byteLength} bytes)`, `of ${MAX_TICKET_BYTES} bytes`);
        const metadata = this.sql.metadataTicket(ticket, signal);
        if (metadata) {
          await this.writeStream(call, metadata.schema, metadata.batches, signal, 'DoGet of Flight SQL metadata');
          return;
        }
        const { payload } = this.signer.verify<TicketPayload>(ticket);
        const splits = payload?.plan?.splits ?? [];
        const limit = payload?.limit;
        const validSplits = limit === undefined ? splits.length === 1 : splits.length >= 1 && Number.isSafeInteger(limit) && limit >= 0;
        if (payload?.v !== 1 || !payload.plan || !validSplits) {
          throw new LakeSoulError('PermissionDenied', 'invalid Flight ticket: unsupported payload version');
        }
        const ticketSplit = splits[0]!;
        const table = `${ticketSplit.namespace}.${ticketSplit.tableName}`;
        const what = limit === undefined ? `DoGet of split ${ticketSplit.id} of table ${table}` : `DoGet of ${splits.length} splits (LIMIT ${limit}) of table ${table}`;
        const read: DoGetRead = { plan: payload.plan, limit, batchSize: this.options.batchSize, prefetchBytes: this.options.prefetchBytes, maxMessageBytes: this.maxMessageBytes, maxRowMessageBytes: this.maxRowMessageBytes, rowBoundHint: ROW_BOUND_HINT };
        // May go to a worker when the workers' registry reaches the files; it then holds up to one more buffer bound.
        const portable = this.doGetWorkers ? this.stores.portableOptions(splits.flatMap((s) => (s.files ?? []).map((f) => f.path))) : null;
        const aheadBytes = portable ? this.maxBufferedBytes : 0;
        // What the read will hold at once, from its files' footers (doget-memory.ts; docs/flight.md "Memory").
        const reserve = async () => {
          const r = await doGetReservation(payload.plan, limit, this.stores, { maxBufferedBytes: this.maxBufferedBytes, maxMessageBytes: this.maxMessageBytes, aheadBytes, batchSize: this.options.batchSize }, signal);
          this.stats.peakDoGetReservationBytes = Math.max(this.stats.peakDoGetReservationBytes, r.bytes);
          return r.bytes;
        };
        await this.withStream(what, signal, reserve, async () => {
          await this.checkTableLive(ticketSplit, signal);
          // A lone stream reads here (this thread merges while the Parquet pool decodes: the lowest
          // latency); while `maxDoGetsHere` do, the others go to the workers, which merge in parallel.
          const onWorker = portable !== null && this.doGetWorkers !== null && this.doGetsHere >= this.maxDoGetsHere;
          if (!onWorker) this.doGetsHere++;
          try {
            let frames: AsyncIterable<Buffer>;
            if (onWorker) {
              this.stats.doGetOnWorkers++;
              frames = this.doGetWorkers!.frames(read, portable!, this.maxBufferedBytes, signal);
            } else {
              frames = doGetFrames(read, this.stores, signal, this.frameBuffers);
            }
            await this.writeFrames(call, frames, signal, what, true);
          } catch (e) {
            if (LakeSoulError.is(e) && !e.context.table) e.context.table = table;
            if (LakeSoulError.is(e) && !e.message.includes(ticketSplit.tableName)) throw new LakeSoulError(e.kind, `${what}: ${e.message}`, { code: e.code, context: e.context, cause: e });
            throw e;
          } finally {
            if (!onWorker) this.doGetsHere--;
          }
        });
      }),

      DoPut: ((call: ServerDuplexStream<FlightDataMessage, PutResultMessage>) => {
        void this.doPut(call).then(
          () => { if (!call.cancelled) call.end(); },
          (e) => { if (!call.cancelled) call.emit('error', this.grpcError(e)); },
        );
      }) as Handler,

      DoExchange: ((call: ServerDuplexStream<unknown, unknown>) => {
        try {
          this.authenticate(call.metadata);
          call.emit('error', this.grpcError(new LakeSoulError('Unsupported', 'DoExchange is not offered by the lakesoul-ts Flight server: use DoGet to read and DoPut to write')));
        } catch (e) {
          call.emit('error', this.grpcError(e));
        }
      }) as Handler,

      DoAction: this.serverStream<ActionMessage, ResultMessage>(async (req, call, signal, principal) => {
        for (const body of await this.doAction(req, signal, callerOf(principal, call.getPeer()))) call.write({ body });
      }),

      ListActions: this.serverStream<unknown, ActionTypeMessage>(async (_req, call) => {
        for (const a of [...FLIGHT_ACTIONS, ...FLIGHT_SQL_ACTIONS]) call.write(a);
      }),
    };
  }

  /**
   * `messages`, failing (`what`, nothing committed) when the client sends none for
   * {@link CreateFlightServerOptions.putIdleMs}.
   */
  private idleLimited<M>(messages: AsyncIterator<M>, what: string): AsyncIterator<M> {
    const idleMs = this.options.putIdleMs ?? DEFAULT_PUT_IDLE_MS;
    return {
      next: async () => {
        let timer: NodeJS.Timeout | undefined;
        const idle = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new LakeSoulError('Aborted', `${what}: no message from the client for ${idleMs / 1000} s: the stream was ended and nothing was committed`, {
            code: 'DOPUT_IDLE', retryable: true,
          })), idleMs);
        });
        try {
          return await Promise.race([messages.next(), idle]);
        } finally {
          clearTimeout(timer);
        }
      },
    };
  }

  private async handshake(call: ServerDuplexStream<HandshakeMessage, HandshakeMessage>): Promise<void> {
    // Credentials in the headers are checked before anything is read: wrong ones are refused at once,
    // and valid ones are admitted apart, so handshakes that carry none (which cannot be told from an
    // attack until they end) never keep a real login waiting.
    const headers = call.metadata.get('authorization').map((v) => String(v));
    const basic = headers.find((h) => /^Basic\s/i.test(h.trim()));
    const host = hostOfPeer(call.getPeer());
    let user: string | undefined;
    let credentialed = false;
    if (this.auth.enabled && basic) {
      // a password could be guessed: from a locked host it is refused, right or wrong
      user = this.counted(host, 'Handshake', basic, () => this.auth.checkBasic(basic));
      credentialed = true;
    } else if (this.auth.enabled && headers.some((h) => /^Bearer\s/i.test(h.trim()))) {
      this.counted(host, 'Handshake', headers.join('\n'), () => this.auth.authenticate(headers), (p) => this.auth.unguessable(p));
      credentialed = true;
    }
    const release = credentialed ? this.admitAuthenticatedHandshake() : this.admitHandshake(host);
    const timeoutMs = credentialed ? HANDSHAKE_TIMEOUT_MS : UNAUTHENTICATED_HANDSHAKE_TIMEOUT_MS;
    const timer = setTimeout(() => call.emit('error', this.grpcError(new LakeSoulError('Aborted', `Handshake: not completed within ${timeoutMs / 1000} s${credentialed ? '' : ' (the time of a handshake without credentials in its "authorization" header)'}`, {
      code: 'DEADLINE_EXCEEDED',
    }))), timeoutMs);
    try {
      await this.handshakeStream(call, headers, user, host);
    } finally {
      clearTimeout(timer);
      release();
    }
  }

  /** Admits a handshake with valid credentials in its headers; returns its release. */
  private admitAuthenticatedHandshake(): () => void {
    if (this.authenticatedHandshakes >= MAX_CONCURRENT_AUTHENTICATED_HANDSHAKES) {
      throw new LakeSoulError('Aborted', `Handshake: ${MAX_CONCURRENT_AUTHENTICATED_HANDSHAKES} logins are running: retry later`, { code: 'RESOURCE_EXHAUSTED', retryable: true });
    }
    this.authenticatedHandshakes++;
    return () => { this.authenticatedHandshakes--; };
  }

  /** Admits a handshake without valid credentials in its headers from `host`, within the server's and the host's share; returns its release. */
  private admitHandshake(host: string): () => void {
    const fromHost = this.handshakesByHost.get(host) ?? 0;
    const hint = 'or send the credentials in the call\'s "authorization" header (as pyarrow\'s authenticate_basic_token does), which is never kept waiting';
    if (fromHost >= MAX_HANDSHAKES_PER_HOST) {
      throw new LakeSoulError('Aborted', `Handshake: ${fromHost} handshakes without credentials are running from host ${host}, the limit of one host: finish or cancel them, or retry later, ${hint}`, {
        code: 'RESOURCE_EXHAUSTED', retryable: true,
      });
    }
    if (this.handshakes >= MAX_CONCURRENT_HANDSHAKES) {
      throw new LakeSoulError('Aborted', `Handshake: ${MAX_CONCURRENT_HANDSHAKES} handshakes without credentials are running: retry later, ${hint}`, { code: 'RESOURCE_EXHAUSTED', retryable: true });
    }
    this.handshakes++;
    this.handshakesByHost.set(host, fromHost + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.handshakes--;
      const n = (this.handshakesByHost.get(host) ?? 1) - 1;
      if (n > 0) this.handshakesByHost.set(host, n);
      else this.handshakesByHost.delete(host);
    };
  }

  /** Reads a handshake to its end, then answers it (`user`: the Basic user its headers authenticated). */
  private async handshakeStream(call: ServerDuplexStream<HandshakeMessage, HandshakeMessage>, headers: string[], user: string | undefined, host: string): Promise<void> {
    let lastPayload: Buffer = Buffer.alloc(0);
    for await (const req of (call as unknown as Readable).iterator({ destroyOnReturn: false }) as AsyncIterable<HandshakeMessage>) {
      if ((req.payload?.byteLength ?? 0) > MAX_HANDSHAKE_PAYLOAD_BYTES) {
        throw new LakeSoulError('InvalidArgument', `Handshake payload of ${req.payload!.byteLength} bytes: a handshake carries a token (at most ${MAX_HANDSHAKE_PAYLOAD_BYTES} bytes)`, { code: 'HANDSHAKE_TOO_LARGE' });
      }
      if (req.payload?.byteLength) lastPayload = req.payload;
    }
    const out = new Metadata();
    let payload = lastPayload;
    if (user !== undefined || (!this.auth.enabled && headers.some((h) => /^Basic\s/i.test(h.trim())))) {
      // With auth off any Basic credentials get AUTH_OFF_TOKEN (ignored here), so clients that always
      // authenticate work unchanged. It is not signed: replicas share the secret, and a token signed
      // by a server that checks no password would open every replica that does.
      const token = user !== undefined ? this.auth.issueToken(user) : AUTH_OFF_TOKEN;
      out.set('authorization', `Bearer ${token}`);
      payload = Buffer.from(token, 'utf8');
    } else if (this.auth.enabled) {
      // A bearer token (header, or as the handshake payload) is validated and echoed.
      const candidates = [...headers];
      if (lastPayload.byteLength) candidates.push(`Bearer ${lastPayload.toString('utf8')}`);
      this.counted(host, 'Handshake', candidates.join('\n'), () => this.auth.authenticate(candidates), (p) => this.auth.unguessable(p));
    }
    call.sendMetadata(out);
    call.write({ protocol_version: '0', payload });
    call.end(out);
  }

  private async doPut(call: ServerDuplexStream<FlightDataMessage, PutResultMessage>): Promise<void> {
    this.stats.doPutCalls++;
    this.authenticate(call.metadata);
    const controller = new AbortController();
    const signal = controller.signal;
    call.on('cancelled', () => controller.abort(new LakeSoulError('Aborted', 'DoPut cancelled by the client: nothing was committed')));
    const iterator = this.idleLimited(((call as unknown as Readable).iterator({ destroyOnReturn: false }) as AsyncIterable<FlightDataMessage>)[Symbol.asyncIterator](), 'DoPut');
    const first = await iterator.next();
    if (first.done) throw new LakeSoulError('InvalidArgument', 'DoPut stream was empty: expected a descriptor and a schema message');
    if (FlightSqlService.isCommandBytes(first.value.flight_descriptor?.cmd)) {
      throw new LakeSoulError('Unsupported', 'DoPut with a Flight SQL command (updates, bound parameters) is not offered: Flight SQL here is read-only and statements take no parameters; write with plain Flight DoPut (docs/flight.md)', {
        code: 'FLIGHT_SQL_UNSUPPORTED_COMMAND',
      });
    }
    const cmd = parseWriteCommand(first.value.flight_descriptor);
    const where = `${cmd.namespace}.${cmd.table}`;
    if (cmd.transaction === undefined && cmd.expectedRows === undefined) {
      // pyarrow ends a stream cleanly when its producer raises or closes without done_writing(): the
      // server cannot tell such an end from a complete one, so it commits only ends the client declared.
      throw new LakeSoulError('InvalidArgument', `DoPut into ${where}: the stream does not declare its end, so a client failing mid-stream could commit part of its data. `
        + 'Use a CMD descriptor with "expectedRows": N (commits only when exactly N rows arrived), or a transaction: '
        + 'DoAction "begin" {"table"} -> DoPut CMD {"table", "transaction"} (any number of streams) -> DoAction "commit" {"transaction"} or "rollback"', {
        code: 'DOPUT_END_UNDECLARED',
        context: { table: cmd.table, namespace: cmd.namespace },
      });
    }
    // At its peak the write buffers putBuffer bytes of Arrow data plus the file being encoded, and one
    // incoming message is bounded by the receive limit: that is the stream's claim, never more than
    // the writers' share (so one writer alone always gets it; with a small budget the files are made
    // smaller, at most a quarter of the share, for the claim to still cover them). A stream reserves
    // its claim as its data arrives (twice each message's bytes: buffered, then encoded), from
    // PUT_FIRST_RESERVATION_BYTES up: slow producers of a few rows hold kilobytes, not the peak, and
    // the budget admits and grows writers only while every one of them can still reach its claim.
    const share = this.putBudget.capacity;
    const putBuffer = Math.min(this.options.putBufferBytes ?? DEFAULT_PUT_BUFFER_BYTES, Math.max(MIN_PUT_BUFFER_BYTES, Math.floor(share / 4)));
    const cap = Math.min(share, 2 * putBuffer + (this.options.maxReceiveMessageBytes ?? 64 * 1024 * 1024));
    await this.withStream(`DoPut into ${where}`, signal, () => Math.min(cap, PUT_FIRST_RESERVATION_BYTES), (grow) => this.doPutStream(call, cmd, first.value, iterator, signal, putBuffer, grow), this.putBudget, cap);
  }

  private async doPutStream(
    call: ServerDuplexStream<FlightDataMessage, PutResultMessage>,
    cmd: FlightWriteCommand,
    firstMessage: FlightDataMessage,
    iterator: AsyncIterator<FlightDataMessage>,
    signal: AbortSignal,
    putBuffer: number,
    grow: (bytes: number) => Promise<void>,
  ): Promise<void> {
    const where = `${cmd.namespace}.${cmd.table}`;
    const table = await this.openTable(cmd.table, cmd.namespace, signal);
    const first = { value: firstMessage };
    const messageBytes = (m: FlightDataMessage) => (m.data_header?.byteLength ?? 0) + (m.data_body?.byteLength ?? 0);
    const messages = (async function* (): AsyncGenerator<FlightDataMessage> {
      yield first.value;
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        await grow(2 * messageBytes(next.value));
        yield next.value;
      }
      // A cancelled call can look like a clean end to the reader: never commit it.
      if (call.cancelled || signal.aborted) throw new LakeSoulError('Aborted', `DoPut into ${where} was cancelled: nothing was committed`);
    })();
    let decoded;
    try {
      decoded = await decodeFlightData(messages, `DoPut into ${where}`);
    } catch (e) {
      if (LakeSoulError.is(e)) throw e;
      throw new LakeSoulError('InvalidArgument', `DoPut into ${where}: invalid Arrow IPC stream: ${(e as Error).message}`, { cause: e, context: { table: cmd.table, namespace: cmd.namespace } });
    }
    const expected = cmd.expectedRows;
    const input = (async function* (): AsyncGenerator<RecordBatch> {
      let rows = 0;
      try {
        for await (const b of decoded.batches) {
          rows += b.numRows;
          if (expected !== undefined && rows > expected) {
            throw new LakeSoulError('InvalidArgument', `DoPut into ${where}: more rows arrived than the ${expected} declared in "expectedRows": nothing was committed`, { code: 'DOPUT_ROW_COUNT' });
          }
          yield b;
        }
      } catch (e) {
        if (LakeSoulError.is(e)) throw e;
        throw new LakeSoulError('InvalidArgument', `DoPut into ${where}: broken Arrow IPC stream: ${(e as Error).message}`, { cause: e, context: { table: cmd.table, namespace: cmd.namespace } });
      }
      if (expected !== undefined && rows !== expected) {
        throw new LakeSoulError('InvalidArgument', `DoPut into ${where}: the stream ended after ${rows} of the ${expected} rows declared in "expectedRows" (did the client fail or close without done_writing()?): nothing was committed`, {
          code: 'DOPUT_ROW_COUNT',
          context: { table: cmd.table, namespace: cmd.namespace },
        });
      }
    })();
    if (cmd.transaction !== undefined) {
      const staged = await this.transactions.stageInto(cmd.transaction, table.info, cmd.mode, (o) => table.stage(input, { ...o, signal, targetFileSize: putBuffer, maxBufferedBytes: putBuffer }), cmd.stream);
      call.write({ app_metadata: jsonBytes({ table: cmd.table, namespace: cmd.namespace, transaction: cmd.transaction, staged: true, rows: staged.rows, files: staged.files.length }) });
      return;
    }
    const mode = cmd.mode ?? (isPkTable(table.info) ? 'upsert' : 'append');
    const result = await table.write(input, { mode, signal, targetFileSize: putBuffer, maxBufferedBytes: putBuffer });
    const reply = {
      table: cmd.table,
      namespace: cmd.namespace,
      versions: result.versions,
      commitIds: result.commitIds,
      rows: result.rows,
      files: result.files.length,
    };
    call.write({ app_metadata: jsonBytes(reply) });
  }

  private async doAction(req: ActionMessage, signal: AbortSignal, caller: string): Promise<Buffer[]> {
    const type = req.type ?? '';
    const body = req.body ?? Buffer.alloc(0);
    if (type.length > MAX_ACTION_TYPE_CHARS) throw limitError(`action type ${quote(type)}`, `of ${MAX_ACTION_TYPE_CHARS} characters`);
    if (body.byteLength > MAX_ACTION_BODY_BYTES) throw limitError(`action ${quote(type)} body (${body.byteLength} bytes)`, `of ${MAX_ACTION_BODY_BYTES} bytes`);
    switch (type) {
      case 'create-table': {
        const r = parseCreateTableRequest(body);
        const table = await this.lakehouse.createTable(r.name, r.schema, {
          namespace: r.namespace,
          rangePartitions: r.rangePartitions,
          primaryKeys: r.primaryKeys,
          hashBucketNum: r.hashBucketNum,
          cdcColumn: r.cdcColumn,
          properties: r.properties,
          ifNotExists: r.ifNotExists,
        });
        const info = table.info;
        return [jsonBytes({ tableId: info.tableId, namespace: info.namespace, name: info.name, path: info.path, primaryKeys: info.primaryKeys, rangePartitions: info.rangePartitions, hashBucketNum: info.hashBucketNum })];
      }
      case 'compact': {
        const b = parseJsonBody(body, type);
        const table = await this.tableFromBody(b, type, signal);
        const result = await table.compact({ signal });
        return [jsonBytes(result ?? {})];
      }
      case 'history': {
        const b = parseJsonBody(body, type);
        const options = parseHistoryOptions(b);
        const table = await this.tableFromBody(b, type, signal);
        // Summaries by default: every version's snapshot makes a long history quadratic (4,801
        // commits hold 11.5 million commit ids), a reply one call could make the server build.
        if (b.snapshots === true) {
          // the versions of 1,000 commits of an uncompacted table of 100,000 list 10^8 ids
          const ids = await table.catalog.historySnapshotLength(table.info.tableId, { ...options, signal });
          if (ids > MAX_HISTORY_SNAPSHOT_IDS) {
            throw new LakeSoulError('InvalidArgument', `action history: the snapshots of those versions list ${ids} commit ids, over the ${MAX_HISTORY_SNAPSHOT_IDS} one reply may hold: ask for fewer "commits", name a "partition", or compact the table (its versions then list fewer)`, { code: 'LIMIT_EXCEEDED' });
          }
        }
        const result = b.snapshots === true
          ? await table.history({ ...options, signal })
          : await table.catalog.historySummary(table.info.tableId, { ...options, signal });
        return [jsonBytes(toJsonSafe(result))];
      }
      case 'begin': {
        const b = parseBeginCommand(parseJsonBody(body, type));
        const table = await this.openTable(b.table, b.namespace, signal);
        // Mode overwrite: the partitions replaced are read now (an error in the selection refuses the begin).
        const plan = b.mode === 'overwrite' ? await table.planOverwrite({ replacePartitions: b.replacePartitions, replaceWhere: b.replaceWhere, signal }) : undefined;
        return [jsonBytes(this.transactions.begin(table, { mode: b.mode, plan, caller }))];
      }
      case 'commit': {
        const b = parseJsonBody(body, type);
        const id = transactionOf(b, type);
        let expectedRows: number | undefined;
        if (b.expectedRows !== undefined && b.expectedRows !== null) {
          if (!Number.isSafeInteger(b.expectedRows) || (b.expectedRows as number) < 0) {
            throw new LakeSoulError('InvalidArgument', `action commit: "expectedRows" must be a non-negative integer, got ${quote(b.expectedRows)}`);
          }
          expectedRows = b.expectedRows as number;
        }
        let streams: string[] | undefined;
        if (b.streams !== undefined && b.streams !== null) {
          if (!Array.isArray(b.streams)) throw new LakeSoulError('InvalidArgument', `action commit: "streams" must be a list of the stream names the DoPuts gave, got ${quote(b.streams)}`);
          streams = b.streams.map((x, i) => streamName(x, `action commit: "streams"[${i}]`));
        }
        const r = await this.transactions.commit(id, { expectedRows, streams, signal });
        return [jsonBytes({ transaction: id, versions: r.versions, commitIds: r.commitIds, rows: r.rows, files: r.files.length, streams: r.streams })];
      }
      case 'rollback': {
        const b = parseJsonBody(body, type);
        const id = transactionOf(b, type);
        return [jsonBytes({ transaction: id, rolledBack: true, ...(await this.transactions.rollback(id)) })];
      }
      default: {
        const sqlResult = await this.sql.doAction(type, body, signal);
        if (sqlResult) return sqlResult;
        throw new LakeSoulError('Unsupported', `unknown action ${quote(type)}: the actions are ${[...FLIGHT_ACTIONS, ...FLIGHT_SQL_ACTIONS].map((a) => a.type).join(', ')}`);
      }
    }
  }

  private tableFromBody(b: Record<string, unknown>, action: string, signal: AbortSignal): Promise<LakeSoulTable> {
    const table = clientName(b.table, `action ${action}: "table"`);
    const ns = b.namespace === undefined || b.namespace === null ? DEFAULT_NAMESPACE : clientName(b.namespace, `action ${action}: "namespace"`);
    return this.openTable(table, ns, signal);
  }

  /**
   * Refuses a ticket whose table was dropped (or dropped and re-created under the same name) after
   * the ticket was issued: its files may be gone or reused, and a drop revokes read access.
   */
  private async checkTableLive(split: Split, signal: AbortSignal): Promise<void> {
    let info: TableInfo;
    try {
      info = await this.lakehouse.catalog.getTableById(split.tableId, { signal });
    } catch (e) {
      if (LakeSoulError.is(e, 'NotFound')) {
        throw new LakeSoulError('NotFound', `table ${split.namespace}.${split.tableName} (id ${split.tableId}) was dropped after this ticket was issued: the ticket is no longer valid`, {
          code: 'TICKET_TABLE_DROPPED',
          context: { table: split.tableName, namespace: split.namespace },
        });
      }
      throw e;
    }
    if (info.path !== split.tablePath) {
      throw new LakeSoulError('NotFound', `table ${split.namespace}.${split.tableName} (id ${split.tableId}) no longer lives at the path this ticket names: the ticket is no longer valid`, {
        code: 'TICKET_TABLE_DROPPED',
        context: { table: split.tableName, namespace: split.namespace },
      });
    }
  }
}

/** Creates a Flight server over `options.lakehouse`; call `listen()` to start it. */
export function createFlightServer(options: CreateFlightServerOptions): FlightServer {
  return new FlightServer(options);
}

function transactionOf(b: Record<string, unknown>, action: string): string {
  if (typeof b.transaction !== 'string' || b.transaction === '') {
    throw new LakeSoulError('InvalidArgument', `action ${action}: body needs the "transaction" id returned by the begin action, got ${quote(b.transaction)}`);
  }
  return b.transaction;
}
