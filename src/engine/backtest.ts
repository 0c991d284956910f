import { aggregateCandles, lowerBound, type CandleColumns } from '../core/candles.ts';
import { HalyardError } from '../core/errors.ts';
import { computeSummary } from '../core/metrics.ts';
import { liquidationFactor } from '../core/margin.ts';
import { Portfolio } from '../core/portfolio.ts';
import { Hit, newResolution, resolveCandle, type FinerSeries, type Levels } from '../core/sltp.ts';
import type { Signal } from '../core/signals.ts';
import { TIMEFRAME_MS, finerDrillDown, type Timeframe } from '../core/timeframe.ts';
import type { Strategy } from '../strategy/strategy.ts';
import { EngineContext } from './context.ts';
import { Executor, type ExecutionCosts } from './execution.ts';
import type { BacktestConfig, BacktestResult, FillModel, SlTpPolicy } from './result.ts';
import { BaseView, HigherView } from './views.ts';

const FUNDING_MS = 8 * 3_600_000;

/** Funding: a constant rate per 8 h interval, or a series of (time, rate) sorted by time. */
export type FundingInput = number | { readonly ts: Float64Array; readonly rate: Float64Array };

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

/** The rate in force at `t` in a sorted (time, rate) series (0 before its first point). */
function rateAt(series: { readonly ts: Float64Array; readonly rate: Float64Array }, t: number): number {
  const i = lowerBound(series.ts, t + 1) - 1;
  return i >= 0 ? (series.rate[i] as number) : 0;
}

function asSignals(out: unknown): readonly Signal[] | undefined {
  if (out === undefined || out === null) return undefined;
  return Array.isArray(out) ? (out as Signal[]) : [out as Signal];
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
  // A single-timeframe strategy runs on whatever base it is given (`--timeframe`); a multi-timeframe one
  // must get the base it declared first.
  const declared: readonly Timeframe[] = strategy.timeframes.length <= 1 ? [base] : strategy.timeframes;
  if (declared[0] !== base) {
    throw new HalyardError('invalid_input', `the strategy's base timeframe is ${declared[0]} (first of ${declared.join(', ')}), the data is ${base}`, { strategy: declared[0], data: base });
  }
  for (const tf of declared) {
    if (TIMEFRAME_MS[tf] % baseMs !== 0) throw new HalyardError('invalid_input', `timeframe ${tf} is not a multiple of the base ${base}`);
  }
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
  if (!(leverage >= 1)) throw new HalyardError('invalid_input', `leverage must be >= 1, got ${leverage}`);
  if (!(input.initialBalance > 0)) throw new HalyardError('invalid_input', `balance must be > 0, got ${input.initialBalance}`);
  const name = input.strategyName ?? strategy.name;
  const book = new Portfolio({ initialBalance: input.initialBalance, leverage, mode: strategy.positionMode, maintenanceMarginRate: mmr, lot: costs.lot });
  const exec = new Executor(book, costs, input.symbol, strategy.positionMode, name);

  // Views: the base, and each declared higher timeframe built as base candles close.
  const baseView = new BaseView(base, c);
  const higher = new Map<Timeframe, HigherView>();
  for (const tf of declared) if (tf !== base) higher.set(tf, new HigherView(tf, aggregateCandles(c, tf), baseMs));
  const higherList = [...higher.values()];
  const ctx = new EngineContext(input.symbol, strategy.positionMode, baseView, higher, book);
  strategy.onInit?.(ctx);
  ctx.initializing = false;
  // The base series is known in advance: compute its indicators in one pass; the cursor reveals them.
  for (const ind of baseView.indicators) ind.precompute(c, baseView);

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

  const funding = input.funding ?? 0;
  let nextFunding = Number.NEGATIVE_INFINITY;
  const equity = new Float64Array(n);
  const res = newResolution();
  const lv: { side: 'long' | 'short'; stop: number; take: number } = { side: 'long', stop: Number.NaN, take: Number.NaN };
  const liqLong = liquidationFactor('long', leverage, mmr);
  const liqShort = liquidationFactor('short', leverage, mmr);
  let pending: readonly Signal[] | undefined;
  let exposed = 0;
  let ambiguous = 0;
  let drilled = 0;
  const positions = book.ledger.open;

  const tLoop = clock?.() ?? 0;
  // Columns in locals: V8 must reload object properties after every call it cannot see through.
  const cTs = c.ts;
  const cOpen = c.open;
  const cHigh = c.high;
  const cLow = c.low;
  const cClose = c.close;
  for (let i = 0; i < n; i++) {
    const t = cTs[i] as number;
    const o = cOpen[i] as number;
    const h = cHigh[i] as number;
    const l = cLow[i] as number;
    const cl = cClose[i] as number;

    if (t >= nextFunding) {
      // A funding time passed: pay it at this candle's open (the first candle at or after it, so a gap in
      // the data still pays once).
      if (positions.length > 0 && i > 0) {
        const rate = typeof funding === 'number' ? funding : rateAt(funding, t);
        if (rate !== 0) book.fund(o, rate);
      }
      nextFunding = (Math.floor(t / FUNDING_MS) + 1) * FUNDING_MS;
    }

    if (pending !== undefined) {
      for (const s of pending) exec.execute(s, o, t);
      pending = undefined;
    }

    // Stop-loss, take-profit and liquidation of open positions (walk backwards: exits remove entries);
    // what stays open gets its max adverse excursion and unrealized PnL at the close, in the same pass.
    // Missing levels are ±Infinity so one range test skips the candles that touch nothing.
    let unrealized = 0;
    for (let k = positions.length - 1; k >= 0; k--) {
      const p = positions[k]!;
      const long = p.side === 'long';
      const entry = p.entryPrice;
      let liqFirst: boolean;
      let stop: number;
      let take: number;
      let touched: boolean;
      if (long) {
        const liq = entry * liqLong; // NaN when a long cannot be liquidated: then the comparison below is false
        const sl = p.stopLoss ?? Number.NEGATIVE_INFINITY;
        liqFirst = liq > sl;
        stop = liqFirst ? liq : sl;
        take = p.takeProfit ?? Number.POSITIVE_INFINITY;
        touched = l <= stop || h >= take;
      } else {
        const liq = entry * liqShort;
        const sl = p.stopLoss ?? Number.POSITIVE_INFINITY;
        liqFirst = liq < sl;
        stop = liqFirst ? liq : sl;
        take = p.takeProfit ?? Number.NEGATIVE_INFINITY;
        touched = h >= stop || l <= take;
      }
      if (touched) {
        lv.side = p.side;
        lv.stop = stop;
        lv.take = take;
        resolveCandle(lv as Levels, o, h, l, cl, t, baseMs, finer, policy, res);
        if (res.hit !== Hit.None) {
          if (res.ambiguous) ambiguous++;
          else if (res.drilled) drilled++;
          if (res.hit === Hit.Take) exec.exit(p, res.price, t, 'take_profit', !res.gap);
          else if (liqFirst) exec.exit(p, stop, t, 'liquidation', false);
          else exec.exit(p, exec.slipped(res.price, long ? 'sell' : 'buy'), t, 'stop_loss', false);
          continue;
        }
      }
      const qty = p.qty;
      const worst = long ? (entry - l) * qty : (h - entry) * qty;
      if (worst > p.maxAdverse) p.maxAdverse = worst;
      unrealized += long ? (cl - entry) * qty : (entry - cl) * qty;
    }

    for (let k = 0; k < higherList.length; k++) {
      higherList[k]!.update(t, o, h, l, cl, c.volume[i] as number, c.openInterest[i] as number, c.cvd[i] as number);
    }
    baseView.i = i; // base indicators were precomputed: moving the cursor is their update
    ctx.time = t + baseMs;
    ctx.markPrice = cl;
    const out = asSignals(strategy.onCandle(ctx));
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
    ambiguousCandles: ambiguous,
    drilledDownCandles: drilled,
  });
  const timings = clock ? { setupMs: tLoop - tStart, loopMs: tLoopEnd - tLoop, resultsMs: clock() - tLoopEnd } : undefined;
  return { config, summary, trades: exec.trades, rejections: exec.rejections, candles: c, equity, forcedCloses, timings };
}
