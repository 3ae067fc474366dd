/**
 * What the Flight server answers to hostile input, through grpc-js clients (no mocks): Flight SQL
 * filter patterns of any size (INVALID_ARGUMENT, never INTERNAL), DoPut record batches whose field
 * nodes or buffers do not match the schema (refused, nothing committed), and the status-message rules
 * of docs/security.md (at most 2,048 characters in all, client input quoted to 64 characters with
 * control characters escaped, column names without control characters at create-table as at read).
 * PGlite catalog, local disk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { Field, Int64, Message, MessageHeader, RecordBatchStreamWriter, Schema, Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { FieldNode, RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
import { Lakehouse } from '@lakesoul-ts/io';
import { FlightClient } from './flight-client.js';
import { loadFlightProtocol, type FlightDataMessage } from './flight-proto.js';
import { createFlightServer, type FlightServer } from './flight-server.js';
import { encodeMetadataCommand, packAny, type FlightSqlCommand } from './flight-sql/flight-sql-messages.js';
import { ProtoWriter } from './flight-sql/proto-wire.js';
import { MAX_STATUS_DETAILS_CHARS, toGrpcStatus } from './grpc-status.js';
import { splitIpcStream } from './ipc-framing.js';
import { LakeSoulError } from '@lakesoul-ts/meta';

const schema = new Schema([new Field('id', new Int64(), false), new Field('s', new Utf8(), true)]);

let dir: string;
let lakehouse: Lakehouse;
let server: FlightServer;
let url: string;
let client: FlightClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flight-input-rules-'));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
  await lakehouse.createTable('t', schema);
  server = createFlightServer({ lakehouse, ticketSecret: 'flight-input-rules-secret-0123456789', doGetThreads: 0 });
  url = `grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
  client = await FlightClient.connect(url);
});

afterAll(async () => {
  client?.close();
  await server?.close(2000);
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The gRPC error of a failing call (its code and details as the wire carried them). */
async function failure(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e, 'the call succeeded').not.toBeNull();
  const cause = (LakeSoulError.is(e) ? e.cause : e) as ServiceError;
  return { code: cause.code, details: cause.details };
}

const INVALID_ARGUMENT = 3;

/** DoGet of a raw ticket, read to its end. */
function doGetRaw(ticket: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    const s = client.doGetMessages(ticket);
    s.on('data', () => { n++; });
    s.on('end', () => resolve(n));
    s.on('error', reject);
  });
}

describe('Flight SQL filter patterns', () => {
  for (const kind of ['CommandGetTables', 'CommandGetDbSchemas'] as const) {
    it(`${kind} with a 200 000-character pattern is INVALID_ARGUMENT naming the limit (not INTERNAL)`, async () => {
      const big = 'x'.repeat(200_000);
      const cmd: FlightSqlCommand = kind === 'CommandGetTables'
        ? { kind, tableNameFilterPattern: big, tableTypes: [], includeSchema: false }
        : { kind, dbSchemaFilterPattern: big };
      const ticket = encodeMetadataCommand(cmd);
      const e = await failure(doGetRaw(ticket));
      expect(e.code).toBe(INVALID_ARGUMENT);
      expect(e.details).toMatch(/filter_pattern 'x{64}'\.\.\. \(200000 characters\) exceeds the limit of 1024 characters/);
      const info = await failure(client.getFlightInfo({ cmd: ticket }));
      expect(info.code).toBe(INVALID_ARGUMENT);
      // a pattern at the limit is served
      const ok: FlightSqlCommand = kind === 'CommandGetTables' ? { kind, tableNameFilterPattern: `t${'%'.repeat(1023)}`, tableTypes: [], includeSchema: false } : { kind, dbSchemaFilterPattern: '%'.repeat(1024) };
      expect(await doGetRaw(encodeMetadataCommand(ok))).toBeGreaterThan(1);
    });
  }
});

/** The FlightData messages of `rows` rows of (id, s), with the record batch's field nodes replaced by `nodes` of them. */
function putMessages(rows: number, nodes: number | null, buffers: number | null): FlightDataMessage[] {
  const t = new Table(schema, { id: makeVector(BigInt64Array.from({ length: rows }, (_, i) => BigInt(i))), s: vectorFromArray(Array.from({ length: rows }, (_, i) => `v${i}`), new Utf8()) } as any);
  const parts = splitIpcStream(RecordBatchStreamWriter.writeAll(t).toUint8Array(true));
  return parts.map((p, i) => {
    let header = p.header;
    if (p.headerType === MessageHeader.RecordBatch && (nodes !== null || buffers !== null)) {
      const m = Message.decode(p.header);
      const rb = m.header() as RecordBatchHeader;
      const fieldNodes = nodes === null ? rb.nodes : Array.from({ length: nodes }, (_, k) => rb.nodes[k] ?? new FieldNode(rows, 0));
      const bufferRegions = buffers === null ? rb.buffers : Array.from({ length: buffers }, (_, k) => rb.buffers[k] ?? rb.buffers[0]!);
      header = Message.encode(Message.from(new RecordBatchHeader(rb.length, fieldNodes, bufferRegions, null), p.body.byteLength));
    }
    return {
      flight_descriptor: i === 0 ? { type: 'CMD', cmd: Buffer.from(JSON.stringify({ table: 't', expectedRows: rows })), path: [] } : null,
      data_header: Buffer.from(header),
      app_metadata: Buffer.alloc(0),
      data_body: Buffer.from(p.body),
    } as FlightDataMessage;
  });
}

/** A DoPut of raw FlightData messages through a grpc-js stub; resolves to the error details, or null. */
function rawDoPut(messages: FlightDataMessage[]): Promise<{ code: number; details: string } | null> {
  const { client: Ctor } = loadFlightProtocol();
  const stub = new Ctor(url.replace('grpc://', ''), credentials.createInsecure()) as any;
  return new Promise((resolve) => {
    const call = stub.DoPut(new Metadata());
    call.on('data', () => {});
    call.on('error', (e: ServiceError) => { stub.close(); resolve({ code: e.code, details: e.details }); });
    call.on('end', () => { stub.close(); resolve(null); });
    for (const m of messages) call.write(m);
    call.end();
  });
}

async function rowsOfT(): Promise<number> {
  return (await client.readAll(await client.getFlightInfo({ path: ['t'] }))).numRows;
}

describe('DoPut record batches that do not match the schema', () => {
  it('3 field nodes for 2 columns, 1 field node, or a buffer missing: INVALID_ARGUMENT naming the batch and both counts; nothing committed', async () => {
    const before = await rowsOfT();
    const extra = await rawDoPut(putMessages(5, 3, null));
    expect(extra).toMatchObject({ code: INVALID_ARGUMENT, details: expect.stringMatching(/record batch 1 \(5 rows\) has 3 field nodes, but the stream's schema \(2 columns\) needs 2: nothing was committed/) });
    const missing = await rawDoPut(putMessages(5, 1, null));
    expect(missing).toMatchObject({ code: INVALID_ARGUMENT, details: expect.stringMatching(/record batch 1 \(5 rows\) has 1 field nodes, but the stream's schema \(2 columns\) needs 2/) });
    const buffers = await rawDoPut(putMessages(5, null, 4));
    expect(buffers).toMatchObject({ code: INVALID_ARGUMENT, details: expect.stringMatching(/record batch 1 \(5 rows\) has 4 buffers, but the stream's schema \(2 columns\) needs 5/) });
    expect(await rowsOfT()).toBe(before);
    // the same messages untouched are committed
    expect(await rawDoPut(putMessages(5, null, null))).toBeNull();
    expect(await rowsOfT()).toBe(before + 5);
  });
});

describe('status messages', () => {
  it('are at most 2,048 characters, the truncation note included', () => {
    const s = toGrpcStatus(new LakeSoulError('InvalidArgument', 'y'.repeat(5000)));
    expect(s.details!.length).toBeLessThanOrEqual(MAX_STATUS_DETAILS_CHARS);
    expect(s.details).toMatch(/\.\.\. \(message truncated\)$/);
  });

  it('quote a Flight SQL statement\'s first word to 64 characters', async () => {
    const word = 'W'.repeat(3000);
    const w = new ProtoWriter();
    w.bytes(1, `${word} x`);
    const e = await failure(client.getFlightInfo({ cmd: packAny('CommandStatementQuery', w.finish()) }));
    expect(e.code).toBe(INVALID_ARGUMENT);
    expect(e.details).not.toContain('W'.repeat(65));
    expect(e.details.length).toBeLessThan(400);
  });

  it('quote unknown column names to 64 characters', async () => {
    const e = await failure(client.getFlightInfo({ cmd: { table: 't', columns: ['c'.repeat(500), 'd'.repeat(500), 'e'.repeat(500)] } }));
    expect(e.code).toBe(INVALID_ARGUMENT);
    expect(e.details).not.toMatch(/[cde]{65}/);
  });

  it('escape control characters and NUL of table and column names in create-table errors, and quote them to 64 characters', async () => {
    for (const name of ['\u001b]0;pwned\u0007', 'a\u0000b', `${'n'.repeat(200)}\u001b[2J`]) {
      const e = await failure(client.doAction('create-table', { name, schema: [{ name: 'id', type: 'int64' }] }));
      expect(e.code).toBe(INVALID_ARGUMENT);
      // eslint-disable-next-line no-control-regex
      expect(e.details).not.toMatch(/[\u0000-\u001f\u007f]/);
      expect(e.details).not.toContain('n'.repeat(65));
    }
    const long = 'L'.repeat(250);
    const e = await failure(client.doAction('create-table', { name: long, schema: [{ name: 'id', type: 'bogus' }] }));
    expect(e.details).not.toContain('L'.repeat(65));
  });

  it('create-table refuses control characters in column names, as reads do', async () => {
    for (const column of ['a\nb', 'a\u0000b', 'x\u001b[31m']) {
      const e = await failure(client.doAction('create-table', { name: 'ctl', schema: [{ name: 'id', type: 'int64' }, { name: column, type: 'utf8' }] }));
      expect(e.code).toBe(INVALID_ARGUMENT);
      expect(e.details).toMatch(/column name .* contains control characters|holds a NUL character/);
      // eslint-disable-next-line no-control-regex
      expect(e.details).not.toMatch(/[\u0000-\u001f\u007f]/);
    }
    await expect(lakehouse.table('ctl')).rejects.toThrow(/not found|does not exist/i);
  });
});
