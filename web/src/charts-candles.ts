import { CandlestickSeries, createSeriesMarkers, HistogramSeries, type SeriesMarker, type Time, type UTCTimestamp } from 'lightweight-charts';
import type { ChartData } from './api.ts';
import { addDrawdownSeries, addEquitySeries, CHART_COLORS, part, syncCharts, themedChart } from './charts.ts';

/** A compact PnL label for an exit marker (+12.3, -1.2k). */
function shortMoney(x: number): string {
  const a = Math.abs(x);
  const s = x > 0 ? '+' : x < 0 ? '-' : '';
  if (a >= 1e6) return `${s}${(a / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${s}${(a / 1e3).toFixed(1)}k`;
  return `${s}${a.toFixed(a >= 100 ? 0 : 2)}`;
}

/** How trade markers are drawn: small when crowded, with PnL labels once few enough are in view. */
export type MarkerMode = 'small' | 'plain' | 'label';

/**
 * Markers of a run's trades. The tuples are [bar time (epoch s), kind, net PnL of the trade (quote)] as
 * src/report/chart-data.ts writes them; kinds 0 long entry, 1 short entry, 2 long exit, 3 short exit.
 * Exits are blue for a win and amber for a loss.
 */
export function tradeMarkers(markers: ChartData['markers'], mode: MarkerMode): SeriesMarker<Time>[] {
  const size = mode === 'small' ? 0.5 : 1;
  return markers.map(([t, kind, pnl]) => {
    const time = t as UTCTimestamp;
    if (kind === 0) return { time, position: 'belowBar', color: CHART_COLORS.pos, shape: 'arrowUp', size };
    if (kind === 1) return { time, position: 'aboveBar', color: CHART_COLORS.neg, shape: 'arrowDown', size };
    return { time, position: kind === 2 ? 'aboveBar' : 'belowBar', shape: 'circle', size: size * 0.8, color: pnl > 0 ? '#60a5fa' : '#f59e0b', text: mode === 'label' ? shortMoney(pnl) : '' };
  });
}

/**
 * A backtest's chart in `el`: candles with volume and trade markers, then equity and drawdown below (in
 * `opts.equityEl` when given), the three time scales and crosshairs in step (as the run's report.html
 * draws them). Heights come from the CSS variables --candle-h, --equity-h and --drawdown-h.
 */
export function candleChart(el: HTMLElement, data: ChartData, opts: { equityEl?: HTMLElement } = {}): { destroy(): void } {
  const below = opts.equityEl ?? el;
  for (const box of new Set([el, below])) {
    box.replaceChildren();
    Object.assign(box.style, { display: 'flex', flexDirection: 'column', gap: '4px' });
  }
  const priceEl = part(el, 'chart-part-price', { height: 'var(--candle-h, 420px)' });
  const eqEl = part(below, 'chart-part-equity', { height: 'var(--equity-h, 160px)' });
  const ddEl = part(below, 'chart-part-drawdown', { height: 'var(--drawdown-h, 110px)' });
  const p = Math.max(0, Math.min(10, Math.round(data.pricePrecision)));
  const price = themedChart(priceEl, true);
  const candles = price.addSeries(CandlestickSeries, {
    upColor: CHART_COLORS.pos,
    downColor: CHART_COLORS.neg,
    borderVisible: false,
    wickUpColor: CHART_COLORS.pos,
    wickDownColor: CHART_COLORS.neg,
    priceFormat: { type: 'price', precision: p, minMove: 10 ** -p },
  });
  // Volume in its own pane under the candles, so the price axis never reaches below the data.
  const volume = price.addSeries(HistogramSeries, { priceFormat: { type: 'volume' }, lastValueVisible: false, priceLineVisible: false }, 1);
  price.panes()[0]?.setStretchFactor(5);
  price.panes()[1]?.setStretchFactor(1);
  const n = data.t.length;
  const at = (a: readonly number[], i: number): number => a[i] ?? NaN;
  const bars = data.t.map((t, i) => ({ time: t as UTCTimestamp, open: at(data.o, i), high: at(data.h, i), low: at(data.l, i), close: at(data.c, i) }));
  candles.setData(bars);
  volume.setData(data.t.map((t, i) => ({ time: t as UTCTimestamp, value: at(data.v, i), color: at(data.c, i) >= at(data.o, i) ? 'rgba(38,166,154,0.35)' : 'rgba(239,83,80,0.35)' })));

  // Marker size and PnL labels follow how many exits are in view: zoom in to read the labels.
  const markers = createSeriesMarkers(candles, []);
  let shownMode: MarkerMode | null = null;
  const onRange = (range: { from: number; to: number } | null): void => {
    const from = Math.max(0, Math.floor(range ? range.from : 0));
    const to = Math.min(n - 1, Math.ceil(range ? range.to : n - 1));
    const t0 = at(data.t, from);
    const t1 = at(data.t, to);
    const exits = data.markers.filter((m) => m[1] >= 2 && m[0] >= t0 && m[0] <= t1).length;
    const px = (priceEl.clientWidth || 800) / Math.max(1, exits);
    const mode: MarkerMode = px >= 48 ? 'label' : px >= 10 ? 'plain' : 'small';
    if (mode !== shownMode) {
      shownMode = mode;
      markers.setMarkers(tradeMarkers(data.markers, mode));
    }
  };
  onRange(null);
  price.timeScale().subscribeVisibleLogicalRangeChange(onRange);

  const eqChart = themedChart(eqEl);
  eqChart.timeScale().applyOptions({ visible: false });
  const equity = addEquitySeries(eqChart, data.initial);
  equity.setData(data.t.map((t, i) => ({ time: t as UTCTimestamp, value: at(data.eq, i) })));
  const ddChart = themedChart(ddEl);
  const dd = addDrawdownSeries(ddChart);
  dd.setData(data.t.map((t, i) => ({ time: t as UTCTimestamp, value: at(data.dd, i) })));
  const unsync = syncCharts([
    { chart: price, series: candles },
    { chart: eqChart, series: equity },
    { chart: ddChart, series: dd },
  ]);
  price.timeScale().fitContent();
  return {
    destroy() {
      unsync();
      price.timeScale().unsubscribeVisibleLogicalRangeChange(onRange);
      markers.detach();
      price.remove();
      eqChart.remove();
      ddChart.remove();
      el.replaceChildren();
      below.replaceChildren();
    },
  };
}
