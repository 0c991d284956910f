import { lowerBound } from '../core/candles.ts';
import { computeSummary } from '../core/metrics.ts';
import type { Summary, TradeRecord } from '../core/results.ts';
import type { WorkerPool } from './pool.ts';
import type { RunMarket, RunSettings } from './run-combination.ts';
import type { RunSpan } from './worker-protocol.ts';
import type { Search } from './search/search.ts';
import { ranked, sweep, type Evaluation } from './sweep.ts';
import type { ParamSpace, Combination } from './space.ts';
import type { Objective } from './objective.ts';
import { efficiency, type WindowBounds } from './walk-forward.ts';

/** One window's outcome: its bounds, the in-sample winner and its out-of-sample run. */
export interface WindowOutcome extends WindowBounds {
  readonly params: Combination;
  readonly inSample: Summary;
  readonly outOfSample: Summary;
  readonly startEquity: number;
  readonly endEquity: number;
  readonly efficiency: number | null;
  /** The test window's bar open times and equity (quote) at each bar's close. */
  readonly ts: Float64Array;
  readonly equity: Float64Array;
  readonly trades: readonly TradeRecord[];
  readonly exposedBars: number;
}

/** What a walk-forward needs besides its windows. */
export interface WalkForwardRun {
  readonly pool: WorkerPool;
  readonly market: RunMarket;
  readonly settings: RunSettings;
  readonly space: ParamSpace;
  readonly objective: Objective;
  readonly minTrades: number;
  /** A fresh search for each window. */
  readonly search: () => Search;
  /** Base candles a combination warms up on before it trades. */
  readonly warmup: (params: Combination) => number;
  readonly onDone?: (finished: number) => void;
}

/**
 * The winner's run on one test window. Indicator warm-up: the run starts at its train window's start
 * (earlier by the strategy's own warm-up where the candles allow) and trades from the test window's first
 * candle, the candles before only warming up indicators and views (the engine's warm-up, as
 * `halyard backtest --warmup` does): every indicator shorter than the train window is ready when trading
 * starts. The summary covers the test window alone, from `start` equity.
 */
async function testRun(w: WalkForwardRun, b: WindowBounds, params: Combination, start: number): Promise<Omit<WindowOutcome, keyof WindowBounds | 'params' | 'inSample' | 'efficiency'>> {
  const ts = w.market.candles.ts;
  const at = lowerBound(ts, b.testFrom);
  const end = lowerBound(ts, b.testTo);
  const from = Math.max(0, lowerBound(ts, b.trainFrom) - w.warmup(params));
  const r = await w.pool.full({ start: from, end, tradeFrom: b.testFrom }, params, start);
  const outOfSample = r.summary;
  const exposedBars = Math.round(outOfSample.exposure * (end - at));
  return { outOfSample, startEquity: start, endEquity: outOfSample.finalEquity, ts: ts.slice(at, end), equity: Float64Array.from(r.equity), trades: r.trades, exposedBars };
}

/**
 * Walks forward: per window, sweeps the train window on the pool (each combination warmed up on the
 * candles before it where there are any), runs the winner on the test window from the previous window's
 * ending equity (the first from the configured balance).
 */
export async function walkForward(w: WalkForwardRun, windows: readonly WindowBounds[]): Promise<WindowOutcome[]> {
  const out: WindowOutcome[] = [];
  const ts = w.market.candles.ts;
  let equity = w.settings.initialBalance;
  for (const b of windows) {
    const lo = lowerBound(ts, b.trainFrom);
    const hi = lowerBound(ts, b.trainTo);
    const span = (params: Combination): RunSpan => ({ start: Math.max(0, lo - w.warmup(params)), end: hi, tradeFrom: b.trainFrom });
    const evals: Evaluation[] = await sweep(w.pool, { space: w.space, search: w.search(), objective: w.objective, minTrades: w.minTrades, span, onDone: w.onDone });
    const best = ranked(evals)[0]!;
    const test = await testRun(w, b, best.params, equity);
    w.onDone?.(1);
    out.push({ ...b, params: best.params, inSample: best.summary, efficiency: efficiency(test.outOfSample.cagr, best.summary.cagr), ...test });
    equity = test.endEquity;
  }
  return out;
}

/** The stitched out-of-sample curve: the windows' test equity end to end, with their trades, as one summary. */
export function stitched(windows: readonly WindowOutcome[], barMs: number, initialBalance: number): { ts: Float64Array; equity: Float64Array; summary: Summary } {
  const n = windows.reduce((a, w) => a + w.ts.length, 0);
  const ts = new Float64Array(n);
  const equity = new Float64Array(n);
  let k = 0;
  for (const w of windows) {
    ts.set(w.ts, k);
    equity.set(w.equity, k);
    k += w.ts.length;
  }
  const sum = (f: (s: Summary) => number): number => windows.reduce((a, w) => a + f(w.outOfSample), 0);
  const summary = computeSummary({
    ts, equity, barMs, initialBalance, trades: windows.flatMap((w) => w.trades), exposedBars: windows.reduce((a, w) => a + w.exposedBars, 0),
    fees: sum((s) => s.fees), funding: sum((s) => s.funding), liquidations: sum((s) => s.liquidations), rejectedOrders: sum((s) => s.rejectedOrders),
    ambiguousCandles: sum((s) => s.ambiguousCandles), drilledDownCandles: sum((s) => s.drilledDownCandles),
  });
  return { ts, equity, summary };
}
