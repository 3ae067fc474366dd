/**
 * Build step (`pnpm build` of @lakesoul-ts/cli): creates an in-memory PGlite database, runs the
 * catalog's bootstrap, and writes its data directory as dist/catalog-image.tar.gz (see
 * catalog-image.ts). Not part of the public API.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Catalog, PGliteDriver } from '@lakesoul-ts/meta';
import { CATALOG_IMAGE_PATH } from './catalog-image.js';

const driver = await PGliteDriver.open();
const catalog = new Catalog(driver);
await catalog.bootstrap();
const image = await driver.db.dumpDataDir('gzip');
writeFileSync(fileURLToPath(CATALOG_IMAGE_PATH), Buffer.from(await image.arrayBuffer()));
await catalog.close();
