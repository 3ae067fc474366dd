/**
 * Where the CLI's catalog and data live. Precedence, highest first:
 *   1. flags: --catalog <postgres://...|jdbc:postgresql://...|directory>, --warehouse <uri>, --home <dir>
 *   2. environment: LAKESOUL_PG_URL (+ LAKESOUL_PG_USERNAME/PASSWORD), `lakesoul_home` properties file,
 *      LAKESOUL_TS_WAREHOUSE, LAKESOUL_TS_HOME; S3 settings from AWS_* like upstream LakeSoul
 *   3. a config file: --config <file>, else `lakesoul-ts.json` in the working directory
 *      ({ "catalog": "...", "warehouse": "...", "pgUsername": "...", "pgPassword": "..." })
 *   4. embedded defaults: PGlite catalog in `<home>/catalog`, tables under `file://<home>/warehouse`,
 *      with home = `./.lakesoul`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LakeSoulError, embeddedCatalogDir, readLakeSoulHome, refuseEmptyUrl } from '@lakesoul-ts/meta';
import { maskPassword } from './cli-name.js';

/** Global flags shared by every command. */
export interface GlobalFlags {
  catalog?: string;
  pgUser?: string;
  pgPassword?: string;
  warehouse?: string;
  home?: string;
  config?: string;
  quiet?: boolean;
}

/** The resolved configuration. */
export interface CliConfig {
  /** Options for Catalog.open: a server URL or an embedded directory. */
  catalog: { url?: string; username?: string; password?: string; dataDir?: string };
  /** Root URI for new tables. */
  warehouse: string;
  /** Human-readable description of where the catalog is, for messages. */
  describe: string;
  /** Which source decided the catalog. */
  source: 'flag' | 'env' | 'config-file' | 'default';
}

/** The keys a config file may set (each a string). */
const CONFIG_KEYS = ['home', 'catalog', 'warehouse', 'pgUsername', 'pgPassword'] as const;

function readConfigFile(path: string): Partial<Record<(typeof CONFIG_KEYS)[number], string>> {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new LakeSoulError('InvalidArgument', `config file ${path}: ${(e as Error).message}`, { context: { file: path }, cause: e });
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new LakeSoulError('InvalidArgument', `config file ${path}: not a JSON object`, { context: { file: path } });
  for (const [k, value] of Object.entries(v)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(k)) {
      throw new LakeSoulError('InvalidArgument', `config file ${path}: unknown key '${k}' (the keys are ${CONFIG_KEYS.join(', ')})`, { context: { file: path } });
    }
    if (typeof value !== 'string') throw new LakeSoulError('InvalidArgument', `config file ${path}: '${k}' must be a string, not ${JSON.stringify(value)}`, { context: { file: path } });
  }
  return v as Partial<Record<(typeof CONFIG_KEYS)[number], string>>;
}

/** How the sources of a catalog setting are named in errors. */
const SOURCE_NAMES: Readonly<Record<CliConfig['source'], string>> = { flag: '--catalog', env: 'LAKESOUL_PG_URL', 'config-file': 'the config file\'s "catalog"', default: 'the home\'s catalog' };

function isServerUrl(s: string): boolean {
  return /^(postgres(ql)?:\/\/|jdbc:postgresql:\/\/)/.test(s);
}

/**
 * `~` or `~/…` as the home directory: a shell expands it in `--home ~/lake` but not in `--home=~/lake`,
 * an environment variable or the config file, where it became a directory named `~` in the working
 * directory.
 */
function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** `statSync`, or undefined where the path is missing or cannot be looked at (another user's directory): the commands say which. */
function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** A setting as its first source that is set gives it (flag, environment, config file), with that source's name. */
interface Setting {
  value: string;
  source: string;
}

/** The first of `sources` (value, name of the source) that is set. */
function firstSet(...sources: (readonly [string | undefined, string])[]): Setting | undefined {
  for (const [value, source] of sources) if (value !== undefined) return { value, source };
  return undefined;
}

/**
 * Refuses a path or URL setting that is set but empty (an unresolved CI secret, `--home "$UNSET"`):
 * resolved against the working directory, an empty home or warehouse put the catalog and the tables in
 * ./catalog and ./warehouse, and an empty catalog or config file was ignored, as `LAKESOUL_PG_URL=` was
 * before it was refused. `what` says what to give instead.
 */
function refuseEmpty(setting: Setting | undefined, what: string, code: 'INVALID_CATALOG_DIR' | 'INVALID_CATALOG_URL' | 'INVALID_WAREHOUSE' | undefined): string | undefined {
  if (setting !== undefined && setting.value.trim() === '') {
    throw new LakeSoulError('InvalidArgument', `${setting.source} is set but empty: give ${what}, or leave it unset`, { code, context: { setting: setting.source } });
  }
  return setting?.value;
}

/** Resolve the configuration from flags, environment, config file and defaults (see module doc). */
export function resolveCliConfig(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): CliConfig {
  refuseEmpty(firstSet([flags.config, '--config']), 'the config file (./lakesoul-ts.json is read when none is given)', undefined);
  const filePath = flags.config ? resolve(cwd, flags.config) : resolve(cwd, 'lakesoul-ts.json');
  if (flags.config && !existsSync(filePath)) {
    throw new LakeSoulError('NotFound', `config file ${filePath} does not exist`, { context: { file: filePath } });
  }
  const file = existsSync(filePath) ? readConfigFile(filePath) : {};
  const inFile = (key: (typeof CONFIG_KEYS)[number]) => [file[key], `"${key}" in the config file ${filePath}`] as const;
  const homeSetting = refuseEmpty(firstSet([flags.home, '--home'], [env.LAKESOUL_TS_HOME, 'LAKESOUL_TS_HOME'], inFile('home')),
    'the home directory (the catalog and the tables go under it; ./.lakesoul when none is set)', 'INVALID_CATALOG_DIR');
  const home = resolve(cwd, expandHome(homeSetting ?? '.lakesoul'));
  if (statOrUndefined(home)?.isFile()) {
    throw new LakeSoulError('InvalidArgument', `the home ${home} is a file: give a directory (made when missing) with --home, LAKESOUL_TS_HOME or the config file's "home"`, { context: { file: home } });
  }
  const warehouseSetting = refuseEmpty(firstSet([flags.warehouse, '--warehouse'], [env.LAKESOUL_TS_WAREHOUSE, 'LAKESOUL_TS_WAREHOUSE'], inFile('warehouse')),
    'the directory or URI new tables go under (<home>/warehouse when none is set)', 'INVALID_WAREHOUSE');
  const given = expandHome(warehouseSetting ?? pathToFileURL(resolve(home, 'warehouse')).href);
  // a local path, relative to the working directory, is its file:// URI (for every command, init included)
  const warehouse = /^[a-z][a-z0-9+.-]*:\/\//i.test(given) ? given : pathToFileURL(resolve(cwd, given)).href;
  const username = flags.pgUser ?? env.LAKESOUL_PG_USERNAME ?? file.pgUsername;
  const password = flags.pgPassword ?? env.LAKESOUL_PG_PASSWORD ?? file.pgPassword;

  const pick = (value: string, source: CliConfig['source']): CliConfig => {
    if (isServerUrl(value)) return { catalog: { url: value, username, password }, warehouse, describe: `PostgreSQL ${maskPassword(value)}`, source };
    // the catalog's own rule: a URL of another kind (postgress://, jdbc:mysql://) is not a directory name
    const dir = embeddedCatalogDir(expandHome(value), SOURCE_NAMES[source], {
      cwd, serverHint: 'a PostgreSQL catalog is postgres://user@host:port/db or jdbc:postgresql://host:port/db',
    });
    if (dir === undefined) {
      throw new LakeSoulError('InvalidArgument', `${SOURCE_NAMES[source]} '${value}': an in-memory catalog would last one command; give a directory`, { code: 'INVALID_CATALOG_DIR' });
    }
    return { catalog: { dataDir: dir }, warehouse, describe: `embedded PGlite in ${dir}`, source };
  };

  const catalogWhat = 'a PostgreSQL URL or a catalog directory (<home>/catalog when none is set)';
  const flagCatalog = refuseEmpty(firstSet([flags.catalog, '--catalog']), catalogWhat, 'INVALID_CATALOG_URL');
  if (flagCatalog !== undefined) return pick(flagCatalog, 'flag');
  refuseEmptyUrl(env.LAKESOUL_PG_URL, 'LAKESOUL_PG_URL');
  if (env.LAKESOUL_PG_URL) return pick(env.LAKESOUL_PG_URL, 'env');
  const properties = refuseEmpty(firstSet([env.lakesoul_home, 'lakesoul_home']), 'the LakeSoul properties file with lakesoul.pg.url', 'INVALID_CATALOG_URL');
  if (properties !== undefined) {
    const props = readLakeSoulHome(properties);
    const url = props['lakesoul.pg.url']!;
    return { ...pick(url, 'env'), catalog: { url, username: username ?? props['lakesoul.pg.username'], password: password ?? props['lakesoul.pg.password'] } };
  }
  const fileCatalog = refuseEmpty(firstSet(inFile('catalog')), catalogWhat, 'INVALID_CATALOG_URL');
  if (fileCatalog !== undefined) return pick(fileCatalog, 'config-file');
  return { ...pick(resolve(home, 'catalog'), 'default'), source: 'default' };
}
