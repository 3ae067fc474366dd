/**
 * Decoding of Flight descriptors into table requests: PATH `[namespace, table]` or `[table]`, or CMD
 * = UTF-8 JSON `{ table, namespace?, partitions?, columns?, filter?, version? | timestamp? |
 * incremental? }` (reads) or `{ table, namespace?, mode?, transaction?, expectedRows?, stream? }` (DoPut), and
 * the body of DoAction `begin` (`{ table, namespace?, mode?, replacePartitions?, replaceWhere? }`).
 * Every field is checked here, within the limits of flight-limits.ts, before anything reaches the
 * catalog; unknown keys are refused.
 */
import { LakeSoulError } from '@lakesoul-ts/meta';
import { TemporalParseError, parseDateDays, parseTimestamp, type Filter, type ScanOptions } from '@lakesoul-ts/io';
import { TimeUnit } from 'apache-arrow';
import type { FlightDescriptorMessage } from './flight-proto.js';
import {
  MAX_COMMAND_BYTES, MAX_FILTER_CHARS, MAX_NAME_CHARS, MAX_PATH_ELEMENTS,
  clientName, limitError, parseClientJson, quote, refuseNul, refuseUnknownKeys,
} from './flight-limits.js';

/** Namespace used when a descriptor names none. */
export const DEFAULT_NAMESPACE = 'default';

/** A read request decoded from a descriptor (GetFlightInfo / GetSchema). */
export interface FlightReadCommand {
  table: string;
  namespace: string;
  partitions?: string[] | Record<string, string | number | null>;
  columns?: string[];
  filter?: Filter;
  version?: number;
  /** Epoch ms. */
  timestamp?: number;
  /**
   * Epoch ms, `[start, end)`. A command without `end` gets the server's time of parsing, which the
   * server reports back (FlightInfo `app_metadata.incremental`, the schema's `lakesoul.incremental_end`).
   */
  incremental?: { start: number; end: number };
}

/** A write request decoded from a DoPut descriptor. */
export interface FlightWriteCommand {
  table: string;
  namespace: string;
  /** Absent: the table's default (upsert for PK tables, else append). */
  mode?: 'append' | 'upsert';
  /** Stage under this transaction (DoAction `begin`) instead of committing at the stream's end. */
  transaction?: string;
  /** The rows the client will send: the stream commits (or stages) only when exactly these arrived. */
  expectedRows?: number;
  /**
   * The client's name for this stream of a transaction (a Spark task attempt's): the commit may name
   * the streams it takes (`streams`), leaving out those of attempts that failed and were run again.
   */
  stream?: string;
}

/** Keys a read command may hold. */
export const READ_COMMAND_KEYS = ['table', 'namespace', 'partitions', 'columns', 'filter', 'version', 'timestamp', 'incremental'] as const;
/** Keys a DoPut command may hold. */
export const WRITE_COMMAND_KEYS = ['table', 'namespace', 'mode', 'transaction', 'expectedRows', 'stream'] as const;

/** Largest partition version (the catalog stores it as a PostgreSQL integer). */
const MAX_VERSION = 2 ** 31 - 1;
/** Epoch ms of the JS Date range (±100 000 000 days): anything beyond is no date. */
const MAX_EPOCH_MS = 8.64e15;
const EXAMPLE = '{"table": "events", "namespace": "default"}';

function bad(message: string, code?: string): LakeSoulError {
  return new LakeSoulError('InvalidArgument', message, code ? { code } : {});
}

/** A date-time's UTC offset at its end (`Z`, `+08`, `-05:30`); a date alone ends in `-02` too. */
const OFFSET_RE = /(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * Epoch milliseconds of a command's time: a number, a string of digits (epoch ms), or ISO 8601 as
 * filters read it (no offset: UTC, not the server's zone; a date alone: its midnight UTC; impossible
 * days such as 2026-02-30 refused, where Date.parse rolled them over). A fraction of a millisecond
 * rounds up, as the JS API rounds `timestamp` and `incremental` bounds (commit times are whole ms and
 * compared as `commit time < t`, so `t` and its round-up select the same commits): truncated, a
 * position of `T + 0.4` read the commit at `T` again over Flight, and the API did not.
 */
function toEpochMs(value: unknown, what: string): number {
  let ms = NaN;
  let why = '';
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string' && value.length <= 64) {
    const t = value.trim();
    if (/^-?\d+$/.test(t)) ms = Number(t);
    else {
      try {
        const zoned = OFFSET_RE.test(t) && /\d{2}:\d{2}/.test(t);
        const ns = /^[+-]?\d+-\d{2}-\d{2}$/.test(t) ? BigInt(parseDateDays(t)) * 86_400_000_000_000n : parseTimestamp(t, TimeUnit.NANOSECOND, zoned, false);
        // (bigint division truncates toward zero: up for negative times, so only a positive remainder adds one)
        const whole = ns / 1_000_000n;
        ms = Number(ns > 0n && whole * 1_000_000n !== ns ? whole + 1n : whole);
      } catch (e) {
        if (!(e instanceof TemporalParseError)) throw e;
        why = `: ${e.message}`;
      }
    }
  }
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_EPOCH_MS) {
    throw bad(`${what} must be epoch milliseconds or an ISO-8601 date-time such as 2024-01-02T10:00:00Z (no offset: UTC; within ±${MAX_EPOCH_MS} ms), got ${quote(value)}${why}`);
  }
  return Math.ceil(ms);
}

function parseCmd(descriptor: FlightDescriptorMessage, allowed: readonly string[], what: string): Record<string, unknown> {
  const value = parseClientJson(Buffer.from(descriptor.cmd ?? []), `${what} command`, MAX_COMMAND_BYTES, EXAMPLE);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(`${what} command must be a JSON object like ${EXAMPLE}`);
  return checkCmd(value as Record<string, unknown>, allowed, what);
}

/** The checks of every command object: no NUL, no unknown key, a table name and namespace. */
function checkCmd(obj: Record<string, unknown>, allowed: readonly string[], what: string): Record<string, unknown> {
  refuseNul(obj, `${what} command`);
  refuseUnknownKeys(obj, allowed, `${what} command`);
  clientName(obj.table, `"table" of the ${what} command`);
  if (obj.namespace !== undefined && obj.namespace !== null) clientName(obj.namespace, `"namespace" of the ${what} command`);
  return obj;
}

function fromPath(descriptor: FlightDescriptorMessage, what: string): { table: string; namespace: string } {
  const path = descriptor.path ?? [];
  if (path.length > MAX_PATH_ELEMENTS) throw limitError(`${what} descriptor path (${path.length} elements)`, `of ${MAX_PATH_ELEMENTS} elements ([namespace, table] or [table])`);
  if (path.length === 1) return { table: clientName(path[0], `${what} path table name`), namespace: DEFAULT_NAMESPACE };
  if (path.length === 2) return { namespace: clientName(path[0], `${what} path namespace`), table: clientName(path[1], `${what} path table name`) };
  throw bad(`${what} descriptor path must be [namespace, table] or [table], got an empty path`);
}

function descriptorType(descriptor: FlightDescriptorMessage): 'PATH' | 'CMD' {
  const t = descriptor.type as unknown;
  if (t === 'PATH' || t === 1) return 'PATH';
  if (t === 'CMD' || t === 2) return 'CMD';
  // UNKNOWN: decide by content
  if ((descriptor.path ?? []).length) return 'PATH';
  if ((descriptor.cmd ?? []).length) return 'CMD';
  throw bad('empty flight descriptor: give a path [namespace, table] or a JSON command');
}

function stringList(v: unknown, what: string, of: string): string[] {
  if (!Array.isArray(v) || !v.every((c) => typeof c === 'string')) throw bad(`${what} must be a list of ${of}, got ${quote(v)}`);
  for (const c of v as string[]) if (c.length > MAX_NAME_CHARS) throw limitError(`an entry of ${what} ${quote(c)}`, `of ${MAX_NAME_CHARS} characters`);
  return v as string[];
}

/** A partition selection: a list of partition descriptions or an object of range-column values. */
function partitionSelection(p: unknown, what: string): string[] | Record<string, string | number | null> {
  if (Array.isArray(p)) {
    // io selects by one object of range values, or by descriptions: a list of objects is neither
    if (p.some((x) => x !== null && typeof x === 'object')) {
      throw bad(`${what} must be a list of partition descriptions (["date=2024-01-01"]) or one object of range-column values ({"date": "2024-01-01"}), got a list holding an object ${quote(p.find((x) => x !== null && typeof x === 'object'))}: give one object, or the partitions' descriptions`);
    }
    return stringList(p, what, 'partition descriptions');
  }
  if (p === null || typeof p !== 'object') throw bad(`${what} must be a list of partition descriptions or an object of range-column values`);
  for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
    if (v !== null && typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) {
      throw bad(`${what} value of ${quote(k)} must be a string, a number or null, got ${quote(v)}`);
    }
    if (k.length > MAX_NAME_CHARS || (typeof v === 'string' && v.length > MAX_NAME_CHARS)) throw limitError(`a ${what} entry ${quote(k)}`, `of ${MAX_NAME_CHARS} characters`);
  }
  return p as Record<string, string | number | null>;
}

/** A filter: the SQL-like grammar as a string, or an expression object. */
function filterValue(f: unknown, what: string): Filter {
  if (typeof f === 'string') {
    if (f.length > MAX_FILTER_CHARS) throw limitError(`${what} (${f.length} characters)`, `of ${MAX_FILTER_CHARS} characters`);
  } else if (f === null || typeof f !== 'object' || Array.isArray(f)) throw bad(`${what} must be a SQL-like string or a filter expression object, got ${quote(f)}`);
  return f as Filter;
}

/** Decodes a read descriptor; bad input is an `InvalidArgument` LakeSoulError saying what is wrong. */
export function parseReadCommand(descriptor: FlightDescriptorMessage | null | undefined): FlightReadCommand {
  if (!descriptor) throw bad('missing flight descriptor');
  if (descriptorType(descriptor) === 'PATH') return fromPath(descriptor, 'read');
  return readCommandOf(parseCmd(descriptor, READ_COMMAND_KEYS, 'read'));
}

/**
 * A read command from its object, checked as a JSON read command is (a Flight SQL statement's read,
 * which has its own size limit: as JSON, a long column list took the plain command's).
 */
export function readCommandFromObject(obj: Record<string, unknown>): FlightReadCommand {
  return readCommandOf(checkCmd(obj, READ_COMMAND_KEYS, 'read'));
}

function readCommandOf(obj: Record<string, unknown>): FlightReadCommand {
  const cmd: FlightReadCommand = { table: obj.table as string, namespace: (obj.namespace as string | undefined) ?? DEFAULT_NAMESPACE };
  const travel = ['version', 'timestamp', 'incremental'].filter((k) => obj[k] !== undefined && obj[k] !== null);
  if (travel.length > 1) throw bad(`give at most one of version / timestamp / incremental (got ${travel.join(', ')}) for table ${quote(cmd.table)}`);
  if (obj.partitions !== undefined && obj.partitions !== null) cmd.partitions = partitionSelection(obj.partitions, '"partitions"');
  if (obj.columns !== undefined && obj.columns !== null) cmd.columns = stringList(obj.columns, '"columns"', 'column names');
  if (obj.filter !== undefined && obj.filter !== null) cmd.filter = filterValue(obj.filter, '"filter"');
  if (obj.version !== undefined && obj.version !== null) {
    if (!Number.isInteger(obj.version) || (obj.version as number) < 0 || (obj.version as number) > MAX_VERSION) {
      throw bad(`"version" must be a non-negative integer at most ${MAX_VERSION}, got ${quote(obj.version)}`);
    }
    cmd.version = obj.version as number;
  }
  if (obj.timestamp !== undefined && obj.timestamp !== null) cmd.timestamp = toEpochMs(obj.timestamp, '"timestamp"');
  if (obj.incremental !== undefined && obj.incremental !== null) {
    const inc = obj.incremental as Record<string, unknown>;
    if (typeof inc !== 'object' || Array.isArray(inc)) throw bad('"incremental" must be {"start": ..., "end": ...}');
    refuseUnknownKeys(inc, ['start', 'end'], '"incremental"');
    cmd.incremental = { start: toEpochMs(inc.start, '"incremental.start"'), end: toEpochMs(inc.end ?? Date.now(), '"incremental.end"') };
  }
  return cmd;
}

/** The scan options of a read command. */
export function scanOptionsOf(cmd: FlightReadCommand, signal?: AbortSignal): ScanOptions {
  const options: ScanOptions = { signal };
  if (cmd.partitions !== undefined) options.partitions = cmd.partitions;
  if (cmd.columns !== undefined) options.columns = cmd.columns;
  if (cmd.filter !== undefined) options.filter = cmd.filter;
  if (cmd.version !== undefined) options.version = cmd.version;
  if (cmd.timestamp !== undefined) options.timestamp = cmd.timestamp;
  if (cmd.incremental !== undefined) options.incremental = cmd.incremental;
  return options;
}

/**
 * Decodes a DoPut descriptor: CMD `{table, namespace?, mode?, transaction?, expectedRows?, stream?}`, or PATH
 * (the table's default mode). Whether the stream's end is declared is the server's check.
 */
export function parseWriteCommand(descriptor: FlightDescriptorMessage | null | undefined): FlightWriteCommand {
  if (!descriptor) throw bad('DoPut needs a flight descriptor on its first message');
  if (descriptorType(descriptor) === 'PATH') return fromPath(descriptor, 'DoPut');
  const obj = parseCmd(descriptor, WRITE_COMMAND_KEYS, 'DoPut');
  const cmd: FlightWriteCommand = { table: obj.table as string, namespace: (obj.namespace as string | undefined) ?? DEFAULT_NAMESPACE };
  if (obj.mode !== undefined && obj.mode !== null) {
    if (obj.mode !== 'append' && obj.mode !== 'upsert') throw bad(`"mode" must be "append" or "upsert", got ${quote(obj.mode)} (table ${quote(cmd.table)})`);
    cmd.mode = obj.mode;
  }
  if (obj.transaction !== undefined && obj.transaction !== null) {
    if (typeof obj.transaction !== 'string') throw bad(`"transaction" must be the id string returned by the begin action, got ${quote(obj.transaction)}`);
    cmd.transaction = obj.transaction;
  }
  if (obj.expectedRows !== undefined && obj.expectedRows !== null) {
    if (!Number.isSafeInteger(obj.expectedRows) || (obj.expectedRows as number) < 0) throw bad(`"expectedRows" must be a non-negative integer, got ${quote(obj.expectedRows)}`);
    cmd.expectedRows = obj.expectedRows as number;
  }
  if (obj.stream !== undefined && obj.stream !== null) {
    if (cmd.transaction === undefined) throw bad(`"stream" names a stream of a transaction: give "transaction" too (table ${quote(cmd.table)})`);
    cmd.stream = streamName(obj.stream, '"stream"');
  }
  return cmd;
}

/** The longest stream name a DoPut or a commit may give. */
export const MAX_STREAM_NAME_CHARS = 128;

/**
 * A stream name of a transaction (a DoPut's `stream`, an entry of a commit's `streams`): a non-empty
 * string of at most {@link MAX_STREAM_NAME_CHARS} characters.
 */
export function streamName(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_STREAM_NAME_CHARS) {
    throw bad(`${what} must be a non-empty string of at most ${MAX_STREAM_NAME_CHARS} characters, got ${quote(value)}`);
  }
  return value;
}

/** The body of DoAction `begin`: the table, and what the transaction's single commit does. */
export interface FlightBeginCommand {
  table: string;
  namespace: string;
  /**
   * Absent: each DoPut stream chooses (append or upsert; the table's default). "append" / "upsert":
   * every stream of the transaction writes so. "overwrite": the commit replaces the table's rows (or
   * the partitions of `replacePartitions` / `replaceWhere`) with everything staged, as one UpdateCommit.
   */
  mode?: 'append' | 'upsert' | 'overwrite';
  /** With mode "overwrite": only these range partitions (descriptions, or range-column values). */
  replacePartitions?: string[] | Record<string, string | number | null>;
  /** With mode "overwrite": only the partitions whose range values satisfy this filter. */
  replaceWhere?: Filter;
}

/** Keys the body of `begin` may hold. */
export const BEGIN_COMMAND_KEYS = ['table', 'namespace', 'mode', 'replacePartitions', 'replaceWhere'] as const;

/** Checks the (already JSON-decoded, unknown keys refused) body of `begin`. */
export function parseBeginCommand(obj: Record<string, unknown>): FlightBeginCommand {
  const table = clientName(obj.table, 'action begin: "table"');
  const namespace = obj.namespace === undefined || obj.namespace === null ? DEFAULT_NAMESPACE : clientName(obj.namespace, 'action begin: "namespace"');
  const cmd: FlightBeginCommand = { table, namespace };
  if (obj.mode !== undefined && obj.mode !== null) {
    if (obj.mode !== 'append' && obj.mode !== 'upsert' && obj.mode !== 'overwrite') {
      throw bad(`action begin: "mode" must be "append", "upsert" or "overwrite", got ${quote(obj.mode)} (table ${quote(table)})`);
    }
    cmd.mode = obj.mode;
  }
  const hasPartitions = obj.replacePartitions !== undefined && obj.replacePartitions !== null;
  const hasWhere = obj.replaceWhere !== undefined && obj.replaceWhere !== null;
  if ((hasPartitions || hasWhere) && cmd.mode !== 'overwrite') {
    throw bad(`action begin: "replacePartitions" and "replaceWhere" need "mode": "overwrite" (table ${quote(table)})`);
  }
  if (hasPartitions) cmd.replacePartitions = partitionSelection(obj.replacePartitions, 'action begin: "replacePartitions"');
  if (hasWhere) cmd.replaceWhere = filterValue(obj.replaceWhere, 'action begin: "replaceWhere"');
  return cmd;
}
