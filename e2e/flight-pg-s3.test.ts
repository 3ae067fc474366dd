/**
 * Arrow Flight over the real PostgreSQL catalog and the moto S3 server, read and written by the real
 * pyarrow.flight client; two server replicas share the ticket secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Binary, Field, Float64, Int64, Schema, Table, Utf8, makeVector, tableFromIPC, vectorFromArray } from 'apache-arrow';
import { Lakehouse, type LakeSoulTable } from '@lakesoul-ts/io';
import { FlightClient, createFlightServer, type FlightServer } from '@lakesoul-ts/connector-flight';
import { runPythonClient } from './cli-env.js';

const SECRET = 'pg-s3-flight-ticket-secret-abcdef';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: this test needs the real PostgreSQL, moto S3 and pyarrow; run via pnpm test (node scripts/test-env.mjs -- vitest run e2e/flight-pg-s3.test.ts)`);
  return v;
}

const py = (command: string, url: string, args: Record<string, unknown> = {}) => runPythonClient('flight_client.py', command, url, args);

function imageBytes(i: number): Uint8Array {
  const d = createHash('sha256').update(`s3-img-${i}`).digest();
  const out = new Uint8Array(200 + (i % 30) * 64);
  for (let k = 0; k < out.length; k++) out[k] = (d[k % 32] ^ k) & 0xff;
  return out;
}

const schema = new Schema([
  new Field('id', new Int64(), false),
  new Field('date', new Utf8(), false),
  new Field('label', new Utf8(), true),
  new Field('score', new Float64(), true),
  new Field('image', new Binary(), true),
]);

function rowsOf(t: Table): string[] {
  const out: string[] = [];
  for (let r = 0; r < t.numRows; r++) {
    const row: Record<string, unknown> = {};
    for (const f of [...t.schema.fields].sort((a, b) => a.name.localeCompare(b.name))) {
      const v = t.getChild(f.name)!.get(r);
      row[f.name] = v instanceof Uint8Array ? Buffer.from(v).toString('base64') : typeof v === 'bigint' ? v.toString() : v;
    }
    out.push(JSON.stringify(row));
  }
  return out.sort();
}

let dir: string;
let lakehouse: Lakehouse;
let replicaA: FlightServer;
let replicaB: FlightServer;
let urlA: string;
let urlB: string;
let table: LakeSoulTable;

beforeAll(async () => {
  const pgUrl = env('LAKESOUL_TEST_PG_URL');
  const s3 = env('LAKESOUL_TEST_S3_ENDPOINT');
  env('LAKESOUL_TEST_PYTHON');
  dir = mkdtempSync(join(tmpdir(), 'flight-pg-s3-'));
  const bucket = `flight-${randomBytes(4).toString('hex')}`;
  const created = await fetch(`${s3}/${bucket}`, { method: 'PUT' });
  if (!created.ok) throw new Error(`cannot create bucket ${bucket} on ${s3}: HTTP ${created.status}`);
  lakehouse = await Lakehouse.open({
    catalog: { url: pgUrl },
    stores: { s3: { endpoint: s3, region: 'us-east-1', forcePathStyle: true } },
    warehouse: `s3://${bucket}/warehouse`,
  });
  const ns = `flight_${randomBytes(3).toString('hex')}`;
  await lakehouse.catalog.createNamespace(ns);
  table = await lakehouse.createTable('scans', schema, { namespace: ns, rangePartitions: ['date'], primaryKeys: ['id'], hashBucketNum: 2 });
  const ids = Array.from({ length: 1500 }, (_, i) => i);
  await table.write(new Table(schema, {
    id: makeVector(BigInt64Array.from(ids, BigInt)),
    date: vectorFromArray(ids.map((i) => `2024-03-0${1 + (i % 3)}`), new Utf8()),
    label: vectorFromArray(ids.map((i) => `s3-${i}`), new Utf8()),
    score: vectorFromArray(ids.map((i) => i / 3), new Float64()),
    image: vectorFromArray(ids.map(imageBytes), new Binary()),
  } as any));
  // replica A reads every DoGet on its worker threads (they reach moto with the registry's S3 settings)
  replicaA = createFlightServer({ lakehouse, ticketSecret: SECRET, maxDoGetsOnServerThread: 0 });
  replicaB = createFlightServer({ lakehouse, ticketSecret: SECRET });
  urlA = `grpc://127.0.0.1:${await replicaA.listen(0, '127.0.0.1')}`;
  urlB = `grpc://127.0.0.1:${await replicaB.listen(0, '127.0.0.1')}`;
});

afterAll(async () => {
  await replicaA?.close(1000);
  await replicaB?.close(1000);
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Flight over PostgreSQL + S3 (moto)', () => {
  it('pyarrow reads every endpoint in parallel: exactly the rows of the TS scan', async () => {
    const out = join(dir, 'scan.arrow');
    const ns = table.info.namespace;
    const r = await py('read', urlA, { path: [ns, 'scans'], threads: 6, out });
    expect(r.endpoints).toBe(6); // 3 partitions x 2 buckets
    expect(r.rows).toBe(1500);
    expect(rowsOf(tableFromIPC(readFileSync(out)))).toEqual(rowsOf(await table.toArrow()));
    // read on the DoGet worker threads, which reached moto with the registry's S3 settings
    expect(replicaA.stats.doGetOnWorkers).toBe(6);
  });

  it('tickets from one replica are redeemed by the other', async () => {
    const a = await FlightClient.connect(urlA);
    const b = await FlightClient.connect(urlB);
    try {
      const info = await a.getFlightInfo({ cmd: { table: 'scans', namespace: table.info.namespace } });
      const t = await b.readAll(info, { concurrency: 6 });
      expect(t.numRows).toBe(1500);
    } finally {
      a.close();
      b.close();
    }
  });

  it('pyarrow DoPut lands in S3 and the catalog, read back from TS', async () => {
    const out = join(dir, 'put.arrow');
    const r = await py('put', urlB, { cmd: { table: 'scans', namespace: table.info.namespace, mode: 'upsert', expectedRows: 200 }, rows: 200, start: 10_000, columns: ['id', 'date', 'label', 'score', 'image'], out });
    expect(r.result.rows).toBe(200);
    const back = await table.toArrow({ filter: 'id >= 10000' });
    expect(rowsOf(back)).toEqual(rowsOf(tableFromIPC(readFileSync(out))));
    expect(back.numRows).toBe(200);
    const all = await py('read', urlA, { cmd: { table: 'scans', namespace: table.info.namespace } });
    expect(all.rows).toBe(1700);
  });
});
