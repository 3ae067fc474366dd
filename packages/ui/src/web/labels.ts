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

/**
 * The CLI command that prints the whole value of column `column` of one row (the row view cuts long
 * text): its filter names the row when the table has one integer-valued primary key (a filter for
 * other keys needs quoting that differs from shell to shell, so the command leaves it to fill in).
 */
export function wholeValueCommand(ns: string, table: string, column: string, primaryKey: Array<[string, Cell]>): string {
  const [only] = primaryKey;
  const simple = primaryKey.length === 1 && only && /^[A-Za-z_][A-Za-z0-9_]*$/.test(only[0]) && (typeof only[1] === 'number' || (typeof only[1] === 'string' && /^-?\d+$/.test(only[1])));
  const filter = simple ? `'${only[0]} = ${only[1]}'` : '<a filter selecting this row>';
  const word = (s: string) => (/^[A-Za-z0-9_.,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return `lakesoul-ts scan ${word(table)} -n ${word(ns)} --columns ${word(column)} --filter ${filter} --format jsonl`;
}
