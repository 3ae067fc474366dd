import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveCliConfig } from './cli-config.js';

describe('CLI configuration', () => {
  it('describes a PostgreSQL catalog with its password masked, in a jdbc query too (init and ui print it)', () => {
    expect(resolveCliConfig({ catalog: 'jdbc:postgresql://db:5432/lake?user=ls&password=s3cret' }, {}, '/nowhere').describe).toBe('PostgreSQL jdbc:postgresql://db:5432/lake?user=ls&password=***');
    expect(resolveCliConfig({ catalog: 'postgres://ls:s3cret@db/lake' }, {}, '/nowhere').describe).toBe('PostgreSQL postgres://ls:***@db/lake');
  });

  it('reads the lakesoul_home properties file as the library does, and names it when it cannot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-home-props-'));
    try {
      const file = join(dir, 'lakesoul.properties');
      writeFileSync(file, '# LakeSoul\nlakesoul.pg.url = jdbc:postgresql://db:5432/lakesoul\nlakesoul.pg.username=ls\nlakesoul.pg.password=pw\n');
      expect(resolveCliConfig({}, { lakesoul_home: file }, dir).catalog).toMatchObject({ url: 'jdbc:postgresql://db:5432/lakesoul', username: 'ls', password: 'pw' });
      // a bare ENOENT (exit 1) before
      expect(() => resolveCliConfig({}, { lakesoul_home: join(dir, 'missing.properties') }, dir)).toThrow(/cannot read the LakeSoul properties file '.*missing\.properties' named by env lakesoul_home: ENOENT/);
      writeFileSync(file, 'foo=1\n');
      expect(() => resolveCliConfig({}, { lakesoul_home: file }, dir)).toThrow(/has no lakesoul\.pg\.url/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('expands a leading ~ that no shell expanded (--home=~/x, the environment, the config file)', () => {
    const cwd = '/nowhere/cwd';
    const fromFlag = resolveCliConfig({ home: '~/lake' }, {}, cwd);
    expect(fromFlag.catalog).toEqual({ dataDir: join(homedir(), 'lake', 'catalog') });
    expect(fromFlag.warehouse).toBe(`file://${join(homedir(), 'lake', 'warehouse')}`);
    expect(resolveCliConfig({}, { LAKESOUL_TS_HOME: '~' }, cwd).catalog).toEqual({ dataDir: join(homedir(), 'catalog') });
    expect(resolveCliConfig({ catalog: '~/cat', warehouse: '~/wh' }, {}, cwd)).toMatchObject({ catalog: { dataDir: join(homedir(), 'cat') }, warehouse: `file://${join(homedir(), 'wh')}` });
    expect(resolveCliConfig({ warehouse: 'rel/wh' }, {}, cwd).warehouse).toBe('file:///nowhere/cwd/rel/wh');
    // relative paths stay relative to the working directory
    expect(resolveCliConfig({ home: 'lake' }, {}, cwd).catalog).toEqual({ dataDir: '/nowhere/cwd/lake/catalog' });
  });

  it('refuses a config file key it does not know, or a value that is not a string, naming them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-cfg-'));
    const bad = (content: unknown) => { const f = join(dir, 'c.json'); writeFileSync(f, JSON.stringify(content)); return () => resolveCliConfig({ config: f }, {}, dir); };
    expect(bad({ catalgo: 'x' })).toThrow(/c\.json: unknown key 'catalgo' \(the keys are home, catalog, warehouse/);
    expect(bad({ warehouse: 5 })).toThrow(/c\.json: 'warehouse' must be a string, not 5/);
    expect(bad([1])).toThrow(/not a JSON object/);
    expect(bad({ home: 'h' })().catalog).toEqual({ dataDir: join(dir, 'h', 'catalog') });
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a catalog URL that is not PostgreSQL (a typo became a directory named after it, password included)', () => {
    const cwd = '/nowhere/cwd';
    for (const url of ['jdbc:mysql://x/y', 'postgress://u:secret@localhost:5432/db', 'jdbc:postgres://localhost:5432/db', 's3://bucket/cat']) {
      let message = '';
      try { resolveCliConfig({ catalog: url }, {}, cwd); } catch (e) { message = (e as Error).message; }
      expect(message, url).toMatch(/^--catalog '.*' is not a directory for the embedded catalog: .*postgres:\/\/user@host:port\/db or jdbc:postgresql:\/\/host:port\/db/);
      expect(message).not.toContain('secret');
    }
    expect(() => resolveCliConfig({}, { LAKESOUL_PG_URL: 'mysql://h/db' }, cwd)).toThrow(/^LAKESOUL_PG_URL 'mysql:\/\/h\/db' is not a directory/);
    expect(() => resolveCliConfig({}, { LAKESOUL_PG_URL: '' }, cwd)).toThrow(/^LAKESOUL_PG_URL is set but empty/);
    expect(resolveCliConfig({ catalog: 'file:///data/cat' }, {}, cwd).catalog).toEqual({ dataDir: '/data/cat' });
    // the catalog's own rule, as Catalog.open applies it: a name with a scheme is not taken for a directory
    expect(() => resolveCliConfig({ catalog: 'my:dir' }, {}, cwd)).toThrow(/--catalog 'my:dir' is not a directory/);
    expect(resolveCliConfig({ catalog: './my-dir' }, {}, cwd).catalog).toEqual({ dataDir: '/nowhere/cwd/my-dir' });
    expect(() => resolveCliConfig({ catalog: ':memory:' }, {}, cwd)).toThrow(/an in-memory catalog would last one command/);
    expect(resolveCliConfig({ catalog: 'postgresql://u@h/db' }, {}, cwd).catalog).toMatchObject({ url: 'postgresql://u@h/db' });
  });
});
