/**
 * Drives every `lakesoul-ts` command against the embedded default (PGlite + local disk) and against the
 * real PostgreSQL server + the S3 test server, including the bad-input cases a person hits.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it, beforeAll } from 'vitest';
import { PNG } from 'pngjs';
import { run } from '@lakesoul-ts/cli';
import { decodeParquet } from '@lakesoul-ts/io';
import { freshBucket, testEnv, uniqueName } from './cli-env.js';

interface Result { code: number; out: string; err: string }

async function cli(args: string[]): Promise<Result> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => { out += d; });
  stderr.on('data', (d) => { err += d; });
  const code = await run(args, { stdout, stderr });
  return { code, out, err };
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

    const old = jsonl((await cli([...g, 'scan', 'events', '-n', ns, '-p', 'date=2024-01-01', '--version', '0', '--format', 'jsonl'])).out);
    expect(old.find((r) => r.id === 2)!.kind).toBe('b');
    expect(old).toHaveLength(2);

    const head = await cli([...g, 'head', 'events', '-n', ns, '-l', '2']);
    expect(head.out.trim().split('\n')).toHaveLength(4); // header, rule, 2 rows
    expect(head.err).toMatch(/\(2 rows\)/);

    const hist = await cli([...g, 'history', 'events', '-n', ns]);
    expect(hist.code).toBe(0);
    expect(hist.out).toMatch(/date=2024-01-01\s+0\s+MergeCommit/);
    expect(hist.out).toMatch(/date=2024-01-01\s+1\s+MergeCommit/);

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
    expect(dry.out).toMatch(/would delete\s+\S+\.parquet\s+\(expired/);
    expect(dry.out).toMatch(/would be deleted; run again with --execute/);
    const exec = await cli([...g, 'cleanup', 'events', '-n', ns, '--retain-since', now, '--orphan-window', '0', '--execute']);
    expect(exec.out).toMatch(/deleted\s+\S+\.parquet\s+\(expired/);
    const again = await cli([...g, 'cleanup', 'events', '-n', ns, '--retain-since', now, '--orphan-window', '0']);
    expect(again.out).toMatch(/^0 file\(s\)/m);
    const still = jsonl((await cli([...g, 'scan', 'events', '-n', ns, '--format', 'jsonl'])).out);
    expect(still).toHaveLength(4);

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
    expect((await cli([...g, 'import', name, file])).code).toBe(0);
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
});

describe('lakesoul-ts binary', () => {
  const bin = resolve(import.meta.dirname, '../packages/cli/dist/bin.js');
  it('prints help with examples', async () => {
    expect(existsSync(bin), 'packages/cli is built by `pnpm test` (turbo run build)').toBe(true);
    const r = await new Promise<{ code: number; out: string }>((res) => {
      const p = spawn(process.execPath, [bin, 'table', 'create', '--help']);
      let out = '';
      p.stdout.on('data', (d) => { out += d; });
      p.on('exit', (code) => res({ code: code ?? 1, out }));
    });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--primary-key/);
    expect(r.out).toMatch(/Example/);
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
  it('serve starts a Flight endpoint, answers, and shuts down on SIGINT', async () => {
    const home = mkdtempSync(join(tmpdir(), 'lakesoul-serve-'));
    const p = spawn(process.execPath, [bin, '--home', home, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    const port = await new Promise<number>((res, rej) => {
      p.stdout.on('data', (d) => { out += d; const m = /grpc:\/\/127\.0\.0\.1:(\d+)/.exec(out); if (m) res(Number(m[1])); });
      p.on('exit', (c) => rej(new Error(`serve exited ${c}: ${err}`)));
    });
    const { FlightClient } = await import('@lakesoul-ts/connector-flight');
    const client = await FlightClient.connect(`grpc://127.0.0.1:${port}`);
    const actions = await client.listActions();
    expect(actions.map((a: { type: string }) => a.type)).toContain('create-table');
    client.close();
    const code = await new Promise<number | null>((res) => { p.on('exit', res); p.kill('SIGINT'); });
    expect(code).toBe(0);
  });
});
