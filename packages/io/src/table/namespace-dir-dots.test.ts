/**
 * A table's explicit path must not be its namespace's directory (`<warehouse>/<namespace>`) nor hold
 * it, where namespaces may hold '.': the namespace is the table's, never the qualified name's text
 * before its first '.'.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Int32, Schema } from 'apache-arrow';
import { Lakehouse, toFileUri } from '../index.js';

const schema = new Schema([new Field('id', new Int32(), false)]);

describe('namespace directories of namespaces with a dot', () => {
  let dir: string;
  let wh: string;
  let lh: Lakehouse;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ns-dots-'));
    wh = toFileUri(dir);
    lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: wh });
  });

  afterAll(async () => {
    await lh?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a table of namespace 'q.r' at '<warehouse>/q.r', which then keeps taking tables at their default paths", async () => {
    await expect(lh.createTable('t', schema, { namespace: 'q.r', path: `${wh}/q.r` })).rejects.toMatchObject({
      code: 'TABLE_PATH_OVERLAP',
      context: { table: 'q.r.t', namespace: 'q.r' },
    });
    const inner = await lh.createTable('inner', schema, { namespace: 'q.r' });
    expect(inner.info.path).toBe(`${wh}/q.r/inner`);
  });

  it("takes a table of namespace 'a.b' at '<warehouse>/a' (no namespace 'a')", async () => {
    const t = await lh.createTable('t', schema, { namespace: 'a.b', path: `${wh}/a` });
    expect(t.info.path).toBe(`${wh}/a`);
    await expect(lh.createTable('u', schema, { namespace: 'a.b', path: `${wh}/a.b` })).rejects.toMatchObject({ code: 'TABLE_PATH_OVERLAP' });
  });

});
