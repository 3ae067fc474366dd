/**
 * Shared setup of the io e2e tests: a Lakehouse on a given catalog (PGlite in memory, or the real
 * PostgreSQL of the test environment in a throwaway schema) and storage (a temp dir, or a fresh
 * bucket on the moto S3 server).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Catalog } from '@lakesoul-ts/meta';
import { Lakehouse, StoreRegistry, toFileUri } from '@lakesoul-ts/io';

export type CatalogKind = 'pglite' | 'pg';
export type StorageKind = 'local' | 's3';

/** Fails (never skips) when a service of the test environment is missing. */
export function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run via pnpm test (node scripts/test-env.mjs -- vitest run ...)`);
  return v;
}

function s3Env(): Record<string, string> {
  return {
    AWS_ENDPOINT: requireEnv('LAKESOUL_TEST_S3_ENDPOINT'),
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'testing',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'testing',
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
  };
}

/** Creates a bucket on the moto server (moto accepts unsigned bucket requests). */
async function createBucket(bucket: string): Promise<void> {
  const res = await fetch(`${s3Env().AWS_ENDPOINT}/${bucket}`, { method: 'PUT' });
  if (!res.ok) throw new Error(`creating bucket ${bucket} on the test S3 server failed: HTTP ${res.status}`);
}

/** A lakehouse for one test, and how to tear it down. */
export interface TestLakehouse {
  lh: Lakehouse;
  warehouse: string;
  label: string;
  close(): Promise<void>;
}

/** Opens a lakehouse on the requested catalog and storage. */
export async function openTestLakehouse(catalogKind: CatalogKind, storage: StorageKind, registryOptions: ConstructorParameters<typeof StoreRegistry>[0] = {}): Promise<TestLakehouse> {
  const id = randomBytes(4).toString('hex');
  const cleanups: (() => Promise<void>)[] = [];
  let catalog: Catalog;
  if (catalogKind === 'pg') {
    const url = requireEnv('LAKESOUL_TEST_PG_URL');
    catalog = await Catalog.open({ url, schema: `io_e2e_${id}` });
  } else {
    catalog = await Catalog.open({ dataDir: ':memory:' });
  }
  cleanups.push(() => catalog.close());
  let warehouse: string;
  let stores: StoreRegistry;
  if (storage === 's3') {
    const bucket = `lakesoul-io-${Date.now().toString(36)}-${id}`;
    await createBucket(bucket);
    warehouse = `s3://${bucket}/warehouse`;
    stores = new StoreRegistry({ ...registryOptions, env: s3Env() });
    cleanups.push(async () => {
      const { store } = stores.resolve(`s3://${bucket}/x`);
      for await (const m of store.list('')) await store.delete(m.path);
      await fetch(`${s3Env().AWS_ENDPOINT}/${bucket}`, { method: 'DELETE' });
    });
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-io-'));
    warehouse = toFileUri(dir);
    stores = new StoreRegistry(registryOptions);
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  }
  const lh = await Lakehouse.open({ catalog, stores, warehouse });
  return {
    lh,
    warehouse,
    label: `${catalogKind}+${storage}`,
    async close() {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    },
  };
}

export { prng } from '@lakesoul-ts/meta/testing/prng';

/** Rows of an Arrow table as plain objects (bigint -> number when safe), for comparisons. */
export function rowsOf(t: { toArray(): unknown[]; schema: { fields: { name: string }[] } }): Record<string, unknown>[] {
  const names = t.schema.fields.map((f) => f.name);
  return t.toArray().map((r) => {
    const o: Record<string, unknown> = {};
    for (const n of names) {
      let v = (r as Record<string, unknown>)[n];
      if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)) v = Number(v);
      if (v instanceof Uint8Array) v = Buffer.from(v).toString('hex');
      o[n] = v;
    }
    return o;
  });
}

/** Sorts rows by the given key columns (for order-insensitive comparisons). */
export function sortRows(rows: Record<string, unknown>[], keys: string[]): Record<string, unknown>[] {
  const cmp = (a: unknown, b: unknown) => (a === b ? 0 : a === null || a === undefined ? -1 : b === null || b === undefined ? 1 : (a as number) < (b as number) ? -1 : 1);
  return [...rows].sort((x, y) => {
    for (const k of keys) {
      const c = cmp(x[k], y[k]);
      if (c !== 0) return c;
    }
    return 0;
  });
}
