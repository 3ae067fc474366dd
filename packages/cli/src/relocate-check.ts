/**
 * What `relocate` checks before it rewrites the catalog for an object store: the tables' files must be
 * at their new locations already. A local target must be a directory (checked in the command); an
 * object store has no directories, so each moved table's new location is listed (one object is enough).
 * It exited 0 without looking, and every later read then failed on the first missing file.
 */
import { LakeSoulError, type Catalog, type RelocateTablesResult } from '@lakesoul-ts/meta';
import { messageOf } from './cli-context.js';

/** How many tables a refusal names. */
const NAMED = 3;

/**
 * Refuses (NotFound, nothing changed) when a table `relocate <from> <to>` would move (`planned`, its
 * dry run), and that has data files, has no object at or below its new location.
 */
export async function checkRelocatedFilesPresent(catalog: Catalog, planned: RelocateTablesResult): Promise<void> {
  if (planned.tables.length === 0) return;
  const { StoreRegistry } = await import('@lakesoul-ts/io/footers');
  const stores = new StoreRegistry();
  const used = new Set<{ destroy?: () => void }>();
  const missing: { name: string; to: string }[] = [];
  let tables: Awaited<ReturnType<Catalog['listTables']>> | undefined;
  try {
    for (const t of planned.tables) {
      // other engines spell S3 `s3a://` or `s3n://`: the same objects
      const { store, key } = stores.resolve(t.to.replace(/^s3[an]:\/\//i, 's3://'));
      used.add(store as { destroy?: () => void });
      let found = false;
      try {
        for await (const _ of store.list(key ? `${key.replace(/\/+$/, '')}/` : '')) { found = true; break; }
      } catch (e) {
        throw new LakeSoulError(LakeSoulError.is(e) ? e.kind : 'Io', `relocate: cannot list ${t.to}, the new location of table '${t.name}': ${messageOf(e)} (nothing was changed)`, {
          context: { to: t.to }, cause: e,
        });
      }
      if (found) continue;
      // a table without data files has nothing to move
      tables ??= await catalog.listTables();
      const info = tables.find((x) => x.path === t.from);
      if (info && (await catalog.getSnapshot(info.tableId)).every((p) => p.files.length === 0)) continue;
      missing.push(t);
    }
  } finally {
    for (const store of used) store.destroy?.();
  }
  if (missing.length === 0) return;
  const named = missing.slice(0, NAMED).map((t) => `table '${t.name}' would move to ${t.to}`).join(', ');
  const more = missing.length > NAMED ? ` (and ${missing.length - NAMED} more tables)` : '';
  throw new LakeSoulError('NotFound', `relocate: ${named}${more}, where there are no files: move the tables' files there first (nothing was changed)`, {
    // (no `table` in the context: the CLI would add a "see: table list" hint, and the tables exist)
    context: { to: missing[0]!.to },
  });
}
