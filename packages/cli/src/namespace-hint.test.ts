/**
 * A table in another namespace, named without `-n`: `scan` hinted `table list -n default` (the one
 * namespace where it is not) and `import` told to create the table, which would make a second, empty
 * `default.orders` and split the data. Both now name the namespace that has it. Found by a hunt of the
 * documentation's examples.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cliInProcess as cli, inTempDirNoServer } from './test-support/run-in-process.js';

it('names the namespace that has a table named without -n, in scan and import', async () => {
  await inTempDirNoServer('lakesoul-cli-ns-hint-', async (dir) => {
    expect((await cli(dir, ['ns', 'create', 'sales'])).code).toBe(0);
    expect((await cli(dir, ['table', 'create', 'orders', '-n', 'sales', '--schema', 'id:int64!,v:utf8', '--primary-key', 'id'])).code).toBe(0);
    writeFileSync(join(dir, 'o.csv'), 'id,v\n1,a\n');
    const imported = await cli(dir, ['import', 'orders', 'o.csv']);
    expect(imported.code).toBe(3);
    expect(imported.err).toMatch(/^error: table 'default\.orders' not found; namespace 'sales' has a table of that name: add `-n sales` \(see: .* table list -n sales\)\n/);
    expect(imported.err).not.toContain('create it first');
    const scanned = await cli(dir, ['scan', 'orders']);
    expect(scanned.code).toBe(3);
    expect(scanned.err).toContain("namespace 'sales' has a table of that name: add `-n sales`");
    expect((await cli(dir, ['table', 'list'])).out).not.toMatch(/default\s+orders/);
    // two namespaces: both named; no such table anywhere: the hints as before
    expect((await cli(dir, ['table', 'create', 'orders', '-n', 'eu', '--schema', 'id:int64!'])).code).toBe(0);
    expect((await cli(dir, ['scan', 'orders'])).err).toContain("namespaces 'eu', 'sales' have a table of that name: add `-n eu`");
    expect((await cli(dir, ['scan', 'nope'])).err).toMatch(/table 'default\.nope' not found \(see: .* table list -n default\)/);
    expect((await cli(dir, ['import', 'nope', 'o.csv'])).err).toContain('create it first');
  });
});
