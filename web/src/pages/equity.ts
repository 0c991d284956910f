import './equity.css';
import { api, type Target, type TargetHistory } from '../api.ts';
import { equityChart, type EquityChartHandle, type EquityPoint } from '../charts.ts';
import { touches } from '../live.ts';
import type { Page } from '../page.ts';
import { badge, card, errorText, h, loadInto, num, pct, pnl, stateView, table, time, toast } from '../ui.ts';
import { curveStats, pointsOf, totalCurve, type CurveStats } from './equity-data.ts';

interface EquityData {
  readonly histories: readonly TargetHistory[];
  readonly targets: readonly Target[];
}

/** A row of the targets table: a target with snapshots, or a traded target still without any. */
interface TargetRow {
  readonly target: string;
  readonly exchange: string;
  readonly account_type: string;
  readonly points: readonly EquityPoint[];
  readonly stats: CurveStats;
}

const EMPTY_TEXT =
  'No equity snapshots yet. The server snapshots each traded target every 30 minutes and after engine events; ' +
  'use "Snapshot now" to take one at once.';

function rowsOf(d: EquityData): TargetRow[] {
  const rows = new Map<string, TargetRow>();
  for (const hist of d.histories) {
    const points = pointsOf(hist);
    rows.set(hist.target, { target: hist.target, exchange: hist.exchange, account_type: hist.account_type, points, stats: curveStats(points) });
  }
  for (const t of d.targets) {
    if (!rows.has(t.target) && t.traded && t.has_account) rows.set(t.target, { target: t.target, exchange: t.exchange, account_type: t.account_type, points: [], stats: curveStats([]) });
  }
  return [...rows.values()].sort((a, b) => (b.stats.latest ?? -Infinity) - (a.stats.latest ?? -Infinity) || a.target.localeCompare(b.target));
}

/** A drawdown depth shown as a fall (−x %), without a "−0.00 %" for none. */
const depth = (pct: number): number => (pct > 0 ? -pct : 0);

function stat(label: string, value: Node | string, testId: string, title?: string): HTMLElement {
  return h('div', { class: 'stat', 'data-testid': testId, title }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
}

/**
 * The strip above the chart. For one target: its curve. For the total: equity, change and snapshots are
 * the sums of the targets' rows (a target's first snapshot is not a gain of the total), the change in
 * percent is over the sum of their first equities, and the drawdown is the total curve's.
 */
function statsStrip(one: TargetRow | undefined, rows: readonly TargetRow[], total: CurveStats): HTMLElement {
  let s = one?.stats ?? total;
  if (!one) {
    const withPoints = rows.filter((r) => r.stats.count > 0);
    const sum = (f: (c: CurveStats) => number | null): number => withPoints.reduce((a, r) => a + (f(r.stats) ?? 0), 0);
    const first = sum((c) => c.first);
    const change = sum((c) => c.change);
    s = { ...total, latest: sum((c) => c.latest), first, change, changePct: first ? (change / first) * 100 : null, count: sum((c) => c.count) };
  }
  const scope = one ? '' : ' (sum of the targets)';
  return h(
    'div',
    { class: 'stats equity-stats', 'data-testid': 'equity-stats' },
    stat('Equity', num(s.latest), 'equity-stat-equity', `latest equity${scope}`),
    stat('Change', pnl(s.change), 'equity-stat-change', `latest − first snapshot${scope}`),
    stat('Change %', pct(s.changePct), 'equity-stat-change-pct', one ? 'change / first equity' : 'change / sum of the first equities'),
    stat(one ? 'Max drawdown' : 'Max drawdown (total curve)', pct(depth(s.maxDrawdownPct)), 'equity-stat-drawdown', 'deepest fall from the running peak of the curve shown'),
    stat('Snapshots', String(s.count), 'equity-stat-count', `snapshots with an equity${scope}`),
  );
}

/** Equity history per target and in total, with drawdown. */
export const equityPage: Page = {
  id: 'equity',
  title: 'Equity',
  render(root, ctx) {
    let chart: EquityChartHandle | null = null;
    let selected = ctx.query.get('target') ?? '';
    let data: EquityData | null = null;
    const filter = h('select', { id: 'equityTarget', 'aria-label': 'Target', 'data-testid': 'equity-target' });
    const filterBox = h('div', { class: 'equity-filter', hidden: true }, h('label', { for: 'equityTarget' }, 'Show'), filter);
    const body = h('div', { class: 'equity-body' });
    root.append(
      h('div', { class: 'page-head' }, h('h1', {}, 'Equity'), filterBox),
      body,
    );

    const snapshot = async (target: string, btn: HTMLButtonElement): Promise<void> => {
      btn.disabled = true;
      btn.textContent = 'Snapshotting…';
      try {
        const p = await api<{ equity: number | null }>('/api/snapshots', { method: 'POST', body: { target } });
        toast(`Snapshot of ${target}: equity ${num(p.equity)}`);
        await reload();
      } catch (e) {
        toast(`Snapshot of ${target} failed: ${errorText(e)}`, 'error');
      } finally {
        btn.disabled = false;
        btn.textContent = 'Snapshot now';
      }
    };

    const targetsTable = (rows: readonly TargetRow[]): HTMLElement =>
      table<TargetRow>(
        [
          { label: 'Target', cell: (r) => h('span', {}, h('span', { class: 'mono' }, r.target), ' ', badge(r.account_type)) },
          { label: 'Latest equity', className: 'num', field: 'equity', cell: (r) => num(r.stats.latest) },
          { label: 'Change', className: 'num', field: 'change', cell: (r) => h('span', {}, pnl(r.stats.change), r.stats.changePct === null ? '' : h('span', { class: 'muted' }, ` (${pct(r.stats.changePct)})`)) },
          { label: 'Max drawdown', className: 'num', field: 'drawdown', cell: (r) => (r.stats.count ? pct(depth(r.stats.maxDrawdownPct)) : '—') },
          { label: 'Snapshots', className: 'num', field: 'count', cell: (r) => String(r.stats.count) },
          { label: 'Last snapshot (UTC)', field: 'last', cell: (r) => time(r.stats.lastTs) },
          {
            label: '',
            cell: (r) => {
              const btn = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'snapshot-now' }, 'Snapshot now');
              btn.addEventListener('click', (ev) => {
                ev.stopPropagation();
                void snapshot(r.target, btn);
              });
              return btn;
            },
          },
        ],
        rows,
        (r) => ({ 'data-target': r.target, class: r.target === selected ? 'selected' : null, title: 'Show this target' }),
        'equity-targets',
      );

    // The chart of the curve on show, kept across live reloads so a zoom survives a new snapshot.
    let drawn: { key: string; eqEl: HTMLElement; ddEl: HTMLElement } | null = null;
    const view = (d: EquityData): Node => {
      const rows = rowsOf(d);
      filterBox.hidden = false;
      filter.replaceChildren(h('option', { value: '' }, 'All targets (total)'), ...rows.map((r) => h('option', { value: r.target }, r.target)));
      if (!rows.some((r) => r.target === selected)) selected = '';
      filter.value = selected;
      const one = rows.find((r) => r.target === selected);
      const points = one ? one.points : totalCurve(d.histories);
      const s = curveStats(points);
      const keep = chart !== null && drawn !== null && drawn.key === selected && points.length > 0;
      if (!keep) {
        chart?.destroy();
        chart = null;
        drawn = null;
      }
      const eqEl = keep && drawn ? drawn.eqEl : h('div', { class: 'chart equity-main', 'data-testid': 'equity-chart' });
      const ddEl = keep && drawn ? drawn.ddEl : h('div', { class: 'chart chart-small', 'data-testid': 'drawdown-chart' });
      const chartBody =
        points.length === 0
          ? stateView('empty', `No snapshots of ${selected || 'any target'} yet. The server snapshots each traded target every 30 minutes and after events.`)
          : h(
              'div',
              {},
              statsStrip(one, rows, s),
              eqEl,
              h('div', { class: 'equity-dd-label muted' }, 'Drawdown from the running peak'),
              ddEl,
            );
      if (keep) chart?.update(points);
      else if (points.length > 0) {
        drawn = { key: selected, eqEl, ddEl };
        // Draw once the boxes are in the page (loadInto attaches what this returns right away).
        queueMicrotask(() => {
          if (eqEl.isConnected) chart = equityChart(eqEl, points, { drawdown: ddEl });
        });
      }
      const tbl = targetsTable(rows);
      tbl.addEventListener('click', (ev) => {
        const tr = (ev.target as HTMLElement).closest<HTMLTableRowElement>('tr[data-target]');
        if (tr?.dataset.target !== undefined) select(tr.dataset.target === selected ? '' : tr.dataset.target);
      });
      return h(
        'div',
        { class: 'equity-grid' },
        card(one ? `Equity of ${one.target}` : 'Total equity (all targets)', chartBody),
        card('Targets', rows.length ? tbl : stateView('empty', 'No traded target yet.'), [h('span', { class: 'muted' }, 'Times in UTC')]),
      );
    };

    const select = (target: string): void => {
      selected = target;
      const q = target ? `?target=${encodeURIComponent(target)}` : '';
      // Keep the choice in the address without running the router again.
      history.replaceState(null, '', `#/equity${q}`);
      if (data) body.replaceChildren(view(data));
    };
    filter.addEventListener('change', () => select(filter.value));

    const emptyView = (): Node => {
      const d = data;
      filterBox.hidden = true;
      const traded = d ? rowsOf(d) : [];
      return h('div', { class: 'equity-grid' }, stateView('empty', EMPTY_TEXT), traded.length ? card('Targets', targetsTable(traded)) : h('span'));
    };
    const reload = loadInto(
      body,
      async () => {
        const [histories, targets] = await Promise.all([api<TargetHistory[]>('/api/snapshots'), api<Target[]>('/api/targets')]);
        data = { histories, targets };
        return data;
      },
      view,
      { isEmpty: (d) => d.histories.every((x) => pointsOf(x).length === 0), empty: emptyView, loading: 'Loading the equity history…' },
    );
    const off = ctx.live.on((e) => {
      if (touches(e, 'snapshots')) void reload();
    });
    return () => {
      off();
      chart?.destroy();
    };
  },
};
