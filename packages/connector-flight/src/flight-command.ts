/**
 * Decoding of Flight descriptors into table requests: PATH `[namespace, table]` or `[table]`, or CMD
 * = UTF-8 JSON `{ table, namespace?, partitions?, columns?, filter?, version? | timestamp? |
 * incremental?, mode? }`.
 */
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { Filter, ScanOptions } from '@lakesoul-ts/io';
import type { FlightDescriptorMessage } from './flight-proto.js';

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
  incremental?: { start: number; end: number };
}

/** A write request decoded from a DoPut descriptor. */
export interface FlightWriteCommand {
  table: string;
  namespace: string;
  /** Absent: the table's default (upsert for PK tables, else append). */
  mode?: 'append' | 'upsert';
}

function bad(message: string): LakeSoulError {
  return new LakeSoulError('InvalidArgument', message);
}

function toEpochMs(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const asNumber = Number(value);
    if (value.trim() !== '' && Number.isFinite(asNumber)) return asNumber;
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  throw bad(`${what} must be epoch milliseconds or an ISO-8601 date-time, got ${JSON.stringify(value)}`);
}

function parseCmd(descriptor: FlightDescriptorMessage): Record<string, unknown> {
  const text = Buffer.from(descriptor.cmd ?? []).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw bad(`descriptor command is not JSON (expected {"table": ..., ...}): ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('descriptor command must be a JSON object with a "table" field');
  const obj = value as Record<string, unknown>;
  if (typeof obj.table !== 'string' || obj.table === '') throw bad('descriptor command needs a non-empty "table" string');
  if (obj.namespace !== undefined && typeof obj.namespace !== 'string') throw bad('"namespace" must be a string');
  return obj;
}

function fromPath(descriptor: FlightDescriptorMessage): { table: string; namespace: string } {
  const path = descriptor.path ?? [];
  if (path.length === 1 && path[0]) return { table: path[0], namespace: DEFAULT_NAMESPACE };
  if (path.length === 2 && path[0] && path[1]) return { namespace: path[0], table: path[1] };
  throw bad(`descriptor path must be [namespace, table] or [table], got ${JSON.stringify(path)}`);
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

/** Decodes a read descriptor; bad input is an `InvalidArgument` LakeSoulError saying what is wrong. */
export function parseReadCommand(descriptor: FlightDescriptorMessage | null | undefined): FlightReadCommand {
  if (!descriptor) throw bad('missing flight descriptor');
  if (descriptorType(descriptor) === 'PATH') return fromPath(descriptor);
  const obj = parseCmd(descriptor);
  const cmd: FlightReadCommand = { table: obj.table as string, namespace: (obj.namespace as string | undefined) ?? DEFAULT_NAMESPACE };
  const travel = ['version', 'timestamp', 'incremental'].filter((k) => obj[k] !== undefined && obj[k] !== null);
  if (travel.length > 1) throw bad(`give at most one of version / timestamp / incremental (got ${travel.join(', ')}) for table ${cmd.table}`);
  if (obj.partitions !== undefined) {
    const p = obj.partitions;
    const okList = Array.isArray(p) && p.every((x) => typeof x === 'string');
    const okMap = p !== null && typeof p === 'object' && !Array.isArray(p);
    if (!okList && !okMap) throw bad('"partitions" must be a list of partition descriptions or an object of range-column values');
    cmd.partitions = p as FlightReadCommand['partitions'];
  }
  if (obj.columns !== undefined) {
    if (!Array.isArray(obj.columns) || !obj.columns.every((c) => typeof c === 'string')) throw bad('"columns" must be a list of column names');
    cmd.columns = obj.columns as string[];
  }
  if (obj.filter !== undefined && obj.filter !== null) {
    if (typeof obj.filter !== 'string' && typeof obj.filter !== 'object') throw bad('"filter" must be a SQL-like string or a filter expression object');
    cmd.filter = obj.filter as Filter;
  }
  if (obj.version !== undefined && obj.version !== null) {
    if (!Number.isInteger(obj.version) || (obj.version as number) < 0) throw bad(`"version" must be a non-negative integer, got ${JSON.stringify(obj.version)}`);
    cmd.version = obj.version as number;
  }
  if (obj.timestamp !== undefined && obj.timestamp !== null) cmd.timestamp = toEpochMs(obj.timestamp, '"timestamp"');
  if (obj.incremental !== undefined && obj.incremental !== null) {
    const inc = obj.incremental as Record<string, unknown>;
    if (typeof inc !== 'object') throw bad('"incremental" must be {"start": ..., "end": ...}');
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

/** Decodes a DoPut descriptor (CMD with `mode`, or PATH = the table's default mode). */
export function parseWriteCommand(descriptor: FlightDescriptorMessage | null | undefined): FlightWriteCommand {
  if (!descriptor) throw bad('DoPut needs a flight descriptor on its first message');
  if (descriptorType(descriptor) === 'PATH') return fromPath(descriptor);
  const obj = parseCmd(descriptor);
  const cmd: FlightWriteCommand = { table: obj.table as string, namespace: (obj.namespace as string | undefined) ?? DEFAULT_NAMESPACE };
  if (obj.mode !== undefined && obj.mode !== null) {
    if (obj.mode !== 'append' && obj.mode !== 'upsert') throw bad(`"mode" must be "append" or "upsert", got ${JSON.stringify(obj.mode)} (table ${cmd.table})`);
    cmd.mode = obj.mode;
  }
  return cmd;
}
