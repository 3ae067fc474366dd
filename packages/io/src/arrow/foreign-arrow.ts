/**
 * Arrow objects made by another copy of apache-arrow. Each copy has its own classes: a Table of an
 * older copy (an app on 21.1.0 next to lakesoul-ts's 21.2.0) is no `instanceof Table` here, and one of
 * another copy from 21.2.0 on passes `instanceof` (apache-arrow's cross-copy marks,
 * `Symbol.for('apache-arrow/<Class>')`) but its types and data are still the other copy's, which
 * io's visitors do not know ("Unrecognized type 'NONE'"): the same 21.2.0 loaded twice, through
 * `require()` (its CommonJS build) and through `import`, is two copies. Such an input is refused
 * saying so, instead of as "not an Arrow Table" or failing deeper.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { RecordBatch, Schema, Table } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';

/** The Arrow classes inputs are checked against, by the name apache-arrow gives them. */
export type ArrowClassName = 'Table' | 'RecordBatch' | 'Schema';

/** The first apache-arrow that marks its objects for other copies' `instanceof`. */
const MARKED_SINCE = '21.2.0';

/** Whether semver `a` is below `b` (their major.minor.patch). */
function below(a: string, b: string): boolean {
  const pa = a.split(/[.+-]/).slice(0, 3).map(Number);
  const pb = b.split(/[.+-]/).slice(0, 3).map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) < (pb[i] ?? 0);
  return false;
}

const hasFields = (s: unknown): boolean => Array.isArray((s as { fields?: unknown } | null)?.fields);

/** Whether `x` has the shape of an Arrow `name` (so a class of another library that happens to share the name is not taken for one). */
function shaped(x: object, name: ArrowClassName): boolean {
  const o = x as { schema?: unknown; batches?: unknown; data?: unknown };
  if (name === 'Schema') return hasFields(x);
  if (name === 'Table') return hasFields(o.schema) && Array.isArray(o.batches);
  return hasFields(o.schema) && typeof o.data === 'object' && o.data !== null;
}

const OURS = { Table, RecordBatch, Schema } as const;
const NAMES = Object.keys(OURS) as ArrowClassName[];

/** Whether `x` carries the mark apache-arrow (from 21.2.0) gives instances of its class `name`. */
const marked = (x: object, name: ArrowClassName): boolean => (x as Record<symbol, unknown>)[Symbol.for(`apache-arrow/${name}`)] === true;

/**
 * The class `x` is an instance of in another copy of apache-arrow, or undefined (`x` is ours, or no
 * Arrow Table, RecordBatch or Schema). Told by apache-arrow's marks (copies from 21.2.0 on), else by
 * the class names along its prototype chain and its shape (older copies).
 */
export function foreignArrowClass(x: unknown): ArrowClassName | undefined {
  if (x === null || typeof x !== 'object' || NAMES.some((n) => Object.prototype.isPrototypeOf.call(OURS[n].prototype, x))) return undefined;
  for (const name of NAMES) if (marked(x, name) && shaped(x, name)) return name;
  for (let p: unknown = Object.getPrototypeOf(x); p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const name = (p as { constructor?: { name?: unknown } }).constructor?.name as ArrowClassName;
    if (NAMES.includes(name) && shaped(x, name)) return name;
  }
  return undefined;
}

/** The directory and version of the apache-arrow package `resolveFrom` finds, or undefined. */
function arrowPackage(resolveFrom: string): { dir: string; version: string } | undefined {
  try {
    let dir = dirname(createRequire(resolveFrom).resolve('apache-arrow'));
    // its package.json is not in its `exports`: walk up from the entry point
    for (;;) {
      try {
        const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (manifest.name === 'apache-arrow' && typeof manifest.version === 'string') return { dir, version: manifest.version };
      } catch {
        // no manifest here
      }
      if (dirname(dir) === dir) return undefined;
      dir = dirname(dir);
    }
  } catch {
    return undefined;
  }
}

/**
 * The version of the apache-arrow lakesoul-ts loads (the peer dependency as installed), or undefined
 * when its package.json cannot be read. Flight SQL reports it as the server's Arrow version.
 */
export function loadedArrowVersion(): string | undefined {
  return arrowPackage(import.meta.url)?.version;
}

/** The apache-arrow range lakesoul-ts's packages take (io's peerDependencies), or undefined. */
function peerRange(): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { peerDependencies?: Record<string, string> };
    return manifest.peerDependencies?.['apache-arrow'];
  } catch {
    return undefined;
  }
}

/**
 * An `InvalidArgument` `FOREIGN_ARROW_OBJECT` error when `x` is an Arrow Table, RecordBatch or Schema
 * of another copy of apache-arrow, else undefined. The message names both versions where they can be
 * told: lakesoul-ts's own, and the app's (the apache-arrow the working directory resolves to, when
 * that is another package than lakesoul-ts's); `what` says which input it was.
 */
export function foreignArrowError(x: unknown, what: string, table?: string): LakeSoulError | undefined {
  const cls = foreignArrowClass(x);
  if (cls === undefined) return undefined;
  const ours = arrowPackage(import.meta.url);
  const app = arrowPackage(join(process.cwd(), 'noop.js'));
  const oursText = `lakesoul-ts's ${ours?.version ?? 'apache-arrow'}`;
  // the app's copy: the one the working directory finds, when it is another that can have made `x`
  const isMarked = marked(x as object, cls);
  const appVersion = app && ours && app.dir !== ours.dir && below(app.version, MARKED_SINCE) !== isMarked ? app.version : undefined;
  const versions = appVersion !== undefined ? `the app's ${appVersion} vs ${oursText}`
    : isMarked ? `${ours ? `both ${ours.version}` : 'the same version'}, loaded twice: e.g. the app's require('apache-arrow') loads its CommonJS build, lakesoul-ts imports its ES module`
      : `one older than ${MARKED_SINCE} vs ${oursText}`;
  const range = peerRange();
  // one version loaded twice (a CommonJS library, such as LanceDB's, makes its Tables with the
  // CommonJS build): one install cannot help, an IPC round trip through the same build does
  const remedy = appVersion === undefined && isMarked && cls !== 'Schema'
    ? `; or pass the data through Arrow IPC: \`tableFromIPC(require('apache-arrow').tableToIPC(x))\` with \`tableFromIPC\` imported (import, not require) from 'apache-arrow'`
    : '';
  return new LakeSoulError('InvalidArgument',
    `${what} is an Arrow ${cls} from another copy of apache-arrow (${versions}): install one apache-arrow version${range ? ` (lakesoul-ts takes ${range})` : ''} and make the ${cls} with it; \`npm ls apache-arrow\` lists the copies${remedy}`, {
      code: 'FOREIGN_ARROW_OBJECT',
      context: { table, arrowClass: cls, appArrowVersion: appVersion, arrowVersion: ours?.version },
    });
}
