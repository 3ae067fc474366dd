/**
 * A role with a SCRAM password (PostgreSQL's default since 14) and no password given: node-postgres
 * throws a plain Error ("SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string"), which
 * was mapped to a retryable CATALOG_UNAVAILABLE saying nothing of the password (a hunt of the
 * PostgreSQL set-up docs). On the test environment's real server: a role that must log in with a
 * password, by a pg_hba.conf line of its own.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PgDriver } from './pg-driver.js';
import { LakeSoulError } from './errors.js';

const role = `scram_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
let hbaFile = '';
let hbaBefore = '';

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: process.env.LAKESOUL_TEST_PG_URL });
  await c.connect();
  try { return await fn(c); } finally { await c.end(); }
}

function urlAs(user: string, password?: string): string {
  const url = new URL(process.env.LAKESOUL_TEST_PG_URL!);
  url.username = user;
  url.password = password ?? '';
  return url.toString();
}

beforeAll(async () => {
  await admin(async (c) => {
    hbaFile = (await c.query<{ f: string }>("SELECT current_setting('hba_file') AS f")).rows[0]!.f;
    hbaBefore = readFileSync(hbaFile, 'utf8');
    // first match wins: this role logs in with a SCRAM password over TCP, everyone else as before
    writeFileSync(hbaFile, `host all ${role} 127.0.0.1/32 scram-sha-256\nhost all ${role} ::1/128 scram-sha-256\n${hbaBefore}`);
    await c.query(`SET password_encryption = 'scram-sha-256'`);
    await c.query(`CREATE ROLE ${role} LOGIN PASSWORD 'right-pw'`);
    await c.query('SELECT pg_reload_conf()');
  });
});

afterAll(async () => {
  if (!hbaFile) return;
  writeFileSync(hbaFile, hbaBefore);
  await admin(async (c) => {
    await c.query('SELECT pg_reload_conf()');
    await c.query(`DROP ROLE IF EXISTS ${role}`);
  });
});

describe('a PostgreSQL catalog asking for a password', () => {
  it('with none given fails Unauthenticated CATALOG_NO_PASSWORD, not retryable, saying what to set', async () => {
    const e = await PgDriver.connect({ url: urlAs(role) }).then((d) => d.close().then(() => null), (x: unknown) => x);
    expect(e).toBeInstanceOf(LakeSoulError);
    expect(e).toMatchObject({ kind: 'Unauthenticated', code: 'CATALOG_NO_PASSWORD', retryable: false });
    expect((e as Error).message).toMatch(/asks for a password \(SCRAM\) and none was given: set LAKESOUL_PG_PASSWORD/);
  });

  it('with a wrong one fails Unauthenticated as before, and the right one connects', async () => {
    const wrong = await PgDriver.connect({ url: urlAs(role, 'wrong') }).then(() => null, (x: unknown) => x);
    expect(wrong).toMatchObject({ kind: 'Unauthenticated', retryable: false });
    expect((wrong as Error).message).toMatch(/password authentication failed/);
    const driver = await PgDriver.connect({ url: urlAs(role), password: 'right-pw' });
    try {
      expect((await driver.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u).toBe(role);
    } finally {
      await driver.close();
    }
  });
});
