/**
 * Table paths the wheel (LakeSoul-Python 2.0.0) stores percent-encoded (`file:///w/my%20lake` for
 * the directory `/w/my lake`, where its native IO writes) take that directory from this project's
 * createTable too: the other spelling is TABLE_PATH_EXISTS, a path inside it TABLE_PATH_OVERLAP
 * (hunt g H1: the second table was created, and its cleanup deleted the wheel table's live files).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int64, Schema } from 'apache-arrow';
import { Catalog, LakeSoulError } from '@lakesoul-ts/meta';
import { interopEnv, lakesoulPy, type InteropEnv } from './interop-env.js';

describe('table path spellings of LakeSoul-Python 2.0.0', () => {
  let env: InteropEnv;
  let catalog: Catalog;
  const suffix = randomBytes(4).toString('hex');

  beforeAll(async () => {
    env = interopEnv();
    catalog = await Catalog.open({ url: env.pgUrl });
  });
  afterAll(async () => {
    await catalog?.close();
  });

  it.each([['my lake', 'my lake'], ['café', 'caf%C3%A9']])('a wheel table at "%s" keeps its directory from both spellings', async (dir, encoded) => {
    const base = `file:///tmp/lakesoul-interop-spelling-${suffix}-${encoded.length}`;
    const made = await lakesoulPy(env, 'create', { name: `wl_${suffix}_${encoded.length}`, path: `${base}/${dir}`, schema: [['id', 'int64']] }) as { path: string };
    // the wheel stores the path percent-encoded
    expect(made.path).toBe(`${base}/${encodeURI(dir)}`);
    const schema = new Schema([new Field('id', new Int64(), true)]);
    for (const [path, code] of [[`${base}/${dir}`, 'TABLE_PATH_EXISTS'], [`${base}/${encodeURI(dir)}`, 'TABLE_PATH_EXISTS'], [`${base}/${dir}/sub`, 'TABLE_PATH_OVERLAP']] as const) {
      const e = await catalog.createTable({ name: `tsl_${randomBytes(4).toString('hex')}`, path, schema }).then(() => undefined, (x: unknown) => x);
      expect(e, path).toBeInstanceOf(LakeSoulError);
      expect((e as LakeSoulError).code, path).toBe(code);
    }
  });
});
