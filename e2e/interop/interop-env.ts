/**
 * Shared plumbing of the LakeSoul interop tests: the test environment's services, a driver for
 * LakeSoul's own Python package (lakesoul_py.py), Arrow IPC exchange and a canonical row form that
 * compares tables whatever Arrow types each side chose for the same values.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';

const here = dirname(fileURLToPath(import.meta.url));
/** The Python driver of LakeSoul's own package. */
export const LAKESOUL_PY = join(here, 'lakesoul_py.py');

/** The real services of the test environment (scripts/test-env.mjs). */
export interface InteropEnv {
  /** postgres://user:password@host:port/db */
  pgUrl: string;
  s3Endpoint: string;
  python: string;
  /** Environment for LakeSoul's Python package, configured the upstream way. */
  lakesoulEnv: Record<string, string>;
}

/**
 * Reads the test environment. A missing variable fails the test (never skips it): these tests only
 * make sense against the real PostgreSQL, S3 server and Python venv.
 */
export function interopEnv(): InteropEnv {
  const need = ['LAKESOUL_TEST_PG_URL', 'LAKESOUL_TEST_S3_ENDPOINT', 'LAKESOUL_TEST_PYTHON', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];
  const missing = need.filter((k) => !process.env[k]);
  if (missing.length) {
    throw new Error(`interop tests need ${missing.join(', ')}: run via pnpm test (node scripts/test-env.mjs -- vitest run e2e/interop)`);
  }
  const pgUrl = process.env.LAKESOUL_TEST_PG_URL!;
  const u = new URL(pgUrl);
  const lakesoulEnv: Record<string, string> = {
    LAKESOUL_PG_URL: `jdbc:postgresql://${u.host}${u.pathname}`,
    LAKESOUL_PG_USERNAME: decodeURIComponent(u.username),
    LAKESOUL_PG_PASSWORD: decodeURIComponent(u.password),
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID!,
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY!,
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    AWS_ENDPOINT: process.env.LAKESOUL_TEST_S3_ENDPOINT!,
  };
  return { pgUrl, s3Endpoint: process.env.LAKESOUL_TEST_S3_ENDPOINT!, python: process.env.LAKESOUL_TEST_PYTHON!, lakesoulEnv };
}

/** The long-lived servers of {@link lakesoulPy}, one per Python and environment. */
const servers = new Map<string, LakeSoulPyServer>();

/**
 * Runs one command of lakesoul_py.py and returns its JSON answer; a Python error fails with its
 * traceback. The commands run one at a time, in order, in a {@link LakeSoulPyServer} kept for the
 * test file (a Python start and the `lakesoul` import cost ~0.5 s a call, more than most commands);
 * a server that died (a panic in the wheel) fails its call and is started anew for the next one.
 */
export function lakesoulPy<T = any>(env: InteropEnv, command: string, args: unknown = {}): Promise<T> {
  const key = JSON.stringify([env.python, env.lakesoulEnv]);
  let server = servers.get(key);
  if (!server || server.gone) {
    server = new LakeSoulPyServer(env);
    server.unref(); // it ends with the test file's process (its stdin closes)
    servers.set(key, server);
  }
  return server.call<T>(command, args);
}

/**
 * One long-lived `lakesoul_py.py serve` process: the same commands as {@link lakesoulPy}, without a
 * Python start and a `lakesoul` import per call. Calls run one at a time, in order.
 */
export class LakeSoulPyServer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: { resolve: (answer: any) => void; reject: (e: Error) => void; command: string }[] = [];
  private stderr = '';
  private exited: string | null = null;

  constructor(env: InteropEnv) {
    this.child = spawn(env.python, [LAKESOUL_PY, 'serve'], { env: { ...process.env, ...env.lakesoulEnv, RUST_BACKTRACE: '0' } });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-8000);
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      if (!line.startsWith(SERVE_MARK)) return; // the wheel's own output
      const call = this.waiting.shift();
      const answer = JSON.parse(line.slice(SERVE_MARK.length));
      if (answer.error) call?.reject(new Error(`LakeSoul-Python ${call.command}: ${answer.error}\n${answer.traceback ?? ''}`));
      else call?.resolve(answer);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = `lakesoul_py.py serve exited (${signal ?? code}):\n${this.stderr}`;
      for (const call of this.waiting.splice(0)) call.reject(new Error(this.exited));
    });
  }

  /** Lets this process exit while the server runs (a call in flight is awaited by the test anyway). */
  unref(): void {
    this.child.unref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
  }

  /** Whether the process has exited: it takes no more calls. */
  get gone(): boolean {
    return this.exited !== null;
  }

  /** Runs one command; a Python error rejects with its traceback. */
  call<T = any>(command: string, args: unknown = {}): Promise<T> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ resolve, reject, command });
      this.child.stdin.write(`${JSON.stringify({ command, args })}\n`);
    });
  }

  /** Ends the process (its stdin closes; it exits after the call in flight). */
  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    await gone;
  }
}

const SERVE_MARK = '@@lakesoul_py ';

/** A scratch directory removed by the returned cleanup. */
export function scratchDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `lakesoul-interop-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes an Arrow IPC file. */
export function writeIpc(table: Table, path: string): string {
  writeFileSync(path, tableToIPC(table, 'file'));
  return path;
}

/** Reads an Arrow IPC file. */
export function readIpc(path: string): Table {
  return tableFromIPC(readFileSync(path));
}

/** A value in canonical form: the same JS value for the same logical value on both sides. */
export type Canonical = string | number | boolean | null;

function canonicalValue(v: unknown): Canonical {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Object.is(v, -0) ? 0 : v;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Date) return v.getTime();
  if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`;
  return JSON.stringify(v);
}

/**
 * Rows of `table` as plain objects over `columns` (default: all), values canonical, sorted by their
 * JSON text so two tables with the same rows in any order compare equal. int64 values become
 * `"<n>n"`, so an int64 column never equals a float column holding the same numbers.
 */
export function canonicalRows(table: Table, columns?: string[]): Record<string, Canonical>[] {
  const names = columns ?? table.schema.fields.map((f) => f.name);
  const vectors = names.map((n) => {
    const v = table.getChild(n);
    if (!v) throw new Error(`column '${n}' missing (have ${table.schema.fields.map((f) => f.name).join(', ')})`);
    return v;
  });
  const rows: Record<string, Canonical>[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, Canonical> = {};
    names.forEach((n, c) => {
      row[n] = canonicalValue(vectors[c].get(i));
    });
    rows.push(row);
  }
  return rows
    .map((r) => [JSON.stringify(r), r] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([, r]) => r);
}

/** Bucket id from a data file name (`.*_(\d+)(\..*)?$`), as both sides parse it. */
export function bucketOfFile(path: string): number {
  const m = /.*_(\d+)(?:\..*)?$/.exec(path);
  if (!m) throw new Error(`no bucket id in data file name ${path}`);
  return Number(m[1]);
}
