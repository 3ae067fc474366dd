/**
 * A CSV header's names were trimmed, so a column whose name has spaces at its ends (` x `, which
 * export writes as it is) could not be imported back: "column 'x' not in the table schema". Found by a
 * hunt of export/import round trips.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cliInProcess as cli, inTempDirNoServer } from './test-support/run-in-process.js';

it('imports a column named with spaces at its ends by its name as written, others trimmed', async () => {
  await inTempDirNoServer('lakesoul-cli-csv-header-', async (dir) => {
    writeFileSync(join(dir, 'schema.json'), JSON.stringify([{ name: 'id', type: 'int64', nullable: false }, { name: ' x ', type: 'utf8', nullable: true }, { name: 'x', type: 'utf8', nullable: true }]));
    expect((await cli(dir, ['table', 'create', 'sp', '--schema', '@schema.json', '--primary-key', 'id'])).code).toBe(0);
    writeFileSync(join(dir, 'sp.csv'), 'id, x ,x\n1,spaced,plain\n');
    const r = await cli(dir, ['import', 'sp', 'sp.csv']);
    expect(r.code, r.err).toBe(0);
    expect((await cli(dir, ['export', 'sp', 'out.csv'])).code).toBe(0);
    expect(readFileSync(join(dir, 'out.csv'), 'utf8')).toBe('id, x ,x\n1,spaced,plain\n');
    // a name the table does not have as written is trimmed, as before
    writeFileSync(join(dir, 'trim.csv'), 'id , x\n2,trimmed\n');
    expect((await cli(dir, ['import', 'sp', 'trim.csv'])).code).toBe(0);
    expect((await cli(dir, ['scan', 'sp', '-w', 'id = 2', '--format', 'csv'])).out).toBe('id, x ,x\n2,,trimmed\n');
  });
});

it('selects a column named with spaces at its ends with --columns as written, others trimmed', async () => {
  await inTempDirNoServer('lakesoul-cli-columns-spaces-', async (dir) => {
    writeFileSync(join(dir, 'schema.json'), JSON.stringify([{ name: 'id', type: 'int64', nullable: false }, { name: ' x ', type: 'utf8', nullable: true }, { name: 'x', type: 'utf8', nullable: true }]));
    expect((await cli(dir, ['table', 'create', 'sp', '--schema', '@schema.json', '--primary-key', 'id'])).code).toBe(0);
    writeFileSync(join(dir, 'sp.csv'), 'id, x ,x\n1,spaced,plain\n');
    expect((await cli(dir, ['import', 'sp', 'sp.csv'])).code).toBe(0);
    // --columns ' x ' was trimmed to 'x': the spaced column could not be selected
    expect((await cli(dir, ['scan', 'sp', '--columns', ' x ', '--format', 'csv'])).out).toBe(' x \nspaced\n');
    expect((await cli(dir, ['scan', 'sp', '--columns', 'id, x', '--format', 'csv'])).out).toBe('id,x\n1,plain\n');
    expect((await cli(dir, ['scan', 'sp', '--columns', 'id, x ,', '--format', 'csv'])).out).toBe('id, x \n1,spaced\n');
    const export1 = await cli(dir, ['export', 'sp', 'out.csv', '--columns', ' x ,id']);
    expect(export1.code, export1.err).toBe(0);
    expect(readFileSync(join(dir, 'out.csv'), 'utf8')).toBe(' x ,id\nspaced,1\n');
    const empty = await cli(dir, ['scan', 'sp', '--columns', ' , ']);
    expect(empty.code).not.toBe(0);
    expect(empty.err).toContain("--columns ' , ': name the columns to output");
  });
});
