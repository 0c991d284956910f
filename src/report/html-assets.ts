import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let libraryCache: string | undefined;

/**
 * The lightweight-charts standalone production build (defines `window.LightweightCharts`), read once from
 * node_modules so the report needs no network. Resolved through the package's package.json because its
 * `exports` map does not expose the dist files.
 */
export function chartLibrarySource(): string {
  if (libraryCache === undefined) {
    const pkg = createRequire(import.meta.url).resolve('lightweight-charts/package.json');
    const file = join(dirname(pkg), 'dist', 'lightweight-charts.standalone.production.js');
    // `<\/` means the same as `</` inside JS strings and regexes, and cannot end the inline script element.
    libraryCache = readFileSync(file, 'utf8').replace(/<\/(script)/gi, '<\\/$1');
  }
  return libraryCache;
}

/** Report stylesheet: dark theme, fluid from phone to desktop widths. */
export const REPORT_CSS = `
:root{--bg:#0b0f17;--panel:#121822;--border:#222b38;--text:#e6edf3;--muted:#8b96a5;--green:#22c55e;--red:#ef4444;--accent:#3b82f6}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--text);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1320px;margin:0 auto;padding:24px 20px 48px}
header h1{font-size:24px;margin:0 0 4px;word-break:break-word}
.brand{color:var(--muted);font-size:12px;letter-spacing:.12em;text-transform:uppercase;margin-bottom:6px}
.sub{color:var(--muted);margin:0 0 10px}
.sub b{color:var(--text);font-weight:600}
.tags{display:flex;flex-wrap:wrap;gap:6px;margin:6px 0 0}
.tag{background:var(--panel);border:1px solid var(--border);border-radius:999px;padding:2px 10px;font-size:12px;color:var(--muted);word-break:break-all}
.tag b{color:var(--text);font-weight:500}
section{margin-top:28px}
h2{font-size:13px;margin:0 0 10px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.08em}
h2 small{text-transform:none;letter-spacing:0;font-weight:400}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:10px}
.metric{background:var(--panel);border:1px solid var(--border);border-radius:8px;padding:10px 12px;min-width:0}
.metric .k{color:var(--muted);font-size:11px;text-transform:uppercase;letter-spacing:.05em;line-height:1.3}
.metric .v{font-size:19px;font-weight:600;font-variant-numeric:tabular-nums;margin-top:2px;white-space:nowrap}
.metric.warn{border-color:#7c5e10}
.pos{color:var(--green)}.neg{color:var(--red)}
.panel{background:var(--panel);border:1px solid var(--border);border-radius:8px;overflow:hidden;position:relative}
.chart{height:460px}
.chart.small{height:200px}
.legend{position:absolute;top:8px;left:12px;right:96px;z-index:3;font-size:12px;color:var(--muted);pointer-events:none;font-variant-numeric:tabular-nums}
.legend span{white-space:nowrap;margin-right:8px}
.legend b{color:var(--text);font-weight:500}
.note{color:var(--muted);font-size:12px;margin:8px 0 0}
.empty{padding:40px;text-align:center;color:var(--muted)}
.table-wrap{overflow:auto;max-height:640px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:13px}
th,td{padding:6px 10px;text-align:right;white-space:nowrap;border-bottom:1px solid var(--border)}
th{position:sticky;top:0;background:var(--panel);color:var(--muted);font-weight:600;z-index:1}
td.l,th.l{text-align:left}
tbody tr:hover{background:#17202c}
.side{display:inline-block;padding:0 6px;border-radius:4px;font-size:11px;font-weight:600;text-transform:uppercase}
.side.long{background:rgba(34,197,94,.15);color:var(--green)}.side.short{background:rgba(239,68,68,.15);color:var(--red)}
footer{margin-top:32px;color:var(--muted);font-size:12px}
footer a{color:var(--muted)}
@media (max-width:640px){
main{padding:16px 10px 32px}
header h1{font-size:20px}
.grid{grid-template-columns:repeat(3,minmax(0,1fr));gap:6px}
.metric{padding:8px}
.metric .k{font-size:10px;letter-spacing:.02em}
.metric .v{font-size:15px}
.chart{height:320px}.chart.small{height:150px}
.legend{font-size:11px}
}
`;

/**
 * Report script: reads the inline JSON (`#halyard-data`), draws candles with the strategy's plotted lines
 * and trade markers (thinned to the visible range), equity and drawdown with lightweight-charts v5, and
 * keeps the three time scales and crosshairs in step.
 */
export const REPORT_SCRIPT = `
(function () {
  'use strict';
  var LC = window.LightweightCharts;
  var d = JSON.parse(document.getElementById('halyard-data').textContent);
  var n = d.t.length;
  if (!LC || n === 0) {
    var els = document.querySelectorAll('.chart');
    for (var e = 0; e < els.length; e++) els[e].innerHTML = '<div class="empty">No chart data</div>';
    return;
  }
  var GREEN = '#22c55e', RED = '#ef4444', UP = '#26a69a', DOWN = '#ef5350';
  function make(id, logo) {
    return LC.createChart(document.getElementById(id), {
      autoSize: true,
      layout: {
        background: { type: 'solid', color: '#121822' }, textColor: '#8b96a5', fontSize: 11, attributionLogo: logo,
        panes: { separatorColor: '#222b38', separatorHoverColor: '#2d3a4d' }
      },
      grid: { vertLines: { color: '#1a212c' }, horzLines: { color: '#1a212c' } },
      rightPriceScale: { borderColor: '#222b38', minimumWidth: 86 },
      // A small minimum spacing lets fitContent show the whole run even on a phone.
      timeScale: { borderColor: '#222b38', timeVisible: true, secondsVisible: false, minBarSpacing: 0.05, lockVisibleTimeRangeOnResize: true },
      crosshair: { mode: LC.CrosshairMode.Normal }
    });
  }
  function fmt(x, dec) {
    return x.toLocaleString('en-US', { minimumFractionDigits: dec, maximumFractionDigits: dec });
  }
  function short(x) {
    var a = Math.abs(x), s = x > 0 ? '+' : x < 0 ? '-' : '';
    if (a >= 1e6) return s + (a / 1e6).toFixed(2) + 'M';
    if (a >= 1e4) return s + (a / 1e3).toFixed(1) + 'k';
    return s + a.toFixed(a >= 100 ? 0 : 2);
  }
  var p = d.pricePrecision;
  var price = make('chart-price', true);
  var candles = price.addSeries(LC.CandlestickSeries, {
    upColor: UP, downColor: DOWN, borderVisible: false, wickUpColor: UP, wickDownColor: DOWN,
    priceFormat: { type: 'price', precision: p, minMove: Math.pow(10, -p) }
  });
  // Volume in its own pane under the candles, so the price axis never shows values below the data.
  var volume = price.addSeries(LC.HistogramSeries, {
    priceFormat: { type: 'volume' }, lastValueVisible: false, priceLineVisible: false
  }, 1);
  price.panes()[0].setStretchFactor(5);
  price.panes()[1].setStretchFactor(1);
  candles.priceScale().applyOptions({ scaleMargins: { top: 0.1, bottom: 0.08 } });
  var bars = new Array(n), vols = new Array(n), eqs = new Array(n), dds = new Array(n);
  for (var i = 0; i < n; i++) {
    bars[i] = { time: d.t[i], open: d.o[i], high: d.h[i], low: d.l[i], close: d.c[i] };
    vols[i] = { time: d.t[i], value: d.v[i], color: d.c[i] >= d.o[i] ? 'rgba(38,166,154,0.35)' : 'rgba(239,83,80,0.35)' };
    eqs[i] = { time: d.t[i], value: d.eq[i] };
    dds[i] = { time: d.t[i], value: d.dd[i] };
  }
  candles.setData(bars);
  volume.setData(vols);
  // Series the strategy plotted: lines over the candles (null: a gap). They stay out of the autoscale, so
  // a series far from the price never squeezes the candles.
  var plotSeries = d.plots.map(function (pl) {
    var line = price.addSeries(LC.LineSeries, {
      color: pl.color, lineWidth: 2, priceLineVisible: false, lastValueVisible: false, crosshairMarkerVisible: false,
      autoscaleInfoProvider: function () { return null; },
      priceFormat: { type: 'price', precision: p, minMove: Math.pow(10, -p) }
    });
    var pts = new Array(n);
    for (var i = 0; i < n; i++) pts[i] = pl.v[i] === null ? { time: d.t[i] } : { time: d.t[i], value: pl.v[i] };
    line.setData(pts);
    return line;
  });
  document.body.setAttribute('data-plots', String(plotSeries.length));
  function marker(m, mode) {
    var k = m[1], size = mode === 'small' ? 0.5 : 1;
    if (k === 0) return { time: m[0], position: 'belowBar', color: GREEN, shape: 'arrowUp', size: size };
    if (k === 1) return { time: m[0], position: 'aboveBar', color: RED, shape: 'arrowDown', size: size };
    return {
      time: m[0], position: k === 2 ? 'aboveBar' : 'belowBar', shape: 'circle', size: size * 0.8,
      color: m[2] > 0 ? '#60a5fa' : '#f59e0b', text: mode === 'label' ? short(m[2]) : ''
    };
  }
  // Trade markers are thinned to what the candles can carry: only those in the visible range, at most one
  // entry and one exit per MARKER_PX (24 px) of chart width (the first of each slot), recomputed as the view moves.
  // Their size and the PnL labels follow how much room each shown marker has: zoom in to read the labels.
  var MARKER_PX = 24, mk = d.markers, markers = LC.createSeriesMarkers(candles, []);
  var priceEl = document.getElementById('chart-price'), noteEl = document.getElementById('marker-note');
  function firstAtOrAfter(t) {
    var lo = 0, hi = mk.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (mk[mid][0] < t) lo = mid + 1; else hi = mid; }
    return lo;
  }
  function drawMarkers(range) {
    var from = Math.max(0, Math.floor(range ? range.from : 0)), to = Math.min(n - 1, Math.ceil(range ? range.to : n - 1));
    if (to < from) { from = 0; to = n - 1; }
    var t0 = d.t[from], t1 = d.t[to], lo = firstAtOrAfter(t0), hi = firstAtOrAfter(t1 + 1), inView = hi - lo;
    var width = Math.max(1, priceEl.clientWidth), slots = Math.max(1, Math.floor(width / MARKER_PX)), shown = [];
    if (inView <= slots) {
      for (var k = lo; k < hi; k++) shown.push(mk[k]);
    } else {
      var span = Math.max(1, t1 - t0 + 1), lastEntry = -1, lastExit = -1;
      for (var j = lo; j < hi; j++) {
        var m = mk[j], slot = Math.floor(((m[0] - t0) * slots) / span);
        if (m[1] < 2) { if (slot !== lastEntry) { lastEntry = slot; shown.push(m); } }
        else if (slot !== lastExit) { lastExit = slot; shown.push(m); }
      }
    }
    var px = width / Math.max(1, shown.length);
    var mode = px >= 48 ? 'label' : px >= 10 ? 'plain' : 'small';
    markers.setMarkers(shown.map(function (x) { return marker(x, mode); }));
    document.body.setAttribute('data-markers', shown.length + '/' + inView);
    noteEl.textContent = shown.length < inView ? 'Showing ' + shown.length + ' of the ' + inView + ' markers in view: zoom in for the rest.' : '';
  }
  var markerFrame = false, markerRange = null;
  drawMarkers(null);
  price.timeScale().subscribeVisibleLogicalRangeChange(function (range) {
    markerRange = range;
    if (markerFrame) return;
    markerFrame = true;
    requestAnimationFrame(function () { markerFrame = false; drawMarkers(markerRange); });
  });

  var eqChart = make('chart-equity', false);
  var equity = eqChart.addSeries(LC.AreaSeries, {
    lineColor: '#3b82f6', topColor: 'rgba(59,130,246,0.35)', bottomColor: 'rgba(59,130,246,0.02)', lineWidth: 2,
    priceFormat: { type: 'price', precision: 2, minMove: 0.01 }
  });
  equity.setData(eqs);
  equity.createPriceLine({ price: d.initial, color: '#8b96a5', lineWidth: 1, lineStyle: LC.LineStyle.Dashed, axisLabelVisible: false, title: 'start' });

  var ddChart = make('chart-drawdown', false);
  var drawdown = ddChart.addSeries(LC.BaselineSeries, {
    baseValue: { type: 'price', price: 0 },
    topLineColor: 'rgba(0,0,0,0)', topFillColor1: 'rgba(0,0,0,0)', topFillColor2: 'rgba(0,0,0,0)',
    bottomLineColor: RED, bottomFillColor1: 'rgba(239,68,68,0.05)', bottomFillColor2: 'rgba(239,68,68,0.45)', lineWidth: 1,
    priceFormat: { type: 'custom', minMove: 0.01, formatter: function (x) { return x.toFixed(2) + '%'; } }
  });
  drawdown.setData(dds);

  var charts = [price, eqChart, ddChart], lead = [candles, equity, drawdown], data = [d.c, d.eq, d.dd];
  var syncing = false;
  charts.forEach(function (chart, ci) {
    chart.timeScale().subscribeVisibleLogicalRangeChange(function (range) {
      if (!range || syncing) return;
      syncing = true;
      charts.forEach(function (other) { if (other !== chart) other.timeScale().setVisibleLogicalRange(range); });
      syncing = false;
    });
    chart.subscribeCrosshairMove(function (param) {
      if (syncing) return;
      syncing = true;
      var idx = param.logical === undefined ? -1 : Math.round(param.logical);
      charts.forEach(function (other, oi) {
        if (oi === ci) return;
        if (idx >= 0 && idx < n) other.setCrosshairPosition(data[oi][idx], d.t[idx], lead[oi]);
        else other.clearCrosshairPosition();
      });
      legend(idx >= 0 && idx < n ? idx : n - 1);
      syncing = false;
    });
  });
  var legendEl = document.getElementById('legend');
  function esc(x) {
    return String(x).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; });
  }
  function legend(i) {
    var up = d.c[i] >= d.o[i];
    var cell = function (k, v, cls) { return '<span>' + k + ' <b' + (cls ? ' class="' + cls + '"' : '') + '>' + v + '</b></span> '; };
    var plots = d.plots.map(function (pl) {
      var v = pl.v[i];
      return '<span style="color:' + esc(pl.color) + '">' + esc(pl.name) + ' <b>' + (v === null ? '–' : fmt(v, p)) + '</b></span> ';
    }).join('');
    legendEl.innerHTML = '<span>' + new Date(d.t[i] * 1000).toISOString().slice(0, 16).replace('T', ' ') + ' UTC</span> ' +
      cell('O', fmt(d.o[i], p)) + cell('H', fmt(d.h[i], p)) + cell('L', fmt(d.l[i], p)) + cell('C', fmt(d.c[i], p), up ? 'pos' : 'neg') + plots;
  }
  legend(n - 1);
  price.timeScale().fitContent();
  document.body.setAttribute('data-charts', 'ready');
})();
`;
