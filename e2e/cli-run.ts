/**
 * Runs the real `lakesoul-ts` binary for e2e tests: the executable `pnpm install` links into
 * e2e/node_modules/.bin (which runs packages/cli/dist/bin.js), spawned as a person or a script would,
 * with a timeout, so a command that does not exit fails the test instead of hanging it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The linked executable, as `pnpm install` creates it. */
export const LINKED_BIN = resolve(import.meta.dirname, 'node_modules/.bin/lakesoul-ts');
/** The built entry point the link runs. */
export const DIST_BIN = resolve(import.meta.dirname, '../packages/cli/dist/bin.js');
/** The same command unbundled: tsc's modules, each loaded by Node (packages/cli/scripts/bundle-bin.mjs). */
export const DIST_MAIN = resolve(import.meta.dirname, '../packages/cli/dist/main.js');

/** Outcome of one run. */
export interface CliResult {
  /** Exit code (null when killed by a signal). */
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  /** Wall time in milliseconds. */
  ms: number;
  /** Peak resident set size in bytes, when sampled (`sampleRss`). */
  peakRss?: number;
}

/** Options of {@link runCli}. */
export interface RunCliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the process and fail after this many ms (default 90 s). */
  timeoutMs?: number;
  /** Sample /proc/<pid>/status VmHWM while it runs. */
  sampleRss?: boolean;
  /** Count stdout bytes and lines instead of keeping the text (for huge outputs). */
  countOnly?: boolean;
  /** Run dist/bin.js with node directly instead of the linked executable. */
  direct?: boolean;
  /** With `direct`: run this entry point instead of dist/bin.js (such as {@link DIST_MAIN}). */
  entry?: string;
}

function peakRssOf(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Spawn the CLI; resolves when it exits. Rejects when it outlives `timeoutMs`. */
export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> & { child: ChildProcess } {
  if (!existsSync(DIST_BIN)) throw new Error(`${DIST_BIN} is missing: build first (pnpm turbo run build)`);
  if (!options.direct && !existsSync(LINKED_BIN)) throw new Error(`${LINKED_BIN} is missing: run pnpm install`);
  const started = Date.now();
  const child = options.direct
    ? spawn(process.execPath, [options.entry ?? DIST_BIN, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(LINKED_BIN, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let outBytes = 0;
  let lines = 0;
  let err = '';
  let peak = 0;
  child.stdout!.on('data', (d: Buffer) => {
    if (options.countOnly) {
      outBytes += d.length;
      for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) lines++;
    } else out += d;
  });
  child.stderr!.on('data', (d) => { err += d; });
  const timeoutMs = options.timeoutMs ?? 90_000;
  const promise = new Promise<CliResult>((res, rej) => {
    let sampler: NodeJS.Timeout | undefined;
    if (options.sampleRss) {
      // The linked executable is a shell script that execs node (same pid); node's peak is VmHWM.
      sampler = setInterval(() => { const p = peakRssOf(child.pid!); if (p !== undefined) peak = Math.max(peak, p); }, 20);
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`lakesoul-ts ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${out.slice(-2000)}\nstderr: ${err.slice(-2000)}`));
    }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); clearInterval(sampler); rej(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(sampler);
      if (options.countOnly) out = `${outBytes} bytes, ${lines} lines`;
      res({ code, signal, out, err, ms: Date.now() - started, peakRss: options.sampleRss ? peak : undefined });
    });
  });
  return Object.assign(promise, { child });
}

/** Waits until `child` has printed a line matching `re` on stdout, or fails when it exits first. */
export function waitForOutput(child: ChildProcess, re: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  return new Promise((res, rej) => {
    let seen = '';
    let errText = '';
    const timer = setTimeout(() => rej(new Error(`no output matching ${re} within ${timeoutMs} ms: ${seen} ${errText}`)), timeoutMs);
    child.stderr!.on('data', (d) => { errText += d; });
    child.stdout!.on('data', (d) => {
      seen += d;
      const m = re.exec(seen);
      if (m) { clearTimeout(timer); res(m); }
    });
    child.on('exit', (c) => { clearTimeout(timer); rej(new Error(`exited (${c}) before printing ${re}: ${seen} ${errText}`)); });
  });
}
