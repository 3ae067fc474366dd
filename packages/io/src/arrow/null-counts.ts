import { RecordBatch, Type, type Data } from 'apache-arrow';
import { makeBatch } from './data-access.js';

/**
 * `data` with every null-typed array in it (at any depth) counted as all nulls, or `data` itself when
 * nothing needs it. Arrow JS's slice of a null-typed array leaves its null count unknown (-1), having
 * no validity bitmap to count it from, and its IPC writer writes that -1 into the array's field node:
 * arrow-rs (both Parquet codecs) refuses such a batch ("NullArray has unequal null_count -1 and len
 * 1"), so a compaction or update of a table with a null-typed column failed once a merge had sliced it.
 */
export function withKnownNullCounts(data: Data): Data {
  if (data.typeId === Type.Null) return data.nullCount === data.length ? data : data.clone(data.type, data.offset, data.length, data.length);
  let children: Data[] | undefined;
  data.children.forEach((c, i) => {
    const fixed = withKnownNullCounts(c);
    if (fixed !== c) (children ??= [...data.children])[i] = fixed;
  });
  return children === undefined ? data : data.clone(data.type, data.offset, data.length, data.nullCount, data.buffers, children);
}

/** `batch` with its null-typed columns counted as all nulls ({@link withKnownNullCounts}), or `batch` itself. */
export function batchWithKnownNullCounts(batch: RecordBatch): RecordBatch {
  const columns = batch.data.children as Data[];
  const fixed = columns.map(withKnownNullCounts);
  return fixed.every((d, i) => d === columns[i]) ? batch : makeBatch(batch.schema, fixed, batch.numRows);
}
