import {
  AreaSeries,
  type AutoscaleInfo,
  BaselineSeries,
  CandlestickSeries,
  ColorType,
  createChart,
  createSeriesMarkers,
  CrosshairMode,
  HistogramSeries,
  LineStyle,
  type DeepPartial,
  type ChartOptions,
  type IChartApi,
  type ISeriesApi,
  type MouseEventParams,
  type SeriesMarker,
  type SeriesType,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import type { ChartData } from './api.ts';

/** Colours of the dashboard theme (style.css variables). */
export const CHART_COLORS = { bg: '#161b22', text: '#d7dde5', muted: '#8b95a3', grid: '#2a313c', pos: '#26a69a', neg: '#ef5350', line: '#4aa3ff' } as const;

/** A point of an equity curve: time (epoch ms) and equity (quote). */
export interface EquityPoint {
  readonly ts: number;
  readonly equity: number;
}

/** What equityChart() returns: replace the data, or remove the chart(s). */
export interface EquityChartHandle {
  update(points: readonly EquityPoint[]): void;
  destroy(): void;
}

/**
 * A lightweight-charts chart in the dashboard's dark theme (autoSize, UTC times on the axis). `logo`: the
 * library's attribution link (shown once per group of charts).
 */
export function themedChart(el: HTMLElement, logo = false, opts: DeepPartial<ChartOptions> = {}): IChartApi {
  return createChart(el, {
    autoSize: true,
    layout: {
      background: { type: ColorType.Solid, color: CHART_COLORS.bg },
      textColor: CHART_COLORS.text,
      fontSize: 11,
      attributionLogo: logo,
      panes: { separatorColor: CHART_COLORS.grid, separatorHoverColor: '#3a4350' },
    },
    grid: { vertLines: { color: 'rgba(42, 49, 60, 0.6)' }, horzLines: { color: CHART_COLORS.grid } },
    rightPriceScale: { borderColor: CHART_COLORS.grid, minimumWidth: 72 },
    // A small minimum spacing lets fitContent show a whole history even on a phone.
    timeScale: { borderColor: CHART_COLORS.grid, timeVisible: true, secondsVisible: false, minBarSpacing: 0.05, lockVisibleTimeRangeOnResize: true },
    crosshair: { mode: CrosshairMode.Normal },
    ...opts,
  });
}

/**
 * Points as a chart needs them: times in epoch seconds, strictly increasing (sorted; of several points in
 * the same second the last one given wins), non-finite values left out.
 */
export function toSeriesPoints(points: readonly EquityPoint[]): { time: UTCTimestamp; value: number }[] {
  const sorted = points
    .map((p, i) => ({ s: Math.floor(p.ts / 1000), v: p.equity, i }))
    .filter((p) => Number.isFinite(p.s) && Number.isFinite(p.v))
    .sort((a, b) => a.s - b.s || a.i - b.i);
  const out: { time: UTCTimestamp; value: number }[] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last && last.time === p.s) last.value = p.v;
    else out.push({ time: p.s as UTCTimestamp, value: p.v });
  }
  return out;
}

/** Drawdown in percent (<= 0) of each value from the running peak (0 while the peak is not positive). */
export function drawdownPct(values: readonly number[]): number[] {
  let peak = -Infinity;
  return values.map((v) => {
    peak = Math.max(peak, v);
    return peak > 0 ? ((v - peak) / peak) * 100 : 0;
  });
}

/** The value of a series' data item (line, area, baseline: value; candles: close). */
function itemValue(series: ISeriesApi<SeriesType>, index: number): number | undefined {
  const d = series.dataByIndex(index) as { value?: number; close?: number } | null;
  return d?.value ?? d?.close;
}

/**
 * Keeps charts that show the same bars in step: scrolling or zooming one moves the others, and the
 * crosshair of one shows on all. Returns the function that stops it.
 */
export function syncCharts(parts: readonly { chart: IChartApi; series: ISeriesApi<SeriesType> }[]): () => void {
  let syncing = false;
  // The chart under the pointer. Only real pointer moves spread (setCrosshairPosition fires the other
  // chart's handler too, later, without a source event), so two charts never echo each other.
  let source: IChartApi | null = null;
  const undo: (() => void)[] = [];
  for (const { chart } of parts) {
    const onRange = (range: { from: number; to: number } | null): void => {
      if (!range || syncing) return;
      syncing = true;
      for (const o of parts) if (o.chart !== chart) o.chart.timeScale().setVisibleLogicalRange(range);
      syncing = false;
    };
    const onMove = (param: MouseEventParams): void => {
      const idx = param.logical === undefined ? -1 : Math.round(param.logical);
      if (param.sourceEvent && idx >= 0) source = chart;
      else if (idx >= 0 || source !== chart) return;
      else source = null;
      for (const o of parts) {
        if (o.chart === chart) continue;
        const d = idx >= 0 ? o.series.dataByIndex(idx) : null;
        const v = idx >= 0 ? itemValue(o.series, idx) : undefined;
        if (d && v !== undefined) o.chart.setCrosshairPosition(v, d.time, o.series);
        else o.chart.clearCrosshairPosition();
      }
    };
    chart.timeScale().subscribeVisibleLogicalRangeChange(onRange);
    chart.subscribeCrosshairMove(onMove);
    undo.push(() => {
      chart.timeScale().unsubscribeVisibleLogicalRangeChange(onRange);
      chart.unsubscribeCrosshairMove(onMove);
    });
  }
  return () => undo.forEach((f) => f());
}

/** An empty child element that a chart fills (height in CSS px, or a flex share of the parent). */
function part(parent: HTMLElement, cls: string, style: Partial<CSSStyleDeclaration>): HTMLElement {
  const el = document.createElement('div');
  el.className = `chart-part ${cls}`;
  Object.assign(el.style, { position: 'relative', minWidth: '0', width: '100%' }, style);
  parent.append(el);
  return el;
}

const PERCENT = { type: 'custom' as const, minMove: 0.01, formatter: (x: number) => `${x.toFixed(2)} %` };

/** A red area below zero: drawdown in percent. */
function addDrawdownSeries(chart: IChartApi): ISeriesApi<'Baseline'> {
  return chart.addSeries(BaselineSeries, {
    baseValue: { type: 'price', price: 0 },
    topLineColor: 'rgba(0,0,0,0)',
    topFillColor1: 'rgba(0,0,0,0)',
    topFillColor2: 'rgba(0,0,0,0)',
    bottomLineColor: CHART_COLORS.neg,
    bottomFillColor1: 'rgba(239, 83, 80, 0.05)',
    bottomFillColor2: 'rgba(239, 83, 80, 0.45)',
    lineWidth: 1,
    priceFormat: PERCENT,
    // A drawdown never goes above 0: the scale ends there (and spans at least 0.05 % of depth).
    autoscaleInfoProvider: (base: () => AutoscaleInfo | null): AutoscaleInfo | null => {
      const r = base();
      const min = Math.min(r?.priceRange?.minValue ?? 0, -0.05);
      return { priceRange: { minValue: min, maxValue: 0 }, margins: { above: 6, below: 4 } };
    },
  });
}

/** An area series for equity (quote), optionally with a dashed reference line (e.g. the starting balance). */
function addEquitySeries(chart: IChartApi, baseline?: number): ISeriesApi<'Area'> {
  const s = chart.addSeries(AreaSeries, {
    lineColor: CHART_COLORS.line,
    topColor: 'rgba(74, 163, 255, 0.30)',
    bottomColor: 'rgba(74, 163, 255, 0.02)',
    lineWidth: 2,
    priceFormat: { type: 'price', precision: 2, minMove: 0.01 },
  });
  if (baseline !== undefined && Number.isFinite(baseline)) {
    s.createPriceLine({ price: baseline, color: CHART_COLORS.muted, lineWidth: 1, lineStyle: LineStyle.Dashed, axisLabelVisible: false, title: 'start' });
  }
  return s;
}

/**
 * An equity curve (times in epoch ms, drawn in UTC) in `el`. With `drawdown`, the drawdown from the running
 * peak (percent) is drawn as a red area in a second chart kept in step: below the equity inside `el` when
 * `true`, or in the element given.
 */
export function equityChart(el: HTMLElement, points: readonly EquityPoint[], opts: { drawdown?: boolean | HTMLElement; baseline?: number } = {}): EquityChartHandle {
  const inside = opts.drawdown === true;
  const ddHost = opts.drawdown instanceof HTMLElement ? opts.drawdown : null;
  let eqEl = el;
  let ddEl: HTMLElement | null = ddHost;
  if (inside) {
    el.replaceChildren();
    Object.assign(el.style, { display: 'flex', flexDirection: 'column', gap: '4px' });
    eqEl = part(el, 'chart-part-equity', { flex: '3 1 0', minHeight: '120px' });
    ddEl = part(el, 'chart-part-drawdown', { flex: '1 1 0', minHeight: '70px' });
  }
  const eqChart = themedChart(eqEl, true);
  const equity = addEquitySeries(eqChart, opts.baseline);
  const ddChart = ddEl ? themedChart(ddEl) : null;
  const dd = ddChart ? addDrawdownSeries(ddChart) : null;
  // The drawdown chart right below carries the time axis for both.
  if (ddChart) eqChart.timeScale().applyOptions({ visible: false });
  const unsync = ddChart && dd ? syncCharts([{ chart: eqChart, series: equity }, { chart: ddChart, series: dd }]) : () => {};
  let fitted = false;
  const update = (pts: readonly EquityPoint[]): void => {
    const data = toSeriesPoints(pts);
    equity.setData(data);
    if (dd) {
      const d = drawdownPct(data.map((p) => p.value));
      dd.setData(data.map((p, i) => ({ time: p.time, value: d[i] ?? 0 })));
    }
    // Seconds on the axis only when the whole history spans less than an hour.
    const span = data.length > 1 ? (data[data.length - 1]?.time ?? 0) - (data[0]?.time ?? 0) : 0;
    for (const c of [eqChart, ddChart]) c?.timeScale().applyOptions({ secondsVisible: span > 0 && span < 3600 });
    if (!fitted && data.length > 0) {
      fitted = true;
      eqChart.timeScale().fitContent();
      ddChart?.timeScale().fitContent();
    }
  };
  update(points);
  return {
    update,
    destroy() {
      unsync();
      eqChart.remove();
      ddChart?.remove();
      if (inside) el.replaceChildren();
    },
  };
}

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
