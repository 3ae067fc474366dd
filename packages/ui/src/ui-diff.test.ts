/** The diff's pure steps: how rows compare. */
import { describe, expect, it } from 'vitest';
import { DiffBuilder, MAX_DIFF_LIST, compareAsBags, compareByKey, pkText, type DiffRow, type RowObject } from './ui-diff.js';
import { cellJson, exactText } from './ui-values.js';
import { Duration, FixedSizeBinary, Int64, TimeUnit } from 'apache-arrow';

/** A diff row whose exact values are its cells (for values shown whole). */
const row = (cells: RowObject): DiffRow => ({ cells, exact: Object.fromEntries(Object.entries(cells).map(([k, v]) => [k, exactText(v)])) });
const rows = (list: RowObject[]) => list.map(row);

describe('comparing rows', () => {
  it('by key: added, deleted, changed with the columns that differ, unchanged only for keys of an increment', () => {
    const before = rows([{ id: 1, v: 'a' }, { id: 2, v: 'b' }, { id: 3, v: 'c' }]);
    const after = rows([{ id: 2, v: 'B' }, { id: 3, v: 'c' }, { id: 4, v: 'd' }]);
    const all = new DiffBuilder(0, 1, ['id'], ['id', 'v'], {});
    compareByKey(all, ['id'], before, after, null);
    expect(all.result.counts).toEqual({ added: 1, changed: 1, deleted: 1, unchanged: 0 });
    expect(all.result.changed).toEqual([{ key: { id: 2 }, before: { id: 2, v: 'b' }, after: { id: 2, v: 'B' }, columns: ['v'] }]);
    const inc = new DiffBuilder(0, 1, ['id'], ['id', 'v'], {});
    compareByKey(inc, ['id'], before, after, new Set([pkText(['id'], row({ id: 3 }))]));
    expect(inc.result.counts).toEqual({ added: 0, changed: 0, deleted: 0, unchanged: 1 });
  });

  it('by exact values, not the cells shown: equal text of different values is a change, and two keys', () => {
    const shown = { id: 1, v: '<3 bytes>' };
    const before = [{ cells: shown, exact: { id: '1', v: '"AQID"' } }, { cells: { id: 1, v: 'x' }, exact: { id: '2', v: '"x"' } }];
    const after = [{ cells: shown, exact: { id: '1', v: '"BwcH"' } }, { cells: { id: 1, v: 'x' }, exact: { id: '2', v: '"x"' } }];
    const d = new DiffBuilder(0, 1, ['id'], ['id', 'v'], {});
    compareByKey(d, ['id'], before, after, null);
    expect(d.result.counts).toEqual({ added: 0, changed: 1, deleted: 0, unchanged: 0 });
    expect(d.result.changed[0]!.columns).toEqual(['v']);
    const bags = new DiffBuilder(0, 1, [], ['id', 'v'], {});
    compareAsBags(bags, before, after);
    expect(bags.result.counts).toMatchObject({ added: 1, deleted: 1 });
  });

  it('as multisets: duplicates count', () => {
    const d = new DiffBuilder(0, 1, [], ['n'], {});
    compareAsBags(d, rows([{ n: 1 }, { n: 1 }, { n: 2 }]), rows([{ n: 1 }, { n: 2 }, { n: 2 }, { n: 3 }]));
    expect(d.result.deleted).toEqual([{ n: 1 }]);
    expect(d.result.added).toEqual([{ n: 2 }, { n: 3 }]);
  });

  it('lists stop at the limit, counts do not', () => {
    const d = new DiffBuilder(0, 1, [], ['n'], {});
    compareAsBags(d, [], Array.from({ length: MAX_DIFF_LIST + 5 }, (_, n) => row({ n })));
    expect(d.result.counts.added).toBe(MAX_DIFF_LIST + 5);
    expect(d.result.added).toHaveLength(MAX_DIFF_LIST);
    expect(d.result.truncated).toBe(true);
  });
  it('cells of types without a case of their own show the value, not JSON text of it', () => {
    expect(cellJson(1n, new Duration(TimeUnit.SECOND))).toBe(1);
    expect(cellJson(2n ** 60n, new Duration(TimeUnit.SECOND))).toBe('1152921504606846976');
    expect(cellJson(Uint8Array.of(1, 2), new FixedSizeBinary(2))).toBe('AQI=');
    expect(cellJson(2n ** 60n, new Int64())).toBe('1152921504606846976');
  });

  it('an identity tells -0 from 0 nested too', () => {
    expect(exactText([-0, 1])).not.toBe(exactText([0, 1]));
    expect(exactText({ a: -0 })).not.toBe(exactText({ a: 0 }));
    expect(exactText(-0)).not.toBe(exactText(0));
  });
});
