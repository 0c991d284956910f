import './reconciliation.css';
import { api, type Issue } from '../api.ts';
import { touches } from '../live.ts';
import type { Page } from '../page.ts';
import { card, errorText, h, loadInto, qty, stateView, toast } from '../ui.ts';
import { issuesTable, KINDS, type IssueActions } from './reconciliation-table.ts';

type Scope = 'open' | 'all';

/** Runs a POST for a row's button: confirm first, busy while it runs, a toast after, then reload. */
async function act(btn: HTMLButtonElement, what: string, question: string, run: () => Promise<string>, reload: () => Promise<void>): Promise<void> {
  if (!window.confirm(question)) return;
  const label = btn.textContent;
  btn.disabled = true;
  btn.textContent = '…';
  try {
    toast(await run());
    await reload();
  } catch (e) {
    toast(`${what} failed: ${errorText(e)}`, 'error');
    btn.disabled = false;
    btn.textContent = label;
  }
}

function legend(): HTMLElement {
  return h('dl', { class: 'rc-legend', 'data-testid': 'issue-kinds' }, KINDS.flatMap((k) => [h('dt', {}, k.title), h('dd', {}, k.line)]));
}

/** Open conflicts, orphans and ghosts, with adopt / dismiss actions. */
export const reconciliationPage: Page = {
  id: 'reconciliation',
  title: 'Reconciliation',
  render(root, ctx) {
    let scope: Scope = ctx.query.get('status') === 'all' ? 'all' : 'open';
    const box = h('div', { class: 'rc-groups' });
    const toggles = (['open', 'all'] as const).map((s) =>
      h('button', { type: 'button', class: 'btn btn-small', 'data-scope': s, 'data-testid': `issues-${s}`, 'aria-pressed': String(s === scope) }, s === 'open' ? 'Open' : 'All (with resolved)'),
    );
    const actions: IssueActions = {
      adopt: (i, btn) =>
        void act(
          btn,
          'Adopting',
          `Adopt ${i.exchange_side ?? i.side} ${qty(i.exchange_qty)} ${i.symbol} on ${i.target} into the ledger?`,
          async () => {
            const r = await api<{ position_id: string }>(`/api/reconciliation/${i.id}/adopt`, { method: 'POST' });
            return `Adopted ${i.symbol} on ${i.target} as position ${r.position_id}.`;
          },
          () => reload(),
        ),
      dismiss: (i, btn) =>
        void act(
          btn,
          'Dismissing',
          `Dismiss the ${i.label} ${i.symbol} ${i.side} on ${i.target}? It comes back if the difference is seen again after it was resolved.`,
          async () => {
            await api<Issue>(`/api/reconciliation/${i.id}/dismiss`, { method: 'POST' });
            return `Dismissed the ${i.label} ${i.symbol} on ${i.target}.`;
          },
          () => reload(),
        ),
    };
    const view = (issues: Issue[]): Node =>
      h(
        'div',
        { class: 'rc-groups' },
        KINDS.map((k) => {
          const rows = issues.filter((i) => i.kind === k.kind).sort((a, b) => Number(b.status === 'open') - Number(a.status === 'open') || b.last_seen - a.last_seen);
          if (rows.length === 0) return null;
          // The count in the title is the rows below it (resolved ones too when "All" is on).
          return card(`${k.title} · ${rows.length}`, issuesTable(rows, actions, { showStatus: scope === 'all' }), [], { 'data-issue-group': k.kind, 'data-count': rows.length, title: k.line });
        }),
      );
    const reload = loadInto(box, () => api<Issue[]>(`/api/reconciliation?status=${scope}`), view, {
      isEmpty: (issues) => issues.length === 0,
      empty: () => stateView('empty', scope === 'open' ? 'Ledger and exchanges agree.' : 'Ledger and exchanges agree, and no difference has been recorded yet.'),
      loading: 'Loading differences…',
    });
    for (const b of toggles) {
      b.addEventListener('click', () => {
        scope = b.dataset.scope === 'all' ? 'all' : 'open';
        for (const t of toggles) t.setAttribute('aria-pressed', String(t === b));
        history.replaceState(null, '', `#/reconciliation${scope === 'all' ? '?status=all' : ''}`);
        box.replaceChildren();
        void reload();
      });
    }
    root.append(
      h('div', { class: 'page-head' }, h('h1', {}, 'Reconciliation'), h('div', { class: 'rc-toggle', role: 'group', 'aria-label': 'Which differences' }, toggles)),
      card('Ledger against exchanges', h('div', {}, h('p', { class: 'muted rc-line' }, 'After each snapshot the server compares the ledger of each target with what the exchange reports. Three kinds of difference:'), legend())),
      box,
    );
    return ctx.live.on((e) => {
      if (touches(e, 'reconciliation')) void reload();
    });
  },
};
