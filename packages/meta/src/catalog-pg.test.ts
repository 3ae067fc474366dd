import { randomUUID } from 'node:crypto';
import { afterAll } from 'vitest';
import pg from 'pg';
import { PgDriver } from './pg-driver.js';
import { runCatalogConformance } from './testing/index.js';

function testUrl(): string {
  const url = process.env.LAKESOUL_TEST_PG_URL;
  if (!url) throw new Error('LAKESOUL_TEST_PG_URL is not set: run via pnpm test (node scripts/test-env.mjs -- vitest run ...) to get a PostgreSQL server');
  return url;
}

// Each run gets its own schema, so runs and other test files never collide.
const schema = `conformance_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
runCatalogConformance('PostgreSQL server', () => PgDriver.connect({ url: testUrl(), schema }));

afterAll(async () => {
  const c = new pg.Client({ connectionString: testUrl() });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
});
