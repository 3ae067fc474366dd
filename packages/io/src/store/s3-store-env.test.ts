import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store, s3OptionsFromEnv } from './s3-store.js';
import { StoreRegistry } from './store-registry.js';
import { createTestBucket, deleteTestBucket, testS3Env } from './s3-test-env.js';

describe('S3 endpoint from AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3', () => {
  it('takes AWS_ENDPOINT, then AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL; none with AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true', () => {
    const all = { AWS_ENDPOINT: 'http://a:1', AWS_ENDPOINT_URL_S3: 'http://b:2', AWS_ENDPOINT_URL: 'http://c:3' };
    expect(s3OptionsFromEnv(all).endpoint).toBe('http://a:1');
    expect(s3OptionsFromEnv({ ...all, AWS_ENDPOINT: undefined }).endpoint).toBe('http://b:2');
    expect(s3OptionsFromEnv({ ...all, AWS_ENDPOINT: '', AWS_ENDPOINT_URL_S3: '' }).endpoint).toBe('http://c:3');
    expect(s3OptionsFromEnv({ AWS_ENDPOINT_URL: 'http://c:3', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }).endpoint).toBeUndefined();
    expect(s3OptionsFromEnv({ AWS_ENDPOINT: 'http://a:1', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }).endpoint).toBe('http://a:1');
  });

  describe('against moto', () => {
    let bucket: string;
    beforeAll(async () => {
      bucket = await createTestBucket('s3env');
    });
    afterAll(async () => {
      if (bucket) await deleteTestBucket(bucket);
    });

    for (const variable of ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3'] as const) {
      it(`addresses the server named by ${variable} path-style (a host name, not bucket.host)`, async () => {
        const { AWS_ENDPOINT, ...rest } = testS3Env();
        // a host name: virtual-host addressing asked for <bucket>.localhost, which does not resolve
        const env = { ...rest, [variable]: AWS_ENDPOINT!.replace('127.0.0.1', 'localhost') };
        const store = S3Store.fromEnv(bucket, env, { maxAttempts: 1, idleTimeoutMs: 5_000 });
        try {
          await store.put(`${variable}/x`, new Uint8Array([1, 2, 3]));
          expect(Array.from(await store.get(`${variable}/x`))).toEqual([1, 2, 3]);
        } finally {
          store.destroy();
        }
        // from process.env, where the SDK found the variable itself (and used it virtual-host style)
        const saved = { ...process.env };
        for (const k of ['AWS_ENDPOINT', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3']) delete process.env[k];
        Object.assign(process.env, env);
        try {
          const stores = new StoreRegistry({ s3: { maxAttempts: 1, idleTimeoutMs: 5_000 } });
          const { store: viaRegistry, key } = stores.resolve(`s3://${bucket}/${variable}/x`);
          try {
            expect((await viaRegistry.head(key)).size).toBe(3);
          } finally {
            (viaRegistry as S3Store).destroy();
          }
        } finally {
          for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
          Object.assign(process.env, saved);
        }
      });
    }
  });
});
