/**
 * The lakesoul_ts Spark data source (clients/python) in a local[2] Spark session, against a Flight
 * server on the real PostgreSQL catalog and the moto S3 store. The Spark executors reach the server
 * through a byte-counting TCP proxy, so "pushed filters reduce what is sent" is measured on the wire.
 * One Spark session runs every step (e2e/python/spark_source.py); the test checks each answer against
 * the in-process read, the catalog and the lakesoul wheel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ListObjectVersionsCommand, ListObjectsV2Command, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { Binary, Field, Float32, Float64, Int64, Schema, Table, TimeUnit, Timestamp, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { Catalog } from '@lakesoul-ts/meta';
import { Lakehouse, type LakeSoulTable } from '@lakesoul-ts/io';
import { createFlightServer, type FlightServer } from '@lakesoul-ts/connector-flight';
import { sparkPython } from './interop/spark-env.js';
import { canonicalRows, interopEnv, lakesoulPy, readIpc, scratchDir, writeIpc, type InteropEnv } from './interop/interop-env.js';

const DRIVER = resolve(__dirname, 'python/spark_source.py');
const SECRET = 'spark-source-ticket-secret-0123456789';

const schema = new Schema([
  new Field('id', new Int64(), false),
  new Field('date', new Utf8(), false),
  new Field('label', new Utf8(), true),
  new Field('score', new Float64(), true),
  new Field('payload', new Binary(), true),
]);

function rows(ids: number[], tag: string): Table {
  return new Table(schema, {
    id: makeVector(BigInt64Array.from(ids, BigInt)),
    date: vectorFromArray(ids.map((i) => `2024-05-0${1 + (i % 3)}`), new Utf8()),
    label: vectorFromArray(ids.map((i) => (i % 7 === 0 ? null : `${tag}-${i}`)), new Utf8()),
    score: vectorFromArray(ids.map((i) => (i % 11 === 0 ? null : ((i * 7919) % 1000) / 1000)), new Float64()),
    payload: vectorFromArray(ids.map((i) => createHash('sha256').update(`${tag}${i}`).digest().subarray(0, 8 + (i % 24))), new Binary()),
  } as any);
}

/** Order-free checksum of a table's rows over `columns`. */
function checksum(t: Table, columns: string[]): string {
  return createHash('sha256').update(JSON.stringify(canonicalRows(t, columns))).digest('hex');
}

let env: InteropEnv;
let scratch: { dir: string; cleanup: () => void };
let catalog: Catalog;
let lake: Lakehouse;
let server: FlightServer;
let proxy: Server;
let stats: HttpServer;
let sent = 0;
let uri: string;
let bytesUrl: string;
let bucket: string;
let events: LakeSoulTable;
let sink: LakeSoulTable;
let afterFirst: number;
let afterSecond: number;
let docTable: LakeSoulTable;
let over: LakeSoulTable;
let part: LakeSoulTable;
let loose: LakeSoulTable;
/** Object keys of `over`'s files before the Spark session (its first overwrite replaces them). */
let overOldKeys: string[];
const ns = `spark_${randomBytes(3).toString('hex')}`;
const ALL = ['id', 'date', 'label', 'score', 'payload'];

async function listen(s: Server | HttpServer): Promise<number> {
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', () => res()));
  return (s.address() as { port: number }).port;
}

function spark(py: string, steps: unknown[]): Promise<any[]> {
  return new Promise((res, rej) => {
    execFile(py, [DRIVER, JSON.stringify({ steps, bytesUrl })], {
      env: { ...process.env, PYSPARK_PYTHON: py, SPARK_LOCAL_IP: '127.0.0.1' }, maxBuffer: 64 * 1024 * 1024, timeout: 1_200_000,
    }, (error, stdout, stderr) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        res(JSON.parse(last));
      } catch {
        rej(new Error(`spark_source.py failed${error?.killed ? " (killed: the 20 min limit)" : ""}: ${error?.message}\n${stdout.slice(-4000)}\n${stderr.slice(-8000)}`));
      }
    });
  });
}

function s3(): S3Client {
  return new S3Client({ endpoint: env.s3Endpoint, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'testing', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'testing' } });
}

/** Keys of the objects under `prefix` now. */
async function s3Keys(prefix: string): Promise<string[]> {
  const client = s3();
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.NextContinuationToken;
  } while (token);
  client.destroy();
  return keys.sort();
}

/** Keys under `prefix` that were written and later deleted (the bucket is versioned: a delete leaves a marker). */
async function s3DeletedKeys(prefix: string): Promise<string[]> {
  const client = s3();
  const page = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, MaxKeys: 1000 }));
  client.destroy();
  return [...new Set((page.DeleteMarkers ?? []).filter((m) => m.IsLatest).map((m) => m.Key!))].sort();
}

/** The bucket key of an s3:// file path. */
function keyOf(path: string): string {
  return new URL(path).pathname.replace(/^\/+/, '');
}

/** Object keys of the files of `table`'s current version. */
async function committedKeys(table: LakeSoulTable): Promise<string[]> {
  return (await table.scan()).splits.flatMap((s) => s.files.map((f) => keyOf(f.path))).sort();
}

/** The table's rows as the lakesoul wheel reads them. */
async function wheelRows(name: string): Promise<Record<string, unknown>[]> {
  const file = join(scratch.dir, `${name}-wheel.arrow`);
  await lakesoulPy(env, 'scan', { name, namespace: ns, output: file });
  return canonicalRows(readIpc(file), ALL);
}

/** A fenced block of docs/flight.md's section `heading`. */
function docBlock(heading: string, lang: string): string {
  const text = readFileSync(resolve(__dirname, '../docs/flight.md'), 'utf8');
  const at = text.indexOf(`\n## ${heading}\n`);
  const m = at < 0 ? null : new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(text.slice(at));
  if (!m) throw new Error(`docs/flight.md has no ${lang} block in section '${heading}'`);
  return m[1];
}

let results: Record<string, any>;
let py: string;
const out = (name: string) => join(scratch.dir, `${name}.arrow`);

beforeAll(async () => {
  env = interopEnv();
  scratch = scratchDir('spark');
  py = await sparkPython();
  bucket = `spark-${randomBytes(4).toString('hex')}`;
  await lakesoulPy(env, 'make_bucket', { bucket });
  // Versioned, so that files written and deleted again (staged, then rolled back) leave a trace.
  const client = s3();
  await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  client.destroy();
  catalog = await Catalog.open({ url: env.pgUrl });
  lake = await Lakehouse.open({ catalog, warehouse: `s3://${bucket}/warehouse`, stores: { env: { ...process.env, AWS_ENDPOINT: env.s3Endpoint } } });
  await catalog.createNamespace(ns);
  events = await lake.createTable('events', schema, { namespace: ns, rangePartitions: ['date'], primaryKeys: ['id'], hashBucketNum: 2 });
  await events.write(rows(Array.from({ length: 12_000 }, (_, i) => i), 'one'));
  afterFirst = Date.now();
  await new Promise((r) => setTimeout(r, 20));
  await events.write(rows(Array.from({ length: 4_000 }, (_, i) => 10_000 + i), 'two')); // 2 000 upserted, 2 000 new: merge-on-read
  afterSecond = Date.now();
  sink = await lake.createTable('sink', schema, { namespace: ns, rangePartitions: ['date'] });
  over = await lake.createTable('over', schema, { namespace: ns, rangePartitions: ['date'] });
  await over.write(rows(Array.from({ length: 900 }, (_, i) => i), 'over-old'));
  overOldKeys = (await over.scan()).splits.flatMap((s) => s.files.map((f) => keyOf(f.path)));
  part = await lake.createTable('part', schema, { namespace: ns, rangePartitions: ['date'], primaryKeys: ['id'], hashBucketNum: 2 });
  await part.write(rows(Array.from({ length: 3_000 }, (_, i) => i), 'part-old'));
  const docSchema = new Schema([new Field('id', new Int64(), false), new Field('score', new Float64(), true)]);
  docTable = await lake.createTable(`docs_${randomBytes(4).toString('hex')}`, docSchema, { namespace: 'default' });
  await docTable.write(new Table(docSchema, {
    id: makeVector(BigInt64Array.from({ length: 500 }, (_, i) => BigInt(i))), score: vectorFromArray(Array.from({ length: 500 }, (_, i) => i / 500), new Float64()),
  } as any));

  // Floats with NaN, +-0, infinity and null (Spark orders NaN above everything, equal to itself).
  const nanSchema = new Schema([new Field('id', new Int64(), false), new Field('score', new Float64(), true), new Field('f', new Float32(), true)]);
  const nanValues = [0.1, NaN, 0.9, 1.0, -0.0, Infinity, null];
  await (await lake.createTable('nans', nanSchema, { namespace: ns })).write(new Table(nanSchema, {
    id: makeVector(BigInt64Array.from(nanValues, (_, i) => BigInt(i + 1))),
    score: vectorFromArray(nanValues, new Float64()), f: vectorFromArray(nanValues, new Float32()),
  } as any));
  // 2024-05-01T12:00:00Z, as an instant and as a zone-less wall-clock time.
  const timesSchema = new Schema([new Field('id', new Int64(), false), new Field('ts', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), true),
    new Field('ntz', new Timestamp(TimeUnit.MICROSECOND), true)]);
  const noon = Date.UTC(2024, 4, 1, 12);
  await (await lake.createTable('times', timesSchema, { namespace: ns })).write(new Table(timesSchema, {
    id: makeVector(BigInt64Array.from([1n])), ts: vectorFromArray([noon], timesSchema.fields[1].type), ntz: vectorFromArray([noon], timesSchema.fields[2].type),
  } as any));
  loose = await lake.createTable('loose', schema, { namespace: ns });
  await lake.createTable('flaky', schema, { namespace: ns });
  await lake.createTable('wtimes', timesSchema, { namespace: ns });
  const nulSchema = new Schema([new Field('id', new Int64(), false), new Field('s', new Utf8(), true)]);
  await (await lake.createTable('nul', nulSchema, { namespace: ns })).write(new Table(nulSchema, {
    id: makeVector(BigInt64Array.from([1n, 2n])), s: vectorFromArray(['a\u0000b', 'a'], new Utf8()),
  } as any));

  server = createFlightServer({ lakehouse: lake, ticketSecret: SECRET });
  const port = await server.listen(0, '127.0.0.1');
  proxy = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    upstream.on('data', (d) => { sent += d.length; });
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  uri = `grpc://127.0.0.1:${await listen(proxy)}`;
  stats = createHttpServer((_req, res) => res.end(JSON.stringify({ bytes: sent })));
  bytesUrl = `http://127.0.0.1:${await listen(stats)}/`;

  const base = { uri, table: 'events', namespace: ns };
  const appendInput = writeIpc(rows(Array.from({ length: 3_000 }, (_, i) => 50_000 + i), 'spark'), out('append-input'));
  const upsertInput = writeIpc(rows(Array.from({ length: 300 }, (_, i) => i * 3), 'upserted'), out('upsert-input'));
  const flakyInput = writeIpc(rows(Array.from({ length: 2_000 }, (_, i) => 40_000 + i), 'flaky'), out('flaky-input'));
  const killInput = writeIpc(rows(Array.from({ length: 2_000 }, (_, i) => 90_000 + i), 'killed'), out('kill-input'));
  const overInput = writeIpc(rows(Array.from({ length: 2_500 }, (_, i) => 70_000 + i), 'over'), out('over-input'));
  const partInput = writeIpc(rows(Array.from({ length: 600 }, (_, i) => i * 3), 'part-new'), out('part-input')); // date 2024-05-01 only
  const overOpts = { uri, table: 'over', namespace: ns };
  const partOpts = { uri, table: 'part', namespace: ns };
  const nanOpts = { uri, table: 'nans', namespace: ns };
  const looseOpts = { uri, table: 'loose', namespace: ns };
  const looseInput = writeIpc(rows(Array.from({ length: 50 }, (_, i) => i), 'loose'), out('loose-input'));
  const steps: (Record<string, unknown> & { name: string })[] = [
    { name: 'full', op: 'read', options: base, out: out('full') },
    { name: 'pushed', op: 'read', options: base, where: 'score > 0.5', select: ['id', 'score'], schema: 'id long, score double', out: out('pushed') },
    // The same predicate as an expression Spark cannot push: every row of the two columns is sent.
    { name: 'not-pushed', op: 'read', options: base, where: 'score * 1.0 > 0.5', select: ['id', 'score'], schema: 'id long, score double', out: out('not-pushed') },
    { name: 'as-of', op: 'read', options: { ...base, timestampAsOf: String(afterFirst) }, out: out('as-of') },
    { name: 'incremental', op: 'read', options: { ...base, startTimestamp: String(afterFirst), endTimestamp: String(afterSecond) }, out: out('incremental') },
    { name: 'append', op: 'write', options: { uri, table: 'sink', namespace: ns }, input: appendInput, tasks: 3 },
    { name: 'sink-back', op: 'read', options: { uri, table: 'sink', namespace: ns }, out: out('sink-back') },
    { name: 'upsert', op: 'write', options: { ...base, writeMode: 'upsert' }, input: upsertInput, tasks: 2 },
    { name: 'upsert-back', op: 'read', options: base, out: out('upsert-back') },
    { name: 'kill', op: 'write', options: { uri, table: 'sink', namespace: ns }, input: killInput, tasks: 2, kill: true },
    { name: 'overwrite', op: 'write', options: overOpts, input: overInput, tasks: 3, mode: 'overwrite' },
    { name: 'over-back', op: 'read', options: overOpts, out: out('over-back') },
    // The writer's own Python worker dies mid-DoPut, in an overwrite: the table keeps the rows above.
    { name: 'overwrite-killed', op: 'write', format: 'lakesoul_ts_killed', options: overOpts, input: killInput, tasks: 2, mode: 'overwrite' },
    // The first attempt of one task fails with a Python exception mid-DoPut; Spark runs it again.
    { name: 'flaky', op: 'write', format: 'lakesoul_ts_flaky', options: { uri, table: 'flaky', namespace: ns }, input: flakyInput, tasks: 2 },
    { name: 'replace-where', op: 'write', options: { ...partOpts, replaceWhere: "date = '2024-05-01'" }, input: partInput, tasks: 2, mode: 'overwrite' },
    { name: 'part-back', op: 'read', options: partOpts, out: out('part-back') },
    // Rows outside the partitions replaced: the write fails and commits nothing.
    { name: 'replace-outside', op: 'write', options: { ...partOpts, replacePartitions: 'date=2024-05-02' }, input: partInput, tasks: 2, mode: 'overwrite' },
    { name: 'overwrite-writeMode', op: 'write', options: { ...overOpts, writeMode: 'upsert' }, input: overInput, mode: 'overwrite' },
    // NaN: pushed comparisons select what Spark's own evaluation selects.
    ...['score > 0.5', 'score + 0 > 0.5', 'score >= 1.0', 'f > 0.5', 'f >= 1.0', 'score < 0.5', 'score <= 1.0', 'score = 1.0', 'score <=> 1.0', 'score in (0.1, 1.0)']
      .map((where) => ({ name: `nan: ${where}`, op: 'read', options: nanOpts, where, exprs: ['id'], collect: true })),
    // A user schema: names as Spark matches them (case-insensitively), types the table's.
    { name: 'schema-case', op: 'read', options: nanOpts, schema: 'ID long, SCORE double', where: 'SCORE > 0.5', collect: true },
    { name: 'schema-type', op: 'read', options: nanOpts, schema: 'id int', fails: true },
    // The columns option matches as a schema does (it was refused: "no column 'ID'").
    { name: 'columns-case', op: 'read', options: { ...nanOpts, columns: 'ID, Score' }, where: 'score > 0.5', collect: true },
    { name: 'columns-unknown', op: 'read', options: { ...nanOpts, columns: 'id,nope' }, fails: true },
    // Zone-less timestamps are timestamp_ntz: a session time zone does not shift them.
    { name: 'times', op: 'read', options: { uri, table: 'times', namespace: ns }, conf: { 'spark.sql.session.timeZone': 'America/New_York' },
      exprs: ['cast(ts as string)', 'cast(ntz as string)'], collect: true },
    { name: 'times-schema', op: 'read', options: { uri, table: 'times', namespace: ns }, collect: true },
    // A session with filter pushdown off reads (the filter stays with Spark).
    { name: 'pushdown-off', op: 'read', options: nanOpts, conf: { 'spark.sql.python.filterPushdown.enabled': 'false' }, where: 'score > 0.5', exprs: ['id'], collect: true },
    { name: 'pushdown-option-off', op: 'read', options: { ...nanOpts, filterPushdown: 'false' }, where: 'score > 0.5', exprs: ['id'], collect: true },
    // versionAsOf names a partition's version: with the partitions option it reads that partition.
    { name: 'version-partition', op: 'read', options: { ...partOpts, versionAsOf: '0', partitions: 'date=2024-05-02' }, out: out('version-partition') },
    { name: 'version-no-partition', op: 'read', options: { ...partOpts, versionAsOf: '0' }, fails: true },
    // Writes: a column the table lacks is refused, not dropped; a missing nullable column is nulls.
    { name: 'write-extra', op: 'write', options: looseOpts, input: looseInput, exprs: ['id', 'date', 'label', 'score as scroe', 'payload'] },
    { name: 'write-missing-key', op: 'write', options: looseOpts, input: looseInput, exprs: ['date', 'score'] },
    { name: 'write-loose', op: 'write', options: looseOpts, input: looseInput, exprs: ['id as ID', 'DATE', 'score'] },
    // Found by a hunt of the Spark source: a literal holding NUL, or an IN list longer than a read
    // command holds, failed the query when pushed; they stay with Spark.
    { name: 'nul-literal', op: 'read', options: { uri, table: 'nul', namespace: ns }, where: "s = 'a\\u0000b' and s like 'a\\u0000%'", exprs: ['id'], collect: true },
    { name: 'long-in', op: 'read', options: nanOpts, where: `id in (${Array.from({ length: 20_000 }, (_, i) => i).join(',')}) and score > 0.5`, exprs: ['id'], collect: true },
    // Timestamps written across kinds, in a Los Angeles session: as Spark's casts (they were shifted
    // by the zone's offset: 12:00 LTZ stored as 19:00 wall clock)
    ...[
      { name: 'ltz-into-ntz', exprs: ['id', "timestamp'2024-07-01 12:00:00' as ntz"], options: {} },
      { name: 'ntz-into-ltz', exprs: ['id + 100 as id', "timestamp_ntz'2024-07-01 12:00:00' as ts"], options: {} },
      { name: 'ntz-into-ltz-zone', exprs: ['id + 200 as id', "timestamp_ntz'2024-07-01 12:00:00' as ts"], options: { timeZone: 'America/Los_Angeles' } },
      { name: 'bad-zone', exprs: ['id + 300 as id', "timestamp_ntz'2024-07-01 12:00:00' as ts"], options: { timeZone: 'Mars/Olympus' } },
      // a time the clock skips (2:00 -> 3:00 on 2024-03-10): Spark moves it later by the gap
      { name: 'ntz-in-gap', exprs: ['id + 400 as id', "timestamp_ntz'2024-03-10 02:30:00' as ts"], options: { timeZone: 'America/Los_Angeles' } },
    ].map((w) => ({ ...w, op: 'write', options: { uri, table: 'wtimes', namespace: ns, ...w.options }, input: looseInput, where: 'id % 100 = 0', tasks: 1, conf: { 'spark.sql.session.timeZone': 'America/Los_Angeles' } })),
    { name: 'docs', op: 'exec', code: docBlock('Spark', 'python').replaceAll('grpc://127.0.0.1:8815', uri).replaceAll('"events"', `"${docTable.info.name}"`) },
  ];
  const answers = await spark(py, steps);
  results = Object.fromEntries(steps.map((s, i) => [s.name, answers[i]]));
  if (process.env.SPARK_SOURCE_DEBUG) console.log(JSON.stringify(results, null, 1));
}, 1_500_000);

afterAll(async () => {
  await server?.close(1000);
  proxy?.close();
  stats?.close();
  await lake?.close();
  await catalog?.close();
  scratch?.cleanup();
});

describe('Spark (local[2]) reads and writes through the lakesoul_ts data source', () => {
  it('a read has one Spark partition per Flight endpoint and equals the in-process read (rows and checksum)', async () => {
    const info = await (await lake.table('events', ns)).scan();
    expect(results.full.partitions).toBe(info.splits.length);
    expect(info.splits.length).toBe(6); // 3 dates x 2 buckets
    const spark = readIpc(out('full'));
    // As of the read: the upsert step ran later in the session.
    const local = await events.toArrow({ timestamp: afterSecond });
    expect(spark.numRows).toBe(14_000);
    expect(checksum(spark, ALL)).toBe(checksum(local, ALL));
    expect(canonicalRows(spark, ALL)).toEqual(canonicalRows(local, ALL));
  });

  it('filters and projection are pushed into the CMD: same rows, far fewer bytes on the wire', async () => {
    const pushed = readIpc(out('pushed'));
    const notPushed = readIpc(out('not-pushed'));
    const local = await events.toArrow({ timestamp: afterSecond, filter: 'score > 0.5', columns: ['id', 'score'] });
    expect(pushed.schema.fields.map((f) => f.name)).toEqual(['id', 'score']);
    expect(canonicalRows(pushed)).toEqual(canonicalRows(local));
    expect(canonicalRows(notPushed)).toEqual(canonicalRows(local));
    expect(local.numRows).toBeGreaterThan(3000);
    // Without pushdown every row of the two columns crosses the wire; with it only the matching half.
    expect(results.pushed.bytes).toBeLessThan(results['not-pushed'].bytes * 0.75);
    expect(results['not-pushed'].bytes).toBeLessThan(results.full.bytes); // the projection alone already saves the other columns
  });

  it('time travel and incremental reads as options', async () => {
    const asOf = readIpc(out('as-of'));
    expect(asOf.numRows).toBe(12_000);
    expect(canonicalRows(asOf, ALL)).toEqual(canonicalRows(await events.toArrow({ timestamp: afterFirst }), ALL));
    const inc = readIpc(out('incremental'));
    const local = await events.toArrow({ incremental: { start: afterFirst, end: afterSecond } });
    expect(inc.numRows).toBe(local.numRows);
    expect(canonicalRows(inc, ALL)).toEqual(canonicalRows(local, ALL));
    expect(inc.numRows).toBeGreaterThanOrEqual(4_000);
  });

  it('a write is one commit, read back identically by Spark, by this project and by the lakesoul wheel', async () => {
    expect(results.append).toMatchObject({ ok: true });
    const want = canonicalRows(readIpc(out('append-input')), ALL);
    expect(canonicalRows(await sink.toArrow({ timestamp: Date.now() }), ALL)).toEqual(want);
    expect(canonicalRows(readIpc(out('sink-back')), ALL)).toEqual(want);
    expect(await wheelRows('sink')).toEqual(want);
    // Three tasks, three partitions (dates): ONE commit, so every partition is at its first version.
    const versions = (await (await lake.table('sink', ns)).scan()).toJSON().partitionVersions;
    expect(Object.keys(versions)).toHaveLength(3);
    for (const v of Object.values(versions)) expect(v).toBe(0);
  });

  it('upsert on a primary-key table, read back identically by Spark, by this project and by the lakesoul wheel', async () => {
    expect(results.upsert).toMatchObject({ ok: true });
    const now = await (await lake.table('events', ns)).toArrow();
    expect(now.numRows).toBe(14_000);
    const byId = new Map(canonicalRows(now, ALL).map((r) => [r.id, r]));
    const upserted = canonicalRows(readIpc(out('upsert-input')), ALL);
    for (const r of upserted) expect(byId.get(r.id)).toEqual(r);
    expect(canonicalRows(readIpc(out('upsert-back')), ALL)).toEqual(canonicalRows(now, ALL));
    expect(await wheelRows('events')).toEqual(canonicalRows(now, ALL));
  });

  it('overwrite replaces the whole table in one commit, read back identically by Spark, by this project and by the lakesoul wheel', async () => {
    expect(results.overwrite).toMatchObject({ ok: true });
    const want = canonicalRows(readIpc(out('over-input')), ALL);
    expect(canonicalRows(readIpc(out('over-back')), ALL)).toEqual(want);
    const table = await lake.table('over', ns);
    expect(canonicalRows(await table.toArrow(), ALL)).toEqual(want);
    expect(await wheelRows('over')).toEqual(want);
    // Three tasks, three partitions: ONE UpdateCommit, so every partition is at its second version.
    const history = await table.history();
    expect(history.filter((h) => h.commitOp === 'UpdateCommit').map((h) => h.version)).toEqual([1, 1, 1]);
    for (const v of Object.values((await table.scan()).toJSON().partitionVersions)) expect(v).toBe(1);
  });

  it('a Python worker killed mid-DoPut in an overwrite commits nothing and its staged files are reclaimed', async () => {
    expect(results['overwrite-killed'].message).toContain('Python worker exited unexpectedly');
    const table = await lake.table('over', ns);
    expect(canonicalRows(await table.toArrow(), ALL)).toEqual(canonicalRows(readIpc(out('over-input')), ALL));
    for (const v of Object.values((await table.scan()).toJSON().partitionVersions)) expect(v).toBe(1);
    // What is stored: the current files and those the overwrite replaced (kept until cleanup()), nothing staged.
    const prefix = keyOf(table.info.path);
    const keys = (await s3Keys(prefix)).filter((k) => k.endsWith('.parquet'));
    expect(keys).toEqual([...new Set([...(await committedKeys(table)), ...overOldKeys])].sort());
    // ... and the task that finished had staged files, which the rollback deleted.
    const deleted = await s3DeletedKeys(prefix);
    expect(deleted.length).toBeGreaterThan(0);
    for (const k of deleted) expect(keys).not.toContain(k);
  });

  it('a task whose first attempt failed mid-DoPut and that Spark ran again writes its rows once', async () => {
    // (attempt 0 of partition 1 always fails: the write succeeds only through the retry)
    expect(results.flaky).toMatchObject({ ok: true });
    const table = await lake.table('flaky', ns);
    const back = await table.toArrow();
    expect(back.numRows).toBe(2_000);
    expect(canonicalRows(back, ALL)).toEqual(canonicalRows(readIpc(out('flaky-input')), ALL));
    expect(await wheelRows('flaky')).toEqual(canonicalRows(readIpc(out('flaky-input')), ALL));
    expect((await table.history()).length).toBe(1);
  });

  it('overwrite with replaceWhere replaces only those partitions; rows outside them fail the write', async () => {
    expect(results['replace-where']).toMatchObject({ ok: true });
    const table = await lake.table('part', ns);
    const old = canonicalRows(rows(Array.from({ length: 3_000 }, (_, i) => i), 'part-old'), ALL).filter((r) => r.date !== '2024-05-01');
    // canonicalRows' order: by the JSON text of each row
    const want = [...old, ...canonicalRows(readIpc(out('part-input')), ALL)].map((r) => [JSON.stringify(r), r] as const)
      .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).map(([, r]) => r);
    expect(want).toHaveLength(2_000 + 600);
    expect(canonicalRows(await table.toArrow(), ALL)).toEqual(want);
    expect(canonicalRows(readIpc(out('part-back')), ALL)).toEqual(want);
    expect(await wheelRows('part')).toEqual(want);
    const versions = (await table.scan()).toJSON().partitionVersions;
    expect(versions).toEqual({ 'date=2024-05-01': 1, 'date=2024-05-02': 0, 'date=2024-05-03': 0 });
    // replacePartitions date=2024-05-02 with rows of 2024-05-01: refused, naming the partition; nothing moved.
    expect(results['replace-outside'].message).toMatch(/date=2024-05-01.*outside the partitions being replaced/s);
    expect((await table.scan()).toJSON().partitionVersions).toEqual(versions);
    // writeMode (append / upsert) does not go with an overwrite.
    expect(results['overwrite-writeMode'].message).toContain('"writeMode" goes with mode "append"');
  });

  it('a killed task commits nothing and its staged files are reclaimed', async () => {
    expect(results.kill.message).toContain('Python worker exited unexpectedly');
    const table = await lake.table('sink', ns);
    const back = await table.toArrow();
    expect(back.numRows).toBe(3_000);
    expect(canonicalRows(back, ALL)).toEqual(canonicalRows(readIpc(out('append-input')), ALL));
    for (const v of Object.values((await table.scan()).toJSON().partitionVersions)) expect(v).toBe(0);
    // Every object under the table is a file of the committed version: nothing staged is left.
    const committed = new Set((await table.scan()).splits.flatMap((s) => s.files.map((f) => new URL(f.path).pathname.replace(/^\/+/, '').replace(`${bucket}/`, ''))));
    const keys = await s3Keys(new URL(table.info.path).pathname.replace(/^\/+/, ''));
    expect(keys.filter((k) => k.endsWith('.parquet')).sort()).toEqual([...committed].sort());
    // ... and files were staged (by the task that finished) and deleted by the rollback.
    expect((await s3DeletedKeys(new URL(table.info.path).pathname.replace(/^\/+/, ''))).length).toBeGreaterThan(0);
  });
});

describe('the lakesoul_ts source follows Spark semantics', () => {
  it('pushed float comparisons keep NaN rows as Spark does (NaN above every value, equal to itself)', () => {
    const ids = (where: string) => results[`nan: ${where}`].rows.map((r: unknown[]) => r[0]);
    // ids 1..7: 0.1, NaN, 0.9, 1.0, -0.0, Infinity, null
    expect(ids('score > 0.5')).toEqual([2, 3, 4, 6]);
    expect(ids('score + 0 > 0.5')).toEqual(ids('score > 0.5')); // the same predicate, evaluated by Spark
    expect(ids('score >= 1.0')).toEqual([2, 4, 6]);
    expect(ids('f > 0.5')).toEqual([2, 3, 4, 6]);
    expect(ids('f >= 1.0')).toEqual([2, 4, 6]);
    expect(ids('score < 0.5')).toEqual([1, 5]);
    expect(ids('score <= 1.0')).toEqual([1, 3, 4, 5]);
    expect(ids('score = 1.0')).toEqual([4]);
    expect(ids('score <=> 1.0')).toEqual([4]);
    expect(ids('score in (0.1, 1.0)')).toEqual([1, 4]);
  });

  it('a user schema and the columns option match names case-insensitively; a schema must give the table\'s types', () => {
    expect(results['schema-case']).toMatchObject({ rows: [[2, 'nan'], [3, '0.9'], [4, '1.0'], [6, 'inf']], schema: 'struct<ID:bigint,SCORE:double>' });
    expect(results['schema-type'].message).toContain("column 'id' is bigint in the table, the schema given says int");
    expect(results['columns-case']).toMatchObject({ rows: [[2, 'nan'], [3, '0.9'], [4, '1.0'], [6, 'inf']], schema: 'struct<id:bigint,score:double>' });
    expect(results['columns-unknown'].message).toContain("the columns option names no column 'nope'; table columns: id,");
  });

  it('a zone-less timestamp reads as timestamp_ntz, unshifted by the session time zone', () => {
    expect(results['times-schema'].schema).toBe('struct<id:bigint,ts:timestamp,ntz:timestamp_ntz>');
    expect(results.times.rows).toEqual([['2024-05-01 08:00:00', '2024-05-01 12:00:00']]); // America/New_York, EDT
  });

  it('a pushed literal holding NUL, or an IN list too long for a read command, stays with Spark', () => {
    expect(results['nul-literal'].rows).toEqual([[1]]);
    expect(results['long-in'].rows).toEqual([[2], [3], [4], [6]]);
  });

  it('a timestamp written across kinds is cast as Spark casts it, in the session time zone', async () => {
    for (const name of ['ltz-into-ntz', 'ntz-into-ltz-zone', 'ntz-in-gap']) expect(results[name], name).toEqual({ ok: true, bytes: expect.any(Number) });
    expect(results['ntz-into-ltz'].message).toContain("column 'ts' holds instants (timestamp with time zone UTC) and the DataFrame's is timestamp_ntz");
    expect(results['bad-zone'].message).toContain('"timeZone" \'Mars/Olympus\' is no time zone');
    const t = await (await lake.table('wtimes', ns)).toArrow();
    const at = (id: number, col: string) => {
      const i = [...t.getChild('id')!].findIndex((v) => v === BigInt(id));
      return i < 0 ? undefined : new Date(Number(t.getChild(col)!.get(i))).toISOString();
    };
    expect(t.numRows).toBe(3);
    expect(at(0, 'ntz')).toBe('2024-07-01T12:00:00.000Z'); // the wall clock in Los Angeles, as cast(ts as timestamp_ntz)
    expect(at(200, 'ts')).toBe('2024-07-01T19:00:00.000Z'); // noon in Los Angeles (PDT), an instant
    expect(at(400, 'ts')).toBe('2024-03-10T10:30:00.000Z'); // as Spark's cast(timestamp_ntz'2024-03-10 02:30:00' as timestamp): 03:30 PDT
  });

  it('reads work with filter pushdown off (session config or the filterPushdown option)', () => {
    expect(results['pushdown-off'].rows).toEqual([[2], [3], [4], [6]]);
    expect(results['pushdown-option-off'].rows).toEqual([[2], [3], [4], [6]]);
  });

  it('versionAsOf reads one partition with the partitions option, and says so without it', () => {
    const want = canonicalRows(rows(Array.from({ length: 3_000 }, (_, i) => i), 'part-old'), ALL).filter((r) => r.date === '2024-05-02');
    expect(want.length).toBe(1_000);
    expect(canonicalRows(readIpc(out('version-partition')), ALL)).toEqual(want);
    expect(results['version-no-partition'].message).toMatch(/"partitions" option.*"timestampAsOf"/s);
  });

  it('a write refuses DataFrame columns the table lacks and missing non-null columns; missing nullable columns are null', async () => {
    expect(results['write-extra'].message).toContain("the DataFrame's column(s) 'scroe' are not in the table");
    expect(results['write-missing-key'].message).toContain("the DataFrame has no column 'id' (non-null in the table)");
    expect(results['write-loose']).toMatchObject({ ok: true });
    const back = await (await lake.table('loose', ns)).toArrow();
    const byJson = (a: object, b: object) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
    const input = canonicalRows(readIpc(out('loose-input')), ALL).map((r) => ({ ...r, label: null, payload: null })).sort(byJson);
    expect(canonicalRows(back, ALL).sort(byJson)).toEqual(input);
    expect((await (await lake.table('loose', ns)).history()).length).toBe(1); // the refused writes committed nothing
  });
});

describe('docs/flight.md, section Spark', () => {
  it('runs as written: read, pushed filter, one-commit append, time travel, overwrite', async () => {
    expect(results.docs).toMatchObject({ ok: true });
    const table = await lake.table(docTable.info.name);
    expect((await table.toArrow()).numRows).toBe(100);
    expect((await table.toArrow({ version: 1 })).numRows).toBe(510);
  });
});
