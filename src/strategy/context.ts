import type { Position } from '../core/ledger.ts';
import type { Size } from '../core/signals.ts';
import type { Timeframe } from '../core/timeframe.ts';
import type { PositionMode, Side } from '../core/types.ts';
import type { Indicator, Source, StreamingLike, LibraryIndicator } from './indicators.ts';

/**
 * Candles of one timeframe as the strategy sees them at the current moment. Index 0 is the latest candle:
 * for the base timeframe the candle that just closed; for a higher timeframe the current bucket, partial
 * until its last base candle closes (`complete`). Index k reaches k candles back; beyond the history, NaN.
 * Nothing after the current moment is reachable.
 */
export interface CandleView {
  readonly timeframe: Timeframe;
  /** Candles reachable (including index 0). */
  readonly length: number;
  /** Whether candle 0 is complete (always true for the base timeframe). */
  readonly complete: boolean;
  /** Open time, epoch ms. */
  ts(k?: number): number;
  open(k?: number): number;
  high(k?: number): number;
  low(k?: number): number;
  close(k?: number): number;
  /** Volume (base units). */
  volume(k?: number): number;
  /** Open interest (base units), NaN when the data has none. */
  openInterest(k?: number): number;
  /** Cumulative volume delta (base units). */
  cvd(k?: number): number;
  /** Copies the last `n` values of a column, oldest first (allocates: not for every candle). */
  last(field: 'open' | 'high' | 'low' | 'close' | 'volume', n: number): number[];
}

/** Balance and margin as of the latest candle close (quote currency). */
export interface PortfolioView {
  /** Wallet balance: initial + realized PnL − fees + funding. */
  readonly balance: number;
  /** Balance + unrealized PnL at the latest close. */
  readonly equity: number;
  /** Isolated margin held by open positions. */
  readonly usedMargin: number;
  /** Equity − used margin: what new positions can use. */
  readonly available: number;
  readonly leverage: number;
}

/** Options for an indicator: which timeframe feeds it (default: the base) and which value. */
export interface IndicatorOptions {
  readonly timeframe?: Timeframe;
  readonly source?: Source;
}

/** Indicator factories. Call them in `onInit`; the engine feeds each indicator every completed candle. */
export interface Indicators {
  sma(period: number, opts?: IndicatorOptions): Indicator;
  ema(period: number, opts?: IndicatorOptions): Indicator;
  rsi(period?: number, opts?: IndicatorOptions): Indicator;
  atr(period?: number, opts?: { readonly timeframe?: Timeframe }): Indicator;
  /** Any trading-signals indicator, e.g. `from(new MACD(new EMA(12), new EMA(26), new EMA(9)))`. */
  from<R>(inner: StreamingLike<R>, opts?: IndicatorOptions): LibraryIndicator<R>;
}

/** A resting entry (a limit or stop open waiting for the market) as the strategy sees it. */
export interface RestingOrderView {
  /** The engine's id (`ord-000001`, …): `cancel(id)` cancels it. */
  readonly id: string;
  /** The label the signal gave (`cancel(label)` works too), or null. */
  readonly label: string | null;
  /** Side of the position it opens. */
  readonly side: Side;
  readonly type: 'limit' | 'stop';
  /** Limit or trigger price (quote, on the tick). */
  readonly price: number;
  readonly size: Size;
  readonly positionSide: Side | null;
  /** When it was placed (epoch ms). */
  readonly placedAt: number;
  /** When it expires (epoch ms), or null. */
  readonly expiresAt: number | null;
  /** Base candles it still rests before it expires, or null. */
  readonly candlesLeft: number | null;
}

/** Inputs of `sizeByRisk`: the share of equity to lose at the stop, and the entry and stop prices (quote). */
export interface RiskSizing {
  /** Percent of equity lost if the stop is hit (1 = 1 %). */
  readonly riskPercent: number;
  /** Planned entry price (default: the latest close). */
  readonly entry?: number;
  readonly stopLoss: number;
}

/** How a plotted series is drawn in the report. */
export interface PlotOptions {
  /** CSS colour (default: the report's palette). */
  readonly color?: string;
}

/** What a strategy sees on each candle. */
export interface StrategyContext {
  /** Close time of the latest base candle (epoch ms): "now" in the strategy's world. */
  readonly time: number;
  /** The run's symbol (ccxt unified, e.g. BTC/USDT:USDT). */
  readonly symbol: string;
  readonly positionMode: PositionMode;
  /** Candles of a declared timeframe (the base timeframe when omitted). */
  candles(tf?: Timeframe): CandleView;
  readonly portfolio: PortfolioView;
  /** Open positions (hedge mode: one per leg). Read-only: change them through signals. */
  readonly positions: readonly Position[];
  /** The open position (one-way) or the leg of `side` (hedge), if any. */
  position(side?: Side): Position | undefined;
  readonly indicators: Indicators;
  /** Resting entries (limit and stop opens) not yet filled, canceled or expired, oldest first. */
  orders(): readonly RestingOrderView[];
  /**
   * The quantity (base units, rounded down to the lot) that loses `riskPercent` % of equity if the price
   * goes from `entry` to `stopLoss`: equity × riskPercent / 100 ÷ |entry − stopLoss| (0 when they are equal).
   * Fees and slippage come on top.
   */
  sizeByRisk(o: RiskSizing): number;
  /**
   * Draws a series on the report's price chart. In `onInit` with an indicator: its value is recorded on
   * every candle. In `onCandle` with a number: the value of this candle (NaN or no call: a gap). Paper
   * and live runs ignore it.
   */
  plot(name: string, value: number | Indicator, opts?: PlotOptions): void;
}
