import type { CandleColumns } from '../core/candles.ts';
import { TIMEFRAME_MS, type Timeframe } from '../core/timeframe.ts';
import type { BacktestResult } from '../engine/result.ts';
import type { StrategyClass } from '../strategy/strategy.ts';
import type { Constraint } from './constraint.ts';
import type { Objective } from './objective.ts';
import { WorkerPool } from './pool.ts';
import { comboResult, type RunMarket, type RunSettings } from './run-combination.ts';
import { GridSearch } from './search/grid.ts';
import { RandomSearch } from './search/random.ts';
import { feasibleIndices, type Search } from './search/search.ts';
import { TpeSearch } from './search/tpe.ts';
import { columnsOf, finerOf, shareColumns, type SharedMarket } from './shared-columns.ts';
import { combinationAt, type Combination, type ParamSpace } from './space.ts';
import type { RunSpan } from './worker-protocol.ts';
import { lowerBound, sliceCandles } from '../core/candles.ts';
import { ranked, sweep, type Evaluation } from './sweep.ts';
import { walkForward, stitched, type WindowOutcome } from './walk-forward-run.ts';
import { windowsOf, type WalkForwardSpec } from './walk-forward.ts';
import { HalyardError } from '../core/errors.ts';
import { overfitting, type Overfitting } from './overfitting.ts';

/** Bytes of daily returns a sweep keeps for the overfitting statistics (past it, PBO is left out). */
const DAILY_BUDGET = 512 * 1024 * 1024;

/** Search methods. */
export const METHODS = ['grid', 'random', 'tpe'] as const;

/** One search method name. */
export type Method = (typeof METHODS)[number];

/** Everything an optimisation needs but the candles. */
export interface OptimizeInput {
  /** The strategy file as the user named it (each worker loads it once) and its class (loaded here). */
  readonly strategyFile: string;
  readonly Cls: StrategyClass;
  readonly space: ParamSpace;
  readonly constraints: readonly Constraint[];
  readonly method: Method;
  /** Trials of a random or TPE search, and its seed. */
  readonly trials: number;
  readonly seed: number;
  readonly objective: Objective;
  readonly minTrades: number;
  readonly workers: number;
  readonly exchange: string;
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly settings: RunSettings;
  /** Base candles a combination warms up on before it trades (`--warmup`, else the strategy's warmup). */
  readonly warmup: (params: Combination) => number;
  readonly walkForward?: WalkForwardSpec;
  /** Told the number of runs to do once known, then how many finished as they finish. */
  readonly onStart?: (total: number) => void;
  readonly onDone?: (finished: number) => void;
  /** Told each phase's name as it ends (the CLI logs their durations). */
  readonly onPhase?: (phase: string) => void;
}

/** The candles to optimise on: the base series and the finer ones of the SL/TP drill-down. */
export interface MarketData {
  readonly base: CandleColumns;
  readonly finer: ReadonlyMap<Timeframe, CandleColumns>;
  /** Open time (epoch ms) of the first candle that trades when `base` starts with warm-up candles. */
  readonly tradeFrom?: number;
}

/** What an optimisation found. */
export interface OptimizeOutcome {
  /** Every evaluated combination, best first. */
  readonly evaluations: readonly Evaluation[];
  readonly feasibleSize: number;
  /** The base candles it traded on (a view of the shared copy, warm-up candles left out). */
  readonly candles: CandleColumns;
  /** The winner's full run (the same summary as its evaluation). */
  readonly best: BacktestResult;
  /** Deflated Sharpe Ratio of the winner and PBO of the sweep, from every combination's daily returns. */
  readonly overfitting: Overfitting;
  readonly walkForward?: { readonly windows: readonly WindowOutcome[]; readonly stitched: ReturnType<typeof stitched> };
}

function searchFor(i: OptimizeInput, feasible: readonly number[]): () => Search {
  switch (i.method) {
    case 'grid':
      return () => new GridSearch(feasible);
    case 'random':
      return () => new RandomSearch(feasible, i.trials, i.seed);
    case 'tpe':
      return () => new TpeSearch(i.space, feasible, { trials: i.trials, seed: i.seed });
  }
}

/**
 * Optimises: starts the worker threads (each loads the strategy once) while `load` reads the candles with
 * the largest warm-up any combination needs before them; every combination trades from the same candle,
 * warmed up on its own number of candles before it (as `halyard backtest` would with its parameters),
 * copies the candles once into shared memory, runs the search over every candle, reruns the winner in
 * full on a (warm) worker for its report, and walks forward when asked.
 */
export async function optimize(i: OptimizeInput, load: (warmup: number) => Promise<MarketData>): Promise<OptimizeOutcome> {
  const feasible = feasibleIndices(i.space, i.constraints, i.Cls.defaults);
  if (feasible.length === 0) throw new HalyardError('invalid_input', `no combination of the ${i.space.size.toLocaleString('en-US')} satisfies the constraints (${i.constraints.map((c) => c.text).join('; ')})`);
  const perSweep = i.method === 'grid' ? feasible.length : Math.min(i.trials, feasible.length);
  const pool = new WorkerPool(i.strategyFile, Math.min(i.workers, perSweep));
  try {
    let most = 0;
    for (const k of feasible) most = Math.max(most, i.warmup(combinationAt(i.space, k)));
    const data = await load(most);
    i.onPhase?.('data loaded');
    const shared: SharedMarket = {
      exchange: i.exchange,
      symbol: i.symbol,
      timeframe: i.timeframe,
      candles: shareColumns(data.base),
      finer: [...data.finer].map(([tf, c]) => [tf, shareColumns(c)] as const),
    };
    // From here on this thread reads the shared copy too.
    const market: RunMarket = { exchange: i.exchange, symbol: i.symbol, timeframe: i.timeframe, candles: columnsOf(shared.candles), finer: finerOf(shared) };
    const ts = market.candles.ts;
    const n = ts.length;
    const first = data.tradeFrom === undefined ? 0 : lowerBound(ts, data.tradeFrom);
    const traded = sliceCandles(market.candles, first, n);
    const tradeFrom = data.tradeFrom === undefined ? {} : { tradeFrom: ts[first] as number };
    const span = (params: Combination): RunSpan => ({ start: Math.max(0, first - i.warmup(params)), end: n, ...tradeFrom });
    const windows = i.walkForward ? windowsOf(i.walkForward, ts[first] as number, (ts[n - 1] as number) + TIMEFRAME_MS[i.timeframe]) : [];
    i.onStart?.(perSweep * (1 + windows.length) + windows.length);
    await pool.init(shared, i.settings);
    i.onPhase?.('workers ready');
    const makeSearch = searchFor(i, feasible);
    // Every combination's daily returns stay in memory (for PBO) while they fit in DAILY_BUDGET bytes.
    const days = ((ts[n - 1] as number) - (ts[first] as number)) / 86_400_000 + 2;
    const keepDaily = perSweep * days * 8 <= DAILY_BUDGET;
    const evaluations = ranked(await sweep(pool, { space: i.space, search: makeSearch(), objective: i.objective, minTrades: i.minTrades, span, onDone: i.onDone, keepDaily }));
    i.onPhase?.('swept');
    const winner = evaluations[0]!.params;
    const best: BacktestResult = { ...(await pool.full(span(winner), winner)), candles: traded };
    const stats = overfitting(evaluations, comboResult(best).daily);
    i.onPhase?.('best run and statistics');
    const base = { evaluations, feasibleSize: feasible.length, candles: traded, best, overfitting: stats };
    if (!i.walkForward) return base;
    const outcomes = await walkForward(
      { pool, market, settings: i.settings, space: i.space, objective: i.objective, minTrades: i.minTrades, search: makeSearch, warmup: i.warmup, onDone: i.onDone },
      windows,
    );
    const stitch = stitched(outcomes, TIMEFRAME_MS[i.timeframe], i.settings.initialBalance);
    i.onPhase?.('walked forward');
    return { ...base, walkForward: { windows: outcomes, stitched: stitch } };
  } finally {
    await pool.close();
  }
}
