// Which Danfo build the suite runs on: danfojs (pure JS) in the pure-JS project, danfojs-node on native
// TensorFlow in the native project (vitest.config.ts resolves `danfojs` to danfojs-node there, once
// `pnpm setup:native` has built the tfjs-node addon both share).
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import * as danfo from 'danfojs';
import * as A from 'apache-arrow';
// @ts-expect-error -- a plain .mjs script without type declarations
import { nativeStatus } from '../../../scripts/native-status.mjs';
import { loadDanfo, toDataFrame } from './index.js';

type WithTf = { tensorflow?: { getBackend(): string }; default?: { tensorflow?: { getBackend(): string } } };
const tfOf = (m: unknown) => (m as WithTf).tensorflow ?? (m as WithTf).default?.tensorflow;

it('the suite runs on the Danfo build its project names', async () => {
  const native = process.env.LAKESOUL_TFJS_BACKEND === 'tensorflow';
  // danfojs-node carries its tfjs-node instance; the pure-JS danfojs exposes none.
  expect(tfOf(danfo)?.getBackend()).toBe(native ? 'tensorflow' : undefined);
  const df = await toDataFrame(new A.Table({ a: A.vectorFromArray([1.5, 2.5]) }), { dfd: danfo as never });
  expect((df as unknown as { shape: number[] }).shape).toEqual([2, 1]);
});

it('without an injected module, danfojs-node is picked when its native addon loads, else danfojs', async () => {
  const ready = (nativeStatus(fileURLToPath(new URL('../../..', import.meta.url))) as { ready: boolean }).ready;
  const mod = await loadDanfo();
  expect(tfOf(mod)?.getBackend()).toBe(ready ? 'tensorflow' : undefined);
});
