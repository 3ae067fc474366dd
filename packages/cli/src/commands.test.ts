/**
 * Commands run in-process (`run`) on a fresh home in a temporary directory: what a person sees on
 * stdout and stderr, and the exit code.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliInProcess as cli } from './test-support/run-in-process.js';

/** A fresh directory holding a home (`<dir>/home`) and the files a test writes. */
function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'lakesoul-cli-commands-'));
}

describe('import of JSONL into a schema inferred from it', () => {
  it('loads a column of mixed JSON values (inferred utf8) as their JSON text, and says so', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'mix.jsonl'), '{"id":1,"x":1}\n{"id":2,"x":"a"}\n{"id":3,"x":true}\n{"id":4,"x":[1,{"k":12345678901234567890}]}\n{"id":5,"x":1.50}\n{"id":6}\n');
    expect((await cli(dir, ['table', 'create', 'fmix', '--from', 'mix.jsonl'])).code).toBe(0);
    const imported = await cli(dir, ['import', 'fmix', 'mix.jsonl']);
    expect(imported.err).toMatch(/note: column 'x' \(utf8\): 4 values that are not JSON strings were stored as their JSON text \(first at mix\.jsonl:1\)/);
    expect(imported.code, imported.err).toBe(0);
    const rows = await cli(dir, ['scan', 'fmix', '--format', 'jsonl']);
    expect(rows.out.trim().split('\n').map((l) => JSON.parse(l) as unknown).sort((a, b) => (a as { id: number }).id - (b as { id: number }).id)).toEqual([
      { id: 1, x: '1' }, { id: 2, x: 'a' }, { id: 3, x: 'true' }, { id: 4, x: '[1,{"k":12345678901234567890}]' }, { id: 5, x: '1.5' }, { id: 6, x: null },
    ]);
  });
});

describe('table create --from JSON lines', () => {
  it('infers a column of numbers written 1.0 as float64, so later fractions import (it was int64: 1.5 refused)', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'w.jsonl'), '{"id":1,"w":1.0,"n":[2.0]}\n{"id":2,"w":3.0,"n":[]}\n');
    expect((await cli(dir, ['table', 'create', 'w', '--from', 'w.jsonl', '--primary-key', 'id'])).code).toBe(0);
    expect((await cli(dir, ['table', 'describe', 'w', '--format', 'csv'])).out).toBe('column,type,nullable,roles\nid,int64,false,primary key\nw,float64,true,\nn,list<float64>,true,\n');
    writeFileSync(join(dir, 'more.jsonl'), '{"id":3,"w":1.5,"n":[0.25]}\n');
    for (const f of ['w.jsonl', 'more.jsonl']) expect((await cli(dir, ['import', 'w', f])).code).toBe(0);
    expect((await cli(dir, ['scan', 'w', '--format', 'jsonl'])).out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: number }).sort((a, b) => a.id - b.id)).toEqual([
      { id: 1, w: 1, n: [2] }, { id: 2, w: 3, n: [] }, { id: 3, w: 1.5, n: [0.25] },
    ]);
  });
});

describe('export and import formats', () => {
  it('export tells the format from the extension whatever its case, as import does, and .json round-trips as one JSON array', async () => {
    const dir = scratch();
    expect((await cli(dir, ['table', 'create', 't', '--schema', 'id:int64!,s:utf8,tags:list<utf8>'])).code).toBe(0);
    writeFileSync(join(dir, 'in.jsonl'), '{"id":1,"s":"a","tags":["x"]}\n{"id":2,"s":null,"tags":[]}\n');
    expect((await cli(dir, ['import', 't', 'in.jsonl'])).code).toBe(0);
    for (const [file, text] of [['O.CSV', /^id,s,tags\n/], ['o.JSONL', /^\{"id":1/], ['x.Parquet', /^PAR1/], ['n.ndjson', /^\{"id":1/], ['x.json', /^\[\n\{"id":1/]] as const) {
      const r = await cli(dir, ['export', 't', file]);
      expect(r.code, `${file}: ${r.err}`).toBe(0);
      expect(readFileSync(join(dir, file), 'latin1'), file).toMatch(text);
    }
    const tsv = await cli(dir, ['export', 't', 'x.tsv']);
    expect([tsv.code, tsv.err]).toEqual([4, expect.stringMatching(/cannot export to x\.tsv: export writes CSV with commas, not tabs/)]);
    const unknown = await cli(dir, ['export', 't', 'x.txt']);
    expect([unknown.code, unknown.err]).toEqual([4, expect.stringMatching(/cannot tell the format of x\.txt from its extension \(\.parquet, \.pq, \.csv, \.jsonl, \.ndjson, \.json\): use --format/)]);
    // scan --format json > s.json, imported again (it was read as JSON lines: 'not valid JSON')
    writeFileSync(join(dir, 's.json'), (await cli(dir, ['scan', 't', '--format', 'json'])).out);
    expect((await cli(dir, ['table', 'create', 'u', '--from', 's.json'])).code).toBe(0);
    for (const f of ['s.json', 'x.json', 'O.CSV', 'x.Parquet']) {
      const r = await cli(dir, ['import', 'u', f]);
      expect(r.code, `${f}: ${r.err}`).toBe(0);
      expect(r.out).toMatch(/imported 2 rows/);
    }
  });
});

describe('messages of small things', () => {
  it('an option value out of range exits 4 as --limit -1 does, not 2', async () => {
    const dir = scratch();
    expect((await cli(dir, ['table', 'create', 't', '--schema', 'id:int64'])).code).toBe(0);
    for (const args of [['--version', '-1'], ['--limit', '-1'], ['--format', 'xml']]) {
      const r = await cli(dir, ['scan', 't', ...args]);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(4);
      expect(r.err).toMatch(args[0] === '--limit' ? /--limit must be a non-negative integer/ : new RegExp(`option '${args[0]} <[a-z]+>' argument '${args[1]}' is invalid`));
    }
    expect((await cli(dir, ['scan', 't', '--no-such-flag'])).code).toBe(2);
  });

  it('history of a table with no commits says so; an import into many partitions summarizes their versions', async () => {
    const dir = scratch();
    expect((await cli(dir, ['table', 'create', 't', '--schema', 'id:int64,p:int32', '--partition-by', 'p'])).code).toBe(0);
    const empty = await cli(dir, ['history', 't']);
    expect(empty.code).toBe(0);
    expect(empty.err).toMatch(/no commits yet: table 'default\.t' has not been written to \(`.*import t <file>` adds rows\)/);
    expect((await cli(dir, ['history', 't', '--format', 'json'])).out.trim()).toBe('[]');
    writeFileSync(join(dir, 'p.csv'), `id,p\n${Array.from({ length: 13 }, (_, i) => `${i},${i}`).join('\n')}\n`);
    const r = await cli(dir, ['import', 't', 'p.csv']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^imported 13 rows from p\.csv into default\.t: 13 files, versions p=0@0 p=1@0 (\S+@0 ){8}\.\.\. and 3 more partitions \(version 0\)\n$/);
    const history = await cli(dir, ['history', 't']);
    expect(history.out).toMatch(/p=0@0, p=1@0, (\S+@0, ){8}\.\.\. and 3 more partitions \(version 0\)/);
    expect(history.err).toBe('');
    // csv: one line per partition version (all 13)
    expect((await cli(dir, ['history', 't', '--format', 'csv'])).out.trim().split('\n').slice(1).map((l) => l.split(',').slice(2, 4).join(' ')).sort())
      .toEqual(Array.from({ length: 13 }, (_, i) => `p=${i} 0`).sort());
  });

  it('--columns naming a column twice is refused, naming it (table and csv printed it twice, jsonl once)', async () => {
    const dir = scratch();
    expect((await cli(dir, ['table', 'create', 't', '--schema', 'id:int64,v:utf8'])).code).toBe(0);
    for (const cmd of [['scan', 't'], ['export', 't', 'x.csv']]) {
      const r = await cli(dir, [...cmd, '--columns', 'id,v,id']);
      expect([r.code, r.err], cmd.join(' ')).toEqual([4, "error: --columns 'id,v,id': column 'id' is named twice: name each column once\n"]);
    }
  });
});

describe('incremental reads', () => {
  it('scan and export --incremental warn of each partition rewritten or dropped within the range (its rows are its whole state, to replace)', async () => {
    const dir = scratch();
    expect((await cli(dir, ['table', 'create', 'ev', '--schema', 'id:int64!,part:utf8!,a:int64', '--partition-by', 'part', '--primary-key', 'id'])).code).toBe(0);
    writeFileSync(join(dir, 'in.jsonl'), '{"id":1,"part":"p","a":1}\n{"id":2,"part":"p","a":2}\n{"id":3,"part":"q","a":3}\n{"id":4,"part":"r","a":4}\n');
    expect((await cli(dir, ['import', 'ev', 'in.jsonl'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 5));
    const start = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    const { Lakehouse } = await import('@lakesoul-ts/io');
    const lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'home', 'catalog') }, warehouse: join(dir, 'home', 'warehouse') });
    try {
      const t = await lakehouse.table('ev');
      await t.deleteWhere('a = 1'); // rewrites partition p
      await t.dropPartitions({ part: 'q' });
      await t.write([{ id: 5, part: 'r', a: 5 }], { mode: 'upsert' }); // a change: no warning
    } finally { await lakehouse.close(); }
    await new Promise((r) => setTimeout(r, 5));
    const range = `${start}..${Date.now()}`;
    const scanned = await cli(dir, ['scan', 'ev', '--incremental', range, '--format', 'jsonl', '--quiet']);
    expect(scanned.code, scanned.err).toBe(0);
    expect(scanned.out.trim().split('\n').map((l) => JSON.parse(l) as { id: number }).map((r) => r.id).sort()).toEqual([2, 5]);
    const warned = (s: string) => s.split('\n').filter((l) => l.startsWith('warning: partition')).sort();
    expect(warned(scanned.err)).toEqual([
      expect.stringMatching(/^warning: partition part=p was rewritten or dropped within the range: its rows here are its whole state .*replace what you hold of it/),
      expect.stringMatching(/^warning: partition part=q was rewritten or dropped within the range/),
    ]);
    const exported = await cli(dir, ['export', 'ev', 'inc.jsonl', '--incremental', range]);
    expect(exported.code, exported.err).toBe(0);
    expect(warned(exported.err)).toEqual(warned(scanned.err));
    const whole = await cli(dir, ['scan', 'ev', '--format', 'jsonl']);
    expect(whole.err).not.toMatch(/warning: partition/);
  });

  it('more than 10 such partitions: one warning line naming them all (9,000 dropped partitions printed 9,000 lines)', async () => {
    const dir = scratch();
    expect((await cli(dir, ['table', 'create', 'ev', '--schema', 'id:int64!,part:utf8!', '--partition-by', 'part', '--primary-key', 'id'])).code).toBe(0);
    // (one value with a space: the JSON names it as it is, not quoted as text lines quote it)
    const part = (i: number) => (i === 0 ? 'p 0' : `p${i}`);
    writeFileSync(join(dir, 'in.jsonl'), Array.from({ length: 12 }, (_, i) => `{"id":${i},"part":"${part(i)}"}\n`).join(''));
    expect((await cli(dir, ['import', 'ev', 'in.jsonl'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 5));
    const start = Date.now();
    const { Lakehouse } = await import('@lakesoul-ts/io');
    const lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'home', 'catalog') }, warehouse: join(dir, 'home', 'warehouse') });
    try {
      await (await lakehouse.table('ev')).dropPartitions(Array.from({ length: 11 }, (_, i) => `part=${part(i)}`));
    } finally { await lakehouse.close(); }
    await new Promise((r) => setTimeout(r, 5));
    const scanned = await cli(dir, ['scan', 'ev', '--incremental', `${start}..${Date.now()}`, '--format', 'jsonl']);
    expect(scanned.code, scanned.err).toBe(0);
    const warnings = scanned.err.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings).toEqual([expect.stringMatching(/^warning: 11 partitions were rewritten or dropped within the range: their rows here are their whole state .* They are \(JSON\): \[.*\]$/)]);
    expect((JSON.parse(warnings[0].split(' They are (JSON): ')[1]) as string[]).sort()).toEqual(Array.from({ length: 11 }, (_, i) => `part=${part(i)}`).sort());
  });
});
