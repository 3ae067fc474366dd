/**
 * `--timestamp`, `--incremental` and `cleanup --retain-since` read a time without an offset as UTC,
 * as filters, Flight and `history` do, whatever the machine's TZ: Date.parse took it as local time,
 * so the same command returned other rows in Kathmandu or São Paulo, and a cleanup under another TZ
 * would delete files of versions the user asked to keep.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliInProcess } from './test-support/run-in-process.js';

const ZONES = ['UTC', 'Asia/Kathmandu', 'America/Sao_Paulo', 'Pacific/Chatham'];

describe('time options without an offset are UTC', () => {
  let dir: string;
  const tz = process.env.TZ;
  /** A UTC wall time (no offset) between the two imports' commits. */
  let between: string;
  const ids = (csv: string) => csv.trim().split('\n').slice(1).sort();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'time-options-'));
    writeFileSync(join(dir, 'a.csv'), 'id,v\n1,a\n');
    writeFileSync(join(dir, 'b.csv'), 'id,v\n2,b\n');
    expect((await cliInProcess(dir, ['table', 'create', 't', '--schema', 'id:int64!,v:utf8', '--primary-key', 'id'])).code).toBe(0);
    expect((await cliInProcess(dir, ['import', 't', 'a.csv'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await cliInProcess(dir, ['import', 't', 'b.csv'])).code).toBe(0);
    const history = JSON.parse((await cliInProcess(dir, ['history', 't', '--format', 'json'])).out) as Array<{ time: string }>;
    const times = history.map((h) => Date.parse(h.time)).sort((a, b) => a - b);
    expect(times).toHaveLength(2);
    between = new Date(Math.floor((times[0]! + times[1]!) / 2)).toISOString().replace(/Z$/, '');
  }, 60_000);

  afterAll(() => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
    rmSync(dir, { recursive: true, force: true });
  });

  it('--timestamp and --incremental give the same rows under every TZ, in both spellings', async () => {
    for (const zone of ZONES) {
      process.env.TZ = zone;
      for (const t of [between, between.replace('T', ' ')]) {
        const asOf = await cliInProcess(dir, ['scan', 't', '--timestamp', t, '--format', 'csv', '--columns', 'id']);
        expect([zone, asOf.code, ids(asOf.out)], asOf.err).toEqual([zone, 0, ['1']]);
        // the end: now, zone-less (an end later than now is refused; read as local time west of UTC, it would be)
        const now = new Date().toISOString().slice(0, 23);
        const since = await cliInProcess(dir, ['scan', 't', '--incremental', `${t}..${now}`, '--format', 'csv', '--columns', 'id']);
        expect([zone, since.code, ids(since.out)], since.err).toEqual([zone, 0, ['2']]);
      }
    }
  }, 60_000);

  it('cleanup --retain-since names the instant given, read as UTC; offsets and dates still work', async () => {
    for (const zone of ZONES) {
      process.env.TZ = zone;
      const r = await cliInProcess(dir, ['cleanup', 't', '--retain-since', '2026-01-02T03:04:05']);
      expect([zone, r.code], r.err).toEqual([zone, 0]);
      expect(r.out + r.err).toContain('2026-01-02T03:04:05.000Z');
      const offset = await cliInProcess(dir, ['cleanup', 't', '--retain-since', '2026-01-02T04:04:05+0100']);
      expect(offset.out + offset.err).toContain('2026-01-02T03:04:05.000Z');
      // history prints times with Z, and docs say to copy them (Z was refused: not a valid date or time)
      for (const z of ['2026-01-02T03:04:05Z', '2026-01-02T03:04:05.000Z', '2026-01-02T03:04:05z', '2026-01-02 03:04:05Z']) {
        const zulu = await cliInProcess(dir, ['cleanup', 't', '--retain-since', z]);
        expect([z, zulu.code], zulu.err).toEqual([z, 0]);
        expect(zulu.out + zulu.err).toContain('2026-01-02T03:04:05.000Z');
      }
      const day = await cliInProcess(dir, ['cleanup', 't', '--retain-since', '2026-01-02']);
      expect(day.out + day.err).toContain('2026-01-02T00:00:00.000Z');
    }
  }, 60_000);

  it('refuses what is not ISO 8601 (Date.parse read "Dec 6 2026" in local time) and impossible days', async () => {
    for (const bad of ['Dec 6 2026', '2026-02-30', '2026-12-06T25:00', 'yesterday']) {
      const r = await cliInProcess(dir, ['scan', 't', '--timestamp', bad]);
      expect([bad, r.code]).toEqual([bad, 4]);
      expect(r.err).toContain(`--timestamp '${bad}'`);
    }
  });
});

describe('history lists the partitions of one commit in the same order under every locale', () => {
  it('by code units, as the catalog lists them (localeCompare put p=ça before p=cb)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'history-order-'));
    try {
      writeFileSync(join(dir, 'p.csv'), 'id,p\n1,cb\n2,ça\n3,Zz\n4,aa\n');
      expect((await cliInProcess(dir, ['table', 'create', 'tp', '--schema', 'id:int64!,p:utf8!', '--partition-by', 'p'])).code).toBe(0);
      expect((await cliInProcess(dir, ['import', 'tp', 'p.csv'])).code).toBe(0);
      const r = await cliInProcess(dir, ['history', 'tp', '--format', 'json']);
      const parts = (JSON.parse(r.out) as Array<{ versions: Array<{ partition: string }> }>).flatMap((h) => h.versions.map((v) => v.partition));
      expect(parts).toEqual(['p=Zz', 'p=aa', 'p=cb', 'p=ça']);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  }, 60_000);
});
