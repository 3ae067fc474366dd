/**
 * docs/tables.md's `ts runnable` blocks are complete programs: each is type-checked (tsc, strict,
 * against the built packages) and run as written; what they print is checked against the results
 * their comments announce.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const dir = join(import.meta.dirname, '.docs-tables');

function runnableBlocks(): string[] {
  const text = readFileSync(join(root, 'docs/tables.md'), 'utf8');
  return [...text.matchAll(/```ts runnable\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('docs/tables.md: every runnable block type-checks and runs, printing what its comments say', async () => {
  const blocks = runnableBlocks();
  expect(blocks.length).toBeGreaterThan(0);
  mkdirSync(dir, { recursive: true });
  const files = blocks.map((b, i) => {
    const f = join(dir, `block-${i}.ts`);
    writeFileSync(f, `${b}\nexport {};\n`);
    return f;
  });
  // Type-check as a user's strict NodeNext project would (the packages' published .d.ts).
  const tsc = join(root, 'node_modules/.bin/tsc');
  try {
    execFileSync(tsc, ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2023,esnext.disposable', '--types', 'node', '--skipLibCheck', ...files], {
      cwd: import.meta.dirname, stdio: 'pipe',
    });
  } catch (e) {
    throw new Error(`tsc failed on docs/tables.md blocks:\n${(e as { stdout?: Buffer }).stdout?.toString()}`);
  }
  const logs: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => { logs.push(args.map(String).join(' ')); });
  try {
    for (const f of files) await import(f);
  } finally {
    spy.mockRestore();
  }
  // The first block's announced results, in order.
  expect(logs[0]).toBe("row 0: column 'id' of table 'events': 5.5 is not an integer (column type Int64)");
  expect(logs[1]).toBe('2');
  expect(logs[2]).toBe('SCHEMA_EVOLUTION_REFUSED');
  const rows = logs.slice(3, -2).map((l) => JSON.parse(l));
  expect(rows.sort((a, b) => a.id - b.id)).toEqual([
    { id: 1, day: '2024-01-01', kind: 'click', score: 1, country: 'NL' },
    { id: 2, day: '2024-01-01', kind: 'view', score: 0.9, country: null },
    { id: 10, day: '2024-01-02', kind: 'click', score: 0.3, country: null },
  ]);
  expect(logs.slice(-2)).toEqual(['2', 'true']);
}, 300_000);
