/**
 * Arrow Flight end to end, on the embedded PGlite catalog + local disk: the real pyarrow.flight client
 * (from the test environment's venv) and our TS client against createFlightServer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createServer, type AddressInfo } from 'node:net';
import { Binary, Field, Float64, Int64, Schema, Table, Utf8, makeVector, tableFromIPC, vectorFromArray, RecordBatch } from 'apache-arrow';
import { Lakehouse, type LakeSoulTable } from '@lakesoul-ts/io';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { FlightClient, createFlightServer, decodeFlightData, type FlightDataMessage, type FlightServer } from '@lakesoul-ts/connector-flight';
import { runPythonClient } from './cli-env.js';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..');
const SECRET = 'e2e-flight-ticket-secret-0123456789';

function python(): string {
  const py = process.env.LAKESOUL_TEST_PYTHON;
  if (!py) throw new Error('LAKESOUL_TEST_PYTHON is not set: the Flight e2e tests need the pyarrow venv; run via pnpm test (node scripts/test-env.mjs -- vitest run e2e/flight.test.ts)');
  return py;
}

const py = (command: string, url: string, args: Record<string, unknown> = {}) => runPythonClient('flight_client.py', command, url, args);

/** Deterministic "image" bytes: every byte value occurs, lengths vary, some are large. */
function imageBytes(i: number, big = false): Uint8Array {
  const digest = createHash('sha256').update(`img-${i}`).digest();
  const n = big ? 600_000 + (i % 7) * 1000 : 64 + (i % 50) * 16;
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++) out[k] = (digest[k % 32] + k) & 0xff;
  out[0] = 0;
  out[n - 1] = 255;
  return out;
}

const eventsSchema = new Schema([
  new Field('id', new Int64(), false),
  new Field('date', new Utf8(), false),
  new Field('label', new Utf8(), true),
  new Field('score', new Float64(), true),
  new Field('image', new Binary(), true),
]);

function eventsBatch(ids: number[], labelPrefix: string): Table {
  return new Table(eventsSchema, {
    id: makeVector(BigInt64Array.from(ids, BigInt)),
    date: vectorFromArray(ids.map((i) => `2024-01-0${1 + (i % 2)}`), new Utf8()),
    label: vectorFromArray(ids.map((i) => (i % 11 === 0 ? null : `${labelPrefix}-${i}`)), new Utf8()),
    score: vectorFromArray(ids.map((i) => i * 0.5), new Float64()),
    image: vectorFromArray(ids.map((i) => imageBytes(i)), new Binary()),
  } as any);
}

/** Rows of a table as comparable JSON, sorted by id. */
function rowsOf(t: Table): string[] {
  const out: string[] = [];
  const cols = t.schema.fields.map((f) => f.name).sort();
  for (let r = 0; r < t.numRows; r++) {
    const row: Record<string, unknown> = {};
    for (const c of cols) {
      const v = t.getChild(c)!.get(r);
      row[c] = v instanceof Uint8Array ? createHash('sha256').update(v).digest('hex') + `:${v.byteLength}` : typeof v === 'bigint' ? v.toString() : v;
    }
    out.push(JSON.stringify(row));
  }
  return out.sort((a, b) => (JSON.parse(a).id as string).localeCompare(JSON.parse(b).id as string, 'en', { numeric: true }));
}

let dir: string;
let lakehouse: Lakehouse;
let server: FlightServer;
let url: string;
let events: LakeSoulTable;
let tsBeforeUpsert: number;

beforeAll(async () => {
  python();
  dir = mkdtempSync(join(tmpdir(), 'flight-e2e-'));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
  events = await lakehouse.createTable('events', eventsSchema, { rangePartitions: ['date'], primaryKeys: ['id'], hashBucketNum: 4 });
  await events.write(eventsBatch(Array.from({ length: 2000 }, (_, i) => i), 'v1'), { mode: 'upsert' });
  await new Promise((r) => setTimeout(r, 30));
  tsBeforeUpsert = Date.now();
  await new Promise((r) => setTimeout(r, 30));
  await events.write(eventsBatch(Array.from({ length: 600 }, (_, i) => i * 3), 'v2'), { mode: 'upsert' });
  // a non-PK table with large binary values: one split whose batches exceed 4 MiB
  const photoIds = Array.from({ length: 24 }, (_, i) => i);
  const photos = await lakehouse.createTable('photos', new Schema([new Field('id', new Int64(), false), new Field('jpeg', new Binary(), false)]));
  await photos.write(new Table({ id: makeVector(BigInt64Array.from(photoIds, BigInt)), jpeg: vectorFromArray(photoIds.map((i) => imageBytes(i, true)), new Binary()) } as any));
  server = createFlightServer({ lakehouse, ticketSecret: SECRET, ticketTtlMs: 60_000 });
  const port = await server.listen(0, '127.0.0.1');
  url = `grpc://127.0.0.1:${port}`;
});

afterAll(async () => {
  await server?.close(2000);
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Flight with pyarrow.flight (PGlite catalog, local disk)', () => {
  it('lists the tables with their schemas and known row counts', async () => {
    const r = await py('list', url);
    const byName = Object.fromEntries(r.flights.map((f: any) => [f.path.join('.'), f]));
    expect(Object.keys(byName).sort()).toEqual(['default.events', 'default.photos']);
    expect(byName['default.events'].columns).toEqual(['id', 'date', 'label', 'score', 'image']);
    expect(byName['default.events'].total_records).toBe(-1); // PK table: not known before the merge
    expect(byName['default.photos'].total_records).toBe(24);
  });

  it('gives one endpoint per partition x bucket, and all endpoints read in parallel equal the TS scan', async () => {
    const out = join(dir, 'events-py.arrow');
    const r = await py('read', url, { path: ['default', 'events'], threads: 8, out });
    expect(r.endpoints).toBe(8); // 2 partitions x 4 buckets
    expect(r.ordered).toBe(false);
    expect(r.expirations.every((e: number | null) => e !== null && e * 1000 > Date.now())).toBe(true);
    expect(r.endpoint_rows.filter((n: number) => n > 0).length).toBe(8);
    expect(r.locations.every((l: string[]) => l.length === 0)).toBe(true); // redeem on this same service
    const fromPython = tableFromIPC(readFileSync(out));
    const fromTs = await events.toArrow();
    expect(fromTs.numRows).toBe(2000);
    expect(r.rows).toBe(2000);
    expect(rowsOf(fromPython)).toEqual(rowsOf(fromTs));
    // merge-on-read happened: upserted rows carry v2 labels
    const labels = new Map(rowsOf(fromPython).map((s) => JSON.parse(s)).map((o) => [o.id, o.label]));
    expect(labels.get('3')).toBe('v2-3');
    expect(labels.get('4')).toBe('v1-4');
  });

  it('reads the same rows with DoGet on the server thread (doGetThreads: 0) as on its workers (started at listen, as serve does)', async () => {
    const here = createFlightServer({ lakehouse, ticketSecret: SECRET, doGetThreads: 0 });
    const workers = createFlightServer({ lakehouse, ticketSecret: SECRET, maxDoGetsOnServerThread: 0, startDoGetWorkersAtListen: true });
    try {
      const hereUrl = `grpc://127.0.0.1:${await here.listen(0, '127.0.0.1')}`;
      const workersUrl = `grpc://127.0.0.1:${await workers.listen(0, '127.0.0.1')}`;
      const [a, b] = [join(dir, 'events-here.arrow'), join(dir, 'events-workers.arrow')];
      const onHere = await py('read', hereUrl, { path: ['default', 'events'], threads: 8, out: a });
      const onWorkers = await py('read', workersUrl, { path: ['default', 'events'], threads: 8, out: b });
      expect(onHere.rows).toBe(2000);
      expect(onWorkers.rows).toBe(2000);
      expect(rowsOf(tableFromIPC(readFileSync(a)))).toEqual(rowsOf(tableFromIPC(readFileSync(b))));
      expect(rowsOf(tableFromIPC(readFileSync(b)))).toEqual(rowsOf(await events.toArrow()));
      expect(here.stats.doGetCalls).toBe(8);
      expect(here.stats.doGetOnWorkers).toBe(0);
      expect(workers.stats.doGetCalls).toBe(8);
      expect(workers.stats.doGetOnWorkers).toBe(8);
      expect(() => createFlightServer({ lakehouse, ticketSecret: SECRET, doGetThreads: -1 })).toThrow(/doGetThreads must be a whole number/);
      expect(() => createFlightServer({ lakehouse, ticketSecret: SECRET, maxDoGetsOnServerThread: 1.5 })).toThrow(/maxDoGetsOnServerThread must be a whole number/);
      expect(() => createFlightServer({ lakehouse, ticketSecret: SECRET, startDoGetWorkersAtListen: 'yes' as never })).toThrow(/startDoGetWorkersAtListen must be true or false/);
    } finally {
      await here.close(1000);
      await workers.close(1000);
    }
  });

  it('travels in time through the CMD descriptor', async () => {
    const out = join(dir, 'events-past.arrow');
    const r = await py('read', url, { cmd: { table: 'events', timestamp: tsBeforeUpsert, columns: ['id', 'label'] }, out });
    expect(r.rows).toBe(2000);
    expect(r.columns).toEqual(['id', 'label']);
    const past = tableFromIPC(readFileSync(out));
    const tsPast = await events.toArrow({ timestamp: tsBeforeUpsert, columns: ['id', 'label'] });
    expect(rowsOf(past)).toEqual(rowsOf(tsPast));
    const labels = new Map(rowsOf(past).map((s) => JSON.parse(s)).map((o) => [o.id, o.label]));
    expect(labels.get('3')).toBe('v1-3');
    // a partition version (versions are per partition: the scan selects one): its first commit
    const first = Math.min(...(await events.history()).filter((h) => h.partitionDesc === 'date=2024-01-01').map((h) => h.version));
    const vOut = join(dir, 'events-v.arrow');
    const v = await py('read', url, { cmd: { table: 'events', version: first, partitions: { date: '2024-01-01' } }, out: vOut });
    const tsV = await events.toArrow({ version: first, partitions: { date: '2024-01-01' } });
    expect(tsV.numRows).toBe(1000);
    expect(v.rows).toBe(1000);
    expect(rowsOf(tableFromIPC(readFileSync(vOut)))).toEqual(rowsOf(tsV));
    expect(rowsOf(tsV).map((x) => JSON.parse(x).label).filter((l) => l?.startsWith('v2-'))).toEqual([]);
    // incremental: only what the second write changed
    const incOut = join(dir, 'events-inc.arrow');
    const end = Date.now(); // (an end later than now is refused)
    const inc = await py('read', url, { cmd: { table: 'events', incremental: { start: tsBeforeUpsert, end } }, out: incOut });
    const tsInc = await events.toArrow({ incremental: { start: tsBeforeUpsert, end } });
    expect(tsInc.numRows).toBeGreaterThan(0);
    expect(tsInc.numRows).toBeLessThan(2000);
    expect(inc.rows).toBe(tsInc.numRows);
    expect(rowsOf(tableFromIPC(readFileSync(incOut)))).toEqual(rowsOf(tsInc));
    // a filter and a partition narrow the endpoints and rows
    const one = await py('read', url, { cmd: { table: 'events', partitions: { date: '2024-01-02' }, filter: 'score < 100' } });
    expect(one.endpoints).toBe(4);
    expect(one.rows).toBe(100); // odd ids below 200
  });

  it('streams large binary values intact to pyarrow', async () => {
    const out = join(dir, 'photos-py.arrow');
    const r = await py('read', url, { path: ['photos'], out });
    expect(r.rows).toBe(24);
    const t = tableFromIPC(readFileSync(out));
    for (let i = 0; i < t.numRows; i++) {
      const id = Number(t.getChild('id')!.get(i));
      expect(Buffer.from(t.getChild('jpeg')!.get(i)).equals(Buffer.from(imageBytes(id, true)))).toBe(true);
    }
  });

  it('writes a pyarrow table with DoPut (one commit) and reads it back from TS', async () => {
    const before = await events.history();
    const out = join(dir, 'put-py.arrow');
    const r = await py('put', url, { cmd: { table: 'events', mode: 'upsert', expectedRows: 400 }, rows: 400, start: 5000, columns: ['id', 'date', 'label', 'score', 'image'], out });
    expect(r.error).toBeUndefined();
    expect(r.result.rows).toBe(400);
    expect(Object.keys(r.result.versions).sort()).toEqual(['date=2024-02-01', 'date=2024-02-02']);
    const after = await events.history();
    expect(after.length - before.length).toBe(2); // one commit: one new version per touched partition
    const sent = tableFromIPC(readFileSync(out));
    const back = await events.toArrow({ filter: 'id >= 5000' });
    expect(rowsOf(back)).toEqual(rowsOf(sent));
  });

  it('maps errors to Flight status codes naming the table', async () => {
    const missing = await py('read', url, { path: ['nope'] });
    expect(missing.error).toMatch(/KeyError/);
    expect(missing.message).toMatch(/nope/);
    const bad = await py('put', url, { cmd: { table: 'events', mode: 'append', expectedRows: 5 }, rows: 5, columns: ['id', 'label'] });
    expect(bad.error).toMatch(/Invalid|Error/);
    expect(bad.message).toMatch(/events/);
    const badCmd = await py('read', url, { cmd: { table: 'events', version: 1, timestamp: 5 } });
    expect(badCmd.error).toMatch(/ArrowInvalid/);
  });

  it('answers PollFlightInfo and DoExchange with UNIMPLEMENTED', async () => {
    const r = await py('unimplemented', url, { path: ['events'] });
    // pyarrow 20 has no poll_flight_info: PollFlightInfo is checked from the TS client
    const c = await FlightClient.connect(url);
    await expect(c.pollFlightInfo({ path: ['events'] })).rejects.toMatchObject({ kind: 'Unsupported', message: expect.stringMatching(/PollFlightInfo is not offered/) });
    c.close();
    expect(r.exchange).toBe('ArrowNotImplementedError');
    expect(r.exchange_message).toMatch(/DoExchange is not offered/);
  });

  it('refuses a tampered ticket', async () => {
    for (const pos of [6, 40]) {
      const r = await py('tamper', url, { path: ['events'], pos });
      expect(r.error).toBe('FlightUnauthorizedError');
      expect(r.message).toMatch(/invalid Flight ticket/);
    }
  });

  it('accepts retries of a ticket until it expires, then refuses it', async () => {
    const short = createFlightServer({ lakehouse, ticketSecret: SECRET, ticketTtlMs: 2500 });
    const port = await short.listen(0, '127.0.0.1');
    try {
      const r = await py('expire', `grpc://127.0.0.1:${port}`, { path: ['events'], sleep: 3 });
      expect(r.first).toBeGreaterThan(0);
      expect(r.again).toBe(r.first);
      expect(r.error).toBe('FlightUnauthorizedError');
      expect(r.message).toMatch(/expired at/);
      // another replica with the same secret redeems tickets of this one
      const info = await (await FlightClient.connect(`grpc://127.0.0.1:${port}`)).getFlightInfo({ path: ['events'] });
      const other = await FlightClient.connect(url);
      let rows = 0;
      for await (const b of other.doGet(info.endpoints[0])) rows += b.numRows;
      expect(rows).toBeGreaterThan(0);
      other.close();
    } finally {
      await short.close(1000);
    }
  });

  it('puts the configured location on every endpoint, and clients redeem tickets there', async () => {
    const port = await new Promise<number>((res) => { const srv = createServer(); srv.listen(0, '127.0.0.1', () => { const p = (srv.address() as AddressInfo).port; srv.close(() => res(p)); }); });
    const location = `grpc://127.0.0.1:${port}`;
    const located = createFlightServer({ lakehouse, ticketSecret: SECRET, location });
    await located.listen(port, '127.0.0.1');
    try {
      const r = await py('read', location, { path: ['photos'] });
      expect(r.locations).toEqual([[location]]);
      expect(r.rows).toBe(24);
      const { stdout } = await run(python(), [join(ROOT, 'examples/flight_read_parallel.py'), location, 'photos'], { timeout: 120_000 });
      expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({ endpoints: 1, arrow_rows: 24, pandas_rows: 24 });
    } finally {
      await located.close(1000);
    }
  });

  it('creates tables, compacts and lists history through DoAction', async () => {
    const actions = await py('actions', url);
    expect(actions.actions).toEqual(['create-table', 'compact', 'history', 'begin', 'commit', 'rollback', 'CreatePreparedStatement', 'ClosePreparedStatement']);
    const { schemaIpc } = await py('schema_ipc', url);
    const created = await py('action', url, { type: 'create-table', body: { name: 'people', namespace: 'default', schemaIpc, primaryKeys: ['id'], hashBucketNum: 2 } });
    expect(created.results[0]).toMatchObject({ name: 'people', namespace: 'default', primaryKeys: ['id'], hashBucketNum: 2 });
    const people = await lakehouse.table('people');
    expect(people.info.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['id:Int64', 'name:Utf8', 'photo:Binary']);
    const again = await py('action', url, { type: 'create-table', body: { name: 'people', schemaIpc } });
    expect(again.error).toMatch(/ArrowException|AlreadyExists/);
    expect(again.message).toMatch(/people/);
    // issue 12 §2: names that would make a path of another directory are refused, nothing created
    for (const [name, namespace] of [['/', 'default'], ['people/nested', 'default'], ['..', 'default'], ['x', 'default/events'], ['y'.repeat(5000), 'default']]) {
      const r = await py('action', url, { type: 'create-table', body: { name, namespace, schemaIpc } });
      expect(r.error).toMatch(/ArrowInvalid|InvalidArgument/);
      expect(r.message).toMatch(/name .* allowed: letters and digits/);
      expect(r.message.length).toBeLessThan(1000);
    }
    expect((await lakehouse.listTables()).map((t) => t.name)).not.toContain('/');
    const hist = await py('action', url, { type: 'history', body: { table: 'events' } });
    expect(hist.results[0].length).toBe((await events.history()).length);
    const beforeCompaction = rowsOf(await events.toArrow());
    const compacted = await py('action', url, { type: 'compact', body: { table: 'events' } });
    expect(compacted.error).toBeUndefined();
    expect(compacted.results).toHaveLength(1);
    expect(rowsOf(await events.toArrow())).toEqual(beforeCompaction);
    const unknown = await py('action', url, { type: 'drop-everything', body: {} });
    expect(unknown.message).toMatch(/unknown action 'drop-everything'/);
  });

  it('runs examples/flight_read_parallel.py into a pyarrow Table and a pandas DataFrame', async () => {
    const { stdout } = await run(python(), [join(ROOT, 'examples/flight_read_parallel.py'), url, 'events'], { timeout: 120_000 });
    const last = JSON.parse(stdout.trim().split('\n').at(-1)!);
    const rows = (await events.toArrow()).numRows;
    expect(rows).toBeGreaterThanOrEqual(2000);
    expect(last).toMatchObject({ endpoints: (await events.scan()).splits.length, arrow_rows: rows, pandas_rows: rows });
    expect(last.columns).toEqual(['id', 'date', 'label', 'score', 'image']);
  });
});

describe('Flight auth', () => {
  let secured: FlightServer;
  let surl: string;
  beforeAll(async () => {
    secured = createFlightServer({ lakehouse, ticketSecret: SECRET, tokens: ['static-token-1'], users: { alice: 's3cret' } });
    surl = `grpc://127.0.0.1:${await secured.listen(0, '127.0.0.1')}`;
  });
  afterAll(async () => { await secured?.close(1000); });

  it('refuses anonymous calls and accepts Basic (handshake) and plain bearer tokens from pyarrow', async () => {
    const basic = await py('auth', surl, { basic: ['alice', 's3cret'] });
    expect(basic.anonymous).toBe('FlightUnauthenticatedError');
    expect(basic.with_credentials).toBeGreaterThanOrEqual(2);
    const bearer = await py('auth', surl, { bearer: 'static-token-1' });
    expect(bearer.with_credentials).toBeGreaterThanOrEqual(2);
    const wrong = await py('auth', surl, { bearer: 'nope' });
    expect(wrong.with_credentials).toMatch(/FlightUnauthenticatedError.*invalid bearer token/);
    const badPassword = await py('list', surl, { basic: ['alice', 'wrong'] });
    expect(badPassword.error).toBe('FlightUnauthenticatedError');
    // a full read with the handshake token
    const r = await py('read', surl, { basic: ['alice', 's3cret'], path: ['events'] });
    expect(r.rows).toBe((await events.toArrow()).numRows);
  });

  it('works the same from the TS client; auth off lets anonymous calls through', async () => {
    await expect(FlightClient.connect(surl).then((c) => c.listFlights())).rejects.toMatchObject({ kind: 'Unauthenticated' });
    const c = await FlightClient.connect(surl, { basic: { username: 'alice', password: 's3cret' } });
    expect(c.bearerToken).toMatch(/^lst1\./);
    expect((await c.listFlights()).length).toBeGreaterThanOrEqual(2);
    c.close();
    const t = await FlightClient.connect(surl, { token: 'static-token-1' });
    expect((await t.getFlightInfo({ path: ['events'] })).endpoints).toHaveLength((await events.scan()).splits.length);
    t.close();
    const openPy = await py('auth', url, { basic: ['anyone', 'anything'] });
    expect(openPy.anonymous).toBeGreaterThanOrEqual(2);
    expect(openPy.with_credentials).toBe(openPy.anonymous);
    const open = await FlightClient.connect(url);
    expect((await open.listFlights()).length).toBeGreaterThanOrEqual(2);
    open.close();
  });
});

describe('Flight with the TS client', () => {
  let client: FlightClient;
  beforeAll(async () => { client = await FlightClient.connect(url); });
  afterAll(() => client?.close());

  it('reads all endpoints into the same rows as the scan, and the schema matches', async () => {
    const info = await client.getFlightInfo({ cmd: { table: 'events' } });
    const t = await client.readAll(info, { concurrency: 8 });
    expect(rowsOf(t)).toEqual(rowsOf(await events.toArrow()));
    const schema = await client.getSchema({ path: ['default', 'events'] });
    expect(schema.fields.map((f) => f.name)).toEqual(['id', 'date', 'label', 'score', 'image']);
  });

  it('DoPut commits once at the end; a cancelled stream commits nothing', async () => {
    const logs = await lakehouse.createTable('logs', new Schema([new Field('n', new Int64(), false), new Field('msg', new Utf8(), true)]));
    const batch = (from: number) => new Table({ n: makeVector(BigInt64Array.from({ length: 100 }, (_, i) => BigInt(from + i))), msg: vectorFromArray(Array.from({ length: 100 }, (_, i) => `m${from + i}`), new Utf8()) } as any).batches[0];
    const ok = await client.doPut({ cmd: { table: 'logs', mode: 'append' } }, (async function* () { for (let k = 0; k < 5; k++) yield batch(k * 100); })());
    expect((ok.json as any).rows).toBe(500);
    expect((await logs.history()).length).toBe(1);

    const controller = new AbortController();
    const stream = (async function* () {
      yield batch(1000);
      yield batch(1100);
      await new Promise((r) => setTimeout(r, 300));
      controller.abort();
      await new Promise((r) => setTimeout(r, 50));
      yield batch(1200);
    })();
    await expect(client.doPut({ cmd: { table: 'logs' } }, stream, { signal: controller.signal })).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 500));
    expect((await logs.history()).length).toBe(1);
    expect((await logs.toArrow()).numRows).toBe(500);
  });

  it('DoPut with a wrong schema is INVALID_ARGUMENT naming the table and commits nothing', async () => {
    const logs = await lakehouse.table('logs');
    const wrong = new Table({ n: vectorFromArray(['not', 'a', 'number'], new Utf8()) } as any);
    await expect(client.doPut({ path: ['logs'] }, wrong)).rejects.toMatchObject({ message: expect.stringMatching(/logs/) });
    expect((await logs.history()).length).toBe(1);
  });

  it('creates a table from a field list through DoAction', async () => {
    const r = await client.doActionJson<any>('create-table', { name: 'scores', schema: [{ name: 'k', type: 'int64', nullable: false }, { name: 'v', type: 'float64' }, { name: 'at', type: 'timestamp(us, UTC)' }], primaryKeys: ['k'], hashBucketNum: 2 });
    expect(r).toMatchObject({ name: 'scores', primaryKeys: ['k'] });
    const t = await lakehouse.table('scores');
    expect(t.info.schema.fields.map((f) => String(f.type))).toEqual(['Int64', 'Float64', 'Timestamp<MICROSECOND, UTC>']);
    await expect(client.doAction('create-table', { name: 'bad', schema: [{ name: 'x', type: 'int128' }] })).rejects.toMatchObject({ kind: 'InvalidArgument' });
    expect((await client.listActions()).map((a) => a.type)).toEqual(['create-table', 'compact', 'history', 'begin', 'commit', 'rollback', 'CreatePreparedStatement', 'ClosePreparedStatement']);
  });

  it('keeps every message within a client limited to the 4 MiB gRPC default (batches of ~15 MB are split)', async () => {
    const limited = await FlightClient.connect(url, { maxReceiveMessageBytes: 4 * 1024 * 1024 });
    try {
      const info = await limited.getFlightInfo({ path: ['photos'] });
      const sentBefore = server.stats.messagesSent;
      const t = await limited.readAll(info);
      expect(t.numRows).toBe(24);
      expect(server.stats.messagesSent - sentBefore).toBeGreaterThanOrEqual(5); // schema + >= 4 pieces of ~15 MB
      for (let i = 0; i < t.numRows; i++) {
        const id = Number(t.getChild('id')!.get(i));
        expect(Buffer.from(t.getChild('jpeg')!.get(i)).equals(Buffer.from(imageBytes(id, true)))).toBe(true);
      }
    } finally {
      limited.close();
    }
  });

  it('applies backpressure: a slow reader does not make the server buffer the split', async () => {
    const before = server.stats.peakBufferedBytes;
    const info = await client.getFlightInfo({ path: ['photos'] });
    let rows = 0;
    for await (const b of client.doGet(info.endpoints[0])) {
      rows += b.numRows;
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(rows).toBe(24);
    // at most the configured in-flight bound (2 x 4 MiB by default) was pending at once
    expect(Math.max(before, server.stats.peakBufferedBytes)).toBeLessThanOrEqual(2 * 4 * 1024 * 1024);
    expect(server.stats.peakBufferedBytes).toBeGreaterThan(0);
  });

  it('stops reading the split while a client does not consume (flow control reaches the reader)', async () => {
    const ids = Array.from({ length: 64 }, (_, i) => 1000 + i);
    const big = await lakehouse.createTable('bigphotos', new Schema([new Field('id', new Int64(), false), new Field('jpeg', new Binary(), false)]));
    await big.write(new Table({ id: makeVector(BigInt64Array.from(ids, BigInt)), jpeg: vectorFromArray(ids.map((i) => imageBytes(i, true)), new Binary()) } as any));
    // 1 MiB messages: one ~600 KB row each, 64 data messages (~39 MB) for the split
    const s = createFlightServer({ lakehouse, ticketSecret: SECRET, maxMessageBytes: 1024 * 1024, maxBufferedBytes: 2 * 1024 * 1024 });
    const surl = `grpc://127.0.0.1:${await s.listen(0, '127.0.0.1')}`;
    const c = await FlightClient.connect(surl);
    try {
      const info = await c.getFlightInfo({ path: ['bigphotos'] });
      expect(info.endpoints).toHaveLength(1);
      const call = c.doGetMessages(info.endpoints[0]);
      call.on('error', () => undefined); // a failed assertion below cancels the call on close
      const received: FlightDataMessage[] = [];
      await new Promise<void>((resolve) => call.once('data', (m: FlightDataMessage) => { received.push(m); call.pause(); resolve(); }));
      await new Promise((r) => setTimeout(r, 1500));
      const sentWhilePaused = s.stats.messagesSent;
      // the paused client let the server write only a part of the 65 messages, within the pending bound
      expect(sentWhilePaused).toBeLessThan(32); // of 65: only what fits the socket buffers and the pending bound
      expect(s.stats.peakBufferedBytes).toBeLessThanOrEqual(2 * 1024 * 1024 + 1024 * 1024);
      call.on('data', (m: FlightDataMessage) => received.push(m));
      call.resume();
      await new Promise<void>((resolve, reject) => { call.on('end', resolve); call.on('error', reject); });
      expect(s.stats.messagesSent).toBe(65);
      const decoded = await decodeFlightData((async function* () { yield* received; })());
      let rows = 0;
      for await (const b of decoded.batches) rows += b.numRows;
      expect(rows).toBe(64);
    } finally {
      c.close();
      await s.close(1000);
    }
  });

  it('reports unknown tables as NotFound and forged tickets as PermissionDenied', async () => {
    await expect(client.getFlightInfo({ path: ['ghost'] })).rejects.toMatchObject({ kind: 'NotFound', message: expect.stringMatching(/ghost/) });
    await expect(client.doGet(Buffer.from('forged-ticket-bytes-forged-ticket-bytes-forged-ticket')).next()).rejects.toMatchObject({ kind: 'PermissionDenied' });
  });

  it('refuses the unexpired tickets of a dropped table, also after a table of the same name is created', async () => {
    const t = await lakehouse.createTable('dropme', eventsSchema, { primaryKeys: ['id'], hashBucketNum: 2 });
    await t.write(eventsBatch(Array.from({ length: 300 }, (_, i) => i), 'd'));
    const info = await client.getFlightInfo({ path: ['dropme'] });
    expect((await client.readAll(info)).numRows).toBe(300); // the tickets work
    await lakehouse.dropTable('dropme');
    for (const e of info.endpoints) {
      await expect(client.doGet(e).next()).rejects.toMatchObject({ kind: 'NotFound', code: 'TICKET_TABLE_DROPPED', message: expect.stringMatching(/dropme.*dropped/) });
    }
    // the old files stay (dropped without purge), so at another path: the old tickets' files still exist
    const again = await lakehouse.createTable('dropme', eventsSchema, { primaryKeys: ['id'], hashBucketNum: 2, path: `file://${join(dir, 'warehouse', 'default', 'dropme-again')}` });
    await again.write(eventsBatch([1, 2, 3], 'new'));
    await expect(client.doGet(info.endpoints[0]).next()).rejects.toMatchObject({ code: 'TICKET_TABLE_DROPPED' });
    // from pyarrow: a stale ticket of the dropped table is refused, fresh ones read the new table
    const fresh = await py('read', url, { path: ['dropme'] });
    expect(fresh.rows).toBe(3);
  });
});

describe('graceful shutdown', () => {
  it('lets a running DoGet finish, then refuses new calls', async () => {
    const s = createFlightServer({ lakehouse, ticketSecret: SECRET });
    const surl = `grpc://127.0.0.1:${await s.listen(0, '127.0.0.1')}`;
    const c = await FlightClient.connect(surl);
    const info = await c.getFlightInfo({ path: ['photos'] });
    const it = c.doGet(info.endpoints[0]);
    const first = await it.next();
    expect(first.done).toBe(false);
    const closing = s.close(10_000);
    let rows = (first.value as RecordBatch).numRows;
    for await (const b of it) rows += b.numRows;
    expect(rows).toBe(24);
    await closing;
    await expect(c.listFlights()).rejects.toBeInstanceOf(LakeSoulError);
    c.close();
  });
});
