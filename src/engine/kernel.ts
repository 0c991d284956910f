import { lowerBound, type CandleColumns } from '../core/candles.ts';
import { HalyardError } from '../core/errors.ts';
import type { Position } from '../core/ledger.ts';
import { liquidationFactor } from '../core/margin.ts';
import { Portfolio } from '../core/portfolio.ts';
import type { ExitReason } from '../core/results.ts';
import { Hit, newResolution, resolveCandle, type FinerSeries, type Levels } from '../core/sltp.ts';
import type { Signal } from '../core/signals.ts';
import { TIMEFRAME_MS, type Timeframe } from '../core/timeframe.ts';
import type { Strategy } from '../strategy/strategy.ts';
import { BarOrders, Checked } from './bar-orders.ts';
import { EngineContext } from './context.ts';
import { asSignals, strategyError } from './strategy-call.ts';
import { Executor, type ExecutionCosts, type FillPlan } from './execution.ts';
import type { ExitPlanJson } from './exits.ts';
import type { PlotRecorder } from './plots.ts';
import type { RestingJson, RestingOrder } from './resting.ts';
import type { FillModel, SlTpPolicy } from './result.ts';
import { BaseView, HigherView } from './views.ts';

/** The engine's own state of a run beyond the ledger: resting entries and exit plans (a paper run stores it). */
export interface EngineState {
  readonly resting: RestingJson;
  readonly exits: readonly ExitPlanJson[];
}

const FUNDING_MS = 8 * 3_600_000;

export { asSignals, declaredTimeframes, strategyError } from './strategy-call.ts';

/** Funding: a constant rate per 8 h interval, or a series of (time, rate) sorted by time. */
export type FundingInput = number | { readonly ts: Float64Array; readonly rate: Float64Array };

/** The rate in force at `t` in a sorted (time, rate) series (0 before its first point). */
function rateAt(series: { readonly ts: Float64Array; readonly rate: Float64Array }, t: number): number {
  const i = lowerBound(series.ts, t + 1) - 1;
  return i >= 0 ? (series.rate[i] as number) : 0;
}

/** What the kernel is built from: the strategy, the market and the rules of execution. */
export interface KernelOptions {
  readonly strategy: Strategy;
  readonly strategyName: string;
  readonly symbol: string;
  /** Base timeframe: the candles the loop walks. */
  readonly base: Timeframe;
  /** Base candles (a backtest's whole series; live: a growing buffer the runtime appends to). */
  readonly candles: CandleColumns;
  /** Aggregated candles of each declared higher timeframe (live: growing buffers). */
  readonly higher: ReadonlyMap<Timeframe, CandleColumns>;
  readonly initialBalance: number;
  readonly leverage: number;
  readonly maintenanceMarginRate: number;
  readonly costs: ExecutionCosts;
  readonly fill: FillModel;
  readonly slTpPolicy: SlTpPolicy;
  readonly funding: FundingInput;
  /** Finer series for the SL/TP drill-down, coarsest first. */
  readonly finer: readonly FinerSeries[];
  /** Where `ctx.plot` records (backtests; none: plots are ignored). */
  readonly plots?: PlotRecorder;
}

/**
 * The per-candle logic shared by the backtest loop and the paper runtime: funding, stop-loss /
 * take-profit / liquidation of open positions, the higher-timeframe views and the strategy call. It does
 * not walk candles itself: the backtest calls it from its tight loop, the paper runtime once per closed
 * candle. Exits are applied at once, or, with `deferExits`, handed back as plans (the paper runtime sends
 * them to its venue first).
 */
export class Kernel {
  readonly book: Portfolio;
  readonly exec: Executor;
  readonly ctx: EngineContext;
  readonly baseView: BaseView;
  readonly higherList: readonly HigherView[];
  readonly baseMs: number;
  /** Candles where stop and take-profit were both hit and the policy decided / a finer series decided. */
  ambiguous = 0;
  drilled = 0;
  /** Exits found by `levels` when deferring (cleared by the caller). */
  readonly deferred: FillPlan[] = [];
  deferExits = false;
  /** Set when a deferred exit only reduces a position: the caller applies the plans and checks the bar again. */
  again = false;
  /** Resting entries (the backtest loop reads the length). */
  readonly resting: RestingOrder[];
  /** Resting entries, trailing stops and expiries after a bar's exits. */
  readonly orders: BarOrders;
  /**
   * The candle `levels` works on (time, open, high, low, close) and its result (unrealized PnL): a typed
   * array, because storing a number into an object field allocates a heap number in optimized code.
   */
  readonly bar = new Float64Array(6);
  /** Next funding time (epoch ms); the loop checks it before calling `payFunding` (a call per candle costs). */
  nextFunding = Number.NEGATIVE_INFINITY;
  private readonly strategy: Strategy;
  readonly finer: readonly FinerSeries[];
  /** `finer` from each level down (`finerFrom[k]`: the drill-down below a candle of `finer[k - 1]`). */
  readonly finerFrom: readonly (readonly FinerSeries[])[];
  private readonly policy: SlTpPolicy;
  private readonly res = newResolution();
  private readonly lv: { side: 'long' | 'short'; stop: number; take: number } = { side: 'long', stop: Number.NaN, take: Number.NaN };
  /** Liquidation price ÷ entry of a long and of a short. */
  readonly liqLong: number;
  readonly liqShort: number;
  /** The last position and candle counted as ambiguous / drilled (a re-check after a partial exit counts once). */
  private countedP: Position | null = null;
  private countedT = Number.NaN;

  constructor(private readonly o: KernelOptions) {
    const strategy = o.strategy;
    this.strategy = strategy;
    this.finer = o.finer;
    this.finerFrom = o.finer.map((_, k) => o.finer.slice(k)).concat([[]]);
    this.policy = o.slTpPolicy;
    this.baseMs = TIMEFRAME_MS[o.base];
    if (!(o.leverage >= 1)) throw new HalyardError('invalid_input', `leverage must be >= 1, got ${o.leverage}`);
    if (!(o.initialBalance > 0)) throw new HalyardError('invalid_input', `balance must be > 0, got ${o.initialBalance}`);
    this.book = new Portfolio({ initialBalance: o.initialBalance, leverage: o.leverage, mode: strategy.positionMode, maintenanceMarginRate: o.maintenanceMarginRate, lot: o.costs.lot });
    this.exec = new Executor(this.book, o.costs, o.symbol, strategy.positionMode, o.strategyName);
    this.resting = this.exec.resting.open;
    this.orders = new BarOrders(this, o.symbol, o.costs.tick);
    this.baseView = new BaseView(o.base, o.candles);
    const higher = new Map<Timeframe, HigherView>();
    for (const [tf, agg] of o.higher) higher.set(tf, new HigherView(tf, agg, this.baseMs));
    this.higherList = [...higher.values()];
    this.ctx = new EngineContext(o.symbol, strategy.positionMode, this.baseView, higher, this.book, this.exec.resting, o.costs.lot, o.plots ?? null);
    try {
      strategy.onInit?.(this.ctx);
    } catch (e) {
      throw strategyError(e, o.strategyName, null);
    }
    this.ctx.initializing = false;
    this.liqLong = liquidationFactor('long', o.leverage, o.maintenanceMarginRate);
    this.liqShort = liquidationFactor('short', o.leverage, o.maintenanceMarginRate);
  }

  /**
   * Pays the funding due at candle time `t` at open `o` (the caller checked `nextFunding`): the first
   * candle at or after a funding time pays it, so a gap in the data still pays once.
   */
  payFunding(t: number, o: number, first: boolean): void {
    if (this.book.ledger.open.length > 0 && !first) {
      const f = this.o.funding;
      const rate = typeof f === 'number' ? f : rateAt(f, t);
      if (rate !== 0) this.book.fund(o, rate);
    }
    this.nextFunding = (Math.floor(t / FUNDING_MS) + 1) * FUNDING_MS;
  }

  /** Resumes funding after a restart: the next funding time after candle time `t`. */
  resumeFunding(t: number): void {
    this.nextFunding = (Math.floor(t / FUNDING_MS) + 1) * FUNDING_MS;
  }

  /**
   * Stop-loss, take-profit and liquidation of open positions on candle (t, o, h, l, c); what stays open
   * gets its max adverse excursion. Returns the unrealized PnL at the close of what stays open. Missing
   * levels are ±Infinity so one range test skips the candles that touch nothing.
   */
  levels(t: number, o: number, h: number, l: number, cl: number): number {
    this.setBar(t, o, h, l, cl);
    this.levelsOfBar();
    return this.bar[5] as number;
  }

  /** Makes candle (t, o, h, l, cl) the kernel's current bar (the paper runtime, before its steps). */
  setBar(t: number, o: number, h: number, l: number, cl: number): void {
    const bar = this.bar;
    bar[0] = t;
    bar[1] = o;
    bar[2] = h;
    bar[3] = l;
    bar[4] = cl;
  }

  /** Unrealized PnL at the close of what `levels` / `levelsAt` left open. */
  get unrealized(): number {
    return this.bar[5] as number;
  }

  /**
   * `levels` on base candle `i` of the kernel's candles, for the backtest loop; the result is left in
   * `unrealized`. The candle travels in `bar`, not in arguments: V8 boxes every price passed to a call
   * it does not inline (an allocation per candle).
   */
  levelsAt(i: number): void {
    const c = this.o.candles;
    const bar = this.bar;
    bar[0] = c.ts[i] as number;
    bar[1] = c.open[i] as number;
    bar[2] = c.high[i] as number;
    bar[3] = c.low[i] as number;
    bar[4] = c.close[i] as number;
    this.levelsOfBar();
  }

  /**
   * The body of `levels` on the candle in `bar`, leaving the result in `unrealized`; in a backtest, the
   * bar's resting entries and trailing stops follow when there are any.
   */
  levelsOfBar(): void {
    const bar = this.bar;
    const h = bar[2] as number;
    const l = bar[3] as number;
    const cl = bar[4] as number;
    const positions = this.book.ledger.open;
    let unrealized = 0;
    // Backwards: exits remove entries.
    for (let k = positions.length - 1; k >= 0; k--) {
      const p = positions[k]!;
      const entry = p.entryPrice;
      const qty = p.qty;
      if (p.side === 'long') {
        const liq = entry * this.liqLong; // NaN when a long cannot be liquidated: then `liq > sl` is false
        const sl = p.stopLoss ?? Number.NEGATIVE_INFINITY;
        const stop = liq > sl ? liq : sl;
        if (l <= stop || h >= (p.takeProfit ?? Number.POSITIVE_INFINITY)) {
          const r = this.hit(p, liq > sl, stop);
          if (r === Checked.Reduced && !this.deferExits) k++; // what is left is checked again on this candle
          if (r !== Checked.None) continue;
        }
        const worst = (entry - l) * qty;
        if (worst > p.maxAdverse) p.maxAdverse = worst;
        unrealized += (cl - entry) * qty;
      } else {
        const liq = entry * this.liqShort;
        const sl = p.stopLoss ?? Number.POSITIVE_INFINITY;
        const stop = liq < sl ? liq : sl;
        if (h >= stop || l <= (p.takeProfit ?? Number.NEGATIVE_INFINITY)) {
          const r = this.hit(p, liq < sl, stop);
          if (r === Checked.Reduced && !this.deferExits) k++;
          if (r !== Checked.None) continue;
        }
        const worst = (h - entry) * qty;
        if (worst > p.maxAdverse) p.maxAdverse = worst;
        unrealized += (entry - cl) * qty;
      }
    }
    bar[5] = unrealized;
    if (this.exec.extras && !this.deferExits) this.orders.restOfBar();
  }

  /** The candle in `bar` touched a level of `p`: resolves which was hit first and exits (a `Checked` value). */
  private hit(p: Position, liqFirst: boolean, stop: number): number {
    const bar = this.bar;
    return this.resolveHit(p, liqFirst, stop, bar[0] as number, bar[1] as number, bar[2] as number, bar[3] as number, bar[4] as number, this.baseMs, this.finer);
  }

  /**
   * Which of `p`'s levels candle (t, o, h, l, c) of `ms` hit first (drilling down into `finer`), and the
   * exit: a take-profit of a ladder closes its part and moves the take-profit to the next target
   * (`Checked.Reduced`); anything else closes the position (`Checked.Gone`).
   */
  resolveHit(p: Position, liqFirst: boolean, stop: number, t: number, o: number, h: number, l: number, c: number, ms: number, finer: readonly FinerSeries[]): number {
    const lv = this.lv;
    const res = this.res;
    lv.side = p.side;
    lv.stop = stop;
    lv.take = p.takeProfit ?? (p.side === 'long' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY);
    resolveCandle(lv as Levels, o, h, l, c, t, ms, finer, this.policy, res);
    if (res.hit === Hit.None) return Checked.None;
    if ((res.ambiguous || res.drilled) && !(this.countedP === p && this.countedT === t)) {
      this.countedP = p;
      this.countedT = t;
      if (res.ambiguous) this.ambiguous++;
      else this.drilled++;
    }
    if (res.hit === Hit.Take) {
      const plan = this.exec.exits.get(p);
      const target = plan?.targets[0];
      if (plan !== undefined && target !== undefined && target.qty < p.qty) {
        this.exec.exits.targetDone(p, plan);
        this.exit(p, res.price, t, 'take_profit', !res.gap, false, target.qty);
        return Checked.Reduced;
      }
      this.exit(p, res.price, t, 'take_profit', !res.gap, false);
    } else if (liqFirst) this.exit(p, stop, t, 'liquidation', false, false);
    else this.exit(p, res.price, t, this.exec.exits.trailing(p) ? 'trailing_stop' : 'stop_loss', false, true);
    return Checked.Gone;
  }

  /** Exits `qty` of `p` (all of it by default) at once, or plans it when deferring. */
  exit(p: Position, reference: number, t: number, reason: ExitReason, maker: boolean, slip: boolean, qty?: number): void {
    const plan = this.exec.exitPlan(p, reference, reason, maker, slip, qty);
    if (this.deferExits) {
      this.deferred.push(plan);
      if (qty !== undefined) this.again = true;
    } else this.exec.apply(plan, plan.price, this.exec.feeOf(plan.qty, plan.price, maker), plan.qty, t);
  }

  /** The resting entries and exit plans of the run (null when it has used neither). */
  engineState(): EngineState | null {
    const resting = this.exec.resting.toJson();
    const exits = this.exec.exits.toJson();
    return resting.issued === 0 && exits.length === 0 ? null : { resting, exits };
  }

  /** Puts stored resting entries and exit plans back (after the ledger was restored). */
  restoreEngineState(s: EngineState): void {
    this.exec.resting.restore(s.resting);
    this.exec.exits.restore(s.exits, this.book.ledger.open);
    this.exec.extras = true;
  }

  /**
   * Folds the closed base candle into the higher timeframes, moves the strategy's clock and mark, and
   * calls the strategy. Returns its signals (undefined when none). The base view's cursor is the caller's
   * (the backtest sets it; the live runtime appends the candle).
   */
  decide(t: number, o: number, h: number, l: number, cl: number, v: number, oi: number, cvd: number): readonly Signal[] | undefined {
    const hl = this.higherList;
    for (let k = 0; k < hl.length; k++) hl[k]!.update(t, o, h, l, cl, v, oi, cvd);
    const ctx = this.ctx;
    ctx.time = t + this.baseMs;
    ctx.markPrice = cl;
    try {
      return asSignals(this.strategy.onCandle(ctx));
    } catch (e) {
      throw strategyError(e, this.o.strategyName, t);
    }
  }
}
