import { HalyardError } from '../core/errors.ts';
import type { Position } from '../core/ledger.ts';
import type { Portfolio } from '../core/portfolio.ts';
import { floorQty } from '../core/round.ts';
import type { Timeframe } from '../core/timeframe.ts';
import type { PositionMode, Side } from '../core/types.ts';
import type { CandleView, IndicatorOptions, Indicators, PlotOptions, PortfolioView, RestingOrderView, RiskSizing, StrategyContext } from '../strategy/context.ts';
import { Atr, Ema, LibraryIndicator, Rsi, Sma, type Indicator, type StreamingLike } from '../strategy/indicators.ts';
import type { PlotRecorder } from './plots.ts';
import type { RestingOrders } from './resting.ts';
import type { BaseView, HigherView } from './views.ts';

/** Portfolio figures at the latest close, computed when the strategy reads them (most candles it does not). */
class PortfolioSnapshot implements PortfolioView {
  constructor(
    private readonly book: Portfolio,
    private readonly ctx: { readonly markPrice: number },
  ) {}
  get leverage(): number {
    return this.book.leverage;
  }
  get balance(): number {
    return this.book.balance;
  }
  get equity(): number {
    return this.book.equity(this.ctx.markPrice);
  }
  get usedMargin(): number {
    return this.book.usedMargin();
  }
  get available(): number {
    return this.equity - this.usedMargin;
  }
}

/** The one StrategyContext object of a run; the loop moves its clock and cursor. */
export class EngineContext implements StrategyContext {
  time = 0;
  /** Latest close: the mark price of the portfolio view. */
  markPrice = Number.NaN;
  readonly portfolio: PortfolioSnapshot;
  readonly indicators: Indicators;
  /** Indicators may only be created during onInit (so the engine feeds them from the first candle). */
  initializing = true;

  constructor(
    readonly symbol: string,
    readonly positionMode: PositionMode,
    private readonly base: BaseView,
    private readonly higher: ReadonlyMap<Timeframe, HigherView>,
    private readonly book: Portfolio,
    private readonly resting: RestingOrders,
    /** Lot size (base units) for `sizeByRisk`. */
    private readonly lot: number,
    /** Where `plot` records (null: plots are ignored, as in paper runs). */
    readonly plotRecorder: PlotRecorder | null,
  ) {
    this.portfolio = new PortfolioSnapshot(book, this);
    this.indicators = this.makeIndicators();
  }

  get positions(): readonly Position[] {
    return this.book.positions;
  }

  candles(tf?: Timeframe): CandleView {
    if (tf === undefined || tf === this.base.timeframe) return this.base;
    const v = this.higher.get(tf);
    if (!v) throw new HalyardError('strategy_error', `timeframe ${tf} is not declared in the strategy's timeframes`, { timeframe: tf });
    return v;
  }

  position(side?: Side): Position | undefined {
    for (const p of this.book.positions) {
      if (p.symbol === this.symbol && (side === undefined || p.side === side)) return p;
    }
    return undefined;
  }

  orders(): readonly RestingOrderView[] {
    return this.resting.open;
  }

  sizeByRisk(o: RiskSizing): number {
    const entry = o.entry ?? this.base.close();
    const distance = Math.abs(entry - o.stopLoss);
    if (!(o.riskPercent > 0) || !(distance > 0) || !Number.isFinite(distance)) return 0;
    return floorQty((this.portfolio.equity * o.riskPercent) / 100 / distance, this.lot);
  }

  plot(name: string, value: number | Indicator, opts?: PlotOptions): void {
    const rec = this.plotRecorder;
    if (typeof value !== 'number') {
      if (!this.initializing) throw new HalyardError('strategy_error', `plot "${name}": plot an indicator in onInit (it is recorded on every candle); in onCandle, plot numbers`);
      rec?.indicator(name, value, opts?.color);
      return;
    }
    if (this.initializing) throw new HalyardError('strategy_error', `plot "${name}": plot numbers in onCandle (an indicator can be plotted in onInit)`);
    rec?.set(name, this.base.i, value, opts?.color);
  }

  private register<T extends Indicator>(ind: T, tf: Timeframe | undefined): T {
    if (!this.initializing) throw new HalyardError('strategy_error', 'create indicators in onInit, not in onCandle (each would restart from nothing)');
    if (tf === undefined || tf === this.base.timeframe) this.base.indicators.push(ind);
    else {
      const v = this.higher.get(tf);
      if (!v) throw new HalyardError('strategy_error', `indicator on ${tf}: declare ${tf} in the strategy's timeframes`, { timeframe: tf });
      v.indicators.push(ind);
    }
    return ind;
  }

  private makeIndicators(): Indicators {
    return {
      sma: (period: number, o: IndicatorOptions = {}) => this.register(new Sma(period, o.source), o.timeframe),
      ema: (period: number, o: IndicatorOptions = {}) => this.register(new Ema(period, o.source), o.timeframe),
      rsi: (period = 14, o: IndicatorOptions = {}) => this.register(new Rsi(period, o.source), o.timeframe),
      atr: (period = 14, o: { timeframe?: Timeframe } = {}) => this.register(new Atr(period), o.timeframe),
      from: <R>(inner: StreamingLike<R>, o: IndicatorOptions = {}) => this.register(new LibraryIndicator<R>(inner, o.source), o.timeframe),
    };
  }
}
