/**
 * A primary-key table whose `hashBucketNum` property is not a number ('abc', as LakeSoul's wheel or a
 * hand-edited catalog can store it) read as -1: `import` failed with "hash bucket count must be a
 * positive integer below 2^31, got -1" naming no table, and `table describe` showed "-1 buckets".
 * Writes, upserts and compaction now fail naming the table and the value; `describe` and `table list`
 * show the value as invalid; `table drop` drops the table.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Catalog } from '@lakesoul-ts/meta';
import { cliInProcess as cli } from './test-support/run-in-process.js';

let server: string | undefined;
beforeEach(() => { server = process.env.LAKESOUL_CATALOG_SERVER; process.env.LAKESOUL_CATALOG_SERVER = 'off'; });
afterEach(() => {
  if (server === undefined) delete process.env.LAKESOUL_CATALOG_SERVER;
  else process.env.LAKESOUL_CATALOG_SERVER = server;
});

it('write, upsert and compact name the table and the value; describe and list show it invalid; drop works', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-invalid-buckets-'));
  expect((await cli(dir, ['table', 'create', 't', '--schema', 'id:int64!,v:utf8', '--primary-key', 'id', '--buckets', '2'])).code).toBe(0);
  writeFileSync(join(dir, 'r.jsonl'), '{"id":1,"v":"a"}\n{"id":2,"v":"b"}\n');
  expect((await cli(dir, ['import', 't', 'r.jsonl'])).code).toBe(0);
  // the catalog row edited by SQL, as a person or another engine leaves it
  const catalog = await Catalog.open({ dataDir: join(dir, 'home', 'catalog'), env: {} });
  try {
    await catalog.driver.query(`UPDATE table_info SET properties = jsonb_set(properties::jsonb, '{hashBucketNum}', '"abc"')::json WHERE table_name = 't'`);
  } finally {
    await catalog.close();
  }
  const refusal = /^error: table 'default\.t' has hashBucketNum 'abc', not a bucket count \(an integer from 1 to 2147483647\)/;
  for (const args of [['import', 't', 'r.jsonl', '--mode', 'append'], ['import', 't', 'r.jsonl', '--mode', 'upsert'], ['compact', 't']]) {
    const r = await cli(dir, args);
    expect(r.code, args.join(' ')).toBe(1);
    expect(r.err, args.join(' ')).toMatch(refusal);
    expect(r.err).not.toMatch(/got -1/);
  }

  let r = await cli(dir, ['table', 'describe', 't']);
  expect(r.code, r.err).toBe(0);
  expect(r.out).toContain("primary key id, buckets invalid (hashBucketNum 'abc')");
  expect(r.out).toMatch(/^not readable: table 'default\.t' has hashBucketNum 'abc'/m);
  expect(r.out).toContain('  hashBucketNum = abc');
  expect(r.out).not.toMatch(/-1 buckets/);
  r = await cli(dir, ['table', 'describe', 't', '--format', 'json']);
  expect(r.code, r.err).toBe(0);
  expect(JSON.parse(r.out)).toMatchObject({ name: 't', hashBucketNum: null, properties: { hashBucketNum: 'abc' }, unsupported: expect.stringContaining("'abc'"), partitions: [expect.objectContaining({ version: 0 })] });

  r = await cli(dir, ['table', 'list']);
  expect(r.code, r.err).toBe(0);
  expect(r.out).toMatch(/^default\s+t\s+id\s+-\s+invalid \(hashBucketNum 'abc'\)\s/m);
  // stderr says which listed tables cannot be read (stdout's records stay as they were)
  expect(r.err).toContain('note: 1 of these tables cannot be read by this version (default.t)');
  r = await cli(dir, ['table', 'list', '--format', 'json']);
  expect(JSON.parse(r.out)).toEqual([expect.objectContaining({ table: 't', buckets: null })]);
  expect(r.err).toContain('cannot be read by this version (default.t)');
  expect((await cli(dir, ['--quiet', 'table', 'list'])).err).toBe('');

  r = await cli(dir, ['table', 'drop', 't', '--purge']);
  expect(r.code, r.err).toBe(0);
  expect((await cli(dir, ['table', 'list', '--format', 'json'])).out.trim()).toBe('[]');
});
