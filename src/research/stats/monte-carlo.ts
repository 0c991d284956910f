/**
 * Monte Carlo on a run's trades: replay the closed trades' net PnL in random orders to see how much of a
 * backtest's final equity and drawdown was the luck of the sequence. `bootstrap` draws trades with
 * replacement (other final equities, other drawdowns); `shuffle` permutes them (the same final equity, other
 * drawdowns). Drawdown is measured on the closed-trade equity curve as src/core/metrics.ts `drawdown` does:
 * the fall below the running peak as a fraction of that peak, the curve starting at the initial balance.
 */
import { HalyardError } from '../../core/errors.ts';
import { SeededRandom } from '../../core/rng.ts';
import { quantileSorted, type Sample } from './normal.ts';

/** How trades are redrawn: with replacement ('bootstrap') or as a permutation ('shuffle'). */
export type MonteCarloMode = 'bootstrap' | 'shuffle';

/** Inputs of `monteCarloTrades`. */
export interface MonteCarloInput {
  /** Equity before the first trade (quote), > 0. */
  readonly initialBalance: number;
  /** Net PnL of each closed trade (quote, after fees and funding), in the order they closed. */
  readonly pnls: Sample;
  /** Number of simulated sequences (default 1,000; at most 1,000,000). */
  readonly runs?: number;
  /** Seed of the generator: the same seed gives the same result (default 1). */
  readonly seed?: number;
  /** 'bootstrap' (default) or 'shuffle'. */
  readonly mode?: MonteCarloMode;
  /** A maximum drawdown (fraction of the peak, > 0) that counts as ruin (default 0.5). */
  readonly ruinDrawdown?: number;
}

/** The 5th, 25th, 50th, 75th and 95th percentiles of a simulated figure (unit of that figure). */
export interface Percentiles {
  readonly p5: number;
  readonly p25: number;
  readonly p50: number;
  readonly p75: number;
  readonly p95: number;
}

/** What the simulations found, and the same figures for the trades in their real order. */
export interface MonteCarloResult {
  /** The mode used. */
  readonly mode: MonteCarloMode;
  /** Number of simulated sequences. */
  readonly runs: number;
  /** Trades per sequence (the number of trades given). */
  readonly trades: number;
  /** Percentiles of the final equity (quote). */
  readonly finalEquity: Percentiles;
  /** Percentiles of the maximum drawdown (fraction of the running peak, 0..1, above 1 past zero equity). */
  readonly maxDrawdown: Percentiles;
  /** Share of sequences (0..1) whose maximum drawdown reached `ruinDrawdown`. */
  readonly probabilityOfRuin: number;
  /** The ruin threshold used (fraction of the peak). */
  readonly ruinDrawdown: number;
  /** Every sequence's final equity, sorted ascending (quote; for a histogram). */
  readonly finalEquities: Float64Array;
  /** Every sequence's maximum drawdown, sorted ascending (fraction; for a histogram). */
  readonly maxDrawdowns: Float64Array;
  /** The trades in their real order: final equity (quote) and maximum drawdown (fraction). */
  readonly observed: { readonly finalEquity: number; readonly maxDrawdown: number };
}

const MAX_RUNS = 1_000_000;

function invalid(message: string, context: Record<string, unknown>): never {
  throw new HalyardError('invalid_input', message, context);
}

function validate(input: MonteCarloInput): { runs: number; seed: number; mode: MonteCarloMode; ruin: number } {
  const { initialBalance, pnls } = input;
  const runs = input.runs ?? 1000;
  const seed = input.seed ?? 1;
  const mode = input.mode ?? 'bootstrap';
  const ruin = input.ruinDrawdown ?? 0.5;
  if (!Number.isFinite(initialBalance) || initialBalance <= 0) {
    invalid(`initialBalance must be a positive amount of quote currency (got ${String(initialBalance)}).`, { initialBalance });
  }
  if (pnls.length === 0) invalid('Monte Carlo needs at least one closed trade to resample (got none).', { trades: 0 });
  for (let i = 0; i < pnls.length; i++) {
    const p = pnls[i] as number;
    if (!Number.isFinite(p)) invalid(`trade ${i} has a PnL that is not a finite number (got ${String(p)}).`, { trade: i });
  }
  if (!Number.isInteger(runs) || runs < 1 || runs > MAX_RUNS) {
    invalid(`runs must be a whole number from 1 to ${MAX_RUNS} (got ${String(runs)}).`, { runs });
  }
  if (!Number.isInteger(seed)) invalid(`seed must be a whole number (got ${String(seed)}).`, { seed });
  if (mode !== 'bootstrap' && mode !== 'shuffle') invalid(`mode must be 'bootstrap' or 'shuffle' (got ${String(mode)}).`, { mode });
  if (!Number.isFinite(ruin) || ruin <= 0) {
    invalid(`ruinDrawdown must be a fraction of the peak above 0, such as 0.5 for a 50% drawdown (got ${String(ruin)}).`, { ruinDrawdown: ruin });
  }
  return { runs, seed, mode, ruin };
}

/** The p5..p95 percentiles of values sorted ascending. */
function percentiles(sorted: Float64Array): Percentiles {
  return {
    p5: quantileSorted(sorted, 0.05),
    p25: quantileSorted(sorted, 0.25),
    p50: quantileSorted(sorted, 0.5),
    p75: quantileSorted(sorted, 0.75),
    p95: quantileSorted(sorted, 0.95),
  };
}

/**
 * Monte Carlo simulation of a run's trade sequence: `runs` seeded resamplings of the trades' PnL, giving the
 * percentiles of final equity (quote) and maximum drawdown (fraction of the peak) and the probability that
 * the drawdown reaches `ruinDrawdown`.
 */
export function monteCarloTrades(input: MonteCarloInput): MonteCarloResult {
  const { runs, seed, mode, ruin } = validate(input);
  const { initialBalance, pnls } = input;
  const n = pnls.length;
  const rng = new SeededRandom(seed);
  const deck = Float64Array.from(pnls);
  const path = new Float64Array(n);
  const out = new Float64Array(2);
  const finals = new Float64Array(runs);
  const drawdowns = new Float64Array(runs);
  const observed = new Float64Array(2);
  walk(initialBalance, deck, observed);
  let ruined = 0;

  for (let r = 0; r < runs; r++) {
    if (mode === 'bootstrap') {
      for (let i = 0; i < n; i++) path[i] = deck[Math.floor(rng.next() * n)] as number;
    } else {
      // Fisher–Yates in place; reshuffling the previous run's order still gives a uniform permutation.
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rng.next() * (i + 1));
        const t = deck[i] as number;
        deck[i] = deck[j] as number;
        deck[j] = t;
      }
    }
    walk(initialBalance, mode === 'bootstrap' ? path : deck, out);
    finals[r] = out[0] as number;
    drawdowns[r] = out[1] as number;
    if ((out[1] as number) >= ruin) ruined++;
  }

  finals.sort();
  drawdowns.sort();
  return {
    mode,
    runs,
    trades: n,
    finalEquity: percentiles(finals),
    maxDrawdown: percentiles(drawdowns),
    probabilityOfRuin: ruined / runs,
    ruinDrawdown: ruin,
    finalEquities: finals,
    maxDrawdowns: drawdowns,
    observed: { finalEquity: observed[0] as number, maxDrawdown: observed[1] as number },
  };
}

/**
 * Walks the equity curve of trades in the given order from `initial`: writes the final equity (quote) to
 * out[0] and the maximum drawdown (fraction of the running peak, as metrics.ts `drawdown`) to out[1].
 */
function walk(initial: number, pnls: Float64Array, out: Float64Array): void {
  let equity = initial;
  let peak = initial;
  let depth = 0;
  for (let i = 0; i < pnls.length; i++) {
    equity += pnls[i] as number;
    if (equity >= peak) {
      peak = equity;
    } else {
      const dd = peak > 0 ? (peak - equity) / peak : 0;
      if (dd > depth) depth = dd;
    }
  }
  out[0] = equity;
  out[1] = depth;
}
