/**
 * The progress bars of `export` and `scan` on a real terminal (a pseudo-terminal from util-linux
 * `script`): their total is the rows the table's files hold (the Parquet footers), which reading
 * yields exactly for a table without merges or a filter; a primary-key table upserted several times
 * (rows merged on read) or a filter yields fewer, so the total is shown as an upper bound (`at most N
 * rows`) and a finished read ends at 100% (it ended at 25% and near 0%).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LINKED_BIN, runCli } from './cli-run.js';

const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/** Runs the linked binary on a pseudo-terminal (stdout to `stdoutFile` when given); returns what the terminal showed. */
function onTerminal(args: string[], stdoutFile?: string): { code: number | null; screen: string } {
  const command = [LINKED_BIN, ...args].map(q).join(' ') + (stdoutFile ? ` > ${q(stdoutFile)}` : '');
  const r = spawnSync('script', ['-qefc', command, '/dev/null'], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, TERM: 'xterm', COLUMNS: '200' } });
  if (r.error) throw r.error;
  return { code: r.status, screen: r.stdout };
}

/** The last frame of the bar labelled `label` on `screen`: its percentage, rows and the label's tail. */
function lastFrame(screen: string, label: string): { percent: number; rows: number; label: string } {
  const frames = [...screen.matchAll(new RegExp(`${label}( \\(at most \\d+ rows\\))? \\S* (\\d+)% \\| (\\d+) rows`, 'g'))];
  expect(frames.length, `a bar '${label}' on: ${screen}`).toBeGreaterThan(0);
  const m = frames.at(-1)!;
  return { percent: Number(m[2]), rows: Number(m[3]), label: m[1] ?? '' };
}

describe('export and scan progress on a terminal', () => {
  it('end at 100% when rows are merged on read or filtered, saying the total is at most that; an exact total is shown as it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-scan-progress-'));
    const g = ['--home', join(dir, 'home')];
    const ok = async (args: string[]) => {
      const r = await runCli([...g, ...args], { timeoutMs: 120_000 });
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(0);
      return r;
    };
    const csv = join(dir, 'd.csv');
    writeFileSync(csv, 'id,v\n' + Array.from({ length: 2000 }, (_, i) => `${i},x${i}`).join('\n') + '\n');
    // one bucket upserted four times: 8,000 rows in its files, 2,000 after the merge
    await ok(['table', 'create', 'pk', '--schema', 'id:int64!,v:utf8', '--primary-key', 'id', '--buckets', '1']);
    for (let i = 0; i < 4; i++) await ok(['import', 'pk', csv, '--mode', 'upsert']);
    await ok(['table', 'create', 'plain', '--schema', 'id:int64,v:utf8']);
    await ok(['import', 'plain', csv]);

    const merged = onTerminal([...g, 'export', 'pk', join(dir, 'pk.parquet')]);
    expect(merged.code, merged.screen).toBe(0);
    expect(lastFrame(merged.screen, 'export pk')).toEqual({ percent: 100, rows: 2000, label: ' (at most 8000 rows)' });
    expect(merged.screen).toMatch(/exported 2000 rows/);

    const filtered = onTerminal([...g, 'export', 'plain', join(dir, 'f.csv'), '--filter', 'id < 10']);
    expect(filtered.code, filtered.screen).toBe(0);
    expect(lastFrame(filtered.screen, 'export plain')).toEqual({ percent: 100, rows: 10, label: ' (at most 2000 rows)' });

    // a filter that matches nothing: 100% of 0 rows, never NaN
    const none = onTerminal([...g, 'export', 'pk', join(dir, 'n.jsonl'), '--filter', 'id < 0']);
    expect(lastFrame(none.screen, 'export pk')).toEqual({ percent: 100, rows: 0, label: ' (at most 8000 rows)' });
    expect(none.screen).not.toMatch(/NaN|Infinity/);

    // the rows the files hold are the rows read: the total as it is, no "at most"
    const exact = onTerminal([...g, 'export', 'plain', join(dir, 'p.csv')]);
    expect(lastFrame(exact.screen, 'export plain')).toEqual({ percent: 100, rows: 2000, label: '' });
    expect(exact.screen).toMatch(/export plain \S* 0% \| 0 rows/);

    // scan draws its bar when stdout is not the terminal
    const out = join(dir, 'scan.csv');
    const scanned = onTerminal([...g, 'scan', 'pk', '--format', 'csv'], out);
    expect(scanned.code, scanned.screen).toBe(0);
    expect(lastFrame(scanned.screen, 'scan pk')).toEqual({ percent: 100, rows: 2000, label: ' (at most 8000 rows)' });
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(2001);
    const some = onTerminal([...g, 'scan', 'pk', '--format', 'csv', '--filter', 'id >= 1990'], out);
    expect(lastFrame(some.screen, 'scan pk')).toEqual({ percent: 100, rows: 10, label: ' (at most 8000 rows)' });
    // --limit: the first n rows are all that is read
    const limited = onTerminal([...g, 'scan', 'plain', '--format', 'csv', '--limit', '5'], out);
    expect(lastFrame(limited.screen, 'scan plain')).toEqual({ percent: 100, rows: 5, label: '' });
  }, 300_000);
});
