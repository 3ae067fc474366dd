/**
 * Build step (`pnpm build` of @lakesoul-ts/cli): creates an in-memory PGlite database, runs the
 * catalog's bootstrap, and writes its data directory as dist/catalog-image.tar.gz (see
 * catalog-image.ts). Not part of the public API.
 *
 * The image keeps a new home small (about 14 MB instead of 39 MB): the driver creates it with 1 MB WAL
 * segments, and the template databases are dropped. The catalog lives in the `postgres` database;
 * `template0`/`template1` only serve `CREATE DATABASE`, which nothing runs in an embedded catalog, and
 * held two more copies of the system catalogs (7 MB each).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Catalog, PGliteDriver } from '@lakesoul-ts/meta';
import { CATALOG_IMAGE_PATH } from './catalog-image.js';

const driver = await PGliteDriver.open();
const catalog = new Catalog(driver);
await catalog.bootstrap();
for (const template of ['template0', 'template1']) {
  await driver.query(`ALTER DATABASE ${template} IS_TEMPLATE false`);
  await driver.query(`DROP DATABASE ${template}`);
}
// Start the image from a checkpoint, so that opening it replays no log.
await driver.query('CHECKPOINT');
const image = await driver.db.dumpDataDir('gzip');
writeFileSync(fileURLToPath(CATALOG_IMAGE_PATH), Buffer.from(await image.arrayBuffer()));
await catalog.close();
