/**
 * Shared set-up for e2e tests: the services of the test environment (scripts/test-env.mjs), with a clear
 * failure when a test runs outside it.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** A required variable of the test environment. */
export function testEnv(name: 'LAKESOUL_TEST_PG_URL' | 'LAKESOUL_TEST_S3_ENDPOINT' | 'LAKESOUL_TEST_PYTHON'): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests via \`pnpm test\` (scripts/test-env.mjs starts PostgreSQL, moto S3 and the Python venv)`);
  return v;
}

/** A short random suffix for names that must not collide between runs. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** Create a fresh bucket on the moto server and point AWS_ENDPOINT at it (path-style). */
export async function freshBucket(prefix = 'lakesoul-e2e'): Promise<string> {
  const endpoint = testEnv('LAKESOUL_TEST_S3_ENDPOINT');
  process.env.AWS_ENDPOINT = endpoint;
  const bucket = `${prefix}-${randomBytes(4).toString('hex')}`;
  const s3 = new S3Client({ endpoint, region: process.env.AWS_REGION ?? 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'testing', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'testing' } });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  s3.destroy();
  return bucket;
}

/** A long-lived `serve_script.py <script>` process: one test client script's calls, in order. */
class PythonClientServer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: { resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  private stderr = '';
  /** Why the process ended, once it has. */
  exited: string | null = null;

  constructor(script: string) {
    this.child = spawn(testEnv('LAKESOUL_TEST_PYTHON'), [resolve(import.meta.dirname, 'python', 'serve_script.py'), resolve(import.meta.dirname, 'python', script)]);
    this.child.stderr.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-8000); });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      if (line.startsWith(SERVE_MARK)) this.waiting.shift()?.resolve(line.slice(SERVE_MARK.length));
      // main() raised: the script run alone would have exited non-zero
      else if (line.startsWith(FAILED_MARK)) this.waiting.shift()?.reject(new Error(`${script} failed:\n${JSON.parse(line.slice(FAILED_MARK.length)) as string}`));
    });
    this.child.on('exit', (code, signal) => {
      this.exited = `${script} (serve_script.py) exited (${signal ?? code}):\n${this.stderr}`;
      for (const call of this.waiting.splice(0)) call.reject(new Error(this.exited));
    });
    // it ends with the test file's process (its stdin closes); a call in flight is awaited by the test
    this.child.unref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
  }

  /** The last line the script printed for `argv`; past `timeoutMs` the process is killed and the call fails. */
  call(argv: string[], timeoutMs: number): Promise<string> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise<string>((res, rej) => {
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        rej(new Error(`${argv.slice(0, 2).join(' ')}: no answer within ${timeoutMs} ms\n${this.stderr}`));
      }, timeoutMs);
      this.waiting.push({ resolve: (line) => { clearTimeout(timer); res(line); }, reject: (e) => { clearTimeout(timer); rej(e); } });
      this.child.stdin.write(`${JSON.stringify(argv)}\n`);
    });
  }
}

const SERVE_MARK = '@@serve_script ';
const FAILED_MARK = '@@serve_script_failed ';
const clientServers = new Map<string, PythonClientServer>();

/**
 * Runs one command of a Python test client (`e2e/python/<script>`, in the test venv) against the
 * server at `url`, with `args` as JSON, and returns the JSON object the client prints last. The calls
 * of a test file run in order in one long-lived Python per script (`e2e/python/serve_script.py`: a
 * Python start and the pyarrow import cost ~0.3 s a call); one that outlives `timeoutMs` kills it, and
 * the next call starts another.
 */
export async function runPythonClient(script: 'flight_client.py' | 'flight_sql_client.py', command: string, url: string, args: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<any> {
  let server = clientServers.get(script);
  if (!server || server.exited) {
    server = new PythonClientServer(script);
    clientServers.set(script, server);
  }
  return JSON.parse(await server.call([command, url, JSON.stringify(args)], timeoutMs));
}
