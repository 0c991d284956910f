/**
 * Probability of Backtest Overfitting by Combinatorially Symmetric Cross-Validation (CSCV; Bailey, Borwein,
 * López de Prado & Zhu, "The Probability of Backtest Overfitting", Journal of Computational Finance, 2017).
 *
 * The T × N performance matrix (T periods, N trials) is cut into S contiguous blocks of rows. Every choice of
 * S/2 blocks is an in-sample (IS) set, the other S/2 the out-of-sample (OOS) set. For each choice the trial
 * that is best IS is ranked among all trials OOS; PBO is the share of choices where that rank is at or below
 * the median. Per-block sums are computed once, so each of the C(S, S/2) choices costs O(S·N).
 */
import { HalyardError } from '../../core/errors.ts';
import type { Sample } from './normal.ts';

/** How a trial's performance over a set of periods is scored: mean / sample std ('sharpe') or the mean. */
export type PboMetric = 'sharpe' | 'mean';

/** Inputs of `probabilityOfBacktestOverfitting`. */
export interface PboInput {
  /** One per-period performance series (e.g. daily returns) per trial, all of the same length T: M's columns. */
  readonly trials: readonly Sample[];
  /** Number S of row blocks: even, 2..20, at most T (default 16, i.e. 12,870 IS/OOS splits). */
  readonly partitions?: number;
  /** The score of a trial on a set of periods (default 'sharpe', per period, not annualised). */
  readonly metric?: PboMetric;
}

/** The PBO and the distributions behind it; one entry per IS/OOS split in the typed arrays. */
export interface PboResult {
  /** Probability of Backtest Overfitting (0..1): share of splits whose IS winner ranks at or below the OOS median. */
  readonly pbo: number;
  /** Number of IS/OOS splits evaluated, C(S, S/2). */
  readonly combinations: number;
  /** The logit λ = ln(ω̄ / (1 − ω̄)) of the IS winner's relative OOS rank ω̄, per split (for a histogram). */
  readonly logits: Float64Array;
  /** Mean relative OOS rank ω̄ = rank / (N + 1) of the IS winner (0..1; 0.5 is what luck gives). */
  readonly meanOosRank: number;
  /** Share of splits (0..1) where the IS winner's OOS metric is below zero. */
  readonly probabilityOfLoss: number;
  /** The IS winner's index (0-based column of M) per split. */
  readonly winners: Int32Array;
  /** The IS winner's IS metric per split (unit of the metric). */
  readonly isMetric: Float64Array;
  /** The same trial's OOS metric per split (unit of the metric). */
  readonly oosMetric: Float64Array;
  /** Least-squares line OOS = intercept + slope · IS over the splits (slope 0 when every IS metric is equal). */
  readonly degradation: { readonly slope: number; readonly intercept: number };
}

const MAX_PARTITIONS = 20;

function invalid(message: string, context: Record<string, unknown> = {}): never {
  throw new HalyardError('invalid_input', message, context);
}

/** Number of ways to choose k of n (exact below 2^53). */
export function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return Math.round(c);
}

/** Per-block sums of each trial's values shifted by its first value (shifting keeps the variance exact). */
interface BlockSums {
  readonly n: number;
  readonly s: number;
  /** sum[g·N + j]: Σ (x − shift_j) over block g of trial j. */
  readonly sum: Float64Array;
  readonly sumSq: Float64Array;
  readonly count: Float64Array;
  readonly shift: Float64Array;
}

function blockSums(trials: readonly Sample[], s: number): BlockSums {
  const n = trials.length;
  const t = (trials[0] as Sample).length;
  const sum = new Float64Array(s * n);
  const sumSq = new Float64Array(s * n);
  const count = new Float64Array(s);
  const shift = new Float64Array(n);
  for (let g = 0; g < s; g++) count[g] = Math.floor(((g + 1) * t) / s) - Math.floor((g * t) / s);
  for (let j = 0; j < n; j++) {
    const col = trials[j] as Sample;
    const c0 = col[0] as number;
    shift[j] = c0;
    for (let g = 0; g < s; g++) {
      const end = Math.floor(((g + 1) * t) / s);
      let a = 0;
      let b = 0;
      for (let i = Math.floor((g * t) / s); i < end; i++) {
        const x = col[i] as number;
        if (!Number.isFinite(x)) invalid(`trial ${j} has a value that is not a finite number at row ${i} (got ${String(x)}).`, { trial: j, row: i });
        const d = x - c0;
        a += d;
        b += d * d;
      }
      sum[g * n + j] = a;
      sumSq[g * n + j] = b;
    }
  }
  return { n, s, sum, sumSq, count, shift };
}

/**
 * Scores every trial from shifted sums over k periods: mean = shift + Σd/k; Sharpe = mean / sample std with
 * variance (Σd² − (Σd)²/k)/(k − 1). A constant series has no risk to scale by: its Sharpe is 0 (typically
 * a trial that never traded). A variance below 1e-12 of the mean square Σd²/k is rounding, not risk.
 */
function scoreAll(out: Float64Array, metric: PboMetric, shift: Float64Array, sd: Float64Array, sd2: Float64Array, k: number): void {
  const n = out.length;
  if (metric === 'mean') {
    for (let j = 0; j < n; j++) out[j] = (shift[j] as number) + (sd[j] as number) / k;
    return;
  }
  if (k < 2) {
    out.fill(0);
    return;
  }
  for (let j = 0; j < n; j++) {
    const a = sd[j] as number;
    const b = sd2[j] as number;
    const v = (b - (a * a) / k) / (k - 1);
    out[j] = v > 1e-12 * (b / k) ? ((shift[j] as number) + a / k) / Math.sqrt(v) : 0;
  }
}

function validate(input: PboInput): { s: number; metric: PboMetric } {
  const { trials } = input;
  const s = input.partitions ?? 16;
  const metric = input.metric ?? 'sharpe';
  if (!Array.isArray(trials) || trials.length < 2) {
    invalid(`PBO needs the results of at least 2 trials to compare (got ${Array.isArray(trials) ? trials.length : 'none'}).`);
  }
  const t = (trials[0] as Sample).length;
  for (let j = 1; j < trials.length; j++) {
    const len = (trials[j] as Sample).length;
    if (len !== t) invalid(`every trial must cover the same ${t} periods, but trial ${j} has ${len}.`, { trial: j, length: len, expected: t });
  }
  if (!Number.isInteger(s) || s < 2 || s % 2 !== 0 || s > MAX_PARTITIONS) {
    invalid(`partitions must be an even whole number from 2 to ${MAX_PARTITIONS} (got ${String(s)}).`, { partitions: s });
  }
  if (s > t) invalid(`partitions (${s}) cannot exceed the number of periods (${t}): use fewer partitions or a longer record.`, { partitions: s, periods: t });
  if (metric !== 'sharpe' && metric !== 'mean') invalid(`metric must be 'sharpe' or 'mean' (got ${String(metric)}).`, { metric });
  return { s, metric };
}

/**
 * Probability of Backtest Overfitting by CSCV: the share of IS/OOS splits in which the trial chosen in
 * sample does no better than the median trial out of sample, with the logits, the IS winner's OOS ranks,
 * the probability of loss and the IS-vs-OOS degradation. Ties: the first of equal IS scores wins; equal OOS
 * scores share their average rank.
 */
export function probabilityOfBacktestOverfitting(input: PboInput): PboResult {
  const { s, metric } = validate(input);
  const { n, sum, sumSq, count, shift } = blockSums(input.trials, s);
  const half = s / 2;
  const combinations = binomial(s, half);

  const totalSum = new Float64Array(n);
  const totalSq = new Float64Array(n);
  let totalCount = 0;
  for (let g = 0; g < s; g++) {
    totalCount += count[g] as number;
    for (let j = 0; j < n; j++) {
      totalSum[j] = (totalSum[j] as number) + (sum[g * n + j] as number);
      totalSq[j] = (totalSq[j] as number) + (sumSq[g * n + j] as number);
    }
  }

  const isSum = new Float64Array(n);
  const isSq = new Float64Array(n);
  const oosSum = new Float64Array(n);
  const oosSq = new Float64Array(n);
  const scoreA = new Float64Array(n);
  const scoreB = new Float64Array(n);
  const logits = new Float64Array(combinations);
  const winners = new Int32Array(combinations);
  const isMetric = new Float64Array(combinations);
  const oosMetric = new Float64Array(combinations);
  let overfit = 0;
  let losses = 0;
  let rankSum = 0;
  // One split's outcome: the IS winner (first of equal scores) and its relative OOS rank (average on ties).
  const record = (c: number, isScore: Float64Array, oosScore: Float64Array): void => {
    let best = 0;
    let top = isScore[0] as number;
    for (let j = 1; j < n; j++) {
      const v = isScore[j] as number;
      if (v > top) {
        top = v;
        best = j;
      }
    }
    const w = oosScore[best] as number;
    let below = 0;
    let equal = 0; // counts the winner itself once
    for (let j = 0; j < n; j++) {
      const o = oosScore[j] as number;
      if (o < w) below++;
      else if (o === w) equal++;
    }
    const omega = (below + (equal + 1) / 2) / (n + 1);
    const lambda = Math.log(omega / (1 - omega));
    logits[c] = lambda;
    winners[c] = best;
    isMetric[c] = top;
    oosMetric[c] = w;
    if (lambda <= 0) overfit++;
    if (w < 0) losses++;
    rankSum += omega;
  };

  // A split and its mirror (IS and OOS swapped) share their sums, so only the splits whose IS set holds
  // block 0 are summed: block 0 plus every choice of half − 1 of the blocks 1..s−1 (Gosper's hack walks
  // those masks in increasing order), each recorded twice.
  const rest = s - 1;
  const limit = 1 << rest;
  let mask = (1 << (half - 1)) - 1;
  for (let c = 0; mask < limit; c += 2) {
    isSum.set(sum.subarray(0, n));
    isSq.set(sumSq.subarray(0, n));
    let isCount = count[0] as number;
    for (let g = 1; g < s; g++) {
      if ((mask & (1 << (g - 1))) === 0) continue;
      isCount += count[g] as number;
      const base = g * n;
      for (let j = 0; j < n; j++) {
        isSum[j] = (isSum[j] as number) + (sum[base + j] as number);
        isSq[j] = (isSq[j] as number) + (sumSq[base + j] as number);
      }
    }
    for (let j = 0; j < n; j++) {
      oosSum[j] = (totalSum[j] as number) - (isSum[j] as number);
      oosSq[j] = (totalSq[j] as number) - (isSq[j] as number);
    }
    scoreAll(scoreA, metric, shift, isSum, isSq, isCount);
    scoreAll(scoreB, metric, shift, oosSum, oosSq, totalCount - isCount);
    record(c, scoreA, scoreB);
    record(c + 1, scoreB, scoreA);
    if (mask === 0) break; // half = 1: the only choice is block 0 alone.
    // Next mask with the same number of bits.
    const low = mask & -mask;
    const ripple = mask + low;
    mask = ((((ripple ^ mask) >>> 2) / low) | 0) | ripple;
  }

  return {
    pbo: overfit / combinations,
    combinations,
    logits,
    meanOosRank: rankSum / combinations,
    probabilityOfLoss: losses / combinations,
    winners,
    isMetric,
    oosMetric,
    degradation: fitLine(isMetric, oosMetric),
  };
}

/** Ordinary least squares y = intercept + slope · x (slope 0 when x does not vary). */
function fitLine(x: Float64Array, y: Float64Array): { slope: number; intercept: number } {
  const k = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < k; i++) {
    mx += x[i] as number;
    my += y[i] as number;
  }
  mx /= k;
  my /= k;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < k; i++) {
    const dx = (x[i] as number) - mx;
    sxx += dx * dx;
    sxy += dx * ((y[i] as number) - my);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { slope, intercept: my - slope * mx };
}
