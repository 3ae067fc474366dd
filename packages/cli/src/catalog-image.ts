/**
 * A pre-initialised embedded catalog shipped in the package. Creating a PGlite database runs initdb
 * and then the catalog's DDL: seconds of work that are the same for every new home. The build runs them
 * once (see build-catalog-image.ts) and stores the data directory as a gzip'd tar; a command that finds
 * no catalog in its home unpacks the image instead (a file copy), so `init` costs about what opening an
 * existing catalog costs.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { flushDirectorySync, flushDirectoryTreeSync, LakeSoulError, madeDirectoryEntries, makeDirectorySync } from '@lakesoul-ts/meta';

/** Where the build puts the image, next to the compiled CLI. */
export const CATALOG_IMAGE_PATH = new URL('./catalog-image.tar.gz', import.meta.url);

/** Whether `dataDir` has no database yet (missing or empty). */
export function isFreshDataDir(dataDir: string): boolean {
  return !existsSync(dataDir) || readdirSync(dataDir).length === 0;
}

function field(block: Buffer, at: number, len: number): string {
  const raw = block.subarray(at, at + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

/**
 * Unpacks a ustar archive (regular files and directories, as PGlite's `dumpDataDir` writes them)
 * under `root`. Entries that would land outside `root` are refused.
 */
export function extractTar(tar: Buffer, root: string): number {
  const base = resolve(root);
  let files = 0;
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const name = field(header, 0, 100);
    const prefix = field(header, 345, 155);
    const size = Number.parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156]!);
    const rel = (prefix ? `${prefix}/${name}` : name).replace(/^\/+/, '');
    const target = resolve(base, rel);
    if (target !== base && !target.startsWith(base + sep)) {
      throw new LakeSoulError('Internal', `catalog image entry '${rel}' points outside ${base}`, { context: { file: rel } });
    }
    const body = at + 512;
    if (type === '5') makeDirectorySync(target);
    else if (type === '0' || type === '\0') {
      makeDirectorySync(dirname(target));
      writeFileSync(target, tar.subarray(body, body + size));
      files++;
    }
    at = body + Math.ceil(size / 512) * 512;
  }
  return files;
}

/**
 * Fills a fresh `dataDir` from the shipped image. Returns false (and does nothing) when the directory
 * already holds something or the package has no image (then PGlite creates the database itself). The
 * image is unpacked beside `dataDir` and renamed into place, so two commands starting at once on a new
 * home cannot interleave their files: the second rename fails and its copy is discarded. The files
 * are flushed to disk before the rename, and the rename after it.
 */
export function restoreCatalogImage(dataDir: string): boolean {
  // LAKESOUL_TS_NO_CATALOG_IMAGE=1 creates the catalog the slow way (initdb + DDL), for comparison.
  if (process.env.LAKESOUL_TS_NO_CATALOG_IMAGE === '1') return false;
  if (!isFreshDataDir(dataDir) || !existsSync(CATALOG_IMAGE_PATH)) return false;
  const tar = gunzipSync(readFileSync(CATALOG_IMAGE_PATH));
  const home = dirname(resolve(dataDir));
  const madeHome = makeDirectorySync(home);
  const staging = mkdtempSync(`${resolve(dataDir)}.image-`);
  try {
    extractTar(tar, staging);
    // A pid file captured with the image belongs to no running server here.
    const pidFile = join(staging, 'postmaster.pid');
    if (existsSync(pidFile)) rmSync(pidFile);
    // on disk before it takes the catalog's name: a power loss must not leave a catalog of empty files
    flushDirectoryTreeSync(staging);
    try {
      renameSync(staging, dataDir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
      throw e;
    }
    for (const d of [home, ...madeDirectoryEntries(madeHome, home)]) flushDirectorySync(d);
    return true;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
