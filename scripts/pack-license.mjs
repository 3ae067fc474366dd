#!/usr/bin/env node
// prepack/postpack of every package: puts the repository's LICENSE into the package directory while
// `pnpm pack` / `pnpm publish` builds the tarball (npm takes a LICENSE file from the package root
// only), and removes it afterwards.
//
//   node ../../scripts/pack-license.mjs add|remove     (run from a package directory)
import { copyFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const action = process.argv[2];
if (action === 'add') copyFileSync(join(root, 'LICENSE'), join(process.cwd(), 'LICENSE'));
else if (action === 'remove') rmSync(join(process.cwd(), 'LICENSE'), { force: true });
else {
  console.error('usage: node scripts/pack-license.mjs add|remove  (from a package directory)');
  process.exit(2);
}
