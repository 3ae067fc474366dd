/**
 * The one validator of table names and namespaces, shared by the catalog API, the CLI and Flight
 * (issue 12 §2). A name becomes one directory of a table's default location
 * (`<warehouse>/<namespace>/<name>`), a segment of an S3 key, a key of the catalog's primary keys,
 * and text in error messages, so it must stay ONE path segment that no path or URL parser rewrites.
 */
import { LakeSoulError } from './errors.js';

/**
 * Longest name in UTF-8 bytes: 255 is the longest file name (one path segment) of ext4, XFS, APFS
 * and NTFS, and a name is one directory of the table's default path.
 */
export const MAX_NAME_BYTES = 255;

/** Longest prefix of user input quoted in an error message (characters). */
export const MAX_QUOTED_INPUT = 48;

/** Characters a name may hold: letters, marks and digits of any script, and `_ - . $ @ + = ~`. */
const ALLOWED = /^[\p{L}\p{M}\p{N}_\-.$@+=~]+$/u;

/** The rule as users read it in errors and docs. */
export const NAME_RULE =
  `letters and digits of any script and _ - . $ @ + = ~; not '.' or '..'; 1 to ${MAX_NAME_BYTES} UTF-8 bytes ` +
  '(no /, \\, spaces, control characters, %, ?, #, : or other punctuation)';

/**
 * Quotes at most {@link MAX_QUOTED_INPUT} characters of untrusted input for an error message, with
 * control characters escaped, so a megabyte name or a NUL never travels back in a message.
 */
export function quoteInput(value: string, max = MAX_QUOTED_INPUT): string {
  const chars = [...value];
  const head = chars.slice(0, max).join('');
  // eslint-disable-next-line no-control-regex
  const safe = head.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return chars.length > max ? `'${safe}…' (${chars.length} characters)` : `'${safe}'`;
}

/** What a name is checked as: the word used in messages and the error context key. */
export type NameKind = 'table' | 'namespace';

/**
 * Why `name` is not a valid table name or namespace, or undefined when it is. Pure: no I/O.
 */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `must be a string, not ${name === null ? 'null' : typeof name}`;
  if (name.length === 0) return 'must not be empty';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_NAME_BYTES) return `is ${bytes} UTF-8 bytes long (at most ${MAX_NAME_BYTES}: one directory of the table path)`;
  if (name === '.' || name === '..') return `must not be '${name}' (a relative path segment)`;
  if (!ALLOWED.test(name)) {
    const bad = [...name].find((c) => !ALLOWED.test(c)) ?? '';
    const shown = /[\p{Cc}\p{Cf}\p{Z}]/u.test(bad) ? `U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : `'${bad}'`;
    return `contains ${shown}`;
  }
  return undefined;
}

/**
 * Throws InvalidArgument (code `INVALID_NAME`) unless `name` is a valid table name or namespace
 * (see {@link NAME_RULE}). The message says which rule failed, lists what is allowed and quotes at
 * most a short prefix of the input.
 */
export function validateName(kind: NameKind, name: unknown): asserts name is string {
  const problem = nameProblem(name);
  if (problem === undefined) return;
  const shown = typeof name === 'string' ? quoteInput(name) : String(name);
  const short = typeof name === 'string' ? [...name].slice(0, MAX_QUOTED_INPUT).join('') : undefined;
  throw new LakeSoulError('InvalidArgument', `${kind} name ${shown} ${problem}; allowed: ${NAME_RULE}`, {
    code: 'INVALID_NAME',
    context: kind === 'table' ? { table: short } : { namespace: short },
  });
}

/** {@link validateName} for a table name. */
export function validateTableName(name: unknown): asserts name is string {
  validateName('table', name);
}

/** {@link validateName} for a namespace. */
export function validateNamespaceName(name: unknown): asserts name is string {
  validateName('namespace', name);
}
