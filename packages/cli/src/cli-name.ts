/**
 * How to spell the command in hints, so that every hint the CLI prints can be pasted and run: as the
 * person started it (`pnpm lakesoul-ts` from the repository, where `pnpm install` links it), as
 * `lakesoul-ts` when that is on PATH, else as `node <path to bin.js>`.
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

/** The command as a person can type it in their shell now (see module doc). */
export function cliName(env: NodeJS.ProcessEnv = process.env): string {
  if ((env.npm_config_user_agent ?? '').startsWith('pnpm/')) return 'pnpm lakesoul-ts';
  if (onPath('lakesoul-ts', env)) return 'lakesoul-ts';
  const bin = fileURLToPath(new URL('./bin.js', import.meta.url));
  const rel = relative(process.cwd(), bin);
  return `node ${rel.startsWith('..') || rel === '' ? bin : rel}`;
}
