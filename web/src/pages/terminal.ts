import './terminal.css';
import { api, type Target } from '../api.ts';
import { touches } from '../live.ts';
import type { Page, PageContext } from '../page.ts';
import { card, errorText, h, loadInto } from '../ui.ts';
import { openOrdersView } from './terminal-orders.ts';
import { loadTerminal, positionsView } from './terminal-positions.ts';
import { chooseTarget, noAccountView, targetBar, type TerminalTarget } from './terminal-target.ts';
import { orderTicket } from './terminal-ticket.ts';

/** Runs `fn` once after a burst of calls settles (live events come in bursts). */
function debounced(fn: () => void, ms: number): { run: () => void; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  return {
    run: () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        fn();
      }, ms);
    },
    cancel: () => {
      if (timer) clearTimeout(timer);
    },
  };
}

/**
 * The working part of the terminal for a target the user has an account on (or sim): positions, open
 * orders and the ticket, kept current by the live push. `hasAccount` false shows how to add keys instead
 * of the ticket, with the ledger's positions of that target below when it has any.
 */
function terminalBody(target: TerminalTarget, hasAccount: boolean, ctx: PageContext, setBadge: (b: 'DEMO' | 'REAL') => void): { el: HTMLElement; dispose: () => void } {
  let seq = 0;
  const positions = positionsView(target.key, () => refreshAll());
  const refreshPositions = async (): Promise<void> => {
    const mine = ++seq;
    try {
      const data = await loadTerminal(target.key);
      if (mine !== seq) return;
      setBadge(data.badge);
      positions.show(data);
      positions.applyMarks(ctx.live.marks);
      if (!hasAccount) positions.el.hidden = data.rows.length === 0;
    } catch (e) {
      if (mine !== seq) return;
      if (hasAccount) positions.showError(errorText(e), () => void refreshPositions());
      else positions.el.hidden = true;
    }
  };
  // Orders show without an account too: a signal's order that failed for want of keys is seen (and canceled) here.
  const orders = openOrdersView(target.key);
  const ticket = hasAccount ? orderTicket(target.key, () => refreshAll()) : null;
  const soonPositions = debounced(() => void refreshPositions(), 250);
  const soonOrders = debounced(() => orders.reload(), 250);
  function refreshAll(): void {
    soonPositions.run();
    soonOrders.run();
  }

  const off = ctx.live.on((e) => {
    if (e.kind === 'marks') {
      positions.applyMarks(ctx.live.marks);
      ticket?.applyMarks(ctx.live.marks);
    } else if (touches(e, 'positions', 'orders', 'reconciliation', 'snapshots')) soonPositions.run();
    if (touches(e, 'orders')) soonOrders.run();
  });
  void refreshPositions();
  ticket?.applyMarks(ctx.live.marks);

  if (!hasAccount) positions.el.hidden = true;
  // Positions take the full width (many columns); the ticket and the open orders share the row below.
  const lower = ticket ? h('div', { class: 'terminal-lower' }, card('Order ticket', ticket.el, [h('span', { class: 'muted' }, target.label)], { class: 'card ticket-card' }), orders.el) : orders.el;
  const el = h('div', { class: 'terminal-main' }, hasAccount ? null : noAccountView(target), positions.el, lower);
  return {
    el,
    dispose: () => {
      off();
      soonPositions.cancel();
      soonOrders.cancel();
      seq++;
    },
  };
}

/** Terminal: one target's positions merged with the ledger, live PnL, open orders and an order ticket. */
export const terminalPage: Page = {
  id: 'terminal',
  title: 'Terminal',
  render(root, ctx) {
    const target = chooseTarget(ctx.query);
    const bar = targetBar(target, (key) => ctx.navigate(`#/terminal?target=${key}`));
    const body = h('div', { class: 'terminal-body' });
    root.append(h('div', { class: 'page-head terminal-head' }, h('h1', {}, 'Terminal'), bar.el), body);
    let alive = true;
    let dispose: (() => void) | null = null;
    loadInto(
      body,
      () => api<Target[]>('/api/targets'),
      (targets) => {
        dispose?.();
        if (!alive) return h('div');
        const info = targets.find((t) => t.target === target.key);
        const view = terminalBody(target, info?.has_account ?? false, ctx, bar.setBadge);
        dispose = view.dispose;
        return view.el;
      },
      { loading: `Opening ${target.label}…` },
    );
    return () => {
      alive = false;
      dispose?.();
    };
  },
};
