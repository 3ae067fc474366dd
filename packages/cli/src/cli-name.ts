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
 * `value` with the password in it masked as `***`: a URL's userinfo password
 * (`postgres://lakesoul:***@host/db`, as `init` shows it) and a `password=` or `sslpassword=`
 * parameter (`jdbc:postgresql://host/db?user=lakesoul&password=***`). Anything else is returned as it is.
 */
export function maskPassword(value: string): string {
  const userinfo = /^([a-z][\w+.-]*:(?:[a-z][\w+.-]*:)?\/\/[^:/?#@]*):/i;
  // the password runs to the last `@` before the path: a raw `@` in it is part of it
  let masked = value.replace(new RegExp(userinfo.source + /[^/?#]*@/.source, 'i'), '$1:***@');
  // a raw `/`, `?` or `#` in it (no URL parser reads that, but it was typed and hints print it): to
  // the last `@`, unless what follows the `:` is a port (`db:5432/lake?x=a@b`)
  if (masked === value) masked = value.replace(new RegExp(userinfo.source + /(?!\d*(?:[/?#]|$)).*@/.source, 'i'), '$1:***@');
  return masked.replace(/([?&;](?:ssl)?password=)[^&;#]*/gi, '$1***');
}

/**
 * Records the options of this run that select the lakehouse (`--catalog`, `--warehouse`, `--home`,
 * `--config`, `--pg-user`), for hints to repeat. They are read as commander reads the program's own
 * options: anywhere in `argv`, before the command or after it, as `--flag value` (the next word,
 * whatever it is) or `--flag=value`, up to a `--` (what follows it is operands); no other word is
 * one of them (the program's other short option, `-q`, takes no value). `--pg-password` is never
 * repeated (hints are printed; LAKESOUL_PG_PASSWORD serves instead), and a password in a `--catalog`
 * or `--warehouse` URL is masked ({@link maskPassword}).
 */
export function setInvocation(argv: readonly string[]): void {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    const [flag, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    if (!LOCATION_FLAGS.has(flag) && flag !== '--pg-password') continue;
    const value = inline ?? argv[++i];
    if (LOCATION_FLAGS.has(flag) && value !== undefined) kept.push(flag, flag === '--catalog' || flag === '--warehouse' ? maskPassword(value) : value);
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
