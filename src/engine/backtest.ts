import { aggregateCandles, type CandleColumns } from '../core/candles.ts';
import { HalyardError } from '../core/errors.ts';
import { computeSummary } from '../core/metrics.ts';
import type { FinerSeries } from '../core/sltp.ts';
import type { Signal } from '../core/signals.ts';
import { TIMEFRAME_MS, finerDrillDown, type Timeframe } from '../core/timeframe.ts';
import type { Strategy } from '../strategy/strategy.ts';
import type { ExecutionCosts } from './execution.ts';
import { Kernel, asSignals, declaredTimeframes, strategyError, type FundingInput } from './kernel.ts';
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
  if (n === 0) throw new HalyardError('data_missing', 'no candles in the requested range');
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
  });
  const book = kernel.book;
  const exec = kernel.exec;
  const baseView = kernel.baseView;
  const higherList = kernel.higherList;
  const ctx = kernel.ctx;
  // The base series is known in advance: compute its indicators in one pass; the cursor reveals them.
  for (const ind of baseView.indicators) ind.precompute(c, baseView);

  const equity = new Float64Array(n);
  let pending: readonly Signal[] | undefined;
  let exposed = 0;
  const positions = book.ledger.open;

  const tLoop = clock?.() ?? 0;
  // Columns in locals: V8 must reload object properties after every call it cannot see through.
  const cTs = c.ts;
  const cOpen = c.open;
  const cHigh = c.high;
  const cLow = c.low;
  const cClose = c.close;
  const cVolume = c.volume;
  const cOi = c.openInterest;
  const cCvd = c.cvd;
  for (let i = 0; i < n; i++) {
    const t = cTs[i] as number;
    const o = cOpen[i] as number;
    const h = cHigh[i] as number;
    const l = cLow[i] as number;
    const cl = cClose[i] as number;

    if (t >= kernel.nextFunding) kernel.payFunding(t, o, i === 0);
    if (pending !== undefined) {
      for (const s of pending) exec.execute(s, o, t);
      pending = undefined;
    }
    let unrealized = positions.length > 0 ? kernel.levels(t, o, h, l, cl) : 0;
    baseView.i = i; // base indicators were precomputed: moving the cursor is their update
    // `Kernel.decide`, written out: calling the strategy from the loop itself lets V8 inline it (measured,
    // bench/compare.ts); the paper runtime calls `decide`.
    for (let k = 0; k < higherList.length; k++) higherList[k]!.update(t, o, h, l, cl, cVolume[i] as number, cOi[i] as number, cCvd[i] as number);
    ctx.time = t + baseMs;
    ctx.markPrice = cl;
    let out: readonly Signal[] | undefined;
    try {
      out = asSignals(strategy.onCandle(ctx));
    } catch (e) {
      throw strategyError(e, name, t);
    }
    if (out !== undefined && out.length > 0) {
      if (fill === 'close') {
        for (const s of out) exec.execute(s, cl, t + baseMs);
        unrealized = book.unrealized(cl);
      } else pending = out;
    }
    equity[i] = book.balance + unrealized;
    if (positions.length > 0) exposed++;
    if ((i & 0xffff) === 0 && input.onProgress) input.onProgress(i, n);
  }

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
  input.onProgress?.(n, n);

  const config: BacktestConfig = {
    strategy: name,
    params: strategy.params,
    exchange: input.exchange,
    symbol: input.symbol,
    timeframe: base,
    timeframes: declared,
    from: c.ts[0] as number,
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
  };
  const summary = computeSummary({
    ts: c.ts,
    equity,
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
  return { config, summary, trades: exec.trades, rejections: exec.rejections, candles: c, equity, forcedCloses, timings };
}
