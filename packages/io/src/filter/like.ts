/**
 * SQL LIKE matching in time linear in the pattern times the text, whatever the pattern. A LIKE pattern
 * turned into a JavaScript RegExp (`%` as `[\s\S]*`) backtracks: `'%%%%%%%%%X'` against a 35-character
 * value took seconds per row, and a client's filter or Flight SQL schema pattern froze a server. Here
 * the pattern is cut at its `%` into segments of literal characters and `_`: the first segment must
 * match at the start, the last at the end, and each middle one at its leftmost place after the
 * previous one. Leftmost is always right, because `%` absorbs whatever lies between segments, so no
 * choice is ever revisited.
 */

/** One position of a segment: a code point, or `_` (any one code point). */
type Token = number | null;

/** A compiled LIKE pattern; {@link LikeMatcher.test} says whether a whole string matches it. */
export interface LikeMatcher {
  /** True when all of `text` matches the pattern (SQL LIKE: case-sensitive, `_` is one code point). */
  test(text: string): boolean;
}

/**
 * Compiles a SQL LIKE pattern: `%` any run of characters, `_` one code point, `\` makes the next
 * character literal (a trailing `\` is itself).
 */
export function likeMatcher(pattern: string): LikeMatcher {
  const segments: Token[][] = [[]];
  const chars = [...pattern];
  for (let k = 0; k < chars.length; k++) {
    const c = chars[k]!;
    if (c === '%') {
      if (segments.at(-1)!.length > 0 || segments.length === 1) segments.push([]);
      continue;
    }
    const literal = c === '\\' && k + 1 < chars.length ? chars[++k]! : c;
    segments.at(-1)!.push(c === '_' ? null : literal.codePointAt(0)!);
  }
  // Without `_` every segment is a literal: matched on the string itself (UTF-16 search finds exactly
  // the code-point matches), with no per-value code-point array.
  if (segments.every((seg) => seg.every((t) => t !== null))) return literalMatcher(segments.map((seg) => fromCodePoints(seg as number[])));
  if (segments.length === 1) {
    // no `%`: the whole text is the one segment
    const only = segments[0]!;
    return { test: (text) => { const cps = codePoints(text); return cps.length === only.length && matchesAt(cps, 0, only); } };
  }
  const first = segments[0]!;
  const last = segments.at(-1)!;
  const middle = segments.slice(1, -1).filter((s) => s.length > 0);
  const least = first.length + last.length + middle.reduce((n, s) => n + s.length, 0);
  return {
    test(text) {
      const cps = codePoints(text);
      if (cps.length < least || !matchesAt(cps, 0, first)) return false;
      let from = first.length;
      const end = cps.length - last.length;
      for (const seg of middle) {
        const at = indexOf(cps, seg, from, end);
        if (at < 0) return false;
        from = at + seg.length;
      }
      return from <= end && matchesAt(cps, end, last);
    },
  };
}

/**
 * The string of `cps`, built in chunks: `String.fromCodePoint(...cps)` passes every code point as an
 * argument, which overflows the stack for a segment of a few hundred thousand.
 */
function fromCodePoints(cps: readonly number[]): string {
  let out = '';
  for (let i = 0; i < cps.length; i += 4096) out += String.fromCodePoint(...cps.slice(i, i + 4096));
  return out;
}

/** {@link likeMatcher} for segments of literal text only (cut at `%`; one segment: no `%`). */
function literalMatcher(segments: string[]): LikeMatcher {
  if (segments.length === 1) return { test: (text) => text === segments[0] };
  const first = segments[0]!;
  const last = segments.at(-1)!;
  const middle = segments.slice(1, -1).filter((seg) => seg.length > 0);
  return {
    test(text) {
      const end = text.length - last.length;
      if (end < first.length || !text.startsWith(first) || !text.endsWith(last)) return false;
      let from = first.length;
      for (const seg of middle) {
        const at = text.indexOf(seg, from);
        if (at < 0 || at + seg.length > end) return false;
        from = at + seg.length;
      }
      return true;
    },
  };
}

function codePoints(text: string): number[] {
  const out: number[] = [];
  for (const c of text) out.push(c.codePointAt(0)!);
  return out;
}

function matchesAt(cps: number[], at: number, seg: Token[]): boolean {
  for (let j = 0; j < seg.length; j++) {
    const t = seg[j];
    if (t !== null && cps[at + j] !== t) return false;
  }
  return true;
}

/** The leftmost start >= `from` where `seg` matches and ends by `end`, or -1. */
function indexOf(cps: number[], seg: Token[], from: number, end: number): number {
  for (let at = from; at + seg.length <= end; at++) if (matchesAt(cps, at, seg)) return at;
  return -1;
}
