// The injected Danfo module types the frames (checked by tsc on the test sources) and builds them.
import { expect, expectTypeOf, test } from 'vitest';
import * as danfo from 'danfojs';
import * as A from 'apache-arrow';
import { toDataFrame } from './index.js';

test('frames are typed as the injected module\'s DataFrame', async () => {
  const df = await toDataFrame(new A.Table({ a: A.vectorFromArray([1, 2]) }), { dfd: danfo });
  expectTypeOf(df).toEqualTypeOf<danfo.DataFrame>();
  expect(df).toBeInstanceOf(danfo.DataFrame);
  expect(df.shape).toEqual([2, 1]);
});
