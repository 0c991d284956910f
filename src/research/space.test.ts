import { describe, expect, it } from 'vitest';
import { isHalyardError } from '../core/errors.ts';
import { combinationAt, indexOf, indicesAt, parseSpace, spaceSpecs } from './space.ts';

const defaults = { fast: 50, slow: 200, sl: 0.01, short: true, mode: 'a' };

/** The message of the invalid_input error `f` throws (fails when it throws anything else or nothing). */
function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isHalyardError(e, 'invalid_input')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('parseSpace', () => {
  it('reads ranges (inclusive), lists and fixed values typed by the defaults', () => {
    const s = parseSpace(defaults, ['fast=10..30:5', 'slow=100,200,300', 'short=false', 'mode=b,c']);
    expect(s.dims.map((d) => [d.name, d.values])).toEqual([
      ['fast', [10, 15, 20, 25, 30]],
      ['slow', [100, 200, 300]],
      ['short', [false]],
      ['mode', ['b', 'c']],
    ]);
    expect(s.size).toBe(30);
    expect(spaceSpecs(s)).toEqual({ fast: '10..30:5', slow: [100, 200, 300], short: false, mode: ['b', 'c'] });
  });

  it('adds decimal steps without drift and stops at the end when the step does not reach it', () => {
    expect(parseSpace(defaults, ['sl=0.01..0.05:0.01']).dims[0]!.values).toEqual([0.01, 0.02, 0.03, 0.04, 0.05]);
    expect(parseSpace(defaults, ['fast=10..22:5']).dims[0]!.values).toEqual([10, 15, 20]);
    expect(parseSpace(defaults, ['fast=3..5']).dims[0]!.values).toEqual([3, 4, 5]);
  });

  it('reads the params file the same way (JSON lists keep their types)', () => {
    const s = parseSpace(defaults, [], { fast: '10..20:10', slow: [100, 200], short: true });
    expect(s.dims.map((d) => d.values)).toEqual([[10, 20], [100, 200], [true]]);
  });

  it('refuses unknown names, bad ranges, wrong types and spaces past a million combinations', () => {
    expect(refusal(() => parseSpace(defaults, ['fats=1..2']))).toMatch(/unknown parameter "fats"; this strategy takes: fast, slow/);
    expect(refusal(() => parseSpace(defaults, ['fast=10..5:1']))).toMatch(/starts above its end/);
    expect(refusal(() => parseSpace(defaults, ['fast=1..5:0']))).toMatch(/step must be > 0/);
    expect(refusal(() => parseSpace(defaults, ['fast=1..5:-1']))).toMatch(/step must be > 0/);
    expect(refusal(() => parseSpace(defaults, ['fast=1..2000000:1']))).toMatch(/more than 1,000,000/);
    expect(refusal(() => parseSpace(defaults, ['fast=1..2000:1', 'slow=1..1000:1']))).toMatch(/more than 1,000,000 combinations/);
    expect(refusal(() => parseSpace(defaults, ['fast=ten']))).toMatch(/"fast" must be a number/);
    expect(refusal(() => parseSpace(defaults, ['short=maybe']))).toMatch(/true or false/);
    expect(refusal(() => parseSpace(defaults, ['fast=1'], { fast: [2] }))).toMatch(/given twice/);
    expect(refusal(() => parseSpace(defaults, ['fast']))).toMatch(/name=spec/);
    expect(refusal(() => parseSpace(defaults, [], { fast: { lo: 1 } }))).toMatch(/a spec is a range/);
    expect(refusal(() => parseSpace(defaults, [], { fast: [] }))).toMatch(/empty/);
  });

  it('numbers combinations with the first parameter varying slowest', () => {
    const s = parseSpace(defaults, ['fast=1,2', 'slow=10,20,30']);
    expect([0, 1, 2, 3, 5].map((i) => combinationAt(s, i))).toEqual([
      { fast: 1, slow: 10 }, { fast: 1, slow: 20 }, { fast: 1, slow: 30 }, { fast: 2, slow: 10 }, { fast: 2, slow: 30 },
    ]);
    for (let i = 0; i < s.size; i++) expect(indexOf(s, indicesAt(s, i))).toBe(i);
  });
});
