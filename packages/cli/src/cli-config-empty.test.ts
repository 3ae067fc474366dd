/**
 * A path or URL setting that is set but empty is refused naming it: resolved against the working
 * directory, an empty home or warehouse put the catalog and the tables in ./catalog and ./warehouse.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveCliConfig } from './cli-config.js';

const dir = mkdtempSync(join(tmpdir(), 'cli-config-empty-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A working directory with a config file of `config`. */
function withConfig(config: Record<string, string>): string {
  const cwd = mkdtempSync(join(dir, 'cwd-'));
  writeFileSync(join(cwd, 'lakesoul-ts.json'), JSON.stringify(config));
  return cwd;
}

describe('an empty path or URL setting', () => {
  it('is refused naming the flag, the variable or the config key, with exit 4 (InvalidArgument)', () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    const cases: [Parameters<typeof resolveCliConfig>[0], NodeJS.ProcessEnv, string, RegExp, string][] = [
      [{ home: '' }, {}, cwd, /^--home is set but empty: give the home directory/, 'INVALID_CATALOG_DIR'],
      [{}, { LAKESOUL_TS_HOME: '' }, cwd, /^LAKESOUL_TS_HOME is set but empty: give the home directory/, 'INVALID_CATALOG_DIR'],
      [{}, { LAKESOUL_TS_HOME: '  ' }, cwd, /^LAKESOUL_TS_HOME is set but empty/, 'INVALID_CATALOG_DIR'],
      [{}, {}, withConfig({ home: '' }), /^"home" in the config file .*lakesoul-ts\.json is set but empty/, 'INVALID_CATALOG_DIR'],
      [{ warehouse: '' }, {}, cwd, /^--warehouse is set but empty: give the directory or URI new tables go under/, 'INVALID_WAREHOUSE'],
      [{}, { LAKESOUL_TS_WAREHOUSE: '' }, cwd, /^LAKESOUL_TS_WAREHOUSE is set but empty/, 'INVALID_WAREHOUSE'],
      [{}, {}, withConfig({ warehouse: '' }), /^"warehouse" in the config file .* is set but empty/, 'INVALID_WAREHOUSE'],
      [{ catalog: '' }, {}, cwd, /^--catalog is set but empty: give a PostgreSQL URL or a catalog directory/, 'INVALID_CATALOG_URL'],
      [{}, {}, withConfig({ catalog: '' }), /^"catalog" in the config file .* is set but empty/, 'INVALID_CATALOG_URL'],
      [{}, { lakesoul_home: '' }, cwd, /^lakesoul_home is set but empty: give the LakeSoul properties file/, 'INVALID_CATALOG_URL'],
      [{}, { LAKESOUL_PG_URL: '' }, cwd, /^LAKESOUL_PG_URL is set but empty/, 'INVALID_CATALOG_URL'],
      [{ config: '' }, {}, cwd, /^--config is set but empty: give the config file/, 'INVALID_ARGUMENT'],
    ];
    for (const [flags, env, at, message, code] of cases) {
      let thrown: unknown;
      try { resolveCliConfig(flags, env, at); } catch (e) { thrown = e; }
      expect(thrown, JSON.stringify([flags, env])).toMatchObject({ kind: 'InvalidArgument', code, message: expect.stringMatching(message) });
    }
  });

  it('is not looked at when a source before it decides the setting', () => {
    const cwd = withConfig({ home: '', warehouse: '', catalog: '' });
    const c = resolveCliConfig({ home: 'h', warehouse: 'w', catalog: 'c' }, { LAKESOUL_TS_HOME: '', LAKESOUL_TS_WAREHOUSE: '', lakesoul_home: '' }, cwd);
    expect(c).toMatchObject({ catalog: { dataDir: join(cwd, 'c') }, warehouse: `file://${join(cwd, 'w')}`, source: 'flag' });
    expect(resolveCliConfig({}, { LAKESOUL_TS_HOME: 'lake' }, withConfig({ home: '' })).catalog).toEqual({ dataDir: expect.stringMatching(/\/lake\/catalog$/) });
  });
});
