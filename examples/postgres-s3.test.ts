/**
 * Runs examples/postgres-s3.sh (the PostgreSQL + S3 guide, docs/postgres-s3.md) against the test
 * environment's real PostgreSQL server and S3 server, with the built `lakesoul-ts` binary.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshBucket, testEnv, uniqueName } from '../e2e/cli-env.js';

function pgToJdbc(url: string): { url: string; user: string; password: string } {
  const u = new URL(url);
  return { url: `jdbc:postgresql://${u.host}${u.pathname}`, user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
}

describe('examples/postgres-s3.sh', () => {
  it('runs the guide on PostgreSQL + S3 with LakeSoul-style environment variables', async () => {
    const bucket = await freshBucket('guide');
    const pg = pgToJdbc(testEnv('LAKESOUL_TEST_PG_URL'));
    const bin = resolve(import.meta.dirname, '../packages/cli/dist/bin.js');
    const env = {
      ...process.env,
      LAKESOUL_PG_URL: pg.url, LAKESOUL_PG_USERNAME: pg.user, LAKESOUL_PG_PASSWORD: pg.password,
      AWS_ENDPOINT: testEnv('LAKESOUL_TEST_S3_ENDPOINT'),
      WAREHOUSE: `s3://${bucket}/lakehouse`, NS: uniqueName('sales'),
      LAKESOUL_TS: `${process.execPath} ${bin}`,
    };
    const r = await new Promise<{ code: number | null; out: string; err: string }>((res) => {
      const p = spawn('bash', [resolve(import.meta.dirname, 'postgres-s3.sh')], { env });
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => { out += d; });
      p.stderr.on('data', (d) => { err += d; });
      p.on('exit', (code) => res({ code, out, err }));
    });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`s3://${bucket}/lakehouse`);
    const csv = r.out.split('\n').filter((l) => /^\d{4},/.test(l));
    expect(csv.sort()).toEqual([
      '1001,2024-03-01,ada,19.90,new', '1002,2024-03-01,bob,7.50,paid', '1003,2024-03-02,cy,120.50,new', '1004,2024-03-02,dee,42.00,new',
    ]);
    expect(r.out).toContain('"order_id":1002,"day":"2024-03-01","customer":"bob","amount":"5.00","status":"new"');
    expect(r.out).toMatch(/MergeCommit\s+day=2024-03-01@1, day=2024-03-02@1\s+5\s+5\n/);
    expect(r.out).toMatch(/\{"order_id":1002,[^\n]*"status":"paid"\}\n$/);
  }, 600_000);
});
