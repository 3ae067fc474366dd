/**
 * An incremental read over Flight tells its client which partitions were rewritten (UpdateCommit:
 * update, delete, overwrite) or dropped within the range: they are read whole as of `end` (a dropped
 * one has no rows), so a consumer must replace what it holds for them and add (PK: upsert) the rest.
 * Checked with the real pyarrow.flight client (the test venv), which finds them, without custom code,
 * in the schema's custom metadata (`lakesoul.reset_partitions`) of GetFlightInfo and GetSchema (each
 * DoGet stream's: those of its own partition), and in FlightInfo.app_metadata's `resetPartitions`. Before, nothing carried them: a
 * consumer applying the increment as upserts kept deleted rows and dropped partitions forever. Also
 * the Spark source's planning (clients/python/lakesoul_ts/spark.py, called without a Spark session):
 * it refuses such an increment unless `allowResetPartitions` is "true", naming the partitions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Field, Int64, Schema, Utf8 } from 'apache-arrow';
import { Lakehouse, type LakeSoulTable } from '@lakesoul-ts/io';
import { createFlightServer, RESET_PARTITIONS_METADATA_KEY, type FlightServer } from '@lakesoul-ts/connector-flight';
import { testEnv } from './cli-env.js';
import { sparkPython } from './interop/spark-env.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const SECRET = 'e2e-flight-incremental-resets-secret-0123';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The pyarrow side: for each named CMD, what GetFlightInfo, GetSchema and each DoGet say of the reset
 * partitions, and the rows read; then the documented recipe (docs/flight.md, incremental reads)
 * applied to the state at `start`, to compare with the state at `end`.
 */
const CLIENT = String.raw`
import json, sys
import pyarrow as pa
import pyarrow.flight as fl

url, args = sys.argv[1], json.loads(sys.argv[2])
client = fl.FlightClient(url)
KEY = b"lakesoul.reset_partitions"

def desc(cmd):
    return fl.FlightDescriptor.for_command(json.dumps(cmd).encode())

def meta(schema):
    v = (schema.metadata or {}).get(KEY)
    return None if v is None else json.loads(v)

def read(cmd):
    info = client.get_flight_info(desc(cmd))
    tables = [client.do_get(e.ticket).read_all() for e in info.endpoints]
    rows = [r for t in tables for r in t.to_pylist()]
    app = json.loads(info.app_metadata) if info.app_metadata else {}
    return {
        "info": meta(info.schema),
        "app": app.get("resetPartitions", "absent"),
        "getSchema": meta(client.get_schema(desc(cmd)).schema),
        "streams": [meta(t.schema) for t in tables],
        "streamPartitions": [sorted(set("p=" + r["p"] for r in t.to_pylist())) for t in tables],
        "rows": rows,
    }

out = {name: read(cmd) for name, cmd in args["reads"].items()}

# The recipe of docs/flight.md: replace what is held for the reset partitions, upsert the rest.
held = {(r["p"], r["id"]): r for r in read(args["before"])["rows"]}
inc = client.get_flight_info(desc(args["increment"]))
reset = set(json.loads(inc.schema.metadata[KEY]))
held = {k: r for k, r in held.items() if "p=" + r["p"] not in reset}
for e in inc.endpoints:
    for r in client.do_get(e.ticket).read_all().to_pylist():
        held[(r["p"], r["id"])] = r
out["applied"] = sorted(held.values(), key=lambda r: (r["p"], r["id"]))
print(json.dumps(out))
`;

/** The Spark source's driver-side planning of an incremental read, without a Spark session. */
const SPARK_PLAN = String.raw`
import json, logging, sys
sys.path.insert(0, sys.argv[1])
from pyspark.sql.types import StructType, StructField, LongType, StringType
from lakesoul_ts.spark import LakeSoulTsReader, LakeSoulTsOptionError

records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
logging.getLogger("lakesoul_ts").addHandler(Keep())

args = json.loads(sys.argv[2])
schema = StructType([StructField("id", LongType(), False), StructField("p", StringType(), False), StructField("v", StringType(), True)])
out = {}
for name, options in args.items():
    try:
        parts = LakeSoulTsReader(options, schema).partitions()
        out[name] = {"partitions": len(parts), "warnings": list(records)}
    except LakeSoulTsOptionError as e:
        out[name] = {"error": str(e)}
    records.clear()
print(json.dumps(out))
`;

let dir: string;
let lakehouse: Lakehouse;
let server: FlightServer;
let url: string;
let t: LakeSoulTable;
let start: number;
let end: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flight-inc-resets-'));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
  const schema = new Schema([new Field('id', new Int64(), false), new Field('p', new Utf8(), false), new Field('v', new Utf8(), true)]);
  t = await lakehouse.createTable('inc', schema, { rangePartitions: ['p'], primaryKeys: ['id'], hashBucketNum: 2 });
  const rows = (ids: number[], p: string, v: string) => ids.map((id) => ({ id: BigInt(id), p, v }));
  await t.write([...rows([1, 2, 3, 4], 'a', 'v1'), ...rows([1, 2, 3, 4], 'b', 'v1'), ...rows([1, 2, 3, 4], 'c', 'v1'), ...rows([1, 2], 'd', 'v1')]);
  await sleep(5);
  start = Date.now();
  await sleep(5);
  await t.write(rows([2, 5], 'a', 'v2')); // upserts: a MergeCommit, applied as rows
  await t.deleteByKeys([{ id: 3n, p: 'b' }]); // an UpdateCommit: b is read whole
  await t.dropPartitions({ p: 'c' }); // a DeleteCommit: c has no rows
  await sleep(5);
  end = Date.now();
  await sleep(5);
  server = createFlightServer({ lakehouse, ticketSecret: SECRET, ticketTtlMs: 60_000 });
  url = `grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
});

afterAll(async () => {
  await server?.close(2000);
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Row = { id: number; p: string; v: string };
const sorted = (rows: Row[]) => [...rows].sort((x, y) => x.p.localeCompare(y.p) || x.id - y.id);

describe('incremental reads over Flight name the partitions to replace (pyarrow.flight)', () => {
  it('in the schema metadata of GetFlightInfo, GetSchema and (their own) every DoGet, and in FlightInfo.app_metadata; the documented recipe rebuilds the state at end', async () => {
    const increment = { table: 'inc', incremental: { start, end } };
    const reads = {
      increment,
      narrowed: { ...increment, partitions: ['p=a', 'p=b'] },
      snapshot: { table: 'inc' },
    };
    const { stdout } = await run(testEnv('LAKESOUL_TEST_PYTHON'), ['-c', CLIENT, url, JSON.stringify({ reads, before: { table: 'inc', timestamp: start }, increment })], { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(RESET_PARTITIONS_METADATA_KEY).toBe('lakesoul.reset_partitions');
    // as the JS plan says: b rewritten, c dropped; a (upserts) and d (untouched) are not
    const fromJs = (await t.scan({ incremental: { start, end } })).toJSON().resetPartitions;
    expect([...fromJs!].sort()).toEqual(['p=b', 'p=c']);
    const inc = r.increment;
    expect([...inc.info].sort()).toEqual(['p=b', 'p=c']);
    expect(inc.app).toEqual(inc.info);
    expect(inc.getSchema).toEqual(inc.info);
    // each DoGet stream names the reset partitions among its own (a ticket carrying the whole list
    // made FlightInfos grow with partitions^2)
    expect(inc.streams.length).toBeGreaterThan(0);
    expect(inc.streams.map((s: string[], i: number) => [s, inc.streamPartitions[i]])).toEqual(
      inc.streamPartitions.map((own: string[]) => [own.filter((p) => inc.info.includes(p)), own]));
    expect([...new Set(inc.streams.flat())]).toEqual(['p=b']); // c was dropped: no endpoint
    // the rows: a's upserts and b whole as of end (3 deleted); nothing of c, d untouched
    expect(sorted(inc.rows)).toEqual(sorted([
      { id: 2, p: 'a', v: 'v2' }, { id: 5, p: 'a', v: 'v2' },
      { id: 1, p: 'b', v: 'v1' }, { id: 2, p: 'b', v: 'v1' }, { id: 4, p: 'b', v: 'v1' },
    ]));
    // a read of some partitions names only theirs
    expect(r.narrowed.info).toEqual(['p=b']);
    expect(r.narrowed.app).toEqual(['p=b']);
    // a snapshot read says nothing (its schema is the table's, unchanged)
    expect(r.snapshot.info).toBeNull();
    expect(r.snapshot.app).toBe('absent');
    expect(r.snapshot.getSchema).toBeNull();
    for (const s of r.snapshot.streams) expect(s).toBeNull();
    // the state at start with the increment applied as documented is the state at end
    expect(r.applied).toEqual(sorted(r.snapshot.rows));
    expect(r.applied.some((x: Row) => x.p === 'c' || (x.p === 'b' && x.id === 3))).toBe(false);
  });

  it('DoGet streams read on the DoGet workers carry them too', async () => {
    const workers = createFlightServer({ lakehouse, ticketSecret: SECRET, maxDoGetsOnServerThread: 0, startDoGetWorkersAtListen: true });
    try {
      const workersUrl = `grpc://127.0.0.1:${await workers.listen(0, '127.0.0.1')}`;
      const increment = { table: 'inc', incremental: { start, end } };
      const { stdout } = await run(testEnv('LAKESOUL_TEST_PYTHON'), ['-c', CLIENT, workersUrl, JSON.stringify({ reads: { increment }, before: { table: 'inc', timestamp: start }, increment })], { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
      const r = JSON.parse(stdout.trim().split('\n').at(-1)!);
      expect(workers.stats.doGetOnWorkers).toBeGreaterThan(0);
      expect(r.increment.streams.length).toBeGreaterThan(0);
      const inc = r.increment;
      expect(inc.streams.map((s: string[], i: number) => [s, inc.streamPartitions[i]])).toEqual(
        inc.streamPartitions.map((own: string[]) => [own.filter((p) => ['p=b', 'p=c'].includes(p)), own]));
      expect(inc.streams.flat()).toContain('p=b');
    } finally {
      await workers.close(2000);
    }
  });

  it('an increment with no rewrite or drop says so with an empty list', async () => {
    const { stdout } = await run(testEnv('LAKESOUL_TEST_PYTHON'), ['-c', CLIENT, url, JSON.stringify({
      reads: { none: { table: 'inc', incremental: { start: end, end: Date.now() } } },
      before: { table: 'inc' }, increment: { table: 'inc', incremental: { start: end, end: Date.now() } },
    })], { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(r.none.info).toEqual([]);
    expect(r.none.app).toEqual([]);
    expect(r.none.rows).toEqual([]);
  });

  it('the Spark source refuses an increment with partitions to replace unless allowResetPartitions is "true", then warns naming them', async () => {
    const py = await sparkPython();
    const base = { uri: url, table: 'inc', startTimestamp: String(start), endTimestamp: String(end) };
    const { stdout } = await run(py, ['-c', SPARK_PLAN, join(ROOT, 'clients/python'), JSON.stringify({
      refused: base,
      allowed: { ...base, allowResetPartitions: 'true' },
      badValue: { ...base, allowResetPartitions: 'yes' },
      clean: { ...base, startTimestamp: String(end), endTimestamp: String(Date.now()) },
      snapshot: { uri: url, table: 'inc' },
    })], { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(r.refused.error).toMatch(/p=b/);
    expect(r.refused.error).toMatch(/p=c/);
    expect(r.refused.error).toMatch(/allowResetPartitions/);
    expect(r.allowed.partitions).toBeGreaterThan(0);
    expect(r.allowed.warnings.join('\n')).toMatch(/p=b.*p=c|p=c.*p=b/s);
    expect(r.badValue.error).toMatch(/"allowResetPartitions" must be "true" or "false"/);
    expect(r.clean.warnings).toEqual([]);
    expect(r.clean.partitions).toBe(1); // no rows: the one empty partition Spark needs
    expect(r.snapshot.warnings).toEqual([]);
  });
});
