import { ApiError } from './api.ts';

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** Creates an element: attributes (`on…` keys are listeners, false/null/undefined are left out) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'class') el.className = String(v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** A designed loading, empty or error state (never a blank area); `action` adds a button (retry, create…). */
export function stateView(kind: 'loading' | 'empty' | 'error', message: string, action?: { label: string; run: () => void }): HTMLElement {
  return h(
    'div',
    { class: `state state-${kind}`, 'data-state': kind, role: kind === 'error' ? 'alert' : 'status' },
    kind === 'loading' ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
    h('span', {}, message),
    action ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => action.run() }, action.label) : null,
  );
}

/** The message to show for a failed call. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.status === 0 ? `Cannot reach the server: ${e.message}` : `${e.message} (${e.code})`;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Fills `box` with the result of `load`: a loading state first, then `render(data)`, the empty state when
 * `isEmpty(data)`, or the error with a retry button. Returns a function that loads again (quietly: the
 * current content stays until the new one is ready, so live refreshes do not flicker).
 */
export function loadInto<T>(
  box: HTMLElement,
  load: () => Promise<T>,
  render: (data: T) => Node,
  opts: { isEmpty?: (data: T) => boolean; empty?: string | (() => Node); loading?: string } = {},
): () => Promise<void> {
  let seq = 0;
  const run = async (quiet: boolean): Promise<void> => {
    const mine = ++seq;
    if (!quiet || box.childElementCount === 0) box.replaceChildren(stateView('loading', opts.loading ?? 'Loading…'));
    try {
      const data = await load();
      if (mine !== seq) return;
      if (opts.isEmpty?.(data)) {
        const empty = opts.empty ?? 'Nothing here yet.';
        box.replaceChildren(typeof empty === 'string' ? stateView('empty', empty) : empty());
      } else box.replaceChildren(render(data));
    } catch (e) {
      if (mine !== seq) return;
      box.replaceChildren(stateView('error', errorText(e), { label: 'Retry', run: () => void run(false) }));
    }
  };
  void run(false);
  return () => run(true);
}

/** A column of a table: header, cell content, and optional class / sort value. */
export interface Column<T> {
  readonly label: string;
  readonly cell: (row: T) => Child | Child[];
  /** `num` right-aligns. */
  readonly className?: string;
  /** data-field of the cell (tests and styling read it). */
  readonly field?: string;
}

/**
 * A table that turns into stacked cards at phone width (each cell labelled by its header through
 * data-label). `rowAttrs` gives each row its data-* attributes.
 */
export function table<T>(columns: readonly Column<T>[], rows: readonly T[], rowAttrs: (row: T) => Attrs = () => ({}), testId?: string): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table', 'data-testid': testId },
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.className, scope: 'col' }, c.label)))),
      h(
        'tbody',
        {},
        rows.map((r) => h('tr', rowAttrs(r), columns.map((c) => h('td', { class: c.className, 'data-label': c.label, 'data-field': c.field }, ...[c.cell(r)].flat())))),
      ),
    ),
  );
}

/**
 * A long list drawn `page` rows at a time with a "Show more" button (a phone shows each row as a card, so
 * a thousand at once is a very long page). `draw` makes the table of the rows shown.
 */
export function paged<T>(rows: readonly T[], draw: (shown: readonly T[]) => HTMLElement, page = 100): HTMLElement {
  let shown = Math.min(page, rows.length);
  const box = h('div', { class: 'paged-rows' }, draw(rows.slice(0, shown)));
  const more = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'show-more' });
  const label = (): void => {
    more.hidden = shown >= rows.length;
    more.textContent = `Show ${Math.min(page, rows.length - shown)} more (${shown} of ${rows.length} shown)`;
  };
  more.addEventListener('click', () => {
    shown = Math.min(shown + page, rows.length);
    box.replaceChildren(draw(rows.slice(0, shown)));
    label();
  });
  label();
  return h('div', {}, box, h('div', { class: 'paged-more' }, more));
}

/** A page section with a heading and optional header actions. */
export function card(title: string, body: Node, actions: Node[] = [], attrs: Attrs = {}): HTMLElement {
  return h('section', { class: 'card', ...attrs }, h('header', { class: 'card-head' }, h('h2', {}, title), h('div', { class: 'card-actions' }, actions)), body);
}

const nf = new Map<number, Intl.NumberFormat>();
function fmt(digits: number): Intl.NumberFormat {
  let f = nf.get(digits);
  if (!f) nf.set(digits, (f = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })));
  return f;
}

/** A number with `digits` decimals (thousands separated); '—' for null. */
export function num(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : fmt(digits).format(v);
}

/** A price with decimals that suit its size. */
export function price(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  const a = Math.abs(v);
  return num(v, a >= 1000 ? 2 : a >= 1 ? 4 : 6);
}

/** A quantity without trailing zeros. */
export function qty(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  return String(Number(v.toPrecision(10)));
}

/** Signed money with a class for colour (pos / neg / flat). */
export function pnl(v: number | null | undefined, digits = 2): HTMLElement {
  // Rounded first, so -0.001 shows as a flat 0.00 rather than "-0.00".
  const r = v === null || v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(digits)) || 0;
  const cls = r === null || r === 0 ? 'flat' : r > 0 ? 'pos' : 'neg';
  const text = r === null ? '—' : `${r > 0 ? '+' : ''}${num(r, digits)}`;
  return h('span', { class: `pnl ${cls}` }, text);
}

/** A percentage. */
export function pct(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : `${num(v, digits)} %`;
}

/** An epoch-ms time as `YYYY-MM-DD HH:MM` UTC. */
export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

/** A small coloured label (side, status, source…). */
export function badge(text: string, kind = text.toLowerCase()): HTMLElement {
  return h('span', { class: `badge badge-${kind.replace(/[^a-z0-9_-]/g, '')}` }, text);
}

/** A short message at the bottom of the screen (ok or error), gone after a few seconds. */
export function toast(message: string, kind: 'ok' | 'error' = 'ok'): void {
  let box = document.getElementById('toasts');
  if (!box) {
    box = h('div', { id: 'toasts', 'aria-live': 'polite' });
    document.body.append(box);
  }
  const t = h('div', { class: `toast toast-${kind}`, 'data-testid': 'toast', role: kind === 'error' ? 'alert' : 'status' }, message);
  box.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
}

/** Copies text to the clipboard (falls back to selecting a hidden field where the API is missing). */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = h('textarea', { class: 'sr-only' });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
}

/** Lets the browser save `text` as a file (CSV export). */
export function download(filename: string, text: string, type = 'text/csv'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The ticker of a symbol in any form (`BTC/USDT:USDT` → `BTCUSDT`): the keys of the marks (the server's own function). */
export { tickerOf } from '../../src/core/instrument.ts';
