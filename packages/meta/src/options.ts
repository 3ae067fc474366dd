/**
 * Option objects checked at the public API: a misspelt key (`primaryKey`, `replacePartition`, `token`)
 * is refused naming the call and the key it was probably meant to be, instead of being dropped (which
 * made a table without a primary key, an overwrite of the whole table, or a server without auth).
 * TypeScript catches excess keys only in object literals written at the call, and plain JavaScript
 * never does, so every entry point that takes an options object checks it at run time.
 *
 * The known names of an options type come from {@link optionNames}, whose argument the compiler
 * checks complete and exact against the type: adding an option to the interface without adding it
 * to the list fails to compile.
 */
import { LakeSoulError } from './errors.js';

/** Every key of `T`, each mapped to `true`: the argument of {@link optionNames}. */
export type OptionNames<T> = { readonly [K in keyof Required<T>]: true };

/** The option names of `T` (see the module comment), for {@link refuseUnknownOptions}. */
export function optionNames<T>(names: OptionNames<T>): readonly string[] {
  return Object.freeze(Object.keys(names));
}

/**
 * Refuses an options object holding a key that is not in `known` (code `UNKNOWN_OPTION`), naming
 * `where` (the call: `write into default.events`), the key, and the known one it is closest to.
 * Absent options (undefined or null) pass; anything that is not a plain object is refused.
 * @throws LakeSoulError InvalidArgument `UNKNOWN_OPTION` or `INVALID_OPTIONS`.
 */
export function refuseUnknownOptions(options: unknown, known: readonly string[], where: string): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new LakeSoulError('InvalidArgument', `${where}: options must be an object, got ${Array.isArray(options) ? 'an array' : typeof options}`, { code: 'INVALID_OPTIONS' });
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = closestName(key, known);
    throw new LakeSoulError('InvalidArgument', `${where}: unknown option '${key}'${near ? ` (did you mean '${near}'?)` : ''}; the options are ${known.join(', ')}`, {
      code: 'UNKNOWN_OPTION',
      context: { option: key },
    });
  }
}

/**
 * Refuses a value of option `name` that is not one of `allowed` (an enum-like string option such as
 * `mode`); undefined passes.
 * @throws LakeSoulError InvalidArgument `INVALID_OPTION_VALUE`.
 */
export function refuseOptionValue(value: unknown, allowed: readonly string[], name: string, where: string): void {
  if (value === undefined || (typeof value === 'string' && allowed.includes(value))) return;
  const near = typeof value === 'string' ? closestName(value, allowed) : undefined;
  throw new LakeSoulError('InvalidArgument', `${where}: ${name} must be ${allowed.map((a) => `'${a}'`).join(', ')}; got ${typeof value === 'string' ? `'${value}'` : String(value)}${near ? ` (did you mean '${near}'?)` : ''}`, {
    code: 'INVALID_OPTION_VALUE',
    context: { option: name },
  });
}

/**
 * Refuses a value of the options `names` of `options` that is not `true`, `false`, null or undefined
 * (null, as undefined, leaves the option at its default). A
 * flag read from text (`purge: 'false'` from an environment variable or a form) is truthy: it
 * purged, cascaded or overwrote where the caller asked for the opposite.
 * @throws LakeSoulError InvalidArgument `INVALID_OPTION_VALUE`.
 */
export function refuseNonBooleanOptions(options: unknown, names: readonly string[], where: string): void {
  if (options === undefined || options === null || typeof options !== 'object') return;
  for (const name of names) {
    const value = (options as Record<string, unknown>)[name];
    if (value === undefined || value === null || typeof value === 'boolean') continue;
    const shown = typeof value === 'string' ? `the string '${value.slice(0, 64)}'` : typeof value === 'object' ? (Array.isArray(value) ? 'an array' : 'an object') : String(value);
    throw new LakeSoulError('InvalidArgument', `${where}: ${name} must be true or false, got ${shown}`, {
      code: 'INVALID_OPTION_VALUE',
      context: { option: name },
    });
  }
}

/** The known name a misspelling most likely meant: same letters ignoring case, a prefix, or within two edits. */
function closestName(key: string, known: readonly string[]): string | undefined {
  const k = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const n = name.toLowerCase();
    const d = n === k ? 0 : n.startsWith(k) || k.startsWith(n) ? 1 : editDistance(k, n);
    if (d < bestDistance) { best = name; bestDistance = d; }
  }
  return bestDistance <= Math.min(2, Math.max(1, Math.floor(key.length / 3))) ? best : undefined;
}

/** Levenshtein distance with adjacent transpositions (small strings only). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
