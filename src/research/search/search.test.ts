import { describe, expect, it } from 'vitest';
import { parseConstraint } from '../constraint.ts';
import { combinationAt, parseSpace, type ParamSpace } from '../space.ts';
import { GridSearch } from './grid.ts';
import { RandomSearch } from './random.ts';
import { feasibleIndices, type Search } from './search.ts';
import { TpeSearch } from './tpe.ts';

const defaults = { fast: 50, slow: 200, short: true };
const space = parseSpace(defaults, ['fast=5..100:5', 'slow=50..400:25', 'short=true,false']);
const feasible = feasibleIndices(space, [parseConstraint('fast < slow', ['fast', 'slow'])], defaults);

/** Runs a search to the end against `f`, batch by batch; returns every index proposed, in order. */
function drive(s: Search, f: (i: number) => number): number[] {
  const all: number[] = [];
  for (let batch = s.ask(Number.isFinite(s.batch) ? s.batch : 1e9); batch.length > 0; batch = s.ask(Number.isFinite(s.batch) ? s.batch : 1e9)) {
    for (const i of batch) s.tell(i, f(i));
    all.push(...batch);
  }
  return all;
}

/** A smooth objective with its peak at fast=35, slow=225, short=false (known optimum 0), plus a weaker bump. */
function objective(sp: ParamSpace): (i: number) => number {
  return (i) => {
    const c = combinationAt(sp, i) as { fast: number; slow: number; short: boolean };
    const peak = -(((c.fast - 35) / 20) ** 2) - (((c.slow - 225) / 100) ** 2) - (c.short ? 0.3 : 0);
    const bump = -0.6 - (((c.fast - 90) / 10) ** 2) - (((c.slow - 375) / 30) ** 2);
    return Math.max(peak, bump);
  };
}

describe('search methods', () => {
  it('the grid proposes every feasible combination once, in order', () => {
    const all = drive(new GridSearch(feasible), () => 0);
    expect(all).toEqual(feasible);
    expect(all.every((i) => (combinationAt(space, i).fast as number) < (combinationAt(space, i).slow as number))).toBe(true);
    expect(feasible.length).toBeLessThan(space.size);
  });

  it('random draws distinct feasible combinations, the same for the same seed, others for another', () => {
    const a = drive(new RandomSearch(feasible, 50, 7), () => 0);
    expect(a).toHaveLength(50);
    expect(new Set(a).size).toBe(50);
    expect(a.every((i) => feasible.includes(i))).toBe(true);
    expect(drive(new RandomSearch(feasible, 50, 7), () => 0)).toEqual(a);
    expect(drive(new RandomSearch(feasible, 50, 8), () => 0)).not.toEqual(a);
    expect(drive(new RandomSearch(feasible, 10_000, 7), () => 0)).toHaveLength(feasible.length);
  });

  it('TPE proposes distinct feasible combinations, the same for the same seed', () => {
    const f = objective(space);
    const a = drive(new TpeSearch(space, feasible, { trials: 40, seed: 3 }), f);
    expect(a).toHaveLength(40);
    expect(new Set(a).size).toBe(40);
    expect(a.every((i) => feasible.includes(i))).toBe(true);
    expect(drive(new TpeSearch(space, feasible, { trials: 40, seed: 3 }), f)).toEqual(a);
    expect(drive(new TpeSearch(space, feasible, { trials: 40, seed: 4 }), f)).not.toEqual(a);
  });

  it('TPE finds a best at least as good as random with the same budget, over ten seeds', () => {
    const f = objective(space);
    const best = (xs: number[]): number => Math.max(...xs.map(f));
    let tpeWins = 0;
    let tpeSum = 0;
    let randomSum = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const tpe = best(drive(new TpeSearch(space, feasible, { trials: 40, seed }), f));
      const rnd = best(drive(new RandomSearch(feasible, 40, seed), f));
      if (tpe >= rnd) tpeWins++;
      tpeSum += tpe;
      randomSum += rnd;
    }
    expect(tpeSum / 10).toBeGreaterThan(randomSum / 10);
    expect(tpeWins).toBeGreaterThanOrEqual(9);
  });

  it('TPE keeps learning when every score is −Infinity (infeasible) and stops at the feasible count', () => {
    const small = parseSpace(defaults, ['fast=10,20,30']);
    const all = drive(new TpeSearch(small, [0, 1, 2], { trials: 10, seed: 1 }), () => Number.NEGATIVE_INFINITY);
    expect([...all].sort()).toEqual([0, 1, 2]);
  });
});
