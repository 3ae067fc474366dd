/**
 * `scan`, `head` and `export` stream: on a table of 1M rows, the spawned binary's peak RSS stays under
 * a bound that does not depend on the table's size, in every output format, and the output is complete.
 */
import { chmodSync, mkdtempSync, readdirSync, statSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it, beforeAll } from 'vitest';
import { Field, Float64, Int64, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { Lakehouse, decodeParquet } from '@lakesoul-ts/io';
import { spawnSync } from 'node:child_process';
import { LINKED_BIN, runCli } from './cli-run.js';

const ROWS = 1_000_000;
/**
 * Peak RSS allowed for any of the commands below on 1M rows (4 files of 250k rows). Measured on a
 * 2-core machine: 390-430 MiB for every format of scan and export, about what `head` needs (PGlite,
 * the wasm Parquet decoder and one decoded file); buffering the output (what `scan` did before) took
 * 564 MiB for 500k rows and then crashed on 1M.
 */
const RSS_BOUND = 512 * 1024 * 1024;

describe('lakesoul-ts output streams with bounded memory (1M rows)', () => {
  const home = mkdtempSync(join(tmpdir(), 'lakesoul-stream-'));
  const g = ['--home', home, '--quiet'];

  beforeAll(async () => {
    const lh = await Lakehouse.open({ catalog: { dataDir: join(home, 'catalog') }, warehouse: pathToFileURL(join(home, 'warehouse')).href });
    try {
      const schema = new Schema([new Field('id', new Int64(), false), new Field('kind', new Utf8(), true), new Field('score', new Float64(), true)]);
      const t = await lh.createTable('big', schema);
      const part = ROWS / 4;
      for (let k = 0; k < 4; k++) {
        const ids = Array.from({ length: part }, (_, i) => BigInt(k * part + i));
        await t.write(new Table({
          id: vectorFromArray(ids, new Int64()),
          kind: vectorFromArray(ids.map((i) => (i % 3n === 0n ? 'click' : 'view, "quoted"')), new Utf8()),
          score: vectorFromArray(ids.map((i) => Number(i % 1000n) / 8), new Float64()),
        }));
      }
    } finally {
      await lh.close();
    }
  }, 600_000);

  for (const format of ['table', 'json', 'jsonl', 'csv']) {
    it(`scan --format ${format}`, async () => {
      const r = await runCli([...g, 'scan', 'big', '--format', format], { sampleRss: true, countOnly: true, timeoutMs: 300_000 });
      expect(r.code, r.err).toBe(0);
      const lines = Number(/(\d+) lines/.exec(r.out)![1]);
      // table: header + rule; json: [ and ]; csv: header
      expect(lines).toBe(ROWS + { table: 2, json: 2, jsonl: 0, csv: 1 }[format]!);
      console.log(`scan --format ${format}: peak RSS ${(r.peakRss! / 2 ** 20).toFixed(0)} MiB, ${r.ms} ms`);
      expect(r.peakRss).toBeGreaterThan(0);
      expect(r.peakRss!).toBeLessThan(RSS_BOUND);
    }, 300_000);
  }

  it('head stops early', async () => {
    const r = await runCli([...g, 'head', 'big', '-l', '3', '--format', 'jsonl'], { sampleRss: true, timeoutMs: 120_000 });
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim().split('\n').map((l) => JSON.parse(l))).toHaveLength(3);
    console.log(`head -l 3: peak RSS ${(r.peakRss! / 2 ** 20).toFixed(0)} MiB, ${r.ms} ms`);
    expect(r.peakRss!).toBeLessThan(RSS_BOUND);
  });

  it('a reader that stops early (`scan | head -2`) ends the scan quietly, with exit code 0', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${LINKED_BIN}" ${g.join(' ')} scan big --format jsonl | head -2`], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l))).toHaveLength(2);
    expect(r.stderr).toBe('');
  });

  it('imports standard input (-) and pipes in every format: a JSONL pipe read twice imported 0 rows, exit 0', () => {
    const sh = (script: string) => spawnSync('bash', ['-c', `set -o pipefail; L() { "${LINKED_BIN}" ${g.join(' ')} "$@"; }; ${script}`], { encoding: 'utf8', timeout: 120_000 });
    let r = sh(`L table create piped --schema 'id:int64!,v:utf8' --primary-key id`);
    expect(r.status, r.stderr).toBe(0);
    r = sh(`printf '{"id":1,"v":"a"}\\n{"id":2,"v":"b"}\\n' | L import piped /dev/stdin --format jsonl && ` +
      `printf '{"id":3,"v":"c"}\\n' | L import piped - --format jsonl && ` +
      `L import piped <(printf '{"id":4,"v":"d"}\\n') --format jsonl && ` +
      `printf 'id,v\\n5,e\\n' | L import piped - --format csv && ` +
      `L export piped - --format parquet --filter 'id = 1' | L import piped - --format parquet --mode upsert`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.match(/imported (\d+) rows? from/g)).toEqual(['imported 2 rows from', 'imported 1 row from', 'imported 1 row from', 'imported 1 row from', 'imported 1 row from']);
    r = sh(`L scan piped --format jsonl`);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l)).sort((a, b) => a.id - b.id)).toEqual(
      [{ id: 1, v: 'a' }, { id: 2, v: 'b' }, { id: 3, v: 'c' }, { id: 4, v: 'd' }, { id: 5, v: 'e' }]);
    r = sh(`printf 'id,v\\n6,f\\n' | L import piped -`);
    expect([r.status, r.stderr]).toEqual([4, expect.stringContaining('to import standard input (-), give its --format')]);
    // a bad row of standard input is named by line of "standard input" (it named the deleted temporary copy)
    r = sh(`printf 'id,v\n7,g\nx,h\n' | L import piped - --format csv`);
    expect([r.status, r.stderr]).toEqual([4, expect.stringMatching(/^error: standard input:3: column 'id': "x" is not an integer/)]);
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('lakesoul-ts-import-'))).toEqual([]);
    // an output that cannot be written (a full disk): an error line, exit 1 (it was an uncaught exception's stack)
    // an export over an existing file keeps its permissions (a 0600 file became 0644)
    const kept = join(home, 'private.csv');
    writeFileSync(kept, 'old\n');
    chmodSync(kept, 0o600);
    r = sh(`L export piped '${kept}'`);
    expect(r.status, r.stderr).toBe(0);
    expect([statSync(kept).mode & 0o777, readFileSync(kept, 'utf8').split('\n')[0]]).toEqual([0o600, 'id,v']);
    r = sh(`L scan piped --format csv > /dev/full`);
    expect([r.status, r.stderr]).toEqual([1, 'error: cannot write to standard output: ENOSPC: no space left on device, write\n']);
  });

  for (const ext of ['parquet', 'csv', 'jsonl']) {
    it(`export to ${ext}`, async () => {
      const file = join(home, `out.${ext}`);
      const r = await runCli([...g, 'export', 'big', file], { sampleRss: true, timeoutMs: 300_000 });
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(new RegExp(`exported ${ROWS} rows`));
      console.log(`export ${ext}: peak RSS ${(r.peakRss! / 2 ** 20).toFixed(0)} MiB, ${r.ms} ms, ${statSync(file).size} bytes`);
      expect(r.peakRss!).toBeLessThan(RSS_BOUND);
      if (ext === 'parquet') {
        const t = await decodeParquet(new Uint8Array(readFileSync(file)));
        expect(t.numRows).toBe(ROWS);
        expect(t.getChild('id')!.get(ROWS - 1)).toBe(BigInt(ROWS - 1));
      }
    }, 300_000);
  }

  it('an export stopped by Ctrl-C, or failing, leaves the earlier file as it was and no partial file', async () => {
    const file = join(home, 'kept.csv');
    writeFileSync(file, 'an earlier export\n');
    const run = runCli([...g, 'export', 'big', file], { timeoutMs: 300_000 });
    // stopped once it has written part of the rows (under its temporary name)
    const part = () => readdirSync(home).find((f) => f.startsWith('.kept.csv.') && f.endsWith('.part'));
    for (let i = 0; i < 3000; i++) {
      const p = part();
      if (p && statSync(join(home, p)).size > 1 << 20) break;
      await new Promise((res) => setTimeout(res, 10));
    }
    expect(part(), 'the export writes under a temporary name').toBeDefined();
    run.child.kill('SIGINT');
    const r = await run;
    expect(r.code, r.err).toBe(130);
    expect(readFileSync(file, 'utf8')).toBe('an earlier export\n');
    expect(part()).toBeUndefined();

    // a read that fails part-way: a data file of the table is gone
    const lh = await Lakehouse.open({ catalog: { dataDir: join(home, 'catalog') }, warehouse: pathToFileURL(join(home, 'warehouse')).href });
    let lost: string;
    try {
      const t = await lh.createTable('fragile', new Schema([new Field('id', new Int64(), false)]));
      for (let k = 0; k < 3; k++) await t.write(new Table({ id: vectorFromArray(Array.from({ length: 1000 }, (_, i) => BigInt(k * 1000 + i)), new Int64()) }));
      const files = (await t.scan()).splits.flatMap((s) => s.files.map((f) => f.path));
      lost = fileURLToPath(files.at(-1)!);
    } finally {
      await lh.close();
    }
    const good = join(home, 'fragile.jsonl');
    let ok = await runCli([...g, 'export', 'fragile', '/dev/stdout', '--format', 'jsonl'], { timeoutMs: 120_000 });
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out.trim().split('\n')).toHaveLength(3000); // the rows only: "exported ..." goes to stderr
    ok = await runCli([...g, 'export', 'fragile', '-', '--format', 'csv'], { timeoutMs: 120_000 });
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out.trim().split('\n')).toHaveLength(3001);
    expect(ok.err).toMatch(/exported 3000 rows to stdout/);
    ok = await runCli([...g, 'export', 'fragile', good], { timeoutMs: 120_000 });
    expect(ok.code, ok.err).toBe(0);
    const before = readFileSync(good, 'utf8');
    unlinkSync(lost);
    const failed = await runCli([...g, 'export', 'fragile', good], { timeoutMs: 120_000 });
    expect(failed.code).not.toBe(0);
    expect(failed.err).toContain(basename(lost));
    expect(readFileSync(good, 'utf8')).toBe(before);
    expect(readdirSync(home).filter((f) => f.endsWith('.part'))).toEqual([]);
  }, 300_000);
});
