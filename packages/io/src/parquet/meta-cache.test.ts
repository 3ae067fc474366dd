import { describe, expect, it } from 'vitest';
import { DEFAULT_META_CACHE_BYTES, ParquetMetaCache, fileMetaKey } from './meta-cache.js';

describe('ParquetMetaCache', () => {
  it('keeps entries within its budget, evicting the least recently used', () => {
    const c = new ParquetMetaCache(100);
    c.set('a', 1, 40);
    c.set('b', 2, 40);
    expect(c.get('a')).toBe(1); // a is now the most recent
    c.set('c', 3, 40); // over budget: b goes
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(1);
    expect(c.get('c')).toBe(3);
    expect(c.size).toEqual({ entries: 2, bytes: 80 });
    c.set('a', 'again', 10); // replacing an entry replaces its weight
    expect(c.size).toEqual({ entries: 2, bytes: 50 });
    c.set('huge', 4, 101); // heavier than the budget: not kept, nothing evicted
    expect(c.get('huge')).toBeUndefined();
    expect(c.size.entries).toBe(2);
    c.set('n', null, 1); // null is a value (an index that cannot be decoded)
    expect(c.get('n')).toBeNull();
    c.clear();
    expect(c.size).toEqual({ entries: 0, bytes: 0 });
  });

  it('a budget of 0 keeps nothing; a bad budget is refused', () => {
    const c = new ParquetMetaCache(0);
    c.set('a', 1, 1);
    expect(c.get('a')).toBeUndefined();
    expect(() => new ParquetMetaCache(-1)).toThrow(/non-negative/);
    expect(() => new ParquetMetaCache(Number.NaN)).toThrow(/non-negative/);
    expect(DEFAULT_META_CACHE_BYTES).toBeGreaterThan(0);
  });

  it('keys files by location and size', () => {
    expect(fileMetaKey('file:///t/a.parquet', 10)).not.toBe(fileMetaKey('file:///t/a.parquet', 11));
    expect(fileMetaKey('file:///t/a.parquet', 10)).not.toBe(fileMetaKey('file:///t/b.parquet', 10));
  });
});
