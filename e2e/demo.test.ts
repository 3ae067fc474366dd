/**
 * The main job (`pnpm demo`) runs end to end, small: the table is built and corrected, time travel
 * sees the noisy labels, the model's loss falls, and Flight returns every row.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../packages/cli/src/demo.js';
// @ts-expect-error -- a plain .mjs script without type declarations
import { nativeStatus } from '../scripts/native-status.mjs';

describe('demo (the main job)', () => {
  it('builds, corrects, time-travels, trains, summarizes and serves', async () => {
    const lines: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-demo-test-'));
    // as `lakesoul-ts demo --dir <dir>` runs it: tfjs-node's addon locator read that --dir as its own
    // --directory, and the demo trained on pure JS saying native TensorFlow was not built
    const argv = process.argv;
    process.argv = [...argv, '--dir', dir];
    let r: Awaited<ReturnType<typeof runDemo>>;
    try {
      r = await runDemo({ dir, images: 96, epochs: 4, out: (s) => lines.push(s) });
    } finally {
      process.argv = argv;
    }
    const text = lines.join('\n');
    expect(r.rows).toBe(96);
    expect(r.wrongLabelsBefore).toBeGreaterThan(0);
    expect(r.wrongLabelsAfter).toBe(0);
    expect(r.losses).toHaveLength(4);
    expect(r.losses.at(-1)!).toBeLessThan(r.losses[0]!);
    expect(r.flightEndpoints).toBeGreaterThan(1);
    expect(r.flightRows).toBe(96);
    for (let s = 1; s <= 7; s++) expect(text).toContain(`[${s}/7]`);
    expect(text).toMatch(/MergeCommit/);
    // Native TensorFlow once `pnpm setup:native` built tfjs-node's addon (.ci/run does), and it says so.
    const native = (nativeStatus(fileURLToPath(new URL('..', import.meta.url))) as { ready: boolean }).ready;
    expect(text).toMatch(native ? /backend: tensorflow \(native TensorFlow/ : /backend: cpu \(pure JS; native TensorFlow unavailable/);
    // the hint reaches the demo's lakehouse, naming it once whatever options this run had
    expect(lines.at(-1)).toMatch(new RegExp(`^  try: \\S.* --home ${dir} history images$`));
    expect(lines.at(-1)!.split('--home').length).toBe(2);

    // `lakesoul-ts --home <dir> demo` puts the demo there; a directory that already holds one is refused
    // before any work, saying what to do (not "table default.images already exists" halfway)
    const again: string[] = [];
    await expect(runDemo({ flags: { home: dir }, images: 8, epochs: 1, out: (s) => again.push(s) })).rejects.toMatchObject({
      kind: 'AlreadyExists', code: 'DEMO_DIR_IN_USE', message: expect.stringContaining(`${dir} already holds a table default.images`),
    });
    expect(again.join('\n')).not.toContain('[2/7]');
  });
});
