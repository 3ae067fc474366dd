/**
 * `cleanup --orphan-window ""` (an unset variable in a script) was 0 minutes: every file of a write in
 * flight an orphan, deleted with --execute. Only digits are minutes.
 */
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { cliInProcess as cli, inTempDirNoServer } from './test-support/run-in-process.js';

it('--orphan-window takes digits only', async () => {
  await inTempDirNoServer('lakesoul-cli-cleanup-window-', async (dir) => {
    expect((await cli(dir, ['table', 'create', 't', '--schema', 'id:int64!'])).code).toBe(0);
    for (const bad of ['', ' ', '0x10', '1e3', '-1', 'abc']) {
      const r = await cli(dir, ['cleanup', 't', '--orphan-window', bad, '--execute']);
      expect(r.code, `'${bad}'`).toBe(4);
      expect(r.err).toContain('--orphan-window must be a number of minutes >= 0');
    }
    expect((await cli(dir, ['cleanup', 't', '--orphan-window', '0'])).code).toBe(0);
    expect((await cli(dir, ['cleanup', 't', '--orphan-window', '1.5'])).code).toBe(0);
    expect((await cli(dir, ['cleanup', 't', '--orphan-window', '1.5', '--execute'])).code).toBe(0);
  });
});

it('--execute with a window under a minute needs --assume-no-writes (window 0 beside a short import committed a deleted file)', async () => {
  await inTempDirNoServer('lakesoul-cli-cleanup-window-', async (dir) => {
    writeFileSync(join(dir, 'rows.csv'), 'id\n1\n');
    expect((await cli(dir, ['table', 'create', 't', '--schema', 'id:int64!'])).code).toBe(0);
    expect((await cli(dir, ['import', 't', join(dir, 'rows.csv')])).code).toBe(0);
    const parquet = () => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.parquet')).sort();
    const [file] = parquet();
    // a file no commit names: an orphan, or the file of an import still running
    copyFileSync(join(dir, file!), join(dir, dirname(file!), 'part-in-flight.parquet'));
    for (const window of ['0', '0.5']) {
      const r = await cli(dir, ['cleanup', 't', '--orphan-window', window, '--execute']);
      expect(r.code, window).toBe(4);
      expect(r.err).toContain(`cleanup t --execute: an --orphan-window of ${window} minutes is under 1`);
      expect(r.err).toContain('add --assume-no-writes');
    }
    expect(parquet()).toHaveLength(2);
    const r = await cli(dir, ['cleanup', 't', '--orphan-window', '0', '--execute', '--assume-no-writes', '--format', 'csv']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^deleted,.*part-in-flight\.parquet,orphan,/m);
    expect(parquet()).toEqual([file]);
  });
});
