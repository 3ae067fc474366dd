// The suite's backend: the pure-JS project trains on tfjs's own backends; the native project (defined
// by vitest.config.ts once `pnpm setup:native` has built the addon) resolves `@tensorflow/tfjs` to
// @tensorflow/tfjs-node and must really be on TensorFlow's C library, not silently on pure JS.
import { expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { testBackend } from './test-support/backend.js';

it('runs on the backend its project names', async () => {
  await tf.setBackend(testBackend('cpu'));
  await tf.ready();
  expect(tf.getBackend()).toBe(testBackend('cpu'));
  const native = process.env.LAKESOUL_TFJS_BACKEND === 'tensorflow';
  expect(typeof (tf as unknown as { node?: { decodeImage?: unknown } }).node?.decodeImage).toBe(native ? 'function' : 'undefined');
  // A conv gradient: what the wasm backend lacks and what costs pure JS most.
  const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
  const w = tf.variable(tf.randomNormal([3, 3, 3, 4]));
  const g = tf.grad((k: tf.Tensor) => tf.conv2d(x, k as tf.Tensor4D, 1, 'same').sum())(w);
  expect(g.shape).toEqual([3, 3, 3, 4]);
  expect(Number.isFinite(g.sum().dataSync()[0])).toBe(true);
});
