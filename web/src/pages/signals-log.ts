import { api, qs, type Signal } from '../api.ts';
import { badge, card, h, loadInto, price, qty, table, time } from '../ui.ts';
import { executionBadges } from './signals-executions.ts';
import { showSignal } from './signals-signal.ts';

const OUTCOMES = ['accepted', 'duplicate', 'rejected'] as const;

/** A page of the signal log (GET /api/signals): newest first; `next` is the `before` of the next page. */
interface SignalPage {
  readonly items: Signal[];
  readonly next: number | null;
}

/** Signals per page: fewer on a phone, where each one is a card. */
function pageSize(): number {
  return window.matchMedia('(max-width: 760px)').matches ? 10 : 25;
}

/** Levels a signal carried, e.g. "SL 63,000 / TP 70,000". */
function levels(s: Signal): string {
  const parts = [s.stop_loss !== null ? `SL ${price(s.stop_loss)}` : null, s.take_profit !== null ? `TP ${price(s.take_profit)}` : null].filter(Boolean);
  return parts.length ? parts.join(' / ') : '—';
}

/**
 * A recorder's signal log with outcome badges and rejection reasons, what each signal became on each
 * linked target (filled, pending, failed with the reason…), filtered by outcome and paged (Older / Newer). A live reload only redraws the first page: a user reading history is left alone.
 */
export function signalLog(recorderId: number): { el: HTMLElement; reload: () => void } {
  let outcome = '';
  // `before` of each page shown so far: the last one is the current page (null = newest).
  const pages: (number | null)[] = [null];
  let next: number | null = null;

  const body = h('div', { class: 'signal-log-body' });
  const filter = h(
    'select',
    { name: 'outcome', 'aria-label': 'Outcome', class: 'select-small', 'data-testid': 'signal-filter' },
    h('option', { value: '' }, 'All outcomes'),
    OUTCOMES.map((o) => h('option', { value: o }, o[0]?.toUpperCase() + o.slice(1))),
  );
  const newer = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'signals-newer' }, '← Newer');
  const older = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'signals-older' }, 'Older →');
  const pageInfo = h('span', { class: 'muted page-info' });
  const pager = h('div', { class: 'pager' }, newer, pageInfo, older);

  const drawPager = (): void => {
    newer.disabled = pages.length <= 1;
    older.disabled = next === null;
    pageInfo.textContent = `page ${pages.length}`;
    pager.hidden = pages.length <= 1 && next === null;
  };

  const columns = [
    { label: 'Received', field: 'time', cell: (s: Signal) => h('span', { class: 'muted nowrap', title: `${time(s.received_at)} UTC` }, new Date(s.received_at).toISOString().slice(5, 19).replace('T', ' ')) },
    { label: 'Action', field: 'action', cell: (s: Signal) => h('span', { class: 'nowrap' }, badge(s.action, s.action === 'BUY' ? 'buy' : s.action === 'SELL' ? 'sell' : 'action'), s.position_side ? h('span', { class: 'muted leg' }, ` ${s.position_side}`) : null) },
    { label: 'Ticker', field: 'ticker', cell: (s: Signal) => h('strong', {}, s.ticker) },
    { label: 'Qty', field: 'qty', className: 'num', cell: (s: Signal) => qty(s.qty) },
    { label: 'Price', field: 'price', className: 'num', cell: (s: Signal) => price(s.price) },
    { label: 'Target size', field: 'target-size', className: 'num', cell: (s: Signal) => h('span', { class: s.target_size === null ? 'none' : '' }, qty(s.target_size)) },
    { label: 'SL / TP', field: 'levels', cell: (s: Signal) => h('span', { class: levels(s) === '—' ? 'muted none' : 'muted nowrap' }, levels(s)) },
    { label: 'Outcome', field: 'outcome', cell: (s: Signal) => badge(s.outcome) },
    { label: 'Reason', field: 'reason', cell: (s: Signal) => (s.reason ? h('span', { class: `reason reason-${s.outcome}` }, s.reason) : h('span', { class: 'muted none' }, '—')) },
    { label: 'Execution', field: 'executions', cell: executionBadges },
    {
      label: 'Details',
      field: 'body',
      cell: (s: Signal) => h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'data-testid': 'signal-detail-open', title: 'The signal, its execution per target and its body', onclick: () => showSignal(s) }, s.format),
    },
  ];

  const reload = loadInto(
    body,
    async () => {
      const before = pages[pages.length - 1] ?? null;
      return api<SignalPage>(`/api/signals${qs({ recorder_id: recorderId, outcome, limit: pageSize(), before })}`);
    },
    (page) => {
      next = page.next;
      drawPager();
      return table(columns, page.items, (s) => ({ 'data-signal-id': s.id, 'data-outcome': s.outcome }), 'signal-log');
    },
    {
      isEmpty: (page) => {
        if (page.items.length === 0) {
          next = null;
          drawPager();
        }
        return page.items.length === 0;
      },
      empty: () => h('div', { class: 'state state-empty', 'data-state': 'empty' }, outcome ? `No ${outcome} signals.` : 'No signals yet: send one to the webhook URL (see the examples).'),
      loading: 'Loading signals…',
    },
  );
  filter.addEventListener('change', () => {
    outcome = filter.value;
    pages.splice(1);
    void reload();
  });
  older.addEventListener('click', () => {
    if (next === null) return;
    pages.push(next);
    void reload();
  });
  newer.addEventListener('click', () => {
    if (pages.length > 1) pages.pop();
    void reload();
  });
  drawPager();

  const el = card('Signal log', h('div', {}, body, pager), [filter], { 'data-testid': 'signal-log-card' });
  return {
    el,
    reload: () => {
      if (pages.length === 1) void reload();
    },
  };
}
