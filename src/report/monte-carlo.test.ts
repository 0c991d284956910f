import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { monteCarloHtml, tradeMonteCarlo } from './monte-carlo.ts';
import { fixtureResult, trade } from './test-fixture.ts';
import { writeRun } from './write.ts';

describe('tradeMonteCarlo', () => {
  const trades = [10, -4, 7, -12, 3, 5, -1].map((pnl, i) => trade({ id: `T${i}`, entryTime: i, exitTime: i + 1, pnl }));

  it('resamples the trades: seeded, the observed path as it happened, percentiles in order', () => {
    const a = tradeMonteCarlo(trades, 100, { runs: 500, seed: 7, ruinDrawdown: 0.1 })!;
    const b = tradeMonteCarlo(trades, 100, { runs: 500, seed: 7, ruinDrawdown: 0.1 })!;
    expect(a).toEqual(b);
    expect(a.observed.finalEquity).toBeCloseTo(108, 9); // 100 + Σ pnl
    // As it happened: peak 113 after +10 −4 +7, then −12 → 101: the deepest fall is 12 / 113.
    expect(a.observed.maxDrawdown).toBeCloseTo(12 / 113, 12);
    const { p5, p25, p50, p75, p95 } = a.finalEquity;
    expect(p5 <= p25 && p25 <= p50 && p50 <= p75 && p75 <= p95).toBe(true);
    expect(p5).toBeLessThan(108);
    expect(p95).toBeGreaterThan(108);
    expect(a.probabilityOfRuin).toBeGreaterThan(0);
    expect(a.probabilityOfRuin).toBeLessThan(1);
    expect(tradeMonteCarlo(trades, 100, { runs: 500, seed: 8, ruinDrawdown: 0.1 })).not.toEqual(a);
  });

  it('is left out with fewer than two trades or no simulations', () => {
    expect(tradeMonteCarlo(trades.slice(0, 1), 100)).toBeNull();
    expect(tradeMonteCarlo(trades, 100, { runs: 0, seed: 1, ruinDrawdown: 0.5 })).toBeNull();
    expect(monteCarloHtml(null)).toBe('');
  });

  it('shows the percentiles, the path as it happened and the probability of ruin in the report section', () => {
    const mc = tradeMonteCarlo(trades, 100, { runs: 200, seed: 1, ruinDrawdown: 0.25 })!;
    const html = monteCarloHtml(mc);
    expect(html).toContain('200 bootstrap resamplings of the 7 trades, seed 1');
    expect(html).toContain('fell 25 % or more from a peak');
    expect(html).toContain('<td>108.00</td>'); // final equity as it happened
    expect(html.match(/<td>/g)?.length).toBe(2 * 6);
  });
});

describe('writeRun with Monte Carlo', () => {
  it('writes the same figures into results.json and report.html, and none with --monte-carlo 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'halyard-mc-'));
    try {
      const r = fixtureResult();
      await writeRun(r, join(dir, 'a'));
      const json = JSON.parse(await readFile(join(dir, 'a', 'results.json'), 'utf8')) as { monteCarlo: { runs: number; observed: { finalEquity: number } } };
      expect(json.monteCarlo.runs).toBe(1000);
      expect(json.monteCarlo.observed.finalEquity).toBeCloseTo(1000 + r.trades.reduce((s, t) => s + t.pnl, 0), 9);
      expect(await readFile(join(dir, 'a', 'report.html'), 'utf8')).toContain('id="monte-carlo"');
      await writeRun(r, join(dir, 'b'), {}, { runs: 0, seed: 1, ruinDrawdown: 0.5 });
      expect(await readFile(join(dir, 'b', 'results.json'), 'utf8')).not.toContain('monteCarlo');
      expect(await readFile(join(dir, 'b', 'report.html'), 'utf8')).not.toContain('id="monte-carlo"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
