/**
 * Flight defects found through pyarrow.flight against the server, each pinned with the real client:
 * filter literals beyond 2^53 in read commands and Flight SQL, interval columns at create-table,
 * types that round trip through create-table (schemaIpc) + DoPut + DoGet, a row bigger than the
 * Flight message bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Field, Float32, Int64, IntervalDayTime, IntervalYearMonth, Schema, Table, Uint64, Utf8, makeData, makeVector, tableFromIPC, vectorFromArray } from 'apache-arrow';
import { arrowSchemaToJson } from '@lakesoul-ts/meta';
import { Lakehouse } from '@lakesoul-ts/io';
import { FlightClient, createFlightServer, type FlightServer } from '@lakesoul-ts/connector-flight';
import { runPythonClient, testEnv } from './cli-env.js';

const SECRET = 'e2e-flight-findings-secret-0123456789';

async function findings(command: string, url: string, args: Record<string, unknown> = {}): Promise<any> {
  const script = resolve(import.meta.dirname, 'python', 'flight_findings.py');
  const { stdout } = await promisify(execFile)(testEnv('LAKESOUL_TEST_PYTHON'), [script, command, url, JSON.stringify(args)], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

const TWO53 = 2n ** 53n;
let dir: string;
let lakehouse: Lakehouse;
let server: FlightServer;
let url: string;

beforeAll(async () => {
  testEnv('LAKESOUL_TEST_PYTHON');
  dir = mkdtempSync(join(tmpdir(), 'flight-findings-'));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
  const schema = new Schema([new Field('id', new Int64(), false), new Field('big', new Int64(), true), new Field('f32', new Float32(), true), new Field('u', new Uint64(), true)]);
  const r2 = await lakehouse.createTable('r2', schema);
  await r2.write(new Table(schema, {
    id: makeVector(BigInt64Array.from([1n, 2n, 3n, TWO53 + 1n])),
    big: makeVector(BigInt64Array.from([TWO53, TWO53 + 1n, TWO53 + 2n, 5n])),
    f32: makeVector(Float32Array.from([0.5, 3e38, 0.1, 1])),
    u: makeVector(BigUint64Array.from([2n ** 64n - 1n, 1n, 2n ** 63n, 0n])),
  } as any));
  server = createFlightServer({ lakehouse, ticketSecret: SECRET, ticketTtlMs: 60_000 });
  url = `grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
});

afterAll(async () => {
  await server?.close(2000);
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('filter literals beyond 2^53 (the parser makes them bigints) through Flight', () => {
  const ids = (r: any) => r.rows.map((x: any) => String(x.id)).sort();
  it.each([
    ['big = 9007199254740993', ['2']],
    ['big = 9007199254740992', ['1']],
    ['big >= 9007199254740993', ['2', '3']],
    ['id = 9007199254740993', ['9007199254740993']],
    ['id < 1e20', ['1', '2', '3', '9007199254740993']],
    ['f32 > 1e38', ['2']],
    ['u = 18446744073709551615', ['1']],
    ['big in (9007199254740993, 9007199254740994)', ['2', '3']],
  ])('GetFlightInfo + DoGet with CMD filter %s', async (filter, want) => {
    const r = await findings('read', url, { cmd: { table: 'r2', filter } });
    expect(r.error, r.message).toBeUndefined();
    expect(ids(r)).toEqual(want);
  });

  it('the filter AST form with the literal as a string of JSON is refused or read, never INTERNAL', async () => {
    const r = await findings('read', url, { cmd: { table: 'r2', filter: { op: '=', column: 'big', value: 9007199254740993 } } });
    // JSON numbers are doubles: 9007199254740993 arrives as ...992
    expect(r.error, r.message).toBeUndefined();
    expect(ids(r)).toEqual(['1']);
  });

  it('Flight SQL (ADBC): SELECT id FROM r2 WHERE big = 9007199254740993 returns the one row', async () => {
    const out = join(dir, 'sql-big.arrow');
    const r = await runPythonClient('flight_sql_client.py', 'query', url, { sql: 'SELECT id FROM r2 WHERE big = 9007199254740993', out });
    expect(r.error, r.message).toBeUndefined();
    const t = tableFromIPC(readFileSync(out));
    expect(t.numRows).toBe(1);
    expect(t.getChild('id')!.get(0)).toBe(2n);
  });
});

describe('column types through create-table (schemaIpc) + DoPut + DoGet with pyarrow', () => {
  it('month_day_nano interval: refused at create-table, Unsupported naming the column (Parquet cannot store it)', async () => {
    const r = await findings('create', url, { name: 'iv_mdn', columns: { span: 'month_day_nano' } });
    expect(r.error).toBe('ArrowNotImplementedError'); // pyarrow's class for UNIMPLEMENTED (Unsupported)
    expect(r.message).toMatch(/column 'span'/);
    expect(r.message).toMatch(/month_day_nano/i);
    expect(r.message).not.toMatch(/INTERNAL/);
    expect((await lakehouse.listTables()).map((t) => t.name)).not.toContain('iv_mdn');
  });

  it('timestamp[s] is stored as such and read back exactly (Parquet holds milliseconds, the read casts back)', async () => {
    const r = await findings('roundtrip', url, { name: 'rt_ts_s', columns: { c: 'timestamp_s' } });
    expect(r.error, r.message).toBeUndefined();
    expect(r.types).toEqual(['int64', 'timestamp[s]']);
    expect(r.values.c).toEqual(['datetime.datetime(2024, 1, 1, 0, 0, 1)', 'datetime.datetime(2262, 4, 12, 0, 0)']);
  });

  it('duration[ms]: create-table via schemaIpc accepts it and it round trips', async () => {
    const r = await findings('roundtrip', url, { name: 'rt_dur_ms', columns: { c: 'duration_ms' } });
    expect(r.error, r.message).toBeUndefined();
    expect(r.types).toEqual(['int64', 'duration[ms]']);
    expect(r.values.c).toEqual(r.sent.c);
    expect(r.values.c).toEqual(['datetime.timedelta(microseconds=1000)', 'datetime.timedelta(days=3, microseconds=7000)']);
  });

  it('dictionary<int32, utf8>: create-table stores utf8, DoPut takes the dictionary column, DoGet returns plain strings', async () => {
    const r = await findings('roundtrip', url, { name: 'rt_dict', columns: { c: 'dictionary' } });
    expect(r.error, r.message).toBeUndefined();
    expect(r.sent_types).toEqual(['int64', 'dictionary<values=string, indices=int32, ordered=0>']);
    expect(r.types).toEqual(['int64', 'string']);
    expect(r.values.c).toEqual(r.sent.c);
  });

  it('interval[year_month] and interval[day_time] round trip through create-table + DoPut + DoGet (TS client)', async () => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field('ym', new IntervalYearMonth(), true), new Field('dt', new IntervalDayTime(), true)]);
    const client = await FlightClient.connect(url);
    try {
      await client.doActionJson('create-table', { name: 'rt_intervals', schema: JSON.parse(arrowSchemaToJson(schema)) });
      const ym = makeData({ type: new IntervalYearMonth(), length: 3, nullCount: 1, nullBitmap: Uint8Array.of(0b011), data: Int32Array.of(13, -1, 0) });
      const dt = makeData({ type: new IntervalDayTime(), length: 3, nullCount: 1, nullBitmap: Uint8Array.of(0b011), data: Int32Array.of(1, 1000, -2, 5, 0, 0) });
      const sent = new Table(schema, { id: makeVector(BigInt64Array.from([1n, 2n, 3n])), ym: makeVector(ym), dt: makeVector(dt) } as any);
      await client.doPut({ cmd: { table: 'rt_intervals' } }, sent);
      const got = await client.readAll(await client.getFlightInfo({ cmd: { table: 'rt_intervals' } }));
      expect(got.schema.fields.map((f) => String(f.type))).toEqual(schema.fields.map((f) => String(f.type)));
      const cells = (t: Table, c: string) => Array.from({ length: t.numRows }, (_, i) => { const v = t.getChild(c)!.get(i); return v === null ? null : Array.from(v as Int32Array); });
      expect(cells(got, 'ym')).toEqual(cells(sent, 'ym'));
      expect(cells(got, 'dt')).toEqual(cells(sent, 'dt'));
    } finally {
      client.close();
    }
  });
});

describe('a row bigger than the Flight message bound (4 MiB by default)', () => {
  it('DoPut of a 5 MiB row, then DoGet with pyarrow: the row comes back in one message of its own (pyarrow receives it)', async () => {
    const r = await findings('big_row', url, { name: 'big_default', bytes: 5 << 20 });
    expect(r.error, r.message).toBeUndefined();
    expect(r.put.rows).toBe(1);
    expect(r.read_error, r.read_message).toBeUndefined();
    expect([r.rows, r.length]).toEqual([1, 5 << 20]);
  });

  it('a row over the single-row bound (the largest message the server receives) is refused naming the options and the serve flag, never INTERNAL', async () => {
    const t = await lakehouse.createTable('big_io', new Schema([new Field('id', new Int64(), false), new Field('s', new Utf8(), true)]));
    await t.write(new Table({ id: makeVector(BigInt64Array.from([1n])), s: vectorFromArray(['y'.repeat(3 << 20)], new Utf8()) } as any));
    const small = createFlightServer({ lakehouse, ticketSecret: SECRET, maxMessageBytes: 1 << 20, maxReceiveMessageBytes: 2 << 20 });
    const smallUrl = `grpc://127.0.0.1:${await small.listen(0, '127.0.0.1')}`;
    try {
      const r = await findings('read', smallUrl, { cmd: { table: 'big_io' } });
      expect(r.error).toBe('ArrowInvalid'); // INVALID_ARGUMENT
      expect(r.message).toMatch(/a single row of batch encodes to \d+ bytes, over the bound of a single-row Flight message, \d+ bytes/);
      expect(r.message).toMatch(/maxReceiveMessageBytes or maxMessageBytes/);
      expect(r.message).toMatch(/lakesoul-ts serve --max-message-size/);
      // the same table through the default server: the row is sent
      const ok = await findings('read', url, { cmd: { table: 'big_io', columns: ['id'] } });
      expect(ok.rows).toEqual([{ id: 1 }]);
    } finally {
      await small.close(2000);
    }
  });
});
