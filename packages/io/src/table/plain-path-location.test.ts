// A table path or warehouse given as a plain local path skipped storedLocation's checks: '/x/c#1'
// was created at file:///x/c#1 (LakeSoul's engines read '#1' as a fragment: the directory '/x/c'),
// '/x/x%41' wrote into the literal 'x%41' (the engines read 'xA'), and a warehouse '/x/pw%41/wh' was
// made file:///x/pw%41/wh and then decoded: tables went to '/x/pwA/wh', a directory nobody named.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int64, Schema, tableFromArrays } from 'apache-arrow';
import { storedLocation } from './data-file-paths.js';
import { Lakehouse } from './lakehouse.js';

const stored = (p: string) => storedLocation(p, 'path', 'INVALID_TABLE_PATH');
const refusal = (p: string) => {
  try {
    stored(p);
  } catch (e) {
    return e as Error & { code?: string; context?: Record<string, unknown> };
  }
  throw new Error(`'${p}' was not refused`);
};

describe('storedLocation of a plain local path', () => {
  it('refuses what its file: URL is refused for, naming the path as given', () => {
    for (const [path, what] of [['/x/c#1', '"#"'], ['/x/q?a=1', '"?"'], ['/x/tab\there', '"\\t"'], ['/x/nl\nhere', '"\\n"'], ['/x/back\\slash', '"\\\\"']]) {
      const e = refusal(path);
      expect(e.code, path).toBe('INVALID_TABLE_PATH');
      expect(e.message, path).toContain(`path '${path}' holds ${what}`);
      expect(e.message, path).toContain("LakeSoul's engines read stored paths as URLs");
      expect(e.context, path).toEqual({ path });
    }
    // the file: URL spellings of the same directories are refused the same way
    for (const path of ['/x/c#1', '/x/q?a=1', '/x/x%41']) expect(() => stored(pathToFileURL(path).href), path).toThrow(expect.objectContaining({ code: 'INVALID_TABLE_PATH' }));
  });

  it("refuses a '%XX' escape, which LakeSoul's engines decode, saying what they would read", () => {
    const e = refusal('/x/x%41/t');
    expect(e.code).toBe('INVALID_TABLE_PATH');
    expect(e.message).toContain(`path '/x/x%41/t' holds "%41", a URL escape (read as a URL, '/x/x%41/t' is '/x/xA/t')`);
    expect(refusal('/x/my%20lake').message).toContain("is '/x/my lake'");
  });

  it('refuses a space or control character at either end (URL parsing trims it)', () => {
    for (const path of ['/x/t ', '/x/t\u0001']) {
      expect(refusal(path).message, JSON.stringify(path)).toContain('begins or ends with a space or control character');
    }
  });

  it('keeps spaces, non-ASCII letters and a % without two hex digits, stored as file:// and the path', () => {
    expect(stored('/x/my lake é/t')).toBe('file:///x/my lake é/t');
    expect(stored('/x/50%/t')).toBe('file:///x/50%/t');
    expect(stored('/x/%zz')).toBe('file:///x/%zz');
    expect(stored('/x/a+b,c;d=e@f')).toBe('file:///x/a+b,c;d=e@f');
    // the same directory as its file: URL names
    expect(stored('/x/my lake é/t')).toBe(stored(pathToFileURL('/x/my lake é/t').href));
    // `//`, `.` and `..` are the file system's: applied
    expect(stored('/x//y/./z/../t')).toBe('file:///x/y/t');
    // a relative path is the caller's to resolve (the catalog refuses it)
    expect(stored('rel/t')).toBe('rel/t');
  });
});

describe('plain paths through the API', () => {
  const schema = new Schema([new Field('id', new Int64(), false)]);
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'plain-path-')); });
  afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

  it("Lakehouse.open refuses a warehouse path holding '%XX' (it was decoded: tables went elsewhere), naming it", async () => {
    const warehouse = join(dir, 'pw%41', 'wh');
    const e = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse }).then(() => null, (x: unknown) => x as Error & { code?: string });
    expect(e).toMatchObject({ kind: 'InvalidArgument', code: 'INVALID_WAREHOUSE' });
    expect(e!.message).toContain(`warehouse '${warehouse}' holds "%41"`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('createTable refuses such a path, creating nothing, and takes a spaced non-ASCII one at that very directory', async () => {
    const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: join(dir, 'wh') });
    try {
      expect(lh.warehouse).toBe(`file://${dir}/wh`);
      for (const path of [join(dir, 'c#1'), join(dir, 'x%41'), join(dir, 'q?1')]) {
        const e = await lh.createTable('bad', schema, { path }).then(() => null, (x: unknown) => x as Error);
        expect(e, path).toMatchObject({ kind: 'InvalidArgument', code: 'INVALID_TABLE_PATH' });
        expect(e!.message, path).toContain(`path '${path}' holds`);
      }
      expect(await lh.listTables()).toEqual([]);
      const path = join(dir, 'my lake é', 't');
      const t = await lh.createTable('good', tableFromArrays({ id: BigInt64Array.from([1n]) }), { path });
      expect(t.info.path).toBe(`file://${path}`);
      expect(readdirSync(dir).sort()).toEqual(['my lake é']);
      expect(readdirSync(path).some((f) => f.endsWith('.parquet'))).toBe(true);
    } finally {
      await lh.close();
    }
  });
});

it("a file: URL of a directory holding '%XX' (the CLI's --warehouse /x/pw%41 made a URL) names that directory and what the engines read", () => {
  const e = (() => { try { storedLocation(pathToFileURL('/x/pw%41/wh').href, 'warehouse', 'INVALID_WAREHOUSE'); } catch (x) { return x as Error & { code?: string }; } return null; })();
  expect(e?.code).toBe('INVALID_WAREHOUSE');
  expect(e?.message).toContain(`holds a '%' escape once decoded ("file:///x/pw%41/wh": the directory '/x/pw%41/wh', which, read as a URL, is '/x/pwA/wh')`);
});
