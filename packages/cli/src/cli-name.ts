/**
 * How to spell the command in hints, so that every hint the CLI prints can be pasted and run: as the
 * person started it (`pnpm lakesoul-ts` from the repository, where `pnpm install` links it; `npx
 * lakesoul-ts` through npx or `npm exec`), as `lakesoul-ts` when that is on PATH, else as `node <path
 * to bin.js>`.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

function onPath(name: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    // pnpm puts the workspace's node_modules/.bin on PATH only for the command it runs.
    if (!dir || /node_modules[\\/]\.bin$/.test(dir)) continue;
    try { accessSync(join(dir, name), constants.X_OK); return true; } catch { /* not here */ }
  }
  return false;
}

/** Global options that say where the catalog and data are: a hint must repeat them to reach the same lakehouse. */
const LOCATION_FLAGS = new Set(['--catalog', '--warehouse', '--home', '--config', '--pg-user']);
let locationArgs: string[] = [];

/**
 * Records the global options of this run (from its argv, before the command) that a hint must
 * repeat. `--pg-password` is never repeated (hints are printed); LAKESOUL_PG_PASSWORD serves instead.
 */
export function setInvocation(argv: readonly string[]): void {
  const kept: string[] = [];
  for (let i = 0; i < argv.length && argv[i]!.startsWith('-'); i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const takesValue = LOCATION_FLAGS.has(flag) || flag === '--pg-password';
    const value = inline ?? (takesValue ? argv[++i] : undefined);
    if (LOCATION_FLAGS.has(flag) && value !== undefined) kept.push(flag, value);
  }
  locationArgs = kept;
}

/** `arg` as a shell word (quoted when it holds anything but plain path characters). */
export function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command alone as a person can type it in their shell now (see module doc), without this run's
 * options: for a hint about another lakehouse than this run's.
 */
export function cliCommand(env: NodeJS.ProcessEnv = process.env): string {
  const agent = env.npm_config_user_agent ?? '';
  if (agent.startsWith('pnpm/')) return 'pnpm lakesoul-ts';
  if (agent.startsWith('npm/') && env.npm_command === 'exec') return 'npx lakesoul-ts';
  if (onPath('lakesoul-ts', env)) return 'lakesoul-ts';
  const bin = fileURLToPath(new URL('./bin.js', import.meta.url));
  const rel = relative(process.cwd(), bin);
  return `node ${shellWord(rel.startsWith('..') || rel === '' ? bin : rel)}`;
}

/**
 * The command as a person can type it in their shell now (see module doc), with the options of this
 * run that select the lakehouse, so that a printed hint reaches the same tables.
 */
export function cliName(env: NodeJS.ProcessEnv = process.env): string {
  return [cliCommand(env), ...locationArgs.map(shellWord)].join(' ');
}
