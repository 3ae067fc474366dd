import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runObjectStoreConformance } from '../testing/index.js';
import { LocalStore } from './local-store.js';
import { MemoryStore } from './memory-store.js';
import { S3Store } from './s3-store.js';
import { withConcurrencyLimit, withLatency } from './store-wrappers.js';
import { createTestBucket, deleteTestBucket, testS3Env } from './s3-test-env.js';

let localDir: string | undefined;
runObjectStoreConformance('LocalStore (fsync: false)', () => {
  localDir = mkdtempSync(join(tmpdir(), 'lakesoul-local-store-'));
  return new LocalStore({ root: localDir, fsync: false });
}, { teardown: () => rmSync(localDir!, { recursive: true, force: true }) });

runObjectStoreConformance('LocalStore rooted at /', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-local-root-'));
  const store = new LocalStore();
  // keys below '/' address the temp directory through the absolute path
  const prefix = dir.slice(1);
  return {
    description: store.description,
    get: (p, o) => store.get(`${prefix}/${p}`, o),
    put: (p, d, o) => store.put(`${prefix}/${p}`, d, o),
    head: async (p, o) => ({ ...(await store.head(`${prefix}/${p}`, o)), path: p }),
    delete: (p, o) => store.delete(`${prefix}/${p}`, o),
    async *list(p, o) {
      for await (const m of store.list(`${prefix}/${p}`, o)) yield { ...m, path: m.path.slice(prefix.length + 1) };
    },
  };
}, { largeObjectBytes: 6 * 1024 * 1024 });

runObjectStoreConformance('MemoryStore', () => new MemoryStore({ name: 'conformance' }));

// wrappers keep the contract
runObjectStoreConformance('withConcurrencyLimit(withLatency(MemoryStore))', () =>
  withConcurrencyLimit(withLatency(new MemoryStore({ name: 'wrapped' }), { perRequestMs: 1 }), 4),
);

let bucket: string | undefined;
runObjectStoreConformance(
  'S3Store (moto, 7-key pages)',
  async () => {
    bucket = await createTestBucket('conf');
    return S3Store.fromEnv(bucket, testS3Env(), { listPageSize: 7, partSize: 5 * 1024 * 1024, multipartThreshold: 5 * 1024 * 1024 });
  },
  { listKeys: 40, teardown: async (s) => { (s as S3Store).destroy(); if (bucket) await deleteTestBucket(bucket); } },
);
