/**
 * A partition selector's range value `undefined` (a missing property: `{ p: row.p }` of a row
 * without one) is refused, naming the column and the table, where `null` selects the null partition:
 * it used to select the null partition, so a misspelt selector dropped or replaced it. deleteByKeys
 * keeps its documented meaning of `undefined` ("not given": every partition).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Int64, Schema, Utf8 } from 'apache-arrow';
import { Lakehouse, toFileUri, type LakeSoulTable } from '../index.js';

const schema = new Schema([new Field('id', new Int64(), false), new Field('p', new Utf8(), true), new Field('q', new Utf8(), true), new Field('v', new Utf8(), true)]);
const base = [{ id: 1, p: 'a', q: 'x', v: '1' }, { id: 2, p: null, q: 'x', v: '2' }, { id: 3, p: 'b', q: null, v: '3' }];

describe('partition selectors with undefined range values', () => {
  let dir: string;
  let lh: Lakehouse;
  let n = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'partition-undefined-'));
    lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(dir) });
  });

  afterAll(async () => {
    await lh?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function fresh(): Promise<LakeSoulTable> {
    const t = await lh.createTable(`t${n++}`, schema, { namespace: 'ns', rangePartitions: ['p', 'q'], primaryKeys: ['id'], hashBucketNum: 1 });
    await t.write(base);
    return t;
  }
  const ids = async (t: LakeSoulTable, partitions?: Record<string, string | null>) =>
    (await t.toArrow(partitions ? { partitions } : {})).toArray().map((r) => Number(r.id)).sort();
  const refused = (table: string) => ({
    name: 'LakeSoulError',
    kind: 'InvalidArgument',
    code: 'INVALID_PARTITION',
    context: expect.objectContaining({ table: `ns.${table}`, column: 'p' }),
    message: expect.stringMatching(new RegExp(`ns\\.${table}.*'p'.*use null for the null partition`)),
  });

  it('refuses undefined in a read selection; null selects the null partition', async () => {
    const t = await fresh();
    const name = t.info.name;
    await expect(t.toArrow({ partitions: { p: undefined as unknown as null } })).rejects.toMatchObject(refused(name));
    await expect(t.toArrow({ partitions: { p: undefined as unknown as null, q: 'x' } })).rejects.toMatchObject(refused(name));
    expect(await ids(t, { p: null })).toEqual([2]);
    expect(await ids(t, { q: 'x' })).toEqual([1, 2]);
  });

  it('refuses undefined in dropPartitions and compact, leaving every partition', async () => {
    const t = await fresh();
    await expect(t.dropPartitions({ p: undefined as unknown as null })).rejects.toMatchObject(refused(t.info.name));
    await expect(t.dropPartitions({ p: undefined as unknown as null, q: 'x' })).rejects.toMatchObject(refused(t.info.name));
    await expect(t.compact({ partitions: { p: undefined as unknown as null } })).rejects.toMatchObject(refused(t.info.name));
    expect(await ids(t)).toEqual([1, 2, 3]);
    await t.dropPartitions({ p: null });
    expect(await ids(t)).toEqual([1, 3]);
  });

  it('refuses undefined in replacePartitions, leaving the null partition', async () => {
    const t = await fresh();
    await expect(t.write([], { mode: 'overwrite', replacePartitions: { p: undefined as unknown as null } })).rejects.toMatchObject(refused(t.info.name));
    expect(await ids(t)).toEqual([1, 2, 3]);
    await t.write([], { mode: 'overwrite', replacePartitions: { p: null, q: 'x' } });
    expect(await ids(t)).toEqual([1, 3]);
  });

  it('deleteByKeys still takes an undefined range value as not given', async () => {
    const t = await fresh();
    await t.deleteByKeys([{ id: 2, p: undefined }]);
    await t.deleteByKeys([{ id: 3, p: undefined, q: undefined }]);
    expect(await ids(t)).toEqual([1]);
  });
});
