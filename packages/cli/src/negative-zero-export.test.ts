/**
 * -0 inside a list or struct came back as 0 from an export to CSV, JSONL or JSON (JSON.stringify
 * writes 0; only a top-level -0 was written `-0`). Found by a hunt of export/import round trips.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cliInProcess as cli, inTempDirNoServer } from './test-support/run-in-process.js';

it('exports -0 inside lists and structs as -0, and imports it back', async () => {
  await inTempDirNoServer('lakesoul-cli-negative-zero-', async (dir) => {
    writeFileSync(join(dir, 'nz.jsonl'), '{"id":1,"f":-0,"v":[-0,1.5],"st":{"f":-0}}\n');
    expect((await cli(dir, ['table', 'create', 'nz', '--schema', 'id:int64!,f:float64,v:list<float64>,st:struct<f:float64>', '--primary-key', 'id'])).code).toBe(0);
    expect((await cli(dir, ['import', 'nz', 'nz.jsonl'])).code).toBe(0);
    expect((await cli(dir, ['export', 'nz', 'out.jsonl'])).code).toBe(0);
    expect(readFileSync(join(dir, 'out.jsonl'), 'utf8')).toBe('{"id":1,"f":-0,"v":[-0,1.5],"st":{"f":-0}}\n');
    expect((await cli(dir, ['export', 'nz', 'out.csv'])).code).toBe(0);
    expect(readFileSync(join(dir, 'out.csv'), 'utf8')).toBe('id,f,v,st\n1,-0,"[-0,1.5]","{""f"":-0}"\n');
    expect((await cli(dir, ['export', 'nz', 'out.json'])).code).toBe(0);
    expect(readFileSync(join(dir, 'out.json'), 'utf8')).toContain('"v":[-0,1.5],"st":{"f":-0}');
    // the CSV reads back as it was written
    expect((await cli(dir, ['table', 'create', 'back', '--schema', 'id:int64!,f:float64,v:list<float64>,st:struct<f:float64>', '--primary-key', 'id'])).code).toBe(0);
    expect((await cli(dir, ['import', 'back', 'out.csv'])).code).toBe(0);
    expect((await cli(dir, ['export', 'back', 'back.jsonl'])).code).toBe(0);
    expect(readFileSync(join(dir, 'back.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 'out.jsonl'), 'utf8'));
  });
});
