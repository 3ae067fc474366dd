/** Test helpers of the merge tests: rows as record batches of given sizes, and an async source of them. */
import { Table, vectorFromArray, type Field, type RecordBatch } from 'apache-arrow';

/** `rows` (objects keyed by field name) as batches of `sizes` rows each, typed by `fields`. */
export function toBatches(rows: Array<Record<string, unknown>>, fields: Field[], sizes: number[]): RecordBatch[] {
  const out: RecordBatch[] = [];
  let p = 0;
  for (const sz of sizes) {
    const part = rows.slice(p, p + sz);
    p += sz;
    const cols: Record<string, ReturnType<typeof vectorFromArray>> = {};
    for (const f of fields) cols[f.name] = vectorFromArray(part.map((r) => r[f.name]) as never[], f.type);
    out.push(new Table(cols).batches[0]!);
  }
  return out;
}

/** The batches as an async source that yields to the event loop's microtasks between them. */
export async function* iter(batches: RecordBatch[]): AsyncGenerator<RecordBatch> {
  for (const b of batches) {
    await Promise.resolve();
    yield b;
  }
}
