// `pnpm setup:native --check` reports on both native parts and builds nothing: pnpm appends a
// script's arguments to its last command only, so `a && b` as the script ran the Parquet set-up
// without --check (a build where a report was asked for).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');

describe('pnpm setup:native arguments', () => {
  it('the script is one command, so the arguments reach it', () => {
    const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['setup:native']).toBe('node scripts/setup-all-native.mjs');
  });

  it('--check reports on the Parquet codec and on TensorFlow, whatever the first says', () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts/setup-all-native.mjs'), '--check'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    const out = `${r.stdout}${r.stderr}`;
    expect(out).toMatch(/^setup:native \(parquet\): /m);
    expect(out).toMatch(/^setup:native: (ready|not ready)/m);
    expect(out).not.toMatch(/building with|cached: /);
    expect(r.status === 0).toBe(/parquet\): ready/.test(out) && /^setup:native: ready/m.test(out));
  });
});
