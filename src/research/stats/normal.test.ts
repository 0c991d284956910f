import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../core/rng.ts';
import { kurtosis, mean, moments, normalCdf, normalInverseCdf, quantileSorted, sampleStd, sampleVariance, skewness } from './normal.ts';

// Reference values of Φ(x) computed with mpmath at 30 significant digits (mpmath.ncdf), rounded to doubles.
const CDF_TABLE: readonly (readonly [number, number])[] = [
  [-37, 5.725571222524577e-300],
  [-20, 2.7536241186062337e-89],
  [-8, 6.220960574271784e-16],
  [-5, 2.866515718791939e-7],
  [-3, 0.0013498980316300946],
  [-1.96, 0.024997895148220435],
  [-1, 0.15865525393145705],
  [-0.5, 0.3085375387259869],
  [0, 0.5],
  [0.3, 0.6179114221889527],
  [1, 0.8413447460685429],
  [1.96, 0.9750021048517795],
  [3, 0.9986501019683699],
  [5, 0.9999997133484281],
  [7.5, 0.9999999999999681],
];

describe('normalCdf', () => {
  it('matches 30-digit reference values to 1e-15 absolute and 1e-7 relative in the tails', () => {
    for (const [x, want] of CDF_TABLE) {
      const got = normalCdf(x);
      expect(Math.abs(got - want), `Φ(${x})`).toBeLessThan(1e-15);
      expect(Math.abs(got - want) / want, `Φ(${x}) relative`).toBeLessThan(1e-7);
    }
  });

  it('is symmetric, monotone and saturates', () => {
    for (let x = -10; x <= 10; x += 0.37) {
      expect(normalCdf(x) + normalCdf(-x)).toBeCloseTo(1, 15);
      expect(normalCdf(x + 0.01)).toBeGreaterThanOrEqual(normalCdf(x));
    }
    expect(normalCdf(-40)).toBe(0);
    expect(normalCdf(40)).toBe(1);
    expect(normalCdf(Number.NaN)).toBeNaN();
  });
});

describe('normalInverseCdf', () => {
  it('matches known quantiles (scipy.special.ndtri)', () => {
    expect(normalInverseCdf(0.975)).toBeCloseTo(1.959963984540054, 13);
    expect(normalInverseCdf(0.99)).toBeCloseTo(2.3263478740408408, 13);
    expect(normalInverseCdf(0.5)).toBe(0);
    expect(normalInverseCdf(1e-10)).toBeCloseTo(-6.361340902404056, 12);
    expect(normalInverseCdf(1e-300)).toBeCloseTo(-37.0470962993612, 10);
  });

  it('inverts normalCdf to 1e-9 across (0, 1)', () => {
    for (let i = 1; i < 10_000; i++) {
      const p = i / 10_000;
      expect(Math.abs(normalCdf(normalInverseCdf(p)) - p)).toBeLessThan(1e-9);
      expect(normalInverseCdf(1 - p)).toBeCloseTo(-normalInverseCdf(p), 12);
    }
    // Far in the lower tail Φ is accurate to ~1e-8 relative (Hart's continued fraction). Above 5, Φ(x) is
    // within 3e-7 of 1 and a double keeps too few bits of it to invert; symmetry covers that side.
    for (let x = -8; x <= 5; x += 0.25) {
      expect(Math.abs(normalInverseCdf(normalCdf(x)) - x), `x=${x}`).toBeLessThan(x < -7 ? 1e-8 : 1e-9);
    }
  });

  it('answers the edges: ±Infinity at 0 and 1, NaN outside', () => {
    expect(normalInverseCdf(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalInverseCdf(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalInverseCdf(-0.1)).toBeNaN();
    expect(normalInverseCdf(1.1)).toBeNaN();
  });
});

describe('sample moments', () => {
  it('computes the moments of a hand-made sample', () => {
    // xs = 1, 2, 3, 10: mean 4; deviations -3 -2 -1 6; Σd² = 9+4+1+36 = 50 → sample var 50/3.
    // m2 = 50/4 = 12.5; Σd³ = -27-8-1+216 = 180 → m3 = 45; Σd⁴ = 81+16+1+1296 = 1394 → m4 = 348.5.
    // skew = 45 / 12.5^1.5 = 45 / 44.19417... = 1.018233...; kurtosis = 348.5 / 156.25 = 2.2304.
    const xs = [1, 2, 3, 10];
    expect(mean(xs)).toBe(4);
    expect(sampleVariance(xs)).toBeCloseTo(50 / 3, 12);
    expect(sampleStd(xs)).toBeCloseTo(Math.sqrt(50 / 3), 12);
    expect(skewness(xs)).toBeCloseTo(45 / Math.pow(12.5, 1.5), 12);
    expect(kurtosis(xs)).toBeCloseTo(2.2304, 12);
    const m = moments(new Float64Array(xs));
    expect(m.count).toBe(4);
    expect(m.std).toBeCloseTo(Math.sqrt(50 / 3), 12);
  });

  it('gives skew ≈ 0 and non-excess kurtosis ≈ 3 on a large normal sample', () => {
    const rng = new SeededRandom(7);
    const xs = new Float64Array(200_000);
    for (let i = 0; i < xs.length; i++) xs[i] = 2 + 3 * rng.normal();
    const m = moments(xs);
    expect(m.mean).toBeCloseTo(2, 1);
    expect(m.std).toBeCloseTo(3, 1);
    expect(Math.abs(m.skew)).toBeLessThan(0.03);
    expect(Math.abs(m.kurtosis - 3)).toBeLessThan(0.06);
  });

  it('treats a constant sample as normal-shaped and a tiny one as unknown', () => {
    expect(moments([5, 5, 5])).toEqual({ count: 3, mean: 5, std: 0, skew: 0, kurtosis: 3 });
    expect(moments([5]).skew).toBeNaN();
    expect(mean([])).toBeNaN();
    expect(sampleStd([1])).toBeNaN();
  });
});

describe('quantileSorted', () => {
  it('interpolates linearly between closest ranks', () => {
    const xs = [10, 20, 30, 40, 50];
    expect(quantileSorted(xs, 0)).toBe(10);
    expect(quantileSorted(xs, 1)).toBe(50);
    expect(quantileSorted(xs, 0.5)).toBe(30);
    // h = 4 × 0.05 = 0.2 → 10 + 0.2 × 10.
    expect(quantileSorted(xs, 0.05)).toBeCloseTo(12, 12);
    expect(quantileSorted(xs, 0.95)).toBeCloseTo(48, 12);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });
});
