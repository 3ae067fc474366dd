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
    expect(refusal(() => toPostgresUrl('jdbc:postgresql://h/db?ssl=maybe')).message).toContain("ssl must be true, false or no-verify, not 'maybe'");
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

// Review of 0d4f760: a URL with no host lost its credentials, node-postgres's other URL settings were
// dropped, a key pasted into sslkey was printed in full, and ssl=no-verify was refused.

describe('catalog URL with no host (a unix socket, or ?host=)', () => {
  const sock = 'postgres:///db?host=/var/run/postgresql&user=alice&password=pw';

  it('keeps ?user= and ?password= (the URL cannot hold a userinfo)', () => {
    const url = toPostgresUrl(sock);
    expect(url).toBe('postgres:///db?host=%2Fvar%2Frun%2Fpostgresql&user=alice&password=pw');
    expect(pgClientConfig(url).config).toMatchObject({ host: '/var/run/postgresql', database: 'db', user: 'alice', password: 'pw' });
    const tcp = toPostgresUrl('postgres:///db?host=127.0.0.1&port=5433&user=alice');
    expect(pgClientConfig(tcp).config).toMatchObject({ host: '127.0.0.1', port: 5433, user: 'alice' });
  });

  it('takes the explicit credentials and the environment\'s', () => {
    const user = (c: ReturnType<typeof resolveCatalogConfig>) => {
      const { config } = pgClientConfig((c as { url: string }).url);
      return [config.user, config.password];
    };
    expect(user(resolveCatalogConfig({ url: sock, username: 'bob', password: 'flag' }, {}))).toEqual(['bob', 'flag']);
    const bare = 'postgres:///db?host=/var/run/postgresql';
    expect(user(resolveCatalogConfig({ url: bare }, { LAKESOUL_PG_USERNAME: 'env', LAKESOUL_PG_PASSWORD: 'ep' }))).toEqual(['env', 'ep']);
    expect(user(resolveCatalogConfig({ url: sock }, { LAKESOUL_PG_USERNAME: 'env', LAKESOUL_PG_PASSWORD: 'ep' }))).toEqual(['alice', 'pw']);
    expect(user(resolveCatalogConfig({}, { LAKESOUL_PG_URL: bare, LAKESOUL_PG_USERNAME: 'env', LAKESOUL_PG_PASSWORD: 'ep' }))).toEqual(['env', 'ep']);
    expect(user(resolveCatalogConfig({ username: 'flag' }, { LAKESOUL_PG_URL: sock }))).toEqual(['flag', 'pw']);
  });

  it("takes libpq's postgres://user@/db and postgres://user@:port/db", () => {
    const a = toPostgresUrl('postgresql://alice:p%40ss@/db?host=/run/pg');
    expect(pgClientConfig(a).config).toMatchObject({ host: '/run/pg', user: 'alice', password: 'p@ss', database: 'db' });
    const b = toPostgresUrl('postgres://alice@:5433/db?host=/run/pg');
    expect(pgClientConfig(b).config).toMatchObject({ host: '/run/pg', port: 5433, user: 'alice' });
    expect(pgClientConfig('postgres://alice:pw@:5433/db?host=/run/pg').config).toMatchObject({ port: 5433, user: 'alice', password: 'pw' });
  });

  it('shows the user, never the password', () => {
    const d = new PgDriver(toPostgresUrl(sock.replace('pw', 'SECRETxyz')));
    expect(d.description).toBe('postgres://alice:***@/db?host=%2Fvar%2Frun%2Fpostgresql');
    expect(redactCatalogUrl(toPostgresUrl(sock.replace('pw', 'SECRETxyz')))).not.toContain('SECRETxyz');
    void d.close();
  });
});

describe("node-postgres's other URL settings", () => {
  it('passes the ones node-postgres reads, with the types it takes', () => {
    const c = pgClientConfig('postgres://h/db?lock_timeout=1234&statement_timeout=5s&idle_in_transaction_session_timeout=1.5%20min'
      + '&replication=database&fallback_application_name=fb&client_encoding=UTF8&binary=true&keepalives=0&query_timeout=3000');
    expect(c.config).toMatchObject({
      lock_timeout: 1234, statement_timeout: 5000, idle_in_transaction_session_timeout: 90_000,
      replication: 'database', fallback_application_name: 'fb', client_encoding: 'UTF8',
    });
    // node-postgres 8 parses binary but never uses it from a URL; libpq's keepalives it never read
    expect(c.config).not.toHaveProperty('binary');
    expect(c.config).not.toHaveProperty('keepalives');
    expect(c.queryTimeoutMillis).toBe(3000);
    expect(c.urlServerTimeouts).toEqual({ statement_timeout: 5000, idle_in_transaction_session_timeout: 90_000 });
    expect(pgClientConfig('postgres://h/db?options=-c%20statement_timeout%3D9s').urlServerTimeouts).toEqual({ statement_timeout: null });
  });

  it('refuses a duration that is not one, naming it', () => {
    const e = refusal(() => pgClientConfig('postgres://h/db?lock_timeout=soon'));
    expect(e.code).toBe('INVALID_CATALOG_URL');
    expect(e.message).toContain("lock_timeout 'soon' is not a duration");
    expect(e.context).toMatchObject({ parameter: 'lock_timeout' });
  });

  it("takes the URL's query_timeout as the driver's query timeout; an explicit one wins", () => {
    const d = new PgDriver('postgres://127.0.0.1:1/db?query_timeout=3000');
    expect(d.queryTimeoutMillis).toBe(3000);
    void d.close();
    const d2 = new PgDriver({ url: 'postgres://127.0.0.1:1/db?query_timeout=3000', queryTimeoutMillis: 7000 });
    expect(d2.queryTimeoutMillis).toBe(7000);
    void d2.close();
  });
});

describe('an SSL file parameter holding the key itself', () => {
  const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----\n';
  const base64 = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj'.repeat(6);

  it('is never shown: not in the message, its context or its cause', () => {
    for (const [param, value] of [['sslkey', pem], ['sslkey', base64], ['sslcert', pem], ['sslrootcert', pem]] as const) {
      const url = `postgres://u@h/db?sslmode=require&${param}=${encodeURIComponent(value)}`;
      const e = refusal(() => pgClientConfig(url));
      expect(e.code).toBe('INVALID_CATALOG_URL');
      expect(e.message).toContain(`the ${param} parameter holds no file name`);
      const seen = `${e.message} ${JSON.stringify(e.context)} ${String((e as { cause?: unknown }).cause ?? '')}`;
      expect(seen).not.toContain('MIIEvQIBADAN');
      expect(seen).not.toContain('BEGIN');
      expect(e.context).toMatchObject({ parameter: param, file: '***' });
    }
    expect(redactCatalogUrl(`postgres://h/db?sslkey=${encodeURIComponent(base64)}`)).toBe('postgres://h/db?sslkey=***');
  });
});

describe('ssl=no-verify', () => {
  it('encrypts without verifying, as node-postgres takes it', () => {
    expect(toPostgresUrl('postgres://h/db?ssl=no-verify')).toBe('postgres://h/db?sslmode=no-verify');
    expect(toPostgresUrl('postgres://h/db?ssl=no-verify&sslmode=verify-full')).toBe('postgres://h/db?sslmode=verify-full');
    expect(pgClientConfig('postgres://h/db?ssl=no-verify').config.ssl).toEqual({ rejectUnauthorized: false });
    const c = resolveCatalogConfig({}, { LAKESOUL_PG_URL: 'postgres://u@h/db?ssl=no-verify' }) as { url: string };
    expect(pgClientConfig(c.url).config.ssl).toEqual({ rejectUnauthorized: false });
  });
});
