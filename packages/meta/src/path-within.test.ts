// Two spellings of a place: the one a store that takes paths literally uses (as written) and the one
// LakeSoul's native IO uses (percent-decoded). A table stored as file:///d/x%20y has its files in
// `/d/x%20y` here and in `/d/x y` for the wheel; one stored as file:///d/x%2520y has the wheel's files
// in `/d/x%20y`: the first one's purge listed that directory and deleted the second one's files.
import { describe, expect, it } from 'vitest';
import { pathWithin } from './native-location.js';

describe('pathWithin', () => {
  it('pairs every spelling of each side', () => {
    expect(pathWithin('file:///d/x%20y/part-0.parquet', 'file:///d/x%20y')).toBe(true);
    expect(pathWithin('file:///d/x y/part-0.parquet', 'file:///d/x%20y')).toBe(true);
    // written spelling of one, native spelling of the other
    expect(pathWithin('file:///d/x%2520y', 'file:///d/x%20y')).toBe(true);
    expect(pathWithin('file:///d/x%20y', 'file:///d/x%2520y')).toBe(true);
    expect(pathWithin('file:///d/x%2520y/part-c.parquet', 'file:///d/x%20y')).toBe(true);
    // unrelated places stay apart
    expect(pathWithin('file:///d/xy', 'file:///d/x%20y')).toBe(false);
    expect(pathWithin('file:///d/x%20yz', 'file:///d/x%20y')).toBe(false);
    expect(pathWithin('s3://b/x%20y/k', 's3://b/x y')).toBe(false);
  });
});
