/**
 * Shared set-up for e2e tests: the services of the test environment (scripts/test-env.mjs), with a clear
 * failure when a test runs outside it.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

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

/**
 * Runs one command of a Python test client (`e2e/python/<script>`, in the test venv) against the
 * server at `url`, with `args` as JSON, and returns the JSON object the client prints last.
 */
export async function runPythonClient(script: 'flight_client.py' | 'flight_sql_client.py', command: string, url: string, args: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<any> {
  const client = resolve(import.meta.dirname, 'python', script);
  const { stdout } = await promisify(execFile)(testEnv('LAKESOUL_TEST_PYTHON'), [client, command, url, JSON.stringify(args)], { maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}
