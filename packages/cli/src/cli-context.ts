/**
 * Opening the lakehouse for a command, and turning errors into messages and exit codes a person can act
 * on.
 */
import { LakeSoulError, Catalog } from '@lakesoul-ts/meta';
import { Lakehouse } from '@lakesoul-ts/io';
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

/** Open the catalog and stores for one command; the caller closes `lakehouse`. */
export async function openContext(flags: GlobalFlags, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<CliContext> {
  const config = resolveCliConfig(flags);
  const catalog = await Catalog.open(config.catalog);
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

/** Message for an error: LakeSoulErrors already name the thing; others get their cause chain. */
export function messageOf(e: unknown): string {
  if (e instanceof LakeSoulError) {
    const hint = e.kind === 'NotFound' && e.context.table ? ` (see: lakesoul-ts table list${e.context.namespace ? ' -n ' + e.context.namespace : ''})` : '';
    return `${e.message}${hint}`;
  }
  if (e instanceof Error) return e.message + (e.cause instanceof Error ? ` (cause: ${e.cause.message})` : '');
  return String(e);
}
