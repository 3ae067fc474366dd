/**
 * Arrow Flight SQL end to end (issue 17 §2): the ADBC Flight SQL driver (PyPI adbc-driver-flightsql)
 * and the Arrow Flight SQL JDBC driver (Maven org.apache.arrow:flight-sql-jdbc-driver, run from the
 * Java example of docs/flight.md) against createFlightServer, on PGlite + local disk with auth on; and
 * two replicas on PostgreSQL + S3 (moto) redeeming each other's Flight SQL tickets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Field, Float64, Int64, Schema, Table, Utf8, makeVector, tableFromIPC, vectorFromArray } from 'apache-arrow';
import { Lakehouse, type LakeSoulTable } from '@lakesoul-ts/io';
import { createFlightServer, type FlightServer } from '@lakesoul-ts/connector-flight';
import { freshBucket, runPythonClient, testEnv, uniqueName } from './cli-env.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const SECRET = 'e2e-flight-sql-ticket-secret-0123456789';
const TOKEN = 'flight-sql-t0ken';
const USERS = { alice: 'alice-pw' };
/** The JDBC driver the docs' shell block fetches with mvn (19.0.0 is not published; 18.3.0 is the newest on Maven Central). */
const JDBC_DRIVER = 'org.apache.arrow:flight-sql-jdbc-driver:18.3.0';
/** The docs section whose Java block is the JDBC test program. */
const JDBC_DOC = { page: 'docs/flight.md', section: 'Flight SQL from Java (JDBC)' };

const py = (command: string, url: string, args: Record<string, unknown> = {}) => runPythonClient('flight_sql_client.py', command, url, args, 180_000);

const eventsSchema = new Schema([
  new Field('id', new Int64(), false),
  new Field('date', new Utf8(), false),
  new Field('label', new Utf8(), true),
  new Field('score', new Float64(), true),
]);

function events(ids: number[], tag: string): Table {
  return new Table(eventsSchema, {
    id: makeVector(BigInt64Array.from(ids, BigInt)),
    date: vectorFromArray(ids.map((i) => `2024-01-0${1 + (i % 2)}`), new Utf8()),
    label: vectorFromArray(ids.map((i) => (i % 7 === 0 ? null : `${tag}-${i}`)), new Utf8()),
    score: vectorFromArray(ids.map((i) => ((i * 37) % 100) / 100), new Float64()),
  } as any);
}

/** Rows as sorted JSON lines (bigints as strings), for order-free comparison. */
function rowsOf(t: Table): string[] {
  const names = t.schema.fields.map((f) => f.name);
  const out: string[] = [];
  for (let r = 0; r < t.numRows; r++) {
    out.push(JSON.stringify(names.map((n) => { const v = t.getChild(n)!.get(r); return typeof v === 'bigint' ? v.toString() : v; })));
  }
  return out.sort();
}

let dir: string;
let lakehouse: Lakehouse;
let server: FlightServer;
let url: string;
let eventsTable: LakeSoulTable;
let runs: LakeSoulTable;
let beforeUpdate: number;
const auth = { bearer: TOKEN };

beforeAll(async () => {
  testEnv('LAKESOUL_TEST_PYTHON');
  dir = mkdtempSync(join(tmpdir(), 'flight-sql-e2e-'));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
  eventsTable = await lakehouse.createTable('events', eventsSchema, { rangePartitions: ['date'], primaryKeys: ['id'], hashBucketNum: 2 });
  await eventsTable.write(events(Array.from({ length: 400 }, (_, i) => i), 'v1'), { mode: 'upsert' });
  await new Promise((r) => setTimeout(r, 30));
  beforeUpdate = Date.now();
  await new Promise((r) => setTimeout(r, 30));
  await eventsTable.write(events(Array.from({ length: 100 }, (_, i) => i * 3), 'v2'), { mode: 'upsert' });
  await lakehouse.catalog.createNamespace('lab');
  const runsSchema = new Schema([new Field('run', new Int64(), false), new Field('loss', new Float64(), true)]);
  runs = await lakehouse.createTable('runs', runsSchema, { namespace: 'lab' });
  for (const n of [3, 2]) {
    await runs.write(new Table(runsSchema, { run: makeVector(BigInt64Array.from({ length: n }, (_, i) => BigInt(i))), loss: vectorFromArray(Array.from({ length: n }, (_, i) => 1 / (i + n)), new Float64()) } as any));
  }
  server = createFlightServer({ lakehouse, ticketSecret: SECRET, tokens: [TOKEN], users: USERS });
  url = `grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
});

afterAll(async () => {
  await server?.close(2000);
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Flight SQL with the ADBC driver (PGlite catalog, local disk, auth on)', () => {
  it('answers SELECT ... WHERE with exactly the rows of the in-process read', async () => {
    const out = join(dir, 'where.arrow');
    const r = await py('query', url, { ...auth, sql: 'SELECT id, score FROM default.events WHERE score > 0.5', out });
    expect(r.error, r.message).toBeUndefined();
    expect(r.columns).toEqual(['id', 'score']);
    const expected = await eventsTable.toArrow({ columns: ['id', 'score'], filter: 'score > 0.5' });
    expect(expected.numRows).toBeGreaterThan(100);
    expect(rowsOf(tableFromIPC(readFileSync(out)))).toEqual(rowsOf(expected));
  });

  it('plans one endpoint per split (GetFlightInfo via pyarrow.flight), and one limited endpoint for LIMIT', async () => {
    const all = await py('endpoints', url, { ...auth, sql: 'SELECT * FROM events WHERE label IS NOT NULL' });
    expect(all.error, all.message).toBeUndefined();
    const plan = await eventsTable.scan({ filter: 'label IS NOT NULL' });
    expect(all.endpoints).toBe(plan.splits.length);
    expect(all.endpoints).toBe(4); // 2 partitions x 2 buckets
    expect(all.endpoint_rows.reduce((a: number, b: number) => a + b, 0)).toBe((await eventsTable.toArrow({ filter: 'label IS NOT NULL' })).numRows);
    expect(all.schema).toEqual(['id', 'date', 'label', 'score']);
    const limited = await py('endpoints', url, { ...auth, sql: "select label from default.events where label like 'v2-%' limit 7;" });
    expect(limited.error, limited.message).toBeUndefined();
    expect(limited.endpoints).toBe(1);
    expect(limited.endpoint_rows).toEqual([7]);
    expect(limited.schema).toEqual(['label']);
  });

  it('time travel: FOR TIMESTAMP AS OF and FOR VERSION AS OF equal the in-process snapshot', async () => {
    const out = join(dir, 'travel.arrow');
    const iso = new Date(beforeUpdate).toISOString();
    const r = await py('query', url, { ...auth, sql: `SELECT id, label FROM default.events FOR TIMESTAMP AS OF '${iso}' WHERE id < 30`, out });
    expect(r.error, r.message).toBeUndefined();
    const past = await eventsTable.toArrow({ columns: ['id', 'label'], filter: 'id < 30', timestamp: beforeUpdate });
    const got = tableFromIPC(readFileSync(out));
    expect(rowsOf(got)).toEqual(rowsOf(past));
    expect(rowsOf(got).some((row) => row.includes('"v2-'))).toBe(false);
    const v0 = await py('query', url, { ...auth, sql: 'SELECT * FROM lab.runs FOR VERSION AS OF 0', out });
    expect(v0.error, v0.message).toBeUndefined();
    expect(rowsOf(tableFromIPC(readFileSync(out)))).toEqual(rowsOf(await runs.toArrow({ version: 0 })));
    expect(tableFromIPC(readFileSync(out)).numRows).toBe(3);
  });

  it('adbc_get_objects lists the catalog, the namespaces, the tables and their columns', async () => {
    const r = await py('objects', url, auth);
    expect(r.error, r.message).toBeUndefined();
    expect(r.objects.map((c: any) => c.catalog_name)).toEqual(['lakesoul']);
    const schemas = r.objects[0].catalog_db_schemas;
    expect(schemas.map((s: any) => s.db_schema_name)).toEqual(['default', 'lab']);
    const tables = Object.fromEntries(schemas.flatMap((s: any) => s.db_schema_tables.map((t: any) => [`${s.db_schema_name}.${t.table_name}`, t])));
    expect(Object.keys(tables).sort()).toEqual(['default.events', 'lab.runs']);
    expect(tables['default.events'].table_type).toBe('TABLE');
    expect(tables['default.events'].table_columns.map((c: any) => [c.column_name, c.ordinal_position])).toEqual([['id', 1], ['date', 2], ['label', 3], ['score', 4]]);
    expect(tables['lab.runs'].table_columns.map((c: any) => c.column_name)).toEqual(['run', 'loss']);
    const types = await py('table_types', url, auth);
    expect(types.types).toEqual(['TABLE']);
    const schema = await py('table_schema', url, { ...auth, table: 'runs', namespace: 'lab' });
    expect(schema.fields).toEqual([['run', 'int64', false], ['loss', 'double', true]]);
  });

  it('answers GetSqlInfo (adbc_get_info) with the server name and versions', async () => {
    const r = await py('info', url, { basic: ['alice', 'alice-pw'] });
    expect(r.error, r.message).toBeUndefined();
    expect(r.info.vendor_name).toBe('lakesoul-ts');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages/connector-flight/package.json'), 'utf8'));
    expect(r.info.vendor_version).toBe(pkg.version);
    // the apache-arrow installed (a peer dependency; the workspace pins it as a devDependency)
    expect(r.info.vendor_arrow_version).toBe(pkg.devDependencies['apache-arrow']);
    expect(r.info.vendor_arrow_version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('prepared statements: prepare once, execute twice, same rows as the in-process read', async () => {
    const out = join(dir, 'prepared.arrow');
    const r = await py('prepared', url, { ...auth, sql: "SELECT id, label FROM default.events WHERE label LIKE 'v2-%' AND id < 60", out, times: 2 });
    expect(r.error, r.message).toBeUndefined();
    const expected = await eventsTable.toArrow({ columns: ['id', 'label'], filter: "label LIKE 'v2-%' AND id < 60" });
    expect(r.rows).toEqual([expected.numRows, expected.numRows]);
    expect(expected.numRows).toBe(17); // ids 0, 3, ..., 57 whose v2 label is not null (id % 7 != 0)
    expect(rowsOf(tableFromIPC(readFileSync(out)))).toEqual(rowsOf(expected));
  });

  it('refuses what it does not serve, naming the supported subset, the table or the column', async () => {
    const del = await py('query', url, { ...auth, sql: 'DELETE FROM default.events', out: join(dir, 'x.arrow') });
    expect(del.message).toMatch(/INVALID_ARGUMENT/);
    expect(del.message).toMatch(/DELETE statements are not served.*SELECT \* \| col, \.\.\. FROM \[namespace\.\]table \[WHERE <filter>\]/);
    const join_ = await py('query', url, { ...auth, sql: 'SELECT a.id FROM events a JOIN runs b ON a.id = b.run', out: join(dir, 'x.arrow') });
    expect(join_.message).toMatch(/INVALID_ARGUMENT.*answers only SELECT/);
    const missing = await py('query', url, { ...auth, sql: 'SELECT * FROM default.nope', out: join(dir, 'x.arrow') });
    expect(missing.message).toMatch(/NOT_FOUND/);
    expect(missing.message).toMatch(/nope/);
    const column = await py('query', url, { ...auth, sql: 'SELECT id, colour FROM default.events', out: join(dir, 'x.arrow') });
    expect(column.error).toBeDefined();
    expect(column.message).toMatch(/colour/);
    const filter = await py('query', url, { ...auth, sql: 'SELECT id FROM default.events WHERE score >', out: join(dir, 'x.arrow') });
    expect(filter.message).toMatch(/INVALID_ARGUMENT.*filter syntax error/);
    const noAuth = await py('query', url, { sql: 'SELECT id FROM default.events', out: join(dir, 'x.arrow') });
    expect(noAuth.message).toMatch(/UNAUTHENTICATED/);
    const badPassword = await py('info', url, { basic: ['alice', 'wrong'] });
    expect(badPassword.message).toMatch(/UNAUTHENTICATED/);
  });
});

/**
 * The blocks of the docs' JDBC section, run as written: the Java program (saved as the file the
 * shell block names) and the shell block that fetches the driver with mvn (into ~/.m2, once) and runs it.
 */
function jdbcBlocks(): { java: string; sh: string } {
  const text = readFileSync(join(ROOT, JDBC_DOC.page), 'utf8');
  const start = text.indexOf(`## ${JDBC_DOC.section}\n`);
  if (start < 0) throw new Error(`${JDBC_DOC.page} has no section "## ${JDBC_DOC.section}"`);
  const section = text.slice(start, text.indexOf('\n## ', start + 3));
  const java = /```java\n([\s\S]*?)\n```/.exec(section)?.[1];
  const sh = /```sh norun\n([\s\S]*?)\n```/.exec(section)?.[1];
  if (!java || !sh) throw new Error(`${JDBC_DOC.page} "## ${JDBC_DOC.section}" needs a java block and a sh norun block`);
  return { java, sh };
}

describe('Flight SQL with the Arrow Flight SQL JDBC driver (the Java example of docs/flight.md)', () => {
  it('connects with user and password, lists tables and columns, and SELECT ... WHERE returns the in-process rows', async () => {
    const { java, sh } = jdbcBlocks();
    const work = mkdtempSync(join(dir, 'jdbc-'));
    writeFileSync(join(work, 'FlightSqlJdbc.java'), java);
    const port = new URL(url.replace('grpc://', 'http://')).port;
    let stdout: string;
    try {
      ({ stdout } = await run('bash', ['-e', '-c', sh], {
        cwd: work,
        timeout: 280_000,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, LAKESOUL_JDBC_URL: `jdbc:arrow-flight-sql://127.0.0.1:${port}?useEncryption=false&user=alice&password=alice-pw` },
      }));
    } catch (e) {
      const err = e as { message: string; stdout?: string; stderr?: string };
      throw new Error(`the JDBC example failed (it needs Maven, Java 17 and Maven Central for ${JDBC_DRIVER}): ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
    }
    // mvn may colour its (quiet) output: strip terminal escapes before reading the program's lines.
    const lines = stdout.replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n');
    expect(lines.filter((l) => l.startsWith('table ')), stdout.slice(0, 2000)).toEqual(['table lakesoul.default.events TABLE', 'table lakesoul.lab.runs TABLE']);
    expect(lines.filter((l) => l.startsWith('column '))).toEqual(['column id BIGINT', 'column date VARCHAR', 'column label VARCHAR', 'column score DOUBLE']);
    const rows = lines.filter((l) => l.startsWith('row ')).map((l) => l.slice(4)).sort();
    const expected = await eventsTable.toArrow({ columns: ['id', 'score'], filter: 'score > 0.5' });
    const want: string[] = [];
    for (let r = 0; r < expected.numRows; r++) want.push(`${expected.getChild('id')!.get(r)} ${expected.getChild('score')!.get(r)}`);
    expect(rows).toEqual(want.sort());
    expect(rows.length).toBeGreaterThan(100);
  }, 300_000);
});

describe('Flight SQL on two replicas over PostgreSQL + S3 (moto)', () => {
  let pgLake: Lakehouse;
  let a: FlightServer;
  let b: FlightServer;
  let urlA: string;
  let urlB: string;
  let ns: string;
  let table: LakeSoulTable;

  beforeAll(async () => {
    const bucket = await freshBucket('flight-sql');
    pgLake = await Lakehouse.open({
      catalog: { url: testEnv('LAKESOUL_TEST_PG_URL') },
      stores: { s3: { endpoint: testEnv('LAKESOUL_TEST_S3_ENDPOINT'), region: 'us-east-1', forcePathStyle: true } },
      warehouse: `s3://${bucket}/warehouse`,
    });
    ns = uniqueName('fsql');
    await pgLake.catalog.createNamespace(ns);
    table = await pgLake.createTable('events', eventsSchema, { namespace: ns, rangePartitions: ['date'], primaryKeys: ['id'], hashBucketNum: 2 });
    await table.write(events(Array.from({ length: 300 }, (_, i) => i), 's3'), { mode: 'upsert' });
    a = createFlightServer({ lakehouse: pgLake, ticketSecret: SECRET });
    b = createFlightServer({ lakehouse: pgLake, ticketSecret: SECRET });
    urlA = `grpc://127.0.0.1:${await a.listen(0, '127.0.0.1')}`;
    urlB = `grpc://127.0.0.1:${await b.listen(0, '127.0.0.1')}`;
  });

  afterAll(async () => {
    await a?.close(1000);
    await b?.close(1000);
    await pgLake?.close();
  });

  it('statement and metadata tickets planned by one replica are redeemed by the other', async () => {
    const sql = `SELECT id, score FROM ${ns}.events WHERE score >= 0.25`;
    const planned = await py('tickets', urlA, { command: 'CommandStatementQuery', fields: [[1, sql]] });
    expect(planned.error, planned.message).toBeUndefined();
    expect(planned.tickets.length).toBe(4);
    const got = await py('redeem', urlB, { tickets: planned.tickets, head: 100_000 });
    const expected = await table.toArrow({ columns: ['id', 'score'], filter: 'score >= 0.25' });
    expect(got.rows).toBe(expected.numRows);
    const want: string[] = [];
    for (let r = 0; r < expected.numRows; r++) want.push(JSON.stringify([Number(expected.getChild('id')!.get(r)), expected.getChild('score')!.get(r)]));
    expect(got.pylist.map((row: any) => JSON.stringify([row.id, row.score])).sort()).toEqual(want.sort());
    // GetTables(db_schema_filter_pattern = ns) planned at A, run at B
    const meta = await py('tickets', urlA, { command: 'CommandGetTables', fields: [[2, ns]] });
    const listed = await py('redeem', urlB, { tickets: meta.tickets });
    expect(listed.pylist).toEqual([{ catalog_name: 'lakesoul', db_schema_name: ns, table_name: 'events', table_type: 'TABLE' }]);
    expect(b.stats.doGetCalls).toBe(5);
    expect(a.stats.doGetCalls).toBe(0);
  });

  it('ADBC reads the table through either replica', async () => {
    const out = join(dir, 'pg.arrow');
    const r = await py('query', urlB, { sql: `SELECT * FROM ${ns}.events WHERE label LIKE 's3-1%'`, out });
    expect(r.error, r.message).toBeUndefined();
    expect(rowsOf(tableFromIPC(readFileSync(out)))).toEqual(rowsOf(await table.toArrow({ filter: "label LIKE 's3-1%'" })));
  });
});
