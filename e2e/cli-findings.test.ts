/**
 * What a new user ran into with the real `lakesoul-ts` binary, each checked as that user runs it: the
 * binary as a subprocess with a timeout, from an empty directory (the embedded catalog and a local
 * warehouse under it), without the background catalog server unless the case is about it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Schema } from 'apache-arrow';
import { Lakehouse } from '@lakesoul-ts/io';
import { CopyObjectCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { freshBucket, testEnv } from './cli-env.js';
import { DIST_BIN, runCli, type CliResult } from './cli-run.js';

/** A fresh empty working directory. */
function emptyDir(): string {
  return mkdtempSync(join(tmpdir(), 'lakesoul-cli-findings-'));
}

/** Runs the binary in `cwd` (its home is `cwd/.lakesoul`), the background catalog server off. */
function cli(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(args, { cwd, timeoutMs: 60_000, env: { LAKESOUL_CATALOG_SERVER: 'off', ...env } });
}

async function ok(cwd: string, args: string[]): Promise<CliResult> {
  const r = await cli(cwd, args);
  expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(0);
  return r;
}

describe('table create and init refuse what the table API would refuse later', () => {
  it('an empty schema from @file is refused as --schema "" is (F3)', async () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 's.json'), '[]\n');
    const r = await cli(dir, ['table', 'create', 'z', '--schema', '@s.json']);
    expect(r.code, r.out).toBe(4);
    expect(r.err).toMatch(/the schema file s\.json lists no column: a schema is needed/);
    const empty = await cli(dir, ['table', 'create', 'y', '--schema', '']);
    expect(empty.code).toBe(4);
    expect(empty.err).toMatch(/a schema is needed/);
    expect((await ok(dir, ['table', 'list', '--format', 'json'])).out.trim()).toBe('[]');
  });

  it('the library refuses a schema of no columns too (F3)', async () => {
    const dir = emptyDir();
    const lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: join(dir, 'warehouse') });
    try {
      await expect(lakehouse.createTable('z', new Schema([]))).rejects.toMatchObject({ code: 'EMPTY_SCHEMA', message: expect.stringMatching(/the schema has no columns/) });
      expect(await lakehouse.listTables()).toEqual([]);
    } finally {
      await lakehouse.close();
    }
  });

  it('init refuses a warehouse table create would refuse, before it makes anything (F5)', async () => {
    for (const w of ['file:///WH/wh?x=1', 'file:///WH/wh#frag', 'WH/wh%41', 'WH/wh?x']) {
      const dir = emptyDir();
      const warehouse = w.replace('WH', w.startsWith('file:') ? dir.slice(1) : dir);
      const r = await cli(dir, ['--warehouse', warehouse, 'init']);
      expect(r.code, `${w}: ${r.out}`).toBe(4);
      expect(r.err, w).toMatch(/^error: warehouse '.*' holds .*Choose a directory without it/);
      expect(readdirSync(dir), `${w}: nothing made`).toEqual([]);
      // and table create says the same
      const t = await cli(dir, ['--warehouse', warehouse, 'table', 'create', 't', '--schema', 'id:int64']);
      expect(t.code).toBe(4);
    }
  });

  it('--if-not-exists on an existing table says it exists and warns about what differs (F6)', async () => {
    const dir = emptyDir();
    await ok(dir, ['table', 'create', 't', '--schema', 'id:int64!,v:utf8', '--primary-key', 'id', '--buckets', '2']);
    const same = await ok(dir, ['table', 'create', 't', '--schema', 'id:int64,v:utf8', '--primary-key', 'id', '--buckets', '2', '--if-not-exists']);
    expect(same.out).toMatch(/^table 'default\.t' already exists at file:\/\/.*: left as it is \(--if-not-exists\)\n/);
    expect(same.out).not.toMatch(/created/);
    expect(same.err).toBe('');
    const other = await ok(dir, ['table', 'create', 't', '--schema', 'name:utf8!,n:int32', '--primary-key', 'name', '--partition-by', 'n', '--if-not-exists']);
    expect(other.out).toMatch(/already exists/);
    expect(other.out).toMatch(/id {2}int64 not null/); // the table as it is
    expect(other.err).toMatch(/warning: table 'default\.t' exists with another schema: it has "id:int64!,v:utf8", the request "name:utf8!,n:int32"/);
    expect(other.err).toMatch(/another primary key: id, the request name/);
    expect(other.err).toMatch(/other range partitions: \(none\), the request n/);
    const desc = JSON.parse((await ok(dir, ['table', 'describe', 't', '--json'])).out);
    expect(desc.primaryKeys).toEqual(['id']);
  });

  it('--path: a .. segment and the root are refused naming --path; a relative path is taken from the working directory (F8)', async () => {
    const dir = emptyDir();
    const dots = await cli(dir, ['table', 'create', 'x', '--schema', 'id:int64!', '--path', '/tmp/a/../b']);
    expect(dots.code).toBe(4);
    expect(dots.err).toMatch(/^error: --path '\/tmp\/a\/\.\.\/b' has a '\.\.' segment/);
    const root = await cli(dir, ['table', 'create', 'x', '--schema', 'id:int64!', '--path', '/']);
    expect(root.code).toBe(4);
    expect(root.err).toMatch(/^error: --path '\/' is the root directory/);
    expect(root.err).not.toMatch(/''/);
    const rel = await ok(dir, ['table', 'create', 'x', '--schema', 'id:int64!', '--path', 'relative/dir']);
    expect(rel.out).toContain(`created at file://${dir}/relative/dir\n`);
    writeFileSync(join(dir, 'x.csv'), 'id\n1\n');
    await ok(dir, ['import', 'x', 'x.csv']);
    expect(readdirSync(join(dir, 'relative', 'dir'), { recursive: true }).some((f) => String(f).endsWith('.parquet'))).toBe(true);
  });
});

describe('messages and help a person can act on', () => {
  it('scan --help shows an example that runs on the docs\' events table (F9)', async () => {
    const dir = emptyDir();
    const help = await ok(dir, ['scan', '--help']);
    const example = /\$ lakesoul-ts (scan events [^\n]*--version 0[^\n]*)/.exec(help.out);
    expect(example, help.out).not.toBeNull();
    await ok(dir, ['table', 'create', 'events', '--schema', 'id:int64!,date:date32!,kind:utf8,score:float64', '--partition-by', 'date', '--primary-key', 'id', '--buckets', '2']);
    writeFileSync(join(dir, 'events.csv'), 'id,date,kind,score\n1,2024-01-01,view,0.5\n2,2024-01-01,click,1.5\n3,2024-01-02,view,2.5\n');
    await ok(dir, ['import', 'events', 'events.csv', '--mode', 'upsert']);
    const r = await ok(dir, example![1]!.split(' '));
    expect(r.out.trim().split('\n').map((l) => JSON.parse(l).id).sort()).toEqual([1, 2]);
  });

  it('a missing input file names where it was looked for, not the table list (F10)', async () => {
    const dir = emptyDir();
    await ok(dir, ['table', 'create', 'e', '--schema', 'id:int64']);
    const r = await cli(dir, ['import', 'e', 'nothere.csv']);
    expect(r.code).toBe(3);
    expect(r.err).toBe(`error: input file not found: nothere.csv (looked in ${dir})\n`);
  });

  it('plural, header-only imports, buckets of tables without a key, decimal types, ns drop --cascade', async () => {
    const dir = emptyDir();
    await ok(dir, ['table', 'create', 'd', '--schema', 'id:int64!,p:decimal(10,2)']);
    writeFileSync(join(dir, 'one.csv'), 'id,p\n1,2.50\n');
    await ok(dir, ['import', 'd', 'one.csv']);
    expect((await ok(dir, ['export', 'd', 'out.csv'])).out).toBe('exported 1 row to out.csv\n');
    writeFileSync(join(dir, 'h.csv'), 'id,p\n');
    expect((await ok(dir, ['import', 'd', 'h.csv'])).out).toBe('imported 0 rows from h.csv into default.d: nothing to commit (the file has no rows)\n');
    writeFileSync(join(dir, 'bad.csv'), 'id,p\n1,abc\n');
    const bad = await cli(dir, ['import', 'd', 'bad.csv']);
    expect(bad.err).toBe(`error: bad.csv:2: column 'p': "abc" is not a decimal number (column type decimal(10, 2))\n`);
    const list = (await ok(dir, ['table', 'list'])).out.split('\n');
    expect(list[2]).toMatch(/^default +d +- +- +- +file:/);
    expect(JSON.parse((await ok(dir, ['table', 'list', '--format', 'json'])).out)[0].buckets).toBeNull();
    await ok(dir, ['table', 'create', 'q1', '-n', 'q', '--schema', 'a:int32']);
    const drop = await cli(dir, ['ns', 'drop', 'q']);
    expect(drop.code).toBe(4);
    expect(drop.err).toMatch(/namespace 'q' is not empty \(1 table\(s\): q1\); drop its tables first, or add --cascade/);
    expect(drop.err).not.toMatch(/pass cascade/);
    await ok(dir, ['ns', 'drop', 'q', '--cascade']);
  });
});

describe('import errors name the file and line (F7)', () => {
  it('CDC values, range values with , or =, a missing key column and a null key', async () => {
    const dir = emptyDir();
    const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
    const refused = async (table: string, file: string, message: string) => {
      const r = await cli(dir, ['import', table, file]);
      expect(r.code, `${file}: ${r.out}`).toBe(4);
      expect(r.err).toBe(`error: ${message}\n`);
    };
    await ok(dir, ['table', 'create', 'c', '--schema', 'id:int64!,v:utf8,op:utf8', '--primary-key', 'id', '--cdc-column', 'op']);
    write('c.csv', 'id,v,op\n1,a,insert\n2,b,bogus\n');
    await refused('c', 'c.csv', `c.csv:3: CDC column 'op' holds "bogus": expected 'insert', 'update' or 'delete'`);
    await ok(dir, ['table', 'create', 'r', '--schema', 'id:int64!,p:utf8!', '--partition-by', 'p']);
    write('r.csv', 'id,p\n1,x\n2,a=b\n');
    await refused('r', 'r.csv', "r.csv:3: range partition column 'p' value 'a=b' contains ',' or '=', which the partition_desc encoding cannot hold");
    write('r.jsonl', '{"id":1,"p":"x"}\n{"id":2,"p":"a,b"}\n');
    await refused('r', 'r.jsonl', "r.jsonl:2: range partition column 'p' value 'a,b' contains ',' or '=', which the partition_desc encoding cannot hold");
    await ok(dir, ['table', 'create', 'k', '--schema', 'id:int64!,name:utf8', '--primary-key', 'id']);
    write('k.csv', 'name\nx\n');
    await refused('k', 'k.csv', "k.csv: primary-key column 'id' (int64) is missing: every row written to the table needs it (the file's columns: name)");
    write('k.jsonl', '{}\n{}\n');
    await refused('k', 'k.jsonl', "k.jsonl: primary-key column 'id' (int64) is missing: every row written to the table needs it (the file's columns: none)");
    await ok(dir, ['table', 'create', 'n', '--schema', 'id:int64,v:utf8', '--primary-key', 'id']);
    write('n.csv', 'id,v\n1,x\n,y\n');
    await refused('n', 'n.csv', "n.csv:3: column 'id': null in a primary-key column");
    // nothing of the refused files was committed; good rows still import
    write('ok.csv', 'id,v,op\n1,a,insert\n2,b,delete\n');
    expect((await ok(dir, ['import', 'c', 'ok.csv'])).out).toMatch(/^imported 2 rows from ok\.csv/);
    expect(JSON.parse((await ok(dir, ['history', 'r', '--format', 'json'])).out)).toEqual([]);
  });
});

describe('Ctrl-C during compact (F4)', () => {
  it('deletes the files the compaction wrote, says so and exits 130; cleanup finds no orphan', async () => {
    const dir = emptyDir();
    await ok(dir, ['table', 'create', 'big', '--schema', 'id:int64!,k:int32,v:float64', '--primary-key', 'id', '--buckets', '8']);
    let csv = 'id,k,v\n';
    for (let i = 0; i < 1_500_000; i++) csv += `${i},${i % 1000},${i * 0.5}\n`;
    writeFileSync(join(dir, 'big.csv'), csv);
    for (let i = 0; i < 3; i++) await ok(dir, ['-q', 'import', 'big', 'big.csv', '--mode', 'upsert']);
    const tableDir = join(dir, '.lakesoul', 'warehouse', 'default', 'big');
    const parquet = () => new Set((readdirSync(tableDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet')));
    const before = parquet();
    const run = cli(dir, ['compact', 'big']);
    // the signal once the compaction has written a file of its own
    let exited = false;
    void run.then(() => { exited = true; });
    while (!exited && [...parquet()].every((f) => before.has(f))) await sleep(5);
    expect(exited, 'the compaction ended before it wrote a file: make the table bigger').toBe(false);
    run.child.kill('SIGINT');
    const r = await run;
    expect(r.code, r.out + r.err).toBe(130);
    expect(r.err).toMatch(/SIGINT: stopping the compaction of big/);
    // stderr is not a terminal: no empty line before the note (a ^C line of its own on one)
    expect(r.err).toMatch(/^SIGINT: stopping/m);
    expect(r.err).not.toMatch(/\n\nSIGINT|^\nSIGINT/);
    expect(r.err).toMatch(/error: compaction of big interrupted by SIGINT: nothing was committed, and the files it had written were deleted/);
    expect([...parquet()].sort()).toEqual([...before].sort());
    const cleanup = await ok(dir, ['cleanup', 'big', '--orphan-window', '0']);
    expect(cleanup.out).toMatch(/^0 file\(s\), 0 B would be deleted/);
    // and compaction still works afterwards
    expect((await ok(dir, ['compact', 'big'])).out).toMatch(/^compacted big: 24 files into 8/);
  });
});

describe('a corrupt catalog server file (F11)', () => {
  it('is treated as stale: a running server writes its claim again, a stopped one is replaced, --status tells which', async () => {
    const dir = emptyDir();
    const on = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 60_000, env: { LAKESOUL_CATALOG_SERVER: 'on' } });
    const status = async () => (await on(['catalog-server', '--status'])).out;
    const serverUp = async () => {
      for (let i = 0; i < 200; i++) {
        const m = /catalog server for .*: process (\d+) \(lakesoul-ts catalog-server\)/.exec(await status());
        if (m) return Number(m[1]);
        await sleep(50);
      }
      throw new Error(`no catalog server started: ${await status()}`);
    };
    const file = join(dir, '.lakesoul', 'catalog', '.lakesoul-ts.server.json');
    try {
      expect((await on(['table', 'create', 't', '--schema', 'id:int64'])).code).toBe(0);
      const pid = await serverUp();
      // corrupted under a running server: --status waits for the server to write its claim again
      writeFileSync(file, 'garbage\n');
      expect(await status()).toMatch(new RegExp(`process ${pid} \\(lakesoul-ts catalog-server\\)`));
      expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(pid);
      expect((await on(['table', 'list'])).code).toBe(0);
      expect(await serverUp()).toBe(pid);
      // corrupted with no server running: --status says so, the next command starts a server again
      expect((await on(['catalog-server', '--stop'])).code).toBe(0);
      writeFileSync(file, 'garbage\n');
      utimesSync(file, new Date(Date.now() - 10_000), new Date(Date.now() - 10_000));
      expect(await status()).toMatch(/no catalog server for .*: its server file .*\.lakesoul-ts\.server\.json is corrupt/);
      expect((await on(['table', 'list'])).code).toBe(0);
      expect(await serverUp()).not.toBe(pid);
    } finally {
      await on(['catalog-server', '--stop']);
    }
  });
});

describe('LAKESOUL_CATALOG_SERVER=off: a second command waits for the holder (docs/cli.md)', () => {
  it('waits, saying so (nothing under --quiet, no Node warning), and succeeds', async () => {
    const dir = emptyDir();
    await ok(dir, ['table', 'create', 't', '--schema', 'id:int64']);
    let csv = 'id\n';
    for (let i = 0; i < 3_000_000; i++) csv += `${i}\n`;
    writeFileSync(join(dir, 'b.csv'), csv);
    const holder = cli(dir, ['-q', 'import', 't', 'b.csv']);
    let held = false;
    void holder.then(() => { held = false; });
    // the import has the catalog open once its PGlite lock file is there
    for (let i = 0; i < 400 && !held; i++) {
      held = readdirSync(join(dir, '.lakesoul', 'catalog')).includes('.lakesoul-ts.lock');
      if (!held) await sleep(10);
    }
    const [loud, quiet] = await Promise.all([cli(dir, ['table', 'list']), cli(dir, ['-q', 'table', 'list'])]);
    expect((await holder).code).toBe(0);
    for (const r of [loud, quiet]) {
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/default +t /);
      expect(r.err).not.toMatch(/Warning/);
    }
    expect(loud.err).toMatch(/^waiting for process \d+, which has the embedded catalog .* open \(up to 60 s\)\.\.\.\n$/);
    expect(quiet.err).toBe('');
  });
});

describe('a tester\'s findings: history of Vortex commits, relocate to S3, ns create, quoted names in hints', () => {
  it('history lists a commit that names a Vortex file, its rows unknown (said once on stderr), instead of failing', async () => {
    const dir = emptyDir();
    await ok(dir, ['table', 'create', 'v', '--schema', 'id:int64!']);
    writeFileSync(join(dir, 'v.csv'), 'id\n1\n2\n');
    await ok(dir, ['import', 'v', 'v.csv']);
    // as LakeSoul's Python wheel writes by default: a commit naming a .vortex file (twice: one note)
    const lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, '.lakesoul', 'catalog') }, warehouse: join(dir, '.lakesoul', 'warehouse') });
    try {
      const t = await lakehouse.table('v');
      for (const k of [1, 2]) {
        const path = `${t.info.path}/part-wheel${k}_0000.vortex`;
        writeFileSync(new URL(path), 'VTXF not parquet VTXF');
        await lakehouse.catalog.commit({ tableId: t.info.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [{ path, op: 'add', size: 21n, existCols: ['id'] }] }] });
      }
    } finally {
      await lakehouse.close();
    }
    const r = await ok(dir, ['history', 'v']);
    const lines = r.out.trim().split('\n').filter((l) => /^\d/.test(l));
    expect(lines, r.out).toHaveLength(3); // the three commits, oldest first
    expect(lines[0]).toMatch(/\(unpartitioned\)@0 +1 +2$/);
    expect(lines[1]).toMatch(/AppendCommit +\(unpartitioned\)@1 +2 +vortex$/);
    expect(lines[2]).toMatch(/AppendCommit +\(unpartitioned\)@2 +3 +vortex$/);
    expect(r.err.match(/note:/g)).toHaveLength(1);
    expect(r.err).toMatch(/^note: rows shown as 'vortex' \(null in json\) are unknown: history counts rows from Parquet footers, and unsupported file format: '.*part-wheel\d_0000\.vortex' is not a Parquet file/);
    // what fixes it for the writer, as docs/interop.md says (the wheel has no file_format setting)
    expect(r.err).toContain('with LakeSoul\'s Python wheel `write_arrow(..., format="parquet")`');
    expect(r.err).not.toContain('file_format=parquet');
    const json = (await ok(dir, ['history', 'v', '--json'])).out.trim().split('\n').map((l) => JSON.parse(l));
    expect(json.map((c) => c.rows)).toEqual([2, null, null]);
    // scan still refuses the Vortex file, naming it and the fix
    const scan = await cli(dir, ['scan', 'v']);
    expect(scan.code).not.toBe(0);
    expect(scan.err).toContain('format="parquet"');
  });

  it('relocate to S3 refuses (nothing changed) while a table\'s new location holds no files; after the copy it relocates', async () => {
    const bucket = await freshBucket('cli-relocate'); // sets AWS_ENDPOINT for the commands
    const dir = emptyDir();
    const g = ['--warehouse', `s3://${bucket}/wh`];
    await ok(dir, [...g, 'table', 'create', 'r', '--schema', 'id:int64!']);
    await ok(dir, [...g, 'table', 'create', 'empty', '--schema', 'id:int64!']); // no files: nothing to move
    writeFileSync(join(dir, 'r.csv'), 'id\n1\n2\n');
    await ok(dir, [...g, 'import', 'r', 'r.csv']);
    const dry = await ok(dir, [...g, 'relocate', `s3://${bucket}/wh`, `s3://${bucket}/moved`, '--dry-run']);
    expect(dry.out).toMatch(/would relocate 2 tables/);
    const refused = await cli(dir, [...g, 'relocate', `s3://${bucket}/wh`, `s3://${bucket}/moved`]);
    expect(refused.code, refused.out).toBe(3);
    expect(refused.err).toBe(`error: relocate: table 'default.r' would move to s3://${bucket}/moved/default/r, where there are no files: move the tables' files there first (nothing was changed)\n`);
    expect(refused.out).toBe('');
    expect(JSON.parse((await ok(dir, [...g, 'table', 'describe', 'r', '--json'])).out).path).toBe(`s3://${bucket}/wh/default/r`);
    expect((await ok(dir, [...g, 'scan', 'r', '--format', 'jsonl'])).out.trim().split('\n')).toHaveLength(2);
    // a bucket that does not exist: refused, naming the table and the location
    const noBucket = await cli(dir, [...g, 'relocate', `s3://${bucket}/wh`, `s3://${bucket}-missing/moved`]);
    expect(noBucket.code).not.toBe(0);
    expect(noBucket.err).toMatch(new RegExp(`^error: relocate: cannot list s3://${bucket}-missing/moved/default/\\w+, the new location of table 'default\\.\\w+': .*\\(nothing was changed\\)\\n$`));
    // the files copied: it relocates, and the table reads from there
    const s3 = new S3Client({ endpoint: testEnv('LAKESOUL_TEST_S3_ENDPOINT'), region: process.env.AWS_REGION ?? 'us-east-1', forcePathStyle: true,
      credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'testing', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'testing' } });
    try {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'wh/' }));
      for (const o of listed.Contents ?? []) {
        await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: `moved/${o.Key!.slice(3)}`, CopySource: `${bucket}/${o.Key}` }));
      }
    } finally {
      s3.destroy();
    }
    const done = await ok(dir, [...g, 'relocate', `s3://${bucket}/wh`, `s3://${bucket}/moved`]);
    expect(done.out).toMatch(/relocated 2 tables/);
    expect((await ok(dir, [...g, 'scan', 'r', '--format', 'jsonl'])).out.trim().split('\n').map((l) => JSON.parse(l).id).sort()).toEqual([1, 2]);
  });

  it('ns create --if-not-exists on an existing namespace says it exists, not "created"', async () => {
    const dir = emptyDir();
    expect((await ok(dir, ['ns', 'create', 'sales2', '--comment', 'q'])).out).toBe("namespace 'sales2' created\n");
    const again = await ok(dir, ['ns', 'create', 'sales2', '--if-not-exists']);
    expect(again.out).toBe("namespace 'sales2' already exists: left as it is (--if-not-exists)\n");
    expect(again.err).toBe('');
    const other = await ok(dir, ['ns', 'create', 'sales2', '--if-not-exists', '--comment', 'r']);
    expect(other.out).toMatch(/already exists/);
    expect(other.err).toBe(`warning: namespace 'sales2' exists with another comment: it has "q", the request "r"\n`);
    const plain = await cli(dir, ['ns', 'create', 'sales2']);
    expect(plain.code).toBe(4);
    expect(plain.err).toMatch(/namespace 'sales2' already exists/);
    expect((await ok(dir, ['ns', 'create', 'fresh', '--if-not-exists'])).out).toBe("namespace 'fresh' created\n");
  });

  it('hints quote table, namespace and file names a shell would split or expand, so they paste and run', async () => {
    const dir = emptyDir();
    writeFileSync(join(dir, "odd file's.csv"), 'id\n1\n');
    await ok(dir, ['ns', 'create', 'n$x']);
    const r = await cli(dir, ['import', 't$HOME', "odd file's.csv", '-n', 'n$x']);
    expect(r.code).toBe(3);
    const hint = /create it first: `(.*?) table create (.*)` takes its schema/.exec(r.err);
    expect(hint, r.err).not.toBeNull();
    expect(hint![2]).toBe(`'t$HOME' -n 'n$x' --from 'odd file'\\''s.csv'`);
    // the hint, pasted into a shell, creates the table
    const pasted = spawnSync('sh', ['-c', `node ${DIST_BIN} table create ${hint![2]}`], { cwd: dir, encoding: 'utf8', env: { ...process.env, LAKESOUL_CATALOG_SERVER: 'off' } });
    expect(pasted.status, pasted.stderr).toBe(0);
    expect(pasted.stdout).toMatch(/^table 'n\$x\.t\$HOME' created/);
    // the table list / history hints quote too
    const missing = await cli(dir, ['scan', 'no$such', '-n', 'n$x']);
    expect(missing.err).toMatch(/\(see: .* table list -n 'n\$x'\)\n$/);
    await ok(dir, ['import', 't$HOME', "odd file's.csv", '-n', 'n$x']);
    mkdirSync(join(dir, 'a dir'));
    const folder = await cli(dir, ['import', 't$HOME', 'a dir', '-n', 'n$x']);
    expect(folder.err).toContain(` import 't$HOME' 'a dir' --format images\``);
  });
});

describe('a new user following docs/cli.md: export --limit, hints for a missing namespace, warehouse characters, --from keys, nulls in tables', () => {
  /** The docs' events table, with the text "null", a real null and a text starting with a quote. */
  async function eventsTable(dir: string): Promise<void> {
    await ok(dir, ['table', 'create', 'events', '--schema', 'id:int64!,date:date32!,kind:utf8,score:float64', '--partition-by', 'date', '--primary-key', 'id', '--buckets', '2']);
    writeFileSync(join(dir, 'events.csv'), 'id,date,kind,score\n1,2024-01-01,view,0.5\n2,2024-01-01,null,1.5\n3,2024-01-02,,2.5\n4,2024-01-02,"""q""",\n');
    await ok(dir, ['import', 'events', 'events.csv', '--mode', 'upsert']);
  }

  it('export takes --limit as scan does: the first n rows (docs: "takes the scan flags")', async () => {
    const dir = emptyDir();
    await eventsTable(dir);
    const r = await ok(dir, ['export', 'events', 'out.csv', '--limit', '1']);
    expect(r.out).toBe('exported 1 row to out.csv\n');
    const scanned = await ok(dir, ['scan', 'events', '--limit', '1', '--format', 'csv']);
    expect(readFileSync(join(dir, 'out.csv'), 'utf8')).toBe(scanned.out);
    expect(scanned.out.trim().split('\n')).toHaveLength(2);
    // to stdout, to Parquet, 0 and more rows than the table has
    const jsonl = await ok(dir, ['export', 'events', '-', '--format', 'jsonl', '--limit', '3']);
    expect(jsonl.out.trim().split('\n')).toHaveLength(3);
    expect(jsonl.err).toBe('exported 3 rows to stdout\n');
    expect((await ok(dir, ['export', 'events', 'out.parquet', '--limit', '2'])).out).toBe('exported 2 rows to out.parquet\n');
    expect((await ok(dir, ['export', 'events', 'none.csv', '--limit', '0'])).out).toBe('exported 0 rows to none.csv\n');
    expect(readFileSync(join(dir, 'none.csv'), 'utf8')).toBe('id,date,kind,score\n');
    expect((await ok(dir, ['export', 'events', 'all.csv', '--limit', '99'])).out).toBe('exported 4 rows to all.csv\n');
    const bad = await cli(dir, ['export', 'events', 'bad.csv', '--limit', '-1']);
    expect(bad.code).toBe(4);
    expect(bad.err).toMatch(/--limit must be a non-negative integer, not '-1'/);
    expect((await ok(dir, ['export', '--help'])).out).toMatch(/--limit <n>/);
  });

  it('a table in a namespace that does not exist: the error says so and its hint runs', async () => {
    const dir = emptyDir();
    await eventsTable(dir);
    for (const args of [['scan', 'events', '-n', 'nope'], ['table', 'describe', 'events', '-n', 'nope'], ['history', 'events', '-n', 'nope']]) {
      const r = await cli(dir, args);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.err, args.join(' ')).toMatch(/^error: table 'nope\.events' not found: there is no namespace 'nope' \(see: .* ns list; .* table list lists the tables of every namespace\)\n$/);
      expect(r.err).not.toMatch(/table list -n/);
    }
    // the commands of the hint run (as the command spelled here, `npx lakesoul-ts` under vitest)
    for (const hinted of [['ns', 'list'], ['table', 'list']]) {
      const pasted = spawnSync('sh', ['-c', `node ${DIST_BIN} ${hinted.join(' ')}`], { cwd: dir, encoding: 'utf8', env: { ...process.env, LAKESOUL_CATALOG_SERVER: 'off' } });
      expect(pasted.status, pasted.stderr).toBe(0);
      expect(pasted.stdout).toMatch(/default/);
    }
    // a missing table in a namespace that exists keeps its table list hint, which runs
    const missing = await cli(dir, ['scan', 'nothere']);
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/^error: table 'default\.nothere' not found \(see: .* table list -n default\)\n$/);
  });

  it('a warehouse holding # or ? is refused naming that character, not a % escape the user did not type', async () => {
    for (const [w, c, esc] of [['./a#b', '#', '%23'], ['./a?b', '?', '%3F']] as const) {
      const dir = emptyDir();
      const r = await cli(dir, ['--warehouse', w, 'init']);
      expect(r.code, w).toBe(4);
      expect(r.err, w).toContain(`holds "${c}" (escaped as ${esc} in the URL)`);
      expect(r.err, w).toMatch(/Choose a directory without it\n$/);
      expect(r.err, w).not.toMatch(/'%' escape/);
      expect(readdirSync(dir)).toEqual([]);
    }
    // a '%' escape the user wrote is still named as one
    const dir = emptyDir();
    const r = await cli(dir, ['--warehouse', './a%41', 'init']);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/holds a '%' escape once decoded/);
  });

  it('an import of several files that fails on one says which were committed before it, so a retry imports only the rest', async () => {
    const dir = emptyDir();
    await ok(dir, ['table', 'create', 'm', '--schema', 'id:int64!,v:utf8']);
    writeFileSync(join(dir, 'a.csv'), 'id,v\n1,a\n2,b\n');
    writeFileSync(join(dir, 'b.csv'), 'id,v\n3,c\nx,d\n');
    writeFileSync(join(dir, 'c.csv'), 'id,v\n5,e\n');
    const r = await cli(dir, ['import', 'm', 'a.csv', 'b.csv', 'c.csv']);
    expect(r.code).toBe(4);
    expect(r.out).toMatch(/^imported 2 rows from a\.csv into default\.m/);
    expect(r.err).toMatch(/b\.csv.*; committed before it: a\.csv \(as printed above\): import only b\.csv, c\.csv again\n$/s);
    expect((await ok(dir, ['scan', 'm', '--format', 'csv'])).out.trim().split('\n')).toHaveLength(3);
    // the first file failing: nothing committed, no such line
    const first = await cli(dir, ['import', 'm', 'b.csv', 'a.csv']);
    expect(first.code).toBe(4);
    expect(first.err).not.toMatch(/committed before it/);
  });

  it('a new home whose path holds # is refused by every command before its catalog is made, as init refuses it', async () => {
    for (const args of [['table', 'list'], ['table', 'create', 't', '--schema', 'id:int64'], ['scan', 't'], ['ns', 'list']]) {
      const dir = emptyDir();
      const home = join(dir, 'h#1');
      const r = await cli(dir, ['--home', home, ...args]);
      expect(r.code, args.join(' ')).toBe(4);
      expect(r.err, args.join(' ')).toContain('holds "#" (escaped as %23 in the URL)');
      // nothing made: no catalog, no catalog server
      expect(readdirSync(dir), args.join(' ')).toEqual([]);
    }
  });

  it('table create --from makes primary-key columns not null, the others nullable, as createTable from data does', async () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'e.csv'), 'id,date,kind\n1,2024-01-01,view\n2,2024-01-02,click\n');
    await ok(dir, ['table', 'create', 'f1', '--from', 'e.csv', '--primary-key', 'id', '--partition-by', 'date']);
    const cli1 = (await ok(dir, ['table', 'describe', 'f1', '--format', 'csv'])).out;
    expect(cli1).toBe('column,type,nullable,roles\nid,int64,false,primary key\ndate,date32,true,range partition\nkind,utf8,true,\n');
    // the API, from the same rows
    const lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'api-catalog') }, warehouse: join(dir, 'api-warehouse') });
    try {
      const t = await lakehouse.createTable('f', [{ id: 1, date: new Date('2024-01-01'), kind: 'view' }], { primaryKeys: ['id'], rangePartitions: ['date'] });
      expect(t.info.schema.fields.map((f) => [f.name, f.nullable])).toEqual([['id', false], ['date', true], ['kind', true]]);
    } finally {
      await lakehouse.close();
    }
    // JSONL too, and a table without a key has every column nullable
    writeFileSync(join(dir, 'e.jsonl'), '{"a":1,"b":"x"}\n');
    await ok(dir, ['table', 'create', 'f2', '--from', 'e.jsonl', '--primary-key', 'a,b']);
    expect((await ok(dir, ['table', 'describe', 'f2', '--format', 'csv'])).out).toBe('column,type,nullable,roles\na,int64,false,primary key\nb,utf8,false,primary key\n');
    await ok(dir, ['table', 'create', 'f3', '--from', 'e.jsonl']);
    expect((await ok(dir, ['table', 'describe', 'f3', '--format', 'csv'])).out).toBe('column,type,nullable,roles\na,int64,true,\nb,utf8,true,\n');
  });

  it('the table format shows a null and the text "null" differently (the text quoted), as csv and jsonl do', async () => {
    const dir = emptyDir();
    await eventsTable(dir);
    const r = await ok(dir, ['scan', 'events', '--columns', 'id,kind,score']);
    const lines = r.out.trimEnd().split('\n').slice(2).map((l) => l.split(/\s{2,}/));
    expect(Object.fromEntries(lines.map(([id, ...rest]) => [id, rest]))).toEqual({
      1: ['view', '0.5'],
      2: ['"null"', '1.5'],
      3: ['null', '2.5'],
      4: ['"\\"q\\""', 'null'],
    });
    const jsonl = (await ok(dir, ['scan', 'events', '--columns', 'id,kind', '--format', 'jsonl'])).out;
    expect(jsonl).toContain('{"id":2,"kind":"null"}');
    expect(jsonl).toContain('{"id":3,"kind":null}');
  });
});

describe('cleanup spares the files of a write in flight for as long as the library does', () => {
  it('a file no commit names, written 2 hours ago, is not an orphan to a default cleanup (the window was 60 min), one over 24 h is', async () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'a.csv'), 'id,v\n1,a\n');
    await ok(dir, ['table', 'create', 't', '--from', join(dir, 'a.csv')]);
    // a long import's first upload, not yet committed
    const tableDir = join(dir, '.lakesoul', 'warehouse', 'default', 't');
    mkdirSync(tableDir, { recursive: true });
    const inFlight = join(tableDir, 'part-in-flight_00000.parquet');
    writeFileSync(inFlight, 'PAR1');
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
    utimesSync(inFlight, hoursAgo(2), hoursAgo(2));
    const kept = await ok(dir, ['cleanup', 't', '--format', 'json']);
    expect(JSON.parse(kept.out)).toEqual([]);
    utimesSync(inFlight, hoursAgo(25), hoursAgo(25));
    const orphan = JSON.parse((await ok(dir, ['cleanup', 't', '--format', 'json'])).out) as { path: string }[];
    expect(orphan.map((f) => f.path)).toEqual([expect.stringContaining('part-in-flight_00000.parquet')]);
  });
});

describe('history of a table whose bucket is gone', () => {
  it('prints the commit log with the rows unknown (no bucket) and one note, instead of failing on the first file', async () => {
    const bucket = await freshBucket('cli-lost-bucket'); // sets AWS_ENDPOINT for the commands
    const dir = emptyDir();
    const g = ['--warehouse', `s3://${bucket}/wh`];
    await ok(dir, [...g, 'table', 'create', 'h', '--schema', 'id:int64!']);
    writeFileSync(join(dir, 'h.csv'), 'id\n1\n2\n');
    await ok(dir, [...g, 'import', 'h', 'h.csv']);
    await ok(dir, [...g, 'import', 'h', 'h.csv']);
    const s3 = new S3Client({ endpoint: testEnv('LAKESOUL_TEST_S3_ENDPOINT'), region: process.env.AWS_REGION ?? 'us-east-1', forcePathStyle: true,
      credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'testing', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'testing' } });
    try {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: (listed.Contents ?? []).map((o) => ({ Key: o.Key! })) } }));
      await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    } finally {
      s3.destroy();
    }
    const r = await ok(dir, [...g, 'history', 'h', '--format', 'json']);
    const commits = JSON.parse(r.out) as { rows: number | null }[];
    expect(commits).toHaveLength(2);
    expect(commits.map((c) => c.rows)).toEqual([null, null]);
    expect(r.err.match(/note: rows shown as 'no bucket'/g), r.err).toHaveLength(1);
    expect(r.err).toContain(`bucket '${bucket}' does not exist`);
  });
});

describe('--partition on a binary range column', () => {
  it('takes the value in hex as history prints it, selects that partition in scan, export and history, and refuses other text', async () => {
    const dir = emptyDir();
    await ok(dir, ['table', 'create', 'bt', '--schema', 'id:int64!,p:binary', '--partition-by', 'p', '--primary-key', 'id']);
    // JSONL binary values are standard base64: 'abc' is YWJj, 'ab' YWI=
    writeFileSync(join(dir, 'bt.jsonl'), '{"id":1,"p":"YWJj"}\n{"id":2,"p":"YWI="}\n');
    await ok(dir, ['import', 'bt', 'bt.jsonl']);
    const history = await ok(dir, ['history', 'bt']);
    expect(history.out).toContain('p=616263@0');
    const rows = JSON.parse((await ok(dir, ['scan', 'bt', '--partition', 'p=616263', '--format', 'json'])).out) as { id: number | string }[];
    expect(rows.map((r) => String(r.id))).toEqual(['1']);
    await ok(dir, ['export', 'bt', 'out.jsonl', '--partition', 'p=6162', '-q']);
    expect(readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).id)).toEqual([2]);
    expect((await ok(dir, ['history', 'bt', '--partition', 'p=616263'])).out).toContain('p=616263@0');
    // text that is no hex is refused (it selected nothing and exited 0: 'abc' was encoded twice)
    const text = await cli(dir, ['scan', 'bt', '--partition', 'p=abc']);
    expect(text.code, text.out).toBe(4);
    expect(text.err).toContain("--partition p=abc: a binary range value is given in hex, as history prints it (the bytes of 'abc' are 616263)");
  });
});
