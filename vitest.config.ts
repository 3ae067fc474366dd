import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const pkg = (p: string) => fileURLToPath(new URL(`./packages/${p}`, import.meta.url));

// Tests import workspace packages from source, so `vitest run` needs no build step.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@lakesoul-ts\/(meta|io)\/testing$/, replacement: pkg('$1/src/testing/index.ts') },
      { find: /^@lakesoul-ts\/(meta|io|connector-tfjs|connector-danfo|connector-flight|cli|ui)$/, replacement: pkg('$1/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'e2e/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
