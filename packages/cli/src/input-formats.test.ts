/**
 * What `export` writes, `import` and `table create --from` read back by the same format name:
 * `import --format json` was refused (the choices were csv/jsonl/parquet/images), `table create
 * --from` had no --format, so a file of another extension, standard input or a pipe could not be
 * used, and its error told to give a --format it did not take.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cliInProcess as cli } from './test-support/run-in-process.js';

let dir: string;
const env = process.env.LAKESOUL_CATALOG_SERVER;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-formats-'));
  process.env.LAKESOUL_CATALOG_SERVER = 'off';
});
afterAll(() => {
  if (env === undefined) delete process.env.LAKESOUL_CATALOG_SERVER;
  else process.env.LAKESOUL_CATALOG_SERVER = env;
});

it('export --format json reads back with import --format json from standard input', async () => {
  expect((await cli(dir, ['table', 'create', 'a', '--schema', 'id:int64!,s:utf8', '--primary-key', 'id'])).code).toBe(0);
  writeFileSync(join(dir, 'a.jsonl'), '{"id":1,"s":"x"}\n{"id":2,"s":null}\n');
  expect((await cli(dir, ['import', 'a', 'a.jsonl'])).code).toBe(0);
  const exported = await cli(dir, ['export', 'a', '-', '--format', 'json']);
  expect(exported.code, exported.err).toBe(0);
  const created = await cli(dir, ['table', 'create', 'b', '--from', '-', '--format', 'json', '--primary-key', 'id'], exported.out);
  expect(created.code, created.err).toBe(0);
  expect(created.out).toMatch(/id\s+int64/);
  const imported = await cli(dir, ['import', 'b', '-', '--format', 'json'], exported.out);
  expect(imported.code, imported.err).toBe(0);
  const scan = await cli(dir, ['scan', 'b', '--format', 'jsonl']);
  expect(scan.out.trim().split('\n').map((l) => JSON.parse(l) as { id: number }).sort((x, y) => x.id - y.id)).toEqual([{ id: 1, s: 'x' }, { id: 2, s: null }]);
});

it('table create --from takes --format for a file of another extension, tsv included', async () => {
  writeFileSync(join(dir, 'rows.data'), 'id\tname\n1\tann\n');
  const refused = await cli(dir, ['table', 'create', 'c', '--from', 'rows.data']);
  expect(refused.code).toBe(4);
  expect(refused.err).toContain('use --format csv|tsv|jsonl|json|parquet');
  const r = await cli(dir, ['table', 'create', 'c', '--from', 'rows.data', '--format', 'tsv']);
  expect(r.code, r.err).toBe(0);
  expect(r.out).toMatch(/name\s+utf8/);
  const i = await cli(dir, ['import', 'c', '-', '--format', 'tsv'], 'id\tname\n2\tbo\n');
  expect(i.code, i.err).toBe(0);
  expect((await cli(dir, ['scan', 'c', '--format', 'jsonl'])).out.trim().split('\n').map((l) => JSON.parse(l))).toEqual([{ id: 2, name: 'bo' }]);
});

it('table create --from - names standard input in its errors, not the deleted temporary copy', async () => {
  for (const [format, input] of [['csv', ''], ['jsonl', 'id,s\n1,x\n'], ['parquet', 'not parquet']] as const) {
    const r = await cli(dir, ['table', 'create', `e_${format}`, '--from', '-', '--format', format], input);
    expect([format, r.code]).toEqual([format, 4]);
    expect(r.err).toContain('standard input');
    expect(r.err).not.toMatch(/lakesoul-ts-import-|\/input\b/);
  }
});
