/**
 * `cleanup --orphan-window ""` (an unset variable in a script) was 0 minutes: every file of a write in
 * flight an orphan, deleted with --execute. Only digits are minutes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cliInProcess as cli } from './test-support/run-in-process.js';

it('--orphan-window takes digits only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-cleanup-window-'));
  const env = process.env.LAKESOUL_CATALOG_SERVER;
  process.env.LAKESOUL_CATALOG_SERVER = 'off';
  try {
    expect((await cli(dir, ['table', 'create', 't', '--schema', 'id:int64!'])).code).toBe(0);
    for (const bad of ['', ' ', '0x10', '1e3', '-1', 'abc']) {
      const r = await cli(dir, ['cleanup', 't', '--orphan-window', bad, '--execute']);
      expect(r.code, `'${bad}'`).toBe(4);
      expect(r.err).toContain('--orphan-window must be a number of minutes >= 0');
    }
    expect((await cli(dir, ['cleanup', 't', '--orphan-window', '0'])).code).toBe(0);
    expect((await cli(dir, ['cleanup', 't', '--orphan-window', '1.5'])).code).toBe(0);
  } finally {
    if (env === undefined) delete process.env.LAKESOUL_CATALOG_SERVER;
    else process.env.LAKESOUL_CATALOG_SERVER = env;
  }
});
