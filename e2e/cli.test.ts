/**
 * Drives every `lakesoul-ts` command, as the real binary linked by `pnpm install` (spawned, with a
 * timeout: a command that does not exit fails), against the embedded default (PGlite + local disk) and
 * against the real PostgreSQL server + the S3 test server, including the bad-input cases a person hits
 * and their documented exit codes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, beforeAll } from 'vitest';
import { PNG } from 'pngjs';
import { decodeParquet } from '@lakesoul-ts/io';
import { Catalog, PgDriver } from '@lakesoul-ts/meta';
import { FlightClient } from '@lakesoul-ts/connector-flight';
import { tableFromArrays } from 'apache-arrow';
import { freshBucket, testEnv, uniqueName } from './cli-env.js';
import { runCli, waitForOutput, DIST_BIN, type CliResult } from './cli-run.js';

/** Every command must exit by itself well within this (PGlite's first start is the slowest step). */
const COMMAND_TIMEOUT_MS = 60_000;

async function cli(args: string[]): Promise<CliResult> {
  return runCli(args, { timeoutMs: COMMAND_TIMEOUT_MS });
}

function jsonl(text: string): Record<string, unknown>[] {
  return text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function pngBytes(r: number, g: number, b: number): Buffer {
  const png = new PNG({ width: 4, height: 4 });
  for (let i = 0; i < 16; i++) png.data.set([r, g, b, 255], i * 4);
  return PNG.sync.write(png);
}

const backends = [
  { name: 'embedded PGlite + local disk', setup: async (dir: string) => ['--home', join(dir, 'home')] },
  {
    name: 'PostgreSQL + S3 (moto)',
    setup: async () => {
      const bucket = await freshBucket('cli');
      return ['--catalog', testEnv('LAKESOUL_TEST_PG_URL'), '--warehouse', `s3://${bucket}/warehouse`];
    },
  },
];

describe.each(backends)('lakesoul-ts on $name', ({ setup }) => {
  let dir: string;
  let g: string[];
  const ns = uniqueName('cli');
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-'));
    g = await setup(dir);
  });

  it('init, namespaces, create, import, scan, history, time travel, export, compact, cleanup, drop', async () => {
    expect((await cli([...g, 'init'])).code).toBe(0);
    expect((await cli([...g, 'ns', 'create', ns, '--comment', 'cli test'])).code).toBe(0);
    expect((await cli([...g, 'ns', 'list'])).out).toContain(ns);

    const create = await cli([...g, 'table', 'create', 'events', '-n', ns, '--schema', 'id:int64!,date:date32!,kind:utf8,score:float64',
      '--partition-by', 'date', '--primary-key', 'id', '--buckets', '2']);
    expect(create.err).toBe('');
    expect(create.code).toBe(0);
    expect(create.out).toMatch(/id\s+int64 not null\s+\(primary key\)/);
    expect((await cli([...g, 'table', 'list', '-n', ns])).out).toMatch(/events/);

    const v1 = join(dir, 'v1.csv');
    writeFileSync(v1, 'id,date,kind,score\n1,2024-01-01,a,0.5\n2,2024-01-01,b,1.5\n3,2024-01-02,"c, quoted",2.5\n');
    const imp = await cli([...g, 'import', 'events', v1, '-n', ns, '--mode', 'upsert']);
    expect(imp.err).toBe('');
    expect(imp.out).toMatch(/imported 3 rows/);
    expect(imp.out).toMatch(/versions date=2024-01-0[12]@0 date=2024-01-0[12]@0$/m);

    const v2 = join(dir, 'v2.jsonl');
    writeFileSync(v2, '{"id":2,"date":"2024-01-01","kind":"B","score":9.5}\n{"id":4,"date":"2024-01-01","kind":"d","score":null}\n');
    expect((await cli([...g, 'import', 'events', v2, '-n', ns, '--mode', 'upsert'])).code).toBe(0);

    const all = jsonl((await cli([...g, 'scan', 'events', '-n', ns, '--format', 'jsonl'])).out);
    const byId = Object.fromEntries(all.map((r) => [r.id, r]));
    expect(all).toHaveLength(4);
    expect(byId[2]).toEqual({ id: 2, date: '2024-01-01', kind: 'B', score: 9.5 });
    expect(byId[3]!.kind).toBe('c, quoted');
    expect(byId[4]!.score).toBeNull();

    const part = jsonl((await cli([...g, 'scan', 'events', '-n', ns, '-p', 'date=2024-01-01', '-c', 'id,kind', '--filter', "kind != 'a'", '--format', 'jsonl'])).out);
    expect(part.map((r) => r.id).sort()).toEqual([2, 4]);
    expect(Object.keys(part[0]!)).toEqual(['id', 'kind']);
    // --where: --filter as SQL spells it (hidden from the help); both at once is refused
    const where = jsonl((await cli([...g, 'scan', 'events', '-n', ns, '-p', 'date=2024-01-01', '-c', 'id,kind', '--where', "kind != 'a'", '--format', 'jsonl'])).out);
    expect(where).toEqual(part);
    const both = await cli([...g, 'scan', 'events', '-n', ns, '--where', 'id > 1', '--filter', 'id > 2']);
    expect([both.code, both.err]).toEqual([4, expect.stringContaining('--where is --filter by another name: give one of them')]);

    const old = jsonl((await cli([...g, 'scan', 'events', '-n', ns, '-p', 'date=2024-01-01', '--version', '0', '--format', 'jsonl'])).out);
    expect(old.find((r) => r.id === 2)!.kind).toBe('b');
    expect(old).toHaveLength(2);

    const head = await cli([...g, 'head', 'events', '-n', ns, '-l', '2']);
    expect(head.out.trim().split('\n')).toHaveLength(4); // header, rule, 2 rows
    expect(head.err).toMatch(/\(2 rows\)/);

    // One line per commit across partitions: the first import wrote version 0 of both partitions, the
    // second version 1 of one.
    const hist = await cli([...g, 'history', 'events', '-n', ns]);
    expect(hist.code).toBe(0);
    const commits = hist.out.trim().split('\n').slice(2);
    expect(commits).toHaveLength(2);
    // files and rows (before merge) of the partitions written: 3 rows, then date=2024-01-01's 2 + 2
    expect(commits[0]).toMatch(/^\S+Z\s+MergeCommit\s+date=2024-01-01@0, date=2024-01-02@0\s+\d+\s+3$/);
    expect(commits[1]).toMatch(/^\S+Z\s+MergeCommit\s+date=2024-01-01@1\s+\d+\s+4$/);
    const histJson = JSON.parse((await cli([...g, 'history', 'events', '-n', ns, '--format', 'json'])).out);
    expect(histJson.map((c: { versions: unknown }) => c.versions)).toEqual([
      [{ partition: 'date=2024-01-01', version: 0 }, { partition: 'date=2024-01-02', version: 0 }],
      [{ partition: 'date=2024-01-01', version: 1 }],
    ]);
    const onePartition = await cli([...g, 'history', 'events', '-n', ns, '-p', 'date=2024-01-02', '--format', 'csv']);
    expect(onePartition.out.trim().split('\n')).toEqual(['time,op,partition,version,files,rows', expect.stringMatching(/^\S+Z,MergeCommit,date=2024-01-02,0,1,1$/)]);
    // --limit: the newest commits only, saying how many there are
    const newest = await cli([...g, 'history', 'events', '-n', ns, '--limit', '1', '--format', 'csv']);
    expect(newest.out.trim().split('\n')).toEqual(['time,op,partition,version,files,rows', expect.stringMatching(/^\S+Z,MergeCommit,date=2024-01-01,1,\d+,4$/)]);
    expect(newest.err).toBe('the newest 1 of 2 commits (--limit 0 shows all)\n');
    expect((await cli([...g, 'history', 'events', '-n', ns, '-p', 'date=2024-01-02', '--limit', '1'])).err).toBe('');
    // a partition that does not exist is exit 3, as for scan (it was an empty history, exit 0)
    const missing = await cli([...g, 'history', 'events', '-n', ns, '-p', 'date=2024-01-09']);
    expect([missing.code, missing.err]).toEqual([3, expect.stringMatching(/has no partition date=2024-01-09: it has 2 partitions: date=2024-01-01, date=2024-01-02/)]);

    for (const fmt of ['parquet', 'csv', 'jsonl']) {
      const file = join(dir, `out.${fmt}`);
      const ex = await cli([...g, 'export', 'events', file, '-n', ns]);
      expect(ex.out).toMatch(/exported 4 rows/);
      if (fmt === 'jsonl') expect(jsonl(readFileSync(file, 'utf8'))).toHaveLength(4);
      if (fmt === 'csv') expect(readFileSync(file, 'utf8').trim().split('\n')[0]).toBe('id,date,kind,score');
      if (fmt === 'parquet') expect((await decodeParquet(new Uint8Array(readFileSync(file)))).numRows).toBe(4);
    }

    expect((await cli([...g, 'compact', 'events', '-n', ns])).code).toBe(0);
    const after = jsonl((await cli([...g, 'scan', 'events', '-n', ns, '--format', 'jsonl'])).out);
    expect(after.sort((a, b) => Number(a.id) - Number(b.id))).toEqual(all.sort((a, b) => Number(a.id) - Number(b.id)));

    const now = String(Date.now() + 1);
    const dry = await cli([...g, 'cleanup', 'events', '-n', ns, '--retain-since', now, '--orphan-window', '0']);
    expect(dry.code).toBe(0);
    // a summary by default, one line per file with --verbose, one record per file in json
    expect(dry.out).not.toMatch(/\.parquet/);
    expect(dry.out).toMatch(/^(\d+) file\(s\), .* would be deleted: \1 expired/m);
    expect(dry.out).toMatch(/dry run: run again with --execute/);
    const verbose = await cli([...g, 'cleanup', 'events', '-n', ns, '--retain-since', now, '--orphan-window', '0', '--verbose']);
    expect(verbose.out).toMatch(/would delete\s+\S+\.parquet\s+\(expired/);
    const dryJson = JSON.parse((await cli([...g, 'cleanup', 'events', '-n', ns, '--retain-since', now, '--orphan-window', '0', '--format', 'json'])).out);
    expect(dryJson.length).toBe(Number(/^(\d+) file/m.exec(dry.out)![1]));
    expect(dryJson[0]).toMatchObject({ action: 'would delete', reason: 'expired' });
    const exec = await cli([...g, 'cleanup', 'events', '-n', ns, '--retain-since', now, '--orphan-window', '0', '--assume-no-writes', '--execute']);
    expect(exec.out).toMatch(/file\(s\), .* deleted: \d+ expired/);
    const again = await cli([...g, 'cleanup', 'events', '-n', ns, '--retain-since', now, '--orphan-window', '0']);
    expect(again.out).toMatch(/^0 file\(s\)/m);
    const still = jsonl((await cli([...g, 'scan', 'events', '-n', ns, '--format', 'jsonl'])).out);
    expect(still).toHaveLength(4);
    // history still lists every commit: those whose files cleanup deleted show their rows as unknown
    const histAfter = await cli([...g, 'history', 'events', '-n', ns, '--format', 'jsonl']);
    expect(histAfter.code, histAfter.err).toBe(0);
    const commitsAfter = jsonl(histAfter.out);
    expect(commitsAfter.length).toBeGreaterThan(1);
    // the compaction's versions are live: their rows are known
    const compactions = commitsAfter.filter((c) => c.op === 'CompactionCommit');
    expect(compactions.length).toBeGreaterThan(0);
    for (const c of compactions) expect(c.rows).toBeGreaterThan(0);
    expect(commitsAfter.some((c) => c.rows === null)).toBe(true);
    expect((await cli([...g, 'history', 'events', '-n', ns])).out).toMatch(/cleaned up/);

    const refused = await cli([...g, 'ns', 'drop', ns]);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain(ns);
    expect((await cli([...g, 'table', 'drop', 'events', '-n', ns, '--purge'])).code).toBe(0);
    expect((await cli([...g, 'ns', 'drop', ns])).code).toBe(0);
  }, 600_000);

  it('infers a schema from a file and imports images', async () => {
    const name = uniqueName('inferred');
    const file = join(dir, 'infer.jsonl');
    writeFileSync(file, '{"k":1,"name":"x","at":"2024-05-01T10:00:00Z"}\n{"k":2,"name":"y","at":"2024-05-02T10:00:00Z"}\n');
    const c = await cli([...g, 'table', 'create', name, '--from', file]);
    expect(c.code).toBe(0);
    expect(c.out).toMatch(/k\s+int64/);
    expect(c.out).toMatch(/at\s+timestamp\(us,UTC\)/);
    const imported = await cli([...g, 'import', name, file]);
    expect(imported.code).toBe(0);
    expect(imported.out).toMatch(/: 1 file, versions \(unpartitioned\)@0$/m); // not LakeSoul's marker -5
    expect(jsonl((await cli([...g, 'scan', name, '--format', 'jsonl'])).out)).toHaveLength(2);

    const imgs = join(dir, 'imgs');
    for (const [label, color] of [['red', [255, 0, 0]], ['blue', [0, 0, 255]]] as const) {
      mkdirSync(join(imgs, label), { recursive: true });
      for (let i = 0; i < 3; i++) writeFileSync(join(imgs, label, `${i}.png`), pngBytes(color[0], color[1], color[2]));
    }
    const it2 = uniqueName('images');
    expect((await cli([...g, 'table', 'create', it2, '--schema', 'path:utf8!,label:utf8,size:int64', '--primary-key', 'path', '--blob-columns', 'path'])).code).toBe(0);
    const ii = await cli([...g, 'import', it2, imgs, '--format', 'images']);
    expect(ii.err).toBe('');
    expect(ii.out).toMatch(/imported 6 images/);
    const rows = jsonl((await cli([...g, 'scan', it2, '--format', 'jsonl'])).out);
    expect(rows.map((r) => r.label).sort()).toEqual(['blue', 'blue', 'blue', 'red', 'red', 'red']);
  }, 600_000);

  it('bad input exits non-zero and names the thing, the line or the column', async () => {
    const name = uniqueName('bad');
    expect((await cli([...g, 'table', 'create', name, '--schema', 'id:int64!,qty:int32'])).code).toBe(0);

    const unknown = await cli([...g, 'scan', 'no_such_table']);
    expect(unknown.code).toBe(3);
    expect(unknown.err).toMatch(/no_such_table/);

    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'id,qty\n1,5\n2,abc\n');
    const malformed = await cli([...g, 'import', name, bad]);
    expect(malformed.code).toBe(4);
    expect(malformed.err).toMatch(/bad\.csv:3: column 'qty'/);

    const ragged = join(dir, 'ragged.csv');
    writeFileSync(ragged, 'id,qty\n1,5\n2\n');
    const r2 = await cli([...g, 'import', name, ragged]);
    expect(r2.code).toBe(4);
    expect(r2.err).toMatch(/ragged\.csv:3: expected 2 fields/);

    const extra = join(dir, 'extra.csv');
    writeFileSync(extra, 'id,qty,color\n1,5,red\n');
    const mismatch = await cli([...g, 'import', name, extra]);
    expect(mismatch.code).toBe(4);
    expect(mismatch.err).toMatch(/column 'color' not in the table schema/);

    // issue 12 §8: a corrupt Parquet footer names the file, not '<bytes>'
    const corrupt = join(dir, 'corrupt.parquet');
    const cb = new Uint8Array(42);
    cb.set([0x50, 0x41, 0x52, 0x31]);
    cb.fill(0xff, 4, 34);
    new DataView(cb.buffer).setUint32(34, 10, true);
    cb.set([0x50, 0x41, 0x52, 0x31], 38);
    writeFileSync(corrupt, cb);
    const corrupted = await cli([...g, 'import', name, corrupt]);
    expect(corrupted.code).not.toBe(0);
    expect(corrupted.err).toContain(`corrupt Parquet footer in '${corrupt}'`);
    expect(corrupted.err).not.toContain('<bytes>');

    const missing = await cli([...g, 'import', name, join(dir, 'nope.csv')]);
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/nope\.csv/);
    // a table that does not exist yet: the error says how to make it from the file
    const noTable = await cli([...g, 'import', `${name}_absent`, bad]);
    expect(noTable.code).toBe(3);
    expect(noTable.err).toContain(`table 'default.${name}_absent' not found; create it first: \``);
    expect(noTable.err).toContain(`table create ${name}_absent --from ${bad}\``);

    // nothing of the failed imports was committed
    expect(jsonl((await cli([...g, 'scan', name, '--format', 'jsonl'])).out)).toEqual([]);

    const badSchema = await cli([...g, 'table', 'create', uniqueName('x'), '--schema', 'id:int65']);
    expect(badSchema.code).toBe(4);
    expect(badSchema.err).toMatch(/unknown type 'int65'/);

    // issue 12 §2: the CLI refuses the names the catalog refuses (one rule), creating nothing
    for (const args of [['/'], ['victim/nested'], ['..'], ['x', '-n', 'default/events']]) {
      const bad = await cli([...g, 'table', 'create', ...args, '--schema', 'id:int64']);
      expect(bad.code).toBe(4);
      expect(bad.err).toMatch(/name .* allowed: letters and digits/);
    }
    const badNs = await cli([...g, 'ns', 'create', 'a/b']);
    expect(badNs.code).toBe(4);
    expect(badNs.err).toMatch(/namespace name 'a\/b' contains '\/'/);

    const usage = await cli([...g, 'scan']);
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/missing required argument 'table'/);
  }, 600_000);

  it('every printing command speaks --format table|json|jsonl|csv; unpartitioned shows as such', async () => {
    const name = uniqueName('fmt');
    expect((await cli([...g, 'table', 'create', name, '--schema', 'id:int64!,v:utf8', '--primary-key', 'id', '--buckets', '1'])).code).toBe(0);
    const f = join(dir, `${name}.csv`);
    writeFileSync(f, 'id,v\n1,"a,b"\n2,c\n');
    expect((await cli([...g, 'import', name, f])).code).toBe(0);
    const formats = async (args: string[]) => {
      const r: Record<string, string> = {};
      for (const fmt of ['table', 'json', 'jsonl', 'csv']) {
        const x = await cli([...g, ...args, '--format', fmt]);
        expect(x.code, `${args.join(' ')} --format ${fmt}: ${x.err}`).toBe(0);
        r[fmt] = x.out;
      }
      return r;
    };
    const scan = await formats(['scan', name]);
    expect(JSON.parse(scan.json!)).toEqual([{ id: 1, v: 'a,b' }, { id: 2, v: 'c' }]);
    expect(jsonl(scan.jsonl!)).toEqual([{ id: 1, v: 'a,b' }, { id: 2, v: 'c' }]);
    expect(scan.csv).toBe('id,v\n1,"a,b"\n2,c\n');
    expect(scan.table!.split('\n')[0]).toMatch(/^id\s+v$/);

    const list = await formats(['table', 'list']);
    expect(JSON.parse(list.json!).find((t: { table: string }) => t.table === name)).toMatchObject({ namespace: 'default', 'primary key': ['id'], partitions: [], buckets: 1 });
    expect(list.csv!.split('\n')[0]).toBe('namespace,table,primary key,partitions,buckets,path');

    const nsl = await formats(['ns', 'list']);
    expect(JSON.parse(nsl.json!).map((n: { namespace: string }) => n.namespace)).toContain('default');

    const desc = await formats(['table', 'describe', name]);
    expect(JSON.parse(desc.json!)).toMatchObject({ name, primaryKeys: ['id'] });
    expect(JSON.parse(desc.jsonl!.trim())).toMatchObject({ name });
    expect(desc.csv!.split('\n').slice(0, 2)).toEqual(['column,type,nullable,roles', 'id,int64,false,primary key']);
    expect(desc.table).toMatch(/^\s+\(unpartitioned\)\s+version 0/m);

    const hist = await formats(['history', name]);
    expect(hist.table).toMatch(/\w+Commit\s+\(unpartitioned\)@0\s/m);
    expect(hist.table).not.toMatch(/-5/);
    expect(jsonl(hist.jsonl!)[0]).toMatchObject({ op: expect.stringMatching(/Commit$/), versions: [{ partition: '-5', version: 0 }], files: 1, rows: 2 });
    expect(JSON.parse(hist.json!)).toHaveLength(1);

    const compact = await cli([...g, 'compact', name, '--format', 'json']);
    expect(JSON.parse(compact.out)).toEqual([expect.objectContaining({ table: name, files_added: expect.any(Number) })]);
    const cleanup = await cli([...g, 'cleanup', name, '--format', 'csv']);
    expect(cleanup.out.split('\n')[0]).toBe('action,path,reason,bytes');
  }, 600_000);

  it('errors a person can act on: partitions, versions, filters, folders, cleaned-up versions', async () => {
    const name = uniqueName('err');
    expect((await cli([...g, 'table', 'create', name, '--schema', 'id:int64!,date:utf8!,kind:utf8', '--partition-by', 'date',
      '--primary-key', 'id', '--buckets', '1'])).code).toBe(0);
    const f = join(dir, `${name}.csv`);
    writeFileSync(f, 'id,date,kind\n1,2024-01-01,view\n2,2024-01-02,click\n3,2024-01-02,view\n');
    expect((await cli([...g, 'import', name, f])).code).toBe(0);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    expect((await cli([...g, 'import', name, f, '--mode', 'upsert'])).code).toBe(0);

    const noPart = await cli([...g, 'scan', name, '-p', 'date=2024-13-01']);
    expect(noPart.code).toBe(3);
    expect(noPart.err).toMatch(/has no partition date=2024-13-01: it has 2 partitions: date=2024-01-01, date=2024-01-02/);

    // a version without a partition on a multi-partition table is refused, saying what to use
    const v = await cli([...g, 'scan', name, '--version', '0']);
    expect(v.code).toBe(4);
    expect(v.err).toMatch(/versions are per partition and this scan selects 2 partitions.*--partition date=.*--timestamp/);
    const v0 = jsonl((await cli([...g, 'scan', name, '-p', 'date=2024-01-02', '--version', '0', '--format', 'jsonl'])).out);
    expect(v0.map((r) => r.id)).toEqual([2, 3]);
    // a version the partition does not have: which it has, and where to look
    const v9 = await cli([...g, 'scan', name, '-p', 'date=2024-01-02', '--version', '9']);
    expect(v9.code).toBe(3);
    expect(v9.err).toMatch(new RegExp(`has no partition at version 9: versions count per partition; the latest: date=2024-01-02: 1 \\(see: .* history ${name}\\)`));
    const asOf = jsonl((await cli([...g, 'scan', name, '--timestamp', String(t0), '--format', 'jsonl'])).out);
    expect(asOf).toHaveLength(3);

    const bare = await cli([...g, 'scan', name, '--filter', 'kind = click']);
    expect(bare.code).toBe(4);
    expect(bare.err).toMatch(/quote.*'click'/);

    const folder = join(dir, 'photos');
    mkdirSync(folder, { recursive: true });
    const fi = await cli([...g, 'import', name, folder]);
    expect(fi.code).toBe(4);
    expect(fi.err).toMatch(/photos is a folder: .*--format images/);

    // an upsert keeps version 0's files in version 1; compaction replaces them, then cleanup deletes them
    expect((await cli([...g, 'compact', name])).code).toBe(0);
    const later = String(Date.now() + 1);
    const cleaned = await cli([...g, 'cleanup', name, '--retain-since', later, '--orphan-window', '0', '--assume-no-writes', '--execute']);
    expect(cleaned.out).toMatch(/file\(s\), .* deleted: \d+ expired/);
    const gone = await cli([...g, 'scan', name, '-p', 'date=2024-01-02', '--version', '0']);
    expect(gone.code).toBe(3);
    expect(gone.err).toMatch(/version 0 of partition date=2024-01-02 of table '.*' was cleaned up \(committed .*Z, replaced by version 1 at .*Z\)/);
  }, 600_000);
});

describe('lakesoul-ts binary', () => {
  it('prints help with examples, exit codes and its version', async () => {
    expect(existsSync(DIST_BIN), 'packages/cli is built by `pnpm test` (turbo run build)').toBe(true);
    const r = await runCli(['table', 'create', '--help'], { direct: true });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--primary-key/);
    expect(r.out).toMatch(/Example/);
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.out).toMatch(/Exit codes: 0 ok, 1 failure, 2 usage error, 3 not found, 4 invalid input, 5 conflict/);
    const pkg = JSON.parse(readFileSync(new URL('../packages/cli/package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const v = await cli([flag]);
      expect(v).toMatchObject({ code: 0, out: `${pkg.version}\n` });
    }
    const { buildProgram } = await import('@lakesoul-ts/cli');
    const leaves: string[] = [];
    const walk = (c: { name(): string; commands: readonly unknown[]; helpInformation(): string }, path: string) => {
      if (c.commands.length === 0 && path) {
        let help = '';
        (c as unknown as { outputHelp(o: { error: boolean }): void; configureOutput(o: object): void }).configureOutput({ writeOut: (s: string) => { help += s; } });
        (c as unknown as { outputHelp(): void }).outputHelp();
        if (!/Examples?:/.test(help + c.helpInformation())) leaves.push(path);
      }
      for (const sub of c.commands as typeof c[]) walk(sub, path ? `${path} ${sub.name()}` : sub.name());
    };
    walk(buildProgram({ stdout: process.stdout, stderr: process.stderr }), '');
    expect(leaves, 'every command shows examples in --help').toEqual([]);
  });

  it('after the README set-up `pnpm lakesoul-ts` runs, and the hints it prints run as printed', async () => {
    const root = join(import.meta.dirname, '..');
    const pnpm = (args: string[]) => spawnSync('pnpm', args, { cwd: root, encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS });
    const pkg = JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8')) as { version: string };
    expect(pnpm(['lakesoul-ts', '--version']).stdout).toBe(`${pkg.version}\n`);
    const home = mkdtempSync(join(tmpdir(), 'lakesoul-hint-'));
    const missing = pnpm(['lakesoul-ts', '--home', home, 'scan', 'nope']);
    expect(missing.status).toBe(3);
    const hint = /\(see: (pnpm lakesoul-ts --home \S+ table list[^)]*)\)/.exec(missing.stderr);
    expect(hint, missing.stderr).not.toBeNull();
    const again = spawnSync('bash', ['-c', hint![1]!], { cwd: root, encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS });
    expect(again.status, again.stderr).toBe(0);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`serve starts a Flight endpoint, answers, says how it is exposed, and stops on the first ${signal}`, async () => {
      const home = mkdtempSync(join(tmpdir(), 'lakesoul-serve-'));
      const run = runCli(['--home', home, 'serve', '--port', '0'], { timeoutMs: COMMAND_TIMEOUT_MS });
      const m = await waitForOutput(run.child, /grpc:\/\/127\.0\.0\.1:(\d+) .*auth: none \(loopback: only this machine can connect\)/);
      const { FlightClient } = await import('@lakesoul-ts/connector-flight');
      const client = await FlightClient.connect(`grpc://127.0.0.1:${m[1]}`);
      const actions = await client.listActions();
      expect(actions.map((a: { type: string }) => a.type)).toContain('create-table');
      client.close();
      // while it serves, other commands on the same embedded home run through it
      const beside = await cli(['--home', home, 'table', 'list']);
      expect(beside.code, beside.err).toBe(0);
      expect(beside.err).toBe('no tables\n'); // the home existed: nothing more to say
      // a mistyped home is made new: `table list` says so (it looked like the tables were gone)
      const typo = await cli(['--home', `${home}-typo`, 'table', 'list']);
      expect([typo.code, typo.err]).toEqual([0, expect.stringMatching(/^no tables: this command made a new, empty lakehouse \(embedded PGlite in .*-typo\/catalog\); check --home or LAKESOUL_TS_HOME/)]);
      run.child.kill(signal);
      const r = await run;
      expect(r.code).toBe(0);
      expect(r.err).toMatch(new RegExp(`${signal}: shutting down`));
      expect(r.err).toMatch(/stopped/);
      expect(r.ms).toBeLessThan(COMMAND_TIMEOUT_MS);
    });
  }

  it('a moved home: reads name the missing table directory; relocate points the tables at the new place', async () => {
    // a space in the path: the catalog stores paths unencoded (file:///a b), and relocate must match them
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli moved-'));
    const old = join(dir, 'old');
    const moved = join(dir, 'new');
    writeFileSync(join(dir, 'rows.jsonl'), '{"id":1,"v":"a"}\n{"id":2,"v":"b"}\n');
    expect((await cli(['--home', old, 'table', 'create', 't', '--from', join(dir, 'rows.jsonl'), '--primary-key', 'id'])).code).toBe(0);
    expect((await cli(['--home', old, 'import', 't', join(dir, 'rows.jsonl')])).code).toBe(0);
    await cli(['--home', old, 'catalog-server', '--stop']);
    renameSync(old, moved);
    const lost = await cli(['--home', moved, 'scan', 't', '--format', 'jsonl']);
    expect(lost.code).not.toBe(0);
    expect(lost.err).toContain(`nor does the table's directory file://${old}/warehouse/default/t`);
    expect(lost.err).toContain('CLI: `relocate <old> <new>`');
    const notThere = await cli(['--home', moved, 'relocate', join(old, 'warehouse'), join(dir, 'nowhere')]);
    expect(notThere.code).not.toBe(0);
    expect(notThere.err).toContain(`relocate: ${dir}/nowhere is not a directory: move the tables' files there first (nothing was changed)`);
    // Hadoop's spelling of a location (as LakeSoul's Spark prints table paths) is a location too
    const hadoop = await cli(['--home', moved, 'relocate', `file:${old}/warehouse`, `file:${moved}/warehouse`, '--dry-run']);
    expect(hadoop.code, hadoop.err).toBe(0);
    expect(hadoop.out).toBe(`default.t: file://${old}/warehouse/default/t -> file://${moved}/warehouse/default/t\nwould relocate 1 table (2 file paths in 1 commit)\n`);
    const r = await cli(['--home', moved, 'relocate', join(old, 'warehouse'), join(moved, 'warehouse')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`default.t: file://${old}/warehouse/default/t -> file://${moved}/warehouse/default/t\nrelocated 1 table (2 file paths in 1 commit)\n`); // ids 1 and 2 hash to two buckets
    const rows = jsonl((await cli(['--home', moved, 'scan', 't', '--format', 'jsonl'])).out);
    expect(rows.sort((a, b) => Number(a.id) - Number(b.id))).toEqual([{ id: 1, v: 'a' }, { id: 2, v: 'b' }]);
    await cli(['--home', moved, 'catalog-server', '--stop']);
  });

  it('serve takes its memory limits as flags (--memory-budget, --max-streams, --memory-wait) and refuses unusable ones', async () => {
    const home = mkdtempSync(join(tmpdir(), 'lakesoul-serve-'));
    for (const [flag, value, message] of [
      ['--memory-budget', '8', /--memory-budget.*expected an integer from 16/],
      ['--max-streams', '0', /--max-streams.*expected an integer from 1/],
      ['--memory-wait', 'soon', /--memory-wait.*expected a number of seconds/],
      ['--memory-wait', '0', /--memory-wait.*expected a number of seconds above 0/],
      ['--ticket-ttl', 'abc', /--ticket-ttl.*expected a number of seconds/],
      ['--max-message-size', '0', /--max-message-size.*expected an integer from 1/],
    ] as const) {
      const r = await cli(['--home', home, 'serve', '--port', '0', flag, value]);
      expect(r.code, `${flag} ${value}: ${r.err}`).not.toBe(0);
      expect(r.err).toMatch(message);
    }
    expect((await cli(['--home', home, 'table', 'create', 'big', '--schema', 'id:int64!,v:utf8'])).code).toBe(0);
    const run = runCli(['--home', home, 'serve', '--port', '0', '--memory-budget', '64', '--max-streams', '4', '--memory-wait', '5', '--max-message-size', '1'], { timeoutMs: COMMAND_TIMEOUT_MS });
    const [address] = (await waitForOutput(run.child, /grpc:\/\/127\.0\.0\.1:\d+/))!;
    // --max-message-size bounds what a DoPut message may carry: a 1.5 MiB row is refused, a small one goes in
    const client = await FlightClient.connect(address!);
    try {
      const row = (v: string) => tableFromArrays({ id: BigInt64Array.from([1n]), v: [v] });
      // (a JavaScript caller's bare { table } is refused by name: it was a TypeError)
      await expect(client.doPut({ table: 'big' } as never, row('x'))).rejects.toThrow(/a Flight descriptor is \{ path: .* got \{"table":"big"\}/);
      await expect(client.doPut({ cmd: { table: 'big' } }, row('x'.repeat(1_500_000)))).rejects.toThrow(/larger than max|LIMIT_EXCEEDED|RESOURCE_EXHAUSTED/);
      await client.doPut({ cmd: { table: 'big' } }, row('x'.repeat(100_000)));
      expect((await client.readAll(await client.getFlightInfo({ path: ['big'] }))).numRows).toBe(1);
    } finally {
      client.close();
    }
    run.child.kill('SIGTERM');
    const r = await run;
    expect(r.code, r.err).toBe(0);
  });

  it('serve refuses a non-loopback address without auth unless --insecure-no-auth, and then warns', async () => {
    const home = mkdtempSync(join(tmpdir(), 'lakesoul-serve-'));
    const refused = await cli(['--home', home, 'serve', '--host', '0.0.0.0', '--port', '0']);
    expect(refused.code).toBe(4);
    expect(refused.err).toMatch(/serve --host 0\.0\.0\.0: .*--token .*--insecure-no-auth/);
    const insecure = runCli(['--home', home, 'serve', '--host', '0.0.0.0', '--port', '0', '--insecure-no-auth'], { timeoutMs: COMMAND_TIMEOUT_MS });
    await waitForOutput(insecure.child, /grpc:\/\/0\.0\.0\.0:\d+ .*auth: NONE \(--insecure-no-auth\)/);
    insecure.child.kill('SIGTERM');
    const r1 = await insecure;
    expect(r1.code, `${r1.signal} ${r1.err}`).toBe(0);
    expect(r1.err).toMatch(/warning: serving 0\.0\.0\.0 without authentication/);
    // tokens from the environment, white space around each ignored (" b" could never be presented)
    const withToken = runCli(['--home', home, 'serve', '--host', '0.0.0.0', '--port', '0'], { timeoutMs: COMMAND_TIMEOUT_MS, env: { LAKESOUL_FLIGHT_TOKENS: 'another-token, a-long-enough-token' } });
    const served = await waitForOutput(withToken.child, /grpc:\/\/0\.0\.0\.0:(\d+) .*auth: bearer tokens\)/);
    const { FlightClient } = await import('@lakesoul-ts/connector-flight');
    const authed = await FlightClient.connect(`grpc://127.0.0.1:${served[1]}`, { token: 'a-long-enough-token' });
    expect((await authed.listActions()).length).toBeGreaterThan(0);
    authed.close();
    withToken.child.kill('SIGINT');
    const r2 = await withToken;
    expect(r2.code, `${r2.signal} ${r2.err}`).toBe(0);
    expect(r2.err).not.toMatch(/warning/);
    // an empty token (`--token "$UNSET"`) or password is refused: it turned auth off, on 0.0.0.0
    for (const [args, env, message] of [
      [['--token', ''], {}, /an empty bearer token would accept any caller/],
      [[], { LAKESOUL_FLIGHT_TOKENS: ',' }, /an empty bearer token would accept any caller/],
      [[], { LAKESOUL_FLIGHT_TOKENS: ' ' }, /an empty bearer token would accept any caller/],
      [['--token', ' padded '], {}, /begins or ends with white space, which no client can send/],
      [['--user', 'alice:'], {}, /user 'alice' has an empty password/],
      [['--token', 'a-long-enough-token', '--ticket-secret', 'short'], {}, /--ticket-secret must be at least 16 bytes/],
    ] as const) {
      const r = await runCli(['--home', home, 'serve', '--host', '0.0.0.0', '--port', '0', ...args], { timeoutMs: COMMAND_TIMEOUT_MS, env });
      expect([r.code, r.err], args.join(' ')).toEqual([4, expect.stringMatching(message)]);
    }
    // the UI likewise (it only warned: a 0.0.0.0 UI without a token also answered DNS-rebinding pages)
    const ui = await cli(['--home', home, 'ui', '--host', '0.0.0.0', '--port', '0']);
    expect([ui.code, ui.err]).toEqual([4, expect.stringMatching(/ui --host 0\.0\.0\.0: .*anyone read every table.*--token .*--insecure-no-auth/)]);
    const uiInsecure = runCli(['--home', home, 'ui', '--host', '0.0.0.0', '--port', '0', '--insecure-no-auth'], { timeoutMs: COMMAND_TIMEOUT_MS });
    await waitForOutput(uiInsecure.child, /LakeSoul UI on http:/);
    uiInsecure.child.kill('SIGTERM');
    const r3 = await uiInsecure;
    expect(r3.code, `${r3.signal} ${r3.err}`).toBe(0);
    expect(r3.err).toMatch(/warning: serving 0\.0\.0\.0 without authentication .*can read every table/);
  });
});

describe('init on an object-store warehouse', () => {
  it('reaches the bucket now: a missing one is an error naming it (not the first import failing later)', async () => {
    const bucket = await freshBucket('cli-init'); // sets AWS_ENDPOINT for the commands
    const home = join(mkdtempSync(join(tmpdir(), 'lakesoul-cli-init-')), 'home');
    const ok = await cli(['--home', home, '--warehouse', `s3://${bucket}/wh`, 'init']);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain(`warehouse: s3://${bucket}/wh`);
    const missing = await cli(['--home', home, '--warehouse', `s3://${bucket}-missing/wh`, 'init']);
    expect(missing.code).toBe(3);
    expect(missing.err).toContain(`bucket '${bucket}-missing' does not exist (list s3://${bucket}-missing/wh/)`);
    // table create too (the PostgreSQL + S3 guide skips init): nothing is registered
    const created = await cli(['--home', home, '--warehouse', `s3://${bucket}-missing/wh`, 'table', 'create', 'lost', '--schema', 'id:int64!']);
    expect(created.code).toBe(3);
    expect(created.err).toContain(`bucket '${bucket}-missing' does not exist`);
    const listed = await cli(['--home', home, 'table', 'list', '--format', 'json']);
    expect(JSON.parse(listed.out)).toEqual([]);
  });
});

describe('cleanup of what a killed writer left in the catalog', () => {
  it('reports abandoned commit rows past --orphan-window, deletes them with --execute (PostgreSQL + S3)', async () => {
    const bucket = await freshBucket('cli-abandoned');
    const url = testEnv('LAKESOUL_TEST_PG_URL');
    const g = ['--catalog', url, '--warehouse', `s3://${bucket}/warehouse`];
    const name = uniqueName('abandoned');
    expect((await cli([...g, 'table', 'create', name, '--schema', 'id:int64!,v:utf8', '--primary-key', 'id'])).code).toBe(0);
    const csv = join(mkdtempSync(join(tmpdir(), 'lakesoul-cli-abandoned-')), 'rows.csv');
    writeFileSync(csv, 'id,v\n1,a\n2,b\n');
    expect((await cli([...g, 'import', name, csv])).code).toBe(0);
    // phase 1 of a write killed before phase 2, 26 hours ago (past the default window, 24 h)
    const catalog = new Catalog(await PgDriver.connect({ url }));
    try {
      const t = await catalog.getTable(name);
      await catalog.driver.query(`INSERT INTO data_commit_info (table_id, partition_desc, commit_id, file_ops, commit_op, committed, timestamp)
        VALUES ($1, '-5', gen_random_uuid(), ARRAY[ROW($2, 'add', 10, 'id,v')::data_file_op], 'MergeCommit', false, $3)`,
      [t.tableId, `${t.path}/part-killed.parquet`, Date.now() - 26 * 3_600_000]);
      const line = (verb: string) => new RegExp(`^1 abandoned commit row \\(uncommitted, older than --orphan-window\\) ${verb} the catalog$`, 'm');
      const dry = await cli([...g, 'cleanup', name]);
      expect(dry.code, dry.err).toBe(0);
      expect(dry.out).toMatch(line('would be deleted from'));
      expect(dry.out).toMatch(/dry run: run again with --execute/);
      // within the window (28 h): a write that may still commit, not mentioned
      expect((await cli([...g, 'cleanup', name, '--orphan-window', '1680'])).out).not.toMatch(/abandoned/);
      // structured output stays one record per file; the count goes to stderr
      const json = await cli([...g, 'cleanup', name, '--format', 'json']);
      expect(JSON.parse(json.out)).toEqual([]);
      expect(json.err).toMatch(line('would be deleted from'));
      const exec = await cli([...g, 'cleanup', name, '--execute']);
      expect(exec.out).toMatch(line('deleted from'));
      expect((await cli([...g, 'cleanup', name])).out).not.toMatch(/abandoned/);
      const left = await catalog.driver.query<{ n: number }>('SELECT count(*)::int AS n FROM data_commit_info WHERE table_id = $1 AND NOT committed', [t.tableId]);
      expect(left.rows[0]!.n).toBe(0);
      expect(jsonl((await cli([...g, 'scan', name, '--format', 'jsonl'])).out)).toHaveLength(2);
    } finally {
      await catalog.close();
    }
  });
});
