import { api, qs, type Recorder, type RecorderEquityPoint, type RecorderPosition } from '../api.ts';
import { equityChart, type EquityChartHandle } from '../charts.ts';
import { badge, card, copyText, errorText, h, num, pnl, qty, stateView, toast } from '../ui.ts';
import { formatExamples } from './signals-formats.ts';
import { signalLog } from './signals-log.ts';
import { recorderPositionsTable } from './signals-positions.ts';

/** A stat tile of the strip. */
function stat(label: string, value: Node | string, testId?: string, title?: string): HTMLElement {
  return h('div', { class: 'stat', 'data-testid': testId, title }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
}

/** The figures of the strip, from the rows of the positions table (so the two always agree). */
export function recorderTotals(positions: readonly RecorderPosition[]): { realized: number; unrealized: number; open: number } {
  let realized = 0;
  let unrealized = 0;
  let open = 0;
  for (const p of positions) {
    realized += p.realized_pnl;
    if (p.status !== 'open') continue;
    unrealized += p.pnl;
    open += 1;
  }
  return { realized, unrealized, open };
}

/**
 * PnL, realized and unrealized summed over the positions below (open ones marked at the server's latest
 * price, as in the table), max drawdown of the equity curve (quote) and open positions.
 */
function statsOf(points: readonly RecorderEquityPoint[], positions: readonly RecorderPosition[]): HTMLElement[] {
  const t = recorderTotals(positions);
  const maxDd = points.reduce((m, p) => Math.max(m, p.drawdown), 0);
  return [
    stat('PnL', pnl(t.realized + t.unrealized), 'recorder-pnl', 'realized + unrealized of its positions'),
    stat('Realized', pnl(t.realized), 'recorder-realized', 'sum of Realized over all its positions (open and closed)'),
    stat('Unrealized', pnl(t.unrealized), 'recorder-unrealized', 'sum of Unrealized over its open positions, at the latest price'),
    stat('Max drawdown', maxDd > 0 ? pnl(-maxDd) : pnl(0), 'recorder-drawdown', 'largest fall of the equity curve from its running peak (quote), at the signals'),
    stat('Open positions', num(t.open, 0), 'recorder-open'),
  ];
}

/** The webhook URL with its copy button and a word on keeping it secret. */
function webhookBlock(rec: Recorder): HTMLElement {
  const copy = h('button', { type: 'button', class: 'btn btn-small btn-primary', 'data-testid': 'copy-url' }, 'Copy');
  copy.addEventListener('click', () => {
    void copyText(rec.webhook_url).then(() => {
      toast('Webhook URL copied');
      copy.textContent = 'Copied';
      setTimeout(() => (copy.textContent = 'Copy'), 1500);
    });
  });
  return h(
    'div',
    { class: 'webhook' },
    h('div', { class: 'webhook-row' }, h('code', { class: 'webhook-url', 'data-testid': 'webhook-url' }, rec.webhook_url), copy),
    h('p', { class: 'muted webhook-note' }, 'POST signals to this URL. The secret in it is the only credential: anyone who has it can send signals, so keep it like a password.'),
  );
}

/** What a recorder is: mode, strategy name, targets with multipliers, lag and default quantity. */
function recorderFacts(rec: Recorder): HTMLElement {
  const targets = rec.targets.length ? rec.targets.map((t) => h('a', { class: 'chip', href: `#/terminal?target=${t.target}` }, t.multiplier === 1 ? t.target : `${t.target} ×${qty(t.multiplier)}`)) : [h('span', { class: 'muted' }, 'none')];
  return h(
    'dl',
    { class: 'facts' },
    h('dt', {}, 'Mode'),
    h('dd', {}, badge(rec.position_mode, 'mode')),
    h('dt', {}, 'Strategy'),
    h('dd', {}, rec.strategy ?? rec.name),
    h('dt', {}, 'Trades on'),
    h('dd', { class: 'chips' }, targets),
    h('dt', {}, 'Max lag'),
    h('dd', {}, `${num(rec.max_lag_seconds, 0)} s`),
    h('dt', {}, 'Default qty'),
    h('dd', {}, qty(rec.default_qty)),
  );
}

/**
 * One recorder: PnL and drawdown, its equity curve, signal positions and signal log, with the webhook URL
 * and format examples beside them. `reload` refreshes everything after a live change.
 */
export function recorderDetail(rec: Recorder): { el: HTMLElement; reload: () => void; dispose: () => void } {
  const stats = h('div', { class: 'stats recorder-stats' }, stateView('loading', 'Loading PnL…'));
  const chartEl = h('div', { class: 'chart recorder-chart', 'data-testid': 'recorder-equity' });
  const positionsBody = h('div', {}, stateView('loading', 'Loading positions…'));
  const log = signalLog(rec.id);
  let chart: EquityChartHandle | null = null;
  let seq = 0;
  let closedShown = 10;
  let lastPositions: readonly RecorderPosition[] = [];
  const drawPositions = (): void => {
    positionsBody.replaceChildren(
      recorderPositionsTable(lastPositions, closedShown, () => {
        closedShown += 25;
        drawPositions();
      }),
    );
  };

  const drawChart = (points: readonly RecorderEquityPoint[]): void => {
    if (points.length === 0) {
      chart?.destroy();
      chart = null;
      chartEl.replaceChildren(stateView('empty', 'The curve starts with the first accepted signal.'));
      return;
    }
    if (chart) chart.update(points);
    else {
      chartEl.replaceChildren();
      chart = equityChart(chartEl, points, { baseline: 0 });
    }
  };

  const refresh = async (): Promise<void> => {
    const mine = ++seq;
    try {
      const [points, positions] = await Promise.all([
        api<RecorderEquityPoint[]>(`/api/recorders/${rec.id}/equity`),
        api<RecorderPosition[]>(`/api/recorders/${rec.id}/positions${qs({ status: 'all' })}`),
      ]);
      if (mine !== seq) return;
      stats.replaceChildren(...statsOf(points, positions));
      drawChart(points);
      lastPositions = positions;
      drawPositions();
    } catch (e) {
      if (mine !== seq) return;
      const retry = { label: 'Retry', run: () => void refresh() };
      stats.replaceChildren(stateView('error', errorText(e), retry));
      positionsBody.replaceChildren(stateView('error', errorText(e), retry));
    }
  };
  void refresh();

  const main = h(
    'div',
    { class: 'recorder-main' },
    card('Equity (PnL of its signals)', chartEl, [h('span', { class: 'muted' }, 'realized + unrealized, quote')]),
    card('Positions', positionsBody, [], { 'data-testid': 'recorder-positions' }),
    log.el,
  );
  const side = h(
    'aside',
    { class: 'recorder-side' },
    card('Webhook', h('div', {}, webhookBlock(rec), recorderFacts(rec)), [], { class: 'card webhook-card' }),
    card('Message formats', formatExamples(rec), [], { class: 'card formats-card' }),
  );
  const el = h(
    'div',
    { class: 'recorder-detail', 'data-recorder-id': rec.id },
    h('div', { class: 'recorder-title' }, h('h2', {}, rec.name), badge(rec.position_mode, 'mode')),
    stats,
    h('div', { class: 'recorder-grid' }, main, side),
  );
  return {
    el,
    reload: () => {
      void refresh();
      log.reload();
    },
    dispose: () => {
      seq++;
      chart?.destroy();
      chart = null;
    },
  };
}
