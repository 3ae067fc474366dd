/**
 * A home remembers where it was made, so that a copied or moved home does not act on another home's
 * files. The catalog keeps absolute table paths: after `cp -a h h2`, `--home h2 import t` wrote into
 * h's table directory (and h's `cleanup` then deleted that file as an orphan); after `mv lake
 * lake-2025` and a new `lake`, `--home lake-2025 cleanup t --execute` deleted the new home's files.
 *
 * The marker `<home>/catalog/.lakesoul-ts-home.json` holds the home's real path (and its path as
 * given, when another). A home opened somewhere else than its marker says, whose tables lie at or
 * under the old location's warehouse, refuses the commands that write or delete files and warns on
 * the others, until `relocate` moves the tables (which updates the marker). A home without a marker
 * (made by an older version) gets one; so does a moved home none of whose tables lie under its old
 * warehouse. Only the CLI's homes (the embedded catalog `<home>/catalog`) have a marker.
 */
import { closeSync, fsyncSync, openSync, readFileSync, realpathSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LakeSoulError, catalogServerAlive, catalogServerDirectory, pathWithin, readCatalogServerInfo, type Catalog } from '@lakesoul-ts/meta';
import { cliCommand, cliName, shellWord } from './cli-name.js';
import type { CliConfig } from './cli-config.js';

/** The marker's file name, in the home's catalog directory. */
export const HOME_MARKER = '.lakesoul-ts-home.json';

/** What a command does to the tables' files, as the check sees it. */
export type HomeUse = 'write' | 'read' | 'relocate';

/** The command a run is about to open the home for. */
interface Expected {
  /** The command as typed (`table create`), for messages. */
  command: string;
  use: HomeUse;
  /** Prints a line on the run's stderr. */
  warn: (line: string) => void;
}

/** Per run (keyed by the run's global options object, one per program), the command it runs. */
const expected = new WeakMap<object, Expected>();

/** The part of a commander command the classification reads. */
export interface CommandLike {
  name(): string;
  parent: CommandLike | null;
  opts(): Record<string, unknown>;
}

/**
 * How `command` (its words below the program, e.g. `table drop`) uses the tables' files, given its
 * options: `write` for the commands that write or delete them (`import`, `compact`, `serve` (DoPut),
 * `table create` at the default path, `table drop --purge`, `cleanup --execute`), `relocate` for
 * `relocate` (not a dry run), `read` for every other.
 */
export function homeUseOf(command: string, o: Record<string, unknown>): HomeUse {
  switch (command) {
    case 'import': case 'compact': case 'serve': return 'write';
    case 'table create': return o.path === undefined ? 'write' : 'read';
    case 'table drop': return o.purge ? 'write' : 'read';
    case 'cleanup': return o.execute ? 'write' : 'read';
    case 'relocate': return o.dryRun ? 'read' : 'relocate';
    default: return 'read';
  }
}

/**
 * Records the command a run is about to run (commander's `preAction` hook: `flags` is the program's
 * options object, which the run passes to {@link checkHomeLocation}), and where its warnings go.
 */
export function expectCommand(flags: object, action: CommandLike, warn: (line: string) => void): void {
  const words: string[] = [];
  for (let c: CommandLike | null = action; c?.parent; c = c.parent) words.unshift(c.name());
  const command = words.join(' ');
  expected.set(flags, { command, use: homeUseOf(command, action.opts()), warn });
}

/** What the marker holds. */
interface Marker {
  /** The home's real path (symbolic links resolved). */
  home: string;
  /** The home's absolute path as given, when not its real path (table paths are spelt so). */
  given?: string;
}

function readMarker(catalogDir: string): Marker | undefined {
  try {
    const v = JSON.parse(readFileSync(join(catalogDir, HOME_MARKER), 'utf8')) as Partial<Marker>;
    if (typeof v?.home !== 'string' || !v.home.startsWith('/')) return undefined;
    return { home: v.home, ...(typeof v.given === 'string' && v.given.startsWith('/') ? { given: v.given } : {}) };
  } catch {
    return undefined; // none (an older version's home), or unreadable: written anew
  }
}

/** Writes the marker atomically (a flushed temporary file renamed over it); best effort (a read-only home keeps none). */
function writeMarker(catalogDir: string, marker: Marker): void {
  const tmp = join(catalogDir, `${HOME_MARKER}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, `${JSON.stringify(marker)}\n`);
      fsyncSync(fd);
    } finally { closeSync(fd); }
    renameSync(tmp, join(catalogDir, HOME_MARKER));
  } catch {
    try { rmSync(tmp, { force: true }); } catch { /* nothing to clean */ }
  }
}

/** A home opened where its marker does not say, with tables under the old location's warehouse. */
interface Misplaced {
  /** The home as given (absolute) and its real path. */
  home: string;
  real: string;
  /** The old home (as its tables spell it) and how many tables, first names, lie under its warehouse. */
  old: string;
  oldWarehouses: string[];
  tables: string[];
}

/** The embedded catalog directory of a CLI home (`<home>/catalog`), or undefined for other catalogs. */
function homeCatalogDir(config: CliConfig): string | undefined {
  const dir = config.catalog.dataDir;
  return config.source === 'default' && dir !== undefined && basename(dir) === 'catalog' ? dir : undefined;
}

/**
 * Compares the home with its marker. Writes the marker when the home has none, or when it names
 * another location under whose warehouse no table lies; returns what is misplaced otherwise.
 */
async function inspect(catalog: Catalog, catalogDir: string): Promise<Misplaced | undefined> {
  const home = dirname(catalogDir);
  let real: string;
  try { real = realpathSync(home); } catch { return undefined; }
  const here: Marker = real === home ? { home: real } : { home: real, given: home };
  const marker = readMarker(catalogDir);
  if (marker?.home === real) {
    if (marker.given !== here.given) writeMarker(catalogDir, here);
    return undefined;
  }
  // the old home's spellings other than this home's own (a symbolic link now leading here)
  const olds = marker === undefined ? [] : [...new Set([marker.given, marker.home])]
    .filter((m): m is string => m !== undefined && m !== home && m !== real);
  const oldWarehouses = olds.map((m) => join(m, 'warehouse'));
  const all = oldWarehouses.length === 0 ? [] : await catalog.listTables();
  const tables = all.filter((t) => oldWarehouses.some((w) => pathWithin(t.path, w))).map((t) => `${t.namespace}.${t.name}`);
  if (tables.length === 0) {
    writeMarker(catalogDir, here);
    return undefined;
  }
  // the spellings the tables use (relocate each)
  const used = oldWarehouses.filter((w) => all.some((t) => pathWithin(t.path, w)));
  return { home, real, old: dirname(used[0]!), oldWarehouses: used, tables };
}

/** How many table names a message lists. */
const NAMED = 3;

function describe(m: Misplaced): { what: string; fix: string } {
  const names = m.tables.slice(0, NAMED).map((t) => `'${t}'`).join(', ') + (m.tables.length > NAMED ? ` and ${m.tables.length - NAMED} more` : '');
  const one = m.tables.length === 1;
  const what = `the home ${m.home} was made at ${m.old} (it was copied or moved since): ` +
    `${one ? 'table' : 'tables'} ${names} still ${one ? 'points' : 'point'} at ${join(m.old, 'warehouse')}, ` +
    'whose files belong to the original home (for a copy) or to whatever home took the old place';
  const target = join(m.home, 'warehouse');
  const fix = `check that the tables' files are in ${target}, then run ` +
    m.oldWarehouses.map((w) => `\`${cliName()} relocate ${shellWord(w)} ${shellWord(target)}\``).join(' and ') +
    ' (for a copy, this gives the copy its own tables)';
  return { what, fix };
}

/**
 * The check of a CLI home's location at each open (see the module doc). For the run's command
 * ({@link expectCommand}; a run that recorded none counts as a read): refuses a command that writes
 * or deletes files (`InvalidArgument`, `INVALID_CATALOG_DIR`, exit 4) while tables point at the old
 * location's warehouse, and prints one warning line for the others. `relocate` is let through; it
 * calls {@link homeRelocated} after moving the tables. Nothing for a PostgreSQL catalog or a
 * `--catalog` directory.
 */
export async function checkHomeLocation(catalog: Catalog, config: CliConfig, flags: object): Promise<void> {
  const catalogDir = homeCatalogDir(config);
  if (catalogDir === undefined) return;
  const misplaced = await inspect(catalog, catalogDir);
  if (misplaced === undefined) return;
  const run = expected.get(flags) ?? { command: '', use: 'read' as const, warn: (line: string) => process.stderr.write(`${line}\n`) };
  if (run.use === 'relocate') return;
  const { what, fix } = describe(misplaced);
  if (run.use === 'read') {
    run.warn(`warning: ${what}; reads show those files. To give this home its own tables, ${fix}`);
    return;
  }
  throw new LakeSoulError('InvalidArgument', `${run.command}: refused, as it would write or delete files there: ${what}. To use this home, ${fix}`, {
    code: 'INVALID_CATALOG_DIR', context: { home: misplaced.home, madeAt: misplaced.old, tables: misplaced.tables.length },
  });
}

/** After `relocate`: the marker names this home once no table is left under the old location's warehouse. */
export async function homeRelocated(catalog: Catalog, config: CliConfig): Promise<void> {
  const catalogDir = homeCatalogDir(config);
  if (catalogDir !== undefined) await inspect(catalog, catalogDir);
}

/**
 * Refuses (before the catalog is opened) a home copied while the original's catalog server ran: the
 * copy's server file names that server's socket, so every command on the copy ran on the original's
 * catalog (`--home h2 table create u` made u in h's catalog, `table drop t` would drop h's table).
 * Told by the directory the server file says its live server serves (older servers: the one their
 * background process was started on), else by the marker naming another home whose server file names
 * the same socket, served by a live process. Nothing for other catalogs, or when the original's
 * server is gone (the copy's file is stale).
 */
export function refuseBorrowedCatalogServer(config: CliConfig): void {
  const catalogDir = homeCatalogDir(config);
  if (catalogDir === undefined) return;
  const info = readCatalogServerInfo(catalogDir);
  if (!info) return;
  const home = dirname(catalogDir);
  let real: string;
  try { real = realpathSync(home); } catch { return; }
  // The directory the server says (or, an older one, was started to) serve. Without it only the
  // marker told, which a home only older versions had used has none of (the copy's first command
  // then wrote it naming the copy): `table drop --purge` on the copy dropped the original's table.
  const served = catalogServerDirectory(info);
  let realCatalog: string;
  try { realCatalog = realpathSync(catalogDir); } catch { return; }
  if (served !== undefined && served !== realCatalog) {
    if (catalogServerAlive(info)) throw borrowedServer(home, dirname(served), info.pid);
    return;
  }
  const marker = readMarker(catalogDir);
  if (!marker || marker.home === real) return;
  const theirs = readCatalogServerInfo(join(marker.home, 'catalog'));
  if (theirs?.socket !== info.socket || theirs.pid !== info.pid || !catalogServerAlive(theirs, join(marker.home, 'catalog'))) return;
  throw borrowedServer(home, marker.given ?? marker.home, info.pid);
}

function borrowedServer(home: string, original: string, pid: number): LakeSoulError {
  return new LakeSoulError('InvalidArgument', `the home ${home} was copied from ${original} while that home's catalog server (process ${pid}) ran: ` +
    `its catalog/.lakesoul-ts.server.json names that server, so this command would run on ${original}'s catalog. Stop that server with ` +
    `\`${cliCommand()} --home ${shellWord(original)} catalog-server --stop\` and run the command again (a catalog copied while in use may be torn: ` +
    'copy a home after stopping its catalog server)', { code: 'INVALID_CATALOG_DIR', context: { home, madeAt: original, pid } });
}
