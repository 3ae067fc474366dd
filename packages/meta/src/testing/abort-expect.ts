/** Test helpers for calls that must end at their abort rather than at a timeout. */
import { expect } from 'vitest';
import { LakeSoulError } from '../errors.js';

/**
 * How `p` settled and when (ms from `since`), or a failure of the test when it is still pending after
 * `ms` (the abort was ignored).
 */
export async function settled<T>(p: Promise<T>, ms: number, since = Date.now()): Promise<{ value?: T; error?: unknown; after: number }> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms: the abort was ignored`)), ms); });
  try {
    const o = await Promise.race([p.then((value) => ({ value }), (error: unknown) => ({ error })), hung]);
    return { ...o, after: Date.now() - since };
  } finally {
    clearTimeout(timer);
  }
}

/** Asserts `error` is the Aborted {@link LakeSoulError}, and returns it. */
export function expectAborted(error: unknown): LakeSoulError {
  expect(error, 'expected the Aborted error').toBeInstanceOf(LakeSoulError);
  expect((error as LakeSoulError).kind, (error as LakeSoulError).message).toBe('Aborted');
  return error as LakeSoulError;
}
