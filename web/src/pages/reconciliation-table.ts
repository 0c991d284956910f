import type { Issue } from '../api.ts';
import { badge, h, price, qty, table, time } from '../ui.ts';

/** The three kinds of difference, in the trader's words (one line each). */
export const KINDS: readonly { readonly kind: Issue['kind']; readonly title: string; readonly line: string }[] = [
  { kind: 'orphan', title: 'Untracked (orphans)', line: 'The exchange holds a position the ledger does not know: adopt it to track it, or dismiss it.' },
  { kind: 'conflict', title: 'Conflicts', line: 'Both hold the position, but the size, side or entry price differ beyond tolerance.' },
  { kind: 'ghost', title: 'Ghosts', line: 'The ledger holds a position the exchange reports flat; engine and adopted positions close after repeated flat reports.' },
];

/** What a row's buttons do (the page asks for confirmation and reloads). */
export interface IssueActions {
  adopt(issue: Issue, btn: HTMLButtonElement): void;
  dismiss(issue: Issue, btn: HTMLButtonElement): void;
}

const close = (a: number | null, b: number | null, rel: number): boolean => a === null || b === null || Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));

/** One side's holding: `long 0.5 @ 64,000.00`, or a muted "none"; parts that differ from the other side are marked. */
function holding(side: Issue['ledger_side'], q: number | null, p: number | null, other: { side: Issue['ledger_side']; q: number | null; p: number | null }, field: string): HTMLElement {
  if (side === null && (q === null || q === 0)) return h('span', { class: 'muted', 'data-field': field }, 'none (flat)');
  const mark = (differs: boolean, text: string): HTMLElement => h('span', { class: differs ? 'rc-differs' : '' }, text);
  return h(
    'span',
    { class: 'rc-holding', 'data-field': field },
    side ? badge(side) : null,
    ' ',
    mark(!close(q, other.q, 1e-6), qty(q)),
    h('span', { class: 'muted' }, ' @ '),
    mark(!close(p, other.p, 0.005), price(p)),
  );
}

function actions(i: Issue, act: IssueActions): HTMLElement {
  if (i.status !== 'open') return h('span');
  const adopt = h('button', { type: 'button', class: 'btn btn-small btn-primary', 'data-testid': 'adopt', title: 'Create a ledger position from what the exchange holds' }, 'Adopt');
  const dismiss = h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'data-testid': 'dismiss', title: 'Hide this difference until it appears again' }, 'Dismiss');
  adopt.addEventListener('click', () => act.adopt(i, adopt));
  dismiss.addEventListener('click', () => act.dismiss(i, dismiss));
  return h('div', { class: 'rc-actions' }, i.kind === 'orphan' ? adopt : null, dismiss);
}

/** A table of issues: rows tr[data-issue-id][data-issue-kind] with both values and the buttons. */
export function issuesTable(issues: readonly Issue[], act: IssueActions, opts: { showStatus: boolean }): HTMLElement {
  const ghosts = issues.some((i) => i.kind === 'ghost');
  return table<Issue>(
    [
      { label: 'Target', field: 'target', cell: (i) => h('a', { href: `#/terminal?target=${encodeURIComponent(i.target)}`, class: 'mono', title: 'Open the terminal of this target' }, i.target) },
      { label: 'Symbol', field: 'symbol', cell: (i) => h('b', {}, i.symbol) },
      { label: 'Side', field: 'side', cell: (i) => h('span', { class: 'rc-badges' }, badge(i.side), ' ', badge(i.label)) },
      { label: 'Ledger', field: 'ledger', cell: (i) => holding(i.ledger_side, i.ledger_qty, i.ledger_price, { side: i.exchange_side, q: i.exchange_qty, p: i.exchange_price }, 'ledger-values') },
      { label: 'Exchange', field: 'exchange', cell: (i) => holding(i.exchange_side, i.exchange_qty, i.exchange_price, { side: i.ledger_side, q: i.ledger_qty, p: i.ledger_price }, 'exchange-values') },
      ...(ghosts ? [{ label: 'Flat reports', className: 'num', field: 'flat-checks', cell: (i: Issue) => (i.kind === 'ghost' ? String(i.flat_checks) : '—') }] : []),
      { label: 'First seen (UTC)', field: 'first-seen', cell: (i) => time(i.first_seen) },
      { label: 'Last seen (UTC)', field: 'last-seen', cell: (i) => time(i.last_seen) },
      ...(opts.showStatus ? [{ label: 'Status', field: 'status', cell: (i: Issue) => h('span', {}, badge(i.status.replace(/_/g, ' '), i.status), i.resolution && i.resolution !== i.status ? h('span', { class: 'muted' }, ` ${i.resolution}`) : null, i.resolved_at ? h('span', { class: 'muted' }, ` ${time(i.resolved_at)}`) : null) }] : []),
      { label: '', field: 'actions', cell: (i) => actions(i, act) },
    ],
    issues,
    (i) => ({ 'data-issue-id': i.id, 'data-issue-kind': i.kind, 'data-status': i.status, title: i.position_ids.length ? `Ledger positions: ${i.position_ids.join(', ')}` : null }),
  );
}
