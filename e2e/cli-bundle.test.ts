/**
 * The bundled command (packages/cli/dist/bin.js and its chunks, scripts/bundle-bin.mjs) as a long
 * running process meets it: the package rebuilt or upgraded under a `serve` that runs for days. The
 * chunks' names are hashed by content, so a rebuild removes the ones the running process has not yet
 * loaded; the end of a run loaded one (`cli-context`) after the command, and a `serve` stopped with
 * Ctrl-C then failed with ERR_MODULE_NOT_FOUND and exit code 1 instead of stopping.
 */
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST_BIN, runCli, waitForOutput } from './cli-run.js';

const CLI_DIR = dirname(dirname(DIST_BIN));
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-bundle-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the bundled lakesoul-ts', () => {
  it('a serve started before the package was rebuilt stops on Ctrl-C with exit code 0', async () => {
    // a copy of the built package, whose chunks the "rebuild" below replaces
    const pkg = join(dir, 'cli');
    mkdirSync(pkg);
    cpSync(join(CLI_DIR, 'dist'), join(pkg, 'dist'), { recursive: true });
    cpSync(join(CLI_DIR, 'package.json'), join(pkg, 'package.json'));
    symlinkSync(join(CLI_DIR, 'node_modules'), join(pkg, 'node_modules'));
    const serve = runCli(['--home', join(dir, 'home'), 'serve', '--port', '0'], { direct: true, entry: join(pkg, 'dist', 'bin.js') });
    await waitForOutput(serve.child, /grpc:\/\/127\.0\.0\.1:\d+/);
    renameSync(join(pkg, 'dist', 'chunks'), join(pkg, 'dist', 'chunks-before'));
    mkdirSync(join(pkg, 'dist', 'chunks'));
    serve.child.kill('SIGINT');
    const r = await serve;
    expect([r.code, r.err]).toEqual([0, expect.not.stringMatching(/ERR_MODULE_NOT_FOUND|Cannot find module/)]);
    expect(r.err).toMatch(/stopped\n$/);
  });
});
