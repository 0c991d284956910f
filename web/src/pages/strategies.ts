import './strategies.css';
import { api, type StrategyPosition, type StrategyStats, type Trade } from '../api.ts';
import { touches } from '../live.ts';
import type { Page } from '../page.ts';
import { badge, card, h, loadInto, num, pct, pnl, price, qty, stateView, table, time } from '../ui.ts';
import { filtersFrom, tradesSection, type TradeFilters } from './strategies-trades.ts';

interface StrategiesData {
  readonly stats: readonly StrategyStats[];
  /** Sources of each strategy's trades (engine, signal…), by strategy name. */
  readonly sources: ReadonlyMap<string, readonly string[]>;
}

function strategiesTable(d: StrategiesData, selected: number | null, onPick: (s: StrategyStats) => void): HTMLElement {
  const el = table<StrategyStats>(
    [
      { label: 'Strategy', field: 'name', cell: (s) => h('b', {}, s.name) },
      { label: 'Source', field: 'source', cell: (s) => h('span', {}, (d.sources.get(s.name) ?? []).map((x) => badge(x))) },
      { label: 'Trades', className: 'num', field: 'trades', cell: (s) => String(s.trades) },
      { label: 'Win rate', className: 'num', field: 'win-rate', cell: (s) => (s.win_rate === null ? '—' : pct(s.win_rate * 100, 1)) },
      { label: 'Net PnL', className: 'num', field: 'pnl', cell: (s) => pnl(s.pnl) },
      { label: 'Max drawdown', className: 'num', field: 'drawdown', cell: (s) => (s.max_drawdown > 0 ? h('span', { class: 'pnl neg' }, `-${num(s.max_drawdown)}`) : num(0)) },
      { label: 'Open positions', className: 'num', field: 'open', cell: (s) => String(s.open_positions) },
    ],
    d.stats,
    (s) => ({ 'data-strategy-id': s.id, class: s.id === selected ? 'selected' : null, tabindex: 0, title: `Show the positions of ${s.name}` }),
    'strategies',
  );
  const pick = (ev: Event): void => {
    const tr = (ev.target as HTMLElement).closest<HTMLTableRowElement>('tr[data-strategy-id]');
    const s = d.stats.find((x) => String(x.id) === tr?.dataset.strategyId);
    if (s) onPick(s);
  };
  el.addEventListener('click', pick);
  el.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') pick(ev);
  });
  return el;
}

/** A position's net realized PnL (quote): realized − fees + funding, as the strategy's Net PnL counts it. */
function netRealized(p: StrategyPosition): number {
  return p.realized_pnl - p.fees + p.funding;
}

/** The line above a strategy's positions: open and closed counts and the closed ones' net PnL (the row's Net PnL). */
function positionsSummary(rows: readonly StrategyPosition[]): HTMLElement {
  const closed = rows.filter((p) => p.status !== 'open');
  const open = rows.length - closed.length;
  return h(
    'p',
    { class: 'trade-summary', 'data-testid': 'strategy-positions-summary' },
    h('span', {}, h('b', { 'data-testid': 'strategy-open-count' }, String(open)), ' open'),
    h('span', {}, h('b', { 'data-testid': 'strategy-closed-count' }, String(closed.length)), ' closed, net ', h('span', { 'data-testid': 'strategy-closed-net' }, pnl(closed.reduce((a, p) => a + netRealized(p), 0)))),
    rows.length >= 500 ? h('span', { class: 'muted' }, '(the newest 500)') : null,
  );
}

function positionsTable(rows: readonly StrategyPosition[]): HTMLElement {
  return h('div', {}, positionsSummary(rows), positionsRows(rows));
}

function positionsRows(rows: readonly StrategyPosition[]): HTMLElement {
  return table<StrategyPosition>(
    [
      { label: 'Symbol', field: 'symbol', cell: (p) => p.symbol },
      { label: 'Side', field: 'side', cell: (p) => badge(p.side) },
      { label: 'Status', field: 'status', cell: (p) => h('span', {}, badge(p.status), p.close_reason ? h('span', { class: 'muted' }, ` ${p.close_reason.replace(/_/g, ' ')}`) : null) },
      { label: 'Size', className: 'num', field: 'size', cell: (p) => qty(p.status === 'open' ? p.size : p.max_size) },
      { label: 'Entry', className: 'num', field: 'entry', cell: (p) => price(p.entry_price) },
      { label: 'Exit', className: 'num', field: 'exit', cell: (p) => price(p.exit_price) },
      { label: 'Net realized', className: 'num', field: 'pnl', cell: (p) => pnl(netRealized(p)) },
      { label: 'Target', field: 'target', cell: (p) => h('span', { class: 'mono' }, p.target ?? '—') },
      { label: 'Source', field: 'source', cell: (p) => badge(p.source) },
      { label: 'Opened (UTC)', field: 'opened', cell: (p) => time(p.opened_at) },
      { label: 'Closed (UTC)', field: 'closed', cell: (p) => time(p.closed_at) },
    ],
    rows,
    (p) => ({ 'data-position-id': p.id, 'data-status': p.status }),
    'strategy-positions',
  );
}

/** Per-strategy analytics, closed trades with filters and CSV export. */
export const strategiesPage: Page = {
  id: 'strategies',
  title: 'Strategies',
  render(root, ctx) {
    let selected: StrategyStats | null = null;
    const wanted = Number(ctx.query.get('sid') ?? NaN);
    let filters: TradeFilters = filtersFrom(ctx.query);
    let reloadPositions: (() => Promise<void>) | null = null;
    const statsBox = h('div');
    const posCard = h('div');
    let names: (v: readonly string[]) => void = () => {};
    const strategyNames = new Promise<readonly string[]>((resolve) => (names = resolve));

    const remember = (): void => {
      const q = new URLSearchParams();
      if (selected) q.set('sid', String(selected.id));
      for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
      const s = q.toString();
      // Keep the view in the address (shareable, survives a reload) without running the router again.
      history.replaceState(null, '', `#/strategies${s ? `?${s}` : ''}`);
    };

    const showPositions = (s: StrategyStats | null): void => {
      selected = s;
      remember();
      for (const tr of statsBox.querySelectorAll<HTMLElement>('tr[data-strategy-id]')) tr.classList.toggle('selected', tr.dataset.strategyId === String(s?.id));
      if (!s) {
        posCard.replaceChildren();
        reloadPositions = null;
        return;
      }
      const box = h('div');
      const close = h('button', { type: 'button', class: 'btn btn-small btn-ghost', onclick: () => showPositions(null) }, 'Close');
      posCard.replaceChildren(card(`Positions of ${s.name}`, box, [close], { 'data-testid': 'strategy-positions-card' }));
      reloadPositions = loadInto(box, () => api<StrategyPosition[]>(`/api/strategies/${s.id}/positions?status=all`), positionsTable, {
        isEmpty: (rows) => rows.length === 0,
        empty: `${s.name} has no positions.`,
        loading: 'Loading positions…',
      });
    };

    const reloadStats = loadInto(
      statsBox,
      async (): Promise<StrategiesData> => {
        const [stats, trades] = await Promise.all([api<StrategyStats[]>('/api/strategies'), api<Trade[]>('/api/trades?limit=1000')]);
        const sources = new Map<string, string[]>();
        for (const t of trades) {
          if (!t.strategy) continue;
          const list = sources.get(t.strategy) ?? [];
          if (!list.includes(t.source)) sources.set(t.strategy, [...list, t.source]);
        }
        names(stats.map((s) => s.name));
        return { stats, sources };
      },
      (d) => {
        if (selected === null && Number.isFinite(wanted)) {
          const s = d.stats.find((x) => x.id === wanted);
          if (s) queueMicrotask(() => showPositions(s));
        }
        return strategiesTable(d, selected?.id ?? null, showPositions);
      },
      {
        isEmpty: (d) => d.stats.length === 0,
        empty: () => {
          names([]);
          return stateView('empty', "No strategies yet. A strategy appears when an engine (a paper run, Jesse…) reports positions under its name; recorders' signal trades are listed below under their strategy name.");
        },
        loading: 'Loading strategies…',
      },
    );
    const trades = tradesSection({
      initial: filters,
      strategies: strategyNames,
      onChange: (f) => {
        filters = f;
        remember();
      },
    });
    root.append(
      h('div', { class: 'page-head' }, h('h1', {}, 'Strategies & trades')),
      card('Strategies', statsBox, [h('span', { class: 'muted' }, 'Net PnL: closed trades, realized − fees + funding · select a strategy to see its positions')]),
      posCard,
      trades.el,
    );
    const off = ctx.live.on((e) => {
      if (touches(e, 'strategies', 'trades', 'positions')) {
        void reloadStats();
        void reloadPositions?.();
      }
      if (touches(e, 'trades')) void trades.reload();
    });
    return off;
  },
};
