import { describe, expect, it } from 'vitest';
import { LakeSoulError } from './errors.js';
import { MAX_NAME_BYTES, nameProblem, quoteInput, validateNamespaceName, validateTableName } from './table-names.js';
import { normalizeTablePath } from './catalog.js';
import { pathWithin } from './native-location.js';

describe('table and namespace names', () => {
  it('accepts letters and digits of any script and _ - . $ @ + = ~, up to 255 UTF-8 bytes', () => {
    for (const n of ['events', 'v1.2-final', 'événements', '数据', 'a$b@c+d=e~f', 'x'.repeat(MAX_NAME_BYTES), '..x', 'x..']) {
      expect(nameProblem(n), n).toBeUndefined();
    }
  });

  it('refuses what would change the path or the message, saying which rule failed', () => {
    const cases: Array<[unknown, RegExp]> = [
      ['', /must not be empty/], ['.', /must not be '.'/], ['..', /must not be '..'/], ['/', /contains '\/'/], ['victim/nested', /contains '\/'/],
      ['a\\b', /contains '\\'/], ['a\u0000b', /contains U\+0000/], ['a\nb', /contains U\+000A/], ['a b', /contains U\+0020/], ['a#b', /contains '#'/],
      ['a%2Fb', /contains '%'/], ['a?b', /contains '\?'/], ['s3:x', /contains ':'/], ['x'.repeat(256), /256 UTF-8 bytes long \(at most 255/],
      ['é'.repeat(128), /256 UTF-8 bytes/], [7, /must be a string, not number/], [null, /not null/], ['a\u200bb', /U\+200B/],
    ];
    for (const [n, re] of cases) expect(nameProblem(n), String(n)).toMatch(re);
  });

  it('throws InvalidArgument INVALID_NAME listing what is allowed and quoting a short prefix only', () => {
    const huge = 'z'.repeat(1_000_000);
    let e: unknown;
    try { validateTableName(huge); } catch (x) { e = x; }
    expect(LakeSoulError.is(e, 'InvalidArgument')).toBe(true);
    const le = e as LakeSoulError;
    expect(le.code).toBe('INVALID_NAME');
    expect(le.message).toMatch(/^table name 'z{48}…' \(1000000 characters\) is 1000000 UTF-8 bytes long .*allowed: letters and digits of any script/);
    expect(le.message.length).toBeLessThan(400);
    expect(String(le.context.table).length).toBe(48);
    expect(() => validateNamespaceName('default/events')).toThrow(/^namespace name 'default\/events' contains '\/'/);
    expect(quoteInput('a\u0000b')).toBe("'a\\u0000b'");
  });

  it('table paths: no ., .. or empty segments; containment by segment', () => {
    expect(normalizeTablePath('/data/w/t/')).toBe('file:///data/w/t');
    for (const p of ['file:///data/../etc', 's3://b/w/./t', 's3://b//t', 'file:///a\u0000b']) {
      expect(() => normalizeTablePath(p), p).toThrow(LakeSoulError);
    }
    expect(pathWithin('file:///w/default/t', 'file:///w/default')).toBe(true);
    expect(pathWithin('/w/default/t/x.parquet', 'file:///w/default/t')).toBe(true);
    expect(pathWithin('file:///w/default/t2', 'file:///w/default/t')).toBe(false);
    expect(pathWithin('s3://b/w/t', 's3://b/w/t/')).toBe(true);
    expect(pathWithin('s3a://b/w/t/x.parquet', 's3://b/w/t')).toBe(true);
    expect(pathWithin('s3://b/w', 's3n://b/w/t')).toBe(false);
    // Hadoop's Path.toString() (Spark-created tables) and a localhost authority name the same directory
    expect(pathWithin('file:///w/default/t/sub', 'file:/w/default/t')).toBe(true);
    expect(pathWithin('file:/w/default/t', 'file:///w/default/t/')).toBe(true);
    expect(pathWithin('file://localhost/w/t/x.parquet', '/w/t')).toBe(true);
    expect(pathWithin('file:/w/t2', 'file:///w/t')).toBe(false);
    expect(pathWithin('file://otherhost/w/t', 'file:///w/t')).toBe(false);
  });
});
