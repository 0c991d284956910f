import type { TradeRecord } from '../core/results.ts';
import { TIMEFRAME_MS } from '../core/timeframe.ts';
import type { BacktestResult } from '../engine/result.ts';
import { buildChartData, MAX_MARKER_TRADES, type ChartData } from './chart-data.ts';
import {
  escapeHtml, fmtCount, fmtDays, fmtMoney, fmtNumber, fmtPercent, fmtPrice, fmtSigned, scriptJson, shortTime,
} from './format.ts';
import { chartLibrarySource, REPORT_CSS, REPORT_SCRIPT } from './html-assets.ts';
import { monteCarloHtml, type MonteCarloSection } from './monte-carlo.ts';

/** Trades listed in the report's table (the most recent ones; trades.csv has all). */
export const MAX_TABLE_TRADES = 500;

/** Content Security Policy of the report: inline code only, nothing fetched from anywhere. */
const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

type Tone = 'pos' | 'neg' | 'warn' | '';

function tone(x: number): Tone {
  return x > 0 ? 'pos' : x < 0 ? 'neg' : '';
}

function metric(label: string, value: string, t: Tone = '', hint = ''): string {
  const cls = t === 'warn' ? 'metric warn' : 'metric';
  const vcls = t === 'pos' || t === 'neg' ? ` ${t}` : '';
  const title = hint ? ` title="${escapeHtml(hint)}"` : '';
  return `<div class="${cls}"${title}><div class="k">${escapeHtml(label)}</div><div class="v${vcls}">${escapeHtml(value)}</div></div>`;
}

function tag(key: string, value: string): string {
  return `<span class="tag">${escapeHtml(key)} <b>${escapeHtml(value)}</b></span>`;
}

/** Header: strategy, market, range and every parameter. */
function headerHtml(r: BacktestResult): string {
  const c = r.config;
  const barMs = TIMEFRAME_MS[c.timeframe];
  const span = r.candles.length ? c.to + barMs - c.from : 0;
  const range = `${shortTime(c.from)} → ${shortTime(c.to + barMs)} UTC`;
  const params = Object.keys(c.params).sort().map((k) => tag(k, String(c.params[k])));
  const settings = [
    tag('balance', fmtMoney(c.initialBalance)),
    tag('leverage', `${fmtNumber(c.leverage, c.leverage % 1 === 0 ? 0 : 2)}×`),
    tag('fees maker/taker', `${c.makerFeeBps}/${c.takerFeeBps} bps`),
    tag('slippage', `${c.slippageBps} bps`),
    tag('funding', c.funding === 'series' ? 'series' : `${fmtNumber(c.funding * 100, 4)} %/8h`),
    tag('fill', c.fill),
    tag('SL/TP', c.slTpPolicy),
    tag('mode', c.positionMode),
    tag('drill-down', c.drillDown.length ? c.drillDown.join(' ') : 'none'),
  ];
  return `<header>
<div class="brand">Halyard backtest</div>
<h1>${escapeHtml(c.strategy)}</h1>
<p class="sub"><b>${escapeHtml(c.symbol)}</b> · ${escapeHtml(c.exchange)} · ${escapeHtml(c.timeframe)} (${escapeHtml(c.timeframes.join(', '))}) · ${escapeHtml(range)} · ${escapeHtml(fmtDays(span))}</p>
${params.length ? `<div class="tags">${params.join('')}</div>` : ''}
<div class="tags">${settings.join('')}</div>
</header>`;
}

/** Metrics grid from the summary. */
function metricsHtml(r: BacktestResult): string {
  const s = r.summary;
  const items = [
    metric('Total return', fmtPercent(s.totalReturn), tone(s.totalReturn)),
    metric('Final equity', fmtMoney(s.finalEquity)),
    metric('CAGR', fmtPercent(s.cagr), tone(s.cagr)),
    metric('Max drawdown', fmtPercent(-s.maxDrawdown), s.maxDrawdown > 0 ? 'neg' : ''),
    metric('Max DD duration', fmtDays(s.maxDrawdownDuration)),
    metric('Sharpe', fmtNumber(s.sharpe)),
    metric('Sortino', fmtNumber(s.sortino)),
    metric('Calmar', fmtNumber(s.calmar)),
    metric('Trades', fmtCount(s.trades)),
    metric('Win rate', fmtPercent(s.winRate, 1)),
    metric('Profit factor', fmtNumber(s.profitFactor)),
    metric('Expectancy', fmtSigned(s.expectancy), tone(s.expectancy)),
    metric('Avg win', fmtSigned(s.avgWin), tone(s.avgWin)),
    metric('Avg loss', fmtSigned(s.avgLoss), tone(s.avgLoss)),
    metric('Exposure', fmtPercent(s.exposure, 1)),
    metric('Fees', fmtMoney(s.fees)),
    metric('Funding', fmtSigned(s.funding), tone(s.funding)),
    metric('Liquidations', fmtCount(s.liquidations), s.liquidations > 0 ? 'warn' : ''),
    metric('Rejected orders', fmtCount(s.rejectedOrders), s.rejectedOrders > 0 ? 'warn' : ''),
    metric('Ambiguous SL/TP', fmtCount(s.ambiguousCandles), s.ambiguousCandles > 0 ? 'warn' : '', 'Candles where stop-loss and take-profit were both hit even at the finest timeframe; resolved by the SL/TP policy'),
    metric('SL/TP drill-downs', fmtCount(s.drilledDownCandles), '', 'Candles with both levels hit that were resolved on finer candles'),
    metric('Forced closes', fmtCount(r.forcedCloses)),
  ];
  return `<section><h2>Performance</h2><div class="grid">${items.join('')}</div></section>`;
}

function tradeRow(t: TradeRecord, n: number): string {
  const side = t.positionSide ?? t.side;
  return `<tr><td>${n}</td><td class="l"><span class="side ${t.side === 'long' ? 'long' : 'short'}">${escapeHtml(side)}</span></td>`
    + `<td class="l">${shortTime(t.entryTime)}</td><td>${fmtPrice(t.entryPrice)}</td>`
    + `<td class="l">${shortTime(t.exitTime)}</td><td>${fmtPrice(t.exitPrice)}</td>`
    + `<td>${escapeHtml(String(t.qty))}</td><td class="${tone(t.pnl)}">${fmtSigned(t.pnl)}</td>`
    + `<td class="${tone(t.pnlPercent)}">${fmtSigned(t.pnlPercent)} %</td><td>${fmtMoney(t.fees)}</td>`
    + `<td>${fmtSigned(t.funding)}</td><td class="l">${escapeHtml(t.exitReason)}${t.exits ? ` <small title="partial exits: ${escapeHtml(t.exits.map((x) => `${x.qty} @ ${x.price} (${x.reason})`).join(', '))}">(${t.exits.length} exits)</small>` : ''}</td><td>${t.entries}</td></tr>`;
}

/** Table of the most recent trades, with a note when some are left out. */
function tradesHtml(trades: readonly TradeRecord[]): string {
  const start = Math.max(0, trades.length - MAX_TABLE_TRADES);
  const rows = trades.slice(start).map((t, i) => tradeRow(t, start + i + 1));
  const note = start > 0
    ? `<p class="note">Showing the last ${fmtCount(MAX_TABLE_TRADES)} of ${fmtCount(trades.length)} trades; trades.csv has all of them.</p>`
    : '';
  const head = ['#', 'Side', 'Entry (UTC)', 'Entry price', 'Exit (UTC)', 'Exit price', 'Qty', 'PnL', 'PnL %', 'Fees', 'Funding', 'Exit reason', 'Entries'];
  const left = new Set(['Side', 'Entry (UTC)', 'Exit (UTC)', 'Exit reason']);
  const ths = head.map((h) => `<th${left.has(h) ? ' class="l"' : ''}>${h}</th>`).join('');
  const body = rows.length ? rows.join('\n') : `<tr><td class="l" colspan="${head.length}">No trades</td></tr>`;
  return `<section><h2>Trades <small>(${fmtCount(trades.length)})</small></h2>${note}
<div class="panel table-wrap"><table><thead><tr>${ths}</tr></thead><tbody>
${body}
</tbody></table></div></section>`;
}

/** The legend of the plotted lines, for the note under the price chart. */
function plotsNote(data: ChartData): string {
  if (data.plots.length === 0) return '';
  const items = data.plots.map((p) => `<span style="color:${escapeHtml(p.color)}">━ ${escapeHtml(p.name)}</span>`);
  return ` · ${items.join(' ')}`;
}

/** The whole report as one self-contained HTML document (library, data and styles inline; no network). */
export function reportHtml(result: BacktestResult, monteCarlo: MonteCarloSection | null = null): string {
  const c = result.config;
  const data = buildChartData(result);
  const markerNote = data.totalTrades > MAX_MARKER_TRADES
    ? ` Markers for the last ${fmtCount(MAX_MARKER_TRADES)} of ${fmtCount(data.totalTrades)} trades.`
    : '';
  const barsNote = `${fmtCount(data.t.length)} bars of ${data.tf}${data.tf === c.timeframe ? '' : ` (aggregated from ${c.timeframe})`}.`;
  const title = `${c.strategy} · ${c.symbol} · Halyard`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="color-scheme" content="dark">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
${headerHtml(result)}
${metricsHtml(result)}
<section><h2>Price &amp; trades <small>${escapeHtml(barsNote + markerNote)}</small></h2>
<div class="panel"><div id="legend" class="legend"></div><div id="chart-price" class="chart"></div></div>
<p class="note">▲ long entry · ▼ short entry · ● exit (blue win, amber loss; zoom in for net PnL labels) · scroll or pinch to zoom${plotsNote(data)} <span id="marker-note"></span></p></section>
<section><h2>Equity</h2><div class="panel"><div id="chart-equity" class="chart small"></div></div></section>
<section><h2>Drawdown</h2><div class="panel"><div id="chart-drawdown" class="chart small"></div></div></section>
${monteCarloHtml(monteCarlo)}
${tradesHtml(result.trades)}
<footer>Generated by Halyard. Charts by <a href="https://www.tradingview.com/lightweight-charts/" rel="noopener noreferrer">TradingView Lightweight Charts</a>.</footer>
</main>
<script id="halyard-data" type="application/json">${scriptJson(data)}</script>
<script>${chartLibrarySource()}</script>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}
