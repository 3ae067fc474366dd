// Child process of the open-vs-commit race test (catalog-concurrency.test.ts): waits for a common
// start instant, then opens and closes a Catalog (Catalog.open, bootstrap included) COUNT times on
// the PostgreSQL server, printing one JSON line per open.
//
// env: META_DIST (dir with the compiled index.js), PG_URL, PG_SCHEMA, COUNT, START_AT (epoch ms).
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const env = process.env;
const meta = await import(pathToFileURL(join(env.META_DIST, 'index.js')).href);
const wait = Number(env.START_AT) - Date.now();
if (wait > 0) await new Promise((r) => setTimeout(r, wait));
for (let i = 0; i < Number(env.COUNT); i++) {
  try {
    const catalog = await meta.Catalog.open({ url: env.PG_URL, schema: env.PG_SCHEMA, maxConnections: 1, env: {} });
    await catalog.close();
    process.stdout.write(JSON.stringify({ ok: true, path: `open${i}` }) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({ ok: false, path: `open${i}`, kind: e.kind, code: e.code, retryable: e.retryable, message: e.message, lakesoul: e instanceof meta.LakeSoulError }) + '\n');
  }
}
