/**
 * `table create --if-not-exists` that loses a race to another create (between its look for the table
 * and its create) printed "created" with the other process's schema and no warning: the create was
 * made with ifNotExists, which returns the existing table. It now says the table exists, with the
 * differences from what it asked for.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { Field, Int64, Schema, Utf8 } from 'apache-arrow';
import { Lakehouse } from '@lakesoul-ts/io';
import { cliInProcess as cli } from './test-support/run-in-process.js';

afterEach(() => { vi.restoreAllMocks(); });

it('a create --if-not-exists that loses a race says the table exists, with what differs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-create-race-'));
  const env = process.env.LAKESOUL_CATALOG_SERVER;
  process.env.LAKESOUL_CATALOG_SERVER = 'off';
  try {
    const create = Lakehouse.prototype.createTable;
    // another process creates the table with column `other` just before this one's create
    vi.spyOn(Lakehouse.prototype, 'createTable').mockImplementationOnce(async function (this: Lakehouse, ...args: Parameters<Lakehouse['createTable']>) {
      await create.call(this, 'rc', new Schema([new Field('id', new Int64(), false), new Field('other', new Utf8(), true)]), { primaryKeys: ['id'] });
      return create.apply(this, args);
    });
    const r = await cli(dir, ['table', 'create', 'rc', '--schema', 'id:int64!,mine:utf8', '--primary-key', 'id', '--if-not-exists']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("table 'default.rc' already exists");
    expect(r.out).not.toContain('created');
    expect(r.err).toMatch(/warning: table 'default.rc' exists with .*mine/);
    // without --if-not-exists the loser fails as before
    vi.spyOn(Lakehouse.prototype, 'createTable').mockImplementationOnce(async function (this: Lakehouse, ...args: Parameters<Lakehouse['createTable']>) {
      await create.call(this, 'rd', new Schema([new Field('id', new Int64(), false)]), { primaryKeys: ['id'] });
      return create.apply(this, args);
    });
    const d = await cli(dir, ['table', 'create', 'rd', '--schema', 'id:int64!,mine:utf8', '--primary-key', 'id']);
    expect(d.code).toBe(4);
    expect(d.err).toContain("table 'default.rd' already exists");
  } finally {
    if (env === undefined) delete process.env.LAKESOUL_CATALOG_SERVER;
    else process.env.LAKESOUL_CATALOG_SERVER = env;
  }
});
