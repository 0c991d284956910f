import './backtests.css';
import { api, type BacktestRun } from '../api.ts';
import type { Page } from '../page.ts';
import { card, h, loadInto, pct, pnl, table, time } from '../ui.ts';
import { backtestDetail } from './backtests-detail.ts';
import { isoDay } from './backtests-metrics.ts';

/** The link of a run's detail page. */
export function runHref(id: string): string {
  return `#/backtests/${encodeURIComponent(id)}`;
}

function emptyRuns(): HTMLElement {
  return h(
    'div',
    { class: 'state state-empty bt-empty', 'data-state': 'empty', role: 'status' },
    h('p', {}, 'No backtest runs yet. Each run writes a folder under ', h('code', {}, 'output/'), ' (results.json, trades.csv, report.html); run one with:'),
    h('pre', {}, h('code', {}, 'npx halyard backtest strategies/sma-cross.ts --synthetic --owner <your user name>')),
    h('p', { class: 'muted' }, 'It appears here once it finishes: a run is listed to its --owner, or to everyone with --share.'),
  );
}

/** A run's parameters as `name = value` chips (the strategy's defaults merged with the run's overrides). */
function paramChips(params: BacktestRun['params']): HTMLElement {
  const entries = Object.entries(params);
  if (entries.length === 0) return h('span', { class: 'muted' }, 'none');
  return h('span', { class: 'bt-run-params' }, entries.map(([k, v]) => h('span', { class: 'badge', 'data-param': k }, `${k} = ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`)));
}

function runsTable(runs: readonly BacktestRun[], go: (id: string) => void): HTMLElement {
  const el = table<BacktestRun>(
    [
      { label: 'Strategy', field: 'strategy', cell: (r) => h('a', { href: runHref(r.id) }, r.strategy || r.id) },
      { label: 'Params', field: 'params', cell: (r) => paramChips(r.params) },
      { label: 'Symbol', field: 'symbol', cell: (r) => h('span', {}, r.symbol, h('span', { class: 'muted' }, ` ${r.exchange}${r.timeframe ? ` ${r.timeframe}` : ''}`)) },
      { label: 'Range (UTC)', field: 'range', cell: (r) => `${isoDay(r.from)} → ${isoDay(r.to)}` },
      { label: 'Trades', className: 'num', field: 'trades', cell: (r) => String(r.trades) },
      { label: 'Net profit', className: 'num', field: 'net-profit', cell: (r) => pnl(r.net_profit) },
      { label: 'Return', className: 'num', field: 'return', cell: (r) => h('span', { class: `pnl ${(r.return_pct ?? 0) > 0 ? 'pos' : (r.return_pct ?? 0) < 0 ? 'neg' : 'flat'}` }, pct(r.return_pct)) },
      { label: 'Max DD', className: 'num', field: 'max-dd', cell: (r) => (r.max_drawdown_pct === null ? '—' : pct(-r.max_drawdown_pct)) },
      { label: 'Win rate', className: 'num', field: 'win-rate', cell: (r) => pct(r.win_rate, 1) },
      { label: 'Written (UTC)', field: 'created', cell: (r) => h('span', { class: 'muted' }, time(r.created_at)) },
    ],
    runs,
    (r) => ({ 'data-run-id': r.id, 'data-href': runHref(r.id), title: r.id }),
    'backtests',
  );
  // The whole row opens the run (the strategy cell is the real link, for keyboards and new tabs).
  el.addEventListener('click', (ev) => {
    const target = ev.target as HTMLElement;
    if (target.closest('a')) return;
    const id = target.closest<HTMLTableRowElement>('tr[data-run-id]')?.dataset.runId;
    if (id) go(id);
  });
  return el;
}

/** The runs under output/, each with its metrics and the candle chart with trade markers, equity and drawdown. */
export const backtestsPage: Page = {
  id: 'backtests',
  title: 'Backtests',
  render(root, ctx) {
    const id = ctx.params[0];
    if (id !== undefined) return backtestDetail(root, id);
    const box = h('div');
    const reload = loadInto(box, () => api<BacktestRun[]>('/api/backtests'), (runs) => runsTable(runs, (rid) => ctx.navigate(runHref(rid))), {
      isEmpty: (runs) => runs.length === 0,
      empty: emptyRuns,
      loading: 'Reading the runs under output/…',
    });
    const refresh = h('button', { type: 'button', class: 'btn btn-small', onclick: () => void reload() }, 'Refresh');
    root.append(h('div', { class: 'page-head' }, h('h1', {}, 'Backtests')), card('Runs under output/', box, [h('span', { class: 'muted' }, 'newest first'), refresh]));
  },
};
