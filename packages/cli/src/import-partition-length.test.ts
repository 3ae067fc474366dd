/**
 * `import` of a row whose range-partition value makes a directory name over 255 bytes is refused
 * naming the file and line, as a value with ',' or '=' is (the write refused it naming neither).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Field, Int64, Schema, Utf8 } from 'apache-arrow';
import { rowsToBatch } from './records-to-arrow.js';
import { cliInProcess as cli } from './test-support/run-in-process.js';

describe('an over-long range value in an import', () => {
  const long = 'x'.repeat(300);

  it('rowsToBatch names the file and line', () => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field('p', new Utf8(), true)]);
    const roles = { primaryKeys: [], rangePartitions: ['p'] };
    const at = [{ file: 'long.csv', line: 2 }, { file: 'long.csv', line: 3 }];
    expect(() => rowsToBatch(schema, [['1', 'ok'], ['2', long]], at, true, roles)).toThrow(/^long\.csv:3: range partition column 'p' value 'x{60}…' is too long for a directory/);
    // 85 characters escaped as ~HH: 255 bytes, with 'p=' over the limit too
    expect(() => rowsToBatch(schema, [['1', '?'.repeat(85)]], at, true, roles)).toThrow(/^long\.csv:2: .* is too long for a directory/);
    expect(rowsToBatch(schema, [['1', 'y'.repeat(253)]], at, true, roles).numRows).toBe(1);
  });

  it('the command names the file and line, and commits nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-long-partition-'));
    expect((await cli(dir, ['table', 'create', 'r', '--schema', 'id:int64!,p:utf8', '--partition-by', 'p'])).code).toBe(0);
    writeFileSync(join(dir, 'long.csv'), `id,p\n1,ok\n2,${long}\n`);
    const r = await cli(dir, ['import', 'r', 'long.csv']);
    expect(r.code, r.err).toBe(4);
    expect(r.err).toMatch(/^error: long\.csv:3: range partition column 'p' value 'x{60}…' is too long for a directory: 'p=<value>' takes 302 bytes/);
    const scanned = await cli(dir, ['scan', 'r', '--format', 'jsonl']);
    expect(scanned.out).toBe('');
  });
});
