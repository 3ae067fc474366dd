/**
 * Commands run in-process (`run`): `table create --from` makes a table its own file imports into and
 * says a missing file as `import` does; an option taking one value given twice is refused; a Parquet
 * column that does not convert names the file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cliInProcess as cli } from './test-support/run-in-process.js';

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'lakesoul-cli-refusals-'));
}

describe('table create --from', () => {
  it('infers utf8 for integers beyond int64 and spellings the import refuses, so the file imports unrounded', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'o.csv'), 'id,order_no,addr,v,d\n1,18446744073709551615,0x52908400098527886E0F7030069857D2E4169EE7,1e400,0000-00-00\n2,12345678901234567891,0b101,1,2024-01-05\n');
    const created = await cli(dir, ['table', 'create', 'o', '--from', 'o.csv', '--primary-key', 'id']);
    expect(created.code, created.err).toBe(0);
    expect(created.out).toMatch(/order_no\s+utf8\n\s+addr\s+utf8\n\s+v\s+utf8\n\s+d\s+utf8/);
    const imported = await cli(dir, ['import', 'o', 'o.csv']);
    expect(imported.code, imported.err).toBe(0);
    expect((await cli(dir, ['scan', 'o', '--format', 'csv', '--columns', 'id,order_no'])).out.split('\n').sort().join('\n'))
      .toBe('\n1,18446744073709551615\n2,12345678901234567891\nid,order_no');
  });

  it('aligns the types of CJK column names in what it prints (names were padded by UTF-16 units, not columns)', async () => {
    const dir = scratch();
    const r = await cli(dir, ['table', 'create', 'w', '--schema', '编号:int64!,id:utf8,名前名前:int32']);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split('\n').filter((l) => / (int64|utf8|int32)/.test(l));
    // every type starts in the same terminal column: after 2 spaces, the widest name (8 columns) and 2 spaces
    expect(lines).toEqual(['  编号      int64 not null', '  id        utf8', '  名前名前  int32']);
  });

  it('a compressed file is refused before anything is made, saying how to read it (--format csv read its bytes as text)', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'x.csv.gz'), gzipSync('id\n1\n'));
    for (const args of [['table', 'create', 'g', '--from', 'x.csv.gz'], ['import', 'g', 'x.csv.gz', '--format', 'csv']]) {
      const r = await cli(dir, args);
      expect(r.code, args.join(' ')).toBe(4);
      expect(r.err).toMatch(/^error: x\.csv\.gz is compressed \(gz\): import \(and table create --from\) read it decompressed from standard input, -: zcat x\.csv\.gz \| .*lakesoul-ts .*import <table> - --format csv\n$/);
    }
  });

  it('says a missing file as import does (exit 3, where it looked)', async () => {
    const dir = scratch();
    const r = await cli(dir, ['table', 'create', 't', '--from', 'missing.csv']);
    expect([r.code, r.err]).toEqual([3, `error: input file not found: missing.csv (looked in ${dir})\n`]);
  });
});

describe('an option given twice', () => {
  it('is refused (exit 2) naming it, unless it repeats', async () => {
    const dir = scratch();
    const key = await cli(dir, ['table', 'create', 't', '--schema', 'id:int64!,d:date32', '--primary-key', 'id', '--primary-key', 'd']);
    expect([key.code, key.err.split('\n')[0]]).toEqual([2, "error: option '--primary-key <cols>' given twice ('id' and 'd'): it takes one comma-separated list: --primary-key id,d"]);
    const mode = await cli(dir, ['import', 't', 'x.csv', '--mode', 'append', '-m', 'upsert']);
    expect([mode.code, mode.err.split('\n')[0]]).toEqual([2, "error: option '-m, --mode <mode>' given twice ('append' and 'upsert'): give it once"]);
    // repeatable: still repeats
    const made = await cli(dir, ['table', 'create', 't', '--schema', 'id:int64!,d:date32', '--primary-key', 'id,d', '--property', 'a=1', '--property', 'b=2']);
    expect(made.code, made.err).toBe(0);
    // --json with the --format it means is taken
    const described = await cli(dir, ['table', 'describe', 't', '--json', '--format', 'json']);
    expect(JSON.parse(described.out)).toMatchObject({ primaryKeys: ['id', 'd'], properties: { a: '1', b: '2' } });
  });

  it('--json with a --format of another format is refused (exit 2) before the table is looked for', async () => {
    const dir = scratch();
    const history = await cli(dir, ['history', 'none', '--json', '--format', 'csv']);
    expect([history.code, history.out, history.err.split('\n')[0]]).toEqual([2, '', 'error: --json is --format jsonl, and --format csv says another format: give one of them']);
  });
});

describe('a Parquet import whose column type does not convert', () => {
  it('names the file, keeping exit 4', async () => {
    const dir = scratch();
    expect((await cli(dir, ['table', 'create', 'src', '--schema', 'id:int64!,v:int64'])).code).toBe(0);
    writeFileSync(join(dir, 'a.jsonl'), '{"id":1,"v":1}\n');
    expect((await cli(dir, ['import', 'src', 'a.jsonl'])).code).toBe(0);
    expect((await cli(dir, ['export', 'src', 'p.parquet'])).code).toBe(0);
    expect((await cli(dir, ['table', 'create', 't', '--schema', 'id:int64!,v:utf8'])).code).toBe(0);
    const r = await cli(dir, ['import', 't', 'p.parquet']);
    expect([r.code, r.err]).toEqual([4, expect.stringMatching(/^error: p\.parquet: column 'v' of table 't': cannot convert Int64 to Utf8 \(write the file's column with the table's type, or import the file into a table made from it: `.* table create <name> --from p\.parquet`\)\n$/)]);
  });
});

describe('null-typed columns in CSV', () => {
  it('scan and export write a null-typed cell as an empty field, which import reads back as null (it was "", an empty string import refused)', async () => {
    const dir = scratch();
    // the CLI's schema spec has no null type: the table is made with the library, on the home's catalog
    const { Lakehouse } = await import('@lakesoul-ts/io');
    const { Field, Int64, Null, Schema } = await import('apache-arrow');
    const schema = new Schema([new Field('id', new Int64(), false), new Field('c', new Null(), true)]);
    const lh = await Lakehouse.open({ catalog: { dataDir: join(dir, 'home', 'catalog') }, warehouse: pathToFileURL(join(dir, 'home', 'warehouse')).href });
    try {
      await (await lh.createTable('t', schema)).write([{ id: 1, c: null }, { id: 2, c: null }]);
      await lh.createTable('u', schema);
    } finally {
      await lh.close();
    }
    expect((await cli(dir, ['scan', 't', '--format', 'csv'])).out.split('\n').sort()).toEqual(['', '1,', '2,', 'id,c']);
    expect((await cli(dir, ['export', 't', 't.csv'])).code).toBe(0);
    const imported = await cli(dir, ['import', 'u', 't.csv']);
    expect(imported.code, imported.err).toBe(0);
    expect((await cli(dir, ['scan', 'u', '--format', 'jsonl'])).out.split('\n').filter(Boolean).sort()).toEqual(['{"id":1,"c":null}', '{"id":2,"c":null}']);
  });
});
