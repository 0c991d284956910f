import type { CandleColumns } from '../core/candles.ts';
import type { RejectionRecord, Summary, TradeRecord } from '../core/results.ts';
import type { Timeframe } from '../core/timeframe.ts';
import type { PositionMode, Side } from '../core/types.ts';

/** How market orders from signals fill: at the signal candle's close, or at the next candle's open. */
export type FillModel = 'close' | 'next-open';

/** What to do when stop-loss and take-profit are both hit in one candle of the finest data available. */
export type SlTpPolicy = 'conservative' | 'candle-direction';

/** Everything that determines a run (written to results.json; same config + data → same bytes). */
export interface BacktestConfig {
  readonly strategy: string;
  readonly params: Readonly<Record<string, number | string | boolean>>;
  readonly exchange: string;
  readonly symbol: string;
  /** Base timeframe the loop walks (1m unless the data only has coarser candles). */
  readonly timeframe: Timeframe;
  /** Timeframes the strategy sees. */
  readonly timeframes: readonly Timeframe[];
  /** First and last bar open time (epoch ms) actually walked. */
  readonly from: number;
  readonly to: number;
  readonly initialBalance: number;
  readonly leverage: number;
  readonly makerFeeBps: number;
  readonly takerFeeBps: number;
  readonly slippageBps: number;
  /** Constant funding rate per 8 h interval (fraction), or 'series' when a rate series was given. */
  readonly funding: number | 'series';
  readonly fill: FillModel;
  readonly slTpPolicy: SlTpPolicy;
  readonly positionMode: PositionMode;
  /** Maintenance margin rate for the liquidation price (fraction). */
  readonly maintenanceMarginRate: number;
  /** Finer timeframes that were available for the SL/TP drill-down. */
  readonly drillDown: readonly Timeframe[];
  /** Seed of the synthetic data, or null for recorded market data. */
  readonly seed: number | null;
  /** Base candles before `from` that only warmed up views and indicators (absent when none). */
  readonly warmup?: number;
}

/** A resting entry that ended: filled, canceled (by the strategy, or refused when reached: `reason`) or expired. */
export interface OrderRecord {
  readonly id: string;
  readonly label: string | null;
  /** Side of the position it was to open. */
  readonly side: Side;
  readonly type: 'limit' | 'stop';
  /** Limit or trigger price (quote). */
  readonly price: number;
  readonly positionSide: Side | null;
  /** Epoch ms. */
  readonly placedAt: number;
  readonly status: 'filled' | 'canceled' | 'expired';
  /** When it filled, was canceled or expired (epoch ms). */
  readonly closedAt: number;
  /** Fill price before slippage (quote), null unless filled. */
  readonly fillPrice: number | null;
  readonly reason: string | null;
}

/** A series the strategy plotted: one value per base candle of the run (NaN where it gave none). */
export interface PlotSeries {
  readonly name: string;
  /** CSS colour, or null for the report's palette. */
  readonly color: string | null;
  readonly values: Float64Array;
}

/** The result of a backtest. `candles` and `equity` stay in memory (the report samples them). */
export interface BacktestResult {
  readonly config: BacktestConfig;
  readonly summary: Summary;
  readonly trades: readonly TradeRecord[];
  readonly rejections: readonly RejectionRecord[];
  /** Base candles walked. */
  readonly candles: CandleColumns;
  /** Equity at each base bar's close (quote), same length as `candles`. */
  readonly equity: Float64Array;
  /** Open positions at the end (closed at the last close as `end_of_data` in `trades`). */
  readonly forcedCloses: number;
  /** Resting entries that ended (absent when the strategy placed none). */
  readonly orders?: readonly OrderRecord[];
  /** Series the strategy plotted, aligned with `candles` (absent when none). */
  readonly plots?: readonly PlotSeries[];
  /** Phase durations (ms) when a stopwatch was passed in; never written to results.json. */
  readonly timings?: { readonly setupMs: number; readonly loopMs: number; readonly resultsMs: number };
}
