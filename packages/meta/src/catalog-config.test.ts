import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveCatalogConfig, toPostgresUrl, parseProperties } from './catalog-config.js';
import { LakeSoulError } from './errors.js';

describe('catalog configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-conf-'));
  const props = join(dir, 'lakesoul.properties');
  writeFileSync(props, '# upstream style\nlakesoul.pg.driver=com.lakesoul.shaded.org.postgresql.Driver\nlakesoul.pg.url=jdbc:postgresql://db.example:5433/lakesoul_test?stringtype=unspecified\nlakesoul.pg.username=lake\nlakesoul.pg.password=p@ss:w/rd\n');

  it('converts jdbc URLs', () => {
    expect(toPostgresUrl('jdbc:postgresql://127.0.0.1:5432/lakesoul_test?stringtype=unspecified', 'lakesoul', 'pw')).toBe('postgres://lakesoul:pw@127.0.0.1:5432/lakesoul_test');
    expect(toPostgresUrl('jdbc:postgresql://h/db?sslmode=require', 'u')).toBe('postgres://u@h/db?sslmode=require');
    expect(toPostgresUrl('postgres://a:b@h:1/d', 'x')).toBe('postgres://x:b@h:1/d');
    expect(() => toPostgresUrl('mysql://h/d')).toThrowError(LakeSoulError);
  });

  it('parses properties files', () => {
    expect(parseProperties('a=1\n b : two \n!c\n#x=y\nkey\\=x=3')).toEqual({ a: '1', b: 'two', 'key=x': '3' });
  });

  it('applies the documented precedence', () => {
    const env = { LAKESOUL_PG_URL: 'jdbc:postgresql://envhost:5432/envdb', LAKESOUL_PG_USERNAME: 'eu', LAKESOUL_PG_PASSWORD: 'ep', lakesoul_home: props };
    // 1. explicit url
    expect(resolveCatalogConfig({ url: 'postgres://o:p@opt:1/db', dataDir: '/x' }, env)).toEqual({ kind: 'pg', url: 'postgres://o:p@opt:1/db', source: 'options' });
    expect(resolveCatalogConfig({ url: 'jdbc:postgresql://opt:2/db', username: 'u', password: 'p' }, env)).toEqual({ kind: 'pg', url: 'postgres://u:p@opt:2/db', source: 'options' });
    // an explicit URL without credentials (e.g. { url: process.env.LAKESOUL_PG_URL }) takes LakeSoul's env user
    expect(resolveCatalogConfig({ url: env.LAKESOUL_PG_URL }, env)).toEqual({ kind: 'pg', url: 'postgres://eu:ep@envhost:5432/envdb', source: 'options' });
    expect(resolveCatalogConfig({ url: 'jdbc:postgresql://opt:2/db?user=q' }, env)).toEqual({ kind: 'pg', url: 'postgres://q@opt:2/db', source: 'options' });
    // 2. explicit embedded directory
    expect(resolveCatalogConfig({ dataDir: 'rel/cat' }, env)).toEqual({ kind: 'pglite', dataDir: resolve('rel/cat'), source: 'options' });
    expect(resolveCatalogConfig({ dataDir: ':memory:' }, env)).toEqual({ kind: 'pglite', dataDir: undefined, source: 'options' });
    // 3. LAKESOUL_PG_URL + credentials
    expect(resolveCatalogConfig({}, env)).toEqual({ kind: 'pg', url: 'postgres://eu:ep@envhost:5432/envdb', source: 'env' });
    expect(resolveCatalogConfig({ schema: 's1' }, env)).toMatchObject({ schema: 's1' });
    // 4. lakesoul_home properties file
    expect(resolveCatalogConfig({}, { lakesoul_home: props })).toEqual({ kind: 'pg', url: 'postgres://lake:p%40ss%3Aw%2Frd@db.example:5433/lakesoul_test', source: 'lakesoul_home' });
    // 5. embedded default
    expect(resolveCatalogConfig({}, {})).toEqual({ kind: 'pglite', dataDir: resolve('.lakesoul/catalog'), source: 'default' });
    expect(resolveCatalogConfig({ defaultDataDir: '/tmp/cat' }, {})).toEqual({ kind: 'pglite', dataDir: '/tmp/cat', source: 'default' });
  });

  it('refuses a URL set but empty (it fell through to a new embedded catalog in the working directory)', () => {
    expect(() => resolveCatalogConfig({}, { LAKESOUL_PG_URL: '' })).toThrow(/^LAKESOUL_PG_URL is set but empty: give the PostgreSQL URL, or unset it/);
    expect(() => resolveCatalogConfig({ url: '' }, {})).toThrow(/^the catalog url option is set but empty/);
    expect(resolveCatalogConfig({ defaultDataDir: '/tmp/x' }, {}).kind).toBe('pglite');
  });

  it('fails clearly on an unreadable or incomplete lakesoul_home', () => {
    expect(() => resolveCatalogConfig({}, { lakesoul_home: join(dir, 'missing.properties') })).toThrowError(/missing\.properties/);
    const empty = join(dir, 'empty.properties');
    writeFileSync(empty, 'x=1\n');
    expect(() => resolveCatalogConfig({}, { lakesoul_home: empty })).toThrowError(/lakesoul\.pg\.url/);
  });

  it('takes an embedded directory as a path or file:// URL, never a literal ~ or another URL', () => {
    expect(resolveCatalogConfig({ dataDir: `file://${dir}/cat` }, {})).toMatchObject({ kind: 'pglite', dataDir: join(dir, 'cat') });
    expect(resolveCatalogConfig({ dataDir: 'rel/cat' }, {})).toMatchObject({ dataDir: resolve('rel/cat') });
    expect(resolveCatalogConfig({ dataDir: ':memory:' }, {})).toMatchObject({ kind: 'pglite', dataDir: undefined });
    const refused = (dataDir: string) => { try { resolveCatalogConfig({ dataDir }, {}); } catch (e) { return e as LakeSoulError; } throw new Error(`${dataDir} accepted`); };
    expect(refused('~/lake/catalog')).toMatchObject({ kind: 'InvalidArgument', code: 'INVALID_CATALOG_DIR', message: expect.stringContaining('~ is not expanded') });
    expect(refused('postgres://u@h/db').message).toContain('a PostgreSQL catalog is given as `url`');
    expect(refused('s3://bucket/catalog').message).toContain("dataDir 's3://bucket/catalog' is not a directory");
  });
});
