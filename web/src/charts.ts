import {
  AreaSeries,
  type AutoscaleInfo,
  BaselineSeries,
  ColorType,
  createChart,
  CrosshairMode,
  LineStyle,
  type DeepPartial,
  type ChartOptions,
  type IChartApi,
  type ISeriesApi,
  type MouseEventParams,
  type SeriesType,
  type UTCTimestamp,
} from 'lightweight-charts';

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
export function part(parent: HTMLElement, cls: string, style: Partial<CSSStyleDeclaration>): HTMLElement {
  const el = document.createElement('div');
  el.className = `chart-part ${cls}`;
  Object.assign(el.style, { position: 'relative', minWidth: '0', width: '100%' }, style);
  parent.append(el);
  return el;
}

const PERCENT = { type: 'custom' as const, minMove: 0.01, formatter: (x: number) => `${x.toFixed(2)} %` };

/** A red area below zero: drawdown in percent. */
export function addDrawdownSeries(chart: IChartApi): ISeriesApi<'Baseline'> {
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
export function addEquitySeries(chart: IChartApi, baseline?: number): ISeriesApi<'Area'> {
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
