/**
 * Exit code 5 (commit conflict) from the real binary on the real PostgreSQL catalog. A commit conflicts
 * when another writer takes the partition version it is inserting (the primary key of partition_info);
 * the catalog re-reads and retries, and only a writer that loses every retry gets the conflict. Two
 * processes racing cannot lose every time on purpose, so a trigger in the database stands in for a
 * committer that always wins: it rejects this table's partition_info inserts exactly as a concurrent
 * committer's row would (unique violation on partition_info_pkey). Everything else is real.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PgDriver } from '@lakesoul-ts/meta';
import { describe, expect, it } from 'vitest';
import { testEnv, uniqueName } from './cli-env.js';
import { runCli } from './cli-run.js';

describe('lakesoul-ts exit code 5 (commit conflict) on PostgreSQL', () => {
  it('exits 5 naming table and partition when every commit attempt loses to another writer, and commits nothing', async () => {
    const url = testEnv('LAKESOUL_TEST_PG_URL');
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-conflict-'));
    const g = ['--catalog', url, '--warehouse', pathToFileURL(join(dir, 'warehouse')).href];
    const name = uniqueName('conflict');
    const run = (args: string[]) => runCli([...g, ...args], { timeoutMs: 120_000 });
    expect((await run(['table', 'create', name, '--schema', 'id:int64!,date:utf8!', '--partition-by', 'date', '--primary-key', 'id', '--buckets', '1'])).code).toBe(0);
    const csv = join(dir, 'rows.csv');
    writeFileSync(csv, 'id,date\n1,2024-01-01\n2,2024-01-01\n');

    const db = await PgDriver.connect({ url });
    const trigger = `${name}_wins`;
    try {
      const id = (await db.query<{ table_id: string }>('SELECT table_id FROM table_info WHERE table_name = $1', [name])).rows[0]!.table_id;
      await db.query(`CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE unique_violation USING MESSAGE = 'duplicate key value violates unique constraint "partition_info_pkey"',
            TABLE = 'partition_info', CONSTRAINT = 'partition_info_pkey';
        END $$`);
      await db.query(`CREATE TRIGGER ${trigger} BEFORE INSERT ON partition_info FOR EACH ROW
        WHEN (NEW.table_id = '${id}') EXECUTE FUNCTION ${trigger}()`);

      const imp = await run(['import', name, csv, '--mode', 'upsert']);
      expect(imp.code, imp.err).toBe(5);
      expect(imp.err).toMatch(new RegExp(`table 'default\\.${name}' partition 'date=2024-01-01' still conflicted after \\d+ retries; retry the write`));
      expect(imp.out).toBe('');

      await db.query(`DROP TRIGGER ${trigger} ON partition_info`);
      // Nothing of the failed import is visible, and the same command succeeds once the other writer is gone.
      const count = async (table: string) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE table_id = $1`, [id])).rows[0]!.n;
      expect(await count('partition_info')).toBe(0);
      expect(await count('data_commit_info')).toBe(0);
      expect((await run(['history', name, '--format', 'jsonl'])).out).toBe('');
      const again = await run(['import', name, csv, '--mode', 'upsert']);
      expect(again.code, again.err).toBe(0);
      expect((await run(['scan', name, '--format', 'csv'])).out).toBe('id,date\n1,2024-01-01\n2,2024-01-01\n');
    } finally {
      await db.query(`DROP TRIGGER IF EXISTS ${trigger} ON partition_info`);
      await db.query(`DROP FUNCTION IF EXISTS ${trigger}()`);
      await db.close();
    }
  }, 300_000);
});
