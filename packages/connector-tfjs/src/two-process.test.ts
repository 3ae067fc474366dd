import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { toFileUri } from '@lakesoul-ts/io';
import { createTabularTable, openTestLakehouse, tabularRows } from './test-support/tables.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const packages = join(here, '..', '..');

/** The child runs the built packages: they must exist, and this package's build must be newer than its sources. */
function checkBuilt(): void {
  for (const pkg of ['meta', 'io', 'connector-tfjs']) {
    const dist = join(packages, pkg, 'dist', 'index.js');
    if (!existsSync(dist)) throw new Error(`${pkg}/dist is missing: the two-process test runs child processes on the built packages; run via pnpm test (it builds first) or pnpm exec turbo run build --filter=@lakesoul-ts/connector-tfjs`);
    if (pkg !== 'connector-tfjs') continue;
    const built = statSync(dist).mtimeMs;
    const src = join(packages, pkg, 'src');
    const newest = Math.max(...readdirSync(src, { recursive: true, withFileTypes: true }).map((d) => ({ d, dir: d.parentPath ?? (d as unknown as { path: string }).path })).filter(({ d, dir }) => d.isFile() && d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') && !dir.includes('test-support')).map(({ d, dir }) => statSync(join(dir, d.name)).mtimeMs));
    if (newest > built) throw new Error(`${pkg}/dist is older than ${pkg}/src: rebuild (pnpm exec turbo run build --filter=@lakesoul-ts/connector-tfjs) or run via pnpm test`);
  }
}

let env: Awaited<ReturnType<typeof openTestLakehouse>>;
beforeAll(async () => {
  env = await openTestLakehouse();
});
afterAll(async () => env?.close());

function runChild(args: string[], script = 'train-rank.mjs'): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, 'test-support', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`rank ${args[1]} exited with ${code}: ${err}`))));
  });
}

it('two processes train from one plan (handed over as JSON) and cover the data once per epoch', async () => {
  checkBuilt();
  const { table, total } = await createTabularTable(env.lakehouse, 'two_proc', [
    { date: 'a', rows: 9 },
    { date: 'b', rows: 4 },
    { date: 'a', rows: 6 },
    { date: 'b', rows: 7 },
    { date: 'a', rows: 5 },
  ]);
  // Plan once in the parent (the embedded catalog is single-process); children read storage only.
  const plan = await (await table.scan({})).withRowCounts();
  const planFile = join(env.dir, 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan.toJSON()));
  const epochs = 3;
  const outs = [0, 1].map((r) => join(env.dir, `rank${r}.json`));
  await Promise.all([0, 1].map((r) => runChild([planFile, String(r), '2', String(epochs), outs[r]])));
  const results = outs.map((f) => JSON.parse(readFileSync(f, 'utf8')) as { pid: number; seen: Record<string, number[]>; losses: number[]; shardSplits: string[] });
  expect(results[0].pid).not.toBe(results[1].pid);
  expect(results[0].shardSplits.filter((s) => results[1].shardSplits.includes(s))).toEqual([]);
  for (let e = 0; e < epochs; e++) {
    const a = results[0].seen[e];
    const b = results[1].seen[e];
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect(a.filter((x) => b.includes(x))).toEqual([]);
    expect([...a, ...b].sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i));
  }
  // Epochs are reshuffled: rank 0's order differs between epochs 0 and 1.
  expect(results[0].seen[1]).not.toEqual(results[0].seen[0]);
  for (const r of results) {
    expect(r.losses.length).toBe(epochs);
    expect(r.losses.every(Number.isFinite)).toBe(true);
  }
});

it('two processes each open the table through the PostgreSQL catalog, pinned to one version, and step in lock step', async () => {
  checkBuilt();
  const url = process.env.LAKESOUL_TEST_PG_URL;
  if (!url) throw new Error('LAKESOUL_TEST_PG_URL is not set: run via pnpm test (scripts/test-env.mjs starts PostgreSQL)');
  const pg = await openTestLakehouse({ pgUrl: url });
  try {
    const { table, total } = await createTabularTable(pg.lakehouse, 'two_proc_pg', [
      { date: 'a', rows: 9 },
      { date: 'a', rows: 4 },
      { date: 'a', rows: 6 },
    ]);
    const version = (await table.scan({})).toJSON().partitionVersions['date=a'];
    // A later commit the pinned ranks must not see.
    await table.write(tabularRows([1000, 1001, 1002], 'a'), { mode: 'append' });
    const schema = pg.pgSchema;
    const epochs = 2;
    const outs = [0, 1].map((r) => join(pg.dir, `pg-rank${r}.json`));
    await Promise.all([0, 1].map((r) => runChild([url, schema as string, toFileUri(join(pg.dir, 'warehouse')), 'two_proc_pg', String(version), String(r), '2', String(epochs), outs[r]], 'train-rank-pg.mjs')));
    const results = outs.map((f) => JSON.parse(readFileSync(f, 'utf8')) as { seen: Record<string, number[]>; losses: number[]; samplesPerEpoch: number; versions: Record<string, number> });
    expect(results[0].versions).toEqual({ 'date=a': version });
    expect(results[0].samplesPerEpoch).toBe(results[1].samplesPerEpoch);
    for (let e = 0; e < epochs; e++) {
      const a = results[0].seen[e];
      const b = results[1].seen[e];
      expect(a.length).toBe(results[0].samplesPerEpoch);
      expect(b.length).toBe(a.length);
      // 'pad': every row of the pinned version is seen, nothing newer, ranks share no row.
      expect([...new Set([...a, ...b])].sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i));
      expect(new Set(a).size + new Set(b).size).toBe(total);
    }
    for (const r of results) expect(r.losses.every(Number.isFinite)).toBe(true);
  } finally {
    await pg.close();
  }
});
