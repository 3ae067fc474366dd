/**
 * Test-only helper (not exported from the package): the moto S3 server of the test environment and
 * throwaway buckets on it.
 */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

/** The S3 endpoint of the test environment; throws (failing the test) when it is not set. */
export function testS3Endpoint(): string {
  const endpoint = process.env.LAKESOUL_TEST_S3_ENDPOINT;
  if (!endpoint) {
    throw new Error('LAKESOUL_TEST_S3_ENDPOINT is not set: run via pnpm test (node scripts/test-env.mjs -- vitest run ...), which starts the moto S3 server');
  }
  return endpoint;
}

/** Environment for S3Store.fromEnv pointing at the test server. */
export function testS3Env(): Record<string, string> {
  return {
    AWS_ENDPOINT: testS3Endpoint(),
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'testing',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'testing',
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
  };
}

function adminClient(): S3Client {
  const env = testS3Env();
  return new S3Client({
    endpoint: env.AWS_ENDPOINT,
    region: env.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
}

/** Creates a bucket with a unique name for this run. */
export async function createTestBucket(label: string): Promise<string> {
  const bucket = `lakesoul-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`.toLowerCase();
  const c = adminClient();
  try {
    await c.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    c.destroy();
  }
  return bucket;
}

/** Deletes every object of a bucket, then the bucket. */
export async function deleteTestBucket(bucket: string): Promise<void> {
  const c = adminClient();
  try {
    let token: string | undefined;
    do {
      const res = await c.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      const keys = (res.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length) await c.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    await c.send(new DeleteBucketCommand({ Bucket: bucket }));
  } finally {
    c.destroy();
  }
}
