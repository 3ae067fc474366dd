/**
 * Texts of the front end worked out from the API's answers, kept apart from the DOM code so they can
 * be tested without a browser.
 */

/** A cell as the API sends it. */
export type Cell = string | number | boolean | null;

/** The partition_desc of a table without range partitions (meta's `NO_PARTITION_DESC`). */
export const NO_PARTITION_DESC = '-5';

/** A partition as shown: `(unpartitioned)` for a table without range partitions, as the CLI shows it. */
export function partitionLabel(desc: string): string {
  return desc === NO_PARTITION_DESC ? '(unpartitioned)' : desc;
}

/** The diff page's "Compared by" text: how each partition the range touched was compared. */
export function comparedByText(partitions: Record<string, string>): string {
  return Object.entries(partitions)
    .map(([p, m]) => `${partitionLabel(p)}: ${m === 'incremental' ? 'incremental read' : 'reset (rewritten or dropped in the range: compared whole)'}`)
    .join('; ') || 'no partition changed';
}

/** What a view pins that a command printing one of its values must pin too. */
export interface CommandPins {
  /** The commit time the row was read at (the command reads as of it: `--timestamp at+1`). */
  at?: number | null;
  /** The partition the view is limited to (its partition_desc). */
  partition?: string | null;
}

/**
 * The CLI command that prints the whole value of column `column` of one row (the row view cuts long
 * text): its filter names the row when the table has one integer-valued primary key (a filter for
 * other keys needs quoting that differs from shell to shell, so the command leaves it to fill in).
 * It reads as of the commit the row was read at (`--timestamp`, the commit time + 1 ms: a scan's
 * time is exclusive), not the latest state, and within the view's partition when it has one (a
 * partition whose description needs no quoting; the command leaves out others). `command` is how the
 * CLI is spelt with the options that select this lakehouse (the server's `/api/info`).
 */
export function wholeValueCommand(ns: string, table: string, column: string, primaryKey: Array<[string, Cell]>, pins: CommandPins = {}, command = 'lakesoul-ts'): string {
  const [only] = primaryKey;
  const simple = primaryKey.length === 1 && only && /^[A-Za-z_][A-Za-z0-9_]*$/.test(only[0]) && (typeof only[1] === 'number' || (typeof only[1] === 'string' && /^-?\d+$/.test(only[1])));
  const filter = simple ? `'${only[0]} = ${only[1]}'` : '<a filter selecting this row>';
  const word = (s: string) => (/^[A-Za-z0-9_.,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const parts = pins.partition && pins.partition !== NO_PARTITION_DESC ? pins.partition.split(',') : [];
  const partition = parts.length > 0 && parts.every((p) => /^[A-Za-z_][A-Za-z0-9_]*=[A-Za-z0-9_.:+-]+$/.test(p)) ? parts.map((p) => ` --partition ${p}`).join('') : '';
  const at = typeof pins.at === 'number' && Number.isSafeInteger(pins.at) ? ` --timestamp ${pins.at + 1}` : '';
  return `${command} scan ${word(table)} -n ${word(ns)}${partition}${at} --columns ${word(column)} --filter ${filter} --format jsonl`;
}
