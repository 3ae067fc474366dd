// Where the workspace's @tensorflow/tfjs-node copies are and whether `pnpm setup:native` has given them
// their addon. Shared by scripts/setup-native.mjs (which builds) and vitest.config.ts (which runs the
// native test project only when the addon is there). Reads the file system only: loading the addon
// (about a second, ~1 GB of libtensorflow mapped) is left to whoever trains.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The tfjs-node release the set-up builds for (pinned in the package.json files of the workspace). */
export const TFJS_NODE_VERSION = '4.22.0';
/** The N-API version the addon is built for: tfjs-node's loader looks in lib/napi-v<highest listed>. */
export const NAPI_BUILD_VERSION = 8;

/**
 * Every installed copy of `@tensorflow/tfjs-node` in `<root>/node_modules/.pnpm` (pnpm keeps one
 * per distinct peer set; the override in pnpm-workspace.yaml makes danfojs-node share it).
 * @param {string} root the workspace root
 * @returns {{ dir: string, version: string }[]}
 */
export function tfjsNodeCopies(root) {
  const store = join(root, 'node_modules/.pnpm');
  if (!existsSync(store)) return [];
  return readdirSync(store)
    .filter((n) => n.startsWith('@tensorflow+tfjs-node@'))
    .map((n) => ({ dir: join(store, n, 'node_modules/@tensorflow/tfjs-node'), version: n.slice('@tensorflow+tfjs-node@'.length).split('_')[0] }))
    .filter((c) => existsSync(join(c.dir, 'package.json')));
}

/**
 * Whether one copy has its addon and libtensorflow in the places its loader and rpath expect
 * (`lib/napi-v8/tfjs_binding.node`, `deps/lib/libtensorflow.so.2`).
 * @param {string} dir a tfjs-node package directory
 */
export function hasNativeAddon(dir) {
  return existsSync(join(dir, `lib/napi-v${NAPI_BUILD_VERSION}/tfjs_binding.node`)) && existsSync(join(dir, 'deps/lib/libtensorflow.so.2'));
}

/**
 * The native backend's state in the workspace: `ready` when tfjs-node is installed and every copy of
 * the pinned version has its addon; otherwise `reason` says what is missing.
 * @param {string} root the workspace root
 * @returns {{ ready: boolean, reason: string | null, copies: string[] }}
 */
export function nativeStatus(root) {
  const copies = tfjsNodeCopies(root).filter((c) => c.version === TFJS_NODE_VERSION);
  if (copies.length === 0) return { ready: false, reason: `@tensorflow/tfjs-node@${TFJS_NODE_VERSION} is not installed (run pnpm install)`, copies: [] };
  const missing = copies.filter((c) => !hasNativeAddon(c.dir));
  if (missing.length > 0) return { ready: false, reason: 'its addon is not built (run pnpm setup:native)', copies: copies.map((c) => c.dir) };
  return { ready: true, reason: null, copies: copies.map((c) => c.dir) };
}
