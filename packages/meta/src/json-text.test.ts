import { expect, it } from 'vitest';
import { holdsNegativeZero, jsonText } from './json-text.js';

it('writes -0 as -0 at any depth, and everything else as JSON.stringify does', () => {
  expect(jsonText(-0)).toBe('-0');
  expect(jsonText([-0, 1.5])).toBe('[-0,1.5]');
  expect(jsonText({ f: -0, g: [{ h: -0 }], s: 'x', u: undefined })).toBe('{"f":-0,"g":[{"h":-0}],"s":"x"}');
  expect(jsonText([undefined, -0])).toBe('[null,-0]');
  for (const v of [0, [0, 1.5], { f: 0 }, 'a"b', null, [], {}, [[1, 2], { a: null }]]) expect(jsonText(v)).toBe(JSON.stringify(v));
  for (const v of [jsonText([-0, { a: [-0] }]), jsonText({ x: -0 })]) expect(holdsNegativeZero(JSON.parse(v))).toBe(true);
  expect(holdsNegativeZero([0, { a: 0 }])).toBe(false);
});
