/**
 * A compaction the catalog drops (another writer changed the partition after it was read: a
 * CompactionCommit gives way, protocol §2) was reported as "nothing to compact ... already one file
 * per bucket" with the partition still holding several files. `compact` now says which partitions
 * were left as they were, and to run it again; `RewriteResult.dropped` lists them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { Catalog, type CommitRequest } from '@lakesoul-ts/meta';
import { Lakehouse } from '@lakesoul-ts/io';
import { cliInProcess as cli } from './test-support/run-in-process.js';

afterEach(() => { vi.restoreAllMocks(); });

/**
 * A table partitioned by `p` holding two layers in partitions `a` and `b` (so both compact), run with
 * `fn`; just before a compaction commits, another writer updates the rows of partition `a`.
 */
async function withRacedCompaction(prefix: string, [a, b]: [string, string], fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env = process.env.LAKESOUL_CATALOG_SERVER;
  process.env.LAKESOUL_CATALOG_SERVER = 'off';
  try {
    expect((await cli(dir, ['table', 'create', 't', '--schema', 'id:int64!,p:utf8!,v:utf8', '--primary-key', 'id', '--partition-by', 'p'])).code).toBe(0);
    for (let i = 0; i < 2; i++) {
      writeFileSync(join(dir, `r${i}.jsonl`), `{"id":${i},"p":"${a}","v":"x"}\n{"id":${i},"p":"${b}","v":"x"}\n`);
      expect((await cli(dir, ['import', 't', `r${i}.jsonl`])).code).toBe(0);
    }
    const commit = Catalog.prototype.commit;
    vi.spyOn(Catalog.prototype, 'commit').mockImplementation(async function (this: Catalog, request: CommitRequest) {
      if (request.op === 'CompactionCommit') {
        const lh = await Lakehouse.open({ catalog: this });
        await (await lh.table('t')).update(`p = '${a}'`, { v: 'y' });
      }
      return commit.call(this, request);
    });
    await fn(dir);
  } finally {
    if (env === undefined) delete process.env.LAKESOUL_CATALOG_SERVER;
    else process.env.LAKESOUL_CATALOG_SERVER = env;
  }
}

it('compact says which partitions another writer changed meanwhile', async () => {
  await withRacedCompaction('lakesoul-cli-compact-dropped-', ['a', 'b'], async (dir) => {
    const r = await cli(dir, ['compact', 't']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/compacted t: .*versions p=b@2/);
    expect(r.out).toContain('1 partition changed by another writer while compacting, left as they were (p=a): run compact again');
    expect(r.out).not.toContain('nothing to compact');
    vi.restoreAllMocks();
    // the update rewrote p=a whole: one file per bucket now
    const again = await cli(dir, ['compact', 't', '--format', 'json']);
    expect(JSON.parse(again.out)).toEqual([{ table: 't', files_removed: 0, files_added: 0, versions: [], dropped: [] }]);
  });
});

it('compact --format csv writes one line per partition, so values holding spaces read back', async () => {
  await withRacedCompaction('lakesoul-cli-compact-csv-', ['a b', 'c d'], async (dir) => {
    const r = await cli(dir, ['compact', 't', '--format', 'csv']);
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim().split('\n')).toEqual([
      'table,total_files_removed,total_files_added,partition,version,outcome',
      't,2,1,p=c d,2,compacted',
      't,2,1,p=a b,,dropped',
    ]);
    vi.restoreAllMocks();
    const again = await cli(dir, ['compact', 't', '--format', 'csv']);
    expect(again.out.trim().split('\n')).toEqual(['table,total_files_removed,total_files_added,partition,version,outcome', 't,0,0,,,nothing to compact']);
  });
});
