import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTabularTable, openTestLakehouse } from './test-support/tables.js';

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
    const newest = Math.max(...readdirSync(src, { recursive: true, withFileTypes: true }).filter((d) => d.isFile() && d.name.endsWith('.ts') && !d.name.endsWith('.test.ts')).map((d) => statSync(join(d.parentPath, d.name)).mtimeMs));
    if (newest > built) throw new Error(`${pkg}/dist is older than ${pkg}/src: rebuild (pnpm exec turbo run build --filter=@lakesoul-ts/connector-tfjs) or run via pnpm test`);
  }
}

let env: Awaited<ReturnType<typeof openTestLakehouse>>;
beforeAll(async () => {
  env = await openTestLakehouse();
});
afterAll(async () => env?.close());

function runChild(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, 'test-support', 'train-rank.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
