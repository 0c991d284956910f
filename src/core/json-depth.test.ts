import { describe, expect, it } from 'vitest';
import { jsonTooDeep, MAX_JSON_DEPTH } from './json-depth.ts';

describe('jsonTooDeep', () => {
  const nest = (n: number): string => `${'['.repeat(n)}1${']'.repeat(n)}`;
  it('counts arrays and objects, allowing exactly the limit', () => {
    expect(jsonTooDeep(nest(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonTooDeep(nest(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonTooDeep(`${'{"a":'.repeat(33)}1${'}'.repeat(33)}`)).toBe(true);
    expect(jsonTooDeep('{"a":[{"b":[1]}]}', 4)).toBe(false);
    expect(jsonTooDeep('{"a":[{"b":[1]}]}', 3)).toBe(true);
  });
  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonTooDeep(JSON.stringify({ a: '['.repeat(100) }))).toBe(false);
    expect(jsonTooDeep(JSON.stringify({ a: `\\"${'['.repeat(100)}` }))).toBe(false);
    expect(jsonTooDeep(`{"a":"\\"", "b":${nest(40)}}`)).toBe(true);
  });
});
