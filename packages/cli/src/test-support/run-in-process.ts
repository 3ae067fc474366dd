/**
 * The CLI run in this process (`run`) on the home `<dir>/home`, files named relative to `dir`: what a
 * person sees on stdout and stderr, and the exit code. For tests; not built into the package.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { run } from '../commands.js';

/** What one run printed and its exit code. */
export interface Ran { code: number; out: string; err: string }

/** Runs the CLI with `args` on the home of `dir` (`<dir>/<home>`, `home` by default), in `dir` (`stdin`: what standard input holds). */
export async function cliInProcess(dir: string, args: string[], stdin?: string, home = 'home'): Promise<Ran> {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void) => new Writable({ write(chunk, _enc, cb) { add(String(chunk)); cb(); } });
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const code = await run(['--home', join(dir, home), ...args], { stdout: sink((s) => { out += s; }), stderr: sink((s) => { err += s; }), ...(stdin === undefined ? {} : { stdin: Readable.from([Buffer.from(stdin)]) }) });
    return { code, out, err };
  } finally { process.chdir(cwd); }
}

/**
 * Runs `fn` with a new temporary directory (named from `prefix`) for {@link cliInProcess}, the
 * catalog server off (`LAKESOUL_CATALOG_SERVER=off`: each run opens the catalog itself and leaves no
 * server behind), restoring the variable after.
 */
export async function inTempDirNoServer(prefix: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env = process.env.LAKESOUL_CATALOG_SERVER;
  process.env.LAKESOUL_CATALOG_SERVER = 'off';
  try {
    await fn(dir);
  } finally {
    if (env === undefined) delete process.env.LAKESOUL_CATALOG_SERVER;
    else process.env.LAKESOUL_CATALOG_SERVER = env;
  }
}
