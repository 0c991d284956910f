import { aggregateCandles, lowerBound, sliceCandles, type CandleColumns } from '../core/candles.ts';
import { HalyardError } from '../core/errors.ts';
import { computeSummary } from '../core/metrics.ts';
import type { FinerSeries } from '../core/sltp.ts';
import { TIMEFRAME_MS, finerDrillDown, type Timeframe } from '../core/timeframe.ts';
import type { SeriesCache } from '../strategy/series-cache.ts';
import type { Strategy } from '../strategy/strategy.ts';
import type { ExecutionCosts } from './execution.ts';
import { CHUNK, LoopState, walk } from './backtest-loop.ts';
import { Kernel, declaredTimeframes, type FundingInput } from './kernel.ts';
import { PlotRecorder } from './plots.ts';
import type { BacktestConfig, BacktestResult, FillModel, SlTpPolicy } from './result.ts';

export type { FundingInput } from './kernel.ts';

/** Everything a backtest needs. Prices in quote, fees and slippage in basis points. */
export interface BacktestInput {
  readonly strategy: Strategy;
  readonly strategyName?: string;
  readonly exchange: string;
  readonly symbol: string;
  /** Base candles the loop walks, of timeframe `timeframe`. */
  readonly candles: CandleColumns;
  readonly timeframe: Timeframe;
  /** Finer cached series for the SL/TP drill-down (any subset of 1h/15m/5m/1m finer than the base). */
  readonly finer?: ReadonlyMap<Timeframe, CandleColumns>;
  readonly initialBalance: number;
  readonly leverage?: number;
  readonly makerFeeBps?: number;
  readonly takerFeeBps?: number;
  readonly slippageBps?: number;
  readonly funding?: FundingInput;
  readonly fill?: FillModel;
  readonly slTpPolicy?: SlTpPolicy;
  readonly maintenanceMarginRate?: number;
  /** Instrument tick (quote) and lot (base units). */
  readonly tick?: number;
  readonly lot?: number;
  /** Seed of synthetic data (recorded in the results' config), if the candles are synthetic. */
  readonly seed?: number;
  /**
   * Optional stopwatch (ms) for benchmarks: when given, the result reports how long setup, the candle
   * loop and the results took. The engine never reads a clock by itself.
   */
  readonly stopwatch?: () => number;
  /** Called every 65,536 candles with (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
  /** Base indicator series shared with other runs over the same `candles` (a parameter sweep). */
  readonly seriesCache?: SeriesCache;
  /**
   * Open time (epoch ms) of the first candle that trades: the candles before it only warm up views and
   * indicators (the strategy is not called, nothing is recorded), and results start there.
   */
  readonly tradeFrom?: number;
}

/**
 * Runs a backtest synchronously. Per candle: funding at 00/08/16 UTC; pending next-open signals fill at
 * the open; stop-loss / take-profit / liquidation of open positions; higher-timeframe candles and
 * indicators update; equity is marked at the close; the strategy is called; its signals fill at the close
 * (or are queued for the next open). Positions still open at the end close at the last close.
 */
export function runBacktest(input: BacktestInput): BacktestResult {
  const c = input.candles;
  const n = c.length;
  // Candles [0, warm) warm up only.
  const warm = input.tradeFrom === undefined ? 0 : lowerBound(c.ts, input.tradeFrom);
  if (n === 0 || warm >= n) throw new HalyardError('data_missing', 'no candles in the requested range');
  const strategy = input.strategy;
  const clock = input.stopwatch;
  const tStart = clock?.() ?? 0;
  const base = input.timeframe;
  const baseMs = TIMEFRAME_MS[base];
  const declared = declaredTimeframes(strategy, base);
  const fill = input.fill ?? 'close';
  const policy = input.slTpPolicy ?? 'conservative';
  const leverage = input.leverage ?? 1;
  const mmr = input.maintenanceMarginRate ?? 0.005;
  const costs: ExecutionCosts = {
    makerFeeBps: input.makerFeeBps ?? 2,
    takerFeeBps: input.takerFeeBps ?? 5,
    slippageBps: input.slippageBps ?? 0,
    tick: input.tick ?? 0,
    lot: input.lot ?? 0,
  };
  const name = input.strategyName ?? strategy.name;

  // Drill-down series, coarsest first, only those finer than the base.
  const finer: FinerSeries[] = [];
  const drillDown: Timeframe[] = [];
  for (const tf of finerDrillDown(base)) {
    const f = input.finer?.get(tf);
    if (f && f.length > 0) {
      finer.push({ ms: TIMEFRAME_MS[tf], candles: f });
      drillDown.push(tf);
    }
  }
  const higher = new Map<Timeframe, CandleColumns>();
  for (const tf of declared) if (tf !== base) higher.set(tf, aggregateCandles(c, tf));
  const funding = input.funding ?? 0;
  const kernel = new Kernel({
    strategy,
    strategyName: name,
    symbol: input.symbol,
    base,
    candles: c,
    higher,
    initialBalance: input.initialBalance,
    leverage,
    maintenanceMarginRate: mmr,
    costs,
    fill,
    slTpPolicy: policy,
    funding,
    finer,
    plots: new PlotRecorder(n - warm, warm),
  });
  const book = kernel.book;
  const exec = kernel.exec;
  const baseView = kernel.baseView;
  // The base series is known in advance: its indicators are computed a chunk ahead of the loop (one
  // column pass per chunk, no work per candle); the cursor reveals them.
  const indicators = baseView.indicators;
  for (const ind of indicators) if (input.seriesCache?.adopt(ind, c, baseView) !== true) ind.beginPrecompute(c, baseView, CHUNK);

  const equity = new Float64Array(n);
  const positions = book.ledger.open;
  const state = new LoopState(kernel, strategy, name, fill, c, equity);
  const plots = kernel.ctx.plotRecorder;
  if (plots?.hasIndicators) state.plots = plots;
  const onProgress = input.onProgress;

  const tLoop = clock?.() ?? 0;
  // Warm-up: the views and indicators move over the candles before `tradeFrom`, nothing else happens.
  for (let from = 0; from < warm; ) {
    const to = Math.min(warm, from + CHUNK);
    for (let k = 0; k < indicators.length; k++) indicators[k]!.advance(from, to);
    const higherList = kernel.higherList;
    for (let i = from; i < to; i++) {
      baseView.i = i;
      for (let k = 0; k < higherList.length; k++) higherList[k]!.updateAt(c, i);
    }
    from = to;
  }
  // Chunks of CHUNK candles (see backtest-loop.ts); the first chunk is the first trading candle alone, so
  // progress is reported after candles 0, 65,536, 131,072, … (counted from it) as the single loop did.
  for (let from = warm; from < n; ) {
    const to = Math.min(n, from === warm ? from + 1 : from + CHUNK);
    for (let k = 0; k < indicators.length; k++) indicators[k]!.advance(from, to);
    walk(state, from, to);
    from = to;
    if (((to - 1 - warm) & 0xffff) === 0 && onProgress) onProgress(to - 1 - warm, n - warm);
  }
  const exposed = state.exposed;

  const tLoopEnd = clock?.() ?? 0;
  // Close what is still open at the last close, so every result is realized.
  const lastClose = c.close[n - 1] as number;
  const endTs = (c.ts[n - 1] as number) + baseMs;
  const forcedCloses = positions.length;
  for (let k = positions.length - 1; k >= 0; k--) {
    const p = positions[k]!;
    exec.exit(p, exec.slipped(lastClose, p.side === 'long' ? 'sell' : 'buy'), endTs, 'end_of_data', false);
  }
  equity[n - 1] = book.balance;
  input.onProgress?.(n - warm, n - warm);
  const run = warm === 0 ? c : sliceCandles(c, warm, n);
  const runEquity = warm === 0 ? equity : equity.subarray(warm);

  const config: BacktestConfig = {
    strategy: name,
    params: strategy.params,
    exchange: input.exchange,
    symbol: input.symbol,
    timeframe: base,
    timeframes: declared,
    from: c.ts[warm] as number,
    to: c.ts[n - 1] as number,
    initialBalance: input.initialBalance,
    leverage,
    makerFeeBps: costs.makerFeeBps,
    takerFeeBps: costs.takerFeeBps,
    slippageBps: costs.slippageBps,
    funding: typeof funding === 'number' ? funding : 'series',
    fill,
    slTpPolicy: policy,
    positionMode: strategy.positionMode,
    maintenanceMarginRate: mmr,
    drillDown,
    seed: input.seed ?? null,
    ...(warm > 0 ? { warmup: warm } : {}),
  };
  const summary = computeSummary({
    ts: run.ts,
    equity: runEquity,
    barMs: baseMs,
    initialBalance: input.initialBalance,
    trades: exec.trades,
    exposedBars: exposed,
    fees: book.feesPaid,
    funding: book.fundingNet,
    liquidations: exec.liquidations,
    rejectedOrders: exec.rejections.length,
    ambiguousCandles: kernel.ambiguous,
    drilledDownCandles: kernel.drilled,
  });
  const timings = clock ? { setupMs: tLoop - tStart, loopMs: tLoopEnd - tLoop, resultsMs: clock() - tLoopEnd } : undefined;
  exec.resting.cancel(null, endTs, 'end of data');
  const orders = exec.resting.done;
  const extra = {
    ...(orders.length > 0 ? { orders } : {}),
    ...(plots !== null && plots.series.length > 0 ? { plots: plots.series } : {}),
  };
  return { config, summary, trades: exec.trades, rejections: exec.rejections, candles: run, equity: runEquity, forcedCloses, timings, ...extra };
}
