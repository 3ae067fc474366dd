import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveCliConfig } from './cli-config.js';

describe('CLI configuration', () => {
  it('expands a leading ~ that no shell expanded (--home=~/x, the environment, the config file)', () => {
    const cwd = '/nowhere/cwd';
    const fromFlag = resolveCliConfig({ home: '~/lake' }, {}, cwd);
    expect(fromFlag.catalog).toEqual({ dataDir: join(homedir(), 'lake', 'catalog') });
    expect(fromFlag.warehouse).toBe(`file://${join(homedir(), 'lake', 'warehouse')}`);
    expect(resolveCliConfig({}, { LAKESOUL_TS_HOME: '~' }, cwd).catalog).toEqual({ dataDir: join(homedir(), 'catalog') });
    expect(resolveCliConfig({ catalog: '~/cat', warehouse: '~/wh' }, {}, cwd)).toMatchObject({ catalog: { dataDir: join(homedir(), 'cat') }, warehouse: join(homedir(), 'wh') });
    // relative paths stay relative to the working directory
    expect(resolveCliConfig({ home: 'lake' }, {}, cwd).catalog).toEqual({ dataDir: '/nowhere/cwd/lake/catalog' });
  });

  it('refuses a catalog URL that is not PostgreSQL (a typo became a directory named after it, password included)', () => {
    const cwd = '/nowhere/cwd';
    for (const url of ['jdbc:mysql://x/y', 'postgress://u:secret@localhost:5432/db', 'jdbc:postgres://localhost:5432/db', 's3://bucket/cat']) {
      let message = '';
      try { resolveCliConfig({ catalog: url }, {}, cwd); } catch (e) { message = (e as Error).message; }
      expect(message, url).toMatch(/is neither a PostgreSQL URL .* nor a directory/);
      expect(message).not.toContain('secret');
    }
    expect(() => resolveCliConfig({}, { LAKESOUL_PG_URL: 'mysql://h/db' }, cwd)).toThrow(/neither a PostgreSQL URL/);
    expect(resolveCliConfig({ catalog: 'file:///data/cat' }, {}, cwd).catalog).toEqual({ dataDir: '/data/cat' });
    expect(resolveCliConfig({ catalog: 'my:dir' }, {}, cwd).catalog).toEqual({ dataDir: '/nowhere/cwd/my:dir' });
    expect(resolveCliConfig({ catalog: 'postgresql://u@h/db' }, {}, cwd).catalog).toMatchObject({ url: 'postgresql://u@h/db' });
  });
});
