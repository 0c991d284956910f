import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../core/rng.ts';
import { binomial, probabilityOfBacktestOverfitting } from './pbo.ts';
import { invalidInput } from './test-refusal.ts';

function noise(rng: SeededRandom, t: number, drift = 0, scale = 0.01): Float64Array {
  const xs = new Float64Array(t);
  for (let i = 0; i < t; i++) xs[i] = drift + scale * rng.normal();
  return xs;
}


const sorted = (xs: Float64Array): number[] => Array.from(xs).sort((a, b) => a - b);

describe('binomial', () => {
  it('counts the IS/OOS splits', () => {
    expect(binomial(4, 2)).toBe(6);
    expect(binomial(16, 8)).toBe(12_870);
    expect(binomial(20, 10)).toBe(184_756);
  });
});

describe('probabilityOfBacktestOverfitting', () => {
  it('works a tiny matrix by hand (S = 4, N = 3, metric = mean)', () => {
    // One row per block (T = 4), so a block's sum is its row. Trials A, B, C:
    //   block:  0   1   2   3   total
    //   A       4   3  -2  -5     0
    //   B       1   0   2   1     4
    //   C       0   1   1   3     5
    // IS and OOS both hold 2 rows, so comparing means is comparing sums (OOS = total − IS).
    // IS blocks | IS sums A,B,C | winner | OOS sums A,B,C | winner's OOS rank | ω̄ = rank/4 | λ = ln(ω̄/(1−ω̄))
    //  {0,1}    |  7,  1,  1    |   A    |  -7,  3,  4    | 1                  | 0.25  | ln(1/3) = −1.0986
    //  {0,2}    |  2,  3,  1    |   B    |  -2,  1,  4    | 2                  | 0.5   | 0
    //  {0,3}    | -1,  2,  3    |   C    |   1,  2,  2    | 2.5 (ties with B)  | 0.625 | ln(5/3) = +0.5108
    //  {1,2}    |  1,  2,  2    |   B (first of B=C) | -1, 2, 3 | 2          | 0.5   | 0
    //  {1,3}    | -2,  1,  4    |   C    |   2,  3,  1    | 1                  | 0.25  | −1.0986
    //  {2,3}    | -7,  3,  4    |   C    |   7,  1,  1    | 1.5 (ties with B)  | 0.375 | ln(3/5) = −0.5108
    // PBO = #(λ ≤ 0)/6 = 5/6. Mean ω̄ = (0.25+0.5+0.625+0.5+0.25+0.375)/6 = 2.5/6.
    // Winner's OOS means: −3.5, 0.5, 1, 1, 0.5, 0.5 → one loss in six. IS means: 3.5, 1.5, 1.5, 1, 2, 2.
    // Degradation: Σis = 11.5, Σoos = 0, Σis·oos = −12.25+0.75+1.5+1+1+1 = −7 → Sxy = −7;
    // Sxx = Σis² − (Σis)²/6 = 25.75 − 22.041667 = 89/24 → slope = −7·24/89 = −168/89; intercept = 0 − slope·11.5/6.
    const r = probabilityOfBacktestOverfitting({
      trials: [
        [4, 3, -2, -5],
        [1, 0, 2, 1],
        [0, 1, 1, 3],
      ],
      partitions: 4,
      metric: 'mean',
    });
    expect(r.combinations).toBe(6);
    expect(r.pbo).toBeCloseTo(5 / 6, 15);
    const l13 = Math.log(1 / 3);
    const want = [l13, l13, Math.log(3 / 5), 0, 0, Math.log(5 / 3)];
    sorted(r.logits).forEach((l, i) => expect(l).toBeCloseTo(want[i] as number, 12));
    expect(r.meanOosRank).toBeCloseTo(2.5 / 6, 15);
    expect(r.probabilityOfLoss).toBeCloseTo(1 / 6, 15);
    expect(sorted(r.isMetric)).toEqual([1, 1.5, 1.5, 2, 2, 3.5]);
    expect(sorted(r.oosMetric)).toEqual([-3.5, 0.5, 0.5, 0.5, 1, 1]);
    expect(Array.from(r.winners).sort()).toEqual([0, 1, 1, 2, 2, 2]);
    expect(r.degradation.slope).toBeCloseTo(-168 / 89, 12);
    expect(r.degradation.intercept).toBeCloseTo((168 / 89) * (11.5 / 6), 12);
  });

  it('scores Sharpe as mean over sample std, which can reverse the mean metric (S = 2, N = 2)', () => {
    // Blocks of two rows. A = [1, 3 | 0, 0.5], B = [1, 2 | 5, 1].
    // Block 0: A mean 2, std √2 → SR 1.4142; B mean 1.5, std √0.5 → SR 2.1213.
    // Block 1: A mean 0.25, std √0.125 → SR 0.7071; B mean 3, std √8 → SR 1.0607.
    // Sharpe: B wins IS in both splits and is also best OOS → rank 2 of 2, ω̄ = 2/3, λ = ln 2 > 0 → PBO 0.
    // Mean: A wins block 0 (2 > 1.5) but is worst in block 1 (0.25 < 3); B wins block 1 and is worst in
    // block 0 (1.5 < 2) → λ = ln(1/2) < 0 both times → PBO 1.
    const trials = [
      [1, 3, 0, 0.5],
      [1, 2, 5, 1],
    ];
    const sharpe = probabilityOfBacktestOverfitting({ trials, partitions: 2 });
    expect(sharpe.pbo).toBe(0);
    sharpe.logits.forEach((l) => expect(l).toBeCloseTo(Math.log(2), 12));
    const isSharpes = sorted(sharpe.isMetric);
    expect(isSharpes[0]).toBeCloseTo(3 / Math.sqrt(8), 12);
    expect(isSharpes[1]).toBeCloseTo(1.5 / Math.sqrt(0.5), 12);
    expect(Array.from(sharpe.winners)).toEqual([1, 1]);
    const mean = probabilityOfBacktestOverfitting({ trials, partitions: 2, metric: 'mean' });
    expect(mean.pbo).toBe(1);
    expect(mean.probabilityOfLoss).toBe(0);
  });

  it('agrees with a direct, unoptimised CSCV on random data', () => {
    // The reference recomputes each split from the rows themselves: no block sums, no shifting, no masks.
    const rng = new SeededRandom(2024);
    const t = 61;
    const s = 6;
    const trials = Array.from({ length: 7 }, (_, j) => noise(rng, t, (j - 3) * 0.001));
    const blockOf = (i: number): number => {
      for (let g = 0; g < s; g++) if (i < Math.floor(((g + 1) * t) / s)) return g;
      return s - 1;
    };
    const sharpeOf = (xs: number[]): number => {
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
      return m / Math.sqrt(v);
    };
    const logits: number[] = [];
    const choose = (start: number, picked: number[]): void => {
      if (picked.length === s / 2) {
        const is = trials.map((col) => sharpeOf(Array.from(col).filter((_, i) => picked.includes(blockOf(i)))));
        const oos = trials.map((col) => sharpeOf(Array.from(col).filter((_, i) => !picked.includes(blockOf(i)))));
        const best = is.indexOf(Math.max(...is));
        const rank = 1 + oos.filter((o) => o < (oos[best] as number)).length;
        logits.push(Math.log(rank / (trials.length + 1 - rank)));
        return;
      }
      for (let g = start; g < s; g++) choose(g + 1, [...picked, g]);
    };
    choose(0, []);
    const r = probabilityOfBacktestOverfitting({ trials, partitions: s });
    expect(r.combinations).toBe(logits.length);
    const want = logits.sort((a, b) => a - b);
    sorted(r.logits).forEach((l, i) => expect(l).toBeCloseTo(want[i] as number, 12));
    expect(r.pbo).toBe(want.filter((l) => l <= 0).length / want.length);
  });

  it('gives a PBO near one half when every trial is noise', () => {
    // Each seed is one research project of 40 skill-less trials over two years of daily returns. The splits
    // of one project are correlated, so one PBO can stray from 0.5; the mean over projects cannot, much.
    const pbos: number[] = [];
    for (let seed = 1; seed <= 12; seed++) {
      const rng = new SeededRandom(seed);
      const trials = Array.from({ length: 40 }, () => noise(rng, 730));
      const r = probabilityOfBacktestOverfitting({ trials, partitions: 10 });
      expect(r.combinations).toBe(252);
      expect(r.pbo).toBeGreaterThan(0.05);
      expect(r.pbo).toBeLessThan(0.95);
      pbos.push(r.pbo);
    }
    const avg = pbos.reduce((a, b) => a + b, 0) / pbos.length;
    expect(avg).toBeGreaterThan(0.3);
    expect(avg).toBeLessThan(0.7);
  });

  it('gives a PBO of 0 when one trial has a real edge and the rest are noise', () => {
    const rng = new SeededRandom(99);
    const n = 30;
    // Trial 7 earns 0.3 standard deviations a day: over 500 IS days that is a t-stat near 7, far above the
    // best of 29 noise trials (about 2).
    const trials = Array.from({ length: n }, (_, j) => noise(rng, 1000, j === 7 ? 0.003 : 0));
    const r = probabilityOfBacktestOverfitting({ trials });
    expect(r.combinations).toBe(12_870);
    expect(r.pbo).toBe(0);
    expect(r.probabilityOfLoss).toBe(0);
    expect(r.winners.every((w) => w === 7)).toBe(true);
    expect(r.meanOosRank).toBeCloseTo(n / (n + 1), 12);
    r.logits.forEach((l) => expect(l).toBeCloseTo(Math.log(n), 12));
  });

  it('scores a constant trial (one that never traded) as Sharpe 0, ranked among the others', () => {
    const rng = new SeededRandom(5);
    const flat = new Float64Array(200);
    const losing = noise(rng, 200, -0.02);
    const r = probabilityOfBacktestOverfitting({ trials: [losing, flat], partitions: 4 });
    // The losing trial's Sharpe is about −2 in every block set, so the flat one wins IS and OOS every time.
    expect(r.winners.every((w) => w === 1)).toBe(true);
    expect(r.isMetric.every((m) => m === 0)).toBe(true);
    expect(r.pbo).toBe(0);
    expect(r.probabilityOfLoss).toBe(0);
  });

  it('scores a block set where a trial is flat at a level other than its first value as Sharpe 0', () => {
    // X opens at 0.7 and sits at 0.1 through block 1 (183 rows): the shifted values are all −0.6, whose sums
    // leave a rounding variance near 1.7e-15 — without a tolerance that is a Sharpe in the millions.
    const rng = new SeededRandom(8);
    const x = new Float64Array(366);
    const y = new Float64Array(366);
    for (let i = 0; i < 366; i++) {
      x[i] = i === 0 ? 0.7 : i < 183 ? 0.01 + 0.01 * rng.normal() : 0.1;
      y[i] = -0.01 + 0.01 * rng.normal();
    }
    const r = probabilityOfBacktestOverfitting({ trials: [x, y], partitions: 2 });
    expect(Array.from(r.winners)).toEqual([0, 0]);
    expect(sorted(r.isMetric)[0]).toBe(0);
    expect(sorted(r.oosMetric)[0]).toBe(0);
  });

  it('uses rows that do not divide evenly: blocks differ by at most one row', () => {
    // T = 5, S = 2: blocks of 2 and 3 rows. A = [1, 1 | 0, 0, 0], B = [0, 0 | 1, 1, 1] (means).
    // IS block 0: A wins (1 > 0), OOS block 1: A 0 < B 1 → λ = ln(1/2). Symmetric the other way → PBO 1.
    const r = probabilityOfBacktestOverfitting({ trials: [[1, 1, 0, 0, 0], [0, 0, 1, 1, 1]], partitions: 2, metric: 'mean' });
    expect(r.pbo).toBe(1);
    expect(sorted(r.oosMetric)).toEqual([0, 0]);
  });

  it('refuses bad inputs with one sentence each', () => {
    const rng = new SeededRandom(3);
    const ok = [noise(rng, 50), noise(rng, 50)];
    expect(invalidInput(() => probabilityOfBacktestOverfitting({ trials: ok, partitions: 5 }))).toMatch(/partitions must be an even whole number/);
    expect(invalidInput(() => probabilityOfBacktestOverfitting({ trials: ok, partitions: 22 }))).toMatch(/from 2 to 20/);
    expect(invalidInput(() => probabilityOfBacktestOverfitting({ trials: [[1, 2, 3], [3, 2, 1]], partitions: 4 }))).toMatch(
      /cannot exceed the number of periods \(3\)/,
    );
    expect(invalidInput(() => probabilityOfBacktestOverfitting({ trials: [ok[0] as Float64Array] }))).toMatch(/at least 2 trials/);
    expect(invalidInput(() => probabilityOfBacktestOverfitting({ trials: [] }))).toMatch(/at least 2 trials/);
    const withNaN = Float64Array.from(ok[1] as Float64Array);
    withNaN[17] = Number.NaN;
    expect(invalidInput(() => probabilityOfBacktestOverfitting({ trials: [ok[0] as Float64Array, withNaN], partitions: 4 }))).toMatch(
      /trial 1 has a value that is not a finite number at row 17/,
    );
    expect(invalidInput(() => probabilityOfBacktestOverfitting({ trials: [ok[0] as Float64Array, noise(rng, 49)], partitions: 4 }))).toMatch(
      /same 50 periods, but trial 1 has 49/,
    );
  });
});
