/**
 * The data formats a file name's extension names, one table for `import`, `table create --from` and
 * `export`: case-insensitive (`O.CSV`, `x.Parquet`), with the usual aliases (`.ndjson`, `.pq`).
 */
import { extname } from 'node:path';

/** A data format an extension names: `tsv` is CSV with tabs, `json` one JSON array or JSON lines. */
export type FileFormat = 'csv' | 'tsv' | 'jsonl' | 'json' | 'parquet';

const EXTENSIONS = new Map<string, FileFormat>([
  ['csv', 'csv'], ['tsv', 'tsv'], ['jsonl', 'jsonl'], ['ndjson', 'jsonl'], ['json', 'json'], ['parquet', 'parquet'], ['pq', 'parquet'],
]);

/** The format `file`'s extension names, whatever its case; undefined for another extension or none. */
export function formatOfExtension(file: string): FileFormat | undefined {
  return EXTENSIONS.get(extname(file).slice(1).toLowerCase());
}
