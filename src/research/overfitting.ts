import { deflatedSharpe, moments, probabilityOfBacktestOverfitting, sampleVariance } from './stats/index.ts';
import type { Evaluation } from './sweep.ts';

/** PBO's cost grows with C(S, S/2) × S × trials: past this many trials it is left out (optimize.json says so). */
export const PBO_MAX_TRIALS = 5_000;

/** Is the winner luck? The figures optimize.json and the report show. Sharpe ratios here are per day, not annualised. */
export interface Overfitting {
  /** Combinations evaluated (the trials the DSR deflates for). */
  readonly trials: number;
  /** Days in each daily-return series. */
  readonly days: number;
  /** The winner's Sharpe ratio per day (mean / std of its daily returns). */
  readonly winnerDailySharpe: number;
  /** The Sharpe per day the best of `trials` skill-less trials reaches by luck (the DSR's benchmark). */
  readonly expectedMaxDailySharpe: number | null;
  /** Deflated Sharpe Ratio (probability 0..1 that the winner's true Sharpe beats that luck), null with a reason when undefined. */
  readonly deflatedSharpe: number | null;
  /** Probability of Backtest Overfitting by CSCV (0..1), null with a reason when undefined. */
  readonly pbo: number | null;
  /** Row blocks S of the CSCV and the number of IS/OOS splits C(S, S/2). */
  readonly pboPartitions: number | null;
  readonly pboSplits: number | null;
  /** Share of splits whose in-sample winner lost out of sample (0..1). */
  readonly probabilityOfLoss: number | null;
  /** Why a figure is null. */
  readonly notes: readonly string[];
}

/** S for the CSCV: 16 when there are at least 32 days, else the largest even number that fits (at least 2). */
export function pboPartitions(days: number): number {
  return days >= 32 ? 16 : Math.max(2, Math.min(16, days - (days % 2)));
}

/**
 * The overfitting statistics of a sweep (`ranked`: best first), from the winner's daily returns, every
 * combination's daily Sharpe ratio (DSR) and, when the sweep kept them, every combination's daily returns (PBO).
 */
export function overfitting(ranked: readonly Evaluation[], winnerDaily: Float64Array): Overfitting {
  const notes: string[] = [];
  const days = winnerDaily.length;
  const m = moments(winnerDaily);
  const winnerSharpe = m.std > 0 ? m.mean / m.std : 0;
  let dsr: number | null = null;
  let expectedMax: number | null = null;
  if (days < 3 || !(m.std > 0)) notes.push('Deflated Sharpe: the winner has fewer than 3 days or no variation in its daily returns');
  else {
    try {
      const r = deflatedSharpe({ sharpe: winnerSharpe, observations: days, skew: m.skew, kurtosis: m.kurtosis, trials: ranked.length, varianceOfSharpes: ranked.length > 1 ? sampleVariance(ranked.map((e) => e.dailySharpe)) : 0 });
      dsr = r.dsr;
      expectedMax = r.expectedMax;
    } catch (e) {
      notes.push(`Deflated Sharpe: ${(e as Error).message}`);
    }
  }
  let pbo: ReturnType<typeof probabilityOfBacktestOverfitting> | null = null;
  const s = pboPartitions(days);
  if (ranked.length < 2) notes.push('PBO: it needs at least 2 combinations');
  else if (ranked.length > PBO_MAX_TRIALS) notes.push(`PBO: left out past ${PBO_MAX_TRIALS.toLocaleString('en-US')} combinations (its cost grows with every one)`);
  else if (days < 2) notes.push('PBO: it needs at least 2 days');
  else if (ranked.some((e) => e.daily.length !== days)) notes.push('PBO: the sweep was too large to keep every combination\'s daily returns');
  else pbo = probabilityOfBacktestOverfitting({ trials: ranked.map((e) => e.daily), partitions: s });
  return {
    trials: ranked.length,
    days,
    winnerDailySharpe: winnerSharpe,
    expectedMaxDailySharpe: expectedMax,
    deflatedSharpe: dsr,
    pbo: pbo?.pbo ?? null,
    pboPartitions: pbo ? s : null,
    pboSplits: pbo?.combinations ?? null,
    probabilityOfLoss: pbo?.probabilityOfLoss ?? null,
    notes,
  };
}
