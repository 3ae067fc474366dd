/**
 * Flight authentication against the attacks a tester reported, with the real clients: pyarrow.flight
 * replaying tokens between servers that share the ticket secret, a raw grpc-js client sending 60 MiB
 * unauthenticated requests to `lakesoul-ts serve` (its RSS measured), and logins while stalled
 * handshakes run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { Field, Int64, Schema, Table, makeVector } from 'apache-arrow';
import { Lakehouse } from '@lakesoul-ts/io';
import { MAX_CONCURRENT_HANDSHAKES, createFlightServer, loadFlightProtocol, type CreateFlightServerOptions, type FlightServer } from '@lakesoul-ts/connector-flight';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..');
// grpc-js is a dependency of connector-flight, not of the e2e tests: the raw client comes from there
const { Metadata, credentials, status } = createRequire(join(ROOT, 'packages/connector-flight/package.json'))('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
type ServiceError = { code: number; details: string };
const SECRET = 'shared-secret-0123456789';
const MiB = 1024 * 1024;

function python(): string {
  const py = process.env.LAKESOUL_TEST_PYTHON;
  if (!py) throw new Error('LAKESOUL_TEST_PYTHON is not set: run via node scripts/test-env.mjs -- npx vitest run --project js e2e/flight-auth-attacks.test.ts');
  return py;
}

/**
 * pyarrow: logs in on `loginUrl` (authenticate_basic_token), then reads `events` from `targetUrl`
 * with the header it got; prints {"rows": n} or {"error": class, "message": ...}.
 */
const REPLAY = `
import json, sys
import pyarrow.flight as fl
login_url, target_url, user, password = sys.argv[1:5]
try:
    header = fl.FlightClient(login_url).authenticate_basic_token(user, password)
    opts = fl.FlightCallOptions(headers=[header])
    target = fl.FlightClient(target_url)
    info = target.get_flight_info(fl.FlightDescriptor.for_path("events"), options=opts)
    rows = sum(target.do_get(e.ticket, options=opts).read_all().num_rows for e in info.endpoints)
    print(json.dumps({"rows": rows, "token": header[1].decode()}))
except Exception as e:
    print(json.dumps({"error": type(e).__name__, "message": str(e)}))
`;

async function replay(loginUrl: string, targetUrl: string, user: string, password: string): Promise<{ rows?: number; token?: string; error?: string; message?: string }> {
  const { stdout } = await run(python(), ['-c', REPLAY, loginUrl, targetUrl, user, password], { timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

let dir: string;
let lakehouse: Lakehouse;
const servers: FlightServer[] = [];

async function serve(options: Omit<CreateFlightServerOptions, 'lakehouse' | 'ticketSecret'>): Promise<string> {
  const server = createFlightServer({ lakehouse, ticketSecret: SECRET, doGetThreads: 0, ...options });
  servers.push(server);
  return `grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flight-auth-attacks-'));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
  const schema = new Schema([new Field('id', new Int64(), false)]);
  await lakehouse.createTable('events', new Table(schema, { id: makeVector(BigInt64Array.from({ length: 50 }, (_, i) => BigInt(i))) } as any));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close(1000)));
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tokens between servers sharing the ticket secret (pyarrow)', () => {
  it('a login on a server with auth off reads nothing from a server with auth on', async () => {
    const a = await serve({ tokens: ['only-static-token'] });
    const b = await serve({});
    // the reported attack: authenticate_basic_token on B, GetFlightInfo + DoGet on A
    const r = await replay(b, a, 'nobody', 'whatever');
    expect(r.error, JSON.stringify(r)).toBe('FlightUnauthenticatedError');
    expect(r.message).toMatch(/answered by a Flight server with auth off/);
    // B itself still accepts the login and the token (clients that always authenticate work)
    expect(await replay(b, b, 'nobody', 'whatever')).toMatchObject({ rows: 50 });
  });

  it('a user\'s token is refused once the user is gone (restart without the user, same secret) or has a new password', async () => {
    const withAlice = await serve({ users: { alice: 'pw' } });
    expect(await replay(withAlice, withAlice, 'alice', 'pw')).toMatchObject({ rows: 50 });
    // the same secret, alice still there: a replica accepts her token
    expect(await replay(withAlice, await serve({ users: { alice: 'pw' } }), 'alice', 'pw')).toMatchObject({ rows: 50 });
    for (const users of [{ bob: 'pw' }, { alice: 'changed' }]) {
      const r = await replay(withAlice, await serve({ users }), 'alice', 'pw');
      expect(r.error, JSON.stringify(r)).toBe('FlightUnauthenticatedError');
      expect(r.message).toMatch(/invalid bearer token/);
    }
  });
});

describe('unauthenticated 60 MiB requests to lakesoul-ts serve', () => {
  it('leave its memory where it was (they used to be received whole: 145 MB -> 1 GB for 8)', async () => {
    const home = join(dir, 'serve-home');
    const server = spawn(process.execPath, [join(ROOT, 'packages/cli/dist/bin.js'), '--home', home, 'serve', '--port', '0', '--token', 'only-static-token', '--ticket-secret', SECRET], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const port = await new Promise<number>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`serve did not start: ${out}`)), 60_000);
        server.stdout!.on('data', (d) => {
          out += d;
          const m = /grpc:\/\/[^\s:]+:(\d+)/.exec(out);
          if (m) { clearTimeout(timer); res(Number(m[1])); }
        });
        server.stderr!.on('data', (d) => { out += d; });
        server.on('exit', (code) => rej(new Error(`serve exited with ${code}: ${out}`)));
      });
      const rssMiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))![1]) / 1024;
      await new Promise((res) => setTimeout(res, 1000));
      const before = rssMiB();
      let peak = before;
      const sampler = setInterval(() => { peak = Math.max(peak, rssMiB()); }, 20);
      const { client: Ctor } = loadFlightProtocol();
      const cmd = Buffer.alloc(60 * MiB, 0x20);
      const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => new Promise<ServiceError | null>((res) => {
        // one connection each (a channel option of its own keeps grpc-js from sharing the connection)
        const c = new Ctor(`127.0.0.1:${port}`, credentials.createInsecure(), { 'grpc.max_send_message_length': 128 * MiB, 'lakesoul.test.connection': i }) as any;
        c.GetFlightInfo({ type: 'CMD', cmd, path: [] }, new Metadata(), (err: ServiceError | null) => { c.close(); res(err); });
      })));
      await new Promise((res) => setTimeout(res, 500));
      clearInterval(sampler);
      for (const a of answers) expect(a?.code).toBe(status.UNAUTHENTICATED);
      console.log(`serve RSS: ${before.toFixed(0)} MiB before, ${peak.toFixed(0)} MiB at the peak of 4 unauthenticated 60 MiB GetFlightInfo calls`);
      expect(peak - before, `RSS ${before.toFixed(0)} -> ${peak.toFixed(0)} MiB`).toBeLessThan(100);
    } finally {
      server.kill('SIGKILL');
    }
  }, 120_000);
});

describe('Basic logins while handshakes without credentials stall', () => {
  it('pyarrow logs in and reads while the server-wide number of stalled handshakes runs', async () => {
    const url = await serve({ users: { alice: 'pw' } });
    const { client: Ctor } = loadFlightProtocol();
    const raw = new Ctor(url.replace('grpc://', ''), credentials.createInsecure()) as any;
    try {
      const stalled = Array.from({ length: MAX_CONCURRENT_HANDSHAKES }, () => {
        const c = raw.Handshake(new Metadata()) as any;
        c.on('error', () => {});
        c.on('data', () => {});
        c.write({ protocol_version: '0', payload: Buffer.from('x') });
        return c;
      });
      await new Promise((res) => setTimeout(res, 300));
      expect(await replay(url, url, 'alice', 'pw')).toMatchObject({ rows: 50 });
      for (const c of stalled) c.cancel();
    } finally {
      raw.close();
    }
  }, 60_000);
});
