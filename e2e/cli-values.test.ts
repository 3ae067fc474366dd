/**
 * Exact values through the CLI (issue 13 §4): import and scan/export use io's one value codec, so
 * µs and ns timestamps, zones, int64 beyond 2^53 (JSONL too), decimals, NaN/±Infinity, binary and
 * nested values survive export -> import unchanged, in CSV and in JSONL; invalid UTF-8 is refused
 * naming file and line. Runs the spawned binary (packages/cli/dist/bin.js) on PGlite + local disk and
 * on PostgreSQL + the moto S3 server.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Binary, Bool, DateDay, Decimal, Field, FixedSizeList, Float32, Float64, Int64, List, Schema, Struct, TimeUnit, Timestamp, Utf8 } from 'apache-arrow';
import { arrowSchemaToJson } from '@lakesoul-ts/meta';
import { decodeParquet } from '@lakesoul-ts/io';
import { freshBucket, testEnv, uniqueName } from './cli-env.js';

interface Result { code: number; out: string; err: string }

const bin = resolve(import.meta.dirname, '../packages/cli/dist/bin.js');

function cli(args: string[]): Promise<Result> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => { p.kill('SIGKILL'); rej(new Error(`timeout: lakesoul-ts ${args.join(' ')}\n${err}`)); }, 90_000);
    p.on('close', (code) => { clearTimeout(timer); res({ code: code ?? -1, out, err }); });
  });
}

const schema = new Schema([
  new Field('id', new Int64(), false),
  new Field('big', new Int64(), true),
  new Field('f', new Float64(), true),
  new Field('f32', new Float32(), true),
  new Field('dec', new Decimal(6, 30, 128), true),
  new Field('s', new Utf8(), true),
  new Field('bin', new Binary(), true),
  new Field('ok', new Bool(), true),
  new Field('day', new DateDay(), true),
  new Field('us', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), true),
  new Field('ns', new Timestamp(TimeUnit.NANOSECOND, 'UTC'), true),
  new Field('zoned', new Timestamp(TimeUnit.MICROSECOND, '+08:00'), true),
  new Field('wall', new Timestamp(TimeUnit.MILLISECOND), true),
  new Field('xs', new List(new Field('item', new Int64(), true)), true),
  new Field('vec', new FixedSizeList(2, new Field('item', new Float32(), true)), true),
  new Field('p', new Struct([new Field('a', new Utf8(), true), new Field('t', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), true)]), true),
]);

/** Rows in JSONL as the CLI prints them: every value exact. */
const rows = [
  {
    id: 1, big: '9007199254740993', f: 'NaN', f32: 0.5, dec: '123456789012345678.123456', s: 'héllo, "world"\nline 2', bin: 'AAEC/w==', ok: true,
    day: '2024-02-29', us: '2024-01-01T00:00:00.123456Z', ns: '2024-01-01T00:00:00.123456789Z', zoned: '2024-01-01T08:00:00.000001+08:00',
    wall: '2024-03-10T02:30:00.500', xs: [1, '-9223372036854775808', null], vec: [1.5, -2], p: { a: 'x', t: '1969-12-31T23:59:59.999999Z' },
  },
  { id: 2, big: -5, f: 'Infinity', f32: null, dec: '-0.000001', s: '', bin: '', ok: false, day: null, us: null, ns: null, zoned: null, wall: null, xs: [], vec: null, p: null },
  { id: 3, big: null, f: '-Infinity', f32: -0, dec: null, s: null, bin: null, ok: null, day: '1900-01-01', us: '9999-12-31T23:59:59.999999Z', ns: '1677-09-21T00:12:43.145224192Z', zoned: null, wall: null, xs: null, vec: [0, 0], p: { a: null, t: null } },
];

const backends = [
  { name: 'embedded PGlite + local disk', setup: async (dir: string) => ['--home', join(dir, 'home')] },
  {
    name: 'PostgreSQL + S3 (moto)',
    setup: async () => ['--catalog', testEnv('LAKESOUL_TEST_PG_URL'), '--warehouse', `s3://${await freshBucket('cliv')}/warehouse`],
  },
];

describe.each(backends)('exact values through the lakesoul-ts binary on $name', ({ setup }) => {
  let dir: string;
  let g: string[];
  const ns = uniqueName('vals');
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-values-'));
    g = await setup(dir);
    expect((await cli([...g, 'init'])).code).toBe(0);
    expect((await cli([...g, 'ns', 'create', ns])).code).toBe(0);
  }, 300_000);

  async function createTable(name: string): Promise<void> {
    const file = join(dir, `${name}.schema.json`);
    writeFileSync(file, arrowSchemaToJson(schema));
    const r = await cli([...g, 'table', 'create', name, '-n', ns, '--schema', `@${file}`, '--primary-key', 'id']);
    expect(r.code, r.err).toBe(0);
  }

  it('JSONL import -> scan -> export (JSONL, CSV) -> import gives identical values for every type', async () => {
    await createTable('v1');
    const src = join(dir, 'v1.jsonl');
    writeFileSync(src, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    let r = await cli([...g, 'import', 'v1', src, '-n', ns]);
    expect(r.code, r.err).toBe(0);
    r = await cli([...g, 'scan', 'v1', '-n', ns, '--format', 'jsonl']);
    expect(r.code, r.err).toBe(0);
    const scanned = r.out.trim().split('\n').map((l) => JSON.parse(l)).sort((a, b) => a.id - b.id);
    // Every value as written (int64 within 2^53 as numbers, beyond as text; -0 prints as 0 in JSON).
    expect(scanned).toEqual(JSON.parse(JSON.stringify(rows)));
    expect(scanned[0].big).toBe('9007199254740993');
    expect(scanned[0].ns).toBe('2024-01-01T00:00:00.123456789Z');
    expect(scanned[0].f).toBe('NaN');

    for (const fmt of ['jsonl', 'csv'] as const) {
      const out = join(dir, `v1-export.${fmt}`);
      r = await cli([...g, 'export', 'v1', out, '-n', ns]);
      expect(r.code, r.err).toBe(0);
      const name = `v1_${fmt}`;
      await createTable(name);
      r = await cli([...g, 'import', name, out, '-n', ns]);
      expect(r.code, r.err).toBe(0);
      r = await cli([...g, 'export', name, join(dir, `${name}-again.${fmt}`), '-n', ns]);
      expect(r.code, r.err).toBe(0);
      const sortLines = (t: string) => t.trim().split('\n').sort();
      const again = readFileSync(join(dir, `${name}-again.${fmt}`), 'utf8');
      expect(sortLines(again), `${fmt} export -> import -> export is the identity`).toEqual(sortLines(readFileSync(out, 'utf8')));
      if (fmt === 'csv') {
        const text = readFileSync(out, 'utf8');
        expect(text).toContain(',NaN,');
        expect(text).toContain(',Infinity,');
        expect(text).toContain('2024-01-01T00:00:00.123456789Z');
        expect(text).toContain('9007199254740993');
      }
    }
  }, 600_000);

  it('a bare JSONL integer beyond 2^53 is stored exactly; lossy values and invalid UTF-8 are refused naming file and line', async () => {
    await createTable('v2');
    const src = join(dir, 'v2.jsonl');
    writeFileSync(src, '{"id":1,"big":9007199254740993,"dec":12345678901234567890.123456}\n');
    let r = await cli([...g, 'import', 'v2', src, '-n', ns]);
    expect(r.code, r.err).toBe(0);
    r = await cli([...g, 'scan', 'v2', '-n', ns, '--format', 'jsonl', '--columns', 'id,big,dec']);
    expect(JSON.parse(r.out.trim())).toEqual({ id: 1, big: '9007199254740993', dec: '12345678901234567890.123456' });

    const lossy = join(dir, 'lossy.csv');
    writeFileSync(lossy, 'id,us\n2,2024-01-01T00:00:00.1234567Z\n');
    r = await cli([...g, 'import', 'v2', lossy, '-n', ns]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/lossy\.csv:2: column 'us'.*more precision than the column's unit/);

    const bad = join(dir, 'latin1.csv');
    writeFileSync(bad, Buffer.concat([Buffer.from('id,s\n3,ok\n4,caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    r = await cli([...g, 'import', 'v2', bad, '-n', ns]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/latin1\.csv:3: invalid UTF-8/);
    const badj = join(dir, 'latin1.jsonl');
    writeFileSync(badj, Buffer.concat([Buffer.from('{"id":5,"s":"ok"}\n{"id":6,"s":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]));
    r = await cli([...g, 'import', 'v2', badj, '-n', ns]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/latin1\.jsonl:2: invalid UTF-8/);
    r = await cli([...g, 'scan', 'v2', '-n', ns, '--format', 'jsonl', '--columns', 'id']);
    expect(r.out.trim().split('\n').map((l) => JSON.parse(l).id), 'refused imports commit nothing').toEqual([1]);
  }, 600_000);

  it('checks every input file before importing any, and refuses a range column given twice in --partition', async () => {
    const ok = join(dir, 'ok.csv');
    writeFileSync(ok, 'id,p\n1,x\n2,y\n');
    let r = await cli([...g, 'table', 'create', 'twofiles', '--from', ok, '--partition-by', 'p', '-n', ns]);
    expect(r.code, r.err).toBe(0);
    r = await cli([...g, 'import', 'twofiles', ok, join(dir, 'missing.csv'), '-n', ns]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/input file not found: .*missing\.csv \(nothing was imported\)/);
    r = await cli([...g, 'history', 'twofiles', '-n', ns, '--format', 'json']);
    expect(JSON.parse(r.out)).toEqual([]);
    r = await cli([...g, 'import', 'twofiles', ok, '-n', ns]);
    expect(r.code, r.err).toBe(0);
    r = await cli([...g, 'scan', 'twofiles', '-n', ns, '-p', 'p=x', '-p', 'p=y', '--format', 'jsonl']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--partition names 'p' twice/);
  }, 600_000);

  it('JSONL: a file\'s columns are the keys of all its lines, whatever the batches; nested values infer lists and structs; duplicate CSV headers and empty files are refused', async () => {
    const w = (name: string, text: string) => { const f = join(dir, name); writeFileSync(f, text); return f; };
    let r = await cli([...g, 'table', 'create', 'sparse', '--schema', 'id:int64!,a:utf8,b:utf8', '--primary-key', 'id', '-n', ns]);
    expect(r.code, r.err).toBe(0);
    r = await cli([...g, 'import', 'sparse', w('s1.csv', 'id,a,b\n1,a1,b1\n2,a2,b2\n'), '-n', ns]);
    expect(r.code, r.err).toBe(0);
    // one line per batch: the later key and the missing one are the same columns in every batch
    r = await cli([...g, 'import', 'sparse', w('s2.jsonl', '{"id":3,"a":"A3"}\n{"id":2,"a":"A2"}\n{"id":4,"a":"A4","b":"late"}\n'), '--mode', 'upsert', '--batch-rows', '1', '-n', ns]);
    expect(r.code, r.err).toBe(0);
    r = await cli([...g, 'import', 'sparse', w('s3.jsonl', '{"id":1,"a":"only a"}\n'), '--mode', 'upsert', '-n', ns]);
    expect(r.code, r.err).toBe(0);
    r = await cli([...g, 'scan', 'sparse', '-n', ns, '--format', 'jsonl']);
    const rows = r.out.trim().split('\n').map((l) => JSON.parse(l)).sort((x, y) => x.id - y.id);
    // s3 names only a: b is kept (partial-column upsert); s2 names b on one line: the others have null
    expect(rows).toEqual([{ id: 1, a: 'only a', b: 'b1' }, { id: 2, a: 'A2', b: null }, { id: 3, a: 'A3', b: null }, { id: 4, a: 'A4', b: 'late' }]);

    const nested = w('nested.jsonl', '{"id":1,"tags":["a","b"],"pt":{"x":1.5,"y":2}}\n{"id":2,"tags":[],"pt":{"x":0,"y":null}}\n');
    r = await cli([...g, 'table', 'create', 'nested', '--from', nested, '-n', ns]);
    expect(r.code, r.err).toBe(0);
    r = await cli([...g, 'import', 'nested', nested, '-n', ns]);
    expect(r.code, r.err).toBe(0);
    r = await cli([...g, 'scan', 'nested', '-n', ns, '--format', 'jsonl']);
    expect(r.out.trim().split('\n').map((l) => JSON.parse(l)).sort((x, y) => x.id - y.id)).toEqual([
      { id: 1, tags: ['a', 'b'], pt: { x: 1.5, y: 2 } }, { id: 2, tags: [], pt: { x: 0, y: null } },
    ]);

    r = await cli([...g, 'import', 'sparse', w('dup.csv', 'id,a,a\n9,x,y\n'), '-n', ns]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/dup\.csv:1: the header names column 'a' twice/);
    // a very wide header: checked in linear time, and the error names a few columns and the count
    r = await cli([...g, 'import', 'sparse', w('wide.csv', `id,${Array.from({ length: 50_000 }, (_, i) => `c${i}`).join(',')}\n`), '-n', ns]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/wide\.csv: columns 'c0', 'c1', .*'c9' and 49990 more not in the table schema/);
    expect(r.err.length).toBeLessThan(2000);
    r = await cli([...g, 'table', 'create', 'nothing', '--from', w('empty.jsonl', ''), '-n', ns]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/empty\.jsonl: no column to infer a schema from/);
  }, 600_000);

  it('checks option values before any work: ports, versions, times, columns, delimiters, buckets; .tsv is split on tabs', async () => {
    expect((await cli([...g, 'table', 'create', 'opts', '--schema', 'id:int64!', '-n', ns])).code).toBe(0);
    const refusals: [string[], RegExp][] = [
      [['serve', '--port', '99999'], /option '--port <port>' argument '99999' is invalid/],
      [['serve', '--drain', 'abc'], /option '--drain <seconds>' argument 'abc' is invalid/],
      [['scan', 'opts', '-n', ns, '--version', '99999999999999999999'], /option '--version <n>' argument .* is invalid/],
      [['scan', 'opts', '-n', ns, '--timestamp', '2024-02-30T00:00:00Z'], /day 30 is not in month 2024-02/],
      [['scan', 'opts', '-n', ns, '--timestamp', '99999999999999999'], /beyond the last time a date can hold/],
      [['scan', 'opts', '-n', ns, '--columns', ''], /--columns '': name the columns/],
      [['import', 'opts', join(dir, 'x.csv'), '-n', ns, '--delimiter', ';;'], /option '--delimiter <c>' argument ';;' is invalid/],
      [['import', 'opts', join(dir, 'x.csv'), '-n', ns, '--batch-rows', '0'], /option '--batch-rows <n>' argument '0' is invalid/],
      [['table', 'create', 'nokey', '--schema', 'id:int64', '--buckets', '4', '-n', ns], /--buckets needs --primary-key/],
    ];
    let r0;
    for (const [args, re] of refusals) {
      const r = await cli([...g, ...args]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.err, args.join(' ')).toMatch(re);
    }
    r0 = await cli([...g, 'import', 'pets', join(dir, 'no-such-folder'), '--format', 'images', '-n', ns]);
    expect([r0.code, r0.err]).toEqual([3, expect.stringMatching(/no-such-folder is not found: --format images imports a folder/)]);
    const home = join(dir, 'a-file-home');
    writeFileSync(home, '');
    r0 = await cli(['--home', home, 'table', 'list']);
    expect([r0.code, r0.err]).toEqual([4, expect.stringMatching(/the home .*a-file-home is a file/)]);
    // A home where directories cannot be made: /proc/x made Node's recursive mkdir spin forever
    // (the command never ended); a read-only parent gave a bare EACCES.
    r0 = await cli(['--home', '/proc/lakesoul-home', 'table', 'list']);
    expect([r0.code, r0.err]).toEqual([4, expect.stringMatching(/cannot use \/proc\/lakesoul-home\/catalog for the embedded catalog: .*--home/)]);
    r0 = await cli(['--catalog', join(home, 'catalog'), 'table', 'list']);
    expect([r0.code, r0.err]).toEqual([4, expect.stringMatching(/cannot use .*a-file-home\/catalog for the embedded catalog: ENOTDIR.*--catalog/)]);
    const tsv = join(dir, 'tab.tsv');
    writeFileSync(tsv, 'id\tname\n1\tone, with a comma\n');
    let r = await cli([...g, 'table', 'create', 'tabbed', '--from', tsv, '-n', ns]);
    expect(r.code, r.err).toBe(0);
    r = await cli([...g, 'import', 'tabbed', tsv, '-n', ns]);
    expect(r.code, r.err).toBe(0);
    r = await cli([...g, 'scan', 'tabbed', '-n', ns, '--format', 'jsonl']);
    expect(JSON.parse(r.out.trim())).toEqual({ id: 1, name: 'one, with a comma' });
    // A home whose path has a space: the default warehouse URL is percent-encoded, and the tables went
    // to a sibling directory literally named `sp%20ace é` (outside the home, unread by LakeSoul).
    const spaced = join(dir, 'sp ace é');
    r = await cli(['--home', spaced, 'table', 'create', 'tabbed', '--from', tsv]);
    expect(r.code, r.err).toBe(0);
    r = await cli(['--home', spaced, 'import', 'tabbed', tsv]);
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(join(spaced, 'warehouse', 'default', 'tabbed')).some((f) => f.endsWith('.parquet'))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('%'))).toEqual([]);
  }, 600_000);

  it('--partition takes a typed value as a person writes it (x=1.0, a time with a zone), not only the stored spelling', async () => {
    const f = join(dir, 'typed.csv');
    writeFileSync(f, 'id,x,t\n1,1.0,2024-01-02T08:00:00Z\n2,2.5,2024-01-02T09:00:00Z\n');
    let r = await cli([...g, 'table', 'create', 'typedparts', '--schema', 'id:int64!,x:float64,t:timestamp(us,UTC)', '--partition-by', 'x,t', '-n', ns]);
    expect(r.code, r.err).toBe(0);
    r = await cli([...g, 'import', 'typedparts', f, '-n', ns]);
    expect(r.code, r.err).toBe(0);
    r = await cli([...g, 'scan', 'typedparts', '-n', ns, '-p', 'x=1.0', '--format', 'jsonl', '--columns', 'id']);
    expect(r.out.trim(), r.err).toBe('{"id":1}');
    r = await cli([...g, 'scan', 'typedparts', '-n', ns, '-p', 't=2024-01-02T10:00:00+01:00', '--format', 'jsonl', '--columns', 'id']);
    expect(r.out.trim(), r.err).toBe('{"id":2}');
    r = await cli([...g, 'scan', 'typedparts', '-n', ns, '-p', 'x=abc']);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/--partition x=abc: not a value of the column's type Float64/);
    // history finds a partition the same way (it compared the text: x=1.0 was an empty history, exit 0),
    // also from the description it prints, pasted into scan
    r = await cli([...g, 'history', 'typedparts', '-n', ns, '-p', 'x=1.0', '-p', 't=2024-01-02T08:00:00Z', '--format', 'jsonl']);
    const [commit] = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(commit.versions, r.err).toEqual([{ partition: 'x=1,t=2024-01-02T08:00:00.000000', version: 0 }]);
    r = await cli([...g, 'scan', 'typedparts', '-n', ns, '-p', commit.versions[0].partition, '--format', 'jsonl', '--columns', 'id']);
    expect(r.out.trim(), r.err).toBe('{"id":1}');
    const one = await cli([...g, 'history', 'typedparts', '-n', ns, '-p', 'x=1.0', '--format', 'jsonl']);
    expect(JSON.parse(one.out).versions, 'the values of some range columns, when they select one partition').toEqual(commit.versions);
  }, 600_000);

  it("--partition takes the catalog's spelling of a null or empty range value, as history prints it", async () => {
    const f = join(dir, 'nullparts.jsonl');
    writeFileSync(f, '{"id":1,"s":null}\n{"id":2,"s":""}\n{"id":3,"s":"x"}\n');
    let r = await cli([...g, 'table', 'create', 'nullparts', '--schema', 'id:int64!,s:utf8', '--partition-by', 's', '-n', ns]);
    expect(r.code, r.err).toBe(0);
    expect((await cli([...g, 'import', 'nullparts', f, '-n', ns])).code).toBe(0);
    r = await cli([...g, 'history', 'nullparts', '-n', ns, '-p', 's=__L@KE$OUL_NULL__', '--format', 'jsonl']);
    expect(JSON.parse(r.out).versions, r.err).toEqual([{ partition: 's=__L@KE$OUL_NULL__', version: 0 }]);
    r = await cli([...g, 'scan', 'nullparts', '-n', ns, '-p', 's=__L@KE$OUL_EMPTY_STRING__', '--format', 'jsonl']);
    expect(r.out.trim(), r.err).toBe('{"id":2,"s":""}');
  }, 600_000);

  it('infers int64 for 19-digit integers (float64 rounded them), and exports an empty result as a Parquet file with the schema', async () => {
    const src = join(dir, 'wide.csv');
    writeFileSync(src, 'id,big\n1,1234567890123456789\n2,9223372036854775807\n3,-9223372036854775808\n');
    let r = await cli([...g, 'table', 'create', 'wide', '--from', src, '-n', ns]);
    expect(r.code, r.err).toBe(0);
    r = await cli([...g, 'import', 'wide', src, '-n', ns]);
    expect(r.code, r.err).toBe(0);
    r = await cli([...g, 'scan', 'wide', '-n', ns, '--format', 'csv']);
    expect(r.out.trim().split('\n').sort()).toEqual(['1,1234567890123456789', '2,9223372036854775807', '3,-9223372036854775808', 'id,big'].sort());
    const empty = join(dir, 'none.parquet');
    r = await cli([...g, 'export', 'wide', empty, '-n', ns, '--filter', 'id > 100']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/exported 0 rows/);
    const t = await decodeParquet(new Uint8Array(readFileSync(empty)));
    expect([t.numRows, t.schema.fields.map((f) => `${f.name}:${f.type}`)]).toEqual([0, ['id:Int64', 'big:Int64']]);
  }, 600_000);

  it('a Parquet import reads the footer and then a few row groups at a time: a table is made from a file whose rows cannot be decoded, and their import names the file', async () => {
    // `table create --from` decoded the whole file to learn its schema (1.3 GB for 20M rows), and
    // `import` read the whole file into memory first (1.9 GB for a 300 MB file)
    const src = join(dir, 'groups.parquet');
    const py = `import pyarrow as pa, pyarrow.parquet as pq
n = 120000
t = pa.table({'id': pa.array(range(n), pa.int64()), 'name': pa.array([None if i % 7 == 0 else 'n%d' % (i % 500) for i in range(n)]), 'score': pa.array([i / 3 for i in range(n)])})
pq.write_table(t, ${JSON.stringify(src)}, row_group_size=25000)`;
    const made = spawnSync(testEnv('LAKESOUL_TEST_PYTHON'), ['-c', py], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    let r = await cli([...g, 'table', 'create', 'groups', '--from', src, '-n', ns]);
    expect(r.code, r.err).toBe(0);
    r = await cli([...g, 'import', 'groups', src, '-n', ns]);
    expect(r.code, r.err).toBe(0);
    const rows = (await cli([...g, 'scan', 'groups', '-n', ns, '--format', 'jsonl'])).out.trim().split('\n').map((l) => JSON.parse(l) as { id: number; name: string | null; score: number });
    expect(rows).toHaveLength(120000);
    expect(rows.reduce((a, x) => a + x.id, 0)).toBe((120000 * 119999) / 2);
    expect(rows.filter((x) => x.name === null)).toHaveLength(Math.ceil(120000 / 7));
    expect(rows.find((x) => x.id === 100001)).toEqual({ id: 100001, name: 'n1', score: 100001 / 3 });
    // the middle row group's bytes destroyed, the footer intact
    const bytes = readFileSync(src);
    const footerLength = bytes.readUInt32LE(bytes.length - 8);
    const dataEnd = bytes.length - 8 - footerLength;
    bytes.fill(0xff, Math.floor(dataEnd * 0.45), Math.floor(dataEnd * 0.55));
    const broken = join(dir, 'broken.parquet');
    writeFileSync(broken, bytes);
    r = await cli([...g, 'table', 'create', 'broken', '--from', broken, '-n', ns]);
    expect(r.code, r.err).toBe(0);
    r = await cli([...g, 'table', 'describe', 'broken', '-n', ns]);
    expect(r.out).toMatch(/id\s+int64/);
    r = await cli([...g, 'import', 'broken', broken, '-n', ns]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(`could not decode Parquet file '${broken}'`);
    expect((await cli([...g, 'scan', 'broken', '-n', ns, '--format', 'jsonl'])).out.trim()).toBe('');
    // 100 KB cut out of the middle: the footer names bytes past the end of the file
    const cut = join(dir, 'cut.parquet');
    writeFileSync(cut, Buffer.concat([bytes.subarray(0, Math.floor(dataEnd * 0.4)), bytes.subarray(Math.floor(dataEnd * 0.4) + 100_000)]));
    r = await cli([...g, 'import', 'broken', cut, '-n', ns]);
    expect(r.code).toBe(4);
    expect(r.err).toContain(`${cut}: not a readable Parquet file (its footer names bytes `);
    expect(r.err).toMatch(/ of a \d+-byte file\)/);
  }, 600_000);

  it('the table format shows control characters of values as escapes; the data formats keep them exactly', async () => {
    // a stored ESC sequence set the terminal's title and cleared the screen; newlines broke the rows
    const src = join(dir, 'controls.jsonl');
    const value = 'a\u001b]0;pwned\u0007\u001b[2Jb\r\nc\tt\u009bx';
    writeFileSync(src, JSON.stringify({ id: 1, v: value }) + '\n');
    let r = await cli([...g, 'table', 'create', 'controls', '--schema', 'id:int64!,v:utf8', '-n', ns]);
    expect(r.code, r.err).toBe(0);
    expect((await cli([...g, 'import', 'controls', src, '-n', ns])).code).toBe(0);
    r = await cli([...g, 'scan', 'controls', '-n', ns]);
    // eslint-disable-next-line no-control-regex
    expect(r.out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(r.out.trim().split('\n')).toHaveLength(3);
    expect(r.out).toContain('a\\x1b]0;pwned\\x07\\x1b[2Jb\\r\\nc\\tt\\u009bx');
    r = await cli([...g, 'scan', 'controls', '-n', ns, '--format', 'jsonl']);
    expect(JSON.parse(r.out).v).toBe(value);
  });

  it('prints -0.0 as -0 in every format, so a CSV or JSONL export imports back exactly (JSON.stringify wrote 0)', async () => {
    const src = join(dir, 'zeros.csv');
    writeFileSync(src, 'id,f\n1,-0\n2,0\n3,-1.5\n');
    let r = await cli([...g, 'table', 'create', 'zeros', '--schema', 'id:int64!,f:float64', '-n', ns]);
    expect(r.code, r.err).toBe(0);
    expect((await cli([...g, 'import', 'zeros', src, '-n', ns])).code).toBe(0);
    r = await cli([...g, 'scan', 'zeros', '-n', ns, '--format', 'csv']);
    expect(r.out.trim().split('\n').sort()).toEqual(['1,-0', '2,0', '3,-1.5', 'id,f']);
    r = await cli([...g, 'scan', 'zeros', '-n', ns, '--format', 'jsonl']);
    const rows = r.out.trim().split('\n').map((l) => JSON.parse(l) as { id: number; f: number }).sort((a, b) => a.id - b.id);
    expect(Object.is(rows[0]!.f, -0)).toBe(true);
    expect(Object.is(rows[1]!.f, 0)).toBe(true);
    expect((await cli([...g, 'scan', 'zeros', '-n', ns])).out).toMatch(/\b1\s+-0\b/);
    // export, import into a fresh table, and the sign is still there
    const out = join(dir, 'zeros.jsonl');
    expect((await cli([...g, 'export', 'zeros', out, '-n', ns])).code).toBe(0);
    expect((await cli([...g, 'table', 'create', 'zeros2', '--schema', 'id:int64!,f:float64', '-n', ns])).code).toBe(0);
    expect((await cli([...g, 'import', 'zeros2', out, '-n', ns])).code).toBe(0);
    r = await cli([...g, 'scan', 'zeros2', '-n', ns, '--format', 'csv', '--filter', 'id = 1']);
    expect(r.out.trim().split('\n')).toEqual(['id,f', '1,-0']);
  }, 600_000);
});
