import type { TradeRecord } from '../core/results.ts';
import type { Timeframe } from '../core/timeframe.ts';
import type { BacktestResult } from '../engine/result.ts';
import { sig } from './format.ts';
import { barIndexAt, downsampleCandles, drawdownToBars, MAX_CHART_BARS, plotToBars, reduceToBars } from './sampling.ts';

/** Most recent trades that get chart markers (older ones are left off so the chart stays readable and small). */
export const MAX_MARKER_TRADES = 2000;

/** Marker kinds in the inline chart data. */
export const MARKER_KIND = { longEntry: 0, shortEntry: 1, longExit: 2, shortExit: 3 } as const;

/** One marker: [bar time (epoch s), kind (MARKER_KIND), net PnL of the trade (quote)]. */
export type MarkerTuple = [number, number, number];

/** Colours of plotted series without their own (distinct from the candles and the trade markers). */
export const PLOT_PALETTE = ['#eab308', '#a78bfa', '#22d3ee', '#f472b6', '#84cc16', '#fb923c', '#e2e8f0', '#14b8a6'] as const;

/** A series the strategy plotted, on the displayed bars: null where it has no value. */
export interface ChartPlot {
  readonly name: string;
  readonly color: string;
  readonly v: (number | null)[];
}

/** Columnar data the report's inline script draws. Times are bar open times in epoch seconds (UTC). */
export interface ChartData {
  /** Timeframe of the displayed bars. */
  readonly tf: Timeframe;
  readonly t: number[];
  readonly o: number[];
  readonly h: number[];
  readonly l: number[];
  readonly c: number[];
  readonly v: number[];
  /** Equity (quote) at each displayed bar's close. */
  readonly eq: number[];
  /** Deepest drawdown within each displayed bar, in percent (<= 0). */
  readonly dd: number[];
  /** Entry/exit markers, sorted by time then kind. */
  readonly markers: MarkerTuple[];
  /** Series the strategy plotted, drawn as lines over the candles. */
  readonly plots: ChartPlot[];
  /** Trades with markers, and trades in the run. */
  readonly markedTrades: number;
  readonly totalTrades: number;
  /** Decimals for the price axis. */
  readonly pricePrecision: number;
  /** Initial balance (quote), drawn as a reference line on the equity chart. */
  readonly initial: number;
}

/** Decimals that suit a price of this magnitude. */
export function pricePrecision(price: number): number {
  const a = Math.abs(price);
  if (!Number.isFinite(a) || a >= 1000) return 2;
  if (a >= 1) return 4;
  if (a >= 0.01) return 6;
  return 8;
}

/** Time (epoch s) of the displayed bar holding `t` (epoch ms): markers must sit on an existing bar. */
export function snapToBar(barTs: Float64Array, t: number): number {
  const i = barIndexAt(barTs, t);
  return Math.round((barTs[i] ?? t) / 1000);
}

/** Markers for the `MAX_MARKER_TRADES` most recent trades, snapped to displayed bars, sorted by time. */
export function tradeMarkers(trades: readonly TradeRecord[], barTs: Float64Array): MarkerTuple[] {
  const out: MarkerTuple[] = [];
  if (barTs.length === 0) return out;
  for (const t of trades.slice(-MAX_MARKER_TRADES)) {
    const long = t.side === 'long';
    const pnl = sig(t.pnl, 6);
    out.push([snapToBar(barTs, t.entryTime), long ? MARKER_KIND.longEntry : MARKER_KIND.shortEntry, pnl]);
    out.push([snapToBar(barTs, t.exitTime), long ? MARKER_KIND.longExit : MARKER_KIND.shortExit, pnl]);
  }
  out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return out;
}

function toArray(a: Float64Array, digits: number): number[] {
  const out = new Array<number>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = sig(a[i] as number, digits);
  return out;
}

/** Builds the chart data for the report: candles downsampled to at most `maxBars`, equity and drawdown on the same bars. */
export function buildChartData(result: BacktestResult, maxBars = MAX_CHART_BARS): ChartData {
  const { timeframe, candles, sourceEnd } = downsampleCandles(result.candles, result.config.timeframe, maxBars);
  const eq = reduceToBars(result.equity, sourceEnd, 'last');
  const dd = drawdownToBars(result.equity, sourceEnd);
  const t = new Array<number>(candles.length);
  for (let i = 0; i < candles.length; i++) t[i] = Math.round((candles.ts[i] as number) / 1000);
  const ddPct = new Float64Array(dd.length);
  for (let i = 0; i < dd.length; i++) ddPct[i] = Math.min(0, (dd[i] as number) * 100);
  const lastClose = candles.length ? (candles.close[candles.length - 1] as number) : 0;
  return {
    tf: timeframe,
    t,
    o: toArray(candles.open, 10),
    h: toArray(candles.high, 10),
    l: toArray(candles.low, 10),
    c: toArray(candles.close, 10),
    v: toArray(candles.volume, 6),
    eq: toArray(eq, 9),
    dd: toArray(ddPct, 5),
    markers: tradeMarkers(result.trades, candles.ts),
    plots: (result.plots ?? []).map((p, k) => ({
      name: p.name,
      color: p.color ?? PLOT_PALETTE[k % PLOT_PALETTE.length]!,
      v: Array.from(plotToBars(p.values, sourceEnd), (x) => (Number.isNaN(x) ? null : sig(x, 10))),
    })),
    markedTrades: Math.min(result.trades.length, MAX_MARKER_TRADES),
    totalTrades: result.trades.length,
    pricePrecision: pricePrecision(lastClose),
    initial: result.summary.initialBalance,
  };
}
