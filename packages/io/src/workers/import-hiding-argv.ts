/**
 * Loading a package that reads the program's command line as its own: @tensorflow/tfjs-node's addon
 * locator (@mapbox/node-pre-gyp) parses `process.argv` with its own options when tfjs-node (or
 * danfojs-node, which loads it) is loaded, so a program run with `--dir X` (the demo's option, the
 * examples') took it for `--directory X`, looked for the native addon under X, and trained on pure
 * JavaScript instead, 30x slower, saying the addon was not built.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * Imports `name`, resolved from `base` (the caller's `import.meta.url`), with `process.argv` hidden
 * while it loads. A CommonJS package is loaded synchronously with the command line set aside (no other
 * code runs meanwhile); an ES module is imported as usual. Resolves to what `import()` would.
 */
export async function importHidingArgv(name: string, base: string | URL): Promise<unknown> {
  const require = createRequire(base);
  const argv = process.argv;
  process.argv = argv.slice(0, 2);
  let exported: unknown;
  try {
    exported = require(name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_REQUIRE_ESM') throw e;
    return import(pathToFileURL(require.resolve(name)).href);
  } finally {
    process.argv = argv;
  }
  // an ES module that require() loaded (Node 20.19+): its namespace, as import() gives it
  if (exported !== null && typeof exported === 'object' && (exported as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'Module') return exported;
  // import()'s shape for a CommonJS module: the exports as `default`, beside their own names
  return exported !== null && typeof exported === 'object' ? { ...(exported as object), default: exported } : { default: exported };
}
