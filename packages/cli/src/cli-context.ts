/**
 * Opening the lakehouse for a command, and turning errors into messages and exit codes a person can act
 * on.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LakeSoulError, Catalog } from '@lakesoul-ts/meta';
import type { Lakehouse } from '@lakesoul-ts/io';
import { restoreCatalogImage } from './catalog-image.js';
import { cliName } from './cli-name.js';
import { resolveCliConfig, type CliConfig, type GlobalFlags } from './cli-config.js';

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
}

/** Open the catalog for one command; the caller closes it. */
export async function openCatalogContext(flags: GlobalFlags): Promise<CatalogContext> {
  const config = resolveCliConfig(flags);
  // A new embedded home starts from the shipped, already bootstrapped catalog image (no initdb, no DDL).
  const restored = config.catalog.dataDir !== undefined && restoreCatalogImage(config.catalog.dataDir);
  const catalog = await Catalog.open({ ...config.catalog, bootstrap: !restored });
  return { config, catalog };
}

/**
 * Open the catalog and stores for one command; the caller closes `lakehouse`. Metadata commands use
 * {@link openCatalogContext} instead and open no stores.
 */
export async function openContext(flags: GlobalFlags, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<CliContext> {
  const [{ config, catalog }, { Lakehouse }] = await Promise.all([openCatalogContext(flags), import('@lakesoul-ts/io')]);
  // The lakehouse owns the catalog: closing it must release PGlite's timers and pg's pool, or the
  // process would linger after the command's work is done.
  const lakehouse = await Lakehouse.open({ catalog, ownCatalog: true, warehouse: config.warehouse });
  return { config, lakehouse, flags, ...io };
}

/** Exit code for an error. */
export function exitCodeOf(e: unknown): number {
  if (!(e instanceof LakeSoulError)) return ExitCode.failure;
  switch (e.kind) {
    case 'NotFound': return ExitCode.notFound;
    case 'InvalidArgument': case 'SchemaMismatch': case 'AlreadyExists': case 'Unsupported': return ExitCode.invalidInput;
    case 'Conflict': return ExitCode.conflict;
    default: return ExitCode.failure;
  }
}

/** File next to an embedded catalog's lock that says which server holds it. */
const SERVE_INFO_FILE = '.lakesoul-ts.serve.json';

/**
 * While `serve` holds an embedded catalog, records its pid and address next to the catalog, so that
 * other commands refused by the lock can say how to reach it. Returns the function that removes it.
 */
export function advertiseServer(ctx: CliContext, url: string): () => void {
  const dir = ctx.config.catalog.dataDir;
  if (!dir) return () => {};
  const path = join(dir, SERVE_INFO_FILE);
  try { writeFileSync(path, JSON.stringify({ pid: process.pid, url })); } catch { return () => {}; }
  return () => { try { unlinkSync(path); } catch { /* already gone */ } };
}

function lockedCatalogMessage(e: LakeSoulError): string {
  const dataDir = String(e.context.dataDir ?? '');
  const pid = Number(e.context.pid);
  let server: { pid?: number; url?: string } = {};
  try { server = JSON.parse(readFileSync(join(dataDir, SERVE_INFO_FILE), 'utf8')); } catch { /* not a server */ }
  const holder = server.pid === pid && server.url ? ` (\`lakesoul-ts serve\` on ${server.url})` : '';
  const reach = holder ? `, or reach the tables through that server (Arrow Flight: ${server.url})` : '';
  return `the embedded catalog ${dataDir} is in use by process ${pid}${holder}: an embedded (PGlite) catalog serves one process at a time. ` +
    `Stop that process (Ctrl-C in its terminal, or \`kill ${pid}\`) and run the command again${reach}; ` +
    'to run servers and commands side by side, keep the catalog on PostgreSQL (--catalog postgres://... or LAKESOUL_PG_URL)';
}

/** Message for an error: LakeSoulErrors already name the thing; others get their cause chain. */
export function messageOf(e: unknown): string {
  if (e instanceof LakeSoulError) {
    if (e.code === 'CATALOG_LOCKED' && e.context.pid !== undefined) return lockedCatalogMessage(e);
    if (e.code === 'BLOB_OUTSIDE_ROOTS' && !/lakesoul_blob_roots/.test(e.message)) {
      return `${e.message}. To allow a folder, list it in the table property lakesoul_blob_roots ` +
        `(comma-separated URIs, e.g. \`${cliName()} table create <table> ... --property lakesoul_blob_roots=file:///data/images\`), ` +
        `or import the folder with \`${cliName()} import <table> <folder> --format images\`, which records it`;
    }
    const hint = e.kind === 'NotFound' && e.context.table && !e.message.includes('(see: ') ? ` (see: ${cliName()} table list${e.context.namespace ? ' -n ' + e.context.namespace : ''})` : '';
    return `${e.message}${hint}`;
  }
  if (e instanceof Error) return e.message + (e.cause instanceof Error ? ` (cause: ${e.cause.message})` : '');
  return String(e);
}
