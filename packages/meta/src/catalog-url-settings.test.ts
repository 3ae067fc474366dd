import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCatalogUrl, redactCatalogUrl, resolveCatalogConfig, toPostgresUrl } from './catalog-config.js';
import { LakeSoulError } from './errors.js';
import { pgClientConfig, PgDriver } from './pg-driver.js';
import { mapConnectError, mapSqlError } from './sql-driver.js';

// Catalog URLs as operators write them: credentials in the query, JDBC SSL parameters, a raw '%' in a
// password, currentSchema. Without the fixes a `?password=` leaked into messages and beat the explicit
// password, `ssl=true` was dropped (plaintext), and `%zz` threw a bare URIError.

function refusal(fn: () => unknown): LakeSoulError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LakeSoulError);
    return e as LakeSoulError;
  }
  throw new Error('expected a refusal');
}

describe('catalog URL credentials in the query', () => {
  it('moves ?user= and ?password= into the userinfo; explicit settings win', () => {
    expect(toPostgresUrl('postgres://h/db?password=SECRETxyz&user=q')).toBe('postgres://q:SECRETxyz@h/db');
    expect(toPostgresUrl('postgres://u@h/db?password=SECRETxyz', undefined, 'explicit')).toBe('postgres://u:explicit@h/db');
    expect(toPostgresUrl('postgres://u@h/db?user=q&password=SECRETxyz', 'eu', 'ep')).toBe('postgres://eu:ep@h/db');
    expect(toPostgresUrl('jdbc:postgresql://h/db?user=q&password=s', 'eu')).toBe('postgres://eu:s@h/db');
  });

  it('lets LAKESOUL_PG_PASSWORD and LAKESOUL_PG_USERNAME beat a ?password= / ?user= of LAKESOUL_PG_URL', () => {
    const env = { LAKESOUL_PG_URL: 'postgres://h:5432/db?user=q&password=SECRETxyz', LAKESOUL_PG_USERNAME: 'eu', LAKESOUL_PG_PASSWORD: 'ep' };
    expect(resolveCatalogConfig({}, env)).toEqual({ kind: 'pg', url: 'postgres://eu:ep@h:5432/db', source: 'env' });
    expect(resolveCatalogConfig({ url: 'postgres://h/db?password=SECRETxyz', password: 'flag' }, {})).toMatchObject({ url: 'postgres://h/db'.replace('//', '//:flag@') });
  });

  it('masks query secrets wherever a URL is shown', () => {
    expect(redactCatalogUrl('postgres://u@h/db?password=SECRETxyz&sslmode=require')).toBe('postgres://u@h/db?password=***&sslmode=require');
    expect(redactCatalogUrl('postgres://u:SECRET@h/db?sslpassword=KEYPASS&application_name=x')).toBe('postgres://u:***@h/db?sslpassword=***&application_name=x');
    expect(redactCatalogUrl('postgres://h/db?sslkey=-----BEGIN%20PRIVATE%20KEY-----abc')).toBe('postgres://h/db?sslkey=***');
    expect(redactCatalogUrl('postgres://h/db?sslkey=/etc/k.pem')).toBe('postgres://h/db?sslkey=/etc/k.pem');
    const d = new PgDriver('postgres://u@127.0.0.1:1/db?password=SECRETxyz&sslpassword=KEYPASS');
    expect(d.description).not.toContain('SECRETxyz');
    expect(d.description).not.toContain('KEYPASS');
    expect(d.description).toBe('postgres://u:***@127.0.0.1:1/db?sslpassword=***');
    void d.close();
  });

  it('gives node-postgres the explicit credentials over the URL query ones', () => {
    const { config } = pgClientConfig('postgres://u:userinfo@h:5/db?user=q&password=query', { password: 'explicit' });
    expect(config).toMatchObject({ host: 'h', port: 5, database: 'db', user: 'q', password: 'explicit' });
    expect(pgClientConfig('postgres://u:userinfo@h/db?password=query').config.password).toBe('query');
    expect(pgClientConfig('postgres://u:p%40ss@h/db').config.password).toBe('p@ss');
  });

  it('a connection error does not show a ?password=', async () => {
    const d = new PgDriver({ url: 'postgres://u@127.0.0.1:1/db?password=SECRETxyz', connectionTimeoutMillis: 2000 });
    const e = await d.query('SELECT 1').then(() => undefined, (x: unknown) => x as LakeSoulError);
    if (!e) throw new Error('expected a connection failure');
    await d.close();
    expect(e).toBeInstanceOf(LakeSoulError);
    expect(e.message).not.toContain('SECRETxyz');
    expect(JSON.stringify(e.context)).not.toContain('SECRETxyz');
  });
});

describe('catalog URL SSL parameters', () => {
  it('maps JDBC ssl=true/false and keeps the ssl file parameters', () => {
    expect(toPostgresUrl('jdbc:postgresql://h/db?ssl=true')).toBe('postgres://h/db?sslmode=verify-full');
    expect(toPostgresUrl('jdbc:postgresql://h/db?ssl=false')).toBe('postgres://h/db?sslmode=disable');
    expect(toPostgresUrl('jdbc:postgresql://h/db?ssl=true&sslmode=require')).toBe('postgres://h/db?sslmode=require');
    expect(toPostgresUrl('jdbc:postgresql://h/db?sslmode=verify-ca&sslrootcert=/r.crt&sslcert=/c.crt&sslkey=/c.key&stringtype=unspecified'))
      .toBe('postgres://h/db?sslmode=verify-ca&sslrootcert=%2Fr.crt&sslcert=%2Fc.crt&sslkey=%2Fc.key');
    expect(toPostgresUrl('postgres://h/db?ssl=1')).toBe('postgres://h/db?sslmode=verify-full');
  });

  it('refuses an SSL parameter it cannot honour, naming it', () => {
    const e = refusal(() => toPostgresUrl('jdbc:postgresql://h/db?sslfactory=org.postgresql.ssl.NonValidatingFactory'));
    expect(e.code).toBe('INVALID_CATALOG_URL');
    expect(e.message).toContain("'sslfactory'");
    expect(refusal(() => toPostgresUrl('jdbc:postgresql://h/db?ssl=maybe')).message).toContain("ssl must be true or false, not 'maybe'");
    expect(refusal(() => pgClientConfig('postgres://h/db?sslmode=requir')).message).toContain("sslmode 'requir'");
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-ssl-'));
    const missing = join(dir, 'nope.crt');
    const e2 = refusal(() => pgClientConfig(`postgres://h/db?sslmode=verify-full&sslrootcert=${encodeURIComponent(missing)}`));
    expect(e2.code).toBe('INVALID_CATALOG_URL');
    expect(e2.message).toContain(`sslrootcert file '${missing}'`);
  });

  it('gives sslmode its libpq meaning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-ssl-'));
    const ca = join(dir, 'ca.crt');
    writeFileSync(ca, 'CA PEM');
    const ssl = (q: string, env: Record<string, string> = {}) => pgClientConfig(`postgres://h/db${q}`, {}, env);
    expect(ssl('').config.ssl).toBe(false);
    expect(ssl('?sslmode=disable').config.ssl).toBe(false);
    expect(ssl('?sslmode=require').config.ssl).toEqual({ rejectUnauthorized: false });
    expect(ssl('?sslmode=prefer')).toMatchObject({ plainFallback: true, config: { ssl: { rejectUnauthorized: false } } });
    const requireCa = ssl(`?sslmode=require&sslrootcert=${ca}`).config.ssl as { ca: string; checkServerIdentity: unknown; rejectUnauthorized?: boolean };
    expect(requireCa.ca).toBe('CA PEM');
    expect(requireCa.rejectUnauthorized).toBeUndefined();
    expect(typeof requireCa.checkServerIdentity).toBe('function');
    const verifyCa = ssl(`?sslmode=verify-ca&sslrootcert=${ca}`).config.ssl as { checkServerIdentity: () => unknown };
    expect(verifyCa.checkServerIdentity()).toBeUndefined();
    expect(ssl(`?sslmode=verify-full&sslrootcert=${ca}`).config.ssl).toEqual({ ca: 'CA PEM' });
    expect(ssl('?sslmode=verify-full&sslrootcert=system').config.ssl).toEqual({});
    expect(ssl('?ssl=true').config.ssl).toEqual({});
    expect(ssl('', { PGSSLMODE: 'require' }).config.ssl).toEqual({ rejectUnauthorized: false });
    expect(ssl(`?sslrootcert=${ca}`).sslMode).toBe('verify-full');
  });

  it('passes no sslmode to node-postgres (whose parser printed a SECURITY WARNING)', () => {
    const { config } = pgClientConfig('postgres://h/db?sslmode=require&application_name=app&options=-c%20work_mem%3D1MB', { schema: 'lake' });
    expect(config).not.toHaveProperty('connectionString');
    expect(config).not.toHaveProperty('sslmode');
    expect(config).toMatchObject({ application_name: 'app', options: '-c work_mem=1MB -c search_path="lake"' });
  });
});

describe('catalog URL malformed parts and JDBC currentSchema', () => {
  it('a raw % in the password is an invalid catalog URL naming the password', () => {
    for (const url of ['postgres://u:p%zz@h/db', 'jdbc:postgresql://u:SECRET%E0%A4%A@h/db']) {
      const e = refusal(() => resolveCatalogConfig({ url }, {}));
      expect(e.kind).toBe('InvalidArgument');
      expect(e.code).toBe('INVALID_CATALOG_URL');
      expect(e.message).toContain('its password has a');
      expect(e.message).not.toContain('SECRET');
    }
    expect(refusal(() => pgClientConfig('postgres://u:p%zz@h/db')).code).toBe('INVALID_CATALOG_URL');
    expect(refusal(() => toPostgresUrl('postgres://h/d%zzb')).message).toContain('database name');
  });

  it('maps currentSchema to the schema; an explicit schema wins; a list is refused', () => {
    expect(parseCatalogUrl('jdbc:postgresql://h/db?currentSchema=lake&stringtype=unspecified')).toEqual({ url: 'postgres://h/db', schema: 'lake' });
    expect(resolveCatalogConfig({}, { LAKESOUL_PG_URL: 'jdbc:postgresql://h/db?currentSchema=lake' })).toMatchObject({ schema: 'lake' });
    expect(resolveCatalogConfig({ schema: 'other' }, { LAKESOUL_PG_URL: 'jdbc:postgresql://h/db?currentSchema=lake' })).toMatchObject({ schema: 'other' });
    expect(refusal(() => parseCatalogUrl('jdbc:postgresql://h/db?currentSchema=lake,public')).message).toContain("currentSchema 'lake,public' names several schemas");
  });
});

describe('driver limits and SQLSTATEs', () => {
  it('caps a query timeout beyond what a timer takes', () => {
    const d = new PgDriver({ url: 'postgres://127.0.0.1:1/db', queryTimeoutMillis: 3_000_000_000 });
    expect(d.queryTimeoutMillis).toBe(2_147_483_647);
    void d.close();
  });

  it('maps 57P05 to a retryable CATALOG_UNAVAILABLE and says what 25006 means', () => {
    const idle = mapSqlError(Object.assign(new Error('terminating connection due to idle-session timeout'), { code: '57P05' }));
    expect(idle).toMatchObject({ kind: 'Catalog', code: 'CATALOG_UNAVAILABLE', retryable: true });
    const ro = mapSqlError(Object.assign(new Error('cannot execute INSERT in a read-only transaction'), { code: '25006' }));
    expect(ro.kind).toBe('Catalog');
    expect(ro.message).toContain('read-only');
    expect(ro.message).toContain('standby');
    expect(ro.message).not.toContain('catalog database error');
  });

  it('says a pooler refused the options startup parameter', () => {
    const e = mapConnectError(Object.assign(new Error('unsupported startup parameter: options'), { code: '08P01' }), 'postgres://u@h:6432/db');
    expect(e.message).toContain('connection refused');
    expect(e.message).toContain('PgBouncer');
    expect(e.message).toContain('serverTimeouts: false');
    expect(e.retryable).toBe(false);
  });
});
