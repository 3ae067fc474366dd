import { PGliteDriver } from './pglite-driver.js';
import { runCatalogConformance } from './testing/index.js';

// One in-memory PGlite instance for the whole file (a cold start costs ~5 s).
runCatalogConformance('PGlite (in memory)', () => PGliteDriver.open());
