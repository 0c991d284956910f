import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../core/rng.ts';
import type { Summary } from '../core/results.ts';
import { overfitting, pboPartitions } from './overfitting.ts';
import { perPeriodSharpe, type Evaluation } from './sweep.ts';

/** A trial of `days` daily returns: noise around `edge` (a fraction per day). */
function trial(rng: SeededRandom, days: number, edge: number, index: number, keep = true): Evaluation {
  const daily = Float64Array.from({ length: days }, () => edge + 0.01 * rng.normal());
  return { index, params: { k: index }, summary: {} as Summary, daily: keep ? daily : new Float64Array(0), dailySharpe: perPeriodSharpe(daily), score: perPeriodSharpe(daily), feasible: true };
}

describe('overfitting', () => {
  it('S is 16 from 32 days, else the largest even count that fits', () => {
    expect([pboPartitions(365), pboPartitions(32), pboPartitions(31), pboPartitions(20), pboPartitions(3)]).toEqual([16, 16, 16, 16, 2]);
    expect(pboPartitions(11)).toBe(10);
    expect(pboPartitions(14)).toBe(14);
  });

  it('a real edge among noise: a high Deflated Sharpe and a low PBO; noise alone: a PBO near one half', () => {
    const rng = new SeededRandom(11);
    const skill = [trial(rng, 365, 0.004, 0), ...Array.from({ length: 30 }, (_, k) => trial(rng, 365, 0, k + 1))];
    const a = overfitting(skill, skill[0]!.daily);
    expect(a.deflatedSharpe).toBeGreaterThan(0.95);
    expect(a.pbo).toBeLessThan(0.05);
    expect([a.trials, a.days, a.pboPartitions, a.pboSplits]).toEqual([31, 365, 16, 12_870]);
    const noise = Array.from({ length: 30 }, (_, k) => trial(rng, 365, 0, k)).sort((x, y) => y.score - x.score);
    const b = overfitting(noise, noise[0]!.daily);
    expect(b.deflatedSharpe).toBeLessThan(0.5);
    expect(b.pbo).toBeGreaterThan(0.3);
    expect(b.pbo).toBeLessThan(0.7);
  });

  it('says why a figure is missing', () => {
    const rng = new SeededRandom(3);
    const dropped = [trial(rng, 100, 0.001, 0), trial(rng, 100, 0, 1, false)];
    const r = overfitting(dropped, dropped[0]!.daily);
    expect(r.pbo).toBeNull();
    expect(r.notes.join(' ')).toMatch(/too large to keep/);
    const flat = overfitting([trial(rng, 100, 0, 0)], new Float64Array(100));
    expect(flat.deflatedSharpe).toBeNull();
    expect(flat.pbo).toBeNull();
    expect(flat.notes).toHaveLength(2);
  });
});
