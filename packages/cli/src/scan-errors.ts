/**
 * Turning scan failures into messages a person can act on: a partition that does not exist lists
 * some that do, a bare word in a filter gets a hint to quote it, and a file removed by `cleanup`
 * says that the version was cleaned up and when it was replaced.
 */
import { Type } from 'apache-arrow/enum';
import { LakeSoulError, NO_PARTITION_DESC, type PartitionVersion } from '@lakesoul-ts/meta';
// types only: importing io's root loads all of it (and of Arrow JS), which commands that only read the
// catalog (`table list`, `describe`) must not pay for; checkPartitionsExist loads it when it needs it
import type { LakeSoulTable, ScanOptions, ScanPlan } from '@lakesoul-ts/io';
import { cliName, shellWord } from './cli-name.js';

/** How many existing partitions a "no such partition" error lists. */
const LISTED_PARTITIONS = 5;

/**
 * Refuses a partition selection that matches no partition of the table (instead of printing zero rows),
 * naming up to {@link LISTED_PARTITIONS} that exist; returns the partitions it selects (none without a selection).
 * @throws LakeSoulError NotFound (code `PARTITION_NOT_FOUND`)
 */
export async function checkPartitionsExist(t: Pick<LakeSoulTable, 'info' | 'catalog'>, options: Pick<ScanOptions, 'partitions'>): Promise<PartitionVersion[]> {
  if (options.partitions === undefined) return [];
  const { namespace, name, tableId } = t.info;
  // typed values as the writer spells them: `x=1.0` means the partition stored as x=1, a time with a
  // zone the one stored in UTC without it (in place: the caller scans with the same object)
  const binary: string[] = [];
  if (!Array.isArray(options.partitions)) {
    const values = options.partitions as Record<string, unknown>;
    for (const [column, text] of Object.entries(values)) {
      const field = t.info.schema.fields.find((f) => f.name === column);
      if (typeof text !== 'string' || !field || !t.info.rangePartitions.includes(column)) continue;
      if (field.type.typeId === Type.Binary || field.type.typeId === Type.LargeBinary) {
        // typed as history prints it: the bytes in lowercase hex
        if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) {
          throw new LakeSoulError('InvalidArgument', `--partition ${column}=${text}: a binary range value is given in hex, as history prints it (the bytes of 'abc' are 616263)`, { context: { table: `${namespace}.${name}`, column } });
        }
        values[column] = text.toLowerCase();
        binary.push(column);
        continue;
      }
      try {
        const { rangeValueTextOfInput } = await import('@lakesoul-ts/io');
        values[column] = rangeValueTextOfInput(text, field.type, column);
      } catch (e) {
        throw new LakeSoulError('InvalidArgument', `--partition ${column}=${text}: not a value of the column's type ${String(field.type)} (${(e as Error).message.replace(/^row 0: /, '')})`, { context: { table: `${namespace}.${name}`, column }, cause: e });
      }
    }
  }
  const selected = await t.catalog.listPartitions(tableId, options.partitions);
  if (selected.length > 0) {
    // the scan takes a binary value as its bytes (a string there stands for its UTF-8 bytes)
    const values = options.partitions as Record<string, unknown>;
    for (const column of binary) values[column] = new Uint8Array(Buffer.from(values[column] as string, 'hex'));
    return selected;
  }
  const all = await t.catalog.listPartitions(tableId);
  const wanted = Array.isArray(options.partitions) ? options.partitions.join(', ')
    : Object.entries(options.partitions).map(([k, v]) => `${k}=${v ?? 'null'}`).join(',');
  const some = all.slice(0, LISTED_PARTITIONS).map((p) => p.partitionDesc === NO_PARTITION_DESC ? '(unpartitioned)' : p.partitionDesc);
  const tail = all.length === 0 ? 'the table has no data yet'
    : `it has ${all.length} partition${all.length === 1 ? '' : 's'}${all.length > LISTED_PARTITIONS ? ', for example' : ':'} ${some.join(', ')}`;
  throw new LakeSoulError('NotFound', `table '${namespace}.${name}' has no partition ${wanted}: ${tail} (see: ${cliName()} history ${shellWord(name)}${namespace === 'default' ? '' : ` -n ${shellWord(namespace)}`})`, {
    code: 'PARTITION_NOT_FOUND', context: { table: `${namespace}.${name}`, partition: wanted },
  });
}

/**
 * Adds a hint to an unknown-column filter error when the "column" stands where a value would: in
 * `kind = click`, `click` was meant as the string `'click'`.
 */
export function explainFilterError(e: unknown, filter: ScanOptions['filter']): unknown {
  if (!(e instanceof LakeSoulError) || typeof filter !== 'string' || /\bquote/.test(e.message)) return e;
  // The parser reports a bare word after an operator as a syntax error ("expected a literal, found
  // 'click'"); with a schema it may report it as an unknown column.
  const found = /expected a literal, found '([A-Za-z_]\w*)'/.exec(e.message)?.[1];
  const column = found ?? (/unknown column/.test(e.message) ? e.context.column : undefined);
  if (typeof column !== 'string') return e;
  const esc = column.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`([A-Za-z_][\\w]*)\\s*(=|!=|<>|<=|>=|<|>)\\s*${esc}\\b`).exec(filter);
  if (!m) return e;
  return new LakeSoulError(e.kind, `${e.message}; strings are quoted: ${m[1]} ${m[2]} '${column}'`, {
    code: e.code, context: e.context, cause: e,
  });
}

/**
 * Explains a missing data file when the scan read an older version: `cleanup` deletes the files of
 * versions replaced before its retention point, so the version can no longer be read. Other errors
 * (and a file missing from the latest version) are returned unchanged.
 */
export async function explainReadError(e: unknown, t: LakeSoulTable, plan: ScanPlan): Promise<unknown> {
  if (!(e instanceof LakeSoulError) || e.code !== 'OBJECT_NOT_FOUND') return e;
  const { namespace, name, tableId } = t.info;
  const versions = plan.toJSON().partitionVersions;
  let latest: Awaited<ReturnType<LakeSoulTable['history']>>;
  try {
    latest = await t.catalog.listPartitions(tableId);
  } catch {
    return e;
  }
  for (const [desc, version] of Object.entries(versions)) {
    const current = latest.find((p) => p.partitionDesc === desc);
    if (!current || current.version === version) continue;
    // versions and times only: the partition's file lists would be every file of every version
    const history = await t.catalog.historySummary(tableId, { partitionDesc: desc }).catch(() => []);
    const next = history.filter((h) => h.version > version).sort((a, b) => a.version - b.version)[0];
    const read = history.find((h) => h.version === version);
    const part = desc === NO_PARTITION_DESC ? '' : ` of partition ${desc}`;
    const when = `${read ? `committed ${new Date(read.timestamp).toISOString()}, ` : ''}replaced by version ${next?.version ?? current.version} at ${new Date((next ?? current).timestamp).toISOString()}`;
    return new LakeSoulError('NotFound',
      `version ${version}${part} of table '${namespace}.${name}' was cleaned up (${when}): \`${cliName()} cleanup\` deleted its data files ` +
      `because it was replaced before the retention point (--retain-since, 7 days by default); read a version replaced later, or the latest (missing: ${e.context.file ?? e.message})`,
      { code: 'VERSION_CLEANED_UP', context: { table: `${namespace}.${name}`, partition: desc, version, file: e.context.file }, cause: e });
  }
  return e;
}
