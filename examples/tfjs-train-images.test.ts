import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs example without type declarations
import { trainImages } from './tfjs-train-images.mjs';

// The pure-JS project trains on 'cpu'; the native project (vitest.config.ts) on 'tensorflow'.
const backend = process.env.LAKESOUL_TFJS_BACKEND ?? 'cpu';

it(`the tfjs example trains a CNN on generated images from one partition and its loss falls (${backend})`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-tfjs-example-'));
  const lines: string[] = [];
  try {
    const result = (await trainImages({ dir, perDate: 30, size: 16, epochs: 5, batchSize: 10, backend, log: (l: string) => lines.push(l) })) as { losses: number[]; accuracies: number[]; images: number; backend: string };
    const { losses, accuracies, images } = result;
    expect(result.backend).toBe(backend);
    expect(lines[0]).toMatch(backend === 'tensorflow' ? /^backend: tensorflow \(native TensorFlow/ : /^backend: cpu \(pure JS/);
    expect(images).toBe(30);
    expect(losses.length).toBe(5);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.6);
    expect(accuracies[accuracies.length - 1]).toBeGreaterThan(0.6);
    expect(lines.filter((l) => /^epoch \d+\/5: loss /.test(l)).length).toBe(5);
    expect(lines.some((l) => l.includes('partition date=2023-08-09: 30 images'))).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
