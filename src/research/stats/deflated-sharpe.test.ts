import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../core/rng.ts';
import { deflatedSharpe, expectedMaxSharpe, probabilisticSharpe } from './deflated-sharpe.ts';
import { normalCdf } from './normal.ts';
import { invalidInput } from './test-refusal.ts';


describe('probabilisticSharpe', () => {
  it('is one half when the Sharpe ratio equals its benchmark', () => {
    for (const sharpe of [-0.2, 0, 0.05, 0.3]) {
      expect(probabilisticSharpe({ sharpe, benchmark: sharpe, observations: 500, skew: -1, kurtosis: 6 })).toBe(0.5);
    }
  });

  it('matches the formula worked by hand for normal returns', () => {
    // SR = 0.1 per day over T = 101 days, SR* = 0, normal returns (γ3 = 0, γ4 = 3):
    // z = 0.1 × √100 / √(1 + (3 − 1)/4 × 0.01) = 1 / √1.005 = 0.997509...; PSR = Φ(0.997509) ≈ 0.84074.
    const psr = probabilisticSharpe({ sharpe: 0.1, benchmark: 0, observations: 101, skew: 0, kurtosis: 3 });
    expect(psr).toBeCloseTo(normalCdf(1 / Math.sqrt(1.005)), 14);
    expect(psr).toBeGreaterThan(0.84);
    expect(psr).toBeLessThan(0.842);
  });

  it('penalises negative skew and fat tails, and rewards a longer record', () => {
    const base = { sharpe: 0.08, benchmark: 0, observations: 365, skew: 0, kurtosis: 3 };
    const p = probabilisticSharpe(base);
    expect(probabilisticSharpe({ ...base, skew: -2 })).toBeLessThan(p);
    expect(probabilisticSharpe({ ...base, kurtosis: 12 })).toBeLessThan(p);
    expect(probabilisticSharpe({ ...base, observations: 730 })).toBeGreaterThan(p);
  });

  it('refuses inputs that make no sense, in one sentence', () => {
    const ok = { sharpe: 0.1, benchmark: 0, observations: 100, skew: 0, kurtosis: 3 };
    expect(invalidInput(() => probabilisticSharpe({ ...ok, observations: 1 }))).toMatch(/observations must be/);
    expect(invalidInput(() => probabilisticSharpe({ ...ok, sharpe: Number.NaN }))).toMatch(/sharpe must be a finite number/);
    // Excess kurtosis passed by mistake: γ4 = −1 with SR = 2 gives 1 − 0 + (−2/4)·4 = −1 < 0.
    expect(invalidInput(() => probabilisticSharpe({ ...ok, sharpe: 2, kurtosis: -1 }))).toMatch(/non-excess/);
  });
});

describe('expectedMaxSharpe', () => {
  it('is zero for a single trial and for zero variance', () => {
    expect(expectedMaxSharpe({ trials: 1, varianceOfSharpes: 0.7 })).toBe(0);
    expect(expectedMaxSharpe({ trials: 50, varianceOfSharpes: 0 })).toBe(0);
  });

  it('grows with the number of trials and scales with √V', () => {
    let prev = 0;
    for (const trials of [2, 5, 10, 100, 1000, 10_000]) {
      const e = expectedMaxSharpe({ trials, varianceOfSharpes: 1 });
      expect(e).toBeGreaterThan(prev);
      prev = e;
    }
    const a = expectedMaxSharpe({ trials: 40, varianceOfSharpes: 1 });
    expect(expectedMaxSharpe({ trials: 40, varianceOfSharpes: 4 })).toBeCloseTo(2 * a, 14);
  });

  it('approximates the simulated mean of the maximum of N standard normals', () => {
    // The formula is an approximation of E[max of N i.i.d. N(0, 1)]; for N = 100 it is within ~1%.
    const rng = new SeededRandom(11);
    const N = 100;
    const draws = 20_000;
    let sum = 0;
    for (let d = 0; d < draws; d++) {
      let max = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < N; i++) max = Math.max(max, rng.normal());
      sum += max;
    }
    const simulated = sum / draws; // ≈ 2.5076 (the exact value for N = 100)
    expect(Math.abs(expectedMaxSharpe({ trials: N, varianceOfSharpes: 1 }) - simulated)).toBeLessThan(0.04);
  });

  it('refuses a fractional trial count and a negative variance', () => {
    expect(invalidInput(() => expectedMaxSharpe({ trials: 2.5, varianceOfSharpes: 1 }))).toMatch(/trials must be a whole number/);
    expect(invalidInput(() => expectedMaxSharpe({ trials: 0, varianceOfSharpes: 1 }))).toMatch(/trials/);
    expect(invalidInput(() => expectedMaxSharpe({ trials: 10, varianceOfSharpes: -1 }))).toMatch(/varianceOfSharpes/);
  });
});

describe('deflatedSharpe', () => {
  it('reproduces the numerical example of Bailey & López de Prado (2014)', () => {
    // The paper's example: N = 100 trials whose annualised Sharpe ratios have variance V = 1/2; the best one
    // has an annualised SR of 2.5 over 5 years of daily returns (T = 1250, 250 days a year), skewness −3 and
    // (non-excess) kurtosis 10.
    // Per observation: SR = 2.5 / √250 = 0.158114; V = 0.5 / 250 = 0.002, √V = 0.0447214.
    // E[max SR] = √V · ((1 − γ)·Φ⁻¹(1 − 1/100) + γ·Φ⁻¹(1 − 1/(100e)))
    //           = 0.0447214 × (0.4227843 × 2.3263479 + 0.5772157 × 2.6802104) = 0.0447214 × 2.530656 = 0.1132
    // z = (0.158114 − 0.113172) × √1249 / √(1 + 3 × 0.158114 + (10 − 1)/4 × 0.025) = 1.588300 / 1.237171 = 1.2838
    // DSR = Φ(1.2838) = 0.9004 — the paper's figures: SR0 ≈ 0.1132, DSR ≈ 0.9004.
    const r = deflatedSharpe({
      sharpe: 2.5 / Math.sqrt(250),
      observations: 1250,
      skew: -3,
      kurtosis: 10,
      trials: 100,
      varianceOfSharpes: 0.5 / 250,
    });
    expect(r.expectedMax).toBeCloseTo(0.1132, 4);
    expect(r.zScore).toBeCloseTo(1.2838, 4);
    expect(r.dsr).toBeCloseTo(0.9004, 4);
    expect(r.psrInput.benchmark).toBe(r.expectedMax);
    expect(r.dsr).toBe(probabilisticSharpe(r.psrInput));
  });

  it('equals the PSR against zero for one trial, and falls as the trials grow', () => {
    const base = { sharpe: 0.1, observations: 730, skew: -0.5, kurtosis: 5, varianceOfSharpes: 0.001 };
    const one = deflatedSharpe({ ...base, trials: 1 });
    expect(one.expectedMax).toBe(0);
    expect(one.dsr).toBe(probabilisticSharpe({ ...base, benchmark: 0 }));
    let prev = one.dsr;
    for (const trials of [2, 10, 100, 1000, 5000]) {
      const d = deflatedSharpe({ ...base, trials }).dsr;
      expect(d).toBeLessThan(prev);
      prev = d;
    }
  });

  it('passes the input errors of its parts through', () => {
    expect(
      invalidInput(() => deflatedSharpe({ sharpe: 0.1, observations: 0, skew: 0, kurtosis: 3, trials: 5, varianceOfSharpes: 0.01 })),
    ).toMatch(/observations/);
  });
});
