import { describe, expect, it } from 'vitest';
import { LakeSoulError } from './errors.js';
import { optionNames, refuseOptionValue, refuseUnknownOptions } from './options.js';

interface Opts { primaryKeys?: string[]; rangePartitions?: string[]; tokens?: string[]; signal?: AbortSignal }
const KNOWN = optionNames<Opts>({ primaryKeys: true, rangePartitions: true, tokens: true, signal: true });

function refusal(fn: () => void): LakeSoulError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LakeSoulError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('refuseUnknownOptions', () => {
  it('passes known keys and absent options', () => {
    expect(KNOWN).toEqual(['primaryKeys', 'rangePartitions', 'tokens', 'signal']);
    refuseUnknownOptions({ primaryKeys: ['id'], signal: undefined }, KNOWN, 'createTable t');
    refuseUnknownOptions(undefined, KNOWN, 'createTable t');
    refuseUnknownOptions({}, KNOWN, 'createTable t');
  });

  it.each([
    ['primaryKey', 'primaryKeys'],
    ['token', 'tokens'],
    ['PrimaryKeys', 'primaryKeys'],
    ['rangePartiton', 'rangePartitions'],
  ])('refuses %s, suggesting %s', (key, near) => {
    const e = refusal(() => refuseUnknownOptions({ [key]: 1 }, KNOWN, 'createTable t'));
    expect(e.code).toBe('UNKNOWN_OPTION');
    expect(e.kind).toBe('InvalidArgument');
    expect(e.message).toBe(`createTable t: unknown option '${key}' (did you mean '${near}'?); the options are primaryKeys, rangePartitions, tokens, signal`);
    expect(LakeSoulError.hasCode(e, 'UNKNOWN_OPTION')).toBe(true);
  });

  it('suggests nothing for a key unlike any option, and refuses options that are not an object', () => {
    expect(refusal(() => refuseUnknownOptions({ colour: 'red' }, KNOWN, 'x')).message).toMatch(/^x: unknown option 'colour'; the options are/);
    expect(refusal(() => refuseUnknownOptions(['a'], KNOWN, 'x')).code).toBe('INVALID_OPTIONS');
    expect(refusal(() => refuseUnknownOptions('fast', KNOWN, 'x')).message).toBe('x: options must be an object, got string');
  });
});

describe('refuseOptionValue', () => {
  it('takes the allowed values and undefined, refuses others with a suggestion', () => {
    refuseOptionValue('upsert', ['append', 'upsert'], 'mode', 'write');
    refuseOptionValue(undefined, ['append', 'upsert'], 'mode', 'write');
    const e = refusal(() => refuseOptionValue('upsrt', ['append', 'upsert', 'overwrite'], 'mode', 'write into table \'default.t\''));
    expect(e.code).toBe('INVALID_OPTION_VALUE');
    expect(e.message).toBe("write into table 'default.t': mode must be 'append', 'upsert', 'overwrite'; got 'upsrt' (did you mean 'upsert'?)");
    expect(refusal(() => refuseOptionValue(3, ['a'], 'mode', 'w')).message).toBe("w: mode must be 'a'; got 3");
  });
});
