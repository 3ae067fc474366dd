import { configDefaults, defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';
// @ts-expect-error -- a plain .mjs script without type declarations
import { nativeStatus } from './scripts/native-status.mjs';

const pkg = (p: string) => fileURLToPath(new URL(`./packages/${p}`, import.meta.url));

// The tfjs and Danfo suites run a second time on native TensorFlow when `pnpm setup:native` has built
// @tensorflow/tfjs-node's addon (`.ci/run` does): `@tensorflow/tfjs` resolves to tfjs-node (the same
// API plus the `tensorflow` backend and `tf.node`) and `danfojs` to danfojs-node. Without the addon
// that project is not defined, and the config says so.
const native = nativeStatus(fileURLToPath(new URL('.', import.meta.url))) as { ready: boolean; reason: string | null };
const NATIVE_SUITES = ['packages/connector-tfjs/src/**/*.test.ts', 'packages/connector-danfo/src/**/*.test.ts', 'examples/tfjs-train-images.test.ts', 'examples/danfo-analysis.test.ts'];
if (!native.ready && !process.env.VITEST_WORKER_ID) console.log(`[vitest] native TensorFlow suites not defined: @tensorflow/tfjs-node ${native.reason}`);

// Table IO's suites run a second time on parquet-wasm, what io uses where the native Parquet codec is
// not built (an install from the registry without cargo): CI builds the codec, so without this run
// that path went untested (a read from S3 through parquet-wasm's worker threads failed there). The
// local store's suites run on both too: with the addon, a put's file is written by it.
const WASM_CODEC_SUITES = ['packages/io/src/store/store-conformance.test.ts', 'packages/io/src/store/store-registry.test.ts', 'packages/io/src/table/**/*.test.ts', 'packages/io/src/workers/**/*.test.ts', 'e2e/io-table.test.ts', 'e2e/io-model.test.ts', 'e2e/io-read-memory.test.ts'];
// Of those, the ones that encode and decode no Parquet (paths, options, catalog rules, type units) run once.
const WASM_CODEC_SKIPS = ['namespace-dir-dots', 'plain-path-location', 'owned-files', 'exist-cols', 'option-shapes', 'table-units', 'boolean-options'].map((f) => `packages/io/src/table/${f}.test.ts`);

// Tests import workspace packages from source, so `vitest run` needs no build step.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@lakesoul-ts\/(meta|io)\/testing$/, replacement: pkg('$1/src/testing/index.ts') },
      { find: /^@lakesoul-ts\/(meta|io|connector-tfjs|connector-danfo|connector-flight|cli|ui)$/, replacement: pkg('$1/src/index.ts') },
    ],
  },
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      // `include` lives in each project: `extends: true` would concatenate a root list with the native one.
      { extends: true, test: { name: 'js', include: ['packages/*/src/**/*.test.ts', 'e2e/**/*.test.ts', 'examples/**/*.test.ts'] } },
      { extends: true, test: { name: 'wasm-codec', include: WASM_CODEC_SUITES, exclude: [...configDefaults.exclude, ...WASM_CODEC_SKIPS], env: { LAKESOUL_PARQUET_CODEC: 'wasm' } } },
      ...(native.ready
        ? [{
            extends: true,
            resolve: { alias: [{ find: /^@tensorflow\/tfjs$/, replacement: '@tensorflow/tfjs-node' }, { find: /^danfojs$/, replacement: 'danfojs-node' }] },
            test: { name: 'native', include: NATIVE_SUITES, env: { LAKESOUL_TFJS_BACKEND: 'tensorflow', TF_CPP_MIN_LOG_LEVEL: '2' } },
          }]
        : []),
    ],
  },
});
