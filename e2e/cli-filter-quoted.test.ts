/**
 * `lakesoul-ts scan --filter` passes quoted identifiers through to the filter grammar (docs/tables.md
 * `filter`): columns named `a b`, `a.b`, `"q"`, `and` and `名前` are selected by name in double quotes,
 * and an unterminated quote is refused naming its position.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-filter-quoted-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[]) => runCli(['--home', join(dir, 'home'), ...args], { timeoutMs: 60_000 });
const ids = (out: string): number[] => out.trim().split('\n').filter(Boolean).map((l) => Number(JSON.parse(l).id)).sort();

it('scan --filter selects columns named in double quotes', async () => {
  const names = ['a b', 'a.b', '"q"', 'and', '名前'];
  const schema = JSON.stringify([{ name: 'id', type: 'int64', nullable: false }, ...names.map((name) => ({ name, type: 'utf8', nullable: true }))]);
  const created = await cli(['table', 'create', 'odd', '--schema', schema]);
  expect([created.code, created.err]).toEqual([0, '']);
  const rows = join(dir, 'rows.jsonl');
  writeFileSync(rows, [1, 2, 3].map((id) => JSON.stringify({ id, ...Object.fromEntries(names.map((n) => [n, id === 3 ? null : `${n}${id}`])) })).join('\n') + '\n');
  const imported = await cli(['import', 'odd', rows]);
  expect([imported.code, imported.err]).toEqual([0, '']);

  const scan = async (filter: string) => {
    const r = await cli(['scan', 'odd', '--filter', filter, '--format', 'jsonl']);
    expect(r.err, filter).toBe('');
    expect(r.code, filter).toBe(0);
    return ids(r.out);
  };
  expect(await scan(`"a b" = 'a b2'`)).toEqual([2]);
  expect(await scan(`"a.b" = 'a.b1' or a.b = 'a.b2'`)).toEqual([1, 2]);
  expect(await scan(`"""q""" = '"q"1'`)).toEqual([1]);
  expect(await scan(`"and" is null`)).toEqual([3]);
  expect(await scan(`"名前" like '名前%'`)).toEqual([1, 2]);

  const open = await cli(['scan', 'odd', '--filter', `"a b = 'x'`]);
  expect(open.code).not.toBe(0);
  expect(open.err).toMatch(/filter syntax error at position 0: unterminated quoted identifier/);
});
