/**
 * Size and depth limits of everything a Flight client sends (descriptors, tickets, action bodies),
 * and the one way errors quote client input: a short prefix, never the whole of it (a 1 MB name
 * echoed in a status message breaks the client's metadata limit before it can read the error).
 *
 * Every limit is refused with an InvalidArgument LakeSoulError (gRPC INVALID_ARGUMENT) whose code is
 * `LIMIT_EXCEEDED` and whose message names the limit and its value.
 */
import { LakeSoulError } from '@lakesoul-ts/meta';

/** Bytes of a descriptor's CMD JSON. Commands are small JSON objects; 64 KiB leaves room for long filters and IN lists. */
export const MAX_COMMAND_BYTES = 64 * 1024;
/** Nesting depth of any JSON a client sends (CMD, action bodies, filter ASTs). */
export const MAX_JSON_DEPTH = 32;
/** Characters of a table or namespace name, and of each PATH element. */
export const MAX_NAME_CHARS = 512;
/** Elements of a PATH descriptor (`[namespace, table]`). */
export const MAX_PATH_ELEMENTS = 2;
/** Bytes of a ticket (signed, compressed splits; a split of 10 000 files stays well below). */
export const MAX_TICKET_BYTES = 4 * 1024 * 1024;
/** Bytes a ticket's payload may inflate to. */
export const MAX_TICKET_PAYLOAD_BYTES = 64 * 1024 * 1024;
/** Characters of an action type. */
export const MAX_ACTION_TYPE_CHARS = 64;
/** Bytes of an action body (create-table schemas included). */
export const MAX_ACTION_BODY_BYTES = 1024 * 1024;
/** Characters of a filter string given in a command. */
export const MAX_FILTER_CHARS = 16 * 1024;
/** Nesting depth of a create-table type string (`list<list<...>>`). */
export const MAX_TYPE_DEPTH = 16;
/** Characters of a create-table type string. */
export const MAX_TYPE_CHARS = 256;
/** Entries of a list in a command (columns, partitions, IN values...). */
export const MAX_LIST_ENTRIES = 4096;

/**
 * Characters of a Flight SQL filter pattern (`db_schema_filter_pattern`, `table_name_filter_pattern`):
 * names are at most {@link MAX_NAME_CHARS}, and a pattern of twice that leaves room for `\` escapes.
 */
export const MAX_PATTERN_CHARS = 2 * MAX_NAME_CHARS;

/** Characters of client input quoted in an error message. */
export const QUOTE_CHARS = 64;

/** A short, printable quote of client input for error messages: at most {@link QUOTE_CHARS} characters, control characters escaped. */
export function quote(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  const cut = text.length > QUOTE_CHARS;
  // eslint-disable-next-line no-control-regex
  const shown = text.slice(0, QUOTE_CHARS).replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return cut ? `'${shown}'... (${text.length} characters)` : `'${shown}'`;
}

/**
 * A name from a client for an error message: as it is when it is at most {@link QUOTE_CHARS}
 * characters without control characters, else {@link quote}d (cut, escaped).
 */
export function shownName(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.length <= QUOTE_CHARS && !/[\u0000-\u001f\u007f]/.test(value) ? value : quote(value);
}

/** The InvalidArgument error of an exceeded limit. */
export function limitError(what: string, limit: string, detail?: string): LakeSoulError {
  return new LakeSoulError('InvalidArgument', `${what} exceeds the limit ${limit}${detail ? `: ${detail}` : ''}`, { code: 'LIMIT_EXCEEDED' });
}

/**
 * Nesting depth of a JSON text, counted without parsing (so a 100 000-deep array costs one pass,
 * not a stack). Brackets inside strings do not count.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash escapes the next character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/**
 * Parses client JSON within `maxBytes` and {@link MAX_JSON_DEPTH}: invalid UTF-8 and syntax errors are
 * InvalidArgument quoting nothing of the input but its position.
 */
export function parseClientJson(bytes: Uint8Array, what: string, maxBytes: number, example: string): unknown {
  if (bytes.byteLength > maxBytes) throw limitError(`${what} (${bytes.byteLength} bytes)`, `of ${maxBytes} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new LakeSoulError('InvalidArgument', `${what} is not valid UTF-8 (expected JSON like ${example})`, { code: 'JSON_INVALID' });
  }
  const depth = jsonDepth(text);
  if (depth > MAX_JSON_DEPTH) throw limitError(`${what} (nesting depth ${depth})`, `of depth ${MAX_JSON_DEPTH}`);
  try {
    return JSON.parse(text);
  } catch (e) {
    const pos = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new LakeSoulError('InvalidArgument', `${what} is not JSON${pos ? ` (syntax error at position ${pos})` : ''}: expected JSON like ${example}`, { code: 'JSON_INVALID' });
  }
}

/**
 * A table or namespace name from a client: a non-empty string within {@link MAX_NAME_CHARS}, without
 * control characters (a NUL would otherwise reach PostgreSQL as an encoding error).
 */
export function clientName(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new LakeSoulError('InvalidArgument', `${what} must be a non-empty string, got ${quote(value)}`, { code: 'NAME_INVALID' });
  if (value.length > MAX_NAME_CHARS) throw limitError(`${what} ${quote(value)}`, `of ${MAX_NAME_CHARS} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value)) {
    throw new LakeSoulError('InvalidArgument', `${what} ${quote(value)} contains control characters or unpaired surrogates`, { code: 'NAME_INVALID' });
  }
  return value;
}

/** Refuses keys of `obj` not in `allowed`, naming them (quoted) and listing the allowed ones. */
export function refuseUnknownKeys(obj: Record<string, unknown>, allowed: readonly string[], what: string): void {
  const unknown = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new LakeSoulError('InvalidArgument', `${what}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.slice(0, 5).map(quote).join(', ')}${unknown.length > 5 ? ', ...' : ''} (allowed: ${allowed.join(', ')})`, {
      code: 'UNKNOWN_KEY',
    });
  }
}

/**
 * Refuses NUL characters in any string or key of a client value (PostgreSQL text cannot hold them,
 * and would answer in its own words), and lists or objects over {@link MAX_LIST_ENTRIES}.
 */
export function refuseNul(value: unknown, what: string): void {
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.includes('\u0000')) {
        throw new LakeSoulError('InvalidArgument', `${what} holds a NUL character in ${quote(v)}: names and values cannot contain NUL`, { code: 'NUL_CHARACTER' });
      }
    } else if (Array.isArray(v)) {
      if (v.length > MAX_LIST_ENTRIES) throw limitError(`a list in ${what} (${v.length} entries)`, `of ${MAX_LIST_ENTRIES} entries`);
      v.forEach(walk);
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length > MAX_LIST_ENTRIES) throw limitError(`an object in ${what} (${entries.length} keys)`, `of ${MAX_LIST_ENTRIES} keys`);
      for (const [k, x] of entries) {
        walk(k);
        walk(x);
      }
    }
  };
  walk(value);
}
