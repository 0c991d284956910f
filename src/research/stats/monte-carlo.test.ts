import { describe, expect, it } from 'vitest';
import { drawdown } from '../../core/metrics.ts';
import { SeededRandom } from '../../core/rng.ts';
import { monteCarloTrades } from './monte-carlo.ts';
import { invalidInput } from './test-refusal.ts';


function share(xs: Float64Array, pred: (x: number) => boolean): number {
  let k = 0;
  for (const x of xs) if (pred(x)) k++;
  return k / xs.length;
}

function randomTrades(seed: number, n: number): Float64Array {
  const rng = new SeededRandom(seed);
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) xs[i] = Math.round((5 + 40 * rng.normal()) * 100) / 100;
  return xs;
}

describe('monteCarloTrades', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const pnls = randomTrades(1, 120);
    for (const mode of ['bootstrap', 'shuffle'] as const) {
      const a = monteCarloTrades({ initialBalance: 1000, pnls, runs: 500, seed: 42, mode });
      const b = monteCarloTrades({ initialBalance: 1000, pnls, runs: 500, seed: 42, mode });
      const c = monteCarloTrades({ initialBalance: 1000, pnls, runs: 500, seed: 43, mode });
      expect(Array.from(b.maxDrawdowns)).toEqual(Array.from(a.maxDrawdowns));
      expect(Array.from(b.finalEquities)).toEqual(Array.from(a.finalEquities));
      expect(Array.from(c.maxDrawdowns)).not.toEqual(Array.from(a.maxDrawdowns));
    }
  });

  it('shuffle keeps every final equity at initial + Σpnl and only moves the drawdown', () => {
    const pnls = randomTrades(2, 200);
    const total = 1000 + pnls.reduce((a, b) => a + b, 0);
    const r = monteCarloTrades({ initialBalance: 1000, pnls, runs: 300, mode: 'shuffle', seed: 9 });
    for (const f of r.finalEquities) expect(f).toBeCloseTo(total, 8);
    expect(r.observed.finalEquity).toBeCloseTo(total, 8);
    expect(r.maxDrawdown.p95).toBeGreaterThan(r.maxDrawdown.p5);
  });

  it('measures the real order the way metrics.ts drawdown does', () => {
    const pnls = randomTrades(3, 80);
    const equity = new Float64Array(pnls.length + 1);
    equity[0] = 500;
    for (let i = 0; i < pnls.length; i++) equity[i + 1] = (equity[i] as number) + (pnls[i] as number);
    const ts = Float64Array.from(equity, (_, i) => i * 60_000);
    const r = monteCarloTrades({ initialBalance: 500, pnls, runs: 1 });
    expect(r.observed.maxDrawdown).toBe(drawdown(ts, equity, 60_000).depth);
    expect(r.observed.maxDrawdown).toBeGreaterThan(0);
    expect(r.observed.finalEquity).toBe(equity[pnls.length]);
  });

  it('never ruins and never draws down when every trade wins', () => {
    const pnls = [3, 0.5, 12, 7, 1, 0];
    for (const mode of ['bootstrap', 'shuffle'] as const) {
      const r = monteCarloTrades({ initialBalance: 100, pnls, runs: 2000, mode, ruinDrawdown: 0.01 });
      expect(r.probabilityOfRuin).toBe(0);
      expect(r.maxDrawdowns.every((d) => d === 0)).toBe(true);
      expect(r.maxDrawdown).toEqual({ p5: 0, p25: 0, p50: 0, p75: 0, p95: 0 });
      expect(r.finalEquity.p5).toBeGreaterThanOrEqual(100);
    }
  });

  it('converges to the four equally likely bootstrap paths of +10/−10 on 100', () => {
    // Two trades drawn with replacement from {+10, −10}: four paths, each with probability 1/4.
    //   +10 +10: 110 → 120, final 120, max drawdown 0
    //   +10 −10: 110 → 100, final 100, max drawdown 10/110 = 0.0909
    //   −10 +10:  90 → 100, final 100, max drawdown 10/100 = 0.1
    //   −10 −10:  90 →  80, final  80, max drawdown 20/100 = 0.2
    // Final equity: 80 (1/4), 100 (1/2), 120 (1/4) → 5th pct 80, median 100, 95th pct 120; the 25th and
    // 75th fall on the jumps 80|100 and 100|120, so their estimates sit anywhere in those intervals.
    // Max drawdown: 0, 1/11, 0.1, 0.2 (1/4 each) → 5th pct 0, 95th pct 0.2, median between 1/11 and 0.1.
    // Ruin at 15%: only −10 −10 → 1/4; at 10%: the last two paths → 1/2 (0.1 reaches 0.1); at 25%: none.
    const base = { initialBalance: 100, pnls: [10, -10], runs: 20_000, seed: 7 };
    const r = monteCarloTrades({ ...base, ruinDrawdown: 0.15 });
    const tol = 0.015; // about 5 standard errors of a share near 1/4 over 20,000 runs
    expect(Math.abs(share(r.finalEquities, (f) => f === 80) - 0.25)).toBeLessThan(tol);
    expect(Math.abs(share(r.finalEquities, (f) => f === 100) - 0.5)).toBeLessThan(tol);
    expect(Math.abs(share(r.finalEquities, (f) => f === 120) - 0.25)).toBeLessThan(tol);
    expect(Math.abs(share(r.maxDrawdowns, (d) => d === 10 / 110) - 0.25)).toBeLessThan(tol);
    expect(Math.abs(share(r.maxDrawdowns, (d) => d === 0.1) - 0.25)).toBeLessThan(tol);
    expect(r.finalEquity.p5).toBe(80);
    expect(r.finalEquity.p50).toBe(100);
    expect(r.finalEquity.p95).toBe(120);
    expect(r.finalEquity.p25).toBeGreaterThanOrEqual(80);
    expect(r.finalEquity.p25).toBeLessThanOrEqual(100);
    expect(r.finalEquity.p75).toBeGreaterThanOrEqual(100);
    expect(r.finalEquity.p75).toBeLessThanOrEqual(120);
    expect(r.maxDrawdown.p5).toBe(0);
    expect(r.maxDrawdown.p95).toBe(0.2);
    expect(r.maxDrawdown.p50).toBeGreaterThanOrEqual(10 / 110);
    expect(r.maxDrawdown.p50).toBeLessThanOrEqual(0.1);
    expect(Math.abs(r.probabilityOfRuin - 0.25)).toBeLessThan(tol);
    expect(Math.abs(monteCarloTrades({ ...base, ruinDrawdown: 0.1 }).probabilityOfRuin - 0.5)).toBeLessThan(tol);
    expect(monteCarloTrades({ ...base, ruinDrawdown: 0.25 }).probabilityOfRuin).toBe(0);
    expect(r.observed).toEqual({ finalEquity: 100, maxDrawdown: 10 / 110 });
  });

  it('shuffles −50/+100 on 100 into a ruin half the time', () => {
    // −50 then +100: 50 → 150, drawdown 50% (ruin at 0.5); +100 then −50: 200 → 150, drawdown 25%.
    const r = monteCarloTrades({ initialBalance: 100, pnls: [-50, 100], runs: 20_000, mode: 'shuffle', seed: 3 });
    expect(r.finalEquities.every((f) => f === 150)).toBe(true);
    expect(Math.abs(r.probabilityOfRuin - 0.5)).toBeLessThan(0.015);
    expect(Math.abs(share(r.maxDrawdowns, (d) => d === 0.25) - 0.5)).toBeLessThan(0.015);
  });

  it('refuses bad inputs with one sentence each', () => {
    const ok = { initialBalance: 100, pnls: [1, -1] };
    expect(invalidInput(() => monteCarloTrades({ ...ok, initialBalance: 0 }))).toMatch(/initialBalance must be a positive amount/);
    expect(invalidInput(() => monteCarloTrades({ ...ok, pnls: [] }))).toMatch(/at least one closed trade/);
    expect(invalidInput(() => monteCarloTrades({ ...ok, pnls: [1, Number.NaN] }))).toMatch(/trade 1 has a PnL that is not a finite number/);
    expect(invalidInput(() => monteCarloTrades({ ...ok, runs: 0 }))).toMatch(/runs must be a whole number/);
    expect(invalidInput(() => monteCarloTrades({ ...ok, seed: 1.5 }))).toMatch(/seed must be a whole number/);
    expect(invalidInput(() => monteCarloTrades({ ...ok, ruinDrawdown: 0 }))).toMatch(/ruinDrawdown must be a fraction/);
    // @ts-expect-error a mode from outside the type, as a CLI or JSON caller could pass it
    expect(invalidInput(() => monteCarloTrades({ ...ok, mode: 'jackknife' }))).toMatch(/mode must be 'bootstrap' or 'shuffle'/);
  });
});
