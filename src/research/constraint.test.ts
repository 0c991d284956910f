import { describe, expect, it } from 'vitest';
import { isHalyardError } from '../core/errors.ts';
import { parseConstraint, satisfiesAll } from './constraint.ts';

const numeric = ['fast', 'slow', 'sl'];

function refusal(text: string): string {
  try {
    parseConstraint(text, numeric);
  } catch (e) {
    expect(isHalyardError(e, 'invalid_input')).toBe(true);
    return (e as Error).message;
  }
  throw new Error(`expected "${text}" to be refused`);
}

describe('parseConstraint', () => {
  it('compares arithmetic over parameters and numbers', () => {
    const lt = parseConstraint('fast < slow', numeric);
    expect(lt.names).toEqual(['fast', 'slow']);
    expect(lt.test({ fast: 10, slow: 20 })).toBe(true);
    expect(lt.test({ fast: 20, slow: 20 })).toBe(false);
    expect(parseConstraint('slow >= 2 * fast + 10', numeric).test({ fast: 45, slow: 100 })).toBe(true);
    expect(parseConstraint('slow >= 2 * fast + 10', numeric).test({ fast: 46, slow: 100 })).toBe(false);
    expect(parseConstraint('(slow - fast) / 2 == 5', numeric).test({ fast: 10, slow: 20 })).toBe(true);
    expect(parseConstraint('-fast != -10', numeric).test({ fast: 10 })).toBe(false);
    expect(parseConstraint('slow ÷ fast > 3 × 1', numeric).test({ fast: 10, slow: 40 })).toBe(true);
    expect(parseConstraint('slow − fast <= .5e2', numeric).test({ fast: 10, slow: 60 })).toBe(true);
    // Precedence: 2 + 3 * fast is 2 + 30, not 50.
    expect(parseConstraint('2 + 3 * fast == 32', numeric).test({ fast: 10 })).toBe(true);
    expect(parseConstraint('fast - slow - 1 == -11', numeric).test({ fast: 10, slow: 20 })).toBe(true);
  });

  it('checks every constraint', () => {
    const cs = [parseConstraint('fast < slow', numeric), parseConstraint('fast > 5', numeric)];
    expect(satisfiesAll(cs, { fast: 10, slow: 20 })).toBe(true);
    expect(satisfiesAll(cs, { fast: 4, slow: 20 })).toBe(false);
  });

  it('refuses hostile and malformed input with one sentence, running nothing', () => {
    expect(refusal('fast < slow; process.exit()')).toMatch(/unexpected ";" at character 12/);
    expect(refusal('process.exit(1) < 2')).toMatch(/unexpected "\."/);
    expect(refusal('constructor < 1')).toMatch(/"constructor" is not a number parameter/);
    expect(refusal('__proto__ < 1')).toMatch(/is not a number parameter/);
    expect(refusal('fats < slow')).toMatch(/"fats" is not a number parameter of this strategy \(it takes: fast, slow, sl\)/);
    expect(refusal('fast slow')).toMatch(/expected a comparison/);
    expect(refusal('fast < slow < 3')).toMatch(/one comparison per --constraint/);
    expect(refusal('fast + 1')).toMatch(/no comparison/);
    expect(refusal('fast < (slow')).toMatch(/not closed/);
    expect(refusal('fast <')).toMatch(/ends where a number or a parameter was expected/);
    expect(refusal('')).toMatch(/empty/);
    expect(refusal('`fast` < 1')).toMatch(/unexpected "`"/);
    expect(refusal(`${'('.repeat(100)}fast${')'.repeat(100)} < 1`)).toMatch(/nests deeper/);
    expect(refusal(`${'-'.repeat(100)}fast < 1`)).toMatch(/nests deeper/);
    expect(refusal(`fast < ${'1+'.repeat(400)}1`)).toMatch(/longer than 500 characters/);
  });
});
