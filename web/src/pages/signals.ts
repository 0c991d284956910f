import './signals.css';
import { api, type Recorder } from '../api.ts';
import { touches } from '../live.ts';
import type { Page, PageContext } from '../page.ts';
import { badge, card, h, loadInto, stateView, time, toast } from '../ui.ts';
import { recorderDetail } from './signals-detail.ts';
import { newRecorderForm } from './signals-new.ts';

/** A recorder's card in the list: a link to its detail. */
function recorderCard(rec: Recorder, selected: boolean): HTMLElement {
  return h(
    'a',
    { class: 'recorder-card', href: `#/signals/${rec.id}`, 'data-testid': 'recorder', 'data-recorder-id': rec.id, 'aria-current': selected ? 'page' : null },
    h('span', { class: 'recorder-card-head' }, h('strong', {}, rec.name), badge(rec.position_mode, 'mode')),
    h('span', { class: 'muted recorder-card-targets' }, rec.targets.map((t) => t.target).join(', ') || 'no target'),
    h('span', { class: 'muted recorder-card-time' }, `since ${time(rec.created_at).slice(0, 10)}`),
  );
}

/** What a user without recorders sees: what a recorder is, the CLI line, and the form. */
function noRecorders(ctx: PageContext): HTMLElement {
  return h(
    'section',
    { class: 'card no-recorders', 'data-state': 'empty' },
    h('h2', {}, 'No recorder yet'),
    h(
      'p',
      { class: 'muted' },
      'A recorder is one stream of signals — one TradingView alert or strategy — with its own secret webhook URL. Its positions, PnL and equity curve follow the signals, and it trades them on the targets you link it to.',
    ),
    newRecorderForm((rec) => created(rec, ctx)),
    h('p', { class: 'muted' }, 'Or from a shell on the server:'),
    h('pre', { class: 'cli-line' }, `npx halyard recorders add --user ${ctx.me.name} --name "BTC trend" --target sim:paper`),
  );
}

function created(rec: Recorder, ctx: PageContext): void {
  toast(`Recorder "${rec.name}" created: send signals to its webhook URL`);
  ctx.navigate(`#/signals/${rec.id}`);
}

/** Signals: the user's recorders, each with its webhook URL, formats, signal log, positions, PnL and equity curve. */
export const signalsPage: Page = {
  id: 'signals',
  title: 'Signals',
  render(root, ctx) {
    const formBox = h('div', { class: 'new-recorder-box', hidden: true });
    const newButton = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'new-recorder-open' }, '+ New recorder');
    newButton.addEventListener('click', () => {
      // One form at a time: the empty state already holds one.
      const open = root.querySelector<HTMLFormElement>('[data-testid=new-recorder]');
      if (open) {
        open.querySelector('input')?.focus();
        return;
      }
      formBox.replaceChildren(card('New recorder', newRecorderForm((rec) => created(rec, ctx), () => (formBox.hidden = true))));
      formBox.hidden = false;
      formBox.querySelector('input')?.focus();
    });
    const body = h('div', { class: 'signals-body' });
    root.append(h('div', { class: 'page-head' }, h('h1', {}, 'Signals'), newButton), formBox, body);

    let alive = true;
    let detail: ReturnType<typeof recorderDetail> | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    loadInto(
      body,
      () => api<Recorder[]>('/api/recorders'),
      (recs) => {
        detail?.dispose();
        detail = null;
        if (!alive) return h('div');
        const wanted = ctx.params[0];
        const rec = wanted === undefined ? recs[0] : recs.find((r) => String(r.id) === wanted);
        const list = h('nav', { class: 'recorder-list', 'aria-label': 'Recorders' }, recs.map((r) => recorderCard(r, r === rec)));
        if (!rec) return h('div', { class: 'signals-layout' }, list, stateView('empty', `No recorder ${wanted ?? ''} among yours.`, { label: 'Show the first', run: () => ctx.navigate('#/signals') }));
        detail = recorderDetail(rec);
        return h('div', { class: 'signals-layout' }, list, detail.el);
      },
      { isEmpty: (recs) => recs.length === 0, empty: () => noRecorders(ctx), loading: 'Loading recorders…' },
    );

    const off = ctx.live.on((e) => {
      if (!touches(e, 'signals', 'positions', 'trades')) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => detail?.reload(), 250);
    });
    return () => {
      alive = false;
      off();
      if (timer) clearTimeout(timer);
      detail?.dispose();
    };
  },
};
