import type { Signal } from '../api.ts';
import { badge, h, price, qty, time } from '../ui.ts';
import { executionDetail } from './signals-executions.ts';

/** The raw body as it arrived, pretty-printed when it is JSON. */
function rawBody(s: Signal): string {
  try {
    return JSON.stringify(JSON.parse(s.raw_body), null, 2);
  } catch {
    return s.raw_body;
  }
}

/** A label and its value in the facts list (left out when the value is null). */
function fact(label: string, value: Node | string | null): Node[] {
  return value === null ? [] : [h('dt', {}, label), h('dd', {}, value)];
}

/**
 * One signal in a modal: what it said, its outcome and reason, what it became on each target (with the
 * reasons in full) and the body as it arrived.
 */
export function showSignal(s: Signal): void {
  const levels = s.stop_loss !== null || s.take_profit !== null ? `SL ${price(s.stop_loss)} / TP ${price(s.take_profit)}` : null;
  const dialog = h(
    'dialog',
    { class: 'signal-dialog', 'data-testid': 'signal-detail', 'aria-label': `Signal ${s.id}` },
    h('header', { class: 'card-head' }, h('h2', {}, `Signal #${s.id} · ${s.action} ${s.ticker}`), badge(s.outcome)),
    h(
      'dl',
      { class: 'facts' },
      fact('Received', `${time(s.received_at)} UTC`),
      fact('Format', s.format),
      fact('Qty', s.qty !== null ? qty(s.qty) : null),
      fact('Price', s.price !== null ? price(s.price) : null),
      fact('Target size', s.target_size !== null ? qty(s.target_size) : null),
      fact('Leg', s.position_side),
      fact('SL / TP', levels),
      fact('Reason', s.reason !== null ? h('span', { class: `reason reason-${s.outcome}` }, s.reason) : null),
    ),
    h('h3', {}, 'Execution per target'),
    executionDetail(s),
    h('h3', {}, 'Body as received'),
    h('pre', { class: 'signal-body' }, rawBody(s)),
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
