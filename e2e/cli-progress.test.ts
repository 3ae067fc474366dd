/**
 * Progress bars of the real binary on a real terminal (a pseudo-terminal from util-linux `script`):
 * `compact` shows how much of the files to rewrite is done, from 0% to 100%, and `cleanup --execute`
 * and `table drop --purge` how many of the files to delete are gone; with stderr not a terminal it
 * prints no bar at all.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIST_BIN, LINKED_BIN, runCli } from './cli-run.js';

/** The Parquet files under `dir` (none when it does not exist). */
function parquetFiles(dir: string): string[] {
  try {
    return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet'));
  } catch {
    return [];
  }
}

/** Runs the linked binary on a pseudo-terminal; returns what the terminal showed and the exit code. */
function onTerminal(args: string[]): { code: number | null; screen: string } {
  const command = [LINKED_BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qefc', command, '/dev/null'], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, TERM: 'xterm', COLUMNS: '160' } });
  if (r.error) throw r.error;
  return { code: r.status, screen: r.stdout };
}

describe('lakesoul-ts progress on a terminal', () => {
  it('compact shows real progress on a terminal and nothing when stderr is not one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-progress-'));
    const g = ['--home', join(dir, 'home')];
    const ok = async (args: string[]) => {
      const r = await runCli([...g, ...args], { timeoutMs: 120_000 });
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(0);
      return r;
    };
    await ok(['table', 'create', 'events', '--schema', 'id:int64!,date:utf8!,v:float64', '--partition-by', 'date', '--primary-key', 'id', '--buckets', '1']);
    // Two upserts: each partition (one bucket) gets two files, so compaction rewrites all four.
    for (const [i, ids] of [[0, [1, 2, 3, 4, 5, 6]], [1, [4, 5, 6, 7, 8, 9]]] as const) {
      const f = join(dir, `v${i}.csv`);
      writeFileSync(f, 'id,date,v\n' + ids.map((id) => `${id},2024-01-0${(id % 2) + 1},${id + i / 10}`).join('\n') + '\n');
      await ok(['import', 'events', f, '--mode', 'upsert']);
    }
    const filesBefore = JSON.parse((await ok(['history', 'events', '--format', 'json'])).out).at(-1).files as number;
    expect(filesBefore).toBeGreaterThan(2);

    const shown = onTerminal([...g, 'compact', 'events']);
    expect(shown.code, shown.screen).toBe(0);
    // The first frame is at 0% of the planned bytes, the last at 100%, with every input file read and
    // the 9 rows (ids 1-9, merged by key).
    expect(shown.screen).toMatch(/compact events \S* 0% \| 0 rows \| 0 B \| 0 files \| 0 B\/s \| ETA -/);
    expect(shown.screen).toMatch(new RegExp(`compact events \\S* 100% \\| 9 rows \\| [\\d.]+ KiB \\| ${filesBefore} files \\| .* \\| ETA 0s`));
    expect(shown.screen).not.toMatch(/NaN|NF|Infinity/);
    expect(shown.screen).toMatch(/compacted events: \d+ files into \d+/);

    // Nothing to compact now: no bar; and with stderr a pipe, never a bar.
    const again = onTerminal([...g, 'compact', 'events']);
    expect(again.screen).not.toMatch(/%/);
    const piped = await ok(['compact', 'events']);
    expect(piped.err).toBe('');

    // cleanup --execute: a bar over the files it deletes (the compacted ones), 0% to 100%
    const later = String(Date.now() + 1000);
    await new Promise((r) => setTimeout(r, 1100));
    const cleaned = onTerminal([...g, 'cleanup', 'events', '--retain-since', later, '--orphan-window', '0', '--assume-no-writes', '--execute']);
    expect(cleaned.code, cleaned.screen).toBe(0);
    expect(cleaned.screen).toMatch(/cleanup events \S* 0% \| 0 rows \| 0 B \| 0 files/);
    expect(cleaned.screen).toMatch(new RegExp(`cleanup events \\S* 100% \\| 0 rows \\| [\\d.]+ (B|KiB) \\| ${filesBefore} files \\| .* \\| ETA 0s`));
    expect(cleaned.screen).toMatch(new RegExp(`${filesBefore} file\\(s\\), .* deleted: ${filesBefore} expired`));
    expect(cleaned.screen).not.toMatch(/NaN|Infinity|listing/);

    // table drop --purge: a bar over the files and bytes it deletes (those under the table's path;
    // files commits named that cleanup deleted already are not counted again)
    const left = parquetFiles(join(dir, 'home', 'warehouse'));
    expect(left.length).toBeGreaterThan(0);
    const dropped = onTerminal([...g, 'table', 'drop', 'events', '--purge']);
    expect(dropped.code, dropped.screen).toBe(0);
    expect(dropped.screen).toMatch(/drop events \S* 0% \| 0 rows \| 0 B \| 0 files/);
    expect(dropped.screen).toMatch(new RegExp(`drop events \\S* 100% \\| 0 rows \\| [\\d.]+ (KiB|MiB) \\| ${left.length} files \\| .* \\| ETA 0s`));
    expect(dropped.screen).toMatch(/table 'default\.events' dropped and its data files deleted/);
    expect(parquetFiles(join(dir, 'home', 'warehouse'))).toEqual([]);
  }, 300_000);

  it('an image import counts its files as it copies them, and says what it imported after its bar, not under it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-progress-'));
    for (const label of ['cat', 'dog']) {
      mkdirSync(join(dir, 'pets', label), { recursive: true });
      for (let i = 0; i < 30; i++) writeFileSync(join(dir, 'pets', label, `${i}.png`), Buffer.alloc(100 + i, i));
    }
    const shown = onTerminal(['--home', join(dir, 'home'), 'import', 'pets', join(dir, 'pets'), '--format', 'images', '--copy']);
    expect(shown.code, shown.screen).toBe(0);
    // copies counted as they go, up to all 60; the message last, after the bar's last frame
    const counts = [...shown.screen.matchAll(/import \S+ \| [\d.]+ (?:B|KiB) \| (\d+) files/g)].map((m) => Number(m[1]));
    expect(counts.at(-1)).toBe(60);
    expect(counts.every((n, i) => i === 0 || n >= counts[i - 1]!)).toBe(true);
    const message = shown.screen.lastIndexOf('imported 60 images from');
    expect(message).toBeGreaterThan(shown.screen.lastIndexOf('60 files'));
  }, 120_000);

  it('Ctrl-C during a bar gives the terminal back (cursor shown, wrapping on, a new line) and exits by the signal', async () => {
    // The bar hides the cursor and turns wrapping off; a process ended by SIGINT left the terminal so.
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-progress-int-'));
    const home = join(dir, 'home');
    const csv = join(dir, 'big.csv');
    writeFileSync(csv, 'id,v\n' + Array.from({ length: 1_500_000 }, (_, i) => `${i},${i % 97}`).join('\n') + '\n');
    expect((await runCli(['--home', home, 'table', 'create', 'big', '--from', csv], { timeoutMs: 120_000 })).code).toBe(0);
    const command = [LINKED_BIN, '--home', home, 'import', 'big', csv].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qefc', command, '/dev/null'], { env: { ...process.env, TERM: 'xterm', COLUMNS: '160' } });
    let screen = '';
    child.stdout.on('data', (d) => { screen += d; });
    const ended = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const deadline = Date.now() + 60_000;
    while (!/import .*%/.test(screen) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(screen).toMatch(/\x1b\[\?25l/);
    const pid = spawnSync('pgrep', ['-f', `dist/bin.js --home ${home} import`], { encoding: 'utf8' }).stdout.trim().split('\n')[0]!;
    process.kill(Number(pid), 'SIGINT');
    expect(await ended).toBe(130);
    const tail = screen.slice(screen.lastIndexOf('\x1b[?25l'));
    expect(tail).toContain('\x1b[?25h');
    expect(tail).toContain('\x1b[?7h');
    // nothing committed: the table has no version, and the files the import had uploaded are deleted
    const history = await runCli(['--home', home, 'history', 'big', '--format', 'jsonl'], { timeoutMs: 60_000 });
    expect([history.code, history.out]).toEqual([0, '']);
    expect(parquetFiles(join(home, 'warehouse')), 'the uploaded files of the interrupted import').toEqual([]);
    expect(screen).toMatch(/import of .*big\.csv into big interrupted by SIGINT: nothing of it was committed/);

    // from standard input: its copy in TMPDIR is removed too (90 MB stayed behind per Ctrl-C)
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const piped = spawn(process.execPath, [DIST_BIN, '--home', home, 'import', 'big', '-', '--format', 'csv'], { env: { ...process.env, TMPDIR: tmp }, stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    piped.stderr.on('data', (d) => { err += d; });
    const pipedEnded = new Promise<number | null>((res) => piped.on('exit', (code) => res(code)));
    piped.stdin.on('error', () => {});
    // stopped while it copies standard input (the writer still sends; the copy waits for its end)
    const data = readFileSync(csv);
    piped.stdin.write(data);
    const copied = () => readdirSync(tmp, { recursive: true }).length > 0 && statSync(join(tmp, readdirSync(tmp)[0]!, 'input'), { throwIfNoEntry: false })?.size === data.length;
    while (!copied() && Date.now() < deadline + 60_000) await new Promise((r) => setTimeout(r, 20));
    expect(copied(), 'standard input copied to TMPDIR').toBe(true);
    piped.kill('SIGINT');
    expect(await pipedEnded, err).toBe(130);
    expect(err).toMatch(/import of standard input into big interrupted by SIGINT/);
    expect(readdirSync(tmp), 'the copy of standard input').toEqual([]);
    expect(parquetFiles(join(home, 'warehouse'))).toEqual([]);

    // stopped after a first file's commit: the message says what is in the table (it said "nothing")
    const small = join(dir, 'small.csv');
    writeFileSync(small, 'id,v\n-1,1\n-2,2\n');
    const two = spawn(process.execPath, [DIST_BIN, '--home', home, 'import', 'big', small, csv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let twoOut = '';
    let twoErr = '';
    two.stdout.on('data', (d) => { twoOut += d; });
    two.stderr.on('data', (d) => { twoErr += d; });
    const twoEnded = new Promise<number | null>((res) => two.on('exit', (code) => res(code)));
    while (!/imported 2 rows from .*small\.csv/.test(twoOut) && Date.now() < deadline + 120_000) await new Promise((r) => setTimeout(r, 10));
    two.kill('SIGINT');
    expect(await twoEnded, twoErr).toBe(130);
    expect(twoErr).toMatch(/import of .*big\.csv into big interrupted by SIGINT: nothing of it was committed, .*; committed before it: .*small\.csv/);
    const after = await runCli(['--home', home, 'scan', 'big', '--format', 'jsonl', '--filter', 'id < 0'], { timeoutMs: 60_000 });
    expect(after.out.trim().split('\n')).toHaveLength(2);
  }, 300_000);

  it('Ctrl-C while an import waits for a catalog another process holds stops it at once (the wait sat out up to 60 s)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'lakesoul-wait-int-'));
    expect((await runCli(['--home', home, 'table', 'create', 't', '--schema', 'id:int64!'], { timeoutMs: 60_000 })).code).toBe(0);
    const csv = join(home, 'rows.csv');
    writeFileSync(csv, 'id\n1\n2\n');
    mkdirSync(join(home, 'pets', 'cat'), { recursive: true });
    writeFileSync(join(home, 'pets', 'cat', 'a.png'), Buffer.from('89504e470d0a1a0a', 'hex'));
    // a program holding the embedded catalog without sharing it
    const meta = JSON.stringify(new URL('../packages/meta/dist/index.js', import.meta.url).href);
    const holder = spawn(process.execPath, ['--input-type=module', '-e', `const { Catalog } = await import(${meta});
      await Catalog.open({ dataDir: ${JSON.stringify(join(home, 'catalog'))}, env: {} }); console.log('holding'); setInterval(() => {}, 1 << 30);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((res) => holder.stdout.on('data', (d) => { if (String(d).includes('holding')) res(); }));
      for (const [args, message] of [
        [['import', 't', csv], /import of .*rows\.csv into t interrupted by SIGINT: nothing of it was committed/],
        [['import', 'pets', join(home, 'pets'), '--format', 'images'], /import into pets interrupted by SIGINT while waiting for the catalog: nothing was committed/],
      ] as const) {
        const p = spawn(process.execPath, [DIST_BIN, '--home', home, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LAKESOUL_CATALOG_SERVER: 'off' } });
        let err = '';
        p.stderr.on('data', (d) => { err += d; });
        const ended = new Promise<number | null>((res) => p.on('exit', (code) => res(code)));
        const deadline = Date.now() + 30_000;
        while (!/waiting for process \d+/.test(err) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(err).toMatch(/waiting for process \d+/);
        const signalled = Date.now();
        p.kill('SIGINT');
        expect(await ended, err).toBe(130);
        expect(Date.now() - signalled).toBeLessThan(5000);
        expect(err).toMatch(message);
      }
    } finally {
      holder.kill('SIGKILL');
    }
  }, 120_000);
});
