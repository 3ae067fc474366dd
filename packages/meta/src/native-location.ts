/**
 * Where LakeSoul's native IO (the Rust core of the `lakesoul` wheel, Spark's and Flink's native
 * readers) puts a local path: it parses a stored `file:` location as a URL and percent-decodes its
 * path, so the wheel stores `file:///w/my%20lake` for the directory `/w/my lake`. Comparing table
 * locations by their raw text would let two tables share one directory (issue H1: one table's
 * cleanup then deleted the other's live files). The same rule, for data file paths, is
 * `nativeDataFileUri` in `@lakesoul-ts/io`.
 */

/**
 * Decodes `%XX` escapes (as UTF-8 bytes; a `%` not followed by two hex digits stays, an invalid
 * byte sequence becomes U+FFFD, as the native IO's lossy decoding does).
 */
export function percentDecode(text: string): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < text.length;) {
    if (text[i] === '%' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      const ch = String.fromCodePoint(text.codePointAt(i)!);
      bytes.push(...enc.encode(ch));
      i += ch.length;
    }
  }
  return new TextDecoder('utf-8').decode(Uint8Array.from(bytes));
}

/**
 * The local directory or file a `file:` location's path (`/a/b%20c`, the part after the scheme and
 * authority) names to LakeSoul's native IO: tabs and newlines removed, query and fragment cut,
 * backslashes as `/`, percent-decoded, then `.` and `..` segments applied (as the URL parser, or the
 * file system for a decoded `a%2F..`, applies them) and empty segments dropped.
 */
export function nativeLocalPath(path: string): string {
  let p = path.replace(/[\t\n\r]/g, '');
  const cut = p.search(/[?#]/);
  if (cut >= 0) p = p.slice(0, cut);
  const segments: string[] = [];
  for (const s of percentDecode(p.replace(/\\/g, '/')).split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') segments.pop();
    else segments.push(s);
  }
  return `/${segments.join('/')}`;
}
