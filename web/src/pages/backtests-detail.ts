import { api, type BacktestDetail } from '../api.ts';
import { candleChart } from '../charts-candles.ts';
import { badge, card, h, loadInto, num, paged, pct, pnl, price, qty, stateView, table, time } from '../ui.ts';
import { configView, isoDay, metricsGrid } from './backtests-metrics.ts';

type TradeRow = Readonly<Record<string, unknown>>;

const n = (r: TradeRow, k: string): number | null => (typeof r[k] === 'number' ? (r[k] as number) : null);
const s = (r: TradeRow, k: string): string => (r[k] === null || r[k] === undefined ? '—' : String(r[k]));

function tradesRows(trades: readonly TradeRow[]): HTMLElement {
  return table<TradeRow>(
    [
      { label: '#', field: 'id', cell: (r) => s(r, 'id') },
      { label: 'Side', field: 'side', cell: (r) => badge(s(r, 'side')) },
      { label: 'Entry (UTC)', field: 'entry-time', cell: (r) => time(n(r, 'entryTime')) },
      { label: 'Exit (UTC)', field: 'exit-time', cell: (r) => time(n(r, 'exitTime')) },
      { label: 'Qty', className: 'num', cell: (r) => qty(n(r, 'qty')) },
      { label: 'Entry', className: 'num', cell: (r) => price(n(r, 'entryPrice')) },
      { label: 'Exit', className: 'num', cell: (r) => price(n(r, 'exitPrice')) },
      { label: 'Fees', className: 'num', field: 'fees', cell: (r) => num(n(r, 'fees')) },
      { label: 'Net PnL', className: 'num', field: 'pnl', cell: (r) => pnl(n(r, 'pnl')) },
      { label: 'PnL %', className: 'num', cell: (r) => pct(n(r, 'pnlPercent')) },
      { label: 'Exit reason', field: 'reason', cell: (r) => h('span', { class: 'muted' }, s(r, 'exitReason').replace(/_/g, ' ')) },
    ],
    trades,
    (r) => ({ 'data-bt-trade': s(r, 'id') }),
    'backtest-trades',
  );
}

function tradesTable(trades: readonly TradeRow[], total: number): HTMLElement {
  const note = total > trades.length ? h('p', { class: 'muted bt-note' }, `The first ${trades.length} of ${total} trades are here; the run's trades.csv has them all.`) : null;
  return h('div', { class: 'bt-trades' }, note, paged(trades, tradesRows));
}

function view(d: BacktestDetail, charts: { destroy(): void }[]): Node {
  const r = d.run;
  const tf = d.chart?.tf ?? (typeof d.config.timeframe === 'string' ? d.config.timeframe : '');
  const priceEl = h('div', { class: 'bt-chart', 'data-testid': 'backtest-chart' });
  const eqEl = h('div', { class: 'bt-equity', 'data-testid': 'backtest-equity' });
  const chart = d.chart;
  if (chart && chart.t.length > 0) {
    // Draw once the boxes are in the page (loadInto attaches what this returns right away).
    queueMicrotask(() => {
      if (priceEl.isConnected) charts.push(candleChart(priceEl, chart, { equityEl: eqEl }));
    });
  } else {
    const why = chart ? 'The report of this run has no bars to draw.' : 'This run has no report.html, so there is no chart to draw (its results.json still gives the metrics and trades).';
    priceEl.append(stateView('empty', why));
    eqEl.append(stateView('empty', 'No equity curve without the report.'));
  }
  const total = typeof d.summary.trades === 'number' ? d.summary.trades : d.trades.length;
  const legend: Node[] = [h('span', { class: 'muted' }, '▲ long entry · ▼ short entry · ● exit (blue win, amber loss)')];
  if (chart && chart.markedTrades < chart.totalTrades) legend.unshift(h('span', { class: 'muted' }, `markers on the latest ${chart.markedTrades} of ${chart.totalTrades} trades ·`));
  return h(
    'div',
    { class: 'bt-detail' },
    h(
      'div',
      { class: 'bt-head' },
      h('a', { href: '#/backtests', class: 'bt-back' }, '← All runs'),
      h('h1', {}, `${r.strategy} · ${r.symbol}`),
      h(
        'div',
        { class: 'bt-tags' },
        badge(r.exchange, 'exchange'),
        tf ? badge(tf, 'tf') : null,
        h('span', { class: 'muted' }, `${isoDay(r.from)} → ${isoDay(r.to)} UTC`),
        h('span', { class: 'muted mono' }, r.id),
      ),
    ),
    metricsGrid(d.summary, r.net_profit),
    card('Price and trades', priceEl, legend),
    card('Equity and drawdown', eqEl),
    card('Configuration', configView(d.config)),
    card(`Trades · ${total}`, d.trades.length ? tradesTable(d.trades, total) : stateView('empty', 'This run made no trades.')),
  );
}

/** The detail page of one run (`#/backtests/<id>`): metrics, config, charts and trades. Returns the cleanup. */
export function backtestDetail(root: HTMLElement, id: string): () => void {
  const charts: { destroy(): void }[] = [];
  const box = h('div');
  root.append(box);
  loadInto(box, () => api<BacktestDetail>(`/api/backtests/${encodeURIComponent(id)}`), (d) => view(d, charts), { loading: `Loading run ${id}…` });
  return () => charts.forEach((c) => c.destroy());
}
