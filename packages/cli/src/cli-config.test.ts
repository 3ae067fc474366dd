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
});
