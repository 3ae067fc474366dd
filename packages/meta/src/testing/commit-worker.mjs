// Child process of the multi-process commit tests (catalog-concurrency.test.ts). Opens its own
// Catalog on the PostgreSQL server from a compiled copy of @lakesoul-ts/meta, waits for a common
// start instant, then runs COUNT commits of OP to one partition, printing one JSON line per commit.
//
// env: META_DIST (dir with the compiled index.js), PG_URL, PG_SCHEMA, TABLE_ID, TABLE_PATH, OP,
//      COUNT, PARTITION, NAME, START_AT (epoch ms), MAX_RETRIES, COMMIT_LOCK ('0' disables).
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const env = process.env;
const meta = await import(pathToFileURL(join(env.META_DIST, 'index.js')).href);
const driver = await meta.PgDriver.connect({ url: env.PG_URL, schema: env.PG_SCHEMA, max: 2 });
const catalog = new meta.Catalog(driver, { commitLock: env.COMMIT_LOCK !== '0', maxRetries: Number(env.MAX_RETRIES ?? 5) });
const count = Number(env.COUNT);
const partition = env.PARTITION;
const wait = Number(env.START_AT) - Date.now();
if (wait > 0) await new Promise((r) => setTimeout(r, wait));
for (let i = 0; i < count; i++) {
  const path = `${env.TABLE_PATH}/part-${env.NAME}x${i}_0000.parquet`;
  try {
    const r = await catalog.commit({
      tableId: env.TABLE_ID, op: env.OP,
      partitions: [{ partitionDesc: partition, files: [{ path, op: 'add', size: 10n, existCols: ['id', 'v'] }] }],
    });
    process.stdout.write(JSON.stringify({ ok: true, path, commitId: r.commitIds.get(partition), version: r.versions.get(partition), retries: r.retries }) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({ ok: false, path, kind: e.kind, code: e.code, retryable: e.retryable, message: e.message, lakesoul: e instanceof meta.LakeSoulError }) + '\n');
  }
}
await catalog.close();
