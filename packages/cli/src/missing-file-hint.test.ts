/**
 * A read whose data file is gone (deleted by a cleanup that passed its version, or by hand) ended
 * with "(see: lakesoul-ts table list)": the table exists and is listed there, so the hint sent a
 * person to the wrong place (found by a hunt of time travel). The message itself says what to do.
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cliInProcess as cli, inTempDirNoServer } from './test-support/run-in-process.js';

it('a missing data file gets no "table list" hint', async () => {
  await inTempDirNoServer('lakesoul-cli-missing-file-', async (dir) => {
    writeFileSync(join(dir, 'rows.csv'), 'id\n1\n');
    expect((await cli(dir, ['table', 'create', 't', '--schema', 'id:int64!'])).code).toBe(0);
    expect((await cli(dir, ['import', 't', join(dir, 'rows.csv')])).code).toBe(0);
    const file = readdirSync(dir, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('.parquet'))!;
    rmSync(join(dir, file));
    const r = await cli(dir, ['scan', 't']);
    expect(r.code).toBe(3);
    expect(r.err).toContain("of table 'default.t' (unpartitioned) no longer exists");
    expect(r.err).not.toContain('table list');
    // a table that is not there keeps its hint
    expect((await cli(dir, ['scan', 'u'])).err).toMatch(/\(see: .*table list -n default\)/);
  });
});
