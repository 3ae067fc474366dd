/**
 * `relocate` that put a table at the home's warehouse itself (or around it): every later
 * `table create` there was refused, its default path lying inside that table's (found by a hunt of
 * relocate). It is refused, naming the table and the warehouse, and nothing changes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cliInProcess as cli, inTempDirNoServer } from './test-support/run-in-process.js';

it('refuses to move a table to or around the warehouse of the home, or a namespace directory', async () => {
  await inTempDirNoServer('lakesoul-cli-relocate-wh-', async (dir) => {
    writeFileSync(join(dir, 'rows.csv'), 'id\n1\n');
    expect((await cli(dir, ['table', 'create', 't', '--schema', 'id:int64!'])).code).toBe(0);
    expect((await cli(dir, ['import', 't', join(dir, 'rows.csv')])).code).toBe(0);
    const wh = join(dir, 'home', 'warehouse');
    for (const to of [wh, join(dir, 'home')]) {
      const r = await cli(dir, ['relocate', join(wh, 'default', 't'), to]);
      expect(r.code, r.err).toBe(4);
      expect(r.err).toContain(`relocate: table 'default.t' would move to file://${to}, at or around this home's warehouse (file://${wh})`);
      expect(r.err).toContain('nothing was changed');
    }
    // a namespace's directory too (the creates in that namespace were refused after)
    const ns = await cli(dir, ['relocate', join(wh, 'default', 't'), join(wh, 'default')]);
    expect(ns.code).toBe(4);
    expect(ns.err).toContain(`would move to file://${join(wh, 'default')}, at or around the directory of namespace 'default'`);
    const listed = await cli(dir, ['table', 'describe', 't', '--format', 'json']);
    expect(listed.out).toContain(`file://${join(wh, 'default', 't')}`);
    expect((await cli(dir, ['table', 'create', 'u', '--schema', 'id:int64!'])).code).toBe(0);
  });
});
