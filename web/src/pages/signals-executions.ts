import type { Signal, SignalExecution } from '../api.ts';
import { badge, h, price, qty, time } from '../ui.ts';

/** A status in the trader's words: `partially filled`, `nothing to do`… */
export function executionLabel(status: SignalExecution['status']): string {
  return status.replace(/_/g, ' ');
}

/** Why, in a line: the reason, or for a queued order "queued" (it goes out on the dispatcher's next pass). */
function why(e: SignalExecution): string | null {
  if (e.reason) return e.reason;
  return e.status === 'pending' ? 'queued' : null;
}

/** The tooltip of an execution badge: target, status, fills and the reason. */
function tooltip(e: SignalExecution): string {
  const fills = e.orders > 0 ? ` · ${qty(e.filled_qty)} of ${qty(e.qty)} filled${e.avg_fill_price !== null ? ` @ ${price(e.avg_fill_price)}` : ''}` : '';
  const reason = why(e);
  return `${e.target}: ${executionLabel(e.status)}${fills}${reason ? ` — ${reason}` : ''}`;
}

/**
 * The log's cell: one badge per target the signal trades on (`sim:paper filled`), the reason of a failure,
 * refusal or retry beside it (in full in the tooltip). Rejected and duplicate signals executed nowhere.
 */
export function executionBadges(s: Signal): HTMLElement {
  if (s.executions.length === 0) return h('span', { class: 'muted none' }, s.outcome === 'accepted' ? 'no target' : '—');
  return h(
    'div',
    { class: 'execs' },
    s.executions.map((e) => {
      const reason = e.status === 'filled' || e.status === 'nothing_to_do' ? null : why(e);
      return h(
        'div',
        { class: 'exec', 'data-testid': 'execution', 'data-target': e.target, 'data-status': e.status, title: tooltip(e) },
        h('span', { class: `badge exec-badge badge-${e.status}` }, h('span', { class: 'exec-target' }, e.target), ` ${executionLabel(e.status)}`),
        reason ? h('span', { class: `reason exec-reason reason-${e.status}`, 'data-testid': 'execution-reason' }, reason) : null,
      );
    }),
  );
}

/** The detail of a signal's executions: per target, status, orders, fills and the reason in full. */
export function executionDetail(s: Signal): HTMLElement {
  if (s.executions.length === 0) {
    const what = s.outcome === 'accepted' ? 'The recorder is linked to no target: the signal moved only its own positions.' : `A ${s.outcome} signal is not executed anywhere.`;
    return h('p', { class: 'muted exec-none' }, what);
  }
  return h(
    'dl',
    { class: 'exec-detail', 'data-testid': 'execution-detail' },
    s.executions.flatMap((e) => [
      h('dt', {}, h('span', { class: 'mono' }, e.target), ' ', badge(executionLabel(e.status), e.status)),
      h(
        'dd',
        { 'data-target': e.target },
        e.orders === 0 ? h('span', { class: 'muted' }, 'the signal did not change what this target holds') : `${e.orders} order${e.orders === 1 ? '' : 's'} · ${qty(e.filled_qty)} of ${qty(e.qty)} filled${e.avg_fill_price !== null ? ` @ ${price(e.avg_fill_price)}` : ''}`,
        why(e) ? h('div', { class: `reason reason-${e.status}` }, why(e)) : null,
        e.next_attempt_at !== null ? h('div', { class: 'muted' }, `next try ${time(e.next_attempt_at)} UTC`) : null,
      ),
    ]),
  );
}
