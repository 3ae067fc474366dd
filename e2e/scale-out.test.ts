/**
 * More than one server: `lakesoul-ts serve` processes on the same PostgreSQL catalog and the same moto
 * S3 warehouse. Runs the examples of docs/scale-out.md as written (only the ports, the bucket, the
 * table name and the service addresses are replaced by the test's), then shows what they claim: an
 * endpoint planned by one process is redeemed at another even after the planner stopped, a replica
 * without the shared secret refuses it, and a transaction lives on the replica that began it.
 * Needs packages/cli/dist (pnpm turbo run build).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Field, Float64, Int64, Schema, Table, makeVector, vectorFromArray } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { FlightClient } from '@lakesoul-ts/connector-flight';
import { freshBucket, testEnv, uniqueName } from './cli-env.js';

const ROOT = resolve(__dirname, '..');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const DOC = join(ROOT, 'docs/scale-out.md');
const SECRET = '3f9c1e7a5b2d4c6e8f0a1b3c5d7e9f21';

/** The fenced block of `lang` that follows the heading `heading` in docs/scale-out.md. */
function docBlock(heading: string, lang: string): string {
  const text = readFileSync(DOC, 'utf8');
  const at = text.indexOf(`\n## ${heading}\n`);
  if (at < 0) throw new Error(`docs/scale-out.md has no section '${heading}'`);
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(text.slice(at));
  if (!m) throw new Error(`docs/scale-out.md section '${heading}' has no ${lang} block`);
  return m[1];
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** Waits until `proc` printed `count` "Arrow Flight on grpc://host:port" lines; returns the ports. */
function listening(proc: ChildProcess, count: number, what: string): Promise<number[]> {
  return new Promise((res, rej) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => rej(new Error(`${what} did not start in 60 s: ${out}\n${err}`)), 60_000);
    proc.stderr!.on('data', (d) => { err += d; });
    proc.stdout!.on('data', (d) => {
      out += d;
      const ports = [...out.matchAll(/Arrow Flight on grpc:\/\/[\d.]+:(\d+)/g)].map((m) => Number(m[1]));
      if (ports.length >= count) { clearTimeout(timer); res(ports); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); rej(new Error(`${what} exited with ${code}: ${out}\n${err}`)); });
  });
}

function exited(proc: ChildProcess): Promise<number | null> {
  return proc.exitCode !== null ? Promise.resolve(proc.exitCode) : new Promise((res) => proc.once('exit', (c) => res(c)));
}

function runPython(code: string, env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res) => {
    const p = spawn(testEnv('LAKESOUL_TEST_PYTHON'), ['-c', code], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (c) => res({ code: c, out, err }));
  });
}

let pgUrl: string;
let s3: string;
let bucket: string;
let table: string;
let portA: number;
let portB: number;
let replicas: ChildProcess | undefined;
const extra: ChildProcess[] = [];

/** Starts one more `serve` process on the same catalog and warehouse (own options after `serve`). */
async function serve(args: string[]): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, [BIN, '--catalog', pgUrl, '--warehouse', `s3://${bucket}/warehouse`, 'serve', '--port', '0', ...args], {
    env: { ...process.env, AWS_ENDPOINT: s3, AWS_REGION: 'us-east-1' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  extra.push(proc);
  const [port] = await listening(proc, 1, `serve ${args.join(' ')}`);
  return { proc, url: `grpc://127.0.0.1:${port}` };
}

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm turbo run build first`);
  pgUrl = testEnv('LAKESOUL_TEST_PG_URL');
  s3 = testEnv('LAKESOUL_TEST_S3_ENDPOINT');
  bucket = await freshBucket('scale');
  table = uniqueName('events');
  portA = await freePort();
  portB = await freePort();
  const script = docBlock('Running two replicas', 'bash')
    .replace('postgresql://lakesoul:lakesoul@127.0.0.1:5432/lakesoul', pgUrl)
    .replace('http://127.0.0.1:9000', s3)
    .replaceAll('s3://lake/', `s3://${bucket}/`)
    .replaceAll('--port 8815', `--port ${portA}`)
    .replaceAll('--port 8816', `--port ${portB}`)
    .replaceAll('lakesoul-ts ', `'${process.execPath}' '${BIN}' `);
  // One process group: the block's two background servers are stopped together in afterAll.
  replicas = spawn('bash', ['-c', `set -e\n${script}\nwait`], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  expect(await listening(replicas, 2, 'the replicas of docs/scale-out.md')).toEqual(expect.arrayContaining([portA, portB]));
}, 120_000);

afterAll(async () => {
  for (const p of extra) if (p.exitCode === null) { p.kill('SIGTERM'); await exited(p); }
  if (replicas?.pid && replicas.exitCode === null) {
    process.kill(-replicas.pid, 'SIGTERM');
    await exited(replicas);
  }
});

describe('more than one server on one PostgreSQL catalog and one S3 warehouse', () => {
  it('the docs/scale-out.md client: written through B, planned by A, every endpoint redeemed at B', async () => {
    const code = docBlock('A client planning at one replica and reading at the other', 'python')
      .replaceAll('"events"', `"${table}"`)
      .replaceAll('127.0.0.1:8815', `127.0.0.1:${portA}`)
      .replaceAll('127.0.0.1:8816', `127.0.0.1:${portB}`);
    const r = await runPython(code, {});
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe('4 endpoints, 1000 rows');
  }, 120_000);

  it('the docs/scale-out.md Flight SQL client (ADBC) reads the same rows through either replica', async () => {
    const code = docBlock('Standard clients (ADBC, JDBC) behind the balancer', 'python')
      .replaceAll('default.events', `default.${table}`)
      .replaceAll('127.0.0.1:8815', `127.0.0.1:${portA}`)
      .replaceAll('127.0.0.1:8816', `127.0.0.1:${portB}`);
    const r = await runPython(code, {});
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe('500 rows through either replica');
  }, 120_000);

  it('tickets outlive the replica that planned them; a replica without the shared secret refuses them', async () => {
    const planner = await serve(['--ticket-secret', SECRET]);
    const stranger = await serve(['--ticket-secret', 'another-secret-of-this-test-0123']);
    const a = await FlightClient.connect(planner.url);
    const info = await a.getFlightInfo({ cmd: { table, filter: 'score >= 0.5' } });
    a.close();
    expect(info.endpoints).toHaveLength(4);
    planner.proc.kill('SIGTERM');
    expect(await exited(planner.proc)).toBe(0);

    const b = await FlightClient.connect(`grpc://127.0.0.1:${portB}`);
    const s = await FlightClient.connect(stranger.url);
    try {
      const read = await b.readAll(info, { concurrency: 4 });
      expect(read.numRows).toBe(500);
      const ids = (read.getChild('id')!.toArray() as BigInt64Array);
      expect(Math.min(...Array.from(ids, Number))).toBe(500);
      // The stranger shares catalog and storage, not the secret: the signature decides.
      let refused: unknown;
      try { await s.readAll(info); } catch (e) { refused = e; }
      expect(LakeSoulError.is(refused) && refused.kind).toBe('PermissionDenied');
      // ... while its own plan of the same table reads the same rows.
      expect((await s.readAll(await s.getFlightInfo({ cmd: { table, filter: 'score >= 0.5' } }))).numRows).toBe(500);
    } finally {
      b.close();
      s.close();
    }
  }, 120_000);

  it('a commit made through one replica is seen by the next plan at the other (no cache between them)', async () => {
    const a = await FlightClient.connect(`grpc://127.0.0.1:${portA}`);
    const b = await FlightClient.connect(`grpc://127.0.0.1:${portB}`);
    try {
      const schema = new Schema([new Field('id', new Int64(), false), new Field('score', new Float64(), true)]);
      const ids = Array.from({ length: 10 }, (_, i) => 5000 + i);
      await a.doPut({ cmd: { table } }, new Table(schema, {
        id: makeVector(BigInt64Array.from(ids, BigInt)), score: vectorFromArray(ids.map(() => 9), new Float64()),
      } as any));
      expect((await b.readAll(await b.getFlightInfo({ cmd: { table, filter: 'score = 9' } }))).numRows).toBe(10);
    } finally {
      a.close();
      b.close();
    }
  }, 60_000);

  it('a transaction lives on the replica that began it: commit at another is NOT_FOUND and commits nothing', async () => {
    const a = await FlightClient.connect(`grpc://127.0.0.1:${portA}`);
    const b = await FlightClient.connect(`grpc://127.0.0.1:${portB}`);
    try {
      const schema = new Schema([new Field('id', new Int64(), false), new Field('score', new Float64(), true)]);
      const begun = await a.doActionJson<{ transaction: string }>('begin', { table });
      await a.doPut({ cmd: { table, transaction: begun.transaction } }, new Table(schema, {
        id: makeVector(BigInt64Array.from([7000n, 7001n])), score: vectorFromArray([77, 77], new Float64()),
      } as any));
      let refused: unknown;
      try { await b.doActionJson('commit', { transaction: begun.transaction }); } catch (e) { refused = e; }
      expect(LakeSoulError.is(refused) && refused.kind).toBe('NotFound');
      expect(String((refused as Error).message)).toContain('not open on this server');
      expect((await b.readAll(await b.getFlightInfo({ cmd: { table, filter: 'score = 77' } }))).numRows).toBe(0);
      const committed = await a.doActionJson<{ rows: number }>('commit', { transaction: begun.transaction, expectedRows: 2 });
      expect(committed.rows).toBe(2);
      expect((await b.readAll(await b.getFlightInfo({ cmd: { table, filter: 'score = 77' } }))).numRows).toBe(2);
    } finally {
      a.close();
      b.close();
    }
  }, 60_000);
});
