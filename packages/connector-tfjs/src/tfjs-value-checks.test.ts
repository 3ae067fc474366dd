import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Field, Float64, Int32, Int64, List, Schema, Utf8, makeTable, vectorFromArray, type Table } from 'apache-arrow';
import type { Lakehouse, LakeSoulTable } from '@lakesoul-ts/io';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { tfjsDataset, type TfjsDataset, type TfjsDatasetOptions } from './index.js';
import { quoteValue } from './dataset-mapping.js';
import { openTestLakehouse } from './test-support/tables.js';

const F32_MAX = 3.4028234663852886e38;
const SAFE = 2n ** 53n - 1n;
const FLOAT64_LIST = new List(new Field('item', new Float64(), false));

// One file (one split) of an unpartitioned table; each test picks its rows with a filter on id, so
// the row a value error names is that row's index among the rows the filter keeps.
//  id | f         | fl              | big         | name  | y
//   0 | 1.5       | [1, 2]          | 2^53-1      | 'cat' | 0.25
//   1 | 1e39      | [1, -3.5e38]    | -(2^53-1)   | ''    | -3.5e38
//   2 | -3.5e38   | [3, 4]          | 2^53        | 'dog' | 1e39
//   3 | NaN       | [Inf, -Inf]     | -(2^53)     | 'cat' | Infinity
//   4 | 3.4028235e38 (rounds to float32's max) | [1e-50, 0.1] | 0 | 'dog' | 1.7
const ROWS = {
  id: [0, 1, 2, 3, 4],
  f: [1.5, 1e39, -3.5e38, NaN, 3.4028235e38],
  fl: [[1, 2], [1, -3.5e38], [3, 4], [Infinity, -Infinity], [1e-50, 0.1]],
  big: [SAFE, -SAFE, SAFE + 1n, -SAFE - 1n, 0n],
  name: ['cat', '', 'dog', 'cat', 'dog'],
  y: [0.25, -3.5e38, 1e39, Infinity, 1.7],
};

let env: Awaited<ReturnType<typeof openTestLakehouse>>;
let lakehouse: Lakehouse;
let t: LakeSoulTable;

beforeAll(async () => {
  env = await openTestLakehouse();
  lakehouse = env.lakehouse;
  t = await lakehouse.createTable('ranges', new Schema([
    new Field('id', new Int32(), false),
    new Field('f', new Float64(), false),
    new Field('fl', FLOAT64_LIST, false),
    new Field('big', new Int64(), false),
    new Field('name', new Utf8(), false),
    new Field('y', new Float64(), false),
  ]));
  await t.write(makeTable({
    id: vectorFromArray(ROWS.id, new Int32()),
    f: vectorFromArray(ROWS.f, new Float64()),
    fl: vectorFromArray(ROWS.fl, FLOAT64_LIST),
    big: vectorFromArray(ROWS.big, new Int64()),
    name: vectorFromArray(ROWS.name, new Utf8()),
    y: vectorFromArray(ROWS.y, new Float64()),
  } as never) as unknown as Table, { mode: 'append' });
});
afterAll(async () => env?.close());

/** The first element of `options` over the rows `ids`, its tensors as arrays (and disposed). */
async function firstValues(options: Partial<TfjsDatasetOptions>, ids: number[]): Promise<Record<string, number[]>> {
  const ds = await tfjsDataset(t, { tf, batchSize: 8, filter: `id in (${ids.join(', ')})`, ...options });
  const el = (await (await ds.iterator()).next()).value as tf.Tensor | Record<string, tf.Tensor>;
  const named = el instanceof tf.Tensor ? { x: el } : el;
  const out = Object.fromEntries(Object.entries(named).map(([k, v]) => [k, Array.from(v.dataSync())]));
  tf.dispose(Object.values(named));
  return out;
}

/** The error reading every element of `options` over the rows `ids` throws. */
async function readError(options: Partial<TfjsDatasetOptions>, ids: number[]): Promise<LakeSoulError> {
  const ds: TfjsDataset = await tfjsDataset(t, { tf, batchSize: 8, filter: `id in (${ids.join(', ')})`, ...options });
  const err = await ds.forEachAsync((el) => tf.dispose(el as tf.TensorContainer)).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(LakeSoulError);
  return err as LakeSoulError;
}

const place = (row: number, column: string) => `table ranges \\(unpartitioned\\), split -5#\\S+, row ${row} of the split as read, column ${column}: `;

describe('float32 range', () => {
  it('a float64 feature or label beyond float32 range is refused (FLOAT32_OUT_OF_RANGE), not made +-Infinity', async () => {
    const cases: [Partial<TfjsDatasetOptions>, number[], number, string, string][] = [
      [{ features: 'f' }, [0, 1], 1, 'f', 'value 1e+39 is beyond the float32 range (about +-3.4028235e38) and would become Infinity in the float32 tensor'],
      [{ features: 'f' }, [2], 0, 'f', 'value -3.5e+38 is beyond the float32 range (about +-3.4028235e38) and would become -Infinity in the float32 tensor'],
      [{ features: { f: 'f', id: 'id' } }, [1], 0, 'f', 'value 1e+39 is beyond'],
      [{ features: ['id', 'f'], labels: { column: 'name', classes: ['cat', 'dog', ''] } }, [0, 1], 1, 'f', 'value 1e+39 is beyond'],
      [{ features: 'fl' }, [0, 1], 1, 'fl', 'value -3.5e+38 is beyond the float32 range (about +-3.4028235e38) and would become -Infinity'],
      [{ features: 'id', labels: 'y' }, [0, 2], 1, 'y', 'value 1e+39 is beyond the float32 range (about +-3.4028235e38) and would become Infinity'],
      [{ features: 'id', labels: { column: 'y', dtype: 'float32' } }, [1], 0, 'y', 'value -3.5e+38 is beyond'],
    ];
    for (const [options, ids, row, column, text] of cases) {
      const err = await readError(options, ids);
      const what = `${JSON.stringify(options)} ids ${ids}`;
      expect(err.code, what).toBe('FLOAT32_OUT_OF_RANGE');
      expect(LakeSoulError.is(err, 'InvalidArgument')).toBe(true);
      expect(err.message, what).toMatch(new RegExp(`^${place(row, column)}${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      expect(err.context).toMatchObject({ table: 'ranges', partition: '-5', row, column });
    }
    expect((await readError({ features: 'f' }, [1])).message).toMatch(/: scale it in a transform \(e\.g\. divide it, or take its log\), or filter such rows out$/);
  });

  it('a value that only loses precision is kept, and NaN and +-Infinity stored as such stay NaN and +-Infinity', async () => {
    // 3.4028235e38 rounds to float32's largest value; 1e-50 underflows to 0
    expect(await firstValues({ features: ['f', 'fl'], labels: 'y' }, [0, 4])).toEqual({
      xs: [1.5, 1, 2, F32_MAX, 0, Math.fround(0.1)],
      ys: [0.25, Math.fround(1.7)],
    });
    expect(await firstValues({ features: { f: 'f', fl: 'fl' } }, [3])).toEqual({ f: [NaN], fl: [Infinity, -Infinity] });
    expect(await firstValues({ features: 'id', labels: 'y' }, [3])).toEqual({ xs: [3], ys: [Infinity] });
    // a transform's values go through the same check
    const err = await readError({ features: 'f', transform: (row) => ({ ...row, f: row.id === 0 ? -1e300 : row.f }) }, [0]);
    expect(err.code).toBe('FLOAT32_OUT_OF_RANGE');
    expect(err.message).toMatch(/column f: value -1e\+300 is beyond the float32 range .* would become -Infinity/);
  });
});

describe('int64 range', () => {
  it('accepts -(2^53-1) and 2^53-1, refuses -(2^53) and 2^53 with a message stating the exact range', async () => {
    expect(await firstValues({ features: 'id', labels: { column: 'big', dtype: 'float32' } }, [0, 1])).toEqual({ xs: [0, 1], ys: [2 ** 53, -(2 ** 53)] });
    for (const [id, v] of [[2, '9007199254740992'], [3, '-9007199254740992']] as const) {
      const err = await readError({ features: 'big' }, [id]);
      expect(err.code).toBe('INT64_OUT_OF_RANGE');
      expect(err.message).toMatch(new RegExp(`^${place(0, 'big')}int64 value ${v} is outside -\\(2\\^53-1\\)\\.\\.2\\^53-1, the integers a double holds exactly, and has no exact tensor value: map it to a smaller range in a transform, or filter such rows out$`));
    }
  });
});

describe('one-hot labels', () => {
  it('a fractional label is refused as not an integer, not as outside the range', async () => {
    const err = await readError({ features: 'id', labels: { column: 'y', oneHot: 3 } }, [4]);
    expect(err.code).toBe('LABEL_OUT_OF_RANGE');
    expect(err.message).toMatch(new RegExp(`^${place(0, 'y')}label 1\\.7 is not an integer: a one-hot label is a class id, 0\\.\\.2$`));
    const high = await readError({ features: 'id', labels: { column: 'id', oneHot: 3 } }, [3]);
    expect(high.message).toMatch(new RegExp(`^${place(0, 'id')}label 3 outside \\[0, 3\\) for one-hot$`));
  });
});

describe('classes', () => {
  it('names each class once: a duplicate is refused when the dataset is made, naming the option and the name', async () => {
    await expect(tfjsDataset(t, { tf, features: 'id', labels: { column: 'name', classes: ['cat', 'dog', 'cat'] } })).rejects.toMatchObject({
      name: 'LakeSoulError',
      kind: 'InvalidArgument',
      code: 'BAD_DATASET_OPTION',
      message: 'labels.classes names "cat" twice (at 0 and 2): a label\'s index in classes is its class id, so each name must be there once',
      context: { column: 'name', duplicate: 'cat', indexes: [0, 2] },
    });
    await expect(tfjsDataset(t, { tf, features: 'id', labels: { column: 'name', classes: ['', 'dog', ''] } })).rejects.toMatchObject({
      code: 'BAD_DATASET_OPTION',
      message: expect.stringMatching(/^labels\.classes names "" \(empty string\) twice \(at 0 and 2\)/),
    });
  });

  it('is refused on a label column that is not a string column, naming the column and its type', async () => {
    for (const [column, type] of [['id', 'Int32'], ['y', 'Float64']]) {
      await expect(tfjsDataset(t, { tf, features: 'f', labels: { column, classes: ['0', '1', '2'] } })).rejects.toMatchObject({
        kind: 'InvalidArgument',
        code: 'BAD_DATASET_OPTION',
        message: `labels.classes is for string labels, but label column ${column} of ranges is ${type}: leave out \`classes\` for number labels (ints are class ids already), or have the \`transform\` put the names in a new column and name that one`,
        context: { table: 'ranges', column, type },
      });
    }
    // a label the transform adds has no column type: a value that is no string is refused when read
    const err = await readError({ features: 'id', labels: { column: 'kind', classes: ['0', '1'] }, transform: (row) => ({ ...row, kind: 1 }) }, [0]);
    expect(err.code).toBe('UNSUPPORTED_LABEL');
    expect(err.message).toMatch(new RegExp(`^${place(0, 'kind')}label 1 is a number, not a string: \`classes\` names string labels \\(leave it out for number labels\\)$`));
    // a string column with distinct classes: a label's index is its id
    expect(await firstValues({ features: 'id', labels: { column: 'name', classes: ['dog', 'cat', ''] } }, [0, 1, 2])).toEqual({ xs: [0, 1, 2], ys: [1, 2, 0] });
  });

  it('an empty-string label not in classes is shown as such', async () => {
    const err = await readError({ features: 'id', labels: { column: 'name', classes: ['cat', 'dog'] } }, [0, 1]);
    expect(err.code).toBe('UNKNOWN_LABEL');
    expect(err.message).toMatch(new RegExp(`^${place(1, 'name')}label "" \\(empty string\\) is not one of classes \\[cat, dog\\]$`));
    expect(quoteValue('')).toBe('"" (empty string)');
    // a string label without classes says the same
    const unsupported = await readError({ features: 'id', labels: 'y', transform: (row) => ({ ...row, y: '' }) }, [0]);
    expect(unsupported.code).toBe('UNSUPPORTED_LABEL');
    expect(unsupported.message).toMatch(new RegExp(`^${place(0, 'y')}label "" \\(empty string\\) is a string: give \`classes\`$`));
  });
});
