import type { RecorderPosition } from '../api.ts';
import { badge, h, pnl, price, qty, stateView, table, time } from '../ui.ts';


/** A time as `MM-DD HH:MM` UTC, or `HH:MM` when on the same day as `since` (the full time in the tooltip). */
function shortTime(ms: number, since?: number): HTMLElement {
  const t = time(ms);
  const sameDay = since !== undefined && time(since).slice(0, 10) === t.slice(0, 10);
  return h('span', { class: 'muted', title: `${t} UTC` }, sameDay ? t.slice(11) : t.slice(5));
}

/** A modal list of a position's entries (open / add / reduce / close), each with its signal. */
function showEntries(p: RecorderPosition): void {
  const dialog = h(
    'dialog',
    { class: 'entries-dialog', 'data-testid': 'entries-dialog', 'aria-label': `Entries of ${p.symbol}` },
    h('header', { class: 'card-head' }, h('h2', {}, `${p.symbol} ${p.side}${p.position_side ? ` (${p.position_side} leg)` : ''} · ${p.status}`)),
    table(
      [
        { label: 'Kind', field: 'kind', cell: (e: RecorderPosition['entries'][number]) => h('span', { class: 'entry-kind' }, e.kind) },
        { label: 'Qty', field: 'qty', className: 'num', cell: (e) => qty(e.qty) },
        { label: 'Price', field: 'price', className: 'num', cell: (e) => price(e.price) },
        { label: 'Realized', field: 'realized', className: 'num', cell: (e) => pnl(e.realized_pnl) },
        { label: 'Time', field: 'time', cell: (e) => h('span', { class: 'muted' }, time(e.ts)) },
        { label: 'Signal', field: 'signal', cell: (e) => (e.signal_id !== null ? `#${e.signal_id}` : '—') },
      ],
      p.entries,
    ),
    h('form', { method: 'dialog', class: 'dialog-actions' }, h('button', { class: 'btn', type: 'submit' }, 'Close')),
  );
  dialog.addEventListener('close', () => dialog.remove());
  // A click on the backdrop (outside the box) closes it too.
  dialog.addEventListener('click', (ev) => {
    if (ev.target === dialog) dialog.close();
  });
  document.body.append(dialog);
  dialog.showModal();
}

/** The entries count of a position as a button that lists them. */
function entriesCell(p: RecorderPosition): HTMLElement {
  if (p.entries.length === 0) return h('span', { class: 'muted' }, '—');
  return h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'data-testid': 'show-entries', onclick: () => showEntries(p) }, `${p.entries.length} ${p.entries.length === 1 ? 'entry' : 'entries'}`);
}

/**
 * A recorder's signal positions, open first, then the `closedShown` latest closed ones, each with its
 * entries; `more` (when given) asks for more closed ones.
 */
export function recorderPositionsTable(positions: readonly RecorderPosition[], closedShown: number, more?: () => void): HTMLElement {
  if (positions.length === 0) return stateView('empty', 'No positions yet: the first accepted BUY or SELL opens one.');
  const open = positions.filter((p) => p.status === 'open').sort((a, b) => b.opened_at - a.opened_at);
  const closed = positions.filter((p) => p.status !== 'open').sort((a, b) => (b.closed_at ?? 0) - (a.closed_at ?? 0));
  const rows = [...open, ...closed.slice(0, closedShown)];
  const withLevels = rows.some((p) => p.sl_price !== null || p.tp_price !== null);
  const tbl = table<RecorderPosition>(
    [
      {
        label: 'Symbol',
        field: 'symbol',
        cell: (p) => h('span', { class: 'rpos-symbol' }, h('strong', {}, p.symbol), badge(p.side), p.position_side && p.position_side !== p.side ? h('span', { class: 'muted leg' }, `${p.position_side} leg`) : null),
      },
      { label: 'Status', field: 'status', cell: (p) => badge(p.status) },
      { label: 'Size', field: 'size', className: 'num', cell: (p) => (p.status === 'open' ? qty(p.size) : h('span', { class: 'muted', title: 'largest size it reached' }, qty(p.max_size))) },
      { label: 'Entry', field: 'entry', className: 'num', cell: (p) => price(p.entry_price) },
      { label: 'Mark / exit', field: 'mark', className: 'num', cell: (p) => price(p.status === 'open' ? p.mark_price : p.exit_price) },
      { label: 'Unrealized', field: 'pnl', className: 'num', cell: (p) => (p.status === 'open' ? pnl(p.pnl) : h('span', { class: 'muted none' }, '—')) },
      { label: 'Realized', field: 'realized', className: 'num', cell: (p) => pnl(p.realized_pnl) },
      { label: 'Max adverse', field: 'max-adverse', className: 'num', cell: (p) => (p.max_adverse > 0 ? pnl(-p.max_adverse) : pnl(0)) },
      // Only recorders whose signals carry levels get the column (room for the rest on a laptop).
      ...(withLevels ? [{ label: 'SL / TP', field: 'levels', cell: (p: RecorderPosition) => h('span', { class: 'muted' }, `${price(p.sl_price)} / ${price(p.tp_price)}`) }] : []),
      { label: 'Opened → closed', field: 'opened', cell: (p) => h('span', {}, shortTime(p.opened_at), p.closed_at !== null ? [h('span', { class: 'muted' }, ' → '), shortTime(p.closed_at, p.opened_at)] : null) },
      { label: 'Entries', field: 'entries', cell: entriesCell },
    ],
    rows,
    (p) => ({ 'data-position-id': p.id, 'data-status': p.status, 'data-symbol': p.symbol }),
  );
  const hiddenCount = closed.length - Math.min(closed.length, closedShown);
  const moreRow =
    hiddenCount > 0
      ? h(
          'div',
          { class: 'more-row' },
          h('span', { class: 'muted' }, `${hiddenCount} older closed position${hiddenCount === 1 ? '' : 's'} not shown`),
          more ? h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'more-positions', onclick: () => more() }, 'Show more') : null,
        )
      : null;
  return h('div', { class: 'recorder-positions-table' }, tbl, moreRow);
}
