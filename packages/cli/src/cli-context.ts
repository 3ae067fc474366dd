/**
 * Opening the lakehouse for a command, and turning errors into messages and exit codes a person can act
 * on.
 */
import { existsSync } from 'node:fs';
import { LakeSoulError, Catalog, PGliteDriver, readCatalogServerInfo, ServedCatalogDriver, shareCatalogDirectory } from '@lakesoul-ts/meta';
import type { Lakehouse } from '@lakesoul-ts/io';
import { restoreCatalogImage } from './catalog-image.js';
import { cliName, shellWord } from './cli-name.js';
import { resolveCliConfig, type CliConfig, type GlobalFlags } from './cli-config.js';
import { checkHomeLocation, refuseBorrowedCatalogServer } from './home-location.js';

/** Exit codes of `lakesoul-ts`. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  invalidInput: 4,
  conflict: 5,
} as const;

/** A command's view of the lakehouse. */
export interface CliContext {
  config: CliConfig;
  lakehouse: Lakehouse;
  flags: GlobalFlags;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** A metadata command's view: the catalog only (no stores opened). */
export interface CatalogContext {
  config: CliConfig;
  catalog: Catalog;
  /** True when this command made the embedded catalog (a new home, or a mistyped --home). */
  createdCatalog?: boolean;
}

/** The embedded catalog directory this process opened itself (not through a catalog server), if any. */
let openedDirectly: string | undefined;

/**
 * The embedded catalog directory the last command opened itself rather than through a catalog server,
 * and has not served to others: `main.ts` starts the background catalog server for it.
 */
export function embeddedCatalogOpenedDirectly(): string | undefined {
  return openedDirectly;
}

/** Open the catalog for one command; the caller closes it. */
export async function openCatalogContext(flags: GlobalFlags, signal?: AbortSignal): Promise<CatalogContext> {
  const config = resolveCliConfig(flags);
  let catalog: Catalog;
  let created = false;
  // a home copied while the original's catalog server ran would go through that server
  refuseBorrowedCatalogServer(config);
  if (config.catalog.dataDir !== undefined && !existsSync(config.catalog.dataDir)) {
    // a new home is checked as `init` checks it, before its catalog is made (and a catalog server
    // started): a warehouse no table can be created in ('#', '?' or a '%' escape in its path)
    const { storedLocation } = await import('@lakesoul-ts/io');
    storedLocation(config.warehouse.replace(/\/+$/, ''), 'warehouse', 'INVALID_WAREHOUSE');
  }
  try {
    // A new embedded home starts from the shipped, already bootstrapped catalog image (no initdb, no DDL).
    created = config.catalog.dataDir !== undefined && !existsSync(config.catalog.dataDir);
    const restored = config.catalog.dataDir !== undefined && restoreCatalogImage(config.catalog.dataDir);
    // Another command that opened the home itself (started together on a home without a catalog
    // server; it leaves one behind when it exits) is waited for: `LAKESOUL_CATALOG_WAIT` seconds, 60 by default.
    catalog = await Catalog.open({
      ...config.catalog, bootstrap: !restored, signal,
      // --quiet: no note (without a callback the library printed a Node warning instead)
      onLockWait: flags.quiet === true ? () => {} : ({ pid, dataDir, waitMs }) => {
        process.stderr.write(`waiting for process ${pid}, which has the embedded catalog ${dataDir} open (up to ${Math.round(waitMs / 1000)} s)...\n`);
      },
    });
  } catch (e) {
    throw unusableCatalogDirectory(e, config);
  }
  // a copied or moved home whose tables still point at the old place: writes refused, reads warned
  try { await checkHomeLocation(catalog, config, flags); } catch (e) { await catalog.close(); throw e; }
  if (config.catalog.dataDir && catalog.driver instanceof PGliteDriver) openedDirectly = config.catalog.dataDir;
  return { config, catalog, createdCatalog: created };
}

/** File system errors of making or opening an embedded catalog's directory. */
const DIRECTORY_ERRORS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'ENOSPC', 'EDQUOT', 'ENAMETOOLONG', 'ELOOP']);

/**
 * A file system error on the embedded catalog's directory (a home under /proc, a read-only or another
 * user's directory) as an error that says which setting chose the directory and what to do; other
 * errors unchanged.
 */
function unusableCatalogDirectory(e: unknown, config: CliConfig): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const dir = config.catalog.dataDir;
  if (dir === undefined || e instanceof LakeSoulError || typeof code !== 'string' || !DIRECTORY_ERRORS.has(code)) return e;
  const setting = config.source === 'default' ? `the home (--home, LAKESOUL_TS_HOME or the config file's "home"; the catalog is <home>/catalog)`
    : config.source === 'flag' ? '--catalog' : config.source === 'env' ? 'LAKESOUL_PG_URL' : `the config file's "catalog"`;
  return new LakeSoulError('InvalidArgument', `cannot use ${dir} for the embedded catalog: ${(e as Error).message}. ` +
    `Choose a directory this user can create and write with ${setting}`, { code: 'INVALID_CATALOG_DIR', context: { dataDir: dir }, cause: e });
}

/**
 * Open the catalog and stores for one command; the caller closes `lakehouse`. Metadata commands use
 * {@link openCatalogContext} instead and open no stores.
 */
export async function openContext(flags: GlobalFlags, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }, signal?: AbortSignal): Promise<CliContext> {
  const [{ config, catalog }, { Lakehouse }] = await Promise.all([openCatalogContext(flags, signal), import('@lakesoul-ts/io')]);
  // The lakehouse owns the catalog: closing it must release PGlite's timers and pg's pool, or the
  // process would linger after the command's work is done.
  const lakehouse = await Lakehouse.open({ catalog, ownCatalog: true, warehouse: config.warehouse });
  return { config, lakehouse, flags, ...io };
}

/** Exit codes of a command stopped by a signal (128 + the signal's number, as shells report it). */
export const SIGNAL_EXIT_CODES: Readonly<Record<'SIGINT' | 'SIGTERM' | 'SIGHUP', number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** Exit code for an error. */
export function exitCodeOf(e: unknown): number {
  if (!(e instanceof LakeSoulError)) return ExitCode.failure;
  // a command a signal stopped after cleaning up exits as the signal would have
  if (e.code === 'INTERRUPTED' && typeof e.context.exitCode === 'number') return e.context.exitCode;
  switch (e.kind) {
    case 'NotFound': return ExitCode.notFound;
    case 'InvalidArgument': case 'SchemaMismatch': case 'AlreadyExists': case 'Unsupported': return ExitCode.invalidInput;
    case 'Conflict': return ExitCode.conflict;
    default: return ExitCode.failure;
  }
}

/**
 * While a long-running command (`serve`, `ui`) holds an embedded catalog, serves it to other processes
 * on a unix socket (see `shareCatalogDirectory` in `@lakesoul-ts/meta`), so that commands and programs on the
 * same home run beside it instead of failing on the catalog's lock. Returns the function that stops
 * serving. Nothing to do when the catalog is a PostgreSQL server. When it is reached through another
 * process's catalog server, this process takes the catalog over and shares it should that server end
 * (`ServedCatalogDriver`), and `note` says so.
 */
export async function shareEmbeddedCatalog(ctx: CliContext, role: string, note: (line: string) => void): Promise<() => Promise<void>> {
  const dir = ctx.config.catalog.dataDir;
  const driver = ctx.lakehouse.catalog.driver;
  if (driver instanceof ServedCatalogDriver) {
    // through another process's catalog server: should it stop or die, this process reconnects or
    // takes the catalog over, and then shares it in that process's place
    driver.shareOnTakeover(role);
    driver.onReconnect = note;
    return async () => {};
  }
  if (!dir || !(driver instanceof PGliteDriver)) return async () => {};
  openedDirectly = undefined; // served here while it runs: no background server afterwards
  try {
    // A background server that lost the race for the lock may still hold the claim for a moment.
    const server = await shareCatalogDirectory(driver, dir, role, { claimWaitMs: 2000 });
    if (!server) throw new Error(`process ${readCatalogServerInfo(dir)?.pid} claims to serve it`);
    return () => server.close();
  } catch (e) {
    // Serving still works; only commands beside it are refused, as before the catalog server existed.
    note(`warning: the embedded catalog ${dir} is not shared with other commands while this runs (${(e as Error).message})`);
    return async () => {};
  }
}

function lockedCatalogMessage(e: LakeSoulError): string {
  const dataDir = String(e.context.dataDir ?? '');
  const pid = Number(e.context.pid);
  const server = readCatalogServerInfo(dataDir);
  const holder = server?.pid === pid && server.role ? ` (${server.role})` : '';
  return `the embedded catalog ${dataDir} is in use by process ${pid}${holder}: an embedded (PGlite) catalog is opened by one process at a time ` +
    '(`serve`, `ui` and the background catalog server share it with other commands, as a program does that opens it with `share: true`; other commands hold it until they finish). ' +
    `Wait for that process or stop it (Ctrl-C in its terminal, or \`kill ${pid}\`) and run the command again; ` +
    'to run many programs side by side, keep the catalog on PostgreSQL (--catalog postgres://... or LAKESOUL_PG_URL)';
}

/**
 * `history`'s arguments for a qualified table name (`ns.table`): the table, and `-n ns` unless
 * default. Namespaces and table names may hold '.', so the namespace is the error's own when it
 * names one (`a.b` of `a.b.c.d`); only without it is the name split at its first '.'.
 */
function historyArgs(qualified: string, namespace?: unknown): string {
  let ns: string;
  let name: string;
  if (typeof namespace === 'string' && qualified.startsWith(`${namespace}.`)) [ns, name] = [namespace, qualified.slice(namespace.length + 1)];
  else {
    const dot = qualified.indexOf('.');
    [ns, name] = dot < 0 ? ['default', qualified] : [qualified.slice(0, dot), qualified.slice(dot + 1)];
  }
  return ns === 'default' ? shellWord(name) : `${shellWord(name)} -n ${shellWord(ns)}`;
}

/** Message for an error: LakeSoulErrors already name the thing; others get their cause chain. */
export function messageOf(e: unknown): string {
  if (e instanceof LakeSoulError) {
    if (e.code === 'CATALOG_LOCKED' && e.context.pid !== undefined) return lockedCatalogMessage(e);
    // an import's refusal of a file leading out of its folder (context.folder) says itself what to do:
    // the import confines reads to the folder, so no table property can allow the file
    if (e.code === 'BLOB_OUTSIDE_ROOTS' && !/lakesoul_blob_roots/.test(e.message) && e.context.folder === undefined) {
      return `${e.message}. To allow a folder, list it in the table property lakesoul_blob_roots ` +
        `(comma-separated URIs, e.g. \`${cliName()} table create <table> ... --property lakesoul_blob_roots=file:///data/images\`), ` +
        `or import the folder with \`${cliName()} import <table> <folder> --format images\`, which records it`;
    }
    // (a data file gone is no table to look for: the list of tables, which holds it, did not help)
    const hint = e.kind !== 'NotFound' || !e.context.table || e.message.includes('(see: ') || e.code === 'OBJECT_NOT_FOUND' ? ''
      : e.code === 'VERSION_NOT_FOUND' ? ` (see: ${cliName()} history ${historyArgs(String(e.context.table), e.context.namespace)})`
        : ` (see: ${cliName()} table list${e.context.namespace ? ' -n ' + shellWord(String(e.context.namespace)) : ''})`;
    return `${e.message}${hint}`;
  }
  if (e instanceof Error) return e.message + (e.cause instanceof Error ? ` (cause: ${e.cause.message})` : '');
  return String(e);
}
