import { api, qs, type Order, type Terminal, type TerminalRow, type ClosePosition } from '../api.ts';
import { badge, card, errorText, h, pnl, price, qty, stateView, table, tickerOf, time, toast, type Column } from '../ui.ts';

/** Body of POST /api/positions/close, from the server's schema (api.ts does not export it yet). */

/** A row whose unrealized PnL moves with the marks: its cells, updated in place. */
interface LiveRow {
  readonly row: TerminalRow;
  readonly markCell: HTMLElement;
  readonly pnlCell: HTMLElement;
  unrealized: number;
}

/** The positions part of the terminal: summary strip and table, with pnl moved by pushed marks. */
export interface PositionsView {
  readonly el: HTMLElement;
  /** Draws a fresh answer of GET /api/terminal. */
  show(data: Terminal): void;
  /** Moves mark and pnl cells (and the total) to the latest marks without a reload. */
  applyMarks(marks: ReadonlyMap<string, { price: number }>): void;
  /** Shows a failed load with a retry button. */
  showError(message: string, retry: () => void): void;
}

/** True for a row the venue still holds (it can be closed and its pnl moves). */
function isOpen(r: TerminalRow): boolean {
  return r.kind !== 'closed_externally' && r.status === 'open';
}

/** The mark and pnl cells of each row by position id. */
type Cells = Map<string, { mark: HTMLElement; pnl: HTMLElement }>;

/** The mark and pnl cells of a row (made on first use), so marks can move them later. */
function cellsOf(refs: Cells, r: TerminalRow): { mark: HTMLElement; pnl: HTMLElement } {
  let c = refs.get(r.id);
  if (!c) refs.set(r.id, (c = { mark: h('span'), pnl: h('span', { class: 'pnl-cell' }) }));
  return c;
}

/** Unrealized PnL (quote) of an open row at `mark`. */
function unrealizedAt(r: TerminalRow, mark: number): number {
  // `|| 0` turns a short's -0 at its entry price into 0, which prints without a minus sign.
  return (mark - r.entry_price) * r.size * (r.side === 'long' ? 1 : -1) || 0;
}

/** What became of a close order, for the toast. */
function describeOrder(o: Order, what: string): string {
  if (o.status === 'filled') return `${what}: filled ${qty(o.filled_qty)} at ${price(o.avg_fill_price)}`;
  if (o.status === 'pending' || o.status === 'sending') return `${what}: queued, the venue did not answer yet${o.error ? ` (${o.error})` : ''}`;
  if (o.status === 'rejected' || o.status === 'failed') return `${what}: refused: ${o.error ?? o.status}`;
  return `${what}: ${o.status}`;
}

/** The positions section; `target` is the API key, `changed` runs after a close or adopt succeeded. */
export function positionsView(target: string, changed: () => void): PositionsView {
  const summary = h('div', { class: 'stats terminal-summary', 'data-testid': 'terminal-summary' });
  const body = h('div', { class: 'positions-body' });
  const snapshot = h('span', { class: 'muted snapshot-at' });
  const el = h('div', { class: 'terminal-positions' }, summary, card('Positions', body, [snapshot]));
  let live: LiveRow[] = [];
  let totalCell: HTMLElement = h('span');

  const close = async (r: TerminalRow, button: HTMLButtonElement): Promise<void> => {
    const leg = r.position_side ? ` (${r.position_side} leg)` : '';
    const what = `${r.side} ${qty(r.size)} ${r.symbol}${leg}`;
    const others = r.linked_targets.filter((t) => t !== target);
    const detail =
      r.kind === 'untracked'
        ? ' This is what the venue holds beyond every ledger position.'
        : r.source === 'signal'
          ? ` It is recorder #${r.recorder_id}'s signal position: a close signal goes to its log${others.length ? `, and it closes on ${others.join(', ')} too` : ''}.`
          : r.source === 'engine'
            ? ` It is ${r.strategy ?? 'an engine'}'s position: the engine is not told, so stop its strategy first or it may trade it again.`
            : '';
    if (!window.confirm(`Close ${what} on ${target} at market?${detail}`)) return;
    button.disabled = true;
    try {
      // A tracked row closes exactly itself (booked against it); an untracked one closes what no ledger position explains.
      const body: ClosePosition = r.kind === 'untracked' ? { target, symbol: r.symbol, ...(r.position_side ? { position_side: r.position_side } : {}) } : { target, position_id: r.id };
      const order = await api<Order>('/api/positions/close', { method: 'POST', body });
      const failed = order.status === 'rejected' || order.status === 'failed';
      toast(describeOrder(order, `Close ${what}`), failed ? 'error' : 'ok');
      changed();
    } catch (e) {
      toast(`Close ${what}: ${errorText(e)}`, 'error');
    } finally {
      button.disabled = false;
    }
  };

  const adopt = async (r: TerminalRow, button: HTMLButtonElement): Promise<void> => {
    if (r.issue_id === null) return;
    button.disabled = true;
    try {
      await api<{ position_id: string }>(`/api/reconciliation/${r.issue_id}/adopt`, { method: 'POST' });
      toast(`${r.symbol} adopted: the ledger now tracks it`);
      changed();
    } catch (e) {
      toast(`Adopt ${r.symbol}: ${errorText(e)}`, 'error');
      button.disabled = false;
    }
  };

  const kindBadge = (r: TerminalRow): HTMLElement | null => {
    if (r.kind === 'untracked') return badge('untracked');
    if (r.kind === 'closed_externally') return badge('closed externally', 'closed_externally');
    if (r.kind === 'closed') return badge('closed', 'closed');
    if (!r.diverged) return null;
    const b = badge('diverged', 'conflict');
    b.title = `The venue holds ${r.broker_size === null ? 'nothing known' : `${qty(r.broker_size)} at ${price(r.broker_entry_price)}`} for this symbol and leg`;
    return b;
  };

  const columns = (refs: Cells): Column<TerminalRow>[] => [
    {
      label: 'Symbol',
      field: 'symbol',
      cell: (r) => h('span', { class: 'pos-symbol' }, h('strong', {}, r.symbol), badge(r.side), r.position_side ? h('span', { class: 'muted leg' }, `${r.position_side} leg`) : null, kindBadge(r)),
    },
    { label: 'Size', field: 'size', className: 'num', cell: (r) => qty(r.size) },
    { label: 'Entry', field: 'entry', className: 'num', cell: (r) => price(r.entry_price) },
    {
      label: 'Mark',
      field: 'mark',
      className: 'num',
      cell: (r) => {
        const c = cellsOf(refs, r);
        c.mark.textContent = price(r.mark_price);
        return c.mark;
      },
    },
    {
      label: 'Unrealized PnL',
      field: 'pnl',
      className: 'num',
      cell: (r) => {
        const c = cellsOf(refs, r);
        c.pnl.replaceChildren(pnl(isOpen(r) ? r.pnl : null));
        return c.pnl;
      },
    },
    { label: 'Realized', field: 'realized', className: 'num', cell: (r) => pnl(r.realized_pnl) },
    { label: 'Strategy', field: 'strategy', cell: (r) => r.strategy ?? h('span', { class: 'muted' }, '—') },
    { label: 'SL', field: 'sl', className: 'num', cell: (r) => price(r.sl_price) },
    { label: 'TP', field: 'tp', className: 'num', cell: (r) => price(r.tp_price) },
    { label: 'Source', field: 'source', cell: (r) => badge(r.source) },
    { label: 'Opened by', field: 'opened-by', cell: (r) => r.opened_by },
    { label: 'Opened', field: 'opened', cell: (r) => h('span', { class: 'muted', title: `${time(r.opened_at)} UTC` }, time(r.opened_at).slice(5)) },
    {
      label: '',
      field: 'actions',
      className: 'actions',
      cell: (r) => {
        const out: HTMLElement[] = [];
        if (r.kind === 'untracked' && r.issue_id !== null) {
          const b = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'adopt', title: 'Track this venue position in the ledger' }, 'Adopt');
          b.addEventListener('click', () => void adopt(r, b));
          out.push(b);
        }
        if (isOpen(r) && !r.closable) out.push(h('span', { class: 'muted', title: "In the engine's own simulated exchange: the engine closes it" }, 'by its engine'));
        if (isOpen(r) && r.closable) {
          const b = h('button', { type: 'button', class: 'btn btn-small btn-danger', 'data-testid': 'close-position' }, 'Close');
          b.addEventListener('click', () => void close(r, b));
          out.push(b);
        }
        return out.length ? h('span', { class: 'row-actions' }, out) : r.closed_at !== null ? h('span', { class: 'muted' }, `closed ${time(r.closed_at)}`) : null;
      },
    },
  ];

  const stat = (label: string, value: Node | string, testId?: string, title?: string): HTMLElement =>
    h('div', { class: 'stat', 'data-testid': testId, ...(title ? { title } : {}) }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));

  const drawTotal = (): void => {
    const total = live.reduce((s, l) => s + l.unrealized, 0);
    totalCell.replaceChildren(pnl(live.length ? total : 0));
  };

  const show = (data: Terminal): void => {
    const rows = data.rows;
    const open = rows.filter(isOpen);
    const untracked = rows.filter((r) => r.kind === 'untracked').length;
    const gone = rows.filter((r) => r.kind === 'closed_externally').length;
    const closedToday = rows.filter((r) => r.kind === 'closed').length;
    // Realized PnL of every row shown: partial exits of open positions and positions closed in the last day.
    const realized = rows.reduce((s, r) => s + r.realized_pnl, 0);
    totalCell = h('span');
    summary.replaceChildren(
      stat('Open positions', String(open.length), 'open-count'),
      stat('Unrealized PnL', totalCell, 'unrealized-total'),
      stat('Realized PnL', pnl(realized), 'realized-total', 'Sum of the Realized column: open rows and rows closed in the last 24 h'),
      stat('Closed (24 h)', String(closedToday), 'closed-count'),
      stat('Untracked', untracked ? h('span', { class: 'warn' }, String(untracked)) : '0'),
      ...(gone ? [stat('Closed externally', h('span', { class: 'neg' }, String(gone)))] : []),
    );
    snapshot.textContent = data.snapshot_at === null ? 'no venue snapshot yet' : `venue snapshot ${time(data.snapshot_at)} UTC`;
    if (rows.length === 0) {
      live = [];
      drawTotal();
      body.replaceChildren(stateView('empty', `No positions on ${data.target}. Place an order with the ticket, or link a recorder to this target.`));
      return;
    }
    const refs: Cells = new Map();
    const tbl = table(
      columns(refs),
      rows,
      (r) => ({ 'data-position-id': r.id, 'data-kind': r.kind, 'data-symbol': r.symbol, 'data-source': r.source, 'data-status': r.status }),
      'positions',
    );
    live = open.map((r) => ({ row: r, markCell: cellsOf(refs, r).mark, pnlCell: cellsOf(refs, r).pnl, unrealized: r.pnl }));
    drawTotal();
    body.replaceChildren(tbl);
  };

  const applyMarks = (marks: ReadonlyMap<string, { price: number }>): void => {
    let moved = false;
    for (const l of live) {
      const m = marks.get(tickerOf(l.row.symbol));
      if (!m) continue;
      const u = unrealizedAt(l.row, m.price);
      if (u === l.unrealized) continue;
      l.unrealized = u;
      l.markCell.textContent = price(m.price);
      l.pnlCell.replaceChildren(pnl(u));
      moved = true;
    }
    if (moved) drawTotal();
  };

  const showError = (message: string, retry: () => void): void => {
    live = [];
    summary.replaceChildren();
    body.replaceChildren(stateView('error', message, { label: 'Retry', run: retry }));
  };

  body.append(stateView('loading', 'Loading positions…'));
  return { el, show, applyMarks, showError };
}

/** Loads GET /api/terminal for `target`. */
export function loadTerminal(target: string): Promise<Terminal> {
  return api<Terminal>(`/api/terminal${qs({ target })}`);
}
