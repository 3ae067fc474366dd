/**
 * `history --format csv` joined a commit's partition versions with spaces in one `versions` field, but
 * a partition value may hold spaces (`p=a b@0 p=c d@0` is two partitions or one): it now writes one line
 * per partition a commit wrote (time, op, partition, version, files, rows), each field one value, as
 * Python's csv module reads it. JSON keeps one object per commit with a list of versions.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { cliInProcess as cli } from './test-support/run-in-process.js';

let server: string | undefined;
beforeEach(() => { server = process.env.LAKESOUL_CATALOG_SERVER; process.env.LAKESOUL_CATALOG_SERVER = 'off'; });
afterEach(() => {
  if (server === undefined) delete process.env.LAKESOUL_CATALOG_SERVER;
  else process.env.LAKESOUL_CATALOG_SERVER = server;
});

/** The records of `csv` as Python's csv.reader gives them. */
function pythonCsv(csv: string): string[][] {
  const python = process.env.LAKESOUL_TEST_PYTHON ?? 'python3';
  const r = spawnSync(python, ['-c', 'import csv, json, sys; print(json.dumps(list(csv.reader(sys.stdin))))'], { input: csv, encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as string[][];
}

it('history --format csv: one line per partition version, partition values with spaces kept apart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-history-csv-'));
  expect((await cli(dir, ['table', 'create', 't', '--schema', 'id:int64!,p:utf8!,v:utf8', '--partition-by', 'p', '--primary-key', 'id'])).code).toBe(0);
  const values = ['a b', 'a', 'b@0 c;d', 'q"uote'];
  writeFileSync(join(dir, 'r.jsonl'), values.flatMap((p, i) => [JSON.stringify({ id: i, p, v: 'x' }), JSON.stringify({ id: 10 + i, p, v: 'y' })]).join('\n') + '\n');
  let r = await cli(dir, ['import', 't', 'r.jsonl']);
  expect(r.code, r.err).toBe(0);
  // the text summary quotes a partition whose value holds spaces or quotes (`p=a b@0` ran into the next)
  const listed = r.out.slice(r.out.indexOf('versions ') + 'versions '.length).trim().split(/ (?=p=|")/).sort();
  expect(listed).toEqual(['"p=a b"@0', '"p=b@0 c;d"@0', '"p=q\\"uote"@0', 'p=a@0']);
  writeFileSync(join(dir, 's.jsonl'), `${JSON.stringify({ id: 0, p: 'a b', v: 'z' })}\n`);
  r = await cli(dir, ['import', 't', 's.jsonl', '--mode', 'upsert']);
  expect(r.code, r.err).toBe(0);

  r = await cli(dir, ['history', 't', '--format', 'csv']);
  expect(r.code, r.err).toBe(0);
  const [header, ...rows] = pythonCsv(r.out);
  expect(header).toEqual(['time', 'op', 'partition', 'version', 'files', 'rows']);
  // the first commit wrote four partitions: four lines sharing its time and op
  const first = rows.slice(0, 4);
  expect(new Set(first.map((x) => x[0])).size).toBe(1);
  expect(first.map((x) => [x[1], x[2], x[3], x[4], x[5]]).sort()).toEqual(values.map((p) => ['MergeCommit', `p=${p}`, '0', '1', '2']).sort());
  expect(rows.slice(4)).toEqual([[expect.any(String), 'MergeCommit', 'p=a b', '1', '2', '3']]);

  // json keeps one object per commit, with the list of its versions
  r = await cli(dir, ['history', 't', '--format', 'json']);
  const commits = JSON.parse(r.out) as { versions: { partition: string; version: number }[]; files: number; rows: number }[];
  expect(commits.map((c) => [c.versions.length, c.files, c.rows])).toEqual([[4, 4, 8], [1, 2, 3]]);
  expect(commits[0]!.versions.map((v) => v.partition).sort()).toEqual(values.map((p) => `p=${p}`).sort());
});
